//! The routes of the v1 contract, one module per section of `api.md`, plus the operations
//! routes (probes, the OpenAPI document and the docs page).
//!
//! Every route is added through a [`Table`], which records its method and path: [`crate::routes`]
//! lists what the router serves, and a test holds that list against the OpenAPI document.

pub(crate) mod accounts;
pub(crate) mod comments;
pub(crate) mod docs;
pub(crate) mod ops;
pub(crate) mod projects;
pub(crate) mod tasks;
pub(crate) mod workspaces;

use axum::handler::Handler;
use axum::http::header::{HeaderValue, ETAG, LOCATION};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, post, MethodFilter};
use axum::{Json, Router};
use serde::Serialize;
use tasklane_core::Store;

use crate::AppState;

/// A route the router serves: a method and a path template (`/api/v1/tasks/{task}`), written
/// as in the OpenAPI document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// The method (`GET` also answers `HEAD`).
    pub method: Method,
    /// The path template from the root of the router.
    pub path: String,
    /// Whether the route honours `Idempotency-Key` (creating POSTs).
    pub idempotent: bool,
}

/// Routes under construction, with the list of what they serve.
pub(crate) struct Table<S> {
    prefix: &'static str,
    router: Router<AppState<S>>,
    routes: Vec<Route>,
}

impl<S: Store> Table<S> {
    fn new(prefix: &'static str) -> Self {
        Table {
            prefix,
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    fn on<H, T>(mut self, method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, AppState<S>>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes");
        self.router = self.router.route(path, on(filter, handler));
        self.routes.push(Route {
            method,
            path: format!("{}{path}", self.prefix),
            idempotent: false,
        });
        self
    }

    /// A creating POST: honours `Idempotency-Key`.
    fn create<H: Handler<T, AppState<S>>, T: 'static>(mut self, path: &str, handler: H) -> Self {
        let route = post(handler).layer(axum::middleware::from_fn(crate::idempotency::layer));
        self.router = self.router.route(path, route);
        self.routes.push(Route {
            method: Method::POST,
            path: format!("{}{path}", self.prefix),
            idempotent: true,
        });
        self
    }

    fn get<H: Handler<T, AppState<S>>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::GET, path, handler)
    }

    fn post<H: Handler<T, AppState<S>>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::POST, path, handler)
    }

    fn put<H: Handler<T, AppState<S>>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::PUT, path, handler)
    }

    fn patch<H: Handler<T, AppState<S>>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::PATCH, path, handler)
    }

    fn delete<H: Handler<T, AppState<S>>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::DELETE, path, handler)
    }
}

/// Every route: the router (state not yet given; unknown `/api/v1` paths fall back to a 404
/// problem) and the list of what it serves.
pub(crate) fn all<S: Store>() -> (Router<AppState<S>>, Vec<Route>) {
    let api = api::<S>();
    let root = root::<S>();
    let record = || axum::middleware::from_fn(crate::telemetry::record_route);
    let router = Router::new()
        .nest(
            "/api/v1",
            api.router
                .fallback(crate::layers::not_found)
                .layer(record()),
        )
        .merge(root.router.layer(record()));
    let mut routes = root.routes;
    routes.extend(api.routes);
    (router, routes)
}

/// The routes at the root of the router: probes, the docs page, the metrics.
fn root<S: Store>() -> Table<S> {
    Table::new("")
        .get("/healthz", ops::healthz)
        .get("/readyz", ops::readyz::<S>)
        .get("/docs", docs::docs_page)
        .get("/docs/{file}", docs::docs_asset)
        .get("/metrics", crate::telemetry::render)
}

