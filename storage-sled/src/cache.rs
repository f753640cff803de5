//! Decoded records that nearly every request reads: the caller's token and user, the project,
//! membership and workflow it works in, and tasks, up to a budget of bytes. Reading and decoding
//! a task was a fifth of a task GET's CPU with tasks as JSON; with the binary form, serving
//! tasks from here still took a fifth off the server's CPU per GET. sled has one opener, so a
//! cache in the store stays coherent: the applier forgets every record a commit writes.
//!
//! Tasks are kept within a budget of their approximate memory ([`approximate_size`]), not a
//! count: a description can be anything up to 100 KB, so a count would bound nothing.
//!
//! The protocol, with the commit generation of `Inner` (odd while a commit is applied):
//! - a commit moves the generation to odd, forgets the records it writes (under the cache's
//!   lock), applies its batch, and moves the generation to even;
//! - a reader notes the generation before it reads sled, and keeps what it read only if that
//!   generation was even and is still current under the cache's lock.
//!
//! So nothing read before a commit is kept after the commit forgot it, and no reader is served
//! an old record from the cache once the new one is in sled: the old one was forgotten before
//! the batch was applied.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard};

use tasklane_core::ids::{LabelId, TaskId, TokenId, UserId};
use tasklane_core::model::Task;
use tasklane_core::store::{Record, RecordKey};

/// The most records other than tasks kept; past it the cache starts over (the working set of
/// requests is the active users and their projects, far below this).
const MAX_RECORDS: usize = 16_384;

#[derive(Default)]
struct Kept {
    /// Records other than tasks.
    records: HashMap<RecordKey, Record>,
    /// Token secret hashes to token ids.
    tokens: HashMap<String, TokenId>,
    /// Tasks, within [`RecordCache::task_budget`].
    tasks: HashMap<TaskId, Task>,
    /// The sum of [`approximate_size`] over `tasks`.
    task_bytes: usize,
}

impl Kept {
    fn forget_task(&mut self, id: &TaskId) {
        if let Some(old) = self.tasks.remove(id) {
            self.task_bytes = self.task_bytes.saturating_sub(approximate_size(&old));
        }
    }

    /// Keeps `task` if it fits in `budget`, dropping arbitrary eighths of the kept tasks until
    /// it does (keeping stays cheap on average).
    fn keep_task(&mut self, task: Task, budget: usize) {
        self.forget_task(&task.id);
        let size = approximate_size(&task);
        if size > budget {
            return;
        }
        while self.task_bytes + size > budget && !self.tasks.is_empty() {
            let mut n = 0usize;
            let mut dropped = 0usize;
            self.tasks.retain(|_, kept| {
                n += 1;
                let keep = !n.is_multiple_of(8) && n > 1;
                if !keep {
                    dropped += approximate_size(kept);
                }
                keep
            });
            self.task_bytes = self.task_bytes.saturating_sub(dropped);
        }
        self.task_bytes += size;
        self.tasks.insert(task.id, task);
    }
}

/// About how much memory a kept task takes: its slot in the map (the id and the struct, twice
/// over for the map's spare capacity) and the heap its strings and lists hold.
pub(crate) fn approximate_size(task: &Task) -> usize {
    use std::mem::size_of;
    2 * (size_of::<TaskId>() + size_of::<Task>())
        + task.title.capacity()
        + task.description.capacity()
        + task.position.capacity()
        + task.assignee_ids.capacity() * size_of::<UserId>()
        + task.label_ids.capacity() * size_of::<LabelId>()
}

/// The cache of one store.
#[derive(Default)]
pub(crate) struct RecordCache {
    kept: Mutex<Kept>,
    /// The most bytes of tasks kept, by [`approximate_size`] (0: none).
    task_budget: usize,
}

