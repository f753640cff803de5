use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{LabelId, MilestoneId, ProjectId, StatusId, TaskId, UserId, WorkspaceId};

/// How urgent a task is, from least to most.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// No priority given.
    #[default]
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Urgent.
    Urgent,
}

impl Priority {
    /// All priorities, least urgent first.
    pub const ALL: [Priority; 5] = [
        Priority::None,
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    /// The priority's name as written in the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            Priority::None => "none",
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// 0 for none up to 4 for urgent.
    pub fn rank(&self) -> i64 {
        *self as i64
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;

    /// Parses a priority name; errors with a sentence listing the valid ones.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("'{s}' is not a priority; use none, low, medium, high or urgent")
            })
    }
}

/// A task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// The id.
    pub id: TaskId,
    /// The workspace (denormalised from the project, for permission checks).
    pub workspace_id: WorkspaceId,
    /// The project.
    pub project_id: ProjectId,
    /// The number within the project; with the project key it forms the key `ENG-42`.
    pub number: u64,
    /// The title, 1–500 characters.
    pub title: String,
    /// A markdown description, up to 100 KB.
    pub description: String,
    /// The current status, always one of the project's workflow.
    pub status_id: StatusId,
    /// Priority.
    pub priority: Priority,
    /// Assignees, members of the workspace, without duplicates.
    pub assignee_ids: Vec<UserId>,
    /// Who created it.
    pub reporter_id: UserId,
    /// Labels of the project, without duplicates.
    pub label_ids: Vec<LabelId>,
    /// A milestone of the project.
    pub milestone_id: Option<MilestoneId>,
    /// When it is due.
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    /// When work should start.
    #[serde(with = "time::serde::rfc3339::option")]
    pub start_at: Option<OffsetDateTime>,
    /// Estimated effort in seconds.
    pub estimate_seconds: Option<u64>,
    /// The parent task, for subtasks.
    pub parent_id: Option<TaskId>,
    /// Board position: a fractional-index key; tasks sort by it within a status column.
    pub position: String,
    /// Set exactly while the status is in the completed category.
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// When it entered a started status the first time (for cycle time).
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When it was moved to the trash.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Optimistic-concurrency version, 1 on creation.
    pub version: u64,
}

impl Task {
    /// The key, given the project's key: `ENG-42`.
    pub fn key(&self, project_key: &str) -> String {
        format!("{project_key}-{}", self.number)
    }
}

/// "`blocker_id` blocks `task_id`": `task_id` cannot be considered unblocked until the blocker is closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// The blocked task.
    pub task_id: TaskId,
    /// The blocking task.
    pub blocker_id: TaskId,
    /// The workspace both belong to.
    pub workspace_id: WorkspaceId,
    /// When the edge was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}
