use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{ProjectId, StatusId};
use crate::model::Role;

/// The five fixed categories every status belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCategory {
    /// Not yet planned.
    Backlog,
    /// Planned, not started.
    Unstarted,
    /// In progress.
    Started,
    /// Done.
    Completed,
    /// Will not be done.
    Canceled,
}

impl StatusCategory {
    /// All categories in board order.
    pub const ALL: [StatusCategory; 5] = [
        StatusCategory::Backlog,
        StatusCategory::Unstarted,
        StatusCategory::Started,
        StatusCategory::Completed,
        StatusCategory::Canceled,
    ];

    /// Whether work in this category is finished (completed or canceled).
    pub fn is_closed(&self) -> bool {
        matches!(self, StatusCategory::Completed | StatusCategory::Canceled)
    }

    /// The category's name as written in the API and the filter language.
    pub fn as_str(&self) -> &'static str {
        match self {
            StatusCategory::Backlog => "backlog",
            StatusCategory::Unstarted => "unstarted",
            StatusCategory::Started => "started",
            StatusCategory::Completed => "completed",
            StatusCategory::Canceled => "canceled",
        }
    }
}

impl fmt::Display for StatusCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StatusCategory {
    type Err = String;

    /// Parses a category name; errors with a sentence listing the valid ones.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StatusCategory::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("'{s}' is not a category; use backlog, unstarted, started, completed or canceled")
            })
    }
}

/// One column of a workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The id, stable across workflow edits.
    pub id: StatusId,
    /// The name, unique in the workflow ignoring case.
    pub name: String,
    /// The category.
    pub category: StatusCategory,
    /// A colour such as `#0e8a16`.
    pub color: Option<String>,
}

/// A condition a transition may demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionCondition {
    /// Every task blocking this one is closed.
    NoOpenBlockers,
    /// Every subtask is closed.
    AllSubtasksDone,
    /// The task has at least one assignee.
    HasAssignee,
}

impl TransitionCondition {
    /// The condition's name as written in the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            TransitionCondition::NoOpenBlockers => "no_open_blockers",
            TransitionCondition::AllSubtasksDone => "all_subtasks_done",
            TransitionCondition::HasAssignee => "has_assignee",
        }
    }
}

/// An allowed move from one status to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The status a task leaves.
    pub from: StatusId,
    /// The status a task enters.
    pub to: StatusId,
    /// When not empty, only these roles (and owners, who may make every move) may make it.
    pub roles: Vec<Role>,
    /// Conditions that must all hold.
    pub conditions: Vec<TransitionCondition>,
}

/// A project's workflow: ordered statuses and the allowed transitions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    /// The project.
    pub project_id: ProjectId,
    /// Statuses in board order; at least one.
    pub statuses: Vec<Status>,
    /// `None`: every move is allowed. `Some(list)`: only the listed moves are.
    pub transitions: Option<Vec<Transition>>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

impl Workflow {
    /// The status with `id`, if the workflow has it.
    pub fn status(&self, id: StatusId) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    /// The status new tasks start in: the first in the unstarted category, else the first of all.
    pub fn initial_status(&self) -> Option<&Status> {
        self.statuses
            .iter()
            .find(|s| s.category == StatusCategory::Unstarted)
            .or_else(|| self.statuses.first())
    }

    /// The first status of `category`, if any.
    pub fn first_in(&self, category: StatusCategory) -> Option<&Status> {
        self.statuses.iter().find(|s| s.category == category)
    }
}
