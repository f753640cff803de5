//! `tasklane admin ...`: operator tasks on the configured store. The operator acts without an
//! `Actor`: accounts go through the engine's operator entry points (`actor = None`), the export
//! reads the store directly.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use serde::Serialize;
use tasklane_core::event::{EventQuery, EventScope};
use tasklane_core::query::{TaskFilter, TaskQuery, TaskScope, TaskSort};
use tasklane_core::{
    Comment, Dependency, Engine, Label, Membership, Milestone, NewUser, Project, Store, Task,
    TaskCounter, UserId, Workflow, Workspace, WorkspaceId,
};
use time::OffsetDateTime;

use crate::cli::AdminCommand;
use crate::error::Error;
use crate::settings::Settings;
use crate::store::{with_store, Backend};

/// Runs an admin command.
pub async fn run(command: AdminCommand, settings: Settings) -> Result<(), Error> {
    // Ask for passwords before opening the store: sled is locked while it is open.
    let command = match command {
        AdminCommand::CreateUser {
            email,
            name,
            password,
            admin,
        } => Resolved::CreateUser {
            password: read_password(password, &email)?,
            email,
            name,
            admin,
        },
        AdminCommand::ResetPassword { email, password } => Resolved::ResetPassword {
            password: read_password(password, &email)?,
            email,
        },
        AdminCommand::Export { out } => Resolved::Export { out },
    };
    let backend = Backend::open(&settings).await?;
    let result = with_store!(&backend, store => {
        let engine = Engine::builder(store.clone())
            .config(settings.engine_config())
            .build();
        execute(&engine, command).await
    });
    let closed = backend.close().await;
    result?;
    closed
}

enum Resolved {
    CreateUser {
        email: String,
        name: String,
        password: String,
        admin: bool,
    },
    ResetPassword {
        email: String,
        password: String,
    },
    Export {
        out: Option<std::path::PathBuf>,
    },
}

async fn execute<S: Store>(engine: &Engine<S>, command: Resolved) -> Result<(), Error> {
    match command {
        Resolved::CreateUser {
            email,
            name,
            password,
            admin,
        } => {
            let user = engine
                .accounts()
                .create_user(
                    None,
                    NewUser {
                        email,
                        password,
                        name,
                    },
                    admin,
                )
                .await?;
            println!(
                "created user {} <{}> (id {}){}",
                user.name,
                user.email,
                user.id,
                if user.is_server_admin {
                    ", server administrator"
                } else {
                    ""
                }
            );
        }
        Resolved::ResetPassword { email, password } => {
            let user = engine
                .accounts()
                .reset_password(None, &email, &password)
                .await?;
            println!(
                "password of {} <{}> reset; every session and token of the account was revoked",
                user.name, user.email
            );
        }
        Resolved::Export { out } => {
            let export = export(engine.store(), engine.now()).await?;
            let (workspaces, tasks) = (export.workspaces.len(), export.task_count());
            match &out {
                Some(path) => write_file(path, &export)?,
                None => {
                    let mut stdout = std::io::stdout().lock();
                    serde_json::to_writer_pretty(&mut stdout, &export)
                        .map_err(std::io::Error::from)
                        .and_then(|()| writeln!(stdout))
                        .and_then(|()| stdout.flush())
                        .map_err(Error::io("cannot write the export"))?;
                }
            }
            match out {
                Some(path) => eprintln!(
                    "exported {workspaces} workspace(s) with {tasks} task(s) to {}",
                    path.display()
                ),
                None => eprintln!("exported {workspaces} workspace(s) with {tasks} task(s)"),
            }
        }
    }
    Ok(())
}

fn write_file(path: &Path, export: &Export) -> Result<(), Error> {
    let what = format!("cannot write {}", path.display());
    let file = std::fs::File::create(path).map_err(Error::io(what.clone()))?;
    let mut writer = std::io::BufWriter::new(file);
    serde_json::to_writer_pretty(&mut writer, export)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(writer))
        .and_then(|()| writer.into_inner().map_err(|e| e.into_error()))
        .and_then(|file| file.sync_all())
        .map_err(Error::io(what))
}

