//! Idempotency keys in the `idempotency_keys` table (migration 0004): one row per key, written
//! outside the commit path, each operation one statement in a transaction of its own.
//!
//! A claim is one `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE <expired>`: PostgreSQL
//! decides on the latest committed row under its lock, so of concurrent claims of one key (from
//! any process) exactly one inserts or replaces the row. The same statement reads the existing
//! row when it did not claim; that read sees the statement's snapshot, which misses a row
//! committed by a concurrent claim after the snapshot was taken (or shows it before a change
//! that made it live again). The statement then returns nothing and runs again, and the next
//! snapshot sees the row.
//!
//! Completing and releasing are updates and deletes conditioned on the owner and on the row
//! still running (`answer IS NULL`). A completed row is durable once the statement's commit
//! returns, as a commit is.

use sqlx::{PgPool, Row};
use tasklane_core::store::{
    IdempotencyClaim, IdempotencyKey, IdempotencyOwner, StoreError, StoreResult,
};
use time::OffsetDateTime;

use crate::codec;
use crate::error::map_sqlx;

/// How many times a claim runs again when its snapshot missed a concurrent change. Once is
/// normally enough; more means the key keeps changing under it.
const MAX_ATTEMPTS: usize = 16;

/// Claims the key or reads its live row, in one statement. Returns one row `(claimed,
/// fingerprint, answer)` or, when the snapshot missed a concurrent change, none.
const CLAIM: &str = "\
WITH claimed AS (
    INSERT INTO idempotency_keys AS k (key, fingerprint, owner_id, answer, expires_ns)
    VALUES ($1, $2, $3, NULL, $5::numeric)
    ON CONFLICT (key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint,
            owner_id = EXCLUDED.owner_id,
            answer = NULL,
            expires_ns = EXCLUDED.expires_ns
        WHERE k.expires_ns <= $4::numeric
    RETURNING true AS claimed
)
SELECT claimed, NULL::bytea AS fingerprint, NULL::bytea AS answer FROM claimed
UNION ALL
SELECT false, fingerprint, answer FROM idempotency_keys
WHERE key = $1 AND expires_ns > $4::numeric AND NOT EXISTS (SELECT 1 FROM claimed)";

/// Claims `key` (see `Store::claim_idempotency_key`).
pub(crate) async fn claim(
    pool: &PgPool,
    key: IdempotencyKey,
    fingerprint: &[u8],
    owner: IdempotencyOwner,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
) -> StoreResult<IdempotencyClaim> {
    for _ in 0..MAX_ATTEMPTS {
        let row = sqlx::query(CLAIM)
            .bind(&key.0[..])
            .bind(fingerprint)
            .bind(owner.0)
            .bind(codec::ns(now))
            .bind(codec::ns(lease_until))
            .fetch_optional(pool)
            .await
            .map_err(map_sqlx)?;
        let Some(row) = row else {
            continue;
        };
        let claimed: bool = row.try_get(0).map_err(map_sqlx)?;
        if claimed {
            return Ok(IdempotencyClaim::Claimed);
        }
        let fingerprint: Vec<u8> = row.try_get(1).map_err(map_sqlx)?;
        let answer: Option<Vec<u8>> = row.try_get(2).map_err(map_sqlx)?;
        return Ok(match answer {
            None => IdempotencyClaim::Running { fingerprint },
            Some(answer) => IdempotencyClaim::Completed {
                fingerprint,
                answer,
            },
        });
    }
    Err(StoreError::Unavailable(format!(
        "an idempotency key changed under {MAX_ATTEMPTS} claims in a row"
    )))
}

/// Completes `owner`'s claim of `key` (see `Store::complete_idempotency_key`).
pub(crate) async fn complete(
    pool: &PgPool,
    key: IdempotencyKey,
    owner: IdempotencyOwner,
    answer: &[u8],
    expires_at: OffsetDateTime,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET answer = $3, expires_ns = $4::numeric \
         WHERE key = $1 AND owner_id = $2 AND answer IS NULL",
    )
    .bind(&key.0[..])
    .bind(owner.0)
    .bind(answer)
    .bind(codec::ns(expires_at))
    .execute(pool)
    .await
    .map_err(map_sqlx)?;
    Ok(done.rows_affected() == 1)
}

/// Releases `owner`'s claim of `key` (see `Store::release_idempotency_key`).
pub(crate) async fn release(
    pool: &PgPool,
    key: IdempotencyKey,
    owner: IdempotencyOwner,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM idempotency_keys WHERE key = $1 AND owner_id = $2 AND answer IS NULL",
    )
    .bind(&key.0[..])
    .bind(owner.0)
    .execute(pool)
    .await
    .map_err(map_sqlx)?;
    Ok(done.rows_affected() == 1)
}

/// Removes the rows expired at `now` (see `Store::purge_idempotency_keys`).
pub(crate) async fn purge(pool: &PgPool, now: OffsetDateTime) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE expires_ns <= $1::numeric")
        .bind(codec::ns(now))
        .execute(pool)
        .await
        .map_err(map_sqlx)?;
    Ok(done.rows_affected())
}
