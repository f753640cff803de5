//! Cases for idempotency keys kept in the store: the contract written on
//! [`Store::claim_idempotency_key`] and its siblings, one case per rule.

use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::store::{IdempotencyClaim, IdempotencyKey, IdempotencyOwner, Store};

/// An instant with nanoseconds, so that adapters are held to the exact instant.
const T0: OffsetDateTime = datetime!(2026-11-02 09:00:00.123456789 UTC);
/// A lease as a transport would take it.
const LEASE: Duration = Duration::seconds(60);
/// How long answers are kept.
const KEPT: Duration = Duration::hours(24);

/// A key of its own for each `n` (and for each run, so that stores shared by mistake show).
fn key(n: u8) -> IdempotencyKey {
    let mut bytes = [n; 32];
    bytes[..16].copy_from_slice(Uuid::now_v7().as_bytes());
    IdempotencyKey(bytes)
}

fn owner() -> IdempotencyOwner {
    IdempotencyOwner(Uuid::now_v7())
}

async fn claim<S: Store>(
    store: &S,
    key: IdempotencyKey,
    fingerprint: &[u8],
    owner: IdempotencyOwner,
    now: OffsetDateTime,
) -> IdempotencyClaim {
    store
        .claim_idempotency_key(key, fingerprint, owner, now, now + LEASE)
        .await
        .expect("claim")
}

/// The first claim of a key gets it; a second claim, by anyone, finds it running with the
/// first claim's fingerprint.
pub async fn store_idempotency_claim_then_claim_again_sees_running<S: Store>(store: S) {
    let k = key(1);
    let first = owner();
    assert_eq!(
        claim(&store, k, b"body-1", first, T0).await,
        IdempotencyClaim::Claimed
    );
    for (who, fingerprint) in [(owner(), &b"body-1"[..]), (first, &b"body-1"[..])] {
        assert_eq!(
            claim(&store, k, fingerprint, who, T0 + Duration::seconds(1)).await,
            IdempotencyClaim::Running {
                fingerprint: b"body-1".to_vec()
            },
            "a running key is not claimed twice, not even by its owner"
        );
    }
}

/// A completed key answers every later claim with the kept answer (any bytes, large ones and
/// NUL bytes included) until it expires; completing again changes nothing.
pub async fn store_idempotency_complete_then_claim_sees_the_answer<S: Store>(store: S) {
    let mut large = vec![0u8; 300 * 1024];
    for (i, b) in large.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let answers: [(&[u8], &[u8]); 3] = [
        (b"\x00fingerprint\xff", b"\x01\x00answer with a NUL\xfe"),
        (b"f", b""),
        (b"\x00", &large),
    ];
    for (n, (fingerprint, answer)) in answers.into_iter().enumerate() {
        let k = key(10 + n as u8);
        let first = owner();
        assert_eq!(
            claim(&store, k, fingerprint, first, T0).await,
            IdempotencyClaim::Claimed
        );
        let done = store
            .complete_idempotency_key(k, first, answer, T0 + KEPT)
            .await
            .expect("complete");
        assert!(done, "the owner completes its running key");
        let expected = IdempotencyClaim::Completed {
            fingerprint: fingerprint.to_vec(),
            answer: answer.to_vec(),
        };
        // Long after the lease, just before the answer expires.
        let before_expiry = T0 + KEPT - Duration::nanoseconds(1);
        assert_eq!(
            claim(&store, k, fingerprint, owner(), before_expiry).await,
            expected
        );
        let again = store
            .complete_idempotency_key(k, first, b"another answer", T0 + KEPT)
            .await
            .expect("complete again");
        assert!(!again, "a completed key is not completed again");
        assert!(
            !store
                .release_idempotency_key(k, first)
                .await
                .expect("release"),
            "a completed key is not released"
        );
        assert_eq!(claim(&store, k, fingerprint, owner(), T0).await, expected);
    }
}

