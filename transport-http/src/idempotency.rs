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
//! again. Nor are answers whose body is larger than [`HttpConfig::body_limit`] (no creation
//! answers that much). A first request that is cancelled or panics leaves nothing behind.
//!
//! The keys live in the engine's store ([`Store::claim_idempotency_key`] and its siblings), so
//! they hold across every server process that shares the store, and across restarts:
//!
//! * The store sees opaque bytes: the key is a SHA-256 of (caller, method, path, key), the
//!   request's fingerprint a SHA-256 of its body (as a JSON value), and the kept answer the
//!   encoding of [`KeptAnswer`].
//! * The first request claims the key with a lease of [`HttpConfig::request_timeout`] plus
//!   [`LEASE_MARGIN`]: no request outlives its timeout, so a claim left by a process that
//!   crashed ends by itself, and the key may then be claimed again. Each attempt claims as an
//!   owner of its own (a fresh UUID), so only it completes or releases its claim.
//! * Completing and releasing run in tasks of their own that the request awaits: a client
//!   that disconnects meanwhile does not interrupt them. A request cancelled or panicking before
//!   it has an answer releases its claim from `Drop`, in a spawned task (never blocking).
//! * If the store fails when claiming, the request is answered with the store error (503 when
//!   it is unavailable) and does not run. If it fails when completing, the answer is still
//!   given, and the claim stays until its lease ends (retries meanwhile get 409 in use).
//! * Expired entries are purged from the store by the first keyed request on a router and then
//!   at most once every [`PURGE_EVERY`] by the engine's clock, in a spawned task.
//!
//! Times come from the engine's clock. Server processes sharing a store should have their
//! clocks in sync; a skew shortens or lengthens leases and retention by as much.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, OriginalUri, Request};
use axum::http::header::{
    HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, ETAG, LOCATION, RETRY_AFTER,
};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tasklane_core::store::{IdempotencyClaim, IdempotencyKey, IdempotencyOwner};
use tasklane_core::{Engine, Store};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::HttpConfig;
use crate::error::{ApiError, Problem};

/// The request header.
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on replayed answers.
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The longest key accepted.
const MAX_KEY_LEN: usize = 255;

/// How long an answer is kept.
const KEEP_FOR: time::Duration = time::Duration::hours(24);
/// Added to the request timeout to make a claim's lease: room for the store's own latency and
/// for clocks of processes a little apart.
const LEASE_MARGIN: time::Duration = time::Duration::seconds(30);
/// How often, at most, a router purges expired entries from the store.
const PURGE_EVERY: time::Duration = time::Duration::minutes(10);

/// What the middleware needs of the engine: its store, where the keys live, and its clock.
trait StoreWithClock: Send + Sync + 'static {
    fn store(&self) -> &dyn Store;
    fn now(&self) -> OffsetDateTime;
}

impl<S: Store> StoreWithClock for Engine<S> {
    fn store(&self) -> &dyn Store {
        Engine::<S>::store(self)
    }

    fn now(&self) -> OffsetDateTime {
        Engine::<S>::now(self)
    }
}

/// The idempotency state of a router: the engine's store and clock, the limits, and when to
/// purge next. Shared by every route of the router.
pub(crate) struct Idempotency {
    engine: Box<dyn StoreWithClock>,
    body_limit: usize,
    lease: time::Duration,
    purge: PurgeSchedule,
}

impl Idempotency {
    pub(crate) fn new<S: Store>(engine: Engine<S>, config: &HttpConfig) -> Arc<Self> {
        // A timeout beyond what `time` holds (never configured in practice) gets a day.
        let timeout =
            time::Duration::try_from(config.request_timeout).unwrap_or(time::Duration::days(1));
        Arc::new(Idempotency {
            engine: Box::new(engine),
            body_limit: config.body_limit,
            lease: timeout.saturating_add(LEASE_MARGIN),
            purge: PurgeSchedule::new(PURGE_EVERY),
        })
    }

