//! Sign-in rate limits: failures counted per account and per address over a window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl SignInLimiter {
    /// Whether an attempt for `account` from `address` may go ahead.
    pub fn allowed(&self, account: &str, address: &str) -> bool {
        let mut map = self.failures.lock().expect("limiter lock");
        let now = Instant::now();
        [format!("account:{account}"), format!("address:{address}")].iter().all(|key| {
            let list = map.entry(key.clone()).or_default();
            list.retain(|t| now.duration_since(*t) < WINDOW);
            list.len() < MAX_FAILURES
        })
    }

    pub fn failed(&self, account: &str, address: &str) {
        let mut map = self.failures.lock().expect("limiter lock");
        for key in [format!("account:{account}"), format!("address:{address}")] {
            map.entry(key).or_default().push(Instant::now());
        }
    }

    /// Forgets every failure, as a restart would.
    pub fn reset(&self) {
        self.failures.lock().expect("limiter lock").clear();
    }

    pub fn succeeded(&self, account: &str) {
        self.failures.lock().expect("limiter lock").remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_five_failures_and_other_accounts_are_not() {
        let limiter = SignInLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.allowed("a@x", "10.0.0.1"));
            limiter.failed("a@x", "10.0.0.1");
        }
        assert!(!limiter.allowed("a@x", "10.0.0.2"), "per account");
        assert!(!limiter.allowed("b@x", "10.0.0.1"), "per address");
        assert!(limiter.allowed("b@x", "10.0.0.2"));
    }
}
