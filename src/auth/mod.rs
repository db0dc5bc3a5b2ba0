//! Who is asking: passwords (Argon2id), server-side sessions behind a cookie, API tokens,
//! CSRF tokens and sign-in rate limits. Who may use which route is `web::access`.

pub mod password;
pub mod rate;

use crate::store::{Store, User};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "exemplar_session";
pub const SESSION_HOURS: i64 = 12;

/// A new random secret: 32 bytes from the operating system, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What is stored in place of a secret.
pub fn hash_secret(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// The request's identity, put in the request's extensions by the access middleware.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub user: Option<User>,
    /// The session's id hash and CSRF token, when the request carries a session cookie.
    pub session: Option<(String, String)>,
    /// The address the request came from.
    pub origin: Option<String>,
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
        }
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, token: &str) -> bool {
        match &self.session {
            Some((_, expected)) => {
                expected.len() == token.len()
                    && expected.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
            }
            None => false,
        }
    }

    pub fn csrf_token(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.1.as_str())
    }
}

/// The user behind a bearer token, if it is valid.
pub async fn user_of_token(store: &Store, token: &str) -> anyhow::Result<Option<User>> {
    store.token_user(&hash_secret(token)).await
}
