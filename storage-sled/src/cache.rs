//! Decoded records that nearly every request reads: the caller's token and user, the project,
//! membership and workflow it works in, and tasks, up to a budget of bytes. Reading and decoding
//! a task was a fifth of a task GET's CPU with tasks as JSON; with the binary form, serving
//! tasks from here still took a fifth off the server's CPU per GET. sled has one opener, so a
//! cache in the store stays coherent: the applier forgets every record a commit writes.
//!
//! Tasks are kept within a budget of their approximate memory ([`DecodedTasks`]), not a count:
//! a description can be anything up to 100 KB, so a count would bound nothing.
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

use tasklane_core::ids::TokenId;
use tasklane_core::store::{DecodedTasks, Record, RecordKey};

/// The most records other than tasks kept; past it the cache starts over (the working set of
/// requests is the active users and their projects, far below this).
const MAX_RECORDS: usize = 16_384;

struct Kept {
    /// Records other than tasks.
    records: HashMap<RecordKey, Record>,
    /// Token secret hashes to token ids.
    tokens: HashMap<String, TokenId>,
    /// Tasks, within the cache's budget of bytes.
    tasks: DecodedTasks,
}

/// The cache of one store.
pub(crate) struct RecordCache {
    kept: Mutex<Kept>,
}

impl RecordCache {
    /// An empty cache keeping tasks of at most `task_budget` bytes (see [`DecodedTasks`]).
    pub(crate) fn new(task_budget: usize) -> Self {
        RecordCache {
            kept: Mutex::new(Kept {
                records: HashMap::new(),
                tokens: HashMap::new(),
                tasks: DecodedTasks::new(task_budget),
            }),
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
        self.keep_if_current(read_at, generation, |kept| match record {
            Record::Task(task) => kept.tasks.keep(task),
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
                kept.tasks.forget(id);
            }
            if matches!(key, RecordKey::Token(_)) {
                kept.tokens.clear();
            }
        }
    }
}
