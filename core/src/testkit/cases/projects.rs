//! Projects: keys, validation, archive and restore, deletion, templates and statistics.

use std::collections::HashMap;

use time::macros::date;
use time::Duration;

use super::support::*;
use crate::engine::{
    LabelPatch, NewComment, NewLabel, NewMilestone, NewProject, NewTask, ProjectPatch, StatusInput,
    TaskListRequest, TaskPatch, TaskView, TransitionInput, WorkflowInput,
};
use crate::error::Conflict;
use crate::ids::{LabelId, MilestoneId, StatusId, TaskId};
use crate::model::{Project, StatusCategory, TransitionCondition};
use crate::store::Store;
use crate::testkit::Fixture;

fn project(key: &str, name: &str) -> NewProject {
    NewProject {
        key: key.into(),
        name: name.into(),
        ..NewProject::default()
    }
}

/// Project keys are checked, upper-cased and unique per workspace; bad fields are all listed.
pub async fn projects_keys_and_validation<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let projects = f.engine.projects();
    let ws = f.workspace.id;

    for bad in ["1AB", "A", "TOOLONGKEY1", "A-B", ""] {
        invalid_exactly(
            projects.create(&f.owner, ws, project(bad, "  ")).await,
            &["key", "name"],
            &format!("key '{bad}' with an empty name"),
        );
    }
    invalid_exactly(
        projects
            .create(&f.owner, ws, project("OK1", &"n".repeat(201)))
            .await,
        &["name"],
        "a 201-character name",
    );
    // The longest and shortest valid keys.
    ok(
        projects
            .create(&f.owner, ws, project("ABCDEFGHI0", "Ten"))
            .await,
        "a ten-character key",
    );
    ok(
        projects.create(&f.owner, ws, project("Q1", "Two")).await,
        "a two-character key",
    );

    let ops = ok(
        projects
            .create(&f.member, ws, project("ops", "Operations"))
            .await,
        "a member creates a project with a lower-case key",
    );
    assert_eq!(ops.key, "OPS", "keys are upper-cased");
    assert_eq!(ops.name, "Operations");
    assert_eq!(ops.version, 1);

    for taken in ["ENG", "eng", "Ops"] {
        let dup = conflict(
            projects.create(&f.owner, ws, project(taken, "Again")).await,
            &format!("key '{taken}' again in the same workspace"),
        );
        assert!(
            matches!(&dup, Conflict::Duplicate { field, .. } if field == "key"),
            "a taken key is a duplicate on `key`, got {dup:?}"
        );
    }
    let elsewhere = ok(
        projects
            .create(
                &f.outsider,
                f.other_workspace.id,
                project("ENG", "Their ENG"),
            )
            .await,
        "the same key in another workspace",
    );
    assert_eq!(elsewhere.key, "ENG");

    // The list leaves out deleted projects.
    let tmp = ok(
        projects
            .create(&f.owner, ws, project("TMP", "Temporary"))
            .await,
        "create TMP",
    );
    ok(projects.delete(&f.owner, tmp.id, None).await, "delete TMP");
    let keys: Vec<String> = ok(projects.list(&f.member, ws).await, "list projects")
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert!(keys.contains(&"ENG".to_owned()) && keys.contains(&"OPS".to_owned()));
    assert!(
        !keys.contains(&"TMP".to_owned()),
        "a deleted project is not listed: {keys:?}"
    );
    assert_eq!(
        keys.iter().filter(|k| *k == "ENG").count(),
        1,
        "another workspace's ENG is not listed"
    );
    let dup = conflict(
        projects.create(&f.owner, ws, project("TMP", "Reuse")).await,
        "reusing a deleted project's key",
    );
    assert!(matches!(dup, Conflict::Duplicate { .. }), "got {dup:?}");

    // Updates: validation, optimistic versions, admins only.
    invalid_exactly(
        projects
            .update(
                &f.owner,
                ops.id,
                ProjectPatch {
                    name: Some(" ".into()),
                    description: Some("x".repeat(100 * 1024 + 1)),
                    is_template: None,
                },
                None,
            )
            .await,
        &["name", "description"],
        "an update with an empty name and a huge description",
    );
    let renamed = ok(
        projects
            .update(
                &f.admin,
                ops.id,
                ProjectPatch {
                    name: Some("Operations team".into()),
                    ..ProjectPatch::default()
                },
                Some(ops.version),
            )
            .await,
        "rename with the current version",
    );
    assert_eq!(renamed.version, ops.version + 1);
    assert_eq!(renamed.name, "Operations team");
    let stale = conflict(
        projects
            .update(
                &f.admin,
                ops.id,
                ProjectPatch {
                    name: Some("Ops again".into()),
                    ..ProjectPatch::default()
                },
                Some(ops.version),
            )
            .await,
        "rename with a stale version",
    );
    assert_eq!(
        stale,
        Conflict::StaleVersion {
            expected: ops.version,
            actual: renamed.version
        }
    );
    forbidden(
        projects
            .update(
                &f.member,
                ops.id,
                ProjectPatch {
                    name: Some("Member's name".into()),
                    ..ProjectPatch::default()
                },
                None,
            )
            .await,
        "a member renames a project",
    );
    assert_eq!(
        ok(projects.get(&f.guest, ops.id).await, "read the project").name,
        "Operations team",
        "the refused updates changed nothing"
    );
}

