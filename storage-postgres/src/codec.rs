//! Conversions between domain values and column values.

use tasklane_core::store::{StoreError, StoreResult};
use time::OffsetDateTime;

/// An instant as exact unix nanoseconds, in the decimal text form bound to `numeric` columns.
pub(crate) fn ns(at: OffsetDateTime) -> String {
    at.unix_timestamp_nanos().to_string()
}

/// An optional instant as [`ns`].
pub(crate) fn ns_opt(at: Option<OffsetDateTime>) -> Option<String> {
    at.map(ns)
}

/// Reads back an instant written by [`ns`].
pub(crate) fn instant(text: &str) -> StoreResult<OffsetDateTime> {
    let nanos: i128 = text
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("'{text}' is not an instant in nanoseconds")))?;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|e| StoreError::Corrupt(format!("instant {nanos} out of range: {e}")))
}

/// A `u64` for a `bigint` column. Values above `i64::MAX` cannot be stored; the commit is
/// refused (no engine produces them).
pub(crate) fn int(value: u64, what: &str) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| {
        StoreError::Unavailable(format!(
            "refused: {what} {value} exceeds the largest value PostgreSQL's bigint holds"
        ))
    })
}

/// A `bigint` read back as `u64`.
pub(crate) fn uint(value: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what} {value}")))
}

/// A `usize` limit as a SQL `LIMIT` (saturating: `usize::MAX` means no limit).
pub(crate) fn limit(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A `u64` lower bound (`seq > after`) as `bigint`, saturating.
pub(crate) fn after(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Case folding for case-insensitive keys and text search: exactly the reference store's
/// (`str::to_lowercase`, which is also core's `fold_case` for `Text` filters).
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// JSON text already serialized, bound as a `jsonb` parameter without being parsed or
/// serialized again in the process (PostgreSQL parses it).
pub(crate) struct JsonbText(pub String);

impl sqlx::Type<sqlx::Postgres> for JsonbText {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <sqlx::types::Json<()> as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for JsonbText {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        // The version byte of PostgreSQL's binary `jsonb` format, then the text.
        buf.push(1);
        buf.extend_from_slice(self.0.as_bytes());
        Ok(sqlx::encode::IsNull::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instants_round_trip_with_nanoseconds_across_the_whole_range() {
        for at in [
            datetime!(2026-11-02 09:00:00.123456789 UTC),
            datetime!(1969-12-31 23:59:59.999999999 UTC),
            datetime!(0000-01-01 00:00 UTC),
            datetime!(9999-12-31 23:59:59.999999999 UTC),
        ] {
            assert_eq!(instant(&ns(at)).unwrap(), at);
        }
    }

    #[test]
    fn limits_saturate() {
        assert_eq!(limit(usize::MAX), i64::MAX);
        assert_eq!(after(u64::MAX), i64::MAX);
        assert!(int(u64::MAX, "number").is_err());
    }
}
