//! The storage conformance suite.
//!
//! Every case is a public async function over a fresh [`Store`](crate::store::Store) that panics
//! when the store breaks the contract. Most cases drive the [`Engine`](crate::Engine) over the
//! store, so that every business rule is proven on every adapter; the `store_*` cases talk to
//! the store directly (atomicity, versions, uniqueness, log order, pagination, evaluator
//! equivalence).
//!
//! An adapter runs the whole suite with one macro call in a test file, giving an expression
//! that produces a fresh, empty store:
//!
//! ```text
//! tasklane_core::conformance_tests!(async { MyStore::temporary() });
//! ```
//!
//! For stores that need an external service, `optional:` takes an expression producing an
//! `Option<Store>`; `None` prints a notice and passes (the adapter decides, e.g. from
//! `TASKLANE_REQUIRE_PG`, whether a missing service is a failure instead):
//!
//! ```text
//! tasklane_core::conformance_tests!(optional: async { my_test_store().await });
//! ```
//!
//! The test file needs `tokio` (with the `macros` and `rt-multi-thread` features) as a
//! dev-dependency.

pub mod cases;
mod fixture;

pub use fixture::{Fixture, Statuses};

/// How long [`wait_for_seq`] waits before it fails.
pub const LOG_WATCH_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits until the log watch `rx` reaches `seq` and returns the value it saw. Panics, naming
/// `what`, when the watch closes first or stays below `seq` for [`LOG_WATCH_PATIENCE`]: the bound
/// turns a missing wake-up into a failure instead of a hang and claims nothing about speed.
pub async fn wait_for_seq(rx: &mut tokio::sync::watch::Receiver<u64>, seq: u64, what: &str) -> u64 {
    let waited = tokio::time::timeout(LOG_WATCH_PATIENCE, rx.wait_for(|v| *v >= seq))
        .await
        .map(|reached| reached.map(|value| *value));
    match waited {
        Ok(Ok(value)) => value,
        Ok(Err(_)) => panic!("{what}: the log watch closed before reaching seq {seq}"),
        Err(_) => panic!(
            "{what}: the log watch stayed at {} for {LOG_WATCH_PATIENCE:?}, below seq {seq}",
            *rx.borrow()
        ),
    }
}

/// Emits one `#[tokio::test]` per conformance case for a store factory. See the module
/// documentation.
#[macro_export]
macro_rules! conformance_tests {
    (optional: $make:expr) => {
        $crate::__conformance_cases!(@emit $make);
    };
    ($make:expr) => {
        $crate::__conformance_cases!(@emit async { Some($make.await) });
    };
}

/// The list of cases; adding a case here runs it on every adapter.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    (@emit $make:expr) => {
        $crate::__conformance_cases!(@each $make;
            store_commit_is_atomic,
            store_rejects_stale_versions,
            store_concurrent_commits_on_one_record_one_wins,
            store_enforces_uniqueness,
            store_log_order_under_concurrent_commits,
            store_event_scopes,
            store_reads_and_list_orders,
            store_tasks_match_reference_evaluator,
            store_pagination_is_stable_under_inserts,
            store_status_counts_match_reference,
            store_task_numbers_are_handed_out_once,
            store_idempotency_claim_then_claim_again_sees_running,
            store_idempotency_complete_then_claim_sees_the_answer,
            store_idempotency_reports_the_first_fingerprint,
            store_idempotency_only_the_owner_completes_or_releases,
            store_idempotency_expired_lease_can_be_claimed_again,
            store_idempotency_expired_answer_can_be_claimed_again,
            store_idempotency_purge_removes_only_expired_entries,
            store_idempotency_concurrent_claims_one_wins,
            store_idempotency_keys_are_independent,
            store_log_watch_starts_at_or_below_last_seq,
            store_log_watch_reaches_a_commits_last_seq,
            store_log_watch_wakes_every_handle,
            store_log_watch_under_concurrent_commits,
            accounts_register_login_and_tokens,
            accounts_token_scopes_expiry_and_revocation,
            workspace_roles_and_last_owner,
            outsiders_see_nothing,
            guests_read_and_comment_only,
            projects_keys_and_validation,
            projects_archive_restore_delete,
            projects_from_template,
            project_stats,
            workflow_default_and_completed_at,
            workflow_restricted_transitions,
            workflow_transition_conditions,
            workflow_replacement_remaps_tasks,
            tasks_numbers_unique_and_never_reused,
            tasks_keys_resolve_across_workspaces,
            tasks_validation_lists_every_field,
            tasks_update_records_field_changes,
            tasks_optimistic_versions,
            tasks_concurrent_creation,
            tasks_trash_and_restore_whole,
            tasks_subtask_tree_rules,
            tasks_dependencies_and_cycles,
            tasks_board_moves,
            tasks_list_filter_sort_paginate,
            tasks_bulk_all_or_nothing,
            labels_and_milestones,
            comments_threads_mentions_history,
            activity_feeds_and_visibility,
        );
    };
    (@each $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                match $make.await {
                    Some(store) => $crate::testkit::cases::$case(store).await,
                    None => eprintln!(
                        "conformance case {} skipped: the store's service is not configured",
                        stringify!($case)
                    ),
                }
            }
        )*
    };
}
