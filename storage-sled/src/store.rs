//! The store: opening, the commit path with group commit, and the reads.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::{IVec, Transactional};
use tasklane_core::event::{Event, EventQuery, EventScope, NewEvent};
use tasklane_core::ids::{
    CommentId, LabelId, MilestoneId, ProjectId, TaskId, TokenId, UserId, WorkspaceId,
};
use tasklane_core::model::{
    ApiToken, Comment, Dependency, Label, Membership, Milestone, Project, Task, TaskCounter, User,
    Workflow, Workspace,
};
use tasklane_core::query::{TaskFilter, TaskQuery};
use tasklane_core::store::{
    Commit, CommitReceipt, Expected, Record, RecordKey, StatusCount, Store, StoreError,
    StoreResult, Write,
};

use crate::error::{from_sled, is_lock_error, SledError};
use crate::keys::{trailing_uuid, u64_at, uuid_at, Key};
use crate::schema::{
    self, decode, decode_record, encode_event, encode_record, entries_of, event_entries, locate,
    meta, Entries, Tree, OLDEST_UPGRADABLE, SCHEMA_VERSION,
};

/// How long [`SledStore::open`] waits for the directory's lock before reporting
/// [`SledError::Locked`].
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// When an acknowledged commit is on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `commit` returns only after the commit has been written and flushed to the log file
    /// (an acknowledged commit survives the process being killed). Concurrent commits share one
    /// flush (group commit), so throughput grows with the number of concurrent writers.
    ///
    /// Events become visible to [`Store::events`] and [`Store::last_seq`] once flushed, so a
    /// log consumer never acts on an event that a crash could take back; records are visible to
    /// other readers as soon as the commit is applied, slightly before its flush.
    #[default]
    Flush,
    /// Relaxed: `commit` returns as soon as the commit is applied in memory, and a background
    /// thread flushes every `every_ms` milliseconds. A crash loses at most the commits of the
    /// last interval (never part of a commit: recovery is atomic per commit). Events are visible
    /// as soon as they are applied.
    Periodic {
        /// The flush interval in milliseconds (at least 1).
        every_ms: u64,
    },
}

/// How to open a [`SledStore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SledConfig {
    /// The database directory (created when missing).
    pub path: PathBuf,
    /// When commits are durable; [`Durability::Flush`] by default.
    pub durability: Durability,
    /// The size of sled's page cache in bytes (128 MiB by default). Reads that miss it go to the
    /// files and cost several times more: give it about 1.3 KiB per task (records and indexes)
    /// to keep a project's working set in memory. sled's own structures come on top.
    pub cache_capacity_bytes: u64,
}

impl SledConfig {
    /// The default cache capacity: 128 MiB (a process serving a store of 100,000 tasks from it
    /// stays near 120 MB resident).
    pub const DEFAULT_CACHE_CAPACITY: u64 = 128 * 1024 * 1024;

    /// A configuration for the directory `path` with the defaults (flush before acknowledging,
    /// 128 MiB of cache).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SledConfig {
            path: path.into(),
            durability: Durability::default(),
            cache_capacity_bytes: Self::DEFAULT_CACHE_CAPACITY,
        }
    }

    /// Sets the durability.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets the cache capacity in bytes.
    pub fn cache_capacity_bytes(mut self, bytes: u64) -> Self {
        self.cache_capacity_bytes = bytes;
        self
    }
}

/// The embedded Tasklane store on sled. Cheap to clone: clones are handles on the same open
/// database. The database closes (after a final flush) when the last handle is dropped.
///
/// See the crate documentation for the layout, the commit path and the durability guarantees.
#[derive(Clone)]
pub struct SledStore {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.inner.path)
            .field("durability", &self.inner.durability)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    db: sled::Db,
    /// Every tree, indexed by [`Tree`]'s discriminant.
    trees: Vec<sled::Tree>,
    path: Option<PathBuf>,
    durability: Durability,
    /// Serialises commits (sled would serialise the transactions anyway; holding our own lock
    /// also orders the log and the commit tickets, and guards `last_seq`). Reads that keep
    /// overlapping commits take it shared.
    commit_lock: RwLock<()>,
    /// A sequence lock over commits: odd while a commit is being applied. Multi-read operations
    /// retry when it moved, so they never observe part of a commit.
    generation: AtomicU64,
    /// The highest sequence number applied.
    last_seq: AtomicU64,
    /// The highest sequence number readers may see (flushed, under [`Durability::Flush`]).
    visible_seq: AtomicU64,
    /// How many commits have been applied (each commit's ticket).
    applied: AtomicU64,
    group: GroupCommit,
}

/// Group commit: the first committer to find no flush running flushes for everyone applied so
/// far; the others wait for a flush that covers their ticket.
#[derive(Default)]
struct GroupCommit {
    state: Mutex<FlushState>,
    done: Condvar,
}

