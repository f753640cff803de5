//! Cases that talk to the store directly: the contract written on [`Store`].

use std::collections::HashMap;
use std::sync::Arc;

use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::event::{EventKind, EventQuery, EventScope, NewEvent};
use crate::ids::*;
use crate::model::*;
use crate::query::{
    CmpOp, DateField, SortField, TaskCursor, TaskFilter, TaskQuery, TaskScope, TaskSort,
};
use crate::store::{
    Commit, Expected, Record, RecordKey, Store, StoreError, TaskWithContext, Write,
};

const T0: OffsetDateTime = datetime!(2026-11-02 09:00 UTC);

fn id() -> Uuid {
    Uuid::now_v7()
}

fn user(email: &str) -> User {
    User {
        id: UserId(id()),
        email: email.to_owned(),
        name: email.split('@').next().unwrap_or("x").to_owned(),
        password_hash: "x".into(),
        is_server_admin: false,
        disabled: false,
        created_at: T0,
        version: 1,
    }
}

fn workspace() -> Workspace {
    Workspace {
        id: WorkspaceId(id()),
        name: "W".into(),
        created_at: T0,
        version: 1,
    }
}

fn project(ws: WorkspaceId, key: &str) -> Project {
    Project {
        id: ProjectId(id()),
        workspace_id: ws,
        key: key.into(),
        name: key.into(),
        description: String::new(),
        archived: false,
        is_template: false,
        deleted_at: None,
        created_at: T0,
        updated_at: T0,
        version: 1,
    }
}

fn task(p: &Project, number: u64, status: StatusId, reporter: UserId) -> Task {
    Task {
        id: TaskId(id()),
        workspace_id: p.workspace_id,
        project_id: p.id,
        number,
        title: format!("Task {number}"),
        description: String::new(),
        status_id: status,
        priority: Priority::None,
        assignee_ids: vec![],
        reporter_id: reporter,
        label_ids: vec![],
        milestone_id: None,
        due_at: None,
        start_at: None,
        estimate_seconds: None,
        parent_id: None,
        position: format!("a{number:08}V"),
        completed_at: None,
        started_at: None,
        deleted_at: None,
        created_at: T0 + time::Duration::seconds(number as i64),
        updated_at: T0,
        version: 1,
    }
}

fn event(ws: WorkspaceId, p: Option<ProjectId>, t: Option<TaskId>, actor: UserId) -> NewEvent {
    NewEvent {
        at: T0,
        actor_id: actor,
        workspace_id: ws,
        project_id: p,
        task_id: t,
        kind: EventKind::ProjectArchived,
    }
}

async fn commit_ok<S: Store>(store: &S, commit: Commit) -> Vec<u64> {
    store
        .commit(commit)
        .await
        .expect("commit should succeed")
        .seqs
}

/// A workspace with a user and a project, committed.
async fn base<S: Store>(store: &S) -> (User, Workspace, Project) {
    let u = user("base@example.com");
    let w = workspace();
    let p = project(w.id, "BASE");
    let mut c = Commit::new();
    c.insert(Record::User(u.clone()))
        .insert(Record::Workspace(w.clone()))
        .insert(Record::Project(p.clone()));
    commit_ok(store, c).await;
    (u, w, p)
}

fn all_tasks(p: ProjectId) -> TaskQuery {
    TaskQuery {
        scope: TaskScope::Project(p),
        filter: TaskFilter::True,
        sort: TaskSort::default(),
        after: None,
        limit: usize::MAX,
        trashed: false,
    }
}

/// A commit whose last write fails applies none of its writes and appends none of its events.
pub async fn store_commit_is_atomic<S: Store>(store: S) {
    let (u, w, p) = base(&store).await;
    let before = store.last_seq().await.unwrap();
    let status = StatusId(id());
    let t1 = task(&p, 1, status, u.id);
    let mut stale_project = p.clone();
    stale_project.name = "renamed".into();
    stale_project.version = 8;
    let mut c = Commit::new();
    c.insert(Record::Task(t1.clone()))
        .insert(Record::User(user("second@example.com")))
        .update(Record::Project(stale_project), 7)
        .event(event(w.id, Some(p.id), Some(t1.id), u.id));
    let err = store
        .commit(c)
        .await
        .expect_err("a stale write must fail the commit");
    assert!(matches!(err, StoreError::VersionConflict { .. }), "{err:?}");
    assert_eq!(
        store.task(t1.id).await.unwrap(),
        None,
        "no write may survive"
    );
    assert_eq!(
        store.user_by_email("second@example.com").await.unwrap(),
        None
    );
    assert_eq!(store.project(p.id).await.unwrap().unwrap().name, "BASE");
    assert_eq!(
        store.last_seq().await.unwrap(),
        before,
        "no event may survive"
    );

    // A uniqueness failure in the middle also leaves nothing.
    let mut c = Commit::new();
    c.insert(Record::Task(t1.clone()))
        .insert(Record::User(user("BASE@example.com")))
        .event(event(w.id, Some(p.id), None, u.id));
    let err = store
        .commit(c)
        .await
        .expect_err("a duplicate e-mail must fail");
    assert!(
        matches!(err, StoreError::Duplicate { ref field, .. } if field == "email"),
        "{err:?}"
    );
    assert_eq!(store.task(t1.id).await.unwrap(), None);
    assert_eq!(store.last_seq().await.unwrap(), before);

    // Deleting with Expected::Absent is meaningless and fails.
    let mut c = Commit::new();
    c.writes.push(Write::Delete {
        key: RecordKey::Project(p.id),
        expected: Expected::Absent,
    });
    assert!(store.commit(c).await.is_err());
    assert!(store.project(p.id).await.unwrap().is_some());
}

