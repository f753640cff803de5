//! The storage contract.
//!
//! A store keeps records and the event log. It answers reads and applies [`Commit`]s; it holds no
//! business rules (those live in the engine), but it guarantees the following, which the
//! conformance suite in [`crate::testkit`] checks for every adapter:
//!
//! * **Atomicity.** A commit applies all its writes and appends all its events, or nothing. A
//!   commit that fails for any reason leaves no trace, in records or in the log.
//! * **Optimistic versions.** Every write names the version it expects the record to have
//!   ([`Expected`]). If any expectation fails the whole commit fails with
//!   [`StoreError::VersionConflict`]. Of two commits that expect the same version of one record,
//!   at most one succeeds.
//! * **Uniqueness.** A user's e-mail (ignoring case), a project's key within its workspace, a
//!   task's number within its project and a label's name within its project (ignoring case) are
//!   unique: a commit that would break one fails with [`StoreError::Duplicate`].
//! * **The log.** Each event of a commit receives the next sequence number; numbers start at 1,
//!   have no gaps, and their order is the order in which commits became visible: once a reader
//!   has seen `seq = n`, every event with `seq < n` is visible too (no late arrivals).
//! * **Visibility.** When `commit` returns `Ok`, every later read (from any handle of the same
//!   store) sees the commit's writes and events; it is durable as the adapter documents.
//! * **Reads** never see a partial commit. List reads return records in the documented order.
//! * **Wake-ups.** [`Store::log_watch`] tells consumers of the log when it may have grown, also
//!   for commits made through other handles or (for shared stores) other processes; the log
//!   itself stays the truth, read with [`Store::events`] after the consumer's cursor.
//! * **Idempotency keys** (module `idempotency`) are kept beside the records, outside commits:
//!   of concurrent claims of one key exactly one succeeds, across every handle of the store.

mod decoded_tasks;
mod idempotency;
mod log_watch;
mod memory;

pub use decoded_tasks::DecodedTasks;
pub use idempotency::{
    IdempotencyClaim, IdempotencyEntry, IdempotencyKey, IdempotencyOwner, IdempotencyTable,
};
pub use log_watch::LogWatchSender;
pub use memory::MemoryStore;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::event::{Event, EventQuery, NewEvent};
use crate::ids::{
    CommentId, LabelId, MilestoneId, ProjectId, StatusId, TaskId, TokenId, UserId, WorkspaceId,
};
use crate::model::{
    ApiToken, Comment, Dependency, Label, Membership, Milestone, Project, Task, TaskCounter, User,
    Workflow, Workspace,
};
use crate::query::{TaskFilter, TaskQuery};

/// A task with what showing it to one user reads: see [`Store::task_with_context`].
#[derive(Clone, Debug, PartialEq)]
pub struct TaskWithContext {
    /// The task.
    pub task: Task,
    /// Its project (also when deleted); `None` only if the project record is missing.
    pub project: Option<Project>,
    /// The user's membership of the project's workspace, if any.
    pub membership: Option<Membership>,
    /// The edges where the task is the blocked one, oldest first.
    pub blockers: Vec<Dependency>,
}

/// What can go wrong in a store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A write's expected version did not match; nothing was applied.
    #[error("version conflict on {record}")]
    VersionConflict {
        /// The record, as [`RecordKey`]'s display form.
        record: String,
    },
    /// A uniqueness rule would be broken; nothing was applied.
    #[error("{field} '{value}' is already taken")]
    Duplicate {
        /// Which unique field (`email`, `key`, `number`, `label`).
        field: String,
        /// The value.
        value: String,
    },
    /// The store cannot be reached or refused the operation; nothing is known to be applied.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored bytes could not be decoded, or the schema is unknown.
    #[error("store corrupt: {0}")]
    Corrupt(String),
}

/// The store's result type.
pub type StoreResult<T> = Result<T, StoreError>;

/// Any record the store keeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Record {
    User(User),
    Token(ApiToken),
    Workspace(Workspace),
    Membership(Membership),
    Project(Project),
    TaskCounter(TaskCounter),
    Workflow(Workflow),
    Task(Task),
    Dependency(Dependency),
    Label(Label),
    Milestone(Milestone),
    Comment(Comment),
}

