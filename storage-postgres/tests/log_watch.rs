//! The log watch across server instances (DESIGN §3): two `PgStore`s with separate connection
//! pools on one schema stand for two processes. The watched store polls only once an hour, so
//! within these tests only a notification (or the re-read after a reconnection) can wake it.
//! Waits are bounded only to turn a missing wake-up into a failure; they claim no speed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use tasklane_core::event::{EventKind, NewEvent};
use tasklane_core::ids::{UserId, WorkspaceId};
use tasklane_core::model::Workspace;
use tasklane_core::store::{Commit, Record, Store};
use tasklane_core::testkit::wait_for_seq;
use tasklane_storage_postgres::{Error, PgConfig, PgStore};
use time::OffsetDateTime;
use uuid::Uuid;

/// How long a test waits for a wake-up before it fails.
const PATIENCE: Duration = tasklane_core::testkit::LOG_WATCH_PATIENCE;

/// A poll interval no test outlives.
const ONE_HOUR_MS: u64 = 3_600_000;

/// The schema a store works in.
async fn schema_of(store: &PgStore) -> String {
    sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(store.pool())
        .await
        .expect("read the schema")
}

/// A second store (another "instance") on `schema`, with its own pool, polling once an hour.
async fn instance_on(schema: &str) -> PgStore {
    let config = PgConfig {
        log_poll_interval_ms: ONE_HOUR_MS,
        ..common::test_config(common::test_url().expect("the test URL")).with_schema(schema)
    };
    PgStore::connect(config)
        .await
        .expect("a second connection pool on the schema")
}

/// The listener's application name for `schema`, as `pg_stat_activity` shows it.
fn listener_name(schema: &str) -> String {
    let mut name = format!("tasklane-log-listener {schema}");
    name.truncate(63);
    name
}

/// `n` events in a fresh workspace, which the commit also inserts (one-statement path).
fn insert_with_events(n: usize) -> (Commit, Workspace) {
    let workspace = Workspace {
        id: WorkspaceId(Uuid::now_v7()),
        name: "W".into(),
        created_at: OffsetDateTime::now_utc(),
        version: 1,
    };
    let mut c = Commit::new();
    c.insert(Record::Workspace(workspace.clone()));
    add_events(&mut c, workspace.id, n);
    (c, workspace)
}

fn add_events(c: &mut Commit, workspace: WorkspaceId, n: usize) {
    for _ in 0..n {
        c.event(NewEvent {
            at: OffsetDateTime::now_utc(),
            actor_id: UserId(Uuid::now_v7()),
            workspace_id: workspace,
            project_id: None,
            task_id: None,
            kind: EventKind::ProjectArchived,
        });
    }
}

/// Commits and returns the commit's last seq.
async fn last_seq_of(store: &PgStore, commit: Commit) -> u64 {
    let seqs = store.commit(commit).await.expect("commit").seqs;
    *seqs.last().expect("the commit has events")
}

/// How many listener connections of `schema` the database shows.
async fn listeners(store: &PgStore, schema: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
        .bind(listener_name(schema))
        .fetch_one(store.pool())
        .await
        .expect("read pg_stat_activity")
}

