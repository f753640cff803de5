//! Tasks: creation with per-project numbers, edits with field-level history, workflow
//! transitions, board moves, the trash, subtasks, dependencies, lists and bulk operations.

mod bulk;
mod graph;
pub(crate) mod resolve;

pub use bulk::{BulkAction, BulkRequest, BulkSet};

use std::collections::HashMap;
use std::str::FromStr;

use time::OffsetDateTime;

use super::access::Need;
use super::workflows::follow_category;
use super::{check_version, decode_cursor, encode_cursor, page_size, Actor, Engine, Page};
use crate::error::{Conflict, Error, ObjectKind, Result, Validation};
use crate::event::{EventKind, FieldChange};
use crate::ids::{LabelId, MilestoneId, ProjectId, StatusId, TaskId, UserId};
use crate::model::{
    Membership, Priority, Project, Role, StatusCategory, Task, TransitionCondition, Workflow,
};
use crate::position::key_between;
use crate::query::{parse, SortField, TaskCursor, TaskFilter, TaskQuery, TaskScope, TaskSort};
use crate::store::{Commit, Record, Store};
use resolve::ResolutionContext;

/// Names a task: by id, or by key (`ENG-42`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TaskRef {
    /// By id.
    Id(TaskId),
    /// By project key and number.
    Key {
        /// The project key, upper case.
        project_key: String,
        /// The number.
        number: u64,
    },
}

impl FromStr for TaskRef {
    type Err = String;

    /// Parses a UUID or a key like `ENG-42` (the key part is case-insensitive); errors with a
    /// sentence otherwise.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        if let Ok(id) = TaskId::from_str(s) {
            return Ok(TaskRef::Id(id));
        }
        let bad = || format!("'{s}' is neither a task id nor a key such as ENG-42");
        let (key, number) = s.rsplit_once('-').ok_or_else(bad)?;
        let number: u64 = number.parse().map_err(|_| bad())?;
        let key = super::projects::normalize_key(key).map_err(|_| bad())?;
        Ok(TaskRef::Key {
            project_key: key,
            number,
        })
    }
}

impl From<TaskId> for TaskRef {
    fn from(id: TaskId) -> Self {
        TaskRef::Id(id)
    }
}

impl std::fmt::Display for TaskRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskRef::Id(id) => write!(f, "{id}"),
            TaskRef::Key {
                project_key,
                number,
            } => write!(f, "{project_key}-{number}"),
        }
    }
}

/// A task as callers see it: the record, its key and its open blockers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskView {
    /// The task.
    pub task: Task,
    /// Its key, `ENG-42`.
    pub key: String,
    /// Tasks blocking it that are neither closed nor in the trash.
    pub blocked_by: Vec<TaskId>,
}

/// A new task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewTask {
    /// 1–500 characters.
    pub title: String,
    /// Markdown, up to 100 KB.
    pub description: Option<String>,
    /// A status of the project's workflow; the workflow's initial status when absent.
    pub status_id: Option<StatusId>,
    /// Priority; none when absent.
    pub priority: Option<Priority>,
    /// Members of the workspace.
    pub assignee_ids: Vec<UserId>,
    /// Labels of the project.
    pub label_ids: Vec<LabelId>,
    /// A milestone of the project.
    pub milestone_id: Option<MilestoneId>,
    /// Due instant.
    pub due_at: Option<OffsetDateTime>,
    /// Start instant; not after `due_at`.
    pub start_at: Option<OffsetDateTime>,
    /// Estimate in seconds, at most ten years.
    pub estimate_seconds: Option<u64>,
    /// A task of the same project, making this a subtask.
    pub parent_id: Option<TaskId>,
}

/// Changes to a task. `None` leaves a field alone; for nullable fields `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskPatch {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New status (checked against the workflow's transitions).
    pub status_id: Option<StatusId>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New assignees (replacing).
    pub assignee_ids: Option<Vec<UserId>>,
    /// New labels (replacing).
    pub label_ids: Option<Vec<LabelId>>,
    /// New or no milestone.
    pub milestone_id: Option<Option<MilestoneId>>,
    /// New or no due instant.
    pub due_at: Option<Option<OffsetDateTime>>,
    /// New or no start instant.
    pub start_at: Option<Option<OffsetDateTime>>,
    /// New or no estimate.
    pub estimate_seconds: Option<Option<u64>>,
    /// New or no parent.
    pub parent_id: Option<Option<TaskId>>,
}

/// A board move: into a status column (optionally) and between two neighbours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MoveTask {
    /// The column; the task's current status when absent.
    pub status_id: Option<StatusId>,
    /// Place the task just above this one.
    pub before_id: Option<TaskId>,
    /// Place the task just below this one.
    pub after_id: Option<TaskId>,
}

/// A request for a page of a project's tasks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskListRequest {
    /// A filter in the filter language.
    pub q: Option<String>,
    /// A sort order such as `-updated`; creation order when absent.
    pub sort: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<usize>,
    /// List the trash instead.
    pub trashed: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ListCursor {
    sort: TaskSort,
    at: TaskCursor,
}

pub(crate) const MAX_TITLE_CHARS: usize = 500;
pub(crate) const MAX_DESCRIPTION_BYTES: usize = 100 * 1024;
const MAX_ESTIMATE_SECONDS: u64 = 10 * 365 * 24 * 3600;
const MAX_ASSIGNEES: usize = 50;
const MAX_LABELS: usize = 50;

