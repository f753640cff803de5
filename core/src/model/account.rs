use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{TokenId, UserId};

/// A person with an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The id.
    pub id: UserId,
    /// The e-mail address as given; unique ignoring case.
    pub email: String,
    /// The display name.
    pub name: String,
    /// The argon2id hash in PHC string form.
    pub password_hash: String,
    /// Whether the user administers the whole server (the first registered user does).
    pub is_server_admin: bool,
    /// A disabled user cannot log in and their tokens stop working.
    pub disabled: bool,
    /// When the account was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Optimistic-concurrency version, 1 on creation.
    pub version: u64,
}

impl User {
    /// The lower-cased e-mail address, the form uniqueness is checked on.
    pub fn email_key(&self) -> String {
        self.email.to_lowercase()
    }

    /// The mention handle: the display name, lower-cased, without spaces.
    pub fn handle(&self) -> String {
        self.name
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    }
}

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Read only: any write is refused.
    Read,
    /// Read and write.
    Write,
}

/// How a token came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Issued by a login; ends with logout.
    Session,
    /// A named personal access token.
    Personal,
}

/// An opaque bearer token. Only the SHA-256 of its secret is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// The id (not secret).
    pub id: TokenId,
    /// Whose token it is.
    pub user_id: UserId,
    /// A name the user chose (`"CI"`), or `"session"`.
    pub name: String,
    /// Session or personal.
    pub kind: TokenKind,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// The first characters of the secret, to recognise it in a list.
    pub prefix: String,
    /// What the token may do.
    pub scopes: Vec<TokenScope>,
    /// When it was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// After this instant it no longer works.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// When it was last presented (updated at most once a minute).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked; a revoked token never works again.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

impl ApiToken {
    /// Whether the token may write.
    pub fn can_write(&self) -> bool {
        self.scopes.contains(&TokenScope::Write)
    }

    /// Whether the token works at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}