#[derive(Default)]
struct FlushState {
    /// Every commit with a ticket up to this one is flushed.
    flushed: u64,
    running: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn u64_value(bytes: Option<IVec>, what: &str) -> StoreResult<u64> {
    match bytes {
        None => Ok(0),
        Some(b) => u64_at(&b, 0)
            .filter(|_| b.len() == 8)
            .ok_or_else(|| StoreError::Corrupt(format!("meta '{what}' is not a u64"))),
    }
}

impl SledStore {
    /// Opens (or creates) the store described by `config`.
    ///
    /// A database with an older schema version is upgraded (its indexes are rebuilt from the
    /// records and the log). Errors: [`SledError::Locked`] when another process (or another
    /// open store in this one) has the directory open, after waiting a second for it to close;
    /// [`SledError::SchemaTooNew`] / [`SledError::SchemaUnknown`] when the directory holds a
    /// database this build cannot read; [`SledError::Sled`] for I/O errors.
    pub fn open(config: SledConfig) -> Result<SledStore, SledError> {
        let flush_every_ms = match config.durability {
            // sled's background thread also reclaims log segments, so keep it in both modes.
            Durability::Flush => 500,
            Durability::Periodic { every_ms } => every_ms.max(1),
        };
        let sled_config = sled::Config::new()
            .path(&config.path)
            .cache_capacity(config.cache_capacity_bytes)
            .flush_every_ms(Some(flush_every_ms));
        // After the last handle of a store is dropped, sled finishes its background writes (and
        // so holds the directory's lock) for a moment: a reopen in the same process waits for
        // that instead of failing. A real second opener still fails, after this wait.
        let waiting_since = std::time::Instant::now();
        let db = loop {
            match sled_config.open() {
                Ok(db) => break db,
                Err(e) if is_lock_error(&e) => {
                    if waiting_since.elapsed() >= LOCK_WAIT {
                        return Err(SledError::Locked {
                            path: config.path.clone(),
                        });
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(SledError::Sled(e)),
            }
        };
        Inner::init(db, Some(config.path), config.durability)
    }

    /// A fresh store in a temporary location that is removed when the store is dropped. For
    /// tests: commits go through the same path as [`Durability::Flush`], but sled does not sync
    /// temporary files.
    pub fn temporary() -> Result<SledStore, SledError> {
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(16 * 1024 * 1024)
            .flush_every_ms(Some(500))
            .open()?;
        Inner::init(db, None, Durability::Flush)
    }

    /// The database directory (`None` for a temporary store).
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// The configured durability.
    pub fn durability(&self) -> Durability {
        self.inner.durability
    }

    /// Flushes everything applied so far to disk (useful under [`Durability::Periodic`] before a
    /// planned shutdown; dropping the last handle flushes too).
    pub fn flush(&self) -> Result<(), SledError> {
        self.inner.db.flush()?;
        Ok(())
    }

    /// The size of the database files in bytes.
    pub fn size_on_disk(&self) -> Result<u64, SledError> {
        Ok(self.inner.db.size_on_disk()?)
    }
}

impl Inner {
    fn init(
        db: sled::Db,
        path: Option<PathBuf>,
        durability: Durability,
    ) -> Result<SledStore, SledError> {
        let shown_path = path.clone().unwrap_or_else(|| PathBuf::from("(temporary)"));
        let existing: Vec<IVec> = db.tree_names();
        let meta_tree = db.open_tree(Tree::Meta.name())?;
        let version = meta_tree.get(meta::SCHEMA_VERSION)?;
        let mut upgrade_from = None;
        match version {
            None => {
                // Fresh, or left by a crash before the marker was written: only an empty
                // database may be claimed.
                for name in &existing {
                    if !db.open_tree(name)?.is_empty() {
                        return Err(SledError::SchemaUnknown {
                            path: shown_path,
                            reason: format!(
                                "it holds data (tree '{}') but no schema version marker",
                                String::from_utf8_lossy(name)
                            ),
                        });
                    }
                }
            }
            Some(bytes) => {
                let found = <[u8; 4]>::try_from(bytes.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| SledError::SchemaUnknown {
                        path: shown_path.clone(),
                        reason: format!("unreadable schema version marker {:?}", bytes.as_ref()),
                    })?;
                if found > SCHEMA_VERSION {
                    return Err(SledError::SchemaTooNew {
                        path: shown_path,
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                if found < OLDEST_UPGRADABLE {
                    return Err(SledError::SchemaUnknown {
                        path: shown_path,
                        reason: format!("unknown schema version {found}"),
                    });
                }
                if found < SCHEMA_VERSION {
                    upgrade_from = Some(found);
                }
            }
        }
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()?;
        let inner = Inner {
            db,
            trees,
            path,
            durability,
            commit_lock: RwLock::new(()),
            generation: AtomicU64::new(0),
            last_seq: AtomicU64::new(0),
            visible_seq: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            group: GroupCommit::default(),
        };
        if upgrade_from.is_some() {
            inner.rebuild_indexes()?;
        }
        if upgrade_from.is_some() || version_missing(&inner)? {
            inner
                .tree(Tree::Meta)
                .insert(meta::SCHEMA_VERSION, &SCHEMA_VERSION.to_be_bytes())?;
            inner.db.flush()?;
        }
        let last = u64_value(inner.tree(Tree::Meta).get(meta::LAST_SEQ)?, "last_seq")
            .map_err(|e| SledError::Corrupt(e.to_string()))?;
        let logged = match inner.tree(Tree::Events).last()? {
            Some((k, _)) => u64_at(&k, 0).unwrap_or(u64::MAX),
            None => 0,
        };
        if logged != last {
            return Err(SledError::Corrupt(format!(
                "the log ends at seq {logged} but the store records {last} as its last seq"
            )));
        }
        inner.last_seq.store(last, SeqCst);
        inner.visible_seq.store(last, SeqCst);
        Ok(SledStore {
            inner: Arc::new(inner),
        })
    }

    pub(crate) fn tree(&self, t: Tree) -> &sled::Tree {
        &self.trees[t as usize]
    }

    /// Rebuilds every index tree (and the user count) from the records and the log.
    fn rebuild_indexes(&self) -> Result<(), SledError> {
        for &t in Tree::ALL.iter().filter(|t| t.is_index()) {
            self.tree(t).clear()?;
        }
        let corrupt = |e: StoreError| SledError::Corrupt(e.to_string());
        let mut users = 0u64;
        for t in schema::record_trees() {
            for item in self.tree(t).iter() {
                let (_, value) = item?;
                let record = decode_record(t, &value).map_err(corrupt)?;
                if matches!(record, Record::User(_)) {
                    users += 1;
                }
                let entries = entries_of(&record);
                for u in entries.unique {
                    let previous = self.tree(u.tree).insert(&u.key, &u.owner)?;
                    if previous.is_some_and(|p| p.as_ref() != u.owner) {
                        return Err(SledError::Corrupt(format!(
                            "two records share the {} '{}'",
                            u.field, u.shown
                        )));
                    }
                }
                for (tree, key) in entries.plain {
                    self.tree(tree).insert(key, &[])?;
                }
            }
        }
        for item in self.tree(Tree::Events).iter() {
            let (key, value) = item?;
            let seq = u64_at(&key, 0)
                .ok_or_else(|| SledError::Corrupt("malformed log key".to_owned()))?;
            let event: NewEvent = decode(Tree::Events, &value).map_err(corrupt)?;
            for (tree, key) in event_entries(seq, &event) {
                self.tree(tree).insert(key, &[])?;
            }
        }
        self.tree(Tree::Meta)
            .insert(meta::USER_COUNT, &users.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    // ----- reads -----

    /// Runs a read made of several sled operations so that it sees no partial commit: it is
    /// retried when a commit was applied meanwhile, and after a few tries it runs while holding
    /// off commits.
    pub(crate) fn snapshot<R>(&self, f: impl Fn() -> StoreResult<R>) -> StoreResult<R> {
        for _ in 0..4 {
            let before = self.generation.load(SeqCst);
            if before.is_multiple_of(2) {
                let result = f();
                if self.generation.load(SeqCst) == before {
                    return result;
                }
            }
            std::thread::yield_now();
        }
        let _commits_held_off = self.commit_lock.read().unwrap_or_else(|e| e.into_inner());
        f()
    }

    pub(crate) fn get<T: DeserializeOwned>(&self, t: Tree, key: &[u8]) -> StoreResult<Option<T>> {
        match self.tree(t).get(key).map_err(from_sled)? {
            Some(bytes) => decode(t, &bytes).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) fn task(&self, id: uuid::Uuid) -> StoreResult<Option<Task>> {
        self.get(Tree::Tasks, id.as_bytes())
    }

    /// The keys of `t` that start with `prefix`, in order.
    pub(crate) fn keys_with_prefix(
        &self,
        t: Tree,
        prefix: &[u8],
    ) -> impl Iterator<Item = StoreResult<IVec>> {
        self.tree(t)
            .scan_prefix(prefix)
            .map(|item| item.map(|(k, _)| k).map_err(from_sled))
    }

    /// The records of `record_tree` listed by the index `index` under `prefix`, where the
    /// record's primary key is the last 16 bytes of the index key.
    fn listed<T: DeserializeOwned>(
        &self,
        index: Tree,
        prefix: &[u8],
        record_tree: Tree,
    ) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        for key in self.keys_with_prefix(index, prefix) {
            let key = key?;
            let id = trailing_uuid(&key).ok_or_else(|| malformed(index))?;
            if let Some(r) = self.get(record_tree, id.as_bytes())? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The values of `t` under `prefix`, decoded.
    fn values_with_prefix<T: DeserializeOwned>(
        &self,
        t: Tree,
        prefix: &[u8],
    ) -> StoreResult<Vec<T>> {
        self.tree(t)
            .scan_prefix(prefix)
            .map(|item| {
                let (_, v) = item.map_err(from_sled)?;
                decode(t, &v)
            })
            .collect()
    }

    fn event_at(&self, seq: u64) -> StoreResult<Option<Event>> {
        match self
            .tree(Tree::Events)
            .get(seq.to_be_bytes())
            .map_err(from_sled)?
        {
            Some(v) => {
                let e: NewEvent = decode(Tree::Events, &v)?;
                Ok(Some(Event::from_new(seq, e)))
            }
            None => Ok(None),
        }
    }

    fn events(&self, query: &EventQuery) -> StoreResult<Vec<Event>> {
        let visible = self.visible_seq.load(SeqCst);
        if query.limit == 0 || query.after >= visible {
            return Ok(Vec::new());
        }
        let first = query.after + 1;
        let mut out = Vec::new();
        let (index, scope) = match query.scope {
            EventScope::All => {
                let range = first.to_be_bytes()..=visible.to_be_bytes();
                for item in self.tree(Tree::Events).range(range) {
                    let (k, v) = item.map_err(from_sled)?;
                    let seq = u64_at(&k, 0).ok_or_else(|| malformed(Tree::Events))?;
                    let e: NewEvent = decode(Tree::Events, &v)?;
                    out.push(Event::from_new(seq, e));
                    if out.len() == query.limit {
                        break;
                    }
                }
                return Ok(out);
            }
            EventScope::Workspace(w) => (Tree::EventsByWorkspace, w.0),
            EventScope::Project(p) => (Tree::EventsByProject, p.0),
            EventScope::Task(t) => (Tree::EventsByTask, t.0),
        };
        let from = Key::new().id(scope).u64(first).build();
        let to = Key::new().id(scope).u64(visible).build();
        for item in self.tree(index).range(from..=to) {
            let (k, _) = item.map_err(from_sled)?;
            let seq = u64_at(&k, 16).ok_or_else(|| malformed(index))?;
            match self.event_at(seq)? {
                Some(e) => out.push(e),
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "index entry for missing event {seq}"
                    )))
                }
            }
            if out.len() == query.limit {
                break;
            }
        }
        Ok(out)
    }

    // ----- commits -----

    /// Increments the project's task counter under the commit lock. The write is not flushed on
    /// its own: the commit of the task that carries the number flushes the whole database, so
    /// every acknowledged task's number is durable with it, and a number whose task was never
    /// acknowledged may only be handed out again after a crash, when no task carries it.
    pub(crate) fn next_task_number_blocking(&self, project: ProjectId) -> StoreResult<Option<u64>> {
        let _serial = self.commit_lock.write().unwrap_or_else(|e| e.into_inner());
        let key = project.0.as_bytes();
        let Some(mut counter) = self.get::<TaskCounter>(Tree::TaskCounters, key)? else {
            return Ok(None);
        };
        counter.last_number += 1;
        counter.version += 1;
        let bytes = encode_record(&Record::TaskCounter(counter.clone()))?;
        self.generation.fetch_add(1, SeqCst);
        let written = self.tree(Tree::TaskCounters).insert(key, bytes);
        self.generation.fetch_add(1, SeqCst);
        written.map_err(from_sled)?;
        Ok(Some(counter.last_number))
    }

    /// Applies a commit and waits for it to be durable as configured. Blocking.
    pub(crate) fn commit_blocking(&self, commit: Commit) -> StoreResult<CommitReceipt> {
        if commit.writes.is_empty() && commit.events.is_empty() {
            return Ok(CommitReceipt::default());
        }
        let prepared = prepare(&commit)?;
        let (seqs, ticket) = {
            let _serial = self.commit_lock.write().unwrap_or_else(|e| e.into_inner());
            self.generation.fetch_add(1, SeqCst);
            let applied = self.apply(&prepared, self.last_seq.load(SeqCst));
            self.generation.fetch_add(1, SeqCst);
            let seqs = applied?;
            if let Some(&last) = seqs.last() {
                self.last_seq.store(last, SeqCst);
                if self.durability != Durability::Flush {
                    self.visible_seq.store(last, SeqCst);
                }
            }
            (seqs, self.applied.fetch_add(1, SeqCst) + 1)
        };
        if self.durability == Durability::Flush {
            self.wait_durable(ticket)?;
        }
        Ok(CommitReceipt { seqs })
    }

    /// Waits until every commit up to `ticket` is flushed, flushing for the whole group when no
    /// flush is running.
    fn wait_durable(&self, ticket: u64) -> StoreResult<()> {
        let mut state = lock(&self.group.state);
        loop {
            if state.flushed >= ticket {
                return Ok(());
            }
            if !state.running {
                state.running = true;
                drop(state);
                // Everything counted here was applied before the flush starts, so the flush
                // covers it.
                let target = self.applied.load(SeqCst);
                let seq = self.last_seq.load(SeqCst);
                let flushed = self.db.flush();
                state = lock(&self.group.state);
                state.running = false;
                if flushed.is_ok() {
                    state.flushed = state.flushed.max(target);
                    self.visible_seq.fetch_max(seq, SeqCst);
                }
                self.group.done.notify_all();
                flushed.map_err(|e| {
                    StoreError::Unavailable(format!(
                        "the commit was applied but flushing it failed (its durability is unknown): {e}"
                    ))
                })?;
                continue;
            }
            state = self
                .group
                .done
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Runs the commit's transaction, appending its events after `last_seq`. Returns the
    /// events' sequence numbers.
    fn apply(&self, prepared: &Prepared, last_seq: u64) -> StoreResult<Vec<u64>> {
        let trees: Vec<sled::Tree> = prepared
            .trees
            .iter()
            .map(|t| self.tree(*t).clone())
            .collect();
        let result = trees
            .as_slice()
            .transaction(|tx| apply_in(tx, prepared, last_seq));
        match result {
            Ok(seqs) => Ok(seqs),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(from_sled(e)),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // sled writes what is buffered when it closes, but say it explicitly: under
        // `Durability::Periodic` the last interval's commits are written when the store closes.
        let _ = self.db.flush();
    }
}

fn version_missing(inner: &Inner) -> Result<bool, SledError> {
    Ok(inner.tree(Tree::Meta).get(meta::SCHEMA_VERSION)?.is_none())
}

pub(crate) fn malformed(t: Tree) -> StoreError {
    StoreError::Corrupt(format!("malformed key in tree '{}'", t.name()))
}

/// A commit with everything that can be computed before the transaction: encoded records, their
/// index entries, encoded events.
struct Prepared {
    writes: Vec<PreparedWrite>,
    events: Vec<(Vec<u8>, NewEvent)>,
    /// The trees the transaction spans: `meta`, the written records' trees and their index
    /// trees, the log's trees when there are events.
    trees: Vec<Tree>,
    /// Each tree's position in `trees` (`usize::MAX` when absent).
    slots: [usize; Tree::ALL.len()],
}

struct PreparedWrite {
    key: RecordKey,
    tree: Tree,
    pk: Vec<u8>,
    expected: Expected,
    /// The new value and its entries; `None` for a delete.
    new: Option<(Vec<u8>, Entries)>,
}

fn prepare(commit: &Commit) -> StoreResult<Prepared> {
    let mut writes = Vec::with_capacity(commit.writes.len());
    for w in &commit.writes {
        writes.push(match w {
            Write::Put { record, expected } => {
                let key = record.key();
                let (tree, pk) = locate(&key);
                PreparedWrite {
                    key,
                    tree,
                    pk,
                    expected: *expected,
                    new: Some((encode_record(record)?, entries_of(record))),
                }
            }
            Write::Delete { key, expected } => {
                let (tree, pk) = locate(key);
                PreparedWrite {
                    key: *key,
                    tree,
                    pk,
                    expected: *expected,
                    new: None,
                }
            }
        });
    }
    let events: Vec<(Vec<u8>, NewEvent)> = commit
        .events
        .iter()
        .map(|e| Ok((encode_event(e)?, e.clone())))
        .collect::<StoreResult<_>>()?;
    let mut trees = vec![Tree::Meta];
    for w in &writes {
        trees.push(w.tree);
        trees.extend_from_slice(schema::index_trees_of(w.tree));
    }
    if !events.is_empty() {
        trees.extend_from_slice(&schema::EVENT_TREES);
    }
    trees.sort();
    trees.dedup();
    let mut slots = [usize::MAX; Tree::ALL.len()];
    for (i, t) in trees.iter().enumerate() {
        slots[*t as usize] = i;
    }
    Ok(Prepared {
        writes,
        events,
        trees,
        slots,
    })
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

fn tx_u64(tx: &TransactionalTree, key: &[u8], what: &str) -> TxResult<u64> {
    u64_value(tx.get(key)?, what).map_err(abort)
}

/// The body of the commit transaction; mirrors the reference store: every expectation is
/// checked first (in write order), then the writes are applied in order, each removing its old
/// record's index entries and claiming its new ones, then the events are appended.
fn apply_in(tx: &[TransactionalTree], p: &Prepared, last_seq: u64) -> TxResult<Vec<u64>> {
    // `prepare` put every tree a write may touch in the transaction; a miss is a bug, reported
    // rather than panicking under sled's lock.
    let missing = Cell::new(None);
    let t = |tree: Tree| match tx.get(p.slots[tree as usize]) {
        Some(view) => view,
        None => {
            missing.set(Some(tree));
            &tx[0]
        }
    };
    let mut olds: Vec<Option<Record>> = Vec::with_capacity(p.writes.len());
    for w in &p.writes {
        let current = t(w.tree).get(&w.pk)?;
        let old = match current {
            Some(bytes) => Some(decode_record(w.tree, &bytes).map_err(abort)?),
            None => None,
        };
        let ok = match (w.expected, &old) {
            (Expected::Absent, _) if w.new.is_none() => false,
            (Expected::Absent, None) => true,
            (Expected::Version(v), Some(r)) => r.version() == v,
            (Expected::Exists, Some(_)) => true,
            _ => false,
        };
        if !ok {
            return Err(abort(StoreError::VersionConflict {
                record: w.key.to_string(),
            }));
        }
        olds.push(old);
    }
    let mut user_delta: i64 = 0;
    for (i, (w, old)) in p.writes.iter().zip(olds).enumerate() {
        // The contract has each key at most once per commit; should one repeat, the later
        // write replaces what the earlier one wrote, as in the reference store.
        let old = if p.writes[..i].iter().any(|earlier| earlier.key == w.key) {
            match t(w.tree).get(&w.pk)? {
                Some(bytes) => Some(decode_record(w.tree, &bytes).map_err(abort)?),
                None => None,
            }
        } else {
            old
        };
        let old_entries = old.as_ref().map(entries_of).unwrap_or_default();
        let new_entries = w.new.as_ref().map(|(_, e)| e);
        if matches!(w.key, RecordKey::User(_)) {
            user_delta += i64::from(w.new.is_some()) - i64::from(old.is_some());
        }
        // Remove the old record's entries.
        for u in &old_entries.unique {
            if t(u.tree)
                .get(&u.key)?
                .is_some_and(|v| v.as_ref() == u.owner)
            {
                t(u.tree).remove(u.key.as_slice())?;
            }
        }
        for entry @ (tree, key) in &old_entries.plain {
            if !new_entries.is_some_and(|n| n.plain.contains(entry)) {
                t(*tree).remove(key.as_slice())?;
            }
        }
        // Write the record and claim its entries.
        match &w.new {
            Some((bytes, entries)) => {
                t(w.tree).insert(w.pk.as_slice(), bytes.as_slice())?;
                for u in &entries.unique {
                    match t(u.tree).get(&u.key)? {
                        Some(holder) if holder.as_ref() != u.owner => {
                            return Err(abort(StoreError::Duplicate {
                                field: u.field.to_owned(),
                                value: u.shown.clone(),
                            }));
                        }
                        _ => {
                            t(u.tree).insert(u.key.as_slice(), &u.owner[..])?;
                        }
                    }
                }
                for entry @ (tree, key) in &entries.plain {
                    if !old_entries.plain.contains(entry) {
                        t(*tree).insert(key.as_slice(), &[][..])?;
                    }
                }
            }
            None => {
                t(w.tree).remove(w.pk.as_slice())?;
            }
        }
    }
    if user_delta != 0 {
        let meta = t(Tree::Meta);
        let count = tx_u64(meta, meta::USER_COUNT, "user_count")?;
        let count = count.checked_add_signed(user_delta).ok_or_else(|| {
            abort(StoreError::Corrupt(
                "the user count went negative".to_owned(),
            ))
        })?;
        meta.insert(meta::USER_COUNT, &count.to_be_bytes())?;
    }
    let mut seqs = Vec::with_capacity(p.events.len());
    if !p.events.is_empty() {
        // Commits are serialised by the commit lock, which also guards the in-memory last seq:
        // the transaction writes the new last seq to `meta` without reading it.
        let mut seq = last_seq;
        for (bytes, event) in &p.events {
            seq += 1;
            t(Tree::Events).insert(&seq.to_be_bytes(), bytes.as_slice())?;
            for (tree, key) in event_entries(seq, event) {
                t(tree).insert(key, &[][..])?;
            }
            seqs.push(seq);
        }
        t(Tree::Meta).insert(meta::LAST_SEQ, &seq.to_be_bytes())?;
    }
    if let Some(tree) = missing.get() {
        return Err(abort(StoreError::Corrupt(format!(
            "internal error: tree '{}' is not part of the commit's transaction",
            tree.name()
        ))));
    }
    Ok(seqs)
}

/// Runs blocking work off the async runtime's worker threads when there is a runtime.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> StoreResult<R> + Send + 'static,
) -> StoreResult<R> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => match handle.spawn_blocking(f).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(StoreError::Unavailable(format!(
                "the commit's worker was cancelled: {e}"
            ))),
        },
        Err(_) => f(),
    }
}

fn by_created<T>(items: &mut [T], key: impl Fn(&T) -> (time::OffsetDateTime, uuid::Uuid)) {
    items.sort_by_key(|a| key(a));
}

#[async_trait]
impl Store for SledStore {
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.inner.get(Tree::Users, id.0.as_bytes())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let i = &self.inner;
        i.snapshot(|| {
            match i
                .tree(Tree::UsersByEmail)
                .get(email.to_lowercase().as_bytes())
                .map_err(from_sled)?
            {
                Some(id) => i.get(Tree::Users, &id),
                None => Ok(None),
            }
        })
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        let i = &self.inner;
        i.snapshot(|| {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(u) = i.get(Tree::Users, id.0.as_bytes())? {
                    out.push(u);
                }
            }
            Ok(out)
        })
    }

    async fn user_count(&self) -> StoreResult<u64> {
        u64_value(
            self.inner
                .tree(Tree::Meta)
                .get(meta::USER_COUNT)
                .map_err(from_sled)?,
            "user_count",
        )
    }

    async fn token(&self, id: TokenId) -> StoreResult<Option<ApiToken>> {
        self.inner.get(Tree::Tokens, id.0.as_bytes())
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        let i = &self.inner;
        i.snapshot(|| {
            match i
                .tree(Tree::TokensByHash)
                .get(hash.as_bytes())
                .map_err(from_sled)?
            {
                Some(id) => i.get(Tree::Tokens, &id),
                None => Ok(None),
            }
        })
    }

    async fn tokens_of_user(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let i = &self.inner;
        let mut out: Vec<ApiToken> =
            i.snapshot(|| i.listed(Tree::TokensByUser, user.0.as_bytes(), Tree::Tokens))?;
        by_created(&mut out, |t| (t.created_at, t.id.0));
        Ok(out)
    }

    async fn workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
        self.inner.get(Tree::Workspaces, id.0.as_bytes())
    }

    async fn membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> StoreResult<Option<Membership>> {
        let (tree, key) = locate(&RecordKey::Membership(workspace, user));
        self.inner.get(tree, &key)
    }

    async fn members_of_workspace(&self, workspace: WorkspaceId) -> StoreResult<Vec<Membership>> {
        let i = &self.inner;
        let mut out: Vec<Membership> =
            i.snapshot(|| i.values_with_prefix(Tree::Memberships, workspace.0.as_bytes()))?;
        by_created(&mut out, |m| (m.created_at, m.user_id.0));
        Ok(out)
    }

    async fn memberships_of_user(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let i = &self.inner;
        let mut out: Vec<Membership> = i.snapshot(|| {
            let mut out = Vec::new();
            for key in i.keys_with_prefix(Tree::MembershipsByUser, user.0.as_bytes()) {
                let key = key?;
                let ws = uuid_at(&key, 16).ok_or_else(|| malformed(Tree::MembershipsByUser))?;
                let pk = Key::new().id(ws).id(user.0).build();
                if let Some(m) = i.get(Tree::Memberships, &pk)? {
                    out.push(m);
                }
            }
            Ok(out)
        })?;
        by_created(&mut out, |m| (m.created_at, m.workspace_id.0));
        Ok(out)
    }

    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        self.inner.get(Tree::Projects, id.0.as_bytes())
    }

    async fn project_by_key(
        &self,
        workspace: WorkspaceId,
        key: &str,
    ) -> StoreResult<Option<Project>> {
        let i = &self.inner;
        let slot = Key::new().text(key).id(workspace.0).build();
        i.snapshot(
            || match i.tree(Tree::ProjectsByKey).get(&slot).map_err(from_sled)? {
                Some(id) => i.get(Tree::Projects, &id),
                None => Ok(None),
            },
        )
    }

    async fn projects_by_key(&self, key: &str) -> StoreResult<Vec<Project>> {
        let i = &self.inner;
        let prefix = Key::new().text(key).build();
        let mut out: Vec<Project> = i.snapshot(|| {
            let mut out = Vec::new();
            for item in i.tree(Tree::ProjectsByKey).scan_prefix(&prefix) {
                let (_, id) = item.map_err(from_sled)?;
                if let Some(p) = i.get(Tree::Projects, &id)? {
                    out.push(p);
                }
            }
            Ok(out)
        })?;
        by_created(&mut out, |p| (p.created_at, p.id.0));
        Ok(out)
    }

    async fn projects_of_workspace(&self, workspace: WorkspaceId) -> StoreResult<Vec<Project>> {
        let i = &self.inner;
        let mut out: Vec<Project> = i.snapshot(|| {
            i.listed(
                Tree::ProjectsByWorkspace,
                workspace.0.as_bytes(),
                Tree::Projects,
            )
        })?;
        by_created(&mut out, |p| (p.created_at, p.id.0));
        Ok(out)
    }

    async fn next_task_number(&self, project: ProjectId) -> StoreResult<Option<u64>> {
        let inner = Arc::clone(&self.inner);
        blocking(move || inner.next_task_number_blocking(project)).await
    }

    async fn task_counter(&self, project: ProjectId) -> StoreResult<Option<TaskCounter>> {
        self.inner.get(Tree::TaskCounters, project.0.as_bytes())
    }

    async fn workflow(&self, project: ProjectId) -> StoreResult<Option<Workflow>> {
        self.inner.get(Tree::Workflows, project.0.as_bytes())
    }

    async fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        self.inner.task(id.0)
    }