/// Every kind of expectation is checked: absent, exact version, exists.
pub async fn store_rejects_stale_versions<S: Store>(store: S) {
    let (u, _, p) = base(&store).await;
    // Absent when present.
    let mut c = Commit::new();
    c.insert(Record::Project(p.clone()));
    assert!(matches!(
        store.commit(c).await,
        Err(StoreError::VersionConflict { .. })
    ));
    // Exact version, right and wrong.
    let mut renamed = p.clone();
    renamed.name = "v2".into();
    renamed.version = 2;
    let mut c = Commit::new();
    c.update(Record::Project(renamed.clone()), 1);
    commit_ok(&store, c).await;
    let mut c = Commit::new();
    c.update(Record::Project(renamed.clone()), 1);
    assert!(matches!(
        store.commit(c).await,
        Err(StoreError::VersionConflict { .. })
    ));
    assert_eq!(store.project(p.id).await.unwrap().unwrap(), renamed);
    // Exists, for a missing record.
    let ghost = user("ghost@example.com");
    let mut c = Commit::new();
    c.writes.push(Write::Put {
        record: Record::User(ghost.clone()),
        expected: Expected::Exists,
    });
    assert!(matches!(
        store.commit(c).await,
        Err(StoreError::VersionConflict { .. })
    ));
    // Exists, for a present record, whatever its version.
    let mut touched = u.clone();
    touched.name = "touched".into();
    touched.version = 2;
    let mut c = Commit::new();
    c.writes.push(Write::Put {
        record: Record::User(touched.clone()),
        expected: Expected::Exists,
    });
    commit_ok(&store, c).await;
    assert_eq!(store.user(u.id).await.unwrap().unwrap(), touched);
    // Delete with a stale version fails; with the current one succeeds.
    let mut c = Commit::new();
    c.delete(RecordKey::Project(p.id), 1);
    assert!(store.commit(c).await.is_err());
    let mut c = Commit::new();
    c.delete(RecordKey::Project(p.id), 2);
    commit_ok(&store, c).await;
    assert_eq!(store.project(p.id).await.unwrap(), None);
}