/// Archived projects are read-only until restored; deleted ones vanish but keep their key.
pub async fn projects_archive_restore_delete<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let p = f.project.id;
    let task = f.task("Existing").await;
    let t = by_id(task.task.id);
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

    forbidden(
        e.projects().archive(&f.member, p).await,
        "a member archives",
    );
    let archived = ok(
        e.projects().archive(&f.admin, p).await,
        "the admin archives",
    );
    assert!(archived.archived);

    // Writes are refused with ProjectArchived.
    let archived_conflict = |c: Conflict, what: &str| {
        assert_eq!(
            c,
            Conflict::ProjectArchived,
            "{what} in an archived project"
        );
    };
    archived_conflict(
        conflict(
            e.tasks().create(&f.member, p, titled("New")).await,
            "create a task",
        ),
        "create a task",
    );
    archived_conflict(
        conflict(
            e.tasks()
                .update(
                    &f.member,
                    &t,
                    TaskPatch {
                        title: Some("Changed".into()),
                        ..TaskPatch::default()
                    },
                    None,
                )
                .await,
            "update a task",
        ),
        "update a task",
    );
    archived_conflict(
        conflict(
            e.tasks()
                .transition(&f.member, &t, f.statuses.done, None)
                .await,
            "transition a task",
        ),
        "transition a task",
    );
    archived_conflict(
        conflict(e.tasks().delete(&f.member, &t, None).await, "delete a task"),
        "delete a task",
    );
    archived_conflict(
        conflict(
            e.comments()
                .create(
                    &f.guest,
                    &t,
                    NewComment {
                        body: "hello".into(),
                        parent_id: None,
                    },
                )
                .await,
            "comment",
        ),
        "comment",
    );
    archived_conflict(
        conflict(
            e.labels()
                .create(
                    &f.member,
                    p,
                    NewLabel {
                        name: "new".into(),
                        color: None,
                    },
                )
                .await,
            "create a label",
        ),
        "create a label",
    );
    archived_conflict(
        conflict(
            e.labels()
                .update(
                    &f.member,
                    label.id,
                    LabelPatch {
                        name: Some("renamed".into()),
                        ..LabelPatch::default()
                    },
                    None,
                )
                .await,
            "rename a label",
        ),
        "rename a label",
    );
    archived_conflict(
        conflict(
            e.labels().delete(&f.member, label.id, None).await,
            "delete a label",
        ),
        "delete a label",
    );
    archived_conflict(
        conflict(
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
        ),
        "create a milestone",
    );
    archived_conflict(
        conflict(
            e.projects()
                .update(
                    &f.admin,
                    p,
                    ProjectPatch {
                        name: Some("Renamed".into()),
                        ..ProjectPatch::default()
                    },
                    None,
                )
                .await,
            "rename the project",
        ),
        "rename the project",
    );

    // Reads still work.
    ok(
        e.projects().get(&f.guest, p).await,
        "read the archived project",
    );
    let read = ok(e.tasks().get(&f.member, &t).await, "read a task");
    assert_eq!(read.task.title, "Existing");
    assert_eq!(
        read.task.version, task.task.version,
        "the task is unchanged"
    );
    assert_eq!(
        ok(
            e.tasks()
                .list(&f.member, p, TaskListRequest::default())
                .await,
            "list tasks"
        )
        .items
        .len(),
        1
    );
    ok(e.labels().list(&f.member, p).await, "list labels");
    ok(e.workflows().get(&f.member, p).await, "read the workflow");
    ok(e.projects().stats(&f.member, p).await, "read stats");
    ok(e.comments().list(&f.member, &t).await, "list comments");
    ok(
        e.activity().of_project(&f.member, p, 0, None).await,
        "read the feed",
    );

    // Restore re-enables writes.
    forbidden(
        e.projects().restore(&f.member, p).await,
        "a member restores",
    );
    let restored = ok(
        e.projects().restore(&f.admin, p).await,
        "the admin restores",
    );
    assert!(!restored.archived);
    let second = ok(
        e.tasks()
            .create(&f.member, p, titled("After restore"))
            .await,
        "create a task after restoring",
    );
    assert_eq!(second.key, "ENG-2");

    // Deletion: admins only; project and tasks vanish; the key stays taken.
    forbidden(
        e.projects().delete(&f.member, p, None).await,
        "a member deletes",
    );
    let stale = conflict(
        e.projects().delete(&f.admin, p, Some(1)).await,
        "delete with a stale version",
    );
    assert!(
        matches!(stale, Conflict::StaleVersion { .. }),
        "got {stale:?}"
    );
    ok(
        e.projects()
            .delete(&f.admin, p, Some(restored.version))
            .await,
        "the admin deletes",
    );
    not_found(
        e.projects().get(&f.owner, p).await,
        "read a deleted project",
    );
    not_found(
        e.tasks().get(&f.owner, &t).await,
        "a task of a deleted project by id",
    );
    not_found(
        e.tasks().get(&f.owner, &by_key("ENG-1")).await,
        "a task of a deleted project by key",
    );
    not_found(
        e.tasks()
            .list(&f.owner, p, TaskListRequest::default())
            .await,
        "list a deleted project's tasks",
    );
    not_found(
        e.projects().restore(&f.owner, p).await,
        "restore a deleted project",
    );
    not_found(
        e.labels().get(&f.owner, label.id).await,
        "a label of a deleted project",
    );
    assert!(
        ok(
            e.projects().list(&f.owner, f.workspace.id).await,
            "list projects"
        )
        .iter()
        .all(|q| q.id != p),
        "a deleted project is not listed"
    );
    let dup = conflict(
        e.projects()
            .create(&f.owner, f.workspace.id, project("ENG", "Again"))
            .await,
        "reuse the deleted project's key",
    );
    assert!(matches!(dup, Conflict::Duplicate { .. }), "got {dup:?}");
}

