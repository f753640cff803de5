//! SledStore against the reference MemoryStore: the same random commits must give the same
//! results (receipts and errors), and then every read and random task pages must agree.

mod common;

use common::*;
use proptest::prelude::*;
use tasklane_core::store::{MemoryStore, Store};
use tasklane_storage_sled::SledStore;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn run_case(numbers: Vec<u32>, commits: usize, queries: usize) {
    let memory = MemoryStore::new();
    let sled = SledStore::temporary().expect("temporary store");
    let mut d = Dice::new(&numbers);
    for _ in 0..commits {
        let commit = random_commit(&mut d, &memory).await;
        let expected = memory.commit(commit.clone()).await;
        let got = sled.commit(commit.clone()).await;
        assert_eq!(got, expected, "commit {commit:#?}");
    }
    assert_same_reads(&memory, &sled).await;
    for _ in 0..queries {
        let query = random_query(&mut d);
        assert_same_pages(&mut d, &memory, &sled, query).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_commits_and_queries_match_the_reference(
        numbers in proptest::collection::vec(any::<u32>(), 64..512)
    ) {
        runtime().block_on(run_case(numbers, 60, 60));
    }
}

/// A longer run with many tasks so that pages stop early and cursors land mid-index.
#[test]
fn long_run_matches_the_reference() {
    let numbers: Vec<u32> = {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        (0..100_000).map(|_| rng.gen()).collect()
    };
    runtime().block_on(run_case(numbers, 2000, 1500));
}
