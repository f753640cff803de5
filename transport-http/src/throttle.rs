//! Throttling of failed logins, per account and per client address (see
//! [`LoginThrottleConfig`]). Failures are timed by the engine's clock; only the last `max`
//! failures of each account and address are kept, in caches bounded in size whose entries
//! expire one window after their last failure.

use std::collections::VecDeque;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;

use moka::ops::compute::Op;
use moka::sync::Cache;
use time::OffsetDateTime;

use crate::config::LoginThrottleConfig;

/// The most accounts, and the most addresses, whose failures are remembered.
const MAX_KEYS: u64 = 100_000;

/// The last failures of one account or address, oldest first.
#[derive(Clone, Debug, Default)]
struct Failures(VecDeque<OffsetDateTime>);

impl Failures {
    /// Seconds until an attempt is accepted, when `max` failures lie within `window` of `now`.
    fn wait(&self, max: usize, window: time::Duration, now: OffsetDateTime) -> Option<u64> {
        if self.0.len() < max {
            return None;
        }
        let oldest = *self.0.front()?;
        let free_at = oldest + window;
        if free_at <= now {
            return None;
        }
        let wait = free_at - now;
        let seconds = wait.whole_seconds().max(0) as u64 + u64::from(wait.subsec_nanoseconds() > 0);
        Some(seconds.max(1))
    }

    fn record(mut self, max: usize, window: time::Duration, now: OffsetDateTime) -> Self {
        self.0.retain(|t| *t + window > now);
        self.0.push_back(now);
        while self.0.len() > max {
            self.0.pop_front();
        }
        self
    }
}

/// The failures of every account and address.
pub(crate) struct LoginThrottle {
    config: LoginThrottleConfig,
    window: time::Duration,
    accounts: Cache<String, Failures>,
    addresses: Cache<IpAddr, Failures>,
}

fn cache<K: Hash + Eq + Send + Sync + 'static>(window: std::time::Duration) -> Cache<K, Failures> {
    Cache::builder()
        .max_capacity(MAX_KEYS)
        .time_to_live(window)
        .build()
}

/// The account key of an e-mail address as typed at login.
fn account_key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl LoginThrottle {
    pub(crate) fn new(config: LoginThrottleConfig) -> Arc<Self> {
        let window = config.window.max(std::time::Duration::from_secs(1));
        Arc::new(LoginThrottle {
            window: time::Duration::try_from(window).unwrap_or(time::Duration::MAX),
            accounts: cache(window),
            addresses: cache(window),
            config,
        })
    }

    fn max_account(&self) -> usize {
        self.config.max_failures_per_account.max(1) as usize
    }

    fn max_address(&self) -> usize {
        self.config.max_failures_per_address.max(1) as usize
    }

    /// `None` when a login for `email` from `address` may be tried now; otherwise the seconds
    /// to wait.
    pub(crate) fn check(
        &self,
        email: &str,
        address: Option<IpAddr>,
        now: OffsetDateTime,
    ) -> Option<u64> {
        if !self.config.enabled {
            return None;
        }
        let account = self
            .accounts
            .get(&account_key(email))
            .and_then(|f| f.wait(self.max_account(), self.window, now));
        let address = address
            .and_then(|ip| self.addresses.get(&ip))
            .and_then(|f| f.wait(self.max_address(), self.window, now));
        account.max(address)
    }

    /// Counts a failed login for `email` from `address`.
    pub(crate) fn failed(&self, email: &str, address: Option<IpAddr>, now: OffsetDateTime) {
        if !self.config.enabled {
            return;
        }
        let (window, max) = (self.window, self.max_account());
        self.accounts
            .entry(account_key(email))
            .and_compute_with(|f| {
                Op::Put(
                    f.map(|e| e.into_value())
                        .unwrap_or_default()
                        .record(max, window, now),
                )
            });
        if let Some(ip) = address {
            let max = self.max_address();
            self.addresses.entry(ip).and_compute_with(|f| {
                Op::Put(
                    f.map(|e| e.into_value())
                        .unwrap_or_default()
                        .record(max, window, now),
                )
            });
        }
    }

    /// A successful login clears the account's failures.
    pub(crate) fn succeeded(&self, email: &str) {
        self.accounts.invalidate(&account_key(email));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use time::macros::datetime;

    use super::LoginThrottle;
    use crate::config::LoginThrottleConfig;

    #[test]
    fn the_window_slides() {
        let t = LoginThrottle::new(LoginThrottleConfig {
            enabled: true,
            max_failures_per_account: 2,
            max_failures_per_address: 100,
            window: Duration::from_secs(60),
        });
        let start = datetime!(2026-03-02 09:00:00 UTC);
        let at = |s: i64| start + time::Duration::seconds(s);
        assert_eq!(t.check("a@x", None, at(0)), None);
        t.failed("A@x ", None, at(0));
        assert_eq!(t.check("a@x", None, at(1)), None);
        t.failed("a@x", None, at(10));
        assert_eq!(t.check("a@x", None, at(10)), Some(50));
        assert_eq!(t.check("a@x", None, at(59)), Some(1));
        // The first failure leaves the window: one more attempt is allowed.
        assert_eq!(t.check("a@x", None, at(60)), None);
        t.failed("a@x", None, at(60));
        assert_eq!(t.check("a@x", None, at(61)), Some(9));
        t.succeeded("a@x");
        assert_eq!(t.check("a@x", None, at(61)), None);
        assert_eq!(t.check("b@x", None, at(61)), None);
    }
}
