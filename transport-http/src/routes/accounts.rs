//! Accounts: registration, login, logout, the caller's account and personal tokens.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use tasklane_core::{NewToken, NewUser, ObjectKind, Store, TokenId};

use super::{created, no_content, object};
use crate::dto::{
    ListDto, LoginBody, LoginDto, NewTokenBody, RegisterBody, RegisterDto, TokenDto, UserDto,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{path_id, ApiJson, Auth, Base};
use crate::AppState;

/// `POST /auth/register` → 201 `{user, token, expires_at}`.
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

/// `POST /auth/login` → 200 `{token, expires_at, user}`; wrong credentials → 401.
pub(crate) async fn login<S: Store>(
    State(st): State<AppState<S>>,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Response> {
    let (user, token) = st
        .engine
        .accounts()
        .login(&body.email, &body.password)
        .await
        .map_err(|e| match e {
            tasklane_core::Error::Unauthenticated => ApiError::WrongCredentials,
            other => other.into(),
        })?;
    let dto = LoginDto {
        expires_at: token.token.expires_at.map(crate::dto::Rfc3339Time),
        token: token.secret,
        user: UserDto::from(&user),
    };
    Ok(axum::Json(dto).into_response())
}

/// `POST /auth/logout` → 204; the token stops working.
pub(crate) async fn logout<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
) -> ApiResult<Response> {
    st.engine.accounts().logout(&actor).await?;
    Ok(no_content())
}

/// `GET /me` → the caller's account.
pub(crate) async fn me<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
) -> ApiResult<Response> {
    let user = st.engine.accounts().me(&actor).await?;
    Ok(object(user.version, UserDto::from(&user)))
}

/// `POST /me/tokens` → 201 with the secret in `token` (shown once).
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
pub(crate) async fn list_tokens<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
) -> ApiResult<axum::Json<ListDto<TokenDto>>> {
    let tokens = st.engine.accounts().list_tokens(&actor).await?;
    Ok(axum::Json(ListDto::all(
        tokens.iter().map(TokenDto::from).collect(),
    )))
}

/// `DELETE /me/tokens/{id}` → 204; the token stops working.
pub(crate) async fn revoke_token<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id: TokenId = path_id(&id, ObjectKind::Token)?;
    st.engine.accounts().revoke_token(&actor, id).await?;
    Ok(no_content())
}
