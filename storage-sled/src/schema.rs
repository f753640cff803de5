//! The on-disk layout: the trees, how records are encoded, which index entries each record and
//! event owns, and the schema version with its upgrades.
//!
//! Record trees map a record's primary key to the record's JSON. Index trees map composite keys
//! (see [`crate::keys`]) either to the owning record's id (the unique indexes, which enforce the
//! uniqueness rules) or to nothing (list indexes, whose key ends with the listed record's id).
//! Every index entry is derived from one record or one event: [`entries_of`] and
//! [`event_entries`] are the only places that say which, so writing, deleting and rebuilding
//! always agree.

use std::collections::BTreeSet;

use tasklane_core::event::NewEvent;
use tasklane_core::model::Task;
use tasklane_core::query::{SortField, SortValue, TaskSort};
use tasklane_core::store::{Record, RecordKey, StoreError};
use uuid::Uuid;

use crate::codec::{encode_json, encode_task, StoredValue};
use crate::keys::Key;

/// The schema version this build writes.
///
/// * 1: the first layout, without the per-scope event indexes.
/// * 2: adds `events_by_workspace`, `events_by_project` and `events_by_task`.
/// * 3: one sled tree (`tasklane`) holds every logical tree as a key space (see the crate
///   documentation), so that a commit is one atomic batch; the last seq is no longer kept in
///   `meta` (it is the log's last key).
/// * 4: tasks are stored in a binary form instead of JSON (module `codec`).
///
/// An older database is upgraded on open (see [`crate::SledStore::open`]): from 1 or 2 its
/// records and log are copied into the spaces and every index is rebuilt from them; from 3 and
/// older its tasks are rewritten in the binary form, in batches, before the new version is
/// written (a task decodes in either form, so an upgrade interrupted by a crash goes on at the
/// next open). A newer database is refused.
///
/// Key spaces added without a new version, because a database that lacks their entries is
/// read correctly as it is and a build that does not know them leaves them alone (nothing
/// walks the whole tree except the upgrade of a schema 1 or 2 database, which has none):
///
/// * `idempotency_keys` (byte 38): the idempotency keys (module `idempotency`). They are
///   neither records nor derived: an upgrade does not copy them and a rebuild of the indexes
///   does not touch them.
pub const SCHEMA_VERSION: u32 = 4;

/// The last schema version that stored tasks as JSON.
pub(crate) const JSON_TASKS_VERSION: u32 = 3;

/// The sled tree that holds the store (from schema version 3).
pub(crate) const STORE_TREE: &str = "tasklane";

/// The oldest schema version this build can upgrade.
pub(crate) const OLDEST_UPGRADABLE: u32 = 1;

/// Keys of the `meta` tree.
pub(crate) mod meta {
    /// The schema version, u32 big-endian.
    pub(crate) const SCHEMA_VERSION: &[u8] = b"schema_version";
    /// How many user records exist, u64 big-endian (absent means 0).
    pub(crate) const USER_COUNT: &[u8] = b"user_count";
}

macro_rules! trees {
    ($($variant:ident => $name:literal, $byte:literal, $index:literal;)*) => {
        /// Every logical tree of the store. Each is a key space of the one sled tree (see
        /// [`crate::space`]), named by its byte: the discriminant, also the tree's position in
        /// [`Tree::ALL`]. The bytes are part of the on-disk format: a new tree takes the next
        /// free one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub(crate) enum Tree {
            $($variant = $byte,)*
        }

        impl Tree {
            pub(crate) const ALL: &'static [Tree] = &[$(Tree::$variant,)*];

            /// The byte that starts the keys of the tree's space.
            pub(crate) fn byte(self) -> u8 {
                self as u8
            }

            /// The tree's name (in messages, and the sled tree that held it in schema 2).
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Tree::$variant => $name,)*
                }
            }

            /// Whether the tree is derived (an index): it can be rebuilt from the records and
            /// the log.
            pub(crate) fn is_index(self) -> bool {
                match self {
                    $(Tree::$variant => $index,)*
                }
            }
        }
    };
}

