//! Login throttling: after too many failed sign-ins for one email or from one
//! address within a window, further attempts are refused until the window
//! passes. Kept in memory: it protects this process's password hashing, and a
//! restart forgetting it is harmless.
//!
//! An attempt takes its slot with [`LoginThrottle::reserve`] *before* the
//! password is hashed, under one lock: concurrent guesses cannot all pass a
//! check and record their failures afterwards. A successful sign-in gives its
//! slot back ([`LoginThrottle::release`]). The same limiter caps sign-ups and
//! reset requests, where every request counts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        LoginThrottle { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds)` to wait when any key is locked out at `now`.
    pub fn check(&self, keys: &[&str], now: Instant) -> Result<(), u64> {
        let mut map = self.failures.lock().expect("throttle lock");
        let mut wait = 0;
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= self.max_failures {
                    let oldest = times[0];
                    wait = wait.max((self.window - now.duration_since(oldest)).as_secs().max(1));
                }
            }
        }
        if wait > 0 {
            Err(wait)
        } else {
            Ok(())
        }
    }

    /// Checks every key and, when none is locked out, counts this attempt
    /// against all of them, atomically. `Err(seconds)` to wait otherwise.
    pub fn reserve(&self, keys: &[&str], now: Instant) -> Result<(), u64> {
        let mut map = self.failures.lock().expect("throttle lock");
        let mut wait = 0;
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= self.max_failures {
                    wait = wait.max((self.window - now.duration_since(times[0])).as_secs().max(1));
                }
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        Self::push(&mut map, keys, now, self.window);
        Ok(())
    }

    /// Gives back the slot an attempt reserved at `at` (it succeeded).
    pub fn release(&self, keys: &[&str], at: Instant) {
        let mut map = self.failures.lock().expect("throttle lock");
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                if let Some(i) = times.iter().rposition(|t| *t == at) {
                    times.remove(i);
                }
            }
        }
    }

    fn push(map: &mut HashMap<String, Vec<Instant>>, keys: &[&str], now: Instant, window: Duration) {
        if map.len() > 100_000 {
            map.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < window));
        }
        for key in keys {
            map.entry((*key).to_owned()).or_default().push(now);
        }
    }

    pub fn record_failure(&self, keys: &[&str], now: Instant) {
        let mut map = self.failures.lock().expect("throttle lock");
        Self::push(&mut map, keys, now, self.window);
    }

    pub fn record_success(&self, keys: &[&str]) {
        let mut map = self.failures.lock().expect("throttle lock");
        for key in keys {
            map.remove(*key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_unlocks_after_window() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert!(t.check(&["a@x.io"], start).is_ok());
            t.record_failure(&["a@x.io"], start);
        }
        let wait = t.check(&["a@x.io"], start + Duration::from_secs(10)).unwrap_err();
        assert!((49..=50).contains(&wait), "{wait}");
        assert!(t.check(&["b@x.io"], start).is_ok());
        assert!(t.check(&["a@x.io"], start + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn success_clears() {
        let t = LoginThrottle::new(1, Duration::from_secs(60));
        let now = Instant::now();
        t.record_failure(&["k"], now);
        assert!(t.check(&["k"], now).is_err());
        t.record_success(&["k"]);
        assert!(t.check(&["k"], now).is_ok());
    }

    #[test]
    fn reservations_count_before_the_outcome_is_known() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let now = Instant::now();
        assert!(t.reserve(&["a@x.io", "ip:1"], now).is_ok());
        assert!(t.reserve(&["a@x.io", "ip:1"], now).is_ok());
        assert!(t.reserve(&["a@x.io", "ip:1"], now).is_err(), "two in flight use the window");
        assert!(t.reserve(&["b@x.io", "ip:1"], now).is_err(), "the address is spent too");
        t.release(&["a@x.io", "ip:1"], now);
        assert!(t.reserve(&["c@x.io", "ip:1"], now).is_ok(), "a success gives its slot back");
        assert!(t.reserve(&["d@x.io", "ip:2"], now + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn any_locked_key_blocks() {
        let t = LoginThrottle::new(1, Duration::from_secs(60));
        let now = Instant::now();
        t.record_failure(&["ip:1.2.3.4"], now);
        assert!(t.check(&["a@x.io", "ip:1.2.3.4"], now).is_err());
    }
}
