//! The record cache: decoded records that requests read again and again (the caller's token and
//! user, the project, membership and workflow it works in, tasks and their blocker edges), kept
//! in the process so that a task GET needs no round trip to PostgreSQL.
//!
//! Several processes may share one schema, so the cache is only as good as what tells it about
//! other processes' writes. The protocol:
//!
//! * **Announcements.** A transaction that changes a cached record queues
//!   `pg_notify(KEYS_CHANNEL, keys)` naming what it wrote ([`announcement`]), delivered by
//!   PostgreSQL when it commits (and dropped when it rolls back). Inserts of records that the
//!   cache never keeps as absent (tasks, tokens, users, projects, workflows) need no
//!   announcement; memberships (kept as absent for outsiders) and blocker edges (kept as lists)
//!   are announced on every write. A commit of the store itself forgets its keys in this process
//!   before it returns, so a caller reads its own writes.
//! * **Listening.** The store's listener connection (see [`crate::log_watch`]) listens on the
//!   schema's key channel and forgets every announced key. Every poll interval it runs a query on
//!   that same connection: PostgreSQL sends a session its pending notifications before it
//!   answers, so when the answer comes, everything committed before the query was sent has been
//!   heard. Only then is the cache allowed to serve for two more poll intervals ([`Self::lease`]).
//!   When the connection is lost, or no answer comes, the cache stops serving and forgets
//!   everything; a connection that goes silent therefore serves a record at most two poll
//!   intervals out of date, and normally a few milliseconds at most (a notification's delivery).
//! * **Generations.** A reader takes a [`Ticket`] (the current generation) before it reads the
//!   database, and keeps what it read only if no key was forgotten since (checked under the lock
//!   that forgetting takes). A record read before a concurrent write therefore never outlives
//!   that write's announcement.
//!
//! Writes never read the cache for their checks: every write states the version it expects and
//! the database checks it, so a stale read can at worst cost the caller a version conflict.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tasklane_core::ids::{ProjectId, TaskId, TokenId, UserId, WorkspaceId};
use tasklane_core::model::{ApiToken, Dependency, Membership, Project, Task, User, Workflow};
use tasklane_core::store::{Commit, DecodedTasks, Expected, Record, RecordKey, Write};
use uuid::Uuid;

/// The SQL expression naming the schema's key channel: `tasklane_keys:<schema>` (see
/// `schema_channel!` in the crate root).
macro_rules! keys_channel {
    () => {
        schema_channel!("tasklane_keys", 49)
    };
}
pub(crate) use keys_channel;

/// The SQL expression naming the schema's key channel (see [`keys_channel!`]).
pub(crate) const KEYS_CHANNEL: &str = keys_channel!();

/// Announces keys on their own, for a transaction without events (those with events announce
/// in the statement that appends them).
pub(crate) const ANNOUNCE: &str = concat!("SELECT pg_notify(", keys_channel!(), ", $1)");

/// The payload that makes every listener forget everything.
const FORGET_ALL: &str = "*";

/// PostgreSQL refuses payloads of 8000 bytes or more; longer announcements forget everything.
const MAX_PAYLOAD: usize = 7_900;

/// Whether a write of `key` must be announced to other processes (see the module
/// documentation); `insert` tells whether it expected no record.
fn announced(key: &RecordKey, insert: bool) -> bool {
    match key {
        RecordKey::Membership(..) | RecordKey::Dependency(..) => true,
        RecordKey::User(_)
        | RecordKey::Token(_)
        | RecordKey::Project(_)
        | RecordKey::Workflow(_)
        | RecordKey::Task(_) => !insert,
        RecordKey::Workspace(_)
        | RecordKey::TaskCounter(_)
        | RecordKey::Label(_)
        | RecordKey::Milestone(_)
        | RecordKey::Comment(_) => false,
    }
}

fn announced_write(write: &Write) -> Option<RecordKey> {
    let insert = matches!(
        write,
        Write::Put {
            expected: Expected::Absent,
            ..
        }
    );
    let key = write.key();
    announced(&key, insert).then_some(key)
}

