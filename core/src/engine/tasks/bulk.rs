//! Bulk operations: up to the configured maximum of tasks changed or trashed in one atomic
//! commit. All or nothing: when any task fails, nothing is written and the error names every
//! failing task with its reason.

use std::collections::HashSet;

use time::OffsetDateTime;

use super::{dedup, ContextNeeds, TaskRef, TaskView, Tasks};
use crate::engine::access::Need;
use crate::engine::Actor;
use crate::error::{BulkFailure, Error, Result, Validation};
use crate::ids::{LabelId, MilestoneId, ProjectId, StatusId, UserId};
use crate::model::Priority;
use crate::store::{Commit, Store};

/// Fields to set on every task of a bulk operation; `None` leaves a field alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkSet {
    /// Transition every task to this status (each move obeys the workflow).
    pub status_id: Option<StatusId>,
    /// Set the priority.
    pub priority: Option<Priority>,
    /// Replace the assignees.
    pub assignee_ids: Option<Vec<UserId>>,
    /// Add these labels.
    pub add_label_ids: Vec<LabelId>,
    /// Remove these labels.
    pub remove_label_ids: Vec<LabelId>,
    /// Set or clear the milestone.
    pub milestone_id: Option<Option<MilestoneId>>,
    /// Set or clear the due instant.
    pub due_at: Option<Option<OffsetDateTime>>,
}

/// What to do to every task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BulkAction {
    /// Set fields.
    Set(BulkSet),
    /// Move to the trash.
    Delete,
}

/// A bulk operation over tasks of one project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkRequest {
    /// The tasks, by id or key; each at most once.
    pub task_ids: Vec<TaskRef>,
    /// What to do.
    pub action: BulkAction,
}

impl<S: Store> Tasks<'_, S> {
    /// Applies one action to many tasks of a project in one atomic commit.
    ///
    /// Errors: an empty or too long list, duplicates, or invalid fields → validation; project
    /// not visible → not found; guest or read-only → forbidden; any task failing →
    /// [`Error::Bulk`] listing each failing task and why, with nothing changed.
    pub async fn bulk(
        &self,
        actor: &Actor,
        project: ProjectId,
        request: BulkRequest,
    ) -> Result<Vec<TaskView>> {
        self.engine
            .retrying(|| self.bulk_once(actor, project, &request))
            .await
    }

    async fn bulk_once(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        request: &BulkRequest,
    ) -> Result<Vec<TaskView>> {
        let engine = self.engine;
        let (project, membership) = engine.project_for(actor, project_id, Need::Work).await?;
        let needs = match &request.action {
            BulkAction::Set(set) => ContextNeeds {
                members: set.assignee_ids.is_some(),
                labels: !set.add_label_ids.is_empty(),
                milestones: set.milestone_id.is_some(),
            },
            BulkAction::Delete => ContextNeeds::default(),
        };
        let ctx = engine
            .task_context(project.clone(), membership.role, needs)
            .await?;
        let max = engine.config().max_bulk_tasks;
        let mut v = Validation::new();
        if request.task_ids.is_empty() {
            v.add("task_ids", "name at least one task");
        }
        if request.task_ids.len() > max {
            v.add("task_ids", format!("at most {max} tasks at once"));
        }
        let mut seen = HashSet::new();
        for (i, r) in request.task_ids.iter().enumerate() {
            if !seen.insert(r) {
                v.add(format!("task_ids[{i}]"), "appears twice");
            }
        }
        if let BulkAction::Set(set) = &request.action {
            if let Some(s) = set.status_id {
                ctx.check_status(&mut v, s);
            }
            if let Some(a) = &set.assignee_ids {
                ctx.check_assignees(&mut v, a);
            }
            ctx.check_labels(&mut v, "add_label_ids", &set.add_label_ids);
            if let Some(m) = set.milestone_id {
                ctx.check_milestone(&mut v, m);
            }
        }
        v.finish()?;

        let mut failures = Vec::new();
        let mut commit = Commit::new();
        let mut changed = Vec::new();
        let mut resolved = HashSet::new();
        for (i, reference) in request.task_ids.iter().enumerate() {
            let found = engine.find_task(actor, reference, Need::Work, false).await;
            let current = match found {
                Ok((t, _, _)) if t.project_id == project_id => {
                    // The same task named twice (by id and by key) is a malformed request.
                    if !resolved.insert(t.id) {
                        return Err(Error::invalid(
                            format!("task_ids[{i}]"),
                            "names a task that appears earlier in the list",
                        ));
                    }
                    t
                }
                Ok(_) => {
                    failures.push(BulkFailure {
                        task: reference.to_string(),
                        error: Error::not_found(crate::error::ObjectKind::Task),
                    });
                    continue;
                }
                Err(error) => {
                    failures.push(BulkFailure {
                        task: reference.to_string(),
                        error,
                    });
                    continue;
                }
            };
            let outcome = match &request.action {
                BulkAction::Delete => {
                    self.stage_delete(actor, &project, &current, &mut commit)
                        .await
                }
                BulkAction::Set(set) => {
                    let mut task = current.clone();
                    if let Some(s) = set.status_id {
                        task.status_id = s;
                    }
                    if let Some(p) = set.priority {
                        task.priority = p;
                    }
                    if let Some(a) = &set.assignee_ids {
                        task.assignee_ids = dedup(a);
                    }
                    for l in &set.add_label_ids {
                        if !task.label_ids.contains(l) {
                            task.label_ids.push(*l);
                        }
                    }
                    task.label_ids.retain(|l| !set.remove_label_ids.contains(l));
                    if let Some(m) = set.milestone_id {
                        task.milestone_id = m;
                    }
                    if let Some(d) = set.due_at {
                        task.due_at = d;
                    }
                    let mut check = Validation::new();
                    ctx.check_dates(&mut check, task.start_at, task.due_at);
                    match check.finish() {
                        Err(e) => Err(e),
                        Ok(()) => {
                            let staged = self
                                .stage_change(actor, &ctx, &current, &mut task, &mut commit)
                                .await;
                            if staged.is_ok() {
                                changed.push(task);
                            }
                            staged
                        }
                    }
                }
            };
            if let Err(error) = outcome {
                failures.push(BulkFailure {
                    task: reference.to_string(),
                    error,
                });
            }
        }
        if !failures.is_empty() {
            return Err(Error::Bulk(failures));
        }
        // A task may appear twice in a commit when a deleted parent's subtree includes another
        // listed task; keep the last write of each key.
        dedup_writes(&mut commit);
        if !commit.writes.is_empty() {
            engine.commit(commit).await?;
        }
        let mut views = Vec::with_capacity(changed.len());
        for task in changed {
            views.push(engine.view(task, &project).await?);
        }
        Ok(views)
    }
}

/// Keeps the first write of each key: a subtask trashed with its listed parent and listed
/// itself is staged twice with the same content.
fn dedup_writes(commit: &mut Commit) {
    let mut seen = HashSet::new();
    commit.writes.retain(|write| seen.insert(write.key()));
}
