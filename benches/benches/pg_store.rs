//! The PostgreSQL store under load, beside raw SQL on the same rows through the same pool.
//!
//! Run with
//! `TASKLANE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p tasklane-benches --bench pg_store`
//! (`TASKLANE_BENCH_TASKS` sets the project size, 100,000 by default). Creations run against a
//! store configured as the server runs it (record cache on); reads against one without the
//! record cache, so that they measure the database. Each store lives in a schema of its own,
//! dropped at the end.

/// The server's allocator (see `tasklane-server`), so that the figures are what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tasklane_benches::*;
use tasklane_core::testkit::Fixture;
use tasklane_core::EngineConfig;
use tasklane_storage_postgres::{PgConfig, PgStore};

const WRITERS: usize = 16;

/// Raw SQL: `WRITERS` writers each insert the task's JSON under a fresh id, autocommitted.
async fn raw_inserts(store: &PgStore, body: serde_json::Value, run: Duration) -> f64 {
    let pool = store.pool().clone();
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_raw (id uuid PRIMARY KEY, body jsonb NOT NULL)")
        .execute(&pool)
        .await
        .expect("raw table");
    let count = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + run;
    let started = Instant::now();
    let handles: Vec<_> = (0..WRITERS)
        .map(|_| {
            let pool = pool.clone();
            let body = body.clone();
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                while Instant::now() < until {
                    sqlx::query("INSERT INTO bench_raw (id, body) VALUES ($1, $2)")
                        .bind(uuid::Uuid::now_v7())
                        .bind(&body)
                        .execute(&pool)
                        .await
                        .expect("raw insert");
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("writer");
    }
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Raw SQL: latencies of `SELECT body FROM bench_raw WHERE id = $1`.
async fn raw_select_latencies(store: &PgStore, count: usize) -> Latencies {
    let pool = store.pool();
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM bench_raw LIMIT 1000")
        .fetch_all(pool)
        .await
        .expect("raw ids");
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        let started = Instant::now();
        let _: serde_json::Value = sqlx::query_scalar("SELECT body FROM bench_raw WHERE id = $1")
            .bind(ids[i % ids.len()])
            .fetch_one(pool)
            .await
            .expect("raw select");
        samples.push(started.elapsed());
    }
    Latencies::of(&mut samples)
}

/// Store-level get latencies.
async fn store_get_latencies(
    store: &PgStore,
    ids: &[tasklane_core::TaskId],
    count: usize,
) -> Latencies {
    use tasklane_core::Store;
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        let started = Instant::now();
        store
            .task(ids[(i * 104_729) % ids.len()])
            .await
            .expect("get");
        samples.push(started.elapsed());
    }
    Latencies::of(&mut samples)
}

fn main() {
    let Ok(url) = std::env::var("TASKLANE_TEST_DATABASE_URL") else {
        println!("pg_store bench skipped: set TASKLANE_TEST_DATABASE_URL");
        return;
    };
    let tasks: u64 = std::env::var("TASKLANE_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // Creations are measured as the server runs the store: with its record cache, which
        // answers the project, membership and workflow reads a creation makes.
        let served = PgStore::connect_temporary(PgConfig {
            max_connections: 16,
            ..PgConfig::new(url.clone())
        })
        .await
        .expect("postgres store");
        let served = Arc::new(
            Fixture::shared_with_config(Arc::new(served), EngineConfig::for_tests()).await,
        );
        // Reads measure the database path: no record cache in front of it, unless
        // `TASKLANE_BENCH_PG_RECORD_CACHE` sets its capacity (for comparisons).
        let record_cache_capacity = std::env::var("TASKLANE_BENCH_PG_RECORD_CACHE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let config = PgConfig {
            max_connections: 16,
            record_cache_capacity,
            ..PgConfig::new(url)
        };
        let store = PgStore::connect_temporary(config).await.expect("postgres store");
        let fx = Arc::new(
            Fixture::shared_with_config(Arc::new(store), EngineConfig::for_tests()).await,
        );
        let store = fx.engine.store();
        let sample = serde_json::to_value(seeded_task(&fx, 1)).expect("json");
        println!("postgres store, {WRITERS} pooled connections");

        let scratch = served.project_named("SCRATCH").await;
        let rate = engine_creations(&served, scratch.id, WRITERS, Duration::from_secs(5)).await;
        let raw = raw_inserts(store, sample, Duration::from_secs(5)).await;
        println!(
            "  task creations, {WRITERS} writers, engine: {rate:.0}/s; raw INSERT: {raw:.0}/s ({:.0}% of raw)",
            rate / raw * 100.0
        );
        let stats = served.engine.store().commit_stats();
        println!(
            "    ({:.1} task numbers per counter increment)",
            stats.task_numbers as f64 / stats.task_number_increments.max(1) as f64
        );
        drop(served);
        let scratch = fx.project_named("SCRATCH").await;
        let uncached = engine_creations(&fx, scratch.id, WRITERS, Duration::from_secs(5)).await;
        println!(
            "  task creations without the record cache (four round trips each): {uncached:.0}/s ({:.0}% of raw)",
            uncached / raw * 100.0
        );

        let started = Instant::now();
        let ids = load_project(&fx, tasks).await;
        println!("  loaded {tasks} tasks in {:.1} s", started.elapsed().as_secs_f64());
        // A bulk load outruns autovacuum: give the planner the statistics it would have in
        // steady state.
        sqlx::query("ANALYZE")
            .execute(store.pool())
            .await
            .expect("analyze");
        println!("  get by id, store: {}", store_get_latencies(store, &ids, 5_000).await);
        println!("  raw SELECT by id: {}", raw_select_latencies(store, 5_000).await);
        println!("  get by id, engine: {}", engine_get_latencies(&fx, &ids, 5_000).await);
        println!(
            "  filtered page of 50 (status and assignee) of {tasks}, store: {}",
            store_page_latencies(&fx, 1_000).await
        );
        println!(
            "  filtered page of 50 (status:\"in progress\" assignee:me) of {tasks}, engine: {}",
            engine_page_latencies(&fx, 1_000).await
        );
    });
}
