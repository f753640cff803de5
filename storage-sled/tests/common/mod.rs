//! Test helpers: a small universe of ids, record builders, random commits interpreted against
//! the reference store, random task queries, and a comparison of every read of two stores.
#![allow(dead_code)]

use serde_json::json;
use tasklane_core::event::{EventKind, EventQuery, EventScope, FieldChange, NewEvent};
use tasklane_core::ids::*;
use tasklane_core::model::*;
use tasklane_core::query::{
    CmpOp, DateField, SortField, SortValue, TaskCursor, TaskFilter, TaskQuery, TaskScope, TaskSort,
};
use tasklane_core::store::{Commit, Expected, Record, RecordKey, Store, StoreResult, Write};
use time::{Duration, OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// A deterministic, well-spread UUID for `(kind, n)`, so that id order differs from creation
/// order.
pub fn uid(kind: u128, n: u128) -> Uuid {
    let x = (kind << 64 | n).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
    Uuid::from_u128(x)
}

pub const WORKSPACES: u128 = 2;
pub const USERS: u128 = 4;
pub const PROJECTS: u128 = 3;
pub const STATUSES: u128 = 3;
pub const LABELS: u128 = 4;
pub const MILESTONES: u128 = 3;
pub const TASKS: u128 = 40;
pub const COMMENTS: u128 = 4;
pub const TOKENS: u128 = 3;

pub fn ws(n: u128) -> WorkspaceId {
    WorkspaceId(uid(1, n))
}
pub fn user(n: u128) -> UserId {
    UserId(uid(2, n))
}
pub fn project(n: u128) -> ProjectId {
    ProjectId(uid(3, n))
}
/// The workspace of project `n`: projects 0 and 1 in workspace 0, project 2 in workspace 1.
pub fn ws_of_project(n: u128) -> WorkspaceId {
    ws(u128::from(n == 2))
}
pub fn status(n: u128) -> StatusId {
    StatusId(uid(4, n))
}
pub fn label(n: u128) -> LabelId {
    LabelId(uid(5, n))
}
pub fn milestone(n: u128) -> MilestoneId {
    MilestoneId(uid(6, n))
}
pub fn task(n: u128) -> TaskId {
    TaskId(uid(7, n))
}
pub fn comment(n: u128) -> CommentId {
    CommentId(uid(8, n))
}
pub fn token(n: u128) -> TokenId {
    TokenId(uid(9, n))
}

pub fn base_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap()
}

/// Random numbers consumed in order (cycling).
pub struct Dice<'a> {
    numbers: &'a [u32],
    at: usize,
}

impl<'a> Dice<'a> {
    pub fn new(numbers: &'a [u32]) -> Self {
        assert!(!numbers.is_empty());
        Dice { numbers, at: 0 }
    }

    pub fn roll(&mut self, n: u32) -> u32 {
        let v = self.numbers[self.at % self.numbers.len()];
        self.at += 1;
        v % n.max(1)
    }

    pub fn n(&mut self, n: u128) -> u128 {
        u128::from(self.roll(n as u32))
    }

    pub fn chance(&mut self, percent: u32) -> bool {
        self.roll(100) < percent
    }

    pub fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.roll(items.len() as u32) as usize]
    }

    /// A time with few distinct values (ties are interesting), sometimes with an offset and
    /// sub-second digits.
    pub fn time(&mut self) -> OffsetDateTime {
        let mut t = base_time() + Duration::seconds(i64::from(self.roll(4)) * 3600);
        if self.chance(20) {
            t += Duration::nanoseconds(i64::from(self.roll(3)) * 1_500);
        }
        if self.chance(20) {
            t = t.to_offset(UtcOffset::from_hms(2, 0, 0).unwrap());
        }
        t
    }

    pub fn opt_time(&mut self) -> Option<OffsetDateTime> {
        if self.chance(40) {
            None
        } else {
            Some(self.time())
        }
    }

    pub fn subset<T: Copy>(&mut self, f: impl Fn(u128) -> T, n: u128) -> Vec<T> {
        let len = self.roll(3);
        (0..len).map(|_| f(self.n(n))).collect()
    }
}

