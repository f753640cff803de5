//! The store: opening, applying a commit, and the reads.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use async_trait::async_trait;
use sled::IVec;
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
use tasklane_core::store::{IdempotencyClaim, IdempotencyKey, IdempotencyOwner, LogWatchSender};

use crate::blocked::BlockedTasks;
use crate::cache::RecordCache;
use crate::codec::{self, StoredValue};
use crate::error::{from_sled, is_lock_error, SledError};
use crate::keys::{trailing_uuid, u64_at, uuid_at, Key};
use crate::legacy;
use crate::pipeline::CommitPipeline;
use crate::schema::{
    self, decode, decode_record, encode_event, encode_record, entries_of, event_entries, locate,
    meta, Entries, Tree, OLDEST_UPGRADABLE, SCHEMA_VERSION, STORE_TREE,
};
use crate::space::{full_key, Space};

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
    /// Relaxed: `commit` returns as soon as the commit is applied in memory, and sled's
    /// background thread flushes every `every_ms` milliseconds. A crash loses at most the commits of the
    /// last interval (never part of a commit: recovery is atomic per commit). Events are visible
    /// as soon as they are applied.
    Periodic {
        /// The flush interval in milliseconds (at least 1).
        every_ms: u64,
    },
}

/// The memory for decoded tasks of a temporary store.
const TEMPORARY_TASK_CACHE_BYTES: usize = 8 * 1024 * 1024;

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
    /// The memory for tasks kept decoded besides sled's page cache, in bytes, as estimated
    /// from each task's size (96 MiB by default; 0 keeps none). A task read served from it skips
    /// sled's lookup and the decoding, about a fifth of the server's CPU per HTTP task GET. The
    /// estimate follows what a process holds: a server serving a store of 100,000 tasks, all of
    /// them kept (about 88 MiB by the estimate), peaked at 248 MB resident instead of 176 MB
    /// (docs/BENCHMARKS.md). Long descriptions take their length, so fewer of them are kept.
    pub task_cache_bytes: u64,
}

impl SledConfig {
    /// The default cache capacity: 128 MiB (a process serving a store of 100,000 tasks from it
    /// stays near 120 MB resident).
    pub const DEFAULT_CACHE_CAPACITY: u64 = 128 * 1024 * 1024;

    /// The default memory for decoded tasks: 96 MiB, about 100,000 tasks of the usual size (a
    /// process serving 100,000 tasks stays under 300 MB resident with all of them kept).
    pub const DEFAULT_TASK_CACHE_BYTES: u64 = 96 * 1024 * 1024;

