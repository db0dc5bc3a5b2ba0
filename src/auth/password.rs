//! Password hashing with Argon2id (the `password-auth` crate), off the async runtime.

use anyhow::{Result, bail};

pub const MIN_LENGTH: usize = 12;

/// Hashes a password after checking it is long enough.
pub async fn hash(password: String) -> Result<String> {
    if password.chars().count() < MIN_LENGTH {
        bail!("a password needs at least {MIN_LENGTH} characters");
    }
    Ok(tokio::task::spawn_blocking(move || password_auth::generate_hash(password)).await?)
}

/// Checks a password against a stored hash; a missing hash never matches.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    let Some(hash) = hash else {
        // Spend the same time as a real check, so that unknown accounts do not answer faster.
        let _ = tokio::task::spawn_blocking(|| password_auth::generate_hash("timing")).await;
        return false;
    };
    tokio::task::spawn_blocking(move || password_auth::verify_password(password, &hash).is_ok()).await.unwrap_or(false)
}
