//! Persistence: reopening, durability modes, the schema version and its upgrade, and the
//! one-opener rule.

mod common;

use common::*;
use tasklane_core::event::{EventQuery, EventScope};
use tasklane_core::ids::TaskId;
use tasklane_core::store::{MemoryStore, Store, StoreError};
use tasklane_storage_sled::{Durability, SledConfig, SledError, SledStore, SCHEMA_VERSION};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn numbers(seed: u64, n: usize) -> Vec<u32> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen()).collect()
}

/// Applies `commits` random commits to both stores, asserting equal results.
async fn drive(d: &mut Dice<'_>, memory: &MemoryStore, sled: &SledStore, commits: usize) {
    for _ in 0..commits {
        let commit = random_commit(d, memory).await;
        let expected = memory.commit(commit.clone()).await;
        assert_eq!(sled.commit(commit).await, expected);
    }
}

fn open(path: &std::path::Path) -> SledStore {
    SledStore::open(SledConfig::new(path)).expect("open")
}

#[test]
fn reopening_keeps_records_indexes_and_the_log() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let memory = MemoryStore::new();
        let n = numbers(1, 20_000);
        let mut d = Dice::new(&n);
        {
            let sled = open(dir.path());
            drive(&mut d, &memory, &sled, 300).await;
            assert_same_reads(&memory, &sled).await;
        }
        let sled = open(dir.path());
        assert_same_reads(&memory, &sled).await;
        for _ in 0..200 {
            let q = random_query(&mut d);
            assert_same_pages(&mut d, &memory, &sled, q).await;
        }
        // The log goes on where it stopped.
        drive(&mut d, &memory, &sled, 100).await;
        assert_same_reads(&memory, &sled).await;
    });
}

#[test]
fn periodic_durability_commits_and_persists_after_close() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let memory = MemoryStore::new();
        let n = numbers(2, 5_000);
        let mut d = Dice::new(&n);
        let config = SledConfig::new(dir.path()).durability(Durability::Periodic { every_ms: 20 });
        {
            let sled = SledStore::open(config.clone()).unwrap();
            assert_eq!(sled.durability(), Durability::Periodic { every_ms: 20 });
            drive(&mut d, &memory, &sled, 150).await;
            // Relaxed mode: events are visible at once.
            assert_eq!(sled.last_seq().await, memory.last_seq().await);
            sled.flush().unwrap();
        }
        let sled = SledStore::open(config).unwrap();
        assert_same_reads(&memory, &sled).await;
    });
}

#[test]
fn a_second_opener_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    let err = SledStore::open(SledConfig::new(dir.path())).unwrap_err();
    assert!(
        matches!(&err, SledError::Locked { path } if path == dir.path()),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("already open"), "{message}");
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    // As a store error it is "unavailable".
    assert!(matches!(StoreError::from(err), StoreError::Unavailable(_)));
    drop(first);
    // Once closed, the directory opens again.
    drop(open(dir.path()));
}

