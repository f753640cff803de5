//! Shared helpers of the integration tests: a fresh store per test, in a schema of its own.
#![allow(dead_code)]

use tasklane_storage_postgres::{PgConfig, PgStore};

/// The test database's URL, or `None` (with a notice) when tests should skip. With
/// `TASKLANE_REQUIRE_PG=1` a missing URL is a failure.
pub fn test_url() -> Option<String> {
    match std::env::var("TASKLANE_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let required = std::env::var("TASKLANE_REQUIRE_PG").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "TASKLANE_REQUIRE_PG=1 but TASKLANE_TEST_DATABASE_URL is not set"
            );
            eprintln!("notice: TASKLANE_TEST_DATABASE_URL is not set; skipping a PostgreSQL test");
            None
        }
    }
}

/// The configuration tests use for `url`.
pub fn test_config(url: String) -> PgConfig {
    PgConfig {
        max_connections: 8,
        statement_timeout_ms: 60_000,
        acquire_timeout_ms: 30_000,
        ..PgConfig::new(url)
    }
}

/// A fresh, migrated store in a schema of its own, dropped when the store is; `None` when
/// PostgreSQL is not configured (see [`test_url`]).
pub async fn test_store() -> Option<PgStore> {
    let url = test_url()?;
    Some(
        PgStore::connect_temporary(test_config(url))
            .await
            .expect("connect to the test database"),
    )
}

/// [`test_store`] without the record cache: a store that starts no listener until it is
/// watched.
pub async fn uncached_test_store() -> Option<PgStore> {
    let url = test_url()?;
    Some(
        PgStore::connect_temporary(PgConfig {
            record_cache_capacity: 0,
            ..test_config(url)
        })
        .await
        .expect("connect to the test database"),
    )
}
