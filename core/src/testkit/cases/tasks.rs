//! Tasks: numbers and keys, validation, field-level history, optimistic versions, concurrent
//! creation, the trash, the subtask tree, dependencies, board moves and lists.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::json;
use time::macros::datetime;
use time::Duration;

use super::support::*;
use crate::engine::{
    Actor, EngineConfig, MemberRef, MoveTask, NewLabel, NewMilestone, NewTask, TaskListRequest,
    TaskPatch, TaskView, TransitionInput, WorkflowInput,
};
use crate::error::{Conflict, Error};
use crate::event::{EventKind, FieldChange};
use crate::ids::{MilestoneId, ProjectId, StatusId, TaskId};
use crate::model::{Priority, Role, StatusCategory};
use crate::store::Store;
use crate::testkit::Fixture;

fn in_status(title: &str, status: StatusId) -> NewTask {
    NewTask {
        title: title.into(),
        status_id: Some(status),
        ..NewTask::default()
    }
}

fn child_of(title: &str, parent: TaskId) -> NewTask {
    NewTask {
        title: title.into(),
        parent_id: Some(parent),
        ..NewTask::default()
    }
}

fn list_request(q: &str, sort: &str) -> TaskListRequest {
    TaskListRequest {
        q: (!q.is_empty()).then(|| q.to_owned()),
        sort: (!sort.is_empty()).then(|| sort.to_owned()),
        limit: Some(200),
        ..TaskListRequest::default()
    }
}

async fn list_keys<S: Store>(
    f: &Fixture<S>,
    actor: &Actor,
    project: ProjectId,
    q: &str,
    sort: &str,
) -> Vec<String> {
    let page = ok(
        f.engine
            .tasks()
            .list(actor, project, list_request(q, sort))
            .await,
        &format!("list q='{q}' sort='{sort}'"),
    );
    assert!(page.next_cursor.is_none(), "one page holds every task");
    page.items.into_iter().map(|t| t.key).collect()
}

async fn version<S: Store>(f: &Fixture<S>, id: TaskId) -> u64 {
    f.engine
        .store()
        .task(id)
        .await
        .expect("read the task")
        .expect("the task exists")
        .version
}

/// Task numbers count up per project and are never reused; keys resolve in any case.
pub async fn tasks_numbers_unique_and_never_reused<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let mut created = Vec::new();
    for i in 1..=5 {
        let t = create_task(e, &f.member, f.project.id, titled(&format!("Task {i}"))).await;
        assert_eq!(t.task.number, i, "numbers count up from 1");
        assert_eq!(t.key, format!("ENG-{i}"));
        created.push(t);
    }
    ok(
        e.tasks().delete(&f.member, &by_key("ENG-5"), None).await,
        "trash the last task",
    );
    not_found(
        e.tasks().get(&f.member, &by_key("ENG-5")).await,
        "a trashed task by key",
    );
    let next = create_task(e, &f.member, f.project.id, titled("After the trash")).await;
    assert_eq!(
        next.task.number, 6,
        "the trashed task's number is not reused"
    );
    assert_eq!(next.key, "ENG-6");
    ok(
        e.tasks().restore(&f.member, &by_key("ENG-5")).await,
        "restore ENG-5 by key",
    );
    let numbers: Vec<u64> = ok(
        e.tasks()
            .list(&f.member, f.project.id, TaskListRequest::default())
            .await,
        "list",
    )
    .items
    .iter()
    .map(|t| t.task.number)
    .collect();
    assert_eq!(numbers, vec![1, 2, 3, 4, 5, 6], "numbers are unique");

    // Keys resolve, ignoring the case of the project key.
    for key in ["ENG-2", "eng-2", "Eng-2"] {
        let t = ok(e.tasks().get(&f.guest, &by_key(key)).await, key);
        assert_eq!(t.task.id, created[1].task.id, "{key} is the second task");
        assert_eq!(t.key, "ENG-2");
    }
    not_found(e.tasks().get(&f.member, &by_key("ENG-99")).await, "ENG-99");
    not_found(e.tasks().get(&f.member, &by_key("ENG-0")).await, "ENG-0");
    not_found(e.tasks().get(&f.member, &by_key("NOPE-1")).await, "NOPE-1");
    assert!(
        "ENG".parse::<crate::engine::TaskRef>().is_err()
            && "ENG-x".parse::<crate::engine::TaskRef>().is_err(),
        "malformed keys do not parse"
    );

    // Another project counts on its own.
    let ops = f.project_named("OPS").await;
    let first = create_task(e, &f.member, ops.id, titled("Ops 1")).await;
    assert_eq!(first.key, "OPS-1");
    let eng7 = create_task(e, &f.member, f.project.id, titled("Seven")).await;
    assert_eq!(eng7.key, "ENG-7", "projects do not share numbers");
}

/// Task keys are unique within a workspace only: a key resolves in whichever of the caller's
/// workspaces has a task with that number, and a key that names tasks in two of them is refused
/// as ambiguous (the id still works).
pub async fn tasks_keys_resolve_across_workspaces<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let eng1 = create_task(e, &f.member, f.project.id, titled("Ours 1")).await;
    let eng2 = create_task(e, &f.member, f.project.id, titled("Ours 2")).await;
    // The outsider's workspace gets a project with the same key and one task, and the member
    // joins it.
    let theirs = ok(
        e.projects()
            .create(
                &f.outsider,
                f.other_workspace.id,
                crate::engine::NewProject {
                    key: "ENG".into(),
                    name: "Theirs".into(),
                    ..crate::engine::NewProject::default()
                },
            )
            .await,
        "a project ENG in the other workspace",
    );
    let their1 = create_task(e, &f.outsider, theirs.id, titled("Theirs 1")).await;
    assert_eq!(their1.key, "ENG-1");
    ok(
        e.workspaces()
            .add_member(
                &f.outsider,
                f.other_workspace.id,
                MemberRef::Id(f.member.user_id),
                Role::Member,
            )
            .await,
        "the member joins the other workspace",
    );
    // ENG-2 exists in one workspace only: found, whichever project comes first.
    let got = ok(e.tasks().get(&f.member, &by_key("ENG-2")).await, "ENG-2");
    assert_eq!(got.task.id, eng2.task.id);
    // ENG-1 names two tasks the member can see.
    match e.tasks().get(&f.member, &by_key("ENG-1")).await {
        Err(Error::Conflict(Conflict::Rule { rule, .. })) => assert_eq!(rule, "ambiguous_key"),
        other => panic!("ENG-1 is ambiguous for the member, got {other:?}"),
    }
    for (id, want) in [(eng1.task.id, "Ours 1"), (their1.task.id, "Theirs 1")] {
        let t = ok(
            e.tasks()
                .get(&f.member, &crate::engine::TaskRef::Id(id))
                .await,
            "by id",
        );
        assert_eq!(t.task.title, want);
    }
    // Callers who see only one of them are not affected.
    let ours = ok(e.tasks().get(&f.guest, &by_key("ENG-1")).await, "the guest");
    assert_eq!(ours.task.id, eng1.task.id);
    let mine = ok(
        e.tasks().get(&f.outsider, &by_key("ENG-1")).await,
        "the outsider",
    );
    assert_eq!(mine.task.id, their1.task.id);
    not_found(
        e.tasks().get(&f.outsider, &by_key("ENG-2")).await,
        "ENG-2 is not in the outsider's workspace",
    );
}

