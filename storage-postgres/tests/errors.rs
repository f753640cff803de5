//! Error mapping: timeouts and a closed pool are `Unavailable`, deadlocks are retried, foreign
//! keys and NUL characters are refused without breaking the store.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tasklane_core::ids::*;
use tasklane_core::model::*;
use tasklane_core::store::{Commit, Record, Store, StoreError};
use tasklane_storage_postgres::{PgConfig, PgStore};
use time::OffsetDateTime;
use uuid::Uuid;

fn workspace(name: &str) -> Workspace {
    Workspace {
        id: WorkspaceId(Uuid::now_v7()),
        name: name.into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    }
}

fn renamed(w: &Workspace, name: &str) -> Workspace {
    Workspace {
        name: name.into(),
        version: w.version + 1,
        ..w.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_timeout_is_unavailable_and_applies_nothing() {
    let Some(url) = common::test_url() else {
        return;
    };
    let store = PgStore::connect_temporary(PgConfig {
        statement_timeout_ms: 1000,
        ..common::test_config(url)
    })
    .await
    .unwrap();
    let w = workspace("w");
    let mut c = Commit::new();
    c.insert(Record::Workspace(w.clone()));
    store.commit(c).await.unwrap();
    // Another transaction holds the row.
    let mut blocker = store.pool().begin().await.unwrap();
    sqlx::query("SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE")
        .bind(w.id.0)
        .execute(&mut *blocker)
        .await
        .unwrap();
    let mut c = Commit::new();
    c.update(Record::Workspace(renamed(&w, "late")), 1);
    let started = Instant::now();
    let err = store.commit(c).await.expect_err("the row is locked");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    blocker.rollback().await.unwrap();
    assert_eq!(store.workspace(w.id).await.unwrap(), Some(w));
}

#[tokio::test]
async fn a_closed_pool_is_unavailable() {
    let Some(store) = common::test_store().await else {
        return;
    };
    store.close().await;
    let err = store.last_seq().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = store
        .commit({
            let mut c = Commit::new();
            c.insert(Record::Workspace(workspace("w")));
            c
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

/// Two commits that update the same two rows in opposite orders deadlock; PostgreSQL aborts one,
/// the store retries it, and the retry sees the winner's versions: one success, one conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlocks_are_retried_into_a_clean_outcome() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let store = Arc::new(store);
    let (a, b) = (workspace("a"), workspace("b"));
    let mut c = Commit::new();
    c.insert(Record::Workspace(a.clone()))
        .insert(Record::Workspace(b.clone()));
    store.commit(c).await.unwrap();
    // Hold both rows so that both commits start waiting, then release them together.
    let mut gate = store.pool().begin().await.unwrap();
    sqlx::query("SELECT 1 FROM workspaces WHERE id = ANY($1) FOR UPDATE")
        .bind(vec![a.id.0, b.id.0])
        .execute(&mut *gate)
        .await
        .unwrap();
    let mut handles = Vec::new();
    for (first, second, tag) in [(&a, &b, "x"), (&b, &a, "y")] {
        let store = Arc::clone(&store);
        let mut c = Commit::new();
        c.update(Record::Workspace(renamed(first, tag)), 1)
            .update(Record::Workspace(renamed(second, tag)), 1);
        handles.push(tokio::spawn(async move { store.commit(c).await }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    gate.commit().await.unwrap();
    let mut outcomes = Vec::new();
    for h in handles {
        outcomes.push(h.await.unwrap());
    }
    assert!(started.elapsed() < Duration::from_secs(15));
    let wins = outcomes.iter().filter(|o| o.is_ok()).count();
    let conflicts = outcomes
        .iter()
        .filter(|o| matches!(o, Err(StoreError::VersionConflict { .. })))
        .count();
    assert_eq!((wins, conflicts), (1, 1), "{outcomes:?}");
    let (a2, b2) = (
        store.workspace(a.id).await.unwrap().unwrap(),
        store.workspace(b.id).await.unwrap().unwrap(),
    );
    assert_eq!(a2.name, b2.name, "the winner wrote both rows");
    assert_eq!((a2.version, b2.version), (2, 2));
}

/// The schema's foreign keys refuse a record whose parent does not exist, as a version conflict
/// (the engine read a parent that is gone), and nothing of the commit is applied.
#[tokio::test]
async fn dangling_references_are_refused() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let ghost_project = Project {
        id: ProjectId(Uuid::now_v7()),
        workspace_id: WorkspaceId(Uuid::now_v7()),
        key: "GHOST".into(),
        name: "g".into(),
        description: String::new(),
        archived: false,
        is_template: false,
        deleted_at: None,
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    };
    let w = workspace("kept?");
    let mut c = Commit::new();
    c.insert(Record::Workspace(w.clone()))
        .insert(Record::Project(ghost_project.clone()));
    let err = store.commit(c).await.unwrap_err();
    assert_eq!(
        err,
        StoreError::VersionConflict {
            record: format!("project {}", ghost_project.id)
        }
    );
    assert_eq!(store.workspace(w.id).await.unwrap(), None);
}

/// PostgreSQL text cannot hold NUL: such a record is refused, cleanly.
#[tokio::test]
async fn nul_characters_are_refused_cleanly() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let mut c = Commit::new();
    c.insert(Record::Workspace(workspace("nul \0 inside")));
    let err = store.commit(c).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let mut c = Commit::new();
    c.insert(Record::Workspace(workspace("fine")));
    store.commit(c).await.unwrap();
}