const EMAILS: [&str; 5] = [
    "ada@example.com",
    "ADA@example.com",
    "bob@example.com",
    "Cy@Example.com",
    "dee@example.com",
];
const KEYS: [&str; 4] = ["ENG", "OPS", "ENG2", "A\0B"];
const LABEL_NAMES: [&str; 5] = ["bug", "Bug", "ui", "Wont fix", "\u{c9}t\u{e9}"];
const TITLES: [&str; 6] = [
    "Login page",
    "login PAGE broken",
    "Mill design",
    "",
    "\u{c9}cole",
    "zeta",
];
const POSITIONS: [&str; 6] = ["a", "a0", "b", "", "a\0", "Z"];
const HASHES: [&str; 3] = ["h1", "h2", "h3"];

pub fn make_user(d: &mut Dice, n: u128, version: u64) -> User {
    User {
        id: user(n),
        email: d.pick(&EMAILS).to_string(),
        name: format!("User {n}"),
        password_hash: "x".into(),
        is_server_admin: d.chance(20),
        disabled: false,
        created_at: d.time(),
        version,
    }
}

pub fn make_token(d: &mut Dice, n: u128, version: u64) -> ApiToken {
    ApiToken {
        id: token(n),
        user_id: user(d.n(USERS)),
        name: "t".into(),
        kind: TokenKind::Personal,
        secret_hash: d.pick(&HASHES).to_string(),
        prefix: format!("tl_{n}"),
        scopes: vec![TokenScope::Read],
        created_at: d.time(),
        expires_at: d.opt_time(),
        last_used_at: None,
        revoked_at: None,
        version,
    }
}

pub fn make_workspace(d: &mut Dice, n: u128, version: u64) -> Workspace {
    Workspace {
        id: ws(n),
        name: format!("W{n}"),
        created_at: d.time(),
        version,
    }
}

pub fn make_membership(d: &mut Dice, w: u128, u: u128, version: u64) -> Membership {
    Membership {
        workspace_id: ws(w),
        user_id: user(u),
        role: *d.pick(&Role::ALL),
        created_at: d.time(),
        version,
    }
}

pub fn make_project(d: &mut Dice, n: u128, version: u64) -> Project {
    Project {
        id: project(n),
        workspace_id: ws_of_project(n),
        key: d.pick(&KEYS).to_string(),
        name: format!("P{n}"),
        description: String::new(),
        archived: d.chance(10),
        is_template: false,
        deleted_at: None,
        created_at: d.time(),
        updated_at: d.time(),
        version,
    }
}

pub fn make_counter(d: &mut Dice, n: u128, version: u64) -> TaskCounter {
    TaskCounter {
        project_id: project(n),
        last_number: u64::from(d.roll(20)),
        version,
    }
}

pub fn make_workflow(n: u128, version: u64) -> Workflow {
    let cats = [
        StatusCategory::Unstarted,
        StatusCategory::Started,
        StatusCategory::Completed,
    ];
    Workflow {
        project_id: project(n),
        statuses: (0..STATUSES)
            .map(|s| Status {
                id: status(s),
                name: format!("S{s}"),
                category: cats[s as usize],
                color: None,
            })
            .collect(),
        transitions: None,
        version,
    }
}

pub fn make_task(d: &mut Dice, n: u128, version: u64) -> Task {
    let p = d.n(PROJECTS);
    Task {
        id: task(n),
        workspace_id: if d.chance(5) { ws(1) } else { ws_of_project(p) },
        project_id: project(p),
        number: u64::from(d.roll(24)) + 1,
        title: d.pick(&TITLES).to_string(),
        description: if d.chance(30) {
            "see the LOGIN flow".into()
        } else {
            String::new()
        },
        status_id: status(d.n(STATUSES)),
        priority: *d.pick(&Priority::ALL),
        assignee_ids: d.subset(user, USERS),
        reporter_id: user(d.n(USERS)),
        label_ids: d.subset(label, LABELS),
        milestone_id: if d.chance(50) {
            Some(milestone(d.n(MILESTONES)))
        } else {
            None
        },
        due_at: d.opt_time(),
        start_at: d.opt_time(),
        estimate_seconds: if d.chance(30) { Some(3600) } else { None },
        parent_id: if d.chance(30) {
            Some(task(d.n(TASKS)))
        } else {
            None
        },
        position: d.pick(&POSITIONS).to_string(),
        completed_at: d.opt_time(),
        started_at: None,
        deleted_at: if d.chance(20) { Some(d.time()) } else { None },
        created_at: d.time(),
        updated_at: d.time(),
        version,
    }
}

pub fn make_dependency(d: &mut Dice, t: u128, b: u128, version: u64) -> Dependency {
    Dependency {
        task_id: task(t),
        blocker_id: task(b),
        workspace_id: ws(0),
        created_at: d.time(),
        version,
    }
}

