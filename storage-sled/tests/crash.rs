//! Durability under `kill -9`: a child process (this test binary, re-run with the
//! `crash_child` filter) commits with several concurrent writers and prints each acknowledged
//! commit; the parent kills it with SIGKILL at random moments, many times over, reopens the
//! store and checks that every acknowledged commit is there and the invariants hold.
//!
//! Set `TASKLANE_CRASH_SEED` to replay a run; `TASKLANE_CRASH_ROUNDS` to change the number of
//! kills.

#![cfg(unix)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use tasklane_core::event::{EventKind, EventQuery, EventScope, FieldChange, NewEvent};
use tasklane_core::ids::*;
use tasklane_core::model::*;
use tasklane_core::query::{TaskFilter, TaskQuery, TaskScope, TaskSort};
use tasklane_core::store::{Commit, Record, Store, StoreError};
use tasklane_storage_sled::{SledConfig, SledError, SledStore};
use time::OffsetDateTime;
use uuid::Uuid;

const CHILD_DIR: &str = "TASKLANE_SLED_CRASH_DIR";
const CHILD_SEED: &str = "TASKLANE_SLED_CRASH_CHILD_SEED";
const WRITERS: usize = 4;

fn workspace_id() -> WorkspaceId {
    WorkspaceId(Uuid::from_u128(0xA1))
}
fn project_id() -> ProjectId {
    ProjectId(Uuid::from_u128(0xB2))
}
fn user_id() -> UserId {
    UserId(Uuid::from_u128(0xC3))
}
fn status_ids() -> [StatusId; 3] {
    [1, 2, 3].map(|n| StatusId(Uuid::from_u128(0xD0 + n)))
}

fn event(task: Option<TaskId>, kind: EventKind) -> NewEvent {
    NewEvent {
        at: OffsetDateTime::now_utc(),
        actor_id: user_id(),
        workspace_id: workspace_id(),
        project_id: Some(project_id()),
        task_id: task,
        kind,
    }
}

/// Creates the workspace, project, counter and workflow unless a previous child did.
async fn setup(store: &SledStore) {
    if store.task_counter(project_id()).await.unwrap().is_some() {
        return;
    }
    let now = OffsetDateTime::now_utc();
    let mut c = Commit::new();
    c.insert(Record::Workspace(Workspace {
        id: workspace_id(),
        name: "Crash".into(),
        created_at: now,
        version: 1,
    }));
    c.insert(Record::Project(Project {
        id: project_id(),
        workspace_id: workspace_id(),
        key: "KILL".into(),
        name: "Kill".into(),
        description: String::new(),
        archived: false,
        is_template: false,
        deleted_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }));
    c.insert(Record::TaskCounter(TaskCounter {
        project_id: project_id(),
        last_number: 0,
        version: 1,
    }));
    c.insert(Record::Workflow(Workflow {
        project_id: project_id(),
        statuses: status_ids()
            .iter()
            .enumerate()
            .map(|(i, id)| Status {
                id: *id,
                name: format!("S{i}"),
                category: StatusCategory::Started,
                color: None,
            })
            .collect(),
        transitions: None,
        version: 1,
    }));
    c.event(event(
        None,
        EventKind::ProjectCreated {
            key: "KILL".into(),
            name: "Kill".into(),
        },
    ));
    store.commit(c).await.expect("setup commit");
}

