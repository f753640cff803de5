//! The routes of the v1 contract, one module per section of `api.md`.

mod accounts;
mod comments;
mod ops;
mod projects;
mod tasks;
mod workspaces;

use axum::http::header::{HeaderValue, ETAG, LOCATION};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use serde::Serialize;
use tasklane_core::Store;

use crate::AppState;

/// The probes, served at the root of the router.
pub(crate) fn probes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz::<S>))
}

/// Every `/api/v1` route.
pub(crate) fn api<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz::<S>))
        // Accounts.
        .route("/auth/register", post(accounts::register::<S>))
        .route("/auth/login", post(accounts::login::<S>))
        .route("/auth/logout", post(accounts::logout::<S>))
        .route("/me", get(accounts::me::<S>))
        .route(
            "/me/tokens",
            post(accounts::create_token::<S>).get(accounts::list_tokens::<S>),
        )
        .route("/me/tokens/{id}", delete(accounts::revoke_token::<S>))
        // Workspaces and members.
        .route(
            "/workspaces",
            post(workspaces::create::<S>).get(workspaces::list::<S>),
        )
        .route(
            "/workspaces/{ws}",
            get(workspaces::get::<S>).patch(workspaces::rename::<S>),
        )
        .route(
            "/workspaces/{ws}/members",
            get(workspaces::members::<S>).post(workspaces::add_member::<S>),
        )
        .route(
            "/workspaces/{ws}/members/{user}",
            patch(workspaces::change_role::<S>).delete(workspaces::remove_member::<S>),
        )
        .route("/workspaces/{ws}/activity", get(workspaces::activity::<S>))
        // Projects, workflow, labels, milestones.
        .route(
            "/workspaces/{ws}/projects",
            post(projects::create::<S>).get(projects::list::<S>),
        )
        .route(
            "/projects/{project}",
            get(projects::get::<S>)
                .patch(projects::update::<S>)
                .delete(projects::delete::<S>),
        )
        .route("/projects/{project}/archive", post(projects::archive::<S>))
        .route("/projects/{project}/restore", post(projects::restore::<S>))
        .route(
            "/projects/{project}/workflow",
            get(projects::workflow::<S>).put(projects::replace_workflow::<S>),
        )
        .route("/projects/{project}/stats", get(projects::stats::<S>))
        .route(
            "/projects/{project}/labels",
            post(projects::create_label::<S>).get(projects::list_labels::<S>),
        )
        .route(
            "/labels/{id}",
            get(projects::get_label::<S>)
                .patch(projects::update_label::<S>)
                .delete(projects::delete_label::<S>),
        )
        .route(
            "/projects/{project}/milestones",
            post(projects::create_milestone::<S>).get(projects::list_milestones::<S>),
        )
        .route(
            "/milestones/{id}",
            get(projects::get_milestone::<S>)
                .patch(projects::update_milestone::<S>)
                .delete(projects::delete_milestone::<S>),
        )
        .route("/projects/{project}/activity", get(projects::activity::<S>))
        // Tasks.
        .route(
            "/projects/{project}/tasks",
            post(tasks::create::<S>).get(tasks::list::<S>),
        )
        .route("/projects/{project}/tasks/bulk", post(tasks::bulk::<S>))
        .route(
            "/tasks/{task}",
            get(tasks::get::<S>)
                .patch(tasks::update::<S>)
                .delete(tasks::delete::<S>),
        )
        .route("/tasks/{task}/restore", post(tasks::restore::<S>))
        .route("/tasks/{task}/transition", post(tasks::transition::<S>))
        .route("/tasks/{task}/move", post(tasks::move_task::<S>))
        .route(
            "/tasks/{task}/dependencies",
            post(tasks::add_dependency::<S>),
        )
        .route(
            "/tasks/{task}/dependencies/{blocker}",
            delete(tasks::remove_dependency::<S>),
        )
        .route("/tasks/{task}/subtasks", get(tasks::subtasks::<S>))
        .route("/tasks/{task}/activity", get(tasks::activity::<S>))
        // Comments.
        .route(
            "/tasks/{task}/comments",
            post(comments::create::<S>).get(comments::list::<S>),
        )
        .route(
            "/comments/{id}",
            get(comments::get::<S>)
                .patch(comments::edit::<S>)
                .delete(comments::delete::<S>),
        )
}

/// A single object: 200, `ETag: "<version>"` and the body.
pub(crate) fn object<T: Serialize>(version: u64, body: T) -> Response {
    with_etag(version, (StatusCode::OK, Json(body)).into_response())
}

/// A created object: 201, `Location: <base><path>`, `ETag` and the body.
pub(crate) fn created<T: Serialize>(location: String, version: u64, body: T) -> Response {
    let mut response = with_etag(version, (StatusCode::CREATED, Json(body)).into_response());
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

fn with_etag(version: u64, mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// 204 No Content.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