/// The announcement of `commits`' writes, as a notification payload; `None` when none needs
/// one. Each key is a letter and one or two simple UUIDs, keys separated by spaces.
pub(crate) fn announcement(commits: &[&Commit]) -> Option<String> {
    let mut payload = String::new();
    for key in commits
        .iter()
        .flat_map(|c| c.writes.iter())
        .filter_map(announced_write)
    {
        if !payload.is_empty() {
            payload.push(' ');
        }
        encode_key(&key, &mut payload);
        if payload.len() > MAX_PAYLOAD {
            return Some(FORGET_ALL.to_owned());
        }
    }
    (!payload.is_empty()).then_some(payload)
}

fn encode_key(key: &RecordKey, out: &mut String) {
    let mut push = |letter: char, ids: &[Uuid]| {
        out.push(letter);
        for id in ids {
            out.push_str(id.simple().encode_lower(&mut Uuid::encode_buffer()));
        }
    };
    match key {
        RecordKey::User(id) => push('u', &[id.0]),
        RecordKey::Token(id) => push('k', &[id.0]),
        RecordKey::Membership(w, u) => push('m', &[w.0, u.0]),
        RecordKey::Project(id) => push('p', &[id.0]),
        RecordKey::Workflow(id) => push('w', &[id.0]),
        RecordKey::Task(id) => push('t', &[id.0]),
        RecordKey::Dependency(t, b) => push('d', &[t.0, b.0]),
        // Never announced: the forget-all payload stands in.
        RecordKey::Workspace(_)
        | RecordKey::TaskCounter(_)
        | RecordKey::Label(_)
        | RecordKey::Milestone(_)
        | RecordKey::Comment(_) => out.push_str(FORGET_ALL),
    }
}

/// What an announcement asks to forget.
#[derive(Debug, PartialEq)]
pub(crate) enum Forget {
    /// These keys.
    Keys(Vec<RecordKey>),
    /// Everything (a long announcement, or one this build cannot read).
    All,
}

/// Reads an announcement; anything unreadable forgets everything.
pub(crate) fn parse_announcement(payload: &str) -> Forget {
    let mut keys = Vec::new();
    for part in payload.split(' ') {
        match decode_key(part) {
            Some(key) => keys.push(key),
            None => return Forget::All,
        }
    }
    Forget::Keys(keys)
}

fn decode_key(part: &str) -> Option<RecordKey> {
    let letter = part.chars().next()?;
    let ids = part.get(1..)?;
    let one = || Uuid::try_parse(ids).ok().filter(|_| ids.len() == 32);
    let two = || {
        let (a, b) = (ids.get(..32)?, ids.get(32..)?);
        (b.len() == 32).then_some(())?;
        Some((Uuid::try_parse(a).ok()?, Uuid::try_parse(b).ok()?))
    };
    Some(match letter {
        'u' => RecordKey::User(UserId(one()?)),
        'k' => RecordKey::Token(TokenId(one()?)),
        'p' => RecordKey::Project(ProjectId(one()?)),
        'w' => RecordKey::Workflow(ProjectId(one()?)),
        't' => RecordKey::Task(TaskId(one()?)),
        'm' => {
            let (w, u) = two()?;
            RecordKey::Membership(WorkspaceId(w), UserId(u))
        }
        'd' => {
            let (t, b) = two()?;
            RecordKey::Dependency(TaskId(t), TaskId(b))
        }
        _ => return None,
    })
}

/// One kept answer: a record, or the knowledge that there is none.
#[derive(Clone)]
enum Entry {
    /// Boxed: records are large, and most entries of a busy cache are tasks.
    Present(Box<Record>),
    Absent,
}

/// The kept answers.
pub(crate) struct Kept {
    records: HashMap<RecordKey, Entry>,
    /// Token secret hashes to token ids (a token's hash never changes).
    tokens: HashMap<String, TokenId>,
    /// Each task's blocker edges, as [`tasklane_core::store::Store::blockers_of`] gives them;
    /// only for tasks in `tasks`, and dropped with them, so that the task budget bounds them
    /// too (a count would make a project larger than it drop and re-read them on every pass).
    blockers: HashMap<TaskId, Vec<Dependency>>,
    /// Each workspace's memberships, as
    /// [`tasklane_core::store::Store::members_of_workspace`] gives them.
    members: HashMap<WorkspaceId, Vec<Membership>>,
    /// Tasks, within a budget of bytes rather than the count of the other maps (a task's
    /// description can be anything up to 100 KB).
    tasks: DecodedTasks,
}

