//! Decoded tasks kept in memory by a store adapter's cache, within a budget of bytes.
//!
//! A count would bound nothing: a description can be anything up to 100 KB. Each task is
//! counted by [`DecodedTasks::approximate_size`]: its slot in the map (the id, the struct, and
//! about as much again in the map's spare capacity) and the heap its strings and lists hold.
//! Coherence (when to forget) is the adapter's business; this is only the bounded map.

use std::collections::HashMap;
use std::mem::size_of;

use crate::ids::{LabelId, TaskId, UserId};
use crate::model::Task;

/// Tasks kept within a budget of bytes; when the budget is reached, arbitrary tasks are dropped
/// (an eighth at a time, so that keeping stays cheap on average).
#[derive(Debug, Default)]
pub struct DecodedTasks {
    tasks: HashMap<TaskId, Task>,
    bytes: usize,
    budget: usize,
}

impl DecodedTasks {
    /// An empty map that keeps at most `budget` bytes of tasks (0: keeps none).
    pub fn new(budget: usize) -> Self {
        DecodedTasks {
            tasks: HashMap::new(),
            bytes: 0,
            budget,
        }
    }

    /// About how much memory `task` takes once kept.
    pub fn approximate_size(task: &Task) -> usize {
        2 * (size_of::<TaskId>() + size_of::<Task>())
            + task.title.capacity()
            + task.description.capacity()
            + task.position.capacity()
            + task.assignee_ids.capacity() * size_of::<UserId>()
            + task.label_ids.capacity() * size_of::<LabelId>()
    }

    /// The kept task with this id.
    pub fn get(&self, id: &TaskId) -> Option<&Task> {
        self.tasks.get(id)
    }

    /// How many tasks are kept.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether no task is kept.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The bytes the kept tasks take, by [`Self::approximate_size`]; never above the budget.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Keeps `task` (replacing a kept one with its id) if it fits in the budget at all,
    /// dropping arbitrary tasks until it fits.
    pub fn keep(&mut self, task: Task) {
        self.keep_reporting_drops(task, |_| {});
    }

    /// [`Self::keep`], calling `dropped` with the id of every other task it drops to make room,
    /// so that a cache can drop what it keeps beside those tasks.
    pub fn keep_reporting_drops(&mut self, task: Task, mut dropped: impl FnMut(&TaskId)) {
        self.forget(&task.id);
        let size = Self::approximate_size(&task);
        if size > self.budget {
            return;
        }
        while self.bytes + size > self.budget && !self.tasks.is_empty() {
            let mut n = 0usize;
            let mut dropped_bytes = 0usize;
            self.tasks.retain(|id, kept| {
                n += 1;
                // The first always goes, so that a few large tasks also make room.
                let keep = n > 1 && !n.is_multiple_of(8);
                if !keep {
                    dropped_bytes += Self::approximate_size(kept);
                    dropped(id);
                }
                keep
            });
            self.bytes = self.bytes.saturating_sub(dropped_bytes);
        }
        self.bytes += size;
        self.tasks.insert(task.id, task);
    }

    /// Forgets the task with this id, if kept.
    pub fn forget(&mut self, id: &TaskId) {
        if let Some(old) = self.tasks.remove(id) {
            self.bytes = self.bytes.saturating_sub(Self::approximate_size(&old));
        }
    }

    /// Forgets every task.
    pub fn clear(&mut self) {
        self.tasks.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Priority;
    use time::OffsetDateTime;
    use uuid::Uuid;

    fn task(n: u128, description_len: usize) -> Task {
        let id = |k: u128| Uuid::from_u128(k);
        Task {
            id: TaskId(id(n)),
            workspace_id: crate::ids::WorkspaceId(id(1)),
            project_id: crate::ids::ProjectId(id(2)),
            number: 1,
            title: "A task".to_owned(),
            description: "d".repeat(description_len),
            status_id: crate::ids::StatusId(id(3)),
            priority: Priority::High,
            assignee_ids: vec![UserId(id(4))],
            reporter_id: UserId(id(4)),
            label_ids: vec![],
            milestone_id: None,
            due_at: None,
            start_at: None,
            estimate_seconds: None,
            parent_id: None,
            position: "a0".to_owned(),
            completed_at: None,
            started_at: None,
            deleted_at: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            version: 1,
        }
    }

    fn counted(kept: &DecodedTasks) -> usize {
        kept.tasks
            .values()
            .map(DecodedTasks::approximate_size)
            .sum()
    }

    #[test]
    fn tasks_stay_within_the_budget_and_are_counted_exactly() {
        let one = DecodedTasks::approximate_size(&task(0, 100));
        let mut kept = DecodedTasks::new(50 * one);
        for n in 0..1_000 {
            kept.keep(task(n, 100));
            assert!(kept.bytes() <= 50 * one, "after {n}: {}", kept.bytes());
            assert_eq!(kept.bytes(), counted(&kept));
        }
        assert!(kept.len() > 25, "only {} kept", kept.len());
        assert!(kept.get(&TaskId(Uuid::from_u128(999))).is_some());
        // Keeping a task again replaces it; forgetting gives its bytes back.
        kept.keep(task(999, 2_000));
        assert_eq!(kept.bytes(), counted(&kept));
        kept.forget(&TaskId(Uuid::from_u128(999)));
        kept.forget(&TaskId(Uuid::from_u128(5_000)));
        assert_eq!(kept.bytes(), counted(&kept));
        kept.clear();
        assert!(kept.is_empty());
        assert_eq!(kept.bytes(), 0);
    }

    #[test]
    fn every_task_dropped_to_make_room_is_reported() {
        let one = DecodedTasks::approximate_size(&task(0, 100));
        let mut kept = DecodedTasks::new(20 * one);
        let mut dropped = std::collections::HashSet::new();
        for n in 0..200 {
            kept.keep_reporting_drops(task(n, 100), |id| {
                assert!(dropped.insert(*id), "{id:?} reported twice");
            });
        }
        // Every task is either kept or was reported, never both.
        for n in 0..200 {
            let id = TaskId(Uuid::from_u128(n));
            assert_ne!(kept.get(&id).is_some(), dropped.contains(&id), "task {n}");
        }
        assert!(!dropped.is_empty());
    }

    #[test]
    fn long_descriptions_take_their_length_and_oversized_tasks_are_not_kept() {
        let short = DecodedTasks::approximate_size(&task(0, 10));
        let long = DecodedTasks::approximate_size(&task(0, 100_000));
        assert!(long >= short + 100_000 - 10, "{short} {long}");
        let mut kept = DecodedTasks::new(long - 1);
        kept.keep(task(1, 100_000));
        assert!(kept.is_empty());
        assert_eq!(kept.bytes(), 0);
        let mut none = DecodedTasks::new(0);
        none.keep(task(2, 0));
        assert!(none.is_empty());
        // A large task makes room by dropping others, even when fewer than eight are kept.
        let mut kept = DecodedTasks::new(long + short);
        kept.keep(task(3, 10));
        kept.keep(task(4, 10));
        kept.keep(task(5, 100_000));
        assert!(kept.get(&TaskId(Uuid::from_u128(5))).is_some());
        assert!(kept.bytes() <= long + short);
        assert_eq!(kept.bytes(), counted(&kept));
    }
}
