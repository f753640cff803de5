//! How values are encoded: tasks in a compact binary form, everything else as JSON.
//!
//! Tasks are the records read most (a task GET decodes one, a page of 25 decodes 25) and
//! decoding their JSON was about a fifth of a task GET's CPU: field names to match, every id
//! parsed from its 36-character text, every timestamp from RFC 3339. The binary form
//! ([`TASK_FORMAT_1`]) is [postcard](https://docs.rs/postcard) of [`StoredTask`]: ids as their
//! 16 bytes, timestamps as Unix nanoseconds with their UTC offset, the priority as a fixed code,
//! strings borrowed while encoding. Its first byte names the format; JSON always starts with
//! `{`, so a task written by schema 3 (JSON) still decodes, which keeps an upgrade interrupted
//! by a crash readable (see [`crate::schema::SCHEMA_VERSION`]).
//!
//! The binary form is positional: it has no field names, so it cannot take a new field
//! silently. [`StoredTask`] names every field of [`Task`] and builds it without `..`, so a field
//! added to core fails to compile here until it gets a new format byte (and the old format's
//! decoder gives the new field its default).
//!
//! Other records stay JSON: they are read from the store's record cache on the hot paths, and
//! JSON keeps old databases readable when core adds optional fields.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use tasklane_core::event::NewEvent;
use tasklane_core::ids::{LabelId, MilestoneId, ProjectId, StatusId, TaskId, UserId, WorkspaceId};
use tasklane_core::model::{
    ApiToken, Comment, Dependency, Label, Membership, Milestone, Priority, Project, Task,
    TaskCounter, User, Workflow, Workspace,
};
use tasklane_core::store::StoreError;
use time::{OffsetDateTime, UtcOffset};

use crate::schema::Tree;

/// The first byte of a task in binary form, version 1.
pub(crate) const TASK_FORMAT_1: u8 = 1;

/// The first byte of every JSON object.
const JSON_OBJECT: u8 = b'{';

fn corrupt(tree: Tree, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("undecodable entry in tree '{}': {e}", tree.name()))
}

fn encode_failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("cannot encode {what}: {e}"))
}

/// A value kept in a record tree or the log, with how it is decoded.
pub(crate) trait StoredValue: Sized {
    /// Decodes a value read from `tree`; errors with [`StoreError::Corrupt`] naming the tree
    /// when the bytes are not a value of this kind.
    fn decode(tree: Tree, bytes: &[u8]) -> Result<Self, StoreError>;
}

macro_rules! stored_as_json {
    ($($t:ty),* $(,)?) => {
        $(
            impl StoredValue for $t {
                fn decode(tree: Tree, bytes: &[u8]) -> Result<Self, StoreError> {
                    serde_json::from_slice(bytes).map_err(|e| corrupt(tree, e))
                }
            }
        )*
    };
}

stored_as_json!(
    User,
    ApiToken,
    Workspace,
    Membership,
    Project,
    TaskCounter,
    Workflow,
    Dependency,
    Label,
    Milestone,
    Comment,
    NewEvent,
);

impl StoredValue for Task {
    fn decode(tree: Tree, bytes: &[u8]) -> Result<Self, StoreError> {
        match bytes.first() {
            Some(&TASK_FORMAT_1) => {
                let stored: StoredTask<'_> =
                    postcard::from_bytes(&bytes[1..]).map_err(|e| corrupt(tree, e))?;
                stored.into_task().map_err(|e| corrupt(tree, e))
            }
            Some(&JSON_OBJECT) => serde_json::from_slice(bytes).map_err(|e| corrupt(tree, e)),
            Some(other) => Err(corrupt(tree, format!("unknown task format {other}"))),
            None => Err(corrupt(tree, "an empty value")),
        }
    }
}

/// Encodes a record or an event as JSON; `what` names it in the error (built only then).
pub(crate) fn encode_json<T: Serialize>(
    what: impl FnOnce() -> String,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| encode_failed(&what(), e))
}

/// Encodes a task in the binary form ([`TASK_FORMAT_1`]).
pub(crate) fn encode_task(task: &Task) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(&(TASK_FORMAT_1, StoredTask::of(task)))
        .map_err(|e| encode_failed(&format!("task {}", task.id), e))
}

/// An instant with the UTC offset it was written with.
#[derive(Serialize, Deserialize)]
struct StoredInstant {
    unix_nanos: i128,
    offset_seconds: i32,
}

