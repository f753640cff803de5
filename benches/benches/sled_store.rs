//! The sled store under load, beside raw sled doing the same bytes with the same flush policy.
//!
//! Run with `cargo bench -p tasklane-benches --bench sled_store` (`TASKLANE_BENCH_TASKS` sets the
//! project size, 100,000 by default; `TASKLANE_BENCH_CREATIONS_ONLY=1` stops after the task
//! creations).

/// The server's allocator (see `tasklane-server`), so that the figures are what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tasklane_benches::*;
use tasklane_core::testkit::Fixture;
use tasklane_core::EngineConfig;
use tasklane_storage_sled::{Durability, SledConfig, SledStore};

const WRITERS: usize = 16;

/// Raw sled: `WRITERS` threads insert a task-sized JSON value under a fresh key and flush before
/// acknowledging, as the store's default durability does.
fn raw_sled_inserts(run: Duration, bytes: Vec<u8>, flush: bool) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sled::open(dir.path()).expect("raw sled");
    let until = Instant::now() + run;
    let started = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let db = db.clone();
                let bytes = bytes.clone();
                scope.spawn(move || {
                    let mut n = 0u64;
                    while Instant::now() < until {
                        n += 1;
                        let key = [(w as u64).to_be_bytes(), n.to_be_bytes()].concat();
                        db.insert(key, bytes.clone()).expect("insert");
                        if flush {
                            db.flush().expect("flush");
                        }
                    }
                    n
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("writer"))
            .collect()
    });
    counts.iter().sum::<u64>() as f64 / started.elapsed().as_secs_f64()
}

