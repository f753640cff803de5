//! Probes: `/healthz` (the process answers) and `/readyz` (the store answers).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use tasklane_core::Store;

use crate::error::ApiResult;
use crate::AppState;

/// 200 while the process serves requests.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// 200 when the store answers a cheap read, 503 problem otherwise.
pub(crate) async fn readyz<S: Store>(State(st): State<AppState<S>>) -> ApiResult<Json<Value>> {
    let seq = st
        .engine
        .store()
        .last_seq()
        .await
        .map_err(tasklane_core::Error::Store)?;
    Ok(Json(json!({"status": "ok", "last_seq": seq})))
}
