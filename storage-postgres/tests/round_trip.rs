//! Every record kind, with awkward values (nanoseconds, the years 0 and 9999, non-ASCII text,
//! SQL wildcards, the largest numbers PostgreSQL holds), written to the PostgreSQL store and to
//! the reference `MemoryStore` by the same commits: every read, every error and every task query
//! must give the same answer from both.

mod common;

use std::fmt::Debug;

use tasklane_core::event::{EventKind, EventQuery, EventScope, NewEvent};
use tasklane_core::ids::*;
use tasklane_core::model::*;
use tasklane_core::query::{
    CmpOp, DateField, SortField, SortValue, TaskCursor, TaskFilter, TaskQuery, TaskScope, TaskSort,
};
use tasklane_core::store::{Commit, Expected, Record, RecordKey, Store, StoreError, Write};
use tasklane_core::MemoryStore;
use tasklane_storage_postgres::PgStore;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

fn id() -> Uuid {
    Uuid::now_v7()
}

/// The two stores under comparison.
struct Pair {
    pg: PgStore,
    mem: MemoryStore,
}

impl Pair {
    /// Applies `commit` to both; the outcomes must be equal.
    async fn commit(&self, commit: Commit) -> Result<Vec<u64>, StoreError> {
        let want = self.mem.commit(commit.clone()).await.map(|r| r.seqs);
        let got = self.pg.commit(commit.clone()).await.map(|r| r.seqs);
        assert_eq!(got, want, "outcome of {commit:#?}");
        got
    }

    async fn ok(&self, commit: Commit) -> Vec<u64> {
        self.commit(commit).await.expect("commit succeeds")
    }
}

/// Asserts that a read gives the same from both stores, and returns it.
macro_rules! same {
    ($pair:expr, $method:ident ( $($arg:expr),* )) => {{
        let want = $pair.mem.$method($($arg),*).await.expect(stringify!($method));
        let got = $pair.pg.$method($($arg),*).await.expect(stringify!($method));
        assert_eq!(got, want, "{} differs", stringify!($method($($arg),*)));
        got
    }};
}

fn assert_some<T: Debug>(value: &Option<T>, what: &str) {
    assert!(value.is_some(), "{what} should exist");
}

