//! Comments on tasks.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use tasklane_core::{CommentId, NewComment, ObjectKind, Store};

use super::tasks::task_ref;
use super::{created, no_content, object};
use crate::dto::{CommentDto, CommentPatchBody, ListDto, NewCommentBody};
use crate::error::ApiResult;
use crate::extract::{path_id, ApiJson, Auth, Base, IfMatch};
use crate::AppState;

fn comment_id(text: &str) -> ApiResult<CommentId> {
    path_id(text, ObjectKind::Comment)
}

/// `POST /tasks/{task}/comments` `{body, parent_id?}` → 201 (guests may comment).
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{task}/comments",
    tag = "comments",
    operation_id = "create_comment",
    params(crate::openapi::TaskPath, crate::openapi::IdempotencyKeyHeader),
    request_body = NewCommentBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created.", body = CommentDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn create<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Base(base): Base,
    Path(task): Path<String>,
    ApiJson(body): ApiJson<NewCommentBody>,
) -> ApiResult<Response> {
    let c = st
        .engine
        .comments()
        .create(
            &actor,
            &task_ref(&task)?,
            NewComment {
                body: body.body,
                parent_id: body.parent_id,
            },
        )
        .await?;
    Ok(created(
        format!("{base}/comments/{}", c.id),
        c.version,
        CommentDto::from(&c),
    ))
}

/// `GET /tasks/{task}/comments`, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{task}/comments",
    tag = "comments",
    operation_id = "list_comments",
    params(crate::openapi::TaskPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Comments, oldest first.", body = crate::dto::CommentList),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
pub(crate) async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(task): Path<String>,
) -> ApiResult<Json<ListDto<CommentDto>>> {
    let items = st.engine.comments().list(&actor, &task_ref(&task)?).await?;
    Ok(Json(ListDto::all(
        items.iter().map(CommentDto::from).collect(),
    )))
}

/// `GET /comments/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    operation_id = "get_comment",
    params(crate::openapi::IdPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = CommentDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn get<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = st.engine.comments().get(&actor, comment_id(&id)?).await?;
    Ok(object(c.version, CommentDto::from(&c)))
}

/// `PATCH /comments/{id}` `{body}`: the author (or an admin) only; honours `If-Match`.
#[utoipa::path(
    patch,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    operation_id = "edit_comment",
    params(crate::openapi::IdPath, crate::openapi::IfMatchHeader),
    request_body = CommentPatchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = CommentDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn edit<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<CommentPatchBody>,
) -> ApiResult<Response> {
    let c = st
        .engine
        .comments()
        .edit(&actor, comment_id(&id)?, &body.body, version)
        .await?;
    Ok(object(c.version, CommentDto::from(&c)))
}

/// `DELETE /comments/{id}` → 204; honours `If-Match`.
#[utoipa::path(
    delete,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    operation_id = "delete_comment",
    params(crate::openapi::IdPath, crate::openapi::IfMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Done."),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
pub(crate) async fn delete<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    st.engine
        .comments()
        .delete(&actor, comment_id(&id)?, version)
        .await?;
    Ok(no_content())
}
