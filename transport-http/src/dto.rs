//! Request and response bodies of the v1 contract, kept apart from the core's records so that the
//! wire format changes only on purpose. Times are RFC 3339 UTC strings, days `YYYY-MM-DD`, ids
//! UUID strings; request bodies refuse unknown fields.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use tasklane_core::engine::{MemberView, MilestoneView, ProjectStats};
use tasklane_core::event::Event;
use tasklane_core::{
    ApiToken, Comment, IssuedToken, Label, LabelId, Membership, MilestoneId, Priority, Project,
    Role, Status, StatusCategory, StatusId, TaskId, TaskView, TokenKind, TokenScope, Transition,
    TransitionCondition, User, UserId, Workflow, Workspace,
};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

// ---------------------------------------------------------------------------------------------
// Wire forms of times and days.

/// An instant as an RFC 3339 string; input with an offset is converted to UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rfc3339Time(pub OffsetDateTime);

impl Serialize for Rfc3339Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self
            .0
            .to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Rfc3339Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339)
            .map(|t| Rfc3339Time(t.to_offset(UtcOffset::UTC)))
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{text}' is not an RFC 3339 time such as 2026-05-01T09:30:00Z"
                ))
            })
    }
}

fn time(t: OffsetDateTime) -> Rfc3339Time {
    Rfc3339Time(t)
}

fn opt_time(t: Option<OffsetDateTime>) -> Option<Rfc3339Time> {
    t.map(Rfc3339Time)
}

/// A calendar day as `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Day(pub Date);

const DAY_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self
            .0
            .format(DAY_FORMAT)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text, DAY_FORMAT).map(Day).map_err(|_| {
            serde::de::Error::custom(format!("'{text}' is not a day such as 2026-05-01"))
        })
    }
}

/// For nullable PATCH fields: absent → `None` (unchanged), `null` → `Some(None)` (clear),
/// a value → `Some(Some(v))`. Use with `#[serde(default, deserialize_with = "nullable")]`.
pub(crate) fn nullable<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// For non-nullable optional PATCH fields: absent → `None`; `null` is an error naming the field.
/// Use with `#[serde(default, deserialize_with = "present")]`.
pub(crate) fn present<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    match Option::<T>::deserialize(d)? {
        Some(v) => Ok(Some(v)),
        None => Err(serde::de::Error::custom("must not be null")),
    }
}