    fn store(&self) -> &dyn Store {
        self.engine.store()
    }

    /// Starts a purge of expired entries in a task of its own when one is due at `now`.
    fn purge_if_due(self: &Arc<Self>, now: OffsetDateTime) {
        if !self.purge.due(now) {
            return;
        }
        let idem = Arc::clone(self);
        tokio::spawn(async move {
            match idem.store().purge_idempotency_keys(now).await {
                Ok(removed) => {
                    tracing::debug!(removed, "purged expired idempotency keys");
                }
                Err(e) => tracing::warn!(error = %e, "cannot purge expired idempotency keys"),
            }
        });
    }
}

/// When the next purge is due: the first call is, then one every `every` by the clock given.
struct PurgeSchedule {
    every: time::Duration,
    next: Mutex<Option<OffsetDateTime>>,
}

impl PurgeSchedule {
    fn new(every: time::Duration) -> Self {
        PurgeSchedule {
            every,
            next: Mutex::new(None),
        }
    }

    /// Whether a purge is due at `now`; if so, the next one is due `every` later.
    fn due(&self, now: OffsetDateTime) -> bool {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        if next.is_some_and(|at| now < at) {
            return false;
        }
        *next = Some(now.saturating_add(self.every));
        true
    }
}

/// A kept answer, and its encoding as the opaque bytes the store keeps:
///
/// | bytes | content |
/// | --- | --- |
/// | 1 | the format, 1 |
/// | 2 | the status, big-endian |
/// | 1 | the number of headers |
/// | per header | the name's length (2 bytes), the name, the value's length (4 bytes), the value |
/// | rest | the body |
#[derive(Debug, PartialEq)]
struct KeptAnswer {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

/// The encoding's format byte.
const ANSWER_FORMAT: u8 = 1;

impl KeptAnswer {
    fn encode(&self) -> Vec<u8> {
        let headers: Vec<_> = self
            .headers
            .iter()
            .filter_map(|(name, value)| {
                let name_len = u16::try_from(name.as_str().len()).ok()?;
                let value_len = u32::try_from(value.len()).ok()?;
                Some((name, name_len, value, value_len))
            })
            .take(usize::from(u8::MAX))
            .collect();
        let mut out = Vec::with_capacity(4 + 64 * headers.len() + self.body.len());
        out.push(ANSWER_FORMAT);
        out.extend_from_slice(&self.status.as_u16().to_be_bytes());
        out.push(headers.len() as u8);
        for (name, name_len, value, value_len) in headers {
            out.extend_from_slice(&name_len.to_be_bytes());
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(&value_len.to_be_bytes());
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(&self.body);
        out
    }

    /// Decodes what [`KeptAnswer::encode`] wrote; `None` for anything else.
    fn decode(bytes: &[u8]) -> Option<KeptAnswer> {
        let mut rest = bytes;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (head, tail) = rest.split_at_checked(n)?;
            rest = tail;
            Some(head)
        };
        if take(1)? != [ANSWER_FORMAT] {
            return None;
        }
        let status = StatusCode::from_u16(u16::from_be_bytes(take(2)?.try_into().ok()?)).ok()?;
        let count = take(1)?[0];
        let mut headers = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let name_len = u16::from_be_bytes(take(2)?.try_into().ok()?);
            let name = HeaderName::from_bytes(take(usize::from(name_len))?).ok()?;
            let value_len = u32::from_be_bytes(take(4)?.try_into().ok()?);
            let value = HeaderValue::from_bytes(take(usize::try_from(value_len).ok()?)?).ok()?;
            headers.push((name, value));
        }
        Some(KeptAnswer {
            status,
            headers,
            body: Bytes::copy_from_slice(rest),
        })
    }

    fn replay(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        headers.insert(REPLAYED, HeaderValue::from_static("true"));
        response
    }
}