    async fn task_by_number(&self, project: ProjectId, number: u64) -> StoreResult<Option<Task>> {
        let i = &self.inner;
        let slot = Key::new().id(project.0).u64(number).build();
        i.snapshot(
            || match i.tree(Tree::TasksByNumber).get(&slot).map_err(from_sled)? {
                Some(id) => i.get(Tree::Tasks, &id),
                None => Ok(None),
            },
        )
    }

    async fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        let i = &self.inner;
        i.snapshot(|| crate::query::tasks(i, query))
    }

    async fn subtasks(&self, parent: TaskId) -> StoreResult<Vec<Task>> {
        let i = &self.inner;
        i.snapshot(|| i.listed(Tree::TasksByParent, parent.0.as_bytes(), Tree::Tasks))
    }

    async fn status_counts(
        &self,
        project: ProjectId,
        filter: &TaskFilter,
    ) -> StoreResult<Vec<StatusCount>> {
        let i = &self.inner;
        i.snapshot(|| crate::query::status_counts(i, project, filter))
    }

    async fn blockers_of(&self, task: TaskId) -> StoreResult<Vec<Dependency>> {
        let i = &self.inner;
        let mut out: Vec<Dependency> =
            i.snapshot(|| i.values_with_prefix(Tree::Dependencies, task.0.as_bytes()))?;
        by_created(&mut out, |d| (d.created_at, d.blocker_id.0));
        Ok(out)
    }