async fn writer(store: SledStore, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut mine: Vec<TaskId> = Vec::new();
    loop {
        if mine.is_empty() || rng.gen_bool(0.7) {
            let counter = store.task_counter(project_id()).await.unwrap().unwrap();
            let number = counter.last_number + 1;
            let now = OffsetDateTime::now_utc();
            let task = Task {
                id: TaskId(Uuid::from_u128(rng.gen())),
                workspace_id: workspace_id(),
                project_id: project_id(),
                number,
                title: format!("Task {number}"),
                description: "x".repeat(rng.gen_range(0..400)),
                status_id: status_ids()[rng.gen_range(0..3)],
                priority: Priority::ALL[rng.gen_range(0..5)],
                assignee_ids: vec![user_id()],
                reporter_id: user_id(),
                label_ids: vec![],
                milestone_id: None,
                due_at: None,
                start_at: None,
                estimate_seconds: None,
                parent_id: None,
                position: format!("{number:08}"),
                completed_at: None,
                started_at: None,
                deleted_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            let mut c = Commit::new();
            c.update(
                Record::TaskCounter(TaskCounter {
                    last_number: number,
                    version: counter.version + 1,
                    ..counter.clone()
                }),
                counter.version,
            );
            c.insert(Record::Task(task.clone()));
            c.event(event(
                Some(task.id),
                EventKind::TaskCreated {
                    key: format!("KILL-{number}"),
                    title: task.title.clone(),
                    status_id: task.status_id,
                },
            ));
            match store.commit(c).await {
                Ok(r) => {
                    println!("ACK create {} {} {}", task.id, number, r.seqs[0]);
                    mine.push(task.id);
                }
                Err(StoreError::VersionConflict { .. } | StoreError::Duplicate { .. }) => {}
                Err(e) => panic!("commit failed: {e}"),
            }
        } else {
            let id = mine[rng.gen_range(0..mine.len())];
            let old = store.task(id).await.unwrap().expect("own task");
            let mut new = old.clone();
            new.status_id = status_ids()[rng.gen_range(0..3)];
            new.title = format!("{} *", old.title);
            new.updated_at = OffsetDateTime::now_utc();
            new.version = old.version + 1;
            let mut c = Commit::new();
            c.update(Record::Task(new.clone()), old.version);
            c.event(event(
                Some(id),
                EventKind::TaskUpdated {
                    key: format!("KILL-{}", old.number),
                    changes: vec![FieldChange::new("title", &old.title, &new.title)],
                },
            ));
            match store.commit(c).await {
                Ok(r) => println!("ACK update {} {} {}", id, new.version, r.seqs[0]),
                Err(StoreError::VersionConflict { .. }) => {}
                Err(e) => panic!("commit failed: {e}"),
            }
        }
    }
}

/// The child: only acts when started by the parent test.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let seed: u64 = std::env::var(CHILD_SEED).unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let store = SledStore::open(SledConfig::new(&dir)).expect("child open");
        setup(&store).await;
        // The test harness has printed "test crash_child ... " without a line break.
        println!("\nREADY");
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| tokio::spawn(writer(store.clone(), seed * 100 + w as u64)))
            .collect();
        for w in writers {
            w.await.unwrap();
        }
    });
}

/// What the parent learned from acknowledgements.
#[derive(Default)]
struct Acks {
    /// task → number
    created: HashMap<TaskId, u64>,
    /// task → highest acknowledged version
    updated: HashMap<TaskId, u64>,
    /// seq → task
    seqs: BTreeMap<u64, TaskId>,
}

impl Acks {
    fn record(&mut self, line: &str) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_, kind, id, n, seq] = parts[..] else {
            panic!("bad ack line {line:?}");
        };
        let id: TaskId = id.parse().unwrap();
        let n: u64 = n.parse().unwrap();
        let seq: u64 = seq.parse().unwrap();
        match kind {
            "create" => {
                self.created.insert(id, n);
            }
            "update" => {
                let v = self.updated.entry(id).or_default();
                *v = (*v).max(n);
            }
            other => panic!("unknown ack {other}"),
        }
        self.seqs.insert(seq, id);
    }
}

async fn verify(store: &SledStore, acks: &Acks, round: usize) {
    let ctx = |what: &str| format!("round {round}: {what}");
    let last = store.last_seq().await.unwrap();
    let events = store
        .events(&EventQuery {
            scope: EventScope::All,
            after: 0,
            limit: usize::MAX,
        })
        .await
        .unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "{}",
        ctx("the log is 1..=last_seq")
    );
    for (seq, task) in &acks.seqs {
        let e = events
            .get((*seq - 1) as usize)
            .unwrap_or_else(|| panic!("{}", ctx(&format!("acknowledged seq {seq} lost"))));
        assert_eq!(e.task_id, Some(*task), "{}", ctx("acknowledged event"));
    }
    let Some(counter) = store.task_counter(project_id()).await.unwrap() else {
        assert!(acks.created.is_empty(), "{}", ctx("setup lost"));
        return;
    };
    let tasks = store
        .tasks(&TaskQuery {
            scope: TaskScope::Project(project_id()),
            filter: TaskFilter::True,
            sort: TaskSort::default(),
            after: None,
            limit: usize::MAX,
            trashed: false,
        })
        .await
        .unwrap();
    let by_id: HashMap<TaskId, &Task> = tasks.iter().map(|t| (t.id, t)).collect();
    assert_eq!(by_id.len(), tasks.len(), "{}", ctx("no task listed twice"));
    for (id, number) in &acks.created {
        let t = by_id
            .get(id)
            .unwrap_or_else(|| panic!("{}", ctx(&format!("acknowledged task {number} lost"))));
        assert_eq!(t.number, *number, "{}", ctx("task number"));
    }
    for (id, version) in &acks.updated {
        assert!(
            by_id[id].version >= *version,
            "{}",
            ctx("acknowledged update lost")
        );
    }
    // Numbers are exactly 1..=counter: each creation bumped the counter in the same commit.
    let mut numbers: Vec<u64> = tasks.iter().map(|t| t.number).collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=counter.last_number).collect::<Vec<_>>(),
        "{}",
        ctx("task numbers")
    );
    // Records and events were committed together.
    let mut created_events = HashSet::new();
    let mut updates: HashMap<TaskId, u64> = HashMap::new();
    for e in &events {
        match (&e.kind, e.task_id) {
            (EventKind::TaskCreated { .. }, Some(t)) => {
                assert!(created_events.insert(t), "{}", ctx("one creation per task"));
            }
            (EventKind::TaskUpdated { .. }, Some(t)) => *updates.entry(t).or_default() += 1,
            _ => {}
        }
    }
    assert_eq!(
        created_events,
        by_id.keys().copied().collect::<HashSet<_>>(),
        "{}",
        ctx("a task exists exactly when its creation event does")
    );
    for t in &tasks {
        assert_eq!(
            t.version,
            1 + updates.get(&t.id).copied().unwrap_or(0),
            "{}",
            ctx("versions match the update events")
        );
        let by_number = store.task_by_number(project_id(), t.number).await.unwrap();
        assert_eq!(by_number.as_ref(), Some(t), "{}", ctx("number index"));
    }
    // The status index agrees with the records.
    let counts = store
        .status_counts(project_id(), &TaskFilter::True)
        .await
        .unwrap();
    assert_eq!(
        counts.iter().map(|c| c.count).sum::<u64>(),
        tasks.len() as u64,
        "{}",
        ctx("status counts")
    );
    for s in status_ids() {
        let listed = store
            .tasks(&TaskQuery {
                scope: TaskScope::Project(project_id()),
                filter: TaskFilter::StatusIn(vec![s]),
                sort: TaskSort::default(),
                after: None,
                limit: usize::MAX,
                trashed: false,
            })
            .await
            .unwrap();
        let want: Vec<&Task> = tasks.iter().filter(|t| t.status_id == s).collect();
        assert_eq!(
            listed.iter().collect::<Vec<_>>(),
            want,
            "{}",
            ctx("status index")
        );
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spawn_child(dir: &Path, seed: u64) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env(CHILD_SEED, seed.to_string())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child")
}

