//! Workspaces and memberships: who may add whom, and the last owner rule.

use super::support::*;
use crate::engine::{
    BulkAction, BulkRequest, LabelPatch, MemberRef, MilestonePatch, MoveTask, NewComment, NewLabel,
    NewMilestone, NewProject, NewTask, NewUser, ProjectPatch, StatusInput, TaskListRequest,
    TaskPatch, WorkflowInput,
};
use crate::error::Conflict;
use crate::ids::UserId;
use crate::model::{Role, StatusCategory};
use crate::store::Store;
use crate::testkit::Fixture;

async fn extra_user<S: Store>(f: &Fixture<S>, first: &str) -> UserId {
    ok(
        f.engine
            .accounts()
            .create_user(
                None,
                NewUser {
                    email: format!("{first}@example.com"),
                    password: "password123".into(),
                    name: format!("{first} Extra"),
                },
                false,
            )
            .await,
        "create an extra user",
    )
    .id
}

/// Who may add whom to a workspace, and a workspace always keeps an owner.
pub async fn workspace_roles_and_last_owner<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let ws = f.engine.workspaces();
    let id = f.workspace.id;

    // An admin adds members, guests and admins, but not owners.
    for (first, role) in [
        ("nina", Role::Member),
        ("gail", Role::Guest),
        ("alan", Role::Admin),
    ] {
        let user = extra_user(&f, first).await;
        let view = ok(
            ws.add_member(&f.admin, id, MemberRef::Id(user), role).await,
            &format!("the admin adds a {role}"),
        );
        assert_eq!(view.membership.role, role);
        assert_eq!(view.user.id, user);
    }
    let hopeful = extra_user(&f, "oscar").await;
    forbidden(
        ws.add_member(&f.admin, id, MemberRef::Id(hopeful), Role::Owner)
            .await,
        "an admin adds an owner",
    );
    // A member adds nobody.
    for role in [Role::Guest, Role::Member] {
        forbidden(
            ws.add_member(&f.member, id, MemberRef::Id(hopeful), role)
                .await,
            &format!("a member adds a {role}"),
        );
    }
    forbidden(
        ws.add_member(&f.guest, id, MemberRef::Id(hopeful), Role::Guest)
            .await,
        "a guest adds a guest",
    );
    // By e-mail, ignoring case; a second time is a duplicate.
    ok(
        ws.add_member(
            &f.owner,
            id,
            MemberRef::Email("OSCAR@example.com".into()),
            Role::Member,
        )
        .await,
        "the owner adds by e-mail",
    );
    let dup = conflict(
        ws.add_member(&f.owner, id, MemberRef::Id(hopeful), Role::Guest)
            .await,
        "adding an existing member",
    );
    assert!(
        matches!(dup, Conflict::Duplicate { .. }),
        "an existing member is a duplicate, got {dup:?}"
    );
    let dup = conflict(
        ws.add_member(&f.owner, id, MemberRef::Id(f.member.user_id), Role::Admin)
            .await,
        "adding the fixture's member again",
    );
    assert!(matches!(dup, Conflict::Duplicate { .. }), "got {dup:?}");
    not_found(
        ws.add_member(
            &f.owner,
            id,
            MemberRef::Email("nobody@example.com".into()),
            Role::Member,
        )
        .await,
        "adding an unknown e-mail",
    );

    // The last owner can neither step down nor leave.
    let last = conflict(
        ws.change_role(&f.owner, id, f.owner.user_id, Role::Admin, None)
            .await,
        "the last owner steps down",
    );
    assert_eq!(last, Conflict::LastOwner);
    let last = conflict(
        ws.remove_member(&f.owner, id, f.owner.user_id, None).await,
        "the last owner leaves",
    );
    assert_eq!(last, Conflict::LastOwner);
    // An admin may not touch owners.
    forbidden(
        ws.change_role(&f.admin, id, f.owner.user_id, Role::Member, None)
            .await,
        "an admin demotes an owner",
    );
    forbidden(
        ws.remove_member(&f.admin, id, f.owner.user_id, None).await,
        "an admin removes an owner",
    );
    forbidden(
        ws.change_role(&f.admin, id, f.member.user_id, Role::Owner, None)
            .await,
        "an admin promotes to owner",
    );

    // With two owners, one can leave.
    let promoted = ok(
        ws.change_role(&f.owner, id, f.admin.user_id, Role::Owner, None)
            .await,
        "the owner promotes the admin",
    );
    assert_eq!(promoted.role, Role::Owner);
    let stale = conflict(
        ws.change_role(
            &f.owner,
            id,
            f.admin.user_id,
            Role::Admin,
            Some(promoted.version - 1),
        )
        .await,
        "change a role with a stale version",
    );
    assert!(
        matches!(stale, Conflict::StaleVersion { .. }),
        "got {stale:?}"
    );
    ok(
        ws.remove_member(&f.owner, id, f.owner.user_id, None).await,
        "one of two owners leaves",
    );
    not_found(
        ws.get(&f.owner, id).await,
        "the former owner reads the workspace",
    );
    let last = conflict(
        ws.remove_member(&f.admin, id, f.admin.user_id, None).await,
        "the remaining owner leaves",
    );
    assert_eq!(last, Conflict::LastOwner);

    // A member can leave.
    ok(
        ws.remove_member(&f.member, id, f.member.user_id, None)
            .await,
        "a member leaves",
    );
    assert!(
        ok(ws.list(&f.member).await, "the former member's workspaces").is_empty(),
        "the workspace is gone from the former member's list"
    );
    not_found(
        ws.get(&f.member, id).await,
        "the former member reads the workspace",
    );

    // The list shows each workspace with the caller's role.
    let guest_list = ok(ws.list(&f.guest).await, "the guest's workspaces");
    assert_eq!(guest_list.len(), 1, "the guest belongs to one workspace");
    assert_eq!(guest_list[0].0.id, id);
    assert_eq!(guest_list[0].1, Role::Guest);
    let outsider_list = ok(ws.list(&f.outsider).await, "the outsider's workspaces");
    assert_eq!(
        outsider_list
            .iter()
            .map(|(w, r)| (w.id, *r))
            .collect::<Vec<_>>(),
        vec![(f.other_workspace.id, Role::Owner)],
        "the outsider sees only their own workspace"
    );
    let members = ok(ws.members(&f.guest, id).await, "list the members");
    let owners: Vec<UserId> = members
        .iter()
        .filter(|m| m.membership.role == Role::Owner)
        .map(|m| m.user.id)
        .collect();
    assert_eq!(owners, vec![f.admin.user_id], "one owner remains");
    assert!(
        !members.iter().any(|m| m.user.id == f.member.user_id),
        "the member who left is not listed"
    );
}

