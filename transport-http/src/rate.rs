//! Request rate limits (governor's GCRA): one bucket per bearer token, and one per client
//! address for calls without a token. Answers 429 with `Retry-After`; every limited response
//! carries `RateLimit-Limit` and `RateLimit-Remaining`.
//!
//! The address comes from axum's `ConnectInfo<SocketAddr>`: serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()`, or every anonymous caller shares one
//! bucket. Probes (`/healthz`, `/readyz`) are never limited.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::RateLimitConfig;
use crate::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// A hash of the bearer secret (secrets are not kept).
    Token(u64),
    Address(IpAddr),
}

type Limiter =
    RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock, StateInformationMiddleware>;

/// The buckets, shared by every request.
pub(crate) struct Limits {
    tokens: Limiter,
    addresses: Limiter,
    token_burst: u32,
    address_burst: u32,
    hasher: RandomState,
    seen: AtomicU64,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let one = NonZeroU32::MIN;
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(one))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(one))
}

impl Limits {
    /// The buckets of `config`; `None` when limits are off.
    pub(crate) fn new(config: &RateLimitConfig) -> Option<Arc<Self>> {
        if !config.enabled {
            return None;
        }
        Some(Arc::new(Limits {
            tokens: RateLimiter::keyed(quota(config.per_token_per_minute, config.per_token_burst))
                .with_middleware::<StateInformationMiddleware>(),
            addresses: RateLimiter::keyed(quota(
                config.per_address_per_minute,
                config.per_address_burst,
            ))
            .with_middleware::<StateInformationMiddleware>(),
            token_burst: config.per_token_burst.max(1),
            address_burst: config.per_address_burst.max(1),
            hasher: RandomState::new(),
            seen: AtomicU64::new(0),
        }))
    }

    /// Forgets idle buckets now and then, so memory stays bounded by the active callers.
    fn tidy(&self) {
        if self.seen.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.tokens.retain_recent();
            self.addresses.retain_recent();
        }
    }
}

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");

/// The middleware: checks the caller's bucket before the request goes on.
pub(crate) async fn limit(
    State(limits): State<Arc<Limits>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.ends_with("/healthz") || path.ends_with("/readyz") {
        return next.run(request).await;
    }
    limits.tidy();
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .map(|v| limits.hasher.hash_one(v.as_bytes()));
    let (limiter, key, burst) = match token {
        Some(hash) => (&limits.tokens, Key::Token(hash), limits.token_burst),
        None => {
            let address = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            (
                &limits.addresses,
                Key::Address(address),
                limits.address_burst,
            )
        }
    };
    match limiter.check_key(&key) {
        Ok(snapshot) => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert(LIMIT, HeaderValue::from(burst));
            headers.insert(
                REMAINING,
                HeaderValue::from(snapshot.remaining_burst_capacity()),
            );
            response
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(limiter.clock().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = ApiError::RateLimited {
                retry_after_seconds: seconds.max(1),
            }
            .into_response();
            let headers = response.headers_mut();
            headers.insert(LIMIT, HeaderValue::from(burst));
            headers.insert(REMAINING, HeaderValue::from(0u32));
            response
        }
    }
}
