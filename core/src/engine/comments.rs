//! Comments: markdown, threads, edits that keep earlier versions, deletion, and `@mentions`
//! resolved to workspace members.

use super::access::Need;
use super::tasks::TaskRef;
use super::{check_version, Actor, Engine};
use crate::error::{Error, ObjectKind, Result};
use crate::event::EventKind;
use crate::ids::{CommentId, UserId, WorkspaceId};
use crate::model::{Comment, CommentRevision, Role, User};
use crate::store::{Commit, Record, Store};

/// A new comment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewComment {
    /// Markdown, 1 to 65,536 characters.
    pub body: String,
    /// The comment this one answers (of the same task).
    pub parent_id: Option<CommentId>,
}

const MAX_BODY_CHARS: usize = 65_536;

fn check_body(body: &str) -> Result<()> {
    if body.contains('\0') {
        return Err(Error::invalid("body", "must not contain NUL characters"));
    }
    if !crate::error::fits(body, MAX_BODY_CHARS) {
        return Err(Error::invalid(
            "body",
            format!("must be 1 to {MAX_BODY_CHARS} characters long"),
        ));
    }
    Ok(())
}

/// The `@handle` and `@email` words of a text, lower-cased, without trailing punctuation.
pub fn mention_words(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let at_word_start = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.');
        if chars[i] == '@' && at_word_start {
            let start = i + 1;
            let mut end = start;
            while end < chars.len()
                && (chars[end].is_alphanumeric() || "._%+-@".contains(chars[end]))
            {
                end += 1;
            }
            let word: String = chars[start..end].iter().collect();
            let word = word.trim_end_matches(['.', '-', '@']).to_lowercase();
            if !word.is_empty() && !out.contains(&word) {
                out.push(word);
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The members mentioned in `body`: a word matches a member's e-mail or handle, ignoring case.
pub fn resolve_mentions(body: &str, members: &[User]) -> Vec<UserId> {
    let mut out = Vec::new();
    for word in mention_words(body) {
        for user in members {
            if (user.email_key() == word || user.handle() == word) && !out.contains(&user.id) {
                out.push(user.id);
            }
        }
    }
    out
}

/// Comment operations.
pub struct Comments<'e, S> {
    pub(crate) engine: &'e Engine<S>,
}

impl<S: Store> Comments<'_, S> {
    async fn members(&self, workspace: WorkspaceId) -> Result<Vec<User>> {
        let store = self.engine.store();
        let ids: Vec<UserId> = store
            .members_of_workspace(workspace)
            .await?
            .iter()
            .map(|m| m.user_id)
            .collect();
        Ok(store.users(&ids).await?)
    }

    /// Adds a comment (guests may comment). Mentions of members are recorded on the comment and
    /// its event.
    ///
    /// Errors: task not found; empty or long body, or a parent of another task → validation;
    /// read-only → forbidden; archived project → conflict.
    pub async fn create(&self, actor: &Actor, task: &TaskRef, new: NewComment) -> Result<Comment> {
        let engine = self.engine;
        let (task, _, _) = engine.find_task(actor, task, Need::Comment, false).await?;
        check_body(&new.body)?;
        if let Some(parent) = new.parent_id {
            let ok = engine
                .store()
                .comment(parent)
                .await?
                .is_some_and(|p| p.task_id == task.id);
            if !ok {
                return Err(Error::invalid("parent_id", "is not a comment of this task"));
            }
        }
        let mentions = resolve_mentions(&new.body, &self.members(task.workspace_id).await?);
        let now = engine.now();
        let comment = Comment {
            id: CommentId(engine.new_uuid()),
            task_id: task.id,
            workspace_id: task.workspace_id,
            author_id: actor.user_id,
            parent_id: new.parent_id,
            body: new.body,
            mentions: mentions.clone(),
            revisions: Vec::new(),
            deleted_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut commit = Commit::new();
        commit
            .insert(Record::Comment(comment.clone()))
            .event(engine.event(
                actor.user_id,
                task.workspace_id,
                Some(task.project_id),
                Some(task.id),
                EventKind::CommentAdded {
                    comment_id: comment.id,
                    parent_id: comment.parent_id,
                    mentions,
                },
            ));
        engine.commit(commit).await?;
        Ok(comment)
    }

    /// The task's comments, oldest first; deleted ones keep their place with an empty body.
    ///
    /// Errors: task not found.
    pub async fn list(&self, actor: &Actor, task: &TaskRef) -> Result<Vec<Comment>> {
        let (task, _, _) = self
            .engine
            .find_task(actor, task, Need::Read, false)
            .await?;
        Ok(self.engine.store().comments_of_task(task.id).await?)
    }

    /// The comment, if the actor may see its task.
    ///
    /// Errors: not found.
    pub async fn get(&self, actor: &Actor, id: CommentId) -> Result<Comment> {
        let comment = self
            .engine
            .store()
            .comment(id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Comment))?;
        self.engine
            .find_task(actor, &TaskRef::Id(comment.task_id), Need::Read, false)
            .await
            .map_err(|_| Error::not_found(ObjectKind::Comment))?;
        Ok(comment)
    }

    async fn modify(
        &self,
        actor: &Actor,
        id: CommentId,
        expected_version: Option<u64>,
        change: impl Fn(&mut Comment, &[User]) -> EventKind,
    ) -> Result<Comment> {
        let engine = self.engine;
        engine
            .retrying(|| async {
                let current = self.get(actor, id).await?;
                if current.deleted_at.is_some() {
                    return Err(Error::not_found(ObjectKind::Comment));
                }
                let (task, _, membership) = engine
                    .find_task(actor, &TaskRef::Id(current.task_id), Need::Comment, false)
                    .await?;
                if current.author_id != actor.user_id && membership.role < Role::Admin {
                    return Err(Error::forbidden(
                        "only the author or an admin may change a comment",
                    ));
                }
                check_version(expected_version, current.version)?;
                let members = self.members(task.workspace_id).await?;
                let mut updated = current.clone();
                let kind = change(&mut updated, &members);
                updated.version += 1;
                updated.updated_at = engine.now();
                let mut commit = Commit::new();
                commit
                    .update(Record::Comment(updated.clone()), current.version)
                    .event(engine.event(
                        actor.user_id,
                        task.workspace_id,
                        Some(task.project_id),
                        Some(task.id),
                        kind,
                    ));
                engine.commit(commit).await?;
                Ok(updated)
            })
            .await
    }

    /// Replaces a comment's text, keeping the earlier text in its revisions (author or admin).
    ///
    /// Errors: not found; forbidden; invalid body → validation; stale version → conflict.
    pub async fn edit(
        &self,
        actor: &Actor,
        id: CommentId,
        body: &str,
        expected_version: Option<u64>,
    ) -> Result<Comment> {
        check_body(body)?;
        let now = self.engine.now();
        self.modify(actor, id, expected_version, |c, members| {
            c.revisions.push(CommentRevision {
                body: std::mem::replace(&mut c.body, body.to_owned()),
                replaced_at: now,
            });
            c.mentions = resolve_mentions(body, members);
            EventKind::CommentEdited {
                comment_id: c.id,
                mentions: c.mentions.clone(),
            }
        })
        .await
    }

    /// Deletes a comment (author or admin): its text and history go, its place in the thread
    /// stays.
    ///
    /// Errors: not found; forbidden; stale version → conflict.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: CommentId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        let now = self.engine.now();
        self.modify(actor, id, expected_version, |c, _| {
            c.body.clear();
            c.revisions.clear();
            c.mentions.clear();
            c.deleted_at = Some(now);
            EventKind::CommentDeleted { comment_id: c.id }
        })
        .await?;
        Ok(())
    }
}