trees! {
    Meta => "meta", 0, false;
    Users => "users", 1, false;
    Tokens => "tokens", 2, false;
    Workspaces => "workspaces", 3, false;
    Memberships => "memberships", 4, false;
    Projects => "projects", 5, false;
    TaskCounters => "task_counters", 6, false;
    Workflows => "workflows", 7, false;
    Tasks => "tasks", 8, false;
    Dependencies => "dependencies", 9, false;
    Labels => "labels", 10, false;
    Milestones => "milestones", 11, false;
    Comments => "comments", 12, false;
    Events => "events", 13, false;
    UsersByEmail => "users_by_email", 14, true;
    TokensByHash => "tokens_by_hash", 15, true;
    TokensByUser => "tokens_by_user", 16, true;
    MembershipsByUser => "memberships_by_user", 17, true;
    ProjectsByKey => "projects_by_key", 18, true;
    ProjectsByWorkspace => "projects_by_workspace", 19, true;
    TasksByNumber => "tasks_by_number", 20, true;
    TasksByParent => "tasks_by_parent", 21, true;
    DependenciesByBlocker => "dependencies_by_blocker", 22, true;
    LabelsByProject => "labels_by_project", 23, true;
    LabelsByName => "labels_by_name", 24, true;
    MilestonesByProject => "milestones_by_project", 25, true;
    CommentsByTask => "comments_by_task", 26, true;
    TasksByStatus => "tasks_by_status", 27, true;
    TasksByAssignee => "tasks_by_assignee", 28, true;
    TasksByLabel => "tasks_by_label", 29, true;
    TasksByMilestone => "tasks_by_milestone", 30, true;
    TasksByStatusPosition => "tasks_by_status_position", 31, true;
    TasksByUpdated => "tasks_by_updated", 32, true;
    TasksByDue => "tasks_by_due", 33, true;
    TasksByPriority => "tasks_by_priority", 34, true;
    EventsByWorkspace => "events_by_workspace", 35, true;
    EventsByProject => "events_by_project", 36, true;
    EventsByTask => "events_by_task", 37, true;
    IdempotencyKeys => "idempotency_keys", 38, false;
}

/// The index tree that lists a project's tasks in the order of `field`, for the fields that
/// have one.
///
/// Every sled write costs several microseconds, so a task carries no more index entries than
/// the queries need: the created order is the merge of the project's `tasks_by_status` ranges
/// (each in created order), and the rare project-wide sorts by position or title collect and
/// sort (a board column, sorted by position, has `tasks_by_status_position`).
pub(crate) fn sort_tree(field: SortField) -> Option<Tree> {
    match field {
        SortField::Updated => Some(Tree::TasksByUpdated),
        SortField::Due => Some(Tree::TasksByDue),
        SortField::Priority => Some(Tree::TasksByPriority),
        SortField::Created | SortField::Position | SortField::Title => None,
    }
}

const SORT_TREES: [(SortField, Tree); 3] = [
    (SortField::Updated, Tree::TasksByUpdated),
    (SortField::Due, Tree::TasksByDue),
    (SortField::Priority, Tree::TasksByPriority),
];

/// Where a record lives: its tree and primary key.
pub(crate) fn locate(key: &RecordKey) -> (Tree, Vec<u8>) {
    match *key {
        RecordKey::User(id) => (Tree::Users, id.0.as_bytes().to_vec()),
        RecordKey::Token(id) => (Tree::Tokens, id.0.as_bytes().to_vec()),
        RecordKey::Workspace(id) => (Tree::Workspaces, id.0.as_bytes().to_vec()),
        RecordKey::Membership(w, u) => (Tree::Memberships, Key::new().id(w.0).id(u.0).build()),
        RecordKey::Project(id) => (Tree::Projects, id.0.as_bytes().to_vec()),
        RecordKey::TaskCounter(id) => (Tree::TaskCounters, id.0.as_bytes().to_vec()),
        RecordKey::Workflow(id) => (Tree::Workflows, id.0.as_bytes().to_vec()),
        RecordKey::Task(id) => (Tree::Tasks, id.0.as_bytes().to_vec()),
        RecordKey::Dependency(t, b) => (Tree::Dependencies, Key::new().id(t.0).id(b.0).build()),
        RecordKey::Label(id) => (Tree::Labels, id.0.as_bytes().to_vec()),
        RecordKey::Milestone(id) => (Tree::Milestones, id.0.as_bytes().to_vec()),
        RecordKey::Comment(id) => (Tree::Comments, id.0.as_bytes().to_vec()),
    }
}

/// Decodes one value of a record tree or the log (see [`crate::codec`]).
pub(crate) fn decode<T: StoredValue>(tree: Tree, bytes: &[u8]) -> Result<T, StoreError> {
    T::decode(tree, bytes)
}

