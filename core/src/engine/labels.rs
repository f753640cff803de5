//! Labels and milestones of a project. Deleting one takes it off every task in the same commit.

use time::Date;

use super::access::Need;
use super::{check_version, Actor, Engine};
use crate::error::{Conflict, Error, ObjectKind, Result, Validation};
use crate::event::{EventKind, FieldChange};
use crate::ids::{LabelId, MilestoneId, ProjectId};
use crate::model::{Label, Milestone, Project, Task};
use crate::query::{SortField, TaskFilter, TaskQuery, TaskScope, TaskSort};
use crate::store::{Commit, Record, RecordKey, Store};

/// A new label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewLabel {
    /// 1–50 characters, unique in the project ignoring case.
    pub name: String,
    /// A colour `#rrggbb`.
    pub color: Option<String>,
}

/// Changes to a label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelPatch {
    /// New name.
    pub name: Option<String>,
    /// New or no colour.
    pub color: Option<Option<String>>,
}

/// A new milestone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewMilestone {
    /// 1–100 characters.
    pub name: String,
    /// The day it is due.
    pub due_on: Option<Date>,
}

/// Changes to a milestone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MilestonePatch {
    /// New name.
    pub name: Option<String>,
    /// New or no due day.
    pub due_on: Option<Option<Date>>,
    /// Open or close it.
    pub closed: Option<bool>,
}

/// A milestone with its progress.
#[derive(Clone, Debug, PartialEq)]
pub struct MilestoneView {
    /// The milestone.
    pub milestone: Milestone,
    /// Tasks in it (not in the trash).
    pub total: u64,
    /// Of those, completed or canceled.
    pub done: u64,
    /// `done / total`, 0 when empty.
    pub progress: f64,
}

fn check_color(v: &mut Validation, color: Option<&str>) {
    if let Some(c) = color {
        let ok =
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
        if !ok {
            v.add("color", "must be a colour such as #d73a4a");
        }
    }
}

fn check_name(v: &mut Validation, name: &str, max: usize) {
    v.reject_nul("name", name);
    if !crate::error::fits(name, max) {
        v.add("name", format!("must be 1 to {max} characters long"));
    }
}

/// A label name taken in the project (ignoring case), reported on the field `name`.
fn duplicate_name(name: String) -> Error {
    Error::Conflict(Conflict::Duplicate {
        field: "name".into(),
        value: name,
    })
}

/// Commits a label write, reporting the store's uniqueness failure (a concurrent writer took
/// the name) on the caller's field `name` like the engine's own check.
async fn commit_label<S: Store>(engine: &Engine<S>, commit: Commit) -> Result<()> {
    match engine.commit(commit).await {
        Err(Error::Conflict(Conflict::Duplicate { value, .. })) => Err(duplicate_name(value)),
        other => other.map(|_| ()),
    }
}

fn every_task(project: ProjectId, filter: TaskFilter, trashed: bool) -> TaskQuery {
    TaskQuery {
        scope: TaskScope::Project(project),
        filter,
        sort: TaskSort {
            field: SortField::Created,
            descending: false,
        },
        after: None,
        limit: usize::MAX,
        trashed,
    }
}

impl<S: Store> Engine<S> {
    /// Adds to `commit` an edit of every task (in or out of the trash) matching `filter`.
    async fn stage_task_edits(
        &self,
        project: ProjectId,
        filter: TaskFilter,
        commit: &mut Commit,
        edit: impl Fn(&mut Task),
    ) -> Result<()> {
        let now = self.now();
        for trashed in [false, true] {
            for task in self
                .store()
                .tasks(&every_task(project, filter.clone(), trashed))
                .await?
            {
                let mut changed = task.clone();
                edit(&mut changed);
                changed.version += 1;
                changed.updated_at = now;
                commit.update(Record::Task(changed), task.version);
            }
        }
        Ok(())
    }
}

/// Label operations.
pub struct Labels<'e, S> {
    pub(crate) engine: &'e Engine<S>,
}

