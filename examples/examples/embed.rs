//! Run with `cargo run -p tasklane-server --example embed`.
//! Embeds the engine over the in-memory store: an account, a workspace, a project, a task.

use tasklane_core::{Engine, MemoryStore, NewProject, NewTask, NewUser, TaskRef};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), tasklane_core::Error> {
    let engine = Engine::new(MemoryStore::new());
    let (_, token) = engine
        .accounts()
        .register(NewUser {
            email: "ada@example.com".into(),
            password: "correct horse battery".into(),
            name: "Ada".into(),
        })
        .await?;
    let ada = engine.accounts().authenticate(&token.secret).await?;
    let workspace = engine
        .workspaces()
        .create(&ada, "Analytical Engines")
        .await?;
    let project = engine
        .projects()
        .create(
            &ada,
            workspace.id,
            NewProject {
                key: "ENG".into(),
                name: "Engine".into(),
                ..Default::default()
            },
        )
        .await?;
    let task = NewTask {
        title: "Design the mill".into(),
        ..Default::default()
    };
    let created = engine.tasks().create(&ada, project.id, task).await?;
    let done = engine.workflows().get(&ada, project.id).await?.statuses[4].id;
    let key: TaskRef = created.key.parse().expect("a task key");
    let finished = engine.tasks().transition(&ada, &key, done, None).await?;
    println!(
        "{} completed at {:?}",
        finished.key, finished.task.completed_at
    );
    Ok(())
}