/// A claim with another fingerprint is not claimed: it learns the fingerprint the key was
/// claimed with, running or completed, so that the caller can refuse the reuse.
pub async fn store_idempotency_reports_the_first_fingerprint<S: Store>(store: S) {
    let k = key(20);
    let first = owner();
    assert_eq!(
        claim(&store, k, b"first body", first, T0).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(&store, k, b"other body", owner(), T0).await,
        IdempotencyClaim::Running {
            fingerprint: b"first body".to_vec()
        }
    );
    assert!(store
        .complete_idempotency_key(k, first, b"answer", T0 + KEPT)
        .await
        .expect("complete"));
    assert_eq!(
        claim(&store, k, b"other body", owner(), T0).await,
        IdempotencyClaim::Completed {
            fingerprint: b"first body".to_vec(),
            answer: b"answer".to_vec()
        }
    );
}

/// Only the attempt that claimed a key completes or releases it; a release by the owner
/// frees the key at once.
pub async fn store_idempotency_only_the_owner_completes_or_releases<S: Store>(store: S) {
    let k = key(30);
    let first = owner();
    let stranger = owner();
    assert_eq!(
        claim(&store, k, b"f", first, T0).await,
        IdempotencyClaim::Claimed
    );
    assert!(!store
        .complete_idempotency_key(k, stranger, b"forged", T0 + KEPT)
        .await
        .expect("complete"));
    assert!(!store
        .release_idempotency_key(k, stranger)
        .await
        .expect("release"));
    assert_eq!(
        claim(&store, k, b"f", stranger, T0).await,
        IdempotencyClaim::Running {
            fingerprint: b"f".to_vec()
        },
        "a stranger's complete and release changed nothing"
    );
    assert!(store
        .release_idempotency_key(k, first)
        .await
        .expect("release"));
    assert!(
        !store
            .release_idempotency_key(k, first)
            .await
            .expect("release again"),
        "a released key is gone"
    );
    assert!(
        !store
            .complete_idempotency_key(k, first, b"late", T0 + KEPT)
            .await
            .expect("complete after release"),
        "a released key cannot be completed"
    );
    let next = owner();
    assert_eq!(
        claim(&store, k, b"g", next, T0).await,
        IdempotencyClaim::Claimed,
        "a released key is free"
    );
    // Nothing is known about keys never claimed.
    let unknown = key(31);
    assert!(!store
        .complete_idempotency_key(unknown, next, b"x", T0 + KEPT)
        .await
        .expect("complete unknown"));
    assert!(!store
        .release_idempotency_key(unknown, next)
        .await
        .expect("release unknown"));
}

/// A running key whose lease has ended (from its end instant on) may be claimed again; the
/// old owner then can neither complete nor release it. Until someone claims it, the owner may
/// still complete it.
pub async fn store_idempotency_expired_lease_can_be_claimed_again<S: Store>(store: S) {
    let k = key(40);
    let crashed = owner();
    let lease_end = T0 + LEASE;
    assert_eq!(
        claim(&store, k, b"f", crashed, T0).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(
            &store,
            k,
            b"f",
            owner(),
            lease_end - Duration::nanoseconds(1)
        )
        .await,
        IdempotencyClaim::Running {
            fingerprint: b"f".to_vec()
        },
        "the lease holds until its end"
    );
    let successor = owner();
    assert_eq!(
        claim(&store, k, b"g", successor, lease_end).await,
        IdempotencyClaim::Claimed,
        "a lease is over at its end instant"
    );
    assert!(!store
        .complete_idempotency_key(k, crashed, b"late answer", lease_end + KEPT)
        .await
        .expect("complete"));
    assert!(!store
        .release_idempotency_key(k, crashed)
        .await
        .expect("release"));
    assert!(store
        .complete_idempotency_key(k, successor, b"answer", lease_end + KEPT)
        .await
        .expect("complete"));
    assert_eq!(
        claim(&store, k, b"g", owner(), lease_end).await,
        IdempotencyClaim::Completed {
            fingerprint: b"g".to_vec(),
            answer: b"answer".to_vec()
        }
    );

    // An owner past its lease, with no one having claimed the key since, still completes.
    let slow = owner();
    let k2 = key(41);
    assert_eq!(
        claim(&store, k2, b"f", slow, T0).await,
        IdempotencyClaim::Claimed
    );
    assert!(store
        .complete_idempotency_key(k2, slow, b"slow answer", T0 + KEPT)
        .await
        .expect("complete past the lease"));
    assert_eq!(
        claim(&store, k2, b"f", owner(), T0 + LEASE).await,
        IdempotencyClaim::Completed {
            fingerprint: b"f".to_vec(),
            answer: b"slow answer".to_vec()
        }
    );
}

