//! The [`Store`] implementation: every read is one SQL statement that decodes the `doc` column;
//! commits are in [`crate::commit`].

use std::collections::HashMap;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use tasklane_core::event::{Event, EventKind, EventQuery, EventScope};
use tasklane_core::ids::{
    CommentId, LabelId, MilestoneId, ProjectId, StatusId, TaskId, TokenId, UserId, WorkspaceId,
};
use tasklane_core::model::{
    ApiToken, Comment, Dependency, Label, Membership, Milestone, Project, Task, TaskCounter, User,
    Workflow, Workspace,
};
use tasklane_core::query::{TaskFilter, TaskQuery};
use tasklane_core::store::{
    Commit, CommitReceipt, Record, RecordKey, StatusCount, Store, StoreResult, TaskWithContext,
    Write,
};
use uuid::Uuid;

use crate::codec;
use crate::error::map_sqlx;
use crate::records::PgQuery;
use crate::PgStore;

/// The event columns, with `tail` after `WHERE seq > $1`.
macro_rules! event_select {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT seq, at_ns::text AS at_ns, actor_id, workspace_id, project_id, task_id, kind \
             FROM events WHERE seq > $1",
            $tail
        )
    };
}

/// Runs `query` and decodes the `doc` of the row it returns, if any.
async fn one<T: DeserializeOwned>(pool: &PgPool, query: PgQuery<'_>) -> StoreResult<Option<T>> {
    let row = query.fetch_optional(pool).await.map_err(map_sqlx)?;
    row.map(|row| {
        row.try_get::<Json<T>, _>(0)
            .map(|doc| doc.0)
            .map_err(map_sqlx)
    })
    .transpose()
}

/// Runs `query` and decodes the two documents of the row it returns, if any: the first from a
/// table, the second from a `LEFT JOIN` (`None` when it found no row).
async fn one_with_joined<A: DeserializeOwned, B: DeserializeOwned>(
    pool: &PgPool,
    query: PgQuery<'_>,
) -> StoreResult<Option<(A, Option<B>)>> {
    let row = query.fetch_optional(pool).await.map_err(map_sqlx)?;
    row.map(|row| {
        let first = row.try_get::<Json<A>, _>(0).map_err(map_sqlx)?.0;
        let joined = row
            .try_get::<Option<Json<B>>, _>(1)
            .map_err(map_sqlx)?
            .map(|doc| doc.0);
        Ok((first, joined))
    })
    .transpose()
}

/// Runs `query` and decodes the `doc` of every row, in order.
async fn many<T: DeserializeOwned>(pool: &PgPool, query: PgQuery<'_>) -> StoreResult<Vec<T>> {
    let rows = query.fetch_all(pool).await.map_err(map_sqlx)?;
    rows.into_iter()
        .map(|row| {
            row.try_get::<Json<T>, _>(0)
                .map(|doc| doc.0)
                .map_err(map_sqlx)
        })
        .collect()
}

fn decode_event(row: &sqlx::postgres::PgRow) -> StoreResult<Event> {
    let seq: i64 = row.try_get("seq").map_err(map_sqlx)?;
    let at_ns: String = row.try_get("at_ns").map_err(map_sqlx)?;
    let actor_id: Uuid = row.try_get("actor_id").map_err(map_sqlx)?;
    let workspace_id: Uuid = row.try_get("workspace_id").map_err(map_sqlx)?;
    let project_id: Option<Uuid> = row.try_get("project_id").map_err(map_sqlx)?;
    let task_id: Option<Uuid> = row.try_get("task_id").map_err(map_sqlx)?;
    let kind: Json<EventKind> = row.try_get("kind").map_err(map_sqlx)?;
    Ok(Event {
        seq: codec::uint(seq, "seq")?,
        at: codec::instant(&at_ns)?,
        actor_id: UserId(actor_id),
        workspace_id: WorkspaceId(workspace_id),
        project_id: project_id.map(ProjectId),
        task_id: task_id.map(TaskId),
        kind: kind.0,
    })
}

impl PgStore {
    /// The users with these ids, in the order given, from the database.
    async fn users_from_database(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        let ids: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
        let q = sqlx::query(
            "SELECT u.doc FROM unnest($1::uuid[]) WITH ORDINALITY AS wanted(id, ord) \
             JOIN users u ON u.id = wanted.id ORDER BY wanted.ord",
        )
        .bind(ids);
        many(self.pool(), q).await
    }