/// One validation error lists every bad field of a new task, and nothing is created.
pub async fn tasks_validation_lists_every_field<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let ops = f.project_named("OPS").await;
    let ops_label = ok(
        e.labels()
            .create(
                &f.owner,
                ops.id,
                NewLabel {
                    name: "ops-only".into(),
                    color: None,
                },
            )
            .await,
        "a label of OPS",
    );
    let ops_task = create_task(e, &f.owner, ops.id, titled("Ops parent")).await;
    let ops_flow = ok(e.workflows().get(&f.owner, ops.id).await, "OPS workflow");

    let start = datetime!(2026-12-10 09:00 UTC);
    let bad = NewTask {
        title: "   ".into(),
        description: Some("x".repeat(100 * 1024 + 1)),
        status_id: Some(ops_flow.statuses[1].id),
        priority: Some(Priority::High),
        assignee_ids: vec![f.member.user_id, f.outsider.user_id],
        label_ids: vec![ops_label.id],
        milestone_id: Some(MilestoneId(uuid::Uuid::now_v7())),
        due_at: Some(start - Duration::days(1)),
        start_at: Some(start),
        estimate_seconds: Some(11 * 365 * 24 * 3600),
        parent_id: Some(ops_task.task.id),
    };
    invalid_exactly(
        e.tasks().create(&f.member, f.project.id, bad.clone()).await,
        &[
            "title",
            "description",
            "status_id",
            "assignee_ids[1]",
            "label_ids[0]",
            "milestone_id",
            "start_at",
            "estimate_seconds",
            "parent_id",
        ],
        "a task with every field wrong",
    );
    invalid_exactly(
        e.tasks()
            .create(
                &f.member,
                f.project.id,
                NewTask {
                    title: "t".repeat(501),
                    ..NewTask::default()
                },
            )
            .await,
        &["title"],
        "a 501-character title",
    );
    // The limits themselves are fine (but nothing is created yet).
    let page = ok(
        e.tasks()
            .list(&f.member, f.project.id, TaskListRequest::default())
            .await,
        "list",
    );
    assert!(page.items.is_empty(), "no task was created");
    let first = create_task(
        e,
        &f.member,
        f.project.id,
        NewTask {
            title: "t".repeat(500),
            description: Some("d".repeat(100 * 1024)),
            start_at: Some(start),
            due_at: Some(start),
            ..NewTask::default()
        },
    )
    .await;
    assert_eq!(first.key, "ENG-1", "failed creations do not use up numbers");

    // Updates list every bad field too, and change nothing.
    invalid_exactly(
        e.tasks()
            .update(
                &f.member,
                &by_id(first.task.id),
                TaskPatch {
                    title: Some(String::new()),
                    milestone_id: Some(Some(MilestoneId(uuid::Uuid::now_v7()))),
                    assignee_ids: Some(vec![f.outsider.user_id]),
                    start_at: Some(Some(start + Duration::days(1))),
                    parent_id: Some(Some(ops_task.task.id)),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        &[
            "title",
            "milestone_id",
            "assignee_ids[0]",
            "start_at",
            "parent_id",
        ],
        "an update with several bad fields",
    );
    assert_eq!(
        version(&f, first.task.id).await,
        1,
        "the failed update wrote nothing"
    );

    // Length limits count what was sent, as the API document states (JSON Schema's
    // `maxLength`), even where surrounding blanks are trimmed before storing.
    invalid_field(
        e.tasks()
            .create(
                &f.member,
                f.project.id,
                titled(&format!("\u{a0}{}", "x".repeat(500))),
            )
            .await,
        "title",
        "501 characters sent, 500 once trimmed",
    );
    invalid_field(
        e.tasks()
            .create(&f.member, f.project.id, titled("\u{feff} \u{a0}"))
            .await,
        "title",
        "a title of blanks only (U+FEFF counts as one, as in the document's patterns)",
    );
    invalid_field(
        e.workspaces()
            .create(&f.member, &format!(" {}", "w".repeat(100)))
            .await,
        "name",
        "a workspace name of 101 characters sent",
    );
}

/// Updates log exactly the changed fields with old and new values; no-ops write nothing.
pub async fn tasks_update_records_field_changes<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let s = f.statuses;
    let t0 = create_task(e, &f.owner, f.project.id, titled("Old title")).await;
    let t = by_id(t0.task.id);
    let feed = |since: u64| {
        let t = &t;
        let f = &f;
        async move {
            ok(
                e.activity().of_task(&f.member, t, since, None).await,
                "task feed",
            )
        }
    };
    let created = feed(0).await;
    assert_eq!(kinds(&created), vec!["task_created"]);
    let mut since = created[0].seq;

    f.clock.advance(Duration::minutes(5));
    let updated = ok(
        e.tasks()
            .update(
                &f.member,
                &t,
                TaskPatch {
                    title: Some("New title".into()),
                    priority: Some(Priority::High),
                    assignee_ids: Some(vec![f.member.user_id]),
                    ..TaskPatch::default()
                },
                Some(1),
            )
            .await,
        "update three fields",
    );
    assert_eq!(updated.task.version, 2);
    assert_eq!(updated.task.updated_at, e.now());
    let events = feed(since).await;
    assert_eq!(kinds(&events), vec!["task_updated"], "exactly one event");
    let event = &events[0];
    assert_eq!(event.actor_id, f.member.user_id);
    assert_eq!(event.at, e.now());
    assert_eq!(event.task_id, Some(t0.task.id));
    assert_eq!(event.project_id, Some(f.project.id));
    match &event.kind {
        EventKind::TaskUpdated { key, changes } => {
            assert_eq!(key, "ENG-1");
            let by_field: HashMap<&str, &FieldChange> =
                changes.iter().map(|c| (c.field.as_str(), c)).collect();
            assert_eq!(
                by_field.keys().copied().collect::<BTreeSet<_>>(),
                BTreeSet::from(["title", "priority", "assignee_ids"]),
                "exactly the changed fields"
            );
            assert_eq!(changes.len(), 3, "each field once");
            assert_eq!(by_field["title"].old, json!("Old title"));
            assert_eq!(by_field["title"].new, json!("New title"));
            assert_eq!(by_field["priority"].old, json!("none"));
            assert_eq!(by_field["priority"].new, json!("high"));
            assert_eq!(by_field["assignee_ids"].old, json!([]));
            assert_eq!(
                by_field["assignee_ids"].new,
                json!([f.member.user_id.to_string()])
            );
        }
        other => panic!("expected task_updated, got {other:?}"),
    }
    since = event.seq;

    // Setting and clearing a nullable field.
    let due = datetime!(2026-12-24 18:00 UTC);
    ok(
        e.tasks()
            .update(
                &f.member,
                &t,
                TaskPatch {
                    due_at: Some(Some(due)),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "set a due date",
    );
    ok(
        e.tasks()
            .update(
                &f.member,
                &t,
                TaskPatch {
                    due_at: Some(None),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "clear the due date",
    );
    let events = feed(since).await;
    assert_eq!(kinds(&events), vec!["task_updated", "task_updated"]);
    let due_changes: Vec<&FieldChange> = events
        .iter()
        .flat_map(|ev| match &ev.kind {
            EventKind::TaskUpdated { changes, .. } => changes.iter().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(due_changes.len(), 2);
    assert!(due_changes.iter().all(|c| c.field == "due_at"));
    assert_eq!(due_changes[0].old, serde_json::Value::Null);
    assert!(due_changes[0].new.is_string(), "a time is a string");
    assert_eq!(due_changes[1].old, due_changes[0].new);
    assert_eq!(due_changes[1].new, serde_json::Value::Null);
    since = events[1].seq;

    // A status change is a transition.
    let moved = ok(
        e.tasks()
            .transition(&f.member, &t, s.in_progress, None)
            .await,
        "transition",
    );
    let events = feed(since).await;
    assert_eq!(kinds(&events), vec!["task_transitioned"]);
    match &events[0].kind {
        EventKind::TaskTransitioned { from, to, key } => {
            assert_eq!((*from, *to), (s.todo, s.in_progress));
            assert_eq!(key, "ENG-1");
        }
        other => panic!("expected task_transitioned, got {other:?}"),
    }
    since = events[0].seq;

    // A status change and a field change together give both events.
    ok(
        e.tasks()
            .update(
                &f.member,
                &t,
                TaskPatch {
                    status_id: Some(s.in_review),
                    priority: Some(Priority::Urgent),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "transition and update",
    );
    let events = feed(since).await;
    let mut k = kinds(&events);
    k.sort();
    assert_eq!(k, vec!["task_transitioned", "task_updated"]);
    let updated_event = events
        .iter()
        .find(|ev| ev.kind.name() == "task_updated")
        .expect("task_updated");
    assert_eq!(changed_fields(&updated_event.kind), vec!["priority"]);
    since = events.iter().map(|ev| ev.seq).max().unwrap_or(since);

    // No-ops write nothing.
    let current = ok(e.tasks().get(&f.member, &t).await, "read");
    let same = ok(
        e.tasks()
            .update(
                &f.member,
                &t,
                TaskPatch {
                    title: Some("New title".into()),
                    priority: Some(Priority::Urgent),
                    assignee_ids: Some(vec![f.member.user_id]),
                    status_id: Some(s.in_review),
                    ..TaskPatch::default()
                },
                Some(current.task.version),
            )
            .await,
        "a no-op update",
    );
    assert_eq!(
        same.task.version, current.task.version,
        "a no-op keeps the version"
    );
    assert_eq!(same.task.updated_at, current.task.updated_at);
    ok(
        e.tasks()
            .update(&f.member, &t, TaskPatch::default(), None)
            .await,
        "an empty patch",
    );
    assert!(feed(since).await.is_empty(), "no-ops emit no events");
    assert_eq!(moved.task.version + 1, current.task.version);
}

/// Stale `expected_version`s conflict with both versions; current ones bump the version by one.
pub async fn tasks_optimistic_versions<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let t0 = f.task("Versioned").await;
    let t = by_id(t0.task.id);
    assert_eq!(t0.task.version, 1);
    let patch = |title: &str| TaskPatch {
        title: Some(title.into()),
        ..TaskPatch::default()
    };

    let stale = conflict(
        e.tasks()
            .update(&f.member, &t, patch("Ahead"), Some(2))
            .await,
        "update expecting a future version",
    );
    assert_eq!(
        stale,
        Conflict::StaleVersion {
            expected: 2,
            actual: 1
        }
    );
    let v2 = ok(
        e.tasks()
            .update(&f.member, &t, patch("Second"), Some(1))
            .await,
        "update with the current version",
    );
    assert_eq!(v2.task.version, 2, "the version goes up by one");
    let stale = conflict(
        e.tasks()
            .update(&f.admin, &t, patch("Lost update"), Some(1))
            .await,
        "a second writer with the old version",
    );
    assert_eq!(
        stale,
        Conflict::StaleVersion {
            expected: 1,
            actual: 2
        }
    );
    assert_eq!(
        ok(e.tasks().get(&f.member, &t).await, "read").task.title,
        "Second",
        "the stale write changed nothing"
    );
    let stale = conflict(
        e.tasks()
            .transition(&f.member, &t, f.statuses.done, Some(1))
            .await,
        "a transition with a stale version",
    );
    assert!(matches!(
        stale,
        Conflict::StaleVersion {
            expected: 1,
            actual: 2
        }
    ));
    let v3 = ok(
        e.tasks()
            .transition(&f.member, &t, f.statuses.done, Some(2))
            .await,
        "a transition with the current version",
    );
    assert_eq!(v3.task.version, 3);
    let v4 = ok(
        e.tasks()
            .update(&f.member, &t, patch("Unversioned"), None)
            .await,
        "an update without a version",
    );
    assert_eq!(v4.task.version, 4);

    let stale = conflict(
        e.tasks().delete(&f.member, &t, Some(3)).await,
        "delete with a stale version",
    );
    assert_eq!(
        stale,
        Conflict::StaleVersion {
            expected: 3,
            actual: 4
        }
    );
    ok(e.tasks().get(&f.member, &t).await, "still there");
    ok(
        e.tasks().delete(&f.member, &t, Some(4)).await,
        "delete with the current version",
    );
    not_found(e.tasks().get(&f.member, &t).await, "deleted");
    assert_eq!(
        version(&f, t0.task.id).await,
        5,
        "trashing is a versioned write"
    );
}

/// Eight writers creating ten tasks each at once get 80 tasks numbered exactly 1..=80.
pub async fn tasks_concurrent_creation<S: Store>(store: S) {
    let f = Fixture::shared(Arc::new(store)).await;
    let mut handles = Vec::new();
    for writer in 0..8 {
        let engine = f.engine.clone();
        let actor = if writer % 2 == 0 { f.member } else { f.admin };
        let project = f.project.id;
        handles.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            for i in 0..10 {
                let t = engine
                    .tasks()
                    .create(
                        &actor,
                        project,
                        titled(&format!("writer {writer} task {i}")),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("writer {writer} task {i}: {e:?}"));
                numbers.push(t.task.number);
            }
            numbers
        }));
    }
    let mut numbers = Vec::new();
    for h in handles {
        numbers.extend(h.await.expect("writer task panicked"));
    }
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=80).collect::<Vec<u64>>(),
        "numbers are exactly 1..=80"
    );

    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = ok(
            f.engine
                .tasks()
                .list(
                    &f.member,
                    f.project.id,
                    TaskListRequest {
                        cursor: cursor.take(),
                        limit: Some(30),
                        ..TaskListRequest::default()
                    },
                )
                .await,
            "list",
        );
        listed.extend(page.items.iter().map(|t| t.task.number));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    listed.sort_unstable();
    assert_eq!(
        listed,
        (1..=80).collect::<Vec<u64>>(),
        "every task is stored once"
    );
    let created = ok(
        f.engine
            .activity()
            .of_project(&f.member, f.project.id, 0, Some(1000))
            .await,
        "project feed",
    )
    .iter()
    .filter(|ev| ev.kind.name() == "task_created")
    .count();
    assert_eq!(created, 80, "one task_created event per task");
    let next = create_task(&f.engine, &f.member, f.project.id, titled("After")).await;
    assert_eq!(next.task.number, 81);
}

/// Delete trashes a subtree; restore brings back exactly what went with it.
pub async fn tasks_trash_and_restore_whole<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let p = f.project.id;
    let bystander = f.task("Bystander").await;
    let parent = create_task(e, &f.member, p, titled("Parent")).await;
    let kept_child = create_task(e, &f.member, p, child_of("Child 1", parent.task.id)).await;
    let early_child = create_task(e, &f.member, p, child_of("Child 2", parent.task.id)).await;
    let grandchild = create_task(e, &f.member, p, child_of("Grandchild", kept_child.task.id)).await;
    let all = [&parent, &kept_child, &early_child, &grandchild];

    ok(
        e.tasks()
            .delete(&f.member, &by_id(early_child.task.id), None)
            .await,
        "trash one subtask first",
    );
    f.clock.advance(Duration::minutes(10));
    ok(
        e.tasks()
            .delete(&f.member, &by_id(parent.task.id), None)
            .await,
        "trash the parent",
    );
    for t in all {
        not_found(e.tasks().get(&f.member, &by_id(t.task.id)).await, &t.key);
        not_found(e.tasks().get(&f.member, &by_key(&t.key)).await, &t.key);
    }
    assert_eq!(
        list_keys(&f, &f.member, p, "", "").await,
        vec![bystander.key.clone()],
        "trashed tasks leave the list"
    );
    let trash: BTreeSet<String> = ok(
        e.tasks()
            .list(
                &f.member,
                p,
                TaskListRequest {
                    trashed: true,
                    ..TaskListRequest::default()
                },
            )
            .await,
        "list the trash",
    )
    .items
    .into_iter()
    .map(|t| t.key)
    .collect();
    assert_eq!(
        trash,
        all.iter().map(|t| t.key.clone()).collect::<BTreeSet<_>>(),
        "the trash holds the whole subtree"
    );
    not_found(
        e.tasks().subtasks(&f.member, &by_id(parent.task.id)).await,
        "subtasks of a trashed task",
    );
    let trashed = conflict(
        e.tasks()
            .restore(&f.member, &by_id(kept_child.task.id))
            .await,
        "restore a subtask whose parent is trashed",
    );
    assert!(
        matches!(trashed, Conflict::Trashed { .. }),
        "got {trashed:?}"
    );
    forbidden(
        e.tasks().restore(&f.guest, &by_id(parent.task.id)).await,
        "a guest restores",
    );

    f.clock.advance(Duration::minutes(10));
    let restored = ok(
        e.tasks().restore(&f.member, &by_id(parent.task.id)).await,
        "restore the parent",
    );
    assert_eq!(restored.task.id, parent.task.id);
    assert_eq!(restored.task.deleted_at, None);
    for t in [&parent, &kept_child, &grandchild] {
        let back = ok(e.tasks().get(&f.member, &by_id(t.task.id)).await, &t.key);
        assert_eq!(back.task.deleted_at, None, "{} is back", t.key);
        assert_eq!(
            back.task.parent_id, t.task.parent_id,
            "{} keeps its parent",
            t.key
        );
    }
    not_found(
        e.tasks().get(&f.member, &by_id(early_child.task.id)).await,
        "the subtask trashed earlier stays in the trash",
    );
    assert_eq!(
        ok(
            e.tasks().subtasks(&f.member, &by_id(parent.task.id)).await,
            "subtasks"
        )
        .iter()
        .map(|t| t.key.clone())
        .collect::<Vec<_>>(),
        vec![kept_child.key.clone()]
    );
    let not_trashed = conflict(
        e.tasks().restore(&f.member, &by_id(parent.task.id)).await,
        "restore a task that is not in the trash",
    );
    assert!(
        matches!(not_trashed, Conflict::Trashed { .. }),
        "got {not_trashed:?}"
    );
    let not_trashed = conflict(
        e.tasks()
            .restore(&f.member, &by_id(bystander.task.id))
            .await,
        "restore a task never trashed",
    );
    assert!(matches!(not_trashed, Conflict::Trashed { .. }));
    ok(
        e.tasks()
            .restore(&f.member, &by_key(&early_child.key))
            .await,
        "the earlier subtask can be restored on its own now",
    );
    assert_eq!(
        list_keys(&f, &f.member, p, "", "").await.len(),
        5,
        "everything is back"
    );
    let kinds_of_parent = kinds(&ok(
        e.activity()
            .of_task(&f.member, &by_id(parent.task.id), 0, None)
            .await,
        "parent feed",
    ));
    assert_eq!(
        kinds_of_parent,
        vec!["task_created", "task_deleted", "task_restored"]
    );
}

/// The subtask tree rejects cycles (named) and too deep nesting; subtasks list by number.
pub async fn tasks_subtask_tree_rules<S: Store>(store: S) {
    let f = Fixture::with_config(
        store,
        EngineConfig {
            max_subtask_depth: 2,
            ..EngineConfig::for_tests()
        },
    )
    .await;
    let e = &f.engine;
    let p = f.project.id;
    let a = create_task(e, &f.member, p, titled("A")).await; // ENG-1, level 0
    let b = create_task(e, &f.member, p, child_of("B", a.task.id)).await; // ENG-2, level 1
    let c = create_task(e, &f.member, p, child_of("C", b.task.id)).await; // ENG-3, level 2
    let too_deep = conflict(
        e.tasks()
            .create(&f.member, p, child_of("D", c.task.id))
            .await,
        "a subtask at level 3 with a limit of 2",
    );
    assert_eq!(too_deep, Conflict::SubtaskTooDeep { max_depth: 2 });

    let parent_patch = |parent: Option<TaskId>| TaskPatch {
        parent_id: Some(parent),
        ..TaskPatch::default()
    };
    let cycle = conflict(
        e.tasks()
            .update(
                &f.member,
                &by_id(a.task.id),
                parent_patch(Some(c.task.id)),
                None,
            )
            .await,
        "make A a child of its grandchild C",
    );
    match cycle {
        Conflict::SubtaskCycle { path } => {
            for key in [&a.key, &b.key, &c.key] {
                assert!(path.contains(key), "the cycle {path:?} names {key}");
            }
            assert_eq!(
                path.first(),
                path.last(),
                "the path closes on itself: {path:?}"
            );
        }
        other => panic!("expected SubtaskCycle, got {other:?}"),
    }
    let cycle = conflict(
        e.tasks()
            .update(
                &f.member,
                &by_id(b.task.id),
                parent_patch(Some(b.task.id)),
                None,
            )
            .await,
        "make B its own parent",
    );
    assert!(
        matches!(cycle, Conflict::SubtaskCycle { .. }),
        "got {cycle:?}"
    );

    // Moving a subtree under another task counts its height.
    let x = create_task(e, &f.member, p, titled("X")).await; // ENG-4
    let y = create_task(e, &f.member, p, child_of("Y", x.task.id)).await; // ENG-5
    let z = create_task(e, &f.member, p, child_of("Z", a.task.id)).await; // ENG-6
    let too_deep = conflict(
        e.tasks()
            .update(
                &f.member,
                &by_id(x.task.id),
                parent_patch(Some(b.task.id)),
                None,
            )
            .await,
        "hang X (with child Y) under B",
    );
    assert_eq!(too_deep, Conflict::SubtaskTooDeep { max_depth: 2 });
    ok(
        e.tasks()
            .update(
                &f.member,
                &by_id(x.task.id),
                parent_patch(Some(a.task.id)),
                None,
            )
            .await,
        "hang X (with child Y) under A",
    );
    let children: Vec<String> = ok(
        e.tasks().subtasks(&f.guest, &by_id(a.task.id)).await,
        "A's subtasks",
    )
    .into_iter()
    .map(|t| t.key)
    .collect();
    assert_eq!(
        children,
        vec![b.key.clone(), x.key.clone(), z.key.clone()],
        "subtasks are listed by number"
    );
    assert_eq!(
        ok(
            e.tasks().subtasks(&f.guest, &by_id(x.task.id)).await,
            "X's subtasks"
        )
        .into_iter()
        .map(|t| t.key)
        .collect::<Vec<_>>(),
        vec![y.key.clone()]
    );
    ok(
        e.tasks()
            .update(&f.member, &by_id(x.task.id), parent_patch(None), None)
            .await,
        "make X top-level again",
    );
    assert_eq!(
        ok(
            e.tasks().subtasks(&f.guest, &by_id(a.task.id)).await,
            "A's subtasks"
        )
        .len(),
        2
    );

    // The parent must be a live task of the same project.
    let ops = f.project_named("OPS").await;
    let foreign = create_task(e, &f.member, ops.id, titled("Foreign")).await;
    invalid_field(
        e.tasks()
            .update(
                &f.member,
                &by_id(y.task.id),
                parent_patch(Some(foreign.task.id)),
                None,
            )
            .await,
        "parent_id",
        "a parent in another project",
    );
    ok(
        e.tasks().delete(&f.member, &by_id(z.task.id), None).await,
        "trash Z",
    );
    invalid_field(
        e.tasks()
            .create(&f.member, p, child_of("Under the trash", z.task.id))
            .await,
        "parent_id",
        "a parent in the trash",
    );
}

/// Dependencies list open blockers, reject cycles naming them, duplicates and other workspaces.
pub async fn tasks_dependencies_and_cycles<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let p = f.project.id;
    let a = create_task(e, &f.member, p, titled("A")).await;
    let b = create_task(e, &f.member, p, titled("B")).await;
    let (ta, tb) = (by_id(a.task.id), by_id(b.task.id));

    let view = ok(
        e.tasks().add_dependency(&f.member, &ta, &tb).await,
        "A is blocked by B",
    );
    assert_eq!(view.task.id, a.task.id, "the result is the blocked task");
    assert_eq!(view.blocked_by, vec![b.task.id]);
    assert_eq!(
        ok(e.tasks().get(&f.guest, &ta).await, "read A").blocked_by,
        vec![b.task.id]
    );
    assert!(
        ok(e.tasks().get(&f.guest, &tb).await, "read B")
            .blocked_by
            .is_empty(),
        "the edge has a direction"
    );
    let dup = conflict(
        e.tasks().add_dependency(&f.member, &ta, &tb).await,
        "the same edge again",
    );
    assert!(matches!(dup, Conflict::Duplicate { .. }), "got {dup:?}");
    ok(
        e.tasks()
            .transition(&f.member, &tb, f.statuses.done, None)
            .await,
        "finish B",
    );
    assert!(
        ok(e.tasks().get(&f.guest, &ta).await, "read A")
            .blocked_by
            .is_empty(),
        "a done blocker is not listed"
    );
    ok(
        e.tasks()
            .transition(&f.member, &tb, f.statuses.todo, None)
            .await,
        "reopen B",
    );
    assert_eq!(
        ok(e.tasks().get(&f.guest, &ta).await, "read A").blocked_by,
        vec![b.task.id],
        "a reopened blocker is listed again"
    );

    // Cycles.
    let self_loop = conflict(
        e.tasks().add_dependency(&f.member, &ta, &ta).await,
        "A blocked by itself",
    );
    match self_loop {
        Conflict::DependencyCycle { path } => {
            assert_eq!(
                path,
                vec![a.key.clone(), a.key.clone()],
                "a self-loop names the task"
            );
        }
        other => panic!("expected DependencyCycle, got {other:?}"),
    }
    let x = create_task(e, &f.member, p, titled("X")).await;
    let y = create_task(e, &f.member, p, titled("Y")).await;
    let z = create_task(e, &f.member, p, titled("Z")).await;
    ok(
        e.tasks()
            .add_dependency(&f.member, &by_id(x.task.id), &by_id(y.task.id))
            .await,
        "X blocked by Y",
    );
    ok(
        e.tasks()
            .add_dependency(&f.member, &by_key(&y.key), &by_key(&z.key))
            .await,
        "Y blocked by Z, by keys",
    );
    let two_cycle = conflict(
        e.tasks()
            .add_dependency(&f.member, &by_id(y.task.id), &by_id(x.task.id))
            .await,
        "Y blocked by X closes a 2-cycle",
    );
    match two_cycle {
        Conflict::DependencyCycle { path } => {
            assert_eq!(path.len(), 3, "{path:?}");
            assert_eq!(path.first(), path.last());
        }
        other => panic!("expected DependencyCycle, got {other:?}"),
    }
    let cycle = conflict(
        e.tasks()
            .add_dependency(&f.member, &by_id(z.task.id), &by_id(x.task.id))
            .await,
        "Z blocked by X closes a 3-cycle",
    );
    match cycle {
        Conflict::DependencyCycle { path } => {
            assert_eq!(path.len(), 4, "three tasks and back: {path:?}");
            assert_eq!(
                path.first(),
                path.last(),
                "the path starts and ends at one task"
            );
            for key in [&x.key, &y.key, &z.key] {
                assert!(path.contains(key), "the cycle {path:?} names {key}");
            }
            // Consecutive entries are real "blocks" edges or the rejected one.
            assert_eq!(path[0], z.key, "the path starts at the task being blocked");
        }
        other => panic!("expected DependencyCycle, got {other:?}"),
    }
    assert!(
        ok(e.tasks().get(&f.guest, &by_id(z.task.id)).await, "read Z")
            .blocked_by
            .is_empty(),
        "the rejected edge was not added"
    );

    // Across projects of one workspace is fine; across workspaces is not.
    let ops = f.project_named("OPS").await;
    let ops_task = create_task(e, &f.member, ops.id, titled("Ops blocker")).await;
    let view = ok(
        e.tasks()
            .add_dependency(&f.member, &by_id(x.task.id), &by_id(ops_task.task.id))
            .await,
        "a blocker from another project of the workspace",
    );
    assert!(view.blocked_by.contains(&ops_task.task.id));
    let foreign_project = ok(
        e.projects()
            .create(
                &f.outsider,
                f.other_workspace.id,
                crate::engine::NewProject {
                    key: "ELSE".into(),
                    name: "Elsewhere".into(),
                    ..Default::default()
                },
            )
            .await,
        "the outsider's project",
    );
    let foreign = create_task(e, &f.outsider, foreign_project.id, titled("Foreign")).await;
    match e
        .tasks()
        .add_dependency(&f.member, &ta, &by_id(foreign.task.id))
        .await
    {
        Err(Error::Validation(_)) | Err(Error::NotFound { .. }) => {}
        other => panic!(
            "a blocker the member cannot see: expected validation or not found, got {other:?}"
        ),
    }
    // Someone in both workspaces still cannot link them.
    ok(
        e.workspaces()
            .add_member(
                &f.owner,
                f.workspace.id,
                MemberRef::Id(f.outsider.user_id),
                Role::Member,
            )
            .await,
        "the outsider joins Acme",
    );
    invalid_field(
        e.tasks()
            .add_dependency(&f.outsider, &ta, &by_id(foreign.task.id))
            .await,
        "blocked_by",
        "a blocker from another workspace",
    );

    // Removing edges. An expected version is the blocked task's: a stale one refuses.
    let current = ok(e.tasks().get(&f.member, &ta).await, "read A")
        .task
        .version;
    let stale = conflict(
        e.tasks()
            .remove_dependency(&f.member, &ta, &tb, Some(current + 1))
            .await,
        "remove an edge with a stale version of the blocked task",
    );
    assert!(
        matches!(stale, Conflict::StaleVersion { .. }),
        "got {stale:?}"
    );
    assert!(
        ok(e.tasks().get(&f.member, &ta).await, "read A")
            .blocked_by
            .contains(&b.task.id),
        "a refused removal leaves the edge"
    );
    let view = ok(
        e.tasks()
            .remove_dependency(&f.member, &ta, &tb, Some(current))
            .await,
        "remove B from A's blockers",
    );
    assert_eq!(
        view.task.version, current,
        "removing an edge leaves the task's version"
    );
    assert!(view.blocked_by.is_empty());
    not_found(
        e.tasks().remove_dependency(&f.member, &ta, &tb, None).await,
        "remove a missing edge",
    );
    not_found(
        e.tasks()
            .remove_dependency(&f.member, &by_id(z.task.id), &by_id(x.task.id), None)
            .await,
        "remove an edge that never existed",
    );
    ok(
        e.tasks()
            .remove_dependency(&f.member, &by_key(&x.key), &by_key(&y.key), None)
            .await,
        "remove by keys",
    );
    ok(
        e.tasks()
            .add_dependency(&f.member, &by_id(z.task.id), &by_id(x.task.id))
            .await,
        "with the cycle broken, Z may be blocked by X",
    );
    let a_feed = kinds(&ok(
        e.activity().of_task(&f.member, &ta, 0, None).await,
        "A's feed",
    ));
    assert!(a_feed.contains(&"dependency_added") && a_feed.contains(&"dependency_removed"));

    // A blocker in another project of the workspace counts until that project is deleted.
    let ops = f.project_named("REMOTE").await;
    let remote = f.task_in(ops.id, "Remote blocker").await;
    let view = ok(
        e.tasks()
            .add_dependency(&f.member, &ta, &by_id(remote.task.id))
            .await,
        "a blocker from another project of the workspace",
    );
    assert_eq!(view.blocked_by, vec![remote.task.id]);
    ok(
        e.projects().delete(&f.owner, ops.id, None).await,
        "delete the blocker's project",
    );
    assert!(
        ok(e.tasks().get(&f.member, &ta).await, "read A")
            .blocked_by
            .is_empty(),
        "a task of a deleted project blocks nothing"
    );
}