/// Decodes a value of a record tree as a [`Record`].
pub(crate) fn decode_record(tree: Tree, bytes: &[u8]) -> Result<Record, StoreError> {
    Ok(match tree {
        Tree::Users => Record::User(decode(tree, bytes)?),
        Tree::Tokens => Record::Token(decode(tree, bytes)?),
        Tree::Workspaces => Record::Workspace(decode(tree, bytes)?),
        Tree::Memberships => Record::Membership(decode(tree, bytes)?),
        Tree::Projects => Record::Project(decode(tree, bytes)?),
        Tree::TaskCounters => Record::TaskCounter(decode(tree, bytes)?),
        Tree::Workflows => Record::Workflow(decode(tree, bytes)?),
        Tree::Tasks => Record::Task(decode(tree, bytes)?),
        Tree::Dependencies => Record::Dependency(decode(tree, bytes)?),
        Tree::Labels => Record::Label(decode(tree, bytes)?),
        Tree::Milestones => Record::Milestone(decode(tree, bytes)?),
        Tree::Comments => Record::Comment(decode(tree, bytes)?),
        other => {
            return Err(StoreError::Corrupt(format!(
                "tree '{}' holds no records",
                other.name()
            )))
        }
    })
}

/// Encodes a record (its inner struct, without the kind tag: the tree names the kind): tasks in
/// their binary form, the others as JSON (see [`crate::codec`]).
pub(crate) fn encode_record(record: &Record) -> Result<Vec<u8>, StoreError> {
    let what = || record.key().to_string();
    match record {
        Record::User(r) => encode_json(what, r),
        Record::Token(r) => encode_json(what, r),
        Record::Workspace(r) => encode_json(what, r),
        Record::Membership(r) => encode_json(what, r),
        Record::Project(r) => encode_json(what, r),
        Record::TaskCounter(r) => encode_json(what, r),
        Record::Workflow(r) => encode_json(what, r),
        Record::Task(r) => encode_task(r),
        Record::Dependency(r) => encode_json(what, r),
        Record::Label(r) => encode_json(what, r),
        Record::Milestone(r) => encode_json(what, r),
        Record::Comment(r) => encode_json(what, r),
    }
}

/// Encodes an event for the log (the sequence number is the key, not part of the value).
pub(crate) fn encode_event(event: &NewEvent) -> Result<Vec<u8>, StoreError> {
    encode_json(|| "an event".to_owned(), event)
}

/// A unique index slot a record claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unique {
    pub(crate) tree: Tree,
    pub(crate) key: Vec<u8>,
    /// The owning record's id (the slot's value).
    pub(crate) owner: [u8; 16],
    /// The name of the unique field, as [`StoreError::Duplicate`] reports it.
    pub(crate) field: &'static str,
    /// The value shown in [`StoreError::Duplicate`].
    pub(crate) shown: String,
}

/// The index entries a record owns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Entries {
    /// Unique slots, in the order they are claimed.
    pub(crate) unique: Vec<Unique>,
    /// List entries (empty values).
    pub(crate) plain: BTreeSet<(Tree, Vec<u8>)>,
}

impl Entries {
    fn unique(&mut self, tree: Tree, key: Vec<u8>, owner: Uuid, field: &'static str, shown: &str) {
        self.unique.push(Unique {
            tree,
            key,
            owner: *owner.as_bytes(),
            field,
            shown: shown.to_owned(),
        });
    }

    fn plain(&mut self, tree: Tree, key: Vec<u8>) {
        self.plain.insert((tree, key));
    }
}

/// The prefix of a project's task index keys: the project and whether the tasks are in the
/// trash.
pub(crate) fn task_prefix(project: Uuid, trashed: bool) -> Key {
    Key::new().id(project).byte(u8::from(trashed))
}

/// The order suffix of a task in the created order: its created value and id.
fn created_suffix(t: &Task) -> Vec<u8> {
    let sort = TaskSort {
        field: SortField::Created,
        descending: false,
    };
    Key::new().sort_value(&sort.value_of(t)).id(t.id.0).build()
}