    /// A page of tasks from the cache: the database lists the ids and versions of the page, the
    /// cache gives the tasks it keeps at those versions, and one more read fetches the others.
    /// `None` when a fetched task's version differs from the listed one (it changed between the
    /// two reads): the caller then reads the page whole.
    async fn cached_task_page(
        &self,
        query: &TaskQuery,
        ticket: Option<crate::cache::Ticket>,
    ) -> StoreResult<Option<Vec<Task>>> {
        let mut qb = crate::query::task_page(query, "id, version");
        let rows = qb.build().fetch_all(self.pool()).await.map_err(map_sqlx)?;
        let mut listed = Vec::with_capacity(rows.len());
        for row in rows {
            let id: Uuid = row.try_get(0).map_err(map_sqlx)?;
            let version: i64 = row.try_get(1).map_err(map_sqlx)?;
            listed.push((TaskId(id), codec::uint(version, "version")?));
        }
        let mut found: Vec<Option<Task>> = self
            .cache()
            .lookup(|k| {
                Some(
                    listed
                        .iter()
                        .map(|(id, version)| k.task(*id).filter(|t| t.version == *version))
                        .collect(),
                )
            })
            .unwrap_or_else(|| vec![None; listed.len()]);
        let missing: Vec<Uuid> = listed
            .iter()
            .zip(&found)
            .filter(|(_, task)| task.is_none())
            .map(|((id, _), _)| id.0)
            .collect();
        if !missing.is_empty() {
            let q = sqlx::query("SELECT doc FROM tasks WHERE id = ANY($1)").bind(missing);
            let fetched: HashMap<TaskId, Task> = many::<Task>(self.pool(), q)
                .await?
                .into_iter()
                .map(|t| (t.id, t))
                .collect();
            for ((id, version), slot) in listed.iter().zip(found.iter_mut()) {
                if slot.is_some() {
                    continue;
                }
                match fetched.get(id) {
                    Some(task) if task.version == *version => *slot = Some(task.clone()),
                    _ => return Ok(None),
                }
            }
            self.cache().keep(ticket, |k| {
                for task in fetched.into_values() {
                    k.record(Record::Task(task));
                }
            });
        }
        Ok(Some(found.into_iter().flatten().collect()))
    }

