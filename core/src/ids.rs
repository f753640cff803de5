//! Typed identifiers. Every aggregate has its own id type so that a `TaskId` can never be passed
//! where a `ProjectId` is expected. All ids are UUIDs (version 7 in production, see [`crate::IdGenerator`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps a raw UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The raw UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            /// Parses the hyphenated UUID form; errors when the text is not a UUID.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

define_id!(
    /// Identifies a user account.
    UserId
);
define_id!(
    /// Identifies an API or session token (not its secret).
    TokenId
);
define_id!(
    /// Identifies a workspace.
    WorkspaceId
);
define_id!(
    /// Identifies a project.
    ProjectId
);
define_id!(
    /// Identifies a workflow status within a project's workflow.
    StatusId
);
define_id!(
    /// Identifies a task.
    TaskId
);
define_id!(
    /// Identifies a label.
    LabelId
);
define_id!(
    /// Identifies a milestone.
    MilestoneId
);
define_id!(
    /// Identifies a comment.
    CommentId
);
