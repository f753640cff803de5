//! Task queries over the indexes.
//!
//! A [`TaskFilter`] is turned into a [`Plan`]: a set expression (union, intersection) over index
//! ranges whose keys all end with the task's *order suffix* for the query's sort field (the
//! encoded sort value, then the id). Such ranges can be merged and intersected while walking
//! them in the query's exact order, so a page stops as soon as `limit` tasks matched, and it
//! starts right after the cursor.
//!
//! Which index serves which filter part:
//!
//! | filter part | index (per project and trash state) | order suffix |
//! | --- | --- | --- |
//! | `StatusIn` | `tasks_by_status` | created |
//! | `StatusIn` | `tasks_by_status_position` | position |
//! | `AssigneeIn` | `tasks_by_assignee` | created |
//! | `LabelIn` | `tasks_by_label` | created |
//! | `MilestoneIn` | `tasks_by_milestone` | created |
//!
//! Every task of a project, in order: `tasks_by_updated`, `tasks_by_due`, `tasks_by_priority`
//! for those fields; for the created order, the merge of the project's `tasks_by_status` ranges
//! (the statuses are found by skipping through the index, one seek each). Whole projects have
//! no index in position or title order.
//!
//! Strategy, for a query sorted by field F:
//! 1. if the filter has a plan in F's order, walk it (fetching and checking each candidate);
//! 2. else, if F has no index (position or title over whole projects), collect the tasks of
//!    the filter's created-order plan (or of the whole scope), check them and keep the first
//!    `limit`;
//! 3. else, if the filter has a plan in created order (it is selective on an indexed field),
//!    walk F's index, first fetching every row for a few times `limit` rows (a dense filter
//!    fills its page there); then collect the plan's task ids (keys only): when they are few,
//!    fetch and sort them; otherwise walk on, fetching only the rows of candidates;
//! 4. else walk F's index, fetching every row.
//!
//! Every candidate is checked with the reference evaluator ([`TaskQuery::matches`] and
//! [`TaskSort::is_after`]): the plans only decide which tasks to look at and in which order.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;

use sled::IVec;
use tasklane_core::ids::ProjectId;
use tasklane_core::model::Task;
use tasklane_core::query::{SortField, SortValue, TaskCursor, TaskFilter, TaskQuery, TaskScope};
use tasklane_core::store::{StatusCount, StoreResult};
use uuid::Uuid;

use crate::error::from_sled;
use crate::keys::{prefix_end, trailing_uuid, uuid_at, Key, NULL_TAG, VALUE_TAG};
use crate::schema::{sort_tree, task_prefix, Tree};
use crate::space::Space;
use crate::store::{malformed, Inner};

/// With a plan only in created order, a query in another order collects at most this many
/// candidate ids before it falls back to fetching every row of its sort index.
const CANDIDATE_CAP: usize = 100_000;

/// Candidate sets at most this large are fetched whole instead of walking the sort index.
const FETCH_ALL_BELOW: usize = 256;

/// A set of tasks, as index ranges.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Plan {
    /// No task.
    Empty,
    /// The tasks under one value of an index (for every project of the scope).
    Leaf(Tree, Uuid),
    /// Tasks in any part.
    Union(Vec<Plan>),
    /// Tasks in every part.
    Inter(Vec<Plan>),
}

