//! Extractors whose rejections are problem details: JSON bodies, query strings, the bearer
//! token, `If-Match`, and the path prefix the router is mounted under.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, IF_MATCH};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tasklane_core::{Actor, Error, FieldError, ObjectKind, Store};

use crate::error::ApiError;
use crate::AppState;

/// A JSON request body. Rejections: not JSON → 415, over the limit → 413, not well-formed → 400,
/// unknown, missing or mistyped fields → 422 naming each field.
pub(crate) struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(CONTENT_TYPE)) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let limit = req
            .extensions()
            .get::<crate::layers::BodyLimit>()
            .map(|l| l.0)
            .unwrap_or(0);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::BadRequest(rejection.body_text())
            }
        })?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        // Every request body of the API is an object.
        if !value.is_object() {
            return Err(Error::invalid("body", "must be a JSON object").into());
        }
        from_value(value).map(ApiJson)
    }
}

fn is_json(content_type: Option<&axum::http::HeaderValue>) -> bool {
    let Some(ct) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserializes `value` into `T`, reporting every bad field that can be found: unknown and
/// mistyped fields are removed one by one and deserialization retried, so one request lists them
/// all; the first missing required field ends the search.
pub(crate) fn from_value<T: DeserializeOwned>(mut value: Value) -> Result<T, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(v) if errors.is_empty() => return Ok(v),
            Ok(_) => break,
            Err(e) => {
                let path: Vec<Segment> = e.path().iter().map(Segment::from).collect();
                let (error, remove) = field_error(&path, &e.inner().to_string());
                let repeated = errors.iter().any(|x| x.field == error.field);
                if !repeated {
                    errors.push(error);
                }
                match remove {
                    Some(at) if !repeated && remove_at(&mut value, &at) => continue,
                    _ => break,
                }
            }
        }
    }
    Err(ApiError::Core(Error::Validation(errors)))
}

#[derive(Clone, Debug)]
enum Segment {
    Key(String),
    Index(usize),
    Other,
}

impl From<&serde_path_to_error::Segment> for Segment {
    fn from(s: &serde_path_to_error::Segment) -> Self {
        match s {
            serde_path_to_error::Segment::Map { key } => Segment::Key(key.clone()),
            serde_path_to_error::Segment::Seq { index } => Segment::Index(*index),
            _ => Segment::Other,
        }
    }
}

fn render(path: &[Segment]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Other => {}
        }
    }
    out
}

/// Text between the first pair of backticks.
fn quoted(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// The field error for a serde message at `path`, and the path of the value to remove before
/// trying again (`None`: stop).
fn field_error(path: &[Segment], message: &str) -> (FieldError, Option<Vec<Segment>>) {
    let message = strip_position(message);
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let name = quoted(rest).unwrap_or(rest).to_owned();
        // The path of an unknown field names the field itself or its parent, depending on the
        // deserializer; normalise to the field's own path.
        let mut at = path.to_vec();
        if !matches!(at.last(), Some(Segment::Key(k)) if *k == name) {
            at.push(Segment::Key(name.clone()));
        }
        let expected = rest
            .split_once(", ")
            .map(|(_, e)| format!("; {e}"))
            .unwrap_or_default();
        let error = FieldError {
            field: render(&at),
            message: format!("is not a known field{expected}"),
        };
        return (error, Some(at));
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        let name = quoted(rest).unwrap_or(rest);
        let mut at = path.to_vec();
        at.push(Segment::Key(name.to_owned()));
        let error = FieldError {
            field: render(&at),
            message: "is required".to_owned(),
        };
        return (error, None);
    }
    let field = render(path);
    let error = FieldError {
        field: if field.is_empty() {
            "body".to_owned()
        } else {
            field
        },
        message: message.to_owned(),
    };
    let remove = (!path.is_empty()).then(|| path.to_vec());
    (error, remove)
}

/// serde_json appends " at line L column C" to data errors; it says nothing useful here.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    }
}

/// Removes the object member at `path`; false when `path` does not end in an object key.
fn remove_at(value: &mut Value, path: &[Segment]) -> bool {
    let Some((Segment::Key(last), parents)) = path.split_last() else {
        return false;
    };
    let mut current = value;
    for s in parents {
        current = match (s, current) {
            (Segment::Key(k), Value::Object(m)) => match m.get_mut(k) {
                Some(v) => v,
                None => return false,
            },
            (Segment::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match current {
        Value::Object(m) => m.remove(last).is_some(),
        _ => false,
    }
}

/// A query string; a bad parameter is a 422 naming it.
pub(crate) struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path: Vec<Segment> = e.path().iter().map(Segment::from).collect();
                let (error, _) = field_error(&path, &e.inner().to_string());
                ApiError::Core(Error::Validation(vec![error]))
            })
    }
}

/// The authenticated caller. Missing or bad credentials → 401.
pub(crate) struct Auth(pub Actor);

impl<S: Store> FromRequestParts<AppState<S>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            })
            .ok_or(ApiError::Core(Error::Unauthenticated))?;
        let actor = state.engine.accounts().authenticate(&secret).await?;
        Ok(Auth(actor))
    }
}

/// The version an `If-Match` header names: `None` without the header or with `*`.
///
/// Only one strong entity tag `"<version>"` is understood; anything else (a weak tag, a list, an
/// unquoted number, garbage) is answered with 400, because it can never match an ETag this
/// server sends.
pub(crate) struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let bad = || {
            ApiError::BadRequest(
                "If-Match must be one strong entity tag as sent in ETag, such as \"3\"".to_owned(),
            )
        };
        let text = value.to_str().map_err(|_| bad())?.trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        let inner = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .ok_or_else(bad)?;
        let version = inner.parse::<u64>().map_err(|_| bad())?;
        Ok(IfMatch(Some(version)))
    }
}

/// The absolute path prefix of the API as the client sees it (`/api/v1`, or
/// `/tasklane/api/v1` when an application nests the router), for `Location` headers.
pub(crate) struct Base(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let inner = parts.uri.path().to_owned();
        let original = parts
            .extensions
            .get::<OriginalUri>()
            .map(|o| o.0.path().to_owned())
            .unwrap_or_else(|| inner.clone());
        let prefix = original
            .strip_suffix(inner.as_str())
            .unwrap_or("/api/v1")
            .to_owned();
        Ok(Base(prefix))
    }
}

/// Parses a path id; a malformed one names no object, so it is a 404 of `kind`.
pub(crate) fn path_id<T: FromStr>(text: &str, kind: ObjectKind) -> Result<T, ApiError> {
    T::from_str(text).map_err(|_| ApiError::Core(Error::not_found(kind)))
}

/// The client's address, from `ConnectInfo<SocketAddr>` (`None` when the server does not provide
/// it).
pub(crate) struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
