//! Probes: `/healthz` (the process answers) and `/readyz` (the store answers), at the root and
//! under `/api/v1`.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use tasklane_core::Store;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::AppState;

/// The answer of `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Health)]
pub(crate) struct HealthDto {
    /// Always `ok`.
    pub status: &'static str,
}

/// The answer of `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Readiness)]
pub(crate) struct ReadyDto {
    /// Always `ok` (a failing store is a 503 problem).
    pub status: &'static str,
    /// The sequence number of the last committed event.
    pub last_seq: u64,
}

/// Whether the process serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    responses((status = 200, description = "The process serves requests.", body = HealthDto))
)]
pub(crate) async fn healthz() -> Json<HealthDto> {
    Json(HealthDto { status: "ok" })
}

/// Whether the process serves requests (the same as `/healthz`).
#[utoipa::path(
    get,
    path = "/api/v1/healthz",
    tag = "operations",
    operation_id = "healthz_v1",
    responses((status = 200, description = "The process serves requests.", body = HealthDto))
)]
pub(crate) async fn healthz_v1() -> Json<HealthDto> {
    healthz().await
}

/// Whether the store answers a cheap read.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "The store answers.", body = ReadyDto),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub(crate) async fn readyz<S: Store>(State(st): State<AppState<S>>) -> ApiResult<Json<ReadyDto>> {
    let seq = st
        .engine
        .store()
        .last_seq()
        .await
        .map_err(tasklane_core::Error::Store)?;
    Ok(Json(ReadyDto {
        status: "ok",
        last_seq: seq,
    }))
}

/// Whether the store answers a cheap read (the same as `/readyz`).
#[utoipa::path(
    get,
    path = "/api/v1/readyz",
    tag = "operations",
    operation_id = "readyz_v1",
    responses(
        (status = 200, description = "The store answers.", body = ReadyDto),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub(crate) async fn readyz_v1<S: Store>(state: State<AppState<S>>) -> ApiResult<Json<ReadyDto>> {
    readyz(state).await
}
