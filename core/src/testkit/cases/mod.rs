//! The conformance cases, one public async function each. See [`crate::testkit`].
//!
//! The `store_*` cases talk to the store directly; every other case drives the
//! [`Engine`](crate::Engine) over the store through its public services only, and matches errors
//! structurally.

mod accounts;
mod activity;
mod bulk;
mod content;
mod idempotency;
mod log_watch;
mod projects;
mod store;
mod support;
mod tasks;
mod workflow;
mod workspaces;

pub use accounts::*;
pub use activity::*;
pub use bulk::*;
pub use content::*;
pub use idempotency::*;
pub use log_watch::*;
pub use projects::*;
pub use store::*;
pub use tasks::*;
pub use workflow::*;
pub use workspaces::*;
