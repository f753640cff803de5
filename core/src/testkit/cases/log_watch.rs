//! Cases for the log watch: the contract written on [`Store::log_watch`], one case per rule.
//!
//! Waits are bounded by [`PATIENCE`] only to turn a missing wake-up into a failure instead of a
//! hang; the bound is no claim about how fast a store wakes its watchers.

use std::sync::Arc;
use std::time::Duration;

use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::event::{EventKind, EventQuery, EventScope, NewEvent};
use crate::ids::{UserId, WorkspaceId};
use crate::model::{User, Workspace};
use crate::store::{Commit, Record, Store};

const T0: OffsetDateTime = datetime!(2026-11-02 09:00 UTC);

/// How long a case waits for a wake-up before it fails.
const PATIENCE: Duration = crate::testkit::LOG_WATCH_PATIENCE;

/// A user and a workspace for events to name, committed without events.
async fn author<S: Store>(store: &S) -> (UserId, WorkspaceId) {
    let user = User {
        id: UserId(Uuid::now_v7()),
        email: "watch@example.com".into(),
        name: "watch".into(),
        password_hash: "x".into(),
        is_server_admin: false,
        disabled: false,
        created_at: T0,
        version: 1,
    };
    let workspace = Workspace {
        id: WorkspaceId(Uuid::now_v7()),
        name: "W".into(),
        created_at: T0,
        version: 1,
    };
    let (u, w) = (user.id, workspace.id);
    let mut c = Commit::new();
    c.insert(Record::User(user))
        .insert(Record::Workspace(workspace));
    store.commit(c).await.expect("commit the author");
    (u, w)
}

/// A commit of `n` events by `u` in `w`, without records.
fn events(u: UserId, w: WorkspaceId, n: usize) -> Commit {
    let mut c = Commit::new();
    for _ in 0..n {
        c.event(NewEvent {
            at: T0,
            actor_id: u,
            workspace_id: w,
            project_id: None,
            task_id: None,
            kind: EventKind::ProjectArchived,
        });
    }
    c
}

/// Commits `n` events and returns the commit's last seq.
async fn commit_events<S: Store>(store: &S, u: UserId, w: WorkspaceId, n: usize) -> u64 {
    let seqs = store
        .commit(events(u, w, n))
        .await
        .expect("commit events")
        .seqs;
    assert_eq!(seqs.len(), n, "one seq per event");
    *seqs.last().expect("a commit with events has seqs")
}

/// Asserts that every event up to `seq` is visible: the watch never runs ahead of the log.
async fn assert_visible<S: Store>(store: &S, seq: u64, what: &str) {
    if seq == 0 {
        return;
    }
    let found = store
        .events(&EventQuery {
            scope: EventScope::All,
            after: seq - 1,
            limit: 1,
        })
        .await
        .expect("read the log");
    assert_eq!(
        found.first().map(|e| e.seq),
        Some(seq),
        "{what}: the log watch showed seq {seq}, which the log does not show yet"
    );
}

/// A new receiver starts at or below [`Store::last_seq`], on an empty log and after commits.
pub async fn store_log_watch_starts_at_or_below_last_seq<S: Store>(store: S) {
    let rx = store.log_watch();
    let last = store.last_seq().await.expect("last_seq");
    assert!(
        *rx.borrow() <= last,
        "an empty store's watch shows {} above last_seq {last}",
        *rx.borrow()
    );
    let (u, w) = author(&store).await;
    commit_events(&store, u, w, 3).await;
    let rx = store.log_watch();
    let start = *rx.borrow();
    let last = store.last_seq().await.expect("last_seq");
    assert!(
        start <= last,
        "a new receiver shows {start} above last_seq {last}"
    );
    assert_visible(&store, start, "a new receiver").await;
}