/// Opens the directory with sled itself (waiting, like `SledStore::open`, for a store just
/// dropped in this process to finish its background writes).
fn raw(path: &std::path::Path) -> sled::Db {
    let since = std::time::Instant::now();
    loop {
        match sled::Config::new().path(path).open() {
            Ok(db) => return db,
            Err(e) if since.elapsed() < std::time::Duration::from_secs(5) => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// The key of the schema version marker in the store's sled tree (the `meta` space is byte 0).
fn marker_key() -> Vec<u8> {
    [&[0u8][..], b"schema_version"].concat()
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    {
        let db = raw(dir.path());
        let store = db.open_tree("tasklane").unwrap();
        assert_eq!(
            store.get(marker_key()).unwrap().unwrap().as_ref(),
            SCHEMA_VERSION.to_be_bytes()
        );
        store.insert(marker_key(), &99u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let err = SledStore::open(SledConfig::new(dir.path())).unwrap_err();
    assert!(
        matches!(err, SledError::SchemaTooNew { found: 99, supported, .. } if supported == SCHEMA_VERSION),
        "{err:?}"
    );
    assert!(err.to_string().contains("99"), "{err}");
    assert!(matches!(StoreError::from(err), StoreError::Corrupt(_)));

    // A newer version in the layout of schemas 1 and 2 (a `meta` tree) is refused too.
    let dir = tempfile::tempdir().unwrap();
    {
        let db = raw(dir.path());
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", &99u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let err = SledStore::open(SledConfig::new(dir.path())).unwrap_err();
    assert!(
        matches!(err, SledError::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );
}

#[test]
fn foreign_or_unmarked_databases_are_refused() {
    // Data but no marker.
    let dir = tempfile::tempdir().unwrap();
    {
        let db = raw(dir.path());
        db.open_tree("something").unwrap().insert("k", "v").unwrap();
        db.flush().unwrap();
    }
    let err = SledStore::open(SledConfig::new(dir.path())).unwrap_err();
    assert!(matches!(err, SledError::SchemaUnknown { .. }), "{err:?}");
    assert!(err.to_string().contains("something"), "{err}");

    // An unreadable marker.
    let dir = tempfile::tempdir().unwrap();
    {
        let db = raw(dir.path());
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", "two")
            .unwrap();
        db.flush().unwrap();
    }
    let err = SledStore::open(SledConfig::new(dir.path())).unwrap_err();
    assert!(matches!(err, SledError::SchemaUnknown { .. }), "{err:?}");

    // Version 0 never existed.
    let dir = tempfile::tempdir().unwrap();
    {
        let db = raw(dir.path());
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", &0u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let err = SledStore::open(SledConfig::new(dir.path())).unwrap_err();
    assert!(matches!(err, SledError::SchemaUnknown { .. }), "{err:?}");

    // An empty sled database (left by a crash before the first marker) is claimed.
    let dir = tempfile::tempdir().unwrap();
    drop(raw(dir.path()));
    drop(open(dir.path()));
}

/// The space byte of tasks in the store's sled tree.
const TASKS_SPACE: u8 = 8;

/// Rewrites every task of the store's sled tree as JSON, as schema 3 and older stored them,
/// from the reference store's equal copies; returns how many.
async fn tasks_as_json(store: &sled::Tree, memory: &MemoryStore) -> usize {
    let mut rewritten = 0;
    for item in store.scan_prefix([TASKS_SPACE]) {
        let (key, value) = item.unwrap();
        assert_ne!(value.first(), Some(&b'{'), "a task already in JSON");
        let id = TaskId(uuid::Uuid::from_slice(&key[1..]).unwrap());
        let task = memory
            .task(id)
            .await
            .unwrap()
            .expect("the reference has the task");
        store
            .insert(key, serde_json::to_vec(&task).unwrap())
            .unwrap();
        rewritten += 1;
    }
    rewritten
}

/// Whether every task of the store's sled tree is in the binary form (not JSON); panics when
/// there are none.
fn tasks_are_binary(store: &sled::Tree) -> bool {
    let mut tasks = store.scan_prefix([TASKS_SPACE]).peekable();
    assert!(tasks.peek().is_some(), "no tasks");
    tasks.all(|item| item.unwrap().1.first() != Some(&b'{'))
}

#[test]
fn schema_3_tasks_in_json_are_rewritten_in_binary() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let memory = MemoryStore::new();
        let n = numbers(6, 20_000);
        let mut d = Dice::new(&n);
        {
            let sled = open(dir.path());
            drive(&mut d, &memory, &sled, 300).await;
        }
        {
            // Schema 3: the same layout, tasks as JSON.
            let db = raw(dir.path());
            let store = db.open_tree("tasklane").unwrap();
            assert!(tasks_are_binary(&store));
            let rewritten = tasks_as_json(&store, &memory).await;
            assert!(rewritten > 10, "only {rewritten} tasks");
            store.insert(marker_key(), &3u32.to_be_bytes()).unwrap();
            db.flush().unwrap();
        }
        let sled = open(dir.path());
        assert_same_reads(&memory, &sled).await;
        for _ in 0..50 {
            let q = random_query(&mut d);
            assert_same_pages(&mut d, &memory, &sled, q).await;
        }
        // Writes go on where the reference does.
        drive(&mut d, &memory, &sled, 100).await;
        assert_same_reads(&memory, &sled).await;
        drop(sled);
        let db = raw(dir.path());
        let store = db.open_tree("tasklane").unwrap();
        assert_eq!(
            store.get(marker_key()).unwrap().unwrap().as_ref(),
            SCHEMA_VERSION.to_be_bytes()
        );
        assert!(tasks_are_binary(&store));
    });
}

#[test]
fn an_upgrade_interrupted_halfway_through_the_tasks_goes_on() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let memory = MemoryStore::new();
        let n = numbers(7, 20_000);
        let mut d = Dice::new(&n);
        {
            let sled = open(dir.path());
            drive(&mut d, &memory, &sled, 300).await;
        }
        {
            // Schema 3 with half of its tasks already rewritten, as a crash during the
            // upgrade leaves it.
            let db = raw(dir.path());
            let store = db.open_tree("tasklane").unwrap();
            let binary: Vec<(sled::IVec, sled::IVec)> = store
                .scan_prefix([TASKS_SPACE])
                .map(Result::unwrap)
                .collect();
            tasks_as_json(&store, &memory).await;
            for (key, value) in binary.iter().step_by(2) {
                store.insert(key, value).unwrap();
            }
            store.insert(marker_key(), &3u32.to_be_bytes()).unwrap();
            db.flush().unwrap();
            assert!(!tasks_are_binary(&store));
        }
        let sled = open(dir.path());
        assert_same_reads(&memory, &sled).await;
        drop(sled);
        let db = raw(dir.path());
        assert!(tasks_are_binary(&db.open_tree("tasklane").unwrap()));
    });
}

#[test]
fn an_older_schema_is_upgraded_by_rebuilding_the_indexes() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let memory = MemoryStore::new();
        let n = numbers(4, 20_000);
        let mut d = Dice::new(&n);
        {
            let sled = open(dir.path());
            drive(&mut d, &memory, &sled, 300).await;
        }
        {
            // Rewrite it in the layout of schema 1: a sled tree per record kind and for the log,
            // the version in a `meta` tree, and no index at all (nor the per-scope event
            // indexes, which came with schema 2): the upgrade must copy the records and the log
            // and rebuild every index.
            let db = raw(dir.path());
            let store = db.open_tree("tasklane").unwrap();
            // Schemas 1 to 3 stored tasks as JSON.
            tasks_as_json(&store, &memory).await;
            let legacy = [
                (1u8, "users"),
                (2, "tokens"),
                (3, "workspaces"),
                (4, "memberships"),
                (5, "projects"),
                (6, "task_counters"),
                (7, "workflows"),
                (8, "tasks"),
                (9, "dependencies"),
                (10, "labels"),
                (11, "milestones"),
                (12, "comments"),
                (13, "events"),
            ];
            let mut copied = 0;
            for (byte, name) in legacy {
                let tree = db.open_tree(name).unwrap();
                for item in store.scan_prefix([byte]) {
                    let (k, v) = item.unwrap();
                    tree.insert(&k[1..], v).unwrap();
                    copied += 1;
                }
            }
            assert!(copied > 100, "only {copied} records and events");
            let last_seq = db.open_tree("events").unwrap().last().unwrap().unwrap().0;
            let meta = db.open_tree("meta").unwrap();
            meta.insert("schema_version", &1u32.to_be_bytes()).unwrap();
            meta.insert("last_seq", last_seq).unwrap();
            drop(store);
            assert!(db.drop_tree("tasklane").unwrap());
            db.flush().unwrap();
        }
        let sled = open(dir.path());
        assert_same_reads(&memory, &sled).await;
        for _ in 0..100 {
            let q = random_query(&mut d);
            assert_same_pages(&mut d, &memory, &sled, q).await;
        }
        let scoped = sled
            .events(&EventQuery {
                scope: EventScope::Workspace(ws(0)),
                after: 0,
                limit: 10_000,
            })
            .await
            .unwrap();
        assert!(!scoped.is_empty());
        drop(sled);
        let db = raw(dir.path());
        assert_eq!(
            db.open_tree("tasklane")
                .unwrap()
                .get(marker_key())
                .unwrap()
                .unwrap()
                .as_ref(),
            SCHEMA_VERSION.to_be_bytes()
        );
        assert!(tasks_are_binary(&db.open_tree("tasklane").unwrap()));
        // The old layout's trees are gone.
        let names: Vec<String> = db
            .tree_names()
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n == "meta" || n == "tasks" || n == "events"),
            "{names:?}"
        );
    });
}