const T0: OffsetDateTime = datetime!(2026-11-02 09:00:00.123456789 UTC);
const EARLIEST: OffsetDateTime = datetime!(0000-01-01 00:00 UTC);
const LATEST: OffsetDateTime = datetime!(9999-12-31 23:59:59.999999999 UTC);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_kind_round_trips_like_the_reference_store() {
    let Some(pg) = common::test_store().await else {
        return;
    };
    let pair = Pair {
        pg,
        mem: MemoryStore::new(),
    };
    let big = i64::MAX as u64;

    let user = User {
        id: UserId(id()),
        email: "Ünïcode.İlker@Example.COM".into(),
        name: "Ünï 🦀 Code".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        is_server_admin: true,
        disabled: false,
        created_at: T0,
        version: 1,
    };
    let ancient = User {
        id: UserId(id()),
        email: "old@example.com".into(),
        name: "Old".into(),
        password_hash: "x".into(),
        is_server_admin: false,
        disabled: true,
        created_at: EARLIEST,
        version: big,
    };
    let token = ApiToken {
        id: TokenId(id()),
        user_id: user.id,
        name: "CI 'quoted' \"token\"".into(),
        kind: TokenKind::Personal,
        secret_hash: "a".repeat(64),
        prefix: "tl_abc".into(),
        scopes: vec![TokenScope::Read, TokenScope::Write],
        created_at: T0 + Duration::nanoseconds(1),
        expires_at: Some(LATEST),
        last_used_at: Some(T0 + Duration::nanoseconds(999)),
        revoked_at: None,
        version: 1,
    };
    let session = ApiToken {
        id: TokenId(id()),
        name: "session".into(),
        kind: TokenKind::Session,
        secret_hash: "b".repeat(64),
        scopes: vec![],
        created_at: T0,
        expires_at: None,
        last_used_at: None,
        revoked_at: Some(T0),
        ..token.clone()
    };
    let ws = Workspace {
        id: WorkspaceId(id()),
        name: "Ωmega – workspace".into(),
        created_at: T0,
        version: 1,
    };
    let memberships: Vec<Membership> = [(user.id, Role::Owner), (ancient.id, Role::Guest)]
        .into_iter()
        .enumerate()
        .map(|(i, (u, role))| Membership {
            workspace_id: ws.id,
            user_id: u,
            role,
            created_at: T0 - Duration::nanoseconds(i as i64),
            version: 1,
        })
        .collect();
    let project = Project {
        id: ProjectId(id()),
        workspace_id: ws.id,
        key: "ENG".into(),
        name: "Engine".into(),
        description: "# Heading\n\n`code` and 100% _markdown_ \\ backslash".into(),
        archived: false,
        is_template: true,
        deleted_at: None,
        created_at: T0,
        updated_at: LATEST,
        version: 1,
    };
    let deleted_project = Project {
        id: ProjectId(id()),
        key: "OLD".into(),
        deleted_at: Some(T0),
        archived: true,
        is_template: false,
        created_at: EARLIEST,
        ..project.clone()
    };
    let counter = TaskCounter {
        project_id: project.id,
        last_number: big,
        version: 1,
    };
    let statuses: Vec<Status> = StatusCategory::ALL
        .iter()
        .map(|c| Status {
            id: StatusId(id()),
            name: format!("{c} ✓"),
            category: *c,
            color: Some("#0e8a16".into()),
        })
        .collect();
    let workflow = Workflow {
        project_id: project.id,
        statuses: statuses.clone(),
        transitions: Some(vec![Transition {
            from: statuses[0].id,
            to: statuses[3].id,
            roles: vec![Role::Admin, Role::Owner],
            conditions: vec![
                TransitionCondition::NoOpenBlockers,
                TransitionCondition::AllSubtasksDone,
                TransitionCondition::HasAssignee,
            ],
        }]),
        version: 1,
    };
    let open_workflow = Workflow {
        project_id: deleted_project.id,
        transitions: None,
        ..workflow.clone()
    };
    let label = Label {
        id: LabelId(id()),
        project_id: project.id,
        name: "Ünïcode".into(),
        color: None,
        version: 1,
    };
    let milestones: Vec<Milestone> = [
        ("ß", None),
        ("Z", Some(date!(9999 - 12 - 31))),
        ("a", Some(date!(0000 - 01 - 01))),
        ("A", Some(date!(0000 - 01 - 01))),
    ]
    .into_iter()
    .map(|(name, due_on)| Milestone {
        id: MilestoneId(id()),
        project_id: project.id,
        name: name.into(),
        due_on,
        closed: name == "Z",
        version: 1,
    })
    .collect();
    let parent = Task {
        id: TaskId(id()),
        workspace_id: ws.id,
        project_id: project.id,
        number: 1,
        title: "ΟΔΟΣ İstanbul straße 50% off_now \\".into(),
        description: "x".repeat(20_000) + " tail ünïcödé",
        status_id: statuses[2].id,
        priority: Priority::Urgent,
        assignee_ids: vec![user.id, ancient.id],
        reporter_id: user.id,
        label_ids: vec![label.id],
        milestone_id: Some(milestones[0].id),
        due_at: Some(LATEST),
        start_at: Some(EARLIEST),
        estimate_seconds: Some(big),
        parent_id: None,
        position: "a0V".into(),
        completed_at: Some(T0 + Duration::nanoseconds(1)),
        started_at: Some(T0),
        deleted_at: None,
        created_at: T0,
        updated_at: T0 + Duration::nanoseconds(7),
        version: 1,
    };
    let child = Task {
        id: TaskId(id()),
        number: big,
        title: "child".into(),
        description: String::new(),
        priority: Priority::None,
        assignee_ids: vec![],
        label_ids: vec![],
        milestone_id: None,
        due_at: None,
        start_at: None,
        estimate_seconds: None,
        parent_id: Some(parent.id),
        position: "a0W".into(),
        completed_at: None,
        started_at: None,
        deleted_at: Some(T0),
        ..parent.clone()
    };
    let dependency = Dependency {
        task_id: child.id,
        blocker_id: parent.id,
        workspace_id: ws.id,
        created_at: T0,
        version: 1,
    };
    let comment = Comment {
        id: CommentId(id()),
        task_id: parent.id,
        workspace_id: ws.id,
        author_id: user.id,
        parent_id: None,
        body: "Hello @ünï, see `code`".into(),
        mentions: vec![user.id],
        revisions: vec![
            CommentRevision {
                body: "first".into(),
                replaced_at: EARLIEST,
            },
            CommentRevision {
                body: "second".into(),
                replaced_at: T0,
            },
        ],
        deleted_at: None,
        created_at: T0,
        updated_at: T0,
        version: 1,
    };
    let reply = Comment {
        id: CommentId(id()),
        parent_id: Some(comment.id),
        body: String::new(),
        mentions: vec![],
        revisions: vec![],
        deleted_at: Some(LATEST),
        ..comment.clone()
    };

    // Children before parents: foreign keys are checked at the end of the commit.
    let mut c = Commit::new();
    c.insert(Record::Comment(reply.clone()))
        .insert(Record::Comment(comment.clone()))
        .insert(Record::Dependency(dependency.clone()))
        .insert(Record::Task(child.clone()))
        .insert(Record::Task(parent.clone()));
    for m in &milestones {
        c.insert(Record::Milestone(m.clone()));
    }
    c.insert(Record::Label(label.clone()))
        .insert(Record::Workflow(workflow.clone()))
        .insert(Record::Workflow(open_workflow.clone()))
        .insert(Record::TaskCounter(counter.clone()))
        .insert(Record::Project(deleted_project.clone()))
        .insert(Record::Project(project.clone()));
    for m in &memberships {
        c.insert(Record::Membership(m.clone()));
    }
    c.insert(Record::Workspace(ws.clone()))
        .insert(Record::Token(session.clone()))
        .insert(Record::Token(token.clone()))
        .insert(Record::User(ancient.clone()))
        .insert(Record::User(user.clone()));
    let kinds = [
        EventKind::WorkspaceCreated {
            name: ws.name.clone(),
        },
        EventKind::TaskUpdated {
            key: "ENG-1".into(),
            changes: vec![tasklane_core::event::FieldChange::new(
                "estimate_seconds",
                Some(big),
                serde_json::json!({"nested": [1.5, null, "ü"], "big": u64::MAX}),
            )],
        },
        EventKind::CommentAdded {
            comment_id: comment.id,
            parent_id: None,
            mentions: vec![user.id],
        },
    ];
    for (i, kind) in kinds.iter().enumerate() {
        c.event(NewEvent {
            at: if i == 0 { EARLIEST } else { LATEST },
            actor_id: user.id,
            workspace_id: ws.id,
            project_id: (i > 0).then_some(project.id),
            task_id: (i > 1).then_some(parent.id),
            kind: kind.clone(),
        });
    }
    assert_eq!(pair.ok(c).await, vec![1, 2, 3]);

    // Every read.
    let check = async |pair: &Pair| {
        assert_some(&same!(pair, user(user.id)), "user");
        same!(pair, user(ancient.id));
        for probe in [
            "ünïcode.i̇lker@example.com",
            "ÜNÏCODE.İLKER@EXAMPLE.COM",
            "Ünïcode.İlker@Example.COM",
            "unicode.ilker@example.com",
            "OLD@example.com",
        ] {
            same!(pair, user_by_email(probe));
        }
        same!(
            pair,
            users(&[ancient.id, UserId(id()), user.id, ancient.id])
        );
        same!(pair, user_count());
        same!(pair, token(token.id));
        same!(pair, token_by_hash(&token.secret_hash));
        same!(pair, token_by_hash("nope"));
        same!(pair, tokens_of_user(user.id));
        same!(pair, token(session.id));
        same!(pair, workspace(ws.id));
        same!(pair, membership(ws.id, user.id));
        same!(pair, membership(ws.id, ancient.id));
        same!(pair, members_of_workspace(ws.id));
        same!(pair, memberships_of_user(ancient.id));
        same!(pair, project(project.id));
        same!(pair, project(deleted_project.id));
        same!(pair, project_by_key(ws.id, "ENG"));
        same!(pair, project_by_key(ws.id, "eng"));
        same!(pair, projects_by_key("OLD"));
        same!(pair, projects_of_workspace(ws.id));
        same!(pair, task_counter(project.id));
        same!(pair, workflow(project.id));
        same!(pair, workflow(deleted_project.id));
        same!(pair, task(parent.id));
        same!(pair, task(child.id));
        same!(pair, task_by_number(project.id, 1));
        same!(pair, task_by_number(project.id, child.number));
        same!(pair, task_by_number(project.id, u64::MAX));
        same!(pair, subtasks(parent.id));
        same!(pair, blockers_of(child.id));
        same!(pair, blocked_by(parent.id));
        same!(pair, label(label.id));
        same!(pair, labels_of_project(project.id));
        same!(pair, milestone(milestones[1].id));
        same!(pair, milestones_of_project(project.id));
        same!(pair, comment(comment.id));
        same!(pair, comments_of_task(parent.id));
        same!(pair, status_counts(project.id, &TaskFilter::True));
        for scope in [
            EventScope::All,
            EventScope::Workspace(ws.id),
            EventScope::Project(project.id),
            EventScope::Task(parent.id),
        ] {
            for (after, limit) in [(0, usize::MAX), (1, 1), (u64::MAX, 10), (0, 0)] {
                same!(
                    pair,
                    events(&EventQuery {
                        scope,
                        after,
                        limit
                    })
                );
            }
        }
        same!(pair, last_seq());
        for trashed in [false, true] {
            same!(
                pair,
                tasks(&TaskQuery {
                    scope: TaskScope::Project(project.id),
                    filter: TaskFilter::True,
                    sort: TaskSort::default(),
                    after: None,
                    limit: usize::MAX,
                    trashed,
                })
            );
        }
    };
    check(&pair).await;

    // Updates of every kind (a version, or "exists"), then the same reads.
    let mut c = Commit::new();
    let mut u2 = user.clone();
    u2.email = "renamed@example.com".into();
    u2.version = 2;
    c.update(Record::User(u2), 1);
    let mut t2 = token.clone();
    t2.last_used_at = Some(LATEST);
    t2.version = 7;
    c.writes.push(Write::Put {
        record: Record::Token(t2),
        expected: Expected::Exists,
    });
    let mut ws2 = ws.clone();
    ws2.name = "renamed".into();
    ws2.version = 2;
    c.update(Record::Workspace(ws2), 1);
    let mut m2 = memberships[1].clone();
    m2.role = Role::Admin;
    m2.version = 2;
    c.update(Record::Membership(m2), 1);
    let mut p2 = project.clone();
    p2.key = "NEW".into();
    p2.version = 2;
    c.update(Record::Project(p2), 1);
    let mut counter2 = counter.clone();
    counter2.last_number = 2;
    counter2.version = 2;
    c.update(Record::TaskCounter(counter2), 1);
    let mut wf2 = workflow.clone();
    wf2.transitions = None;
    wf2.version = 2;
    c.update(Record::Workflow(wf2), 1);
    let mut parent2 = parent.clone();
    parent2.title = "renamed".into();
    parent2.assignee_ids.clear();
    parent2.version = 2;
    c.update(Record::Task(parent2), 1);
    let mut l2 = label.clone();
    l2.name = "ÜNÏCODE".into();
    l2.version = 2;
    c.update(Record::Label(l2), 1);
    let mut ms2 = milestones[0].clone();
    ms2.due_on = Some(date!(2027 - 01 - 01));
    ms2.version = 2;
    c.update(Record::Milestone(ms2), 1);
    let mut cm2 = comment.clone();
    cm2.body = "edited".into();
    cm2.version = 2;
    c.update(Record::Comment(cm2), 1);
    c.delete(
        RecordKey::Dependency(dependency.task_id, dependency.blocker_id),
        1,
    );
    pair.ok(c).await;
    check(&pair).await;

    // Deletes of the deletable kinds.
    let mut c = Commit::new();
    c.delete(RecordKey::Membership(ws.id, ancient.id), 2)
        .delete(RecordKey::Label(label.id), 2)
        .delete(RecordKey::Milestone(milestones[3].id), 1);
    pair.ok(c).await;
    check(&pair).await;
}

