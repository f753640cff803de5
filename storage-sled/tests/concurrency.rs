//! Concurrency: list reads never see part of a commit, and a log reader tailing during
//! concurrent commits sees every seq once, in order, never past an unflushed one.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use tasklane_core::event::{EventQuery, EventScope};
use tasklane_core::ids::TaskId;
use tasklane_core::model::Task;
use tasklane_core::query::{TaskFilter, TaskQuery, TaskScope, TaskSort};
use tasklane_core::store::{Commit, Record, Store};
use tasklane_storage_sled::SledStore;

fn pair(n: u128) -> Task {
    let numbers: Vec<u32> = (0..64).map(|i| (i * 7 + n as u32) % 97).collect();
    let mut d = Dice::new(&numbers);
    Task {
        id: TaskId(uid(90, n)),
        project_id: project(0),
        workspace_id: ws(0),
        number: n as u64 + 1,
        status_id: status(0),
        deleted_at: None,
        version: 1,
        ..make_task(&mut d, 0, 1)
    }
}

fn by_status(s: u128) -> TaskQuery {
    TaskQuery {
        scope: TaskScope::Project(project(0)),
        filter: TaskFilter::StatusIn(vec![status(s)]),
        sort: TaskSort::default(),
        after: None,
        limit: 1000,
        trashed: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_reads_see_whole_commits() {
    let store = SledStore::temporary().unwrap();
    let mut tasks = [pair(0), pair(1)];
    let mut c = Commit::new();
    for t in &tasks {
        c.insert(Record::Task(t.clone()));
    }
    store.commit(c).await.unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut reads = 0;
                while !done.load(Ordering::Relaxed) || reads < 50 {
                    for s in 0..2 {
                        let n = store.tasks(&by_status(s)).await.unwrap().len();
                        assert!(n == 0 || n == 2, "saw {n} of the 2 tasks moved together");
                        let counts = store
                            .status_counts(project(0), &TaskFilter::True)
                            .await
                            .unwrap();
                        assert_eq!(counts.iter().map(|c| c.count).sum::<u64>(), 2);
                        assert_eq!(counts.len(), 1, "both tasks share one status: {counts:?}");
                    }
                    reads += 1;
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    // Move both tasks between two statuses, always together.
    for round in 0..300 {
        let mut c = Commit::new();
        for t in &mut tasks {
            let read = t.version;
            t.status_id = status(round % 2);
            t.version += 1;
            c.update(Record::Task(t.clone()), read);
        }
        store.commit(c).await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tailing_reader_sees_every_seq_once_in_order() {
    let store = SledStore::temporary().unwrap();
    let writers = 8;
    let per_writer = 60;
    let total = (writers * per_writer) as u64;
    let tail = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut seen = 0u64;
            while seen < total {
                let last = store.last_seq().await.unwrap();
                let page = store
                    .events(&EventQuery {
                        scope: EventScope::All,
                        after: seen,
                        limit: 7,
                    })
                    .await
                    .unwrap();
                for e in &page {
                    seen += 1;
                    assert_eq!(e.seq, seen, "gap or repeat in the log");
                }
                // `last_seq` read before the page bounds what the page may lack, not hold:
                // everything up to it is visible.
                if page.len() < 7 {
                    assert!(
                        seen >= last,
                        "events up to {last} were visible, page ended at {seen}"
                    );
                }
                tokio::task::yield_now().await;
            }
            seen
        })
    };
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let numbers: Vec<u32> = (0..500).map(|i| i * 31 + w).collect();
                let mut d = Dice::new(&numbers);
                let mut last = 0;
                for _ in 0..per_writer {
                    let mut c = Commit::new();
                    c.event(make_event(&mut d));
                    let seqs = store.commit(c).await.unwrap().seqs;
                    // Acknowledged means visible.
                    assert!(store.last_seq().await.unwrap() >= seqs[0]);
                    assert!(seqs[0] > last);
                    last = seqs[0];
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(tail.await.unwrap(), total);
    assert_eq!(store.last_seq().await.unwrap(), total);
}

/// Races three readers of one record against a writer that moves it from version 1 through
/// 300 more versions, each named `v<version>` (`update(v)` builds the commit that writes version
/// `v + 1`; `read` gives a read's version and name). No reader sees a version older than one it
/// saw before, every read is a whole record, and the writer reads each of its commits at once.
/// The store keeps decoded records in memory: this is what that cache must not break.
async fn reads_never_go_back_in_time<Read, Fut>(
    store: &SledStore,
    read: Read,
    mut update: impl FnMut(u64) -> Commit,
) where
    Read: Fn(SledStore) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (u64, String)> + Send,
{
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (store, done, read) = (store.clone(), done.clone(), read.clone());
            tokio::spawn(async move {
                let mut seen = 0;
                while !done.load(Ordering::Relaxed) {
                    let (version, name) = read(store.clone()).await;
                    assert!(version >= seen, "version {version} after {seen}");
                    assert_eq!(name, format!("v{version}"), "a whole record");
                    seen = version;
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for version in 1..=300 {
        store.commit(update(version)).await.unwrap();
        // The writer's own read sees its commit at once.
        assert_eq!(read(store.clone()).await.0, version + 1);
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_reads_never_go_back_in_time() {
    use tasklane_core::model::Project;
    let store = SledStore::temporary().unwrap();
    let p = Project {
        id: project(0),
        workspace_id: ws(0),
        key: "ENG".into(),
        name: "v1".into(),
        description: String::new(),
        archived: false,
        is_template: false,
        deleted_at: None,
        created_at: base_time(),
        updated_at: base_time(),
        version: 1,
    };
    let mut c = Commit::new();
    c.insert(Record::Project(p.clone()));
    store.commit(c).await.unwrap();
    let read = |store: SledStore| async move {
        let got = store
            .project(project(0))
            .await
            .unwrap()
            .expect("the project");
        (got.version, got.name)
    };
    let update = |version: u64| {
        let mut c = Commit::new();
        c.update(
            Record::Project(Project {
                version: version + 1,
                name: format!("v{}", version + 1),
                ..p.clone()
            }),
            version,
        );
        c
    };
    reads_never_go_back_in_time(&store, read, update).await;
    let mut c = Commit::new();
    c.delete(tasklane_core::store::RecordKey::Project(p.id), 301);
    store.commit(c).await.unwrap();
    assert_eq!(store.project(project(0)).await.unwrap(), None);
}

/// The same for tasks, which the store keeps decoded in a cache of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_reads_never_go_back_in_time() {
    let store = SledStore::temporary().unwrap();
    let t = Task {
        title: "v1".into(),
        ..pair(0)
    };
    let mut c = Commit::new();
    c.insert(Record::Task(t.clone()));
    store.commit(c).await.unwrap();
    let id = t.id;
    let read = move |store: SledStore| async move {
        let got = store.task(id).await.unwrap().expect("the task");
        (got.version, got.title)
    };
    let update = |version: u64| {
        let mut c = Commit::new();
        c.update(
            Record::Task(Task {
                version: version + 1,
                title: format!("v{}", version + 1),
                ..t.clone()
            }),
            version,
        );
        c
    };
    reads_never_go_back_in_time(&store, read, update).await;
}