impl<S: Store> Labels<'_, S> {
    /// Creates a label (members and above).
    ///
    /// Errors: invalid fields → validation; name taken → conflict; not found; forbidden.
    pub async fn create(&self, actor: &Actor, project: ProjectId, new: NewLabel) -> Result<Label> {
        let (project, _) = self.engine.project_for(actor, project, Need::Work).await?;
        let mut v = Validation::new();
        check_name(&mut v, &new.name, 50);
        check_color(&mut v, new.color.as_deref());
        v.finish()?;
        let name = new.name.trim().to_owned();
        let existing = self.engine.store().labels_of_project(project.id).await?;
        if existing
            .iter()
            .any(|l| l.name.to_lowercase() == name.to_lowercase())
        {
            return Err(duplicate_name(name));
        }
        let label = Label {
            id: LabelId(self.engine.new_uuid()),
            project_id: project.id,
            name: name.clone(),
            color: new.color,
            version: 1,
        };
        let mut commit = Commit::new();
        commit
            .insert(Record::Label(label.clone()))
            .event(self.engine.event(
                actor.user_id,
                project.workspace_id,
                Some(project.id),
                None,
                EventKind::LabelCreated {
                    label_id: label.id,
                    name,
                },
            ));
        commit_label(self.engine, commit).await?;
        Ok(label)
    }

    /// The project's labels, by name.
    ///
    /// Errors: project not found.
    pub async fn list(&self, actor: &Actor, project: ProjectId) -> Result<Vec<Label>> {
        self.engine.project_for(actor, project, Need::Read).await?;
        Ok(self.engine.store().labels_of_project(project).await?)
    }

    async fn find(&self, actor: &Actor, id: LabelId, need: Need) -> Result<(Label, Project)> {
        let label = self
            .engine
            .store()
            .label(id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Label))?;
        let (project, _) = self
            .engine
            .project_for(actor, label.project_id, need)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::not_found(ObjectKind::Label),
                other => other,
            })?;
        Ok((label, project))
    }

    /// The label.
    ///
    /// Errors: not found.
    pub async fn get(&self, actor: &Actor, id: LabelId) -> Result<Label> {
        Ok(self.find(actor, id, Need::Read).await?.0)
    }

    /// Renames or recolours a label.
    ///
    /// Errors: not found; forbidden; invalid → validation; name taken or stale → conflict.
    pub async fn update(
        &self,
        actor: &Actor,
        id: LabelId,
        patch: LabelPatch,
        expected_version: Option<u64>,
    ) -> Result<Label> {
        let mut v = Validation::new();
        if let Some(n) = &patch.name {
            check_name(&mut v, n, 50);
        }
        if let Some(c) = &patch.color {
            check_color(&mut v, c.as_deref());
        }
        v.finish()?;
        self.engine
            .retrying(|| async {
                let (current, project) = self.find(actor, id, Need::Work).await?;
                check_version(expected_version, current.version)?;
                let mut updated = current.clone();
                let mut changes = Vec::new();
                if let Some(n) = &patch.name {
                    let n = n.trim().to_owned();
                    if n != current.name {
                        let taken = self
                            .engine
                            .store()
                            .labels_of_project(project.id)
                            .await?
                            .iter()
                            .any(|l| l.id != id && l.name.to_lowercase() == n.to_lowercase());
                        if taken {
                            return Err(duplicate_name(n));
                        }
                        changes.push(FieldChange::new("name", &current.name, &n));
                        updated.name = n;
                    }
                }
                if let Some(c) = &patch.color {
                    if *c != current.color {
                        changes.push(FieldChange::new("color", &current.color, c));
                        updated.color = c.clone();
                    }
                }
                if changes.is_empty() {
                    return Ok(current);
                }
                updated.version += 1;
                let mut commit = Commit::new();
                commit
                    .update(Record::Label(updated.clone()), current.version)
                    .event(self.engine.event(
                        actor.user_id,
                        project.workspace_id,
                        Some(project.id),
                        None,
                        EventKind::LabelUpdated {
                            label_id: id,
                            changes,
                        },
                    ));
                commit_label(self.engine, commit).await?;
                Ok(updated)
            })
            .await
    }

    /// Deletes a label and takes it off every task, atomically.
    ///
    /// Errors: not found; forbidden; stale → conflict.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: LabelId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        self.engine
            .retrying(|| async {
                let (current, project) = self.find(actor, id, Need::Work).await?;
                check_version(expected_version, current.version)?;
                let mut commit = Commit::new();
                commit.delete(RecordKey::Label(id), current.version);
                self.engine
                    .stage_task_edits(
                        project.id,
                        TaskFilter::LabelIn(vec![id]),
                        &mut commit,
                        |t| t.label_ids.retain(|l| *l != id),
                    )
                    .await?;
                commit.event(self.engine.event(
                    actor.user_id,
                    project.workspace_id,
                    Some(project.id),
                    None,
                    EventKind::LabelDeleted { label_id: id },
                ));
                self.engine.commit(commit).await?;
                Ok(())
            })
            .await
    }
}

/// Milestone operations.
pub struct Milestones<'e, S> {
    pub(crate) engine: &'e Engine<S>,
}

