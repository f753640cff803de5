//! Prometheus metrics through the `metrics` facade and metrics-exporter-prometheus's recorder,
//! rendered by `GET /metrics`.
//!
//! - `http_requests_total{method,route,status}`: answered requests; `route` is the matched
//!   route template (`/api/v1/tasks/{task}`), never the raw path, or `unmatched` when no route
//!   matched (unknown paths, requests refused before routing such as rate-limited ones).
//! - `http_request_duration_seconds{method,route}`: a histogram of the time to the response
//!   head.
//! - `http_requests_in_flight`: requests being handled.
//! - `http_open_connections`: connections being served, when the server wraps its make-service
//!   with [`count_connections`].
//! - `tasklane_store_errors_total{kind}`: store failures answered with a 5xx (`unavailable`,
//!   `corrupt`, ...).
//! - the engine's own metrics (`tasklane_core::telemetry`): `tasklane_engine_commit_seconds{outcome}`,
//!   a histogram of store commit latency (50 µs to 5 s), and
//!   `tasklane_engine_commit_retries_total`.
//!
//! The recorder is global: the first router built installs it once per process (later routers,
//! as in tests, reuse it). When the application installed another recorder first, `/metrics`
//! answers 503 and the metrics go to that recorder.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header::{HeaderValue, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tasklane_core::{telemetry, StoreError};

use crate::error::Problem;

const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";
const IN_FLIGHT: &str = "http_requests_in_flight";
const CONNECTIONS: &str = "http_open_connections";
const STORE_ERRORS: &str = "tasklane_store_errors_total";

/// Histogram buckets of request durations, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of requests no route matched.
const UNMATCHED: &str = "unmatched";

/// The process's recorder, installed by the first call; `None` when another one was installed.
pub(crate) fn install() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), &BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(telemetry::COMMIT_SECONDS.to_owned()),
                        &telemetry::COMMIT_SECONDS_BUCKETS,
                    )
                })
                .map(PrometheusBuilder::build_recorder);
            let recorder = match recorder {
                Ok(recorder) => recorder,
                Err(e) => {
                    tracing::error!(error = %e, "cannot build the metrics recorder");
                    return None;
                }
            };
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics answers 503");
                return None;
            }
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        Unit::Count,
        "HTTP requests answered, by method, matched route and status."
    );
    metrics::describe_histogram!(
        DURATION,
        Unit::Seconds,
        "Time from the request to the response head, by method and matched route."
    );
    metrics::describe_gauge!(IN_FLIGHT, Unit::Count, "HTTP requests being handled.");
    metrics::describe_gauge!(CONNECTIONS, Unit::Count, "HTTP connections being served.");
    metrics::describe_counter!(
        STORE_ERRORS,
        Unit::Count,
        "Store failures answered with a 5xx, by kind."
    );
    telemetry::describe();
}

/// Counts a store failure that is answered with a 5xx.
pub(crate) fn store_error(error: &StoreError) {
    let kind = match error {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Corrupt(_) => "corrupt",
        StoreError::VersionConflict { .. } => "version_conflict",
        StoreError::Duplicate { .. } => "duplicate",
    };
    counter!(STORE_ERRORS, "kind" => kind).increment(1);
}

/// Where the innermost layer leaves the matched route for the outermost one. A slot rather than
/// a response extension, so that a route whose handler panicked is still named.
#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<MatchedPath>>);

/// Decrements a gauge when dropped, so cancelled requests and closed connections count down.
struct Held(Gauge);