/// The names and sizes of the files in `dir`, for a failure's message.
fn files_in(dir: &Path) -> Vec<(String, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| {
            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
            (e.file_name().to_string_lossy().into_owned(), size)
        })
        .collect()
}

#[test]
fn acknowledged_commits_survive_kill_9() {
    let seed: u64 = env_or(
        "TASKLANE_CRASH_SEED",
        OffsetDateTime::now_utc().unix_timestamp() as u64,
    );
    let rounds: usize = env_or("TASKLANE_CRASH_ROUNDS", 24);
    eprintln!("crash test: seed {seed}, {rounds} rounds (TASKLANE_CRASH_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut acks = Acks::default();
    let started = Instant::now();
    let mut lock_checked = false;
    for round in 0..rounds {
        let mut child = spawn_child(dir.path(), seed.wrapping_add(round as u64));
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let errors = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let mut lines = Vec::new();
        // A few rounds kill the child while it opens or recovers the store.
        let early = round % 5 == 4;
        if !early {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(line) => {
                        let ready = line == "READY";
                        lines.push(line);
                        if ready {
                            break;
                        }
                    }
                    Err(_) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        panic!(
                            "round {round}: the child never got ready; stderr:\n{}",
                            errors.join().unwrap()
                        );
                    }
                }
            }
            if !lock_checked {
                // A second process-level opener while the child holds the store.
                let err = SledStore::open(SledConfig::new(dir.path())).unwrap_err();
                assert!(matches!(err, SledError::Locked { .. }), "{err:?}");
                lock_checked = true;
            }
        }
        let pause = if early {
            rng.gen_range(0..40)
        } else {
            rng.gen_range(20..350)
        };
        std::thread::sleep(Duration::from_millis(pause));
        child.kill().expect("SIGKILL");
        let status = child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        let stderr = errors.join().unwrap();
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                status.signal(),
                Some(9),
                "round {round}: the child ended on its own ({status}); stderr:\n{stderr}"
            );
        }
        let before = acks.seqs.len();
        for line in lines.iter().filter(|l| l.starts_with("ACK ")) {
            acks.record(line);
        }
        let store = SledStore::open(SledConfig::new(dir.path())).unwrap_or_else(|e| {
            panic!(
                "round {round}: reopen after kill: {e}; the directory holds {:?}",
                files_in(dir.path())
            )
        });
        runtime.block_on(verify(&store, &acks, round));
        drop(store);
        eprintln!(
            "round {round}: killed after {pause} ms, {} new acknowledgements, {} in all",
            acks.seqs.len() - before,
            acks.seqs.len()
        );
    }
    assert!(
        acks.created.len() > 20,
        "the children acknowledged too little to prove anything ({} tasks)",
        acks.created.len()
    );
    assert!(lock_checked);
    eprintln!("crash test: {:?}", started.elapsed());
}
