//! Projects, their workflow, statistics, labels, milestones and activity.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use tasklane_core::engine::{
    LabelPatch, MilestonePatch, ProjectPatch, StatusInput, TransitionInput, WorkflowInput,
};
use tasklane_core::{
    LabelId, MilestoneId, NewLabel, NewMilestone, NewProject, ObjectKind, ProjectId, Store,
    WorkspaceId,
};

use super::workspaces::{activity_page, activity_params};
use super::{created, no_content, object};
use crate::dto::{
    ActivityQuery, EventDto, LabelDto, LabelPatchBody, ListDto, MilestoneDto, MilestonePatchBody,
    NewLabelBody, NewMilestoneBody, NewProjectBody, ProjectDto, ProjectPatchBody, StatsDto,
    WorkflowBody, WorkflowDto,
};
use crate::error::ApiResult;
use crate::extract::{path_id, ApiJson, ApiQuery, Auth, Base, IfMatch};
use crate::AppState;

pub(crate) fn project_id(text: &str) -> ApiResult<ProjectId> {
    path_id(text, ObjectKind::Project)
}

/// `POST /workspaces/{ws}/projects` → 201.
#[utoipa::path(
    post,
    path = "/api/v1/workspaces/{ws}/projects",
    tag = "projects",
    operation_id = "create_project",
    params(crate::openapi::WorkspacePath, crate::openapi::IdempotencyKeyHeader),
    request_body = NewProjectBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created.", body = ProjectDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
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
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<NewProjectBody>,
) -> ApiResult<Response> {
    let ws: WorkspaceId = path_id(&ws, ObjectKind::Workspace)?;
    let p = st
        .engine
        .projects()
        .create(
            &actor,
            ws,
            NewProject {
                key: body.key,
                name: body.name,
                description: body.description,
                template_id: body.template_id,
                is_template: body.is_template,
            },
        )
        .await?;
    Ok(created(
        format!("{base}/projects/{}", p.id),
        p.version,
        ProjectDto::from(&p),
    ))
}

/// `GET /workspaces/{ws}/projects`.
#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{ws}/projects",
    tag = "projects",
    operation_id = "list_projects",
    params(crate::openapi::WorkspacePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The list.", body = crate::dto::ProjectList),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(ws): Path<String>,
) -> ApiResult<Json<ListDto<ProjectDto>>> {
    let ws: WorkspaceId = path_id(&ws, ObjectKind::Workspace)?;
    let items = st.engine.projects().list(&actor, ws).await?;
    Ok(Json(ListDto::all(
        items.iter().map(ProjectDto::from).collect(),
    )))
}

/// `GET /projects/{project}`.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}",
    tag = "projects",
    operation_id = "get_project",
    params(crate::openapi::ProjectPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = ProjectDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn get<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
) -> ApiResult<Response> {
    let p = st
        .engine
        .projects()
        .get(&actor, project_id(&project)?)
        .await?;
    Ok(object(p.version, ProjectDto::from(&p)))
}

/// `PATCH /projects/{project}` `{name?, description?, is_template?}`; honours `If-Match`.
#[utoipa::path(
    patch,
    path = "/api/v1/projects/{project}",
    tag = "projects",
    operation_id = "update_project",
    params(crate::openapi::ProjectPath, crate::openapi::IfMatchHeader),
    request_body = ProjectPatchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = ProjectDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn update<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<ProjectPatchBody>,
) -> ApiResult<Response> {
    let p = st
        .engine
        .projects()
        .update(
            &actor,
            project_id(&project)?,
            ProjectPatch {
                name: body.name,
                description: body.description,
                is_template: body.is_template,
            },
            version,
        )
        .await?;
    Ok(object(p.version, ProjectDto::from(&p)))
}

/// `DELETE /projects/{project}` → 204; honours `If-Match`.
#[utoipa::path(
    delete,
    path = "/api/v1/projects/{project}",
    tag = "projects",
    operation_id = "delete_project",
    params(crate::openapi::ProjectPath, crate::openapi::IfMatchHeader),
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
    Path(project): Path<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    st.engine
        .projects()
        .delete(&actor, project_id(&project)?, version)
        .await?;
    Ok(no_content())
}

/// `POST /projects/{project}/archive`.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/archive",
    tag = "projects",
    operation_id = "archive_project",
    params(crate::openapi::ProjectPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The archived project; it refuses writes with 409 until restored.", body = ProjectDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
pub(crate) async fn archive<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
) -> ApiResult<Response> {
    let p = st
        .engine
        .projects()
        .archive(&actor, project_id(&project)?)
        .await?;
    Ok(object(p.version, ProjectDto::from(&p)))
}

