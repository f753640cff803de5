//! The in-memory reference store. It keeps everything in maps behind one lock, evaluates queries
//! with the reference evaluator, and is what the conformance suite and the property tests hold
//! every other adapter to. Nothing survives the process.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::RwLock;

use async_trait::async_trait;

use super::LogWatchSender;
use super::{
    Commit, CommitReceipt, Expected, Record, RecordKey, StatusCount, Store, StoreError,
    StoreResult, Write,
};
use super::{IdempotencyClaim, IdempotencyKey, IdempotencyOwner, IdempotencyTable};
use crate::event::{Event, EventQuery, EventScope};
use crate::ids::{
    CommentId, LabelId, MilestoneId, ProjectId, TaskId, TokenId, UserId, WorkspaceId,
};
use crate::model::{
    ApiToken, Comment, Dependency, Label, Membership, Milestone, Project, Task, TaskCounter, User,
    Workflow, Workspace,
};
use crate::query::{SortField, TaskFilter, TaskQuery, TaskScope};

/// The in-memory reference store. Cheap to create; cloneable handles share nothing (wrap it in an
/// `Arc` to share).
#[derive(Debug)]
pub struct MemoryStore {
    state: RwLock<State>,
    /// Idempotency keys, apart from the records (they are not part of commits).
    idempotency: IdempotencyTable,
    /// The log watch: advanced by every commit with events once it is applied.
    log_watch: LogWatchSender,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            state: RwLock::default(),
            idempotency: IdempotencyTable::default(),
            log_watch: LogWatchSender::new(0),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug, Default)]
struct State {
    records: HashMap<RecordKey, Record>,
    events: Vec<Event>,
    email: HashMap<String, UserId>,
    token_hash: HashMap<String, TokenId>,
    tokens_by_user: BTreeSet<(UserId, TokenId)>,
    members_by_workspace: BTreeSet<(WorkspaceId, UserId)>,
    members_by_user: BTreeSet<(UserId, WorkspaceId)>,
    project_key: HashMap<(WorkspaceId, String), ProjectId>,
    projects_by_workspace: BTreeSet<(WorkspaceId, ProjectId)>,
    task_number: HashMap<(ProjectId, u64), TaskId>,
    tasks_by_project: HashMap<ProjectId, BTreeMap<u64, TaskId>>,
    /// Per project, tasks in creation order: the default sort, walked with an early stop.
    tasks_by_created: HashMap<ProjectId, BTreeSet<(i128, TaskId)>>,
    subtasks: BTreeSet<(TaskId, u64, TaskId)>,
    deps_by_task: BTreeSet<(TaskId, TaskId)>,
    deps_by_blocker: BTreeSet<(TaskId, TaskId)>,
    labels_by_project: BTreeSet<(ProjectId, LabelId)>,
    label_name: HashMap<(ProjectId, String), LabelId>,
    milestones_by_project: BTreeSet<(ProjectId, MilestoneId)>,
    comments_by_task: BTreeSet<(TaskId, CommentId)>,
}

fn duplicate(field: &str, value: &str) -> StoreError {
    StoreError::Duplicate {
        field: field.to_owned(),
        value: value.to_owned(),
    }
}

/// Claims a unique index slot for `owner`; fails when another record holds it.
fn claim<K: std::hash::Hash + Eq, V: PartialEq + Copy>(
    index: &mut HashMap<K, V>,
    key: K,
    owner: V,
    field: &str,
    shown: &str,
) -> StoreResult<()> {
    match index.get(&key) {
        Some(existing) if *existing != owner => Err(duplicate(field, shown)),
        _ => {
            index.insert(key, owner);
            Ok(())
        }
    }
}

impl State {
    fn get(&self, key: &RecordKey) -> Option<&Record> {
        self.records.get(key)
    }

    fn task(&self, id: TaskId) -> Option<&Task> {
        match self.records.get(&RecordKey::Task(id)) {
            Some(Record::Task(t)) => Some(t),
            _ => None,
        }
    }

