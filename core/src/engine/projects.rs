//! Projects: keys, archive and restore, templates and statistics.

use std::collections::HashMap;

use super::access::Need;
use super::workflows::default_workflow;
use super::{check_version, Actor, Engine};
use crate::error::{Conflict, Error, ObjectKind, Result, Validation};
use crate::event::{EventKind, FieldChange};
use crate::ids::{LabelId, MilestoneId, ProjectId, StatusId, TaskId, WorkspaceId};
use crate::model::{
    Dependency, Label, Milestone, Project, StatusCategory, Task, TaskCounter, Workflow,
};
use crate::query::{CmpOp, DateField, SortField, TaskFilter, TaskQuery, TaskScope, TaskSort};
use crate::store::{Commit, Record, Store};

/// A new project.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewProject {
    /// The key: 2–10 of A–Z and 0–9, starting with a letter (lower case is accepted and
    /// upper-cased).
    pub key: String,
    /// The name, 1–200 characters.
    pub name: String,
    /// A markdown description, up to 100 KB.
    pub description: Option<String>,
    /// Copy workflow, labels, milestones and tasks from this template project.
    pub template_id: Option<ProjectId>,
    /// Make the new project a template itself.
    pub is_template: bool,
}

/// Changes to a project; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectPatch {
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// Whether it is a template.
    pub is_template: Option<bool>,
}

/// The count of one status in [`ProjectStats`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusStat {
    /// The status.
    pub status_id: StatusId,
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: StatusCategory,
    /// Tasks in it (not in the trash).
    pub count: u64,
}

/// Counts of a project's tasks.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectStats {
    /// Per status, in workflow order.
    pub by_status: Vec<StatusStat>,
    /// Per category, in category order (every category present).
    pub by_category: Vec<(StatusCategory, u64)>,
    /// All tasks not in the trash.
    pub total: u64,
    /// Open tasks (not completed or canceled) due before now.
    pub overdue: u64,
    /// Completed tasks divided by tasks that are not canceled; 0 when there are none.
    pub completion_ratio: f64,
}

/// Checks a project key; returns it upper-cased.
pub(crate) fn normalize_key(key: &str) -> std::result::Result<String, String> {
    let key = key.trim().to_ascii_uppercase();
    let valid = (2..=10).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_uppercase())
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if valid {
        Ok(key)
    } else {
        Err("must be 2 to 10 letters A–Z or digits, starting with a letter".to_owned())
    }
}

const MAX_DESCRIPTION_BYTES: usize = 100 * 1024;

/// Project operations.
pub struct Projects<'e, S> {
    pub(crate) engine: &'e Engine<S>,
}

