//! Tasks: create, list, read, change, trash and restore, transitions, board moves,
//! dependencies, subtasks, bulk operations and the task's activity.

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use tasklane_core::{
    BulkAction, BulkRequest, BulkSet, Error, FieldError, MoveTask, NewTask, ObjectKind, Store,
    TaskListRequest, TaskPatch, TaskRef,
};

use super::projects::project_id;
use super::workspaces::{activity_page, activity_params};
use super::{created, no_content, object};
use crate::dto::{
    ActivityQuery, BulkBody, DependencyBody, EventDto, ListDto, MoveBody, NewTaskBody, TaskDto,
    TaskListQuery, TaskPatchBody, TransitionRequestBody,
};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, Auth, Base, IfMatch};
use crate::AppState;

/// A task named in a path, by id or key; anything else names no task (404).
pub(crate) fn task_ref(text: &str) -> ApiResult<TaskRef> {
    TaskRef::from_str(text).map_err(|_| Error::not_found(ObjectKind::Task).into())
}

/// `POST /projects/{project}/tasks` → 201 with `Location` and the task (`key` like `ENG-42`).
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/tasks",
    tag = "tasks",
    operation_id = "create_task",
    params(crate::openapi::ProjectPath, crate::openapi::IdempotencyKeyHeader),
    request_body = NewTaskBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The task, with a `key` such as `ENG-42`.", body = TaskDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
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
    Path(project): Path<String>,
    ApiJson(body): ApiJson<NewTaskBody>,
) -> ApiResult<Response> {
    let view = st
        .engine
        .tasks()
        .create(
            &actor,
            project_id(&project)?,
            NewTask {
                title: body.title,
                description: body.description,
                status_id: body.status_id,
                priority: body.priority,
                assignee_ids: body.assignee_ids,
                label_ids: body.label_ids,
                milestone_id: body.milestone_id,
                due_at: body.due_at.map(|t| t.0),
                start_at: body.start_at.map(|t| t.0),
                estimate_seconds: body.estimate_seconds,
                parent_id: body.parent_id,
            },
        )
        .await?;
    Ok(created(
        format!("{base}/tasks/{}", view.task.id),
        view.task.version,
        TaskDto::from(&view),
    ))
}