    async fn blocked_by(&self, task: TaskId) -> StoreResult<Vec<Dependency>> {
        let i = &self.inner;
        let mut out: Vec<Dependency> = i.snapshot(|| {
            let mut out = Vec::new();
            for key in i.keys_with_prefix(Tree::DependenciesByBlocker, task.0.as_bytes()) {
                let key = key?;
                let blocked =
                    uuid_at(&key, 16).ok_or_else(|| malformed(Tree::DependenciesByBlocker))?;
                let pk = Key::new().id(blocked).id(task.0).build();
                if let Some(d) = i.get(Tree::Dependencies, &pk)? {
                    out.push(d);
                }
            }
            Ok(out)
        })?;
        by_created(&mut out, |d| (d.created_at, d.task_id.0));
        Ok(out)
    }

    async fn label(&self, id: LabelId) -> StoreResult<Option<Label>> {
        self.inner.get(Tree::Labels, id.0.as_bytes())
    }

    async fn labels_of_project(&self, project: ProjectId) -> StoreResult<Vec<Label>> {
        let i = &self.inner;
        let mut out: Vec<Label> =
            i.snapshot(|| i.listed(Tree::LabelsByProject, project.0.as_bytes(), Tree::Labels))?;
        out.sort_by_cached_key(|l| (l.name.to_lowercase(), l.id));
        Ok(out)
    }

