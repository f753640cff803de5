//! The small pieces: names and parsing of enums, errors, clocks and ids, record keys, event
//! kind names, filter combination.

use std::str::FromStr;

use tasklane_core::event::{EventKind, FieldChange};
use tasklane_core::query::{SortField, TaskFilter, TaskSort};
use tasklane_core::store::RecordKey;
use tasklane_core::*;
use uuid::Uuid;

#[test]
fn enums_print_and_parse_their_api_names() {
    for role in Role::ALL {
        assert_eq!(Role::from_str(role.as_str()), Ok(role));
        assert_eq!(role.to_string(), role.as_str());
    }
    assert!(Role::from_str("boss").unwrap_err().contains("boss"));
    for category in StatusCategory::ALL {
        assert_eq!(StatusCategory::from_str(category.as_str()), Ok(category));
        assert_eq!(category.to_string(), category.as_str());
    }
    assert!(StatusCategory::from_str("doing").is_err());
    assert!(StatusCategory::Completed.is_closed() && StatusCategory::Canceled.is_closed());
    assert!(!StatusCategory::Started.is_closed());
    for p in Priority::ALL {
        assert_eq!(Priority::from_str(p.as_str()), Ok(p));
        assert_eq!(Priority::from_str(&p.as_str().to_uppercase()), Ok(p));
        assert_eq!(p.to_string(), p.as_str());
    }
    assert!(Priority::from_str("critical").is_err());
    assert!(Priority::Urgent.rank() > Priority::None.rank());
    for text in [
        "created",
        "-updated",
        "due",
        "-priority",
        "position",
        "title",
    ] {
        let sort = TaskSort::from_str(text).expect("a sort");
        assert_eq!(sort.to_string(), text);
    }
    assert_eq!(TaskSort::default().field, SortField::Created);
    assert!(TaskSort::from_str("-size").unwrap_err().contains("size"));
    for c in [
        TransitionCondition::NoOpenBlockers,
        TransitionCondition::AllSubtasksDone,
        TransitionCondition::HasAssignee,
    ] {
        assert_eq!(
            serde_json::to_value(c).unwrap(),
            serde_json::Value::String(c.as_str().into())
        );
    }
}

#[test]
fn ids_round_trip_through_text() {
    let raw = Uuid::now_v7();
    let id = TaskId::from_uuid(raw);
    assert_eq!(id.as_uuid(), raw);
    assert_eq!(TaskId::from_str(&id.to_string()), Ok(id));
    assert_eq!(TaskId::from(raw), id);
    assert!(ProjectId::from_str("ENG-1").is_err());
}

#[test]
fn clocks_and_id_generators() {
    let start = time::macros::datetime!(2026-01-01 00:00 UTC);
    let clock = ManualClock::new(start);
    assert_eq!(clock.now(), start);
    clock.advance(time::Duration::hours(2));
    assert_eq!(clock.now(), start + time::Duration::hours(2));
    clock.set(start);
    assert_eq!(clock.now(), start);
    let before = time::OffsetDateTime::now_utc();
    assert!(SystemClock.now() >= before);
    let ids = SequentialIds::new();
    let (a, b) = (ids.new_id(), ids.new_id());
    assert!(a < b);
    assert_eq!(a.get_version_num(), 7);
    let (x, y) = (UuidV7Ids.new_id(), UuidV7Ids.new_id());
    assert_ne!(x, y);
    assert_eq!(x.get_version_num(), 7);
}

#[test]
fn errors_read_as_sentences() {
    let conflicts = [
        Conflict::StaleVersion {
            expected: 1,
            actual: 2,
        },
        Conflict::ConcurrentWrite {
            record: "task x".into(),
        },
        Conflict::Duplicate {
            field: "key".into(),
            value: "ENG".into(),
        },
        Conflict::DependencyCycle {
            path: vec!["ENG-1".into(), "ENG-2".into(), "ENG-1".into()],
        },
        Conflict::SubtaskCycle {
            path: vec!["ENG-1".into(), "ENG-1".into()],
        },
        Conflict::SubtaskTooDeep { max_depth: 8 },
        Conflict::TransitionNotAllowed {
            from: "Todo".into(),
            to: "Done".into(),
            why: "no".into(),
        },
        Conflict::ProjectArchived,
        Conflict::Trashed {
            why: "in the trash".into(),
        },
        Conflict::StatusesInUse {
            statuses: vec!["Review".into()],
        },
        Conflict::LastOwner,
        Conflict::Rule {
            rule: "r".into(),
            why: "because".into(),
        },
    ];
    for c in conflicts {
        let text = Error::Conflict(c.clone()).to_string();
        assert!(!text.is_empty() && text == c.to_string(), "{text}");
    }
    assert!(Conflict::DependencyCycle {
        path: vec!["A".into(), "B".into()]
    }
    .to_string()
    .contains("A → B"));
    let errors = [
        Error::not_found(ObjectKind::Task),
        Error::invalid("title", "must not be empty"),
        Error::forbidden("guests may not"),
        Error::Unauthenticated,
        Error::Throttled {
            retry_after_seconds: 3,
        },
        Error::Bulk(vec![]),
        Error::rule("r", "why"),
        Error::Store(StoreError::Unavailable("down".into())),
    ];
    for e in errors {
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(
        Error::not_found(ObjectKind::Milestone).to_string(),
        "milestone not found"
    );
    for kind in [
        ObjectKind::User,
        ObjectKind::Token,
        ObjectKind::Workspace,
        ObjectKind::Membership,
        ObjectKind::Project,
        ObjectKind::Workflow,
        ObjectKind::Status,
        ObjectKind::Task,
        ObjectKind::Dependency,
        ObjectKind::Label,
        ObjectKind::Milestone,
        ObjectKind::Comment,
    ] {
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::Value::String(kind.to_string())
        );
    }
    assert!(matches!(
        Error::from(StoreError::VersionConflict { record: "r".into() }),
        Error::Conflict(Conflict::ConcurrentWrite { .. })
    ));
    assert!(matches!(
        Error::from(StoreError::Duplicate {
            field: "email".into(),
            value: "a".into()
        }),
        Error::Conflict(Conflict::Duplicate { .. })
    ));
    assert!(matches!(
        Error::from(StoreError::Corrupt("bad".into())),
        Error::Store(StoreError::Corrupt(_))
    ));
}