/// Outsiders get not found, never forbidden, for every read and write of a workspace's content.
pub async fn outsiders_see_nothing<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let parent = f.task("Parent").await;
    let child = ok(
        e.tasks()
            .create(
                &f.member,
                f.project.id,
                NewTask {
                    title: "Child".into(),
                    parent_id: Some(parent.task.id),
                    ..NewTask::default()
                },
            )
            .await,
        "create a subtask",
    );
    ok(
        e.tasks()
            .add_dependency(&f.member, &by_id(child.task.id), &by_id(parent.task.id))
            .await,
        "add a dependency",
    );
    let comment = ok(
        e.comments()
            .create(
                &f.member,
                &by_id(parent.task.id),
                NewComment {
                    body: "secret plans".into(),
                    parent_id: None,
                },
            )
            .await,
        "comment",
    );
    let label = ok(
        e.labels()
            .create(
                &f.member,
                f.project.id,
                NewLabel {
                    name: "bug".into(),
                    color: None,
                },
            )
            .await,
        "create a label",
    );
    let milestone = ok(
        e.milestones()
            .create(
                &f.member,
                f.project.id,
                NewMilestone {
                    name: "v1".into(),
                    due_on: None,
                },
            )
            .await,
        "create a milestone",
    );
    assert_eq!(parent.key, "ENG-1");
    let o = &f.outsider;
    let ws = f.workspace.id;
    let p = f.project.id;
    let t = by_id(parent.task.id);

    // Reads.
    not_found(e.workspaces().get(o, ws).await, "get the workspace");
    not_found(e.workspaces().members(o, ws).await, "list members");
    not_found(e.projects().get(o, p).await, "get the project");
    not_found(e.projects().list(o, ws).await, "list projects");
    not_found(e.projects().stats(o, p).await, "project stats");
    not_found(e.workflows().get(o, p).await, "get the workflow");
    not_found(e.tasks().get(o, &t).await, "get a task by id");
    not_found(e.tasks().get(o, &by_key("ENG-1")).await, "get ENG-1");
    not_found(e.tasks().get(o, &by_key("eng-2")).await, "get eng-2");
    not_found(
        e.tasks().list(o, p, TaskListRequest::default()).await,
        "list tasks",
    );
    not_found(
        e.tasks()
            .list(
                o,
                p,
                TaskListRequest {
                    trashed: true,
                    ..TaskListRequest::default()
                },
            )
            .await,
        "list the trash",
    );
    not_found(e.tasks().subtasks(o, &t).await, "list subtasks");
    not_found(e.comments().list(o, &t).await, "list comments");
    not_found(e.comments().get(o, comment.id).await, "get a comment");
    not_found(e.labels().list(o, p).await, "list labels");
    not_found(e.labels().get(o, label.id).await, "get a label");
    not_found(e.milestones().list(o, p).await, "list milestones");
    not_found(
        e.milestones().get(o, milestone.milestone.id).await,
        "get a milestone",
    );
    not_found(e.activity().of_task(o, &t, 0, None).await, "task feed");
    not_found(
        e.activity().of_task(o, &by_key("ENG-1"), 0, None).await,
        "task feed by key",
    );
    not_found(e.activity().of_project(o, p, 0, None).await, "project feed");
    not_found(
        e.activity().of_workspace(o, ws, 0, None).await,
        "workspace feed",
    );

    // Writes.
    not_found(
        e.workspaces().rename(o, ws, "Mine now", None).await,
        "rename the workspace",
    );
    not_found(
        e.workspaces()
            .add_member(o, ws, MemberRef::Id(o.user_id), Role::Owner)
            .await,
        "add oneself",
    );
    not_found(
        e.workspaces()
            .change_role(o, ws, f.member.user_id, Role::Guest, None)
            .await,
        "change a role",
    );
    not_found(
        e.workspaces()
            .remove_member(o, ws, f.member.user_id, None)
            .await,
        "remove a member",
    );
    not_found(
        e.projects()
            .create(
                o,
                ws,
                NewProject {
                    key: "HACK".into(),
                    name: "Hack".into(),
                    ..NewProject::default()
                },
            )
            .await,
        "create a project",
    );
    not_found(
        e.projects()
            .update(
                o,
                p,
                ProjectPatch {
                    name: Some("Pwned".into()),
                    ..ProjectPatch::default()
                },
                None,
            )
            .await,
        "update the project",
    );
    not_found(e.projects().archive(o, p).await, "archive the project");
    not_found(e.projects().restore(o, p).await, "restore the project");
    not_found(e.projects().delete(o, p, None).await, "delete the project");
    not_found(
        e.workflows()
            .replace(
                o,
                p,
                WorkflowInput {
                    statuses: vec![StatusInput {
                        id: None,
                        name: "Only".into(),
                        category: StatusCategory::Started,
                        color: None,
                    }],
                    ..WorkflowInput::default()
                },
                None,
            )
            .await,
        "replace the workflow",
    );
    not_found(
        e.tasks()
            .create(
                o,
                p,
                NewTask {
                    title: "Sneaky".into(),
                    ..NewTask::default()
                },
            )
            .await,
        "create a task",
    );
    not_found(
        e.tasks()
            .update(
                o,
                &t,
                TaskPatch {
                    title: Some("Changed".into()),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "update a task",
    );
    not_found(
        e.tasks()
            .update(
                o,
                &by_key("ENG-1"),
                TaskPatch {
                    title: Some("Changed".into()),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "update a task by key",
    );
    not_found(
        e.tasks().transition(o, &t, f.statuses.done, None).await,
        "transition a task",
    );
    not_found(
        e.tasks().move_task(o, &t, MoveTask::default()).await,
        "move a task",
    );
    not_found(
        e.tasks().add_dependency(o, &t, &by_id(child.task.id)).await,
        "add a dependency",
    );
    not_found(
        e.tasks()
            .remove_dependency(o, &by_id(child.task.id), &t, None)
            .await,
        "remove a dependency",
    );
    not_found(
        e.tasks()
            .bulk(
                o,
                p,
                BulkRequest {
                    task_ids: vec![t.clone()],
                    action: BulkAction::Delete,
                },
            )
            .await,
        "bulk delete",
    );
    not_found(e.tasks().delete(o, &t, None).await, "delete a task");
    ok(
        e.tasks()
            .delete(&f.member, &by_id(child.task.id), None)
            .await,
        "the member trashes the child",
    );
    not_found(
        e.tasks().restore(o, &by_id(child.task.id)).await,
        "restore a task",
    );
    not_found(
        e.comments()
            .create(
                o,
                &t,
                NewComment {
                    body: "hi".into(),
                    parent_id: None,
                },
            )
            .await,
        "comment",
    );
    not_found(
        e.comments().edit(o, comment.id, "edited", None).await,
        "edit a comment",
    );
    not_found(
        e.comments().delete(o, comment.id, None).await,
        "delete a comment",
    );
    not_found(
        e.labels()
            .create(
                o,
                p,
                NewLabel {
                    name: "x".into(),
                    color: None,
                },
            )
            .await,
        "create a label",
    );
    not_found(
        e.labels()
            .update(
                o,
                label.id,
                LabelPatch {
                    name: Some("y".into()),
                    ..LabelPatch::default()
                },
                None,
            )
            .await,
        "update a label",
    );
    not_found(e.labels().delete(o, label.id, None).await, "delete a label");
    not_found(
        e.milestones()
            .create(
                o,
                p,
                NewMilestone {
                    name: "x".into(),
                    due_on: None,
                },
            )
            .await,
        "create a milestone",
    );
    not_found(
        e.milestones()
            .update(
                o,
                milestone.milestone.id,
                MilestonePatch {
                    closed: Some(true),
                    ..MilestonePatch::default()
                },
                None,
            )
            .await,
        "update a milestone",
    );
    not_found(
        e.milestones().delete(o, milestone.milestone.id, None).await,
        "delete a milestone",
    );

    // Nothing changed.
    let still = ok(
        e.tasks().get(&f.member, &t).await,
        "the member reads the task",
    );
    assert_eq!(still.task.title, "Parent");
    assert_eq!(still.task.version, parent.task.version);

    // The other way round: a member of Acme sees nothing of Elsewhere.
    let elsewhere = ok(
        e.projects()
            .create(
                o,
                f.other_workspace.id,
                NewProject {
                    key: "ELSE".into(),
                    name: "Elsewhere project".into(),
                    ..NewProject::default()
                },
            )
            .await,
        "the outsider creates a project",
    );
    let foreign = create_task(e, o, elsewhere.id, titled("Foreign")).await;
    let m = &f.member;
    not_found(
        e.workspaces().get(m, f.other_workspace.id).await,
        "a member reads another workspace",
    );
    not_found(
        e.projects().get(m, elsewhere.id).await,
        "a member reads another workspace's project",
    );
    not_found(
        e.tasks().get(m, &by_id(foreign.task.id)).await,
        "a member reads a foreign task",
    );
    not_found(
        e.tasks().get(m, &by_key("ELSE-1")).await,
        "a member reads ELSE-1",
    );
    not_found(
        e.tasks()
            .list(m, elsewhere.id, TaskListRequest::default())
            .await,
        "a member lists foreign tasks",
    );
    not_found(
        e.activity().of_project(m, elsewhere.id, 0, None).await,
        "a member reads a foreign feed",
    );
    not_found(
        e.tasks()
            .create(
                m,
                elsewhere.id,
                NewTask {
                    title: "Intrusion".into(),
                    ..NewTask::default()
                },
            )
            .await,
        "a member creates a foreign task",
    );
}

/// Guests read tasks, lists and feeds and may comment; every other write is forbidden.
pub async fn guests_read_and_comment_only<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let g = &f.guest;
    let p = f.project.id;
    let a = f.task("First").await;
    let b = f.task("Second").await;
    let label = ok(
        e.labels()
            .create(
                &f.member,
                p,
                NewLabel {
                    name: "bug".into(),
                    color: None,
                },
            )
            .await,
        "create a label",
    );
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
        "create a milestone",
    );
    ok(
        e.tasks()
            .add_dependency(&f.member, &by_id(b.task.id), &by_id(a.task.id))
            .await,
        "add a dependency",
    );
    let owner_comment = ok(
        e.comments()
            .create(
                &f.owner,
                &by_id(a.task.id),
                NewComment {
                    body: "owner's note".into(),
                    parent_id: None,
                },
            )
            .await,
        "the owner comments",
    );

    // Reads.
    let t = by_id(a.task.id);
    assert_eq!(
        ok(e.tasks().get(g, &t).await, "guest reads a task").key,
        "ENG-1"
    );
    ok(
        e.tasks().get(g, &by_key("ENG-2")).await,
        "guest reads by key",
    );
    let page = ok(
        e.tasks().list(g, p, TaskListRequest::default()).await,
        "guest lists tasks",
    );
    assert_eq!(page.items.len(), 2, "the guest sees both tasks");
    assert!(
        !ok(
            e.activity().of_task(g, &t, 0, None).await,
            "guest reads the task feed"
        )
        .is_empty(),
        "the task feed has events"
    );
    ok(
        e.activity().of_project(g, p, 0, None).await,
        "guest reads the project feed",
    );
    ok(
        e.activity().of_workspace(g, f.workspace.id, 0, None).await,
        "guest reads the workspace feed",
    );
    ok(e.projects().stats(g, p).await, "guest reads stats");
    ok(e.labels().list(g, p).await, "guest lists labels");
    ok(e.milestones().list(g, p).await, "guest lists milestones");

    // Comments.
    let mine = ok(
        e.comments()
            .create(
                g,
                &t,
                NewComment {
                    body: "A question from a guest".into(),
                    parent_id: None,
                },
            )
            .await,
        "guest comments",
    );
    assert_eq!(mine.author_id, g.user_id);
    ok(
        e.comments()
            .edit(g, mine.id, "A better question", None)
            .await,
        "guest edits their own comment",
    );
    forbidden(
        e.comments()
            .edit(g, owner_comment.id, "rewritten", None)
            .await,
        "guest edits the owner's comment",
    );
    forbidden(
        e.comments().delete(g, owner_comment.id, None).await,
        "guest deletes the owner's comment",
    );

    // Every other write.
    forbidden(
        e.tasks()
            .create(
                g,
                p,
                NewTask {
                    title: "Guest task".into(),
                    ..NewTask::default()
                },
            )
            .await,
        "guest creates a task",
    );
    forbidden(
        e.tasks()
            .update(
                g,
                &t,
                TaskPatch {
                    title: Some("Guest edit".into()),
                    ..TaskPatch::default()
                },
                None,
            )
            .await,
        "guest updates a task",
    );
    forbidden(
        e.tasks().transition(g, &t, f.statuses.done, None).await,
        "guest transitions a task",
    );
    forbidden(
        e.tasks().move_task(g, &t, MoveTask::default()).await,
        "guest moves a task",
    );
    forbidden(e.tasks().delete(g, &t, None).await, "guest deletes a task");
    forbidden(
        e.tasks()
            .bulk(
                g,
                p,
                BulkRequest {
                    task_ids: vec![t.clone()],
                    action: BulkAction::Delete,
                },
            )
            .await,
        "guest bulk-deletes",
    );
    forbidden(
        e.tasks().add_dependency(g, &t, &by_id(b.task.id)).await,
        "guest adds a dependency",
    );
    forbidden(
        e.tasks()
            .remove_dependency(g, &by_id(b.task.id), &t, None)
            .await,
        "guest removes a dependency",
    );
    forbidden(
        e.labels()
            .create(
                g,
                p,
                NewLabel {
                    name: "guest".into(),
                    color: None,
                },
            )
            .await,
        "guest creates a label",
    );
    forbidden(
        e.labels()
            .update(
                g,
                label.id,
                LabelPatch {
                    name: Some("renamed".into()),
                    ..LabelPatch::default()
                },
                None,
            )
            .await,
        "guest renames a label",
    );
    forbidden(
        e.labels().delete(g, label.id, None).await,
        "guest deletes a label",
    );
    forbidden(
        e.milestones()
            .create(
                g,
                p,
                NewMilestone {
                    name: "guest".into(),
                    due_on: None,
                },
            )
            .await,
        "guest creates a milestone",
    );
    forbidden(
        e.milestones()
            .update(
                g,
                milestone.milestone.id,
                MilestonePatch {
                    closed: Some(true),
                    ..MilestonePatch::default()
                },
                None,
            )
            .await,
        "guest closes a milestone",
    );
    forbidden(
        e.milestones().delete(g, milestone.milestone.id, None).await,
        "guest deletes a milestone",
    );
    forbidden(
        e.projects()
            .create(
                g,
                f.workspace.id,
                NewProject {
                    key: "GST".into(),
                    name: "Guest project".into(),
                    ..NewProject::default()
                },
            )
            .await,
        "guest creates a project",
    );
    forbidden(
        e.projects()
            .update(
                g,
                p,
                ProjectPatch {
                    name: Some("Guest name".into()),
                    ..ProjectPatch::default()
                },
                None,
            )
            .await,
        "guest renames the project",
    );
    forbidden(
        e.projects().archive(g, p).await,
        "guest archives the project",
    );
    forbidden(
        e.projects().delete(g, p, None).await,
        "guest deletes the project",
    );

    // Nothing the guest tried changed anything.
    let a_now = ok(e.tasks().get(&f.member, &t).await, "read the task");
    assert_eq!(a_now.task.version, a.task.version, "the task is unchanged");
    assert_eq!(
        ok(e.tasks().get(&f.member, &by_id(b.task.id)).await, "read B").blocked_by,
        vec![a.task.id],
        "the dependency is still there"
    );
}
