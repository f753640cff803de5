//! Workspaces and their members. Owners manage owners; admins manage everyone else; a workspace
//! always keeps at least one owner.

use super::access::Need;
use super::{check_version, Actor, Engine};
use crate::error::{Conflict, Error, ObjectKind, Result};
use crate::event::{EventKind, FieldChange};
use crate::ids::{UserId, WorkspaceId};
use crate::model::{Membership, Role, User, Workspace};
use crate::store::{Commit, Record, RecordKey, Store};

/// Names the user to add to a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberRef {
    /// By id.
    Id(UserId),
    /// By e-mail address (ignoring case).
    Email(String),
}

/// A membership with its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberView {
    /// The membership.
    pub membership: Membership,
    /// The user.
    pub user: User,
}

fn validate_name(sent: &str) -> Result<String> {
    let name = sent.trim();
    if !crate::error::fits(sent, 100) {
        return Err(Error::invalid("name", "must be 1 to 100 characters long"));
    }
    if name.contains('\0') {
        return Err(Error::invalid("name", "must not contain NUL characters"));
    }
    Ok(name.to_owned())
}

/// Workspace operations.
pub struct Workspaces<'e, S> {
    pub(crate) engine: &'e Engine<S>,
}

impl<S: Store> Workspaces<'_, S> {
    /// Creates a workspace with the actor as its owner.
    ///
    /// Errors: invalid name → validation; read-only actor → forbidden.
    pub async fn create(&self, actor: &Actor, name: &str) -> Result<Workspace> {
        if !actor.can_write {
            return Err(Error::forbidden("this token is read-only"));
        }
        let name = validate_name(name)?;
        let now = self.engine.now();
        let workspace = Workspace {
            id: WorkspaceId(self.engine.new_uuid()),
            name: name.clone(),
            created_at: now,
            version: 1,
        };
        let membership = Membership {
            workspace_id: workspace.id,
            user_id: actor.user_id,
            role: Role::Owner,
            created_at: now,
            version: 1,
        };
        let mut commit = Commit::new();
        commit
            .insert(Record::Workspace(workspace.clone()))
            .insert(Record::Membership(membership))
            .event(self.engine.event(
                actor.user_id,
                workspace.id,
                None,
                None,
                EventKind::WorkspaceCreated { name },
            ))
            .event(self.engine.event(
                actor.user_id,
                workspace.id,
                None,
                None,
                EventKind::MemberAdded {
                    user_id: actor.user_id,
                    role: Role::Owner,
                },
            ));
        self.engine.commit(commit).await?;
        Ok(workspace)
    }

    /// The workspace, if the actor is a member.
    ///
    /// Errors: unknown or not a member → not found.
    pub async fn get(&self, actor: &Actor, id: WorkspaceId) -> Result<Workspace> {
        self.engine
            .require(actor, id, Need::Read, ObjectKind::Workspace)
            .await?;
        self.engine
            .store()
            .workspace(id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Workspace))
    }

    /// The workspaces the actor belongs to, oldest membership first, with the actor's role.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<(Workspace, Role)>> {
        let store = self.engine.store();
        let mut out = Vec::new();
        for m in store.memberships_of_user(actor.user_id).await? {
            if let Some(w) = store.workspace(m.workspace_id).await? {
                out.push((w, m.role));
            }
        }
        Ok(out)
    }

    /// Renames a workspace (admins).
    ///
    /// Errors: not found; forbidden; invalid name; stale `expected_version` → conflict.
    pub async fn rename(
        &self,
        actor: &Actor,
        id: WorkspaceId,
        name: &str,
        expected_version: Option<u64>,
    ) -> Result<Workspace> {
        let name = validate_name(name)?;
        self.engine
            .retrying(|| async {
                self.engine
                    .require(actor, id, Need::Manage, ObjectKind::Workspace)
                    .await?;
                let current = self
                    .engine
                    .store()
                    .workspace(id)
                    .await?
                    .ok_or(Error::not_found(ObjectKind::Workspace))?;
                check_version(expected_version, current.version)?;
                if current.name == name {
                    return Ok(current);
                }
                let mut updated = current.clone();
                updated.name = name.clone();
                updated.version += 1;
                let mut commit = Commit::new();
                commit
                    .update(Record::Workspace(updated.clone()), current.version)
                    .event(self.engine.event(
                        actor.user_id,
                        id,
                        None,
                        None,
                        EventKind::WorkspaceUpdated {
                            changes: vec![FieldChange::new("name", &current.name, &name)],
                        },
                    ));
                self.engine.commit(commit).await?;
                Ok(updated)
            })
            .await
    }

    /// The members of a workspace with their users, oldest first.
    ///
    /// Errors: not a member → not found.
    pub async fn members(&self, actor: &Actor, id: WorkspaceId) -> Result<Vec<MemberView>> {
        self.engine
            .require(actor, id, Need::Read, ObjectKind::Workspace)
            .await?;
        let store = self.engine.store();
        let memberships = store.members_of_workspace(id).await?;
        let ids: Vec<UserId> = memberships.iter().map(|m| m.user_id).collect();
        let users = store.users(&ids).await?;
        Ok(memberships
            .into_iter()
            .zip(users)
            .map(|(membership, user)| MemberView { membership, user })
            .collect())
    }

    /// Adds a user to a workspace with `role`. Admins add guests, members and admins; only
    /// owners add owners.
    ///
    /// Errors: not found (workspace, or no user with that e-mail/id); forbidden; already a
    /// member → conflict.
    pub async fn add_member(
        &self,
        actor: &Actor,
        id: WorkspaceId,
        who: MemberRef,
        role: Role,
    ) -> Result<MemberView> {
        let need = if role == Role::Owner {
            Need::Own
        } else {
            Need::Manage
        };
        self.engine
            .require(actor, id, need, ObjectKind::Workspace)
            .await?;
        let store = self.engine.store();
        let user = match &who {
            MemberRef::Id(uid) => store.user(*uid).await?,
            MemberRef::Email(email) => store.user_by_email(email.trim()).await?,
        }
        .ok_or(Error::not_found(ObjectKind::User))?;
        if store.membership(id, user.id).await?.is_some() {
            return Err(Error::Conflict(Conflict::Duplicate {
                field: "member".into(),
                value: user.email.clone(),
            }));
        }
        let membership = Membership {
            workspace_id: id,
            user_id: user.id,
            role,
            created_at: self.engine.now(),
            version: 1,
        };
        let mut commit = Commit::new();
        commit
            .insert(Record::Membership(membership.clone()))
            .event(self.engine.event(
                actor.user_id,
                id,
                None,
                None,
                EventKind::MemberAdded {
                    user_id: user.id,
                    role,
                },
            ));
        self.engine.commit(commit).await?;
        Ok(MemberView { membership, user })
    }

    /// Adds a version bump of the workspace to `commit`, so that two concurrent changes of its
    /// owners conflict and the loser re-checks the last-owner rule.
    async fn guard_owners(&self, id: WorkspaceId, commit: &mut Commit) -> Result<()> {
        let workspace = self
            .engine
            .store()
            .workspace(id)
            .await?
            .ok_or(Error::not_found(ObjectKind::Workspace))?;
        let mut bumped = workspace.clone();
        bumped.version += 1;
        commit.update(Record::Workspace(bumped), workspace.version);
        Ok(())
    }

    async fn owner_count(&self, id: WorkspaceId) -> Result<usize> {
        Ok(self
            .engine
            .store()
            .members_of_workspace(id)
            .await?
            .iter()
            .filter(|m| m.role == Role::Owner)
            .count())
    }

    /// Changes a member's role. Changing an owner's role, or making someone an owner, needs an
    /// owner; the last owner cannot step down.
    ///
    /// Errors: not found (workspace or membership); forbidden; last owner or stale version →
    /// conflict.
    pub async fn change_role(
        &self,
        actor: &Actor,
        id: WorkspaceId,
        user: UserId,
        role: Role,
        expected_version: Option<u64>,
    ) -> Result<Membership> {
        self.engine
            .retrying(|| async {
                self.engine
                    .require(actor, id, Need::Manage, ObjectKind::Workspace)
                    .await?;
                let current = self
                    .engine
                    .store()
                    .membership(id, user)
                    .await?
                    .ok_or(Error::not_found(ObjectKind::Membership))?;
                check_version(expected_version, current.version)?;
                if current.role == Role::Owner || role == Role::Owner {
                    self.engine
                        .require(actor, id, Need::Own, ObjectKind::Workspace)
                        .await?;
                }
                if current.role == role {
                    return Ok(current);
                }
                if current.role == Role::Owner && self.owner_count(id).await? <= 1 {
                    return Err(Error::Conflict(Conflict::LastOwner));
                }
                let mut updated = current.clone();
                updated.role = role;
                updated.version += 1;
                let mut commit = Commit::new();
                if current.role == Role::Owner {
                    self.guard_owners(id, &mut commit).await?;
                }
                commit
                    .update(Record::Membership(updated.clone()), current.version)
                    .event(self.engine.event(
                        actor.user_id,
                        id,
                        None,
                        None,
                        EventKind::MemberRoleChanged {
                            user_id: user,
                            old: current.role,
                            new: role,
                        },
                    ));
                self.engine.commit(commit).await?;
                Ok(updated)
            })
            .await
    }

    /// Removes a member. Anyone may leave; admins remove non-owners; owners remove owners; the
    /// last owner cannot leave.
    ///
    /// Errors: not found; forbidden; last owner or stale version → conflict.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        id: WorkspaceId,
        user: UserId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        self.engine
            .retrying(|| async {
                let need = if user == actor.user_id {
                    Need::Comment
                } else {
                    Need::Manage
                };
                self.engine
                    .require(actor, id, need, ObjectKind::Workspace)
                    .await?;
                let current = self
                    .engine
                    .store()
                    .membership(id, user)
                    .await?
                    .ok_or(Error::not_found(ObjectKind::Membership))?;
                check_version(expected_version, current.version)?;
                if current.role == Role::Owner {
                    if user != actor.user_id {
                        self.engine
                            .require(actor, id, Need::Own, ObjectKind::Workspace)
                            .await?;
                    }
                    if self.owner_count(id).await? <= 1 {
                        return Err(Error::Conflict(Conflict::LastOwner));
                    }
                }
                let mut commit = Commit::new();
                if current.role == Role::Owner {
                    self.guard_owners(id, &mut commit).await?;
                }
                commit
                    .delete(RecordKey::Membership(id, user), current.version)
                    .event(self.engine.event(
                        actor.user_id,
                        id,
                        None,
                        None,
                        EventKind::MemberRemoved { user_id: user },
                    ));
                self.engine.commit(commit).await?;
                Ok(())
            })
            .await
    }
}
