//! Workspaces, their members and their activity feed.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use tasklane_core::engine::MemberRef;
use tasklane_core::{Error, FieldError, ObjectKind, Store, UserId, WorkspaceId};

use super::{created, no_content, object};
use crate::dto::{
    ActivityQuery, AddMemberBody, EventDto, ListDto, MemberDto, MemberPatchBody, WorkspaceBody,
    WorkspaceDto,
};
use crate::error::ApiResult;
use crate::extract::{path_id, ApiJson, ApiQuery, Auth, Base, IfMatch};
use crate::AppState;

fn ws_id(text: &str) -> ApiResult<WorkspaceId> {
    path_id(text, ObjectKind::Workspace)
}

/// `POST /workspaces` → 201; the creator is its owner.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces",
    tag = "workspaces",
    operation_id = "create_workspace",
    params(crate::openapi::IdempotencyKeyHeader),
    request_body = WorkspaceBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The workspace; the caller owns it.", body = WorkspaceDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn create<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Base(base): Base,
    ApiJson(body): ApiJson<WorkspaceBody>,
) -> ApiResult<Response> {
    let w = st.engine.workspaces().create(&actor, &body.name).await?;
    Ok(created(
        format!("{base}/workspaces/{}", w.id),
        w.version,
        WorkspaceDto::new(&w, Some(tasklane_core::Role::Owner)),
    ))
}

/// `GET /workspaces` → the caller's workspaces with their role.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces",
    tag = "workspaces",
    operation_id = "list_workspaces",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's workspaces with the caller's role.", body = crate::dto::WorkspaceList),
    )
)]
pub(crate) async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
) -> ApiResult<Json<ListDto<WorkspaceDto>>> {
    let items = st.engine.workspaces().list(&actor).await?;
    Ok(Json(ListDto::all(
        items
            .iter()
            .map(|(w, role)| WorkspaceDto::new(w, Some(*role)))
            .collect(),
    )))
}

/// `GET /workspaces/{ws}`.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{ws}",
    tag = "workspaces",
    operation_id = "get_workspace",
    params(crate::openapi::WorkspacePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = WorkspaceDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn get<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(ws): Path<String>,
) -> ApiResult<Response> {
    let w = st.engine.workspaces().get(&actor, ws_id(&ws)?).await?;
    Ok(object(w.version, WorkspaceDto::new(&w, None)))
}

/// `PATCH /workspaces/{ws}` `{name}`; honours `If-Match`.
#[utoipa::path(
    patch,
    path = "/api/v1/workspaces/{ws}",
    tag = "workspaces",
    operation_id = "rename_workspace",
    params(crate::openapi::WorkspacePath, crate::openapi::IfMatchHeader),
    request_body = WorkspaceBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = WorkspaceDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn rename<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(ws): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<WorkspaceBody>,
) -> ApiResult<Response> {
    let w = st
        .engine
        .workspaces()
        .rename(&actor, ws_id(&ws)?, &body.name, version)
        .await?;
    Ok(object(w.version, WorkspaceDto::new(&w, None)))
}

/// `GET /workspaces/{ws}/members`.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{ws}/members",
    tag = "workspaces",
    operation_id = "list_members",
    params(crate::openapi::WorkspacePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The list.", body = crate::dto::MemberList),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn members<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(ws): Path<String>,
) -> ApiResult<Json<ListDto<MemberDto>>> {
    let members = st.engine.workspaces().members(&actor, ws_id(&ws)?).await?;
    Ok(Json(ListDto::all(
        members.iter().map(MemberDto::from).collect(),
    )))
}

/// `POST /workspaces/{ws}/members` `{email or user_id, role}` → 201.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{ws}/members",
    tag = "workspaces",
    operation_id = "add_member",
    params(crate::openapi::WorkspacePath, crate::openapi::IdempotencyKeyHeader),
    request_body = AddMemberBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created.", body = MemberDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn add_member<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Base(base): Base,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<AddMemberBody>,
) -> ApiResult<Response> {
    let id = ws_id(&ws)?;
    let who = match (body.email, body.user_id) {
        (Some(email), None) => MemberRef::Email(email),
        (None, Some(user)) => MemberRef::Id(user),
        _ => return Err(Error::invalid("email", "give exactly one of email and user_id").into()),
    };
    let view = st
        .engine
        .workspaces()
        .add_member(&actor, id, who, body.role)
        .await?;
    Ok(created(
        format!("{base}/workspaces/{id}/members/{}", view.user.id),
        view.membership.version,
        MemberDto::from(&view),
    ))
}