    /// Removes a record's secondary index entries.
    fn unindex(&mut self, record: &Record) {
        match record {
            Record::User(u) => {
                if self.email.get(&u.email_key()) == Some(&u.id) {
                    self.email.remove(&u.email_key());
                }
            }
            Record::Token(t) => {
                if self.token_hash.get(&t.secret_hash) == Some(&t.id) {
                    self.token_hash.remove(&t.secret_hash);
                }
                self.tokens_by_user.remove(&(t.user_id, t.id));
            }
            Record::Membership(m) => {
                self.members_by_workspace
                    .remove(&(m.workspace_id, m.user_id));
                self.members_by_user.remove(&(m.user_id, m.workspace_id));
            }
            Record::Project(p) => {
                let k = (p.workspace_id, p.key.clone());
                if self.project_key.get(&k) == Some(&p.id) {
                    self.project_key.remove(&k);
                }
                self.projects_by_workspace.remove(&(p.workspace_id, p.id));
            }
            Record::Task(t) => {
                if self.task_number.get(&(t.project_id, t.number)) == Some(&t.id) {
                    self.task_number.remove(&(t.project_id, t.number));
                }
                if let Some(m) = self.tasks_by_project.get_mut(&t.project_id) {
                    if m.get(&t.number) == Some(&t.id) {
                        m.remove(&t.number);
                    }
                }
                if let Some(p) = t.parent_id {
                    self.subtasks.remove(&(p, t.number, t.id));
                }
                if let Some(set) = self.tasks_by_created.get_mut(&t.project_id) {
                    set.remove(&(t.created_at.unix_timestamp_nanos(), t.id));
                }
            }
            Record::Dependency(d) => {
                self.deps_by_task.remove(&(d.task_id, d.blocker_id));
                self.deps_by_blocker.remove(&(d.blocker_id, d.task_id));
            }
            Record::Label(l) => {
                self.labels_by_project.remove(&(l.project_id, l.id));
                let k = (l.project_id, l.name.to_lowercase());
                if self.label_name.get(&k) == Some(&l.id) {
                    self.label_name.remove(&k);
                }
            }
            Record::Milestone(m) => {
                self.milestones_by_project.remove(&(m.project_id, m.id));
            }
            Record::Comment(c) => {
                self.comments_by_task.remove(&(c.task_id, c.id));
            }
            Record::Workspace(_) | Record::TaskCounter(_) | Record::Workflow(_) => {}
        }
    }

    /// Adds a record's secondary index entries, enforcing uniqueness.
    fn index(&mut self, record: &Record) -> StoreResult<()> {
        match record {
            Record::User(u) => claim(&mut self.email, u.email_key(), u.id, "email", &u.email)?,
            Record::Token(t) => {
                claim(
                    &mut self.token_hash,
                    t.secret_hash.clone(),
                    t.id,
                    "token",
                    &t.prefix,
                )?;
                self.tokens_by_user.insert((t.user_id, t.id));
            }
            Record::Membership(m) => {
                self.members_by_workspace
                    .insert((m.workspace_id, m.user_id));
                self.members_by_user.insert((m.user_id, m.workspace_id));
            }
            Record::Project(p) => {
                claim(
                    &mut self.project_key,
                    (p.workspace_id, p.key.clone()),
                    p.id,
                    "key",
                    &p.key,
                )?;
                self.projects_by_workspace.insert((p.workspace_id, p.id));
            }
            Record::Task(t) => {
                claim(
                    &mut self.task_number,
                    (t.project_id, t.number),
                    t.id,
                    "number",
                    &t.number.to_string(),
                )?;
                self.tasks_by_project
                    .entry(t.project_id)
                    .or_default()
                    .insert(t.number, t.id);
                if let Some(p) = t.parent_id {
                    self.subtasks.insert((p, t.number, t.id));
                }
                self.tasks_by_created
                    .entry(t.project_id)
                    .or_default()
                    .insert((t.created_at.unix_timestamp_nanos(), t.id));
            }
            Record::Dependency(d) => {
                self.deps_by_task.insert((d.task_id, d.blocker_id));
                self.deps_by_blocker.insert((d.blocker_id, d.task_id));
            }
            Record::Label(l) => {
                claim(
                    &mut self.label_name,
                    (l.project_id, l.name.to_lowercase()),
                    l.id,
                    "label",
                    &l.name,
                )?;
                self.labels_by_project.insert((l.project_id, l.id));
            }
            Record::Milestone(m) => {
                self.milestones_by_project.insert((m.project_id, m.id));
            }
            Record::Comment(c) => {
                self.comments_by_task.insert((c.task_id, c.id));
            }
            Record::Workspace(_) | Record::TaskCounter(_) | Record::Workflow(_) => {}
        }
        Ok(())
    }