pub fn make_label(d: &mut Dice, n: u128, version: u64) -> Label {
    Label {
        id: label(n),
        project_id: project(d.n(2)),
        name: d.pick(&LABEL_NAMES).to_string(),
        color: None,
        version,
    }
}

pub fn make_milestone(d: &mut Dice, n: u128, version: u64) -> Milestone {
    Milestone {
        id: milestone(n),
        project_id: project(d.n(2)),
        name: format!("M{}", d.roll(2)),
        due_on: if d.chance(50) {
            Some(d.time().date())
        } else {
            None
        },
        closed: false,
        version,
    }
}

pub fn make_comment(d: &mut Dice, n: u128, version: u64) -> Comment {
    Comment {
        id: comment(n),
        task_id: task(d.n(3)),
        workspace_id: ws(0),
        author_id: user(d.n(USERS)),
        parent_id: None,
        body: "hello".into(),
        mentions: vec![],
        revisions: vec![],
        deleted_at: None,
        created_at: d.time(),
        updated_at: d.time(),
        version,
    }
}

pub fn make_event(d: &mut Dice) -> NewEvent {
    let p = d.n(PROJECTS);
    let t = d.n(TASKS);
    NewEvent {
        at: d.time(),
        actor_id: user(d.n(USERS)),
        workspace_id: ws_of_project(p),
        project_id: if d.chance(80) { Some(project(p)) } else { None },
        task_id: if d.chance(60) { Some(task(t)) } else { None },
        kind: EventKind::TaskUpdated {
            key: format!("ENG-{t}"),
            changes: vec![FieldChange {
                field: "title".into(),
                old: json!({"nested": [1, 2.5, null, "x"]}),
                new: json!("y"),
            }],
        },
    }
}

/// The record stored under `key`, read through the store contract.
pub async fn current<S: Store>(s: &S, key: RecordKey) -> StoreResult<Option<Record>> {
    Ok(match key {
        RecordKey::User(id) => s.user(id).await?.map(Record::User),
        RecordKey::Token(id) => s.token(id).await?.map(Record::Token),
        RecordKey::Workspace(id) => s.workspace(id).await?.map(Record::Workspace),
        RecordKey::Membership(w, u) => s.membership(w, u).await?.map(Record::Membership),
        RecordKey::Project(id) => s.project(id).await?.map(Record::Project),
        RecordKey::TaskCounter(id) => s.task_counter(id).await?.map(Record::TaskCounter),
        RecordKey::Workflow(id) => s.workflow(id).await?.map(Record::Workflow),
        RecordKey::Task(id) => s.task(id).await?.map(Record::Task),
        RecordKey::Dependency(t, b) => s
            .blockers_of(t)
            .await?
            .into_iter()
            .find(|d| d.blocker_id == b)
            .map(Record::Dependency),
        RecordKey::Label(id) => s.label(id).await?.map(Record::Label),
        RecordKey::Milestone(id) => s.milestone(id).await?.map(Record::Milestone),
        RecordKey::Comment(id) => s.comment(id).await?.map(Record::Comment),
    })
}