/// Of two commits expecting the same version of one task, exactly one succeeds and the other
/// gets a version conflict; the survivor's write is what is stored.
pub async fn store_concurrent_commits_on_one_record_one_wins<S: Store>(store: S) {
    let store = Arc::new(store);
    let (u, _, p) = base(&*store).await;
    let status = StatusId(id());
    for round in 0..20u64 {
        let t = task(&p, round + 1, status, u.id);
        let mut c = Commit::new();
        c.insert(Record::Task(t.clone()));
        commit_ok(&*store, c).await;
        let mut handles = Vec::new();
        for writer in 0..2 {
            let store = Arc::clone(&store);
            let mut changed = t.clone();
            changed.title = format!("writer {writer}");
            changed.version = 2;
            handles.push(tokio::spawn(async move {
                let mut c = Commit::new();
                c.update(Record::Task(changed.clone()), 1);
                (store.commit(c).await, changed)
            }));
        }
        let mut wins = Vec::new();
        let mut conflicts = 0;
        for h in handles {
            let (result, changed) = h.await.expect("writer task");
            match result {
                Ok(_) => wins.push(changed),
                Err(StoreError::VersionConflict { .. }) => conflicts += 1,
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        assert_eq!(wins.len(), 1, "exactly one writer wins");
        assert_eq!(conflicts, 1, "the other gets a conflict");
        assert_eq!(store.task(t.id).await.unwrap().unwrap(), wins[0]);
    }
}

/// E-mail (ignoring case), project key per workspace, task number per project, label name per
/// project (ignoring case) and token hash are unique; a freed value can be taken again.
pub async fn store_enforces_uniqueness<S: Store>(store: S) {
    let (u, w, p) = base(&store).await;
    let dup = |field: &str, r: Result<_, StoreError>| {
        assert!(
            matches!(&r, Err(StoreError::Duplicate { field: f, .. }) if f == field),
            "expected duplicate {field}, got {r:?}"
        );
    };
    let mut c = Commit::new();
    c.insert(Record::User(user("Base@Example.COM")));
    dup("email", store.commit(c).await);

    let mut c = Commit::new();
    c.insert(Record::Project(project(w.id, "BASE")));
    dup("key", store.commit(c).await);
    // The same key in another workspace is fine.
    let w2 = workspace();
    let mut c = Commit::new();
    c.insert(Record::Workspace(w2.clone()))
        .insert(Record::Project(project(w2.id, "BASE")));
    commit_ok(&store, c).await;

    let status = StatusId(id());
    let mut c = Commit::new();
    c.insert(Record::Task(task(&p, 1, status, u.id)));
    commit_ok(&store, c).await;
    let mut c = Commit::new();
    c.insert(Record::Task(task(&p, 1, status, u.id)));
    dup("number", store.commit(c).await);

    let label = Label {
        id: LabelId(id()),
        project_id: p.id,
        name: "Bug".into(),
        color: None,
        version: 1,
    };
    let mut c = Commit::new();
    c.insert(Record::Label(label.clone()));
    commit_ok(&store, c).await;
    let mut c = Commit::new();
    c.insert(Record::Label(Label {
        id: LabelId(id()),
        name: "bug".into(),
        ..label.clone()
    }));
    dup("label", store.commit(c).await);
    // Renaming frees the old name.
    let mut renamed = label.clone();
    renamed.name = "Defect".into();
    renamed.version = 2;
    let mut c = Commit::new();
    c.update(Record::Label(renamed), 1);
    commit_ok(&store, c).await;
    let mut c = Commit::new();
    c.insert(Record::Label(Label {
        id: LabelId(id()),
        name: "bug".into(),
        ..label.clone()
    }));
    commit_ok(&store, c).await;

    let token = ApiToken {
        id: TokenId(id()),
        user_id: u.id,
        name: "t".into(),
        kind: TokenKind::Personal,
        secret_hash: "abc".into(),
        prefix: "tl_abc".into(),
        scopes: vec![TokenScope::Read],
        created_at: T0,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
        version: 1,
    };
    let mut c = Commit::new();
    c.insert(Record::Token(token.clone()));
    commit_ok(&store, c).await;
    let mut c = Commit::new();
    c.insert(Record::Token(ApiToken {
        id: TokenId(id()),
        ..token.clone()
    }));
    dup("token", store.commit(c).await);
    assert_eq!(store.token_by_hash("abc").await.unwrap(), Some(token));
}

/// Many concurrent writers and a concurrent reader tailing the log: the reader sees every seq
/// exactly once, in order, without gaps, and the final log holds them all.
pub async fn store_log_order_under_concurrent_commits<S: Store>(store: S) {
    let store = Arc::new(store);
    let (u, w, p) = base(&*store).await;
    let start = store.last_seq().await.unwrap();
    const WRITERS: u64 = 16;
    const COMMITS: u64 = 25;
    let total = WRITERS * COMMITS * 2;
    let reader = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut last = start;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while (seen.len() as u64) < total && std::time::Instant::now() < deadline {
                let batch = store
                    .events(&EventQuery {
                        scope: EventScope::All,
                        after: last,
                        limit: 100,
                    })
                    .await
                    .expect("tail the log");
                if batch.is_empty() {
                    tokio::task::yield_now().await;
                    continue;
                }
                for e in batch {
                    assert_eq!(e.seq, last + 1, "the tail skipped or repeated a seq");
                    last = e.seq;
                    seen.push(e.seq);
                }
            }
            seen
        })
    };
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let store = Arc::clone(&store);
        let (uid, wid, pid) = (u.id, w.id, p.id);
        writers.push(tokio::spawn(async move {
            let mut receipts = Vec::new();
            for _ in 0..COMMITS {
                let mut c = Commit::new();
                c.event(event(wid, Some(pid), None, uid))
                    .event(event(wid, Some(pid), None, uid));
                let seqs = store.commit(c).await.expect("commit").seqs;
                assert_eq!(seqs.len(), 2);
                assert_eq!(seqs[1], seqs[0] + 1, "a commit's events are consecutive");
                receipts.extend(seqs);
            }
            receipts
        }));
    }
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.expect("writer"));
    }
    let seen = reader.await.expect("reader");
    acknowledged.sort_unstable();
    let expected: Vec<u64> = (start + 1..=start + total).collect();
    assert_eq!(acknowledged, expected, "receipts cover every seq once");
    assert_eq!(
        seen, expected,
        "the tailing reader saw every seq once, in order"
    );
    assert_eq!(store.last_seq().await.unwrap(), start + total);
}

