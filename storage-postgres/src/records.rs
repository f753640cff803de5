//! How each record kind maps to its table: the columns, the statements that insert, update and
//! delete rows, and a record's row as a JSON object of column values.
//!
//! Writes bind rows as one JSON array and let PostgreSQL build typed rows with
//! `jsonb_populate_record(NULL::table, ...)`, so that one statement writes one row or a whole
//! group of them with the same SQL.

use std::sync::LazyLock;

use serde_json::{json, Value};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;
use tasklane_core::model::{TokenKind, TokenScope};
use tasklane_core::store::{Record, RecordKey, StoreError, StoreResult};

use crate::codec::{self, fold, ns, ns_opt};

pub(crate) type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// One table of records.
pub(crate) struct Table {
    /// Its name.
    pub name: &'static str,
    /// Its columns; the first `keys` are the primary key.
    pub columns: &'static [&'static str],
    /// How many leading columns form the primary key.
    keys: usize,
    /// The unique field a violation of the table's secondary unique constraint reports.
    pub unique_field: Option<&'static str>,
    /// The columns of that constraint.
    unique_columns: &'static [&'static str],
}

/// The tables, in a fixed order.
pub(crate) static USERS: Table = Table {
    name: "users",
    columns: &[
        "id",
        "email",
        "email_key",
        "name",
        "is_server_admin",
        "disabled",
        "created_at_ns",
        "version",
        "doc",
    ],
    keys: 1,
    unique_field: Some("email"),
    unique_columns: &["email_key"],
};

pub(crate) static TOKENS: Table = Table {
    name: "tokens",
    columns: &[
        "id",
        "user_id",
        "name",
        "kind",
        "secret_hash",
        "prefix",
        "scopes",
        "created_at_ns",
        "expires_at_ns",
        "last_used_at_ns",
        "revoked_at_ns",
        "version",
        "doc",
    ],
    keys: 1,
    unique_field: Some("token"),
    unique_columns: &["secret_hash"],
};

pub(crate) static WORKSPACES: Table = Table {
    name: "workspaces",
    columns: &["id", "name", "created_at_ns", "version", "doc"],
    keys: 1,
    unique_field: None,
    unique_columns: &[],
};

pub(crate) static MEMBERSHIPS: Table = Table {
    name: "memberships",
    columns: &[
        "workspace_id",
        "user_id",
        "role",
        "created_at_ns",
        "version",
        "doc",
    ],
    keys: 2,
    unique_field: None,
    unique_columns: &[],
};

pub(crate) static PROJECTS: Table = Table {
    name: "projects",
    columns: &[
        "id",
        "workspace_id",
        "key",
        "name",
        "description",
        "archived",
        "is_template",
        "deleted_at_ns",
        "created_at_ns",
        "updated_at_ns",
        "version",
        "doc",
    ],
    keys: 1,
    unique_field: Some("key"),
    unique_columns: &["workspace_id", "key"],
};

pub(crate) static TASK_COUNTERS: Table = Table {
    name: "task_counters",
    columns: &["project_id", "last_number", "version", "doc"],
    keys: 1,
    unique_field: None,
    unique_columns: &[],
};

pub(crate) static WORKFLOWS: Table = Table {
    name: "workflows",
    columns: &["project_id", "statuses", "transitions", "version", "doc"],
    keys: 1,
    unique_field: None,
    unique_columns: &[],
};

pub(crate) static TASKS: Table = Table {
    name: "tasks",
    columns: &[
        "id",
        "workspace_id",
        "project_id",
        "number",
        "title",
        "title_fold",
        "description",
        "description_fold",
        "status_id",
        "priority",
        "assignee_ids",
        "reporter_id",
        "label_ids",
        "milestone_id",
        "due_at_ns",
        "start_at_ns",
        "estimate_seconds",
        "parent_id",
        "position",
        "completed_at_ns",
        "started_at_ns",
        "deleted_at_ns",
        "created_at_ns",
        "updated_at_ns",
        "version",
        "doc",
    ],
    keys: 1,
    unique_field: Some("number"),
    unique_columns: &["project_id", "number"],
};

