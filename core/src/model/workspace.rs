use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{UserId, WorkspaceId};

/// A team's space: members, projects and everything in them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    /// The id.
    pub id: WorkspaceId,
    /// The name.
    pub name: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// What a member may do in a workspace, from most to least powerful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads and comments only.
    Guest,
    /// Works on tasks, comments, labels and milestones.
    Member,
    /// Also manages projects, workflows and members (except owners).
    Admin,
    /// Everything, including managing owners.
    Owner,
}

impl Role {
    /// All roles, least powerful first.
    pub const ALL: [Role; 4] = [Role::Guest, Role::Member, Role::Admin, Role::Owner];

    /// The role's name as written in the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    /// Parses `owner`, `admin`, `member` or `guest`; errors with a sentence otherwise.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "guest" => Ok(Role::Guest),
            "member" => Ok(Role::Member),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(format!(
                "'{s}' is not a role; use owner, admin, member or guest"
            )),
        }
    }
}

/// A user's membership of a workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The member.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// When they joined.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Optimistic-concurrency version.
    pub version: u64,
}