/// Failing commits fail the same way in both stores: which error, which record, which field
/// and value, and nothing applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_match_the_reference_store() {
    let Some(pg) = common::test_store().await else {
        return;
    };
    let pair = Pair {
        pg,
        mem: MemoryStore::new(),
    };
    let user = |email: &str| User {
        id: UserId(id()),
        email: email.into(),
        name: "n".into(),
        password_hash: "x".into(),
        is_server_admin: false,
        disabled: false,
        created_at: T0,
        version: 1,
    };
    let a = user("a@example.com");
    let b = user("b@example.com");
    let ws = Workspace {
        id: WorkspaceId(id()),
        name: "w".into(),
        created_at: T0,
        version: 1,
    };
    let mut c = Commit::new();
    c.insert(Record::User(a.clone()))
        .insert(Record::User(b.clone()))
        .insert(Record::Workspace(ws.clone()));
    pair.ok(c).await;

    let mut stale_ws = ws.clone();
    stale_ws.version = 9;
    let mut a_takes_b = a.clone();
    a_takes_b.email = "B@EXAMPLE.COM".into();
    a_takes_b.version = 2;
    let mut b_moves = b.clone();
    b_moves.email = "b2@example.com".into();
    b_moves.version = 2;

    let failing: Vec<Vec<Write>> = vec![
        // A duplicate e-mail by update, then by insert.
        vec![Write::Put {
            record: Record::User(a_takes_b.clone()),
            expected: Expected::Version(1),
        }],
        vec![Write::Put {
            record: Record::User(user("A@Example.com")),
            expected: Expected::Absent,
        }],
        // A duplicate before a stale write: the stale write is what is reported.
        vec![
            Write::Put {
                record: Record::User(user("a@EXAMPLE.com")),
                expected: Expected::Absent,
            },
            Write::Put {
                record: Record::Workspace(stale_ws.clone()),
                expected: Expected::Version(8),
            },
        ],
        // A duplicate before an insert of an existing record.
        vec![
            Write::Put {
                record: Record::User(a_takes_b.clone()),
                expected: Expected::Version(1),
            },
            Write::Put {
                record: Record::Workspace(ws.clone()),
                expected: Expected::Absent,
            },
        ],
        // Taking a value before it is freed in the same commit.
        vec![
            Write::Put {
                record: Record::User(a_takes_b.clone()),
                expected: Expected::Version(1),
            },
            Write::Put {
                record: Record::User(b_moves.clone()),
                expected: Expected::Version(1),
            },
        ],
        // The same with a third write, so that the commit is tried in bulk first.
        vec![
            Write::Put {
                record: Record::User(a_takes_b.clone()),
                expected: Expected::Version(1),
            },
            Write::Put {
                record: Record::User(b_moves.clone()),
                expected: Expected::Version(1),
            },
            Write::Put {
                record: Record::Workspace(Workspace {
                    name: "renamed".into(),
                    version: 2,
                    ..ws.clone()
                }),
                expected: Expected::Version(1),
            },
        ],
        // Two stale writes: the first in commit order is reported.
        vec![
            Write::Put {
                record: Record::User(b_moves.clone()),
                expected: Expected::Version(1),
            },
            Write::Delete {
                key: RecordKey::Workspace(ws.id),
                expected: Expected::Version(3),
            },
            Write::Delete {
                key: RecordKey::User(a.id),
                expected: Expected::Version(3),
            },
        ],
        // Delete with Absent, delete of a missing record, exists of a missing record.
        vec![Write::Delete {
            key: RecordKey::User(a.id),
            expected: Expected::Absent,
        }],
        vec![Write::Delete {
            key: RecordKey::User(UserId(id())),
            expected: Expected::Exists,
        }],
        vec![Write::Put {
            record: Record::User(user("ghost@example.com")),
            expected: Expected::Exists,
        }],
    ];
    for writes in failing {
        let mut c = Commit::new();
        c.writes = writes;
        c.event(NewEvent {
            at: T0,
            actor_id: a.id,
            workspace_id: ws.id,
            project_id: None,
            task_id: None,
            kind: EventKind::ProjectArchived,
        });
        assert!(pair.commit(c).await.is_err());
        same!(pair, last_seq());
        same!(pair, user(a.id));
        same!(pair, user(b.id));
        same!(pair, workspace(ws.id));
    }
    // Freeing a value before taking it in one commit works (three writes: bulk, then one by
    // one).
    let mut c = Commit::new();
    c.update(Record::User(b_moves), 1)
        .update(Record::User(a_takes_b), 1)
        .update(
            Record::Workspace(Workspace {
                name: "renamed".into(),
                version: 2,
                ..ws.clone()
            }),
            1,
        );
    pair.ok(c).await;
    same!(pair, workspace(ws.id));
    same!(pair, user_by_email("b@example.com"));
}

