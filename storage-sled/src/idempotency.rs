//! Idempotency keys: the `idempotency_keys` key space and the store's operations on it.
//!
//! Each entry is one key of the space: the 32-byte [`IdempotencyKey`] maps to the encoded
//! [`IdempotencyEntry`]. Entries are not records: they never go through the commit pipeline,
//! so claiming, completing and releasing never wait for commits nor hold them up. Every change
//! is one sled compare-and-swap of the entry's key against the value it was decided on, retried
//! when another change got there first: of concurrent claims of a free key exactly one swaps
//! its running entry in, and the others then find it.
//!
//! Durability: a claim and a release are not flushed (a claim lost in a crash is a lease that
//! ended; a lost release leaves a claim whose lease ends). Completing flushes, under
//! [`Durability::Flush`], before it returns, so a kept answer is as durable as a commit; under
//! [`Durability::Periodic`] it is flushed with the next interval, as commits are.
//!
//! Purging walks the whole space (on the blocking pool when there is a Tokio runtime) and
//! removes each expired entry with a compare-and-swap, so an entry claimed anew meanwhile
//! stays.
//!
//! ## Encoding of an entry (format 1)
//!
//! | bytes | content |
//! | --- | --- |
//! | 1 | the format, 1 |
//! | 1 | the state: 0 running, 1 completed |
//! | 16 | the owner's UUID (running) or zeros (completed) |
//! | 16 | the expiry instant (the lease's end, or the answer's), unix nanoseconds, `i128` big-endian |
//! | 4 | the fingerprint's length, `u32` big-endian |
//! | n | the fingerprint |
//! | rest | the answer (completed; empty when running) |

use std::sync::Arc;

use tasklane_core::store::{
    IdempotencyClaim, IdempotencyEntry, IdempotencyKey, IdempotencyOwner, StoreError, StoreResult,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::from_sled;
use crate::schema::Tree;
use crate::space::Space;
use crate::store::Inner;
use crate::Durability;

/// The encoding's format byte.
const FORMAT: u8 = 1;
const RUNNING: u8 = 0;
const COMPLETED: u8 = 1;
/// The bytes before the fingerprint.
const HEADER: usize = 1 + 1 + 16 + 16 + 4;
/// How many times a change is retried when other changes of the same key keep getting there
/// first. Each failed swap means another change succeeded, so this bound is only reached under
/// pathological contention.
const MAX_ATTEMPTS: usize = 1_000;

fn space(inner: &Inner) -> &Space {
    inner.tree(Tree::IdempotencyKeys)
}

fn corrupt(why: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "undecodable entry in tree '{}': {why}",
        Tree::IdempotencyKeys.name()
    ))
}

fn contended() -> StoreError {
    StoreError::Unavailable(format!(
        "an idempotency key changed {MAX_ATTEMPTS} times while it was being changed"
    ))
}

/// Encodes an entry (see the module documentation). Fails only for a fingerprint longer than
/// `u32::MAX` bytes.
fn encode(entry: &IdempotencyEntry) -> StoreResult<Vec<u8>> {
    let (state, owner, fingerprint, answer): (u8, Uuid, &[u8], &[u8]) = match entry {
        IdempotencyEntry::Running {
            fingerprint, owner, ..
        } => (RUNNING, owner.0, fingerprint, &[]),
        IdempotencyEntry::Completed {
            fingerprint,
            answer,
            ..
        } => (COMPLETED, Uuid::nil(), fingerprint, answer),
    };
    let length = u32::try_from(fingerprint.len()).map_err(|_| {
        StoreError::Unavailable("refused: an idempotency fingerprint over 4 GiB".to_owned())
    })?;
    let mut out = Vec::with_capacity(HEADER + fingerprint.len() + answer.len());
    out.push(FORMAT);
    out.push(state);
    out.extend_from_slice(owner.as_bytes());
    out.extend_from_slice(&entry.expires_at().unix_timestamp_nanos().to_be_bytes());
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(fingerprint);
    out.extend_from_slice(answer);
    Ok(out)
}

