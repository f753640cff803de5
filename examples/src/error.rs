//! The binary's one error type and its exit codes.

use std::process::ExitCode;

/// What can stop a `tasklane` command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is missing or invalid (exit code 2, like a bad flag).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The command cannot run as asked (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The store could not be opened or failed.
    #[error("{0}")]
    Store(String),
    /// The engine refused an operation.
    #[error(transparent)]
    Engine(#[from] tasklane_core::Error),
    /// Input or output failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An I/O error while doing `what`.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    /// The process's exit code for this error: 2 for configuration and usage errors, 1 else.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config(_) | Error::Usage(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

impl From<tasklane_storage_sled::SledError> for Error {
    fn from(e: tasklane_storage_sled::SledError) -> Self {
        Error::Store(e.to_string())
    }
}

impl From<tasklane_core::StoreError> for Error {
    fn from(e: tasklane_core::StoreError) -> Self {
        Error::Store(e.to_string())
    }
}

#[cfg(feature = "postgres")]
impl From<tasklane_storage_postgres::Error> for Error {
    fn from(e: tasklane_storage_postgres::Error) -> Self {
        Error::Store(e.to_string())
    }
}