/// Event reads honour scope, `after` and `limit`, oldest first.
pub async fn store_event_scopes<S: Store>(store: S) {
    let (u, w, p) = base(&store).await;
    let w2 = workspace();
    let p2 = project(w2.id, "TWO");
    let t = TaskId(id());
    let mut c = Commit::new();
    c.insert(Record::Workspace(w2.clone()))
        .insert(Record::Project(p2.clone()))
        .event(event(w.id, None, None, u.id))
        .event(event(w.id, Some(p.id), None, u.id))
        .event(event(w.id, Some(p.id), Some(t), u.id))
        .event(event(w2.id, Some(p2.id), None, u.id));
    let seqs = commit_ok(&store, c).await;
    assert_eq!(seqs.len(), 4);
    let read = |scope, after, limit| {
        let store = &store;
        async move {
            store
                .events(&EventQuery {
                    scope,
                    after,
                    limit,
                })
                .await
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(read(EventScope::All, 0, 100).await, seqs);
    assert_eq!(read(EventScope::Workspace(w.id), 0, 100).await, seqs[..3]);
    assert_eq!(read(EventScope::Workspace(w2.id), 0, 100).await, seqs[3..]);
    assert_eq!(read(EventScope::Project(p.id), 0, 100).await, seqs[1..3]);
    assert_eq!(read(EventScope::Task(t), 0, 100).await, seqs[2..3]);
    assert_eq!(read(EventScope::All, seqs[1], 100).await, seqs[2..]);
    assert_eq!(read(EventScope::All, 0, 2).await, seqs[..2]);
    assert_eq!(read(EventScope::All, seqs[3], 100).await, Vec::<u64>::new());
    let events = store
        .events(&EventQuery {
            scope: EventScope::Task(t),
            after: 0,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(events[0].kind, EventKind::ProjectArchived);
    assert_eq!(events[0].workspace_id, w.id);
    assert_eq!(events[0].actor_id, u.id);
    assert_eq!(events[0].at, T0);
}

/// Every read returns what was written, and list reads use their documented order.
pub async fn store_reads_and_list_orders<S: Store>(store: S) {
    let (u, w, p) = base(&store).await;
    let u2 = User {
        created_at: T0 + time::Duration::seconds(5),
        ..user("zed@example.com")
    };
    let m1 = Membership {
        workspace_id: w.id,
        user_id: u.id,
        role: Role::Owner,
        created_at: T0,
        version: 1,
    };
    let m2 = Membership {
        workspace_id: w.id,
        user_id: u2.id,
        role: Role::Guest,
        created_at: T0 + time::Duration::seconds(1),
        version: 1,
    };
    let status = StatusId(id());
    let flow = Workflow {
        project_id: p.id,
        statuses: vec![Status {
            id: status,
            name: "Todo".into(),
            category: StatusCategory::Unstarted,
            color: Some("#ffffff".into()),
        }],
        transitions: Some(vec![Transition {
            from: status,
            to: status,
            roles: vec![Role::Admin],
            conditions: vec![TransitionCondition::HasAssignee],
        }]),
        version: 1,
    };
    let counter = TaskCounter {
        project_id: p.id,
        last_number: 3,
        version: 1,
    };
    let parent = task(&p, 1, status, u.id);
    let mut child_b = task(&p, 3, status, u.id);
    child_b.parent_id = Some(parent.id);
    let mut child_a = task(&p, 2, status, u.id);
    child_a.parent_id = Some(parent.id);
    child_a.due_at = Some(T0);
    child_a.description = "details — ünïcödé".into();
    child_a.assignee_ids = vec![u.id, u2.id];
    let dep = Dependency {
        task_id: child_a.id,
        blocker_id: parent.id,
        workspace_id: w.id,
        created_at: T0,
        version: 1,
    };
    let labels = [("beta", None), ("Alpha", Some("#000000".to_owned()))].map(|(n, c)| Label {
        id: LabelId(id()),
        project_id: p.id,
        name: n.into(),
        color: c,
        version: 1,
    });
    let milestones = [
        ("later", None),
        ("v2", Some(time::macros::date!(2027 - 02 - 01))),
        ("v1", Some(time::macros::date!(2027 - 01 - 01))),
    ]
    .map(|(n, d)| Milestone {
        id: MilestoneId(id()),
        project_id: p.id,
        name: n.into(),
        due_on: d,
        closed: false,
        version: 1,
    });
    let comments = [2, 1].map(|s| Comment {
        id: CommentId(id()),
        task_id: parent.id,
        workspace_id: w.id,
        author_id: u.id,
        parent_id: None,
        body: format!("comment {s}"),
        mentions: vec![u2.id],
        revisions: vec![CommentRevision {
            body: "old".into(),
            replaced_at: T0,
        }],
        deleted_at: None,
        created_at: T0 + time::Duration::seconds(s),
        updated_at: T0,
        version: 1,
    });
    let tokens = [2, 1].map(|s| ApiToken {
        id: TokenId(id()),
        user_id: u.id,
        name: format!("t{s}"),
        kind: TokenKind::Session,
        secret_hash: format!("hash{s}"),
        prefix: "tl_".into(),
        scopes: vec![TokenScope::Read, TokenScope::Write],
        created_at: T0 + time::Duration::seconds(s),
        expires_at: Some(T0 + time::Duration::days(1)),
        last_used_at: None,
        revoked_at: None,
        version: 1,
    });
    let mut c = Commit::new();
    c.insert(Record::User(u2.clone()))
        .insert(Record::Membership(m2.clone()))
        .insert(Record::Membership(m1.clone()))
        .insert(Record::Workflow(flow.clone()))
        .insert(Record::TaskCounter(counter.clone()))
        .insert(Record::Task(child_b.clone()))
        .insert(Record::Task(parent.clone()))
        .insert(Record::Task(child_a.clone()))
        .insert(Record::Dependency(dep.clone()));
    for l in &labels {
        c.insert(Record::Label(l.clone()));
    }
    for m in &milestones {
        c.insert(Record::Milestone(m.clone()));
    }
    for cm in &comments {
        c.insert(Record::Comment(cm.clone()));
    }
    for t in &tokens {
        c.insert(Record::Token(t.clone()));
    }
    commit_ok(&store, c).await;

    assert_eq!(store.user(u2.id).await.unwrap(), Some(u2.clone()));
    assert_eq!(
        store.user_by_email("ZED@example.com").await.unwrap(),
        Some(u2.clone())
    );
    assert_eq!(
        store.users(&[u2.id, UserId(id()), u.id]).await.unwrap(),
        vec![u2.clone(), u.clone()]
    );
    assert_eq!(store.user_count().await.unwrap(), 2);
    assert_eq!(store.workspace(w.id).await.unwrap(), Some(w.clone()));
    assert_eq!(
        store.membership(w.id, u2.id).await.unwrap(),
        Some(m2.clone())
    );
    assert_eq!(
        store.members_of_workspace(w.id).await.unwrap(),
        vec![m1.clone(), m2.clone()]
    );
    assert_eq!(
        store.project_with_membership(p.id, u2.id).await.unwrap(),
        Some((p.clone(), Some(m2.clone())))
    );
    assert_eq!(
        store
            .project_with_membership(p.id, UserId(id()))
            .await
            .unwrap(),
        Some((p.clone(), None))
    );
    assert_eq!(
        store
            .project_with_membership(ProjectId(id()), u2.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.memberships_of_user(u2.id).await.unwrap(),
        vec![m2.clone()]
    );
    assert_eq!(
        store.project_by_key(w.id, "BASE").await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(store.project_by_key(w.id, "base").await.unwrap(), None);
    assert_eq!(
        store.projects_by_key("BASE").await.unwrap(),
        vec![p.clone()]
    );
    assert_eq!(
        store.projects_of_workspace(w.id).await.unwrap(),
        vec![p.clone()]
    );
    assert_eq!(store.workflow(p.id).await.unwrap(), Some(flow));
    assert_eq!(store.task_counter(p.id).await.unwrap(), Some(counter));
    assert_eq!(store.task(child_a.id).await.unwrap(), Some(child_a.clone()));
    assert_eq!(
        store.task_by_number(p.id, 3).await.unwrap(),
        Some(child_b.clone())
    );
    assert_eq!(store.task_by_number(p.id, 4).await.unwrap(), None);
    assert_eq!(
        store.subtasks(parent.id).await.unwrap(),
        vec![child_a.clone(), child_b.clone()]
    );
    assert_eq!(
        store.blockers_of(child_a.id).await.unwrap(),
        vec![dep.clone()]
    );
    assert_eq!(
        store.blocked_by(parent.id).await.unwrap(),
        vec![dep.clone()]
    );
    assert_eq!(store.blockers_of(parent.id).await.unwrap(), vec![]);
    assert_eq!(
        store.task_with_context(child_a.id, u2.id).await.unwrap(),
        Some(TaskWithContext {
            task: child_a.clone(),
            project: Some(p.clone()),
            membership: Some(m2.clone()),
            blockers: vec![dep.clone()],
        }),
        "a task with its project, the reader's membership and its blockers"
    );
    assert_eq!(
        store
            .task_with_context(parent.id, UserId(id()))
            .await
            .unwrap(),
        Some(TaskWithContext {
            task: parent.clone(),
            project: Some(p.clone()),
            membership: None,
            blockers: vec![],
        }),
        "an outsider has no membership; a task without blockers has no edges"
    );
    assert_eq!(
        store.task_with_context(TaskId(id()), u2.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .blockers_of_tasks(&[parent.id, child_a.id, child_b.id])
            .await
            .unwrap(),
        vec![dep.clone()],
        "blockers of several tasks in one read"
    );
    assert_eq!(store.blockers_of_tasks(&[]).await.unwrap(), vec![]);
    let got_labels = store.labels_of_project(p.id).await.unwrap();
    assert_eq!(
        got_labels,
        vec![labels[1].clone(), labels[0].clone()],
        "labels by name ignoring case"
    );
    assert_eq!(
        store.label(labels[0].id).await.unwrap(),
        Some(labels[0].clone())
    );
    let got_ms = store.milestones_of_project(p.id).await.unwrap();
    assert_eq!(
        got_ms,
        vec![
            milestones[2].clone(),
            milestones[1].clone(),
            milestones[0].clone()
        ],
        "by due day, none last"
    );
    assert_eq!(
        store.milestone(milestones[1].id).await.unwrap(),
        Some(milestones[1].clone())
    );
    assert_eq!(
        store.comments_of_task(parent.id).await.unwrap(),
        vec![comments[1].clone(), comments[0].clone()]
    );
    assert_eq!(
        store.comment(comments[0].id).await.unwrap(),
        Some(comments[0].clone())
    );
    assert_eq!(
        store.tokens_of_user(u.id).await.unwrap(),
        vec![tokens[1].clone(), tokens[0].clone()]
    );
    assert_eq!(
        store.token(tokens[0].id).await.unwrap(),
        Some(tokens[0].clone())
    );
    assert_eq!(
        store.token_by_hash("hash1").await.unwrap(),
        Some(tokens[1].clone())
    );
    assert_eq!(
        store.token_with_user("hash1").await.unwrap(),
        Some((tokens[1].clone(), Some(u.clone())))
    );
    assert_eq!(store.token_with_user("no such hash").await.unwrap(), None);
    // Unknown ids read as None.
    assert_eq!(store.task(TaskId(id())).await.unwrap(), None);
    assert_eq!(store.project(ProjectId(id())).await.unwrap(), None);
    assert_eq!(store.workflow(ProjectId(id())).await.unwrap(), None);
}

/// A deterministic pseudo-random generator, so that cases need no extra dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Population {
    project: Project,
    other: Project,
    tasks: Vec<Task>,
    statuses: Vec<StatusId>,
    users: Vec<UserId>,
    labels: Vec<LabelId>,
    milestones: Vec<MilestoneId>,
}

/// Commits 240 varied tasks over two projects of one workspace.
async fn populate<S: Store>(store: &S) -> Population {
    let (u, w, p) = base(store).await;
    let other = project(w.id, "OTHER");
    let mut c = Commit::new();
    c.insert(Record::Project(other.clone()));
    commit_ok(store, c).await;
    let mut rng = Lcg(42);
    let statuses: Vec<StatusId> = (0..4).map(|_| StatusId(id())).collect();
    let users: Vec<UserId> = vec![u.id, UserId(id()), UserId(id())];
    let labels: Vec<LabelId> = (0..3).map(|_| LabelId(id())).collect();
    let milestones: Vec<MilestoneId> = (0..2).map(|_| MilestoneId(id())).collect();
    let words = [
        "Login page",
        "crash on save",
        "Über-cache",
        "Docs",
        "login PAGE flow",
        "Perf",
    ];
    let mut tasks = Vec::new();
    for n in 1..=240u64 {
        let proj = if n % 5 == 0 { &other } else { &p };
        let mut t = task(
            proj,
            n,
            statuses[rng.below(4) as usize],
            users[rng.below(3) as usize],
        );
        t.title = format!("{} {n}", words[rng.below(words.len() as u64) as usize]);
        if rng.below(3) == 0 {
            t.description = "Steps: open the Login page and wait".into();
        }
        t.priority = Priority::ALL[rng.below(5) as usize];
        for _ in 0..rng.below(3) {
            let a = users[rng.below(3) as usize];
            if !t.assignee_ids.contains(&a) {
                t.assignee_ids.push(a);
            }
        }
        for _ in 0..rng.below(3) {
            let l = labels[rng.below(3) as usize];
            if !t.label_ids.contains(&l) {
                t.label_ids.push(l);
            }
        }
        if rng.below(2) == 0 {
            t.milestone_id = Some(milestones[rng.below(2) as usize]);
        }
        if rng.below(3) > 0 {
            t.due_at = Some(T0 + time::Duration::hours(rng.below(400) as i64 - 200));
        }
        if rng.below(4) == 0 {
            t.start_at = Some(T0 - time::Duration::hours(rng.below(100) as i64));
        }
        if rng.below(4) == 0 {
            t.estimate_seconds = Some(rng.below(10_000));
        }
        if rng.below(10) == 0 {
            t.completed_at = Some(T0 + time::Duration::minutes(rng.below(1000) as i64));
        }
        if n > 10 && rng.below(6) == 0 {
            let parent = &tasks[rng.below(tasks.len() as u64) as usize];
            let parent: &Task = parent;
            if parent.project_id == t.project_id {
                t.parent_id = Some(parent.id);
            }
        }
        if rng.below(12) == 0 {
            t.deleted_at = Some(T0);
        }
        // Repeated sort values exercise the id tie-break.
        t.updated_at = T0 + time::Duration::minutes(rng.below(20) as i64);
        t.position = format!("a{:03}V", rng.below(50));
        tasks.push(t);
    }
    for chunk in tasks.chunks(60) {
        let mut c = Commit::new();
        for t in chunk {
            c.insert(Record::Task(t.clone()));
        }
        commit_ok(store, c).await;
    }
    Population {
        project: p,
        other,
        tasks,
        statuses,
        users,
        labels,
        milestones,
    }
}

fn filters(pop: &Population) -> Vec<TaskFilter> {
    use TaskFilter as F;
    let s = &pop.statuses;
    let u = &pop.users;
    vec![
        F::True,
        F::StatusIn(vec![s[0], s[2]]),
        F::StatusIn(vec![]),
        F::AssigneeIn(vec![u[1]]),
        F::Not(Box::new(F::HasAssignee)),
        F::ReporterIn(vec![u[0], u[2]]),
        F::LabelIn(vec![pop.labels[0], pop.labels[2]]),
        F::Not(Box::new(F::HasLabel)),
        F::MilestoneIn(vec![pop.milestones[1]]),
        F::Not(Box::new(F::HasMilestone)),
        F::PriorityIn(vec![Priority::High, Priority::Urgent]),
        F::PriorityCmp(CmpOp::Ge, Priority::Medium),
        F::PriorityCmp(CmpOp::Lt, Priority::Low),
        F::PriorityCmp(CmpOp::Eq, Priority::None),
        F::DateCmp(DateField::Due, CmpOp::Lt, T0),
        F::DateCmp(DateField::Due, CmpOp::Ge, T0),
        F::Not(Box::new(F::DateCmp(DateField::Due, CmpOp::Lt, T0))),
        F::DateCmp(
            DateField::Created,
            CmpOp::Gt,
            T0 + time::Duration::seconds(100),
        ),
        F::DateCmp(
            DateField::Updated,
            CmpOp::Le,
            T0 + time::Duration::minutes(5),
        ),
        F::DateCmp(DateField::Completed, CmpOp::Ge, T0),
        F::DateCmp(DateField::Start, CmpOp::Eq, T0),
        F::HasDate(DateField::Start),
        F::HasEstimate,
        F::HasParent,
        F::ParentIs(pop.tasks[3].id),
        F::Text("login page".into()),
        F::Text("ÜBER".into()),
        F::Text("%".into()),
        F::Text("_".into()),
        F::And(vec![
            F::StatusIn(vec![s[1]]),
            F::AssigneeIn(vec![u[0], u[2]]),
        ]),
        F::Or(vec![
            F::LabelIn(vec![pop.labels[1]]),
            F::PriorityIn(vec![Priority::Urgent]),
        ]),
        F::And(vec![]),
        F::Or(vec![]),
        F::Not(Box::new(F::Or(vec![
            F::HasAssignee,
            F::Text("docs".into()),
        ]))),
    ]
}

fn sorts() -> Vec<TaskSort> {
    let mut out = Vec::new();
    for field in [
        SortField::Created,
        SortField::Updated,
        SortField::Due,
        SortField::Priority,
        SortField::Position,
        SortField::Title,
    ] {
        for descending in [false, true] {
            out.push(TaskSort { field, descending });
        }
    }
    out
}

fn reference(pop: &Population, query: &TaskQuery) -> Vec<Task> {
    let mut hits: Vec<Task> = pop
        .tasks
        .iter()
        .filter(|t| query.matches(t))
        .filter(|t| {
            query
                .after
                .as_ref()
                .is_none_or(|c| query.sort.is_after(t, c))
        })
        .cloned()
        .collect();
    hits.sort_by(|a, b| query.sort.compare_tasks(a, b));
    hits.truncate(query.limit);
    hits
}

/// For every filter and sort order, the store returns exactly what the reference evaluator
/// returns over the same tasks, whole and page by page.
pub async fn store_tasks_match_reference_evaluator<S: Store>(store: S) {
    let pop = populate(&store).await;
    let scopes = [
        TaskScope::Project(pop.project.id),
        TaskScope::Projects(pop.project.workspace_id, vec![pop.project.id, pop.other.id]),
    ];
    for filter in filters(&pop) {
        for scope in &scopes {
            for trashed in [false, true] {
                let query = TaskQuery {
                    scope: scope.clone(),
                    filter: filter.clone(),
                    sort: TaskSort::default(),
                    after: None,
                    limit: usize::MAX,
                    trashed,
                };
                let got = store.tasks(&query).await.expect("query");
                let want = reference(&pop, &query);
                assert_eq!(
                    got.iter().map(|t| t.number).collect::<Vec<_>>(),
                    want.iter().map(|t| t.number).collect::<Vec<_>>(),
                    "filter {filter:?}, scope {scope:?}, trashed {trashed}"
                );
                assert_eq!(got, want);
            }
        }
    }
    // Every sort order, paged by 7 with cursors, over a selective filter and over all.
    for filter in [
        TaskFilter::True,
        TaskFilter::StatusIn(vec![pop.statuses[1], pop.statuses[3]]),
    ] {
        for sort in sorts() {
            let mut query = TaskQuery {
                scope: scopes[1].clone(),
                filter: filter.clone(),
                sort,
                after: None,
                limit: 7,
                trashed: false,
            };
            let whole = reference(
                &pop,
                &TaskQuery {
                    limit: usize::MAX,
                    ..query.clone()
                },
            );
            let mut paged = Vec::new();
            loop {
                let page = store.tasks(&query).await.expect("page");
                assert_eq!(
                    page,
                    reference(&pop, &query),
                    "page of {sort:?} after {:?}",
                    query.after
                );
                let Some(last) = page.last() else { break };
                query.after = Some(sort.cursor_of(last));
                paged.extend(page);
            }
            assert_eq!(
                paged, whole,
                "pages of {sort:?} concatenate to the whole list"
            );
        }
    }
    // Limit 0 returns nothing; a cursor past the end returns nothing.
    let mut q = all_tasks(pop.project.id);
    q.limit = 0;
    assert!(store.tasks(&q).await.unwrap().is_empty());
    q.limit = 10;
    q.after = Some(TaskCursor {
        value: crate::query::SortValue::Int(i128::MAX),
        id: TaskId(Uuid::max()),
    });
    assert!(store.tasks(&q).await.unwrap().is_empty());
}

/// Keyset pagination: tasks inserted while paging (before or after the cursor) never make a
/// page repeat or skip a task that existed when paging began.
pub async fn store_pagination_is_stable_under_inserts<S: Store>(store: S) {
    let (u, _, p) = base(&store).await;
    let status = StatusId(id());
    let mut originals = Vec::new();
    let mut c = Commit::new();
    for n in 1..=30u64 {
        let mut t = task(&p, n, status, u.id);
        t.due_at = Some(T0 + time::Duration::hours(n as i64 * 2));
        originals.push(t.clone());
        c.insert(Record::Task(t));
    }
    commit_ok(&store, c).await;
    for sort in [
        TaskSort {
            field: SortField::Due,
            descending: false,
        },
        TaskSort {
            field: SortField::Created,
            descending: true,
        },
    ] {
        let mut query = TaskQuery {
            scope: TaskScope::Project(p.id),
            filter: TaskFilter::True,
            sort,
            after: None,
            limit: 4,
            trashed: false,
        };
        let mut seen: Vec<TaskId> = Vec::new();
        let mut next_number = if sort.descending { 2000 } else { 1000 };
        let mut pages = 0;
        loop {
            let page = store.tasks(&query).await.unwrap();
            let Some(last) = page.last() else { break };
            query.after = Some(sort.cursor_of(last));
            seen.extend(page.iter().map(|t| t.id));
            pages += 1;
            if pages > 5 {
                // Inserting after the cursor on every page would never let paging end.
                continue;
            }
            // Insert one task that sorts before the cursor and one that sorts after it.
            let mut c = Commit::new();
            for offset in [-1i64, 1] {
                next_number += 1;
                let mut t = task(&p, next_number, status, u.id);
                t.due_at = last.due_at.map(|d| d + time::Duration::minutes(offset));
                t.created_at = last.created_at + time::Duration::milliseconds(offset);
                c.insert(Record::Task(t));
            }
            commit_ok(&store, c).await;
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no task appears twice ({sort:?})");
        for t in &originals {
            assert!(
                seen.contains(&t.id),
                "task {} was skipped ({sort:?})",
                t.number
            );
        }
        // The original tasks appear in their sorted order.
        let mut sorted = originals.clone();
        sorted.sort_by(|a, b| sort.compare_tasks(a, b));
        let order: Vec<TaskId> = seen
            .iter()
            .filter(|id| originals.iter().any(|t| t.id == **id))
            .copied()
            .collect();
        assert_eq!(order, sorted.iter().map(|t| t.id).collect::<Vec<_>>());
    }
}

/// Status counts equal counting the reference evaluator's matches (trash excluded).
pub async fn store_status_counts_match_reference<S: Store>(store: S) {
    let pop = populate(&store).await;
    for filter in filters(&pop) {
        let got: HashMap<StatusId, u64> = store
            .status_counts(pop.project.id, &filter)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.count > 0)
            .map(|c| (c.status_id, c.count))
            .collect();
        let mut want: HashMap<StatusId, u64> = HashMap::new();
        for t in &pop.tasks {
            if t.project_id == pop.project.id && t.deleted_at.is_none() && filter.matches(t) {
                *want.entry(t.status_id).or_default() += 1;
            }
        }
        assert_eq!(got, want, "filter {filter:?}");
    }
}

/// Concurrent task-number allocations never hand out a number twice, and the counter record
/// remembers the last one; a project without a counter gets none.
pub async fn store_task_numbers_are_handed_out_once<S: Store>(store: S) {
    let store = Arc::new(store);
    let (_, _, p) = base(&*store).await;
    assert_eq!(store.next_task_number(p.id).await.unwrap(), None);
    let mut c = Commit::new();
    c.insert(Record::TaskCounter(TaskCounter {
        project_id: p.id,
        last_number: 5,
        version: 1,
    }));
    commit_ok(&*store, c).await;
    let mut handles = Vec::new();
    for _ in 0..16 {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..20 {
                got.push(
                    store
                        .next_task_number(p.id)
                        .await
                        .unwrap()
                        .expect("a number"),
                );
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("allocator"));
    }
    all.sort_unstable();
    assert_eq!(all, (6..=325).collect::<Vec<u64>>(), "every number once");
    let counter = store.task_counter(p.id).await.unwrap().expect("counter");
    assert_eq!(counter.last_number, 325);
    assert_eq!(counter.version, 321, "each allocation is a new version");
}
