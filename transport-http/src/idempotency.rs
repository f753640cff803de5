//! `Idempotency-Key` on creating POSTs (draft-ietf-httpapi-idempotency-key-header).
//!
//! The first request with a key runs; its answer (status, `Location`, `ETag`, `Content-Type`
//! and body) is kept for 24 hours under (caller, method, path, key), where the caller is a
//! SHA-256 of the `Authorization` header, or the client address for anonymous calls. A retry with
//! the same key and the same body gets that answer again (with `Idempotent-Replayed: true`) and
//! creates nothing. The same key with a different body is a 409 naming the key (409 rather than
//! the draft's 422, so that a schema-valid request is never answered 422); a retry while the
//! first request still runs is a 409 with `Retry-After: 1`; the two differ by `type`. Bodies are compared as JSON
//! values (key order and whitespace do not matter), or byte for byte when they are not JSON.
//!
//! Answers that say nothing about the request (401, 408, 429, 5xx) are not kept: a retry runs
//! again. A first request that is cancelled or panics leaves nothing behind. The cache is
//! bounded by the size of what it keeps (64 MiB by default); under that pressure the oldest
//! entries go first.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, OriginalUri, Request};
use axum::http::header::{
    HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, ETAG, LOCATION, RETRY_AFTER,
};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use moka::ops::compute::Op;
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Problem};

/// The request header.
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on replayed answers.
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The longest key accepted.
const MAX_KEY_LEN: usize = 255;

/// How long an answer is kept.
const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The most bytes of answers kept.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    caller: [u8; 32],
    method: String,
    path: String,
    key: String,
}

/// A kept answer.
#[derive(Debug)]
struct Stored {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

#[derive(Clone, Debug)]
enum Slot {
    /// The first request with the key is running.
    Pending { fingerprint: [u8; 32], owner: u64 },
    /// Its answer.
    Done {
        fingerprint: [u8; 32],
        answer: Arc<Stored>,
    },
}

/// The cache of answers, shared by every route of a router.
pub(crate) struct Idempotency {
    cache: Cache<Key, Slot>,
    body_limit: usize,
    owners: AtomicU64,
}

impl Idempotency {
    pub(crate) fn new(body_limit: usize) -> Arc<Self> {
        Self::with_limits(body_limit, TTL, MAX_BYTES)
    }

    fn with_limits(body_limit: usize, ttl: Duration, max_bytes: u64) -> Arc<Self> {
        let cache = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &Key, v: &Slot| {
                let answer = match v {
                    Slot::Pending { .. } => 0,
                    Slot::Done { answer, .. } => {
                        answer.body.len()
                            + answer
                                .headers
                                .iter()
                                .map(|(n, v)| n.as_str().len() + v.len())
                                .sum::<usize>()
                    }
                };
                let size = 128 + k.path.len() + k.key.len() + answer;
                u32::try_from(size).unwrap_or(u32::MAX)
            })
            .time_to_live(ttl)
            .build();
        Arc::new(Idempotency {
            cache,
            body_limit,
            owners: AtomicU64::new(0),
        })
    }
}

/// Removes the pending slot of a first request that did not finish (cancelled, panicked).
struct PendingGuard<'a> {
    idem: &'a Idempotency,
    key: Key,
    owner: u64,
    armed: bool,
}

impl PendingGuard<'_> {
    /// Replaces our pending slot with `slot` (or removes it when `None`), if it is still ours.
    fn settle(mut self, slot: Option<Slot>) {
        self.armed = false;
        let owner = self.owner;
        self.idem
            .cache
            .entry(self.key.clone())
            .and_compute_with(|current| match current.map(|e| e.into_value()) {
                Some(Slot::Pending { owner: o, .. }) if o == owner => match slot {
                    Some(slot) => Op::Put(slot),
                    None => Op::Remove,
                },
                _ => Op::Nop,
            });
    }
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let owner = self.owner;
            self.idem
                .cache
                .entry(self.key.clone())
                .and_compute_with(|current| match current.map(|e| e.into_value()) {
                    Some(Slot::Pending { owner: o, .. }) if o == owner => Op::Remove,
                    _ => Op::Nop,
                });
        }
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The body's fingerprint: its JSON value re-serialized (object keys sorted), else its bytes.
fn fingerprint(body: &[u8]) -> [u8; 32] {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => sha256(&serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec())),
        Err(_) => sha256(body),
    }
}