/// Builds a random commit of 1 to 3 writes and 0 to 2 events, choosing expectations from the
/// current state of `reference` (mostly right, sometimes wrong).
pub async fn random_commit<S: Store>(d: &mut Dice<'_>, reference: &S) -> Commit {
    let mut commit = Commit::new();
    let writes = 1 + d.roll(3);
    let mut used = Vec::new();
    for _ in 0..writes {
        let kind = d.roll(13);
        let key = match kind {
            0 => RecordKey::User(user(d.n(USERS))),
            1 => RecordKey::Token(token(d.n(TOKENS))),
            2 => RecordKey::Workspace(ws(d.n(WORKSPACES))),
            3 => RecordKey::Membership(ws(d.n(WORKSPACES)), user(d.n(USERS))),
            4 => RecordKey::Project(project(d.n(PROJECTS))),
            5 => RecordKey::TaskCounter(project(d.n(PROJECTS))),
            6 => RecordKey::Workflow(project(d.n(PROJECTS))),
            7..=9 => RecordKey::Task(task(d.n(TASKS))),
            10 => RecordKey::Dependency(task(d.n(4)), task(d.n(4))),
            11 => {
                if d.chance(50) {
                    RecordKey::Label(label(d.n(LABELS)))
                } else {
                    RecordKey::Milestone(milestone(d.n(MILESTONES)))
                }
            }
            _ => RecordKey::Comment(comment(d.n(COMMENTS))),
        };
        if used.contains(&key) {
            continue;
        }
        used.push(key);
        let now = current(reference, key).await.unwrap();
        let now_version = now.as_ref().map(Record::version);
        let expected = match (d.roll(10), now_version) {
            (0..=6, None) => Expected::Absent,
            (0..=6, Some(v)) => Expected::Version(v),
            (7, _) => Expected::Exists,
            (8, _) => Expected::Absent,
            (_, v) => Expected::Version(v.unwrap_or(0) + 1),
        };
        let version = match expected {
            Expected::Version(v) => v + 1,
            _ => now_version.unwrap_or(0) + 1,
        };
        if now.is_some() && d.chance(15) {
            commit.writes.push(Write::Delete { key, expected });
            continue;
        }
        let record = match key {
            RecordKey::User(id) => Record::User(User {
                id,
                ..make_user(d, 0, version)
            }),
            RecordKey::Token(id) => Record::Token(ApiToken {
                id,
                ..make_token(d, 0, version)
            }),
            RecordKey::Workspace(id) => Record::Workspace(Workspace {
                id,
                ..make_workspace(d, 0, version)
            }),
            RecordKey::Membership(w, u) => Record::Membership(Membership {
                workspace_id: w,
                user_id: u,
                ..make_membership(d, 0, 0, version)
            }),
            RecordKey::Project(id) => {
                let n = (0..PROJECTS).find(|n| project(*n) == id).unwrap();
                Record::Project(make_project(d, n, version))
            }
            RecordKey::TaskCounter(id) => Record::TaskCounter(TaskCounter {
                project_id: id,
                ..make_counter(d, 0, version)
            }),
            RecordKey::Workflow(id) => Record::Workflow(Workflow {
                project_id: id,
                ..make_workflow(0, version)
            }),
            RecordKey::Task(id) => Record::Task(Task {
                id,
                ..make_task(d, 0, version)
            }),
            RecordKey::Dependency(t, b) => Record::Dependency(Dependency {
                task_id: t,
                blocker_id: b,
                ..make_dependency(d, 0, 0, version)
            }),
            RecordKey::Label(id) => Record::Label(Label {
                id,
                ..make_label(d, 0, version)
            }),
            RecordKey::Milestone(id) => Record::Milestone(Milestone {
                id,
                ..make_milestone(d, 0, version)
            }),
            RecordKey::Comment(id) => Record::Comment(Comment {
                id,
                ..make_comment(d, 0, version)
            }),
        };
        commit.writes.push(Write::Put { record, expected });
    }
    for _ in 0..d.roll(3) {
        commit.events.push(make_event(d));
    }
    commit
}

/// A random filter of depth at most `depth`.
pub fn random_filter(d: &mut Dice, depth: u32) -> TaskFilter {
    let leaf_kinds = 17;
    let kind = if depth == 0 {
        d.roll(leaf_kinds)
    } else {
        d.roll(leaf_kinds + 4)
    };
    match kind {
        0 => TaskFilter::True,
        1 => TaskFilter::StatusIn(d.subset(status, STATUSES)),
        2 => TaskFilter::AssigneeIn(d.subset(user, USERS)),
        3 => TaskFilter::HasAssignee,
        4 => TaskFilter::ReporterIn(d.subset(user, USERS)),
        5 => TaskFilter::LabelIn(d.subset(label, LABELS)),
        6 => TaskFilter::HasLabel,
        7 => TaskFilter::MilestoneIn(d.subset(milestone, MILESTONES)),
        8 => TaskFilter::HasMilestone,
        9 => TaskFilter::PriorityCmp(
            *d.pick(&[CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge]),
            *d.pick(&Priority::ALL),
        ),
        10 => TaskFilter::DateCmp(
            *d.pick(&[
                DateField::Due,
                DateField::Start,
                DateField::Created,
                DateField::Updated,
                DateField::Completed,
            ]),
            *d.pick(&[CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge]),
            d.time(),
        ),
        11 => TaskFilter::HasDate(*d.pick(&[DateField::Due, DateField::Completed])),
        12 => TaskFilter::ParentIs(task(d.n(TASKS))),
        13 => TaskFilter::Text(d.pick(&["login", "\u{e9}", "E", "page b"]).to_string()),
        14 => TaskFilter::PriorityIn(vec![*d.pick(&Priority::ALL)]),
        15 => TaskFilter::StatusIn(vec![status(d.n(STATUSES))]),
        16 => TaskFilter::HasParent,
        17 | 18 => TaskFilter::And(
            (0..d.roll(4))
                .map(|_| random_filter(d, depth - 1))
                .collect(),
        ),
        19 => TaskFilter::Or(
            (0..d.roll(4))
                .map(|_| random_filter(d, depth - 1))
                .collect(),
        ),
        _ => TaskFilter::Not(Box::new(random_filter(d, depth - 1))),
    }
}