/// The plan of `filter` in the order of `field`, `None` when no index narrows it. The plan's
/// tasks are a superset of the filter's.
pub(crate) fn plan(filter: &TaskFilter, field: SortField) -> Option<Plan> {
    let leaves = |tree: Option<Tree>, ids: Vec<Uuid>| -> Option<Plan> {
        if ids.is_empty() {
            return Some(Plan::Empty);
        }
        let tree = tree?;
        let mut seen = HashSet::new();
        let mut parts: Vec<Plan> = ids
            .into_iter()
            .filter(|id| seen.insert(*id))
            .map(|id| Plan::Leaf(tree, id))
            .collect();
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Plan::Union(parts)
        })
    };
    let created_only = |tree: Tree| (field == SortField::Created).then_some(tree);
    match filter {
        TaskFilter::And(parts) => {
            let mut plans = Vec::new();
            for part in parts {
                match plan(part, field) {
                    Some(Plan::Empty) => return Some(Plan::Empty),
                    Some(p) => plans.push(p),
                    None => {}
                }
            }
            match plans.len() {
                0 => None,
                1 => plans.pop(),
                _ => Some(Plan::Inter(plans)),
            }
        }
        TaskFilter::Or(parts) => {
            let mut plans = Vec::new();
            for part in parts {
                match plan(part, field)? {
                    Plan::Empty => {}
                    p => plans.push(p),
                }
            }
            match plans.len() {
                0 => Some(Plan::Empty),
                1 => plans.pop(),
                _ => Some(Plan::Union(plans)),
            }
        }
        TaskFilter::StatusIn(ids) => leaves(
            match field {
                SortField::Created => Some(Tree::TasksByStatus),
                SortField::Position => Some(Tree::TasksByStatusPosition),
                _ => None,
            },
            ids.iter().map(|i| i.0).collect(),
        ),
        TaskFilter::AssigneeIn(ids) => leaves(
            created_only(Tree::TasksByAssignee),
            ids.iter().map(|i| i.0).collect(),
        ),
        TaskFilter::LabelIn(ids) => leaves(
            created_only(Tree::TasksByLabel),
            ids.iter().map(|i| i.0).collect(),
        ),
        TaskFilter::MilestoneIn(ids) => leaves(
            created_only(Tree::TasksByMilestone),
            ids.iter().map(|i| i.0).collect(),
        ),
        _ => None,
    }
}

/// Compares two order suffixes in the walk's order: no-value suffixes last in both directions,
/// the rest by bytes (reversed when descending), as [`tasklane_core::query::TaskSort::compare`].
fn order(a: &[u8], b: &[u8], descending: bool) -> Ordering {
    let null_a = a.first() == Some(&NULL_TAG);
    let null_b = b.first() == Some(&NULL_TAG);
    null_a
        .cmp(&null_b)
        .then_with(|| if descending { b.cmp(a) } else { a.cmp(b) })
}

/// A stream of order suffixes, in the walk's order, without repeats.
trait Stream {
    fn next(&mut self) -> StoreResult<Option<Vec<u8>>>;
}

struct EmptyStream;

impl Stream for EmptyStream {
    fn next(&mut self) -> StoreResult<Option<Vec<u8>>> {
        Ok(None)
    }
}

type SledIter = Box<dyn Iterator<Item = sled::Result<(IVec, IVec)>>>;

/// One index range: the keys under a prefix, from the cursor on.
struct LeafStream {
    iter: SledIter,
    prefix_len: usize,
}

fn range(
    tree: &Space,
    from: Bound<Vec<u8>>,
    to: Bound<Vec<u8>>,
) -> impl DoubleEndedIterator<Item = sled::Result<(IVec, IVec)>> + 'static {
    tree.range(from, to)
}