/// `GET /projects/{project}/tasks?q=&sort=&limit=&cursor=&trashed=` → `{items, next_cursor}`.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{project}/tasks",
    tag = "tasks",
    operation_id = "list_tasks",
    params(crate::openapi::ProjectPath, TaskListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of tasks; `next_cursor` fetches the next.", body = crate::dto::TaskList),
        (status = 404, response = crate::openapi::NotFound),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
    ApiQuery(q): ApiQuery<TaskListQuery>,
) -> ApiResult<Json<ListDto<TaskDto>>> {
    let page = st
        .engine
        .tasks()
        .list(
            &actor,
            project_id(&project)?,
            TaskListRequest {
                q: q.q,
                sort: q.sort,
                cursor: q.cursor,
                limit: q.limit,
                trashed: q.trashed.unwrap_or(false),
            },
        )
        .await?;
    Ok(Json(ListDto {
        items: page.items.iter().map(TaskDto::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `GET /tasks/{task}` (id or key).
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{task}",
    tag = "tasks",
    operation_id = "get_task",
    params(crate::openapi::TaskPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = TaskDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
pub(crate) async fn get<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(task): Path<String>,
) -> ApiResult<Response> {
    let view = st.engine.tasks().get(&actor, &task_ref(&task)?).await?;
    Ok(object(view.task.version, TaskDto::from(&view)))
}

/// `PATCH /tasks/{task}`: absent fields stay, `null` clears a nullable one; honours `If-Match`.
#[utoipa::path(
    patch,
    path = "/api/v1/tasks/{task}",
    tag = "tasks",
    operation_id = "update_task",
    params(crate::openapi::TaskPath, crate::openapi::IfMatchHeader),
    request_body = TaskPatchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = TaskDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
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
    Path(task): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<TaskPatchBody>,
) -> ApiResult<Response> {
    let patch = TaskPatch {
        title: body.title,
        description: body.description,
        status_id: body.status_id,
        priority: body.priority,
        assignee_ids: body.assignee_ids,
        label_ids: body.label_ids,
        milestone_id: body.milestone_id,
        due_at: body.due_at.map(|t| t.map(|t| t.0)),
        start_at: body.start_at.map(|t| t.map(|t| t.0)),
        estimate_seconds: body.estimate_seconds,
        parent_id: body.parent_id,
    };
    let view = st
        .engine
        .tasks()
        .update(&actor, &task_ref(&task)?, patch, version)
        .await?;
    Ok(object(view.task.version, TaskDto::from(&view)))
}

/// `DELETE /tasks/{task}` → 204; the task and its subtasks go to the trash. Honours `If-Match`.
#[utoipa::path(
    delete,
    path = "/api/v1/tasks/{task}",
    tag = "tasks",
    operation_id = "delete_task",
    params(crate::openapi::TaskPath, crate::openapi::IfMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The task and its subtasks are in the trash."),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
pub(crate) async fn delete<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(task): Path<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    st.engine
        .tasks()
        .delete(&actor, &task_ref(&task)?, version)
        .await?;
    Ok(no_content())
}

/// `POST /tasks/{task}/restore` → the restored task.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{task}/restore",
    tag = "tasks",
    operation_id = "restore_task",
    params(crate::openapi::TaskPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = TaskDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
pub(crate) async fn restore<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(task): Path<String>,
) -> ApiResult<Response> {
    let view = st.engine.tasks().restore(&actor, &task_ref(&task)?).await?;
    Ok(object(view.task.version, TaskDto::from(&view)))
}

/// `POST /tasks/{task}/transition` `{status_id}`; 409 with the reason when the workflow
/// forbids it. Honours `If-Match`.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{task}/transition",
    tag = "tasks",
    operation_id = "transition_task",
    params(crate::openapi::TaskPath, crate::openapi::IfMatchHeader),
    request_body = TransitionRequestBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = TaskDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn transition<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(task): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<TransitionRequestBody>,
) -> ApiResult<Response> {
    let view = st
        .engine
        .tasks()
        .transition(&actor, &task_ref(&task)?, body.status_id, version)
        .await?;
    Ok(object(view.task.version, TaskDto::from(&view)))
}

/// `POST /tasks/{task}/move` `{status_id?, before_id?, after_id?}`.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{task}/move",
    tag = "tasks",
    operation_id = "move_task",
    params(crate::openapi::TaskPath),
    request_body = MoveBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The object.", body = TaskDto, headers(("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn move_task<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(task): Path<String>,
    ApiJson(body): ApiJson<MoveBody>,
) -> ApiResult<Response> {
    let view = st
        .engine
        .tasks()
        .move_task(
            &actor,
            &task_ref(&task)?,
            MoveTask {
                status_id: body.status_id,
                before_id: body.before_id,
                after_id: body.after_id,
            },
        )
        .await?;
    Ok(object(view.task.version, TaskDto::from(&view)))
}

/// `POST /tasks/{task}/dependencies` `{blocked_by}` → 201 with the task; 409 naming the cycle.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{task}/dependencies",
    tag = "tasks",
    operation_id = "add_dependency",
    params(crate::openapi::TaskPath, crate::openapi::IdempotencyKeyHeader),
    request_body = DependencyBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The blocked task; `Location` names the dependency.", body = TaskDto, headers(("Location" = String, description = "The URL of the new object."), ("ETag" = String, description = "The version as a strong entity tag, `\"<version>\"`."))),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn add_dependency<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Base(base): Base,
    Path(task): Path<String>,
    ApiJson(body): ApiJson<DependencyBody>,
) -> ApiResult<Response> {
    let blocker =
        TaskRef::from_str(&body.blocked_by).map_err(|m| Error::invalid("blocked_by", m))?;
    let tasks = st.engine.tasks();
    let view = tasks
        .add_dependency(&actor, &task_ref(&task)?, &blocker)
        .await?;
    let blocker_id = match &blocker {
        TaskRef::Id(id) => *id,
        TaskRef::Key { .. } => tasks.get(&actor, &blocker).await?.task.id,
    };
    Ok(created(
        format!("{base}/tasks/{}/dependencies/{blocker_id}", view.task.id),
        view.task.version,
        TaskDto::from(&view),
    ))
}

/// `DELETE /tasks/{task}/dependencies/{blocker}` → 204; honours `If-Match`.
///
/// `If-Match` is compared with the blocked task's version: an edge has no representation of its
/// own (it shows in the task's `blocked_by`, and `POST /tasks/{task}/dependencies` answers with
/// that task and its `ETag`).
#[utoipa::path(
    delete,
    path = "/api/v1/tasks/{task}/dependencies/{blocker}",
    tag = "tasks",
    operation_id = "remove_dependency",
    params(crate::openapi::DependencyPath, crate::openapi::IfMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Done."),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
    )
)]
pub(crate) async fn remove_dependency<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path((task, blocker)): Path<(String, String)>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    let blocker =
        TaskRef::from_str(&blocker).map_err(|_| Error::not_found(ObjectKind::Dependency))?;
    st.engine
        .tasks()
        .remove_dependency(&actor, &task_ref(&task)?, &blocker, version)
        .await?;
    Ok(no_content())
}