#[test]
fn record_keys_name_their_record() {
    let u = Uuid::now_v7();
    let keys = [
        RecordKey::User(UserId(u)),
        RecordKey::Token(TokenId(u)),
        RecordKey::Workspace(WorkspaceId(u)),
        RecordKey::Membership(WorkspaceId(u), UserId(u)),
        RecordKey::Project(ProjectId(u)),
        RecordKey::TaskCounter(ProjectId(u)),
        RecordKey::Workflow(ProjectId(u)),
        RecordKey::Task(TaskId(u)),
        RecordKey::Dependency(TaskId(u), TaskId(u)),
        RecordKey::Label(LabelId(u)),
        RecordKey::Milestone(MilestoneId(u)),
        RecordKey::Comment(CommentId(u)),
    ];
    let mut names: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    assert!(names.iter().all(|n| n.contains(&u.to_string())));
    names.sort();
    names.dedup();
    assert_eq!(names.len(), keys.len(), "every key prints differently");
}

#[test]
fn event_kind_names_match_their_serialised_tag() {
    let u = UserId(Uuid::now_v7());
    let s = StatusId(Uuid::now_v7());
    let t = TaskId(Uuid::now_v7());
    let l = LabelId(Uuid::now_v7());
    let m = MilestoneId(Uuid::now_v7());
    let c = CommentId(Uuid::now_v7());
    let k = || "ENG-1".to_owned();
    let ch = || vec![FieldChange::new("title", "a", "b")];
    let kinds = vec![
        EventKind::WorkspaceCreated { name: "w".into() },
        EventKind::WorkspaceUpdated { changes: ch() },
        EventKind::MemberAdded {
            user_id: u,
            role: Role::Member,
        },
        EventKind::MemberRoleChanged {
            user_id: u,
            old: Role::Member,
            new: Role::Admin,
        },
        EventKind::MemberRemoved { user_id: u },
        EventKind::ProjectCreated {
            key: "ENG".into(),
            name: "E".into(),
        },
        EventKind::ProjectUpdated { changes: ch() },
        EventKind::ProjectArchived,
        EventKind::ProjectRestored,
        EventKind::ProjectDeleted,
        EventKind::WorkflowReplaced {
            statuses: vec![],
            remapped_tasks: 0,
        },
        EventKind::TaskCreated {
            key: k(),
            title: "t".into(),
            status_id: s,
        },
        EventKind::TaskUpdated {
            key: k(),
            changes: ch(),
        },
        EventKind::TaskTransitioned {
            key: k(),
            from: s,
            to: s,
        },
        EventKind::TaskMoved {
            key: k(),
            position: "V".into(),
        },
        EventKind::TaskDeleted { key: k() },
        EventKind::TaskRestored { key: k() },
        EventKind::DependencyAdded {
            key: k(),
            blocker_id: t,
        },
        EventKind::DependencyRemoved {
            key: k(),
            blocker_id: t,
        },
        EventKind::LabelCreated {
            label_id: l,
            name: "bug".into(),
        },
        EventKind::LabelUpdated {
            label_id: l,
            changes: ch(),
        },
        EventKind::LabelDeleted { label_id: l },
        EventKind::MilestoneCreated {
            milestone_id: m,
            name: "v1".into(),
        },
        EventKind::MilestoneUpdated {
            milestone_id: m,
            changes: ch(),
        },
        EventKind::MilestoneDeleted { milestone_id: m },
        EventKind::CommentAdded {
            comment_id: c,
            parent_id: None,
            mentions: vec![u],
        },
        EventKind::CommentEdited {
            comment_id: c,
            mentions: vec![],
        },
        EventKind::CommentDeleted { comment_id: c },
    ];
    for kind in kinds {
        let json = serde_json::to_value(&kind).unwrap();
        assert_eq!(json["kind"], kind.name());
        let back: EventKind = serde_json::from_value(json).unwrap();
        assert_eq!(back, kind);
    }
}

#[test]
fn filters_combine_without_redundant_parts() {
    let a = TaskFilter::HasParent;
    let b = TaskFilter::HasLabel;
    assert_eq!(TaskFilter::True.and(a.clone()), a);
    assert_eq!(a.clone().and(TaskFilter::True), a);
    assert_eq!(
        a.clone().and(b.clone()),
        TaskFilter::And(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        TaskFilter::And(vec![a.clone()]).and(TaskFilter::And(vec![b.clone()])),
        TaskFilter::And(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        TaskFilter::And(vec![a.clone()]).and(b.clone()),
        TaskFilter::And(vec![a, b])
    );
}
