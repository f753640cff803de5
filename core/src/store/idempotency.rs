//! Idempotency keys kept in the store, so that a retried request is recognised by every process
//! that shares the store.
//!
//! A transport that honours a header such as HTTP's `Idempotency-Key` derives an
//! [`IdempotencyKey`] (an opaque digest of whatever identifies the request: the caller, the
//! operation and the client's key) and a fingerprint of the request's content (opaque bytes),
//! and then:
//!
//! 1. claims the key ([`Store::claim_idempotency_key`](super::Store::claim_idempotency_key)).
//!    Exactly one claimer gets [`IdempotencyClaim::Claimed`] and runs the request; the others
//!    learn that it is still running, or get its kept answer;
//! 2. when the request is done, either keeps its answer
//!    ([`Store::complete_idempotency_key`](super::Store::complete_idempotency_key)) or, when
//!    the answer is not worth keeping (or the request was cancelled), gives the key up
//!    ([`Store::release_idempotency_key`](super::Store::release_idempotency_key));
//! 3. from time to time removes expired entries
//!    ([`Store::purge_idempotency_keys`](super::Store::purge_idempotency_keys)).
//!
//! The store knows nothing of what the bytes mean: keys, fingerprints and answers are opaque.
//! Every entry has an expiry instant: the end of its lease while it is running (so that a
//! claim of a process that crashed ends by itself), the end of its retention once completed.
//! An entry is expired from its expiry instant on (`expires_at <= now`); an expired entry
//! behaves exactly as an absent one.
//!
//! [`IdempotencyEntry`] holds the rules every adapter applies to one stored entry, and
//! [`IdempotencyTable`] is an in-memory table of entries for stores that keep them in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use time::OffsetDateTime;
use uuid::Uuid;

/// The identity of a kept request: an opaque 32-byte digest computed by the transport (for
/// HTTP, of the caller, the method, the path and the client's key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(pub [u8; 32]);

/// The identity of one attempt that claimed a key. Each attempt uses a fresh one (a random or
/// time-ordered UUID), so that only the attempt that claimed a key can complete or release it,
/// also across processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyOwner(pub Uuid);

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key was free (absent or expired): it is now running, owned by the claimer, who must
    /// run the request and then complete or release the key.
    Claimed,
    /// Another attempt claimed the key and has not finished.
    Running {
        /// The fingerprint that attempt claimed the key with.
        fingerprint: Vec<u8>,
    },
    /// An attempt finished and its answer is kept.
    Completed {
        /// The fingerprint of the request that was answered.
        fingerprint: Vec<u8>,
        /// The kept answer, as completed.
        answer: Vec<u8>,
    },
}

/// One stored entry, in the form every adapter can apply the rules of the contract to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyEntry {
    /// A claimed key whose request is running.
    Running {
        /// The fingerprint of the claiming request.
        fingerprint: Vec<u8>,
        /// The attempt that claimed it.
        owner: IdempotencyOwner,
        /// The end of the claim's lease: from then on the key may be claimed again.
        lease_until: OffsetDateTime,
    },
    /// A key whose answer is kept.
    Completed {
        /// The fingerprint of the answered request.
        fingerprint: Vec<u8>,
        /// The kept answer.
        answer: Vec<u8>,
        /// The end of the answer's retention: from then on the key may be claimed again.
        expires_at: OffsetDateTime,
    },
}

impl IdempotencyEntry {
    /// The instant from which the entry is expired: the lease's end while running, the
    /// retention's end once completed.
    pub fn expires_at(&self) -> OffsetDateTime {
        match self {
            IdempotencyEntry::Running { lease_until, .. } => *lease_until,
            IdempotencyEntry::Completed { expires_at, .. } => *expires_at,
        }
    }