/// A typed lookup: `Some(Some(_))` kept, `Some(None)` kept as absent, `None` not kept.
macro_rules! lookup {
    ($name:ident, $key:ident, $id:ty, $variant:ident, $ty:ty) => {
        #[doc = concat!("The kept `", stringify!($variant), "` with this id, if known.")]
        pub(crate) fn $name(&self, id: $id) -> Option<Option<$ty>> {
            match self.records.get(&RecordKey::$key(id))? {
                Entry::Present(record) => match &**record {
                    Record::$variant(found) => Some(Some(found.clone())),
                    _ => None,
                },
                Entry::Absent => Some(None),
            }
        }
    };
}

impl Kept {
    lookup!(user, User, UserId, User, User);
    lookup!(token, Token, TokenId, Token, ApiToken);
    lookup!(project, Project, ProjectId, Project, Project);
    lookup!(workflow, Workflow, ProjectId, Workflow, Workflow);

    /// The kept task with this id (tasks are never kept as absent).
    pub(crate) fn task(&self, id: TaskId) -> Option<Task> {
        self.tasks.get(&id).cloned()
    }

    /// The kept membership of `user` in `workspace`, if known.
    pub(crate) fn membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> Option<Option<Membership>> {
        match self.records.get(&RecordKey::Membership(workspace, user))? {
            Entry::Present(record) => match &**record {
                Record::Membership(found) => Some(Some(found.clone())),
                _ => None,
            },
            Entry::Absent => Some(None),
        }
    }

    /// The id of the token whose secret hashes to `hash`, if known.
    pub(crate) fn token_id(&self, hash: &str) -> Option<TokenId> {
        self.tokens.get(hash).copied()
    }

    /// The kept blocker edges of `task`, if known.
    pub(crate) fn blockers(&self, task: TaskId) -> Option<Vec<Dependency>> {
        self.blockers.get(&task).cloned()
    }

    /// The kept memberships of `workspace`, if known.
    pub(crate) fn members(&self, workspace: WorkspaceId) -> Option<Vec<Membership>> {
        self.members.get(&workspace).cloned()
    }

    fn forget(&mut self, key: &RecordKey) {
        self.records.remove(key);
        match key {
            RecordKey::Task(task) => {
                self.tasks.forget(task);
                self.blockers.remove(task);
            }
            RecordKey::Dependency(task, _) => {
                self.blockers.remove(task);
            }
            RecordKey::Membership(workspace, _) => {
                self.members.remove(workspace);
            }
            _ => {}
        }
    }

    fn clear(&mut self) {
        self.records.clear();
        self.tokens.clear();
        self.blockers.clear();
        self.members.clear();
        self.tasks.clear();
    }
}

/// Adds to the kept answers, within [`RecordCache::keep`].
pub(crate) struct Keeper<'a> {
    kept: &'a mut Kept,
    capacity: usize,
}

impl Keeper<'_> {
    /// Keeps a record.
    pub(crate) fn record(&mut self, record: Record) {
        if let Record::Task(task) = record {
            let Kept {
                tasks, blockers, ..
            } = &mut *self.kept;
            tasks.keep_reporting_drops(task, |dropped| {
                blockers.remove(dropped);
            });
            return;
        }
        make_room(&mut self.kept.records, self.capacity);
        self.kept
            .records
            .insert(record.key(), Entry::Present(Box::new(record)));
    }

    /// Keeps that there is no record under `key`.
    pub(crate) fn absent(&mut self, key: RecordKey) {
        make_room(&mut self.kept.records, self.capacity);
        self.kept.records.insert(key, Entry::Absent);
    }

    /// Keeps that `hash` is the secret hash of the token `id`.
    pub(crate) fn token_hash(&mut self, hash: &str, id: TokenId) {
        make_room(&mut self.kept.tokens, self.capacity);
        self.kept.tokens.insert(hash.to_owned(), id);
    }

    /// Keeps the blocker edges of `task`, if the task itself is kept (keep it first).
    pub(crate) fn blockers(&mut self, task: TaskId, edges: Vec<Dependency>) {
        if self.kept.tasks.get(&task).is_some() {
            self.kept.blockers.insert(task, edges);
        }
    }

    /// Keeps the memberships of `workspace`.
    pub(crate) fn members(&mut self, workspace: WorkspaceId, members: Vec<Membership>) {
        make_room(&mut self.kept.members, self.capacity);
        self.kept.members.insert(workspace, members);
    }
}

