//! Workflows: the default, `completed_at`/`started_at` bookkeeping, restricted transitions,
//! transition conditions and replacing a workflow.

use std::collections::BTreeSet;

use time::Duration;

use super::support::*;
use crate::engine::{NewTask, StatusInput, TaskPatch, TransitionInput, WorkflowInput};
use crate::error::Conflict;
use crate::event::EventKind;
use crate::ids::{StatusId, TaskId};
use crate::model::{Role, StatusCategory, TransitionCondition, Workflow};
use crate::store::Store;
use crate::testkit::Fixture;

fn keep(flow: &Workflow, id: StatusId) -> StatusInput {
    let s = flow.status(id).expect("status of the workflow");
    StatusInput {
        id: Some(s.id),
        name: s.name.clone(),
        category: s.category,
        color: s.color.clone(),
    }
}

fn allow(from: &str, to: &str) -> TransitionInput {
    TransitionInput {
        from: from.into(),
        to: to.into(),
        roles: vec![],
        conditions: vec![],
    }
}

/// The default workflow; `completed_at` follows the category and `started_at` the first start.
pub async fn workflow_default_and_completed_at<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let s = f.statuses;
    let flow = ok(
        e.workflows().get(&f.guest, f.project.id).await,
        "the workflow",
    );
    assert_eq!(
        flow.statuses
            .iter()
            .map(|x| (x.name.as_str(), x.category))
            .collect::<Vec<_>>(),
        vec![
            ("Backlog", StatusCategory::Backlog),
            ("Todo", StatusCategory::Unstarted),
            ("In Progress", StatusCategory::Started),
            ("In Review", StatusCategory::Started),
            ("Done", StatusCategory::Completed),
            ("Canceled", StatusCategory::Canceled),
        ],
        "the default statuses and categories"
    );
    assert_eq!(flow.transitions, None, "every move is allowed by default");

    let task = create_task(e, &f.member, f.project.id, titled("Follow me")).await;
    assert_eq!(
        task.task.status_id, s.todo,
        "new tasks start in the first unstarted status"
    );
    assert_eq!(task.task.completed_at, None);
    assert_eq!(task.task.started_at, None);
    let t = by_id(task.task.id);

    f.clock.advance(Duration::hours(1));
    let started_at = e.now();
    let v = ok(
        e.tasks()
            .transition(&f.member, &t, s.in_progress, None)
            .await,
        "Todo → In Progress",
    );
    assert_eq!(
        v.task.started_at,
        Some(started_at),
        "started_at on first start"
    );
    assert_eq!(v.task.completed_at, None);

    f.clock.advance(Duration::hours(1));
    let v = ok(
        e.tasks().transition(&f.member, &t, s.in_review, None).await,
        "In Progress → In Review",
    );
    assert_eq!(v.task.started_at, Some(started_at), "started_at is kept");

    f.clock.advance(Duration::hours(1));
    let done_at = e.now();
    let v = ok(
        e.tasks().transition(&f.member, &t, s.done, None).await,
        "In Review → Done",
    );
    assert_eq!(
        v.task.completed_at,
        Some(done_at),
        "completed_at is the clock's now"
    );
    assert_eq!(
        ok(e.tasks().get(&f.guest, &t).await, "read back")
            .task
            .completed_at,
        Some(done_at),
        "completed_at is stored"
    );

    f.clock.advance(Duration::hours(1));
    let v = ok(
        e.tasks().transition(&f.member, &t, s.canceled, None).await,
        "Done → Canceled",
    );
    assert_eq!(
        v.task.completed_at, None,
        "leaving Done clears completed_at"
    );

    f.clock.advance(Duration::hours(1));
    let again = e.now();
    let v = ok(
        e.tasks()
            .update(
                &f.member,
                &t,
                TaskPatch {
                    status_id: Some(s.done),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "Canceled → Done by update",
    );
    assert_eq!(v.task.completed_at, Some(again), "completed_at is set anew");

    f.clock.advance(Duration::hours(1));
    let v = ok(
        e.tasks().transition(&f.member, &t, s.todo, None).await,
        "Done → Todo",
    );
    assert_eq!(v.task.completed_at, None);
    let v = ok(
        e.tasks()
            .transition(&f.member, &t, s.in_progress, None)
            .await,
        "Todo → In Progress again",
    );
    assert_eq!(
        v.task.started_at,
        Some(started_at),
        "started_at keeps the first start"
    );

    // Created directly in a completed or started status.
    let born_done = create_task(
        e,
        &f.member,
        f.project.id,
        NewTask {
            title: "Already done".into(),
            status_id: Some(s.done),
            ..NewTask::default()
        },
    )
    .await;
    assert_eq!(born_done.task.completed_at, Some(e.now()));
    let born_started = create_task(
        e,
        &f.member,
        f.project.id,
        NewTask {
            title: "Already started".into(),
            status_id: Some(s.in_review),
            ..NewTask::default()
        },
    )
    .await;
    assert_eq!(born_started.task.started_at, Some(e.now()));
    assert_eq!(born_started.task.completed_at, None);

    // A status of no workflow is a validation error.
    let other = f.project_named("OPS").await;
    let other_flow = ok(e.workflows().get(&f.owner, other.id).await, "OPS workflow");
    invalid_field(
        e.tasks()
            .transition(&f.member, &t, other_flow.statuses[0].id, None)
            .await,
        "status_id",
        "a status of another project's workflow",
    );
}

/// Explicit transitions refuse unlisted moves and moves by roles they do not name.
pub async fn workflow_restricted_transitions<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let s = f.statuses;
    let flow = ok(e.workflows().get(&f.owner, f.project.id).await, "workflow");
    let restricted = ok(
        e.workflows()
            .replace(
                &f.admin,
                f.project.id,
                WorkflowInput {
                    statuses: flow.statuses.iter().map(|x| keep(&flow, x.id)).collect(),
                    transitions: Some(vec![
                        allow("Todo", "In Progress"),
                        allow("in progress", "todo"),
                        TransitionInput {
                            roles: vec![Role::Admin],
                            ..allow(&s.in_progress.to_string(), &s.done.to_string())
                        },
                    ]),
                    mapping: vec![],
                },
                Some(flow.version),
            )
            .await,
        "restrict the workflow",
    );
    assert_eq!(restricted.version, flow.version + 1);
    let transitions = restricted.transitions.as_ref().expect("explicit list");
    assert_eq!(transitions.len(), 3);
    assert_eq!(
        (transitions[1].from, transitions[1].to),
        (s.in_progress, s.todo),
        "names resolve ignoring case"
    );
    assert_eq!(
        (
            transitions[2].from,
            transitions[2].to,
            transitions[2].roles.clone()
        ),
        (s.in_progress, s.done, vec![Role::Admin]),
        "ids resolve"
    );

    let task = create_task(e, &f.member, f.project.id, titled("Guarded")).await;
    let t = by_id(task.task.id);

    let refused = conflict(
        e.tasks().transition(&f.member, &t, s.done, None).await,
        "Todo → Done is not listed",
    );
    match &refused {
        Conflict::TransitionNotAllowed { from, to, why } => {
            assert_eq!(from, "Todo");
            assert_eq!(to, "Done");
            assert!(!why.trim().is_empty(), "the refusal explains why");
        }
        other => panic!("expected TransitionNotAllowed, got {other:?}"),
    }
    let refused = conflict(
        e.tasks().transition(&f.owner, &t, s.backlog, None).await,
        "Todo → Backlog is not listed, even for the owner",
    );
    assert!(matches!(refused, Conflict::TransitionNotAllowed { .. }));
    assert_eq!(
        ok(e.tasks().get(&f.member, &t).await, "read").task.version,
        task.task.version,
        "a refused transition changes nothing"
    );

    // Staying in the same status is not a transition.
    ok(
        e.tasks().transition(&f.member, &t, s.todo, None).await,
        "Todo → Todo",
    );
    ok(
        e.tasks()
            .transition(&f.member, &t, s.in_progress, None)
            .await,
        "Todo → In Progress is listed",
    );
    let refused = conflict(
        e.tasks().transition(&f.member, &t, s.done, None).await,
        "a member makes the admin-only move",
    );
    match &refused {
        Conflict::TransitionNotAllowed { from, to, why } => {
            assert_eq!((from.as_str(), to.as_str()), ("In Progress", "Done"));
            assert!(!why.trim().is_empty(), "the refusal explains why");
        }
        other => panic!("expected TransitionNotAllowed, got {other:?}"),
    }
    let refused = conflict(
        e.tasks()
            .update(
                &f.member,
                &t,
                TaskPatch {
                    status_id: Some(s.done),
                    title: Some("Sneaky".into()),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "an update that includes the admin-only move",
    );
    assert!(matches!(refused, Conflict::TransitionNotAllowed { .. }));
    assert_eq!(
        ok(e.tasks().get(&f.member, &t).await, "read").task.title,
        "Guarded",
        "a refused update changes no field"
    );
    let done = ok(
        e.tasks().transition(&f.admin, &t, s.done, None).await,
        "the admin makes the admin-only move",
    );
    assert_eq!(done.task.status_id, s.done);
    assert!(done.task.completed_at.is_some());
    let second = create_task(e, &f.member, f.project.id, titled("Owner's move")).await;
    let t2 = by_id(second.task.id);
    ok(
        e.tasks()
            .transition(&f.member, &t2, s.in_progress, None)
            .await,
        "Todo → In Progress",
    );
    ok(
        e.tasks().transition(&f.owner, &t2, s.done, None).await,
        "owners may make every listed move, whatever roles it names",
    );
    let refused = conflict(
        e.tasks().transition(&f.admin, &t, s.todo, None).await,
        "Done → Todo is not listed",
    );
    assert!(matches!(refused, Conflict::TransitionNotAllowed { .. }));

    // Back to an unrestricted workflow.
    let current = ok(e.workflows().get(&f.owner, f.project.id).await, "workflow");
    ok(
        e.workflows()
            .replace(
                &f.admin,
                f.project.id,
                WorkflowInput {
                    statuses: current
                        .statuses
                        .iter()
                        .map(|x| keep(&current, x.id))
                        .collect(),
                    transitions: None,
                    mapping: vec![],
                },
                None,
            )
            .await,
        "lift the restrictions",
    );
    ok(
        e.tasks().transition(&f.member, &t, s.backlog, None).await,
        "any move is allowed again",
    );
}

/// Transition conditions: no_open_blockers, all_subtasks_done and has_assignee.
pub async fn workflow_transition_conditions<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let s = f.statuses;
    let p = f.project.id;
    let flow = ok(e.workflows().get(&f.owner, p).await, "workflow");
    ok(
        e.workflows()
            .replace(
                &f.owner,
                p,
                WorkflowInput {
                    statuses: flow.statuses.iter().map(|x| keep(&flow, x.id)).collect(),
                    transitions: Some(vec![
                        TransitionInput {
                            conditions: vec![TransitionCondition::HasAssignee],
                            ..allow("Todo", "In Progress")
                        },
                        TransitionInput {
                            conditions: vec![
                                TransitionCondition::NoOpenBlockers,
                                TransitionCondition::AllSubtasksDone,
                            ],
                            ..allow("In Progress", "Done")
                        },
                        allow("Todo", "Done"),
                        allow("Todo", "Canceled"),
                    ]),
                    mapping: vec![],
                },
                None,
            )
            .await,
        "a workflow with conditions",
    );
    let why_of = |c: Conflict| match c {
        Conflict::TransitionNotAllowed { why, .. } => why,
        other => panic!("expected TransitionNotAllowed, got {other:?}"),
    };

    // has_assignee
    let a = create_task(e, &f.member, p, titled("Feature")).await;
    let ta = by_id(a.task.id);
    let why = why_of(conflict(
        e.tasks()
            .transition(&f.member, &ta, s.in_progress, None)
            .await,
        "start without an assignee",
    ));
    assert!(!why.trim().is_empty());
    ok(
        e.tasks()
            .update(
                &f.member,
                &ta,
                TaskPatch {
                    assignee_ids: Some(vec![f.member.user_id]),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "assign",
    );
    ok(
        e.tasks()
            .transition(&f.member, &ta, s.in_progress, None)
            .await,
        "start with an assignee",
    );

    // no_open_blockers and all_subtasks_done
    let b = create_task(e, &f.member, p, titled("Blocker")).await;
    let c = create_task(
        e,
        &f.member,
        p,
        NewTask {
            title: "Subtask".into(),
            parent_id: Some(a.task.id),
            ..NewTask::default()
        },
    )
    .await;
    ok(
        e.tasks()
            .add_dependency(&f.member, &ta, &by_id(b.task.id))
            .await,
        "Blocker blocks Feature",
    );
    let why = why_of(conflict(
        e.tasks().transition(&f.member, &ta, s.done, None).await,
        "finish while blocked",
    ));
    assert!(
        why.contains(&b.key),
        "the reason names the blocker {}: {why}",
        b.key
    );
    ok(
        e.tasks()
            .transition(&f.member, &by_id(b.task.id), s.done, None)
            .await,
        "finish the blocker",
    );
    let why = why_of(conflict(
        e.tasks().transition(&f.member, &ta, s.done, None).await,
        "finish with an open subtask",
    ));
    assert!(
        why.contains(&c.key),
        "the reason names the subtask {}: {why}",
        c.key
    );
    ok(
        e.tasks()
            .transition(&f.member, &by_id(c.task.id), s.done, None)
            .await,
        "finish the subtask",
    );
    let done = ok(
        e.tasks().transition(&f.member, &ta, s.done, None).await,
        "finish once blockers and subtasks are done",
    );
    assert_eq!(done.task.status_id, s.done);

    // Trashed and canceled blockers and subtasks do not hold a task back.
    let d = create_task(
        e,
        &f.member,
        p,
        NewTask {
            title: "Second feature".into(),
            assignee_ids: vec![f.admin.user_id],
            ..NewTask::default()
        },
    )
    .await;
    let td = by_id(d.task.id);
    ok(
        e.tasks()
            .transition(&f.member, &td, s.in_progress, None)
            .await,
        "start the second feature",
    );
    let trashed_blocker = create_task(e, &f.member, p, titled("Trashed blocker")).await;
    let canceled_blocker = create_task(e, &f.member, p, titled("Canceled blocker")).await;
    let trashed_child = create_task(
        e,
        &f.member,
        p,
        NewTask {
            title: "Trashed child".into(),
            parent_id: Some(d.task.id),
            ..NewTask::default()
        },
    )
    .await;
    for blocker in [&trashed_blocker, &canceled_blocker] {
        ok(
            e.tasks()
                .add_dependency(&f.member, &td, &by_id(blocker.task.id))
                .await,
            "add a blocker",
        );
    }
    let refused = conflict(
        e.tasks().transition(&f.member, &td, s.done, None).await,
        "finish with two open blockers and an open subtask",
    );
    assert!(matches!(refused, Conflict::TransitionNotAllowed { .. }));
    ok(
        e.tasks()
            .delete(&f.member, &by_id(trashed_blocker.task.id), None)
            .await,
        "trash a blocker",
    );
    ok(
        e.tasks()
            .transition(
                &f.member,
                &by_id(canceled_blocker.task.id),
                s.canceled,
                None,
            )
            .await,
        "cancel a blocker",
    );
    assert!(
        ok(e.tasks().get(&f.member, &td).await, "read")
            .blocked_by
            .is_empty(),
        "trashed and canceled blockers are not open"
    );
    let why = why_of(conflict(
        e.tasks().transition(&f.member, &td, s.done, None).await,
        "finish with an open subtask",
    ));
    assert!(why.contains(&trashed_child.key), "{why}");
    ok(
        e.tasks()
            .delete(&f.member, &by_id(trashed_child.task.id), None)
            .await,
        "trash the subtask",
    );
    ok(
        e.tasks().transition(&f.member, &td, s.done, None).await,
        "finish once the blockers are closed or trashed and the subtask trashed",
    );
}

/// Dropping statuses in use needs a mapping, applied atomically; bad input lists every field.
pub async fn workflow_replacement_remaps_tasks<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let s = f.statuses;
    let p = f.project.id;
    let in_status = |title: &str, status: StatusId| NewTask {
        title: title.into(),
        status_id: Some(status),
        ..NewTask::default()
    };
    let r1 = create_task(e, &f.member, p, in_status("review 1", s.in_review)).await;
    let r2 = create_task(e, &f.member, p, in_status("review 2", s.in_review)).await;
    let todo = create_task(e, &f.member, p, in_status("todo", s.todo)).await;
    let back = create_task(e, &f.member, p, in_status("backlog, trashed", s.backlog)).await;
    let prog = create_task(e, &f.member, p, in_status("in progress", s.in_progress)).await;
    ok(
        e.tasks()
            .delete(&f.member, &by_id(back.task.id), None)
            .await,
        "trash the backlog task",
    );
    let flow = ok(e.workflows().get(&f.owner, p).await, "workflow");
    let version_of = |id: TaskId| async move {
        e.store()
            .task(id)
            .await
            .expect("read")
            .expect("task exists")
            .version
    };
    let before: Vec<u64> = {
        let mut v = Vec::new();
        for t in [&r1, &r2, &todo, &back, &prog] {
            v.push(version_of(t.task.id).await);
        }
        v
    };

    let kept = || {
        vec![
            keep(&flow, s.todo),
            keep(&flow, s.in_progress),
            keep(&flow, s.done),
            keep(&flow, s.canceled),
            StatusInput {
                id: None,
                name: "Blocked".into(),
                category: StatusCategory::Started,
                color: None,
            },
        ]
    };

    forbidden(
        e.workflows()
            .replace(
                &f.member,
                p,
                WorkflowInput {
                    statuses: kept(),
                    transitions: None,
                    mapping: vec![],
                },
                None,
            )
            .await,
        "a member replaces the workflow",
    );

    // Dropping statuses in use without a mapping: nothing changes.
    let in_use = conflict(
        e.workflows()
            .replace(
                &f.owner,
                p,
                WorkflowInput {
                    statuses: kept(),
                    transitions: None,
                    mapping: vec![],
                },
                Some(flow.version),
            )
            .await,
        "drop In Review and Backlog without a mapping",
    );
    match in_use {
        Conflict::StatusesInUse { statuses } => assert_eq!(
            statuses.into_iter().collect::<BTreeSet<_>>(),
            BTreeSet::from(["Backlog".to_owned(), "In Review".to_owned()]),
            "the conflict names the dropped statuses that hold tasks (also trashed ones)"
        ),
        other => panic!("expected StatusesInUse, got {other:?}"),
    }
    // A partial mapping is not enough either.
    let in_use = conflict(
        e.workflows()
            .replace(
                &f.owner,
                p,
                WorkflowInput {
                    statuses: kept(),
                    transitions: None,
                    mapping: vec![(s.in_review, "Done".into())],
                },
                None,
            )
            .await,
        "map only In Review",
    );
    assert_eq!(
        in_use,
        Conflict::StatusesInUse {
            statuses: vec!["Backlog".into()]
        }
    );
    assert_eq!(
        ok(e.workflows().get(&f.owner, p).await, "workflow").version,
        flow.version,
        "the workflow is unchanged"
    );
    for (t, v) in [&r1, &r2, &todo, &back, &prog].iter().zip(&before) {
        let now = e
            .store()
            .task(t.task.id)
            .await
            .expect("read")
            .expect("task");
        assert_eq!(now.version, *v, "{} is unchanged", t.key);
        assert_eq!(now.status_id, t.task.status_id);
    }

    // With a mapping the tasks move in the same commit.
    let since = e.store().last_seq().await.expect("last seq");
    f.clock.advance(Duration::hours(1));
    let replaced = ok(
        e.workflows()
            .replace(
                &f.owner,
                p,
                WorkflowInput {
                    statuses: kept(),
                    transitions: None,
                    mapping: vec![(s.in_review, "done".into()), (s.backlog, "Blocked".into())],
                },
                Some(flow.version),
            )
            .await,
        "drop In Review and Backlog with a mapping",
    );
    assert_eq!(replaced.version, flow.version + 1);
    assert_eq!(
        replaced
            .statuses
            .iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Todo", "In Progress", "Done", "Canceled", "Blocked"]
    );
    let blocked = replaced.statuses[4].id;
    for r in [&r1, &r2] {
        let now = ok(e.tasks().get(&f.member, &by_id(r.task.id)).await, "read");
        assert_eq!(now.task.status_id, s.done, "{} moved to Done", r.key);
        assert_eq!(
            now.task.completed_at,
            Some(e.now()),
            "{}: completed_at follows the new category",
            r.key
        );
    }
    let moved_back = e
        .store()
        .task(back.task.id)
        .await
        .expect("read")
        .expect("task");
    assert_eq!(moved_back.status_id, blocked, "the trashed task moved too");
    assert!(moved_back.deleted_at.is_some(), "and stays in the trash");
    assert_eq!(
        version_of(todo.task.id).await,
        before[2],
        "a task in a kept status is not written"
    );
    let events = e
        .store()
        .events(&crate::event::EventQuery {
            scope: crate::event::EventScope::Project(p),
            after: since,
            limit: 100,
        })
        .await
        .expect("events");
    let transitioned = events
        .iter()
        .filter(|ev| matches!(ev.kind, EventKind::TaskTransitioned { .. }))
        .count();
    assert_eq!(transitioned, 3, "one transition event per moved task");
    assert!(
        events.iter().any(|ev| matches!(
            ev.kind,
            EventKind::WorkflowReplaced {
                remapped_tasks: 3,
                ..
            }
        )),
        "a workflow_replaced event counts the moved tasks: {events:?}"
    );
    let seqs: BTreeSet<u64> = events.iter().map(|ev| ev.seq).collect();
    assert_eq!(
        seqs.len(),
        events.len(),
        "events have distinct sequence numbers"
    );
    ok(
        e.tasks().restore(&f.member, &by_id(back.task.id)).await,
        "the remapped trashed task restores into a valid status",
    );

    // Changing kept statuses' categories fixes completed_at.
    f.clock.advance(Duration::hours(1));
    let later = e.now();
    let mut statuses: Vec<StatusInput> = replaced
        .statuses
        .iter()
        .map(|x| keep(&replaced, x.id))
        .collect();
    statuses[1].category = StatusCategory::Completed; // In Progress becomes a completed status
    statuses[1].name = "Finished".into();
    statuses[2].category = StatusCategory::Started; // Done becomes a started status
    let recat = ok(
        e.workflows()
            .replace(
                &f.owner,
                p,
                WorkflowInput {
                    statuses,
                    transitions: None,
                    mapping: vec![],
                },
                Some(replaced.version),
            )
            .await,
        "change categories of kept statuses",
    );
    assert_eq!(
        recat.status(s.in_progress).map(|x| x.name.as_str()),
        Some("Finished")
    );
    let now = ok(e.tasks().get(&f.member, &by_id(prog.task.id)).await, "read");
    assert_eq!(
        now.task.completed_at,
        Some(later),
        "a task in a status that became completed gets completed_at"
    );
    for r in [&r1, &r2] {
        let now = ok(e.tasks().get(&f.member, &by_id(r.task.id)).await, "read");
        assert_eq!(
            now.task.completed_at, None,
            "{}: a status that stopped being completed clears completed_at",
            r.key
        );
    }

    // Validation lists every problem.
    invalid_exactly(
        e.workflows()
            .replace(&f.owner, p, WorkflowInput::default(), None)
            .await,
        &["statuses"],
        "an empty workflow",
    );
    let bogus = StatusId(uuid::Uuid::now_v7());
    let current = ok(e.workflows().get(&f.owner, p).await, "workflow");
    let mut statuses: Vec<StatusInput> = current
        .statuses
        .iter()
        .map(|x| keep(&current, x.id))
        .collect();
    statuses.push(StatusInput {
        id: None,
        name: "todo".into(),
        category: StatusCategory::Unstarted,
        color: None,
    });
    statuses.push(StatusInput {
        id: Some(bogus),
        name: "Ghost".into(),
        category: StatusCategory::Started,
        color: None,
    });
    statuses.push(StatusInput {
        id: None,
        name: " ".into(),
        category: StatusCategory::Started,
        color: None,
    });
    invalid_exactly(
        e.workflows()
            .replace(
                &f.owner,
                p,
                WorkflowInput {
                    statuses,
                    transitions: Some(vec![allow("Todo", "Nowhere")]),
                    mapping: vec![(s.todo, "Nowhere".into())],
                },
                None,
            )
            .await,
        &[
            "statuses[5].name",
            "statuses[6].id",
            "statuses[7].name",
            "transitions[0].to",
            "mapping[0]",
        ],
        "duplicate name, unknown id, empty name, unknown transition target, bad mapping",
    );

    // A stale version conflicts.
    let stale = conflict(
        e.workflows()
            .replace(
                &f.owner,
                p,
                WorkflowInput {
                    statuses: current
                        .statuses
                        .iter()
                        .map(|x| keep(&current, x.id))
                        .collect(),
                    transitions: None,
                    mapping: vec![],
                },
                Some(flow.version),
            )
            .await,
        "replace with a stale version",
    );
    assert_eq!(
        stale,
        Conflict::StaleVersion {
            expected: flow.version,
            actual: current.version
        }
    );
}
