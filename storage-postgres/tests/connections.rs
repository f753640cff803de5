//! How the store uses its connections: task numbers requested together share one increment,
//! the committer works on a connection of its own and replaces it when it dies, and a pooled
//! connection that died while idle is replaced without the caller noticing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tasklane_core::event::{EventKind, NewEvent};
use tasklane_core::ids::{ProjectId, UserId, WorkspaceId};
use tasklane_core::model::{Project, TaskCounter, Workspace};
use tasklane_core::store::{Commit, Record, Store, StoreError};
use tasklane_storage_postgres::PgStore;
use time::OffsetDateTime;
use uuid::Uuid;

/// A workspace and a project whose counter starts at `last_number`.
async fn project_with_counter(store: &PgStore, last_number: u64) -> Project {
    let ws = Workspace {
        id: WorkspaceId(Uuid::now_v7()),
        name: "w".into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    };
    let project = Project {
        id: ProjectId(Uuid::now_v7()),
        workspace_id: ws.id,
        key: "NUM".into(),
        name: "Numbers".into(),
        description: String::new(),
        archived: false,
        is_template: false,
        deleted_at: None,
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    };
    let mut c = Commit::new();
    c.insert(Record::Workspace(ws))
        .insert(Record::Project(project.clone()))
        .insert(Record::TaskCounter(TaskCounter {
            project_id: project.id,
            last_number,
            version: 1,
        }));
    store.commit(c).await.expect("setup commit");
    project
}

/// The store's schema.
async fn schema_of(store: &PgStore) -> String {
    sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(store.pool())
        .await
        .expect("read the schema")
}

/// A connection outside the store's pools, for holding locks and ending sessions.
async fn side_connection(store: &PgStore) -> PgConnection {
    let schema = schema_of(store).await;
    let url = common::test_url().expect("url");
    let mut conn = PgConnection::connect(&url).await.expect("side connection");
    sqlx::query("SELECT set_config('search_path', $1, false)")
        .bind(schema)
        .execute(&mut conn)
        .await
        .expect("search path");
    conn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_requested_while_an_increment_runs_share_the_next_one() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let store = Arc::new(store);
    let project = project_with_counter(&store, 10).await;
    // Hold the counter's row so that the first increment waits for it.
    let mut side = side_connection(&store).await;
    let mut tx = side.begin().await.expect("begin");
    sqlx::query("SELECT 1 FROM task_counters WHERE project_id = $1 FOR UPDATE")
        .bind(project.id.0)
        .execute(&mut *tx)
        .await
        .expect("lock the counter");
    let before = store.commit_stats();
    let requests: Vec<_> = (0..32)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.next_task_number(project.id).await })
        })
        .collect();
    // Every request is queued long before the row is free.
    tokio::time::sleep(Duration::from_millis(300)).await;
    tx.commit().await.expect("release the counter");
    let mut numbers = Vec::new();
    for r in requests {
        numbers.push(r.await.expect("task").expect("number").expect("a counter"));
    }
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (11..=42).collect::<Vec<u64>>(),
        "every number once"
    );
    let after = store.commit_stats();
    assert_eq!(after.task_numbers - before.task_numbers, 32);
    let increments = after.task_number_increments - before.task_number_increments;
    assert!(
        (1..=2).contains(&increments),
        "32 requests waiting together took {increments} increments"
    );
    let counter = store
        .task_counter(project.id)
        .await
        .expect("read")
        .expect("counter");
    assert_eq!(counter.last_number, 42);
    assert_eq!(
        counter.version, 33,
        "one version per number, as if taken one by one"
    );
}

#[tokio::test]
async fn a_project_without_a_counter_gets_no_number_and_the_next_request_still_works() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let missing = ProjectId(Uuid::now_v7());
    assert_eq!(store.next_task_number(missing).await.expect("read"), None);
    let project = project_with_counter(&store, 0).await;
    assert_eq!(
        store.next_task_number(project.id).await.expect("number"),
        Some(1)
    );
}