async fn all_tasks<S: Store>(f: &Fixture<S>, project: &Project) -> Vec<TaskView> {
    ok(
        f.engine
            .tasks()
            .list(
                &f.owner,
                project.id,
                TaskListRequest {
                    limit: Some(200),
                    ..TaskListRequest::default()
                },
            )
            .await,
        "list every task",
    )
    .items
}

/// A project from a template gets mapped copies of its workflow, labels, milestones and tasks.
pub async fn projects_from_template<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let tpl = ok(
        e.projects()
            .create(
                &f.owner,
                f.workspace.id,
                NewProject {
                    key: "TPL".into(),
                    name: "Template".into(),
                    description: Some("How we run a launch".into()),
                    template_id: None,
                    is_template: true,
                },
            )
            .await,
        "create the template",
    );
    let status = |name: &str, category| StatusInput {
        id: None,
        name: name.into(),
        category,
        color: Some("#0e8a16".into()),
    };
    let transition = |from: &str, to: &str| TransitionInput {
        from: from.into(),
        to: to.into(),
        roles: vec![],
        conditions: vec![],
    };
    let flow = ok(
        e.workflows()
            .replace(
                &f.owner,
                tpl.id,
                WorkflowInput {
                    statuses: vec![
                        status("Open", StatusCategory::Unstarted),
                        status("Doing", StatusCategory::Started),
                        status("Shipped", StatusCategory::Completed),
                        status("Dropped", StatusCategory::Canceled),
                    ],
                    transitions: Some(vec![
                        transition("Open", "Doing"),
                        TransitionInput {
                            conditions: vec![TransitionCondition::NoOpenBlockers],
                            ..transition("Doing", "Shipped")
                        },
                        transition("Doing", "Dropped"),
                    ]),
                    mapping: vec![],
                },
                None,
            )
            .await,
        "give the template a custom workflow",
    );
    let sid = |name: &str| -> StatusId {
        flow.statuses
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
            .expect("status")
    };
    let bug = ok(
        e.labels()
            .create(
                &f.owner,
                tpl.id,
                NewLabel {
                    name: "bug".into(),
                    color: Some("#d73a4a".into()),
                },
            )
            .await,
        "label bug",
    );
    let feature = ok(
        e.labels()
            .create(
                &f.owner,
                tpl.id,
                NewLabel {
                    name: "feature".into(),
                    color: None,
                },
            )
            .await,
        "label feature",
    );
    let m1 = ok(
        e.milestones()
            .create(
                &f.owner,
                tpl.id,
                NewMilestone {
                    name: "Beta".into(),
                    due_on: Some(date!(2026 - 12 - 01)),
                },
            )
            .await,
        "milestone Beta",
    );
    ok(
        e.milestones()
            .create(
                &f.owner,
                tpl.id,
                NewMilestone {
                    name: "GA".into(),
                    due_on: None,
                },
            )
            .await,
        "milestone GA",
    );
    let epic = create_task(
        e,
        &f.owner,
        tpl.id,
        NewTask {
            title: "Epic".into(),
            description: Some("The whole launch".into()),
            status_id: Some(sid("Doing")),
            label_ids: vec![bug.id, feature.id],
            milestone_id: Some(m1.milestone.id),
            assignee_ids: vec![f.member.user_id],
            estimate_seconds: Some(3600),
            ..NewTask::default()
        },
    )
    .await;
    let part = create_task(
        e,
        &f.owner,
        tpl.id,
        NewTask {
            title: "Part".into(),
            parent_id: Some(epic.task.id),
            label_ids: vec![feature.id],
            ..NewTask::default()
        },
    )
    .await;
    let shipped = create_task(
        e,
        &f.owner,
        tpl.id,
        NewTask {
            title: "Shipped thing".into(),
            status_id: Some(sid("Shipped")),
            ..NewTask::default()
        },
    )
    .await;
    let prereq = create_task(e, &f.owner, tpl.id, titled("Prerequisite")).await;
    ok(
        e.tasks()
            .add_dependency(&f.owner, &by_id(epic.task.id), &by_id(prereq.task.id))
            .await,
        "Prerequisite blocks Epic",
    );
    ok(
        e.tasks()
            .add_dependency(&f.owner, &by_id(part.task.id), &by_id(shipped.task.id))
            .await,
        "Shipped thing blocks Part",
    );

    // A snapshot of the template.
    let tpl_tasks_before = all_tasks(&f, &tpl).await;
    let tpl_flow_before = ok(
        e.workflows().get(&f.owner, tpl.id).await,
        "template workflow",
    );
    let tpl_labels_before = ok(e.labels().list(&f.owner, tpl.id).await, "template labels");
    let tpl_milestones_before = ok(
        e.milestones().list(&f.owner, tpl.id).await,
        "template milestones",
    );

    f.clock.advance(Duration::hours(1));
    let launch = ok(
        e.projects()
            .create(
                &f.member,
                f.workspace.id,
                NewProject {
                    key: "LAUNCH".into(),
                    name: "Launch".into(),
                    description: None,
                    template_id: Some(tpl.id),
                    is_template: false,
                },
            )
            .await,
        "a member creates a project from the template",
    );
    assert!(!launch.is_template);

    // The workflow: same statuses and transitions, new ids.
    let new_flow = ok(
        e.workflows().get(&f.member, launch.id).await,
        "new workflow",
    );
    let shape = |w: &crate::model::Workflow| {
        w.statuses
            .iter()
            .map(|s| (s.name.clone(), s.category, s.color.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        shape(&new_flow),
        shape(&flow),
        "the statuses are copied in order"
    );
    for s in &new_flow.statuses {
        assert!(
            flow.status(s.id).is_none(),
            "status {} has a new id, not the template's",
            s.name
        );
    }
    let status_name = |w: &crate::model::Workflow, id: StatusId| {
        w.status(id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| panic!("status {id} belongs to the workflow"))
    };
    let transitions = |w: &crate::model::Workflow| {
        w.transitions
            .as_ref()
            .expect("explicit transitions")
            .iter()
            .map(|t| {
                (
                    status_name(w, t.from),
                    status_name(w, t.to),
                    t.conditions.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        transitions(&new_flow),
        transitions(&flow),
        "transitions are copied onto the new statuses"
    );

    // Labels and milestones: same names, new ids.
    let new_labels = ok(e.labels().list(&f.member, launch.id).await, "new labels");
    assert_eq!(
        new_labels
            .iter()
            .map(|l| (l.name.clone(), l.color.clone()))
            .collect::<Vec<_>>(),
        tpl_labels_before
            .iter()
            .map(|l| (l.name.clone(), l.color.clone()))
            .collect::<Vec<_>>(),
        "labels are copied"
    );
    let label_name: HashMap<LabelId, String> =
        new_labels.iter().map(|l| (l.id, l.name.clone())).collect();
    assert!(
        new_labels
            .iter()
            .all(|l| tpl_labels_before.iter().all(|t| t.id != l.id)),
        "labels have new ids"
    );
    let new_milestones = ok(
        e.milestones().list(&f.member, launch.id).await,
        "new milestones",
    );
    assert_eq!(
        new_milestones
            .iter()
            .map(|m| (m.milestone.name.clone(), m.milestone.due_on))
            .collect::<Vec<_>>(),
        tpl_milestones_before
            .iter()
            .map(|m| (m.milestone.name.clone(), m.milestone.due_on))
            .collect::<Vec<_>>(),
        "milestones are copied"
    );
    let milestone_name: HashMap<MilestoneId, String> = new_milestones
        .iter()
        .map(|m| (m.milestone.id, m.milestone.name.clone()))
        .collect();
    assert!(
        new_milestones
            .iter()
            .all(|m| m.milestone.id != m1.milestone.id),
        "milestones have new ids"
    );

    // Tasks: same numbers and fields, new ids, everything mapped into the new project.
    let copies = all_tasks(&f, &launch).await;
    assert_eq!(
        copies.iter().map(|t| t.task.number).collect::<Vec<_>>(),
        vec![1, 2, 3, 4],
        "tasks keep their numbers 1..n"
    );
    assert_eq!(
        copies.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
        vec!["LAUNCH-1", "LAUNCH-2", "LAUNCH-3", "LAUNCH-4"]
    );
    let by_number: HashMap<u64, &TaskView> = copies.iter().map(|t| (t.task.number, t)).collect();
    let id_of = |n: u64| by_number[&n].task.id;
    let tpl_ids: Vec<TaskId> = tpl_tasks_before.iter().map(|t| t.task.id).collect();
    for (copy, original) in copies.iter().zip(&tpl_tasks_before) {
        let (c, o) = (&copy.task, &original.task);
        assert!(!tpl_ids.contains(&c.id), "{} has a new id", copy.key);
        assert_eq!(
            c.project_id, launch.id,
            "{} belongs to the new project",
            copy.key
        );
        assert_eq!(c.workspace_id, f.workspace.id);
        assert_eq!(c.number, o.number, "{} keeps its number", copy.key);
        assert_eq!(c.title, o.title);
        assert_eq!(c.description, o.description);
        assert_eq!(c.priority, o.priority);
        assert_eq!(c.estimate_seconds, o.estimate_seconds);
        assert_eq!(c.assignee_ids, o.assignee_ids, "assignees are kept");
        assert_eq!(
            status_name(&new_flow, c.status_id),
            status_name(&flow, o.status_id),
            "{}'s status is mapped",
            copy.key
        );
        let names = |ids: &[LabelId], names: &HashMap<LabelId, String>| {
            ids.iter()
                .map(|l| names.get(l).cloned().expect("label of the project"))
                .collect::<Vec<_>>()
        };
        let tpl_label_name: HashMap<LabelId, String> = tpl_labels_before
            .iter()
            .map(|l| (l.id, l.name.clone()))
            .collect();
        assert_eq!(
            names(&c.label_ids, &label_name),
            names(&o.label_ids, &tpl_label_name),
            "{}'s labels are mapped",
            copy.key
        );
        assert_eq!(
            c.milestone_id.map(|m| milestone_name[&m].clone()),
            o.milestone_id.map(|_| "Beta".to_owned()),
            "{}'s milestone is mapped",
            copy.key
        );
        let is_completed = status_name(&new_flow, c.status_id) == "Shipped";
        assert_eq!(
            c.completed_at.is_some(),
            is_completed,
            "{}: completed_at is set exactly for completed tasks",
            copy.key
        );
        assert!(c.deleted_at.is_none());
        assert_eq!(c.version, 1);
    }
    assert_eq!(
        by_number[&2].task.parent_id,
        Some(id_of(1)),
        "the subtask's parent is mapped"
    );
    assert_eq!(by_number[&1].task.parent_id, None);
    assert_eq!(
        by_number[&1].blocked_by,
        vec![id_of(4)],
        "the open dependency is copied onto the new tasks"
    );
    let subtasks = ok(
        e.tasks().subtasks(&f.member, &by_key("LAUNCH-1")).await,
        "subtasks of LAUNCH-1",
    );
    assert_eq!(
        subtasks.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
        vec!["LAUNCH-2"]
    );
    // The closed dependency exists too: removing it succeeds.
    ok(
        e.tasks()
            .remove_dependency(&f.member, &by_key("LAUNCH-2"), &by_key("LAUNCH-3"), None)
            .await,
        "the copied edge LAUNCH-3 blocks LAUNCH-2 exists",
    );
    // The copied transition rule works on the copy.
    let refused = conflict(
        e.tasks()
            .transition(
                &f.member,
                &by_key("LAUNCH-1"),
                new_flow.statuses[2].id,
                None,
            )
            .await,
        "Doing → Shipped while blocked, in the copy",
    );
    assert!(
        matches!(refused, Conflict::TransitionNotAllowed { .. }),
        "got {refused:?}"
    );
    // New tasks continue after the copied numbers.
    let next = create_task(e, &f.member, launch.id, titled("Next")).await;
    assert_eq!(next.key, "LAUNCH-5");

    // The template is unchanged.
    assert_eq!(
        all_tasks(&f, &tpl).await,
        tpl_tasks_before,
        "the template's tasks are unchanged"
    );
    assert_eq!(
        ok(
            e.workflows().get(&f.owner, tpl.id).await,
            "template workflow"
        ),
        tpl_flow_before
    );
    assert_eq!(
        ok(e.labels().list(&f.owner, tpl.id).await, "template labels"),
        tpl_labels_before
    );
    assert_eq!(
        ok(
            e.milestones().list(&f.owner, tpl.id).await,
            "template milestones"
        ),
        tpl_milestones_before
    );

    // A template from another workspace cannot be used.
    invalid_field(
        e.projects()
            .create(
                &f.outsider,
                f.other_workspace.id,
                NewProject {
                    key: "COPY".into(),
                    name: "Copy".into(),
                    template_id: Some(tpl.id),
                    ..NewProject::default()
                },
            )
            .await,
        "template_id",
        "a template of another workspace",
    );
}

/// Stats count per status and category, overdue open tasks and completed / (total - canceled).
pub async fn project_stats<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let e = &f.engine;
    let p = f.project.id;
    let s = f.statuses;

    let empty = ok(
        e.projects().stats(&f.guest, p).await,
        "stats of an empty project",
    );
    assert_eq!(empty.total, 0);
    assert_eq!(empty.overdue, 0);
    assert_eq!(empty.completion_ratio, 0.0);
    assert_eq!(empty.by_status.len(), 6, "every status is listed");
    assert_eq!(
        empty
            .by_category
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>(),
        StatusCategory::ALL.to_vec(),
        "every category is listed, in order"
    );

    let now = e.now();
    let yesterday = now - Duration::days(1);
    let tomorrow = now + Duration::days(1);
    let make = |title: &str, status: StatusId, due: Option<time::OffsetDateTime>| NewTask {
        title: title.into(),
        status_id: Some(status),
        due_at: due,
        ..NewTask::default()
    };
    for new in [
        make("overdue todo", s.todo, Some(yesterday)),
        make("due now", s.todo, Some(now)),
        make("future", s.in_progress, Some(tomorrow)),
        make("review", s.in_review, None),
        make("done late", s.done, Some(yesterday)),
        make("done", s.done, None),
        make("canceled late", s.canceled, Some(yesterday)),
    ] {
        create_task(e, &f.member, p, new).await;
    }
    let trashed = create_task(
        e,
        &f.member,
        p,
        make("trashed late", s.backlog, Some(yesterday)),
    )
    .await;
    ok(
        e.tasks()
            .delete(&f.member, &by_id(trashed.task.id), None)
            .await,
        "trash a task",
    );

    let stats = ok(e.projects().stats(&f.guest, p).await, "stats");
    let count = |id: StatusId| {
        stats
            .by_status
            .iter()
            .find(|x| x.status_id == id)
            .map(|x| x.count)
            .expect("status listed")
    };
    assert_eq!(
        stats
            .by_status
            .iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>(),
        vec![
            "Backlog",
            "Todo",
            "In Progress",
            "In Review",
            "Done",
            "Canceled"
        ],
        "statuses in workflow order"
    );
    assert_eq!(count(s.backlog), 0, "trashed tasks are not counted");
    assert_eq!(count(s.todo), 2);
    assert_eq!(count(s.in_progress), 1);
    assert_eq!(count(s.in_review), 1);
    assert_eq!(count(s.done), 2);
    assert_eq!(count(s.canceled), 1);
    assert_eq!(
        stats.by_category,
        vec![
            (StatusCategory::Backlog, 0),
            (StatusCategory::Unstarted, 2),
            (StatusCategory::Started, 2),
            (StatusCategory::Completed, 2),
            (StatusCategory::Canceled, 1),
        ]
    );
    assert_eq!(stats.total, 7);
    assert_eq!(
        stats.overdue, 1,
        "only the open task due before now is overdue (not closed, trashed or due exactly now)"
    );
    assert!(
        (stats.completion_ratio - 2.0 / 6.0).abs() < 1e-9,
        "completion ratio is 2 / (7 - 1), got {}",
        stats.completion_ratio
    );

    // Time passing makes more tasks overdue.
    f.clock.advance(Duration::days(2));
    let later = ok(
        e.projects().stats(&f.guest, p).await,
        "stats two days later",
    );
    assert_eq!(
        later.overdue, 3,
        "due-now and tomorrow's tasks are now overdue too"
    );
}
