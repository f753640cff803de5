//! The engine: the one place where business rules and permission checks live.
//!
//! An [`Engine`] is built from a [`Store`], a [`Clock`], an [`IdGenerator`] and an
//! [`EngineConfig`]. Its services (`engine.tasks()`, `engine.projects()`, ...) take the acting
//! user ([`Actor`]) on every call, check what that user may do, and turn each mutation into one
//! atomic [`crate::store::Commit`] carrying both the changed records and the events they produce.

mod access;
mod accounts;
mod activity;
mod comments;
mod labels;
mod projects;
mod tasks;
mod workflows;
mod workspaces;

pub use access::Actor;
pub use accounts::{Accounts, IssuedToken, NewToken, NewUser, RegistrationPolicy};
pub use activity::Activity;
pub use comments::{Comments, NewComment};
pub use labels::{
    LabelPatch, Labels, MilestonePatch, MilestoneView, Milestones, NewLabel, NewMilestone,
};
pub use projects::{NewProject, ProjectPatch, ProjectStats, Projects, StatusStat};
pub use tasks::{
    BulkAction, BulkRequest, BulkSet, MoveTask, NewTask, TaskListRequest, TaskPatch, TaskRef,
    TaskView, Tasks,
};
pub use workflows::{StatusInput, TransitionInput, WorkflowInput, Workflows};
pub use workspaces::{MemberRef, MemberView, Workspaces};

use std::future::Future;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::{Clock, IdGenerator, SystemClock, UuidV7Ids};
use crate::error::{Conflict, Error, Result};
use crate::event::{EventKind, NewEvent};
use crate::ids::{ProjectId, TaskId, UserId, WorkspaceId};
use crate::store::{Commit, CommitReceipt, Store};

/// Cost parameters of argon2id password hashing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordHashing {
    /// Memory in KiB (at least 8).
    pub memory_kib: u32,
    /// Passes over memory (at least 1).
    pub iterations: u32,
}

impl Default for PasswordHashing {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 passes.
    fn default() -> Self {
        PasswordHashing {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

/// Tunable limits and policies of the engine.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Who may register an account.
    pub registration: RegistrationPolicy,
    /// Password hashing cost.
    pub password_hashing: PasswordHashing,
    /// Minimum password length in characters.
    pub min_password_length: usize,
    /// How long a login session token lives.
    pub session_ttl: time::Duration,
    /// How many levels subtasks may nest (a top-level task with children has depth 1).
    pub max_subtask_depth: usize,
    /// The most tasks one bulk operation may touch.
    pub max_bulk_tasks: usize,
    /// The largest page a list may return.
    pub max_page_size: usize,
    /// The page size when the caller gives none.
    pub default_page_size: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            registration: RegistrationPolicy::Open,
            password_hashing: PasswordHashing::default(),
            min_password_length: 8,
            session_ttl: time::Duration::days(30),
            max_subtask_depth: 8,
            max_bulk_tasks: 1000,
            max_page_size: 200,
            default_page_size: 50,
        }
    }
}

impl EngineConfig {
    /// The defaults with the cheapest password hashing, for tests.
    pub fn for_tests() -> Self {
        EngineConfig {
            password_hashing: PasswordHashing {
                memory_kib: 8,
                iterations: 1,
            },
            ..EngineConfig::default()
        }
    }
}

/// A page of a list, with the cursor of the next page when there is one.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass this back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

struct Inner<S> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    config: EngineConfig,
}

/// The task-management engine over a store. Cheap to clone: clones share everything.
pub struct Engine<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Engine<S> {
    fn clone(&self) -> Self {
        Engine {
            inner: Arc::clone(&self.inner),
        }
    }
}

/// Builds an [`Engine`] with a chosen clock, id generator and configuration.
pub struct EngineBuilder<S> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    config: EngineConfig,
}

impl<S: Store> EngineBuilder<S> {
    /// Uses `clock` for every timestamp.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `ids` for every new identifier.
    pub fn ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = ids;
        self
    }

    /// Uses `config`.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// The engine.
    pub fn build(self) -> Engine<S> {
        Engine {
            inner: Arc::new(Inner {
                store: self.store,
                clock: self.clock,
                ids: self.ids,
                config: self.config,
            }),
        }
    }
}

/// How many times a read-modify-write is attempted when concurrent commits keep getting there
/// first. Optimistic retries on a hot record (a project's task counter under a burst of
/// creations) need a generous bound: every round has a winner, so the system always progresses,
/// but one caller may lose many rounds in a row when the store has real I/O latency.
const MAX_ATTEMPTS: usize = 64;