/// A completed key whose answer has expired (from its expiry instant on) may be claimed
/// again, with any fingerprint.
pub async fn store_idempotency_expired_answer_can_be_claimed_again<S: Store>(store: S) {
    let k = key(50);
    let first = owner();
    assert_eq!(
        claim(&store, k, b"f", first, T0).await,
        IdempotencyClaim::Claimed
    );
    assert!(store
        .complete_idempotency_key(k, first, b"old answer", T0 + KEPT)
        .await
        .expect("complete"));
    let next = owner();
    assert_eq!(
        claim(&store, k, b"other", next, T0 + KEPT).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(&store, k, b"f", owner(), T0 + KEPT).await,
        IdempotencyClaim::Running {
            fingerprint: b"other".to_vec()
        },
        "the new claim replaced the old answer"
    );
    assert!(store
        .complete_idempotency_key(k, next, b"new answer", T0 + KEPT + KEPT)
        .await
        .expect("complete"));
    assert_eq!(
        claim(&store, k, b"other", owner(), T0 + KEPT).await,
        IdempotencyClaim::Completed {
            fingerprint: b"other".to_vec(),
            answer: b"new answer".to_vec()
        }
    );
}

/// Purging removes exactly the entries expired at the given instant (running ones past their
/// lease, completed ones past their retention) and counts them; live entries stay as they
/// were.
pub async fn store_idempotency_purge_removes_only_expired_entries<S: Store>(store: S) {
    let now = T0 + Duration::hours(1);
    assert_eq!(store.purge_idempotency_keys(now).await.expect("purge"), 0);
    // Expired: a lease that ended before `now`, a lease ending exactly at `now`, and an answer
    // kept until `now`.
    let old_lease = key(60);
    store
        .claim_idempotency_key(old_lease, b"a", owner(), T0, T0 + LEASE)
        .await
        .expect("claim");
    let lease_at_now = key(61);
    store
        .claim_idempotency_key(lease_at_now, b"b", owner(), T0, now)
        .await
        .expect("claim");
    let old_answer = key(62);
    let o = owner();
    store
        .claim_idempotency_key(old_answer, b"c", o, T0, T0 + LEASE)
        .await
        .expect("claim");
    assert!(store
        .complete_idempotency_key(old_answer, o, b"c answer", now)
        .await
        .expect("complete"));
    // Live: a lease and an answer that end a nanosecond after `now`.
    let live_lease = key(63);
    let live_owner = owner();
    store
        .claim_idempotency_key(
            live_lease,
            b"d",
            live_owner,
            T0,
            now + Duration::nanoseconds(1),
        )
        .await
        .expect("claim");
    let live_answer = key(64);
    let o = owner();
    store
        .claim_idempotency_key(live_answer, b"e", o, T0, T0 + LEASE)
        .await
        .expect("claim");
    assert!(store
        .complete_idempotency_key(live_answer, o, b"e answer", now + Duration::nanoseconds(1))
        .await
        .expect("complete"));

    assert_eq!(store.purge_idempotency_keys(now).await.expect("purge"), 3);
    assert_eq!(
        store
            .purge_idempotency_keys(now)
            .await
            .expect("purge again"),
        0,
        "nothing left to purge"
    );
    // The live entries are intact (read before their expiry).
    assert_eq!(
        claim(&store, live_lease, b"d", owner(), T0).await,
        IdempotencyClaim::Running {
            fingerprint: b"d".to_vec()
        }
    );
    assert!(store
        .release_idempotency_key(live_lease, live_owner)
        .await
        .expect("the owner still owns it"));
    assert_eq!(
        claim(&store, live_answer, b"e", owner(), T0).await,
        IdempotencyClaim::Completed {
            fingerprint: b"e".to_vec(),
            answer: b"e answer".to_vec()
        }
    );
    // The purged entries are gone: even an instant before their expiry they are free.
    for k in [old_lease, lease_at_now, old_answer] {
        assert_eq!(
            claim(&store, k, b"z", owner(), T0).await,
            IdempotencyClaim::Claimed
        );
    }
}