pub const SORT_FIELDS: [SortField; 6] = [
    SortField::Created,
    SortField::Updated,
    SortField::Due,
    SortField::Priority,
    SortField::Position,
    SortField::Title,
];

/// A random query (without cursor).
pub fn random_query(d: &mut Dice) -> TaskQuery {
    let scope = if d.chance(70) {
        TaskScope::Project(project(d.n(PROJECTS)))
    } else {
        {
            // Distinct projects: the reference store lists a task once per mention of its project.
            let mut projects = vec![project(0)];
            if d.chance(70) {
                projects.push(project(1 + d.n(PROJECTS - 1)));
            }
            if d.chance(50) {
                projects.reverse();
            }
            TaskScope::Projects(ws(d.n(WORKSPACES)), projects)
        }
    };
    TaskQuery {
        scope,
        filter: random_filter(d, 2),
        sort: TaskSort {
            field: *d.pick(&SORT_FIELDS),
            descending: d.chance(50),
        },
        after: None,
        limit: if d.chance(20) { 50 } else { d.roll(7) as usize },
        trashed: d.chance(20),
    }
}

/// A random cursor for `query`'s order: from a task, or an arbitrary value.
pub fn random_cursor(d: &mut Dice, query: &TaskQuery, tasks: &[Task]) -> Option<TaskCursor> {
    match d.roll(4) {
        0 => None,
        1 if !tasks.is_empty() => Some(query.sort.cursor_of(d.pick(tasks))),
        2 => Some(TaskCursor {
            value: match query.sort.field {
                SortField::Position | SortField::Title => {
                    SortValue::Text(d.pick(&["a", "Login", ""]).to_string())
                }
                SortField::Due if d.chance(40) => SortValue::Null,
                _ => SortValue::Int(d.time().unix_timestamp_nanos()),
            },
            id: task(d.n(TASKS)),
        }),
        _ => Some(TaskCursor {
            value: SortValue::Int(i128::from(d.roll(5))),
            id: task(d.n(TASKS)),
        }),
    }
}

macro_rules! same {
    ($what:expr, $a:expr, $b:expr) => {{
        let a = $a;
        let b = $b;
        assert_eq!(a, b, "{} differs", $what);
    }};
}

