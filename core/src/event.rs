//! Domain events: what happened, appended to the durable, totally ordered log in the same atomic
//! commit as the records it changed (DESIGN §3). Feeds, WebSocket fan-out, notifications, webhooks
//! and search indexing all read the log.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::ids::{
    CommentId, LabelId, MilestoneId, ProjectId, StatusId, TaskId, UserId, WorkspaceId,
};
use crate::model::Role;

/// One changed field: its name with the value before and after, as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field's name (`title`, `assignee_ids`, ...).
    pub field: String,
    /// The value before.
    pub old: Value,
    /// The value after.
    pub new: Value,
}

impl FieldChange {
    /// A change of `field` from `old` to `new`.
    pub fn new(field: &str, old: impl Serialize, new: impl Serialize) -> Self {
        Self {
            field: field.to_owned(),
            old: serde_json::to_value(old).unwrap_or(Value::Null),
            new: serde_json::to_value(new).unwrap_or(Value::Null),
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum EventKind {
    WorkspaceCreated {
        name: String,
    },
    WorkspaceUpdated {
        changes: Vec<FieldChange>,
    },
    MemberAdded {
        user_id: UserId,
        role: Role,
    },
    MemberRoleChanged {
        user_id: UserId,
        old: Role,
        new: Role,
    },
    MemberRemoved {
        user_id: UserId,
    },
    ProjectCreated {
        key: String,
        name: String,
    },
    ProjectUpdated {
        changes: Vec<FieldChange>,
    },
    ProjectArchived,
    ProjectRestored,
    ProjectDeleted,
    WorkflowReplaced {
        statuses: Vec<String>,
        remapped_tasks: u64,
    },
    TaskCreated {
        key: String,
        title: String,
        status_id: StatusId,
    },
    TaskUpdated {
        key: String,
        changes: Vec<FieldChange>,
    },
    TaskTransitioned {
        key: String,
        from: StatusId,
        to: StatusId,
    },
    TaskMoved {
        key: String,
        position: String,
    },
    TaskDeleted {
        key: String,
    },
    TaskRestored {
        key: String,
    },
    DependencyAdded {
        key: String,
        blocker_id: TaskId,
    },
    DependencyRemoved {
        key: String,
        blocker_id: TaskId,
    },
    LabelCreated {
        label_id: LabelId,
        name: String,
    },
    LabelUpdated {
        label_id: LabelId,
        changes: Vec<FieldChange>,
    },
    LabelDeleted {
        label_id: LabelId,
    },
    MilestoneCreated {
        milestone_id: MilestoneId,
        name: String,
    },
    MilestoneUpdated {
        milestone_id: MilestoneId,
        changes: Vec<FieldChange>,
    },
    MilestoneDeleted {
        milestone_id: MilestoneId,
    },
    CommentAdded {
        comment_id: CommentId,
        parent_id: Option<CommentId>,
        mentions: Vec<UserId>,
    },
    CommentEdited {
        comment_id: CommentId,
        mentions: Vec<UserId>,
    },
    CommentDeleted {
        comment_id: CommentId,
    },
}

impl EventKind {
    /// The event's kind as a stable `snake_case` name (`task_created`).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::WorkspaceCreated { .. } => "workspace_created",
            EventKind::WorkspaceUpdated { .. } => "workspace_updated",
            EventKind::MemberAdded { .. } => "member_added",
            EventKind::MemberRoleChanged { .. } => "member_role_changed",
            EventKind::MemberRemoved { .. } => "member_removed",
            EventKind::ProjectCreated { .. } => "project_created",
            EventKind::ProjectUpdated { .. } => "project_updated",
            EventKind::ProjectArchived => "project_archived",
            EventKind::ProjectRestored => "project_restored",
            EventKind::ProjectDeleted => "project_deleted",
            EventKind::WorkflowReplaced { .. } => "workflow_replaced",
            EventKind::TaskCreated { .. } => "task_created",
            EventKind::TaskUpdated { .. } => "task_updated",
            EventKind::TaskTransitioned { .. } => "task_transitioned",
            EventKind::TaskMoved { .. } => "task_moved",
            EventKind::TaskDeleted { .. } => "task_deleted",
            EventKind::TaskRestored { .. } => "task_restored",
            EventKind::DependencyAdded { .. } => "dependency_added",
            EventKind::DependencyRemoved { .. } => "dependency_removed",
            EventKind::LabelCreated { .. } => "label_created",
            EventKind::LabelUpdated { .. } => "label_updated",
            EventKind::LabelDeleted { .. } => "label_deleted",
            EventKind::MilestoneCreated { .. } => "milestone_created",
            EventKind::MilestoneUpdated { .. } => "milestone_updated",
            EventKind::MilestoneDeleted { .. } => "milestone_deleted",
            EventKind::CommentAdded { .. } => "comment_added",
            EventKind::CommentEdited { .. } => "comment_edited",
            EventKind::CommentDeleted { .. } => "comment_deleted",
        }
    }
}

/// An event before the store gave it a sequence number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// When it happened (the engine's clock).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who did it.
    pub actor_id: UserId,
    /// The workspace it belongs to; only its members may read it.
    pub workspace_id: WorkspaceId,
    /// The project, when it is about one.
    pub project_id: Option<ProjectId>,
    /// The task, when it is about one.
    pub task_id: Option<TaskId>,
    /// What happened.
    pub kind: EventKind,
}

/// An event in the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Its position in the log: strictly increasing in commit order, starting at 1.
    pub seq: u64,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who did it.
    pub actor_id: UserId,
    /// The workspace it belongs to.
    pub workspace_id: WorkspaceId,
    /// The project, when it is about one.
    pub project_id: Option<ProjectId>,
    /// The task, when it is about one.
    pub task_id: Option<TaskId>,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// The logged form of `event` at `seq`.
    pub fn from_new(seq: u64, event: NewEvent) -> Self {
        Event {
            seq,
            at: event.at,
            actor_id: event.actor_id,
            workspace_id: event.workspace_id,
            project_id: event.project_id,
            task_id: event.task_id,
            kind: event.kind,
        }
    }
}

/// Which part of the log to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventScope {
    /// Every event (for trusted consumers such as indexers).
    All,
    /// The events of one workspace.
    Workspace(WorkspaceId),
    /// The events of one project.
    Project(ProjectId),
    /// The events of one task.
    Task(TaskId),
}

/// A read of the log: events of `scope` with `seq > after`, oldest first, at most `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventQuery {
    /// Which events.
    pub scope: EventScope,
    /// Only events after this sequence number (0 for the start).
    pub after: u64,
    /// At most this many.
    pub limit: usize,
}
