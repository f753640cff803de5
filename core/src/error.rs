//! The engine's one error type. Transports map it without reading any text: every variant carries
//! structured facts, and its `Display` is a sentence a person understands.

use std::fmt;

use serde::Serialize;

use crate::store::StoreError;

/// What kind of object a [`Error::NotFound`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ObjectKind {
    User,
    Token,
    Workspace,
    Membership,
    Project,
    Workflow,
    Status,
    Task,
    Dependency,
    Label,
    Milestone,
    Comment,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ObjectKind::User => "user",
            ObjectKind::Token => "token",
            ObjectKind::Workspace => "workspace",
            ObjectKind::Membership => "membership",
            ObjectKind::Project => "project",
            ObjectKind::Workflow => "workflow",
            ObjectKind::Status => "status",
            ObjectKind::Task => "task",
            ObjectKind::Dependency => "dependency",
            ObjectKind::Label => "label",
            ObjectKind::Milestone => "milestone",
            ObjectKind::Comment => "comment",
        };
        f.write_str(name)
    }
}

/// One invalid input field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as the caller spelled it (`title`, `assignee_ids[2]`, `q`).
    pub field: String,
    /// What is wrong with it, in a sentence.
    pub message: String,
}

/// A collector of [`FieldError`]s, so that validation reports every bad field at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validation {
    errors: Vec<FieldError>,
}

/// Whether `text` has nothing but blanks: Unicode white space, and U+FEFF, which the API
/// document's patterns (ECMAScript's `\s`) count as blank too.
fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || c == '\u{feff}')
}

/// Whether a required text field, as sent, is between 1 and `max` characters: not blank (it is
/// stored trimmed), and at most `max` characters counted before trimming, as the API document's
/// `maxLength` counts them.
pub(crate) fn fits(sent: &str, max: usize) -> bool {
    !is_blank(sent) && sent.chars().count() <= max
}