/// The identity of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum RecordKey {
    User(UserId),
    Token(TokenId),
    Workspace(WorkspaceId),
    Membership(WorkspaceId, UserId),
    Project(ProjectId),
    TaskCounter(ProjectId),
    Workflow(ProjectId),
    Task(TaskId),
    /// (blocked task, blocker)
    Dependency(TaskId, TaskId),
    Label(LabelId),
    Milestone(MilestoneId),
    Comment(CommentId),
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordKey::User(id) => write!(f, "user {id}"),
            RecordKey::Token(id) => write!(f, "token {id}"),
            RecordKey::Workspace(id) => write!(f, "workspace {id}"),
            RecordKey::Membership(w, u) => write!(f, "membership {w}/{u}"),
            RecordKey::Project(id) => write!(f, "project {id}"),
            RecordKey::TaskCounter(id) => write!(f, "task counter {id}"),
            RecordKey::Workflow(id) => write!(f, "workflow {id}"),
            RecordKey::Task(id) => write!(f, "task {id}"),
            RecordKey::Dependency(t, b) => write!(f, "dependency {t}<-{b}"),
            RecordKey::Label(id) => write!(f, "label {id}"),
            RecordKey::Milestone(id) => write!(f, "milestone {id}"),
            RecordKey::Comment(id) => write!(f, "comment {id}"),
        }
    }
}

impl Record {
    /// The record's identity.
    pub fn key(&self) -> RecordKey {
        match self {
            Record::User(r) => RecordKey::User(r.id),
            Record::Token(r) => RecordKey::Token(r.id),
            Record::Workspace(r) => RecordKey::Workspace(r.id),
            Record::Membership(r) => RecordKey::Membership(r.workspace_id, r.user_id),
            Record::Project(r) => RecordKey::Project(r.id),
            Record::TaskCounter(r) => RecordKey::TaskCounter(r.project_id),
            Record::Workflow(r) => RecordKey::Workflow(r.project_id),
            Record::Task(r) => RecordKey::Task(r.id),
            Record::Dependency(r) => RecordKey::Dependency(r.task_id, r.blocker_id),
            Record::Label(r) => RecordKey::Label(r.id),
            Record::Milestone(r) => RecordKey::Milestone(r.id),
            Record::Comment(r) => RecordKey::Comment(r.id),
        }
    }

    /// The record's version.
    pub fn version(&self) -> u64 {
        match self {
            Record::User(r) => r.version,
            Record::Token(r) => r.version,
            Record::Workspace(r) => r.version,
            Record::Membership(r) => r.version,
            Record::Project(r) => r.version,
            Record::TaskCounter(r) => r.version,
            Record::Workflow(r) => r.version,
            Record::Task(r) => r.version,
            Record::Dependency(r) => r.version,
            Record::Label(r) => r.version,
            Record::Milestone(r) => r.version,
            Record::Comment(r) => r.version,
        }
    }
}

/// What a write expects to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expected {
    /// No record with this key exists.
    Absent,
    /// The record exists with exactly this version.
    Version(u64),
    /// The record exists, whatever its version (for bookkeeping such as a token's last use).
    Exists,
}

/// One write of a commit.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Write {
    /// Insert or replace a record. The record carries its new version, which must be
    /// `expected + 1` for [`Expected::Version`] and 1 for [`Expected::Absent`] (the store does not
    /// check this arithmetic; the engine keeps it).
    Put {
        /// The record as it should be.
        record: Record,
        /// What must be there now.
        expected: Expected,
    },
    /// Remove a record.
    Delete {
        /// Which record.
        key: RecordKey,
        /// What must be there now ([`Expected::Absent`] is meaningless here and fails).
        expected: Expected,
    },
}

impl Write {
    /// The key of the record this write puts or removes.
    pub fn key(&self) -> RecordKey {
        match self {
            Write::Put { record, .. } => record.key(),
            Write::Delete { key, .. } => *key,
        }
    }
}

/// One atomic unit of change: records to write and events to append.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Commit {
    /// The writes, applied together. A key appears at most once.
    pub writes: Vec<Write>,
    /// The events, appended in this order.
    pub events: Vec<NewEvent>,
}

impl Commit {
    /// An empty commit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an insert of a new record (expected absent).
    pub fn insert(&mut self, record: Record) -> &mut Self {
        self.writes.push(Write::Put {
            record,
            expected: Expected::Absent,
        });
        self
    }

    /// Adds a replacement of a record read at `read_version`.
    pub fn update(&mut self, record: Record, read_version: u64) -> &mut Self {
        self.writes.push(Write::Put {
            record,
            expected: Expected::Version(read_version),
        });
        self
    }

