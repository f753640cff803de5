//! The log watch (`Store::log_watch`) beyond the conformance suite, which runs on the default
//! durability: the same cases under `Durability::Periodic` (events visible as soon as they are
//! applied), receivers of cloned handles, reopening a store with a log, and the watch closing
//! with the last handle.

use std::time::Duration;

use tasklane_core::event::{EventKind, NewEvent};
use tasklane_core::ids::{UserId, WorkspaceId};
use tasklane_core::model::{User, Workspace};
use tasklane_core::store::{Commit, Record, Store};
use tasklane_core::testkit::cases;
use tasklane_storage_sled::{Durability, SledConfig, SledStore};
use time::OffsetDateTime;
use uuid::Uuid;

/// How long a test waits for a wake-up before it fails (not a speed claim).
const PATIENCE: Duration = Duration::from_secs(10);

/// A store in `dir` that flushes in the background: events are visible once applied.
fn periodic(dir: &tempfile::TempDir) -> SledStore {
    SledStore::open(
        SledConfig::new(dir.path()).durability(Durability::Periodic { every_ms: 600_000 }),
    )
    .expect("open a sled store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_durability_passes_the_log_watch_cases() {
    for case in 0..4 {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = periodic(&dir);
        match case {
            0 => cases::store_log_watch_starts_at_or_below_last_seq(store).await,
            1 => cases::store_log_watch_reaches_a_commits_last_seq(store).await,
            2 => cases::store_log_watch_wakes_every_handle(store).await,
            _ => cases::store_log_watch_under_concurrent_commits(store).await,
        }
    }
}

/// Commits a user, a workspace and `events` events naming them; returns the last seq.
async fn commit_with_events(store: &SledStore, events: usize) -> u64 {
    let now = OffsetDateTime::now_utc();
    let user = User {
        id: UserId(Uuid::now_v7()),
        email: format!("{}@example.com", Uuid::now_v7().simple()),
        name: "watch".into(),
        password_hash: "x".into(),
        is_server_admin: false,
        disabled: false,
        created_at: now,
        version: 1,
    };
    let workspace = Workspace {
        id: WorkspaceId(Uuid::now_v7()),
        name: "W".into(),
        created_at: now,
        version: 1,
    };
    let mut c = Commit::new();
    for _ in 0..events {
        c.event(NewEvent {
            at: now,
            actor_id: user.id,
            workspace_id: workspace.id,
            project_id: None,
            task_id: None,
            kind: EventKind::ProjectArchived,
        });
    }
    c.insert(Record::User(user))
        .insert(Record::Workspace(workspace));
    let seqs = store.commit(c).await.expect("commit").seqs;
    seqs.last().copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_of_cloned_handles_are_woken_under_both_durabilities() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for store in [
        SledStore::temporary().expect("a temporary sled store"),
        periodic(&dir),
    ] {
        let clone = store.clone();
        let mut rx = clone.log_watch();
        let last = commit_with_events(&store, 2).await;
        tokio::time::timeout(PATIENCE, rx.wait_for(|v| *v >= last))
            .await
            .expect("the clone's watch reaches the commit's seq in time")
            .expect("the watch is open");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_store_starts_its_watch_at_the_stored_log() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let last = {
        let store = SledStore::open(SledConfig::new(dir.path())).expect("open");
        commit_with_events(&store, 3).await
    };
    let store = SledStore::open(SledConfig::new(dir.path())).expect("reopen");
    let rx = store.log_watch();
    assert_eq!(*rx.borrow(), last, "the watch starts at the log's last seq");
    assert_eq!(store.last_seq().await.expect("last_seq"), last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_closes_when_the_last_handle_is_dropped() {
    let store = SledStore::temporary().expect("a temporary sled store");
    let clone = store.clone();
    let mut rx = store.log_watch();
    drop(store);
    let last = commit_with_events(&clone, 1).await;
    rx.wait_for(|v| *v >= last)
        .await
        .expect("open while a handle remains");
    drop(clone);
    let closed = tokio::time::timeout(PATIENCE, rx.changed()).await;
    assert!(
        matches!(closed, Ok(Err(_))),
        "the watch closes with the last handle"
    );
}
