use tasklane_core::MemoryStore;
macro_rules! t { ($($c:ident),*) => { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $c() { tasklane_core::testkit::cases::$c(MemoryStore::new()).await } )* } }
t!(
    store_commit_is_atomic,
    store_rejects_stale_versions,
    store_concurrent_commits_on_one_record_one_wins,
    store_enforces_uniqueness,
    store_log_order_under_concurrent_commits,
    store_event_scopes,
    store_reads_and_list_orders,
    store_tasks_match_reference_evaluator,
    store_pagination_is_stable_under_inserts,
    store_status_counts_match_reference
);
