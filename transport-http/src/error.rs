//! The crate's one error type and its single mapping to RFC 9457 problem details.

use axum::http::header::{HeaderValue, ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use tasklane_core::{Conflict, Error, FieldError, StoreError};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a request can fail with. Engine errors arrive as [`ApiError::Core`]; the rest are
/// the transport's own (bad framing, routing, limits). [`IntoResponse`] maps each variant once to
/// a status and a [`Problem`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The engine refused or failed.
    #[error(transparent)]
    Core(#[from] Error),
    /// The body is not well-formed JSON (400).
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// Login with an unknown e-mail, a wrong password or a disabled account (401).
    #[error("the e-mail address or the password is wrong")]
    WrongCredentials,
    /// A malformed header or other framing problem (400).
    #[error("{0}")]
    BadRequest(String),
    /// The body is not JSON (415).
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// The body is larger than the configured limit (413).
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No route matches the path (404).
    #[error("no route matches {path}")]
    RouteNotFound {
        /// The requested path.
        path: String,
    },
    /// The route exists but not with this method (405).
    #[error("this route does not accept the method")]
    MethodNotAllowed {
        /// The `Allow` header of the route, if known.
        allow: Option<HeaderValue>,
    },
    /// The request took longer than the configured timeout (408).
    #[error("the request took too long")]
    Timeout,
    /// Too many requests for this token or address (429).
    #[error("too many requests; retry in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds until a request is accepted again.
        retry_after_seconds: u64,
    },
    /// A bug: a handler panicked or an invariant broke (500).
    #[error("internal error")]
    Internal,
}

/// An RFC 9457 problem details document.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:tasklane:problem:not-found`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, in a sentence.
    pub detail: String,
    /// Extension members (`errors`, `failures`, `reason`, `path`, ...).
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl Problem {
    /// A problem of `kind` (the last segment of its URN) with `status`, `title` and `detail`.
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:tasklane:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            extensions: Map::new(),
        }
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extensions.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// The response: the status, `Content-Type: application/problem+json` and the document.
    pub fn into_response_with_status(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// The status and problem document of an engine error; also used for each failure of a bulk
/// operation.
fn core_problem(error: &Error) -> Problem {
    let detail = error.to_string();
    match error {
        Error::NotFound { kind } => {
            Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
                .with("object", kind)
        }
        Error::Validation(errors) => validation_problem(errors),
        Error::Conflict(Conflict::StaleVersion { expected, actual }) => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "stale-version",
            "The object has changed",
            detail,
        )
        .with("expected_version", expected)
        .with("current_version", actual),
        Error::Conflict(conflict) => {
            let mut problem = Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                "The request conflicts with the current state",
                detail,
            );
            // The reason and its facts (`cycle`/`path`, `from`/`to`/`why`, ...) as members.
            if let Ok(Value::Object(fields)) = serde_json::to_value(conflict) {
                for (k, v) in fields {
                    problem.extensions.insert(k, v);
                }
            }
            if let Conflict::DependencyCycle { path } | Conflict::SubtaskCycle { path } = conflict {
                problem = problem.with("cycle", path);
            }
            problem
        }
        Error::Forbidden { reason } => Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            reason.clone(),
        ),
        Error::Unauthenticated => Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            "a valid bearer token is required: Authorization: Bearer <token>",
        ),
        Error::Throttled {
            retry_after_seconds,
        } => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            "Too many attempts",
            detail,
        )
        .with("retry_after_seconds", retry_after_seconds),
        Error::Bulk(failures) => {
            let items: Vec<Value> = failures
                .iter()
                .map(|f| {
                    let p = core_problem(&f.error);
                    let mut item = Map::new();
                    item.insert("task".into(), Value::String(f.task.clone()));
                    item.insert("status".into(), Value::from(p.status));
                    item.insert("title".into(), Value::String(p.title));
                    item.insert("detail".into(), Value::String(p.detail));
                    for (k, v) in p.extensions {
                        item.entry(k).or_insert(v);
                    }
                    Value::Object(item)
                })
                .collect();
            let statuses: Vec<StatusCode> =
                failures.iter().map(|f| core_status(&f.error)).collect();
            let status = if statuses.contains(&StatusCode::UNPROCESSABLE_ENTITY) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else if statuses.contains(&StatusCode::NOT_FOUND) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::CONFLICT
            };
            Problem::new(
                status,
                "bulk-failed",
                "Some tasks could not be changed; nothing was applied",
                detail,
            )
            .with("failures", items)
        }
        Error::Store(StoreError::Unavailable(_)) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The store is unavailable",
            "the store cannot be reached; try again later",
        ),
        Error::Store(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the store failed",
        ),
    }
}

fn core_status(error: &Error) -> StatusCode {
    StatusCode::from_u16(core_problem(error).status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A 422 listing every bad field.
pub(crate) fn validation_problem(errors: &[FieldError]) -> Problem {
    let detail = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        "Invalid input",
        detail,
    )
    .with("errors", errors)
}

impl ApiError {
    /// The problem document this error is answered with.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::Core(e) => core_problem(e),
            ApiError::MalformedJson(_) => Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                self.to_string(),
            ),
            ApiError::WrongCredentials => Problem::new(
                StatusCode::UNAUTHORIZED,
                "wrong-credentials",
                "Wrong credentials",
                self.to_string(),
            ),
            ApiError::BadRequest(_) => Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                self.to_string(),
            ),
            ApiError::UnsupportedMediaType => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                self.to_string(),
            ),
            ApiError::PayloadTooLarge { limit } => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
                self.to_string(),
            )
            .with("limit_bytes", limit),
            ApiError::RouteNotFound { .. } => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                self.to_string(),
            ),
            ApiError::MethodNotAllowed { allow } => {
                let p = Problem::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method-not-allowed",
                    "Method not allowed",
                    self.to_string(),
                );
                match allow.as_ref().and_then(|a| a.to_str().ok()) {
                    Some(a) => p.with("allow", a),
                    None => p,
                }
            }
            ApiError::Timeout => Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "Request timeout",
                self.to_string(),
            ),
            ApiError::RateLimited {
                retry_after_seconds,
            } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                self.to_string(),
            )
            .with("retry_after_seconds", retry_after_seconds),
            ApiError::Internal => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the server failed to handle the request",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Core(Error::Store(e)) = &self {
            crate::telemetry::store_error(e);
        }
        let mut response = self.problem().into_response_with_status();
        let headers = response.headers_mut();
        match &self {
            ApiError::Core(Error::Throttled {
                retry_after_seconds,
            })
            | ApiError::RateLimited {
                retry_after_seconds,
            } => {
                headers.insert(RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            ApiError::Core(Error::Unauthenticated) => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::MethodNotAllowed { allow: Some(allow) } => {
                headers.insert(ALLOW, allow.clone());
            }
            _ => {}
        }
        response
    }
}

/// The crate's result type.
pub type ApiResult<T> = Result<T, ApiError>;