/// `POST /projects/{project}/restore`.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/restore",
    tag = "projects",
    operation_id = "restore_project",
    params(crate::openapi::ProjectPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = ProjectDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
pub(crate) async fn restore<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
) -> ApiResult<Response> {
    let p = st
        .engine
        .projects()
        .restore(&actor, project_id(&project)?)
        .await?;
    Ok(object(p.version, ProjectDto::from(&p)))
}

/// `GET /projects/{project}/workflow`.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/workflow",
    tag = "projects",
    operation_id = "get_workflow",
    params(crate::openapi::ProjectPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = WorkflowDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn workflow<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
) -> ApiResult<Response> {
    let w = st
        .engine
        .workflows()
        .get(&actor, project_id(&project)?)
        .await?;
    Ok(object(w.version, WorkflowDto::from(&w)))
}

/// `PUT /projects/{project}/workflow`; honours `If-Match`.
#[utoipa::path(
    put,
    path = "/api/v1/projects/{project}/workflow",
    tag = "projects",
    operation_id = "replace_workflow",
    params(crate::openapi::ProjectPath, crate::openapi::IfMatchHeader),
    request_body = WorkflowBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = WorkflowDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn replace_workflow<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<WorkflowBody>,
) -> ApiResult<Response> {
    let input = WorkflowInput {
        statuses: body
            .statuses
            .into_iter()
            .map(|s| StatusInput {
                id: s.id,
                name: s.name,
                category: s.category,
                color: s.color,
            })
            .collect(),
        transitions: body.transitions.map(|ts| {
            ts.into_iter()
                .map(|t| TransitionInput {
                    from: t.from,
                    to: t.to,
                    roles: t.roles,
                    conditions: t.conditions,
                })
                .collect()
        }),
        mapping: body.mapping.into_iter().map(|m| (m.from, m.to)).collect(),
    };
    let w = st
        .engine
        .workflows()
        .replace(&actor, project_id(&project)?, input, version)
        .await?;
    Ok(object(w.version, WorkflowDto::from(&w)))
}

/// `GET /projects/{project}/stats`.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/stats",
    tag = "projects",
    operation_id = "project_stats",
    params(crate::openapi::ProjectPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts per status and category, overdue tasks, completion ratio.", body = StatsDto),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn stats<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
) -> ApiResult<Json<StatsDto>> {
    let s = st
        .engine
        .projects()
        .stats(&actor, project_id(&project)?)
        .await?;
    Ok(Json(StatsDto::from(&s)))
}

/// `POST /projects/{project}/labels` → 201.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/labels",
    tag = "projects",
    operation_id = "create_label",
    params(crate::openapi::ProjectPath, crate::openapi::IdempotencyKeyHeader),
    request_body = NewLabelBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created.", body = LabelDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn create_label<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Base(base): Base,
    Path(project): Path<String>,
    ApiJson(body): ApiJson<NewLabelBody>,
) -> ApiResult<Response> {
    let l = st
        .engine
        .labels()
        .create(
            &actor,
            project_id(&project)?,
            NewLabel {
                name: body.name,
                color: body.color,
            },
        )
        .await?;
    Ok(created(
        format!("{base}/labels/{}", l.id),
        l.version,
        LabelDto::from(&l),
    ))
}

/// `GET /projects/{project}/labels`.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/labels",
    tag = "projects",
    operation_id = "list_labels",
    params(crate::openapi::ProjectPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The list.", body = crate::dto::LabelList),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn list_labels<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
) -> ApiResult<Json<ListDto<LabelDto>>> {
    let items = st
        .engine
        .labels()
        .list(&actor, project_id(&project)?)
        .await?;
    Ok(Json(ListDto::all(
        items.iter().map(LabelDto::from).collect(),
    )))
}

fn label_id(text: &str) -> ApiResult<LabelId> {
    path_id(text, ObjectKind::Label)
}

/// `GET /labels/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/labels/{id}",
    tag = "projects",
    operation_id = "get_label",
    params(crate::openapi::IdPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = LabelDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn get_label<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let l = st.engine.labels().get(&actor, label_id(&id)?).await?;
    Ok(object(l.version, LabelDto::from(&l)))
}

