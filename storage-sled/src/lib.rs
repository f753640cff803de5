//! # tasklane-storage-sled
//!
//! The embedded default store of Tasklane: a [`SledStore`] implementing
//! [`tasklane_core::store::Store`] on [sled](https://docs.rs/sled/0.34) 0.34, with nothing to
//! install or run beside the program.
//!
//! ```no_run
//! use tasklane_storage_sled::{Durability, SledConfig, SledStore};
//!
//! let store = SledStore::open(SledConfig::new("./data"))?;
//! // or, trading the last few milliseconds of commits on a crash for throughput:
//! # drop(store);
//! let relaxed = SledStore::open(
//!     SledConfig::new("./data").durability(Durability::Periodic { every_ms: 100 }),
//! )?;
//! # Ok::<(), tasklane_storage_sled::SledError>(())
//! ```
//!
//! ## Layout
//!
//! One sled tree per record kind (records as JSON, keyed by id: JSON keeps old databases
//! readable when core adds optional fields), one tree per secondary index, the event log keyed
//! by the big-endian `seq` with per-workspace, per-project and per-task indexes, and a `meta`
//! tree with the schema version, the last `seq` and the user count.
//!
//! Index keys are order-preserving byte encodings of their parts. Unique indexes (users by
//! lower-cased e-mail, tokens by secret hash, projects by key and workspace, tasks by project
//! and number, labels by project and lower-cased name) map to the owner's id and enforce the
//! uniqueness rules. The task indexes used by the filter language are kept per project and
//! trash state and end with the task's position in a sort order (status, assignee, label and
//! milestone in created order; status in board-position order; updated, due and priority), so a
//! filtered, sorted page walks only as far as it needs. Every sled write costs a few
//! microseconds, so a task has no more entries than the queries need; the module `query`
//! documents the plans.
//!
//! ## Commits
//!
//! A commit is one sled transaction over the trees it may touch: it checks each write's
//! expected version against the stored record, removes the old record's index entries and
//! claims the new ones (a taken unique slot fails with
//! [`StoreError::Duplicate`](tasklane_core::store::StoreError) naming `email`, `key`, `number`,
//! `label` or `token`, as the reference store does), appends the events with the next sequence
//! numbers and writes the last `seq` to `meta`; all of it is applied or none. Commits are
//! serialised by the store (sled serialises transactions anyway), so the log's order is the
//! commit order, and sled recovers each transaction atomically after a crash.
//!
//! Reads made of several sled operations (lists, pages, lookups through an index) run under a
//! sequence lock over commits and retry when a commit landed meanwhile (after a few tries they
//! hold commits off), so they never see part of a commit.
//!
//! ## Durability
//!
//! Under [`Durability::Flush`] (the default) `commit` returns once the log is written to disk:
//! commits waiting at the same time share one flush (group commit: the first waiter to find no
//! flush running flushes for everyone applied so far). Inside a tokio runtime the commit runs on
//! the blocking pool, so the async workers never wait on disk; a commit whose future is dropped
//! still completes. Events become visible to log readers ([`Store::events`],
//! [`Store::last_seq`]) only once flushed, so a consumer never acts on an event that a crash
//! could take back; records are visible to other readers as soon as applied.
//!
//! [`Durability::Periodic`] is the relaxed mode: `commit` returns as soon as the transaction is
//! applied (running it on the caller's thread), a background thread flushes every N
//! milliseconds, and closing the store flushes. A crash (not a clean close) loses at most the
//! last interval's commits, never part of one.
//!
//! [`Store::events`]: tasklane_core::store::Store::events
//! [`Store::last_seq`]: tasklane_core::store::Store::last_seq
//!
//! ## Opening
//!
//! sled allows one opener per directory: a second one (another process, or another open store
//! in this one) fails with [`SledError::Locked`]. The schema version ([`SCHEMA_VERSION`]) is kept
//! in the database: an older one is upgraded on open (the indexes are rebuilt from the records
//! and the log), a newer or unknown one fails with [`SledError::SchemaTooNew`] or
//! [`SledError::SchemaUnknown`].
#![deny(missing_docs)]

mod error;
mod keys;
mod query;
mod schema;
mod store;

pub use error::SledError;
pub use schema::SCHEMA_VERSION;
pub use store::{Durability, SledConfig, SledStore};
