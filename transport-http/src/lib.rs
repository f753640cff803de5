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
//! (`Location` headers follow the prefix).
#![deny(missing_docs)]

mod config;
mod dto;
mod error;
mod extract;
mod layers;
mod rate;
mod routes;

pub use config::{HttpConfig, RateLimitConfig};
pub use error::{ApiError, Problem};

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tasklane_core::{Engine, Store};

/// What every handler receives: the engine and the configuration.
pub struct AppState<S> {
    /// The engine.
    pub engine: Engine<S>,
    /// The transport's configuration.
    pub config: Arc<HttpConfig>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            engine: self.engine.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

/// The HTTP API over `engine`: `/api/v1/...`, `/healthz`, `/readyz`, with problem-details errors
/// for unknown routes (404), wrong methods (405), bodies over the limit (413), timeouts and panics.
pub fn router<S: Store>(engine: Engine<S>, config: HttpConfig) -> Router {
    let state = AppState {
        engine,
        config: Arc::new(config),
    };
    let api = routes::api::<S>().fallback(layers::not_found);
    let app = Router::new()
        .nest("/api/v1", api)
        .merge(routes::probes::<S>())
        .fallback(layers::not_found)
        .with_state(state.clone());
    layers::wrap(app, &state.config).layer(DefaultBodyLimit::max(state.config.body_limit))
}