impl LeafStream {
    fn new(tree: &Space, prefix: Vec<u8>, descending: bool, after: Option<&[u8]>) -> Self {
        let end = match prefix_end(&prefix) {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        let with = |suffix: &[u8]| Key::new().raw(&prefix).raw(suffix).build();
        let iter: SledIter = if !descending {
            let from = match after {
                Some(c) => Bound::Excluded(with(c)),
                None => Bound::Included(prefix.clone()),
            };
            Box::new(range(tree, from, end))
        } else {
            let values_from = Bound::Included(with(&[VALUE_TAG]));
            let nulls_from = with(&[NULL_TAG]);
            match after {
                None => Box::new(
                    range(tree, values_from, Bound::Excluded(nulls_from.clone()))
                        .rev()
                        .chain(range(tree, Bound::Included(nulls_from), end).rev()),
                ),
                Some(c) if c.first() == Some(&NULL_TAG) => Box::new(
                    range(tree, Bound::Included(nulls_from), Bound::Excluded(with(c))).rev(),
                ),
                Some(c) => Box::new(
                    range(tree, values_from, Bound::Excluded(with(c)))
                        .rev()
                        .chain(range(tree, Bound::Included(nulls_from), end).rev()),
                ),
            }
        };
        LeafStream {
            iter,
            prefix_len: prefix.len(),
        }
    }
}

impl Stream for LeafStream {
    fn next(&mut self) -> StoreResult<Option<Vec<u8>>> {
        match self.iter.next() {
            Some(item) => {
                let (key, _) = item.map_err(from_sled)?;
                Ok(Some(key[self.prefix_len..].to_vec()))
            }
            None => Ok(None),
        }
    }
}

/// The merge of several streams, without repeats.
struct UnionStream {
    parts: Vec<Box<dyn Stream>>,
    heads: Vec<Option<Vec<u8>>>,
    done: Vec<bool>,
    descending: bool,
}

impl Stream for UnionStream {
    fn next(&mut self) -> StoreResult<Option<Vec<u8>>> {
        for (k, part) in self.parts.iter_mut().enumerate() {
            if self.heads[k].is_none() && !self.done[k] {
                self.heads[k] = part.next()?;
                self.done[k] = self.heads[k].is_none();
            }
        }
        let mut best: Option<usize> = None;
        for k in 0..self.heads.len() {
            if let Some(h) = &self.heads[k] {
                let better = match best {
                    None => true,
                    Some(b) => {
                        order(
                            h,
                            self.heads[b].as_deref().unwrap_or_default(),
                            self.descending,
                        ) == Ordering::Less
                    }
                };
                if better {
                    best = Some(k);
                }
            }
        }
        let Some(best) = best else {
            return Ok(None);
        };
        let out = self.heads[best].take();
        for head in &mut self.heads {
            if head.is_some() && *head == out {
                *head = None;
            }
        }
        Ok(out)
    }
}

/// The intersection of several streams.
struct InterStream {
    parts: Vec<Box<dyn Stream>>,
    heads: Vec<Option<Vec<u8>>>,
    descending: bool,
}

impl Stream for InterStream {
    fn next(&mut self) -> StoreResult<Option<Vec<u8>>> {
        loop {
            for (k, part) in self.parts.iter_mut().enumerate() {
                if self.heads[k].is_none() {
                    match part.next()? {
                        Some(h) => self.heads[k] = Some(h),
                        None => return Ok(None),
                    }
                }
            }
            let mut max = self.heads[0].clone().unwrap_or_default();
            for h in self.heads.iter().flatten() {
                if order(h, &max, self.descending) == Ordering::Greater {
                    max = h.clone();
                }
            }
            let mut all_equal = true;
            for (k, part) in self.parts.iter_mut().enumerate() {
                loop {
                    let head = self.heads[k].as_deref().unwrap_or_default();
                    if order(head, &max, self.descending) != Ordering::Less {
                        break;
                    }
                    match part.next()? {
                        Some(h) => self.heads[k] = Some(h),
                        None => return Ok(None),
                    }
                }
                if self.heads[k].as_deref() != Some(max.as_slice()) {
                    all_equal = false;
                }
            }
            if all_equal {
                for head in &mut self.heads {
                    *head = None;
                }
                return Ok(Some(max));
            }
        }
    }
}

/// How to walk: the scope's projects, trash state, direction and cursor suffix.
struct Walk<'a> {
    inner: &'a Inner,
    projects: &'a [ProjectId],
    trashed: bool,
    descending: bool,
    after: Option<Vec<u8>>,
}