/// Text, date and sort edge cases against the reference evaluator: Unicode case folding (final
/// sigma, dotted capital I), wildcard characters, instants a nanosecond apart and at the ends of
/// the supported range, and cursors of every kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_match_the_reference_on_edge_values() {
    let Some(pg) = common::test_store().await else {
        return;
    };
    let pair = Pair {
        pg,
        mem: MemoryStore::new(),
    };
    let ws = Workspace {
        id: WorkspaceId(id()),
        name: "w".into(),
        created_at: T0,
        version: 1,
    };
    let project = Project {
        id: ProjectId(id()),
        workspace_id: ws.id,
        key: "EDGE".into(),
        name: "e".into(),
        description: String::new(),
        archived: false,
        is_template: false,
        deleted_at: None,
        created_at: T0,
        updated_at: T0,
        version: 1,
    };
    let mut c = Commit::new();
    c.insert(Record::Workspace(ws.clone()))
        .insert(Record::Project(project.clone()));
    pair.ok(c).await;

    let instants = [
        None,
        Some(T0),
        Some(T0 + Duration::nanoseconds(1)),
        Some(T0 + Duration::nanoseconds(999)),
        Some(T0 + Duration::microseconds(1)),
        Some(T0 - Duration::nanoseconds(1)),
        Some(EARLIEST),
        Some(LATEST),
        Some(datetime!(1969-12-31 23:59:59.999999999 UTC)),
        Some(datetime!(2500-06-01 00:00 UTC)),
    ];
    let titles = [
        "ΟΔΟΣ",
        "οδος",
        "ὈΔΌΣ road",
        "İstanbul",
        "istanbul",
        "STRASSE",
        "straße",
        "100% done",
        "under_score",
        "back\\slash",
        "",
        "Ünïcode",
        "emoji 🦀 crab",
        "a",
        "B",
        "b",
    ];
    let status = [StatusId(id()), StatusId(id())];
    let mut c = Commit::new();
    let mut n = 0u64;
    for (i, due) in instants.iter().enumerate() {
        for (j, title) in titles.iter().enumerate() {
            n += 1;
            let k = (i * titles.len() + j) as i64;
            c.insert(Record::Task(Task {
                id: TaskId(id()),
                workspace_id: ws.id,
                project_id: project.id,
                number: n,
                title: (*title).to_owned(),
                description: if j % 3 == 0 {
                    titles[(j + 5) % titles.len()].to_owned()
                } else {
                    String::new()
                },
                status_id: status[(i + j) % 2],
                priority: Priority::ALL[(i + j) % 5],
                assignee_ids: vec![],
                reporter_id: UserId(Uuid::nil()),
                label_ids: vec![],
                milestone_id: None,
                due_at: *due,
                start_at: instants[(i + j) % instants.len()],
                estimate_seconds: None,
                parent_id: None,
                position: titles[(i + 3 * j) % titles.len()].to_owned(),
                completed_at: None,
                started_at: None,
                deleted_at: None,
                // Distinct, some a nanosecond apart.
                created_at: T0 + Duration::nanoseconds(k % 7) + Duration::seconds(k / 7),
                updated_at: instants[(i + 2 * j) % instants.len()].unwrap_or(T0),
                version: 1,
            }));
        }
    }
    pair.ok(c).await;

    let mut filters = Vec::new();
    for needle in [
        "σ",
        "ς",
        "ΟΔΟΣ",
        "ὀδός",
        "i̇",
        "İ",
        "I",
        "ss",
        "ß",
        "%",
        "_",
        "\\",
        "",
        "ünï",
        "🦀",
        "ROAD",
    ] {
        filters.push(TaskFilter::Text(needle.into()));
        filters.push(TaskFilter::Not(Box::new(TaskFilter::Text(needle.into()))));
    }
    for at in instants.iter().flatten() {
        for op in [CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge] {
            for field in [
                DateField::Due,
                DateField::Start,
                DateField::Created,
                DateField::Updated,
            ] {
                filters.push(TaskFilter::DateCmp(field, op, *at));
            }
            filters.push(TaskFilter::Not(Box::new(TaskFilter::DateCmp(
                DateField::Due,
                op,
                *at,
            ))));
        }
    }
    filters.push(TaskFilter::HasDate(DateField::Due));
    filters.push(TaskFilter::Not(Box::new(TaskFilter::HasDate(
        DateField::Completed,
    ))));
    for filter in &filters {
        let query = TaskQuery {
            scope: TaskScope::Project(project.id),
            filter: filter.clone(),
            sort: TaskSort::default(),
            after: None,
            limit: usize::MAX,
            trashed: false,
        };
        same!(pair, tasks(&query));
        same!(pair, status_counts(project.id, filter));
    }

    // Every sort, paged, plus cursors of the wrong kind and at the extremes.
    let fields = [
        SortField::Created,
        SortField::Updated,
        SortField::Due,
        SortField::Priority,
        SortField::Position,
        SortField::Title,
    ];
    for field in fields {
        for descending in [false, true] {
            let sort = TaskSort { field, descending };
            let mut query = TaskQuery {
                scope: TaskScope::Projects(ws.id, vec![project.id]),
                filter: TaskFilter::True,
                sort,
                after: None,
                limit: 9,
                trashed: false,
            };
            loop {
                let page = same!(pair, tasks(&query));
                let Some(last) = page.last() else { break };
                query.after = Some(sort.cursor_of(last));
            }
            for value in [
                SortValue::Null,
                SortValue::Int(0),
                SortValue::Int(i128::MIN),
                SortValue::Int(i128::MAX),
                SortValue::Int(T0.unix_timestamp_nanos()),
                SortValue::Int(2),
                SortValue::Text(String::new()),
                SortValue::Text("b".into()),
                SortValue::Text("ΟΔΟΣ".into()),
            ] {
                for cursor_id in [Uuid::nil(), Uuid::max()] {
                    query.after = Some(TaskCursor {
                        value: value.clone(),
                        id: TaskId(cursor_id),
                    });
                    query.limit = usize::MAX;
                    same!(pair, tasks(&query));
                }
            }
        }
    }
}
