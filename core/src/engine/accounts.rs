//! Accounts: registration, password login, opaque API tokens and authentication. Passwords are
//! hashed with argon2id; a token's secret is shown once and only its SHA-256 is stored.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{check_version, Actor, Engine, PasswordHashing};
use crate::error::{Error, ObjectKind, Result, Validation};
use crate::ids::{TokenId, UserId};
use crate::model::{ApiToken, TokenKind, TokenScope, User};
use crate::store::{Commit, Expected, Record, Store, Write};

/// Who may register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationPolicy {
    /// Anyone.
    Open,
    /// Only the first user; later accounts are created by a server administrator (or by adding
    /// an e-mail address to a workspace).
    InviteOnly,
    /// Nobody, not even the first user (accounts come from `admin create-user`).
    Closed,
}

/// A registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// E-mail address; unique ignoring case.
    pub email: String,
    /// Password in clear; at least the configured minimum length.
    pub password: String,
    /// Display name, 1–100 characters.
    pub name: String,
}

/// A request for a personal token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    /// A name to recognise it by, 1–100 characters.
    pub name: String,
    /// What it may do; empty means read and write.
    pub scopes: Vec<TokenScope>,
    /// When it stops working; must lie in the future.
    pub expires_at: Option<OffsetDateTime>,
}

/// A freshly issued token: the record and its secret, which is never shown again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    /// The stored token.
    pub token: ApiToken,
    /// The bearer secret (`tl_...`).
    pub secret: String,
}

/// The prefix of every token secret, so that leaked secrets are recognisable.
pub const TOKEN_PREFIX: &str = "tl_";

/// The SHA-256 of a token secret in lower-case hex, as stored (every request computes it).
fn hash_secret(secret: &str) -> String {
    super::hex(&Sha256::digest(secret.as_bytes()))
}

fn argon2(cost: PasswordHashing) -> Result<Argon2<'static>> {
    let params = Params::new(cost.memory_kib.max(8), cost.iterations.max(1), 1, None)
        .map_err(|e| Error::invalid("password_hashing", e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c == '\u{feff}')
        && !domain.contains('@')
        && email.len() <= 254
}

/// Account operations.
pub struct Accounts<'e, S> {
    pub(crate) engine: &'e Engine<S>,
}