/// Raw sled gets of the same keys from 2 threads.
fn raw_sled_gets(run: Duration, bytes: Vec<u8>, count: u64) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sled::open(dir.path()).expect("raw sled");
    for n in 0..count {
        db.insert(n.to_be_bytes(), bytes.clone()).expect("insert");
    }
    let until = Instant::now() + run;
    let started = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2u64)
            .map(|r| {
                let db = db.clone();
                scope.spawn(move || {
                    let mut i = r * 7919;
                    let mut n = 0u64;
                    while Instant::now() < until {
                        for _ in 0..100 {
                            i = (i + 104_729) % count;
                            assert!(db.get(i.to_be_bytes()).expect("get").is_some());
                        }
                        n += 100;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("reader")).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

/// A number from the environment variable `name`, if set and valid.
fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

/// The serving-only process: opens the store the parent loaded, serves gets and filtered pages
/// for a few seconds, and prints its own peak RSS.
fn serve_only(dir: &str, project: &str) {
    use tasklane_core::query::{TaskFilter, TaskQuery, TaskScope, TaskSort};
    use tasklane_core::Store;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // The store's defaults, unless the environment sets the caches (for comparisons).
        let mut config = SledConfig::new(dir);
        if let Some(mb) = env_number("TASKLANE_BENCH_SLED_CACHE_MB") {
            config = config.cache_capacity_bytes(mb * 1024 * 1024);
        }
        if let Some(mb) = env_number("TASKLANE_BENCH_TASK_CACHE_MB") {
            config = config.task_cache_bytes(mb * 1024 * 1024);
        }
        let store = SledStore::open(config).expect("reopen the loaded store");
        let project: tasklane_core::ProjectId = project.parse().expect("project id");
        // The ids, a thousand at a time: the process measures the store's memory, not that of
        // one vector holding every decoded task.
        let mut ids = Vec::new();
        let mut statuses = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .tasks(&TaskQuery {
                    scope: TaskScope::Project(project),
                    filter: TaskFilter::True,
                    sort: TaskSort::default(),
                    after,
                    limit: 1_000,
                    trashed: false,
                })
                .await
                .expect("a page of ids");
            let Some(last) = page.last() else {
                break;
            };
            after = Some(TaskSort::default().cursor_of(last));
            if statuses.len() < 5 {
                statuses.extend(page.iter().take(5).map(|t| t.status_id));
            }
            ids.extend(page.iter().map(|t| t.id));
        }
        let ids = Arc::new(ids);
        let store = Arc::new(store);
        let gets = store_gets(
            Arc::clone(&store),
            Arc::clone(&ids),
            2,
            Duration::from_secs(3),
        )
        .await;
        for i in 0..2_000 {
            let query = TaskQuery {
                scope: TaskScope::Project(project),
                filter: TaskFilter::StatusIn(vec![statuses[i % statuses.len()]]),
                sort: TaskSort::default(),
                after: None,
                limit: 50,
                trashed: false,
            };
            store.tasks(&query).await.expect("page");
        }
        println!(
            "  serving-only process ({} tasks, {gets:.0} gets/s, 2,000 pages): peak RSS {:.0} MB",
            ids.len(),
            peak_rss_mb().unwrap_or(f64::NAN)
        );
    });
}

fn main() {
    if let (Ok(dir), Ok(project)) = (
        std::env::var("TASKLANE_BENCH_SERVE_ONLY_DIR"),
        std::env::var("TASKLANE_BENCH_SERVE_ONLY_PROJECT"),
    ) {
        serve_only(&dir, &project);
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing else either.
    let tasks: u64 = std::env::var("TASKLANE_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let project = runtime.block_on(async {
        // `TASKLANE_BENCH_SLED_PERIODIC_MS` measures the relaxed durability mode instead.
        let periodic = std::env::var("TASKLANE_BENCH_SLED_PERIODIC_MS")
            .ok()
            .and_then(|v| v.parse().ok());
        let mut config = SledConfig::new(dir.path());
        if let Some(every_ms) = periodic {
            config = config.durability(Durability::Periodic { every_ms });
        }
        let store = SledStore::open(config).expect("sled store");
        let fx = Arc::new(
            Fixture::shared_with_config(Arc::new(store), EngineConfig::for_tests()).await,
        );
        let sample = serde_json::to_vec(&seeded_task(&fx, 1)).expect("json");
        match periodic {
            None => println!("sled store, default durability (flush before acknowledging, group commit)"),
            Some(ms) => println!("sled store, relaxed durability (flush every {ms} ms)"),
        }

        let scratch = fx.project_named("SCRATCH").await;
        let rate = engine_creations(&fx, scratch.id, WRITERS, Duration::from_secs(5)).await;
        if std::env::var_os("TASKLANE_BENCH_CREATIONS_ONLY").is_some() {
            // A quick look at the write path alone.
            println!("  task creations, {WRITERS} writers, engine: {rate:.0}/s");
            std::process::exit(0);
        }
        let raw = raw_sled_inserts(Duration::from_secs(5), sample.clone(), periodic.is_none());
        println!(
            "  task creations, {WRITERS} writers, engine: {rate:.0}/s; raw sled insert+flush: {raw:.0}/s ({:.0}% of raw)",
            rate / raw * 100.0
        );

        let started = Instant::now();
        let ids = Arc::new(load_project(&fx, tasks).await);
        println!("  loaded {tasks} tasks in {:.1} s", started.elapsed().as_secs_f64());
        let store = Arc::new(fx.engine.store().clone());
        let gets = store_gets(store, Arc::clone(&ids), 2, Duration::from_secs(3)).await;
        let raw_gets = raw_sled_gets(Duration::from_secs(3), sample, tasks);
        println!("  get by id, 2 readers, store: {gets:.0}/s; raw sled get: {raw_gets:.0}/s");
        println!("  get by id, engine: {}", engine_get_latencies(&fx, &ids, 20_000).await);
        println!(
            "  filtered page of 50 (status and assignee) of {tasks}, store: {}",
            store_page_latencies(&fx, 2_000).await
        );
        println!(
            "  filtered page of 50 (status:\"in progress\" assignee:me) of {tasks}, engine: {}",
            engine_page_latencies(&fx, 2_000).await
        );
        if let Some(mb) = peak_rss_mb() {
            println!("  peak RSS of this process (it also loaded the tasks and ran raw sled): {mb:.0} MB");
        }
        fx.project.id
    });
    // Close the store, then measure a process that only opens it and serves reads.
    drop(runtime);
    let status = std::process::Command::new(std::env::current_exe().expect("bench binary"))
        .env("TASKLANE_BENCH_SERVE_ONLY_DIR", dir.path())
        .env("TASKLANE_BENCH_SERVE_ONLY_PROJECT", project.to_string())
        .status()
        .expect("serving-only process");
    assert!(status.success(), "the serving-only process failed");
}
