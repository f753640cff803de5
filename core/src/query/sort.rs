//! Sort orders and keyset cursors. Every order ends with the task id, so it is total and a
//! cursor (the last row's sort value and id) names a stable position: rows inserted before it do
//! not shift the pages after it.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::TaskId;
use crate::model::Task;

/// The field a task list is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    /// Creation order (the task number within a project).
    Created,
    /// Last change.
    Updated,
    /// Due date; tasks without one come last in either direction.
    Due,
    /// Priority rank.
    Priority,
    /// Board position.
    Position,
    /// Title, by Unicode code points.
    Title,
}

impl SortField {
    /// The field's name in `sort=`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SortField::Created => "created",
            SortField::Updated => "updated",
            SortField::Due => "due",
            SortField::Priority => "priority",
            SortField::Position => "position",
            SortField::Title => "title",
        }
    }
}

/// A sort order: a field and a direction, with the task id as the final tie-break (in the same
/// direction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSort {
    /// The field.
    pub field: SortField,
    /// Largest first.
    pub descending: bool,
}

impl Default for TaskSort {
    fn default() -> Self {
        TaskSort {
            field: SortField::Created,
            descending: false,
        }
    }
}

impl fmt::Display for TaskSort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.descending {
            f.write_str("-")?;
        }
        f.write_str(self.field.as_str())
    }
}

impl FromStr for TaskSort {
    type Err = String;

    /// Parses `created`, `-updated`, `due`, ...; errors with a sentence listing the valid fields.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let field = [
            SortField::Created,
            SortField::Updated,
            SortField::Due,
            SortField::Priority,
            SortField::Position,
            SortField::Title,
        ]
        .into_iter()
        .find(|f| f.as_str() == name)
        .ok_or_else(|| {
            format!("'{s}' is not a sort order; use created, updated, due, priority, position or title, with '-' for descending")
        })?;
        Ok(TaskSort { field, descending })
    }
}

/// A task's value for a sort field. `Null` (no due date) sorts after every other value in both
/// directions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortValue {
    /// An integer: unix nanoseconds for times, a rank or a number.
    Int(i128),
    /// Text.
    Text(String),
    /// No value.
    Null,
}

impl SortValue {
    /// Compares two values of the same field in ascending order, `Null` last.
    fn cmp_ascending(&self, other: &SortValue) -> Ordering {
        match (self, other) {
            (SortValue::Null, SortValue::Null) => Ordering::Equal,
            (SortValue::Null, _) => Ordering::Greater,
            (_, SortValue::Null) => Ordering::Less,
            (SortValue::Int(a), SortValue::Int(b)) => a.cmp(b),
            (SortValue::Text(a), SortValue::Text(b)) => a.cmp(b),
            (SortValue::Int(_), SortValue::Text(_)) => Ordering::Less,
            (SortValue::Text(_), SortValue::Int(_)) => Ordering::Greater,
        }
    }
}

/// A position in a sorted list: the sort value and id of the last task of the previous page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCursor {
    /// The sort value of the last task seen.
    pub value: SortValue,
    /// Its id.
    pub id: TaskId,
}

impl TaskSort {
    /// The sort value of `task` for this order's field.
    pub fn value_of(&self, task: &Task) -> SortValue {
        match self.field {
            SortField::Created => SortValue::Int(task.created_at.unix_timestamp_nanos()),
            SortField::Updated => SortValue::Int(task.updated_at.unix_timestamp_nanos()),
            SortField::Due => task
                .due_at
                .map(|d| SortValue::Int(d.unix_timestamp_nanos()))
                .unwrap_or(SortValue::Null),
            SortField::Priority => SortValue::Int(i128::from(task.priority.rank())),
            SortField::Position => SortValue::Text(task.position.clone()),
            SortField::Title => SortValue::Text(task.title.clone()),
        }
    }

    /// The cursor that points just after `task`.
    pub fn cursor_of(&self, task: &Task) -> TaskCursor {
        TaskCursor {
            value: self.value_of(task),
            id: task.id,
        }
    }

    /// Compares two (value, id) positions in this order.
    pub fn compare(&self, a: (&SortValue, TaskId), b: (&SortValue, TaskId)) -> Ordering {
        let nulls = matches!(a.0, SortValue::Null).cmp(&matches!(b.0, SortValue::Null));
        if nulls != Ordering::Equal {
            return nulls;
        }
        let by_value = a.0.cmp_ascending(b.0).then(a.1.cmp(&b.1));
        if self.descending {
            by_value.reverse()
        } else {
            by_value
        }
    }

    /// Compares two tasks in this order.
    pub fn compare_tasks(&self, a: &Task, b: &Task) -> Ordering {
        self.compare((&self.value_of(a), a.id), (&self.value_of(b), b.id))
    }

    /// Whether `task` comes strictly after `cursor` in this order.
    pub fn is_after(&self, task: &Task, cursor: &TaskCursor) -> bool {
        self.compare((&self.value_of(task), task.id), (&cursor.value, cursor.id))
            == Ordering::Greater
    }
}
