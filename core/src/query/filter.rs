//! The resolved filter: the filter language after names became ids. Stores translate it to their
//! own queries; [`TaskFilter::matches`] is the reference evaluator they are compared against.

use time::OffsetDateTime;

use super::ast::{CmpOp, DateField};
use super::sort::{TaskCursor, TaskSort};
use crate::ids::{LabelId, MilestoneId, ProjectId, StatusId, TaskId, UserId, WorkspaceId};
use crate::model::{Priority, Task};

/// A predicate over one task. Missing values (a task without a due date, say) never satisfy a
/// comparison; `Not` is plain negation of the inner predicate's two-valued result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskFilter {
    /// Every task.
    True,
    /// All parts hold (an empty list holds).
    And(Vec<TaskFilter>),
    /// Any part holds (an empty list does not).
    Or(Vec<TaskFilter>),
    /// The inner predicate does not hold.
    Not(Box<TaskFilter>),
    /// The status is one of these.
    StatusIn(Vec<StatusId>),
    /// At least one assignee is one of these.
    AssigneeIn(Vec<UserId>),
    /// There is at least one assignee.
    HasAssignee,
    /// The reporter is one of these.
    ReporterIn(Vec<UserId>),
    /// At least one label is one of these.
    LabelIn(Vec<LabelId>),
    /// There is at least one label.
    HasLabel,
    /// The milestone is one of these.
    MilestoneIn(Vec<MilestoneId>),
    /// There is a milestone.
    HasMilestone,
    /// The priority is one of these.
    PriorityIn(Vec<Priority>),
    /// The priority compares with this one (by rank, none lowest).
    PriorityCmp(CmpOp, Priority),
    /// The date field is set and compares with the instant (`Eq` means equal to the instant).
    DateCmp(DateField, CmpOp, OffsetDateTime),
    /// The date field is set.
    HasDate(DateField),
    /// There is an estimate.
    HasEstimate,
    /// The parent is this task.
    ParentIs(TaskId),
    /// There is a parent.
    HasParent,
    /// The title or the description contains the text, ignoring case.
    Text(String),
}

fn compare<T: Ord>(op: CmpOp, left: &T, right: &T) -> bool {
    match op {
        CmpOp::Eq => left == right,
        CmpOp::Lt => left < right,
        CmpOp::Le => left <= right,
        CmpOp::Gt => left > right,
        CmpOp::Ge => left >= right,
    }
}

/// The value of a date field of `task`.
pub(crate) fn date_of(task: &Task, field: DateField) -> Option<OffsetDateTime> {
    match field {
        DateField::Due => task.due_at,
        DateField::Start => task.start_at,
        DateField::Created => Some(task.created_at),
        DateField::Updated => Some(task.updated_at),
        DateField::Completed => task.completed_at,
    }
}

/// Lower-cases text the way every adapter must for [`TaskFilter::Text`]: Unicode simple lower case.
pub fn fold_case(text: &str) -> String {
    text.to_lowercase()
}

impl TaskFilter {
    /// Whether `task` satisfies the predicate. This is the reference semantics.
    pub fn matches(&self, task: &Task) -> bool {
        match self {
            TaskFilter::True => true,
            TaskFilter::And(parts) => parts.iter().all(|p| p.matches(task)),
            TaskFilter::Or(parts) => parts.iter().any(|p| p.matches(task)),
            TaskFilter::Not(inner) => !inner.matches(task),
            TaskFilter::StatusIn(ids) => ids.contains(&task.status_id),
            TaskFilter::AssigneeIn(ids) => task.assignee_ids.iter().any(|a| ids.contains(a)),
            TaskFilter::HasAssignee => !task.assignee_ids.is_empty(),
            TaskFilter::ReporterIn(ids) => ids.contains(&task.reporter_id),
            TaskFilter::LabelIn(ids) => task.label_ids.iter().any(|l| ids.contains(l)),
            TaskFilter::HasLabel => !task.label_ids.is_empty(),
            TaskFilter::MilestoneIn(ids) => task.milestone_id.is_some_and(|m| ids.contains(&m)),
            TaskFilter::HasMilestone => task.milestone_id.is_some(),
            TaskFilter::PriorityIn(ps) => ps.contains(&task.priority),
            TaskFilter::PriorityCmp(op, p) => compare(*op, &task.priority, p),
            TaskFilter::DateCmp(field, op, at) => {
                date_of(task, *field).is_some_and(|d| compare(*op, &d, at))
            }
            TaskFilter::HasDate(field) => date_of(task, *field).is_some(),
            TaskFilter::HasEstimate => task.estimate_seconds.is_some(),
            TaskFilter::ParentIs(id) => task.parent_id == Some(*id),
            TaskFilter::HasParent => task.parent_id.is_some(),
            TaskFilter::Text(text) => {
                let needle = fold_case(text);
                fold_case(&task.title).contains(&needle)
                    || fold_case(&task.description).contains(&needle)
            }
        }
    }

    /// `And` of the two, dropping `True` parts.
    pub fn and(self, other: TaskFilter) -> TaskFilter {
        match (self, other) {
            (TaskFilter::True, f) | (f, TaskFilter::True) => f,
            (TaskFilter::And(mut a), TaskFilter::And(b)) => {
                a.extend(b);
                TaskFilter::And(a)
            }
            (TaskFilter::And(mut a), f) => {
                a.push(f);
                TaskFilter::And(a)
            }
            (f, g) => TaskFilter::And(vec![f, g]),
        }
    }
}

/// Which tasks a query ranges over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskScope {
    /// The tasks of one project.
    Project(ProjectId),
    /// The tasks of these projects of one workspace.
    Projects(WorkspaceId, Vec<ProjectId>),
}

/// A page request over tasks: the scope, a resolved filter, a sort order, a cursor and a limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskQuery {
    /// Which tasks.
    pub scope: TaskScope,
    /// Which of them.
    pub filter: TaskFilter,
    /// In which order.
    pub sort: TaskSort,
    /// Only tasks strictly after this position in the order.
    pub after: Option<TaskCursor>,
    /// At most this many.
    pub limit: usize,
    /// `false`: only tasks not in the trash. `true`: only tasks in the trash.
    pub trashed: bool,
}

impl TaskQuery {
    /// Whether `task` belongs to the scope and trash state and matches the filter.
    pub fn matches(&self, task: &Task) -> bool {
        let in_scope = match &self.scope {
            TaskScope::Project(p) => task.project_id == *p,
            TaskScope::Projects(ws, ps) => {
                task.workspace_id == *ws && ps.contains(&task.project_id)
            }
        };
        in_scope && task.deleted_at.is_some() == self.trashed && self.filter.matches(task)
    }
}