/// `PATCH /workspaces/{ws}/members/{user}` `{role}`; honours `If-Match`.
#[utoipa::path(
    patch,
    path = "/api/v1/workspaces/{ws}/members/{user}",
    tag = "workspaces",
    operation_id = "change_member_role",
    params(crate::openapi::MemberPath, crate::openapi::IfMatchHeader),
    request_body = MemberPatchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = MemberDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn change_role<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path((ws, user)): Path<(String, String)>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<MemberPatchBody>,
) -> ApiResult<Response> {
    let id = ws_id(&ws)?;
    let user: UserId = path_id(&user, ObjectKind::Membership)?;
    let workspaces = st.engine.workspaces();
    let membership = workspaces
        .change_role(&actor, id, user, body.role, version)
        .await?;
    let members = workspaces.members(&actor, id).await?;
    let view = members
        .iter()
        .find(|m| m.user.id == user)
        .ok_or(Error::not_found(ObjectKind::Membership))?;
    Ok(object(
        membership.version,
        MemberDto::new(&membership, &view.user),
    ))
}

/// `DELETE /workspaces/{ws}/members/{user}` → 204; honours `If-Match`.
#[utoipa::path(
    delete,
    path = "/api/v1/workspaces/{ws}/members/{user}",
    tag = "workspaces",
    operation_id = "remove_member",
    params(crate::openapi::MemberPath, crate::openapi::IfMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Done."),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
pub(crate) async fn remove_member<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path((ws, user)): Path<(String, String)>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    let id = ws_id(&ws)?;
    let user: UserId = path_id(&user, ObjectKind::Membership)?;
    st.engine
        .workspaces()
        .remove_member(&actor, id, user, version)
        .await?;
    Ok(no_content())
}

/// The page size of an activity feed (default 50, at most 200), and the list with its cursor.
pub(crate) fn activity_page(
    events: Vec<tasklane_core::event::Event>,
    limit: usize,
) -> ListDto<EventDto> {
    let next_cursor = if events.len() >= limit {
        events.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    ListDto {
        items: events.iter().map(EventDto::from).collect(),
        next_cursor,
    }
}

/// The `since` and `limit` of an activity query. `since` and `cursor` are documented as
/// `int64`: a larger number is refused (422) rather than read as a `u64`.
pub(crate) fn activity_params(q: &ActivityQuery) -> ApiResult<(u64, usize)> {
    let mut errors = Vec::new();
    for (field, value) in [("since", q.since), ("cursor", q.cursor)] {
        if value.is_some_and(|v| i64::try_from(v).is_err()) {
            errors.push(FieldError {
                field: field.to_owned(),
                message: format!("must be between 0 and {}", i64::MAX),
            });
        }
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        errors.push(FieldError {
            field: "limit".to_owned(),
            message: "must be between 1 and 200".to_owned(),
        });
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors).into());
    }
    Ok((q.cursor.or(q.since).unwrap_or(0), limit))
}

/// `GET /workspaces/{ws}/activity?since=` → events oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{ws}/activity",
    tag = "workspaces",
    operation_id = "workspace_activity",
    params(crate::openapi::WorkspacePath, ActivityQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Events, oldest first; `next_cursor` is set when the page is full.", body = crate::dto::EventList),
        (status = 404, response = crate::openapi::NotFound),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn activity<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(ws): Path<String>,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> ApiResult<Json<ListDto<EventDto>>> {
    let (since, limit) = activity_params(&q)?;
    let events = st
        .engine
        .activity()
        .of_workspace(&actor, ws_id(&ws)?, since, Some(limit))
        .await?;
    Ok(Json(activity_page(events, limit)))
}
