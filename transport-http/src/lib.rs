//! # tasklane-http
//!
//! Tasklane's REST/JSON transport: an [`axum::Router`] over a [`tasklane_core::Engine`] that
//! speaks the v1 contract (`shared/api.md`). The transport only translates: every rule and
//! permission check lives in the engine. Errors leave as RFC 9457 problem details
//! (`application/problem+json`), mapped once in [`ApiError`].
//!
//! ```no_run
//! use tasklane_core::{Engine, MemoryStore};
//! use tasklane_http::{router, HttpConfig};
//!
//! # async fn run() -> std::io::Result<()> {
//! let engine = Engine::new(MemoryStore::new());
//! let app = router(engine, HttpConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! The router serves the API under `/api/v1` and the probes `/healthz` and `/readyz` both at
//! the root and under `/api/v1`; an application may nest the whole router under its own prefix
//! (`Location` headers follow the prefix). The OpenAPI 3.1 document is served at
//! `/api/v1/openapi.json` ([`openapi`]) and rendered by an interactive page at `/docs` that needs
//! no internet access. `/metrics` answers in the Prometheus text format; wrap the make-service
//! with [`count_connections`] to count open connections.
#![deny(missing_docs)]

mod config;
mod dto;
mod error;
mod extract;
mod idempotency;
mod layers;
mod openapi;
mod rate;
mod routes;
mod telemetry;
mod throttle;

pub use config::{HttpConfig, LoginThrottleConfig, RateLimitConfig};
pub use error::{ApiError, Problem};
pub use routes::Route;
pub use telemetry::{count_connections, CountConnections, Counted};

use std::sync::Arc;

use axum::Router;
use tasklane_core::{Engine, Store};

/// What every handler receives: the engine and the configuration, behind one reference count
/// (every request clones the state, so one count to move rather than one per part).
pub struct AppState<S>(Arc<SharedState<S>>);

/// The parts of [`AppState`], which dereferences to them.
pub struct SharedState<S> {
    /// The engine.
    pub engine: Engine<S>,
    /// The transport's configuration.
    pub config: Arc<HttpConfig>,
    /// Failed logins, per account and per address.
    pub(crate) login_throttle: Arc<throttle::LoginThrottle>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState(Arc::clone(&self.0))
    }
}

impl<S> std::ops::Deref for AppState<S> {
    type Target = SharedState<S>;

    fn deref(&self) -> &SharedState<S> {
        &self.0
    }
}

/// The HTTP API over `engine`: `/api/v1/...`, `/healthz`, `/readyz`, with problem-details errors
/// for unknown routes (404), wrong methods (405), bodies over the limit (413), timeouts and panics.
pub fn router<S: Store>(engine: Engine<S>, config: HttpConfig) -> Router {
    let state = AppState(Arc::new(SharedState {
        engine,
        login_throttle: throttle::LoginThrottle::new(config.login_throttle.clone()),
        config: Arc::new(config),
    }));
    telemetry::install();
    let (routes, _) = routes::all::<S>();
    let app = routes
        .fallback(layers::not_found)
        .with_state(state.clone())
        .layer(axum::Extension(idempotency::Idempotency::new(
            state.engine.clone(),
            &state.config,
        )));
    layers::wrap(app, &state.config)
}

/// Every route [`router`] serves (method and path template from the router's root), in the
/// order they are declared. The OpenAPI document documents each of them.
pub fn routes() -> Vec<Route> {
    routes::all::<tasklane_core::MemoryStore>().1
}

/// The OpenAPI 3.1 document of the API, as served at `GET /api/v1/openapi.json`.
pub fn openapi() -> serde_json::Value {
    serde_json::to_value(openapi::document()).expect("the OpenAPI document serializes")
}