/// `GET /tasks/{task}/subtasks`.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{task}/subtasks",
    tag = "tasks",
    operation_id = "list_subtasks",
    params(crate::openapi::TaskPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The list.", body = crate::dto::TaskList),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
pub(crate) async fn subtasks<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(task): Path<String>,
) -> ApiResult<Json<ListDto<TaskDto>>> {
    let items = st
        .engine
        .tasks()
        .subtasks(&actor, &task_ref(&task)?)
        .await?;
    Ok(Json(ListDto::all(
        items.iter().map(TaskDto::from).collect(),
    )))
}

/// `POST /projects/{project}/tasks/bulk` `{task_ids, set}` or `{task_ids, delete: true}`:
/// all or nothing; 200 with the tasks, or 4xx naming each failing task.
#[utoipa::path(
    post,
    path = "/api/v1/projects/{project}/tasks/bulk",
    tag = "tasks",
    operation_id = "bulk_tasks",
    params(crate::openapi::ProjectPath),
    request_body = BulkBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every task changed; on any failure nothing is applied and the problem lists each failing task (`failures`).", body = crate::dto::TaskList),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn bulk<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(project): Path<String>,
    ApiJson(body): ApiJson<BulkBody>,
) -> ApiResult<Json<ListDto<TaskDto>>> {
    let mut errors = Vec::new();
    let mut refs = Vec::with_capacity(body.task_ids.len());
    for (i, text) in body.task_ids.iter().enumerate() {
        match TaskRef::from_str(text) {
            Ok(r) => refs.push(r),
            Err(message) => errors.push(FieldError {
                field: format!("task_ids[{i}]"),
                message,
            }),
        }
    }
    let action = match (body.set, body.delete) {
        (Some(set), None | Some(false)) => Some(BulkAction::Set(BulkSet {
            status_id: set.status_id,
            priority: set.priority,
            assignee_ids: set.assignee_ids,
            add_label_ids: set.add_label_ids,
            remove_label_ids: set.remove_label_ids,
            milestone_id: set.milestone_id,
            due_at: set.due_at.map(|t| t.map(|t| t.0)),
        })),
        (None, Some(true)) => Some(BulkAction::Delete),
        _ => {
            errors.push(FieldError {
                field: "set".into(),
                message: "give either set or delete: true".into(),
            });
            None
        }
    };
    let Some(action) = action.filter(|_| errors.is_empty()) else {
        return Err(Error::Validation(errors).into());
    };
    let items = st
        .engine
        .tasks()
        .bulk(
            &actor,
            project_id(&project)?,
            BulkRequest {
                task_ids: refs,
                action,
            },
        )
        .await?;
    Ok(Json(ListDto::all(
        items.iter().map(TaskDto::from).collect(),
    )))
}

/// `GET /tasks/{task}/activity?since=` → events oldest first (also for a trashed task).
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{task}/activity",
    tag = "tasks",
    operation_id = "task_activity",
    params(crate::openapi::TaskPath, ActivityQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Events, oldest first; `next_cursor` is set when the page is full.", body = crate::dto::EventList),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
pub(crate) async fn activity<S: Store>(
    State(st): State<AppState<S>>,
    Auth(actor): Auth,
    Path(task): Path<String>,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> ApiResult<Json<ListDto<EventDto>>> {
    let (since, limit) = activity_params(&q)?;
    let events = st
        .engine
        .activity()
        .of_task(&actor, &task_ref(&task)?, since, Some(limit))
        .await?;
    Ok(Json(activity_page(events, limit)))
}
