//! Group commit isolates failures: concurrent commits that run in one shared transaction each
//! get their own outcome, exactly as if they had run alone in some order.

mod common;

use std::sync::Arc;

use tasklane_core::event::{EventKind, EventQuery, EventScope, NewEvent};
use tasklane_core::ids::*;
use tasklane_core::model::*;
use tasklane_core::store::{Commit, Record, Store, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

fn user(email: &str) -> User {
    User {
        id: UserId(Uuid::now_v7()),
        email: email.into(),
        name: "n".into(),
        password_hash: "x".into(),
        is_server_admin: false,
        disabled: false,
        created_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failing_commits_in_a_group_fail_alone() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let store = Arc::new(store);
    let taken = user("taken@example.com");
    let ws = Workspace {
        id: WorkspaceId(Uuid::now_v7()),
        name: "w".into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    };
    let mut c = Commit::new();
    c.insert(Record::User(taken.clone()))
        .insert(Record::Workspace(ws.clone()));
    store.commit(c).await.unwrap();

    let event = |actor: UserId| NewEvent {
        at: OffsetDateTime::UNIX_EPOCH,
        actor_id: actor,
        workspace_id: ws.id,
        project_id: None,
        task_id: None,
        kind: EventKind::WorkspaceCreated { name: "x".into() },
    };
    for round in 0..10 {
        // 24 concurrent commits: fresh users (succeed), duplicate e-mails (fail with Duplicate),
        // stale workspace updates (fail with VersionConflict), one good workspace update.
        let current = store.workspace(ws.id).await.unwrap().unwrap();
        let mut handles = Vec::new();
        for i in 0..24 {
            let store = Arc::clone(&store);
            let mut c = Commit::new();
            let kind = i % 4;
            let u = match kind {
                1 => user("TAKEN@example.com"),
                _ => user(&format!("u{round}-{i}@example.com")),
            };
            c.insert(Record::User(u.clone()));
            if kind == 2 {
                let stale = Workspace {
                    name: format!("stale {i}"),
                    version: current.version + 5,
                    ..current.clone()
                };
                c.update(Record::Workspace(stale), current.version + 4);
            }
            if i == 3 {
                let fresh = Workspace {
                    name: format!("round {round}"),
                    version: current.version + 1,
                    ..current.clone()
                };
                c.update(Record::Workspace(fresh), current.version);
            }
            c.event(event(u.id)).event(event(u.id));
            handles.push(tokio::spawn(
                async move { (kind, i, u, store.commit(c).await) },
            ));
        }
        let mut seqs = Vec::new();
        for h in handles {
            let (kind, i, u, outcome) = h.await.unwrap();
            match (kind, outcome) {
                (1, Err(StoreError::Duplicate { field, value })) => {
                    assert_eq!(
                        (field.as_str(), value.as_str()),
                        ("email", "TAKEN@example.com")
                    );
                    assert_eq!(store.user(u.id).await.unwrap(), None);
                }
                (2, Err(StoreError::VersionConflict { record })) => {
                    assert_eq!(record, format!("workspace {}", ws.id));
                    assert_eq!(
                        store.user(u.id).await.unwrap(),
                        None,
                        "nothing of it applied"
                    );
                }
                (0 | 3, Ok(receipt)) => {
                    assert_eq!(receipt.seqs.len(), 2);
                    assert_eq!(receipt.seqs[1], receipt.seqs[0] + 1);
                    assert_eq!(store.user(u.id).await.unwrap(), Some(u));
                    seqs.extend(receipt.seqs);
                }
                (kind, outcome) => panic!("commit {i} (kind {kind}): unexpected {outcome:?}"),
            }
        }
        assert_eq!(
            store.workspace(ws.id).await.unwrap().unwrap().name,
            format!("round {round}")
        );
        // Only the successful commits' events are in the log, without gaps.
        seqs.sort_unstable();
        let last = store.last_seq().await.unwrap();
        assert_eq!(seqs.len(), 24, "12 commits of 2 events succeeded");
        assert_eq!(seqs, ((last - 23)..=last).collect::<Vec<_>>());
        let log = store
            .events(&EventQuery {
                scope: EventScope::All,
                after: last - 24,
                limit: 100,
            })
            .await
            .unwrap();
        assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
    }
}

/// Groups of successful commits are written in bulk, without falling back: the bulk statements
/// of every table work (a fallback would hide a broken one behind the slower path).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn successful_groups_are_written_in_bulk() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let store = Arc::new(store);
    let ws = Workspace {
        id: WorkspaceId(Uuid::now_v7()),
        name: "w".into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    };
    let owner = user("owner@example.com");
    let mut c = Commit::new();
    c.insert(Record::Workspace(ws.clone()))
        .insert(Record::User(owner.clone()));
    store.commit(c).await.unwrap();
    // Each writer inserts, updates and deletes records of several tables per commit.
    let mut handles = Vec::new();
    for w in 0..12 {
        let store = Arc::clone(&store);
        let ws = ws.clone();
        handles.push(tokio::spawn(async move {
            for n in 0..10 {
                let u = user(&format!("w{w}n{n}@example.com"));
                let member = Membership {
                    workspace_id: ws.id,
                    user_id: u.id,
                    role: Role::Member,
                    created_at: OffsetDateTime::UNIX_EPOCH,
                    version: 1,
                };
                let mut c = Commit::new();
                c.insert(Record::User(u.clone()))
                    .insert(Record::Membership(member.clone()));
                store.commit(c).await.unwrap();
                let mut c = Commit::new();
                c.update(
                    Record::User(User {
                        email: format!("W{w}N{n}@changed.example.com"),
                        version: 2,
                        ..u.clone()
                    }),
                    1,
                )
                .update(
                    Record::Membership(Membership {
                        role: Role::Admin,
                        version: 2,
                        ..member.clone()
                    }),
                    1,
                )
                .event(NewEvent {
                    at: OffsetDateTime::UNIX_EPOCH,
                    actor_id: u.id,
                    workspace_id: ws.id,
                    project_id: None,
                    task_id: None,
                    kind: EventKind::MemberRoleChanged {
                        user_id: u.id,
                        old: Role::Member,
                        new: Role::Admin,
                    },
                });
                store.commit(c).await.unwrap();
                let mut c = Commit::new();
                c.delete(tasklane_core::store::RecordKey::Membership(ws.id, u.id), 2);
                store.commit(c).await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let stats = store.commit_stats();
    assert_eq!(stats.bulk_fallbacks, 0, "{stats:?}");
    assert!(stats.bulk_transactions > 0, "{stats:?}");
    assert!(
        stats.bulk_commits > stats.bulk_transactions,
        "groups hold several commits: {stats:?}"
    );
    assert_eq!(store.user_count().await.unwrap(), 121);
    assert_eq!(store.members_of_workspace(ws.id).await.unwrap(), vec![]);
    assert_eq!(store.last_seq().await.unwrap(), 120);
}

/// Commits that only insert records and append events are written as one statement each, or
/// one per group, never falling back, and their events are numbered in commit order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn insert_only_commits_are_written_as_one_statement() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let store = Arc::new(store);
    let ws = Workspace {
        id: WorkspaceId(Uuid::now_v7()),
        name: "w".into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    };
    let mut c = Commit::new();
    c.insert(Record::Workspace(ws.clone()));
    store.commit(c).await.unwrap();
    let before = store.commit_stats();
    let mut handles = Vec::new();
    for w in 0..12 {
        let store = Arc::clone(&store);
        let ws = ws.clone();
        handles.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..10 {
                let u = user(&format!("one{w}n{n}@example.com"));
                let mut c = Commit::new();
                c.insert(Record::User(u.clone()))
                    .insert(Record::Membership(Membership {
                        workspace_id: ws.id,
                        user_id: u.id,
                        role: Role::Member,
                        created_at: OffsetDateTime::UNIX_EPOCH,
                        version: 1,
                    }))
                    .event(NewEvent {
                        at: OffsetDateTime::UNIX_EPOCH,
                        actor_id: u.id,
                        workspace_id: ws.id,
                        project_id: None,
                        task_id: None,
                        kind: EventKind::MemberAdded {
                            user_id: u.id,
                            role: Role::Member,
                        },
                    });
                seqs.extend(store.commit(c).await.unwrap().seqs);
            }
            seqs
        }));
    }
    let mut seqs = Vec::new();
    for h in handles {
        seqs.extend(h.await.unwrap());
    }
    let stats = store.commit_stats();
    assert_eq!(
        stats.single_statement_commits - before.single_statement_commits,
        120,
        "{stats:?}"
    );
    assert_eq!(stats.bulk_fallbacks, before.bulk_fallbacks, "{stats:?}");
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=120).collect::<Vec<u64>>());
    assert_eq!(store.members_of_workspace(ws.id).await.unwrap().len(), 120);
    // A duplicate in such a commit fails alone, with the reference store's error.
    let mut c = Commit::new();
    c.insert(Record::User(user("one0n0@example.com")))
        .event(NewEvent {
            at: OffsetDateTime::UNIX_EPOCH,
            actor_id: ws_owner(&ws),
            workspace_id: ws.id,
            project_id: None,
            task_id: None,
            kind: EventKind::MemberAdded {
                user_id: ws_owner(&ws),
                role: Role::Member,
            },
        });
    let err = store.commit(c).await.unwrap_err();
    assert!(
        matches!(err, tasklane_core::store::StoreError::Duplicate { ref field, .. } if field == "email"),
        "{err:?}"
    );
    assert_eq!(store.last_seq().await.unwrap(), 120);
}

fn ws_owner(ws: &Workspace) -> tasklane_core::ids::UserId {
    tasklane_core::ids::UserId(ws.id.0)
}
