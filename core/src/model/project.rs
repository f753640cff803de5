use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ids::{LabelId, MilestoneId, ProjectId, WorkspaceId};

/// A project: a key, its tasks and its workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// The id.
    pub id: ProjectId,
    /// The workspace it belongs to.
    pub workspace_id: WorkspaceId,
    /// The key (`ENG`): 2–10 of A–Z and 0–9, starting with a letter, unique in the workspace.
    pub key: String,
    /// The name.
    pub name: String,
    /// A markdown description.
    pub description: String,
    /// An archived project refuses writes until restored.
    pub archived: bool,
    /// A template is a project others can be created from.
    pub is_template: bool,
    /// When it was deleted; a deleted project is invisible.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// The last task number handed out in a project. Kept apart from the project so that creating
/// tasks does not change the project's version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCounter {
    /// The project.
    pub project_id: ProjectId,
    /// The highest number ever handed out; numbers are never reused.
    pub last_number: u64,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A label of a project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// The id.
    pub id: LabelId,
    /// The project.
    pub project_id: ProjectId,
    /// The name, unique in the project ignoring case.
    pub name: String,
    /// A colour such as `#d73a4a`.
    pub color: Option<String>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// A milestone of a project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    /// The id.
    pub id: MilestoneId,
    /// The project.
    pub project_id: ProjectId,
    /// The name.
    pub name: String,
    /// The day it is due.
    pub due_on: Option<Date>,
    /// Whether it is closed.
    pub closed: bool,
    /// Optimistic-concurrency version.
    pub version: u64,
}
