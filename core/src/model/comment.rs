use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{CommentId, TaskId, UserId, WorkspaceId};

/// An earlier text of an edited comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRevision {
    /// The text as it was.
    pub body: String,
    /// Until when it was current.
    #[serde(with = "time::serde::rfc3339")]
    pub replaced_at: OffsetDateTime,
}

/// A comment on a task, possibly a reply in a thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// The id.
    pub id: CommentId,
    /// The task.
    pub task_id: TaskId,
    /// The workspace (denormalised for permission checks).
    pub workspace_id: WorkspaceId,
    /// The author.
    pub author_id: UserId,
    /// The comment this one answers.
    pub parent_id: Option<CommentId>,
    /// Markdown text; empty once deleted.
    pub body: String,
    /// Members mentioned with `@handle` or `@email`.
    pub mentions: Vec<UserId>,
    /// Earlier texts, oldest first.
    pub revisions: Vec<CommentRevision>,
    /// When it was deleted (its thread stays).
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was last edited.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}
