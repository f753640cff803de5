//! The crate's error type.

use std::path::PathBuf;

use tasklane_core::store::StoreError;

/// What can go wrong when opening or maintaining a [`SledStore`](crate::SledStore).
///
/// Store operations themselves return [`StoreError`]; a `SledError` converts into one (see the
/// `From` implementation) for callers that want a single error type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SledError {
    /// Another process (or another handle in this process) has the database open. sled allows
    /// one opener at a time; close the other one first.
    #[error(
        "the database at {path} is already open in another process (or elsewhere in this one); \
         sled allows one opener at a time: stop the other tasklane process or use another directory"
    )]
    Locked {
        /// The database directory.
        path: PathBuf,
    },
    /// The database was written by a newer version of tasklane-storage-sled.
    #[error(
        "the database at {path} has schema version {found}, newer than the {supported} this \
         build understands; upgrade tasklane (downgrades are not supported)"
    )]
    SchemaTooNew {
        /// The database directory.
        path: PathBuf,
        /// The version found in the database.
        found: u32,
        /// The newest version this build can read.
        supported: u32,
    },
    /// The directory holds a sled database that is not a Tasklane store, or whose schema marker
    /// is unreadable.
    #[error("the database at {path} is not a Tasklane store this build understands: {reason}")]
    SchemaUnknown {
        /// The database directory.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// The stored data contradicts itself (for example the log's last sequence number does not
    /// match the log).
    #[error("the database is corrupt: {0}")]
    Corrupt(String),
    /// sled reported an error (I/O, or its own corruption checks).
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
}

impl From<SledError> for StoreError {
    fn from(e: SledError) -> Self {
        match e {
            SledError::Sled(e) => from_sled(e),
            e @ (SledError::SchemaTooNew { .. }
            | SledError::SchemaUnknown { .. }
            | SledError::Corrupt(_)) => StoreError::Corrupt(e.to_string()),
            e @ SledError::Locked { .. } => StoreError::Unavailable(e.to_string()),
        }
    }
}

/// Maps a sled error met during an operation to the store contract's error.
pub(crate) fn from_sled(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { .. } => StoreError::Corrupt(e.to_string()),
        other => StoreError::Unavailable(format!("sled: {other}")),
    }
}

/// Whether a sled error reports that the database file is locked by another opener.
pub(crate) fn is_lock_error(e: &sled::Error) -> bool {
    match e {
        sled::Error::Io(io) => io.to_string().contains("could not acquire lock"),
        _ => false,
    }
}