    /// A configuration for the directory `path` with the defaults (flush before acknowledging,
    /// 128 MiB of page cache, 96 MiB of decoded tasks).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SledConfig {
            path: path.into(),
            durability: Durability::default(),
            cache_capacity_bytes: Self::DEFAULT_CACHE_CAPACITY,
            task_cache_bytes: Self::DEFAULT_TASK_CACHE_BYTES,
        }
    }

    /// Sets the memory for decoded tasks, in bytes (0 keeps none).
    pub fn task_cache_bytes(mut self, bytes: u64) -> Self {
        self.task_cache_bytes = bytes;
        self
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
    /// Declared after `inner`: the last handle's drop stops the threads (which hold the other
    /// references to `inner`) before the store closes.
    pipeline: Arc<CommitPipeline>,
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
    /// The sled tree that holds every space.
    main: sled::Tree,
    /// Every space, indexed by [`Tree`]'s discriminant.
    trees: Vec<Space>,
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
    /// The log watch ([`Store::log_watch`]): follows `visible_seq`, advanced right after it
    /// moves and outside `commit_lock`.
    log_watch: LogWatchSender,
    /// The task counters handed out from, by project: loaded from the store on first use, bumped
    /// in memory by [`Store::next_task_number`] (under `commit_lock` held shared, so never
    /// during a commit), and written to the store with every commit that creates a task of the
    /// project. Commits that write a counter record replace the cached one.
    counters: Mutex<HashMap<ProjectId, TaskCounter>>,
    /// Decoded tokens, users, memberships, projects, workflows and tasks (see [`RecordCache`]).
    cache: RecordCache,
    /// The tasks that may have blockers (see [`BlockedTasks`]).
    blocked: BlockedTasks,
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
    /// A database with an older schema version is upgraded (its records and log are copied
    /// into the current layout and the indexes rebuilt from them). Errors: [`SledError::Locked`] when another process (or another
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
            remove_unfinished_snapshots(&config.path)?;
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
        Inner::init(
            db,
            Some(config.path),
            config.durability,
            usize::try_from(config.task_cache_bytes).unwrap_or(usize::MAX),
        )
    }

    /// A fresh store in a temporary location that is removed when the store is dropped. For
    /// tests: commits go through the same path as [`Durability::Flush`], but sled does not sync
    /// temporary files. It keeps 8 MiB of decoded tasks, so that tests (the conformance suite
    /// among them) go through the task cache.
    pub fn temporary() -> Result<SledStore, SledError> {
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(16 * 1024 * 1024)
            .flush_every_ms(Some(500))
            .open()?;
        Inner::init(db, None, Durability::Flush, TEMPORARY_TASK_CACHE_BYTES)
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
        task_cache_bytes: usize,
    ) -> Result<SledStore, SledError> {
        let shown_path = path.clone().unwrap_or_else(|| PathBuf::from("(temporary)"));
        let unknown = |reason: String| SledError::SchemaUnknown {
            path: shown_path.clone(),
            reason,
        };
        let main = db.open_tree(STORE_TREE)?;
        let meta_space = Space::new(main.clone(), Tree::Meta);
        let upgrade_from = match meta_space.get(meta::SCHEMA_VERSION)? {
            Some(bytes) => {
                let found = version_of(&bytes).ok_or_else(|| {
                    unknown(format!(
                        "unreadable schema version marker {:?}",
                        bytes.as_ref()
                    ))
                })?;
                if found > SCHEMA_VERSION {
                    return Err(SledError::SchemaTooNew {
                        path: shown_path,
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                if found == SCHEMA_VERSION {
                    None
                } else if found == schema::JSON_TASKS_VERSION {
                    Some(found)
                } else {
                    return Err(unknown(format!("unknown schema version {found}")));
                }
            }
            None => match legacy::version(&db).map_err(|e| match e {
                legacy::VersionError::Sled(e) => SledError::Sled(e),
                legacy::VersionError::Unreadable(bytes) => {
                    unknown(format!("unreadable schema version marker {bytes:?}"))
                }
            })? {
                Some(found) if found > SCHEMA_VERSION => {
                    return Err(SledError::SchemaTooNew {
                        path: shown_path,
                        found,
                        supported: SCHEMA_VERSION,
                    })
                }
                // The layout of one tree per space came with schema 3.
                Some(found) if (OLDEST_UPGRADABLE..schema::JSON_TASKS_VERSION).contains(&found) => {
                    Some(found)
                }
                Some(found) => return Err(unknown(format!("unknown schema version {found}"))),
                None => {
                    // Fresh, or left by a crash before the marker was written: only an empty
                    // database may be claimed.
                    for name in db.tree_names() {
                        if !db.open_tree(&name)?.is_empty() {
                            return Err(unknown(format!(
                                "it holds data (tree '{}') but no schema version marker",
                                String::from_utf8_lossy(&name)
                            )));
                        }
                    }
                    None
                }
            },
        };
        let trees = Tree::ALL
            .iter()
            .map(|t| Space::new(main.clone(), *t))
            .collect();
        let inner = Inner {
            db,
            main,
            trees,
            path,
            durability,
            commit_lock: RwLock::new(()),
            generation: AtomicU64::new(0),
            last_seq: AtomicU64::new(0),
            visible_seq: AtomicU64::new(0),
            log_watch: LogWatchSender::new(0),
            counters: Mutex::new(HashMap::new()),
            cache: RecordCache::new(task_cache_bytes),
            blocked: BlockedTasks::default(),
        };
        match upgrade_from {
            Some(found) if found < schema::JSON_TASKS_VERSION => {
                // An upgrade interrupted by a crash left part of a copy: start it over.
                inner.main.clear()?;
                legacy::copy_records_and_log(&inner.db, &inner)?;
                inner.rebuild_indexes()?;
                inner.encode_tasks_in_binary()?;
            }
            // Only the form of tasks changed; an interrupted upgrade goes on where it stopped
            // (a task decodes in either form).
            Some(_) => inner.encode_tasks_in_binary()?,
            None => {}
        }
        let marker = inner.tree(Tree::Meta).get(meta::SCHEMA_VERSION)?;
        if marker.as_deref() != Some(&SCHEMA_VERSION.to_be_bytes()[..]) {
            inner
                .tree(Tree::Meta)
                .insert(meta::SCHEMA_VERSION, SCHEMA_VERSION.to_be_bytes())?;
            inner.db.flush()?;
        }
        // The marker of this layout is durable: what an older layout left can go.
        legacy::drop_trees(&inner.db)?;
        let last = match inner.tree(Tree::Events).last()? {
            Some((k, _)) => u64_at(&k, 0)
                .filter(|_| k.len() == 8)
                .ok_or_else(|| SledError::Corrupt("malformed log key".to_owned()))?,
            None => 0,
        };
        inner.last_seq.store(last, SeqCst);
        inner.visible_seq.store(last, SeqCst);
        inner.log_watch.advance(last);
        inner.blocked.load(inner.tree(Tree::Dependencies))?;
        let inner = Arc::new(inner);
        let pipeline = CommitPipeline::start(Arc::clone(&inner)).map_err(|e| {
            SledError::Sled(sled::Error::Io(std::io::Error::new(
                e.kind(),
                format!("cannot start the commit threads: {e}"),
            )))
        })?;
        Ok(SledStore {
            inner,
            pipeline: Arc::new(pipeline),
        })
    }

    pub(crate) fn tree(&self, t: Tree) -> &Space {
        &self.trees[t as usize]
    }

    /// Applies a batch of full keys outside the commit path (opening, upgrading).
    pub(crate) fn apply_raw_batch(&self, batch: sled::Batch) -> Result<(), SledError> {
        Ok(self.main.apply_batch(batch)?)
    }

    /// Rebuilds every index tree (and the user count) from the records and the log.
    fn rebuild_indexes(&self) -> Result<(), SledError> {
        for &t in Tree::ALL.iter().filter(|t| t.is_index()) {
            self.tree(t).clear()?;
        }
        // Index entries go in batches: one sled write per entry would take minutes for a large
        // store.
        let mut batch = IndexBatch::new(&self.main);
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
                    if !batch.claim(u.tree, &u.key, &u.owner)? {
                        return Err(SledError::Corrupt(format!(
                            "two records share the {} '{}'",
                            u.field, u.shown
                        )));
                    }
                }
                for (tree, key) in entries.plain {
                    batch.insert(tree, &key, &[])?;
                }
            }
        }
        for item in self.tree(Tree::Events).iter() {
            let (key, value) = item?;
            let seq = u64_at(&key, 0)
                .ok_or_else(|| SledError::Corrupt("malformed log key".to_owned()))?;
            let event: NewEvent = decode(Tree::Events, &value).map_err(corrupt)?;
            for (tree, key) in event_entries(seq, &event) {
                batch.insert(tree, &key, &[])?;
            }
        }
        batch.finish()?;
        self.tree(Tree::Meta)
            .insert(meta::USER_COUNT, users.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// Rewrites every task stored as JSON (schema 3 and older) in the binary form, in batches
    /// (each atomic; a task decodes in either form, so a crash between batches loses nothing).
    fn encode_tasks_in_binary(&self) -> Result<(), SledError> {
        let corrupt = |e: StoreError| SledError::Corrupt(e.to_string());
        let mut batch = IndexBatch::new(&self.main);
        for item in self.tree(Tree::Tasks).iter() {
            let (key, value) = item?;
            if value.first() == Some(&codec::TASK_FORMAT_1) {
                continue;
            }
            let task: Task = decode(Tree::Tasks, &value).map_err(corrupt)?;
            batch.insert(
                Tree::Tasks,
                &key,
                &codec::encode_task(&task).map_err(corrupt)?,
            )?;
        }
        batch.finish()?;
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

    pub(crate) fn get<T: StoredValue>(&self, t: Tree, key: &[u8]) -> StoreResult<Option<T>> {
        match self.tree(t).get(key).map_err(from_sled)? {
            Some(bytes) => decode(t, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The record under `key`, from the cache or read (and kept when no commit ran meanwhile).
    pub(crate) fn cached_record(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        if let Some(record) = self.cache.record(&key) {
            return Ok(Some(record));
        }
        let read_at = self.generation.load(SeqCst);
        let (tree, pk) = locate(&key);
        let Some(bytes) = self.tree(tree).get(&pk).map_err(from_sled)? else {
            return Ok(None);
        };
        let record = decode_record(tree, &bytes)?;
        self.cache
            .keep(key, record.clone(), read_at, &self.generation);
        Ok(Some(record))
    }

    /// The token whose secret hashes to `hash`, through the cache.
    pub(crate) fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        if let Some(id) = self.cache.token_id(hash) {
            if let Some(Record::Token(t)) = self.cached_record(RecordKey::Token(id))? {
                if t.secret_hash == hash {
                    return Ok(Some(t));
                }
            }
        }
        let read_at = self.generation.load(SeqCst);
        let Some(id) = self
            .tree(Tree::TokensByHash)
            .get(hash.as_bytes())
            .map_err(from_sled)?
        else {
            return Ok(None);
        };
        let id = TokenId(uuid::Uuid::from_slice(&id).map_err(|_| malformed(Tree::TokensByHash))?);
        match self.cached_record(RecordKey::Token(id))? {
            Some(Record::Token(t)) if t.secret_hash == hash => {
                self.cache
                    .keep_token_hash(hash, id, read_at, &self.generation);
                Ok(Some(t))
            }
            // A commit changed the token in between: read both again, consistently.
            _ => self.snapshot(|| {
                match self
                    .tree(Tree::TokensByHash)
                    .get(hash.as_bytes())
                    .map_err(from_sled)?
                {
                    Some(id) => self.get(Tree::Tokens, &id),
                    None => Ok(None),
                }
            }),
        }
    }

    /// The project's task counter: the cached one when numbers were handed out from it.
    pub(crate) fn task_counter(&self, project: ProjectId) -> StoreResult<Option<TaskCounter>> {
        if let Some(c) = lock(&self.counters).get(&project) {
            return Ok(Some(c.clone()));
        }
        self.get(Tree::TaskCounters, project.0.as_bytes())
    }

    pub(crate) fn task(&self, id: uuid::Uuid) -> StoreResult<Option<Task>> {
        match self.cached_record(RecordKey::Task(TaskId(id)))? {
            Some(Record::Task(task)) => Ok(Some(task)),
            Some(_) => Err(malformed(Tree::Tasks)),
            None => Ok(None),
        }
    }

    /// The keys of `t` that start with `prefix`, in order.
    pub(crate) fn keys_with_prefix(
        &self,
        t: Tree,
        prefix: &[u8],
    ) -> impl Iterator<Item = StoreResult<IVec>> + 'static {
        self.tree(t)
            .scan_prefix(prefix)
            .map(|item| item.map(|(k, _)| k).map_err(from_sled))
    }

    /// The records of `record_tree` listed by the index `index` under `prefix`, where the
    /// record's primary key is the last 16 bytes of the index key.
    fn listed<T: StoredValue>(
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
    fn values_with_prefix<T: StoredValue>(&self, t: Tree, prefix: &[u8]) -> StoreResult<Vec<T>> {
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
                let from = Bound::Included(first.to_be_bytes().to_vec());
                let to = Bound::Included(visible.to_be_bytes().to_vec());
                for item in self.tree(Tree::Events).range(from, to) {
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
        for item in self
            .tree(index)
            .range(Bound::Included(from), Bound::Included(to))
        {
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

    /// Hands out the project's next number from the cached counter (loading it on first use).
    /// Commits are held off meanwhile (the counter lock is taken under `commit_lock`, as
    /// commits do), so a commit never sees a counter half-loaded. The new value is written by
    /// the commit that creates the task carrying the number (or any later one creating a task
    /// of the project), so every acknowledged task's number is durable with it, and a number
    /// whose task was never acknowledged may only be handed out again after a crash, when no
    /// task carries it.
    pub(crate) fn next_task_number_now(&self, project: ProjectId) -> StoreResult<Option<u64>> {
        let _no_commit = self.commit_lock.read().unwrap_or_else(|e| e.into_inner());
        let mut counters = lock(&self.counters);
        let counter = match counters.entry(project) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                match self.get::<TaskCounter>(Tree::TaskCounters, project.0.as_bytes())? {
                    Some(stored) => e.insert(stored),
                    None => return Ok(None),
                }
            }
        };
        counter.last_number += 1;
        counter.version += 1;
        Ok(Some(counter.last_number))
    }

    /// The configured durability.
    pub(crate) fn durability(&self) -> Durability {
        self.durability
    }

    /// Applies prepared commits, in order, as one sled batch (on the pipeline's applier
    /// thread). Each commit is checked against the state its predecessors in `group` leave, and
    /// one that fails its checks is left out with its error; the others are written together,
    /// all or none, also across a crash. Returns each commit's receipt and the last seq of the
    /// whole group (visible once a flush covers it), or its error.
    ///
    /// One batch per group rather than per commit: sled seals and writes its log buffer twice
    /// for every batch, whatever the flush policy, which made those writes cost more than the
    /// commits themselves (see docs/BENCHMARKS.md, "Commits applied in groups").
    pub(crate) fn apply_commits(
        &self,
        group: &[&Prepared],
    ) -> Vec<StoreResult<(CommitReceipt, u64)>> {
        let serial = self.commit_lock.write().unwrap_or_else(|e| e.into_inner());
        let outcomes = self.apply(group, self.last_seq.load(SeqCst));
        let mut visible_now = None;
        let last = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok())
            .filter_map(|seqs| seqs.last().copied())
            .max();
        if let Some(last) = last {
            self.last_seq.store(last, SeqCst);
            if self.durability != Durability::Flush {
                self.visible_seq.store(last, SeqCst);
                visible_now = Some(last);
            }
        }
        let through_seq = self.last_seq.load(SeqCst);
        drop(serial);
        // Outside the commit lock: waking watchers never delays the next group's batch.
        if let Some(last) = visible_now {
            self.log_watch.advance(last);
        }
        outcomes
            .into_iter()
            .map(|o| o.map(|seqs| (CommitReceipt { seqs }, through_seq)))
            .collect()
    }

    /// Flushes everything applied so far (on the pipeline's flusher thread).
    pub(crate) fn flush_applied(&self) -> sled::Result<usize> {
        self.db.flush()
    }

    /// Lets log readers see the events up to `seq`, which are flushed.
    pub(crate) fn make_visible(&self, seq: u64) {
        self.visible_seq.fetch_max(seq, SeqCst);
        self.log_watch.advance(seq);
    }

    /// Applies `group` as one sled batch, each commit appending its events after the last seq
    /// of those before it (from `last_seq`), and brings the cached task counters up to date.
    /// Returns each commit's events' sequence numbers, or its error. The caller holds
    /// `commit_lock`.
    fn apply(&self, group: &[&Prepared], last_seq: u64) -> Vec<StoreResult<Vec<u64>>> {
        let mut counters = lock(&self.counters);
        let mut written = Writes::new();
        let mut outcomes = Vec::with_capacity(group.len());
        let mut applied: Vec<&Prepared> = Vec::with_capacity(group.len());
        let mut last_seq = last_seq;
        for prepared in group {
            let mut pending = PendingWrites::new(self, &counters, &written);
            match apply_in(&mut pending, prepared, last_seq) {
                Ok(seqs) => {
                    written.extend(pending.writes);
                    applied.push(prepared);
                    last_seq = seqs.last().copied().unwrap_or(last_seq);
                    // The next commits of the group see this one's counters, as they would
                    // after its own batch.
                    note_counters(&mut counters, prepared);
                    outcomes.push(Ok(seqs));
                }
                Err(e) => outcomes.push(Err(e)),
            }
        }
        if written.is_empty() {
            return outcomes;
        }
        let keys = || applied.iter().flat_map(|p| p.writes.iter());
        self.generation.fetch_add(1, SeqCst);
        // Before the batch: once the new records are in sled, no reader may find the old ones
        // in the cache.
        self.cache.forget(keys().map(|w| &w.key));
        self.blocked
            .note_written(keys().filter(|w| w.record.is_some()).map(|w| &w.key));
        let mut batch = sled::Batch::default();
        for (key, value) in written {
            match value {
                Some(v) => batch.insert(key, v),
                None => batch.remove(key),
            }
        }
        let result = self.main.apply_batch(batch);
        self.generation.fetch_add(1, SeqCst);
        if let Err(e) = result {
            // Nothing of the group was written: the counters noted above are unknown now, and
            // are read again from sled when next needed.
            counters.clear();
            let e = from_sled(e);
            return outcomes
                .into_iter()
                .map(|o| o.and_then(|_| Err(e.clone())))
                .collect();
        }
        outcomes
    }
}

/// Brings the cached task counters up to date with the counter records `prepared` writes.
fn note_counters(counters: &mut HashMap<ProjectId, TaskCounter>, prepared: &Prepared) {
    for w in &prepared.writes {
        if let RecordKey::TaskCounter(project) = w.key {
            match &w.record {
                Some(Record::TaskCounter(c)) => {
                    counters.insert(project, c.clone());
                }
                _ => {
                    counters.remove(&project);
                }
            }
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

/// Removes the snapshot files sled had not finished writing when its process died, unless
/// another opener holds the directory.
///
/// sled 0.34.7 writes a snapshot of its page table to `snap.<lsn>.generating`, syncs it and
/// renames it to `snap.<lsn>`, but when it opens it takes the last `snap.*` file by name, the
/// unfinished one included, and fails with "Read corrupted data" on a torn one: a process
/// killed while writing a snapshot left a directory sled could not open (seen in the kill -9
/// test once commits ran at over 10,000/s: once in 59 kills). An unfinished snapshot is
/// never needed: the snapshot is a summary of the log, which sled replays from the last
/// finished snapshot, and sled reclaims log segments only after a snapshot is renamed.
fn remove_unfinished_snapshots(dir: &Path) -> Result<(), SledError> {
    use fs2::FileExt;
    // sled locks its `db` file while the database is open: only a directory nobody has open
    // is touched (a fresh one has no such file).
    let db_file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("db"))
    {
        Ok(file) => file,
        Err(_) => return Ok(()),
    };
    if db_file.try_lock_exclusive().is_err() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(sled::Error::Io)? {
        let entry = entry.map_err(sled::Error::Io)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path()).map_err(sled::Error::Io)?;
        }
    }
    // Closing the file releases the lock for sled.
    drop(db_file);
    Ok(())
}

/// A schema version marker's value.
pub(crate) fn version_of(bytes: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(bytes).ok().map(u32::from_be_bytes)
}

pub(crate) fn malformed(t: Tree) -> StoreError {
    StoreError::Corrupt(format!("malformed key in tree '{}'", t.name()))
}

/// A commit with everything that can be computed before it reaches the applier: encoded
/// records, their index entries, encoded events.
pub(crate) struct Prepared {
    writes: Vec<PreparedWrite>,
    events: Vec<(Vec<u8>, NewEvent)>,
}

struct PreparedWrite {
    key: RecordKey,
    tree: Tree,
    pk: Vec<u8>,
    expected: Expected,
    /// The new value and its entries; `None` for a delete.
    new: Option<(Vec<u8>, Entries)>,
    /// The record written (`None` for a delete).
    record: Option<Record>,
}

pub(crate) fn prepare(commit: &Commit) -> StoreResult<Prepared> {
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
                    record: Some(record.clone()),
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
                    record: None,
                }
            }
        });
    }
    let events: Vec<(Vec<u8>, NewEvent)> = commit
        .events
        .iter()
        .map(|e| Ok((encode_event(e)?, e.clone())))
        .collect::<StoreResult<_>>()?;
    Ok(Prepared { writes, events })
}