    /// Keeps `task`'s project and `user`'s membership of its workspace (or that it has none).
    fn keep_project_with_membership(
        keeper: &mut crate::cache::Keeper<'_>,
        project: &Project,
        user: UserId,
        membership: &Option<Membership>,
    ) {
        keeper.record(Record::Project(project.clone()));
        match membership {
            Some(m) => keeper.record(Record::Membership(m.clone())),
            None => keeper.absent(RecordKey::Membership(project.workspace_id, user)),
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        if let Some(found) = self.cache().lookup(|k| k.user(id)) {
            return Ok(found);
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query("SELECT doc FROM users WHERE id = $1").bind(id.0);
        let found: Option<User> = one(self.pool(), q).await?;
        if let Some(user) = &found {
            self.cache()
                .keep(ticket, |k| k.record(Record::User(user.clone())));
        }
        Ok(found)
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let q = sqlx::query("SELECT doc FROM users WHERE email_key = $1").bind(codec::fold(email));
        one(self.pool(), q).await
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        let cached = self.cache().lookup(|k| {
            ids.iter()
                .map(|id| k.user(*id).flatten())
                .collect::<Option<Vec<User>>>()
        });
        if let Some(found) = cached {
            return Ok(found);
        }
        let ticket = self.cache().ticket();
        let found = self.users_from_database(ids).await?;
        self.cache().keep(ticket, |k| {
            for user in &found {
                k.record(Record::User(user.clone()));
            }
        });
        Ok(found)
    }

    async fn user_count(&self) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(self.pool())
            .await
            .map_err(map_sqlx)?;
        codec::uint(count, "count")
    }

    async fn token(&self, id: TokenId) -> StoreResult<Option<ApiToken>> {
        if let Some(Some(found)) = self.cache().lookup(|k| k.token(id)) {
            return Ok(Some(found));
        }
        let q = sqlx::query("SELECT doc FROM tokens WHERE id = $1").bind(id.0);
        one(self.pool(), q).await
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        if let Some(found) = self
            .cache()
            .lookup(|k| k.token(k.token_id(hash)?).flatten())
        {
            return Ok(Some(found));
        }
        let q = sqlx::query("SELECT doc FROM tokens WHERE secret_hash = $1").bind(hash.to_owned());
        one(self.pool(), q).await
    }

    async fn token_with_user(&self, hash: &str) -> StoreResult<Option<(ApiToken, Option<User>)>> {
        let cached = self.cache().lookup(|k| {
            let token = k.token(k.token_id(hash)?).flatten()?;
            let user = k.user(token.user_id).flatten()?;
            Some((token, Some(user)))
        });
        if cached.is_some() {
            return Ok(cached);
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query(
            "SELECT t.doc, u.doc FROM tokens AS t LEFT JOIN users AS u ON u.id = t.user_id \
             WHERE t.secret_hash = $1",
        )
        .bind(hash.to_owned());
        let found: Option<(ApiToken, Option<User>)> = one_with_joined(self.pool(), q).await?;
        if let Some((token, user)) = &found {
            self.cache().keep(ticket, |k| {
                k.token_hash(hash, token.id);
                k.record(Record::Token(token.clone()));
                if let Some(user) = user {
                    k.record(Record::User(user.clone()));
                }
            });
        }
        Ok(found)
    }

    async fn tokens_of_user(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let q = sqlx::query("SELECT doc FROM tokens WHERE user_id = $1 ORDER BY created_at_ns, id")
            .bind(user.0);
        many(self.pool(), q).await
    }

    async fn workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
        let q = sqlx::query("SELECT doc FROM workspaces WHERE id = $1").bind(id.0);
        one(self.pool(), q).await
    }

    async fn membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> StoreResult<Option<Membership>> {
        if let Some(found) = self.cache().lookup(|k| k.membership(workspace, user)) {
            return Ok(found);
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query("SELECT doc FROM memberships WHERE workspace_id = $1 AND user_id = $2")
            .bind(workspace.0)
            .bind(user.0);
        let found: Option<Membership> = one(self.pool(), q).await?;
        self.cache().keep(ticket, |k| match &found {
            Some(m) => k.record(Record::Membership(m.clone())),
            None => k.absent(RecordKey::Membership(workspace, user)),
        });
        Ok(found)
    }

    async fn members_of_workspace(&self, workspace: WorkspaceId) -> StoreResult<Vec<Membership>> {
        if let Some(found) = self.cache().lookup(|k| k.members(workspace)) {
            return Ok(found);
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query(
            "SELECT doc FROM memberships WHERE workspace_id = $1 ORDER BY created_at_ns, user_id",
        )
        .bind(workspace.0);
        let found: Vec<Membership> = many(self.pool(), q).await?;
        self.cache()
            .keep(ticket, |k| k.members(workspace, found.clone()));
        Ok(found)
    }

    async fn memberships_of_user(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let q = sqlx::query(
            "SELECT doc FROM memberships WHERE user_id = $1 ORDER BY created_at_ns, workspace_id",
        )
        .bind(user.0);
        many(self.pool(), q).await
    }

    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        if let Some(Some(found)) = self.cache().lookup(|k| k.project(id)) {
            return Ok(Some(found));
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query("SELECT doc FROM projects WHERE id = $1").bind(id.0);
        let found: Option<Project> = one(self.pool(), q).await?;
        if let Some(project) = &found {
            self.cache()
                .keep(ticket, |k| k.record(Record::Project(project.clone())));
        }
        Ok(found)
    }

    async fn project_with_membership(
        &self,
        id: ProjectId,
        user: UserId,
    ) -> StoreResult<Option<(Project, Option<Membership>)>> {
        let cached = self.cache().lookup(|k| {
            let project = k.project(id).flatten()?;
            let membership = k.membership(project.workspace_id, user)?;
            Some((project, membership))
        });
        if cached.is_some() {
            return Ok(cached);
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query(
            "SELECT p.doc, m.doc FROM projects AS p \
             LEFT JOIN memberships AS m ON m.workspace_id = p.workspace_id AND m.user_id = $2 \
             WHERE p.id = $1",
        )
        .bind(id.0)
        .bind(user.0);
        let found: Option<(Project, Option<Membership>)> = one_with_joined(self.pool(), q).await?;
        if let Some((project, membership)) = &found {
            self.cache().keep(ticket, |k| {
                Self::keep_project_with_membership(k, project, user, membership)
            });
        }
        Ok(found)
    }

    async fn project_by_key(
        &self,
        workspace: WorkspaceId,
        key: &str,
    ) -> StoreResult<Option<Project>> {
        let q = sqlx::query("SELECT doc FROM projects WHERE workspace_id = $1 AND key = $2")
            .bind(workspace.0)
            .bind(key.to_owned());
        one(self.pool(), q).await
    }

    async fn projects_by_key(&self, key: &str) -> StoreResult<Vec<Project>> {
        let q = sqlx::query("SELECT doc FROM projects WHERE key = $1 ORDER BY created_at_ns, id")
            .bind(key.to_owned());
        many(self.pool(), q).await
    }

    async fn projects_of_workspace(&self, workspace: WorkspaceId) -> StoreResult<Vec<Project>> {
        let q = sqlx::query(
            "SELECT doc FROM projects WHERE workspace_id = $1 ORDER BY created_at_ns, id",
        )
        .bind(workspace.0);
        many(self.pool(), q).await
    }

    async fn task_counter(&self, project: ProjectId) -> StoreResult<Option<TaskCounter>> {
        let q = sqlx::query("SELECT doc FROM task_counters WHERE project_id = $1").bind(project.0);
        one(self.pool(), q).await
    }

    async fn next_task_number(&self, project: ProjectId) -> StoreResult<Option<u64>> {
        // Concurrent requests for one project share one increment (see `numbers`).
        self.task_numbers().next(project).await
    }

    async fn workflow(&self, project: ProjectId) -> StoreResult<Option<Workflow>> {
        if let Some(Some(found)) = self.cache().lookup(|k| k.workflow(project)) {
            return Ok(Some(found));
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query("SELECT doc FROM workflows WHERE project_id = $1").bind(project.0);
        let found: Option<Workflow> = one(self.pool(), q).await?;
        if let Some(flow) = &found {
            self.cache()
                .keep(ticket, |k| k.record(Record::Workflow(flow.clone())));
        }
        Ok(found)
    }

    async fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        if let Some(found) = self.cache().lookup(|k| k.task(id)) {
            return Ok(Some(found));
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query("SELECT doc FROM tasks WHERE id = $1").bind(id.0);
        let found: Option<Task> = one(self.pool(), q).await?;
        if let Some(task) = &found {
            self.cache()
                .keep(ticket, |k| k.record(Record::Task(task.clone())));
        }
        Ok(found)
    }

    async fn task_with_context(
        &self,
        id: TaskId,
        user: UserId,
    ) -> StoreResult<Option<TaskWithContext>> {
        let cached = self.cache().lookup(|k| {
            let task = k.task(id)?;
            let project = k.project(task.project_id).flatten()?;
            let membership = k.membership(project.workspace_id, user)?;
            let blockers = k.blockers(id)?;
            Some(TaskWithContext {
                task,
                project: Some(project),
                membership,
                blockers,
            })
        });
        if cached.is_some() {
            return Ok(cached);
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query(
            "SELECT t.doc, p.doc, m.doc, \
                    (SELECT coalesce(jsonb_agg(d.doc ORDER BY d.created_at_ns, d.blocker_id), \
                                     '[]'::jsonb) \
                     FROM dependencies AS d WHERE d.task_id = t.id) \
             FROM tasks AS t \
             LEFT JOIN projects AS p ON p.id = t.project_id \
             LEFT JOIN memberships AS m ON m.workspace_id = p.workspace_id AND m.user_id = $2 \
             WHERE t.id = $1",
        )
        .bind(id.0)
        .bind(user.0);
        let Some(row) = q.fetch_optional(self.pool()).await.map_err(map_sqlx)? else {
            return Ok(None);
        };
        let found = TaskWithContext {
            task: row.try_get::<Json<Task>, _>(0).map_err(map_sqlx)?.0,
            project: row
                .try_get::<Option<Json<Project>>, _>(1)
                .map_err(map_sqlx)?
                .map(|doc| doc.0),
            membership: row
                .try_get::<Option<Json<Membership>>, _>(2)
                .map_err(map_sqlx)?
                .map(|doc| doc.0),
            blockers: row
                .try_get::<Json<Vec<Dependency>>, _>(3)
                .map_err(map_sqlx)?
                .0,
        };
        self.cache().keep(ticket, |k| {
            k.record(Record::Task(found.task.clone()));
            k.blockers(id, found.blockers.clone());
            if let Some(project) = &found.project {
                Self::keep_project_with_membership(k, project, user, &found.membership);
            }
        });
        Ok(Some(found))
    }

    async fn task_by_number(&self, project: ProjectId, number: u64) -> StoreResult<Option<Task>> {
        let Ok(number) = i64::try_from(number) else {
            // Never stored (see codec::int).
            return Ok(None);
        };
        let q = sqlx::query("SELECT doc FROM tasks WHERE project_id = $1 AND number = $2")
            .bind(project.0)
            .bind(number);
        one(self.pool(), q).await
    }

    async fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let ticket = self.cache().ticket();
        if ticket.is_some() {
            if let Some(found) = self.cached_task_page(query, ticket).await? {
                return Ok(found);
            }
        }
        let mut qb = crate::query::task_page(query, crate::query::TASK_COLUMNS);
        let found: Vec<Task> = many(self.pool(), qb.build()).await?;
        self.cache().keep(ticket, |k| {
            for task in &found {
                k.record(Record::Task(task.clone()));
            }
        });
        Ok(found)
    }

    async fn subtasks(&self, parent: TaskId) -> StoreResult<Vec<Task>> {
        let q = sqlx::query("SELECT doc FROM tasks WHERE parent_id = $1 ORDER BY number, id")
            .bind(parent.0);
        many(self.pool(), q).await
    }

    async fn status_counts(
        &self,
        project: ProjectId,
        filter: &TaskFilter,
    ) -> StoreResult<Vec<StatusCount>> {
        let mut qb = crate::query::status_counts(project, filter);
        let rows = qb.build().fetch_all(self.pool()).await.map_err(map_sqlx)?;
        rows.into_iter()
            .map(|row| {
                let status: Uuid = row.try_get(0).map_err(map_sqlx)?;
                let count: i64 = row.try_get(1).map_err(map_sqlx)?;
                Ok(StatusCount {
                    status_id: StatusId(status),
                    count: codec::uint(count, "count")?,
                })
            })
            .collect()
    }

    async fn blockers_of(&self, task: TaskId) -> StoreResult<Vec<Dependency>> {
        if let Some(found) = self.cache().lookup(|k| k.blockers(task)) {
            return Ok(found);
        }
        let ticket = self.cache().ticket();
        let q = sqlx::query(
            "SELECT doc FROM dependencies WHERE task_id = $1 ORDER BY created_at_ns, blocker_id",
        )
        .bind(task.0);
        let found: Vec<Dependency> = many(self.pool(), q).await?;
        self.cache()
            .keep(ticket, |k| k.blockers(task, found.clone()));
        Ok(found)
    }

    async fn blockers_of_tasks(&self, tasks: &[TaskId]) -> StoreResult<Vec<Dependency>> {
        if tasks.is_empty() {
            return Ok(Vec::new());
        }
        let cached = self.cache().lookup(|k| {
            let mut edges = Vec::new();
            for task in tasks {
                edges.extend(k.blockers(*task)?);
            }
            Some(edges)
        });
        if let Some(found) = cached {
            return Ok(found);
        }
        let ticket = self.cache().ticket();
        let ids: Vec<uuid::Uuid> = tasks.iter().map(|t| t.0).collect();
        let q = sqlx::query(
            "SELECT d.doc FROM dependencies d \
             JOIN unnest($1::uuid[]) WITH ORDINALITY AS wanted(task_id, ord) USING (task_id) \
             ORDER BY wanted.ord, d.created_at_ns, d.blocker_id",
        )
        .bind(ids);
        let found: Vec<Dependency> = many(self.pool(), q).await?;
        self.cache().keep(ticket, |k| {
            let mut of_task: HashMap<TaskId, Vec<Dependency>> =
                tasks.iter().map(|t| (*t, Vec::new())).collect();
            for edge in &found {
                if let Some(edges) = of_task.get_mut(&edge.task_id) {
                    // A task asked for twice has its edges twice in `found`: keep them once.
                    if !edges.iter().any(|e| e.blocker_id == edge.blocker_id) {
                        edges.push(edge.clone());
                    }
                }
            }
            for (task, edges) in of_task {
                k.blockers(task, edges);
            }
        });
        Ok(found)
    }

    async fn blocked_by(&self, task: TaskId) -> StoreResult<Vec<Dependency>> {
        let q = sqlx::query(
            "SELECT doc FROM dependencies WHERE blocker_id = $1 ORDER BY created_at_ns, task_id",
        )
        .bind(task.0);
        many(self.pool(), q).await
    }

    async fn label(&self, id: LabelId) -> StoreResult<Option<Label>> {
        let q = sqlx::query("SELECT doc FROM labels WHERE id = $1").bind(id.0);
        one(self.pool(), q).await
    }

    async fn labels_of_project(&self, project: ProjectId) -> StoreResult<Vec<Label>> {
        let q = sqlx::query(
            "SELECT doc FROM labels WHERE project_id = $1 ORDER BY name_key COLLATE \"C\", id",
        )
        .bind(project.0);
        many(self.pool(), q).await
    }

    async fn milestone(&self, id: MilestoneId) -> StoreResult<Option<Milestone>> {
        let q = sqlx::query("SELECT doc FROM milestones WHERE id = $1").bind(id.0);
        one(self.pool(), q).await
    }

    async fn milestones_of_project(&self, project: ProjectId) -> StoreResult<Vec<Milestone>> {
        let q = sqlx::query(
            "SELECT doc FROM milestones WHERE project_id = $1 \
             ORDER BY due_on ASC NULLS LAST, name COLLATE \"C\", id",
        )
        .bind(project.0);
        many(self.pool(), q).await
    }

    async fn comment(&self, id: CommentId) -> StoreResult<Option<Comment>> {
        let q = sqlx::query("SELECT doc FROM comments WHERE id = $1").bind(id.0);
        one(self.pool(), q).await
    }

    async fn comments_of_task(&self, task: TaskId) -> StoreResult<Vec<Comment>> {
        let q =
            sqlx::query("SELECT doc FROM comments WHERE task_id = $1 ORDER BY created_at_ns, id")
                .bind(task.0);
        many(self.pool(), q).await
    }

    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<Event>> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let after = codec::after(query.after);
        let limit = codec::limit(query.limit);
        let q = match query.scope {
            EventScope::All => sqlx::query(event_select!(" ORDER BY seq LIMIT $2"))
                .bind(after)
                .bind(limit),
            EventScope::Workspace(w) => sqlx::query(event_select!(
                " AND workspace_id = $3 ORDER BY seq LIMIT $2",
            ))
            .bind(after)
            .bind(limit)
            .bind(w.0),
            EventScope::Project(p) => {
                sqlx::query(event_select!(" AND project_id = $3 ORDER BY seq LIMIT $2",))
                    .bind(after)
                    .bind(limit)
                    .bind(p.0)
            }
            EventScope::Task(t) => {
                sqlx::query(event_select!(" AND task_id = $3 ORDER BY seq LIMIT $2",))
                    .bind(after)
                    .bind(limit)
                    .bind(t.0)
            }
        };
        let rows = q.fetch_all(self.pool()).await.map_err(map_sqlx)?;
        rows.iter().map(decode_event).collect()
    }

    async fn last_seq(&self) -> StoreResult<u64> {
        let last: i64 = sqlx::query_scalar("SELECT last_seq FROM event_log")
            .fetch_one(self.pool())
            .await
            .map_err(map_sqlx)?;
        codec::uint(last, "seq")
    }

    fn log_watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.log_watch_of_store().subscribe(self.pool())
    }

    async fn commit(&self, commit: Commit) -> StoreResult<CommitReceipt> {
        let written: Vec<RecordKey> = if self.cache().enabled() {
            commit.writes.iter().map(Write::key).collect()
        } else {
            Vec::new()
        };
        let result = self.committer().commit(commit).await;
        // Whatever the outcome (it may be unknown), this process reads these keys afresh.
        self.cache().forget(written.iter());
        let receipt = result?;
        // Committed and visible: this process's watchers need not wait for the notification.
        if let Some(&last) = receipt.seqs.last() {
            self.log_watch_of_store().advance(last);
        }
        Ok(receipt)
    }

    async fn claim_idempotency_key(
        &self,
        key: tasklane_core::store::IdempotencyKey,
        fingerprint: &[u8],
        owner: tasklane_core::store::IdempotencyOwner,
        now: time::OffsetDateTime,
        lease_until: time::OffsetDateTime,
    ) -> StoreResult<tasklane_core::store::IdempotencyClaim> {
        crate::idempotency::claim(self.pool(), key, fingerprint, owner, now, lease_until).await
    }

    async fn complete_idempotency_key(
        &self,
        key: tasklane_core::store::IdempotencyKey,
        owner: tasklane_core::store::IdempotencyOwner,
        answer: &[u8],
        expires_at: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        crate::idempotency::complete(self.pool(), key, owner, answer, expires_at).await
    }

    async fn release_idempotency_key(
        &self,
        key: tasklane_core::store::IdempotencyKey,
        owner: tasklane_core::store::IdempotencyOwner,
    ) -> StoreResult<bool> {
        crate::idempotency::release(self.pool(), key, owner).await
    }

    async fn purge_idempotency_keys(&self, now: time::OffsetDateTime) -> StoreResult<u64> {
        crate::idempotency::purge(self.pool(), now).await
    }
}
