//! Injectable time and id sources, so that tests of due dates, reports and ordering are deterministic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use time::OffsetDateTime;
use uuid::Uuid;

/// A source of the current time. Every timestamp the engine writes comes from its clock.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The wall clock of the operating system.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: time::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A source of fresh identifiers.
pub trait IdGenerator: Send + Sync + 'static {
    /// A new identifier, never returned before by this generator.
    fn new_id(&self) -> Uuid;
}

/// UUID version 7 identifiers: time-ordered, so that ids sort roughly by creation.
#[derive(Clone, Copy, Debug, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Sequential, predictable identifiers (`00000000-0000-7000-8000-000000000001`, ...); for tests
/// and snapshots.
#[derive(Debug, Default)]
pub struct SequentialIds {
    next: AtomicU64,
}

impl SequentialIds {
    /// A generator whose first id ends in 1.
    pub fn new() -> Self {
        Self::default()
    }
}

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        // Version 7 and RFC 4122 variant bits, with the counter in the low bits.
        Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0000u128 | u128::from(n))
    }
}