/// The position a new task numbered `number` takes: after every earlier new task.
fn position_for_number(number: u64) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut digits = [b'0'; 11];
    let mut n = number;
    for slot in digits.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    let mut key = String::from("a");
    key.push_str(std::str::from_utf8(&digits).unwrap_or("0"));
    // Keys never end in '0' so that a key between two of them always exists.
    key.push('V');
    key
}

/// What validating task fields needs to know about the project.
pub(crate) struct TaskContext {
    pub project: Project,
    pub workflow: Workflow,
    pub members: Vec<UserId>,
    pub labels: Vec<LabelId>,
    pub milestones: Vec<MilestoneId>,
    pub role: Role,
}

/// Which lists a [`TaskContext`] must load: a change that names no assignee, label or
/// milestone does not read the workspace's members or the project's labels and milestones.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ContextNeeds {
    pub members: bool,
    pub labels: bool,
    pub milestones: bool,
}

fn dedup<T: PartialEq + Copy>(items: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(i) {
            out.push(*i);
        }
    }
    out
}

impl TaskContext {
    fn check_title(&self, v: &mut Validation, title: &str) {
        v.reject_nul("title", title);
        if !crate::error::fits(title, MAX_TITLE_CHARS) {
            v.add(
                "title",
                format!("must be 1 to {MAX_TITLE_CHARS} characters long"),
            );
        }
    }

    fn check_description(&self, v: &mut Validation, description: &str) {
        v.reject_nul("description", description);
        if description.len() > MAX_DESCRIPTION_BYTES {
            v.add("description", "must be at most 100 KB");
        }
    }

    fn check_assignees(&self, v: &mut Validation, ids: &[UserId]) {
        if ids.len() > MAX_ASSIGNEES {
            v.add("assignee_ids", format!("at most {MAX_ASSIGNEES} assignees"));
        }
        for (i, id) in ids.iter().enumerate() {
            if !self.members.contains(id) {
                v.add(
                    format!("assignee_ids[{i}]"),
                    "is not a member of this workspace",
                );
            }
        }
    }

    fn check_labels(&self, v: &mut Validation, field: &str, ids: &[LabelId]) {
        if ids.len() > MAX_LABELS {
            v.add(field, format!("at most {MAX_LABELS} labels"));
        }
        for (i, id) in ids.iter().enumerate() {
            if !self.labels.contains(id) {
                v.add(format!("{field}[{i}]"), "is not a label of this project");
            }
        }
    }

    fn check_milestone(&self, v: &mut Validation, id: Option<MilestoneId>) {
        if let Some(id) = id {
            if !self.milestones.contains(&id) {
                v.add("milestone_id", "is not a milestone of this project");
            }
        }
    }

    fn check_status(&self, v: &mut Validation, id: StatusId) {
        if self.workflow.status(id).is_none() {
            v.add("status_id", "is not a status of this project's workflow");
        }
    }

    fn check_dates(
        &self,
        v: &mut Validation,
        start: Option<OffsetDateTime>,
        due: Option<OffsetDateTime>,
    ) {
        if let (Some(s), Some(d)) = (start, due) {
            if s > d {
                v.add("start_at", "must not be after due_at");
            }
        }
    }

    fn check_estimate(&self, v: &mut Validation, estimate: Option<u64>) {
        if estimate.is_some_and(|e| e > MAX_ESTIMATE_SECONDS) {
            v.add("estimate_seconds", "must be at most ten years");
        }
    }

    fn category(&self, status: StatusId) -> StatusCategory {
        self.workflow
            .status(status)
            .map(|s| s.category)
            .unwrap_or(StatusCategory::Unstarted)
    }
}