async fn column<S: Store>(f: &Fixture<S>, q: &str) -> Vec<String> {
    list_keys(f, &f.member, f.project.id, q, "position").await
}

/// Checks that, since `before`, only `moved` was written (once); returns the new versions.
async fn only_moved<S: Store>(
    f: &Fixture<S>,
    moved: TaskId,
    before: &HashMap<TaskId, u64>,
) -> HashMap<TaskId, u64> {
    let mut after = HashMap::new();
    for (id, v) in before {
        let now = version(f, *id).await;
        if *id == moved {
            assert_eq!(now, v + 1, "the moved task is written once");
        } else {
            assert_eq!(now, *v, "a move writes no other task");
        }
        after.insert(*id, now);
    }
    after
}

/// Board moves order a column writing only the moved task, and obey the workflow across columns.
pub async fn tasks_board_moves<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let s = f.statuses;
    let p = f.project.id;
    let mut todo = Vec::new();
    for i in 1..=4 {
        todo.push(create_task(e, &f.member, p, in_status(&format!("T{i}"), s.todo)).await);
    }
    let i1 = create_task(e, &f.member, p, in_status("I1", s.in_progress)).await;
    let i2 = create_task(e, &f.member, p, in_status("I2", s.in_progress)).await;
    let key = |n: usize| todo[n - 1].key.clone();
    let id = |n: usize| todo[n - 1].task.id;
    assert_eq!(
        column(&f, "status:todo").await,
        vec![key(1), key(2), key(3), key(4)]
    );

    let mut versions: HashMap<TaskId, u64> = HashMap::new();
    for t in todo.iter().chain([&i1, &i2]) {
        versions.insert(t.task.id, t.task.version);
    }
    let mv = |before: Option<TaskId>, after: Option<TaskId>| MoveTask {
        status_id: None,
        before_id: before,
        after_id: after,
    };

    ok(
        e.tasks()
            .move_task(&f.member, &by_id(id(4)), mv(Some(id(2)), None))
            .await,
        "T4 before T2",
    );
    versions = only_moved(&f, id(4), &versions).await;
    assert_eq!(
        column(&f, "status:todo").await,
        vec![key(1), key(4), key(2), key(3)]
    );

    ok(
        e.tasks()
            .move_task(&f.member, &by_id(id(1)), mv(None, Some(id(3))))
            .await,
        "T1 after T3",
    );
    versions = only_moved(&f, id(1), &versions).await;
    assert_eq!(
        column(&f, "status:todo").await,
        vec![key(4), key(2), key(3), key(1)]
    );

    ok(
        e.tasks()
            .move_task(&f.member, &by_id(id(3)), mv(Some(id(2)), Some(id(4))))
            .await,
        "T3 between T4 and T2",
    );
    versions = only_moved(&f, id(3), &versions).await;
    assert_eq!(
        column(&f, "status:todo").await,
        vec![key(4), key(3), key(2), key(1)]
    );

    ok(
        e.tasks()
            .move_task(&f.member, &by_id(id(4)), mv(None, None))
            .await,
        "T4 to the end of its column",
    );
    versions = only_moved(&f, id(4), &versions).await;
    assert_eq!(
        column(&f, "status:todo").await,
        vec![key(3), key(2), key(1), key(4)]
    );

    ok(
        e.tasks()
            .move_task(&f.member, &by_id(id(1)), mv(Some(id(3)), None))
            .await,
        "T1 to the top",
    );
    versions = only_moved(&f, id(1), &versions).await;
    assert_eq!(
        column(&f, "status:todo").await,
        vec![key(1), key(3), key(2), key(4)]
    );

    // Repeated insertion at one spot keeps working.
    for _ in 0..20 {
        ok(
            e.tasks()
                .move_task(&f.member, &by_id(id(4)), mv(Some(id(3)), Some(id(1))))
                .await,
            "T4 between T1 and T3",
        );
        ok(
            e.tasks()
                .move_task(&f.member, &by_id(id(2)), mv(Some(id(4)), Some(id(1))))
                .await,
            "T2 between T1 and T4",
        );
    }
    assert_eq!(
        column(&f, "status:todo").await,
        vec![key(1), key(2), key(4), key(3)]
    );
    for t in &todo {
        versions.insert(t.task.id, version(&f, t.task.id).await);
    }

    // Into another column: a transition, still writing one task.
    let moved = ok(
        e.tasks()
            .move_task(
                &f.member,
                &by_id(id(1)),
                MoveTask {
                    status_id: Some(s.in_progress),
                    before_id: Some(i2.task.id),
                    after_id: Some(i1.task.id),
                },
            )
            .await,
        "T1 into In Progress between I1 and I2",
    );
    assert_eq!(moved.task.status_id, s.in_progress);
    assert!(
        moved.task.started_at.is_some(),
        "a move into a started column starts the task"
    );
    versions = only_moved(&f, id(1), &versions).await;
    assert_eq!(
        column(&f, "status:\"in progress\"").await,
        vec![i1.key.clone(), key(1), i2.key.clone()]
    );
    assert_eq!(
        column(&f, "status:todo").await,
        vec![key(2), key(4), key(3)]
    );
    let feed = kinds(&ok(
        e.activity()
            .of_task(&f.member, &by_id(id(1)), 0, None)
            .await,
        "T1 feed",
    ));
    assert!(
        feed.contains(&"task_moved") && feed.contains(&"task_transitioned"),
        "{feed:?}"
    );

    // Neighbours must be other tasks of the target column.
    invalid_field(
        e.tasks()
            .move_task(&f.member, &by_id(id(2)), mv(Some(i1.task.id), None))
            .await,
        "before_id",
        "a neighbour from another column",
    );
    invalid_field(
        e.tasks()
            .move_task(
                &f.member,
                &by_id(id(2)),
                MoveTask {
                    status_id: Some(s.in_progress),
                    before_id: None,
                    after_id: Some(id(3)),
                },
            )
            .await,
        "after_id",
        "a neighbour from the column being left",
    );
    invalid_field(
        e.tasks()
            .move_task(&f.member, &by_id(id(2)), mv(Some(id(2)), None))
            .await,
        "before_id",
        "the task itself as neighbour",
    );
    invalid_field(
        e.tasks()
            .move_task(
                &f.member,
                &by_id(id(2)),
                mv(Some(TaskId(uuid::Uuid::now_v7())), None),
            )
            .await,
        "before_id",
        "an unknown neighbour",
    );
    let ops = f.project_named("REMOTE").await;
    let foreign = create_task(e, &f.member, ops.id, titled("Ops")).await;
    invalid_field(
        e.tasks()
            .move_task(&f.member, &by_id(id(2)), mv(Some(foreign.task.id), None))
            .await,
        "before_id",
        "a neighbour of another project",
    );
    versions = only_moved(&f, TaskId(uuid::Uuid::nil()), &versions).await;

    // Moves between columns obey the workflow.
    let flow = ok(e.workflows().get(&f.owner, p).await, "workflow");
    ok(
        e.workflows()
            .replace(
                &f.owner,
                p,
                WorkflowInput {
                    statuses: flow
                        .statuses
                        .iter()
                        .map(|x| crate::engine::StatusInput {
                            id: Some(x.id),
                            name: x.name.clone(),
                            category: x.category,
                            color: x.color.clone(),
                        })
                        .collect(),
                    transitions: Some(vec![TransitionInput {
                        from: "Todo".into(),
                        to: "In Progress".into(),
                        roles: vec![],
                        conditions: vec![],
                    }]),
                    mapping: vec![],
                },
                None,
            )
            .await,
        "restrict transitions",
    );
    let refused = conflict(
        e.tasks()
            .move_task(
                &f.member,
                &by_id(id(2)),
                MoveTask {
                    status_id: Some(s.done),
                    ..MoveTask::default()
                },
            )
            .await,
        "a move into a column the workflow forbids",
    );
    assert!(
        matches!(refused, Conflict::TransitionNotAllowed { .. }),
        "got {refused:?}"
    );
    only_moved(&f, TaskId(uuid::Uuid::nil()), &versions).await;
    ok(
        e.tasks()
            .move_task(
                &f.member,
                &by_id(id(2)),
                MoveTask {
                    status_id: Some(s.in_progress),
                    ..MoveTask::default()
                },
            )
            .await,
        "an allowed move to the end of In Progress",
    );
    assert_eq!(
        column(&f, "status:\"in progress\"").await,
        vec![i1.key.clone(), key(1), i2.key.clone(), key(2)]
    );
    forbidden(
        e.tasks()
            .move_task(&f.guest, &by_id(id(4)), MoveTask::default())
            .await,
        "a guest moves a task",
    );
}