impl StoredInstant {
    fn of(at: OffsetDateTime) -> Self {
        StoredInstant {
            unix_nanos: at.unix_timestamp_nanos(),
            offset_seconds: at.offset().whole_seconds(),
        }
    }

    fn to_instant(&self) -> Result<OffsetDateTime, String> {
        let offset = UtcOffset::from_whole_seconds(self.offset_seconds)
            .map_err(|e| format!("UTC offset {}: {e}", self.offset_seconds))?;
        OffsetDateTime::from_unix_timestamp_nanos(self.unix_nanos)
            .ok()
            .and_then(|at| at.checked_to_offset(offset))
            .ok_or_else(|| {
                format!(
                    "timestamp {} at offset {} is out of range",
                    self.unix_nanos, self.offset_seconds
                )
            })
    }
}

fn instant_of(at: Option<OffsetDateTime>) -> Option<StoredInstant> {
    at.map(StoredInstant::of)
}

fn instant_from(stored: &Option<StoredInstant>) -> Result<Option<OffsetDateTime>, String> {
    stored.as_ref().map(StoredInstant::to_instant).transpose()
}

/// The fixed code of a priority in the binary form (independent of the enum's order).
fn priority_code(priority: Priority) -> u8 {
    match priority {
        Priority::None => 0,
        Priority::Low => 1,
        Priority::Medium => 2,
        Priority::High => 3,
        Priority::Urgent => 4,
    }
}

fn priority_of(code: u8) -> Result<Priority, String> {
    Ok(match code {
        0 => Priority::None,
        1 => Priority::Low,
        2 => Priority::Medium,
        3 => Priority::High,
        4 => Priority::Urgent,
        other => return Err(format!("unknown priority code {other}")),
    })
}

/// A task in binary form, version 1: the fields of [`Task`] in this order.
#[derive(Serialize, Deserialize)]
struct StoredTask<'a> {
    id: TaskId,
    workspace_id: WorkspaceId,
    project_id: ProjectId,
    number: u64,
    #[serde(borrow)]
    title: Cow<'a, str>,
    #[serde(borrow)]
    description: Cow<'a, str>,
    status_id: StatusId,
    priority: u8,
    assignee_ids: Cow<'a, [UserId]>,
    reporter_id: UserId,
    label_ids: Cow<'a, [LabelId]>,
    milestone_id: Option<MilestoneId>,
    due_at: Option<StoredInstant>,
    start_at: Option<StoredInstant>,
    estimate_seconds: Option<u64>,
    parent_id: Option<TaskId>,
    #[serde(borrow)]
    position: Cow<'a, str>,
    completed_at: Option<StoredInstant>,
    started_at: Option<StoredInstant>,
    deleted_at: Option<StoredInstant>,
    created_at: StoredInstant,
    updated_at: StoredInstant,
    version: u64,
}

impl<'a> StoredTask<'a> {
    fn of(task: &'a Task) -> Self {
        // Destructured so that a field added to `Task` does not compile here unnoticed.
        let Task {
            id,
            workspace_id,
            project_id,
            number,
            title,
            description,
            status_id,
            priority,
            assignee_ids,
            reporter_id,
            label_ids,
            milestone_id,
            due_at,
            start_at,
            estimate_seconds,
            parent_id,
            position,
            completed_at,
            started_at,
            deleted_at,
            created_at,
            updated_at,
            version,
        } = task;
        StoredTask {
            id: *id,
            workspace_id: *workspace_id,
            project_id: *project_id,
            number: *number,
            title: Cow::Borrowed(title),
            description: Cow::Borrowed(description),
            status_id: *status_id,
            priority: priority_code(*priority),
            assignee_ids: Cow::Borrowed(assignee_ids),
            reporter_id: *reporter_id,
            label_ids: Cow::Borrowed(label_ids),
            milestone_id: *milestone_id,
            due_at: instant_of(*due_at),
            start_at: instant_of(*start_at),
            estimate_seconds: *estimate_seconds,
            parent_id: *parent_id,
            position: Cow::Borrowed(position),
            completed_at: instant_of(*completed_at),
            started_at: instant_of(*started_at),
            deleted_at: instant_of(*deleted_at),
            created_at: StoredInstant::of(*created_at),
            updated_at: StoredInstant::of(*updated_at),
            version: *version,
        }
    }