impl Validation {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is invalid because of `message`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records that `field` is invalid when `text` holds a NUL character, which no store can
    /// keep faithfully (PostgreSQL text cannot hold it at all).
    pub fn reject_nul(&mut self, field: impl Into<String>, text: &str) {
        if text.contains('\0') {
            self.add(field, "must not contain NUL characters");
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(())` when nothing was recorded, otherwise [`Error::Validation`] with every field.
    pub fn finish(self) -> Result<(), Error> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}

/// Why a write conflicts with the rules or with the current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Conflict {
    /// The caller's version of the object is not the current one (HTTP maps this to 412).
    StaleVersion {
        /// The version the caller said it read.
        expected: u64,
        /// The version that is current.
        actual: u64,
    },
    /// Another write changed the same object at the same time; retrying may succeed.
    ConcurrentWrite {
        /// Which record was contended.
        record: String,
    },
    /// A unique value is already taken.
    Duplicate {
        /// Which field (`email`, `key`, `name`).
        field: String,
        /// The value that is taken.
        value: String,
    },
    /// The edge would close a cycle; `path` lists the tasks around it, starting and ending at the
    /// same task.
    DependencyCycle {
        /// Task keys around the cycle.
        path: Vec<String>,
    },
    /// The parent change would make a task its own ancestor; `path` lists the chain.
    SubtaskCycle {
        /// Task keys along the chain.
        path: Vec<String>,
    },
    /// The subtask tree would become deeper than allowed.
    SubtaskTooDeep {
        /// The configured limit.
        max_depth: usize,
    },
    /// The workflow forbids this transition.
    TransitionNotAllowed {
        /// The current status name.
        from: String,
        /// The requested status name.
        to: String,
        /// Why, in a sentence.
        why: String,
    },
    /// The project is archived and refuses writes.
    ProjectArchived,
    /// The object is in the trash (or is not, for a restore).
    Trashed {
        /// What is wrong, in a sentence.
        why: String,
    },
    /// A workflow replacement drops statuses still in use without saying where their tasks go.
    StatusesInUse {
        /// Names of the dropped statuses that still hold tasks.
        statuses: Vec<String>,
    },
    /// The operation would leave the workspace without an owner.
    LastOwner,
    /// Any other rule, named and explained.
    Rule {
        /// A stable machine-readable name.
        rule: String,
        /// A sentence.
        why: String,
    },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::StaleVersion { expected, actual } => write!(
                f,
                "the object changed: you have version {expected}, the current one is {actual}"
            ),
            Conflict::ConcurrentWrite { record } => {
                write!(f, "{record} was changed by a concurrent write; try again")
            }
            Conflict::Duplicate { field, value } => write!(f, "{field} '{value}' is already taken"),
            Conflict::DependencyCycle { path } => {
                write!(f, "the dependency would form a cycle: {}", path.join(" → "))
            }
            Conflict::SubtaskCycle { path } => {
                write!(f, "a task cannot be its own ancestor: {}", path.join(" → "))
            }
            Conflict::SubtaskTooDeep { max_depth } => {
                write!(f, "subtasks may nest at most {max_depth} levels deep")
            }
            Conflict::TransitionNotAllowed { from, to, why } => {
                write!(f, "moving from '{from}' to '{to}' is not allowed: {why}")
            }
            Conflict::ProjectArchived => f.write_str("the project is archived and refuses changes"),
            Conflict::Trashed { why } => f.write_str(why),
            Conflict::StatusesInUse { statuses } => write!(
                f,
                "statuses still in use need a mapping to a remaining status: {}",
                statuses.join(", ")
            ),
            Conflict::LastOwner => f.write_str("a workspace must keep at least one owner"),
            Conflict::Rule { why, .. } => f.write_str(why),
        }
    }
}

/// One task that a bulk operation could not apply, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkFailure {
    /// The task, as the caller named it (an id or a key such as `ENG-42`).
    pub task: String,
    /// Why it failed.
    pub error: Error,
}

/// Everything that can go wrong in an engine call.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// The object does not exist, or the caller may not see it (the two are indistinguishable).
    #[error("{kind} not found")]
    NotFound {
        /// What was looked for.
        kind: ObjectKind,
    },
    /// The input is invalid; every bad field is listed.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// The write conflicts with a rule or with the current state.
    #[error("{0}")]
    Conflict(Conflict),
    /// The caller may see the object but not do this to it.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why, in a sentence.
        reason: String,
    },
    /// Credentials are missing, wrong, expired or revoked.
    #[error("authentication required")]
    Unauthenticated,
    /// Too many failed attempts; try again after the given number of seconds.
    #[error("too many attempts; retry in {retry_after_seconds} s")]
    Throttled {
        /// Seconds until the next attempt is accepted.
        retry_after_seconds: u64,
    },
    /// A bulk operation failed for the listed tasks; nothing was applied.
    #[error("{} task(s) failed; nothing was changed", .0.len())]
    Bulk(Vec<BulkFailure>),
    /// The store failed.
    #[error("storage failure: {0}")]
    Store(StoreError),
}

impl Error {
    /// A not-found error for `kind`.
    pub fn not_found(kind: ObjectKind) -> Self {
        Error::NotFound { kind }
    }

    /// A validation error for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// A forbidden error with its reason.
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Error::Forbidden {
            reason: reason.into(),
        }
    }

    /// A rule conflict with a stable name and an explanation.
    pub fn rule(rule: impl Into<String>, why: impl Into<String>) -> Self {
        Error::Conflict(Conflict::Rule {
            rule: rule.into(),
            why: why.into(),
        })
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionConflict { record } => {
                Error::Conflict(Conflict::ConcurrentWrite { record })
            }
            StoreError::Duplicate { field, value } => {
                Error::Conflict(Conflict::Duplicate { field, value })
            }
            other => Error::Store(other),
        }
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