impl Walk<'_> {
    fn union(&self, mut parts: Vec<Box<dyn Stream>>) -> Box<dyn Stream> {
        if parts.len() == 1 {
            return parts.remove(0);
        }
        let n = parts.len();
        Box::new(UnionStream {
            parts,
            heads: vec![None; n],
            done: vec![false; n],
            descending: self.descending,
        })
    }

    /// The index range of `project` under `value` (or the project's whole range when `None`).
    fn leaf_for(&self, tree: Tree, project: ProjectId, value: Option<Uuid>) -> Box<dyn Stream> {
        let mut prefix = task_prefix(project.0, self.trashed);
        if let Some(v) = value {
            prefix = prefix.id(v);
        }
        Box::new(LeafStream::new(
            self.inner.tree(tree),
            prefix.build(),
            self.descending,
            self.after.as_deref(),
        ))
    }

    /// The index range under `value` (or the whole index when `None`) for every project.
    fn leaf(&self, tree: Tree, value: Option<Uuid>) -> Box<dyn Stream> {
        let parts = self
            .projects
            .iter()
            .map(|p| self.leaf_for(tree, *p, value))
            .collect();
        self.union(parts)
    }

    /// The distinct statuses of `project`'s tasks (in this trash state), by skipping through
    /// `tasks_by_status` one status at a time.
    fn statuses(&self, project: ProjectId) -> StoreResult<Vec<Uuid>> {
        let tree = self.inner.tree(Tree::TasksByStatus);
        let prefix = task_prefix(project.0, self.trashed).build();
        let end = match prefix_end(&prefix) {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        let mut from = prefix.clone();
        let mut out = Vec::new();
        loop {
            let Some(item) = range(tree, Bound::Included(from), end.clone()).next() else {
                break;
            };
            let (key, _) = item.map_err(from_sled)?;
            let status =
                uuid_at(&key, prefix.len()).ok_or_else(|| malformed(Tree::TasksByStatus))?;
            out.push(status);
            match prefix_end(&Key::new().raw(&prefix).id(status).build()) {
                Some(next) => from = next,
                None => break,
            }
        }
        Ok(out)
    }

    /// Every task of the scope in the order of `field`, when there is an index for it: the
    /// sort index, or for the created order the merge of the projects' status ranges.
    fn all(&self, field: SortField) -> StoreResult<Option<Box<dyn Stream>>> {
        if let Some(tree) = sort_tree(field) {
            return Ok(Some(self.leaf(tree, None)));
        }
        if field != SortField::Created {
            return Ok(None);
        }
        let mut parts = Vec::new();
        for p in self.projects {
            for status in self.statuses(*p)? {
                parts.push(self.leaf_for(Tree::TasksByStatus, *p, Some(status)));
            }
        }
        Ok(Some(if parts.is_empty() {
            Box::new(EmptyStream)
        } else {
            self.union(parts)
        }))
    }

    fn stream(&self, plan: &Plan) -> Box<dyn Stream> {
        match plan {
            Plan::Empty => Box::new(EmptyStream),
            Plan::Leaf(tree, value) => self.leaf(*tree, Some(*value)),
            Plan::Union(parts) => self.union(parts.iter().map(|p| self.stream(p)).collect()),
            Plan::Inter(parts) => {
                let parts: Vec<Box<dyn Stream>> = parts.iter().map(|p| self.stream(p)).collect();
                let n = parts.len();
                Box::new(InterStream {
                    parts,
                    heads: vec![None; n],
                    descending: self.descending,
                })
            }
        }
    }
}

/// The cursor as an order suffix of `field`'s indexes, when its value has the field's type
/// (otherwise the walk starts at the beginning and only [`TaskSort::is_after`] applies it).
fn cursor_suffix(field: SortField, cursor: &TaskCursor) -> Option<Vec<u8>> {
    let fits = matches!(
        (field, &cursor.value),
        (
            SortField::Created | SortField::Updated | SortField::Priority | SortField::Due,
            SortValue::Int(_)
        ) | (SortField::Due, SortValue::Null)
            | (SortField::Position | SortField::Title, SortValue::Text(_))
    );
    fits.then(|| Key::new().sort_value(&cursor.value).id(cursor.id.0).build())
}

