//! The two graphs over tasks: the subtask tree (acyclic, with a depth limit) and the
//! dependency graph "A blocks B" (acyclic; a rejected edge names the cycle).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::engine::Engine;
use crate::error::{Conflict, Error, Result};
use crate::ids::TaskId;
use crate::model::Task;
use crate::store::Store;

/// How deep `task` sits: 0 for a top-level task, 1 for its subtasks, ...
pub(crate) async fn level_of<S: Store>(engine: &Engine<S>, task: TaskId) -> Result<usize> {
    let mut level = 0;
    let mut current = engine.store().task(task).await?;
    let mut seen = HashSet::new();
    while let Some(t) = current {
        let Some(parent) = t.parent_id else { break };
        if !seen.insert(parent) {
            break;
        }
        level += 1;
        current = engine.store().task(parent).await?;
    }
    Ok(level)
}

/// The task and all its descendants (in or out of the trash), parents before children.
pub(crate) async fn subtree<S: Store>(engine: &Engine<S>, root: &Task) -> Result<Vec<Task>> {
    let mut out = vec![root.clone()];
    let mut queue = VecDeque::from([root.id]);
    let mut seen = HashSet::from([root.id]);
    while let Some(id) = queue.pop_front() {
        for child in engine.store().subtasks(id).await? {
            if seen.insert(child.id) {
                queue.push_back(child.id);
                out.push(child);
            }
        }
    }
    Ok(out)
}

/// How many levels hang below `task` (0 for a leaf).
async fn height<S: Store>(engine: &Engine<S>, task: &Task) -> Result<usize> {
    let mut height = 0;
    let mut frontier = vec![task.id];
    let mut seen = HashSet::from([task.id]);
    loop {
        let mut next = Vec::new();
        for id in frontier {
            for child in engine.store().subtasks(id).await? {
                if child.deleted_at.is_none() && seen.insert(child.id) {
                    next.push(child.id);
                }
            }
        }
        if next.is_empty() {
            return Ok(height);
        }
        height += 1;
        frontier = next;
    }
}

/// Checks that `task` may become a subtask of `parent`: no cycle, and no level deeper than the
/// configured limit.
pub(crate) async fn check_parent<S: Store>(
    engine: &Engine<S>,
    task: &Task,
    parent: TaskId,
) -> Result<()> {
    // Walk up from the new parent; meeting the task means it would become its own ancestor.
    let mut chain = Vec::new();
    let mut current = Some(parent);
    let mut seen = HashSet::new();
    while let Some(id) = current {
        if !seen.insert(id) {
            break;
        }
        let Some(t) = engine.store().task(id).await? else {
            break;
        };
        chain.push(t.clone());
        if t.id == task.id {
            let mut path = Vec::new();
            for t in chain.iter().rev() {
                path.push(engine.key_of(t).await?);
            }
            path.push(engine.key_of(task).await?);
            return Err(Error::Conflict(Conflict::SubtaskCycle { path }));
        }
        current = t.parent_id;
    }
    let max = engine.config().max_subtask_depth;
    let level = chain.len(); // the parent's level is chain.len() - 1
    if level + height(engine, task).await? > max {
        return Err(Error::Conflict(Conflict::SubtaskTooDeep { max_depth: max }));
    }
    Ok(())
}

/// Checks that "`blocker` blocks `blocked`" may be added: not there yet, and no cycle.
pub(crate) async fn check_dependency<S: Store>(
    engine: &Engine<S>,
    blocked: &Task,
    blocker: &Task,
) -> Result<()> {
    if engine
        .store()
        .blockers_of(blocked.id)
        .await?
        .iter()
        .any(|d| d.blocker_id == blocker.id)
    {
        return Err(Error::Conflict(Conflict::Duplicate {
            field: "blocked_by".into(),
            value: engine.key_of(blocker).await?,
        }));
    }
    if blocked.id == blocker.id {
        let key = engine.key_of(blocked).await?;
        return Err(Error::Conflict(Conflict::DependencyCycle {
            path: vec![key.clone(), key],
        }));
    }
    // The new edge blocker → blocked closes a cycle when blocked already (transitively)
    // blocks blocker. Search forward from `blocked` along "blocks" edges.
    let mut came_from: HashMap<TaskId, TaskId> = HashMap::new();
    let mut queue = VecDeque::from([blocked.id]);
    let mut seen = HashSet::from([blocked.id]);
    while let Some(id) = queue.pop_front() {
        for edge in engine.store().blocked_by(id).await? {
            let next = edge.task_id;
            if !seen.insert(next) {
                continue;
            }
            came_from.insert(next, id);
            if next == blocker.id {
                // Path blocked → ... → blocker, then the new edge back to blocked.
                let mut ids = vec![next];
                let mut at = next;
                while let Some(&prev) = came_from.get(&at) {
                    ids.push(prev);
                    at = prev;
                }
                ids.reverse();
                let mut path = Vec::with_capacity(ids.len() + 1);
                for id in ids.iter().chain(std::iter::once(&blocked.id)) {
                    let key = match engine.store().task(*id).await? {
                        Some(t) => engine.key_of(&t).await?,
                        None => id.to_string(),
                    };
                    path.push(key);
                }
                return Err(Error::Conflict(Conflict::DependencyCycle { path }));
            }
            queue.push_back(next);
        }
    }
    Ok(())
}