pub(crate) static DEPENDENCIES: Table = Table {
    name: "dependencies",
    columns: &[
        "task_id",
        "blocker_id",
        "workspace_id",
        "created_at_ns",
        "version",
        "doc",
    ],
    keys: 2,
    unique_field: None,
    unique_columns: &[],
};

pub(crate) static LABELS: Table = Table {
    name: "labels",
    columns: &[
        "id",
        "project_id",
        "name",
        "name_key",
        "color",
        "version",
        "doc",
    ],
    keys: 1,
    unique_field: Some("label"),
    unique_columns: &["project_id", "name_key"],
};

pub(crate) static MILESTONES: Table = Table {
    name: "milestones",
    columns: &[
        "id",
        "project_id",
        "name",
        "due_on",
        "closed",
        "version",
        "doc",
    ],
    keys: 1,
    unique_field: None,
    unique_columns: &[],
};

pub(crate) static COMMENTS: Table = Table {
    name: "comments",
    columns: &[
        "id",
        "task_id",
        "workspace_id",
        "author_id",
        "parent_id",
        "body",
        "mentions",
        "revisions",
        "deleted_at_ns",
        "created_at_ns",
        "updated_at_ns",
        "version",
        "doc",
    ],
    keys: 1,
    unique_field: None,
    unique_columns: &[],
};

/// Every table, in a fixed order.
pub(crate) static ALL: [&Table; 12] = [
    &USERS,
    &TOKENS,
    &WORKSPACES,
    &MEMBERSHIPS,
    &PROJECTS,
    &TASK_COUNTERS,
    &WORKFLOWS,
    &TASKS,
    &DEPENDENCIES,
    &LABELS,
    &MILESTONES,
    &COMMENTS,
];

/// The statements of one table. Each binds one JSON array of rows (`$1`); a row may carry
/// `"_expected"`, the version the row must have (absent or null: any).
pub(crate) struct Statements {
    /// Inserts the rows.
    pub insert: String,
    /// Replaces the rows with these keys and expected versions.
    pub update: String,
    /// As `update`, but skips (so that the row count shows it) a row whose unique value another
    /// record holds when the statement starts: a group applied in bulk must not succeed where
    /// its commits, one by one in order, would fail.
    pub update_claiming_free_values: String,
    /// Deletes the rows with these keys (only key columns are needed) and expected versions.
    pub delete: String,
    /// Reads a row's version by key; binds the key columns.
    pub version: String,
}

/// The marker of an expected version in a row object.
pub(crate) const EXPECTED: &str = "_expected";