/// The index entries of `record`.
pub(crate) fn entries_of(record: &Record) -> Entries {
    let mut e = Entries::default();
    match record {
        Record::User(u) => e.unique(
            Tree::UsersByEmail,
            u.email_key().into_bytes(),
            u.id.0,
            "email",
            &u.email,
        ),
        Record::Token(t) => {
            e.unique(
                Tree::TokensByHash,
                t.secret_hash.as_bytes().to_vec(),
                t.id.0,
                "token",
                &t.prefix,
            );
            e.plain(
                Tree::TokensByUser,
                Key::new().id(t.user_id.0).id(t.id.0).build(),
            );
        }
        Record::Membership(m) => e.plain(
            Tree::MembershipsByUser,
            Key::new().id(m.user_id.0).id(m.workspace_id.0).build(),
        ),
        Record::Project(p) => {
            e.unique(
                Tree::ProjectsByKey,
                Key::new().text(&p.key).id(p.workspace_id.0).build(),
                p.id.0,
                "key",
                &p.key,
            );
            e.plain(
                Tree::ProjectsByWorkspace,
                Key::new().id(p.workspace_id.0).id(p.id.0).build(),
            );
        }
        Record::Task(t) => task_entries(t, &mut e),
        Record::Dependency(d) => e.plain(
            Tree::DependenciesByBlocker,
            Key::new().id(d.blocker_id.0).id(d.task_id.0).build(),
        ),
        Record::Label(l) => {
            e.unique(
                Tree::LabelsByName,
                Key::new()
                    .id(l.project_id.0)
                    .text(&l.name.to_lowercase())
                    .build(),
                l.id.0,
                "label",
                &l.name,
            );
            e.plain(
                Tree::LabelsByProject,
                Key::new().id(l.project_id.0).id(l.id.0).build(),
            );
        }
        Record::Milestone(m) => e.plain(
            Tree::MilestonesByProject,
            Key::new().id(m.project_id.0).id(m.id.0).build(),
        ),
        Record::Comment(c) => e.plain(
            Tree::CommentsByTask,
            Key::new().id(c.task_id.0).id(c.id.0).build(),
        ),
        Record::Workspace(_) | Record::TaskCounter(_) | Record::Workflow(_) => {}
    }
    e
}

fn task_entries(t: &Task, e: &mut Entries) {
    e.unique(
        Tree::TasksByNumber,
        Key::new().id(t.project_id.0).u64(t.number).build(),
        t.id.0,
        "number",
        &t.number.to_string(),
    );
    if let Some(parent) = t.parent_id {
        e.plain(
            Tree::TasksByParent,
            Key::new().id(parent.0).u64(t.number).id(t.id.0).build(),
        );
    }
    let trashed = t.deleted_at.is_some();
    let prefix = || task_prefix(t.project_id.0, trashed);
    let created = created_suffix(t);
    e.plain(
        Tree::TasksByStatus,
        prefix().id(t.status_id.0).raw(&created).build(),
    );
    for a in &t.assignee_ids {
        e.plain(
            Tree::TasksByAssignee,
            prefix().id(a.0).raw(&created).build(),
        );
    }
    for l in &t.label_ids {
        e.plain(Tree::TasksByLabel, prefix().id(l.0).raw(&created).build());
    }
    if let Some(m) = t.milestone_id {
        e.plain(
            Tree::TasksByMilestone,
            prefix().id(m.0).raw(&created).build(),
        );
    }
    e.plain(
        Tree::TasksByStatusPosition,
        prefix()
            .id(t.status_id.0)
            .sort_value(&SortValue::Text(t.position.clone()))
            .id(t.id.0)
            .build(),
    );
    for (field, tree) in SORT_TREES {
        let sort = TaskSort {
            field,
            descending: false,
        };
        e.plain(
            tree,
            prefix().sort_value(&sort.value_of(t)).id(t.id.0).build(),
        );
    }
}

/// The index entries of the event at `seq`.
pub(crate) fn event_entries(seq: u64, event: &NewEvent) -> Vec<(Tree, Vec<u8>)> {
    let mut out = vec![(
        Tree::EventsByWorkspace,
        Key::new().id(event.workspace_id.0).u64(seq).build(),
    )];
    if let Some(p) = event.project_id {
        out.push((Tree::EventsByProject, Key::new().id(p.0).u64(seq).build()));
    }
    if let Some(t) = event.task_id {
        out.push((Tree::EventsByTask, Key::new().id(t.0).u64(seq).build()));
    }
    out
}

/// The trees that hold records, in [`Tree::ALL`] order.
pub(crate) fn record_trees() -> impl Iterator<Item = Tree> {
    Tree::ALL.iter().copied().filter(|t| {
        !t.is_index() && !matches!(t, Tree::Meta | Tree::Events | Tree::IdempotencyKeys)
    })
}