/// Of 16 concurrent claims of one key, exactly one is `Claimed`; the others see it running.
/// Repeated over fresh keys, also for a key whose old entry has expired.
pub async fn store_idempotency_concurrent_claims_one_wins<S: Store>(store: S) {
    let store = Arc::new(store);
    for round in 0..8u8 {
        let k = key(70 + round);
        let mut now = T0;
        if round % 2 == 1 {
            // An expired answer is there first: the race is over replacing it.
            let o = owner();
            store
                .claim_idempotency_key(k, b"old", o, T0, T0 + LEASE)
                .await
                .expect("claim");
            assert!(store
                .complete_idempotency_key(k, o, b"old answer", T0 + LEASE)
                .await
                .expect("complete"));
            now = T0 + LEASE;
        }
        let mut handles = Vec::new();
        for claimer in 0..16u8 {
            let store = Arc::clone(&store);
            handles.push(tokio::spawn(async move {
                let fingerprint = [round, claimer];
                store
                    .claim_idempotency_key(k, &fingerprint, owner(), now, now + LEASE)
                    .await
                    .expect("claim")
            }));
        }
        let mut claimed = Vec::new();
        let mut running = Vec::new();
        for (claimer, h) in handles.into_iter().enumerate() {
            match h.await.expect("claimer task") {
                IdempotencyClaim::Claimed => claimed.push(claimer as u8),
                IdempotencyClaim::Running { fingerprint } => running.push(fingerprint),
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(
            claimed.len(),
            1,
            "round {round}: exactly one claims the key"
        );
        let winner = vec![round, claimed[0]];
        assert!(
            running.iter().all(|f| *f == winner),
            "round {round}: the others see the winner's claim: {running:?}"
        );
    }
}

/// What happens to one key changes nothing for another, even one that differs in one byte.
pub async fn store_idempotency_keys_are_independent<S: Store>(store: S) {
    let a = key(80);
    let mut b = a;
    b.0[31] ^= 1;
    let mut c = a;
    c.0[0] ^= 0x80;
    let (oa, ob) = (owner(), owner());
    assert_eq!(
        claim(&store, a, b"a", oa, T0).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(&store, b, b"b", ob, T0).await,
        IdempotencyClaim::Claimed
    );
    assert!(!store
        .complete_idempotency_key(a, ob, b"wrong owner", T0 + KEPT)
        .await
        .expect("complete"));
    assert!(store
        .complete_idempotency_key(a, oa, b"a answer", T0 + KEPT)
        .await
        .expect("complete"));
    assert_eq!(
        claim(&store, b, b"b", owner(), T0).await,
        IdempotencyClaim::Running {
            fingerprint: b"b".to_vec()
        }
    );
    assert!(store.release_idempotency_key(b, ob).await.expect("release"));
    assert_eq!(
        claim(&store, a, b"a", owner(), T0).await,
        IdempotencyClaim::Completed {
            fingerprint: b"a".to_vec(),
            answer: b"a answer".to_vec()
        }
    );
    assert_eq!(
        claim(&store, c, b"c", owner(), T0).await,
        IdempotencyClaim::Claimed
    );
    // Purging at a time when only `c`'s lease is over leaves `a` alone.
    assert_eq!(
        store
            .purge_idempotency_keys(T0 + LEASE)
            .await
            .expect("purge"),
        1
    );
    assert_eq!(
        claim(&store, a, b"a", owner(), T0 + LEASE).await,
        IdempotencyClaim::Completed {
            fingerprint: b"a".to_vec(),
            answer: b"a answer".to_vec()
        }
    );
}
