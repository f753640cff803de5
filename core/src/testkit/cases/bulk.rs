//! Bulk operations: one atomic commit, all or nothing, every failure named.

use std::collections::BTreeSet;

use super::support::*;
use crate::engine::{
    BulkAction, BulkRequest, BulkSet, NewMilestone, NewTask, StatusInput, TaskRef, TransitionInput,
    WorkflowInput,
};
use crate::error::{Conflict, Error};
use crate::event::{EventQuery, EventScope};
use crate::ids::TaskId;
use crate::model::Priority;
use crate::store::Store;
use crate::testkit::Fixture;

/// Bulk changes commit atomically, or fail naming every failing task and change nothing.
pub async fn tasks_bulk_all_or_nothing<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let p = f.project.id;
    let s = f.statuses;
    let mut tasks = Vec::new();
    for i in 1..=6 {
        tasks.push(create_task(e, &f.member, p, titled(&format!("Bulk {i}"))).await);
    }

    // Set a field on five tasks, named by id or key.
    let since = e.store().last_seq().await.expect("last seq");
    let refs: Vec<TaskRef> = tasks[..5]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i % 2 == 0 {
                by_id(t.task.id)
            } else {
                by_key(&t.key)
            }
        })
        .collect();
    let changed = ok(
        e.tasks()
            .bulk(
                &f.member,
                p,
                BulkRequest {
                    task_ids: refs,
                    action: BulkAction::Set(BulkSet {
                        priority: Some(Priority::High),
                        ..BulkSet::default()
                    }),
                },
            )
            .await,
        "bulk set priority",
    );
    assert_eq!(changed.len(), 5);
    for t in &tasks[..5] {
        let now = ok(e.tasks().get(&f.member, &by_id(t.task.id)).await, "read");
        assert_eq!(now.task.priority, Priority::High, "{} changed", t.key);
        assert_eq!(now.task.version, t.task.version + 1);
    }
    assert_eq!(
        ok(
            e.tasks().get(&f.member, &by_id(tasks[5].task.id)).await,
            "read"
        )
        .task
        .priority,
        Priority::None,
        "the unlisted task is untouched"
    );
    let events = e
        .store()
        .events(&EventQuery {
            scope: EventScope::All,
            after: since,
            limit: 100,
        })
        .await
        .expect("events");
    assert_eq!(
        kinds(&events),
        vec!["task_updated"; 5],
        "one task_updated per task"
    );
    for pair in events.windows(2) {
        assert_eq!(
            pair[1].seq,
            pair[0].seq + 1,
            "the events are consecutive: one commit"
        );
    }
    for ev in &events {
        assert_eq!(changed_fields(&ev.kind), vec!["priority"]);
        assert_eq!(ev.actor_id, f.member.user_id);
    }
    let updated_ids: BTreeSet<TaskId> = events.iter().filter_map(|ev| ev.task_id).collect();
    assert_eq!(
        updated_ids,
        tasks[..5]
            .iter()
            .map(|t| t.task.id)
            .collect::<BTreeSet<_>>()
    );

    // Labels, milestones and assignees in bulk.
    let label = ok(
        e.labels()
            .create(
                &f.member,
                p,
                crate::engine::NewLabel {
                    name: "triaged".into(),
                    color: None,
                },
            )
            .await,
        "label",
    );
    let milestone = ok(
        e.milestones()
            .create(
                &f.member,
                p,
                NewMilestone {
                    name: "Sprint 1".into(),
                    due_on: None,
                },
            )
            .await,
        "milestone",
    );
    ok(
        e.tasks()
            .bulk(
                &f.member,
                p,
                BulkRequest {
                    task_ids: vec![by_id(tasks[0].task.id), by_id(tasks[1].task.id)],
                    action: BulkAction::Set(BulkSet {
                        add_label_ids: vec![label.id],
                        milestone_id: Some(Some(milestone.milestone.id)),
                        assignee_ids: Some(vec![f.member.user_id, f.member.user_id]),
                        ..BulkSet::default()
                    }),
                },
            )
            .await,
        "bulk label, milestone and assignees",
    );
    for t in &tasks[..2] {
        let now = ok(e.tasks().get(&f.member, &by_id(t.task.id)).await, "read").task;
        assert_eq!(now.label_ids, vec![label.id]);
        assert_eq!(now.milestone_id, Some(milestone.milestone.id));
        assert_eq!(
            now.assignee_ids,
            vec![f.member.user_id],
            "assignees without duplicates"
        );
    }
    ok(
        e.tasks()
            .bulk(
                &f.member,
                p,
                BulkRequest {
                    task_ids: vec![by_id(tasks[0].task.id)],
                    action: BulkAction::Set(BulkSet {
                        remove_label_ids: vec![label.id],
                        milestone_id: Some(None),
                        ..BulkSet::default()
                    }),
                },
            )
            .await,
        "bulk remove a label and clear the milestone",
    );
    let now = ok(
        e.tasks().get(&f.member, &by_id(tasks[0].task.id)).await,
        "read",
    )
    .task;
    assert!(now.label_ids.is_empty() && now.milestone_id.is_none());

    // All or nothing: an unknown task and a forbidden transition.
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
                        .map(|x| StatusInput {
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
        "allow only Todo → In Progress",
    );
    let finished = create_task(
        e,
        &f.member,
        p,
        NewTask {
            title: "Finished".into(),
            status_id: Some(s.done),
            ..NewTask::default()
        },
    )
    .await;
    let unknown = TaskId(uuid::Uuid::now_v7());
    let listed = [
        tasks[2].task.id,
        unknown,
        finished.task.id,
        tasks[3].task.id,
    ];
    let before: Vec<u64> = {
        let mut v = Vec::new();
        for id in [tasks[2].task.id, finished.task.id, tasks[3].task.id] {
            v.push(
                ok(e.tasks().get(&f.member, &by_id(id)).await, "read")
                    .task
                    .version,
            );
        }
        v
    };
    let seq_before = e.store().last_seq().await.expect("last seq");
    let failed = e
        .tasks()
        .bulk(
            &f.member,
            p,
            BulkRequest {
                task_ids: listed.iter().map(|id| by_id(*id)).collect(),
                action: BulkAction::Set(BulkSet {
                    status_id: Some(s.in_progress),
                    priority: Some(Priority::Urgent),
                    ..BulkSet::default()
                }),
            },
        )
        .await;
    match failed {
        Err(Error::Bulk(failures)) => {
            assert_eq!(
                failures.len(),
                2,
                "exactly the two failing tasks: {failures:?}"
            );
            let unknown_failure = failures
                .iter()
                .find(|x| x.task == unknown.to_string())
                .unwrap_or_else(|| panic!("the unknown task is named: {failures:?}"));
            assert!(
                matches!(unknown_failure.error, Error::NotFound { .. }),
                "the unknown task is not found: {:?}",
                unknown_failure.error
            );
            let refused = failures
                .iter()
                .find(|x| x.task == finished.task.id.to_string())
                .unwrap_or_else(|| panic!("the finished task is named: {failures:?}"));
            assert!(
                matches!(
                    refused.error,
                    Error::Conflict(Conflict::TransitionNotAllowed { .. })
                ),
                "the forbidden transition is the reason: {:?}",
                refused.error
            );
        }
        other => panic!("expected Error::Bulk, got {other:?}"),
    }
    for (id, v) in [tasks[2].task.id, finished.task.id, tasks[3].task.id]
        .iter()
        .zip(&before)
    {
        let now = ok(e.tasks().get(&f.member, &by_id(*id)).await, "read").task;
        assert_eq!(now.version, *v, "nothing changed");
        assert_ne!(now.priority, Priority::Urgent, "nothing changed");
    }
    assert_eq!(
        e.store().last_seq().await.expect("last seq"),
        seq_before,
        "a failed bulk appends no event"
    );
    // A task of another project is not found in this one.
    let ops = f.project_named("OPS").await;
    let foreign = create_task(e, &f.member, ops.id, titled("Ops task")).await;
    match e
        .tasks()
        .bulk(
            &f.member,
            p,
            BulkRequest {
                task_ids: vec![by_id(tasks[4].task.id), by_id(foreign.task.id)],
                action: BulkAction::Set(BulkSet {
                    priority: Some(Priority::Low),
                    ..BulkSet::default()
                }),
            },
        )
        .await
    {
        Err(Error::Bulk(failures)) => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].task, foreign.task.id.to_string());
            assert!(matches!(failures[0].error, Error::NotFound { .. }));
        }
        other => panic!("expected Error::Bulk, got {other:?}"),
    }

    // Bulk delete: tasks (with their subtasks) go to the trash together.
    let parent = create_task(e, &f.member, p, titled("Parent")).await;
    let child = create_task(
        e,
        &f.member,
        p,
        NewTask {
            title: "Child".into(),
            parent_id: Some(parent.task.id),
            ..NewTask::default()
        },
    )
    .await;
    ok(
        e.tasks()
            .bulk(
                &f.member,
                p,
                BulkRequest {
                    task_ids: vec![
                        by_id(parent.task.id),
                        by_key(&child.key),
                        by_id(tasks[5].task.id),
                    ],
                    action: BulkAction::Delete,
                },
            )
            .await,
        "bulk delete a parent, its child and another task",
    );
    for t in [&parent, &child, &tasks[5]] {
        not_found(e.tasks().get(&f.member, &by_id(t.task.id)).await, &t.key);
    }
    ok(
        e.tasks().restore(&f.member, &by_id(parent.task.id)).await,
        "restore the parent",
    );
    ok(
        e.tasks().get(&f.member, &by_id(child.task.id)).await,
        "the child came back with its parent",
    );

    // Validation of the request itself.
    let too_many: Vec<TaskRef> = (0..=e.config().max_bulk_tasks)
        .map(|_| by_id(TaskId(uuid::Uuid::now_v7())))
        .collect();
    invalid_field(
        e.tasks()
            .bulk(
                &f.member,
                p,
                BulkRequest {
                    task_ids: too_many,
                    action: BulkAction::Delete,
                },
            )
            .await,
        "task_ids",
        "more tasks than max_bulk_tasks",
    );
    invalid_field(
        e.tasks()
            .bulk(
                &f.member,
                p,
                BulkRequest {
                    task_ids: vec![],
                    action: BulkAction::Delete,
                },
            )
            .await,
        "task_ids",
        "no tasks",
    );
    invalid_exactly(
        e.tasks()
            .bulk(
                &f.member,
                p,
                BulkRequest {
                    task_ids: vec![by_id(tasks[0].task.id), by_id(tasks[0].task.id)],
                    action: BulkAction::Delete,
                },
            )
            .await,
        &["task_ids[1]"],
        "the same task twice",
    );
    invalid_exactly(
        e.tasks()
            .bulk(
                &f.member,
                p,
                BulkRequest {
                    task_ids: vec![by_id(tasks[0].task.id), by_key(&tasks[0].key)],
                    action: BulkAction::Delete,
                },
            )
            .await,
        &["task_ids[1]"],
        "the same task by id and by key",
    );
    invalid_field(
        e.tasks()
            .bulk(
                &f.member,
                p,
                BulkRequest {
                    task_ids: vec![by_id(tasks[0].task.id)],
                    action: BulkAction::Set(BulkSet {
                        assignee_ids: Some(vec![f.outsider.user_id]),
                        ..BulkSet::default()
                    }),
                },
            )
            .await,
        "assignee_ids[0]",
        "a non-member assignee",
    );
    ok(
        e.tasks().get(&f.member, &by_id(tasks[0].task.id)).await,
        "the refused bulk deletes deleted nothing",
    );
}