fn caller(request: &Request) -> [u8; 32] {
    if let Some(auth) = request.headers().get(AUTHORIZATION) {
        let mut hasher = Sha256::new();
        hasher.update(b"token:");
        hasher.update(auth.as_bytes());
        return hasher.finalize().into();
    }
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    sha256(format!("address:{address}").as_bytes())
}

/// Whether an answer says something about the request, and so is kept.
fn keepable(status: StatusCode) -> bool {
    !(status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS)
}

/// 1 to 255 visible ASCII characters (no spaces).
fn valid_key(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn replay(answer: &Stored) -> Response {
    let mut response = (answer.status, answer.body.clone()).into_response();
    let headers = response.headers_mut();
    for (name, value) in &answer.headers {
        headers.insert(name.clone(), value.clone());
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn kept_headers(headers: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    [LOCATION, ETAG, CONTENT_TYPE]
        .into_iter()
        .filter_map(|name| headers.get(&name).map(|v| (name, v.clone())))
        .collect()
}

fn key_problem(status: StatusCode, kind: &str, title: &str, detail: String, key: &str) -> Response {
    Problem::new(status, kind, title, detail)
        .with("idempotency_key", key)
        .into_response_with_status()
}

/// The middleware of creating POSTs.
pub(crate) async fn layer(request: Request, next: Next) -> Response {
    let Some(value) = request.headers().get(&IDEMPOTENCY_KEY) else {
        return next.run(request).await;
    };
    let Some(idem) = request.extensions().get::<Arc<Idempotency>>().cloned() else {
        return next.run(request).await;
    };
    let key = match value.to_str() {
        Ok(k) if valid_key(k) => k.to_owned(),
        _ => {
            return ApiError::BadRequest(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters, without spaces"
        ))
            .into_response()
        }
    };
    let caller = caller(&request);
    let method = request.method().as_str().to_owned();
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map(|o| o.0.path().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, idem.body_limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::PayloadTooLarge {
                limit: idem.body_limit,
            }
            .into_response()
        }
    };
    let fingerprint = fingerprint(&bytes);
    let cache_key = Key {
        caller,
        method,
        path,
        key: key.clone(),
    };
    let owner = idem.owners.fetch_add(1, Ordering::Relaxed);
    let entry = idem
        .cache
        .entry(cache_key.clone())
        .or_insert_with(|| Slot::Pending { fingerprint, owner });
    if !entry.is_fresh() {
        return match entry.into_value() {
            Slot::Done {
                fingerprint: f,
                answer,
            } if f == fingerprint => replay(&answer),
            Slot::Pending { fingerprint: f, .. } if f == fingerprint => {
                let mut response = key_problem(
                    StatusCode::CONFLICT,
                    "idempotency-key-in-use",
                    "A request with this Idempotency-Key is still running",
                    format!("the first request with Idempotency-Key '{key}' has not finished; retry shortly"),
                    &key,
                );
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(1u32));
                response
            }
            _ => key_problem(
                StatusCode::CONFLICT,
                "idempotency-key-reused",
                "Idempotency-Key reused with a different request",
                format!(
                    "Idempotency-Key '{key}' was already used with a different request body; use a new key for a new request"
                ),
                &key,
            ),
        };
    }
    let guard = PendingGuard {
        idem: &idem,
        key: cache_key,
        owner,
        armed: true,
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if !keepable(status) {
        guard.settle(None);
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(_) => {
            guard.settle(None);
            return ApiError::Internal.into_response();
        }
    };
    let answer = Arc::new(Stored {
        status,
        headers: kept_headers(&parts.headers),
        body: body.clone(),
    });
    guard.settle(Some(Slot::Done {
        fingerprint,
        answer,
    }));
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn json_bodies_compare_as_values() {
        assert_eq!(
            fingerprint(br#"{"a": 1, "b": [1, 2]}"#),
            fingerprint(br#"{"b":[1,2],"a":1}"#)
        );
        assert_ne!(fingerprint(br#"{"a": 1}"#), fingerprint(br#"{"a": 2}"#));
        assert_ne!(fingerprint(b"not json"), fingerprint(b"not json "));
    }
}
