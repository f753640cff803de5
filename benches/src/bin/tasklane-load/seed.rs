//! `tasklane-load seed`: writes the data a load run needs straight into a store, through the
//! engine, before the server opens it.
//!
//! Creating 100,000 tasks over HTTP would take minutes and measure the creation path rather
//! than the one under test, so the seed opens the store the server will serve (sled at its data
//! directory, or PostgreSQL at a URL and schema) and drives [`Engine`] directly: every record,
//! event and index is the one the server itself would have written. It creates
//!
//! - three users (the first one, whose personal token the load run uses, owns the workspace; the
//!   other two are members),
//! - a workspace with two projects: `ENG`, holding the tasks, and `NEW`, which receives the
//!   tasks of the `create-task` workload (so `ENG` keeps its size),
//! - `ENG`'s tasks, spread evenly over every status of the default workflow, the three users as
//!   assignees, and the five priorities,
//!
//! and writes a [`SeedFile`] naming them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tasklane_core::engine::MemberRef;
use tasklane_core::{
    Actor, Engine, EngineConfig, NewProject, NewTask, NewToken, NewUser, Priority, ProjectId, Role,
    Store, TaskId, WorkspaceId,
};
use tasklane_storage_postgres::{PgConfig, PgStore};
use tasklane_storage_sled::{Durability, SledConfig, SledStore};

use crate::Failure;

/// The password of every seeded user (they are made for logging in by hand, too).
pub const PASSWORD: &str = "tasklane-load-password";

/// The key of the project that holds the seeded tasks.
const PROJECT_KEY: &str = "ENG";

/// The key of the project that receives created tasks.
const SCRATCH_KEY: &str = "NEW";

/// What a load run needs to know about the seeded data: written by `seed`, read by `run` and
/// `sample`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SeedFile {
    /// The store the data went to: `sled` or `postgres`.
    pub store: String,
    /// A personal token (read and write) of the workspace's owner.
    pub token: String,
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The project holding the seeded tasks.
    pub project_id: ProjectId,
    /// The project receiving created tasks.
    pub scratch_project_id: ProjectId,
    /// The names of the statuses the tasks are spread over.
    pub statuses: Vec<String>,
    /// The e-mail addresses of the assignees the tasks are spread over; the first is the
    /// token's owner.
    pub assignees: Vec<String>,
    /// Every seeded task, in number order.
    pub task_ids: Vec<TaskId>,
}

impl SeedFile {
    /// Reads a seed file written by `seed`.
    pub fn read(path: &Path) -> Result<SeedFile, Failure> {
        let text = std::fs::read(path)
            .map_err(|e| format!("cannot read the seed file {}: {e}", path.display()))?;
        Ok(serde_json::from_slice(&text)
            .map_err(|e| format!("the seed file {} is not valid: {e}", path.display()))?)
    }

    fn write(&self, path: &Path) -> Result<(), Failure> {
        let text = serde_json::to_vec(self)?;
        std::fs::write(path, text)
            .map_err(|e| format!("cannot write the seed file {}: {e}", path.display()))?;
        Ok(())
    }
}

/// Where the seed goes: the store the server will open.
#[derive(Clone, Debug)]
pub enum Target {
    /// The sled store in this directory (the server's `--data-dir`).
    Sled(PathBuf),
    /// PostgreSQL at `url`, in `schema` (the server's `database_url` and `postgres.schema`).
    Postgres {
        /// A `postgres://` URL.
        url: String,
        /// The schema holding the tables.
        schema: String,
    },
}

/// How much to seed and where to write the result.
#[derive(Clone, Debug)]
pub struct SeedPlan {
    /// The store.
    pub target: Target,
    /// How many tasks `ENG` gets.
    pub tasks: u64,
    /// How many tasks are created concurrently.
    pub writers: usize,
    /// Remove what the target holds first (the sled directory, the PostgreSQL schema).
    pub reset: bool,
    /// The seed file to write.
    pub out: PathBuf,
}

/// Seeds the target and writes the seed file.
pub async fn seed(plan: &SeedPlan) -> Result<(), Failure> {
    match &plan.target {
        Target::Sled(dir) => {
            if plan.reset && dir.exists() {
                std::fs::remove_dir_all(dir)
                    .map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
            }
            // The seed's own commits need not wait for a flush each: the store is flushed once
            // at the end, before the server opens it (with its own durability setting).
            let config = SledConfig::new(dir).durability(Durability::Periodic { every_ms: 100 });
            let store = tokio::task::spawn_blocking(move || SledStore::open(config)).await??;
            let engine = Engine::builder(store)
                .config(EngineConfig::default())
                .build();
            let seeded = populate(&engine, plan, "sled").await?;
            let store = engine.store().clone();
            tokio::task::spawn_blocking(move || store.flush()).await??;
            seeded.write(&plan.out)
        }
        Target::Postgres { url, schema } => {
            check_schema_name(schema)?;
            if plan.reset {
                drop_schema(url, schema).await?;
            }
            let config = PgConfig {
                max_connections: 16,
                ..PgConfig::new(url.clone()).with_schema(schema.clone())
            };
            let store = PgStore::connect(config).await?;
            let engine = Engine::builder(store)
                .config(EngineConfig::default())
                .build();
            let seeded = populate(&engine, plan, "postgres").await?;
            // A bulk load outruns autovacuum: give the planner the statistics it would have in
            // steady state (without them the planner may sort every match of a filter to return
            // a page of 25).
            analyze_schema(engine.store(), schema).await?;
            engine.store().close().await;
            seeded.write(&plan.out)
        }
    }
}

