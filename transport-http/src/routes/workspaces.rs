//! Workspaces, their members and their activity feed.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use tasklane_core::engine::MemberRef;
use tasklane_core::{Error, ObjectKind, Store, UserId, WorkspaceId};

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
pub(crate) async fn get<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(ws): Path<String>,
) -> ApiResult<Response> {
    let w = st.engine.workspaces().get(&actor, ws_id(&ws)?).await?;
    Ok(object(w.version, WorkspaceDto::new(&w, None)))
}

/// `PATCH /workspaces/{ws}` `{name}`; honours `If-Match`.
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

/// The `since` and `limit` of an activity query.
pub(crate) fn activity_params(q: &ActivityQuery) -> ApiResult<(u64, usize)> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::invalid("limit", "must be between 1 and 200").into());
    }
    Ok((q.cursor.or(q.since).unwrap_or(0), limit))
}

/// `GET /workspaces/{ws}/activity?since=` → events oldest first.
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
