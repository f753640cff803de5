//! A quick look at the sled store's speed (the real benches live in `benches/`):
//!
//! ```text
//! cargo run --release -p tasklane-storage-sled --example sled_smoke_bench [tasks] [writers]
//! ```
//!
//! `CACHE_MB` overrides the cache capacity.
//!
//! 1. `writers` concurrent writers create tasks as the engine does (counter update, task insert,
//!    event) with the default durability, on a fresh directory;
//! 2. gets by id over the tasks, from two threads;
//! 3. a filtered page of 50 (status and assignee, created order) from a project of `tasks`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use tasklane_core::event::{EventKind, NewEvent};
use tasklane_core::ids::*;
use tasklane_core::model::*;
use tasklane_core::query::{TaskFilter, TaskQuery, TaskScope, TaskSort};
use tasklane_core::store::{Commit, Record, Store, StoreError};
use tasklane_storage_sled::{SledConfig, SledStore};
use time::OffsetDateTime;
use uuid::Uuid;

fn task(project: ProjectId, number: u64, rng: &mut impl Rng) -> Task {
    let now = OffsetDateTime::now_utc();
    Task {
        id: TaskId(Uuid::from_u128(rng.gen())),
        workspace_id: WorkspaceId(Uuid::from_u128(1)),
        project_id: project,
        number,
        title: format!("Task number {number} with a title of ordinary length"),
        description: "A description of a few words, as most tasks have.".into(),
        status_id: StatusId(Uuid::from_u128(rng.gen_range(0..5))),
        priority: Priority::ALL[rng.gen_range(0..5)],
        assignee_ids: vec![UserId(Uuid::from_u128(rng.gen_range(0..10)))],
        reporter_id: UserId(Uuid::from_u128(0)),
        label_ids: vec![],
        milestone_id: None,
        due_at: None,
        start_at: None,
        estimate_seconds: None,
        parent_id: None,
        position: format!("{number:010}"),
        completed_at: None,
        started_at: None,
        deleted_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

fn event(task: &Task) -> NewEvent {
    NewEvent {
        at: task.created_at,
        actor_id: task.reporter_id,
        workspace_id: task.workspace_id,
        project_id: Some(task.project_id),
        task_id: Some(task.id),
        kind: EventKind::TaskCreated {
            key: format!("B-{}", task.number),
            title: task.title.clone(),
            status_id: task.status_id,
        },
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tasks: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let writers: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(16);
    let dir = tempfile::tempdir().unwrap();
    let cache_mb: u64 = std::env::var("CACHE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let store =
        SledStore::open(SledConfig::new(dir.path()).cache_capacity_bytes(cache_mb * 1024 * 1024))
            .unwrap();

    // 1. Concurrent creations, engine-shaped commits, default durability.
    let project = ProjectId(Uuid::from_u128(7));
    let mut c = Commit::new();
    c.insert(Record::TaskCounter(TaskCounter {
        project_id: project,
        last_number: 0,
        version: 1,
    }));
    store.commit(c).await.unwrap();
    let created = Arc::new(AtomicU64::new(0));
    let conflicts = Arc::new(AtomicU64::new(0));
    let seconds = 5;
    let until = Instant::now() + Duration::from_secs(seconds);
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            let created = created.clone();
            let conflicts = conflicts.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(w as u64);
                while Instant::now() < until {
                    let counter = store.task_counter(project).await.unwrap().unwrap();
                    let t = task(project, counter.last_number + 1, &mut rng);
                    let mut c = Commit::new();
                    c.update(
                        Record::TaskCounter(TaskCounter {
                            last_number: t.number,
                            version: counter.version + 1,
                            ..counter.clone()
                        }),
                        counter.version,
                    );
                    c.event(event(&t));
                    c.insert(Record::Task(t));
                    match store.commit(c).await {
                        Ok(_) => {
                            created.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(StoreError::VersionConflict { .. }) => {
                            conflicts.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    println!(
        "creations, {writers} writers, flush per commit (group commit): {:.0}/s ({} conflicts retried)",
        created.load(Ordering::Relaxed) as f64 / seconds as f64,
        conflicts.load(Ordering::Relaxed)
    );

    // Independent tasks (no shared counter): the store's own commit rate.
    let created = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            let created = created.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(1000 + w as u64);
                let project = ProjectId(Uuid::from_u128(100 + w as u128));
                let mut n = 0;
                while Instant::now() < until {
                    n += 1;
                    let t = task(project, n, &mut rng);
                    let mut c = Commit::new();
                    c.event(event(&t));
                    c.insert(Record::Task(t));
                    store.commit(c).await.unwrap();
                    created.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    println!(
        "creations, {writers} writers, no shared record: {:.0}/s",
        created.load(Ordering::Relaxed) as f64 / seconds as f64
    );

    // 2./3. A big project.
    let big = ProjectId(Uuid::from_u128(9));
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let started = Instant::now();
    let mut ids = Vec::with_capacity(tasks as usize);
    let mut c = Commit::new();
    for n in 1..=tasks {
        let t = task(big, n, &mut rng);
        ids.push(t.id);
        c.insert(Record::Task(t));
        if n % 1000 == 0 || n == tasks {
            store.commit(std::mem::take(&mut c)).await.unwrap();
        }
    }
    println!("loaded {tasks} tasks in {:?}", started.elapsed());

    let ids = Arc::new(ids);
    let gets = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(3);
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let store = store.clone();
            let ids = ids.clone();
            let gets = gets.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(r);
                let mut n = 0u64;
                while Instant::now() < until {
                    for _ in 0..100 {
                        let id = ids[rng.gen_range(0..ids.len())];
                        assert!(store.task(id).await.unwrap().is_some());
                    }
                    n += 100;
                }
                gets.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    for r in readers {
        r.await.unwrap();
    }
    println!(
        "get by id, 2 readers: {:.0}/s",
        gets.load(Ordering::Relaxed) as f64 / 3.0
    );

    let mut latencies = Vec::new();
    for i in 0..2000u128 {
        let q = TaskQuery {
            scope: TaskScope::Project(big),
            filter: TaskFilter::And(vec![
                TaskFilter::StatusIn(vec![StatusId(Uuid::from_u128(i % 5))]),
                TaskFilter::AssigneeIn(vec![UserId(Uuid::from_u128(i % 10))]),
            ]),
            sort: TaskSort::default(),
            after: None,
            limit: 50,
            trashed: false,
        };
        let t = Instant::now();
        let page = store.tasks(&q).await.unwrap();
        latencies.push(t.elapsed());
        assert_eq!(page.len(), 50);
    }
    latencies.sort();
    println!(
        "filtered page of 50 (status and assignee) of {tasks}: p50 {:?}, p99 {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    println!(
        "size on disk: {} MB",
        store.size_on_disk().unwrap() / 1_000_000
    );
}