/// Commits on instance A wake instance B's watch, through each commit path: an insert with
/// events (one statement), an update with events (a transaction), and concurrent commits (a
/// group). A itself never watches, so it starts no listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_on_one_instance_wakes_the_other() {
    // Without a record cache, a store starts its listener only when watched.
    let Some(a) = common::uncached_test_store().await else {
        return;
    };
    let schema = schema_of(&a).await;
    let b = instance_on(&schema).await;
    let mut rx = b.log_watch();

    // The first wake-up comes from the notification or from the read after LISTEN; either way
    // B listens from then on.
    let (first, workspace) = insert_with_events(1);
    let s1 = last_seq_of(&a, first).await;
    wait_for_seq(&mut rx, s1, "the first commit").await;
    assert_eq!(
        listeners(&a, &schema).await,
        1,
        "only the watching instance runs a listener"
    );

    let (insert, _) = insert_with_events(3);
    let s2 = last_seq_of(&a, insert).await;
    assert_eq!(wait_for_seq(&mut rx, s2, "an insert with events").await, s2);

    let mut update = Commit::new();
    update.update(
        Record::Workspace(Workspace {
            name: "renamed".into(),
            version: 2,
            ..workspace.clone()
        }),
        1,
    );
    add_events(&mut update, workspace.id, 2);
    let s3 = last_seq_of(&a, update).await;
    assert_eq!(wait_for_seq(&mut rx, s3, "an update with events").await, s3);

    let a = Arc::new(a);
    let mut writers = Vec::new();
    for _ in 0..16 {
        let a = Arc::clone(&a);
        writers.push(tokio::spawn(async move {
            let (c, _) = insert_with_events(2);
            last_seq_of(&a, c).await
        }));
    }
    let mut end = 0;
    for writer in writers {
        end = end.max(writer.await.expect("a writer"));
    }
    assert_eq!(a.last_seq().await.expect("last_seq"), end);
    assert_eq!(wait_for_seq(&mut rx, end, "concurrent commits").await, end);
}

/// When the listener's connection is killed, it reconnects and re-reads the log's end: a commit
/// made meanwhile still wakes the watch, without waiting for the hourly poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_listener_recovers_when_its_connection_is_killed() {
    let Some(a) = common::uncached_test_store().await else {
        return;
    };
    let schema = schema_of(&a).await;
    let b = instance_on(&schema).await;
    let mut rx = b.log_watch();
    let (first, _) = insert_with_events(1);
    let s1 = last_seq_of(&a, first).await;
    wait_for_seq(&mut rx, s1, "before the kill").await;

    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(listener_name(&schema))
    .fetch_all(a.pool())
    .await
    .expect("terminate the listener");
    assert_eq!(
        killed,
        vec![true],
        "exactly this schema's listener was killed"
    );

    let (second, _) = insert_with_events(2);
    let s2 = last_seq_of(&a, second).await;
    assert_eq!(wait_for_seq(&mut rx, s2, "after the kill").await, s2);

    // And it listens again: the next commit is notified.
    let (third, _) = insert_with_events(1);
    let s3 = last_seq_of(&a, third).await;
    assert_eq!(
        wait_for_seq(&mut rx, s3, "after the reconnection").await,
        s3
    );
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while listeners(&a, &schema).await != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "one listener connection after the reconnection"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Another schema's commits never reach a store's watch, even with higher numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_schemas_log_never_reaches_the_watch() {
    let Some(mine) = common::test_store().await else {
        return;
    };
    let Some(other) = common::test_store().await else {
        return;
    };
    // The watching instance lives to the end: its watch closes with its last handle.
    let watcher = instance_on(&schema_of(&mine).await).await;
    let mut rx = watcher.log_watch();
    let (c, _) = insert_with_events(1);
    let s1 = last_seq_of(&mine, c).await;
    wait_for_seq(&mut rx, s1, "my first commit").await;
    let (c, _) = insert_with_events(20);
    let foreign = last_seq_of(&other, c).await;
    let (c, _) = insert_with_events(1);
    let s2 = last_seq_of(&mine, c).await;
    assert!(foreign > s2);
    assert_eq!(wait_for_seq(&mut rx, s2, "my second commit").await, s2);
    // Notifications arrive in commit order, so the other schema's would have come by now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(*rx.borrow(), s2, "the watch shows only this schema's log");
}

#[tokio::test]
async fn a_zero_poll_interval_is_refused() {
    let config = PgConfig {
        log_poll_interval_ms: 0,
        ..PgConfig::new("postgres://127.0.0.1:1/nothing")
    };
    match PgStore::connect(config).await {
        Err(Error::Config(message)) => assert!(message.contains("log_poll_interval_ms")),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}
