//! Which tasks may have blockers: kept in memory so that showing a task without any (nearly every
//! task) does not open a range scan of the dependencies space, which cost about a twentieth of a
//! task GET's server time.
//!
//! The set is a superset of the tasks with a blocker edge in the store. It is loaded on open
//! from the dependencies space's keys, and a commit adds the blocked task of every edge it
//! writes *before* its batch is applied; so a reader that finds a task missing may answer "no
//! blockers" without reading sled: any edge it could have seen was applied after the reader
//! looked, which is as if the read had happened first. Removed edges leave their task in the
//! set until the store is opened again; that costs a scan, never a wrong answer.

use std::collections::HashSet;
use std::sync::RwLock;

use tasklane_core::ids::TaskId;
use tasklane_core::store::RecordKey;

use crate::error::SledError;
use crate::space::Space;

/// The tasks that may have blocker edges (see the module's documentation).
#[derive(Default)]
pub(crate) struct BlockedTasks {
    tasks: RwLock<HashSet<TaskId>>,
}

impl BlockedTasks {
    /// Adds the blocked task of every key in `dependencies` (the dependencies space, whose keys
    /// start with the blocked task's 16-byte id).
    ///
    /// Errors: sled fails to read, or a key is shorter than an id.
    pub(crate) fn load(&self, dependencies: &Space) -> Result<(), SledError> {
        let mut tasks = self.write();
        for item in dependencies.iter() {
            let (key, _) = item?;
            let id: [u8; 16] = key
                .get(..16)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| SledError::Corrupt("malformed dependency key".to_owned()))?;
            tasks.insert(TaskId(uuid::Uuid::from_bytes(id)));
        }
        Ok(())
    }

    /// Whether `task` may have blocker edges; `false` means it has none.
    pub(crate) fn may_be_blocked(&self, task: TaskId) -> bool {
        self.tasks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&task)
    }

    /// Notes the edges a commit is about to write; called before its batch is applied.
    pub(crate) fn note_written<'k>(&self, written: impl IntoIterator<Item = &'k RecordKey>) {
        let mut added = written.into_iter().filter_map(|key| match key {
            RecordKey::Dependency(task, _) => Some(*task),
            _ => None,
        });
        if let Some(first) = added.next() {
            let mut tasks = self.write();
            tasks.insert(first);
            tasks.extend(added);
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashSet<TaskId>> {
        self.tasks.write().unwrap_or_else(|e| e.into_inner())
    }
}