#[test]
fn clones_share_one_store() {
    runtime().block_on(async {
        let a = SledStore::temporary().unwrap();
        let b = a.clone();
        let memory = MemoryStore::new();
        let n = numbers(5, 2_000);
        let mut d = Dice::new(&n);
        drive(&mut d, &memory, &a, 40).await;
        assert_same_reads(&memory, &b).await;
        assert!(a.path().is_none());
        assert!(format!("{a:?}").contains("SledStore"));
    });
}

#[test]
fn periodic_commits_are_written_when_the_store_closes() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let memory = MemoryStore::new();
        let n = numbers(6, 5_000);
        let mut d = Dice::new(&n);
        // An interval far longer than the test: only closing writes the commits.
        let config =
            SledConfig::new(dir.path()).durability(Durability::Periodic { every_ms: 600_000 });
        {
            let sled = SledStore::open(config.clone()).unwrap();
            drive(&mut d, &memory, &sled, 80).await;
        }
        let sled = SledStore::open(config).unwrap();
        assert_same_reads(&memory, &sled).await;
    });
}

#[test]
fn a_key_written_twice_in_one_commit_behaves_as_in_the_reference() {
    use tasklane_core::store::{Commit, Expected, Record, Write};
    runtime().block_on(async {
        let memory = MemoryStore::new();
        let sled = SledStore::temporary().unwrap();
        let n = numbers(7, 100);
        let mut d = Dice::new(&n);
        let first = make_user(&mut d, 0, 1);
        let mut second = make_user(&mut d, 0, 1);
        second.email = "other@example.com".into();
        let mut c = Commit::new();
        c.writes.push(Write::Put {
            record: Record::User(first),
            expected: Expected::Absent,
        });
        c.writes.push(Write::Put {
            record: Record::User(second),
            expected: Expected::Absent,
        });
        assert_eq!(sled.commit(c.clone()).await, memory.commit(c).await);
        assert_same_reads(&memory, &sled).await;
    });
}

