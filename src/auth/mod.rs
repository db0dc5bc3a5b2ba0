//! Who is asking: passwords (Argon2id), server-side sessions behind a cookie, API tokens,
//! CSRF tokens and sign-in rate limits. Who may use which route is `web::access`.

pub mod mfa;
pub mod password;
pub mod rate;

use crate::store::{Store, User};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "exemplar_session";
/// A visitor's CSRF nonce, before signing in: nothing is stored for it on the server.
pub const CSRF_COOKIE: &str = "exemplar_csrf";
/// A session ends this long after signing in, whatever happens...
pub const SESSION_HOURS: i64 = 12;
/// ...and this long after its last request.
pub const SESSION_IDLE_MINUTES: i64 = 30;

pub fn session_idle() -> chrono::Duration {
    chrono::Duration::minutes(SESSION_IDLE_MINUTES)
}

/// A new random secret: 32 bytes from the operating system, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

/// What is stored in place of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The CSRF token of a visitor who has not signed in: derived (HMAC-SHA256 under the server's
/// key) from the nonce in their CSRF cookie, so that it needs no stored session. A cross-site
/// page can neither read the cookie nor compute the token.
pub fn visitor_csrf(key: &[u8], nonce: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(b"exemplar csrf\0");
    mac.update(nonce.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The request's identity, put in the request's extensions by the access middleware.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub user: Option<User>,
    /// The signed-in session's id hash, when the request carries a valid session cookie.
    pub session: Option<String>,
    /// The CSRF token the request's forms must carry: the session's, or a visitor's.
    pub csrf: Option<String>,
    /// A user whose password was right but whose second factor is still to come (not signed in).
    pub pending: Option<User>,
    /// A TOTP secret the session is enrolling (hex).
    pub enrolling: Option<String>,
    /// What the figures of the moment are, in words (see `export::Provenance`), for the banner
    /// every page carries; and whether they are synthetic demonstration figures.
    pub figures_note: String,
    pub synthetic: bool,
    /// The address the request came from.
    pub origin: Option<String>,
    /// Which figures the request is shown (docs/RULES.md §3.8).
    pub shown: Shown,
}

/// Which figures a request is shown: the provisional ones (the board, analysts, administrators,
/// and a trust's own users on their own trust's pages), a published release (anyone who asks
/// with `release=ID`; visitors and trust users by default), or nothing, for a reader who sees
/// published figures only before anything is published.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Shown {
    #[default]
    Provisional,
    Release(crate::store::Release),
    Unpublished,
}

impl Shown {
    /// Part of the key of a cached page, naming the figures it shows.
    pub fn key(&self) -> &str {
        match self {
            Shown::Provisional => "provisional",
            Shown::Release(r) => &r.id,
            Shown::Unpublished => "unpublished",
        }
    }
}

impl Auth {
    /// The signed-in user (or `anonymous`) acting through the web, for their own trust if they
    /// are bound to one.
    pub fn actor(&self) -> crate::domain::Actor {
        crate::domain::Actor {
            name: self.user.as_ref().map_or("anonymous".to_string(), |u| u.email.clone()),
            origin: self.origin.clone(),
            channel: crate::domain::Channel::Web,
            own_org: self.user.as_ref().and_then(|u| u.org_code.clone()),
            assesses_systems: self
                .user
                .as_ref()
                .is_some_and(|u| matches!(u.role, crate::domain::Role::Assessor | crate::domain::Role::Admin)),
        }
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, token: &str) -> bool {
        match &self.csrf {
            Some(expected) => {
                expected.len() == token.len()
                    && expected.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
            }
            None => false,
        }
    }

    pub fn csrf_token(&self) -> &str {
        self.csrf.as_deref().unwrap_or("")
    }
}

/// The user behind a bearer token, if it is valid.
pub async fn user_of_token(store: &Store, token: &str) -> anyhow::Result<Option<(User, crate::domain::TokenScopes)>> {
    store.token_user(&hash_secret(token)).await
}