/// Full sled keys to their new value (`None`: removed).
type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The writes of one commit before they are applied: reads made while applying it see them,
/// then those of the commits before it in its group (`below`), then sled (and the cached task
/// counters); the group's writes become one atomic sled batch.
struct PendingWrites<'a> {
    inner: &'a Inner,
    counters: &'a HashMap<ProjectId, TaskCounter>,
    below: &'a Writes,
    writes: Writes,
}

impl<'a> PendingWrites<'a> {
    fn new(
        inner: &'a Inner,
        counters: &'a HashMap<ProjectId, TaskCounter>,
        below: &'a Writes,
    ) -> Self {
        PendingWrites {
            inner,
            counters,
            below,
            writes: BTreeMap::new(),
        }
    }

    fn get(&self, t: Tree, key: &[u8]) -> StoreResult<Option<IVec>> {
        let full = full_key(t.byte(), key);
        match self.writes.get(&full).or_else(|| self.below.get(&full)) {
            Some(pending) => Ok(pending.as_deref().map(IVec::from)),
            None => self.inner.tree(t).get(key).map_err(from_sled),
        }
    }

    /// The current record under `key` (a cached task counter counts as current).
    fn record(&self, key: &RecordKey, t: Tree, pk: &[u8]) -> StoreResult<Option<Record>> {
        if let RecordKey::TaskCounter(project) = key {
            if !self.writes.contains_key(&full_key(t.byte(), pk)) {
                if let Some(c) = self.counters.get(project) {
                    return Ok(Some(Record::TaskCounter(c.clone())));
                }
            }
        }
        match self.get(t, pk)? {
            Some(bytes) => decode_record(t, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn insert(&mut self, t: Tree, key: &[u8], value: &[u8]) {
        self.writes
            .insert(full_key(t.byte(), key), Some(value.to_vec()));
    }

    fn remove(&mut self, t: Tree, key: &[u8]) {
        self.writes.insert(full_key(t.byte(), key), None);
    }
}

/// The body of a commit; mirrors the reference store: every expectation is checked first (in
/// write order), then the writes are applied in order, each removing its old record's index
/// entries and claiming its new ones, then the events are appended. Creating a task also writes
/// its project's cached task counter, so the counter on disk is never behind a stored task.
fn apply_in(w: &mut PendingWrites<'_>, p: &Prepared, last_seq: u64) -> StoreResult<Vec<u64>> {
    let mut olds: Vec<Option<Record>> = Vec::with_capacity(p.writes.len());
    for write in &p.writes {
        let old = w.record(&write.key, write.tree, &write.pk)?;
        let ok = match (write.expected, &old) {
            (Expected::Absent, _) if write.new.is_none() => false,
            (Expected::Absent, None) => true,
            (Expected::Version(v), Some(r)) => r.version() == v,
            (Expected::Exists, Some(_)) => true,
            _ => false,
        };
        if !ok {
            return Err(StoreError::VersionConflict {
                record: write.key.to_string(),
            });
        }
        olds.push(old);
    }
    let mut user_delta: i64 = 0;
    let mut counters_to_write: Vec<ProjectId> = Vec::new();
    for (i, (write, old)) in p.writes.iter().zip(olds).enumerate() {
        // The contract has each key at most once per commit; should one repeat, the later
        // write replaces what the earlier one wrote, as in the reference store.
        let old = if p.writes[..i].iter().any(|earlier| earlier.key == write.key) {
            w.record(&write.key, write.tree, &write.pk)?
        } else {
            old
        };
        let old_entries = old.as_ref().map(entries_of).unwrap_or_default();
        let new_entries = write.new.as_ref().map(|(_, e)| e);
        if matches!(write.key, RecordKey::User(_)) {
            user_delta += i64::from(write.new.is_some()) - i64::from(old.is_some());
        }
        if let (Some(Record::Task(t)), None) = (&write.record, &old) {
            if !counters_to_write.contains(&t.project_id) {
                counters_to_write.push(t.project_id);
            }
        }
        // Remove the old record's entries.
        for u in &old_entries.unique {
            if w.get(u.tree, &u.key)?
                .is_some_and(|v| v.as_ref() == u.owner)
            {
                w.remove(u.tree, &u.key);
            }
        }
        for entry @ (tree, key) in &old_entries.plain {
            if !new_entries.is_some_and(|n| n.plain.contains(entry)) {
                w.remove(*tree, key);
            }
        }
        // Write the record and claim its entries.
        match &write.new {
            Some((bytes, entries)) => {
                w.insert(write.tree, &write.pk, bytes);
                for u in &entries.unique {
                    match w.get(u.tree, &u.key)? {
                        Some(holder) if holder.as_ref() != u.owner => {
                            return Err(StoreError::Duplicate {
                                field: u.field.to_owned(),
                                value: u.shown.clone(),
                            });
                        }
                        _ => w.insert(u.tree, &u.key, &u.owner),
                    }
                }
                for entry @ (tree, key) in &entries.plain {
                    if !old_entries.plain.contains(entry) {
                        w.insert(*tree, key, &[]);
                    }
                }
            }
            None => w.remove(write.tree, &write.pk),
        }
    }
    for project in counters_to_write {
        let (t, pk) = locate(&RecordKey::TaskCounter(project));
        let written_here = p
            .writes
            .iter()
            .any(|write| write.key == RecordKey::TaskCounter(project));
        if let (false, Some(c)) = (written_here, w.counters.get(&project)) {
            let bytes = encode_record(&Record::TaskCounter(c.clone()))?;
            w.insert(t, &pk, &bytes);
        }
    }
    if user_delta != 0 {
        let count = u64_value(w.get(Tree::Meta, meta::USER_COUNT)?, "user_count")?;
        let count = count
            .checked_add_signed(user_delta)
            .ok_or_else(|| StoreError::Corrupt("the user count went negative".to_owned()))?;
        w.insert(Tree::Meta, meta::USER_COUNT, &count.to_be_bytes());
    }
    let mut seqs = Vec::with_capacity(p.events.len());
    // Commits are applied one at a time (by the applier, under the commit lock), which also
    // guards the in-memory last seq.
    let mut seq = last_seq;
    for (bytes, event) in &p.events {
        seq += 1;
        w.insert(Tree::Events, &seq.to_be_bytes(), bytes);
        for (tree, key) in event_entries(seq, event) {
            w.insert(tree, &key, &[]);
        }
        seqs.push(seq);
    }
    Ok(seqs)
}

/// Entries written in large batches outside commits (rebuilding the indexes, claiming unique
/// slots; rewriting records on an upgrade), each batch atomic.
struct IndexBatch<'a> {
    main: &'a sled::Tree,
    batch: sled::Batch,
    /// The unique slots claimed in the current batch (full keys to owners).
    claimed: HashMap<Vec<u8>, [u8; 16]>,
    len: usize,
}

impl<'a> IndexBatch<'a> {
    const SIZE: usize = 10_000;

    fn new(main: &'a sled::Tree) -> Self {
        IndexBatch {
            main,
            batch: sled::Batch::default(),
            claimed: HashMap::new(),
            len: 0,
        }
    }

    fn insert(&mut self, t: Tree, key: &[u8], value: &[u8]) -> Result<(), SledError> {
        self.batch.insert(full_key(t.byte(), key), value);
        self.len += 1;
        if self.len >= Self::SIZE {
            self.finish()?;
        }
        Ok(())
    }

    /// Claims a unique slot for `owner`; false when another owner holds it.
    fn claim(&mut self, t: Tree, key: &[u8], owner: &[u8; 16]) -> Result<bool, SledError> {
        let full = full_key(t.byte(), key);
        let holder = match self.claimed.get(&full) {
            Some(o) => Some(o.to_vec()),
            None => self.main.get(&full)?.map(|v| v.to_vec()),
        };
        if holder.is_some_and(|h| h != owner[..]) {
            return Ok(false);
        }
        self.claimed.insert(full, *owner);
        self.insert(t, key, owner)?;
        Ok(true)
    }

    fn finish(&mut self) -> Result<(), SledError> {
        let batch = std::mem::take(&mut self.batch);
        self.main.apply_batch(batch)?;
        self.claimed.clear();
        self.len = 0;
        Ok(())
    }
}

fn by_created<T>(items: &mut [T], key: impl Fn(&T) -> (time::OffsetDateTime, uuid::Uuid)) {
    items.sort_by_key(|a| key(a));
}

#[async_trait]
impl Store for SledStore {
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        match self.inner.cached_record(RecordKey::User(id))? {
            Some(Record::User(u)) => Ok(Some(u)),
            Some(_) => Err(malformed(Tree::Users)),
            None => Ok(None),
        }
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
        self.inner.token_by_hash(hash)
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
        match self
            .inner
            .cached_record(RecordKey::Membership(workspace, user))?
        {
            Some(Record::Membership(m)) => Ok(Some(m)),
            Some(_) => Err(malformed(Tree::Memberships)),
            None => Ok(None),
        }
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
        match self.inner.cached_record(RecordKey::Project(id))? {
            Some(Record::Project(p)) => Ok(Some(p)),
            Some(_) => Err(malformed(Tree::Projects)),
            None => Ok(None),
        }
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
        // In memory, under locks held for a moment: no need for the blocking pool.
        self.inner.next_task_number_now(project)
    }

    async fn task_counter(&self, project: ProjectId) -> StoreResult<Option<TaskCounter>> {
        self.inner.task_counter(project)
    }

    async fn workflow(&self, project: ProjectId) -> StoreResult<Option<Workflow>> {
        match self.inner.cached_record(RecordKey::Workflow(project))? {
            Some(Record::Workflow(w)) => Ok(Some(w)),
            Some(_) => Err(malformed(Tree::Workflows)),
            None => Ok(None),
        }
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
        if !i.blocked.may_be_blocked(task) {
            return Ok(Vec::new());
        }
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

    fn log_watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.log_watch.subscribe()
    }

    async fn commit(&self, commit: Commit) -> StoreResult<CommitReceipt> {
        if commit.writes.is_empty() && commit.events.is_empty() {
            return Ok(CommitReceipt::default());
        }
        let prepared = prepare(&commit)?;
        self.pipeline.commit(prepared).await
    }

    async fn claim_idempotency_key(
        &self,
        key: IdempotencyKey,
        fingerprint: &[u8],
        owner: IdempotencyOwner,
        now: time::OffsetDateTime,
        lease_until: time::OffsetDateTime,
    ) -> StoreResult<IdempotencyClaim> {
        crate::idempotency::claim(&self.inner, key, fingerprint, owner, now, lease_until)
    }

    async fn complete_idempotency_key(
        &self,
        key: IdempotencyKey,
        owner: IdempotencyOwner,
        answer: &[u8],
        expires_at: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        crate::idempotency::complete(&self.inner, key, owner, answer, expires_at).await
    }

    async fn release_idempotency_key(
        &self,
        key: IdempotencyKey,
        owner: IdempotencyOwner,
    ) -> StoreResult<bool> {
        crate::idempotency::release(&self.inner, key, owner)
    }

    async fn purge_idempotency_keys(&self, now: time::OffsetDateTime) -> StoreResult<u64> {
        crate::idempotency::purge(&self.inner, now).await
    }
}

#[cfg(test)]
mod group_tests {
    use tasklane_core::ids::UserId;
    use tasklane_core::model::User;
    use tasklane_core::store::{Commit, Record, Store, StoreError};

