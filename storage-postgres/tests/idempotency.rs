//! Idempotency keys claimed through two separate connection pools on one schema, as two server
//! processes would: of concurrent claims of one key, exactly one wins, also when they replace
//! an expired entry, and the others see the winner's claim.

mod common;

use std::sync::Arc;

use tasklane_core::store::{IdempotencyClaim, IdempotencyKey, IdempotencyOwner, Store};
use tasklane_storage_postgres::PgStore;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const T0: OffsetDateTime = datetime!(2026-11-02 09:00 UTC);
const LEASE: Duration = Duration::seconds(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_through_two_pools_have_one_winner() {
    let Some(first) = common::test_store().await else {
        return;
    };
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(first.pool())
        .await
        .unwrap();
    let second =
        PgStore::connect(common::test_config(common::test_url().unwrap()).with_schema(schema))
            .await
            .unwrap();
    let stores = [Arc::new(first), Arc::new(second)];
    for round in 0..20u8 {
        let key = IdempotencyKey([round; 32]);
        let mut now = T0;
        if round % 2 == 1 {
            // An expired answer is there first: the race is over replacing it.
            let owner = IdempotencyOwner(Uuid::now_v7());
            stores[0]
                .claim_idempotency_key(key, b"old", owner, T0, T0 + LEASE)
                .await
                .unwrap();
            assert!(stores[1]
                .complete_idempotency_key(key, owner, b"old answer", T0 + LEASE)
                .await
                .unwrap());
            now = T0 + LEASE;
        }
        let mut claimers = Vec::new();
        for claimer in 0..32u8 {
            let store = Arc::clone(&stores[usize::from(claimer % 2)]);
            claimers.push(tokio::spawn(async move {
                let owner = IdempotencyOwner(Uuid::now_v7());
                let claim = store
                    .claim_idempotency_key(key, &[claimer], owner, now, now + LEASE)
                    .await
                    .unwrap();
                (claimer, owner, claim)
            }));
        }
        let mut winners = Vec::new();
        let mut seen = Vec::new();
        for c in claimers {
            match c.await.unwrap() {
                (claimer, owner, IdempotencyClaim::Claimed) => winners.push((claimer, owner)),
                (_, _, IdempotencyClaim::Running { fingerprint }) => seen.push(fingerprint),
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: one winner");
        let (winner, owner) = winners[0];
        assert!(
            seen.iter().all(|f| *f == [winner]),
            "round {round}: the others see the winner: {seen:?}"
        );
        // The winner completes through the other pool; both see the answer.
        assert!(stores[usize::from(winner % 2 == 0)]
            .complete_idempotency_key(key, owner, &[round], now + LEASE)
            .await
            .unwrap());
        for store in &stores {
            assert_eq!(
                store
                    .claim_idempotency_key(
                        key,
                        b"x",
                        IdempotencyOwner(Uuid::now_v7()),
                        now,
                        now + LEASE
                    )
                    .await
                    .unwrap(),
                IdempotencyClaim::Completed {
                    fingerprint: vec![winner],
                    answer: vec![round]
                }
            );
        }
    }
}