#[tokio::test]
async fn the_committer_has_a_connection_of_its_own() {
    let Some(store) = common::test_store().await else {
        return;
    };
    project_with_counter(&store, 0).await;
    // The committer plans its statements once; the pool's connections, which run every kind
    // of read, keep PostgreSQL's default.
    let mode: String = sqlx::query_scalar("SELECT current_setting('plan_cache_mode')")
        .fetch_one(store.pool())
        .await
        .expect("read");
    assert_eq!(mode, "auto");
    let committers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE application_name = 'tasklane-committer' AND datname = current_database()",
    )
    .fetch_one(store.pool())
    .await
    .expect("read");
    assert!(committers >= 1, "no committer connection is open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_connections_that_died_while_idle_are_replaced() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let project = project_with_counter(&store, 0).await;
    // Take every connection of the pool at once and note its backend.
    let mut held = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..store.pool().options().get_max_connections() {
        let mut conn = store.pool().acquire().await.expect("acquire");
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
            .expect("pid");
        pids.push(pid);
        held.push(conn);
    }
    drop(held);
    let mut side = side_connection(&store).await;
    let ended: Vec<bool> =
        sqlx::query_scalar("SELECT pg_terminate_backend(pid) FROM unnest($1::int4[]) AS pid")
            .bind(&pids)
            .fetch_all(&mut side)
            .await
            .expect("terminate");
    assert!(ended.iter().all(|e| *e), "every pooled backend ended");
    // Idle for longer than a connection may go unchecked.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    for _ in 0..pids.len() + 2 {
        let counter = store
            .task_counter(project.id)
            .await
            .expect("read after the backends died");
        assert_eq!(counter.map(|c| c.project_id), Some(project.id));
    }
    let alive: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int4[])")
            .bind(&pids)
            .fetch_one(&mut side)
            .await
            .expect("read");
    assert_eq!(alive, 0, "the reads ran on new connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committer_replaces_a_connection_that_died_under_a_commit() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let store = Arc::new(store);
    let project = project_with_counter(&store, 0).await;
    let schema = schema_of(&store).await;
    let with_event = |name: &str| {
        let ws = Workspace {
            id: WorkspaceId(Uuid::now_v7()),
            name: name.into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            version: 1,
        };
        let mut c = Commit::new();
        c.insert(Record::Workspace(ws.clone())).event(NewEvent {
            at: OffsetDateTime::UNIX_EPOCH,
            actor_id: UserId(Uuid::now_v7()),
            workspace_id: ws.id,
            project_id: Some(project.id),
            task_id: None,
            kind: EventKind::WorkspaceCreated { name: name.into() },
        });
        c
    };
    // Hold the log's lock, so that the committer's backend waits for it, and end that backend.
    let mut side = side_connection(&store).await;
    sqlx::query("SELECT pg_advisory_lock(1952543, hashtext($1))")
        .bind(&schema)
        .execute(&mut side)
        .await
        .expect("take the log's lock");
    let waiting = {
        let store = Arc::clone(&store);
        let commit = with_event("lost");
        tokio::spawn(async move { store.commit(commit).await })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let committer = loop {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
             AND classid = 1952543 AND objid = hashtext($1)::oid AND objsubid = 2",
        )
        .bind(&schema)
        .fetch_optional(&mut side)
        .await
        .expect("read the locks");
        if let Some(pid) = pid {
            break pid;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the commit never waited for the log's lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // Commits queued behind the one that waits run after it, in the same committer's turn.
    let queued: Vec<_> = (0..3)
        .map(|i| {
            let store = Arc::clone(&store);
            let commit = with_event(&format!("queued {i}"));
            tokio::spawn(async move { store.commit(commit).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(committer)
        .execute(&mut side)
        .await
        .expect("end the committer's backend");
    sqlx::query("SELECT pg_advisory_unlock(1952543, hashtext($1))")
        .bind(&schema)
        .execute(&mut side)
        .await
        .expect("release the log's lock");
    let lost = waiting.await.expect("task");
    assert!(
        matches!(lost, Err(StoreError::Unavailable(_))),
        "the commit whose connection died: {lost:?}"
    );
    // The commits queued behind it, and the next ones, run on a fresh connection.
    for q in queued {
        let receipt = q
            .await
            .expect("task")
            .expect("a commit queued behind the one whose connection died");
        assert_eq!(receipt.seqs.len(), 1);
    }
    for i in 0..3 {
        let receipt = store
            .commit(with_event(&format!("after {i}")))
            .await
            .expect("a commit after the committer's connection died");
        assert_eq!(receipt.seqs.len(), 1);
    }
}