fn scope_projects(scope: &TaskScope) -> Vec<ProjectId> {
    let listed = match scope {
        TaskScope::Project(p) => std::slice::from_ref(p),
        TaskScope::Projects(_, ps) => ps.as_slice(),
    };
    let mut seen = HashSet::new();
    listed.iter().copied().filter(|p| seen.insert(*p)).collect()
}

fn accepts(query: &TaskQuery, task: &Task) -> bool {
    query.matches(task)
        && query
            .after
            .as_ref()
            .is_none_or(|c| query.sort.is_after(task, c))
}

/// Fetches the task named by an order suffix.
fn fetch(inner: &Inner, suffix: &[u8]) -> StoreResult<Option<Task>> {
    let id = trailing_uuid(suffix).ok_or_else(|| malformed(Tree::Tasks))?;
    inner.task(id)
}

/// A page of tasks (see the module documentation).
pub(crate) fn tasks(inner: &Inner, query: &TaskQuery) -> StoreResult<Vec<Task>> {
    if query.limit == 0 {
        return Ok(Vec::new());
    }
    let projects = scope_projects(&query.scope);
    let field = query.sort.field;
    let walk = Walk {
        inner,
        projects: &projects,
        trashed: query.trashed,
        descending: query.sort.descending,
        after: query.after.as_ref().and_then(|c| cursor_suffix(field, c)),
    };
    // Walks that only collect candidates, in any order.
    let unordered = Walk {
        inner,
        projects: &projects,
        trashed: query.trashed,
        descending: false,
        after: None,
    };
    let mut page = Page {
        inner,
        query,
        out: Vec::with_capacity(query.limit.min(256)),
    };
    if let Some(ordered) = plan(&query.filter, field) {
        // Strategy 1.
        let mut stream = walk.stream(&ordered);
        page.fill(&mut *stream, usize::MAX, None)?;
        return Ok(page.finish());
    }
    let created = match field {
        SortField::Created => None,
        _ => plan(&query.filter, SortField::Created),
    };
    let Some(mut stream) = walk.all(field)? else {
        // Strategy 2: no index in this order (position or title over whole projects).
        let mut candidates = match &created {
            Some(p) => unordered.stream(p),
            None => unordered
                .all(SortField::Created)?
                .unwrap_or_else(|| Box::new(EmptyStream)),
        };
        return collect_sorted(inner, query, &mut *candidates);
    };
    let Some(created) = created else {
        // Strategy 4.
        page.fill(&mut *stream, usize::MAX, None)?;
        return Ok(page.finish());
    };
    // Strategy 3. A dense filter fills the page within a few rows of the sort index: try that
    // first.
    let budget = query.limit.saturating_mul(4).saturating_add(64);
    if page.fill(&mut *stream, budget, None)? {
        return Ok(page.finish());
    }
    // Sparse: collect the candidates (keys only) and walk on, fetching only them.
    let mut ids: HashSet<Uuid> = HashSet::new();
    let mut plan_stream = unordered.stream(&created);
    while let Some(suffix) = plan_stream.next()? {
        if ids.len() == CANDIDATE_CAP {
            // Not that sparse after all: walk on, fetching every row.
            page.fill(&mut *stream, usize::MAX, None)?;
            return Ok(page.finish());
        }
        ids.insert(trailing_uuid(&suffix).ok_or_else(|| malformed(Tree::Tasks))?);
    }
    if ids.len() <= FETCH_ALL_BELOW {
        // Few enough to fetch them all: no need to walk the rest of the sort index.
        let mut hits = Vec::new();
        for id in &ids {
            if let Some(task) = inner.task(*id)? {
                if accepts(query, &task) {
                    hits.push(task);
                }
            }
        }
        hits.sort_by(|a, b| query.sort.compare_tasks(a, b));
        hits.truncate(query.limit);
        return Ok(hits);
    }
    page.fill(&mut *stream, usize::MAX, Some(&ids))?;
    Ok(page.finish())
}

