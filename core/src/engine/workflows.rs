//! Workflows: ordered statuses in fixed categories, and the transitions between them, optionally
//! limited to roles and conditions. Replacing a workflow re-homes the tasks of dropped statuses
//! atomically.

use std::collections::{HashMap, HashSet};

use super::access::Need;
use super::{check_version, Actor, Engine};
use crate::error::{Conflict, Error, ObjectKind, Result, Validation};
use crate::event::EventKind;
use crate::ids::{ProjectId, StatusId};
use crate::model::{Role, Status, StatusCategory, Task, Transition, TransitionCondition, Workflow};
use crate::query::{SortField, TaskFilter, TaskQuery, TaskScope, TaskSort};
use crate::store::{Commit, Record, Store};

/// A status in a workflow replacement. Without `id` it is a new status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusInput {
    /// An existing status's id, to keep it (and its tasks).
    pub id: Option<StatusId>,
    /// The name, 1–50 characters, unique ignoring case.
    pub name: String,
    /// The category.
    pub category: StatusCategory,
    /// A colour.
    pub color: Option<String>,
}

/// A transition in a workflow replacement; `from` and `to` name statuses by id or by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionInput {
    /// The status left, by id or name.
    pub from: String,
    /// The status entered, by id or name.
    pub to: String,
    /// Roles allowed to make the move (empty: all who may change tasks).
    pub roles: Vec<Role>,
    /// Conditions that must hold.
    pub conditions: Vec<TransitionCondition>,
}

/// A whole workflow, replacing the current one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkflowInput {
    /// The statuses in board order; at least one.
    pub statuses: Vec<StatusInput>,
    /// `None`: every move allowed; `Some`: only these.
    pub transitions: Option<Vec<TransitionInput>>,
    /// Where the tasks of each dropped status go: (dropped status id, kept or new status by id or
    /// name).
    pub mapping: Vec<(StatusId, String)>,
}

/// The workflow every new project starts with.
pub(crate) fn default_workflow<S: Store>(engine: &Engine<S>, project: ProjectId) -> Workflow {
    let status = |name: &str, category| Status {
        id: StatusId(engine.new_uuid()),
        name: name.to_owned(),
        category,
        color: None,
    };
    Workflow {
        project_id: project,
        statuses: vec![
            status("Backlog", StatusCategory::Backlog),
            status("Todo", StatusCategory::Unstarted),
            status("In Progress", StatusCategory::Started),
            status("In Review", StatusCategory::Started),
            status("Done", StatusCategory::Completed),
            status("Canceled", StatusCategory::Canceled),
        ],
        transitions: None,
        version: 1,
    }
}

/// Sets `completed_at` and `started_at` to follow a status change into `category` at `now`.
pub(crate) fn follow_category(
    task: &mut Task,
    category: StatusCategory,
    now: time::OffsetDateTime,
) {
    if category == StatusCategory::Completed {
        if task.completed_at.is_none() {
            task.completed_at = Some(now);
        }
    } else {
        task.completed_at = None;
    }
    if category == StatusCategory::Started && task.started_at.is_none() {
        task.started_at = Some(now);
    }
}

fn resolve_status(statuses: &[Status], reference: &str) -> Option<StatusId> {
    statuses
        .iter()
        .find(|s| s.id.to_string() == reference || s.name.eq_ignore_ascii_case(reference))
        .map(|s| s.id)
}

/// Workflow operations.
pub struct Workflows<'e, S> {
    pub(crate) engine: &'e Engine<S>,
}