/// Decodes what [`encode`] wrote.
fn decode(bytes: &[u8]) -> StoreResult<IdempotencyEntry> {
    if bytes.len() < HEADER {
        return Err(corrupt("too short"));
    }
    if bytes[0] != FORMAT {
        return Err(corrupt(&format!("unknown format {}", bytes[0])));
    }
    let owner = Uuid::from_slice(&bytes[2..18]).map_err(|_| corrupt("owner"))?;
    let nanos = i128::from_be_bytes(
        bytes[18..34]
            .try_into()
            .map_err(|_| corrupt("expiry instant"))?,
    );
    let expiry = OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|_| corrupt("expiry instant out of range"))?;
    let length = u32::from_be_bytes(
        bytes[34..38]
            .try_into()
            .map_err(|_| corrupt("fingerprint length"))?,
    );
    let end = usize::try_from(length)
        .ok()
        .and_then(|n| HEADER.checked_add(n))
        .filter(|end| *end <= bytes.len())
        .ok_or_else(|| corrupt("fingerprint length beyond the entry"))?;
    let fingerprint = bytes[HEADER..end].to_vec();
    let rest = &bytes[end..];
    match bytes[1] {
        RUNNING if rest.is_empty() => Ok(IdempotencyEntry::Running {
            fingerprint,
            owner: IdempotencyOwner(owner),
            lease_until: expiry,
        }),
        COMPLETED => Ok(IdempotencyEntry::Completed {
            fingerprint,
            answer: rest.to_vec(),
            expires_at: expiry,
        }),
        state => Err(corrupt(&format!("unknown state {state}"))),
    }
}

/// The value stored under `key`, if any.
fn current(space: &Space, key: &IdempotencyKey) -> StoreResult<Option<sled::IVec>> {
    space.get(key.0).map_err(from_sled)
}

/// Claims `key` (see `Store::claim_idempotency_key`).
pub(crate) fn claim(
    inner: &Inner,
    key: IdempotencyKey,
    fingerprint: &[u8],
    owner: IdempotencyOwner,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
) -> StoreResult<IdempotencyClaim> {
    let space = space(inner);
    let running = encode(&IdempotencyEntry::Running {
        fingerprint: fingerprint.to_vec(),
        owner,
        lease_until,
    })?;
    let mut found = current(space, &key)?;
    for _ in 0..MAX_ATTEMPTS {
        if let Some(bytes) = &found {
            let entry = decode(bytes)?;
            if !entry.is_expired(now) {
                return Ok(entry.to_claim());
            }
        }
        match space
            .compare_and_swap(key.0, found.as_deref(), Some(running.clone()))
            .map_err(from_sled)?
        {
            Ok(()) => return Ok(IdempotencyClaim::Claimed),
            // Another change got there first: decide again on what it left.
            Err(changed) => found = changed.current,
        }
    }
    Err(contended())
}

/// Replaces `owner`'s running entry of `key` with what `change` makes of it (`None` removes
/// it); whether it took effect.
fn change_own_entry(
    inner: &Inner,
    key: IdempotencyKey,
    owner: IdempotencyOwner,
    change: impl Fn(Vec<u8>) -> StoreResult<Option<Vec<u8>>>,
) -> StoreResult<bool> {
    let space = space(inner);
    let mut found = current(space, &key)?;
    for _ in 0..MAX_ATTEMPTS {
        let Some(bytes) = &found else {
            return Ok(false);
        };
        let fingerprint = match decode(bytes)? {
            IdempotencyEntry::Running {
                fingerprint,
                owner: o,
                ..
            } if o == owner => fingerprint,
            _ => return Ok(false),
        };
        match space
            .compare_and_swap(key.0, Some(bytes.as_ref()), change(fingerprint)?)
            .map_err(from_sled)?
        {
            Ok(()) => return Ok(true),
            Err(changed) => found = changed.current,
        }
    }
    Err(contended())
}