/// Asserts that every read of `a` and `b` over the universe gives the same result.
pub async fn assert_same_reads<A: Store, B: Store>(a: &A, b: &B) {
    same!("user_count", a.user_count().await, b.user_count().await);
    same!("last_seq", a.last_seq().await, b.last_seq().await);
    for u in 0..USERS {
        let id = user(u);
        same!("user", a.user(id).await, b.user(id).await);
        same!(
            "tokens_of_user",
            a.tokens_of_user(id).await,
            b.tokens_of_user(id).await
        );
        same!(
            "memberships_of_user",
            a.memberships_of_user(id).await,
            b.memberships_of_user(id).await
        );
    }
    let all_users: Vec<UserId> = (0..USERS + 1).rev().map(user).collect();
    same!(
        "users",
        a.users(&all_users).await,
        b.users(&all_users).await
    );
    for e in EMAILS
        .iter()
        .chain(["nobody@example.com", "ada@EXAMPLE.COM"].iter())
    {
        same!(
            "user_by_email",
            a.user_by_email(e).await,
            b.user_by_email(e).await
        );
    }
    for n in 0..TOKENS {
        same!("token", a.token(token(n)).await, b.token(token(n)).await);
    }
    for h in HASHES.iter().chain(["nope"].iter()) {
        same!(
            "token_by_hash",
            a.token_by_hash(h).await,
            b.token_by_hash(h).await
        );
    }
    for w in 0..WORKSPACES {
        let w = ws(w);
        same!("workspace", a.workspace(w).await, b.workspace(w).await);
        same!(
            "members_of_workspace",
            a.members_of_workspace(w).await,
            b.members_of_workspace(w).await
        );
        same!(
            "projects_of_workspace",
            a.projects_of_workspace(w).await,
            b.projects_of_workspace(w).await
        );
        for u in 0..USERS {
            same!(
                "membership",
                a.membership(w, user(u)).await,
                b.membership(w, user(u)).await
            );
        }
        for k in KEYS.iter().chain(["eng", "NOPE"].iter()) {
            same!(
                "project_by_key",
                a.project_by_key(w, k).await,
                b.project_by_key(w, k).await
            );
        }
    }
    for k in KEYS.iter().chain(["eng", "NOPE", "A"].iter()) {
        same!(
            "projects_by_key",
            a.projects_by_key(k).await,
            b.projects_by_key(k).await
        );
    }
    for p in 0..PROJECTS {
        let p = project(p);
        same!("project", a.project(p).await, b.project(p).await);
        same!(
            "task_counter",
            a.task_counter(p).await,
            b.task_counter(p).await
        );
        same!("workflow", a.workflow(p).await, b.workflow(p).await);
        same!(
            "labels_of_project",
            a.labels_of_project(p).await,
            b.labels_of_project(p).await
        );
        same!(
            "milestones_of_project",
            a.milestones_of_project(p).await,
            b.milestones_of_project(p).await
        );
        for n in 0..26 {
            same!(
                "task_by_number",
                a.task_by_number(p, n).await,
                b.task_by_number(p, n).await
            );
        }
        for f in [
            TaskFilter::True,
            TaskFilter::HasAssignee,
            TaskFilter::StatusIn(vec![status(0), status(2)]),
            TaskFilter::And(vec![
                TaskFilter::AssigneeIn(vec![user(0), user(1)]),
                TaskFilter::LabelIn(vec![label(1)]),
            ]),
            TaskFilter::Or(vec![]),
            TaskFilter::Not(Box::new(TaskFilter::MilestoneIn(vec![milestone(0)]))),
        ] {
            same!(
                "status_counts",
                a.status_counts(p, &f).await,
                b.status_counts(p, &f).await
            );
        }
    }
    for t in 0..TASKS {
        let t = task(t);
        same!("task", a.task(t).await, b.task(t).await);
        same!("subtasks", a.subtasks(t).await, b.subtasks(t).await);
        same!(
            "blockers_of",
            a.blockers_of(t).await,
            b.blockers_of(t).await
        );
        same!("blocked_by", a.blocked_by(t).await, b.blocked_by(t).await);
        same!(
            "comments_of_task",
            a.comments_of_task(t).await,
            b.comments_of_task(t).await
        );
    }
    for n in 0..LABELS {
        same!("label", a.label(label(n)).await, b.label(label(n)).await);
    }
    for n in 0..MILESTONES {
        same!(
            "milestone",
            a.milestone(milestone(n)).await,
            b.milestone(milestone(n)).await
        );
    }
    for n in 0..COMMENTS {
        same!(
            "comment",
            a.comment(comment(n)).await,
            b.comment(comment(n)).await
        );
    }
    let last = a.last_seq().await.unwrap();
    let mut scopes = vec![EventScope::All];
    scopes.extend((0..WORKSPACES).map(|w| EventScope::Workspace(ws(w))));
    scopes.extend((0..PROJECTS).map(|p| EventScope::Project(project(p))));
    scopes.extend((0..3).map(|t| EventScope::Task(task(t))));
    for scope in scopes {
        for after in [0, last / 2, last, last + 5] {
            for limit in [0, 1, 3, 1000] {
                let q = EventQuery {
                    scope,
                    after,
                    limit,
                };
                same!(
                    format!("events {q:?}"),
                    a.events(&q).await,
                    b.events(&q).await
                );
            }
        }
    }
}

/// Asserts that `a` and `b` answer `query` (and the pages after its results) the same.
pub async fn assert_same_pages<A: Store, B: Store>(
    d: &mut Dice<'_>,
    a: &A,
    b: &B,
    mut query: TaskQuery,
) {
    let ra = a.tasks(&query).await;
    let rb = b.tasks(&query).await;
    same!(format!("tasks {query:?}"), &ra, &rb);
    let first = ra.unwrap();
    query.after = random_cursor(d, &query, &first);
    same!(
        format!("tasks {query:?}"),
        a.tasks(&query).await,
        b.tasks(&query).await
    );
}
