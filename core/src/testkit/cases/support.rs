//! Helpers shared by the engine-level cases: structural error checks with clear messages.

use std::fmt::Debug;

use crate::engine::{Actor, Engine, NewTask, TaskRef, TaskView};
use crate::error::{Conflict, Error, Result};
use crate::event::{Event, EventKind};
use crate::ids::{ProjectId, TaskId};
use crate::store::Store;

/// Asserts that `result` failed with [`Error::NotFound`].
#[track_caller]
pub(crate) fn not_found<T: Debug>(result: Result<T>, what: &str) {
    match result {
        Err(Error::NotFound { .. }) => {}
        other => panic!("{what}: expected Error::NotFound, got {other:?}"),
    }
}

/// Asserts that `result` failed with [`Error::Forbidden`].
#[track_caller]
pub(crate) fn forbidden<T: Debug>(result: Result<T>, what: &str) {
    match result {
        Err(Error::Forbidden { .. }) => {}
        other => panic!("{what}: expected Error::Forbidden, got {other:?}"),
    }
}

/// Asserts that `result` failed with [`Error::Unauthenticated`].
#[track_caller]
pub(crate) fn unauthenticated<T: Debug>(result: Result<T>, what: &str) {
    match result {
        Err(Error::Unauthenticated) => {}
        other => panic!("{what}: expected Error::Unauthenticated, got {other:?}"),
    }
}

/// Asserts that `result` failed with [`Error::Conflict`] and returns the reason.
#[track_caller]
pub(crate) fn conflict<T: Debug>(result: Result<T>, what: &str) -> Conflict {
    match result {
        Err(Error::Conflict(c)) => c,
        other => panic!("{what}: expected Error::Conflict, got {other:?}"),
    }
}

/// Asserts that `result` failed with [`Error::Validation`] and returns the bad fields' names.
#[track_caller]
pub(crate) fn invalid_fields<T: Debug>(result: Result<T>, what: &str) -> Vec<String> {
    match result {
        Err(Error::Validation(errors)) => {
            for e in &errors {
                assert!(
                    !e.message.trim().is_empty(),
                    "{what}: field {} has an empty message",
                    e.field
                );
            }
            errors.into_iter().map(|e| e.field).collect()
        }
        other => panic!("{what}: expected Error::Validation, got {other:?}"),
    }
}

/// Asserts that `result` failed with a validation error naming exactly `expected` (in any order).
#[track_caller]
pub(crate) fn invalid_exactly<T: Debug>(result: Result<T>, expected: &[&str], what: &str) {
    let mut fields = invalid_fields(result, what);
    fields.sort();
    fields.dedup();
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(fields, expected, "{what}: the bad fields listed");
}

/// Asserts that `result` failed with a validation error whose fields include `field`; returns
/// that field's message.
#[track_caller]
pub(crate) fn invalid_field<T: Debug>(result: Result<T>, field: &str, what: &str) -> String {
    match result {
        Err(Error::Validation(errors)) => errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
            .unwrap_or_else(|| panic!("{what}: validation should name `{field}`, got {errors:?}")),
        other => panic!("{what}: expected Error::Validation on `{field}`, got {other:?}"),
    }
}

/// Unwraps an engine result, naming the step on failure.
#[track_caller]
pub(crate) fn ok<T>(result: Result<T>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected error {e:?} ({e})"),
    }
}

/// A task reference by id.
pub(crate) fn by_id(id: TaskId) -> TaskRef {
    TaskRef::Id(id)
}

/// A task reference parsed from a key such as `ENG-2`.
#[track_caller]
pub(crate) fn by_key(key: &str) -> TaskRef {
    key.parse()
        .unwrap_or_else(|e| panic!("'{key}' should parse as a task key: {e}"))
}

/// The `snake_case` kind names of events, in order.
pub(crate) fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.name()).collect()
}

/// The field names of a `task_updated` event's changes.
pub(crate) fn changed_fields(kind: &EventKind) -> Vec<String> {
    match kind {
        EventKind::TaskUpdated { changes, .. } => changes.iter().map(|c| c.field.clone()).collect(),
        other => panic!("expected a task_updated event, got {other:?}"),
    }
}

/// A new task with only a title.
pub(crate) fn titled(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        ..NewTask::default()
    }
}

/// Creates a task as `actor`, failing the case if that fails.
pub(crate) async fn create_task<S: Store>(
    engine: &Engine<S>,
    actor: &Actor,
    project: ProjectId,
    new: NewTask,
) -> TaskView {
    let title = new.title.clone();
    ok(
        engine.tasks().create(actor, project, new).await,
        &format!("create task '{title}'"),
    )
}
