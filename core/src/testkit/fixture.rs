//! A populated engine for conformance cases: a workspace with one user per role, an outsider,
//! and a project with the default workflow.

use std::sync::Arc;

use time::macros::datetime;

use crate::engine::{Actor, Engine, EngineConfig, NewProject, NewTask, NewUser, TaskView};
use crate::ids::{ProjectId, StatusId, WorkspaceId};
use crate::model::Role;
use crate::store::Store;
use crate::{ManualClock, Project, Workspace};

/// The default workflow's statuses, by name.
#[derive(Clone, Copy, Debug)]
pub struct Statuses {
    /// "Backlog" (backlog).
    pub backlog: StatusId,
    /// "Todo" (unstarted).
    pub todo: StatusId,
    /// "In Progress" (started).
    pub in_progress: StatusId,
    /// "In Review" (started).
    pub in_review: StatusId,
    /// "Done" (completed).
    pub done: StatusId,
    /// "Canceled" (canceled).
    pub canceled: StatusId,
}

/// An engine over the store under test, with people and a project.
pub struct Fixture<S: Store> {
    /// The engine (manual clock, cheap password hashing).
    pub engine: Engine<S>,
    /// The clock, to move time.
    pub clock: Arc<ManualClock>,
    /// Owner of `workspace`.
    pub owner: Actor,
    /// Admin of `workspace`.
    pub admin: Actor,
    /// Member of `workspace`.
    pub member: Actor,
    /// Guest of `workspace`.
    pub guest: Actor,
    /// A user in no workspace of the fixture (owner of `other_workspace`).
    pub outsider: Actor,
    /// The workspace.
    pub workspace: Workspace,
    /// The outsider's workspace.
    pub other_workspace: Workspace,
    /// Project `ENG` in `workspace`.
    pub project: Project,
    /// Its default workflow.
    pub statuses: Statuses,
}

/// The instant the fixture's clock starts at.
pub const START: time::OffsetDateTime = datetime!(2026-11-02 09:00 UTC);

impl<S: Store> Fixture<S> {
    /// Builds the fixture over `store`.
    pub async fn new(store: S) -> Self {
        Self::with_config(store, EngineConfig::for_tests()).await
    }

    /// Builds the fixture over a shared store.
    pub async fn shared(store: Arc<S>) -> Self {
        Self::shared_with_config(store, EngineConfig::for_tests()).await
    }

    /// Builds the fixture over a shared store with `config`.
    pub async fn shared_with_config(store: Arc<S>, config: EngineConfig) -> Self {
        let clock = Arc::new(ManualClock::new(START));
        let engine = Engine::builder_shared(store)
            .clock(clock.clone())
            .config(config)
            .build();
        Self::populate(engine, clock).await
    }

    /// Builds the fixture over `store` with `config`.
    pub async fn with_config(store: S, config: EngineConfig) -> Self {
        let clock = Arc::new(ManualClock::new(START));
        let engine = Engine::builder(store)
            .clock(clock.clone())
            .config(config)
            .build();
        Self::populate(engine, clock).await
    }

    async fn populate(engine: Engine<S>, clock: Arc<ManualClock>) -> Self {
        let accounts = engine.accounts();
        let mut actors = Vec::new();
        for name in [
            "Olivia Owner",
            "Adam Admin",
            "Mia Member",
            "Gus Guest",
            "Otto Outsider",
        ] {
            let first = name.split(' ').next().unwrap_or(name).to_lowercase();
            let user = accounts
                .create_user(
                    None,
                    NewUser {
                        email: format!("{first}@example.com"),
                        password: "password123".into(),
                        name: name.into(),
                    },
                    false,
                )
                .await
                .expect("create fixture user");
            actors.push(Actor::user(user.id));
        }
        let [owner, admin, member, guest, outsider] = actors[..] else {
            unreachable!("five users were created")
        };
        let workspace = engine
            .workspaces()
            .create(&owner, "Acme")
            .await
            .expect("workspace");
        let other_workspace = engine
            .workspaces()
            .create(&outsider, "Elsewhere")
            .await
            .expect("other workspace");
        for (actor, role) in [
            (admin, Role::Admin),
            (member, Role::Member),
            (guest, Role::Guest),
        ] {
            engine
                .workspaces()
                .add_member(
                    &owner,
                    workspace.id,
                    crate::engine::MemberRef::Id(actor.user_id),
                    role,
                )
                .await
                .expect("add member");
        }
        let project = engine
            .projects()
            .create(
                &owner,
                workspace.id,
                NewProject {
                    key: "ENG".into(),
                    name: "Engineering".into(),
                    ..NewProject::default()
                },
            )
            .await
            .expect("project");
        let flow = engine
            .workflows()
            .get(&owner, project.id)
            .await
            .expect("workflow");
        let id = |name: &str| {
            flow.statuses
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.id)
                .expect("default status")
        };
        let statuses = Statuses {
            backlog: id("Backlog"),
            todo: id("Todo"),
            in_progress: id("In Progress"),
            in_review: id("In Review"),
            done: id("Done"),
            canceled: id("Canceled"),
        };
        Fixture {
            engine,
            clock,
            owner,
            admin,
            member,
            guest,
            outsider,
            workspace,
            other_workspace,
            project,
            statuses,
        }
    }

    /// Creates a task titled `title` in the fixture's project, as the owner.
    pub async fn task(&self, title: &str) -> TaskView {
        self.task_in(self.project.id, title).await
    }

    /// Creates a task titled `title` in `project`, as the owner.
    pub async fn task_in(&self, project: ProjectId, title: &str) -> TaskView {
        self.engine
            .tasks()
            .create(
                &self.owner,
                project,
                NewTask {
                    title: title.into(),
                    ..NewTask::default()
                },
            )
            .await
            .expect("create task")
    }

    /// Creates another project in the fixture's workspace.
    pub async fn project_named(&self, key: &str) -> Project {
        self.engine
            .projects()
            .create(
                &self.owner,
                self.workspace.id,
                NewProject {
                    key: key.into(),
                    name: key.into(),
                    ..NewProject::default()
                },
            )
            .await
            .expect("project")
    }

    /// The fixture's workspace id.
    pub fn workspace_id(&self) -> WorkspaceId {
        self.workspace.id
    }
}
