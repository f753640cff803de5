//! Metrics the engine records through the [`metrics`](https://docs.rs/metrics) facade.
//!
//! The engine only records; it installs no recorder. Without one (the default) recording costs
//! next to nothing. An application that installs a recorder — `tasklane-http` installs a
//! Prometheus one and serves it at `GET /metrics` — gets:
//!
//! - [`COMMIT_SECONDS`] `tasklane_engine_commit_seconds{outcome}`: a histogram of the time each
//!   [`Store::commit`](crate::store::Store::commit) made by the engine takes, in seconds, with
//!   `outcome` one of `ok`, `conflict` (an expected version did not match: the engine re-runs
//!   the operation, or answers a stale `If-Match`), `duplicate` (a uniqueness rule) and `error`
//!   (the store is unavailable or corrupt). [`COMMIT_SECONDS_BUCKETS`] are suitable buckets.
//!   Every mutation ends in one such commit; recording a token's last use is one too.
//!   `Store::next_task_number` is not a commit of the engine's and is not timed.
//! - [`COMMIT_RETRIES`] `tasklane_engine_commit_retries_total`: read-modify-writes re-run because
//!   a concurrent commit changed what they read (one per re-run).
//!
//! Labels are few and fixed, so the number of series stays bounded.

use std::time::Duration;

use crate::store::{CommitReceipt, StoreError, StoreResult};

/// Histogram of store commit latency in seconds, by `outcome`.
pub const COMMIT_SECONDS: &str = "tasklane_engine_commit_seconds";

/// Counter of read-modify-writes re-run after a concurrent commit won.
pub const COMMIT_RETRIES: &str = "tasklane_engine_commit_retries_total";

/// Histogram buckets for [`COMMIT_SECONDS`], in seconds: 50 µs (an in-memory commit) to 5 s
/// (a stalled disk or database).
pub const COMMIT_SECONDS_BUCKETS: [f64; 16] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0,
];

/// Registers the descriptions (help text and unit) of the engine's metrics with the installed
/// recorder. Call it once after installing a recorder.
pub fn describe() {
    metrics::describe_histogram!(
        COMMIT_SECONDS,
        metrics::Unit::Seconds,
        "Time of each store commit made by the engine, by outcome (ok, conflict, duplicate, error)."
    );
    metrics::describe_counter!(
        COMMIT_RETRIES,
        metrics::Unit::Count,
        "Read-modify-writes re-run because a concurrent commit changed what they read."
    );
}

/// Records one commit's latency and outcome.
pub(crate) fn commit_finished(elapsed: Duration, result: &StoreResult<CommitReceipt>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(StoreError::VersionConflict { .. }) => "conflict",
        Err(StoreError::Duplicate { .. }) => "duplicate",
        Err(StoreError::Unavailable(_) | StoreError::Corrupt(_)) => "error",
    };
    metrics::histogram!(COMMIT_SECONDS, "outcome" => outcome).record(elapsed.as_secs_f64());
}

/// Counts one re-run of a read-modify-write.
pub(crate) fn commit_retried() {
    metrics::counter!(COMMIT_RETRIES).increment(1);
}
