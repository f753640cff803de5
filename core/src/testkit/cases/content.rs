//! Labels, milestones and comments.

use time::macros::date;
use time::Duration;

use super::support::*;
use crate::engine::{
    LabelPatch, MilestonePatch, NewComment, NewLabel, NewMilestone, NewTask, TaskListRequest,
};
use crate::error::Conflict;
use crate::event::EventKind;
use crate::ids::CommentId;
use crate::store::Store;
use crate::testkit::Fixture;

fn label(name: &str, color: Option<&str>) -> NewLabel {
    NewLabel {
        name: name.into(),
        color: color.map(str::to_owned),
    }
}

/// Labels are unique and validated; deleting a label or milestone clears it from every task.
pub async fn labels_and_milestones<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let p = f.project.id;

    // Labels.
    let bug = ok(
        e.labels()
            .create(&f.member, p, label("bug", Some("#d73a4a")))
            .await,
        "create bug",
    );
    assert_eq!(bug.color.as_deref(), Some("#d73a4a"));
    let dup = conflict(
        e.labels().create(&f.member, p, label("BUG", None)).await,
        "create BUG",
    );
    assert!(
        matches!(&dup, Conflict::Duplicate { field, .. } if field == "name"),
        "a taken label name is a duplicate on `name`, got {dup:?}"
    );
    invalid_exactly(
        e.labels()
            .create(&f.member, p, label("  ", Some("red")))
            .await,
        &["name", "color"],
        "an empty name and a bad colour",
    );
    for bad in ["#12345", "#GGGGGG", "d73a4a", "#d73a4a0"] {
        invalid_exactly(
            e.labels()
                .create(&f.member, p, label("ok", Some(bad)))
                .await,
            &["color"],
            &format!("colour '{bad}'"),
        );
    }
    let feature = ok(
        e.labels()
            .create(&f.member, p, label("feature", None))
            .await,
        "create feature",
    );
    let ops = f.project_named("OPS").await;
    ok(
        e.labels()
            .create(&f.member, ops.id, label("bug", None))
            .await,
        "the same name in another project",
    );

    let renamed = ok(
        e.labels()
            .update(
                &f.member,
                bug.id,
                LabelPatch {
                    name: Some("defect".into()),
                    color: Some(None),
                },
                Some(bug.version),
            )
            .await,
        "rename bug to defect and drop its colour",
    );
    assert_eq!(renamed.name, "defect");
    assert_eq!(renamed.color, None);
    assert_eq!(renamed.version, bug.version + 1);
    let dup = conflict(
        e.labels()
            .update(
                &f.member,
                feature.id,
                LabelPatch {
                    name: Some("DEFECT".into()),
                    color: None,
                },
                None,
            )
            .await,
        "rename feature to DEFECT",
    );
    assert!(
        matches!(&dup, Conflict::Duplicate { field, .. } if field == "name"),
        "renaming onto a taken name is a duplicate on `name`, got {dup:?}"
    );
    ok(
        e.labels()
            .update(
                &f.member,
                feature.id,
                LabelPatch {
                    name: Some("Feature".into()),
                    color: None,
                },
                None,
            )
            .await,
        "a label may change the case of its own name",
    );
    let stale = conflict(
        e.labels()
            .update(
                &f.member,
                bug.id,
                LabelPatch {
                    color: Some(Some("#000000".into())),
                    name: None,
                },
                Some(bug.version),
            )
            .await,
        "a stale label update",
    );
    assert!(
        matches!(stale, Conflict::StaleVersion { .. }),
        "got {stale:?}"
    );
    invalid_field(
        e.labels()
            .update(
                &f.member,
                bug.id,
                LabelPatch {
                    color: Some(Some("blue".into())),
                    name: None,
                },
                None,
            )
            .await,
        "color",
        "a bad colour on update",
    );
    assert_eq!(
        ok(e.labels().list(&f.guest, p).await, "list labels")
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>(),
        vec!["defect", "Feature"],
        "labels by name"
    );

    let with = |title: &str, labels: Vec<crate::ids::LabelId>| NewTask {
        title: title.into(),
        label_ids: labels,
        ..NewTask::default()
    };
    let t1 = create_task(e, &f.member, p, with("both", vec![bug.id, feature.id])).await;
    let t2 = create_task(e, &f.member, p, with("defect only", vec![bug.id])).await;
    let t3 = create_task(e, &f.member, p, with("trashed", vec![bug.id, feature.id])).await;
    ok(
        e.tasks().delete(&f.member, &by_id(t3.task.id), None).await,
        "trash t3",
    );
    ok(
        e.labels().delete(&f.member, bug.id, None).await,
        "delete defect",
    );
    not_found(e.labels().get(&f.member, bug.id).await, "the deleted label");
    assert_eq!(
        ok(e.tasks().get(&f.member, &by_id(t1.task.id)).await, "t1")
            .task
            .label_ids,
        vec![feature.id],
        "the label is gone from t1"
    );
    assert!(
        ok(e.tasks().get(&f.member, &by_id(t2.task.id)).await, "t2")
            .task
            .label_ids
            .is_empty(),
        "the label is gone from t2"
    );
    let back = ok(
        e.tasks().restore(&f.member, &by_id(t3.task.id)).await,
        "restore t3",
    );
    assert_eq!(
        back.task.label_ids,
        vec![feature.id],
        "the label is gone from the trashed task too"
    );
    let page = ok(
        e.tasks()
            .list(
                &f.member,
                p,
                TaskListRequest {
                    q: Some("label:defect".into()),
                    ..TaskListRequest::default()
                },
            )
            .await,
        "filter by the deleted label",
    );
    assert!(page.items.is_empty());
    ok(
        e.labels().create(&f.member, p, label("Defect", None)).await,
        "the name is free again",
    );

    // Milestones.
    let beta = ok(
        e.milestones()
            .create(
                &f.member,
                p,
                NewMilestone {
                    name: "Beta".into(),
                    due_on: Some(date!(2026 - 12 - 01)),
                },
            )
            .await,
        "create Beta",
    );
    assert_eq!((beta.total, beta.done, beta.progress), (0, 0, 0.0));
    assert!(!beta.milestone.closed);
    invalid_field(
        e.milestones()
            .create(
                &f.member,
                p,
                NewMilestone {
                    name: " ".into(),
                    due_on: None,
                },
            )
            .await,
        "name",
        "an empty milestone name",
    );
    let id = beta.milestone.id;
    let in_beta = |title: &str| NewTask {
        title: title.into(),
        milestone_id: Some(id),
        ..NewTask::default()
    };
    let a = create_task(e, &f.member, p, in_beta("a")).await;
    let b = create_task(e, &f.member, p, in_beta("b")).await;
    let c = create_task(e, &f.member, p, in_beta("c")).await;
    let progress = |what: &'static str| async move {
        let m = ok(e.milestones().get(&f.guest, id).await, what);
        (m.total, m.done, m.progress)
    };
    assert_eq!(progress("three open").await, (3, 0, 0.0));
    ok(
        e.tasks()
            .transition(&f.member, &by_id(a.task.id), f.statuses.done, None)
            .await,
        "finish a",
    );
    let (total, done, ratio) = progress("one done").await;
    assert_eq!((total, done), (3, 1));
    assert!((ratio - 1.0 / 3.0).abs() < 1e-9, "progress {ratio}");
    ok(
        e.tasks()
            .transition(&f.member, &by_id(c.task.id), f.statuses.canceled, None)
            .await,
        "cancel c",
    );
    assert_eq!(progress("one done, one canceled").await.0, 3);
    assert_eq!(
        progress("one done, one canceled").await.1,
        2,
        "canceled counts as done"
    );
    ok(
        e.tasks().delete(&f.member, &by_id(b.task.id), None).await,
        "trash b",
    );
    assert_eq!(
        progress("b trashed").await,
        (2, 2, 1.0),
        "trashed tasks do not count"
    );
    ok(
        e.tasks().restore(&f.member, &by_id(b.task.id)).await,
        "restore b",
    );
    assert_eq!(progress("b restored").await.0, 3);
    ok(
        e.tasks()
            .transition(&f.member, &by_id(a.task.id), f.statuses.todo, None)
            .await,
        "reopen a",
    );
    assert_eq!(progress("a reopened").await.1, 1);

    let closed = ok(
        e.milestones()
            .update(
                &f.member,
                id,
                MilestonePatch {
                    name: Some("Beta 1".into()),
                    due_on: Some(None),
                    closed: Some(true),
                },
                Some(beta.milestone.version),
            )
            .await,
        "rename, undate and close Beta",
    );
    assert_eq!(closed.milestone.name, "Beta 1");
    assert_eq!(closed.milestone.due_on, None);
    assert!(closed.milestone.closed);
    assert_eq!(closed.milestone.version, beta.milestone.version + 1);
    assert_eq!(closed.total, 3, "the view carries progress");
    let stale = conflict(
        e.milestones()
            .update(
                &f.member,
                id,
                MilestonePatch {
                    closed: Some(false),
                    ..MilestonePatch::default()
                },
                Some(beta.milestone.version),
            )
            .await,
        "a stale milestone update",
    );
    assert!(
        matches!(stale, Conflict::StaleVersion { .. }),
        "got {stale:?}"
    );
    ok(
        e.milestones()
            .create(
                &f.member,
                p,
                NewMilestone {
                    name: "Alpha".into(),
                    due_on: Some(date!(2026 - 11 - 15)),
                },
            )
            .await,
        "create Alpha",
    );
    assert_eq!(
        ok(e.milestones().list(&f.guest, p).await, "list milestones")
            .iter()
            .map(|m| m.milestone.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Alpha", "Beta 1"],
        "milestones by due date, undated last"
    );

    ok(
        e.tasks().delete(&f.member, &by_id(c.task.id), None).await,
        "trash c",
    );
    ok(
        e.milestones().delete(&f.member, id, None).await,
        "delete Beta 1",
    );
    not_found(
        e.milestones().get(&f.member, id).await,
        "the deleted milestone",
    );
    for t in [&a, &b] {
        assert_eq!(
            ok(e.tasks().get(&f.member, &by_id(t.task.id)).await, "read")
                .task
                .milestone_id,
            None,
            "{} left the deleted milestone",
            t.key
        );
    }
    let back = ok(
        e.tasks().restore(&f.member, &by_id(c.task.id)).await,
        "restore c",
    );
    assert_eq!(back.task.milestone_id, None, "the trashed task left it too");
}