async fn make_label<S: Store>(f: &Fixture<S>, name: &str) -> crate::model::Label {
    ok(
        f.engine
            .labels()
            .create(
                &f.member,
                f.project.id,
                NewLabel {
                    name: name.into(),
                    color: None,
                },
            )
            .await,
        &format!("label {name}"),
    )
}

/// One row of the list case's model of the project.
struct Row {
    key: String,
    id: TaskId,
    number: u64,
    view: TaskView,
}

/// Filters, sorts and pages match a hand-written model; bad inputs name their field.
pub async fn tasks_list_filter_sort_paginate<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let s = f.statuses;
    let p = f.project.id;
    let bug = make_label(&f, "bug").await;
    let wontfix = make_label(&f, "wontfix").await;
    let ui = make_label(&f, "ui").await;
    let milestone = ok(
        e.milestones()
            .create(
                &f.member,
                p,
                NewMilestone {
                    name: "v1".into(),
                    due_on: None,
                },
            )
            .await,
        "milestone",
    )
    .milestone;
    let statuses = [
        s.todo,
        s.in_progress,
        s.in_review,
        s.done,
        s.backlog,
        s.canceled,
    ];
    let boundary = datetime!(2026-12-01 00:00 UTC);
    let mut rows: Vec<Row> = Vec::new();
    let mut first_id = None;
    for i in 0..30usize {
        f.clock.advance(Duration::seconds(1));
        let mut labels = Vec::new();
        if i % 2 == 0 {
            labels.push(bug.id);
        }
        if i % 5 == 0 {
            labels.push(wontfix.id);
        }
        if i % 7 == 0 {
            labels.push(ui.id);
        }
        let title = if i % 6 == 1 {
            format!("Fix the Login Page {i}")
        } else {
            format!("Task {i:02}")
        };
        let description = (i % 9 == 2).then(|| "The LOGIN PAGE is broken".to_owned());
        let assignees = match i % 3 {
            0 => vec![f.member.user_id],
            1 => vec![f.admin.user_id, f.owner.user_id],
            _ => vec![],
        };
        let due = match i % 4 {
            0 => Some(datetime!(2026-11-20 12:00 UTC)),
            1 => Some(datetime!(2026-12-15 12:00 UTC)),
            2 => Some(boundary),
            _ => None,
        };
        let new = NewTask {
            title,
            description,
            status_id: Some(statuses[i % 6]),
            priority: Some(Priority::ALL[i % 5]),
            assignee_ids: assignees,
            label_ids: labels,
            milestone_id: (i % 3 == 2).then_some(milestone.id),
            due_at: due,
            start_at: None,
            estimate_seconds: (i % 4 == 3).then_some(600),
            parent_id: if (3..=5).contains(&i) { first_id } else { None },
        };
        let view = create_task(e, &f.owner, p, new).await;
        if i == 0 {
            first_id = Some(view.task.id);
        }
        rows.push(Row {
            key: view.key.clone(),
            id: view.task.id,
            number: view.task.number,
            view,
        });
    }
    let flow = ok(e.workflows().get(&f.member, p).await, "workflow");
    let category = |id: StatusId| flow.status(id).expect("status").category;
    let expect = |pred: &dyn Fn(&TaskView) -> bool| -> Vec<String> {
        rows.iter()
            .filter(|r| pred(&r.view))
            .map(|r| r.key.clone())
            .collect()
    };
    let has_text = |t: &TaskView, needle: &str| {
        t.task.title.to_lowercase().contains(needle)
            || t.task.description.to_lowercase().contains(needle)
    };
    let me = f.member.user_id;
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("", expect(&|_| true)),
        (
            "status:started",
            expect(&|t| category(t.task.status_id) == StatusCategory::Started),
        ),
        ("status:todo,done", expect(&|t| [s.todo, s.done].contains(&t.task.status_id))),
        ("assignee:me", expect(&|t| t.task.assignee_ids.contains(&me))),
        ("assignee:none", expect(&|t| t.task.assignee_ids.is_empty())),
        (
            "assignee:adam@example.com",
            expect(&|t| t.task.assignee_ids.contains(&f.admin.user_id)),
        ),
        (
            "label:bug -label:wontfix",
            expect(&|t| t.task.label_ids.contains(&bug.id) && !t.task.label_ids.contains(&wontfix.id)),
        ),
        (
            "label:ui OR priority:urgent",
            expect(&|t| t.task.label_ids.contains(&ui.id) || t.task.priority == Priority::Urgent),
        ),
        ("priority>=high", expect(&|t| t.task.priority >= Priority::High)),
        ("due<2026-12-01", expect(&|t| t.task.due_at.is_some_and(|d| d < boundary))),
        ("\"login page\"", expect(&|t| has_text(t, "login page"))),
        ("is:open", expect(&|t| !category(t.task.status_id).is_closed())),
        ("is:closed", expect(&|t| category(t.task.status_id).is_closed())),
        ("has:due", expect(&|t| t.task.due_at.is_some())),
        ("has:estimate", expect(&|t| t.task.estimate_seconds.is_some())),
        ("parent:ENG-1", expect(&|t| t.task.parent_id == first_id)),
        ("parent:none", expect(&|t| t.task.parent_id.is_none())),
        ("milestone:none", expect(&|t| t.task.milestone_id.is_none())),
        ("milestone:v1", expect(&|t| t.task.milestone_id == Some(milestone.id))),
        (
            "status:started assignee:me label:bug priority>=high due<2026-12-01 -label:wontfix \"login page\"",
            expect(&|t| {
                category(t.task.status_id) == StatusCategory::Started
                    && t.task.assignee_ids.contains(&me)
                    && t.task.label_ids.contains(&bug.id)
                    && t.task.priority >= Priority::High
                    && t.task.due_at.is_some_and(|d| d < boundary)
                    && !t.task.label_ids.contains(&wontfix.id)
                    && has_text(t, "login page")
            }),
        ),
        ("label:nosuchlabel", Vec::new()),
    ];
    for (q, expected) in &cases {
        let got = list_keys(&f, &f.member, p, q, "").await;
        assert_eq!(&got, expected, "filter `{q}`");
    }
    assert!(
        cases.iter().filter(|(_, e)| !e.is_empty()).count() >= 18,
        "the model gives non-trivial expectations"
    );

    // Sorts: the field, then the id, in the same direction; due dates missing come last.
    let sorted = |cmp: &dyn Fn(&Row, &Row) -> std::cmp::Ordering| -> Vec<String> {
        let mut v: Vec<&Row> = rows.iter().collect();
        v.sort_by(|a, b| cmp(a, b));
        v.into_iter().map(|r| r.key.clone()).collect()
    };
    let by_priority_desc =
        sorted(&|a, b| (b.view.task.priority, b.id).cmp(&(a.view.task.priority, a.id)));
    assert_eq!(
        list_keys(&f, &f.member, p, "", "-priority").await,
        by_priority_desc,
        "sort=-priority"
    );
    let due_key = |r: &Row| r.view.task.due_at;
    let by_due = sorted(&|a, b| match (due_key(a), due_key(b)) {
        (Some(x), Some(y)) => (x, a.id).cmp(&(y, b.id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.id.cmp(&b.id),
    });
    assert_eq!(
        list_keys(&f, &f.member, p, "", "due").await,
        by_due,
        "sort=due"
    );
    let by_due_desc = sorted(&|a, b| match (due_key(a), due_key(b)) {
        (Some(x), Some(y)) => (y, b.id).cmp(&(x, a.id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.id.cmp(&a.id),
    });
    assert_eq!(
        list_keys(&f, &f.member, p, "", "-due").await,
        by_due_desc,
        "sort=-due"
    );
    let by_title = sorted(&|a, b| (&a.view.task.title, a.id).cmp(&(&b.view.task.title, b.id)));
    assert_eq!(
        list_keys(&f, &f.member, p, "", "title").await,
        by_title,
        "sort=title"
    );
    let by_created_desc = sorted(&|a, b| b.number.cmp(&a.number));
    assert_eq!(
        list_keys(&f, &f.member, p, "", "-created").await,
        by_created_desc,
        "sort=-created"
    );
    assert_eq!(
        list_keys(&f, &f.member, p, "", "created").await,
        rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>(),
        "sort=created"
    );

    // Pagination: every matching task exactly once, in order.
    for (q, sort, expected) in [
        ("", "-priority", by_priority_desc.clone()),
        (
            "is:open",
            "due",
            expect(&|t| !category(t.task.status_id).is_closed()),
        ),
        ("", "", rows.iter().map(|r| r.key.clone()).collect()),
    ] {
        let mut expected_sorted = expected.clone();
        if sort == "due" {
            expected_sorted = by_due
                .iter()
                .filter(|k| expected.contains(k))
                .cloned()
                .collect();
        }
        let mut got = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = ok(
                e.tasks()
                    .list(
                        &f.member,
                        p,
                        TaskListRequest {
                            q: (!q.is_empty()).then(|| q.to_owned()),
                            sort: (!sort.is_empty()).then(|| sort.to_owned()),
                            cursor: cursor.take(),
                            limit: Some(7),
                            trashed: false,
                        },
                    )
                    .await,
                &format!("page {pages} of q='{q}' sort='{sort}'"),
            );
            pages += 1;
            assert!(page.items.len() <= 7);
            got.extend(page.items.into_iter().map(|t| t.key));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
            assert!(pages <= 10, "pagination terminates");
        }
        assert_eq!(got, expected_sorted, "pages of q='{q}' sort='{sort}'");
        assert_eq!(
            pages,
            expected_sorted.len().div_ceil(7).max(1),
            "page count"
        );
    }

    // Errors name their field.
    let msg = invalid_field(
        e.tasks()
            .list(&f.member, p, list_request("status:", ""))
            .await,
        "q",
        "a filter missing its value",
    );
    assert!(
        msg.contains('7'),
        "the message names the position (7): {msg}"
    );
    let msg = invalid_field(
        e.tasks()
            .list(&f.member, p, list_request("label:bug priority>>high", ""))
            .await,
        "q",
        "a malformed comparison",
    );
    assert!(
        msg.contains("position"),
        "the message names the position: {msg}"
    );
    invalid_field(
        e.tasks()
            .list(&f.member, p, list_request("(status:todo", ""))
            .await,
        "q",
        "an unclosed parenthesis",
    );
    invalid_field(
        e.tasks()
            .list(&f.member, p, list_request("", "sideways"))
            .await,
        "sort",
        "an unknown sort",
    );
    for tampered in ["zz", "7b7d", "not a cursor", ""] {
        invalid_field(
            e.tasks()
                .list(
                    &f.member,
                    p,
                    TaskListRequest {
                        cursor: Some(tampered.to_owned()),
                        ..TaskListRequest::default()
                    },
                )
                .await,
            "cursor",
            &format!("cursor '{tampered}'"),
        );
    }
    let first_page = ok(
        e.tasks()
            .list(
                &f.member,
                p,
                TaskListRequest {
                    sort: Some("title".into()),
                    limit: Some(5),
                    ..TaskListRequest::default()
                },
            )
            .await,
        "a page sorted by title",
    );
    let cursor = first_page.next_cursor.expect("more pages");
    invalid_field(
        e.tasks()
            .list(
                &f.member,
                p,
                TaskListRequest {
                    sort: Some("-priority".into()),
                    cursor: Some(cursor),
                    ..TaskListRequest::default()
                },
            )
            .await,
        "cursor",
        "a cursor of another sort order",
    );
    for limit in [0, 201] {
        invalid_field(
            e.tasks()
                .list(
                    &f.member,
                    p,
                    TaskListRequest {
                        limit: Some(limit),
                        ..TaskListRequest::default()
                    },
                )
                .await,
            "limit",
            &format!("limit {limit}"),
        );
    }
    let page = ok(
        e.tasks()
            .list(
                &f.member,
                p,
                TaskListRequest {
                    limit: Some(200),
                    ..TaskListRequest::default()
                },
            )
            .await,
        "limit 200",
    );
    assert_eq!(page.items.len(), 30);
    let default_page = ok(
        e.tasks()
            .list(&f.member, p, TaskListRequest::default())
            .await,
        "the default limit",
    );
    assert_eq!(default_page.items.len(), 30);
    assert!(default_page.next_cursor.is_none());
}
