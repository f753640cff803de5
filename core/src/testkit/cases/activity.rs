//! Activity feeds read from the event log, and who may read them.

use time::Duration;

use super::support::*;
use crate::engine::{NewComment, TaskPatch};
use crate::event::{Event, EventKind};
use crate::model::Priority;
use crate::store::Store;
use crate::testkit::Fixture;

fn seqs(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

/// Feeds list their events oldest first after `since`, to members only, hiding deleted projects.
pub async fn activity_feeds_and_visibility<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let p = f.project.id;
    let start = e.store().last_seq().await.expect("last seq");

    f.clock.advance(Duration::minutes(1));
    let t1_created_at = e.now();
    let t1 = create_task(e, &f.member, p, titled("First")).await;
    let t = by_id(t1.task.id);
    f.clock.advance(Duration::minutes(1));
    let t2 = create_task(e, &f.admin, p, titled("Second")).await;
    f.clock.advance(Duration::minutes(1));
    let updated_at = e.now();
    ok(
        e.tasks()
            .update(
                &f.admin,
                &t,
                TaskPatch {
                    priority: Some(Priority::Low),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "update the first task",
    );
    f.clock.advance(Duration::minutes(1));
    ok(
        e.comments()
            .create(
                &f.guest,
                &t,
                NewComment {
                    body: "Looks good".into(),
                    parent_id: None,
                },
            )
            .await,
        "the guest comments",
    );
    f.clock.advance(Duration::minutes(1));
    let moved_at = e.now();
    ok(
        e.tasks()
            .transition(&f.owner, &t, f.statuses.done, None)
            .await,
        "finish the first task",
    );

    // The task feed: only this task's events, oldest first.
    let feed = ok(
        e.activity().of_task(&f.member, &t, 0, None).await,
        "task feed",
    );
    assert_eq!(
        kinds(&feed),
        vec![
            "task_created",
            "task_updated",
            "comment_added",
            "task_transitioned"
        ]
    );
    let s = seqs(&feed);
    assert!(s.windows(2).all(|w| w[0] < w[1]), "oldest first: {s:?}");
    assert!(feed.iter().all(|ev| ev.task_id == Some(t1.task.id)));
    assert!(feed.iter().all(|ev| ev.project_id == Some(p)));
    assert!(feed.iter().all(|ev| ev.workspace_id == f.workspace.id));
    assert_eq!(
        feed.iter().map(|ev| ev.actor_id).collect::<Vec<_>>(),
        vec![
            f.member.user_id,
            f.admin.user_id,
            f.guest.user_id,
            f.owner.user_id
        ],
        "each event names its actor"
    );
    assert_eq!(feed[0].at, t1_created_at, "events carry the clock's time");
    assert_eq!(feed[1].at, updated_at);
    assert_eq!(feed[3].at, moved_at);
    match &feed[0].kind {
        EventKind::TaskCreated {
            key,
            title,
            status_id,
        } => {
            assert_eq!(key, "ENG-1");
            assert_eq!(title, "First");
            assert_eq!(*status_id, f.statuses.todo);
        }
        other => panic!("expected task_created, got {other:?}"),
    }
    // `since` returns only later events; the key works as well as the id.
    let later = ok(
        e.activity()
            .of_task(&f.guest, &by_key("ENG-1"), feed[1].seq, None)
            .await,
        "task feed since the update",
    );
    assert_eq!(seqs(&later), s[2..].to_vec());
    assert!(
        ok(
            e.activity().of_task(&f.guest, &t, s[3], None).await,
            "caught up"
        )
        .is_empty(),
        "nothing after the last event"
    );
    let limited = ok(
        e.activity().of_task(&f.guest, &t, 0, Some(2)).await,
        "limit 2",
    );
    assert_eq!(seqs(&limited), s[..2].to_vec(), "a limit keeps the oldest");

    // The project feed: every event of the project since the start.
    let project_feed = ok(
        e.activity().of_project(&f.guest, p, start, None).await,
        "project feed",
    );
    assert_eq!(
        kinds(&project_feed),
        vec![
            "task_created",
            "task_created",
            "task_updated",
            "comment_added",
            "task_transitioned"
        ]
    );
    assert_eq!(project_feed[1].task_id, Some(t2.task.id));
    let ps = seqs(&project_feed);
    assert!(ps.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert!(ps.iter().all(|s| *s > start), "only events after since");
    let tail = ok(
        e.activity().of_project(&f.guest, p, ps[2], None).await,
        "project feed since the third event",
    );
    assert_eq!(seqs(&tail), ps[3..].to_vec());

    // The workspace feed includes the projects' events and the workspace's own.
    let ws_feed = ok(
        e.activity()
            .of_workspace(&f.guest, f.workspace.id, 0, Some(1000))
            .await,
        "workspace feed",
    );
    let ws_kinds = kinds(&ws_feed);
    assert_eq!(
        ws_kinds[0], "workspace_created",
        "the workspace's first event"
    );
    assert!(ws_kinds.contains(&"member_added") && ws_kinds.contains(&"project_created"));
    let wss = seqs(&ws_feed);
    assert!(wss.windows(2).all(|w| w[0] < w[1]), "oldest first");
    for s in &ps {
        assert!(
            wss.contains(s),
            "the project's event {s} is in the workspace feed"
        );
    }
    assert!(
        ws_feed.iter().all(|ev| ev.workspace_id == f.workspace.id),
        "no other workspace's events"
    );
    let ws_tail = ok(
        e.activity()
            .of_workspace(&f.guest, f.workspace.id, ps[3], None)
            .await,
        "workspace feed since",
    );
    assert_eq!(seqs(&ws_tail), ps[4..].to_vec());

    // Outsiders read no feed.
    not_found(
        e.activity().of_task(&f.outsider, &t, 0, None).await,
        "task feed",
    );
    not_found(
        e.activity().of_project(&f.outsider, p, 0, None).await,
        "project feed",
    );
    not_found(
        e.activity()
            .of_workspace(&f.outsider, f.workspace.id, 0, None)
            .await,
        "workspace feed",
    );
    let theirs = ok(
        e.activity()
            .of_workspace(&f.outsider, f.other_workspace.id, 0, None)
            .await,
        "the outsider's own feed",
    );
    assert!(
        theirs
            .iter()
            .all(|ev| ev.workspace_id == f.other_workspace.id),
        "the outsider's feed holds only their workspace"
    );
    assert!(!theirs.is_empty());

    // A trashed task's feed stays readable.
    ok(
        e.tasks().delete(&f.member, &by_id(t2.task.id), None).await,
        "trash the second task",
    );
    assert_eq!(
        kinds(&ok(
            e.activity()
                .of_task(&f.member, &by_id(t2.task.id), 0, None)
                .await,
            "feed of a trashed task"
        )),
        vec!["task_created", "task_deleted"]
    );

    // A deleted project's events leave the workspace feed (and its own feeds are gone).
    let ops = f.project_named("OPS").await;
    let ops_task = create_task(e, &f.member, ops.id, titled("Ops work")).await;
    let before_delete = ok(
        e.activity()
            .of_workspace(&f.member, f.workspace.id, 0, Some(1000))
            .await,
        "workspace feed",
    );
    assert!(before_delete.iter().any(|ev| ev.project_id == Some(ops.id)));
    for i in 0..5 {
        create_task(e, &f.member, ops.id, titled(&format!("More ops work {i}"))).await;
    }
    let ops_done = e.store().last_seq().await.expect("last seq");
    ok(
        e.projects().delete(&f.owner, ops.id, None).await,
        "delete OPS",
    );
    let after_ops = create_task(e, &f.member, p, titled("After OPS")).await;
    let after_delete = ok(
        e.activity()
            .of_workspace(&f.member, f.workspace.id, 0, Some(1000))
            .await,
        "workspace feed after deleting OPS",
    );
    assert!(
        after_delete.iter().all(|ev| ev.project_id != Some(ops.id)),
        "no event of the deleted project is shown"
    );
    assert!(
        after_delete.iter().any(|ev| ev.project_id == Some(p)),
        "the other project's events stay"
    );
    // A reader following the feed in small pages is not stopped by the hidden events.
    let since_ops = before_delete.last().map(|ev| ev.seq).unwrap_or(0);
    assert!(since_ops < ops_done);
    let page = ok(
        e.activity()
            .of_workspace(&f.member, f.workspace.id, since_ops, Some(3))
            .await,
        "a small page after the deleted project's events",
    );
    assert_eq!(
        page.iter().map(|ev| ev.task_id).collect::<Vec<_>>(),
        vec![Some(after_ops.task.id)],
        "hidden events do not eat the page: the next visible event is returned"
    );
    not_found(
        e.activity().of_project(&f.member, ops.id, 0, None).await,
        "the deleted project's feed",
    );
    not_found(
        e.activity()
            .of_task(&f.member, &by_id(ops_task.task.id), 0, None)
            .await,
        "a deleted project's task feed",
    );
}
