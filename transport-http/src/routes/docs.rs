//! The OpenAPI document (`GET /api/v1/openapi.json`) and the interactive documentation
//! (`GET /docs`): Swagger UI, whose files are compiled into the binary (utoipa-swagger-ui's
//! `vendored` feature), so the page works with no internet access.
//!
//! The page and its files are found relative to the prefix the router is mounted under, so the
//! docs work when an application nests the router.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path};
use axum::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use utoipa_swagger_ui::Config;

use crate::error::{ApiError, ApiResult};

/// The files of the page, as named under `/docs/`.
const ASSETS: [&str; 7] = [
    "swagger-ui.css",
    "index.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-initializer.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
];

/// The media type of a file of the page.
fn media_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// The names of the page's files, for the document.
pub(crate) struct DocsFile;

impl utoipa::PartialSchema for DocsFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ASSETS))
            .into()
    }
}

impl utoipa::ToSchema for DocsFile {}

/// The path the router is mounted under (`""`, or `/tasklane` when nested).
fn mount_prefix(original: &Uri, inner: &Uri) -> String {
    original
        .path()
        .strip_suffix(inner.path())
        .unwrap_or("")
        .to_owned()
}

fn swagger_config(prefix: &str) -> Arc<Config<'static>> {
    Arc::new(
        Config::new([format!("{prefix}/api/v1/openapi.json")])
            .persist_authorization(true)
            .display_request_duration(true)
            .filter(true)
            // The default validator badge calls a public service; none is reachable here.
            .validator_url("none"),
    )
}

fn file(name: &str, config: Arc<Config<'static>>) -> ApiResult<Vec<u8>> {
    match utoipa_swagger_ui::serve(name, config) {
        Ok(Some(file)) => Ok(file.bytes.into_owned()),
        Ok(None) => Err(ApiError::RouteNotFound {
            path: format!("/docs/{name}"),
        }),
        Err(_) => Err(ApiError::Internal),
    }
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
pub(crate) async fn openapi_json() -> Response {
    let mut response = crate::openapi::document_json().into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The interactive documentation (Swagger UI); it reads `/api/v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "operations",
    operation_id = "docs",
    responses((status = 200, description = "The documentation page.", content_type = "text/html", body = String))
)]
pub(crate) async fn docs_page(OriginalUri(original): OriginalUri, uri: Uri) -> ApiResult<Response> {
    let prefix = mount_prefix(&original, &uri);
    let bytes = file("index.html", swagger_config(&prefix))?;
    let html = String::from_utf8_lossy(&bytes)
        .replacen(
            "<head>",
            &format!("<head>\n    <base href=\"{prefix}/docs/\">"),
            1,
        )
        .replacen(
            "<title>Swagger UI</title>",
            "<title>Tasklane API</title>",
            1,
        );
    Ok(axum::response::Html(html).into_response())
}

/// A file of the documentation page (scripts, styles, icons).
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "operations",
    operation_id = "docs_asset",
    params(("file" = inline(DocsFile), Path, description = "A file of the page.")),
    responses(
        (status = 200, description = "The file.", content(
            (String = "text/css"),
            (String = "text/javascript"),
            (String = "image/png"),
        )),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn docs_asset(
    OriginalUri(original): OriginalUri,
    uri: Uri,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    if !ASSETS.contains(&name.as_str()) {
        return Err(ApiError::RouteNotFound {
            path: original.path().to_owned(),
        });
    }
    let prefix = mount_prefix(&original, &uri);
    let bytes = file(&name, swagger_config(&prefix))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media_type(&name)));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(response)
}
