//! Opening the configured store: sled by default, PostgreSQL when `database_url` is set.

use tasklane_storage_sled::SledStore;

use crate::error::Error;
use crate::settings::Settings;

/// An open store.
pub enum Backend {
    /// The embedded sled store.
    Sled(SledStore),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(tasklane_storage_postgres::PgStore),
}

/// Runs `$body` with `$s` bound to the concrete store, whichever it is:
/// `with_store!(&backend, store => work(store).await)`.
macro_rules! with_store {
    ($backend:expr, $s:ident => $body:expr) => {
        match $backend {
            $crate::store::Backend::Sled($s) => $body,
            #[cfg(feature = "postgres")]
            $crate::store::Backend::Postgres($s) => $body,
        }
    };
}
pub(crate) use with_store;

impl Backend {
    /// Opens the store the settings describe. PostgreSQL gets its pending migrations applied.
    pub async fn open(settings: &Settings) -> Result<Backend, Error> {
        match &settings.database_url {
            None => {
                let config = settings.sled_config();
                let store = tokio::task::spawn_blocking(move || SledStore::open(config))
                    .await
                    .map_err(|e| Error::Store(format!("opening the sled store failed: {e}")))??;
                Ok(Backend::Sled(store))
            }
            Some(url) => open_postgres(url, settings).await,
        }
    }

    /// A short description for logs: `sled at ./tasklane-data`, `PostgreSQL`.
    pub fn describe(&self, settings: &Settings) -> String {
        match self {
            Backend::Sled(_) => format!("sled at {}", settings.data_dir.display()),
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => match &settings.postgres.schema {
                Some(schema) => format!("PostgreSQL (schema {schema})"),
                None => "PostgreSQL".to_owned(),
            },
        }
    }

    /// Makes everything durable and releases the store: sled is flushed, PostgreSQL's pool
    /// closed.
    pub async fn close(self) -> Result<(), Error> {
        match self {
            Backend::Sled(store) => {
                tokio::task::spawn_blocking(move || store.flush())
                    .await
                    .map_err(|e| Error::Store(format!("flushing the sled store failed: {e}")))??;
                Ok(())
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => {
                store.close().await;
                Ok(())
            }
        }
    }
}

#[cfg(feature = "postgres")]
pub fn pg_config(url: &str, settings: &Settings) -> tasklane_storage_postgres::PgConfig {
    let p = &settings.postgres;
    tasklane_storage_postgres::PgConfig {
        url: url.to_owned(),
        max_connections: p.max_connections.get(),
        statement_timeout_ms: p.statement_timeout_ms,
        acquire_timeout_ms: p.acquire_timeout_ms.get(),
        schema: p.schema.clone(),
        log_poll_interval_ms: p.log_poll_interval_ms.get(),
        record_cache_capacity: p.record_cache_capacity,
        task_cache_bytes: p.task_cache_mb.saturating_mul(1024 * 1024),
    }
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str, settings: &Settings) -> Result<Backend, Error> {
    let store = tasklane_storage_postgres::PgStore::connect(pg_config(url, settings)).await?;
    Ok(Backend::Postgres(store))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_url: &str, _settings: &Settings) -> Result<Backend, Error> {
    Err(no_postgres())
}

/// The error of a build without PostgreSQL support.
#[cfg(not(feature = "postgres"))]
pub fn no_postgres() -> Error {
    Error::Usage(
        "this build cannot reach PostgreSQL: it was built without the `postgres` feature \
         (rebuild with default features, or unset database_url to use sled)"
            .into(),
    )
}