/// Completes `owner`'s claim of `key` with `answer` (see `Store::complete_idempotency_key`),
/// flushed before it returns under [`Durability::Flush`].
pub(crate) async fn complete(
    inner: &Inner,
    key: IdempotencyKey,
    owner: IdempotencyOwner,
    answer: &[u8],
    expires_at: OffsetDateTime,
) -> StoreResult<bool> {
    let done = change_own_entry(inner, key, owner, |fingerprint| {
        encode(&IdempotencyEntry::Completed {
            fingerprint,
            answer: answer.to_vec(),
            expires_at,
        })
        .map(Some)
    })?;
    if done && inner.durability() == Durability::Flush {
        space(inner).flush_async().await.map_err(|e| {
            StoreError::Unavailable(format!(
                "the answer was kept but flushing it failed (its durability is unknown): {e}"
            ))
        })?;
    }
    Ok(done)
}

/// Releases `owner`'s claim of `key` (see `Store::release_idempotency_key`).
pub(crate) fn release(
    inner: &Inner,
    key: IdempotencyKey,
    owner: IdempotencyOwner,
) -> StoreResult<bool> {
    change_own_entry(inner, key, owner, |_| Ok(None))
}

/// Removes the entries expired at `now`; how many.
fn purge_now(inner: &Inner, now: OffsetDateTime) -> StoreResult<u64> {
    let space = space(inner);
    let mut removed = 0;
    for item in space.iter() {
        let (key, bytes) = item.map_err(from_sled)?;
        if !decode(&bytes)?.is_expired(now) {
            continue;
        }
        // Removed only if unchanged: a key claimed anew since it was read stays.
        if space
            .compare_and_swap(&key, Some(bytes.as_ref()), None)
            .map_err(from_sled)?
            .is_ok()
        {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes the entries expired at `now` (see `Store::purge_idempotency_keys`): on Tokio's
/// blocking pool when called within a Tokio runtime, since it walks the whole space.
pub(crate) async fn purge(inner: &Arc<Inner>, now: OffsetDateTime) -> StoreResult<u64> {
    if tokio::runtime::Handle::try_current().is_err() {
        return purge_now(inner, now);
    }
    let inner = Arc::clone(inner);
    tokio::task::spawn_blocking(move || purge_now(&inner, now))
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!("the purge of idempotency keys failed: {e}"))
        })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn entries_round_trip_and_damage_is_reported() {
        let at = datetime!(2026-11-02 09:00:00.123456789 UTC);
        for entry in [
            IdempotencyEntry::Running {
                fingerprint: b"\x00f".to_vec(),
                owner: IdempotencyOwner(Uuid::from_u128(7)),
                lease_until: at,
            },
            IdempotencyEntry::Completed {
                fingerprint: Vec::new(),
                answer: b"\x00answer\xff".to_vec(),
                expires_at: datetime!(9999-12-31 23:59:59.999999999 UTC),
            },
            IdempotencyEntry::Completed {
                fingerprint: b"f".to_vec(),
                answer: Vec::new(),
                expires_at: datetime!(0000-01-01 00:00 UTC),
            },
        ] {
            let bytes = encode(&entry).unwrap();
            assert_eq!(decode(&bytes).unwrap(), entry);
            for cut in 0..HEADER {
                assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
            }
        }
        let mut bytes = encode(&IdempotencyEntry::Running {
            fingerprint: b"f".to_vec(),
            owner: IdempotencyOwner(Uuid::nil()),
            lease_until: at,
        })
        .unwrap();
        bytes[34..38].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode(&bytes), Err(StoreError::Corrupt(_))));
        bytes[0] = 9;
        assert!(matches!(decode(&bytes), Err(StoreError::Corrupt(_))));
    }
}
