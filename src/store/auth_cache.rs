//! The sessions and API tokens an instance has checked, kept for a few seconds so that a
//! signed-in request needs no database round trip (docs/RULES.md §1.2).
//!
//! Every change that can end or alter a session or token — sign-out, a second factor passed,
//! a user disabled or given a new password, a token revoked — moves the database's
//! `auth_version` counter in its own transaction and empties this instance's cache at once.
//! Every instance reads the counter in the background (`Store::watch_auth`, every
//! `WATCH_EVERY`) and empties its cache when the counter has moved, so a sign-out or revocation
//! made on one instance takes effect on the others within that interval, never after
//! `KEEP_FOR`.

use super::{Session, User};
use crate::domain::TokenScopes;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// How long a checked session or token is believed without asking the database.
pub const KEEP_FOR: Duration = Duration::from_secs(30);
/// How often each instance reads the counter of changes.
pub const WATCH_EVERY: Duration = Duration::from_millis(100);
/// At most this many entries; past it the cache starts again (a flood of new sessions cannot
/// grow it without bound).
const LARGEST: usize = 100_000;

/// A token's user and scopes, or `None` for a token found invalid.
type TokenAnswer = Option<(User, TokenScopes)>;

#[derive(Default)]
pub struct AuthCache {
    sessions: Mutex<HashMap<String, (Instant, Session)>>,
    tokens: Mutex<HashMap<String, (Instant, TokenAnswer)>>,
    /// The counter's value when the cache was last emptied or checked.
    seen: AtomicI64,
}

fn fresh(at: &Instant) -> bool {
    at.elapsed() < KEEP_FOR
}

impl AuthCache {
    pub fn session(&self, id_hash: &str) -> Option<Session> {
        let kept = self.sessions.lock().expect("session cache lock");
        kept.get(id_hash).filter(|(at, s)| fresh(at) && !s.expired()).map(|(_, s)| s.clone())
    }

    pub fn keep_session(&self, id_hash: &str, session: &Session) {
        let mut kept = self.sessions.lock().expect("session cache lock");
        if kept.len() >= LARGEST {
            kept.clear();
        }
        kept.insert(id_hash.to_string(), (Instant::now(), session.clone()));
    }

    /// A token checked lately: `Some(None)` for one found invalid.
    pub fn token(&self, token_hash: &str) -> Option<TokenAnswer> {
        let kept = self.tokens.lock().expect("token cache lock");
        kept.get(token_hash).filter(|(at, _)| fresh(at)).map(|(_, t)| t.clone())
    }

    pub fn keep_token(&self, token_hash: &str, found: &TokenAnswer) {
        let mut kept = self.tokens.lock().expect("token cache lock");
        if kept.len() >= LARGEST {
            kept.clear();
        }
        kept.insert(token_hash.to_string(), (Instant::now(), found.clone()));
    }

    /// Forgets every session and token.
    pub fn clear(&self) {
        self.sessions.lock().expect("session cache lock").clear();
        self.tokens.lock().expect("token cache lock").clear();
    }

    /// Empties the cache if the counter has moved since it was last seen.
    pub fn saw(&self, version: i64) {
        if self.seen.swap(version, Ordering::AcqRel) != version {
            self.clear();
        }
    }
}
