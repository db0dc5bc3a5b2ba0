//! Sign-in limits: growing delays after failures, counted per account, per address and per
//! account from one address, checked and counted in one step.
//!
//! An attempt is counted as a failure when it is let through, before the password is checked,
//! and forgotten if the password is right: so any number of attempts at once cannot get more
//! checks than the limits allow. Past its free attempts each count makes the next attempt wait,
//! twice as long after each further failure, up to a ceiling. The ceiling is low for an account
//! from anywhere (one minute), so that a stranger who fails on purpose cannot keep its user out,
//! and high for one address (15 minutes), so that one address guessing is slowed to a crawl.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One kind of count: how many failures are free, and the longest wait after more.
#[derive(Debug, Clone, Copy)]
struct Rule {
    free: u32,
    ceiling: Duration,
}

/// Guessing one account from one address.
const PAIR: Rule = Rule { free: 5, ceiling: Duration::from_secs(15 * 60) };
/// One account from any address: low ceiling, so its user is delayed, never locked out.
const ACCOUNT: Rule = Rule { free: 20, ceiling: Duration::from_secs(60) };
/// One address trying many accounts.
const ADDRESS: Rule = Rule { free: 50, ceiling: Duration::from_secs(15 * 60) };

/// Failures are forgotten this long after the last one: longer than any wait, so that waiting
/// out the longest never starts the count again.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);
/// Above this many counts, the ones past their window are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    last: Instant,
}

impl Count {
    /// When the next attempt may be made under `rule`.
    fn next_allowed(&self, rule: Rule) -> Instant {
        if self.failures < rule.free {
            return self.last;
        }
        let doublings = (self.failures - rule.free).min(20);
        self.last + Duration::from_secs(1u64 << doublings).min(rule.ceiling)
    }
}

#[derive(Debug, Default)]
pub struct SignInLimiter {
    counts: Mutex<HashMap<String, Count>>,
}

/// An attempt let through: counted as failed until `succeeded` says otherwise.
#[derive(Debug)]
pub struct Attempt {
    keys: [String; 3],
}

impl SignInLimiter {
    fn keys(account: &str, address: &str) -> [(String, Rule); 3] {
        [
            (format!("pair:{account}\u{0}{address}"), PAIR),
            (format!("account:{account}"), ACCOUNT),
            (format!("address:{address}"), ADDRESS),
        ]
    }

    /// Lets an attempt for `account` from `address` go ahead and counts it as a failure, or
    /// answers how long to wait.
    pub fn begin(&self, account: &str, address: &str, now: Instant) -> Result<Attempt, Duration> {
        let mut counts = self.counts.lock().expect("limiter lock");
        if counts.len() > PRUNE_ABOVE {
            counts.retain(|_, c| now.duration_since(c.last) < WINDOW);
        }
        let keys = Self::keys(account, address);
        let wait = keys
            .iter()
            .filter_map(|(key, rule)| {
                counts.get(key).filter(|c| now.duration_since(c.last) < WINDOW).map(|c| (c, rule))
            })
            .map(|(c, rule)| c.next_allowed(*rule).saturating_duration_since(now))
            .max()
            .unwrap_or_default();
        if !wait.is_zero() {
            return Err(wait);
        }
        for (key, _) in &keys {
            let count = counts.entry(key.clone()).or_insert(Count { failures: 0, last: now });
            if now.duration_since(count.last) >= WINDOW {
                count.failures = 0;
            }
            count.failures += 1;
            count.last = now;
        }
        Ok(Attempt { keys: keys.map(|(k, _)| k) })
    }

    /// The attempt's password was right: its account's failures (from anywhere) are forgotten,
    /// and the attempt no longer counts against its address.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut counts = self.counts.lock().expect("limiter lock");
        let [pair, account, address] = attempt.keys;
        counts.remove(&pair);
        counts.remove(&account);
        if let Some(c) = counts.get_mut(&address) {
            c.failures = c.failures.saturating_sub(1);
        }
    }

    /// Forgets every failure, as a restart would.
    pub fn reset(&self) {
        self.counts.lock().expect("limiter lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_at_once_get_no_more_checks_than_the_free_ones() {
        let limiter = std::sync::Arc::new(SignInLimiter::default());
        let now = Instant::now();
        let threads: Vec<_> = (0..200)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || limiter.begin("a@x", "10.0.0.1", now).is_ok())
            })
            .collect();
        let let_through = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
        assert_eq!(let_through, PAIR.free as usize);
    }

    #[test]
    fn the_wait_doubles_after_the_free_failures_up_to_its_ceiling() {
        let limiter = SignInLimiter::default();
        let mut now = Instant::now();
        for _ in 0..PAIR.free {
            limiter.begin("a@x", "10.0.0.1", now).unwrap();
        }
        let mut waits = Vec::new();
        for _ in 0..12 {
            let wait = limiter.begin("a@x", "10.0.0.1", now).unwrap_err();
            waits.push(wait.as_secs());
            now += wait;
            limiter.begin("a@x", "10.0.0.1", now).unwrap();
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
    }

    #[test]
    fn strangers_failing_on_purpose_delay_the_user_by_a_minute_at_most() {
        let limiter = SignInLimiter::default();
        let mut now = Instant::now();
        // Many addresses, each failing a few times: the account's own count grows.
        for i in 0..1_000 {
            let address = format!("10.1.{}.{}", i / 256, i % 256);
            if let Err(wait) = limiter.begin("user@x", &address, now) {
                now += wait;
                limiter.begin("user@x", &address, now).unwrap();
            }
        }
        // The user, from their own address, waits at most the account's ceiling.
        let wait = limiter.begin("user@x", "192.0.2.7", now).unwrap_err();
        assert!(wait <= ACCOUNT.ceiling, "{wait:?}");
        let attempt = limiter.begin("user@x", "192.0.2.7", now + wait).unwrap();
        limiter.succeeded(attempt);
        assert!(limiter.begin("user@x", "192.0.2.7", now + wait).is_ok(), "a success clears the account");
    }

    #[test]
    fn one_address_guessing_is_slowed_and_other_accounts_and_addresses_are_not() {
        let limiter = SignInLimiter::default();
        let now = Instant::now();
        for _ in 0..PAIR.free {
            limiter.begin("a@x", "10.0.0.1", now).unwrap();
        }
        assert!(limiter.begin("a@x", "10.0.0.1", now).is_err(), "the pair waits");
        assert!(limiter.begin("a@x", "10.0.0.2", now).is_ok(), "the account from elsewhere does not");
        assert!(limiter.begin("b@x", "10.0.0.1", now).is_ok(), "another account from the address does not");
        // Failures are forgotten after the window.
        assert!(limiter.begin("a@x", "10.0.0.1", now + WINDOW).is_ok());
    }
}