/// A list response: `{items, next_cursor}`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ListDto<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> ListDto<T> {
    pub fn all(items: Vec<T>) -> Self {
        ListDto {
            items,
            next_cursor: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterBody {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTokenBody {
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<TokenScope>,
    #[serde(default)]
    pub expires_at: Option<Rfc3339Time>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UserDto {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub is_server_admin: bool,
    pub created_at: Rfc3339Time,
    pub version: u64,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            is_server_admin: u.is_server_admin,
            created_at: time(u.created_at),
            version: u.version,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct RegisterDto {
    pub user: UserDto,
    pub token: String,
    pub expires_at: Option<Rfc3339Time>,
}

#[derive(Debug, Serialize)]
pub(crate) struct LoginDto {
    pub token: String,
    pub expires_at: Option<Rfc3339Time>,
    pub user: UserDto,
}

#[derive(Debug, Serialize)]
pub(crate) struct TokenDto {
    pub id: tasklane_core::TokenId,
    pub name: String,
    pub kind: TokenKind,
    pub prefix: String,
    pub scopes: Vec<TokenScope>,
    pub created_at: Rfc3339Time,
    pub expires_at: Option<Rfc3339Time>,
    pub last_used_at: Option<Rfc3339Time>,
    pub version: u64,
    /// The secret, only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<&ApiToken> for TokenDto {
    fn from(t: &ApiToken) -> Self {
        TokenDto {
            id: t.id,
            name: t.name.clone(),
            kind: t.kind,
            prefix: t.prefix.clone(),
            scopes: t.scopes.clone(),
            created_at: time(t.created_at),
            expires_at: opt_time(t.expires_at),
            last_used_at: opt_time(t.last_used_at),
            version: t.version,
            token: None,
        }
    }
}

impl From<&IssuedToken> for TokenDto {
    fn from(t: &IssuedToken) -> Self {
        TokenDto {
            token: Some(t.secret.clone()),
            ..TokenDto::from(&t.token)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Workspaces and members.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkspaceBody {
    pub name: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct WorkspaceDto {
    pub id: tasklane_core::WorkspaceId,
    pub name: String,
    pub created_at: Rfc3339Time,
    pub version: u64,
    /// The caller's role (in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

impl WorkspaceDto {
    pub fn new(w: &Workspace, role: Option<Role>) -> Self {
        WorkspaceDto {
            id: w.id,
            name: w.name.clone(),
            created_at: time(w.created_at),
            version: w.version,
            role,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddMemberBody {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub user_id: Option<UserId>,
    pub role: Role,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberPatchBody {
    pub role: Role,
}

#[derive(Debug, Serialize)]
pub(crate) struct MemberDto {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub joined_at: Rfc3339Time,
    pub version: u64,
}

impl MemberDto {
    pub fn new(m: &Membership, u: &User) -> Self {
        MemberDto {
            user_id: m.user_id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: m.role,
            joined_at: time(m.created_at),
            version: m.version,
        }
    }
}

impl From<&MemberView> for MemberDto {
    fn from(v: &MemberView) -> Self {
        MemberDto::new(&v.membership, &v.user)
    }
}

// ---------------------------------------------------------------------------------------------
// Projects, workflows, labels, milestones.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewProjectBody {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub template_id: Option<tasklane_core::ProjectId>,
    #[serde(default)]
    pub is_template: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectPatchBody {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub is_template: Option<bool>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ProjectDto {
    pub id: tasklane_core::ProjectId,
    pub workspace_id: tasklane_core::WorkspaceId,
    pub key: String,
    pub name: String,
    pub description: String,
    pub archived: bool,
    pub is_template: bool,
    pub created_at: Rfc3339Time,
    pub updated_at: Rfc3339Time,
    pub version: u64,
}

impl From<&Project> for ProjectDto {
    fn from(p: &Project) -> Self {
        ProjectDto {
            id: p.id,
            workspace_id: p.workspace_id,
            key: p.key.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            archived: p.archived,
            is_template: p.is_template,
            created_at: time(p.created_at),
            updated_at: time(p.updated_at),
            version: p.version,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct StatusDto {
    pub id: StatusId,
    pub name: String,
    pub category: StatusCategory,
    pub color: Option<String>,
}

impl From<&Status> for StatusDto {
    fn from(s: &Status) -> Self {
        StatusDto {
            id: s.id,
            name: s.name.clone(),
            category: s.category,
            color: s.color.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct TransitionDto {
    pub from: StatusId,
    pub to: StatusId,
    pub roles: Vec<Role>,
    pub conditions: Vec<TransitionCondition>,
}

impl From<&Transition> for TransitionDto {
    fn from(t: &Transition) -> Self {
        TransitionDto {
            from: t.from,
            to: t.to,
            roles: t.roles.clone(),
            conditions: t.conditions.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct WorkflowDto {
    pub project_id: tasklane_core::ProjectId,
    pub statuses: Vec<StatusDto>,
    /// `null`: every move is allowed.
    pub transitions: Option<Vec<TransitionDto>>,
    pub version: u64,
}

impl From<&Workflow> for WorkflowDto {
    fn from(w: &Workflow) -> Self {
        WorkflowDto {
            project_id: w.project_id,
            statuses: w.statuses.iter().map(StatusDto::from).collect(),
            transitions: w
                .transitions
                .as_ref()
                .map(|ts| ts.iter().map(TransitionDto::from).collect()),
            version: w.version,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    #[serde(default)]
    pub id: Option<StatusId>,
    pub name: String,
    pub category: StatusCategory,
    #[serde(default)]
    pub color: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransitionBody {
    /// A status id or name.
    pub from: String,
    /// A status id or name.
    pub to: String,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub conditions: Vec<TransitionCondition>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MappingBody {
    /// A status that is dropped.
    pub from: StatusId,
    /// The remaining status (id or name) its tasks move to.
    pub to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkflowBody {
    pub statuses: Vec<StatusBody>,
    /// Absent or `null`: every move is allowed.
    #[serde(default)]
    pub transitions: Option<Vec<TransitionBody>>,
    #[serde(default)]
    pub mapping: Vec<MappingBody>,
}

#[derive(Debug, Serialize)]
pub(crate) struct StatusStatDto {
    pub status_id: StatusId,
    pub name: String,
    pub category: StatusCategory,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct StatsDto {
    pub by_status: Vec<StatusStatDto>,
    pub by_category: serde_json::Map<String, Value>,
    pub total: u64,
    pub overdue: u64,
    pub completion_ratio: f64,
}

impl From<&ProjectStats> for StatsDto {
    fn from(s: &ProjectStats) -> Self {
        StatsDto {
            by_status: s
                .by_status
                .iter()
                .map(|b| StatusStatDto {
                    status_id: b.status_id,
                    name: b.name.clone(),
                    category: b.category,
                    count: b.count,
                })
                .collect(),
            by_category: s
                .by_category
                .iter()
                .map(|(c, n)| (c.as_str().to_owned(), Value::from(*n)))
                .collect(),
            total: s.total,
            overdue: s.overdue,
            completion_ratio: s.completion_ratio,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewLabelBody {
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelPatchBody {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub color: Option<Option<String>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct LabelDto {
    pub id: LabelId,
    pub project_id: tasklane_core::ProjectId,
    pub name: String,
    pub color: Option<String>,
    pub version: u64,
}

impl From<&Label> for LabelDto {
    fn from(l: &Label) -> Self {
        LabelDto {
            id: l.id,
            project_id: l.project_id,
            name: l.name.clone(),
            color: l.color.clone(),
            version: l.version,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMilestoneBody {
    pub name: String,
    #[serde(default)]
    pub due_on: Option<Day>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MilestonePatchBody {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub due_on: Option<Option<Day>>,
    #[serde(default, deserialize_with = "present")]
    pub closed: Option<bool>,
}

#[derive(Debug, Serialize)]
pub(crate) struct MilestoneDto {
    pub id: MilestoneId,
    pub project_id: tasklane_core::ProjectId,
    pub name: String,
    pub due_on: Option<Day>,
    pub closed: bool,
    pub total: u64,
    pub done: u64,
    pub progress: f64,
    pub version: u64,
}

impl From<&MilestoneView> for MilestoneDto {
    fn from(v: &MilestoneView) -> Self {
        let m = &v.milestone;
        MilestoneDto {
            id: m.id,
            project_id: m.project_id,
            name: m.name.clone(),
            due_on: m.due_on.map(Day),
            closed: m.closed,
            total: v.total,
            done: v.done,
            progress: v.progress,
            version: m.version,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tasks.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTaskBody {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status_id: Option<StatusId>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub assignee_ids: Vec<UserId>,
    #[serde(default)]
    pub label_ids: Vec<LabelId>,
    #[serde(default)]
    pub milestone_id: Option<MilestoneId>,
    #[serde(default)]
    pub due_at: Option<Rfc3339Time>,
    #[serde(default)]
    pub start_at: Option<Rfc3339Time>,
    #[serde(default)]
    pub estimate_seconds: Option<u64>,
    #[serde(default)]
    pub parent_id: Option<TaskId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskPatchBody {
    #[serde(default, deserialize_with = "present")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub status_id: Option<StatusId>,
    #[serde(default, deserialize_with = "present")]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "present")]
    pub assignee_ids: Option<Vec<UserId>>,
    #[serde(default, deserialize_with = "present")]
    pub label_ids: Option<Vec<LabelId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub milestone_id: Option<Option<MilestoneId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub due_at: Option<Option<Rfc3339Time>>,
    #[serde(default, deserialize_with = "nullable")]
    pub start_at: Option<Option<Rfc3339Time>>,
    #[serde(default, deserialize_with = "nullable")]
    pub estimate_seconds: Option<Option<u64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub parent_id: Option<Option<TaskId>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TaskListQuery {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub trashed: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransitionRequestBody {
    pub status_id: StatusId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveBody {
    #[serde(default)]
    pub status_id: Option<StatusId>,
    #[serde(default)]
    pub before_id: Option<TaskId>,
    #[serde(default)]
    pub after_id: Option<TaskId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DependencyBody {
    /// The blocking task, by id or key.
    pub blocked_by: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkSetBody {
    #[serde(default, deserialize_with = "present")]
    pub status_id: Option<StatusId>,
    #[serde(default, deserialize_with = "present")]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "present")]
    pub assignee_ids: Option<Vec<UserId>>,
    #[serde(default)]
    pub add_label_ids: Vec<LabelId>,
    #[serde(default)]
    pub remove_label_ids: Vec<LabelId>,
    #[serde(default, deserialize_with = "nullable")]
    pub milestone_id: Option<Option<MilestoneId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub due_at: Option<Option<Rfc3339Time>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkBody {
    /// Tasks by id or key.
    pub task_ids: Vec<String>,
    #[serde(default)]
    pub set: Option<BulkSetBody>,
    #[serde(default)]
    pub delete: Option<bool>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TaskDto {
    pub id: TaskId,
    pub key: String,
    pub project_id: tasklane_core::ProjectId,
    pub workspace_id: tasklane_core::WorkspaceId,
    pub number: u64,
    pub title: String,
    pub description: String,
    pub status_id: StatusId,
    pub priority: Priority,
    pub assignee_ids: Vec<UserId>,
    pub reporter_id: UserId,
    pub label_ids: Vec<LabelId>,
    pub milestone_id: Option<MilestoneId>,
    pub due_at: Option<Rfc3339Time>,
    pub start_at: Option<Rfc3339Time>,
    pub estimate_seconds: Option<u64>,
    pub parent_id: Option<TaskId>,
    pub blocked_by: Vec<TaskId>,
    pub position: String,
    pub completed_at: Option<Rfc3339Time>,
    pub started_at: Option<Rfc3339Time>,
    pub trashed: bool,
    pub deleted_at: Option<Rfc3339Time>,
    pub created_at: Rfc3339Time,
    pub updated_at: Rfc3339Time,
    pub version: u64,
}

impl From<&TaskView> for TaskDto {
    fn from(v: &TaskView) -> Self {
        let t = &v.task;
        TaskDto {
            id: t.id,
            key: v.key.clone(),
            project_id: t.project_id,
            workspace_id: t.workspace_id,
            number: t.number,
            title: t.title.clone(),
            description: t.description.clone(),
            status_id: t.status_id,
            priority: t.priority,
            assignee_ids: t.assignee_ids.clone(),
            reporter_id: t.reporter_id,
            label_ids: t.label_ids.clone(),
            milestone_id: t.milestone_id,
            due_at: opt_time(t.due_at),
            start_at: opt_time(t.start_at),
            estimate_seconds: t.estimate_seconds,
            parent_id: t.parent_id,
            blocked_by: v.blocked_by.clone(),
            position: t.position.clone(),
            completed_at: opt_time(t.completed_at),
            started_at: opt_time(t.started_at),
            trashed: t.deleted_at.is_some(),
            deleted_at: opt_time(t.deleted_at),
            created_at: time(t.created_at),
            updated_at: time(t.updated_at),
            version: t.version,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Comments and activity.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCommentBody {
    pub body: String,
    #[serde(default)]
    pub parent_id: Option<tasklane_core::CommentId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommentPatchBody {
    pub body: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RevisionDto {
    pub body: String,
    pub replaced_at: Rfc3339Time,
}

#[derive(Debug, Serialize)]
pub(crate) struct CommentDto {
    pub id: tasklane_core::CommentId,
    pub task_id: TaskId,
    pub author_id: UserId,
    pub parent_id: Option<tasklane_core::CommentId>,
    pub body: String,
    pub mentions: Vec<UserId>,
    pub edited: bool,
    pub revisions: Vec<RevisionDto>,
    pub deleted: bool,
    pub deleted_at: Option<Rfc3339Time>,
    pub created_at: Rfc3339Time,
    pub updated_at: Rfc3339Time,
    pub version: u64,
}

impl From<&Comment> for CommentDto {
    fn from(c: &Comment) -> Self {
        CommentDto {
            id: c.id,
            task_id: c.task_id,
            author_id: c.author_id,
            parent_id: c.parent_id,
            body: c.body.clone(),
            mentions: c.mentions.clone(),
            edited: !c.revisions.is_empty(),
            revisions: c
                .revisions
                .iter()
                .map(|r| RevisionDto {
                    body: r.body.clone(),
                    replaced_at: time(r.replaced_at),
                })
                .collect(),
            deleted: c.deleted_at.is_some(),
            deleted_at: opt_time(c.deleted_at),
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
            version: c.version,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActivityQuery {
    /// Only events after this sequence number.
    #[serde(default)]
    pub since: Option<u64>,
    /// The `next_cursor` of the previous page (the same as `since`).
    #[serde(default)]
    pub cursor: Option<u64>,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EventDto {
    pub seq: u64,
    pub kind: &'static str,
    pub actor_id: UserId,
    pub at: Rfc3339Time,
    pub workspace_id: tasklane_core::WorkspaceId,
    pub project_id: Option<tasklane_core::ProjectId>,
    pub task_id: Option<TaskId>,
    /// Field-level changes `{field, old, new}` (empty for events that change no fields).
    pub changes: Vec<Value>,
    /// The event's other facts (`key`, `title`, `comment_id`, ...).
    pub data: serde_json::Map<String, Value>,
}

impl From<&Event> for EventDto {
    fn from(e: &Event) -> Self {
        let mut data = match serde_json::to_value(&e.kind) {
            Ok(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        data.remove("kind");
        let mut changes = match data.remove("changes") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        if let tasklane_core::event::EventKind::TaskTransitioned { from, to, .. } = &e.kind {
            changes.push(serde_json::json!({"field": "status_id", "old": from, "new": to}));
        }
        EventDto {
            seq: e.seq,
            kind: e.kind.name(),
            actor_id: e.actor_id,
            at: time(e.at),
            workspace_id: e.workspace_id,
            project_id: e.project_id,
            task_id: e.task_id,
            changes,
            data,
        }
    }
}