impl RecordCache {
    /// An empty cache keeping tasks of at most `task_budget` bytes (by [`approximate_size`]).
    pub(crate) fn new(task_budget: usize) -> Self {
        RecordCache {
            kept: Mutex::default(),
            task_budget,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The kept record under `key`.
    pub(crate) fn record(&self, key: &RecordKey) -> Option<Record> {
        let kept = self.lock();
        match key {
            RecordKey::Task(id) => kept.tasks.get(id).cloned().map(Record::Task),
            _ => kept.records.get(key).cloned(),
        }
    }

    /// The id of the token whose secret hashes to `hash`, if kept.
    pub(crate) fn token_id(&self, hash: &str) -> Option<TokenId> {
        self.lock().tokens.get(hash).copied()
    }

    /// Runs `keep` on the kept records if `read_at` is even and still the current `generation`
    /// (checked under the lock that commits take to forget).
    fn keep_if_current(&self, read_at: u64, generation: &AtomicU64, keep: impl FnOnce(&mut Kept)) {
        let mut kept = self.lock();
        if read_at.is_multiple_of(2) && generation.load(SeqCst) == read_at {
            keep(&mut kept);
        }
    }

    /// Keeps `record`, read after the generation was `read_at`, if that is even and still the
    /// current `generation`.
    pub(crate) fn keep(
        &self,
        key: RecordKey,
        record: Record,
        read_at: u64,
        generation: &AtomicU64,
    ) {
        let task_budget = self.task_budget;
        self.keep_if_current(read_at, generation, |kept| match record {
            Record::Task(task) => kept.keep_task(task, task_budget),
            record => {
                if kept.records.len() >= MAX_RECORDS {
                    kept.records.clear();
                }
                kept.records.insert(key, record);
            }
        });
    }

    /// Keeps that `hash` is the secret hash of the token `id`, as [`Self::keep`] does.
    pub(crate) fn keep_token_hash(
        &self,
        hash: &str,
        id: TokenId,
        read_at: u64,
        generation: &AtomicU64,
    ) {
        self.keep_if_current(read_at, generation, |kept| {
            if kept.tokens.len() >= MAX_RECORDS {
                kept.tokens.clear();
            }
            kept.tokens.insert(hash.to_owned(), id);
        });
    }

    /// Forgets the records a commit is about to write (and, when it writes a token, every
    /// secret hash). Called with the generation odd, before the commit's batch is applied.
    pub(crate) fn forget<'k>(&self, written: impl IntoIterator<Item = &'k RecordKey>) {
        let mut kept = self.lock();
        for key in written {
            kept.records.remove(key);
            if let RecordKey::Task(id) = key {
                kept.forget_task(id);
            }
            if matches!(key, RecordKey::Token(_)) {
                kept.tokens.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn task(n: u128, description_len: usize) -> Task {
        let mut t = crate::codec::tests::task();
        t.id = TaskId(Uuid::from_u128(n));
        t.description = "d".repeat(description_len);
        t
    }

    fn kept_bytes(kept: &Kept) -> usize {
        kept.tasks.values().map(approximate_size).sum()
    }

    #[test]
    fn tasks_stay_within_the_budget_and_are_counted_exactly() {
        let one = approximate_size(&task(0, 100));
        let budget = 50 * one;
        let mut kept = Kept::default();
        for n in 0..1_000 {
            kept.keep_task(task(n, 100), budget);
            assert!(kept.task_bytes <= budget, "after {n}: {}", kept.task_bytes);
            assert_eq!(kept.task_bytes, kept_bytes(&kept));
        }
        assert!(kept.tasks.len() > 25, "only {} kept", kept.tasks.len());
        assert!(kept.tasks.contains_key(&TaskId(Uuid::from_u128(999))));
        // Keeping a task again replaces it; forgetting gives its bytes back.
        kept.keep_task(task(999, 2_000), budget);
        assert_eq!(kept.task_bytes, kept_bytes(&kept));
        kept.forget_task(&TaskId(Uuid::from_u128(999)));
        kept.forget_task(&TaskId(Uuid::from_u128(5_000)));
        assert_eq!(kept.task_bytes, kept_bytes(&kept));
    }

    #[test]
    fn long_descriptions_take_their_length_and_oversized_tasks_are_not_kept() {
        let short = approximate_size(&task(0, 10));
        let long = approximate_size(&task(0, 100_000));
        assert!(long >= short + 100_000 - 10, "{short} {long}");
        let mut kept = Kept::default();
        kept.keep_task(task(1, 100_000), long - 1);
        assert!(kept.tasks.is_empty());
        assert_eq!(kept.task_bytes, 0);
        // A budget of 0 keeps nothing.
        kept.keep_task(task(2, 0), 0);
        assert!(kept.tasks.is_empty());
        // A large task makes room by dropping others, even when fewer than eight are kept.
        let budget = long + 2 * short;
        kept.keep_task(task(3, 10), budget);
        kept.keep_task(task(4, 10), budget);
        kept.keep_task(task(5, 100_000), budget);
        assert!(kept.tasks.contains_key(&TaskId(Uuid::from_u128(5))));
        assert!(kept.task_bytes <= budget);
        assert_eq!(kept.task_bytes, kept_bytes(&kept));
    }
}