/// Drops an eighth of `map` when it holds `capacity` entries, so that keeping stays cheap on
/// average and the cache never outgrows its capacity.
fn make_room<K, V>(map: &mut HashMap<K, V>, capacity: usize) {
    if map.len() >= capacity {
        let mut n = 0usize;
        map.retain(|_, _| {
            n += 1;
            !n.is_multiple_of(8)
        });
    }
}

/// The generation a read started at: what it read may be kept only if nothing was forgotten
/// since.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket(u64);

/// The cache of one store (see the module documentation).
pub(crate) struct RecordCache {
    kept: Mutex<Kept>,
    /// The most entries of each kind; 0 disables the cache.
    capacity: usize,
    /// Moves on every forgetting.
    generation: AtomicU64,
    /// Until when (nanoseconds since `started`) the cache may serve; 0: it may not.
    serve_until: AtomicU64,
    started: Instant,
    /// Wakes [`Self::wait_until_serving`] when a lease is granted.
    leased: tokio::sync::Notify,
    /// Lookups answered from the cache.
    hits: AtomicU64,
    /// Lookups sent to the database while the cache served.
    misses: AtomicU64,
}

impl RecordCache {
    /// An empty cache of at most `capacity` entries of each kind (0: disabled) and tasks of at
    /// most `task_budget` bytes (see [`DecodedTasks`]), not serving until the listener grants it
    /// a [lease](Self::lease).
    pub(crate) fn new(capacity: usize, task_budget: usize) -> Self {
        Self {
            kept: Mutex::new(Kept {
                records: HashMap::new(),
                tokens: HashMap::new(),
                blockers: HashMap::new(),
                members: HashMap::new(),
                tasks: DecodedTasks::new(task_budget),
            }),
            capacity,
            generation: AtomicU64::new(0),
            serve_until: AtomicU64::new(0),
            started: Instant::now(),
            leased: tokio::sync::Notify::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Whether the cache is in use at all (a capacity above 0).
    pub(crate) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn nanos_since_start(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.started).as_nanos()).unwrap_or(u64::MAX)
    }

    fn serving(&self) -> bool {
        let until = self.serve_until.load(SeqCst);
        until != 0 && self.nanos_since_start(Instant::now()) < until
    }