impl Held {
    fn new(gauge: Gauge) -> Self {
        gauge.increment(1.0);
        Held(gauge)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The outermost layer: counts and times every request by its matched route.
pub(crate) async fn track(mut request: Request, next: Next) -> Response {
    let slot = RouteSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = method_label(request.method());
    let start = Instant::now();
    static IN_FLIGHT_GAUGE: OnceLock<Gauge> = OnceLock::new();
    let in_flight = Held::new(IN_FLIGHT_GAUGE.get_or_init(|| gauge!(IN_FLIGHT)).clone());
    let response = next.run(request).await;
    drop(in_flight);
    let route = slot.0.get().map_or(UNMATCHED, |p| p.as_str());
    RouteHandles::of(method, route, response.status().as_u16())
        .answered(start.elapsed().as_secs_f64());
    response
}

/// The request counter and duration histogram of one method, route and status.
///
/// Looking the handles up in the recorder's registry on every request (building the labels'
/// strings, hashing and comparing them) cost more than the rest of [`track`]; the handles of
/// each combination seen are kept instead. There are few: the routes are templates, the
/// statuses those the API answers.
#[derive(Clone)]
struct RouteHandles {
    method: &'static str,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

/// The kept handles, by route template.
type HandlesByRoute = RwLock<HashMap<String, Vec<RouteHandles>>>;

impl RouteHandles {
    /// The handles of `method`, `route` and `status`, registered on first use.
    fn of(method: &'static str, route: &str, status: u16) -> RouteHandles {
        static KEPT: OnceLock<HandlesByRoute> = OnceLock::new();
        let kept = KEPT.get_or_init(HandlesByRoute::default);
        let find = |all: &HashMap<String, Vec<RouteHandles>>| {
            all.get(route)
                .and_then(|hs| hs.iter().find(|h| h.method == method && h.status == status))
                .cloned()
        };
        if let Some(found) = find(&kept.read().unwrap_or_else(|e| e.into_inner())) {
            return found;
        }
        let mut all = kept.write().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = find(&all) {
            return found;
        }
        let handles = RouteHandles {
            method,
            status,
            requests: counter!(
                REQUESTS,
                "method" => method,
                "route" => route.to_owned(),
                "status" => status.to_string()
            ),
            duration: histogram!(DURATION, "method" => method, "route" => route.to_owned()),
        };
        all.entry(route.to_owned())
            .or_default()
            .push(handles.clone());
        handles
    }

    /// Counts one answered request that took `seconds` to its response head.
    fn answered(&self, seconds: f64) {
        self.duration.record(seconds);
        self.requests.increment(1);
    }
}

/// The innermost layer, after routing: records the matched route for [`track`].
pub(crate) async fn record_route(request: Request, next: Next) -> Response {
    if let (Some(slot), Some(path)) = (
        request.extensions().get::<RouteSlot>(),
        request.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(path.clone());
    }
    next.run(request).await
}

/// The Prometheus text exposition of every metric of the process.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4.", content_type = "text/plain", body = String),
        (status = 503, description = "Another metrics recorder is installed in this process.", content_type = "application/problem+json", body = Problem),
    )
)]
pub(crate) async fn render() -> Response {
    let Some(handle) = install() else {
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics-unavailable",
            "Metrics unavailable",
            "another metrics recorder is installed in this process",
        )
        .into_response_with_status();
    };
    handle.run_upkeep();
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Wraps a make-service so that `http_open_connections` counts the connections it serves:
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// use std::net::SocketAddr;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let make_service = app.into_make_service_with_connect_info::<SocketAddr>();
/// axum::serve(listener, tasklane_http::count_connections(make_service)).await
/// # }
/// ```
pub fn count_connections<M>(make_service: M) -> CountConnections<M> {
    CountConnections(make_service)
}

/// A make-service whose connections are counted (see [`count_connections`]).
#[derive(Clone, Debug)]
pub struct CountConnections<M>(M);

impl<M, T> tower::Service<T> for CountConnections<M>
where
    M: tower::Service<T, Error = Infallible>,
    M::Future: Send + 'static,
    M::Response: Send + 'static,
{
    type Response = Counted<M::Response>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, target: T) -> Self::Future {
        let future = self.0.call(target);
        Box::pin(async move {
            let inner = future.await?;
            Ok(Counted {
                inner,
                _connection: Arc::new(Held::new(gauge!(CONNECTIONS))),
            })
        })
    }
}

/// The service of one counted connection: the connection counts until its last clone is gone.
#[derive(Clone)]
pub struct Counted<S> {
    inner: S,
    _connection: Arc<Held>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Counted<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counted")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S, R> tower::Service<R> for Counted<S>
where
    S: tower::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use tasklane_core::{Error, StoreError};

    use crate::error::ApiError;

    #[test]
    fn store_failures_answered_with_5xx_are_counted() {
        let handle = super::install().expect("the recorder");
        let response =
            ApiError::Core(Error::Store(StoreError::Unavailable("down".into()))).into_response();
        assert_eq!(response.status(), 503);
        let response =
            ApiError::Core(Error::Store(StoreError::Corrupt("bad bytes".into()))).into_response();
        assert_eq!(response.status(), 500);
        let text = handle.render();
        assert!(
            text.contains(r#"tasklane_store_errors_total{kind="unavailable"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"tasklane_store_errors_total{kind="corrupt"} 1"#),
            "{text}"
        );
    }
}
