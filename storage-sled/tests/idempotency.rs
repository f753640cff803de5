//! Idempotency keys on disk: a completed key survives closing and reopening the store, and one
//! whose completion was acknowledged survives `kill -9` (a child process, this test binary
//! re-run with the `idempotency_child` filter, completes keys and prints each acknowledged one;
//! the parent kills it with SIGKILL while it writes, reopens the store and finds them all).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tasklane_core::store::{IdempotencyClaim, IdempotencyKey, IdempotencyOwner, Store};
use tasklane_storage_sled::{SledConfig, SledStore};
use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

const CHILD_DIR: &str = "TASKLANE_SLED_IDEMPOTENCY_DIR";
const T0: OffsetDateTime = datetime!(2026-11-02 09:00 UTC);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The key numbered `n`.
fn key(n: u64) -> IdempotencyKey {
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&n.to_be_bytes());
    IdempotencyKey(bytes)
}

fn answer(n: u64) -> Vec<u8> {
    format!("answer {n}").into_bytes()
}

/// Claims and completes key `n`.
async fn keep(store: &SledStore, n: u64) {
    let owner = IdempotencyOwner(Uuid::now_v7());
    let claim = store
        .claim_idempotency_key(key(n), b"f", owner, T0, T0 + time::Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(claim, IdempotencyClaim::Claimed);
    assert!(store
        .complete_idempotency_key(key(n), owner, &answer(n), T0 + time::Duration::hours(24))
        .await
        .unwrap());
}

/// Asserts that key `n` holds its answer.
async fn assert_kept(store: &SledStore, n: u64) {
    let claim = store
        .claim_idempotency_key(
            key(n),
            b"f",
            IdempotencyOwner(Uuid::now_v7()),
            T0,
            T0 + time::Duration::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(
        claim,
        IdempotencyClaim::Completed {
            fingerprint: b"f".to_vec(),
            answer: answer(n)
        },
        "key {n}"
    );
}

#[test]
fn completed_keys_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let store = SledStore::open(SledConfig::new(dir.path())).unwrap();
        keep(&store, 1).await;
        let running = IdempotencyOwner(Uuid::now_v7());
        store
            .claim_idempotency_key(key(2), b"g", running, T0, T0 + time::Duration::minutes(1))
            .await
            .unwrap();
        drop(store);
        let store = SledStore::open(SledConfig::new(dir.path())).unwrap();
        assert_kept(&store, 1).await;
        assert!(store
            .release_idempotency_key(key(2), running)
            .await
            .unwrap());
        assert_eq!(
            store
                .purge_idempotency_keys(T0 + time::Duration::hours(24))
                .await
                .unwrap(),
            1
        );
    });
}

/// The child: only acts when started by the parent test.
#[test]
fn idempotency_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    runtime().block_on(async move {
        let store = SledStore::open(SledConfig::new(&dir)).expect("child open");
        // The test harness has printed "test idempotency_child ... " without a line break.
        println!("\nREADY");
        for n in 0..100_000u64 {
            keep(&store, n).await;
            println!("KEPT {n}");
        }
    });
}

#[cfg(unix)]
#[test]
fn acknowledged_answers_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "idempotency_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().unwrap();
    let mut kept = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(n) = line.strip_prefix("KEPT ") {
            kept.push(n.parse::<u64>().unwrap());
        }
        // Killed in the middle of its writes, with some acknowledged.
        if kept.len() >= 50 || Instant::now() > deadline {
            child.kill().expect("SIGKILL");
            break;
        }
    }
    // The pipe may still hold acknowledgements printed before the kill; those read above are
    // enough.
    let _ = child.wait();
    assert!(
        kept.len() >= 50,
        "the child acknowledged only {}",
        kept.len()
    );
    runtime().block_on(async {
        let store = SledStore::open(SledConfig::new(dir.path())).unwrap();
        for n in kept {
            assert_kept(&store, n).await;
        }
    });
}