/// After a commit with events returns, a receiver taken before it reaches the commit's last
/// seq, and the events up to the value it shows are readable.
pub async fn store_log_watch_reaches_a_commits_last_seq<S: Store>(store: S) {
    let (u, w) = author(&store).await;
    let mut rx = store.log_watch();
    let first = commit_events(&store, u, w, 2).await;
    let seen = crate::testkit::wait_for_seq(&mut rx, first, "after one commit").await;
    assert_visible(&store, seen, "after one commit").await;
    // A commit without events does not move the log; the next one with events does.
    let mut c = Commit::new();
    c.insert(Record::User(User {
        id: UserId(Uuid::now_v7()),
        email: "other@example.com".into(),
        name: "other".into(),
        password_hash: "x".into(),
        is_server_admin: false,
        disabled: false,
        created_at: T0,
        version: 1,
    }));
    store.commit(c).await.expect("a commit without events");
    let second = commit_events(&store, u, w, 1).await;
    assert_eq!(second, first + 1, "the log has no gaps");
    let seen = crate::testkit::wait_for_seq(&mut rx, second, "after a second commit").await;
    assert_visible(&store, seen, "after a second commit").await;
    assert_eq!(store.last_seq().await.expect("last_seq"), second);
}

/// Receivers taken through other handles of the store, in other tasks, are woken by a commit
/// made through yet another handle.
pub async fn store_log_watch_wakes_every_handle<S: Store>(store: S) {
    let store = Arc::new(store);
    let (u, w) = author(&*store).await;
    let start = store.last_seq().await.expect("last_seq");
    let mut waiters = Vec::new();
    for _ in 0..3 {
        let handle = Arc::clone(&store);
        let (ready, wait) = tokio::sync::oneshot::channel::<()>();
        let (go, started) = tokio::sync::oneshot::channel::<u64>();
        waiters.push((
            tokio::spawn(async move {
                let mut rx = handle.log_watch();
                let _ = ready.send(());
                let target = started.await.expect("the committer names its seq");
                let seen =
                    crate::testkit::wait_for_seq(&mut rx, target, "a receiver of another handle")
                        .await;
                assert_visible(&*handle, seen, "a receiver of another handle").await;
                seen
            }),
            wait,
            go,
        ));
    }
    let mut gos = Vec::new();
    for (task, wait, go) in waiters {
        wait.await.expect("the waiter took its receiver");
        gos.push((task, go));
    }
    let committer = {
        let handle = Arc::clone(&store);
        tokio::spawn(async move { commit_events(&*handle, u, w, 2).await })
    };
    let last = committer.await.expect("the committer");
    assert_eq!(last, start + 2);
    for (task, go) in gos {
        let _ = go.send(last);
        let seen = task.await.expect("a waiter");
        assert!(seen >= last);
    }
}

/// Many commits from concurrent tasks: a receiver observes only non-decreasing values, each
/// visible in the log when observed, and ends at the final last seq.
pub async fn store_log_watch_under_concurrent_commits<S: Store>(store: S) {
    const WRITERS: u64 = 8;
    const COMMITS: u64 = 12;
    let store = Arc::new(store);
    let (u, w) = author(&*store).await;
    let start = store.last_seq().await.expect("last_seq");
    // Commits of one and of two events, alternating.
    let total = WRITERS * (COMMITS / 2) * 3;
    let end = start + total;
    let observer = {
        let store = Arc::clone(&store);
        let mut rx = store.log_watch();
        tokio::spawn(async move {
            let mut observed = vec![*rx.borrow_and_update()];
            while observed.last().copied().unwrap_or(0) < end {
                match tokio::time::timeout(PATIENCE, rx.changed()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => panic!("the log watch closed while commits ran"),
                    Err(_) => panic!(
                        "the log watch stayed at {} for {PATIENCE:?}, below the final seq {end}",
                        *rx.borrow()
                    ),
                }
                let value = *rx.borrow_and_update();
                assert_visible(&*store, value, "under concurrent commits").await;
                observed.push(value);
            }
            observed
        })
    };
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let store = Arc::clone(&store);
        writers.push(tokio::spawn(async move {
            for i in 0..COMMITS {
                commit_events(&*store, u, w, if i % 2 == 0 { 1 } else { 2 }).await;
            }
        }));
    }
    for writer in writers {
        writer.await.expect("a writer");
    }
    assert_eq!(store.last_seq().await.expect("last_seq"), end);
    let observed = observer.await.expect("the observer");
    assert!(
        observed.windows(2).all(|pair| pair[0] <= pair[1]),
        "the log watch went back: {observed:?}"
    );
    assert_eq!(
        observed.last().copied(),
        Some(end),
        "the log watch ends at the final last seq"
    );
    let mut fresh = store.log_watch();
    assert_eq!(
        crate::testkit::wait_for_seq(&mut fresh, end, "a receiver taken after the commits").await,
        end
    );
}
