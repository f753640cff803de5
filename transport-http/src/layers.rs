//! The layers around the routes: panics, timeouts, CORS, and the rewrite that turns every empty
//! error response (405 from the method router, 408 from the timeout, ...) into problem details.

use std::any::Any;

use axum::extract::{DefaultBodyLimit, OriginalUri};
use axum::http::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderName, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::HttpConfig;
use crate::error::{ApiError, Problem};

/// The request id header, read from clients and echoed on every response.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The configured body limit, put into request extensions for the 413 problem's detail.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyLimit(pub usize);

/// The fallback for paths no route matches.
pub(crate) async fn not_found(uri: OriginalUri) -> ApiError {
    ApiError::RouteNotFound {
        path: uri.0.path().to_owned(),
    }
}

fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::Internal.into_response()
}

/// Turns an error response without a body type into a problem document with its status; the
/// other headers (`Allow`, ...) stay.
async fn problem_for_empty_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(CONTENT_TYPE)
    {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed {
            allow: parts.headers.get(ALLOW).cloned(),
        },
        StatusCode::REQUEST_TIMEOUT => ApiError::Timeout,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit: 0 },
        StatusCode::NOT_FOUND => ApiError::RouteNotFound {
            path: String::new(),
        },
        _ => {
            let reason = status.canonical_reason().unwrap_or("Error");
            let problem = Problem::new(status, "http", reason, reason.to_lowercase());
            let rewritten = problem.into_response_with_status();
            let (new_parts, body) = rewritten.into_parts();
            parts.headers.extend(new_parts.headers);
            return Response::from_parts(parts, body);
        }
    };
    let (new_parts, body) = error.into_response().into_parts();
    parts.headers.extend(new_parts.headers);
    Response::from_parts(parts, body)
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                axum::http::header::AUTHORIZATION,
                axum::http::header::CONTENT_TYPE,
                axum::http::header::IF_MATCH,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                axum::http::header::ETAG,
                axum::http::header::LOCATION,
                axum::http::header::RETRY_AFTER,
                HeaderName::from_static("idempotent-replayed"),
            ]),
    )
}

/// Request ids: the client's `x-request-id` when it sends one, else a fresh UUIDv7.
#[derive(Clone, Copy, Debug, Default)]
struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// The span of one request: method, path and request id, so every log line inside carries them.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
    )
}

/// Wraps the routes, outermost first: the body limit, metrics, request id (set, then propagated
/// to the response), CORS, tracing, compression, the problem rewrite, rate limits, the panic
/// catcher and the timeout.
///
/// Every `Router::layer` call boxes the service it wraps, which costs each request a clone of the
/// boxed service, a boxed future and moves of the nested future; so the layers are grouped with
/// `ServiceBuilder` (the first one listed is the outermost) and applied in as few calls as the
/// optional ones (rate limits, CORS) allow.
pub(crate) fn wrap(app: Router, config: &HttpConfig) -> Router {
    let app = app.layer(
        ServiceBuilder::new()
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                config.request_timeout,
            ))
            .layer(Extension(BodyLimit(config.body_limit))),
    );
    // `Router::layer` wraps each handler separately, and the method router adds `Allow` to a 405
    // outside those layers; wrapping the whole router as one service lets the rewrite see it.
    let mut app = Router::new().fallback_service(app);
    if let Some(limits) = crate::rate::Limits::new(&config.rate_limit) {
        app = app.layer(axum::middleware::from_fn_with_state(
            limits,
            crate::rate::limit,
        ));
    }
    let app = app.layer(
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(CompressionLayer::new())
            .layer(axum::middleware::map_response(problem_for_empty_errors)),
    );
    let app = match cors(&config.cors_origins) {
        Some(layer) => app.layer(layer),
        None => app,
    };
    app.layer(
        ServiceBuilder::new()
            .layer(DefaultBodyLimit::max(config.body_limit))
            .layer(axum::middleware::from_fn(crate::telemetry::track))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuidV7))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::routing::get;
    use axum::Router;

    use super::wrap;
    use crate::config::HttpConfig;

    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn panics_and_timeouts_are_problems() {
        let routes = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("a handler bug");
                    }
                    "unreachable"
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            );
        let config = HttpConfig {
            request_timeout: Duration::from_millis(100),
            ..HttpConfig::default()
        };
        let base = serve(wrap(routes, &config)).await;
        let client = reqwest::Client::new();

        let r = client.get(format!("{base}/boom")).send().await.unwrap();
        assert_eq!(r.status(), 500);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], 500);
        assert_eq!(body["type"], "urn:tasklane:problem:internal");
        // The server survives the panic.
        let r = client.get(format!("{base}/boom")).send().await.unwrap();
        assert_eq!(r.status(), 500);

        let r = client.get(format!("{base}/slow")).send().await.unwrap();
        assert_eq!(r.status(), 408);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["type"], "urn:tasklane:problem:timeout");
    }

    #[tokio::test]
    async fn request_ids_and_compression() {
        let routes = Router::new().route("/x", get(|| async { "x".repeat(4096) }));
        let base = serve(wrap(routes, &HttpConfig::default())).await;
        let client = reqwest::Client::new();
        let r = client
            .get(format!("{base}/x"))
            .header("x-request-id", "abc-123")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-request-id"], "abc-123");
        let r = client.get(format!("{base}/x")).send().await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        let r = client
            .get(format!("{base}/x"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], "gzip");
        assert!(r.bytes().await.unwrap().len() < 4096);
        // Errors carry a request id too.
        let r = client.get(format!("{base}/missing")).send().await.unwrap();
        assert!(r.headers().contains_key("x-request-id"));
    }

    #[tokio::test]
    async fn cors_answers_preflights_for_configured_origins() {
        let routes = Router::new().route("/x", get(|| async { "x" }));
        let config = HttpConfig {
            cors_origins: vec!["https://app.example.com".into()],
            ..HttpConfig::default()
        };
        let base = serve(wrap(routes, &config)).await;
        let r = reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{base}/x"))
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "PATCH")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://app.example.com"
        );
    }
}
