//! # tasklane-core
//!
//! The engine of Tasklane: a team task manager as a library. This crate holds the domain types,
//! every business rule and permission check, the domain events, the storage contract
//! ([`store::Store`]) with an in-memory reference store ([`store::MemoryStore`]), and — behind
//! the feature `testkit` — the conformance suite every storage adapter runs. The engine times
//! its store commits through the `metrics` facade ([`telemetry`]: `tasklane_engine_commit_seconds`,
//! `tasklane_engine_commit_retries_total`); it installs no recorder of its own.
//!
//! ```
//! use tasklane_core::{Engine, EngineConfig, MemoryStore, NewProject, NewTask, NewUser};
//!
//! # tokio_test_block_on(async {
//! let engine = Engine::builder(MemoryStore::new())
//!     .config(EngineConfig::for_tests())
//!     .build();
//! let (_user, token) = engine
//!     .accounts()
//!     .register(NewUser {
//!         email: "ada@example.com".into(),
//!         password: "correct horse battery".into(),
//!         name: "Ada".into(),
//!     })
//!     .await?;
//! let ada = engine.accounts().authenticate(&token.secret).await?;
//! let workspace = engine.workspaces().create(&ada, "Analytical").await?;
//! let project = engine
//!     .projects()
//!     .create(&ada, workspace.id, NewProject { key: "ENG".into(), name: "Engine".into(), ..Default::default() })
//!     .await?;
//! let task = engine
//!     .tasks()
//!     .create(&ada, project.id, NewTask { title: "Design the mill".into(), ..Default::default() })
//!     .await?;
//! assert_eq!(task.key, "ENG-1");
//! # Ok::<(), tasklane_core::Error>(())
//! # }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
#![deny(missing_docs)]

pub mod clock;
pub mod engine;
pub mod error;
pub mod event;
pub mod ids;
pub mod model;
pub mod position;
pub mod query;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use clock::{Clock, IdGenerator, ManualClock, SequentialIds, SystemClock, UuidV7Ids};
pub use engine::{
    Actor, BulkAction, BulkRequest, BulkSet, Engine, EngineBuilder, EngineConfig, IssuedToken,
    MoveTask, NewComment, NewLabel, NewMilestone, NewProject, NewTask, NewToken, NewUser, Page,
    PasswordHashing, RegistrationPolicy, TaskListRequest, TaskPatch, TaskRef, TaskView,
};
pub use error::{Conflict, Error, FieldError, ObjectKind, Result};
pub use ids::*;
pub use model::*;
pub use store::{MemoryStore, Store, StoreError};