/// Every `/api/v1` route.
fn api<S: Store>() -> Table<S> {
    Table::new("/api/v1")
        .get("/healthz", ops::healthz_v1)
        .get("/readyz", ops::readyz_v1::<S>)
        .get("/openapi.json", docs::openapi_json)
        // Accounts.
        .create("/auth/register", accounts::register::<S>)
        .post("/auth/login", accounts::login::<S>)
        .post("/auth/logout", accounts::logout::<S>)
        .get("/me", accounts::me::<S>)
        .create("/me/tokens", accounts::create_token::<S>)
        .get("/me/tokens", accounts::list_tokens::<S>)
        .delete("/me/tokens/{id}", accounts::revoke_token::<S>)
        // Workspaces and members.
        .create("/workspaces", workspaces::create::<S>)
        .get("/workspaces", workspaces::list::<S>)
        .get("/workspaces/{ws}", workspaces::get::<S>)
        .patch("/workspaces/{ws}", workspaces::rename::<S>)
        .get("/workspaces/{ws}/members", workspaces::members::<S>)
        .create("/workspaces/{ws}/members", workspaces::add_member::<S>)
        .patch(
            "/workspaces/{ws}/members/{user}",
            workspaces::change_role::<S>,
        )
        .delete(
            "/workspaces/{ws}/members/{user}",
            workspaces::remove_member::<S>,
        )
        .get("/workspaces/{ws}/activity", workspaces::activity::<S>)
        // Projects, workflow, labels, milestones.
        .create("/workspaces/{ws}/projects", projects::create::<S>)
        .get("/workspaces/{ws}/projects", projects::list::<S>)
        .get("/projects/{project}", projects::get::<S>)
        .patch("/projects/{project}", projects::update::<S>)
        .delete("/projects/{project}", projects::delete::<S>)
        .post("/projects/{project}/archive", projects::archive::<S>)
        .post("/projects/{project}/restore", projects::restore::<S>)
        .get("/projects/{project}/workflow", projects::workflow::<S>)
        .put(
            "/projects/{project}/workflow",
            projects::replace_workflow::<S>,
        )
        .get("/projects/{project}/stats", projects::stats::<S>)
        .create("/projects/{project}/labels", projects::create_label::<S>)
        .get("/projects/{project}/labels", projects::list_labels::<S>)
        .get("/labels/{id}", projects::get_label::<S>)
        .patch("/labels/{id}", projects::update_label::<S>)
        .delete("/labels/{id}", projects::delete_label::<S>)
        .create(
            "/projects/{project}/milestones",
            projects::create_milestone::<S>,
        )
        .get(
            "/projects/{project}/milestones",
            projects::list_milestones::<S>,
        )
        .get("/milestones/{id}", projects::get_milestone::<S>)
        .patch("/milestones/{id}", projects::update_milestone::<S>)
        .delete("/milestones/{id}", projects::delete_milestone::<S>)
        .get("/projects/{project}/activity", projects::activity::<S>)
        // Tasks.
        .create("/projects/{project}/tasks", tasks::create::<S>)
        .get("/projects/{project}/tasks", tasks::list::<S>)
        .post("/projects/{project}/tasks/bulk", tasks::bulk::<S>)
        .get("/tasks/{task}", tasks::get::<S>)
        .patch("/tasks/{task}", tasks::update::<S>)
        .delete("/tasks/{task}", tasks::delete::<S>)
        .post("/tasks/{task}/restore", tasks::restore::<S>)
        .post("/tasks/{task}/transition", tasks::transition::<S>)
        .post("/tasks/{task}/move", tasks::move_task::<S>)
        .create("/tasks/{task}/dependencies", tasks::add_dependency::<S>)
        .delete(
            "/tasks/{task}/dependencies/{blocker}",
            tasks::remove_dependency::<S>,
        )
        .get("/tasks/{task}/subtasks", tasks::subtasks::<S>)
        .get("/tasks/{task}/activity", tasks::activity::<S>)
        // Comments.
        .create("/tasks/{task}/comments", comments::create::<S>)
        .get("/tasks/{task}/comments", comments::list::<S>)
        .get("/comments/{id}", comments::get::<S>)
        .patch("/comments/{id}", comments::edit::<S>)
        .delete("/comments/{id}", comments::delete::<S>)
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