impl<S: Store> Workflows<'_, S> {
    /// The project's workflow.
    ///
    /// Errors: project not visible → not found.
    pub async fn get(&self, actor: &Actor, project: ProjectId) -> Result<Workflow> {
        self.engine.project_for(actor, project, Need::Read).await?;
        self.engine
            .store()
            .workflow(project)
            .await?
            .ok_or(Error::not_found(ObjectKind::Workflow))
    }

    /// Replaces the workflow (admins). Tasks of dropped statuses move as `mapping` says, and
    /// tasks whose status changes category get `completed_at` fixed, in the same commit.
    ///
    /// Errors: invalid input → validation (every problem); dropped statuses still holding tasks
    /// without a mapping → conflict naming them; stale version → conflict; not found; forbidden.
    pub async fn replace(
        &self,
        actor: &Actor,
        project: ProjectId,
        input: WorkflowInput,
        expected_version: Option<u64>,
    ) -> Result<Workflow> {
        self.engine
            .retrying(|| self.replace_once(actor, project, &input, expected_version))
            .await
    }

    async fn replace_once(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        input: &WorkflowInput,
        expected_version: Option<u64>,
    ) -> Result<Workflow> {
        let (project, _) = self
            .engine
            .project_for(actor, project_id, Need::Manage)
            .await?;
        let store = self.engine.store();
        let current = store
            .workflow(project_id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Workflow))?;
        check_version(expected_version, current.version)?;

        let mut v = Validation::new();
        if input.statuses.is_empty() {
            v.add("statuses", "a workflow needs at least one status");
        }
        if input.statuses.len() > 50 {
            v.add("statuses", "a workflow has at most 50 statuses");
        }
        let mut names = HashSet::new();
        let mut ids = HashSet::new();
        let mut statuses = Vec::with_capacity(input.statuses.len());
        for (i, s) in input.statuses.iter().enumerate() {
            let name = s.name.trim();
            v.reject_nul(format!("statuses[{i}].name"), name);
            if !crate::error::fits(&s.name, 50) {
                v.add(
                    format!("statuses[{i}].name"),
                    "must be 1 to 50 characters long",
                );
            } else if !names.insert(name.to_lowercase()) {
                v.add(
                    format!("statuses[{i}].name"),
                    format!("'{name}' appears twice"),
                );
            }
            let id = match s.id {
                Some(id) if current.status(id).is_none() => {
                    v.add(
                        format!("statuses[{i}].id"),
                        "is not a status of this workflow; leave it out for a new status",
                    );
                    id
                }
                Some(id) => {
                    if !ids.insert(id) {
                        v.add(format!("statuses[{i}].id"), "appears twice");
                    }
                    id
                }
                None => StatusId(self.engine.new_uuid()),
            };
            statuses.push(Status {
                id,
                name: name.to_owned(),
                category: s.category,
                color: s.color.clone(),
            });
        }
        let transitions = input.transitions.as_ref().map(|ts| {
            ts.iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    let from = resolve_status(&statuses, &t.from);
                    let to = resolve_status(&statuses, &t.to);
                    if from.is_none() {
                        v.add(
                            format!("transitions[{i}].from"),
                            format!("no status '{}'", t.from),
                        );
                    }
                    if to.is_none() {
                        v.add(
                            format!("transitions[{i}].to"),
                            format!("no status '{}'", t.to),
                        );
                    }
                    Some(Transition {
                        from: from?,
                        to: to?,
                        roles: t.roles.clone(),
                        conditions: t.conditions.clone(),
                    })
                })
                .collect::<Vec<_>>()
        });
        let dropped: Vec<&Status> = current
            .statuses
            .iter()
            .filter(|s| !ids.contains(&s.id))
            .collect();
        let mut mapping: HashMap<StatusId, StatusId> = HashMap::new();
        for (i, (from, to)) in input.mapping.iter().enumerate() {
            if !dropped.iter().any(|s| s.id == *from) {
                v.add(
                    format!("mapping[{i}]"),
                    format!("{from} is not a dropped status"),
                );
            }
            match resolve_status(&statuses, to) {
                Some(target) => {
                    mapping.insert(*from, target);
                }
                None => v.add(
                    format!("mapping[{i}]"),
                    format!("no status '{to}' to map to"),
                ),
            }
        }
        v.finish()?;

        let category_of: HashMap<StatusId, StatusCategory> =
            statuses.iter().map(|s| (s.id, s.category)).collect();
        let all = |filter: TaskFilter, trashed: bool| TaskQuery {
            scope: TaskScope::Project(project_id),
            filter,
            sort: TaskSort {
                field: SortField::Created,
                descending: false,
            },
            after: None,
            limit: usize::MAX,
            trashed,
        };
        let now = self.engine.now();
        let mut commit = Commit::new();
        let mut remapped = 0u64;
        // Tasks in dropped statuses, in or out of the trash.
        if !dropped.is_empty() {
            let dropped_ids: Vec<StatusId> = dropped.iter().map(|s| s.id).collect();
            let mut in_use: Vec<String> = Vec::new();
            for trashed in [false, true] {
                let tasks = store
                    .tasks(&all(TaskFilter::StatusIn(dropped_ids.clone()), trashed))
                    .await?;
                for task in tasks {
                    let Some(&target) = mapping.get(&task.status_id) else {
                        let name = current
                            .status(task.status_id)
                            .map(|s| s.name.clone())
                            .unwrap_or_default();
                        if !in_use.contains(&name) {
                            in_use.push(name);
                        }
                        continue;
                    };
                    let mut moved = task.clone();
                    moved.status_id = target;
                    follow_category(
                        &mut moved,
                        category_of
                            .get(&target)
                            .copied()
                            .unwrap_or(StatusCategory::Unstarted),
                        now,
                    );
                    moved.version += 1;
                    moved.updated_at = now;
                    commit.update(Record::Task(moved), task.version);
                    commit.event(self.engine.event(
                        actor.user_id,
                        project.workspace_id,
                        Some(project_id),
                        Some(task.id),
                        EventKind::TaskTransitioned {
                            key: task.key(&project.key),
                            from: task.status_id,
                            to: target,
                        },
                    ));
                    remapped += 1;
                }
            }
            if !in_use.is_empty() {
                return Err(Error::Conflict(Conflict::StatusesInUse {
                    statuses: in_use,
                }));
            }
        }
        // Kept statuses whose category changed into or out of "completed".
        let changed: Vec<StatusId> = statuses
            .iter()
            .filter(|s| {
                current.status(s.id).is_some_and(|old| {
                    (old.category == StatusCategory::Completed)
                        != (s.category == StatusCategory::Completed)
                        || (s.category == StatusCategory::Started
                            && old.category != StatusCategory::Started)
                })
            })
            .map(|s| s.id)
            .collect();
        if !changed.is_empty() {
            for trashed in [false, true] {
                for task in store
                    .tasks(&all(TaskFilter::StatusIn(changed.clone()), trashed))
                    .await?
                {
                    let mut fixed = task.clone();
                    follow_category(
                        &mut fixed,
                        category_of
                            .get(&task.status_id)
                            .copied()
                            .unwrap_or(StatusCategory::Unstarted),
                        now,
                    );
                    if fixed != task {
                        fixed.version += 1;
                        fixed.updated_at = now;
                        commit.update(Record::Task(fixed), task.version);
                    }
                }
            }
        }
        let workflow = Workflow {
            project_id,
            statuses,
            transitions,
            version: current.version + 1,
        };
        commit
            .update(Record::Workflow(workflow.clone()), current.version)
            .event(self.engine.event(
                actor.user_id,
                project.workspace_id,
                Some(project_id),
                None,
                EventKind::WorkflowReplaced {
                    statuses: workflow.statuses.iter().map(|s| s.name.clone()).collect(),
                    remapped_tasks: remapped,
                },
            ));
        self.engine.commit(commit).await?;
        Ok(workflow)
    }
}