    /// Replaces whatever is stored under `key` with `new`, keeping indexes in step.
    fn replace(&mut self, key: RecordKey, new: Option<Record>) -> StoreResult<()> {
        if let Some(old) = self.records.remove(&key) {
            self.unindex(&old);
        }
        if let Some(record) = new {
            let indexed = self.index(&record);
            // Index even on failure so that the undo path can unindex uniformly.
            self.records.insert(key, record);
            indexed?;
        }
        Ok(())
    }

    fn check(&self, key: &RecordKey, expected: Expected) -> StoreResult<()> {
        let current = self.get(key).map(Record::version);
        let ok = match (expected, current) {
            (Expected::Absent, None) => true,
            (Expected::Version(v), Some(c)) => v == c,
            (Expected::Exists, Some(_)) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(StoreError::VersionConflict {
                record: key.to_string(),
            })
        }
    }

    fn apply(&mut self, commit: Commit) -> StoreResult<CommitReceipt> {
        for write in &commit.writes {
            match write {
                Write::Put { record, expected } => self.check(&record.key(), *expected)?,
                Write::Delete { key, expected } => {
                    if *expected == Expected::Absent {
                        return Err(StoreError::VersionConflict {
                            record: key.to_string(),
                        });
                    }
                    self.check(key, *expected)?
                }
            }
        }
        let mut undo: Vec<(RecordKey, Option<Record>)> = Vec::with_capacity(commit.writes.len());
        let mut failure = None;
        for write in commit.writes {
            let (key, new) = match write {
                Write::Put { record, .. } => (record.key(), Some(record)),
                Write::Delete { key, .. } => (key, None),
            };
            undo.push((key, self.records.get(&key).cloned()));
            if let Err(e) = self.replace(key, new) {
                failure = Some(e);
                break;
            }
        }
        if let Some(e) = failure {
            for (key, old) in undo.into_iter().rev() {
                // Restoring earlier state cannot break uniqueness: it held before.
                let _ = self.replace(key, old);
            }
            return Err(e);
        }
        let mut seqs = Vec::with_capacity(commit.events.len());
        for event in commit.events {
            let seq = self.events.len() as u64 + 1;
            self.events.push(Event::from_new(seq, event));
            seqs.push(seq);
        }
        Ok(CommitReceipt { seqs })
    }

    fn scoped_tasks<'a>(&'a self, scope: &'a TaskScope) -> Box<dyn Iterator<Item = &'a Task> + 'a> {
        let projects: Vec<ProjectId> = match scope {
            TaskScope::Project(p) => vec![*p],
            TaskScope::Projects(_, ps) => {
                let mut ps = ps.clone();
                ps.sort();
                ps.dedup();
                ps
            }
        };
        Box::new(projects.into_iter().flat_map(move |p| {
            self.tasks_by_project
                .get(&p)
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(|id| self.task(*id))
        }))
    }
}

macro_rules! get_as {
    ($state:expr, $key:expr, $variant:ident) => {
        match $state.get(&$key) {
            Some(Record::$variant(r)) => Some(r.clone()),
            _ => None,
        }
    };
}