/// A claim held by the running first request. Releases it, in a spawned task, when dropped
/// before it was settled (the request was cancelled or panicked).
struct ClaimGuard {
    idem: Arc<Idempotency>,
    key: IdempotencyKey,
    owner: IdempotencyOwner,
    settled: bool,
}

impl ClaimGuard {
    /// Keeps `answer` for [`KEEP_FOR`]; the store call runs in a task of its own, so that it
    /// finishes even if this request is dropped meanwhile.
    async fn complete(mut self, answer: Vec<u8>) {
        self.settled = true;
        let (idem, key, owner) = (Arc::clone(&self.idem), self.key, self.owner);
        let completing = tokio::spawn(async move {
            let expires_at = idem.engine.now().saturating_add(KEEP_FOR);
            idem.store()
                .complete_idempotency_key(key, owner, &answer, expires_at)
                .await
        });
        match completing.await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => tracing::warn!(
                "an idempotency key was claimed anew before its first request finished \
                 (the lease is shorter than the request took); its answer is not kept"
            ),
            Ok(Err(e)) => tracing::warn!(
                error = %e,
                "cannot keep the answer of an idempotency key; it stays claimed until its lease ends"
            ),
            Err(e) => tracing::warn!(error = %e, "keeping the answer of an idempotency key failed"),
        }
    }

    /// Gives the claim up, so that a retry runs again; in a task of its own, as
    /// [`ClaimGuard::complete`].
    async fn release(mut self) {
        self.settled = true;
        if let Err(e) = release_in_task(&self.idem, self.key, self.owner).await {
            tracing::warn!(
                error = %e,
                "cannot release an idempotency key; it stays claimed until its lease ends"
            );
        }
    }
}

