//! The filter language resolved against a real project: names, people, dates relative to the
//! engine's clock, categories, `is:` and `has:`.

use std::collections::BTreeSet;

use tasklane_core::testkit::Fixture;
use tasklane_core::*;
use time::macros::datetime;

struct Board {
    fx: Fixture<MemoryStore>,
}

impl Board {
    /// The fixture's clock stands at 2026-11-02 09:00 UTC.
    async fn new() -> Self {
        let fx = Fixture::new(MemoryStore::new()).await;
        let e = &fx.engine;
        let owner = fx.owner;
        let p = fx.project.id;
        let bug = e
            .labels()
            .create(
                &owner,
                p,
                NewLabel {
                    name: "Bug".into(),
                    color: None,
                },
            )
            .await
            .unwrap();
        let v1 = e
            .milestones()
            .create(
                &owner,
                p,
                NewMilestone {
                    name: "v1".into(),
                    due_on: None,
                },
            )
            .await
            .unwrap();
        let s = fx.statuses;
        let t1 = NewTask {
            title: "Login page".into(),
            due_at: Some(datetime!(2026-11-05 10:00 UTC)),
            assignee_ids: vec![fx.member.user_id],
            label_ids: vec![bug.id],
            milestone_id: Some(v1.milestone.id),
            ..NewTask::default()
        };
        let t1 = e.tasks().create(&owner, p, t1).await.unwrap();
        let t2 = NewTask {
            title: "Crash report".into(),
            status_id: Some(s.in_progress),
            due_at: Some(datetime!(2026-11-01 12:00 UTC)),
            start_at: Some(datetime!(2026-10-30 12:00 UTC)),
            estimate_seconds: Some(3600),
            assignee_ids: vec![fx.owner.user_id],
            ..NewTask::default()
        };
        e.tasks().create(&owner, p, t2).await.unwrap();
        let t3 = NewTask {
            title: "Subtask".into(),
            status_id: Some(s.done),
            parent_id: Some(t1.task.id),
            ..NewTask::default()
        };
        e.tasks().create(&fx.member, p, t3).await.unwrap();
        let t4 = NewTask {
            title: "Dropped".into(),
            status_id: Some(s.canceled),
            priority: Some(Priority::Urgent),
            ..NewTask::default()
        };
        e.tasks().create(&owner, p, t4).await.unwrap();
        Board { fx }
    }

