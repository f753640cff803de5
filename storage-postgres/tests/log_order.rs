//! The log's order is commit order under concurrency (DESIGN §3): 16 concurrent writers whose
//! commits carry records and 1–3 events, and concurrent readers tailing the log, which must see
//! every seq exactly once, in order, each together with the records its commit wrote.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tasklane_core::event::{EventKind, EventQuery, EventScope, NewEvent};
use tasklane_core::ids::*;
use tasklane_core::model::*;
use tasklane_core::store::{Commit, Record, Store};
use time::OffsetDateTime;
use uuid::Uuid;

const WRITERS: usize = 16;
const COMMITS: usize = 30;

fn id() -> Uuid {
    Uuid::now_v7()
}

fn task(p: &Project, number: u64, reporter: UserId) -> Task {
    let now = OffsetDateTime::now_utc();
    Task {
        id: TaskId(id()),
        workspace_id: p.workspace_id,
        project_id: p.id,
        number,
        title: format!("task {number}"),
        description: String::new(),
        status_id: StatusId(Uuid::nil()),
        priority: Priority::None,
        assignee_ids: vec![],
        reporter_id: reporter,
        label_ids: vec![],
        milestone_id: None,
        due_at: None,
        start_at: None,
        estimate_seconds: None,
        parent_id: None,
        position: "V".into(),
        completed_at: None,
        started_at: None,
        deleted_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tailing_readers_see_every_seq_once_in_commit_order() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let store = Arc::new(store);
    let t0 = OffsetDateTime::now_utc();
    let actor = User {
        id: UserId(id()),
        email: "writer@example.com".into(),
        name: "W".into(),
        password_hash: "x".into(),
        is_server_admin: false,
        disabled: false,
        created_at: t0,
        version: 1,
    };
    let ws = Workspace {
        id: WorkspaceId(id()),
        name: "W".into(),
        created_at: t0,
        version: 1,
    };
    // One project and counter per writer, so that writers contend only on the log.
    let mut projects = Vec::new();
    let mut setup = Commit::new();
    setup
        .insert(Record::User(actor.clone()))
        .insert(Record::Workspace(ws.clone()));
    for n in 0..WRITERS {
        let p = Project {
            id: ProjectId(id()),
            workspace_id: ws.id,
            key: format!("P{n}"),
            name: format!("P{n}"),
            description: String::new(),
            archived: false,
            is_template: false,
            deleted_at: None,
            created_at: t0,
            updated_at: t0,
            version: 1,
        };
        setup
            .insert(Record::Project(p.clone()))
            .insert(Record::TaskCounter(TaskCounter {
                project_id: p.id,
                last_number: 0,
                version: 1,
            }));
        projects.push(p);
    }
    store.commit(setup).await.unwrap();
    assert_eq!(store.last_seq().await.unwrap(), 0);

    let done = Arc::new(AtomicBool::new(false));
    // Readers: one over everything with small pages, one scoped to the workspace.
    let mut readers = Vec::new();
    for (scope, limit, check_records) in [
        (EventScope::All, 7, false),
        (EventScope::Workspace(ws.id), 50, true),
    ] {
        let store = Arc::clone(&store);
        let done = Arc::clone(&done);
        readers.push(tokio::spawn(async move {
            let mut seen: Vec<(u64, Option<TaskId>)> = Vec::new();
            let mut last = 0;
            loop {
                // Read `done` before the page: a page read after the writers finished is final.
                let finished = done.load(Ordering::SeqCst);
                let page = store
                    .events(&EventQuery {
                        scope,
                        after: last,
                        limit,
                    })
                    .await
                    .expect("tail the log");
                for e in &page {
                    assert_eq!(e.seq, last + 1, "the tail skipped or repeated a seq");
                    last = e.seq;
                    seen.push((e.seq, e.task_id));
                }
                // The commit's records are visible together with its events (checked once per
                // page by the slower reader, so that the other one polls as fast as it can).
                if check_records {
                    if let Some(e) = page.last() {
                        let t = e.task_id.expect("every event names its task");
                        assert!(
                            store.task(t).await.unwrap().is_some(),
                            "event {} is visible before its task",
                            e.seq
                        );
                    }
                }
                if page.is_empty() {
                    if finished {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }
            seen
        }));
    }

    let mut writers = Vec::new();
    for (w, p) in projects.iter().cloned().enumerate() {
        let store = Arc::clone(&store);
        let actor = actor.id;
        writers.push(tokio::spawn(async move {
            let mut receipts: Vec<(u64, Option<TaskId>)> = Vec::new();
            for n in 1..=COMMITS as u64 {
                let t = task(&p, n, actor);
                let mut c = Commit::new();
                c.insert(Record::Task(t.clone())).update(
                    Record::TaskCounter(TaskCounter {
                        project_id: p.id,
                        last_number: n,
                        version: n + 1,
                    }),
                    n,
                );
                // 1 to 3 events; every fifth commit of some writers has none.
                let events = if (w + n as usize).is_multiple_of(5) {
                    0
                } else {
                    1 + (n as usize + w) % 3
                };
                for _ in 0..events {
                    c.event(NewEvent {
                        at: OffsetDateTime::now_utc(),
                        actor_id: actor,
                        workspace_id: p.workspace_id,
                        project_id: Some(p.id),
                        task_id: Some(t.id),
                        kind: EventKind::TaskCreated {
                            key: t.key(&p.key),
                            title: t.title.clone(),
                            status_id: t.status_id,
                        },
                    });
                }
                let seqs = store.commit(c).await.expect("commit").seqs;
                assert_eq!(seqs.len(), events);
                for pair in seqs.windows(2) {
                    assert_eq!(pair[1], pair[0] + 1, "a commit's events are consecutive");
                }
                receipts.extend(seqs.into_iter().map(|s| (s, Some(t.id))));
            }
            receipts
        }));
    }
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.expect("writer"));
    }
    done.store(true, Ordering::SeqCst);
    acknowledged.sort_unstable();
    let total = acknowledged.len() as u64;
    assert!(
        total > (WRITERS * COMMITS) as u64,
        "most commits carry events"
    );
    assert_eq!(
        acknowledged.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>(),
        "receipts cover 1..=n without gaps or repeats"
    );
    for reader in readers {
        let seen = reader.await.expect("reader");
        assert_eq!(
            seen, acknowledged,
            "a tailing reader saw exactly the acknowledged log"
        );
    }
    assert_eq!(store.last_seq().await.unwrap(), total);
    // The log as stored maps each seq to the commit that received it.
    let all = store
        .events(&EventQuery {
            scope: EventScope::All,
            after: 0,
            limit: usize::MAX,
        })
        .await
        .unwrap();
    let by_seq: BTreeMap<u64, Option<TaskId>> = all.iter().map(|e| (e.seq, e.task_id)).collect();
    assert_eq!(by_seq.into_iter().collect::<Vec<_>>(), acknowledged);
}
