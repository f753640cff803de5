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
//! One sled tree holds the whole store. It is divided into key spaces, one per record kind
//! (keyed by id; tasks in a compact binary form, the other records as JSON, which keeps old
//! databases readable when core adds optional fields: module `codec`), one per secondary index, the event log keyed by the big-endian `seq` with
//! per-workspace, per-project and per-task indexes, `meta` with the schema version and the
//! user count, and `idempotency_keys` (outside commits: each change is one compare-and-swap,
//! see module `idempotency`); each key starts with its space's byte (module `space`). One tree, rather than a
//! tree per space, makes a group of commits one sled batch, which sled applies atomically, also across a
//! crash, at a fraction of the cost of a multi-tree transaction.
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
//! The caller encodes its commit (records, index entries, events) and hands it to the store's
//! applier thread, which applies commits in arrival order: for each it checks every write's
//! expected version against the stored record, removes the old record's index entries and
//! claims the new ones (a taken unique slot fails with
//! [`StoreError::Duplicate`](tasklane_core::store::StoreError) naming `email`, `key`, `number`,
//! `label` or `token`, as the reference store does) and appends the events with the next
//! sequence numbers. The commits waiting for the applier are written together as one sled
//! batch, each checked against what those before it wrote; one that fails its checks is left
//! out with its error, and the batch is applied all or none, also across a crash (sled seals
//! and writes its log buffer twice for every batch, so one batch per commit cost more than the
//! commits themselves). One applier makes the log's order the commit order without a lock
//! contended by every writer.
//!
//! Task numbers are handed out from a counter cached in memory per project (loaded on first
//! use); the commit that creates a task also writes its project's counter, so the counter on
//! disk is never behind a stored task and committed numbers are never reused, even after a
//! crash.
//!
//! Reads made of several sled operations (lists, pages, lookups through an index) run under a
//! sequence lock over commits and retry when a commit landed meanwhile (after a few tries they
//! hold commits off), so they never see part of a commit.
//!
//! ## Durability
//!
//! Under [`Durability::Flush`] (the default) `commit` returns once the commit is on disk: the
//! applier hands what it applied to a flusher thread whenever no other commit is waiting to be
//! applied, and the flusher flushes once for everything handed to it (group commit) while the
//! applier goes on applying. A commit whose future is dropped still completes. Events become
//! visible to log readers ([`Store::events`], [`Store::last_seq`]) only once flushed, so a
//! consumer never acts on an event that a crash could take back; records are visible to other
//! readers as soon as applied.
//!
//! [`Durability::Periodic`] is the relaxed mode: `commit` returns as soon as the commit is
//! applied, sled flushes every N milliseconds, and closing the store flushes. A crash (not a
//! clean close) loses at most the last interval's commits, never part of one.
//!
//! [`Store::events`]: tasklane_core::store::Store::events
//! [`Store::last_seq`]: tasklane_core::store::Store::last_seq
//!
//! ## Opening
//!
//! sled allows one opener per directory: a second one (another process, or another open store
//! in this one) fails with [`SledError::Locked`]. The schema version ([`SCHEMA_VERSION`]) is kept
//! in the database: an older one is upgraded on open (its records and log are copied into the
//! current layout and the indexes rebuilt from them), a newer or unknown one fails with [`SledError::SchemaTooNew`] or
//! [`SledError::SchemaUnknown`].
#![deny(missing_docs)]

mod blocked;
mod cache;
mod codec;
mod error;
mod idempotency;
mod keys;
mod legacy;
mod pipeline;
mod query;
mod schema;
mod space;
mod store;

pub use error::SledError;
pub use schema::SCHEMA_VERSION;
pub use store::{Durability, SledConfig, SledStore};