    /// Whether the entry is expired at `now` (its expiry instant is `now` or earlier), and so
    /// counts as absent.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at() <= now
    }

    /// Whether the entry is running and was claimed by `owner`: the only state in which
    /// `owner` may complete or release it (also past its lease, as long as no one claimed the
    /// key since).
    pub fn is_running_for(&self, owner: IdempotencyOwner) -> bool {
        matches!(self, IdempotencyEntry::Running { owner: o, .. } if *o == owner)
    }

    /// What a claim that finds this (unexpired) entry answers.
    pub fn to_claim(&self) -> IdempotencyClaim {
        match self {
            IdempotencyEntry::Running { fingerprint, .. } => IdempotencyClaim::Running {
                fingerprint: fingerprint.clone(),
            },
            IdempotencyEntry::Completed {
                fingerprint,
                answer,
                ..
            } => IdempotencyClaim::Completed {
                fingerprint: fingerprint.clone(),
                answer: answer.clone(),
            },
        }
    }
}

/// An in-memory table of idempotency entries that applies the contract of the `Store` methods
/// under one lock; the in-memory reference store keeps its entries in one. Nothing survives the
/// process.
#[derive(Debug, Default)]
pub struct IdempotencyTable {
    entries: Mutex<HashMap<IdempotencyKey, IdempotencyEntry>>,
}

impl IdempotencyTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IdempotencyKey, IdempotencyEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims `key` as [`Store::claim_idempotency_key`](super::Store::claim_idempotency_key)
    /// describes.
    pub fn claim(
        &self,
        key: IdempotencyKey,
        fingerprint: &[u8],
        owner: IdempotencyOwner,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> IdempotencyClaim {
        let mut entries = self.lock();
        if let Some(existing) = entries.get(&key).filter(|e| !e.is_expired(now)) {
            return existing.to_claim();
        }
        entries.insert(
            key,
            IdempotencyEntry::Running {
                fingerprint: fingerprint.to_vec(),
                owner,
                lease_until,
            },
        );
        IdempotencyClaim::Claimed
    }

    /// Keeps `answer` as
    /// [`Store::complete_idempotency_key`](super::Store::complete_idempotency_key) describes;
    /// whether it took effect.
    pub fn complete(
        &self,
        key: IdempotencyKey,
        owner: IdempotencyOwner,
        answer: &[u8],
        expires_at: OffsetDateTime,
    ) -> bool {
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(&key).filter(|e| e.is_running_for(owner)) else {
            return false;
        };
        let fingerprint = match entry {
            IdempotencyEntry::Running { fingerprint, .. } => std::mem::take(fingerprint),
            IdempotencyEntry::Completed { fingerprint, .. } => std::mem::take(fingerprint),
        };
        *entry = IdempotencyEntry::Completed {
            fingerprint,
            answer: answer.to_vec(),
            expires_at,
        };
        true
    }

    /// Gives `key` up as
    /// [`Store::release_idempotency_key`](super::Store::release_idempotency_key) describes;
    /// whether it took effect.
    pub fn release(&self, key: IdempotencyKey, owner: IdempotencyOwner) -> bool {
        let mut entries = self.lock();
        if entries.get(&key).is_some_and(|e| e.is_running_for(owner)) {
            entries.remove(&key);
            true
        } else {
            false
        }
    }

    /// Removes the entries expired at `now`; how many.
    pub fn purge(&self, now: OffsetDateTime) -> u64 {
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|_, e| !e.is_expired(now));
        (before - entries.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-02 09:00 UTC);

    #[test]
    fn an_entry_expires_at_its_expiry_instant() {
        let entry = IdempotencyEntry::Running {
            fingerprint: vec![1],
            owner: IdempotencyOwner(Uuid::nil()),
            lease_until: T0,
        };
        assert!(!entry.is_expired(T0 - time::Duration::nanoseconds(1)));
        assert!(entry.is_expired(T0));
    }

    #[test]
    fn completing_keeps_the_claimed_fingerprint() {
        let table = IdempotencyTable::new();
        let key = IdempotencyKey([7; 32]);
        let owner = IdempotencyOwner(Uuid::from_u128(1));
        let later = T0 + time::Duration::minutes(1);
        assert_eq!(
            table.claim(key, b"f", owner, T0, later),
            IdempotencyClaim::Claimed
        );
        assert!(table.complete(key, owner, b"answer", later));
        assert_eq!(
            table.claim(key, b"g", IdempotencyOwner(Uuid::from_u128(2)), T0, later),
            IdempotencyClaim::Completed {
                fingerprint: b"f".to_vec(),
                answer: b"answer".to_vec()
            }
        );
    }
}
