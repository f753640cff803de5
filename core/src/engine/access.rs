//! Who is acting, and what their role lets them do. Every service call goes through these checks.

use crate::error::{Error, ObjectKind, Result};
use crate::ids::{TokenId, UserId, WorkspaceId};
use crate::model::{Membership, Project, Role};
use crate::store::Store;

use super::Engine;

/// The user on whose behalf a call is made, as established by authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The user.
    pub user_id: UserId,
    /// The token the call came with, if any (logout revokes it).
    pub token_id: Option<TokenId>,
    /// Whether the credentials allow writes (a `read` token does not).
    pub can_write: bool,
    /// Whether the user administers the server.
    pub is_server_admin: bool,
}

impl Actor {
    /// A user with full write access and no token; for embedding applications that did their
    /// own authentication, and for tests.
    pub fn user(user_id: UserId) -> Self {
        Actor {
            user_id,
            token_id: None,
            can_write: true,
            is_server_admin: false,
        }
    }
}

/// What an action needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// See it.
    Read,
    /// Comment (guests may).
    Comment,
    /// Change tasks, labels and milestones (members).
    Work,
    /// Manage projects, workflows and members (admins).
    Manage,
    /// Manage owners (owners).
    Own,
}

impl Need {
    fn min_role(self) -> Role {
        match self {
            Need::Read | Need::Comment => Role::Guest,
            Need::Work => Role::Member,
            Need::Manage => Role::Admin,
            Need::Own => Role::Owner,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Need::Read => "read",
            Need::Comment => "comment",
            Need::Work => "change tasks",
            Need::Manage => "manage projects and members",
            Need::Own => "manage owners",
        }
    }
}

impl<S: Store> Engine<S> {
    /// The actor's membership of `workspace` if it allows `need`.
    ///
    /// Errors: not a member → [`Error::NotFound`] of `kind` (the object's existence is not
    /// revealed); a read-only token on a write, or a role too weak → [`Error::Forbidden`].
    pub(crate) async fn require(
        &self,
        actor: &Actor,
        workspace: WorkspaceId,
        need: Need,
        kind: ObjectKind,
    ) -> Result<Membership> {
        let membership = self.store().membership(workspace, actor.user_id).await?;
        Self::allow(actor, membership, need, kind)
    }

    /// Checks that `membership` (the actor's, if any) allows `need`; see [`Self::require`].
    fn allow(
        actor: &Actor,
        membership: Option<Membership>,
        need: Need,
        kind: ObjectKind,
    ) -> Result<Membership> {
        let membership = membership.ok_or(Error::NotFound { kind })?;
        if need != Need::Read && !actor.can_write {
            return Err(Error::forbidden("this token is read-only"));
        }
        if membership.role < need.min_role() {
            return Err(Error::forbidden(format!(
                "a {} may not {}",
                membership.role,
                need.describe()
            )));
        }
        Ok(membership)
    }

    /// The project if the actor may see it (member of its workspace, project not deleted) and do
    /// `need` in it. Writes to an archived project fail with a conflict.
    pub(crate) async fn project_for(
        &self,
        actor: &Actor,
        project: crate::ids::ProjectId,
        need: Need,
    ) -> Result<(Project, Membership)> {
        let found = self
            .store()
            .project_with_membership(project, actor.user_id)
            .await?;
        Self::allow_project(actor, found, need)
    }

    /// [`Self::project_for`] over a project and membership already read.
    pub(crate) fn allow_project(
        actor: &Actor,
        found: Option<(Project, Option<Membership>)>,
        need: Need,
    ) -> Result<(Project, Membership)> {
        let (p, membership) = found
            .filter(|(p, _)| p.deleted_at.is_none())
            .ok_or(Error::not_found(ObjectKind::Project))?;
        let m = Self::allow(actor, membership, need, ObjectKind::Project)?;
        if need != Need::Read && p.archived {
            return Err(Error::Conflict(crate::error::Conflict::ProjectArchived));
        }
        Ok((p, m))
    }
}