impl<S: Store> Milestones<'_, S> {
    async fn view(&self, milestone: Milestone) -> Result<MilestoneView> {
        let store = self.engine.store();
        let flow = store.workflow(milestone.project_id).await?;
        let counts = store
            .status_counts(
                milestone.project_id,
                &TaskFilter::MilestoneIn(vec![milestone.id]),
            )
            .await?;
        let total: u64 = counts.iter().map(|c| c.count).sum();
        let done: u64 = counts
            .iter()
            .filter(|c| {
                flow.as_ref()
                    .and_then(|f| f.status(c.status_id))
                    .is_some_and(|s| s.category.is_closed())
            })
            .map(|c| c.count)
            .sum();
        let progress = if total == 0 {
            0.0
        } else {
            done as f64 / total as f64
        };
        Ok(MilestoneView {
            milestone,
            total,
            done,
            progress,
        })
    }

    /// Creates a milestone (members and above).
    ///
    /// Errors: invalid → validation; not found; forbidden.
    pub async fn create(
        &self,
        actor: &Actor,
        project: ProjectId,
        new: NewMilestone,
    ) -> Result<MilestoneView> {
        let (project, _) = self.engine.project_for(actor, project, Need::Work).await?;
        let mut v = Validation::new();
        check_name(&mut v, &new.name, 100);
        v.finish()?;
        let milestone = Milestone {
            id: MilestoneId(self.engine.new_uuid()),
            project_id: project.id,
            name: new.name.trim().to_owned(),
            due_on: new.due_on,
            closed: false,
            version: 1,
        };
        let mut commit = Commit::new();
        commit
            .insert(Record::Milestone(milestone.clone()))
            .event(self.engine.event(
                actor.user_id,
                project.workspace_id,
                Some(project.id),
                None,
                EventKind::MilestoneCreated {
                    milestone_id: milestone.id,
                    name: milestone.name.clone(),
                },
            ));
        self.engine.commit(commit).await?;
        self.view(milestone).await
    }

    /// The project's milestones with progress, by due day.
    ///
    /// Errors: project not found.
    pub async fn list(&self, actor: &Actor, project: ProjectId) -> Result<Vec<MilestoneView>> {
        self.engine.project_for(actor, project, Need::Read).await?;
        let mut out = Vec::new();
        for m in self.engine.store().milestones_of_project(project).await? {
            out.push(self.view(m).await?);
        }
        Ok(out)
    }

    async fn find(
        &self,
        actor: &Actor,
        id: MilestoneId,
        need: Need,
    ) -> Result<(Milestone, Project)> {
        let milestone = self
            .engine
            .store()
            .milestone(id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Milestone))?;
        let (project, _) = self
            .engine
            .project_for(actor, milestone.project_id, need)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::not_found(ObjectKind::Milestone),
                other => other,
            })?;
        Ok((milestone, project))
    }

    /// The milestone with progress.
    ///
    /// Errors: not found.
    pub async fn get(&self, actor: &Actor, id: MilestoneId) -> Result<MilestoneView> {
        let (m, _) = self.find(actor, id, Need::Read).await?;
        self.view(m).await
    }

    /// Renames, re-dates, opens or closes a milestone.
    ///
    /// Errors: not found; forbidden; invalid → validation; stale → conflict.
    pub async fn update(
        &self,
        actor: &Actor,
        id: MilestoneId,
        patch: MilestonePatch,
        expected_version: Option<u64>,
    ) -> Result<MilestoneView> {
        let mut v = Validation::new();
        if let Some(n) = &patch.name {
            check_name(&mut v, n, 100);
        }
        v.finish()?;
        let updated = self
            .engine
            .retrying(|| async {
                let (current, project) = self.find(actor, id, Need::Work).await?;
                check_version(expected_version, current.version)?;
                let mut updated = current.clone();
                let mut changes = Vec::new();
                if let Some(n) = &patch.name {
                    let n = n.trim().to_owned();
                    if n != current.name {
                        changes.push(FieldChange::new("name", &current.name, &n));
                        updated.name = n;
                    }
                }
                if let Some(d) = patch.due_on {
                    if d != current.due_on {
                        changes.push(FieldChange::new(
                            "due_on",
                            current.due_on.map(|d| d.to_string()),
                            d.map(|d| d.to_string()),
                        ));
                        updated.due_on = d;
                    }
                }
                if let Some(c) = patch.closed {
                    if c != current.closed {
                        changes.push(FieldChange::new("closed", current.closed, c));
                        updated.closed = c;
                    }
                }
                if changes.is_empty() {
                    return Ok(current);
                }
                updated.version += 1;
                let mut commit = Commit::new();
                commit
                    .update(Record::Milestone(updated.clone()), current.version)
                    .event(self.engine.event(
                        actor.user_id,
                        project.workspace_id,
                        Some(project.id),
                        None,
                        EventKind::MilestoneUpdated {
                            milestone_id: id,
                            changes,
                        },
                    ));
                self.engine.commit(commit).await?;
                Ok(updated)
            })
            .await?;
        self.view(updated).await
    }

    /// Deletes a milestone and clears it from every task, atomically.
    ///
    /// Errors: not found; forbidden; stale → conflict.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: MilestoneId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        self.engine
            .retrying(|| async {
                let (current, project) = self.find(actor, id, Need::Work).await?;
                check_version(expected_version, current.version)?;
                let mut commit = Commit::new();
                commit.delete(RecordKey::Milestone(id), current.version);
                self.engine
                    .stage_task_edits(
                        project.id,
                        TaskFilter::MilestoneIn(vec![id]),
                        &mut commit,
                        |t| t.milestone_id = None,
                    )
                    .await?;
                commit.event(self.engine.event(
                    actor.user_id,
                    project.workspace_id,
                    Some(project.id),
                    None,
                    EventKind::MilestoneDeleted { milestone_id: id },
                ));
                self.engine.commit(commit).await?;
                Ok(())
            })
            .await
    }
}