    /// Answers from the kept records with `look`, if the cache serves; `None` sends the caller
    /// to the database (also when `look` finds nothing).
    pub(crate) fn lookup<T>(&self, look: impl FnOnce(&Kept) -> Option<T>) -> Option<T> {
        if !self.enabled() || !self.serving() {
            return None;
        }
        let found = look(&self.lock());
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Relaxed);
        found
    }

    /// The counters and state of the cache, for metrics and tests.
    pub(crate) fn stats(&self) -> crate::RecordCacheStats {
        crate::RecordCacheStats {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            serving: self.enabled() && self.serving(),
        }
    }

    /// A ticket for a database read whose result may be kept; `None` when the cache does not
    /// serve (nothing read now may be kept).
    pub(crate) fn ticket(&self) -> Option<Ticket> {
        if !self.enabled() || !self.serving() {
            return None;
        }
        Some(Ticket(self.generation.load(SeqCst)))
    }

    /// Keeps what `keep` adds, if nothing was forgotten since `ticket` was taken.
    pub(crate) fn keep(&self, ticket: Option<Ticket>, keep: impl FnOnce(&mut Keeper<'_>)) {
        let Some(Ticket(generation)) = ticket else {
            return;
        };
        let mut kept = self.lock();
        if self.generation.load(SeqCst) == generation {
            keep(&mut Keeper {
                kept: &mut kept,
                capacity: self.capacity,
            });
        }
    }

    /// Forgets `keys` (a commit's writes, or an announcement).
    pub(crate) fn forget<'k>(&self, keys: impl IntoIterator<Item = &'k RecordKey>) {
        if !self.enabled() {
            return;
        }
        let mut kept = self.lock();
        self.generation.fetch_add(1, SeqCst);
        for key in keys {
            kept.forget(key);
        }
    }

    /// Forgets everything.
    pub(crate) fn forget_all(&self) {
        let mut kept = self.lock();
        self.generation.fetch_add(1, SeqCst);
        kept.clear();
    }

    /// Stops serving (the listener lost its connection) and forgets everything.
    pub(crate) fn suspend(&self) {
        self.serve_until.store(0, SeqCst);
        self.forget_all();
    }

    /// Lets the cache serve until `length` after `heard_at`, the moment a query was sent on the
    /// listener's connection whose answer, and every notification before it, has been handled.
    pub(crate) fn lease(&self, heard_at: Instant, length: Duration) {
        let until = self.nanos_since_start(heard_at + length).max(1);
        self.serve_until.fetch_max(until, SeqCst);
        self.leased.notify_waiters();
    }

    /// Waits until the cache serves, at most `patience`; returns whether it does.
    pub(crate) async fn wait_until_serving(&self, patience: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let leased = self.leased.notified();
            if self.serving() {
                return true;
            }
            if tokio::time::timeout_at(deadline, leased).await.is_err() {
                return self.serving();
            }
        }
    }

    /// Handles one announcement.
    pub(crate) fn hear(&self, payload: &str) {
        match parse_announcement(payload) {
            Forget::Keys(keys) => self.forget(keys.iter()),
            Forget::All => self.forget_all(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tasklane_core::store::Commit;

    fn id() -> Uuid {
        Uuid::now_v7()
    }

    #[test]
    fn announcements_read_back_as_their_keys() {
        let keys = [
            RecordKey::User(UserId(id())),
            RecordKey::Token(TokenId(id())),
            RecordKey::Membership(WorkspaceId(id()), UserId(id())),
            RecordKey::Project(ProjectId(id())),
            RecordKey::Workflow(ProjectId(id())),
            RecordKey::Task(TaskId(id())),
            RecordKey::Dependency(TaskId(id()), TaskId(id())),
        ];
        let mut commit = Commit::new();
        for key in keys {
            commit.delete(key, 1);
        }
        let payload = announcement(&[&commit]).expect("deletes are announced");
        assert_eq!(parse_announcement(&payload), Forget::Keys(keys.to_vec()));
    }

    #[test]
    fn inserts_of_records_never_kept_absent_are_not_announced() {
        let mut commit = Commit::new();
        commit.delete(RecordKey::Label(tasklane_core::ids::LabelId(id())), 1);
        assert_eq!(announcement(&[&commit]), None);
    }

    #[test]
    fn unreadable_or_long_announcements_forget_everything() {
        assert_eq!(parse_announcement("x123"), Forget::All);
        assert_eq!(parse_announcement("t0123"), Forget::All);
        assert_eq!(parse_announcement(""), Forget::All);
        let mut commit = Commit::new();
        for _ in 0..300 {
            commit.delete(RecordKey::Task(TaskId(id())), 1);
        }
        assert_eq!(announcement(&[&commit]).as_deref(), Some(FORGET_ALL));
    }

    #[test]
    fn a_read_older_than_a_forgetting_is_not_kept() {
        let cache = RecordCache::new(16, 1 << 20);
        cache.lease(Instant::now(), Duration::from_secs(60));
        let task = RecordKey::Task(TaskId(id()));
        let ticket = cache.ticket();
        assert!(ticket.is_some());
        cache.forget([&task]);
        cache.keep(ticket, |k| k.absent(task));
        assert!(cache
            .lookup(|kept| kept.records.get(&task).cloned())
            .is_none());
        let ticket = cache.ticket();
        cache.keep(ticket, |k| k.absent(task));
        assert!(cache
            .lookup(|kept| kept.records.get(&task).cloned())
            .is_some());
        cache.suspend();
        assert!(cache.ticket().is_none());
        assert!(cache.lookup(|kept| Some(kept.records.len())).is_none());
    }

    #[test]
    fn an_expired_lease_stops_the_cache() {
        let cache = RecordCache::new(16, 1 << 20);
        let long_ago = Instant::now() - Duration::from_secs(10);
        cache.lease(long_ago, Duration::from_secs(1));
        assert!(cache.ticket().is_none());
        assert!(!cache.stats().serving);
        cache.lease(Instant::now(), Duration::from_secs(60));
        assert!(cache.stats().serving);
    }

    #[test]
    fn the_cache_keeps_at_most_its_capacity() {
        let cache = RecordCache::new(64, 1 << 20);
        cache.lease(Instant::now(), Duration::from_secs(60));
        for _ in 0..1_000 {
            let ticket = cache.ticket();
            cache.keep(ticket, |k| k.absent(RecordKey::Task(TaskId(id()))));
        }
        let kept = cache.lookup(|kept| Some(kept.records.len())).unwrap_or(0);
        assert!(kept > 0 && kept <= 64, "{kept} kept");
    }

    fn task(id: Uuid, description_len: usize) -> Task {
        let other = Uuid::nil();
        serde_json::from_value(serde_json::json!({
            "id": id, "workspace_id": other, "project_id": other, "number": 1,
            "title": "A task", "description": "d".repeat(description_len),
            "status_id": other, "priority": "high", "assignee_ids": [], "reporter_id": other,
            "label_ids": [], "milestone_id": null, "due_at": null, "start_at": null,
            "estimate_seconds": null, "parent_id": null, "position": "a0",
            "completed_at": null, "started_at": null, "deleted_at": null,
            "created_at": "2026-11-30T10:00:00Z", "updated_at": "2026-11-30T10:00:00Z",
            "version": 1
        }))
        .expect("a task")
    }

    #[test]
    fn tasks_are_kept_within_their_budget_of_bytes_and_forgotten() {
        let one = DecodedTasks::approximate_size(&task(id(), 1_000));
        let cache = RecordCache::new(1_000, 10 * one);
        cache.lease(Instant::now(), Duration::from_secs(60));
        let ids: Vec<Uuid> = (0..100).map(|_| id()).collect();
        for &t in &ids {
            let ticket = cache.ticket();
            cache.keep(ticket, |k| k.record(Record::Task(task(t, 1_000))));
        }
        let (count, bytes) = cache
            .lookup(|kept| Some((kept.tasks.len(), kept.tasks.bytes())))
            .unwrap_or_default();
        assert!(
            count > 0 && bytes <= 10 * one,
            "{count} tasks, {bytes} bytes"
        );
        let last = TaskId(ids[99]);
        assert!(cache.lookup(|kept| kept.task(last)).is_some());
        cache.forget([&RecordKey::Task(last)]);
        assert!(cache.lookup(|kept| kept.task(last)).is_none());
        // A description longer than the whole budget is not kept.
        let huge = TaskId(id());
        let ticket = cache.ticket();
        cache.keep(ticket, |k| k.record(Record::Task(task(huge.0, 20 * one))));
        assert!(cache.lookup(|kept| kept.task(huge)).is_none());
    }
    #[test]
    fn blocker_lists_are_kept_with_their_tasks_and_not_counted() {
        // A capacity far below the tasks kept: blocker lists follow the task budget instead.
        let one = DecodedTasks::approximate_size(&task(id(), 100));
        let cache = RecordCache::new(8, 50 * one);
        cache.lease(Instant::now(), Duration::from_secs(60));
        let ids: Vec<TaskId> = (0..200).map(|_| TaskId(id())).collect();
        for &t in &ids {
            let ticket = cache.ticket();
            cache.keep(ticket, |k| {
                k.record(Record::Task(task(t.0, 100)));
                k.blockers(t, Vec::new());
            });
        }
        let (tasks, lists, every_list_has_its_task) = cache
            .lookup(|kept| {
                let with_task = kept.blockers.keys().all(|t| kept.tasks.get(t).is_some());
                Some((kept.tasks.len(), kept.blockers.len(), with_task))
            })
            .unwrap_or_default();
        assert!(tasks > 8, "{tasks} tasks kept");
        assert_eq!(
            lists, tasks,
            "a blocker list for every kept task and no other"
        );
        assert!(every_list_has_its_task);
        // The list of a task that is not kept is not kept either.
        let stranger = TaskId(id());
        let ticket = cache.ticket();
        cache.keep(ticket, |k| k.blockers(stranger, Vec::new()));
        assert!(cache.lookup(|kept| kept.blockers(stranger)).is_none());
        // Forgetting a task forgets its list.
        let last = ids[199];
        assert!(cache.lookup(|kept| kept.blockers(last)).is_some());
        cache.forget([&RecordKey::Task(last)]);
        assert!(cache.lookup(|kept| kept.blockers(last)).is_none());
    }
}