/// Fetches every task of `candidates`, keeps those the query accepts and returns the first
/// `limit` in the query's order (holding at most about twice `limit` at a time).
fn collect_sorted(
    inner: &Inner,
    query: &TaskQuery,
    candidates: &mut dyn Stream,
) -> StoreResult<Vec<Task>> {
    let keep = query.limit;
    let mut hits: Vec<Task> = Vec::new();
    let compare = |a: &Task, b: &Task| query.sort.compare_tasks(a, b);
    while let Some(suffix) = candidates.next()? {
        if let Some(task) = fetch(inner, &suffix)? {
            if accepts(query, &task) {
                hits.push(task);
                if hits.len() >= keep.saturating_mul(2).max(1024) {
                    hits.select_nth_unstable_by(keep - 1, compare);
                    hits.truncate(keep);
                }
            }
        }
    }
    hits.sort_by(compare);
    hits.truncate(keep);
    Ok(hits)
}

/// A page being filled from streams in the query's order.
struct Page<'a> {
    inner: &'a Inner,
    query: &'a TaskQuery,
    out: Vec<Task>,
}

impl Page<'_> {
    /// Takes rows from `stream` until the page is full (then returns `true`), the stream ends,
    /// or `budget` tasks were fetched. With `only`, rows of other tasks are skipped unfetched.
    fn fill(
        &mut self,
        stream: &mut dyn Stream,
        mut budget: usize,
        only: Option<&HashSet<Uuid>>,
    ) -> StoreResult<bool> {
        while self.out.len() < self.query.limit {
            if budget == 0 {
                return Ok(false);
            }
            let Some(suffix) = stream.next()? else {
                return Ok(false);
            };
            let id = trailing_uuid(&suffix).ok_or_else(|| malformed(Tree::Tasks))?;
            if only.is_some_and(|ids| !ids.contains(&id)) {
                continue;
            }
            budget -= 1;
            if let Some(task) = self.inner.task(id)? {
                if accepts(self.query, &task) {
                    self.out.push(task);
                }
            }
        }
        Ok(true)
    }

    fn finish(mut self) -> Vec<Task> {
        // The walk is in the query's order already; sorting again costs little and keeps the
        // result exact even if an index entry were stale.
        self.out.sort_by(|a, b| self.query.sort.compare_tasks(a, b));
        self.out
    }
}

/// Counts of the project's tasks (not in the trash) matching `filter`, per status, by status id.
pub(crate) fn status_counts(
    inner: &Inner,
    project: ProjectId,
    filter: &TaskFilter,
) -> StoreResult<Vec<StatusCount>> {
    let mut counts: BTreeMap<Uuid, u64> = BTreeMap::new();
    if *filter == TaskFilter::True {
        // Keys only: project (16), trash flag (1), status (16), ...
        let prefix = task_prefix(project.0, false).build();
        for key in inner.keys_with_prefix(Tree::TasksByStatus, &prefix) {
            let key = key?;
            let status = uuid_at(&key, 17).ok_or_else(|| malformed(Tree::TasksByStatus))?;
            *counts.entry(status).or_default() += 1;
        }
    } else {
        let projects = [project];
        let walk = Walk {
            inner,
            projects: &projects,
            trashed: false,
            descending: false,
            after: None,
        };
        let mut stream = match plan(filter, SortField::Created) {
            Some(p) => walk.stream(&p),
            None => walk
                .all(SortField::Created)?
                .unwrap_or_else(|| Box::new(EmptyStream)),
        };
        while let Some(suffix) = stream.next()? {
            if let Some(task) = fetch(inner, &suffix)? {
                if task.project_id == project && task.deleted_at.is_none() && filter.matches(&task)
                {
                    *counts.entry(task.status_id.0).or_default() += 1;
                }
            }
        }
    }
    Ok(counts
        .into_iter()
        .map(|(status, count)| StatusCount {
            status_id: status.into(),
            count,
        })
        .collect())
}
