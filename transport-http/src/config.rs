//! The transport's configuration: a plain struct with defaults fit for production.

use std::time::Duration;

/// How the HTTP transport behaves. Every field has a default ([`HttpConfig::default`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// The largest request body accepted, in bytes (1 MiB by default); larger bodies get 413.
    pub body_limit: usize,
    /// How long a request may take before it is answered with 408 (30 s by default).
    pub request_timeout: Duration,
    /// Origins allowed to call the API from a browser (`https://app.example.com`); empty
    /// disables CORS, `*` allows any origin.
    pub cors_origins: Vec<String>,
    /// Per-token and per-address request rate limits.
    pub rate_limit: RateLimitConfig,
    /// Throttling of failed logins, per account and per address.
    pub login_throttle: LoginThrottleConfig,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            rate_limit: RateLimitConfig::default(),
            login_throttle: LoginThrottleConfig::default(),
        }
    }
}

/// Request rate limits: a token bucket per bearer token, and per client address for anonymous
/// calls. Turning them off is meant for benchmarks only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Whether limits apply at all.
    pub enabled: bool,
    /// Sustained requests per minute for one token.
    pub per_token_per_minute: u32,
    /// Requests one token may make in a burst.
    pub per_token_burst: u32,
    /// Sustained requests per minute for one anonymous address.
    pub per_address_per_minute: u32,
    /// Requests one anonymous address may make in a burst.
    pub per_address_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            per_token_per_minute: 3000,
            per_token_burst: 200,
            per_address_per_minute: 600,
            per_address_burst: 50,
        }
    }
}

/// Throttling of failed logins. After `max_failures_per_account` failed logins for one e-mail
/// address, or `max_failures_per_address` from one client address, within `window`, every
/// further login attempt for that account or from that address is answered 429 with
/// `Retry-After` (even with the right password) until the oldest of those failures is older than
/// `window`. A successful login clears the account's failures (not the address's). Unknown
/// e-mail addresses are counted like known ones, so throttling tells nothing about which exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginThrottleConfig {
    /// Whether failed logins are throttled at all.
    pub enabled: bool,
    /// Failed logins for one account (e-mail, case-insensitive) within `window` (5 by default).
    pub max_failures_per_account: u32,
    /// Failed logins from one client address within `window` (5 by default).
    pub max_failures_per_address: u32,
    /// How long a failure counts (15 minutes by default).
    pub window: Duration,
}

impl Default for LoginThrottleConfig {
    fn default() -> Self {
        LoginThrottleConfig {
            enabled: true,
            max_failures_per_account: 5,
            max_failures_per_address: 5,
            window: Duration::from_secs(15 * 60),
        }
    }
}