    fn into_task(self) -> Result<Task, String> {
        Ok(Task {
            id: self.id,
            workspace_id: self.workspace_id,
            project_id: self.project_id,
            number: self.number,
            title: self.title.into_owned(),
            description: self.description.into_owned(),
            status_id: self.status_id,
            priority: priority_of(self.priority)?,
            assignee_ids: self.assignee_ids.into_owned(),
            reporter_id: self.reporter_id,
            label_ids: self.label_ids.into_owned(),
            milestone_id: self.milestone_id,
            due_at: instant_from(&self.due_at)?,
            start_at: instant_from(&self.start_at)?,
            estimate_seconds: self.estimate_seconds,
            parent_id: self.parent_id,
            position: self.position.into_owned(),
            completed_at: instant_from(&self.completed_at)?,
            started_at: instant_from(&self.started_at)?,
            deleted_at: instant_from(&self.deleted_at)?,
            created_at: self.created_at.to_instant()?,
            updated_at: self.updated_at.to_instant()?,
            version: self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn task() -> Task {
        Task {
            id: TaskId(id(1)),
            workspace_id: WorkspaceId(id(2)),
            project_id: ProjectId(id(3)),
            number: 42,
            title: "Fix the login page ✓".to_owned(),
            description: "A *markdown* description\nwith two lines".to_owned(),
            status_id: StatusId(id(4)),
            priority: Priority::High,
            assignee_ids: vec![UserId(id(5)), UserId(id(6))],
            reporter_id: UserId(id(7)),
            label_ids: vec![LabelId(id(8))],
            milestone_id: Some(MilestoneId(id(9))),
            due_at: Some(datetime!(2026-12-01 17:00:00.123456789 +02:00)),
            start_at: None,
            estimate_seconds: Some(3_600),
            parent_id: Some(TaskId(id(10))),
            position: "a0V".to_owned(),
            completed_at: None,
            started_at: Some(datetime!(2026-11-30 09:00 UTC)),
            deleted_at: None,
            created_at: datetime!(2026-11-29 08:30:00.5 UTC),
            updated_at: datetime!(2026-11-30 10:00:00.000000001 -05:30),
            version: 7,
        }
    }

    fn assert_identical(a: &Task, b: &Task) {
        // `OffsetDateTime` equality ignores the offset; the JSON form shows it.
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(a).unwrap(),
            serde_json::to_string(b).unwrap()
        );
    }

    #[test]
    fn a_task_comes_back_exactly_with_its_offsets() {
        for priority in Priority::ALL {
            let mut t = task();
            t.priority = priority;
            let bytes = encode_task(&t).unwrap();
            assert_eq!(bytes[0], TASK_FORMAT_1);
            assert_identical(&Task::decode(Tree::Tasks, &bytes).unwrap(), &t);
        }
        let mut bare = task();
        bare.assignee_ids.clear();
        bare.label_ids.clear();
        bare.milestone_id = None;
        bare.due_at = None;
        bare.estimate_seconds = None;
        bare.parent_id = None;
        bare.started_at = None;
        bare.description.clear();
        let bytes = encode_task(&bare).unwrap();
        assert_identical(&Task::decode(Tree::Tasks, &bytes).unwrap(), &bare);
    }

    #[test]
    fn a_task_in_json_still_decodes() {
        let t = task();
        let json = serde_json::to_vec(&t).unwrap();
        assert_identical(&Task::decode(Tree::Tasks, &json).unwrap(), &t);
    }

    #[test]
    fn damaged_tasks_are_corrupt_not_a_panic() {
        let bytes = encode_task(&task()).unwrap();
        for cut in 0..bytes.len() {
            let err = Task::decode(Tree::Tasks, &bytes[..cut]).unwrap_err();
            assert!(
                matches!(err, StoreError::Corrupt(_)),
                "cut at {cut}: {err:?}"
            );
        }
        let mut unknown = bytes.clone();
        unknown[0] = 9;
        let err = Task::decode(Tree::Tasks, &unknown).unwrap_err();
        assert!(err.to_string().contains("unknown task format 9"), "{err}");
        // A priority code that does not exist.
        let t = task();
        let mut stored = StoredTask::of(&t);
        stored.priority = 200;
        let bytes = postcard::to_allocvec(&(TASK_FORMAT_1, stored)).unwrap();
        let err = Task::decode(Tree::Tasks, &bytes).unwrap_err();
        assert!(err.to_string().contains("priority"), "{err}");
    }

    #[test]
    fn the_binary_form_is_smaller_than_json() {
        let t = task();
        let binary = encode_task(&t).unwrap().len();
        let json = serde_json::to_vec(&t).unwrap().len();
        assert!(
            binary * 2 < json,
            "binary {binary} bytes, JSON {json} bytes"
        );
    }
}
