//! Password hashing with Argon2id (the `password-auth` crate), off the async runtime.

use anyhow::{Result, bail};

pub const MIN_LENGTH: usize = 12;
/// The most characters a password may have (Argon2 takes any length; this bounds the work).
pub const MAX_LENGTH: usize = 128;

/// Passwords seen in breaches (data/breached_passwords.txt, lower case, one per line).
const BREACHED: &str = include_str!("../../data/breached_passwords.txt");

fn breached() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| BREACHED.lines().collect())
}

/// Whether `password` may be set for the account `email`, as ASVS 5.0 §6.2 asks: at least 12
/// characters (and at most 128), any characters, no rules of composition; not a password seen in
/// a breach, ignoring case; not the account's own email address or the name before its `@`.
pub fn check(password: &str, email: &str) -> Result<()> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        bail!("a password needs at least {MIN_LENGTH} characters");
    }
    if length > MAX_LENGTH {
        bail!("a password may have at most {MAX_LENGTH} characters");
    }
    let lower = password.to_lowercase();
    if breached().contains(lower.trim()) {
        bail!("this password is on a list of passwords seen in data breaches: choose another");
    }
    let email = email.trim().to_lowercase();
    let name = email.split('@').next().unwrap_or_default();
    if lower == email || (name.chars().count() >= 4 && lower.contains(name)) {
        bail!("a password may not contain the account's email address or its name");
    }
    Ok(())
}

/// Hashes a password for the account `email` after `check`ing it.
pub async fn hash(password: String, email: &str) -> Result<String> {
    check(&password, email)?;
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

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn a_password_is_long_enough_not_breached_and_not_the_account_name() {
        assert!(check("correct horse battery staple", "lead@rgt.example").is_ok());
        assert!(check("ALL CAPS AND SPACES ARE FINE", "lead@rgt.example").is_ok(), "no composition rules");
        assert!(check("short", "lead@rgt.example").unwrap_err().to_string().contains("at least 12"));
        for breached in ["1qaz2wsx3edc", "QWERTY123456", "leavemealone"] {
            assert!(check(breached, "lead@rgt.example").unwrap_err().to_string().contains("breaches"), "{breached}");
        }
        assert!(check("jane.doe-is-my-password", "jane.doe@rgt.example").is_err());
        assert!(check(&"x".repeat(129), "lead@rgt.example").is_err());
    }
}