    /// Adds a removal of a record read at `read_version`.
    pub fn delete(&mut self, key: RecordKey, read_version: u64) -> &mut Self {
        self.writes.push(Write::Delete {
            key,
            expected: Expected::Version(read_version),
        });
        self
    }

    /// Adds an event.
    pub fn event(&mut self, event: NewEvent) -> &mut Self {
        self.events.push(event);
        self
    }
}

/// What a successful commit produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitReceipt {
    /// The sequence numbers given to the commit's events, in order (empty without events).
    pub seqs: Vec<u64>,
}

/// How many tasks of a project sit in one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusCount {
    /// The status.
    pub status_id: StatusId,
    /// How many tasks (not in the trash) that match.
    pub count: u64,
}

/// A store of Tasklane records and its event log. See the module documentation for the contract.
///
/// Reads of single records return `Ok(None)` when the record does not exist. List reads return
/// every matching record in the order their documentation gives. Every method fails with
/// [`StoreError::Unavailable`] or [`StoreError::Corrupt`] when the store itself fails.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The user with `id`.
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// The user whose e-mail equals `email` ignoring case.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// The users with these ids, in the order given; missing ids are skipped.
    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>>;
    /// How many users exist.
    async fn user_count(&self) -> StoreResult<u64>;

    /// The token with `id`.
    async fn token(&self, id: TokenId) -> StoreResult<Option<ApiToken>>;
    /// The token whose `secret_hash` equals `hash`.
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>>;
    /// The token whose `secret_hash` equals `hash` and its user (`None` if the user record is
    /// gone), which authenticating every request reads together.
    ///
    /// The default reads one, then the other; adapters with round trips should read both at
    /// once.
    async fn token_with_user(&self, hash: &str) -> StoreResult<Option<(ApiToken, Option<User>)>> {
        let Some(token) = self.token_by_hash(hash).await? else {
            return Ok(None);
        };
        let user = self.user(token.user_id).await?;
        Ok(Some((token, user)))
    }
    /// The user's tokens, oldest first.
    async fn tokens_of_user(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;

    /// The workspace with `id`.
    async fn workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>>;
    /// The membership of `user` in `workspace`.
    async fn membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> StoreResult<Option<Membership>>;
    /// The workspace's memberships, oldest first.
    async fn members_of_workspace(&self, workspace: WorkspaceId) -> StoreResult<Vec<Membership>>;
    /// The user's memberships, oldest first.
    async fn memberships_of_user(&self, user: UserId) -> StoreResult<Vec<Membership>>;

    /// The project with `id` (also when deleted).
    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>>;
    /// The project with `id` (also when deleted) and `user`'s membership of its workspace,
    /// which every project-scoped request reads together; `None` when there is no such project.
    ///
    /// The default reads one, then the other; adapters with round trips should read both at
    /// once.
    async fn project_with_membership(
        &self,
        id: ProjectId,
        user: UserId,
    ) -> StoreResult<Option<(Project, Option<Membership>)>> {
        let Some(project) = self.project(id).await? else {
            return Ok(None);
        };
        let membership = self.membership(project.workspace_id, user).await?;
        Ok(Some((project, membership)))
    }
    /// The project of `workspace` whose key is exactly `key` (keys are stored upper-case).
    async fn project_by_key(
        &self,
        workspace: WorkspaceId,
        key: &str,
    ) -> StoreResult<Option<Project>>;
    /// The projects whose key is exactly `key`, in any workspace, oldest first.
    async fn projects_by_key(&self, key: &str) -> StoreResult<Vec<Project>>;
    /// The workspace's projects (also deleted ones), oldest first.
    async fn projects_of_workspace(&self, workspace: WorkspaceId) -> StoreResult<Vec<Project>>;
    /// The project's task counter.
    async fn task_counter(&self, project: ProjectId) -> StoreResult<Option<TaskCounter>>;
    /// The project's workflow.
    async fn workflow(&self, project: ProjectId) -> StoreResult<Option<Workflow>>;

    /// Atomically hands out the project's next task number: increments its [`TaskCounter`]
    /// (`last_number + 1`, `version + 1`) as a commit of its own and returns the new
    /// `last_number`; `Ok(None)` when the project has no counter. Concurrent calls never return
    /// the same number, and a number is not returned again while the store runs, even when the
    /// task that was to carry it is never committed (numbers may have gaps). The increment may be
    /// made durable together with the next commit rather than on its own: after a crash a number
    /// may come back only if no committed task carries it, so committed numbers are never
    /// reused.
    ///
    /// The default implementation is an optimistic read-increment-commit loop; adapters with an
    /// atomic increment (a SQL `UPDATE ... RETURNING`, a sled `update_and_fetch`) should override
    /// it, since every task creation of a project goes through this one record.
    async fn next_task_number(&self, project: ProjectId) -> StoreResult<Option<u64>> {
        loop {
            let Some(counter) = self.task_counter(project).await? else {
                return Ok(None);
            };
            let mut next = counter.clone();
            next.last_number += 1;
            next.version += 1;
            let mut commit = Commit::new();
            commit.update(Record::TaskCounter(next.clone()), counter.version);
            match self.commit(commit).await {
                Ok(_) => return Ok(Some(next.last_number)),
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(other) => return Err(other),
            }
        }
    }

    /// The task with `id` (also when in the trash).
    async fn task(&self, id: TaskId) -> StoreResult<Option<Task>>;
    /// The task with `id` (also when in the trash) with what showing it to `user` reads: its
    /// project (also when deleted), `user`'s membership of the project's workspace, and the
    /// task's blocker edges as [`Store::blockers_of`] gives them. `None` when there is no such
    /// task.
    ///
    /// The default reads the parts one after the other; adapters with round trips should read
    /// them at once.
    async fn task_with_context(
        &self,
        id: TaskId,
        user: UserId,
    ) -> StoreResult<Option<TaskWithContext>> {
        let Some(task) = self.task(id).await? else {
            return Ok(None);
        };
        let (project, membership) =
            match self.project_with_membership(task.project_id, user).await? {
                Some((project, membership)) => (Some(project), membership),
                None => (None, None),
            };
        let blockers = self.blockers_of(id).await?;
        Ok(Some(TaskWithContext {
            task,
            project,
            membership,
            blockers,
        }))
    }
    /// The task of `project` numbered `number` (also when in the trash).
    async fn task_by_number(&self, project: ProjectId, number: u64) -> StoreResult<Option<Task>>;
    /// A page of tasks: those that [`TaskQuery::matches`], in the query's sort order, strictly
    /// after its cursor, at most `limit`. The result must equal what the reference evaluator
    /// gives over the same tasks.
    async fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>>;
    /// The direct subtasks of `parent` (also those in the trash), by number.
    async fn subtasks(&self, parent: TaskId) -> StoreResult<Vec<Task>>;
    /// Counts of the project's tasks (not in the trash) that match `filter`, per status; statuses
    /// with no matching task may be left out.
    async fn status_counts(
        &self,
        project: ProjectId,
        filter: &TaskFilter,
    ) -> StoreResult<Vec<StatusCount>>;

    /// Edges where `task` is the blocked one, oldest first.
    async fn blockers_of(&self, task: TaskId) -> StoreResult<Vec<Dependency>>;
    /// Edges where `task` is the blocker, oldest first.
    async fn blocked_by(&self, task: TaskId) -> StoreResult<Vec<Dependency>>;

    /// Edges where any of `tasks` is the blocked one: for each task in the order given, its
    /// edges oldest first (what [`Store::blockers_of`] gives, concatenated). Lets a page of
    /// tasks show its blockers in one read; adapters with a network hop should override the
    /// default, which reads task by task.
    async fn blockers_of_tasks(&self, tasks: &[TaskId]) -> StoreResult<Vec<Dependency>> {
        let mut out = Vec::new();
        for task in tasks {
            out.extend(self.blockers_of(*task).await?);
        }
        Ok(out)
    }

    /// The label with `id`.
    async fn label(&self, id: LabelId) -> StoreResult<Option<Label>>;
    /// The project's labels, by name.
    async fn labels_of_project(&self, project: ProjectId) -> StoreResult<Vec<Label>>;
    /// The milestone with `id`.
    async fn milestone(&self, id: MilestoneId) -> StoreResult<Option<Milestone>>;
    /// The project's milestones, by due date (none last), then name.
    async fn milestones_of_project(&self, project: ProjectId) -> StoreResult<Vec<Milestone>>;

    /// The comment with `id`.
    async fn comment(&self, id: CommentId) -> StoreResult<Option<Comment>>;
    /// The task's comments (also deleted ones), oldest first.
    async fn comments_of_task(&self, task: TaskId) -> StoreResult<Vec<Comment>>;

    /// Events of the query's scope with `seq > after`, in `seq` order, at most `limit`.
    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<Event>>;
    /// The highest `seq` in the log, 0 when it is empty.
    async fn last_seq(&self) -> StoreResult<u64>;

    /// A watch of the log's growth: its value is the highest `seq` this store knows to be
    /// visible in the log. Consumers that follow the log (WebSocket fan-out, notification and
    /// webhook delivery) sleep on it until it passes their cursor, then read the events after
    /// their cursor with [`Store::events`]. The watch is a wake-up only; the log is the truth.
    ///
    /// The contract, for every receiver:
    ///
    /// * the value never decreases, and it is never above the highest `seq` visible to
    ///   [`Store::events`] (a woken consumer always finds the events up to the value);
    /// * it starts at most at [`Store::last_seq`] (possibly lower, down to 0);
    /// * once [`Store::commit`] of a commit with events has returned `Ok` on any handle of the
    ///   store, the value reaches at least that commit's last `seq`: at once for handles in this
    ///   process; for a store shared by several processes (PostgreSQL: another process or
    ///   connection pool on the same schema) within the notification latency, and at worst
    ///   within the adapter's poll interval when a notification is lost;
    /// * values may be skipped (one wake-up can stand for many commits), so consumers compare
    ///   with their cursor rather than count wake-ups.
    ///
    /// It never fails: an adapter that cannot learn about other processes' commits for a
    /// while (its connection is down) keeps retrying in the background, and the value then
    /// lags until it succeeds. The sender closes when the last handle of the store is
    /// dropped. Adapters keep a [`LogWatchSender`]; watching should cost nothing until the
    /// first call.
    fn log_watch(&self) -> tokio::sync::watch::Receiver<u64>;

    /// Applies `commit` atomically (see the module documentation).
    ///
    /// Errors: [`StoreError::VersionConflict`] when an expectation fails,
    /// [`StoreError::Duplicate`] when a uniqueness rule would break; in both cases nothing was
    /// applied.
    async fn commit(&self, commit: Commit) -> StoreResult<CommitReceipt>;

    /// Claims `key` for the attempt `owner`, atomically: when there is no entry for `key`, or
    /// its entry is expired at `now` (see [`IdempotencyEntry::is_expired`]), the entry becomes
    /// running, with `fingerprint`, owned by `owner` until `lease_until`, and the answer is
    /// [`IdempotencyClaim::Claimed`]. Otherwise nothing changes and the answer describes the
    /// entry found: [`IdempotencyClaim::Running`] or [`IdempotencyClaim::Completed`], each with
    /// the fingerprint the key was claimed with (which the caller compares with its own).
    ///
    /// Of any number of concurrent claims of one key, from any handles of the store, exactly
    /// one is `Claimed` while its entry lasts. A claim need not be durable: one lost in a crash
    /// is like a lease that ended. Keys are independent of each other and of the records.
    async fn claim_idempotency_key(
        &self,
        key: IdempotencyKey,
        fingerprint: &[u8],
        owner: IdempotencyOwner,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> StoreResult<IdempotencyClaim>;

    /// Keeps `answer` for `key` until `expires_at`: only when the entry is running and owned
    /// by `owner` (also past its lease, as long as no one claimed the key since); the entry
    /// then becomes completed, with the fingerprint it was claimed with. Otherwise (no entry,
    /// another owner, already completed) nothing changes. Returns whether it took effect.
    ///
    /// A completed entry is as durable as a commit when this returns (see the adapter's
    /// durability).
    async fn complete_idempotency_key(
        &self,
        key: IdempotencyKey,
        owner: IdempotencyOwner,
        answer: &[u8],
        expires_at: OffsetDateTime,
    ) -> StoreResult<bool>;

    /// Removes the entry of `key` when it is running and owned by `owner` (the attempt failed
    /// with an answer not worth keeping, or was cancelled), so that the next claim succeeds;
    /// otherwise nothing changes. Returns whether it took effect.
    async fn release_idempotency_key(
        &self,
        key: IdempotencyKey,
        owner: IdempotencyOwner,
    ) -> StoreResult<bool>;

    /// Removes every entry expired at `now` (running or completed) and returns how many. Live
    /// entries are untouched.
    async fn purge_idempotency_keys(&self, now: OffsetDateTime) -> StoreResult<u64>;
}