/// The field-level differences between two versions of a task, for `task_updated` events.
pub(crate) fn task_changes(old: &Task, new: &Task) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    macro_rules! field {
        ($name:ident) => {
            if old.$name != new.$name {
                changes.push(FieldChange::new(stringify!($name), &old.$name, &new.$name));
            }
        };
    }
    field!(title);
    field!(description);
    field!(priority);
    field!(assignee_ids);
    field!(label_ids);
    field!(milestone_id);
    if old.due_at != new.due_at {
        changes.push(FieldChange::new(
            "due_at",
            old.due_at.map(rfc3339),
            new.due_at.map(rfc3339),
        ));
    }
    if old.start_at != new.start_at {
        changes.push(FieldChange::new(
            "start_at",
            old.start_at.map(rfc3339),
            new.start_at.map(rfc3339),
        ));
    }
    field!(estimate_seconds);
    field!(parent_id);
    changes
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl<S: Store> Engine<S> {
    /// Finds a task by reference if the actor may see it and do `need` to it.
    ///
    /// Errors: unknown, invisible, in a deleted project, or in the trash (unless
    /// `allow_trashed`) → not found; a role too weak → forbidden; an archived project on a write
    /// → conflict.
    pub(crate) async fn find_task(
        &self,
        actor: &Actor,
        reference: &TaskRef,
        need: Need,
        allow_trashed: bool,
    ) -> Result<(Task, Project, Membership)> {
        let store = self.store();
        let not_found = || Error::not_found(ObjectKind::Task);
        let task = match reference {
            TaskRef::Id(id) => store.task(*id).await?,
            TaskRef::Key {
                project_key,
                number,
            } => {
                // Keys are unique within a workspace only: look in every visible project with
                // the key. A key that names tasks in two of the caller's workspaces is refused
                // rather than guessed (the id is unambiguous).
                let mut found: Option<Task> = None;
                for p in store.projects_by_key(project_key).await? {
                    if p.deleted_at.is_some()
                        || store
                            .membership(p.workspace_id, actor.user_id)
                            .await?
                            .is_none()
                    {
                        continue;
                    }
                    let Some(task) = store.task_by_number(p.id, *number).await? else {
                        continue;
                    };
                    if task.deleted_at.is_some() && !allow_trashed {
                        continue;
                    }
                    if found.is_some() {
                        return Err(Error::rule(
                            "ambiguous_key",
                            format!(
                                "{project_key}-{number} names tasks in several of your \
                                 workspaces; use the task's id"
                            ),
                        ));
                    }
                    found = Some(task);
                }
                found
            }
        }
        .ok_or_else(not_found)?;
        if task.deleted_at.is_some() && !allow_trashed {
            return Err(not_found());
        }
        let (project, membership) = self.project_for(actor, task.project_id, need).await?;
        Ok((task, project, membership))
    }

    /// Loads what validating a task change needs: always the workflow; the workspace's members,
    /// the project's labels and milestones only when `needs` says the change names them.
    pub(crate) async fn task_context(
        &self,
        project: Project,
        role: Role,
        needs: ContextNeeds,
    ) -> Result<TaskContext> {
        let store = self.store();
        let workflow = store
            .workflow(project.id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Workflow))?;
        let members = if needs.members {
            store
                .members_of_workspace(project.workspace_id)
                .await?
                .iter()
                .map(|m| m.user_id)
                .collect()
        } else {
            Vec::new()
        };
        let labels = if needs.labels {
            store
                .labels_of_project(project.id)
                .await?
                .iter()
                .map(|l| l.id)
                .collect()
        } else {
            Vec::new()
        };
        let milestones = if needs.milestones {
            store
                .milestones_of_project(project.id)
                .await?
                .iter()
                .map(|m| m.id)
                .collect()
        } else {
            Vec::new()
        };
        Ok(TaskContext {
            project,
            workflow,
            members,
            labels,
            milestones,
            role,
        })
    }

    /// Whether `task` is open: not in the trash, its project not deleted, and its status not
    /// closed. `workflows` caches each project's workflow (`None`: the project is deleted).
    pub(crate) async fn is_open(
        &self,
        task: &Task,
        workflows: &mut HashMap<ProjectId, Option<Workflow>>,
    ) -> Result<bool> {
        if task.deleted_at.is_some() {
            return Ok(false);
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = workflows.entry(task.project_id) {
            let live = self
                .store()
                .project(task.project_id)
                .await?
                .is_some_and(|p| p.deleted_at.is_none());
            let flow = if live {
                self.store().workflow(task.project_id).await?
            } else {
                None
            };
            slot.insert(flow);
        }
        Ok(match workflows.get(&task.project_id) {
            Some(Some(flow)) => flow
                .status(task.status_id)
                .is_none_or(|s| !s.category.is_closed()),
            _ => false,
        })
    }

    /// The open blockers of `task`.
    pub(crate) async fn open_blockers(
        &self,
        task: TaskId,
        workflows: &mut HashMap<ProjectId, Option<Workflow>>,
    ) -> Result<Vec<Task>> {
        let mut out = Vec::new();
        for dep in self.store().blockers_of(task).await? {
            if let Some(blocker) = self.store().task(dep.blocker_id).await? {
                if self.is_open(&blocker, workflows).await? {
                    out.push(blocker);
                }
            }
        }
        Ok(out)
    }

    /// The open blockers of each of `tasks`, read with one read of the edges; each blocker is
    /// looked at once.
    pub(crate) async fn open_blockers_of_tasks(
        &self,
        tasks: &[TaskId],
    ) -> Result<HashMap<TaskId, Vec<TaskId>>> {
        let edges = self.store().blockers_of_tasks(tasks).await?;
        self.open_blockers_of_edges(edges).await
    }

    /// For each blocked task of `edges`, its blockers that are still open, in edge order.
    async fn open_blockers_of_edges(
        &self,
        edges: Vec<crate::model::Dependency>,
    ) -> Result<HashMap<TaskId, Vec<TaskId>>> {
        let store = self.store();
        let mut workflows = HashMap::new();
        let mut open: HashMap<TaskId, bool> = HashMap::new();
        let mut blocked: HashMap<TaskId, Vec<TaskId>> = HashMap::new();
        for edge in edges {
            let is_open = match open.get(&edge.blocker_id) {
                Some(known) => *known,
                None => {
                    let known = match store.task(edge.blocker_id).await? {
                        Some(blocker) => self.is_open(&blocker, &mut workflows).await?,
                        None => false,
                    };
                    open.insert(edge.blocker_id, known);
                    known
                }
            };
            if is_open {
                blocked
                    .entry(edge.task_id)
                    .or_default()
                    .push(edge.blocker_id);
            }
        }
        Ok(blocked)
    }

    pub(crate) async fn view(&self, task: Task, project: &Project) -> Result<TaskView> {
        let edges = self.store().blockers_of(task.id).await?;
        self.view_with_edges(task, project, edges).await
    }

    /// [`Self::view`] with the task's blocker edges already read.
    pub(crate) async fn view_with_edges(
        &self,
        task: Task,
        project: &Project,
        edges: Vec<crate::model::Dependency>,
    ) -> Result<TaskView> {
        let blocked_by = self
            .open_blockers_of_edges(edges)
            .await?
            .remove(&task.id)
            .unwrap_or_default();
        Ok(TaskView {
            key: task.key(&project.key),
            task,
            blocked_by,
        })
    }

    /// The key of a task, looking up its project.
    pub(crate) async fn key_of(&self, task: &Task) -> Result<String> {
        Ok(match self.store().project(task.project_id).await? {
            Some(p) => task.key(&p.key),
            None => task.id.to_string(),
        })
    }

    /// Checks that the workflow lets `role` move `task` to `to`.
    ///
    /// Errors: a forbidden move → conflict naming the statuses and the reason.
    pub(crate) async fn check_transition(
        &self,
        ctx: &TaskContext,
        task: &Task,
        to: StatusId,
    ) -> Result<()> {
        if task.status_id == to {
            return Ok(());
        }
        let name = |id: StatusId| {
            ctx.workflow
                .status(id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let refuse = |why: String| {
            Err(Error::Conflict(Conflict::TransitionNotAllowed {
                from: name(task.status_id),
                to: name(to),
                why,
            }))
        };
        let Some(transitions) = &ctx.workflow.transitions else {
            return Ok(());
        };
        let Some(transition) = transitions
            .iter()
            .find(|t| t.from == task.status_id && t.to == to)
        else {
            return refuse("the workflow has no such transition".to_owned());
        };
        // Owners may make every move; other roles must be listed.
        if !transition.roles.is_empty()
            && ctx.role != Role::Owner
            && !transition.roles.contains(&ctx.role)
        {
            let roles: Vec<&str> = transition.roles.iter().map(Role::as_str).collect();
            return refuse(format!(
                "only {} may make this move, and you are {}",
                roles.join(", "),
                ctx.role
            ));
        }
        for condition in &transition.conditions {
            match condition {
                TransitionCondition::HasAssignee => {
                    if task.assignee_ids.is_empty() {
                        return refuse("the task has no assignee".to_owned());
                    }
                }
                TransitionCondition::NoOpenBlockers => {
                    let mut flows = HashMap::new();
                    let open = self.open_blockers(task.id, &mut flows).await?;
                    if !open.is_empty() {
                        let mut keys = Vec::new();
                        for t in &open {
                            keys.push(self.key_of(t).await?);
                        }
                        return refuse(format!("blocked by {}", keys.join(", ")));
                    }
                }
                TransitionCondition::AllSubtasksDone => {
                    let mut flows = HashMap::new();
                    flows.insert(ctx.workflow.project_id, Some(ctx.workflow.clone()));
                    let mut open = Vec::new();
                    for child in self.store().subtasks(task.id).await? {
                        if self.is_open(&child, &mut flows).await? {
                            open.push(child.key(&ctx.project.key));
                        }
                    }
                    if !open.is_empty() {
                        return refuse(format!("subtasks still open: {}", open.join(", ")));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Task operations.
pub struct Tasks<'e, S> {
    pub(crate) engine: &'e Engine<S>,
}

impl<S: Store> Tasks<'_, S> {
    /// Creates a task in a project (members and above); it gets the project's next number.
    ///
    /// Errors: invalid fields → validation, every one; project not visible → not found; guest
    /// or read-only → forbidden; archived project or too deep a subtask → conflict.
    pub async fn create(
        &self,
        actor: &Actor,
        project: ProjectId,
        new: NewTask,
    ) -> Result<TaskView> {
        self.engine
            .retrying(|| self.create_once(actor, project, &new))
            .await
    }

    async fn create_once(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        new: &NewTask,
    ) -> Result<TaskView> {
        let engine = self.engine;
        let (project, membership) = engine.project_for(actor, project_id, Need::Work).await?;
        let needs = ContextNeeds {
            members: !new.assignee_ids.is_empty(),
            labels: !new.label_ids.is_empty(),
            milestones: new.milestone_id.is_some(),
        };
        let ctx = engine.task_context(project, membership.role, needs).await?;
        let mut v = Validation::new();
        ctx.check_title(&mut v, &new.title);
        let description = new.description.clone().unwrap_or_default();
        ctx.check_description(&mut v, &description);
        let status_id = match new.status_id {
            Some(s) => {
                ctx.check_status(&mut v, s);
                s
            }
            None => ctx
                .workflow
                .initial_status()
                .map(|s| s.id)
                .ok_or_else(|| Error::rule("empty_workflow", "the workflow has no status"))?,
        };
        ctx.check_assignees(&mut v, &new.assignee_ids);
        ctx.check_labels(&mut v, "label_ids", &new.label_ids);
        ctx.check_milestone(&mut v, new.milestone_id);
        ctx.check_dates(&mut v, new.start_at, new.due_at);
        ctx.check_estimate(&mut v, new.estimate_seconds);
        let store = engine.store();
        if let Some(parent) = new.parent_id {
            match store.task(parent).await? {
                Some(p) if p.project_id == project_id && p.deleted_at.is_none() => {}
                _ => v.add("parent_id", "is not a task of this project"),
            }
        }
        v.finish()?;
        if let Some(parent) = new.parent_id {
            let level = graph::level_of(engine, parent).await? + 1;
            if level > engine.config().max_subtask_depth {
                return Err(Error::Conflict(Conflict::SubtaskTooDeep {
                    max_depth: engine.config().max_subtask_depth,
                }));
            }
        }
        let number = store
            .next_task_number(project_id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Project))?;
        let now = engine.now();
        let mut task = Task {
            id: TaskId(engine.new_uuid()),
            workspace_id: ctx.project.workspace_id,
            project_id,
            number,
            title: new.title.trim().to_owned(),
            description,
            status_id,
            priority: new.priority.unwrap_or_default(),
            assignee_ids: dedup(&new.assignee_ids),
            reporter_id: actor.user_id,
            label_ids: dedup(&new.label_ids),
            milestone_id: new.milestone_id,
            due_at: new.due_at,
            start_at: new.start_at,
            estimate_seconds: new.estimate_seconds,
            parent_id: new.parent_id,
            position: position_for_number(number),
            completed_at: None,
            started_at: None,
            deleted_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        follow_category(&mut task, ctx.category(status_id), now);
        let mut commit = Commit::new();
        commit
            .insert(Record::Task(task.clone()))
            .event(engine.event(
                actor.user_id,
                ctx.project.workspace_id,
                Some(project_id),
                Some(task.id),
                EventKind::TaskCreated {
                    key: task.key(&ctx.project.key),
                    title: task.title.clone(),
                    status_id,
                },
            ));
        engine.commit(commit).await?;
        Ok(TaskView {
            key: task.key(&ctx.project.key),
            task,
            blocked_by: Vec::new(),
        })
    }

    /// The task, by id or key.
    ///
    /// Errors: unknown, invisible or in the trash → not found.
    pub async fn get(&self, actor: &Actor, task: &TaskRef) -> Result<TaskView> {
        if let TaskRef::Id(id) = task {
            // By id, one read gives the task, its project, the membership and the edges.
            let found = self
                .engine
                .store()
                .task_with_context(*id, actor.user_id)
                .await?
                .filter(|found| found.task.deleted_at.is_none())
                .ok_or(Error::not_found(ObjectKind::Task))?;
            let project = found.project.map(|p| (p, found.membership));
            let (project, _) = Engine::<S>::allow_project(actor, project, Need::Read)?;
            return self
                .engine
                .view_with_edges(found.task, &project, found.blockers)
                .await;
        }
        let (task, project, _) = self
            .engine
            .find_task(actor, task, Need::Read, false)
            .await?;
        self.engine.view(task, &project).await
    }

    /// A page of a project's tasks matching a filter, in a stable order.
    ///
    /// Errors: project not visible → not found; a bad filter (with its position), sort, cursor
    /// or limit → validation.
    pub async fn list(
        &self,
        actor: &Actor,
        project: ProjectId,
        request: TaskListRequest,
    ) -> Result<Page<TaskView>> {
        let (project, _) = self.engine.project_for(actor, project, Need::Read).await?;
        let filter = self
            .resolve_filter(actor, std::slice::from_ref(&project), request.q.as_deref())
            .await?;
        self.page(
            TaskScope::Project(project.id),
            filter,
            &request,
            &HashMap::from([(project.id, project)]),
        )
        .await
    }

    /// Parses and resolves a filter for the given projects.
    ///
    /// Errors: a parse error → validation on the field `q`, naming the position.
    pub(crate) async fn resolve_filter(
        &self,
        actor: &Actor,
        projects: &[Project],
        q: Option<&str>,
    ) -> Result<TaskFilter> {
        let expr = match q {
            Some(q) => parse(q).map_err(|e| Error::invalid("q", e.to_string()))?,
            None => None,
        };
        let Some(expr) = expr else {
            return Ok(TaskFilter::True);
        };
        let ctx =
            ResolutionContext::load(self.engine, actor, projects.to_vec(), Some(&expr)).await?;
        Ok(ctx.resolve(&expr))
    }

    pub(crate) async fn page(
        &self,
        scope: TaskScope,
        filter: TaskFilter,
        request: &TaskListRequest,
        projects: &HashMap<ProjectId, Project>,
    ) -> Result<Page<TaskView>> {
        let engine = self.engine;
        let limit = page_size(engine.config(), request.limit)?;
        let sort = match &request.sort {
            Some(s) => TaskSort::from_str(s).map_err(|m| Error::invalid("sort", m))?,
            None => TaskSort::default(),
        };
        let after = match &request.cursor {
            Some(c) => {
                let cursor: ListCursor = decode_cursor(c)?;
                if cursor.sort != sort {
                    return Err(Error::invalid(
                        "cursor",
                        "the cursor belongs to a different sort order",
                    ));
                }
                Some(cursor.at)
            }
            None => None,
        };
        let query = TaskQuery {
            scope,
            filter,
            sort,
            after,
            limit: limit + 1,
            trashed: request.trashed,
        };
        let mut tasks = engine.store().tasks(&query).await?;
        let next_cursor = if tasks.len() > limit {
            tasks.truncate(limit);
            tasks.last().map(|t| {
                encode_cursor(&ListCursor {
                    sort,
                    at: sort.cursor_of(t),
                })
            })
        } else {
            None
        };
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.id).collect();
        let mut blocked = engine.open_blockers_of_tasks(&ids).await?;
        let mut items = Vec::with_capacity(tasks.len());
        for task in tasks {
            let project = projects
                .get(&task.project_id)
                .ok_or(Error::not_found(ObjectKind::Project))?;
            items.push(TaskView {
                key: task.key(&project.key),
                blocked_by: blocked.remove(&task.id).unwrap_or_default(),
                task,
            });
        }
        Ok(Page { items, next_cursor })
    }

    /// Changes a task's fields. A status change is a transition and obeys the workflow.
    ///
    /// Errors: not found; forbidden; invalid fields → validation (every one); stale version,
    /// forbidden transition, subtask cycle or depth, archived project → conflict.
    pub async fn update(
        &self,
        actor: &Actor,
        task: &TaskRef,
        patch: TaskPatch,
        expected_version: Option<u64>,
    ) -> Result<TaskView> {
        self.engine
            .retrying(|| self.update_once(actor, task, &patch, expected_version))
            .await
    }

    async fn update_once(
        &self,
        actor: &Actor,
        reference: &TaskRef,
        patch: &TaskPatch,
        expected_version: Option<u64>,
    ) -> Result<TaskView> {
        let engine = self.engine;
        let (current, project, membership) = engine
            .find_task(actor, reference, Need::Work, false)
            .await?;
        check_version(expected_version, current.version)?;
        let needs = ContextNeeds {
            members: patch.assignee_ids.is_some(),
            labels: patch.label_ids.is_some(),
            milestones: patch.milestone_id.is_some(),
        };
        let ctx = engine.task_context(project, membership.role, needs).await?;
        let mut v = Validation::new();
        let mut task = current.clone();
        if let Some(title) = &patch.title {
            ctx.check_title(&mut v, title);
            task.title = title.trim().to_owned();
        }
        if let Some(d) = &patch.description {
            ctx.check_description(&mut v, d);
            task.description = d.clone();
        }
        if let Some(s) = patch.status_id {
            ctx.check_status(&mut v, s);
            task.status_id = s;
        }
        if let Some(p) = patch.priority {
            task.priority = p;
        }
        if let Some(a) = &patch.assignee_ids {
            ctx.check_assignees(&mut v, a);
            task.assignee_ids = dedup(a);
        }
        if let Some(l) = &patch.label_ids {
            ctx.check_labels(&mut v, "label_ids", l);
            task.label_ids = dedup(l);
        }
        if let Some(m) = patch.milestone_id {
            ctx.check_milestone(&mut v, m);
            task.milestone_id = m;
        }
        if let Some(d) = patch.due_at {
            task.due_at = d;
        }
        if let Some(s) = patch.start_at {
            task.start_at = s;
        }
        ctx.check_dates(&mut v, task.start_at, task.due_at);
        if let Some(e) = patch.estimate_seconds {
            ctx.check_estimate(&mut v, e);
            task.estimate_seconds = e;
        }
        if let Some(p) = patch.parent_id {
            if let Some(parent) = p {
                match engine.store().task(parent).await? {
                    Some(t) if t.project_id == current.project_id && t.deleted_at.is_none() => {}
                    _ => v.add("parent_id", "is not a task of this project"),
                }
            }
            task.parent_id = p;
        }
        v.finish()?;
        self.apply_change(actor, &ctx, current, task).await
    }

    /// Checks the rules a changed task must satisfy and commits it with its events.
    async fn apply_change(
        &self,
        actor: &Actor,
        ctx: &TaskContext,
        current: Task,
        mut task: Task,
    ) -> Result<TaskView> {
        let engine = self.engine;
        let mut commit = Commit::new();
        self.stage_change(actor, ctx, &current, &mut task, &mut commit)
            .await?;
        if commit.writes.is_empty() {
            return engine.view(current, &ctx.project).await;
        }
        engine.commit(commit).await?;
        engine.view(task, &ctx.project).await
    }

    /// Adds a checked change of `current` into `task` to `commit` (nothing when unchanged).
    pub(crate) async fn stage_change(
        &self,
        actor: &Actor,
        ctx: &TaskContext,
        current: &Task,
        task: &mut Task,
        commit: &mut Commit,
    ) -> Result<()> {
        let engine = self.engine;
        let now = engine.now();
        if task.status_id != current.status_id {
            engine
                .check_transition(ctx, current, task.status_id)
                .await?;
            follow_category(task, ctx.category(task.status_id), now);
        }
        if task.parent_id != current.parent_id {
            if let Some(parent) = task.parent_id {
                graph::check_parent(engine, current, parent).await?;
            }
        }
        let changes = task_changes(current, task);
        let transitioned = task.status_id != current.status_id;
        let moved = task.position != current.position;
        if changes.is_empty() && !transitioned && !moved {
            return Ok(());
        }
        task.version = current.version + 1;
        task.updated_at = now;
        let key = task.key(&ctx.project.key);
        let event = |kind| {
            engine.event(
                actor.user_id,
                task.workspace_id,
                Some(task.project_id),
                Some(task.id),
                kind,
            )
        };
        let mut events = Vec::new();
        if transitioned {
            events.push(event(EventKind::TaskTransitioned {
                key: key.clone(),
                from: current.status_id,
                to: task.status_id,
            }));
        }
        if !changes.is_empty() {
            events.push(event(EventKind::TaskUpdated {
                key: key.clone(),
                changes,
            }));
        }
        if moved {
            events.push(event(EventKind::TaskMoved {
                key,
                position: task.position.clone(),
            }));
        }
        commit.update(Record::Task(task.clone()), current.version);
        commit.events.extend(events);
        Ok(())
    }

    /// Moves a task to another status, if the workflow allows it.
    ///
    /// Errors: not found; forbidden; the status is not in the workflow → validation; a
    /// forbidden move, stale version or archived project → conflict with the reason.
    pub async fn transition(
        &self,
        actor: &Actor,
        task: &TaskRef,
        status_id: StatusId,
        expected_version: Option<u64>,
    ) -> Result<TaskView> {
        self.update(
            actor,
            task,
            TaskPatch {
                status_id: Some(status_id),
                ..TaskPatch::default()
            },
            expected_version,
        )
        .await
    }

    /// Places a task on the board: optionally into another status column, between neighbours.
    /// Only the moved task is written.
    ///
    /// Errors: not found (task or neighbours); forbidden; neighbours not in the target column →
    /// validation; a forbidden transition → conflict.
    pub async fn move_task(
        &self,
        actor: &Actor,
        task: &TaskRef,
        request: MoveTask,
    ) -> Result<TaskView> {
        self.engine
            .retrying(|| self.move_once(actor, task, &request))
            .await
    }

    async fn move_once(
        &self,
        actor: &Actor,
        reference: &TaskRef,
        request: &MoveTask,
    ) -> Result<TaskView> {
        let engine = self.engine;
        let store = engine.store();
        let (current, project, membership) = engine
            .find_task(actor, reference, Need::Work, false)
            .await?;
        let ctx = engine
            .task_context(project, membership.role, ContextNeeds::default())
            .await?;
        let status = request.status_id.unwrap_or(current.status_id);
        let mut v = Validation::new();
        ctx.check_status(&mut v, status);
        let mut neighbour =
            |field: &str, id: Option<TaskId>, found: Option<Task>| -> Option<Task> {
                id?;
                match found {
                    Some(t)
                        if t.project_id == current.project_id
                            && t.deleted_at.is_none()
                            && t.status_id == status
                            && t.id != current.id =>
                    {
                        Some(t)
                    }
                    _ => {
                        v.add(field, "is not another task in the target status column");
                        None
                    }
                }
            };
        let before_task = match request.before_id {
            Some(id) => store.task(id).await?,
            None => None,
        };
        let after_task = match request.after_id {
            Some(id) => store.task(id).await?,
            None => None,
        };
        let below = neighbour("before_id", request.before_id, before_task);
        let above = neighbour("after_id", request.after_id, after_task);
        v.finish()?;
        let column = |descending: bool, at: Option<&Task>| TaskQuery {
            scope: TaskScope::Project(current.project_id),
            filter: TaskFilter::StatusIn(vec![status]),
            sort: TaskSort {
                field: SortField::Position,
                descending,
            },
            after: at.map(|t| TaskCursor {
                value: crate::query::SortValue::Text(t.position.clone()),
                id: t.id,
            }),
            limit: 2,
            trashed: false,
        };
        let not_me = |tasks: Vec<Task>| tasks.into_iter().find(|t| t.id != current.id);
        let (low, high) = match (above, below) {
            (Some(a), Some(b)) => (Some(a), Some(b)),
            (Some(a), None) => {
                let next = not_me(store.tasks(&column(false, Some(&a))).await?);
                (Some(a), next)
            }
            (None, Some(b)) => {
                let prev = not_me(store.tasks(&column(true, Some(&b))).await?);
                (prev, Some(b))
            }
            (None, None) => {
                let last = not_me(store.tasks(&column(true, None)).await?);
                (last, None)
            }
        };
        let mut task = current.clone();
        task.status_id = status;
        task.position = key_between(
            low.as_ref().map(|t| t.position.as_str()),
            high.as_ref().map(|t| t.position.as_str()),
        );
        self.apply_change(actor, &ctx, current, task).await
    }

    /// Moves a task and its subtasks to the trash.
    ///
    /// Errors: not found; forbidden; stale version or archived project → conflict.
    pub async fn delete(
        &self,
        actor: &Actor,
        task: &TaskRef,
        expected_version: Option<u64>,
    ) -> Result<()> {
        self.engine
            .retrying(|| async {
                let (current, project, _) = self
                    .engine
                    .find_task(actor, task, Need::Work, false)
                    .await?;
                check_version(expected_version, current.version)?;
                let mut commit = Commit::new();
                self.stage_delete(actor, &project, &current, &mut commit)
                    .await?;
                self.engine.commit(commit).await?;
                Ok(())
            })
            .await
    }

    pub(crate) async fn stage_delete(
        &self,
        actor: &Actor,
        project: &Project,
        current: &Task,
        commit: &mut Commit,
    ) -> Result<()> {
        let now = self.engine.now();
        for t in graph::subtree(self.engine, current).await? {
            if t.deleted_at.is_some() {
                continue;
            }
            let mut trashed = t.clone();
            trashed.deleted_at = Some(now);
            trashed.updated_at = now;
            trashed.version += 1;
            commit.update(Record::Task(trashed), t.version);
        }
        commit.event(self.engine.event(
            actor.user_id,
            current.workspace_id,
            Some(current.project_id),
            Some(current.id),
            EventKind::TaskDeleted {
                key: current.key(&project.key),
            },
        ));
        Ok(())
    }

    /// Brings a task back from the trash, with the subtasks that went with it.
    ///
    /// Errors: not found; forbidden; not in the trash, or its parent still is → conflict.
    pub async fn restore(&self, actor: &Actor, task: &TaskRef) -> Result<TaskView> {
        self.engine
            .retrying(|| async {
                let engine = self.engine;
                let (current, project, _) = engine.find_task(actor, task, Need::Work, true).await?;
                let Some(deleted_at) = current.deleted_at else {
                    return Err(Error::Conflict(Conflict::Trashed {
                        why: "the task is not in the trash".into(),
                    }));
                };
                if let Some(parent) = current.parent_id {
                    if engine
                        .store()
                        .task(parent)
                        .await?
                        .is_some_and(|p| p.deleted_at.is_some())
                    {
                        return Err(Error::Conflict(Conflict::Trashed {
                            why: "its parent is in the trash; restore the parent first".into(),
                        }));
                    }
                }
                let now = engine.now();
                let mut commit = Commit::new();
                let mut restored_root = None;
                for t in graph::subtree(engine, &current).await? {
                    if t.deleted_at != Some(deleted_at) {
                        continue;
                    }
                    let mut back = t.clone();
                    back.deleted_at = None;
                    back.updated_at = now;
                    back.version += 1;
                    if back.id == current.id {
                        restored_root = Some(back.clone());
                    }
                    commit.update(Record::Task(back), t.version);
                }
                commit.event(engine.event(
                    actor.user_id,
                    current.workspace_id,
                    Some(current.project_id),
                    Some(current.id),
                    EventKind::TaskRestored {
                        key: current.key(&project.key),
                    },
                ));
                engine.commit(commit).await?;
                let root = restored_root.ok_or(Error::not_found(ObjectKind::Task))?;
                engine.view(root, &project).await
            })
            .await
    }

    /// The direct subtasks of a task that are not in the trash, by number.
    ///
    /// Errors: not found.
    pub async fn subtasks(&self, actor: &Actor, task: &TaskRef) -> Result<Vec<TaskView>> {
        let (task, project, _) = self
            .engine
            .find_task(actor, task, Need::Read, false)
            .await?;
        let mut out = Vec::new();
        for child in self.engine.store().subtasks(task.id).await? {
            if child.deleted_at.is_none() {
                out.push(self.engine.view(child, &project).await?);
            }
        }
        Ok(out)
    }

    /// Records that `blocker` blocks `task`. Both must be in the same workspace.
    ///
    /// Errors: either not found; forbidden; the edge exists, or would close a cycle (named) →
    /// conflict.
    pub async fn add_dependency(
        &self,
        actor: &Actor,
        task: &TaskRef,
        blocker: &TaskRef,
    ) -> Result<TaskView> {
        self.engine
            .retrying(|| async {
                let engine = self.engine;
                let (blocked, project, _) =
                    engine.find_task(actor, task, Need::Work, false).await?;
                let (blocking, _, _) = engine
                    .find_task(actor, blocker, Need::Read, false)
                    .await
                    .map_err(|e| match e {
                        Error::NotFound { .. } => Error::invalid("blocked_by", "no such task"),
                        other => other,
                    })?;
                if blocking.workspace_id != blocked.workspace_id {
                    return Err(Error::invalid(
                        "blocked_by",
                        "must be a task of the same workspace",
                    ));
                }
                graph::check_dependency(engine, &blocked, &blocking).await?;
                let mut commit = Commit::new();
                commit
                    .insert(Record::Dependency(crate::model::Dependency {
                        task_id: blocked.id,
                        blocker_id: blocking.id,
                        workspace_id: blocked.workspace_id,
                        created_at: engine.now(),
                        version: 1,
                    }))
                    .event(engine.event(
                        actor.user_id,
                        blocked.workspace_id,
                        Some(blocked.project_id),
                        Some(blocked.id),
                        EventKind::DependencyAdded {
                            key: blocked.key(&project.key),
                            blocker_id: blocking.id,
                        },
                    ));
                engine.commit(commit).await?;
                engine.view(blocked, &project).await
            })
            .await
    }

    /// Removes the edge "`blocker` blocks `task`". With `expected_version`, only if the blocked
    /// task is still at that version: an edge has no version a caller ever sees (it is immutable,
    /// always at 1), it shows in the blocked task's `blocked_by`, so the blocked task's version
    /// stands for it. Adding or removing an edge does not change that version.
    ///
    /// Errors: the task or the edge not found; forbidden; the blocked task changed since
    /// `expected_version` → [`Conflict::StaleVersion`].
    pub async fn remove_dependency(
        &self,
        actor: &Actor,
        task: &TaskRef,
        blocker: &TaskRef,
        expected_version: Option<u64>,
    ) -> Result<TaskView> {
        self.engine
            .retrying(|| async {
                let engine = self.engine;
                let (blocked, project, _) =
                    engine.find_task(actor, task, Need::Work, false).await?;
                let blocker_id = match blocker {
                    TaskRef::Id(id) => *id,
                    other => engine.find_task(actor, other, Need::Read, true).await?.0.id,
                };
                let edge = engine
                    .store()
                    .blockers_of(blocked.id)
                    .await?
                    .into_iter()
                    .find(|d| d.blocker_id == blocker_id)
                    .ok_or(Error::not_found(ObjectKind::Dependency))?;
                check_version(expected_version, blocked.version)?;
                let mut commit = Commit::new();
                commit
                    .delete(
                        crate::store::RecordKey::Dependency(blocked.id, blocker_id),
                        edge.version,
                    )
                    .event(engine.event(
                        actor.user_id,
                        blocked.workspace_id,
                        Some(blocked.project_id),
                        Some(blocked.id),
                        EventKind::DependencyRemoved {
                            key: blocked.key(&project.key),
                            blocker_id,
                        },
                    ));
                engine.commit(commit).await?;
                engine.view(blocked, &project).await
            })
            .await
    }
}