impl<S: Store> Projects<'_, S> {
    /// Creates a project (members and above), with the default workflow or a template's copy.
    ///
    /// Errors: invalid fields → validation (every one); key taken → conflict; workspace or
    /// template not visible → not found; guest or read-only → forbidden.
    pub async fn create(
        &self,
        actor: &Actor,
        workspace: WorkspaceId,
        new: NewProject,
    ) -> Result<Project> {
        self.engine
            .require(actor, workspace, Need::Work, ObjectKind::Workspace)
            .await?;
        let mut v = Validation::new();
        let key = match normalize_key(&new.key) {
            Ok(k) => k,
            Err(m) => {
                v.add("key", m);
                String::new()
            }
        };
        let name = new.name.trim().to_owned();
        if !crate::error::fits(&new.name, 200) {
            v.add("name", "must be 1 to 200 characters long");
        }
        let description = new.description.unwrap_or_default();
        if description.len() > MAX_DESCRIPTION_BYTES {
            v.add("description", "must be at most 100 KB");
        }
        v.reject_nul("name", &name);
        v.reject_nul("description", &description);
        v.finish()?;
        let store = self.engine.store();
        if store.project_by_key(workspace, &key).await?.is_some() {
            return Err(Error::Conflict(Conflict::Duplicate {
                field: "key".into(),
                value: key,
            }));
        }
        let template = match new.template_id {
            Some(tid) => {
                let t = store
                    .project(tid)
                    .await?
                    .filter(|t| t.deleted_at.is_none() && t.workspace_id == workspace)
                    .ok_or_else(|| {
                        Error::invalid("template_id", "no such template in this workspace")
                    })?;
                Some(t)
            }
            None => None,
        };
        let now = self.engine.now();
        let project = Project {
            id: ProjectId(self.engine.new_uuid()),
            workspace_id: workspace,
            key: key.clone(),
            name: name.clone(),
            description,
            archived: false,
            is_template: new.is_template,
            deleted_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut commit = Commit::new();
        commit
            .insert(Record::Project(project.clone()))
            .event(self.engine.event(
                actor.user_id,
                workspace,
                Some(project.id),
                None,
                EventKind::ProjectCreated {
                    key: key.clone(),
                    name,
                },
            ));
        match template {
            None => {
                commit
                    .insert(Record::Workflow(default_workflow(self.engine, project.id)))
                    .insert(Record::TaskCounter(TaskCounter {
                        project_id: project.id,
                        last_number: 0,
                        version: 1,
                    }));
            }
            Some(template) => {
                self.copy_template(actor, &template, &project, &mut commit)
                    .await?
            }
        }
        self.engine.commit(commit).await?;
        Ok(project)
    }

    /// Adds to `commit` a copy of the template's workflow, labels, milestones and tasks (with
    /// subtasks and dependencies) into `project`.
    async fn copy_template(
        &self,
        actor: &Actor,
        template: &Project,
        project: &Project,
        commit: &mut Commit,
    ) -> Result<()> {
        let store = self.engine.store();
        let now = self.engine.now();
        let source_flow = store
            .workflow(template.id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Workflow))?;
        let mut status_map: HashMap<StatusId, StatusId> = HashMap::new();
        let mut flow = Workflow {
            project_id: project.id,
            statuses: Vec::new(),
            transitions: None,
            version: 1,
        };
        for s in &source_flow.statuses {
            let id = StatusId(self.engine.new_uuid());
            status_map.insert(s.id, id);
            let mut copy = s.clone();
            copy.id = id;
            flow.statuses.push(copy);
        }
        flow.transitions = source_flow.transitions.as_ref().map(|ts| {
            ts.iter()
                .filter_map(|t| {
                    let mut t = t.clone();
                    t.from = *status_map.get(&t.from)?;
                    t.to = *status_map.get(&t.to)?;
                    Some(t)
                })
                .collect()
        });
        let mut label_map: HashMap<LabelId, LabelId> = HashMap::new();
        for l in store.labels_of_project(template.id).await? {
            let id = LabelId(self.engine.new_uuid());
            label_map.insert(l.id, id);
            commit.insert(Record::Label(Label {
                id,
                project_id: project.id,
                version: 1,
                ..l
            }));
        }
        let mut milestone_map: HashMap<MilestoneId, MilestoneId> = HashMap::new();
        for m in store.milestones_of_project(template.id).await? {
            let id = MilestoneId(self.engine.new_uuid());
            milestone_map.insert(m.id, id);
            commit.insert(Record::Milestone(Milestone {
                id,
                project_id: project.id,
                version: 1,
                ..m
            }));
        }
        let tasks = store
            .tasks(&TaskQuery {
                scope: TaskScope::Project(template.id),
                filter: TaskFilter::True,
                sort: TaskSort {
                    field: SortField::Created,
                    descending: false,
                },
                after: None,
                limit: usize::MAX,
                trashed: false,
            })
            .await?;
        let mut task_map: HashMap<TaskId, TaskId> = HashMap::new();
        for t in &tasks {
            task_map.insert(t.id, TaskId(self.engine.new_uuid()));
        }
        let members: Vec<_> = store
            .members_of_workspace(project.workspace_id)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        let mut last_number = 0;
        for t in &tasks {
            let Some(&status_id) = status_map.get(&t.status_id) else {
                continue;
            };
            let category = flow
                .status(status_id)
                .map(|s| s.category)
                .unwrap_or(StatusCategory::Unstarted);
            last_number += 1;
            let number = last_number;
            let copy = Task {
                id: task_map[&t.id],
                workspace_id: project.workspace_id,
                project_id: project.id,
                number,
                title: t.title.clone(),
                description: t.description.clone(),
                status_id,
                priority: t.priority,
                assignee_ids: t
                    .assignee_ids
                    .iter()
                    .filter(|a| members.contains(a))
                    .copied()
                    .collect(),
                reporter_id: actor.user_id,
                label_ids: t
                    .label_ids
                    .iter()
                    .filter_map(|l| label_map.get(l).copied())
                    .collect(),
                milestone_id: t.milestone_id.and_then(|m| milestone_map.get(&m).copied()),
                due_at: t.due_at,
                start_at: t.start_at,
                estimate_seconds: t.estimate_seconds,
                parent_id: t.parent_id.and_then(|p| task_map.get(&p).copied()),
                position: t.position.clone(),
                completed_at: (category == StatusCategory::Completed).then_some(now),
                started_at: (category == StatusCategory::Started).then_some(now),
                deleted_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            for dep in store.blockers_of(t.id).await? {
                if let Some(&blocker) = task_map.get(&dep.blocker_id) {
                    commit.insert(Record::Dependency(Dependency {
                        task_id: copy.id,
                        blocker_id: blocker,
                        workspace_id: project.workspace_id,
                        created_at: now,
                        version: 1,
                    }));
                }
            }
            commit.event(self.engine.event(
                actor.user_id,
                project.workspace_id,
                Some(project.id),
                Some(copy.id),
                EventKind::TaskCreated {
                    key: copy.key(&project.key),
                    title: copy.title.clone(),
                    status_id,
                },
            ));
            commit.insert(Record::Task(copy));
        }
        commit
            .insert(Record::Workflow(flow))
            .insert(Record::TaskCounter(TaskCounter {
                project_id: project.id,
                last_number,
                version: 1,
            }));
        Ok(())
    }

    /// The project, if the actor may see it.
    ///
    /// Errors: unknown, deleted or invisible → not found.
    pub async fn get(&self, actor: &Actor, id: ProjectId) -> Result<Project> {
        Ok(self.engine.project_for(actor, id, Need::Read).await?.0)
    }

    /// The workspace's projects that are not deleted, oldest first.
    ///
    /// Errors: not a member → not found.
    pub async fn list(&self, actor: &Actor, workspace: WorkspaceId) -> Result<Vec<Project>> {
        self.engine
            .require(actor, workspace, Need::Read, ObjectKind::Workspace)
            .await?;
        Ok(self
            .engine
            .store()
            .projects_of_workspace(workspace)
            .await?
            .into_iter()
            .filter(|p| p.deleted_at.is_none())
            .collect())
    }

    async fn modify(
        &self,
        actor: &Actor,
        id: ProjectId,
        expected_version: Option<u64>,
        allow_archived: bool,
        change: impl Fn(&mut Project) -> Option<EventKind>,
    ) -> Result<Project> {
        self.engine
            .retrying(|| async {
                let need = Need::Manage;
                let current = if allow_archived {
                    let (p, _) = self.engine.project_for(actor, id, Need::Read).await?;
                    self.engine
                        .require(actor, p.workspace_id, need, ObjectKind::Project)
                        .await?;
                    p
                } else {
                    self.engine.project_for(actor, id, need).await?.0
                };
                check_version(expected_version, current.version)?;
                let mut updated = current.clone();
                let Some(kind) = change(&mut updated) else {
                    return Ok(current);
                };
                updated.version += 1;
                updated.updated_at = self.engine.now();
                let mut commit = Commit::new();
                commit
                    .update(Record::Project(updated.clone()), current.version)
                    .event(self.engine.event(
                        actor.user_id,
                        current.workspace_id,
                        Some(id),
                        None,
                        kind,
                    ));
                self.engine.commit(commit).await?;
                Ok(updated)
            })
            .await
    }

    /// Changes name, description or template flag (admins).
    ///
    /// Errors: not found; forbidden; archived, or stale version → conflict; invalid fields →
    /// validation.
    pub async fn update(
        &self,
        actor: &Actor,
        id: ProjectId,
        patch: ProjectPatch,
        expected_version: Option<u64>,
    ) -> Result<Project> {
        let mut v = Validation::new();
        let name = patch.name.as_ref().map(|n| n.trim().to_owned());
        if let Some(sent) = &patch.name {
            if !crate::error::fits(sent, 200) {
                v.add("name", "must be 1 to 200 characters long");
            }
        }
        if patch
            .description
            .as_ref()
            .is_some_and(|d| d.len() > MAX_DESCRIPTION_BYTES)
        {
            v.add("description", "must be at most 100 KB");
        }
        if let Some(n) = &name {
            v.reject_nul("name", n);
        }
        if let Some(d) = &patch.description {
            v.reject_nul("description", d);
        }
        v.finish()?;
        self.modify(actor, id, expected_version, false, |p| {
            let mut changes = Vec::new();
            if let Some(n) = &name {
                if *n != p.name {
                    changes.push(FieldChange::new("name", &p.name, n));
                    p.name = n.clone();
                }
            }
            if let Some(d) = &patch.description {
                if *d != p.description {
                    changes.push(FieldChange::new("description", &p.description, d));
                    p.description = d.clone();
                }
            }
            if let Some(t) = patch.is_template {
                if t != p.is_template {
                    changes.push(FieldChange::new("is_template", p.is_template, t));
                    p.is_template = t;
                }
            }
            (!changes.is_empty()).then_some(EventKind::ProjectUpdated { changes })
        })
        .await
    }

    /// Archives a project: it stays readable and refuses writes (admins).
    ///
    /// Errors: not found; forbidden; stale version → conflict.
    pub async fn archive(&self, actor: &Actor, id: ProjectId) -> Result<Project> {
        self.modify(actor, id, None, true, |p| {
            (!p.archived).then(|| {
                p.archived = true;
                EventKind::ProjectArchived
            })
        })
        .await
    }

    /// Restores an archived project (admins).
    ///
    /// Errors: not found; forbidden.
    pub async fn restore(&self, actor: &Actor, id: ProjectId) -> Result<Project> {
        self.modify(actor, id, None, true, |p| {
            p.archived.then(|| {
                p.archived = false;
                EventKind::ProjectRestored
            })
        })
        .await
    }

    /// Deletes a project (admins): it and its tasks disappear from every read. Its key stays
    /// taken.
    ///
    /// Errors: not found; forbidden; stale version → conflict.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: ProjectId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        let now = self.engine.now();
        self.modify(actor, id, expected_version, true, |p| {
            p.deleted_at = Some(now);
            Some(EventKind::ProjectDeleted)
        })
        .await?;
        Ok(())
    }

    /// Counts per status and category, overdue tasks and the completion ratio.
    ///
    /// Errors: not found.
    pub async fn stats(&self, actor: &Actor, id: ProjectId) -> Result<ProjectStats> {
        let (project, _) = self.engine.project_for(actor, id, Need::Read).await?;
        let store = self.engine.store();
        let flow = store
            .workflow(project.id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Workflow))?;
        let counts = store.status_counts(project.id, &TaskFilter::True).await?;
        let open: Vec<StatusId> = flow
            .statuses
            .iter()
            .filter(|s| !s.category.is_closed())
            .map(|s| s.id)
            .collect();
        let overdue_filter = TaskFilter::And(vec![
            TaskFilter::StatusIn(open),
            TaskFilter::DateCmp(DateField::Due, CmpOp::Lt, self.engine.now()),
        ]);
        let overdue: u64 = store
            .status_counts(project.id, &overdue_filter)
            .await?
            .iter()
            .map(|c| c.count)
            .sum();
        let by_status: Vec<StatusStat> = flow
            .statuses
            .iter()
            .map(|s| StatusStat {
                status_id: s.id,
                name: s.name.clone(),
                category: s.category,
                count: counts
                    .iter()
                    .find(|c| c.status_id == s.id)
                    .map(|c| c.count)
                    .unwrap_or(0),
            })
            .collect();
        let by_category: Vec<(StatusCategory, u64)> = StatusCategory::ALL
            .iter()
            .map(|c| {
                (
                    *c,
                    by_status
                        .iter()
                        .filter(|s| s.category == *c)
                        .map(|s| s.count)
                        .sum(),
                )
            })
            .collect();
        let total: u64 = by_status.iter().map(|s| s.count).sum();
        let of = |c: StatusCategory| {
            by_category
                .iter()
                .find(|(k, _)| *k == c)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        };
        let denominator = total - of(StatusCategory::Canceled);
        let completion_ratio = if denominator == 0 {
            0.0
        } else {
            of(StatusCategory::Completed) as f64 / denominator as f64
        };
        Ok(ProjectStats {
            by_status,
            by_category,
            total,
            overdue,
            completion_ratio,
        })
    }
}