#[async_trait]
impl Store for MemoryStore {
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        Ok(get_as!(self.read(), RecordKey::User(id), User))
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let state = self.read();
        Ok(state
            .email
            .get(&email.to_lowercase())
            .and_then(|id| get_as!(state, RecordKey::User(*id), User)))
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        let state = self.read();
        Ok(ids
            .iter()
            .filter_map(|id| get_as!(state, RecordKey::User(*id), User))
            .collect())
    }

    async fn user_count(&self) -> StoreResult<u64> {
        Ok(self.read().email.len() as u64)
    }

    async fn token(&self, id: TokenId) -> StoreResult<Option<ApiToken>> {
        Ok(get_as!(self.read(), RecordKey::Token(id), Token))
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        let state = self.read();
        Ok(state
            .token_hash
            .get(hash)
            .and_then(|id| get_as!(state, RecordKey::Token(*id), Token)))
    }

    async fn tokens_of_user(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let state = self.read();
        let mut tokens: Vec<ApiToken> = state
            .tokens_by_user
            .range((user, TokenId(uuid::Uuid::nil()))..=(user, TokenId(uuid::Uuid::max())))
            .filter_map(|(_, id)| get_as!(state, RecordKey::Token(*id), Token))
            .collect();
        tokens.sort_by_key(|a| (a.created_at, a.id));
        Ok(tokens)
    }

    async fn workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
        Ok(get_as!(self.read(), RecordKey::Workspace(id), Workspace))
    }

    async fn membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> StoreResult<Option<Membership>> {
        Ok(get_as!(
            self.read(),
            RecordKey::Membership(workspace, user),
            Membership
        ))
    }

    async fn members_of_workspace(&self, workspace: WorkspaceId) -> StoreResult<Vec<Membership>> {
        let state = self.read();
        let mut out: Vec<Membership> = state
            .members_by_workspace
            .range((workspace, UserId(uuid::Uuid::nil()))..=(workspace, UserId(uuid::Uuid::max())))
            .filter_map(|(w, u)| get_as!(state, RecordKey::Membership(*w, *u), Membership))
            .collect();
        out.sort_by_key(|a| (a.created_at, a.user_id));
        Ok(out)
    }

    async fn memberships_of_user(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let state = self.read();
        let mut out: Vec<Membership> = state
            .members_by_user
            .range((user, WorkspaceId(uuid::Uuid::nil()))..=(user, WorkspaceId(uuid::Uuid::max())))
            .filter_map(|(u, w)| get_as!(state, RecordKey::Membership(*w, *u), Membership))
            .collect();
        out.sort_by_key(|a| (a.created_at, a.workspace_id));
        Ok(out)
    }

    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        Ok(get_as!(self.read(), RecordKey::Project(id), Project))
    }

    async fn project_by_key(
        &self,
        workspace: WorkspaceId,
        key: &str,
    ) -> StoreResult<Option<Project>> {
        let state = self.read();
        Ok(state
            .project_key
            .get(&(workspace, key.to_owned()))
            .and_then(|id| get_as!(state, RecordKey::Project(*id), Project)))
    }

    async fn projects_by_key(&self, key: &str) -> StoreResult<Vec<Project>> {
        let state = self.read();
        let mut out: Vec<Project> = state
            .project_key
            .iter()
            .filter(|((_, k), _)| k == key)
            .filter_map(|(_, id)| get_as!(state, RecordKey::Project(*id), Project))
            .collect();
        out.sort_by_key(|a| (a.created_at, a.id));
        Ok(out)
    }

    async fn projects_of_workspace(&self, workspace: WorkspaceId) -> StoreResult<Vec<Project>> {
        let state = self.read();
        let mut out: Vec<Project> = state
            .projects_by_workspace
            .range(
                (workspace, ProjectId(uuid::Uuid::nil()))
                    ..=(workspace, ProjectId(uuid::Uuid::max())),
            )
            .filter_map(|(_, id)| get_as!(state, RecordKey::Project(*id), Project))
            .collect();
        out.sort_by_key(|a| (a.created_at, a.id));
        Ok(out)
    }

    async fn task_counter(&self, project: ProjectId) -> StoreResult<Option<TaskCounter>> {
        Ok(get_as!(
            self.read(),
            RecordKey::TaskCounter(project),
            TaskCounter
        ))
    }

    async fn next_task_number(&self, project: ProjectId) -> StoreResult<Option<u64>> {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        match state.records.get_mut(&RecordKey::TaskCounter(project)) {
            Some(Record::TaskCounter(counter)) => {
                counter.last_number += 1;
                counter.version += 1;
                Ok(Some(counter.last_number))
            }
            _ => Ok(None),
        }
    }

    async fn workflow(&self, project: ProjectId) -> StoreResult<Option<Workflow>> {
        Ok(get_as!(self.read(), RecordKey::Workflow(project), Workflow))
    }

    async fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        Ok(self.read().task(id).cloned())
    }

    async fn task_by_number(&self, project: ProjectId, number: u64) -> StoreResult<Option<Task>> {
        let state = self.read();
        Ok(state
            .task_number
            .get(&(project, number))
            .and_then(|id| state.task(*id).cloned()))
    }

    async fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        let state = self.read();
        if let (TaskScope::Project(project), SortField::Created) = (&query.scope, query.sort.field)
        {
            // Walk the creation-order index from the cursor and stop at the limit.
            let Some(index) = state.tasks_by_created.get(project) else {
                return Ok(Vec::new());
            };
            let start = query.after.as_ref().map(|c| match c.value {
                crate::query::SortValue::Int(nanos) => (nanos, c.id),
                _ => (i128::MIN, TaskId(uuid::Uuid::nil())),
            });
            let candidates: Box<dyn Iterator<Item = &(i128, TaskId)>> =
                match (query.sort.descending, start) {
                    (false, None) => Box::new(index.iter()),
                    (false, Some(s)) => Box::new(index.range((Excluded(s), Unbounded))),
                    (true, None) => Box::new(index.iter().rev()),
                    (true, Some(s)) => Box::new(index.range((Unbounded, Excluded(s))).rev()),
                };
            return Ok(candidates
                .filter_map(|(_, id)| state.task(*id))
                .filter(|t| query.matches(t))
                .take(query.limit)
                .cloned()
                .collect());
        }
        let mut hits: Vec<&Task> = state
            .scoped_tasks(&query.scope)
            .filter(|t| query.matches(t))
            .filter(|t| {
                query
                    .after
                    .as_ref()
                    .is_none_or(|c| query.sort.is_after(t, c))
            })
            .collect();
        let compare = |a: &&Task, b: &&Task| query.sort.compare_tasks(a, b);
        if hits.len() > query.limit && query.limit > 0 {
            hits.select_nth_unstable_by(query.limit - 1, compare);
            hits.truncate(query.limit);
        }
        hits.sort_by(compare);
        hits.truncate(query.limit);
        Ok(hits.into_iter().cloned().collect())
    }

    async fn subtasks(&self, parent: TaskId) -> StoreResult<Vec<Task>> {
        let state = self.read();
        Ok(state
            .subtasks
            .range(
                (parent, 0, TaskId(uuid::Uuid::nil()))
                    ..=(parent, u64::MAX, TaskId(uuid::Uuid::max())),
            )
            .filter_map(|(_, _, id)| state.task(*id).cloned())
            .collect())
    }

    async fn status_counts(
        &self,
        project: ProjectId,
        filter: &TaskFilter,
    ) -> StoreResult<Vec<StatusCount>> {
        let state = self.read();
        let mut counts: BTreeMap<crate::ids::StatusId, u64> = BTreeMap::new();
        let scope = TaskScope::Project(project);
        for task in state.scoped_tasks(&scope) {
            if task.deleted_at.is_none() && filter.matches(task) {
                *counts.entry(task.status_id).or_default() += 1;
            }
        }
        Ok(counts
            .into_iter()
            .map(|(status_id, count)| StatusCount { status_id, count })
            .collect())
    }

    async fn blockers_of(&self, task: TaskId) -> StoreResult<Vec<Dependency>> {
        let state = self.read();
        let mut out: Vec<Dependency> = state
            .deps_by_task
            .range((task, TaskId(uuid::Uuid::nil()))..=(task, TaskId(uuid::Uuid::max())))
            .filter_map(|(t, b)| get_as!(state, RecordKey::Dependency(*t, *b), Dependency))
            .collect();
        out.sort_by_key(|a| (a.created_at, a.blocker_id));
        Ok(out)
    }

    async fn blocked_by(&self, task: TaskId) -> StoreResult<Vec<Dependency>> {
        let state = self.read();
        let mut out: Vec<Dependency> = state
            .deps_by_blocker
            .range((task, TaskId(uuid::Uuid::nil()))..=(task, TaskId(uuid::Uuid::max())))
            .filter_map(|(b, t)| get_as!(state, RecordKey::Dependency(*t, *b), Dependency))
            .collect();
        out.sort_by_key(|a| (a.created_at, a.task_id));
        Ok(out)
    }

    async fn label(&self, id: LabelId) -> StoreResult<Option<Label>> {
        Ok(get_as!(self.read(), RecordKey::Label(id), Label))
    }

    async fn labels_of_project(&self, project: ProjectId) -> StoreResult<Vec<Label>> {
        let state = self.read();
        let mut out: Vec<Label> = state
            .labels_by_project
            .range((project, LabelId(uuid::Uuid::nil()))..=(project, LabelId(uuid::Uuid::max())))
            .filter_map(|(_, id)| get_as!(state, RecordKey::Label(*id), Label))
            .collect();
        out.sort_by_key(|a| (a.name.to_lowercase(), a.id));
        Ok(out)
    }

    async fn milestone(&self, id: MilestoneId) -> StoreResult<Option<Milestone>> {
        Ok(get_as!(self.read(), RecordKey::Milestone(id), Milestone))
    }

    async fn milestones_of_project(&self, project: ProjectId) -> StoreResult<Vec<Milestone>> {
        let state = self.read();
        let mut out: Vec<Milestone> = state
            .milestones_by_project
            .range(
                (project, MilestoneId(uuid::Uuid::nil()))
                    ..=(project, MilestoneId(uuid::Uuid::max())),
            )
            .filter_map(|(_, id)| get_as!(state, RecordKey::Milestone(*id), Milestone))
            .collect();
        out.sort_by(|a, b| {
            (a.due_on.is_none(), a.due_on, &a.name, a.id).cmp(&(
                b.due_on.is_none(),
                b.due_on,
                &b.name,
                b.id,
            ))
        });
        Ok(out)
    }

    async fn comment(&self, id: CommentId) -> StoreResult<Option<Comment>> {
        Ok(get_as!(self.read(), RecordKey::Comment(id), Comment))
    }

    async fn comments_of_task(&self, task: TaskId) -> StoreResult<Vec<Comment>> {
        let state = self.read();
        let mut out: Vec<Comment> = state
            .comments_by_task
            .range((task, CommentId(uuid::Uuid::nil()))..=(task, CommentId(uuid::Uuid::max())))
            .filter_map(|(_, id)| get_as!(state, RecordKey::Comment(*id), Comment))
            .collect();
        out.sort_by_key(|a| (a.created_at, a.id));
        Ok(out)
    }

    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<Event>> {
        let state = self.read();
        let start = usize::try_from(query.after)
            .unwrap_or(usize::MAX)
            .min(state.events.len());
        Ok(state.events[start..]
            .iter()
            .filter(|e| match query.scope {
                EventScope::All => true,
                EventScope::Workspace(w) => e.workspace_id == w,
                EventScope::Project(p) => e.project_id == Some(p),
                EventScope::Task(t) => e.task_id == Some(t),
            })
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn last_seq(&self) -> StoreResult<u64> {
        Ok(self.read().events.len() as u64)
    }

    fn log_watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.log_watch.subscribe()
    }

    async fn commit(&self, commit: Commit) -> StoreResult<CommitReceipt> {
        let receipt = {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            state.apply(commit)?
        };
        // After the lock is released: readers woken by the watch find the events visible.
        if let Some(&last) = receipt.seqs.last() {
            self.log_watch.advance(last);
        }
        Ok(receipt)
    }

    async fn claim_idempotency_key(
        &self,
        key: IdempotencyKey,
        fingerprint: &[u8],
        owner: IdempotencyOwner,
        now: time::OffsetDateTime,
        lease_until: time::OffsetDateTime,
    ) -> StoreResult<IdempotencyClaim> {
        Ok(self
            .idempotency
            .claim(key, fingerprint, owner, now, lease_until))
    }

    async fn complete_idempotency_key(
        &self,
        key: IdempotencyKey,
        owner: IdempotencyOwner,
        answer: &[u8],
        expires_at: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        Ok(self.idempotency.complete(key, owner, answer, expires_at))
    }

    async fn release_idempotency_key(
        &self,
        key: IdempotencyKey,
        owner: IdempotencyOwner,
    ) -> StoreResult<bool> {
        Ok(self.idempotency.release(key, owner))
    }

    async fn purge_idempotency_keys(&self, now: time::OffsetDateTime) -> StoreResult<u64> {
        Ok(self.idempotency.purge(now))
    }
}
