//! The domain records. These are what the store keeps; transports translate them into their own
//! wire formats.

mod account;
mod comment;
mod project;
mod task;
mod workflow;
mod workspace;

pub use account::{ApiToken, TokenKind, TokenScope, User};
pub use comment::{Comment, CommentRevision};
pub use project::{Label, Milestone, Project, TaskCounter};
pub use task::{Dependency, Priority, Task};
pub use workflow::{Status, StatusCategory, Transition, TransitionCondition, Workflow};
pub use workspace::{Membership, Role, Workspace};