impl<S: Store> Accounts<'_, S> {
    fn validate_new_user(&self, new: &NewUser) -> Result<()> {
        let mut v = Validation::new();
        if !looks_like_email(&new.email) {
            v.add("email", "must be an e-mail address such as ada@example.com");
        }
        let min = self.engine.config().min_password_length;
        if new.password.chars().count() < min {
            v.add(
                "password",
                format!("must be at least {min} characters long"),
            );
        }
        if new.password.len() > 1024 {
            v.add("password", "must be at most 1024 bytes long");
        }
        let name = new.name.trim();
        if !crate::error::fits(&new.name, 100) {
            v.add("name", "must be 1 to 100 characters long");
        }
        v.reject_nul("name", name);
        v.reject_nul("email", &new.email);
        v.reject_nul("password", &new.password);
        v.finish()
    }

    /// Hashes a password with the configured argon2id cost.
    pub fn hash_password(&self, password: &str) -> Result<String> {
        let mut salt = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        let salt =
            SaltString::encode_b64(&salt).map_err(|e| Error::invalid("salt", e.to_string()))?;
        Ok(argon2(self.engine.config().password_hashing)?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::invalid("password", e.to_string()))?
            .to_string())
    }

    fn verify_password(&self, user: &User, password: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(&user.password_hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    }

    async fn insert_user(&self, new: NewUser, force_admin: bool) -> Result<User> {
        self.validate_new_user(&new)?;
        let store = self.engine.store();
        let email = new.email.trim().to_owned();
        if store.user_by_email(&email).await?.is_some() {
            return Err(Error::Conflict(crate::error::Conflict::Duplicate {
                field: "email".into(),
                value: email,
            }));
        }
        let first = store.user_count().await? == 0;
        let user = User {
            id: UserId(self.engine.new_uuid()),
            email,
            name: new.name.trim().to_owned(),
            password_hash: self.hash_password(&new.password)?,
            is_server_admin: first || force_admin,
            disabled: false,
            created_at: self.engine.now(),
            version: 1,
        };
        let mut commit = Commit::new();
        commit.insert(Record::User(user.clone()));
        self.engine.commit(commit).await?;
        Ok(user)
    }

    /// Registers an account and logs it in. The first user of a fresh server becomes its
    /// administrator.
    ///
    /// Errors: invalid fields → validation; e-mail taken → conflict; registration closed by
    /// policy → forbidden.
    pub async fn register(&self, new: NewUser) -> Result<(User, IssuedToken)> {
        let first = self.engine.store().user_count().await? == 0;
        match self.engine.config().registration {
            RegistrationPolicy::Open => {}
            RegistrationPolicy::InviteOnly if first => {}
            RegistrationPolicy::InviteOnly => {
                return Err(Error::forbidden(
                    "registration is by invitation; ask an administrator for an account",
                ))
            }
            RegistrationPolicy::Closed => {
                return Err(Error::forbidden("registration is closed on this server"))
            }
        }
        let user = self.insert_user(new, false).await?;
        let token = self
            .issue(
                &user,
                TokenKind::Session,
                "session",
                vec![TokenScope::Read, TokenScope::Write],
                Some(self.engine.now() + self.engine.config().session_ttl),
            )
            .await?;
        Ok((user, token))
    }

    /// Creates an account on behalf of a server administrator (or of the operator, with
    /// `actor = None`), optionally as another administrator.
    ///
    /// Errors: as [`Accounts::register`]; an actor who is not a server administrator → forbidden.
    pub async fn create_user(
        &self,
        actor: Option<&Actor>,
        new: NewUser,
        server_admin: bool,
    ) -> Result<User> {
        if let Some(actor) = actor {
            if !actor.is_server_admin || !actor.can_write {
                return Err(Error::forbidden(
                    "only a server administrator may create accounts",
                ));
            }
        }
        self.insert_user(new, server_admin).await
    }

    /// Checks an e-mail and password and issues a session token.
    ///
    /// Errors: unknown e-mail, wrong password or disabled account → unauthenticated (the three
    /// are indistinguishable).
    pub async fn login(&self, email: &str, password: &str) -> Result<(User, IssuedToken)> {
        let user = self.engine.store().user_by_email(email.trim()).await?;
        let Some(user) = user else {
            // Spend comparable time so that unknown addresses are not told apart by timing.
            let _ = self.hash_password(password);
            return Err(Error::Unauthenticated);
        };
        if user.disabled || !self.verify_password(&user, password) {
            return Err(Error::Unauthenticated);
        }
        let expires = self.engine.now() + self.engine.config().session_ttl;
        let token = self
            .issue(
                &user,
                TokenKind::Session,
                "session",
                vec![TokenScope::Read, TokenScope::Write],
                Some(expires),
            )
            .await?;
        Ok((user, token))
    }

    async fn issue(
        &self,
        user: &User,
        kind: TokenKind,
        name: &str,
        scopes: Vec<TokenScope>,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedToken> {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let secret = format!(
            "{TOKEN_PREFIX}{}",
            raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let token = ApiToken {
            id: TokenId(self.engine.new_uuid()),
            user_id: user.id,
            name: name.to_owned(),
            kind,
            secret_hash: hash_secret(&secret),
            prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
            scopes,
            created_at: self.engine.now(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
            version: 1,
        };
        let mut commit = Commit::new();
        commit.insert(Record::Token(token.clone()));
        self.engine.commit(commit).await?;
        Ok(IssuedToken { token, secret })
    }

    /// Turns a bearer secret into an [`Actor`], recording the token's last use (at most once a
    /// minute).
    ///
    /// Errors: unknown, expired or revoked token, or disabled user → unauthenticated.
    pub async fn authenticate(&self, secret: &str) -> Result<Actor> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Err(Error::Unauthenticated);
        }
        let store = self.engine.store();
        let (token, user) = store
            .token_with_user(&hash_secret(secret))
            .await?
            .ok_or(Error::Unauthenticated)?;
        let now = self.engine.now();
        if !token.is_active(now) {
            return Err(Error::Unauthenticated);
        }
        let user = user.filter(|u| !u.disabled).ok_or(Error::Unauthenticated)?;
        let stale = token
            .last_used_at
            .is_none_or(|t| now - t >= time::Duration::minutes(1));
        if stale {
            let mut touched = token.clone();
            touched.last_used_at = Some(now);
            touched.version += 1;
            let mut commit = Commit::new();
            commit.writes.push(Write::Put {
                record: Record::Token(touched),
                expected: Expected::Version(token.version),
            });
            // Losing this race to a concurrent request only loses a timestamp.
            let _ = self.engine.commit(commit).await;
        }
        Ok(Actor {
            user_id: user.id,
            token_id: Some(token.id),
            can_write: token.can_write(),
            is_server_admin: user.is_server_admin,
        })
    }

    /// The actor's own account.
    ///
    /// Errors: the account is gone → not found.
    pub async fn me(&self, actor: &Actor) -> Result<User> {
        self.engine
            .store()
            .user(actor.user_id)
            .await?
            .ok_or(Error::not_found(ObjectKind::User))
    }

    /// Ends the session of the token the actor authenticated with.
    ///
    /// Errors: the actor has no token → validation.
    pub async fn logout(&self, actor: &Actor) -> Result<()> {
        let id = actor
            .token_id
            .ok_or_else(|| Error::invalid("token", "this call was not made with a token"))?;
        self.revoke(actor.user_id, id, None).await
    }

    /// Issues a personal token for the actor. Its secret is in the result and nowhere else.
    ///
    /// Errors: invalid name or expiry → validation; read-only actor → forbidden.
    pub async fn create_token(&self, actor: &Actor, new: NewToken) -> Result<IssuedToken> {
        if !actor.can_write {
            return Err(Error::forbidden("this token is read-only"));
        }
        let mut v = Validation::new();
        let name = new.name.trim();
        v.reject_nul("name", name);
        if !crate::error::fits(&new.name, 100) {
            v.add("name", "must be 1 to 100 characters long");
        }
        if new.expires_at.is_some_and(|e| e <= self.engine.now()) {
            v.add("expires_at", "must lie in the future");
        }
        v.finish()?;
        let mut scopes = new.scopes;
        if scopes.is_empty() {
            scopes = vec![TokenScope::Read, TokenScope::Write];
        }
        if scopes.contains(&TokenScope::Write) && !scopes.contains(&TokenScope::Read) {
            scopes.insert(0, TokenScope::Read);
        }
        scopes.dedup();
        let user = self.me(actor).await?;
        self.issue(&user, TokenKind::Personal, name, scopes, new.expires_at)
            .await
    }

    /// The actor's tokens that still work, oldest first.
    pub async fn list_tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        let now = self.engine.now();
        Ok(self
            .engine
            .store()
            .tokens_of_user(actor.user_id)
            .await?
            .into_iter()
            .filter(|t| t.is_active(now))
            .collect())
    }

    /// Revokes one of the actor's tokens. With `expected_version`, only if the token is still at
    /// that version (a token's version also moves when its `last_used_at` is recorded, at most
    /// once a minute).
    ///
    /// Errors: not the actor's token, or already revoked → not found; read-only actor → forbidden;
    /// the token changed since `expected_version` → [`crate::Conflict::StaleVersion`].
    pub async fn revoke_token(
        &self,
        actor: &Actor,
        id: TokenId,
        expected_version: Option<u64>,
    ) -> Result<()> {
        if !actor.can_write {
            return Err(Error::forbidden("this token is read-only"));
        }
        self.revoke(actor.user_id, id, expected_version).await
    }

    async fn revoke(&self, user: UserId, id: TokenId, expected_version: Option<u64>) -> Result<()> {
        self.engine
            .retrying(|| async {
                let token = self
                    .engine
                    .store()
                    .token(id)
                    .await?
                    .filter(|t| t.user_id == user && t.revoked_at.is_none())
                    .ok_or(Error::not_found(ObjectKind::Token))?;
                check_version(expected_version, token.version)?;
                let mut revoked = token.clone();
                revoked.revoked_at = Some(self.engine.now());
                revoked.version += 1;
                let mut commit = Commit::new();
                commit.update(Record::Token(revoked), token.version);
                self.engine.commit(commit).await?;
                Ok(())
            })
            .await
    }

    /// Sets a new password for the user with `email` (an operator's or a server
    /// administrator's action) and revokes all their tokens.
    ///
    /// Errors: unknown e-mail → not found; short password → validation; an actor who is not a
    /// server administrator → forbidden.
    pub async fn reset_password(
        &self,
        actor: Option<&Actor>,
        email: &str,
        password: &str,
    ) -> Result<User> {
        if let Some(actor) = actor {
            if !actor.is_server_admin || !actor.can_write {
                return Err(Error::forbidden(
                    "only a server administrator may reset passwords",
                ));
            }
        }
        let min = self.engine.config().min_password_length;
        if password.chars().count() < min {
            return Err(Error::invalid(
                "password",
                format!("must be at least {min} characters long"),
            ));
        }
        let store = self.engine.store();
        let user = store
            .user_by_email(email)
            .await?
            .ok_or(Error::not_found(ObjectKind::User))?;
        let mut updated = user.clone();
        updated.password_hash = self.hash_password(password)?;
        updated.version += 1;
        let now = self.engine.now();
        let mut commit = Commit::new();
        commit.update(Record::User(updated.clone()), user.version);
        for token in store.tokens_of_user(user.id).await? {
            if token.revoked_at.is_none() {
                let mut revoked = token.clone();
                revoked.revoked_at = Some(now);
                revoked.version += 1;
                commit.update(Record::Token(revoked), token.version);
            }
        }
        self.engine.commit(commit).await?;
        Ok(updated)
    }

    /// Disables or re-enables an account (server administrators only). A disabled user cannot
    /// log in and their tokens stop working.
    ///
    /// Errors: unknown user → not found; not a server administrator → forbidden.
    pub async fn set_disabled(&self, actor: &Actor, user: UserId, disabled: bool) -> Result<User> {
        if !actor.is_server_admin || !actor.can_write {
            return Err(Error::forbidden(
                "only a server administrator may disable accounts",
            ));
        }
        self.engine
            .retrying(|| async {
                let current = self
                    .engine
                    .store()
                    .user(user)
                    .await?
                    .ok_or(Error::not_found(ObjectKind::User))?;
                let mut updated = current.clone();
                updated.disabled = disabled;
                updated.version += 1;
                let mut commit = Commit::new();
                commit.update(Record::User(updated.clone()), current.version);
                self.engine.commit(commit).await?;
                Ok(updated)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::hash_secret;

    /// The stored hash is the digest in lower-case hex (tokens issued before keep working).
    #[test]
    fn secrets_hash_to_lower_case_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