/// Releases `owner`'s claim of `key` in a spawned task; the handle answers whether the store
/// call succeeded.
fn release_in_task(
    idem: &Arc<Idempotency>,
    key: IdempotencyKey,
    owner: IdempotencyOwner,
) -> tokio::task::JoinHandle<Result<bool, tasklane_core::StoreError>> {
    let idem = Arc::clone(idem);
    tokio::spawn(async move { idem.store().release_idempotency_key(key, owner).await })
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Dropped by a cancellation or a panic: release without blocking. Outside a runtime
        // (never the case while serving) the claim's lease ends it.
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(release_in_task(&self.idem, self.key, self.owner));
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

/// The store's key for (caller, method, path, key): a SHA-256 of the parts, each but the
/// fixed-size caller preceded by its length, so that no two tuples share an encoding.
fn store_key(caller: &[u8; 32], method: &str, path: &str, key: &str) -> IdempotencyKey {
    let mut hasher = Sha256::new();
    hasher.update(b"tasklane idempotency-key 1\0");
    hasher.update(caller);
    for part in [method, path, key] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    IdempotencyKey(hasher.finalize().into())
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

fn in_use(key: &str) -> Response {
    let mut response = key_problem(
        StatusCode::CONFLICT,
        "idempotency-key-in-use",
        "A request with this Idempotency-Key is still running",
        format!("the first request with Idempotency-Key '{key}' has not finished; retry shortly"),
        key,
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(1u32));
    response
}

fn reused(key: &str) -> Response {
    key_problem(
        StatusCode::CONFLICT,
        "idempotency-key-reused",
        "Idempotency-Key reused with a different request",
        format!(
            "Idempotency-Key '{key}' was already used with a different request body; use a new key for a new request"
        ),
        key,
    )
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
    let store_key = store_key(&caller, &method, &path, &key);
    let owner = IdempotencyOwner(Uuid::now_v7());
    let now = idem.engine.now();
    idem.purge_if_due(now);
    let claim = idem
        .store()
        .claim_idempotency_key(
            store_key,
            &fingerprint,
            owner,
            now,
            now.saturating_add(idem.lease),
        )
        .await;
    match claim {
        Ok(IdempotencyClaim::Claimed) => {}
        Ok(IdempotencyClaim::Completed {
            fingerprint: f,
            answer,
        }) if f == fingerprint => {
            return match KeptAnswer::decode(&answer) {
                Some(answer) => answer.replay(),
                None => {
                    tracing::error!("a kept idempotency answer cannot be decoded");
                    ApiError::Internal.into_response()
                }
            };
        }
        Ok(IdempotencyClaim::Running { fingerprint: f }) if f == fingerprint => {
            return in_use(&key);
        }
        Ok(_) => return reused(&key),
        Err(e) => return ApiError::from(tasklane_core::Error::Store(e)).into_response(),
    }
    let guard = ClaimGuard {
        idem: Arc::clone(&idem),
        key: store_key,
        owner,
        settled: false,
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if !keepable(status) {
        guard.release().await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(_) => {
            guard.release().await;
            return ApiError::Internal.into_response();
        }
    };
    if body.len() > idem.body_limit {
        guard.release().await;
    } else {
        let answer = KeptAnswer {
            status,
            headers: kept_headers(&parts.headers),
            body: body.clone(),
        };
        guard.complete(answer.encode()).await;
    }
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn json_bodies_compare_as_values() {
        assert_eq!(
            fingerprint(br#"{"a": 1, "b": [1, 2]}"#),
            fingerprint(br#"{"b":[1,2],"a":1}"#)
        );
        assert_ne!(fingerprint(br#"{"a": 1}"#), fingerprint(br#"{"a": 2}"#));
        assert_ne!(fingerprint(b"not json"), fingerprint(b"not json "));
    }

    #[test]
    fn store_keys_tell_every_part_apart() {
        let caller = [1u8; 32];
        let key = store_key(&caller, "POST", "/a", "k");
        assert_eq!(key, store_key(&caller, "POST", "/a", "k"));
        for other in [
            store_key(&[2u8; 32], "POST", "/a", "k"),
            store_key(&caller, "PUT", "/a", "k"),
            store_key(&caller, "POST", "/b", "k"),
            store_key(&caller, "POST", "/a", "l"),
            // The same characters split differently between path and key.
            store_key(&caller, "POST", "/ak", ""),
        ] {
            assert_ne!(key, other);
        }
    }

    #[test]
    fn kept_answers_round_trip_and_damage_is_refused() {
        let answer = KeptAnswer {
            status: StatusCode::CREATED,
            headers: vec![
                (LOCATION, HeaderValue::from_static("/api/v1/tasks/1")),
                (ETAG, HeaderValue::from_static("\"1\"")),
                (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            ],
            body: Bytes::from_static(b"{\"id\":\"1\"}\x00"),
        };
        let bytes = answer.encode();
        assert_eq!(KeptAnswer::decode(&bytes), Some(answer));
        let empty = KeptAnswer {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            headers: Vec::new(),
            body: Bytes::new(),
        };
        assert_eq!(KeptAnswer::decode(&empty.encode()), Some(empty));
        // Cut inside the headers, another format, an impossible status.
        for cut in 0..30 {
            assert_eq!(KeptAnswer::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut other = bytes.clone();
        other[0] = 2;
        assert_eq!(KeptAnswer::decode(&other), None);
        let mut bad_status = bytes;
        bad_status[1..3].copy_from_slice(&1000u16.to_be_bytes());
        assert_eq!(KeptAnswer::decode(&bad_status), None);
    }

    /// What the test route does: hang, panic or answer 201; `entered` is notified when it
    /// starts to hang.
    #[derive(Clone)]
    struct Behaviour(Arc<std::sync::atomic::AtomicU8>, Arc<tokio::sync::Notify>);

    const HANG: u8 = 0;
    const PANIC: u8 = 1;
    const ANSWER: u8 = 2;

    impl Behaviour {
        fn set(&self, what: u8) {
            self.0.store(what, std::sync::atomic::Ordering::SeqCst);
        }
    }

    async fn test_route(axum::Extension(behaviour): axum::Extension<Behaviour>) -> Response {
        match behaviour.0.load(std::sync::atomic::Ordering::SeqCst) {
            HANG => {
                behaviour.1.notify_one();
                std::future::pending().await
            }
            PANIC => panic!("the test route panics, as asked"),
            _ => (StatusCode::CREATED, "created").into_response(),
        }
    }

    /// A router with one keyed route over a fresh in-memory store.
    fn test_router() -> (axum::Router, Behaviour) {
        let behaviour = Behaviour(
            Arc::new(std::sync::atomic::AtomicU8::new(HANG)),
            Arc::new(tokio::sync::Notify::new()),
        );
        let engine = Engine::new(tasklane_core::MemoryStore::new());
        let router = axum::Router::new()
            .route(
                "/things",
                axum::routing::post(test_route).layer(axum::middleware::from_fn(layer)),
            )
            .layer(axum::Extension(Idempotency::new(
                engine,
                &HttpConfig::default(),
            )))
            .layer(axum::Extension(behaviour.clone()));
        (router, behaviour)
    }

    fn keyed_request() -> Request {
        Request::builder()
            .method("POST")
            .uri("/things")
            .header(IDEMPOTENCY_KEY, "k")
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"a": 1}"#))
            .unwrap()
    }

    async fn call(router: &axum::Router) -> Response {
        let mut service = router.clone();
        tower::Service::call(&mut service, keyed_request())
            .await
            .unwrap()
    }

    /// Retries until the released claim is gone (the release runs in a spawned task), then
    /// expects the request to run: 201, not a replay.
    async fn runs_again(router: &axum::Router) {
        for _ in 0..200 {
            let response = call(router).await;
            if response.status() == StatusCode::CONFLICT {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                continue;
            }
            assert_eq!(response.status(), StatusCode::CREATED);
            assert!(response.headers().get(REPLAYED).is_none());
            let replay = call(router).await;
            assert_eq!(replay.status(), StatusCode::CREATED);
            assert_eq!(replay.headers().get(REPLAYED).unwrap(), "true");
            return;
        }
        panic!("the claim of the dropped request was never released");
    }

    #[tokio::test]
    async fn a_cancelled_first_request_leaves_nothing_behind() {
        let (router, behaviour) = test_router();
        let hanging = tokio::spawn({
            let router = router.clone();
            async move { call(&router).await }
        });
        // While it runs (it has claimed the key once it hangs), a retry is told so.
        behaviour.1.notified().await;
        let in_use = call(&router).await;
        assert_eq!(in_use.status(), StatusCode::CONFLICT);
        assert_eq!(in_use.headers().get(RETRY_AFTER).unwrap(), "1");
        hanging.abort();
        assert!(hanging.await.unwrap_err().is_cancelled());
        behaviour.set(ANSWER);
        runs_again(&router).await;
    }

    #[tokio::test]
    async fn a_first_request_that_panics_leaves_nothing_behind() {
        let (router, behaviour) = test_router();
        behaviour.set(PANIC);
        let panicked = tokio::spawn({
            let router = router.clone();
            async move { call(&router).await }
        })
        .await;
        assert!(panicked.unwrap_err().is_panic());
        behaviour.set(ANSWER);
        runs_again(&router).await;
    }

    #[test]
    fn purges_are_due_first_and_then_once_per_interval() {
        let schedule = PurgeSchedule::new(time::Duration::minutes(10));
        let t0 = datetime!(2026-03-02 09:00 UTC);
        assert!(schedule.due(t0));
        assert!(!schedule.due(t0));
        assert!(!schedule.due(t0 + time::Duration::minutes(9)));
        assert!(schedule.due(t0 + time::Duration::minutes(10)));
        assert!(!schedule.due(t0 + time::Duration::minutes(11)));
        // A clock set back waits for the planned instant.
        assert!(!schedule.due(t0));
        assert!(schedule.due(t0 + time::Duration::hours(25)));
    }
}