    async fn milestone(&self, id: MilestoneId) -> StoreResult<Option<Milestone>> {
        self.inner.get(Tree::Milestones, id.0.as_bytes())
    }

    async fn milestones_of_project(&self, project: ProjectId) -> StoreResult<Vec<Milestone>> {
        let i = &self.inner;
        let mut out: Vec<Milestone> = i.snapshot(|| {
            i.listed(
                Tree::MilestonesByProject,
                project.0.as_bytes(),
                Tree::Milestones,
            )
        })?;
        out.sort_by(|a, b| {
            (a.due_on.is_none(), a.due_on, &a.name, a.id).cmp(&(
                b.due_on.is_none(),
                b.due_on,
                &b.name,
                b.id,
            ))
        });
        Ok(out)
    }

    async fn comment(&self, id: CommentId) -> StoreResult<Option<Comment>> {
        self.inner.get(Tree::Comments, id.0.as_bytes())
    }

    async fn comments_of_task(&self, task: TaskId) -> StoreResult<Vec<Comment>> {
        let i = &self.inner;
        let mut out: Vec<Comment> =
            i.snapshot(|| i.listed(Tree::CommentsByTask, task.0.as_bytes(), Tree::Comments))?;
        by_created(&mut out, |c| (c.created_at, c.id.0));
        Ok(out)
    }

    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<Event>> {
        // The log is append-only and reads stop at the visible seq, which only moves once
        // everything below it is applied: no snapshot needed.
        self.inner.events(query)
    }

    async fn last_seq(&self) -> StoreResult<u64> {
        Ok(self.inner.visible_seq.load(SeqCst))
    }

    async fn commit(&self, commit: Commit) -> StoreResult<CommitReceipt> {
        let inner = self.inner.clone();
        match self.inner.durability {
            Durability::Flush => blocking(move || inner.commit_blocking(commit)).await,
            Durability::Periodic { .. } => inner.commit_blocking(commit),
        }
    }
}
