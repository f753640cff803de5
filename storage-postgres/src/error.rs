//! The crate's error type and the one place where database errors become [`StoreError`]s.

use tasklane_core::store::StoreError;

/// What can go wrong when connecting to, migrating or administering the PostgreSQL store.
///
/// Operations of the [`Store`](tasklane_core::store::Store) trait report
/// [`StoreError`] instead; `From<Error> for StoreError` maps between the two.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable (a malformed URL or schema name, zero connections, ...).
    #[error("invalid PostgreSQL configuration: {0}")]
    Config(String),
    /// The database could not be reached or refused the connection.
    #[error("cannot connect to PostgreSQL at {url}: {source}")]
    Unreachable {
        /// The URL, with any password removed.
        url: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// The database was migrated by a newer version of Tasklane than this one.
    #[error(
        "the database schema is at migration {found}, newer than the newest this build knows \
         ({known}); upgrade Tasklane or restore a matching backup"
    )]
    SchemaTooNew {
        /// The newest migration applied to the database.
        found: i64,
        /// The newest migration this build contains.
        known: i64,
    },
    /// Applying or reverting migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A statement failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::Database(e) => map_sqlx(e),
            Error::SchemaTooNew { .. } => StoreError::Corrupt(e.to_string()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

/// SQLSTATE classes and codes the store reacts to.
pub(crate) mod state {
    /// unique_violation
    pub const UNIQUE_VIOLATION: &str = "23505";
    /// foreign_key_violation
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    /// serialization_failure
    pub const SERIALIZATION_FAILURE: &str = "40001";
    /// deadlock_detected
    pub const DEADLOCK_DETECTED: &str = "40P01";
    /// query_canceled (statement_timeout)
    pub const QUERY_CANCELED: &str = "57014";
}

/// The SQLSTATE of a database error, if it is one.
pub(crate) fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Whether retrying the whole transaction may succeed (serialization failure or deadlock).
pub(crate) fn is_retryable(e: &sqlx::Error) -> bool {
    matches!(
        sqlstate(e).as_deref(),
        Some(state::SERIALIZATION_FAILURE | state::DEADLOCK_DETECTED)
    )
}

/// Maps a database error that no caller handled specially.
pub(crate) fn map_sqlx(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => {
            StoreError::Corrupt(e.to_string())
        }
        sqlx::Error::ColumnNotFound(_) | sqlx::Error::TypeNotFound { .. } => {
            StoreError::Corrupt(format!("the schema does not match this build: {e}"))
        }
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if code == state::QUERY_CANCELED {
                StoreError::Unavailable(format!("statement timed out or was canceled: {e}"))
            } else if code == "42P01" || code == "42703" {
                // undefined_table, undefined_column: the schema is missing or foreign.
                StoreError::Corrupt(format!("the schema does not match this build: {e}"))
            } else {
                StoreError::Unavailable(e.to_string())
            }
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// The URL without its password, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
