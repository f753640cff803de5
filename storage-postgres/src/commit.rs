//! Atomic commits: writes with optimistic versions, then the events, in one transaction, with
//! concurrent commits grouped into shared transactions (group commit).
//!
//! A commit runs in a `READ COMMITTED` transaction:
//!
//! 1. Writes are applied in the commit's order. An insert ([`Expected::Absent`]) is a plain
//!    `INSERT`: a primary-key violation means the record exists (a version conflict), another
//!    unique violation is a [`StoreError::Duplicate`]. An update or delete names the expected
//!    version in its `WHERE` clause; touching no row is a version conflict. A concurrent commit
//!    on the same row makes the statement wait for it and re-check the version against the
//!    committed row, so of two commits expecting one version at most one succeeds.
//! 2. When there are events, one statement takes the transaction-scoped advisory lock of the
//!    log, bumps the one-row `event_log` counter and inserts the events with the next numbers.
//!    The lock (and the counter's row lock) is held until the transaction has committed and
//!    become visible, so the next transaction with events numbers after it: `seq` order is
//!    commit order and the log has no gaps (a rolled-back transaction gives its numbers back).
//!    The same statement queues a notification of the new last seq on the schema's channel
//!    ([`LOG_CHANNEL`]), which PostgreSQL sends when the transaction commits.
//! 3. `COMMIT` checks the deferred foreign keys.
//!
//! Because the log lock is held through `COMMIT`, and so through the WAL flush, transactions
//! with events are serialised: one flush each. To keep PostgreSQL's group commit, commits
//! arriving while others run are queued and executed together, in arrival order, by a
//! committer task that takes every queued commit into one transaction: one lock, one flush for
//! the group, records and events of all of them visible at once. The committer has a
//! connection of its own, which plans its statements once (`plan_cache_mode =
//! force_generic_plan`, see `commit_pool` in the crate root). A group of inserts with events
//! is one statement whose rows the callers encoded as JSON before queueing
//! ([`EncodedInserts`]), and it takes the log's lock only once its rows are written. Other
//! groups write their records with one statement per table and kind of write (inserts,
//! updates, deletes) from JSON rows; the row counts of updates and deletes check the expected
//! versions. (A commit alone with three or more writes is tried in bulk too.) A group is all or
//! nothing, so a failing commit is isolated: when anything in the group fails, the group is
//! rolled back and its commits run one by one, in queue order, each getting its own outcome.
//! Only a connection lost during `COMMIT` (outcome unknown) is never re-run; every commit of the
//! group then reports [`StoreError::Unavailable`].
//!
//! A commit run alone retries deadlocks and serialization failures a bounded number of times.
//! When one of its writes fails with a duplicate, the expectations of all its writes are
//! re-checked first, so that, as in the reference store, a failed expectation anywhere in the
//! commit wins over a uniqueness failure.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::types::Json;
use sqlx::{Connection, PgConnection, PgPool, Row};
use tasklane_core::event::NewEvent;
use tasklane_core::store::{
    Commit, CommitReceipt, Expected, Record, RecordKey, StoreError, StoreResult, Write,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::cache::{self, KEYS_CHANNEL};
use crate::codec;
use crate::error::{is_retryable, map_sqlx, sqlstate, state};
use crate::kept_connection::KeptConnection;
use crate::records::{
    self, bind_key, expecting, key_json, row_json, statements_of, table_of, PgQuery,
};

/// How many times a commit is attempted when it deadlocks or fails to serialize.
const MAX_ATTEMPTS: u32 = 8;

/// The SQL expression naming the notification channel of the schema's log:
/// `tasklane_log:<schema>` (see `schema_channel!` in the crate root).
macro_rules! log_channel {
    () => {
        schema_channel!("tasklane_log", 50)
    };
}

/// The SQL expression naming the notification channel of the schema's log (see
/// [`log_channel!`]); the listener evaluates it on a connection of the store's pool.
pub(crate) const LOG_CHANNEL: &str = log_channel!();

/// Appends a commit's events: lock the log, bump the counter, insert with consecutive numbers.
/// The lock key is per schema (`hashtext(current_schema())`), so stores in different schemas of
/// one database do not wait for each other. The counter's update also queues a notification of
/// the new last seq on the schema's channel ([`LOG_CHANNEL`]), which PostgreSQL delivers when
/// the transaction commits (and drops when it rolls back): no statement or round trip of its
/// own. A data-modifying common table expression always runs to completion, so the
/// notification is queued whatever the rest of the statement reads. When `$8` is not null it is
/// also queued as the group's announcement to other processes' record caches
/// ([`crate::cache`]).
const APPEND_EVENTS: &str = concat!(
    "\
WITH log_lock AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(1952543, hashtext(current_schema()))
),
bump AS (
    UPDATE event_log SET last_seq = last_seq + $1
    WHERE id AND EXISTS (SELECT 1 FROM log_lock)
    RETURNING last_seq - $1 AS base, pg_notify(",
    log_channel!(),
    ", last_seq::text) AS notified,
        CASE WHEN $8::text IS NULL THEN NULL ELSE pg_notify(",
    crate::cache::keys_channel!(),
    ", $8::text) END AS announced
)
INSERT INTO events (seq, at_ns, actor_id, workspace_id, project_id, task_id, kind)
SELECT bump.base + e.ord, e.at_ns::numeric, e.actor_id, e.workspace_id, e.project_id, e.task_id, e.kind
FROM bump
CROSS JOIN unnest($2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::jsonb[])
    WITH ORDINALITY AS e(at_ns, actor_id, workspace_id, project_id, task_id, kind, ord)
RETURNING seq"
);

/// The event part of [`one_statement`]: the same as [`APPEND_EVENTS`] (the notification of the
/// new last seq and the announcement included, delivered at the statement's implicit commit),
/// as common table expressions after the inserts, with its parameters numbered from `{p}` on
/// (the announcement is `{p + 7}`).
///
/// `inserted` names the insert expressions (each `RETURNING 1`): the log's lock is taken only
/// once they have run, so that a group writes its records while another group holds the lock,
/// and the lock is held for the event append and the commit alone. (PostgreSQL would otherwise
/// run the expressions nobody reads at the end of the statement, after taking the lock.)
fn append_events_ctes(p: usize, inserted: &[String]) -> String {
    let written = if inserted.is_empty() {
        "0".to_owned()
    } else {
        inserted
            .iter()
            .map(|name| format!("(SELECT count(*) FROM {name})"))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    format!(
        "log_lock AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(1952543, hashtext(current_schema()))
    WHERE {written} >= 0
),
bump AS (
    UPDATE event_log SET last_seq = last_seq + ${p}
    WHERE id AND EXISTS (SELECT 1 FROM log_lock)
    RETURNING last_seq - ${p} AS base, pg_notify({LOG_CHANNEL}, last_seq::text) AS notified,
        CASE WHEN ${}::text IS NULL THEN NULL ELSE pg_notify({KEYS_CHANNEL}, ${}::text) END
            AS announced
),
appended AS (
    INSERT INTO events (seq, at_ns, actor_id, workspace_id, project_id, task_id, kind)
    SELECT bump.base + e.ord, e.at_ns::numeric, e.actor_id, e.workspace_id, e.project_id, e.task_id, e.kind
    FROM bump
    CROSS JOIN unnest(${}::text[], ${}::uuid[], ${}::uuid[], ${}::uuid[], ${}::uuid[], ${}::jsonb[])
        WITH ORDINALITY AS e(at_ns, actor_id, workspace_id, project_id, task_id, kind, ord)
    RETURNING seq
)
SELECT seq FROM appended",
        p + 7,
        p + 7,
        p + 1,
        p + 2,
        p + 3,
        p + 4,
        p + 5,
        p + 6
    )
}

/// Why one attempt failed.
enum Failure {
    /// Try the whole commit again.
    Retry(sqlx::Error),
    /// A uniqueness rule; reported unless an expectation failed too.
    Duplicate(StoreError),
    /// Final.
    Fail(StoreError),
    /// The connection failed during `COMMIT`: the transaction may or may not have committed, so
    /// it must not be run again.
    Unknown(StoreError),
}

impl Failure {
    fn db(e: sqlx::Error) -> Self {
        if is_retryable(&e) {
            Failure::Retry(e)
        } else {
            Failure::Fail(map_sqlx(e))
        }
    }
}

fn conflict(key: &RecordKey) -> StoreError {
    StoreError::VersionConflict {
        record: key.to_string(),
    }
}

/// Applies one commit on its own transaction, with retries (see the module documentation).
async fn commit_alone(
    conn: &mut PgConnection,
    counters: &Counters,
    commit: &Commit,
) -> StoreResult<CommitReceipt> {
    if commit.writes.is_empty() && commit.events.is_empty() {
        return Ok(CommitReceipt::default());
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_commit(conn, counters, commit).await {
            Ok(receipt) => return Ok(receipt),
            Err(Failure::Fail(e) | Failure::Unknown(e)) => return Err(e),
            Err(Failure::Duplicate(e)) => {
                return Err(match first_failed_expectation(conn, commit).await? {
                    Some(key) => conflict(&key),
                    None => e,
                })
            }
            Err(Failure::Retry(e)) => {
                if attempt >= MAX_ATTEMPTS {
                    let record = commit
                        .writes
                        .first()
                        .map(|w| w.key().to_string())
                        .unwrap_or_else(|| "event log".to_owned());
                    let _ = e;
                    return Err(StoreError::VersionConflict { record });
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = 1u64 << attempt.min(6);
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
            % 1000,
    );
    Duration::from_micros(base * 1000 + jitter * base)
}

async fn try_commit(
    conn: &mut PgConnection,
    counters: &Counters,
    commit: &Commit,
) -> Result<CommitReceipt, Failure> {
    // Inserts with events go as one statement first; if that fails for any reason, in a
    // transaction, which tells exactly which write fails and how.
    match one_statement(conn, &[commit], &[]).await {
        Some(Ok(mut receipts)) => {
            counters
                .single_statement_commits
                .fetch_add(1, Ordering::Relaxed);
            return Ok(receipts.pop().unwrap_or_default());
        }
        Some(Err(Failure::Unknown(e))) => return Err(Failure::Unknown(e)),
        Some(Err(_)) | None => {}
    }
    // Many writes go in bulk first; if that fails for any reason, write by write, which tells
    // exactly which write fails and how.
    if commit.writes.len() >= 3 {
        match try_group(conn, &[commit], true).await {
            Ok(mut receipts) => {
                counters.bulk_transactions.fetch_add(1, Ordering::Relaxed);
                counters.bulk_commits.fetch_add(1, Ordering::Relaxed);
                return Ok(receipts.pop().unwrap_or_default());
            }
            Err((_, Failure::Unknown(e))) => return Err(Failure::Unknown(e)),
            Err(_) => {
                counters.bulk_fallbacks.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    match try_group(conn, &[commit], false).await {
        Ok(mut receipts) => Ok(receipts.pop().unwrap_or_default()),
        Err((_, failure)) => Err(failure),
    }
}

/// Runs `commits` in one transaction, in order, in bulk or write by write. On failure, names
/// the commit that failed when known (`None`: the group as a whole).
async fn try_group(
    conn: &mut PgConnection,
    commits: &[&Commit],
    bulk: bool,
) -> Result<Vec<CommitReceipt>, (Option<usize>, Failure)> {
    let mut tx = conn.begin().await.map_err(|e| (None, Failure::db(e)))?;
    if bulk {
        apply_bulk(&mut tx, commits).await.map_err(|f| (None, f))?;
    } else {
        for (k, commit) in commits.iter().enumerate() {
            for write in &commit.writes {
                apply(&mut tx, write).await.map_err(|f| (Some(k), f))?;
            }
        }
    }
    let announcement = cache::announcement(commits);
    let all_seqs = if commits.iter().all(|c| c.events.is_empty()) {
        if let Some(keys) = &announcement {
            sqlx::query(cache::ANNOUNCE)
                .bind(keys)
                .execute(&mut *tx)
                .await
                .map_err(|e| (None, Failure::db(e)))?;
        }
        Vec::new()
    } else {
        append_events(&mut tx, commits, announcement)
            .await
            .map_err(|f| (None, f))?
    };
    match tx.commit().await {
        Ok(()) => {
            let mut seqs = all_seqs.into_iter();
            Ok(commits
                .iter()
                .map(|c| CommitReceipt {
                    seqs: seqs.by_ref().take(c.events.len()).collect(),
                })
                .collect())
        }
        Err(e) if sqlstate(&e).as_deref() == Some(state::FOREIGN_KEY_VIOLATION) => {
            // A deferred foreign key: a record refers to one that does not exist (any more).
            // The engine read a parent that a concurrent commit removed: a stale read.
            let table = match &e {
                sqlx::Error::Database(db) => db.table().map(str::to_owned),
                _ => None,
            };
            let keys = || commits.iter().flat_map(|c| c.writes.iter().map(Write::key));
            let key = keys()
                .find(|k| Some(table_of(k).name) == table.as_deref())
                .or_else(|| keys().next());
            Err((
                None,
                Failure::Fail(match key {
                    Some(key) => conflict(&key),
                    None => map_sqlx(e),
                }),
            ))
        }
        Err(e @ sqlx::Error::Database(_)) => Err((None, Failure::db(e))),
        Err(e) => Err((
            None,
            Failure::Unknown(StoreError::Unavailable(format!(
                "the connection failed while committing; the commit may or may not have been \
                 applied: {e}"
            ))),
        )),
    }
}

fn expected_version(expected: Expected) -> Option<i64> {
    match expected {
        // Versions above i64::MAX cannot be stored, so they can never match.
        Expected::Version(v) => Some(i64::try_from(v).unwrap_or(-1)),
        Expected::Exists | Expected::Absent => None,
    }
}

/// One JSON array of rows, as the write statements bind it.
fn rows(rows: Vec<serde_json::Value>) -> Json<serde_json::Value> {
    Json(serde_json::Value::Array(rows))
}

async fn apply(tx: &mut PgConnection, write: &Write) -> Result<(), Failure> {
    match write {
        Write::Put {
            record,
            expected: Expected::Absent,
        } => {
            let key = record.key();
            let sql = statements_of(table_of(&key)).insert.as_str();
            let row = row_json(record).map_err(Failure::Fail)?;
            match sqlx::query(sql)
                .bind(rows(vec![row]))
                .execute(&mut *tx)
                .await
            {
                Ok(_) => Ok(()),
                Err(e) => Err(unique_failure(e, record)),
            }
        }
        Write::Put { record, expected } => {
            let key = record.key();
            let sql = statements_of(table_of(&key)).update.as_str();
            let row = row_json(record).map_err(Failure::Fail)?;
            let row = expecting(row, expected_version(*expected));
            match sqlx::query(sql)
                .bind(rows(vec![row]))
                .execute(&mut *tx)
                .await
            {
                Ok(done) if done.rows_affected() == 1 => Ok(()),
                Ok(_) => Err(Failure::Fail(conflict(&key))),
                Err(e) => Err(unique_failure(e, record)),
            }
        }
        Write::Delete { key, expected } => {
            if *expected == Expected::Absent {
                return Err(Failure::Fail(conflict(key)));
            }
            let sql = statements_of(table_of(key)).delete.as_str();
            let row = expecting(key_json(key), expected_version(*expected));
            match sqlx::query(sql)
                .bind(rows(vec![row]))
                .execute(&mut *tx)
                .await
            {
                Ok(done) if done.rows_affected() == 1 => Ok(()),
                Ok(_) => Err(Failure::Fail(conflict(key))),
                Err(e) => Err(Failure::db(e)),
            }
        }
    }
}

/// Applies the writes of several commits with one statement per table and kind of write
/// (inserts, then updates, then deletes, table by table). Any failure, including a count that
/// shows a failed expectation, fails the whole group: the caller then runs the commits one by
/// one, which reports the exact error. Bulk is stricter than one by one, never more lenient:
/// groups whose commits touch one record twice, or that delete with [`Expected::Absent`], are
/// not applied in bulk, and an update may not take a unique value another record holds even if
/// the group frees it.
async fn apply_bulk(tx: &mut PgConnection, commits: &[&Commit]) -> Result<(), Failure> {
    let not_bulk = || {
        Failure::Fail(StoreError::Unavailable(
            "the group needs to run commit by commit".to_owned(),
        ))
    };
    let mut seen = HashSet::new();
    let tables = records::ALL.len();
    let mut deletes: Vec<Vec<serde_json::Value>> = vec![Vec::new(); tables];
    let mut updates: Vec<Vec<serde_json::Value>> = vec![Vec::new(); tables];
    let mut inserts: Vec<Vec<serde_json::Value>> = vec![Vec::new(); tables];
    for write in commits.iter().flat_map(|c| c.writes.iter()) {
        let key = write.key();
        if !seen.insert(key) {
            return Err(not_bulk());
        }
        let table = records::index_of(table_of(&key));
        match write {
            Write::Put {
                record,
                expected: Expected::Absent,
            } => inserts[table].push(row_json(record).map_err(Failure::Fail)?),
            Write::Put { record, expected } => updates[table].push(expecting(
                row_json(record).map_err(Failure::Fail)?,
                expected_version(*expected),
            )),
            Write::Delete {
                expected: Expected::Absent,
                ..
            } => return Err(not_bulk()),
            Write::Delete { key, expected } => {
                deletes[table].push(expecting(key_json(key), expected_version(*expected)))
            }
        }
    }
    for (i, table) in records::ALL.iter().enumerate() {
        let statements = statements_of(table);
        // Inserts claim values first, updates may claim only values nobody holds, deletes
        // free last: whatever succeeds here succeeds commit by commit in queue order too.
        for (sql, batch, counted) in [
            (&statements.insert, std::mem::take(&mut inserts[i]), false),
            (
                &statements.update_claiming_free_values,
                std::mem::take(&mut updates[i]),
                true,
            ),
            (&statements.delete, std::mem::take(&mut deletes[i]), true),
        ] {
            if batch.is_empty() {
                continue;
            }
            let n = batch.len() as u64;
            let done = sqlx::query(sql.as_str())
                .bind(rows(batch))
                .execute(&mut *tx)
                .await
                .map_err(Failure::db)?;
            if counted && done.rows_affected() != n {
                return Err(not_bulk());
            }
        }
    }
    Ok(())
}

/// The rows a commit of inserts only writes, as JSON text, each with the index of its table in
/// [`records::ALL`]. A committer encodes them in the caller's task, before the commit joins the
/// queue, so that the serial work of a group is only to join them (see [`one_statement`]).
pub(crate) struct EncodedInserts {
    rows: Vec<(usize, String)>,
}

impl EncodedInserts {
    /// The rows of `commit`; `None` when it has a write other than an insert, so that it cannot
    /// go as one statement.
    fn of(commit: &Commit) -> Option<StoreResult<Self>> {
        let mut rows = Vec::with_capacity(commit.writes.len());
        for write in &commit.writes {
            let Write::Put {
                record,
                expected: Expected::Absent,
            } = write
            else {
                return None;
            };
            let table = records::index_of(table_of(&record.key()));
            let row = match row_json(record) {
                Ok(row) => row.to_string(),
                Err(e) => return Some(Err(e)),
            };
            rows.push((table, row));
        }
        Some(Ok(Self { rows }))
    }
}

/// Runs a group that only inserts records and appends events as one statement, in a transaction
/// of its own (one round trip instead of `BEGIN`, a statement per table, the events and
/// `COMMIT`): the inserts and the event append are common table expressions of one `INSERT`, and
/// the log's advisory lock is held until the statement's implicit commit, as in the transaction
/// path. `encoded` holds the commits' rows when they were encoded before (one per commit, or
/// empty). `None` when the group has other writes, writes one record twice, or has no events,
/// and must take the transaction path. A database error means nothing was applied (the caller
/// then runs the commits one by one, which reports exactly what failed); a lost connection means
/// the outcome is unknown.
async fn one_statement(
    conn: &mut PgConnection,
    commits: &[&Commit],
    encoded: &[Option<&EncodedInserts>],
) -> Option<Result<Vec<CommitReceipt>, Failure>> {
    let events: Vec<&NewEvent> = commits.iter().flat_map(|c| c.events.iter()).collect();
    if events.is_empty() {
        return None;
    }
    let mut seen = HashSet::new();
    if !commits
        .iter()
        .flat_map(|c| c.writes.iter())
        .all(|write| seen.insert(write.key()))
    {
        return None;
    }
    // Each table's rows as one JSON array.
    let mut arrays: Vec<String> = vec![String::new(); records::ALL.len()];
    for (k, commit) in commits.iter().enumerate() {
        let made;
        let rows = match encoded.get(k).copied().flatten() {
            Some(rows) => rows,
            None => match EncodedInserts::of(commit)? {
                Ok(rows) => {
                    made = rows;
                    &made
                }
                Err(e) => return Some(Err(Failure::Fail(e))),
            },
        };
        for (table, row) in &rows.rows {
            let array = &mut arrays[*table];
            array.push(if array.is_empty() { '[' } else { ',' });
            array.push_str(row);
        }
    }
    let mut ctes = Vec::new();
    let mut inserted = Vec::new();
    let mut batches = Vec::new();
    for (i, table) in records::ALL.iter().enumerate() {
        let mut array = std::mem::take(&mut arrays[i]);
        if array.is_empty() {
            continue;
        }
        array.push(']');
        let insert = statements_of(table)
            .insert
            .replace("$1::jsonb", &format!("${}::jsonb", batches.len() + 1));
        let name = format!("inserted_{i}");
        ctes.push(format!("{name} AS ({insert} RETURNING 1)"));
        inserted.push(name);
        batches.push(array);
    }
    ctes.push(append_events_ctes(batches.len() + 1, &inserted));
    let sql = format!("WITH {}", ctes.join(",\n"));
    // Built from the fixed statements of the tables: no input reaches the text.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for array in batches {
        q = q.bind(codec::JsonbText(array));
    }
    let announcement = cache::announcement(commits);
    let result = match bind_events(q, &events)
        .bind(announcement)
        .fetch_all(&mut *conn)
        .await
    {
        Ok(rows) => rows,
        Err(e @ sqlx::Error::Database(_)) => return Some(Err(Failure::db(e))),
        Err(e) => {
            return Some(Err(Failure::Unknown(StoreError::Unavailable(format!(
                "the connection failed while committing; the commit may or may not have been \
                 applied: {e}"
            )))))
        }
    };
    let mut seqs = match seqs_of(result, events.len()) {
        Ok(seqs) => seqs.into_iter(),
        Err(f) => return Some(Err(f)),
    };
    Some(Ok(commits
        .iter()
        .map(|c| CommitReceipt {
            seqs: seqs.by_ref().take(c.events.len()).collect(),
        })
        .collect()))
}

/// Classifies the failure of writing `record`.
fn unique_failure(e: sqlx::Error, record: &Record) -> Failure {
    if sqlstate(&e).as_deref() != Some(state::UNIQUE_VIOLATION) {
        return Failure::db(e);
    }
    let constraint = match &e {
        sqlx::Error::Database(db) => db.constraint().unwrap_or_default().to_owned(),
        _ => String::new(),
    };
    let table = table_of(&record.key());
    match table.unique_field {
        Some(field) if !constraint.ends_with("_pkey") => {
            Failure::Duplicate(StoreError::Duplicate {
                field: field.to_owned(),
                value: records::unique_value(record),
            })
        }
        // The primary key: the record exists, which an insert did not expect.
        _ => Failure::Fail(conflict(&record.key())),
    }
}

/// Appends the events of `commits` and queues `announcement` (see [`crate::cache`]).
async fn append_events(
    tx: &mut PgConnection,
    commits: &[&Commit],
    announcement: Option<String>,
) -> Result<Vec<u64>, Failure> {
    let events: Vec<&NewEvent> = commits.iter().flat_map(|c| c.events.iter()).collect();
    let rows = bind_events(sqlx::query(APPEND_EVENTS), &events)
        .bind(announcement)
        .fetch_all(&mut *tx)
        .await
        .map_err(Failure::db)?;
    seqs_of(rows, events.len())
}

/// Binds the parameters of an event append (see [`APPEND_EVENTS`]) after those `q` has: the
/// count, then the events' columns as arrays.
fn bind_events<'q>(q: PgQuery<'q>, events: &[&'q NewEvent]) -> PgQuery<'q> {
    let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
    q.bind(count)
        .bind(events.iter().map(|e| codec::ns(e.at)).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.actor_id.0).collect::<Vec<Uuid>>())
        .bind(
            events
                .iter()
                .map(|e| e.workspace_id.0)
                .collect::<Vec<Uuid>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.project_id.map(|p| p.0))
                .collect::<Vec<Option<Uuid>>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.task_id.map(|t| t.0))
                .collect::<Vec<Option<Uuid>>>(),
        )
        .bind(events.iter().map(|e| Json(&e.kind)).collect::<Vec<_>>())
}

/// The sequence numbers an event append returned, in order; `expected` is how many events it
/// appended.
fn seqs_of(rows: Vec<sqlx::postgres::PgRow>, expected: usize) -> Result<Vec<u64>, Failure> {
    let mut seqs = Vec::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.try_get(0).map_err(|e| Failure::Fail(map_sqlx(e)))?;
        seqs.push(codec::uint(seq, "seq").map_err(Failure::Fail)?);
    }
    if seqs.len() != expected {
        return Err(Failure::Fail(StoreError::Corrupt(
            "the event log counter row is missing".to_owned(),
        )));
    }
    // Numbers are consecutive and given in the events' order, commit after commit.
    seqs.sort_unstable();
    Ok(seqs)
}

/// The first write, in commit order, whose expectation does not hold now.
async fn first_failed_expectation(
    conn: &mut PgConnection,
    commit: &Commit,
) -> StoreResult<Option<RecordKey>> {
    for write in &commit.writes {
        let (key, expected) = match write {
            Write::Put { record, expected } => (record.key(), *expected),
            Write::Delete { key, expected } => {
                if *expected == Expected::Absent {
                    return Ok(Some(*key));
                }
                (*key, *expected)
            }
        };
        let sql = statements_of(table_of(&key)).version.as_str();
        let current: Option<i64> = bind_key(sqlx::query(sql), &key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_sqlx)?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(map_sqlx)?;
        let holds = match (expected, current) {
            (Expected::Absent, None) => true,
            (Expected::Version(v), Some(c)) => i64::try_from(v).is_ok_and(|v| v == c),
            (Expected::Exists, Some(_)) => true,
            _ => false,
        };
        if !holds {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// Counters of the committer, for metrics and tests.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Transactions that applied writes in bulk and committed.
    pub bulk_transactions: AtomicU64,
    /// Commits applied by those transactions.
    pub bulk_commits: AtomicU64,
    /// Bulk attempts that failed and were re-run commit by commit.
    pub bulk_fallbacks: AtomicU64,
    /// Commits of inserts and events written as one statement (alone or in a group).
    pub single_statement_commits: AtomicU64,
}

/// How many commits one group takes at most.
const MAX_GROUP: usize = 64;

/// A commit waiting for a committer.
struct Pending {
    commit: Commit,
    /// The commit's rows, when it only inserts (see [`EncodedInserts`]).
    encoded: Option<EncodedInserts>,
    reply: oneshot::Sender<StoreResult<CommitReceipt>>,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Pending>,
    /// Committer tasks running.
    active: usize,
}

/// The group committer of one store: a queue of commits and up to `max_active` tasks that run
/// them in groups (see the module documentation).
pub(crate) struct Committer {
    pool: PgPool,
    pub(crate) counters: Arc<Counters>,
    queue: Mutex<Queue>,
    max_active: usize,
}

impl Committer {
    pub(crate) fn new(pool: PgPool, max_active: usize) -> Arc<Self> {
        Arc::new(Self {
            pool,
            counters: Arc::default(),
            queue: Mutex::new(Queue::default()),
            max_active: max_active.max(1),
        })
    }

    /// Closes the committer's connection; later commits fail as unavailable.
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `commit`, possibly together with concurrent ones.
    pub(crate) async fn commit(self: &Arc<Self>, commit: Commit) -> StoreResult<CommitReceipt> {
        if commit.writes.is_empty() && commit.events.is_empty() {
            return Ok(CommitReceipt::default());
        }
        // Encoded here, in the caller's task, so that concurrent callers encode in parallel.
        let encoded = match EncodedInserts::of(&commit) {
            Some(Ok(rows)) => Some(rows),
            Some(Err(e)) => return Err(e),
            None => None,
        };
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = self.lock();
            queue.pending.push_back(Pending {
                commit,
                encoded,
                reply,
            });
            if queue.active < self.max_active {
                queue.active += 1;
                true
            } else {
                false
            }
        };
        if start {
            // A task of its own, so that a caller giving up (a dropped future) never strands
            // the commits queued behind it.
            tokio::spawn(Arc::clone(self).run());
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the commit task stopped before answering".to_owned(),
            ))
        })
    }

    /// A committer task: takes groups from the queue until it is empty.
    async fn run(self: Arc<Self>) {
        let mut guard = ActiveGuard {
            committer: Arc::clone(&self),
            armed: true,
        };
        let mut conn = KeptConnection::new(&self.pool);
        loop {
            let group: Vec<Pending> = {
                let mut queue = self.lock();
                if queue.pending.is_empty() {
                    // Under the lock, so a commit queued after this sees one fewer committer
                    // and starts one.
                    queue.active -= 1;
                    guard.armed = false;
                    return;
                }
                let n = queue.pending.len().min(MAX_GROUP);
                queue.pending.drain(..n).collect()
            };
            if self.pool.is_closed() {
                conn.give_back();
            }
            run_group(&mut conn, &self.counters, group).await;
        }
    }
}

/// Gives back a committer's slot if its task panics, and starts a replacement when commits are
/// still queued.
struct ActiveGuard {
    committer: Arc<Committer>,
    armed: bool,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let restart = {
            let mut queue = self.committer.lock();
            if queue.pending.is_empty() {
                queue.active -= 1;
                false
            } else {
                true
            }
        };
        if restart {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(Arc::clone(&self.committer).run());
            }
        }
    }
}

