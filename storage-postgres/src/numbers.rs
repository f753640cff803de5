//! Task numbers handed out in batches: concurrent requests for one project's next number share
//! one `UPDATE` of its counter.
//!
//! Every task creation takes a number from its project's one counter row, so under concurrent
//! creations that row is the store's hottest: one statement and one transaction per number, each
//! waiting for the row lock the one before it holds until its commit. Here the requests that
//! arrive while a project's increment runs wait for it to finish and then take their numbers
//! together, with one statement that adds their count (`last_number + n`, `version + n`, as if
//! each had been a commit of its own). One task per project runs the increments while requests
//! keep coming and stops when none are waiting.
//!
//! Numbers are handed out in the order the requests arrived. A request whose caller gives up
//! still gets its number, which is then never used: a gap, as the store contract allows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::PgPool;
use tasklane_core::ids::ProjectId;
use tasklane_core::store::{StoreError, StoreResult};
use tokio::sync::oneshot;

use crate::codec;
use crate::error::map_sqlx;
use crate::kept_connection::KeptConnection;

/// How many requests one increment serves at most.
const MAX_BATCH: usize = 256;

/// Adds `$2` to the project's counter and returns the new last number. The increment commits
/// without waiting for its WAL flush (`synchronous_commit` off for this transaction only): it
/// is visible at once, and the commit of any task that carries one of the numbers flushes the
/// WAL past it, so after a crash a number can come back only if no committed task carries it,
/// as the contract allows.
const ADD: &str = "\
    WITH relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)) \
    UPDATE task_counters SET last_number = last_number + $2, version = version + $2, \
        doc = doc || jsonb_build_object('last_number', last_number + $2, \
                                        'version', version + $2) \
    WHERE project_id = $1 AND EXISTS (SELECT 1 FROM relaxed) \
    RETURNING last_number";

type Reply = oneshot::Sender<StoreResult<Option<u64>>>;

/// The requests of one project waiting for the increment after the one running.
#[derive(Default)]
struct Waiting {
    replies: Vec<Reply>,
}

/// The task numbers of a store's projects (see the module documentation).
pub(crate) struct TaskNumbers {
    pool: PgPool,
    /// Numbers handed out, for [`crate::CommitStats`].
    pub(crate) handed_out: AtomicU64,
    /// Increments run (one per batch), for [`crate::CommitStats`].
    pub(crate) increments: AtomicU64,
    /// Projects whose increment task runs, with the requests it has not taken yet.
    projects: Mutex<HashMap<ProjectId, Waiting>>,
}

impl TaskNumbers {
    pub(crate) fn new(pool: PgPool) -> Arc<Self> {
        Arc::new(Self {
            pool,
            handed_out: AtomicU64::new(0),
            increments: AtomicU64::new(0),
            projects: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ProjectId, Waiting>> {
        self.projects.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The project's next task number; `Ok(None)` when the project has no counter.
    ///
    /// Errors: the database fails or cannot be reached ([`StoreError::Unavailable`] and the
    /// other mapped errors).
    pub(crate) async fn next(self: &Arc<Self>, project: ProjectId) -> StoreResult<Option<u64>> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut projects = self.lock();
            match projects.get_mut(&project) {
                Some(waiting) => {
                    waiting.replies.push(reply);
                    false
                }
                None => {
                    projects.insert(
                        project,
                        Waiting {
                            replies: vec![reply],
                        },
                    );
                    true
                }
            }
        };
        if start {
            // A task of its own, so that a caller giving up never strands the requests behind
            // it.
            tokio::spawn(Arc::clone(self).run(project));
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the task number task stopped before answering".to_owned(),
            ))
        })
    }

    /// Runs the project's increments until no request waits.
    async fn run(self: Arc<Self>, project: ProjectId) {
        let mut guard = RunningGuard {
            numbers: Arc::clone(&self),
            project,
            armed: true,
        };
        let mut conn = KeptConnection::new(&self.pool);
        loop {
            let batch: Vec<Reply> = {
                let mut projects = self.lock();
                let Some(waiting) = projects.get_mut(&project) else {
                    guard.armed = false;
                    return;
                };
                if waiting.replies.is_empty() {
                    // Under the lock, so a request arriving after this starts a new task.
                    projects.remove(&project);
                    guard.armed = false;
                    return;
                }
                let n = waiting.replies.len().min(MAX_BATCH);
                waiting.replies.drain(..n).collect()
            };
            let result = self.add(&mut conn, project, batch.len()).await;
            self.increments.fetch_add(1, Ordering::Relaxed);
            match result {
                Ok(Some(last)) => {
                    self.handed_out
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    let first = last + 1 - batch.len() as u64;
                    for (reply, number) in batch.into_iter().zip(first..) {
                        let _ = reply.send(Ok(Some(number)));
                    }
                }
                Ok(None) => {
                    for reply in batch {
                        let _ = reply.send(Ok(None));
                    }
                }
                Err(e) => {
                    for reply in batch {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// Adds `count` to the project's counter on `conn` (given back when the statement fails);
    /// the new last number.
    async fn add(
        &self,
        conn: &mut KeptConnection<'_>,
        project: ProjectId,
        count: usize,
    ) -> StoreResult<Option<u64>> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let last: Option<i64> = match sqlx::query_scalar(ADD)
            .bind(project.0)
            .bind(count)
            .fetch_optional(conn.get().await.map_err(map_sqlx)?)
            .await
        {
            Ok(last) => last,
            Err(e) => {
                // The connection may be broken.
                conn.give_back();
                return Err(map_sqlx(e));
            }
        };
        let Some(last) = last else {
            return Ok(None);
        };
        let last = codec::uint(last, "task number")?;
        if last < count as u64 {
            return Err(StoreError::Corrupt(format!(
                "the task counter of project {project} went below zero"
            )));
        }
        Ok(Some(last))
    }
}

/// Ends a project's run if its task panics: the waiting requests are answered by their dropped
/// senders, and the project is free for a new task.
struct RunningGuard {
    numbers: Arc<TaskNumbers>,
    project: ProjectId,
    armed: bool,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        if self.armed {
            self.numbers.lock().remove(&self.project);
        }
    }
}