    async fn keys(&self, q: &str) -> BTreeSet<String> {
        let request = TaskListRequest {
            q: Some(q.into()),
            ..TaskListRequest::default()
        };
        self.fx
            .engine
            .tasks()
            .list(&self.fx.member, self.fx.project.id, request)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .items
            .into_iter()
            .map(|v| v.key)
            .collect()
    }
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

#[tokio::test]
async fn names_dates_and_predicates_resolve() {
    let b = Board::new().await;
    let cases: &[(&str, &[&str])] = &[
        ("due:2026-11-05", &["ENG-1"]),
        ("due<=2026-11-05", &["ENG-1", "ENG-2"]),
        ("due<2026-11-05", &["ENG-2"]),
        ("due>2026-11-04", &["ENG-1"]),
        ("due>=2026-11-05", &["ENG-1"]),
        ("due>=today", &["ENG-1"]),
        ("due<today", &["ENG-2"]),
        ("due<+3d", &["ENG-2"]),
        ("due<=+3d", &["ENG-1", "ENG-2"]),
        ("due>-1d", &["ENG-1"]),
        ("due>-2d", &["ENG-1", "ENG-2"]),
        ("due:none", &["ENG-3", "ENG-4"]),
        ("due<2026-11-05T10:00:00Z", &["ENG-2"]),
        ("created:today", &["ENG-1", "ENG-2", "ENG-3", "ENG-4"]),
        ("start:none", &["ENG-1", "ENG-3", "ENG-4"]),
        ("is:open", &["ENG-1", "ENG-2"]),
        ("is:closed", &["ENG-3", "ENG-4"]),
        ("is:overdue", &["ENG-2"]),
        ("is:subtask", &["ENG-3"]),
        ("has:label", &["ENG-1"]),
        ("has:milestone", &["ENG-1"]),
        ("has:start", &["ENG-2"]),
        ("has:due", &["ENG-1", "ENG-2"]),
        ("has:estimate", &["ENG-2"]),
        ("has:parent", &["ENG-3"]),
        ("has:assignee", &["ENG-1", "ENG-2"]),
        ("assignee:none", &["ENG-3", "ENG-4"]),
        ("assignee:me", &["ENG-1"]),
        ("assignee:MIA@example.com", &["ENG-1"]),
        ("assignee:miamember", &["ENG-1"]),
        ("assignee:\"Olivia Owner\"", &["ENG-2"]),
        ("assignee:me,none", &["ENG-1", "ENG-3", "ENG-4"]),
        ("assignee:nobody-here", &[]),
        ("reporter:me", &["ENG-3"]),
        ("label:bug", &["ENG-1"]),
        ("label:none", &["ENG-2", "ENG-3", "ENG-4"]),
        ("label:bug,none", &["ENG-1", "ENG-2", "ENG-3", "ENG-4"]),
        ("label:missing", &[]),
        ("milestone:v1", &["ENG-1"]),
        ("milestone:none", &["ENG-2", "ENG-3", "ENG-4"]),
        ("status:started", &["ENG-2"]),
        ("status:todo,done", &["ENG-1", "ENG-3"]),
        ("status:\"in progress\"", &["ENG-2"]),
        ("priority:urgent", &["ENG-4"]),
        ("priority>=high", &["ENG-4"]),
        ("priority<low", &["ENG-1", "ENG-2", "ENG-3"]),
        ("parent:ENG-1", &["ENG-3"]),
        ("parent:eng-1", &["ENG-3"]),
        ("parent:ENG-99", &[]),
        ("parent:none", &["ENG-1", "ENG-2", "ENG-4"]),
        ("\"login page\"", &["ENG-1"]),
        ("crash OR subtask", &["ENG-2", "ENG-3"]),
        ("-is:closed -label:bug", &["ENG-2"]),
        ("NOT (is:open OR is:subtask)", &["ENG-4"]),
    ];
    for (q, want) in cases {
        assert_eq!(b.keys(q).await, set(want), "{q}");
    }
}

#[tokio::test]
async fn a_bad_filter_names_its_position() {
    let b = Board::new().await;
    let request = TaskListRequest {
        q: Some("status:todo priority>=bogus".into()),
        ..TaskListRequest::default()
    };
    let err =
        b.fx.engine
            .tasks()
            .list(&b.fx.member, b.fx.project.id, request)
            .await
            .unwrap_err();
    match err {
        Error::Validation(fields) => {
            assert_eq!(fields[0].field, "q");
            assert!(
                fields[0].message.contains("position 22"),
                "{}",
                fields[0].message
            );
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn workspaces_rename_list_and_members() {
    let b = Board::new().await;
    let (e, fx) = (&b.fx.engine, &b.fx);
    let ws = fx.workspace.id;
    let renamed = e
        .workspaces()
        .rename(&fx.admin, ws, " Acme Corp ", Some(1))
        .await
        .unwrap();
    assert_eq!((renamed.name.as_str(), renamed.version), ("Acme Corp", 2));
    let same = e
        .workspaces()
        .rename(&fx.admin, ws, "Acme Corp", None)
        .await
        .unwrap();
    assert_eq!(same.version, 2, "a rename to the same name changes nothing");
    assert!(matches!(
        e.workspaces().rename(&fx.admin, ws, "Again", Some(1)).await,
        Err(Error::Conflict(Conflict::StaleVersion {
            expected: 1,
            actual: 2
        }))
    ));
    assert!(matches!(
        e.workspaces().rename(&fx.member, ws, "Mine", None).await,
        Err(Error::Forbidden { .. })
    ));
    assert!(matches!(
        e.workspaces().rename(&fx.admin, ws, "  ", None).await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(
        e.workspaces().get(&fx.outsider, ws).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        e.workspaces().get(&fx.guest, ws).await.unwrap().name,
        "Acme Corp"
    );
    let mine = e.workspaces().list(&fx.member).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].1, Role::Member);
    let members = e.workspaces().members(&fx.guest, ws).await.unwrap();
    assert_eq!(members.len(), 4);
    assert_eq!(members[0].user.id, fx.owner.user_id);
    assert_eq!(members[0].membership.role, Role::Owner);
    let feed = e
        .activity()
        .of_workspace(&fx.member, ws, 0, Some(500))
        .await
        .unwrap();
    assert!(feed.iter().any(|ev| ev.kind.name() == "workspace_updated"));
    let me = e.accounts().me(&fx.member).await.unwrap();
    assert_eq!(me.handle(), "miamember");
}

#[tokio::test]
async fn nul_characters_are_refused_where_people_write_text() {
    let b = Board::new().await;
    let (e, fx) = (&b.fx.engine, &b.fx);
    let refused = |r: Result<(), Error>, field: &str| match r {
        Err(Error::Validation(fields)) => assert!(
            fields
                .iter()
                .any(|f| f.field == field && f.message.contains("NUL")),
            "{fields:?}"
        ),
        other => panic!("expected a validation error on {field}, got {other:?}"),
    };
    let task = NewTask {
        title: "a\0b".into(),
        description: Some("c\0".into()),
        ..NewTask::default()
    };
    match e.tasks().create(&fx.owner, fx.project.id, task).await {
        Err(Error::Validation(fields)) => {
            let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(names, ["title", "description"]);
        }
        other => panic!("expected validation, got {other:?}"),
    }
    let key: TaskRef = "ENG-1".parse().unwrap();
    let comment = NewComment {
        body: "\0".into(),
        parent_id: None,
    };
    refused(
        e.comments()
            .create(&fx.member, &key, comment)
            .await
            .map(|_| ()),
        "body",
    );
    refused(
        e.workspaces().create(&fx.member, "x\0").await.map(|_| ()),
        "name",
    );
    let label = NewLabel {
        name: "x\0".into(),
        color: None,
    };
    refused(
        e.labels()
            .create(&fx.member, fx.project.id, label)
            .await
            .map(|_| ()),
        "name",
    );
    let project = NewProject {
        key: "NUL".into(),
        name: "n\0".into(),
        ..NewProject::default()
    };
    refused(
        e.projects()
            .create(&fx.owner, fx.workspace.id, project)
            .await
            .map(|_| ()),
        "name",
    );
}
