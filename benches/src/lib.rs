//! Workloads shared by the store benchmarks (`benches/benches/*_store.rs`): engine-level task
//! creation by concurrent writers, gets by id, filtered pages with latency percentiles, and the
//! process's peak memory. Each workload runs for a fixed time or count and reports figures; the
//! bench binaries print them beside a raw baseline of the same store.
#![deny(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tasklane_core::event::{EventKind, NewEvent};
use tasklane_core::query::{TaskFilter, TaskQuery, TaskScope, TaskSort};
use tasklane_core::store::{Commit, Record};
use tasklane_core::testkit::Fixture;
use tasklane_core::{
    NewTask, Priority, ProjectId, Store, Task, TaskId, TaskListRequest, TaskRef, UserId,
};

/// Latency percentiles of a run.
#[derive(Clone, Copy, Debug)]
pub struct Latencies {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
}

impl Latencies {
    /// Percentiles of `samples` (sorted in place).
    pub fn of(samples: &mut [Duration]) -> Latencies {
        samples.sort_unstable();
        let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
        Latencies {
            p50: at(0.5),
            p99: at(0.99),
            p999: at(0.999),
        }
    }
}

impl std::fmt::Display for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms",
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.p999.as_secs_f64() * 1e3
        )
    }
}

/// Creates tasks through the engine from `writers` concurrent writers for `run`; returns
/// creations per second.
pub async fn engine_creations<S: Store>(
    fx: &Arc<Fixture<S>>,
    project: ProjectId,
    writers: usize,
    run: Duration,
) -> f64 {
    let created = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + run;
    let started = Instant::now();
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let fx = Arc::clone(fx);
            let created = Arc::clone(&created);
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < until {
                    n += 1;
                    let new = NewTask {
                        title: format!("Writer {w} task {n}"),
                        description: Some(
                            "A description of a few words, as most tasks have.".into(),
                        ),
                        priority: Some(Priority::ALL[(n % 5) as usize]),
                        ..NewTask::default()
                    };
                    fx.engine
                        .tasks()
                        .create(&fx.member, project, new)
                        .await
                        .expect("create");
                    created.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("writer");
    }
    created.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// A task as the engine would create it in the fixture's project, numbered `number`, spread
/// over the workflow's first five statuses and three assignees.
pub fn seeded_task<S: Store>(fx: &Fixture<S>, number: u64) -> Task {
    let s = fx.statuses;
    let statuses = [s.backlog, s.todo, s.in_progress, s.in_review, s.done];
    let assignees = [fx.owner.user_id, fx.member.user_id, fx.admin.user_id];
    let now = fx.engine.now();
    Task {
        id: TaskId(uuid::Uuid::now_v7()),
        workspace_id: fx.workspace.id,
        project_id: fx.project.id,
        number,
        title: format!("Seeded task number {number} with a title of ordinary length"),
        description: "A description of a few words, as most tasks have.".into(),
        status_id: statuses[(number % 5) as usize],
        priority: Priority::ALL[(number % 5) as usize],
        assignee_ids: vec![assignees[(number % 3) as usize]],
        reporter_id: fx.member.user_id,
        label_ids: vec![],
        milestone_id: None,
        due_at: None,
        start_at: None,
        estimate_seconds: None,
        parent_id: None,
        position: format!("a{number:011}V"),
        completed_at: None,
        started_at: None,
        deleted_at: None,
        created_at: now + time::Duration::microseconds(number as i64),
        updated_at: now,
        version: 1,
    }
}

/// Loads `count` tasks into the fixture's project with store commits of 1,000 tasks (and their
/// creation events), then moves the project's counter past them. Returns their ids.
pub async fn load_project<S: Store>(fx: &Fixture<S>, count: u64) -> Vec<TaskId> {
    let store = fx.engine.store();
    let mut ids = Vec::with_capacity(count as usize);
    let mut commit = Commit::new();
    for number in 1..=count {
        let task = seeded_task(fx, number);
        ids.push(task.id);
        commit.event(NewEvent {
            at: task.created_at,
            actor_id: task.reporter_id,
            workspace_id: task.workspace_id,
            project_id: Some(task.project_id),
            task_id: Some(task.id),
            kind: EventKind::TaskCreated {
                key: format!("ENG-{number}"),
                title: task.title.clone(),
                status_id: task.status_id,
            },
        });
        commit.insert(Record::Task(task));
        if number % 1000 == 0 || number == count {
            store
                .commit(std::mem::take(&mut commit))
                .await
                .expect("load");
        }
    }
    for _ in 0..count {
        store
            .next_task_number(fx.project.id)
            .await
            .expect("counter")
            .expect("counter");
    }
    ids
}

/// Store-level gets by id from `readers` concurrent readers for `run`; returns gets per second.
pub async fn store_gets<S: Store>(
    store: Arc<S>,
    ids: Arc<Vec<TaskId>>,
    readers: usize,
    run: Duration,
) -> f64 {
    let gets = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + run;
    let started = Instant::now();
    let handles: Vec<_> = (0..readers)
        .map(|r| {
            let store = Arc::clone(&store);
            let ids = Arc::clone(&ids);
            let gets = Arc::clone(&gets);
            tokio::spawn(async move {
                let mut i = r * 7919;
                let mut n = 0u64;
                while Instant::now() < until {
                    for _ in 0..100 {
                        i = (i + 104_729) % ids.len();
                        assert!(store.task(ids[i]).await.expect("get").is_some());
                    }
                    n += 100;
                }
                gets.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    for h in handles {
        h.await.expect("reader");
    }
    gets.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Latencies of engine gets by id (with permission checks and the blocked-by view).
pub async fn engine_get_latencies<S: Store>(
    fx: &Fixture<S>,
    ids: &[TaskId],
    count: usize,
) -> Latencies {
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        let id = ids[(i * 104_729) % ids.len()];
        let started = Instant::now();
        fx.engine
            .tasks()
            .get(&fx.member, &TaskRef::Id(id))
            .await
            .expect("get");
        samples.push(started.elapsed());
    }
    Latencies::of(&mut samples)
}

/// Latencies of store-level filtered pages of 50 (status and assignee, creation order).
pub async fn store_page_latencies<S: Store>(fx: &Fixture<S>, count: usize) -> Latencies {
    let s = fx.statuses;
    let statuses = [s.backlog, s.todo, s.in_progress, s.in_review, s.done];
    let assignees: [UserId; 3] = [fx.owner.user_id, fx.member.user_id, fx.admin.user_id];
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        let query = TaskQuery {
            scope: TaskScope::Project(fx.project.id),
            filter: TaskFilter::And(vec![
                TaskFilter::StatusIn(vec![statuses[i % 5]]),
                TaskFilter::AssigneeIn(vec![assignees[i % 3]]),
            ]),
            sort: TaskSort::default(),
            after: None,
            limit: 50,
            trashed: false,
        };
        let started = Instant::now();
        let page = fx.engine.store().tasks(&query).await.expect("page");
        samples.push(started.elapsed());
        assert_eq!(page.len(), 50);
    }
    Latencies::of(&mut samples)
}

/// Latencies of engine list calls: `status:"in progress" assignee:me`, 50 a page.
pub async fn engine_page_latencies<S: Store>(fx: &Fixture<S>, count: usize) -> Latencies {
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let request = TaskListRequest {
            q: Some("status:\"in progress\" assignee:me".into()),
            limit: Some(50),
            ..TaskListRequest::default()
        };
        let started = Instant::now();
        let page = fx
            .engine
            .tasks()
            .list(&fx.member, fx.project.id, request)
            .await
            .expect("list");
        samples.push(started.elapsed());
        assert_eq!(page.items.len(), 50);
    }
    Latencies::of(&mut samples)
}

/// The process's peak resident memory in MB (Linux `VmHWM`), if known.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