    use super::{prepare, Prepared, SledStore};

    fn user(email: &str) -> User {
        User {
            id: UserId(uuid::Uuid::now_v7()),
            email: email.to_owned(),
            name: email.to_owned(),
            password_hash: String::new(),
            is_server_admin: false,
            disabled: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            version: 1,
        }
    }

    fn insert(u: &User) -> Prepared {
        let mut commit = Commit::new();
        commit.insert(Record::User(u.clone()));
        prepare(&commit).expect("prepares")
    }

    /// Commits applied as one group behave as if applied one after the other: each is checked
    /// against what those before it wrote, and one that fails leaves the others whole.
    #[tokio::test]
    async fn a_group_is_checked_commit_by_commit_and_written_together() {
        let store = SledStore::temporary().expect("store");
        let ann = user("ann@example.com");
        let ann_again = ann.clone();
        let ann_twin = user("ANN@example.com");
        let bob = user("bob@example.com");
        let group = [
            insert(&ann),
            insert(&ann_again),
            insert(&ann_twin),
            insert(&bob),
        ];
        let refs: Vec<&Prepared> = group.iter().collect();
        let results = store.inner.apply_commits(&refs);
        assert!(results[0].is_ok());
        assert!(
            matches!(results[1], Err(StoreError::VersionConflict { .. })),
            "{:?}",
            results[1]
        );
        assert!(
            matches!(&results[2], Err(StoreError::Duplicate { field, .. }) if field == "email"),
            "{:?}",
            results[2]
        );
        assert!(results[3].is_ok());
        assert_eq!(store.user(ann.id).await.unwrap(), Some(ann.clone()));
        assert_eq!(store.user(bob.id).await.unwrap(), Some(bob.clone()));
        assert_eq!(store.user(ann_twin.id).await.unwrap(), None);
        assert_eq!(
            store.user_by_email("ann@example.com").await.unwrap(),
            Some(ann)
        );
        assert_eq!(store.user_count().await.unwrap(), 2);
        // A group in which every commit fails writes nothing.
        let results = store.inner.apply_commits(&[&insert(&bob)]);
        assert!(results[0].is_err());
        assert_eq!(store.user_count().await.unwrap(), 2);
    }
}