/// Gives other tasks on the executor a turn before a retry, without naming any runtime.
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.yielded {
            std::task::Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

impl<S: Store> Engine<S> {
    /// An engine over `store` with the system clock, UUIDv7 ids and the default configuration.
    pub fn new(store: S) -> Self {
        Self::builder(store).build()
    }

    /// A builder over `store`.
    pub fn builder(store: S) -> EngineBuilder<S> {
        Self::builder_shared(Arc::new(store))
    }

    /// A builder over a store that is shared with others.
    pub fn builder_shared(store: Arc<S>) -> EngineBuilder<S> {
        EngineBuilder {
            store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV7Ids),
            config: EngineConfig::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The current time from the engine's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// Accounts: registration, login, tokens.
    pub fn accounts(&self) -> Accounts<'_, S> {
        Accounts { engine: self }
    }

    /// Workspaces and memberships.
    pub fn workspaces(&self) -> Workspaces<'_, S> {
        Workspaces { engine: self }
    }

    /// Projects.
    pub fn projects(&self) -> Projects<'_, S> {
        Projects { engine: self }
    }

    /// Workflows.
    pub fn workflows(&self) -> Workflows<'_, S> {
        Workflows { engine: self }
    }

    /// Tasks, dependencies, bulk operations.
    pub fn tasks(&self) -> Tasks<'_, S> {
        Tasks { engine: self }
    }

    /// Labels.
    pub fn labels(&self) -> Labels<'_, S> {
        Labels { engine: self }
    }

    /// Milestones.
    pub fn milestones(&self) -> Milestones<'_, S> {
        Milestones { engine: self }
    }

    /// Comments.
    pub fn comments(&self) -> Comments<'_, S> {
        Comments { engine: self }
    }

    /// Activity feeds read from the event log.
    pub fn activity(&self) -> Activity<'_, S> {
        Activity { engine: self }
    }

    pub(crate) fn new_uuid(&self) -> uuid::Uuid {
        self.inner.ids.new_id()
    }

    /// Commits through the store, timing it (`tasklane_engine_commit_seconds`, see
    /// [`crate::telemetry`]). Every commit of the engine goes through here.
    pub(crate) async fn commit(&self, commit: Commit) -> Result<CommitReceipt> {
        let start = std::time::Instant::now();
        let result = self.inner.store.commit(commit).await;
        crate::telemetry::commit_finished(start.elapsed(), &result);
        Ok(result?)
    }

    /// Runs a read-modify-write, again when a concurrent commit changed what it read.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt().await {
                Err(Error::Conflict(Conflict::ConcurrentWrite { .. })) if tries < MAX_ATTEMPTS => {
                    crate::telemetry::commit_retried();
                    // Let the commit that won finish its work before reading again.
                    YieldNow { yielded: false }.await;
                    continue;
                }
                other => return other,
            }
        }
    }

    pub(crate) fn event(
        &self,
        actor: UserId,
        workspace_id: WorkspaceId,
        project_id: Option<ProjectId>,
        task_id: Option<TaskId>,
        kind: EventKind,
    ) -> NewEvent {
        NewEvent {
            at: self.now(),
            actor_id: actor,
            workspace_id,
            project_id,
            task_id,
            kind,
        }
    }
}

/// Fails with [`Conflict::StaleVersion`] when the caller read an older version.
pub(crate) fn check_version(expected: Option<u64>, actual: u64) -> Result<()> {
    match expected {
        Some(expected) if expected != actual => {
            Err(Error::Conflict(Conflict::StaleVersion { expected, actual }))
        }
        _ => Ok(()),
    }
}

/// Encodes a cursor value as an opaque URL-safe string.
pub(crate) fn encode_cursor<T: serde::Serialize>(value: &T) -> String {
    hex(&serde_json::to_vec(value).unwrap_or_default())
}

/// The lower-case hexadecimal text of `bytes`, two digits a byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes a cursor made by [`encode_cursor`]; a tampered or foreign cursor is a validation error
/// on the field `cursor`.
pub(crate) fn decode_cursor<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    let bad = || Error::invalid("cursor", "the cursor is not one this server issued");
    if !text.len().is_multiple_of(2) || text.len() > 8192 {
        return Err(bad());
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// Checks a page size: `None` gives the default; over the maximum or zero is a validation error.
pub(crate) fn page_size(config: &EngineConfig, limit: Option<usize>) -> Result<usize> {
    match limit {
        None => Ok(config.default_page_size),
        Some(n) if n >= 1 && n <= config.max_page_size => Ok(n),
        Some(_) => Err(Error::invalid(
            "limit",
            format!("must be between 1 and {}", config.max_page_size),
        )),
    }
}

#[cfg(test)]
mod cursor_tests {
    use super::*;

    #[test]
    fn hex_is_two_lower_case_digits_a_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn a_cursor_comes_back_and_a_tampered_one_is_invalid() {
        let value = serde_json::json!({"after": [3, "ENG"], "n": 42});
        let text = encode_cursor(&value);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(decode_cursor::<serde_json::Value>(&text).unwrap(), value);
        for bad in [&text[1..], "zz", "7b"] {
            assert!(decode_cursor::<serde_json::Value>(bad).is_err(), "{bad}");
        }
    }
}
