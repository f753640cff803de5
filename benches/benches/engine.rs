//! Engine benchmarks on the in-memory store.
//!
//! Run with `cargo bench -p tasklane-benches --bench engine`.

/// The server's allocator (see `tasklane-server`), so that the figures are what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use tasklane_core::testkit::Fixture;
use tasklane_core::{MemoryStore, NewTask, Priority, TaskListRequest, TaskPatch, TaskRef};

const PROJECT_TASKS: usize = 100_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn engine_benches(c: &mut Criterion) {
    let rt = runtime();
    let fx = rt.block_on(Fixture::new(MemoryStore::new()));
    let fx = Arc::new(fx);

    // Fill the project: a spread of statuses, assignees and priorities.
    rt.block_on(async {
        let assignees = [fx.owner.user_id, fx.member.user_id, fx.admin.user_id];
        let statuses = [
            fx.statuses.backlog,
            fx.statuses.todo,
            fx.statuses.in_progress,
            fx.statuses.in_review,
            fx.statuses.done,
        ];
        for i in 0..PROJECT_TASKS {
            let new = NewTask {
                title: format!("Task number {i}"),
                status_id: Some(statuses[i % statuses.len()]),
                assignee_ids: vec![assignees[i % assignees.len()]],
                priority: Some(Priority::ALL[i % 5]),
                ..NewTask::default()
            };
            fx.engine
                .tasks()
                .create(&fx.member, fx.project.id, new)
                .await
                .expect("create");
        }
    });

    // Creations go to a project of their own so that the 100,000-task project stays as it is.
    let scratch = rt.block_on(fx.project_named("SCRATCH"));
    let mut group = c.benchmark_group("engine_memory");
    group.bench_function("create_task", |b| {
        b.iter(|| {
            rt.block_on(async {
                let new = NewTask {
                    title: "Benchmark task".into(),
                    ..NewTask::default()
                };
                black_box(
                    fx.engine
                        .tasks()
                        .create(&fx.member, scratch.id, new)
                        .await
                        .expect("create"),
                )
            })
        })
    });

    let key: TaskRef = "ENG-5000".parse().expect("key");
    group.bench_function("get_task_by_key", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(fx.engine.tasks().get(&fx.member, &key).await.expect("get"))
            })
        })
    });

    let target = key.clone();
    let statuses = [fx.statuses.in_progress, fx.statuses.in_review];
    let mut flip = 0usize;
    group.bench_function("transition", |b| {
        b.iter(|| {
            flip += 1;
            rt.block_on(async {
                black_box(
                    fx.engine
                        .tasks()
                        .transition(&fx.member, &target, statuses[flip % 2], None)
                        .await
                        .expect("transition"),
                )
            })
        })
    });

    group.bench_function("update_priority", |b| {
        b.iter(|| {
            flip += 1;
            rt.block_on(async {
                let patch = TaskPatch {
                    priority: Some(Priority::ALL[flip % 5]),
                    ..TaskPatch::default()
                };
                black_box(
                    fx.engine
                        .tasks()
                        .update(&fx.member, &target, patch, None)
                        .await
                        .expect("update"),
                )
            })
        })
    });

    group.bench_function("filtered_page_of_50_in_100k", |b| {
        b.iter(|| {
            rt.block_on(async {
                let request = TaskListRequest {
                    q: Some("status:\"in progress\" assignee:me".into()),
                    limit: Some(50),
                    ..TaskListRequest::default()
                };
                let page = fx
                    .engine
                    .tasks()
                    .list(&fx.member, fx.project.id, request)
                    .await
                    .expect("list");
                assert_eq!(page.items.len(), 50);
                black_box(page)
            })
        })
    });
    group.bench_function("filtered_page_of_50_in_100k_sorted_by_updated", |b| {
        b.iter(|| {
            rt.block_on(async {
                let request = TaskListRequest {
                    q: Some("priority:urgent assignee:me".into()),
                    sort: Some("-updated".into()),
                    limit: Some(50),
                    ..TaskListRequest::default()
                };
                let page = fx
                    .engine
                    .tasks()
                    .list(&fx.member, fx.project.id, request)
                    .await
                    .expect("list");
                assert_eq!(page.items.len(), 50);
                black_box(page)
            })
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = engine_benches
}
criterion_main!(benches);