/// Comments thread, resolve member mentions, keep edit history and obey author-or-admin rules.
pub async fn comments_threads_mentions_history<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let task = f.task("Discuss").await;
    let other = f.task("Elsewhere").await;
    let t = by_id(task.task.id);
    let say = |body: &str, parent: Option<CommentId>| NewComment {
        body: body.into(),
        parent_id: parent,
    };

    let first = ok(
        e.comments()
            .create(
                &f.owner,
                &t,
                say(
                    "cc @mia@example.com, @miamember and @AdamAdmin: see \
                     @otto@example.com, @ottooutsider and @nobody.",
                    None,
                ),
            )
            .await,
        "the owner comments with mentions",
    );
    assert_eq!(first.author_id, f.owner.user_id);
    assert_eq!(
        first.mentions,
        vec![f.member.user_id, f.admin.user_id],
        "members are mentioned once each; outsiders and unknown names are ignored"
    );
    let events = ok(
        e.activity().of_task(&f.member, &t, 0, None).await,
        "task feed",
    );
    let added = events.last().expect("an event");
    match &added.kind {
        EventKind::CommentAdded {
            comment_id,
            parent_id,
            mentions,
        } => {
            assert_eq!(*comment_id, first.id);
            assert_eq!(*parent_id, None);
            assert_eq!(mentions, &first.mentions, "the event carries the mentions");
        }
        other => panic!("expected comment_added, got {other:?}"),
    }
    assert_eq!(added.actor_id, f.owner.user_id);

    invalid_field(
        e.comments().create(&f.member, &t, say("  \n ", None)).await,
        "body",
        "an empty comment",
    );

    // Threads.
    f.clock.advance(Duration::minutes(1));
    let reply = ok(
        e.comments()
            .create(
                &f.member,
                &t,
                say("On it, @olivia@example.com", Some(first.id)),
            )
            .await,
        "a reply",
    );
    assert_eq!(reply.parent_id, Some(first.id));
    assert_eq!(reply.mentions, vec![f.owner.user_id]);
    let elsewhere = ok(
        e.comments()
            .create(&f.member, &by_id(other.task.id), say("unrelated", None))
            .await,
        "a comment on another task",
    );
    invalid_field(
        e.comments()
            .create(&f.member, &t, say("wrong thread", Some(elsewhere.id)))
            .await,
        "parent_id",
        "a parent comment of another task",
    );
    invalid_field(
        e.comments()
            .create(
                &f.member,
                &t,
                say("no parent", Some(CommentId(uuid::Uuid::now_v7()))),
            )
            .await,
        "parent_id",
        "an unknown parent comment",
    );

    // Edits keep history and re-resolve mentions.
    f.clock.advance(Duration::minutes(1));
    let edited = ok(
        e.comments()
            .edit(
                &f.member,
                reply.id,
                "Done, thanks @gusguest",
                Some(reply.version),
            )
            .await,
        "the author edits",
    );
    assert_eq!(edited.body, "Done, thanks @gusguest");
    assert_eq!(edited.revisions.len(), 1);
    assert_eq!(edited.revisions[0].body, "On it, @olivia@example.com");
    assert_eq!(edited.revisions[0].replaced_at, e.now());
    assert_eq!(
        edited.mentions,
        vec![f.guest.user_id],
        "mentions follow the new text"
    );
    assert_eq!(edited.version, reply.version + 1);
    let events = ok(
        e.activity().of_task(&f.member, &t, 0, None).await,
        "task feed",
    );
    match &events.last().expect("an event").kind {
        EventKind::CommentEdited {
            comment_id,
            mentions,
        } => {
            assert_eq!(*comment_id, reply.id);
            assert_eq!(mentions, &vec![f.guest.user_id]);
        }
        other => panic!("expected comment_edited, got {other:?}"),
    }
    let stale = conflict(
        e.comments()
            .edit(&f.member, reply.id, "again", Some(reply.version))
            .await,
        "a stale edit",
    );
    assert!(
        matches!(stale, Conflict::StaleVersion { .. }),
        "got {stale:?}"
    );
    invalid_field(
        e.comments().edit(&f.member, reply.id, "", None).await,
        "body",
        "an empty edit",
    );

    // Only the author or an admin.
    forbidden(
        e.comments()
            .edit(&f.member, first.id, "hijacked", None)
            .await,
        "a member edits the owner's comment",
    );
    forbidden(
        e.comments().delete(&f.member, first.id, None).await,
        "a member deletes the owner's comment",
    );
    let moderated = ok(
        e.comments()
            .edit(
                &f.admin,
                reply.id,
                "Done, thanks (edited by an admin)",
                None,
            )
            .await,
        "an admin edits a member's comment",
    );
    assert_eq!(moderated.revisions.len(), 2);
    assert_eq!(moderated.author_id, f.member.user_id, "the author stays");

    // Delete blanks the comment but keeps its place.
    f.clock.advance(Duration::minutes(1));
    ok(
        e.comments().delete(&f.owner, first.id, None).await,
        "the author deletes",
    );
    let listed = ok(e.comments().list(&f.guest, &t).await, "list comments");
    assert_eq!(
        listed.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![first.id, reply.id],
        "oldest first; the deleted comment keeps its place"
    );
    let gone = &listed[0];
    assert_eq!(gone.body, "", "the text is gone");
    assert_eq!(gone.deleted_at, Some(e.now()));
    assert!(gone.revisions.is_empty(), "the history is gone too");
    assert!(gone.mentions.is_empty());
    assert_eq!(
        listed[1].parent_id,
        Some(first.id),
        "the reply still points at it"
    );
    not_found(
        e.comments()
            .edit(&f.owner, first.id, "resurrect", None)
            .await,
        "editing a deleted comment",
    );
    assert_eq!(
        ok(e.comments().get(&f.guest, reply.id).await, "get the reply").body,
        "Done, thanks (edited by an admin)"
    );
    let events = ok(
        e.activity().of_task(&f.member, &t, 0, None).await,
        "task feed",
    );
    assert_eq!(
        kinds(&events),
        vec![
            "task_created",
            "comment_added",
            "comment_added",
            "comment_edited",
            "comment_edited",
            "comment_deleted",
        ]
    );
}