/// Creates the users, workspace, projects and tasks through the engine.
async fn populate<S: Store>(
    engine: &Engine<S>,
    plan: &SeedPlan,
    store_name: &str,
) -> Result<SeedFile, Failure> {
    let accounts = engine.accounts();
    let emails = [
        "load-owner@tasklane.test",
        "load-ann@tasklane.test",
        "load-bob@tasklane.test",
    ];
    let names = ["Load Owner", "Ann Load", "Bob Load"];
    let mut people = Vec::new();
    for (email, name) in emails.iter().zip(names) {
        let (user, _session) = accounts
            .register(NewUser {
                email: (*email).to_owned(),
                password: PASSWORD.to_owned(),
                name: name.to_owned(),
            })
            .await
            .map_err(|e| {
                format!("cannot register {email} (is the store fresh? pass --reset): {e}")
            })?;
        people.push(user);
    }
    let owner = Actor::user(people[0].id);
    let token = accounts
        .create_token(
            &owner,
            NewToken {
                name: "tasklane-load".into(),
                scopes: Vec::new(),
                expires_at: None,
            },
        )
        .await?;

    let workspace = engine.workspaces().create(&owner, "Load test").await?;
    for person in &people[1..] {
        engine
            .workspaces()
            .add_member(&owner, workspace.id, MemberRef::Id(person.id), Role::Member)
            .await?;
    }
    let project = engine
        .projects()
        .create(
            &owner,
            workspace.id,
            NewProject {
                key: PROJECT_KEY.into(),
                name: "Engine".into(),
                ..NewProject::default()
            },
        )
        .await?;
    let scratch = engine
        .projects()
        .create(
            &owner,
            workspace.id,
            NewProject {
                key: SCRATCH_KEY.into(),
                name: "New tasks of the create-task workload".into(),
                ..NewProject::default()
            },
        )
        .await?;
    let workflow = engine.workflows().get(&owner, project.id).await?;

    let statuses: Arc<Vec<_>> = Arc::new(workflow.statuses.iter().map(|s| s.id).collect());
    let assignees: Arc<Vec<_>> = Arc::new(people.iter().map(|p| p.id).collect());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    eprintln!(
        "seeding {} tasks into {PROJECT_KEY} with {} writers...",
        plan.tasks, plan.writers
    );
    let writers: Vec<_> = (0..plan.writers)
        .map(|_| {
            let engine = engine.clone();
            let statuses = Arc::clone(&statuses);
            let assignees = Arc::clone(&assignees);
            let next = Arc::clone(&next);
            let total = plan.tasks;
            tokio::spawn(async move {
                let mut created = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return Ok::<_, tasklane_core::Error>(created);
                    }
                    let view = engine
                        .tasks()
                        .create(&owner, project.id, seeded_task(i, &statuses, &assignees))
                        .await?;
                    created.push((view.task.number, view.task.id));
                    if (i + 1).is_multiple_of(10_000) {
                        eprintln!(
                            "  {} tasks, {:.0} s",
                            i + 1,
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
            })
        })
        .collect();
    let mut tasks = Vec::with_capacity(plan.tasks as usize);
    for writer in writers {
        tasks.extend(writer.await??);
    }
    tasks.sort_unstable();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "seeded {} tasks in {seconds:.1} s ({:.0}/s)",
        tasks.len(),
        tasks.len() as f64 / seconds
    );

    Ok(SeedFile {
        store: store_name.to_owned(),
        token: token.secret,
        workspace_id: workspace.id,
        project_id: project.id,
        scratch_project_id: scratch.id,
        statuses: workflow.statuses.iter().map(|s| s.name.clone()).collect(),
        assignees: emails.iter().map(|e| (*e).to_owned()).collect(),
        task_ids: tasks.into_iter().map(|(_, id)| id).collect(),
    })
}

/// The `i`-th seeded task: status `i mod S`, assignee `(i / S) mod A` (so that every pair of
/// status and assignee holds the same share), priority `i mod 5`.
fn seeded_task(
    i: u64,
    statuses: &[tasklane_core::StatusId],
    assignees: &[tasklane_core::UserId],
) -> NewTask {
    let s = statuses.len() as u64;
    let status = statuses[(i % s) as usize];
    let assignee = assignees[((i / s) % assignees.len() as u64) as usize];
    NewTask {
        title: format!("Seeded task {i} with a title of an ordinary length"),
        description: Some("A description of a few words, as most tasks have.".into()),
        status_id: Some(status),
        priority: Some(Priority::ALL[(i % 5) as usize]),
        assignee_ids: vec![assignee],
        ..NewTask::default()
    }
}

/// Refuses schema names that would need quoting: the name goes into SQL as an identifier.
fn check_schema_name(schema: &str) -> Result<(), Failure> {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if first_ok
        && schema.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(())
    } else {
        Err(format!(
            "the schema name {schema:?} must be 1 to 63 of a-z, 0-9 and _, not starting with a digit"
        )
        .into())
    }
}

/// Drops `schema` with everything in it (`tasklane-load clean`, and `seed --reset`).
pub async fn drop_schema(url: &str, schema: &str) -> Result<(), Failure> {
    use sqlx::Connection;
    check_schema_name(schema)?;
    let mut connection = sqlx::PgConnection::connect(url).await?;
    // The name was checked above: it needs no quoting beyond the double quotes.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&mut connection)
    .await?;
    connection.close().await?;
    Ok(())
}

/// `ANALYZE` of every table of `schema` (not of the whole database, which may hold many).
async fn analyze_schema(store: &PgStore, schema: &str) -> Result<(), Failure> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = $1")
            .bind(schema)
            .fetch_all(store.pool())
            .await?;
    for table in tables {
        let table = table.replace('"', "\"\"");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ANALYZE \"{schema}\".\"{table}\""
        )))
        .execute(store.pool())
        .await?;
    }
    Ok(())
}
