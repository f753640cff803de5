//! Activity feeds, read from the event log. A caller reads only events of workspaces they belong
//! to, and of projects and tasks they may see.

use super::access::Need;
use super::tasks::TaskRef;
use super::{Actor, Engine};
use crate::error::{ObjectKind, Result};
use crate::event::{Event, EventQuery, EventScope};
use crate::ids::{ProjectId, WorkspaceId};
use crate::store::Store;

/// Activity feeds.
pub struct Activity<'e, S> {
    pub(crate) engine: &'e Engine<S>,
}

impl<S: Store> Activity<'_, S> {
    fn clamp(&self, limit: Option<usize>) -> usize {
        limit
            .unwrap_or(self.engine.config().default_page_size)
            .clamp(1, self.engine.config().max_page_size.max(1000))
    }

    /// The events of a task (also while it is in the trash) with `seq > since`, oldest first.
    ///
    /// Errors: task not found.
    pub async fn of_task(
        &self,
        actor: &Actor,
        task: &TaskRef,
        since: u64,
        limit: Option<usize>,
    ) -> Result<Vec<Event>> {
        let (task, _, _) = self.engine.find_task(actor, task, Need::Read, true).await?;
        Ok(self
            .engine
            .store()
            .events(&EventQuery {
                scope: EventScope::Task(task.id),
                after: since,
                limit: self.clamp(limit),
            })
            .await?)
    }

    /// The events of a project with `seq > since`, oldest first.
    ///
    /// Errors: project not found.
    pub async fn of_project(
        &self,
        actor: &Actor,
        project: ProjectId,
        since: u64,
        limit: Option<usize>,
    ) -> Result<Vec<Event>> {
        self.engine.project_for(actor, project, Need::Read).await?;
        Ok(self
            .engine
            .store()
            .events(&EventQuery {
                scope: EventScope::Project(project),
                after: since,
                limit: self.clamp(limit),
            })
            .await?)
    }

    /// The events of a workspace with `seq > since`, oldest first, leaving out events of
    /// deleted projects.
    ///
    /// Errors: not a member → not found.
    pub async fn of_workspace(
        &self,
        actor: &Actor,
        workspace: WorkspaceId,
        since: u64,
        limit: Option<usize>,
    ) -> Result<Vec<Event>> {
        self.engine
            .require(actor, workspace, Need::Read, ObjectKind::Workspace)
            .await?;
        let deleted: Vec<ProjectId> = self
            .engine
            .store()
            .projects_of_workspace(workspace)
            .await?
            .into_iter()
            .filter(|p| p.deleted_at.is_some())
            .map(|p| p.id)
            .collect();
        // Hidden events must not eat the page: read on until the page is full or the log
        // ends, so that a reader following `since` never mistakes a gap for the end.
        let limit = self.clamp(limit);
        let mut out = Vec::new();
        let mut after = since;
        loop {
            let batch = self
                .engine
                .store()
                .events(&EventQuery {
                    scope: EventScope::Workspace(workspace),
                    after,
                    limit,
                })
                .await?;
            let exhausted = batch.len() < limit;
            if let Some(last) = batch.last() {
                after = last.seq;
            }
            out.extend(
                batch
                    .into_iter()
                    .filter(|e| e.project_id.is_none_or(|p| !deleted.contains(&p))),
            );
            if exhausted || out.len() >= limit {
                break;
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}