/// sled 0.34.7 opens the last `snap.*` file by name, an unfinished `snap.<lsn>.generating`
/// included: a process killed while sled wrote a snapshot left a directory sled refused with
/// "Read corrupted data". The store removes such files before sled opens the directory.
#[test]
fn an_unfinished_snapshot_left_by_a_killed_process_is_ignored() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let memory = MemoryStore::new();
        let n = numbers(11, 20_000);
        let mut d = Dice::new(&n);
        drop({
            let sled = open(dir.path());
            drive(&mut d, &memory, &sled, 100).await;
            sled
        });
        // A torn snapshot that sorts after every real one.
        let torn = dir.path().join("snap.FFFFFFFFFFFFFFFF.generating");
        std::fs::write(&torn, b"a snapshot cut short by kill -9").unwrap();
        {
            // sled alone cannot open the directory now.
            let refused = sled::Config::new().path(dir.path()).open();
            assert!(
                matches!(refused, Err(sled::Error::Corruption { .. })),
                "{refused:?}"
            );
        }
        let sled = open(dir.path());
        assert!(!torn.exists(), "the unfinished snapshot is removed");
        assert_same_reads(&memory, &sled).await;
        // The store goes on from there.
        drive(&mut d, &memory, &sled, 50).await;
        assert_same_reads(&memory, &sled).await;
    });
}