/// Runs a group in one transaction; if it fails, runs its commits one by one. When something
/// fails without an answer from the database (a lost connection, a timeout), the connection
/// may be broken: it is given back, and what follows takes a fresh one.
async fn run_group(conn: &mut KeptConnection<'_>, counters: &Counters, group: Vec<Pending>) {
    let mut segments: VecDeque<Vec<Pending>> = VecDeque::from([group]);
    while let Some(mut segment) = segments.pop_front() {
        let held = match conn.get().await {
            Ok(held) => held,
            Err(e) => {
                let e = map_sqlx(e);
                for pending in segment {
                    let _ = pending.reply.send(Err(e.clone()));
                }
                continue;
            }
        };
        if segment.len() == 1 {
            if let Some(one) = segment.pop() {
                let result = commit_alone(held, counters, &one.commit).await;
                if matches!(result, Err(StoreError::Unavailable(_))) {
                    conn.give_back();
                }
                // The caller may have gone; the commit's outcome stands either way.
                let _ = one.reply.send(result);
            }
            continue;
        }
        let commits: Vec<&Commit> = segment.iter().map(|p| &p.commit).collect();
        let encoded: Vec<Option<&EncodedInserts>> =
            segment.iter().map(|p| p.encoded.as_ref()).collect();
        let attempt = match one_statement(held, &commits, &encoded).await {
            Some(Ok(receipts)) => {
                counters
                    .single_statement_commits
                    .fetch_add(segment.len() as u64, Ordering::Relaxed);
                Ok(receipts)
            }
            // Something in the group fails: on to the commits one by one.
            Some(Err(failure)) => Err((None, failure)),
            None => match try_group(held, &commits, true).await {
                Ok(receipts) => {
                    counters.bulk_transactions.fetch_add(1, Ordering::Relaxed);
                    counters
                        .bulk_commits
                        .fetch_add(segment.len() as u64, Ordering::Relaxed);
                    Ok(receipts)
                }
                Err(e) => Err(e),
            },
        };
        match attempt {
            Ok(receipts) => {
                for (pending, receipt) in segment.into_iter().zip(receipts) {
                    let _ = pending.reply.send(Ok(receipt));
                }
            }
            Err((_, Failure::Unknown(e))) => {
                conn.give_back();
                for pending in segment {
                    let _ = pending.reply.send(Err(e.clone()));
                }
            }
            Err((_, failure)) => {
                if matches!(failure, Failure::Fail(StoreError::Unavailable(_))) {
                    conn.give_back();
                }
                counters.bulk_fallbacks.fetch_add(1, Ordering::Relaxed);
                // Rolled back (a failed expectation or uniqueness rule, a deadlock, a foreign
                // key at COMMIT, a lost connection before COMMIT): every commit alone, in
                // order, each with its own outcome.
                for pending in segment.into_iter().rev() {
                    segments.push_front(vec![pending]);
                }
            }
        }
    }
}
