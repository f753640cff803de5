//! Accounts: registration, login, logout, the caller's account and personal tokens.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use tasklane_core::{NewToken, NewUser, ObjectKind, Store, TokenId};

use super::{created, no_content, object};
use crate::dto::{
    ListDto, LoginBody, LoginDto, NewTokenBody, RegisterBody, RegisterDto, TokenDto, UserDto,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{path_id, ApiJson, Auth, Base, ClientAddr, IfMatch};
use crate::AppState;

/// `POST /auth/register` → 201 `{user, token, expires_at}`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "accounts",
    operation_id = "register",
    params(crate::openapi::IdempotencyKeyHeader),
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The account and a session token; `Location` is `/me`. The first user of a fresh server administers it.", body = RegisterDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn register<S: Store>(
    State(st): State<AppState<S>>,
    Base(base): Base,
    ApiJson(body): ApiJson<RegisterBody>,
) -> ApiResult<Response> {
    let (user, token) = st
        .engine
        .accounts()
        .register(NewUser {
            email: body.email,
            password: body.password,
            name: body.name,
        })
        .await?;
    let dto = RegisterDto {
        user: UserDto::from(&user),
        expires_at: token.token.expires_at.map(crate::dto::Rfc3339Time),
        token: token.secret,
    };
    Ok(created(format!("{base}/me"), user.version, dto))
}

/// `POST /auth/login` → 200 `{token, expires_at, user}`; wrong credentials → 401; too many
/// failures for the account or from the address → 429 with `Retry-After`, even with the right
/// password, until the failures leave the window (`HttpConfig::login_throttle`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "accounts",
    operation_id = "login",
    request_body = LoginBody,
    responses(
        (status = 200, description = "A session token.", body = LoginDto),
        (status = 401, description = "Wrong e-mail address or password, or a disabled account.", content_type = "application/problem+json", body = crate::error::Problem),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 429, description = "Too many failed logins for this account or from this address (or too many requests): retry after `Retry-After` seconds.", content_type = "application/problem+json", body = crate::error::Problem,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub(crate) async fn login<S: Store>(
    State(st): State<AppState<S>>,
    ClientAddr(address): ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Response> {
    let throttle = &st.login_throttle;
    if let Some(seconds) = throttle.check(&body.email, address, st.engine.now()) {
        return Err(tasklane_core::Error::Throttled {
            retry_after_seconds: seconds,
        }
        .into());
    }
    let (user, token) = st
        .engine
        .accounts()
        .login(&body.email, &body.password)
        .await
        .map_err(|e| match e {
            tasklane_core::Error::Unauthenticated => {
                throttle.failed(&body.email, address, st.engine.now());
                ApiError::WrongCredentials
            }
            other => other.into(),
        })?;
    throttle.succeeded(&body.email);
    let dto = LoginDto {
        expires_at: token.token.expires_at.map(crate::dto::Rfc3339Time),
        token: token.secret,
        user: UserDto::from(&user),
    };
    Ok(axum::Json(dto).into_response())
}

/// `POST /auth/logout` → 204; the token stops working.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "accounts",
    operation_id = "logout",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token stops working."),
    )
)]
pub(crate) async fn logout<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
) -> ApiResult<Response> {
    st.engine.accounts().logout(&actor).await?;
    Ok(no_content())
}

/// `GET /me` → the caller's account.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    operation_id = "get_me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account.", body = UserDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
    )
)]
pub(crate) async fn me<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
) -> ApiResult<Response> {
    let user = st.engine.accounts().me(&actor).await?;
    Ok(object(user.version, UserDto::from(&user)))
}

/// `POST /me/tokens` → 201 with the secret in `token` (shown once).
#[utoipa::path(
    post,
    path = "/api/v1/me/tokens",
    tag = "accounts",
    operation_id = "create_token",
    params(crate::openapi::IdempotencyKeyHeader),
    request_body = NewTokenBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The token; its secret (`token`) is shown only here.", body = TokenDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn create_token<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Base(base): Base,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> ApiResult<Response> {
    let issued = st
        .engine
        .accounts()
        .create_token(
            &actor,
            NewToken {
                name: body.name,
                scopes: body.scopes,
                expires_at: body.expires_at.map(|t| t.0),
            },
        )
        .await?;
    let location = format!("{base}/me/tokens/{}", issued.token.id);
    Ok(created(
        location,
        issued.token.version,
        TokenDto::from(&issued),
    ))
}

/// `GET /me/tokens` → the caller's working tokens, without secrets.
#[utoipa::path(
    get,
    path = "/api/v1/me/tokens",
    tag = "accounts",
    operation_id = "list_tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's working tokens, without secrets.", body = crate::dto::TokenList),
    )
)]
pub(crate) async fn list_tokens<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
) -> ApiResult<axum::Json<ListDto<TokenDto>>> {
    let tokens = st.engine.accounts().list_tokens(&actor).await?;
    Ok(axum::Json(ListDto::all(
        tokens.iter().map(TokenDto::from).collect(),
    )))
}

/// `DELETE /me/tokens/{id}` → 204; the token stops working. Honours `If-Match`.
///
/// `If-Match` is compared with the token's `version` (its `ETag` at creation, `version` in the
/// list), which also moves when the token's use is recorded (`last_used_at`).
#[utoipa::path(
    delete,
    path = "/api/v1/me/tokens/{id}",
    tag = "accounts",
    operation_id = "revoke_token",
    params(crate::openapi::IdPath, crate::openapi::IfMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token stops working."),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
pub(crate) async fn revoke_token<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    let id: TokenId = path_id(&id, ObjectKind::Token)?;
    st.engine
        .accounts()
        .revoke_token(&actor, id, version)
        .await?;
    Ok(no_content())
}