/// The password given on the command line, else one read from standard input: prompted for
/// (twice, without echo) on a terminal, else the first line.
fn read_password(given: Option<String>, email: &str) -> Result<String, Error> {
    if let Some(password) = given {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        let password = rpassword::prompt_password(format!("Password for {email}: "))
            .map_err(Error::io("cannot read the password"))?;
        let again = rpassword::prompt_password("Repeat it: ")
            .map_err(Error::io("cannot read the password"))?;
        if password != again {
            return Err(Error::Usage("the two passwords differ".into()));
        }
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(Error::io("cannot read the password from standard input"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(Error::Usage(
            "no password given: pass --password or write it on standard input".into(),
        ));
    }
    Ok(password)
}

/// The export document (`format: "tasklane-export"`, `version: 1`).
#[derive(Serialize)]
pub struct Export {
    format: &'static str,
    version: u32,
    #[serde(with = "time::serde::rfc3339")]
    exported_at: OffsetDateTime,
    /// The log position the export was taken at (writes made meanwhile may be partly included).
    last_seq: u64,
    /// The members of the exported workspaces, without password hashes.
    users: Vec<UserExport>,
    workspaces: Vec<WorkspaceExport>,
}

impl Export {
    fn task_count(&self) -> usize {
        self.workspaces
            .iter()
            .flat_map(|w| &w.projects)
            .map(|p| p.tasks.len())
            .sum()
    }
}

#[derive(Serialize)]
struct UserExport {
    id: UserId,
    email: String,
    name: String,
    is_server_admin: bool,
    disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

#[derive(Serialize)]
struct WorkspaceExport {
    #[serde(flatten)]
    workspace: Workspace,
    members: Vec<Membership>,
    projects: Vec<ProjectExport>,
}

#[derive(Serialize)]
struct ProjectExport {
    #[serde(flatten)]
    project: Project,
    task_counter: Option<TaskCounter>,
    workflow: Option<Workflow>,
    labels: Vec<Label>,
    milestones: Vec<Milestone>,
    /// Every task, those in the trash too (`deleted_at` set), by creation.
    tasks: Vec<Task>,
    /// "blocker_id blocks task_id" edges.
    dependencies: Vec<Dependency>,
    /// Every comment, deleted ones too, by task and then creation.
    comments: Vec<Comment>,
}

const PAGE: usize = 500;

/// Reads every workspace the store holds. The store has no list of workspaces, but every
/// workspace's creation is in the log, so the log names them all.
pub async fn export<S: Store>(store: &S, now: OffsetDateTime) -> Result<Export, Error> {
    let last_seq = store.last_seq().await?;
    let mut ids: Vec<WorkspaceId> = Vec::new();
    let mut seen = HashSet::new();
    let mut after = 0;
    loop {
        let events = store
            .events(&EventQuery {
                scope: EventScope::All,
                after,
                limit: PAGE,
            })
            .await?;
        for event in &events {
            if seen.insert(event.workspace_id) {
                ids.push(event.workspace_id);
            }
        }
        match events.last() {
            Some(last) if events.len() == PAGE => after = last.seq,
            _ => break,
        }
    }

    let mut workspaces = Vec::new();
    let mut user_ids: Vec<UserId> = Vec::new();
    let mut seen_users = HashSet::new();
    for id in ids {
        let Some(workspace) = store.workspace(id).await? else {
            continue;
        };
        let members = store.members_of_workspace(id).await?;
        for m in &members {
            if seen_users.insert(m.user_id) {
                user_ids.push(m.user_id);
            }
        }
        let mut projects = Vec::new();
        for project in store.projects_of_workspace(id).await? {
            projects.push(export_project(store, project).await?);
        }
        workspaces.push(WorkspaceExport {
            workspace,
            members,
            projects,
        });
    }
    let users = store
        .users(&user_ids)
        .await?
        .into_iter()
        .map(|u| UserExport {
            id: u.id,
            email: u.email,
            name: u.name,
            is_server_admin: u.is_server_admin,
            disabled: u.disabled,
            created_at: u.created_at,
        })
        .collect();
    Ok(Export {
        format: "tasklane-export",
        version: 1,
        exported_at: now,
        last_seq,
        users,
        workspaces,
    })
}

async fn export_project<S: Store>(store: &S, project: Project) -> Result<ProjectExport, Error> {
    let id = project.id;
    let mut tasks = Vec::new();
    for trashed in [false, true] {
        let sort = TaskSort::default();
        let mut after = None;
        loop {
            let page = store
                .tasks(&TaskQuery {
                    scope: TaskScope::Project(id),
                    filter: TaskFilter::True,
                    sort,
                    after,
                    limit: PAGE,
                    trashed,
                })
                .await?;
            let full = page.len() == PAGE;
            after = page.last().map(|t| sort.cursor_of(t));
            tasks.extend(page);
            if !full {
                break;
            }
        }
    }
    tasks.sort_by_key(|t| t.number);
    let mut dependencies = Vec::new();
    let mut comments = Vec::new();
    for task in &tasks {
        dependencies.extend(store.blockers_of(task.id).await?);
        comments.extend(store.comments_of_task(task.id).await?);
    }
    Ok(ProjectExport {
        task_counter: store.task_counter(id).await?,
        workflow: store.workflow(id).await?,
        labels: store.labels_of_project(id).await?,
        milestones: store.milestones_of_project(id).await?,
        project,
        tasks,
        dependencies,
        comments,
    })
}