/// `PATCH /labels/{id}` `{name?, color?}` (`color: null` clears it); honours `If-Match`.
#[utoipa::path(
    patch,
    path = "/api/v1/labels/{id}",
    tag = "projects",
    operation_id = "update_label",
    params(crate::openapi::IdPath, crate::openapi::IfMatchHeader),
    request_body = LabelPatchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = LabelDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn update_label<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<LabelPatchBody>,
) -> ApiResult<Response> {
    let l = st
        .engine
        .labels()
        .update(
            &actor,
            label_id(&id)?,
            LabelPatch {
                name: body.name,
                color: body.color,
            },
            version,
        )
        .await?;
    Ok(object(l.version, LabelDto::from(&l)))
}

/// `DELETE /labels/{id}` → 204; honours `If-Match`.
#[utoipa::path(
    delete,
    path = "/api/v1/labels/{id}",
    tag = "projects",
    operation_id = "delete_label",
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
pub(crate) async fn delete_label<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    st.engine
        .labels()
        .delete(&actor, label_id(&id)?, version)
        .await?;
    Ok(no_content())
}

/// `POST /projects/{project}/milestones` → 201.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/milestones",
    tag = "projects",
    operation_id = "create_milestone",
    params(crate::openapi::ProjectPath, crate::openapi::IdempotencyKeyHeader),
    request_body = NewMilestoneBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created.", body = MilestoneDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn create_milestone<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Base(base): Base,
    Path(project): Path<String>,
    ApiJson(body): ApiJson<NewMilestoneBody>,
) -> ApiResult<Response> {
    let m = st
        .engine
        .milestones()
        .create(
            &actor,
            project_id(&project)?,
            NewMilestone {
                name: body.name,
                due_on: body.due_on.map(|d| d.0),
            },
        )
        .await?;
    Ok(created(
        format!("{base}/milestones/{}", m.milestone.id),
        m.milestone.version,
        MilestoneDto::from(&m),
    ))
}

/// `GET /projects/{project}/milestones`.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/milestones",
    tag = "projects",
    operation_id = "list_milestones",
    params(crate::openapi::ProjectPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The list.", body = crate::dto::MilestoneList),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn list_milestones<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
) -> ApiResult<Json<ListDto<MilestoneDto>>> {
    let items = st
        .engine
        .milestones()
        .list(&actor, project_id(&project)?)
        .await?;
    Ok(Json(ListDto::all(
        items.iter().map(MilestoneDto::from).collect(),
    )))
}

fn milestone_id(text: &str) -> ApiResult<MilestoneId> {
    path_id(text, ObjectKind::Milestone)
}

/// `GET /milestones/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/milestones/{id}",
    tag = "projects",
    operation_id = "get_milestone",
    params(crate::openapi::IdPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = MilestoneDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub(crate) async fn get_milestone<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let m = st
        .engine
        .milestones()
        .get(&actor, milestone_id(&id)?)
        .await?;
    Ok(object(m.milestone.version, MilestoneDto::from(&m)))
}

/// `PATCH /milestones/{id}` `{name?, due_on?, closed?}` (`due_on: null` clears it); honours
/// `If-Match`.
#[utoipa::path(
    patch,
    path = "/api/v1/milestones/{id}",
    tag = "projects",
    operation_id = "update_milestone",
    params(crate::openapi::IdPath, crate::openapi::IfMatchHeader),
    request_body = MilestonePatchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = MilestoneDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn update_milestone<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<MilestonePatchBody>,
) -> ApiResult<Response> {
    let m = st
        .engine
        .milestones()
        .update(
            &actor,
            milestone_id(&id)?,
            MilestonePatch {
                name: body.name,
                due_on: body.due_on.map(|d| d.map(|d| d.0)),
                closed: body.closed,
            },
            version,
        )
        .await?;
    Ok(object(m.milestone.version, MilestoneDto::from(&m)))
}

/// `DELETE /milestones/{id}` → 204; honours `If-Match`.
#[utoipa::path(
    delete,
    path = "/api/v1/milestones/{id}",
    tag = "projects",
    operation_id = "delete_milestone",
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
pub(crate) async fn delete_milestone<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    st.engine
        .milestones()
        .delete(&actor, milestone_id(&id)?, version)
        .await?;
    Ok(no_content())
}

/// `GET /projects/{project}/activity?since=` → events oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/activity",
    tag = "projects",
    operation_id = "project_activity",
    params(crate::openapi::ProjectPath, ActivityQuery),
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
    Path(project): Path<String>,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> ApiResult<Json<ListDto<EventDto>>> {
    let (since, limit) = activity_params(&q)?;
    let events = st
        .engine
        .activity()
        .of_project(&actor, project_id(&project)?, since, Some(limit))
        .await?;
    Ok(Json(activity_page(events, limit)))
}