fn statements(t: &Table) -> Statements {
    let names: &[&str] = t.columns;
    let rows = format!(
        "jsonb_array_elements($1::jsonb) AS e(j) \
         CROSS JOIN LATERAL jsonb_populate_record(NULL::{name}, e.j) AS r",
        name = t.name
    );
    let keys_match = names[..t.keys]
        .iter()
        .map(|c| format!("t.{c} = r.{c}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let version_holds =
        format!("(e.j->>'{EXPECTED}' IS NULL OR t.version = (e.j->>'{EXPECTED}')::bigint)");
    let sets = names[t.keys..]
        .iter()
        .map(|c| format!("{c} = r.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let update = format!(
        "UPDATE {name} AS t SET {sets} FROM {rows} WHERE {keys_match} AND {version_holds}",
        name = t.name
    );
    let update_claiming_free_values = if t.unique_columns.is_empty() {
        update.clone()
    } else {
        let same_value = t
            .unique_columns
            .iter()
            .map(|c| format!("o.{c} = r.{c}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let other_record = names[..t.keys]
            .iter()
            .map(|c| format!("o.{c} = r.{c}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        format!(
            "{update} AND NOT EXISTS (SELECT 1 FROM {name} AS o WHERE {same_value} \
             AND NOT ({other_record}))",
            name = t.name
        )
    };
    Statements {
        update,
        update_claiming_free_values,
        insert: format!(
            "INSERT INTO {name} SELECT * FROM jsonb_populate_recordset(NULL::{name}, $1::jsonb)",
            name = t.name
        ),
        delete: format!(
            "DELETE FROM {name} AS t USING {rows} WHERE {keys_match} AND {version_holds}",
            name = t.name
        ),
        version: format!(
            "SELECT version FROM {} WHERE {}",
            t.name,
            names[..t.keys]
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ${}", i + 1))
                .collect::<Vec<_>>()
                .join(" AND ")
        ),
    }
}

static STATEMENTS: LazyLock<Vec<Statements>> =
    LazyLock::new(|| ALL.iter().map(|t| statements(t)).collect());

/// The position of `table` in [`ALL`].
pub(crate) fn index_of(table: &Table) -> usize {
    ALL.iter()
        .position(|t| std::ptr::eq(*t, table))
        .expect("every table is listed in ALL")
}

/// The statements of `table` (one of [`ALL`]).
pub(crate) fn statements_of(table: &Table) -> &'static Statements {
    &STATEMENTS[index_of(table)]
}

/// The table of a record key.
pub(crate) fn table_of(key: &RecordKey) -> &'static Table {
    match key {
        RecordKey::User(_) => &USERS,
        RecordKey::Token(_) => &TOKENS,
        RecordKey::Workspace(_) => &WORKSPACES,
        RecordKey::Membership(..) => &MEMBERSHIPS,
        RecordKey::Project(_) => &PROJECTS,
        RecordKey::TaskCounter(_) => &TASK_COUNTERS,
        RecordKey::Workflow(_) => &WORKFLOWS,
        RecordKey::Task(_) => &TASKS,
        RecordKey::Dependency(..) => &DEPENDENCIES,
        RecordKey::Label(_) => &LABELS,
        RecordKey::Milestone(_) => &MILESTONES,
        RecordKey::Comment(_) => &COMMENTS,
    }
}

/// Binds the primary key of `key`.
pub(crate) fn bind_key<'q>(q: PgQuery<'q>, key: &RecordKey) -> PgQuery<'q> {
    match key {
        RecordKey::User(id) => q.bind(id.0),
        RecordKey::Token(id) => q.bind(id.0),
        RecordKey::Workspace(id) => q.bind(id.0),
        RecordKey::Membership(w, u) => q.bind(w.0).bind(u.0),
        RecordKey::Project(id) | RecordKey::TaskCounter(id) | RecordKey::Workflow(id) => {
            q.bind(id.0)
        }
        RecordKey::Task(id) => q.bind(id.0),
        RecordKey::Dependency(t, b) => q.bind(t.0).bind(b.0),
        RecordKey::Label(id) => q.bind(id.0),
        RecordKey::Milestone(id) => q.bind(id.0),
        RecordKey::Comment(id) => q.bind(id.0),
    }
}

fn token_kind(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Session => "session",
        TokenKind::Personal => "personal",
    }
}

fn token_scope(scope: &TokenScope) -> String {
    match scope {
        TokenScope::Read => "read".to_owned(),
        TokenScope::Write => "write".to_owned(),
    }
}

/// A date as PostgreSQL reads it: ISO 8601 for years 1 and later, `BC` before (year 0 is 1 BC).
fn date_text(d: time::Date) -> String {
    let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
    if y >= 1 {
        format!("{y:04}-{m:02}-{day:02}")
    } else {
        format!("{:04}-{m:02}-{day:02} BC", 1 - y)
    }
}

fn ids<T: Copy>(ids: &[T], raw: impl Fn(T) -> uuid::Uuid) -> Value {
    Value::Array(ids.iter().map(|i| json!(raw(*i))).collect())
}

fn doc<T: serde::Serialize>(value: &T) -> StoreResult<Value> {
    serde_json::to_value(value)
        .map_err(|e| StoreError::Unavailable(format!("refused: the record cannot be encoded: {e}")))
}

/// The key columns of `key` as a row object.
pub(crate) fn key_json(key: &RecordKey) -> Value {
    match key {
        RecordKey::User(id) => json!({ "id": id.0 }),
        RecordKey::Token(id) => json!({ "id": id.0 }),
        RecordKey::Workspace(id) => json!({ "id": id.0 }),
        RecordKey::Membership(w, u) => json!({ "workspace_id": w.0, "user_id": u.0 }),
        RecordKey::Project(id) | RecordKey::TaskCounter(id) | RecordKey::Workflow(id) => {
            if matches!(key, RecordKey::Project(_)) {
                json!({ "id": id.0 })
            } else {
                json!({ "project_id": id.0 })
            }
        }
        RecordKey::Task(id) => json!({ "id": id.0 }),
        RecordKey::Dependency(t, b) => json!({ "task_id": t.0, "blocker_id": b.0 }),
        RecordKey::Label(id) => json!({ "id": id.0 }),
        RecordKey::Milestone(id) => json!({ "id": id.0 }),
        RecordKey::Comment(id) => json!({ "id": id.0 }),
    }
}

/// Every column of `record` as a row object (column name to value).
pub(crate) fn row_json(record: &Record) -> StoreResult<Value> {
    let version = |v: u64| codec::int(v, "version");
    Ok(match record {
        Record::User(u) => json!({
            "id": u.id.0,
            "email": u.email,
            "email_key": u.email_key(),
            "name": u.name,
            "is_server_admin": u.is_server_admin,
            "disabled": u.disabled,
            "created_at_ns": ns(u.created_at),
            "version": version(u.version)?,
            "doc": doc(u)?,
        }),
        Record::Token(t) => json!({
            "id": t.id.0,
            "user_id": t.user_id.0,
            "name": t.name,
            "kind": token_kind(t.kind),
            "secret_hash": t.secret_hash,
            "prefix": t.prefix,
            "scopes": t.scopes.iter().map(token_scope).collect::<Vec<_>>(),
            "created_at_ns": ns(t.created_at),
            "expires_at_ns": ns_opt(t.expires_at),
            "last_used_at_ns": ns_opt(t.last_used_at),
            "revoked_at_ns": ns_opt(t.revoked_at),
            "version": version(t.version)?,
            "doc": doc(t)?,
        }),
        Record::Workspace(w) => json!({
            "id": w.id.0,
            "name": w.name,
            "created_at_ns": ns(w.created_at),
            "version": version(w.version)?,
            "doc": doc(w)?,
        }),
        Record::Membership(m) => json!({
            "workspace_id": m.workspace_id.0,
            "user_id": m.user_id.0,
            "role": m.role.as_str(),
            "created_at_ns": ns(m.created_at),
            "version": version(m.version)?,
            "doc": doc(m)?,
        }),
        Record::Project(p) => json!({
            "id": p.id.0,
            "workspace_id": p.workspace_id.0,
            "key": p.key,
            "name": p.name,
            "description": p.description,
            "archived": p.archived,
            "is_template": p.is_template,
            "deleted_at_ns": ns_opt(p.deleted_at),
            "created_at_ns": ns(p.created_at),
            "updated_at_ns": ns(p.updated_at),
            "version": version(p.version)?,
            "doc": doc(p)?,
        }),
        Record::TaskCounter(c) => json!({
            "project_id": c.project_id.0,
            "last_number": codec::int(c.last_number, "task number")?,
            "version": version(c.version)?,
            "doc": doc(c)?,
        }),
        Record::Workflow(w) => json!({
            "project_id": w.project_id.0,
            "statuses": doc(&w.statuses)?,
            // SQL NULL (not JSON null) when every move is allowed.
            "transitions": w.transitions.as_ref().map(doc).transpose()?,
            "version": version(w.version)?,
            "doc": doc(w)?,
        }),
        Record::Task(t) => json!({
            "id": t.id.0,
            "workspace_id": t.workspace_id.0,
            "project_id": t.project_id.0,
            "number": codec::int(t.number, "task number")?,
            "title": t.title,
            "title_fold": fold(&t.title),
            "description": t.description,
            "description_fold": fold(&t.description),
            "status_id": t.status_id.0,
            "priority": t.priority.rank(),
            "assignee_ids": ids(&t.assignee_ids, |a| a.0),
            "reporter_id": t.reporter_id.0,
            "label_ids": ids(&t.label_ids, |l| l.0),
            "milestone_id": t.milestone_id.map(|m| m.0),
            "due_at_ns": ns_opt(t.due_at),
            "start_at_ns": ns_opt(t.start_at),
            "estimate_seconds": t.estimate_seconds.map(|e| codec::int(e, "estimate")).transpose()?,
            "parent_id": t.parent_id.map(|p| p.0),
            "position": t.position,
            "completed_at_ns": ns_opt(t.completed_at),
            "started_at_ns": ns_opt(t.started_at),
            "deleted_at_ns": ns_opt(t.deleted_at),
            "created_at_ns": ns(t.created_at),
            "updated_at_ns": ns(t.updated_at),
            "version": version(t.version)?,
            "doc": doc(t)?,
        }),
        Record::Dependency(d) => json!({
            "task_id": d.task_id.0,
            "blocker_id": d.blocker_id.0,
            "workspace_id": d.workspace_id.0,
            "created_at_ns": ns(d.created_at),
            "version": version(d.version)?,
            "doc": doc(d)?,
        }),
        Record::Label(l) => json!({
            "id": l.id.0,
            "project_id": l.project_id.0,
            "name": l.name,
            "name_key": fold(&l.name),
            "color": l.color,
            "version": version(l.version)?,
            "doc": doc(l)?,
        }),
        Record::Milestone(m) => json!({
            "id": m.id.0,
            "project_id": m.project_id.0,
            "name": m.name,
            "due_on": m.due_on.map(date_text),
            "closed": m.closed,
            "version": version(m.version)?,
            "doc": doc(m)?,
        }),
        Record::Comment(c) => json!({
            "id": c.id.0,
            "task_id": c.task_id.0,
            "workspace_id": c.workspace_id.0,
            "author_id": c.author_id.0,
            "parent_id": c.parent_id.map(|p| p.0),
            "body": c.body,
            "mentions": ids(&c.mentions, |m| m.0),
            "revisions": doc(&c.revisions)?,
            "deleted_at_ns": ns_opt(c.deleted_at),
            "created_at_ns": ns(c.created_at),
            "updated_at_ns": ns(c.updated_at),
            "version": version(c.version)?,
            "doc": doc(c)?,
        }),
    })
}

/// `row` with the expected version added (`None`: any version).
pub(crate) fn expecting(mut row: Value, expected: Option<i64>) -> Value {
    if let (Value::Object(map), Some(v)) = (&mut row, expected) {
        map.insert(EXPECTED.to_owned(), json!(v));
    }
    row
}

/// Checks that the row objects of a table name exactly its columns (used by tests).
#[cfg(test)]
fn columns_of(row: &Value) -> Vec<String> {
    let map: &serde_json::Map<String, Value> = row.as_object().expect("an object");
    map.keys().cloned().collect()
}

/// The value a uniqueness violation of `record` reports, as the reference store does.
pub(crate) fn unique_value(record: &Record) -> String {
    match record {
        Record::User(u) => u.email.clone(),
        Record::Token(t) => t.prefix.clone(),
        Record::Project(p) => p.key.clone(),
        Record::Task(t) => t.number.to_string(),
        Record::Label(l) => l.name.clone(),
        other => other.key().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tasklane_core::ids::*;
    use tasklane_core::model::*;
    use time::macros::{date, datetime};
    use uuid::Uuid;

    #[test]
    fn statements_use_json_rows() {
        let s = statements_of(&MEMBERSHIPS);
        assert_eq!(
            s.insert,
            "INSERT INTO memberships SELECT * FROM jsonb_populate_recordset(NULL::memberships, $1::jsonb)"
        );
        assert_eq!(
            s.update,
            "UPDATE memberships AS t SET role = r.role, created_at_ns = r.created_at_ns, \
             version = r.version, doc = r.doc FROM jsonb_array_elements($1::jsonb) AS e(j) \
             CROSS JOIN LATERAL jsonb_populate_record(NULL::memberships, e.j) AS r \
             WHERE t.workspace_id = r.workspace_id AND t.user_id = r.user_id AND \
             (e.j->>'_expected' IS NULL OR t.version = (e.j->>'_expected')::bigint)"
        );
        assert_eq!(
            s.version,
            "SELECT version FROM memberships WHERE workspace_id = $1 AND user_id = $2"
        );
    }

    #[test]
    fn dates_before_year_one_are_written_bc() {
        assert_eq!(date_text(date!(2027 - 01 - 05)), "2027-01-05");
        assert_eq!(date_text(date!(0001 - 01 - 01)), "0001-01-01");
        assert_eq!(date_text(date!(0000 - 12 - 31)), "0001-12-31 BC");
        assert_eq!(date_text(date!(-0009 - 03 - 04)), "0010-03-04 BC");
    }

    /// Every row object names exactly its table's columns, and every key object exactly the
    /// key columns: a missing column would silently be written as NULL.
    #[test]
    fn rows_name_exactly_their_columns() {
        let at = datetime!(2026-01-01 0:00 UTC);
        let u = || Uuid::now_v7();
        let task = Task {
            id: TaskId(u()),
            workspace_id: WorkspaceId(u()),
            project_id: ProjectId(u()),
            number: 1,
            title: "t".into(),
            description: String::new(),
            status_id: StatusId(u()),
            priority: Priority::Low,
            assignee_ids: vec![],
            reporter_id: UserId(u()),
            label_ids: vec![],
            milestone_id: None,
            due_at: None,
            start_at: None,
            estimate_seconds: None,
            parent_id: None,
            position: "V".into(),
            completed_at: None,
            started_at: None,
            deleted_at: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let records = vec![
            Record::User(User {
                id: UserId(u()),
                email: "a@b".into(),
                name: "n".into(),
                password_hash: "h".into(),
                is_server_admin: false,
                disabled: false,
                created_at: at,
                version: 1,
            }),
            Record::Token(ApiToken {
                id: TokenId(u()),
                user_id: UserId(u()),
                name: "n".into(),
                kind: TokenKind::Session,
                secret_hash: "h".into(),
                prefix: "p".into(),
                scopes: vec![TokenScope::Read],
                created_at: at,
                expires_at: None,
                last_used_at: None,
                revoked_at: None,
                version: 1,
            }),
            Record::Workspace(Workspace {
                id: WorkspaceId(u()),
                name: "w".into(),
                created_at: at,
                version: 1,
            }),
            Record::Membership(Membership {
                workspace_id: WorkspaceId(u()),
                user_id: UserId(u()),
                role: Role::Member,
                created_at: at,
                version: 1,
            }),
            Record::Project(Project {
                id: ProjectId(u()),
                workspace_id: WorkspaceId(u()),
                key: "K".into(),
                name: "n".into(),
                description: String::new(),
                archived: false,
                is_template: false,
                deleted_at: None,
                created_at: at,
                updated_at: at,
                version: 1,
            }),
            Record::TaskCounter(TaskCounter {
                project_id: ProjectId(u()),
                last_number: 0,
                version: 1,
            }),
            Record::Workflow(Workflow {
                project_id: ProjectId(u()),
                statuses: vec![],
                transitions: None,
                version: 1,
            }),
            Record::Task(task.clone()),
            Record::Dependency(Dependency {
                task_id: TaskId(u()),
                blocker_id: TaskId(u()),
                workspace_id: WorkspaceId(u()),
                created_at: at,
                version: 1,
            }),
            Record::Label(Label {
                id: LabelId(u()),
                project_id: ProjectId(u()),
                name: "l".into(),
                color: None,
                version: 1,
            }),
            Record::Milestone(Milestone {
                id: MilestoneId(u()),
                project_id: ProjectId(u()),
                name: "m".into(),
                due_on: None,
                closed: false,
                version: 1,
            }),
            Record::Comment(Comment {
                id: CommentId(u()),
                task_id: task.id,
                workspace_id: task.workspace_id,
                author_id: task.reporter_id,
                parent_id: None,
                body: String::new(),
                mentions: vec![],
                revisions: vec![],
                deleted_at: None,
                created_at: at,
                updated_at: at,
                version: 1,
            }),
        ];
        assert_eq!(records.len(), ALL.len());
        for record in &records {
            let table = table_of(&record.key());
            let mut want: Vec<String> = table.columns.iter().map(|c| c.to_string()).collect();
            want.sort();
            let mut got = columns_of(&row_json(record).unwrap());
            got.sort();
            assert_eq!(got, want, "row of {}", table.name);
            let mut keys = columns_of(&key_json(&record.key()));
            keys.sort();
            let mut want_keys: Vec<String> = table.columns[..table.keys]
                .iter()
                .map(|c| c.to_string())
                .collect();
            want_keys.sort();
            assert_eq!(keys, want_keys, "key of {}", table.name);
        }
    }
}
