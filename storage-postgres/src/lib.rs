//! # tasklane-storage-postgres
//!
//! The PostgreSQL store of Tasklane: [`PgStore`] implements [`tasklane_core::store::Store`] over a
//! relational schema with real constraints, applies its reversible migrations on connect, and
//! keeps the event log in commit order.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tasklane_storage_postgres::Error> {
//! use tasklane_storage_postgres::{PgConfig, PgStore};
//!
//! let store = PgStore::connect(PgConfig::new("postgres://postgres@127.0.0.1:5432/tasklane")).await?;
//! let engine = tasklane_core::Engine::builder(store).build();
//! # let _ = engine; Ok(()) }
//! ```
//!
//! ## Schema
//!
//! One table per record kind (`users`, `tokens`, `workspaces`, `memberships`, `projects`,
//! `task_counters`, `workflows`, `tasks`, `dependencies`, `labels`, `milestones`, `comments`)
//! plus `events` and the one-row `event_log` counter, and `idempotency_keys` (kept answers of
//! requests sent with an idempotency key, outside commits); the migrations in `migrations/` are
//! the reference. Each row keeps the full record as JSON (`doc`, what reads decode) beside the
//! columns that constraints, indexes, filters and sorts use:
//!
//! * instants are exact unix nanoseconds in `numeric` columns (`*_ns`): the domain keeps
//!   nanoseconds over the years 0–9999, beyond `timestamptz` precision and `bigint` range;
//! * case-insensitive keys (`users.email_key`, `labels.name_key`) and the text searched by
//!   `Text` filters (`tasks.title_fold`, `tasks.description_fold`) are folded by this crate with
//!   the reference store's Unicode lower-casing, so results never depend on the database's
//!   collation or `lower()`;
//! * text that sorts uses `COLLATE "C"`, i.e. Unicode code point order, as in the reference;
//! * foreign keys are deferred to the end of the transaction, so a commit may write a parent
//!   after its child. A commit that leaves a dangling reference (its parent was removed
//!   concurrently) fails with a version conflict.
//!
//! Task lists and status counts are single SQL statements: the resolved filter becomes a
//! parameterised `WHERE` clause, the sort an `ORDER BY` with `NULLS LAST` and the id as the
//! tie-break, the cursor a keyset condition.
//!
//! ## The log
//!
//! A transaction with events takes, at its very end, a transaction-scoped advisory lock and the
//! one-row counter, numbers its events from it, and holds both until it has committed. The next
//! transaction with events therefore numbers after it and becomes visible after it: `seq` order
//! is commit order, numbers have no gaps, and a reader tailing `seq > last` never skips one
//! (`tests/log_order.rs` proves it against 16 concurrent writers; a variant that numbers events
//! before the end of the transaction fails that test). Transactions without events do not take
//! the lock.
//!
//! Holding the lock through `COMMIT` serialises the WAL flushes of transactions with events. To
//! keep PostgreSQL's group commit, concurrent commits of one [`PgStore`] are queued and run
//! together by a committer task on a connection of its own (`application_name`
//! `tasklane-committer`): it takes every queued commit into one transaction, writes their
//! records with one statement per table and kind of write, appends all their events and
//! commits once. A failing commit never fails the others: the group is then re-run commit by
//! commit, each reporting its own outcome. Several server processes on one database serialise
//! only their groups.
//!
//! ## Task numbers
//!
//! A task's number comes from its project's row in `task_counters`, incremented by a statement
//! that commits without waiting for its WAL flush (the task's own commit flushes past it).
//! Requests for one project's numbers that arrive while an increment runs wait for it and then
//! share the next one, which adds their count: one statement for many creations.
//!
//! ## Wake-ups
//!
//! The statement that numbers a transaction's events also queues `pg_notify` of the new last
//! seq on the schema's channel, `tasklane_log:<schema>` (`tasklane_log#<md5 of the schema>` when
//! that would exceed PostgreSQL's 63 bytes), delivered at commit. The first
//! [`Store::log_watch`](tasklane_core::store::Store::log_watch) call of a store starts a listener
//! task on a connection of its own (`application_name` `tasklane-log-listener <schema>`) that
//! advances the watch from the notifications, and re-reads the log's end after every
//! reconnection and every [`PgConfig::log_poll_interval_ms`]; it stops with the store's last
//! handle. Commits of the store itself advance its watch as soon as they return.
//!
//! ## Record cache
//!
//! Requests read the same few records again and again: the caller's token and user, the
//! project, membership and workflow they work in, tasks and their blocker edges. The store keeps
//! them decoded in the process (up to [`PgConfig::record_cache_capacity`] entries, and
//! [`PgConfig::task_cache_bytes`] of tasks), so that a
//! task GET or a page's context needs no round trip. Other processes on the same schema tell it
//! what they change: a transaction that changes a cached record queues `pg_notify` naming the
//! keys on `tasklane_keys:<schema>`, and the listener connection (started when the store opens)
//! forgets them. The cache serves only while that connection demonstrably hears everything: a
//! query on it every [`PgConfig::log_poll_interval_ms`] (PostgreSQL delivers pending
//! notifications before it answers) grants a lease of two intervals, and a lost connection
//! stops the cache and forgets all it kept. A record changed by another process is thus served
//! at most a notification's delivery out of date, and never longer than two intervals. Commits
//! of the store forget their own keys before they return, and writes never trust the cache:
//! the database checks every expected version. Records changed by SQL outside Tasklane are not
//! announced; turn the cache off (capacity 0) for databases edited that way.
//!
//! ## Errors
//!
//! Unique violations become [`StoreError::Duplicate`] with the reference store's field names
//! (`email`, `key`, `number`, `label`, `token`); a record that exists where an insert expected
//! none, or a version that does not match, is a [`StoreError::VersionConflict`]; deadlocks and
//! serialization failures are retried a bounded number of times; connection failures and
//! timeouts are [`StoreError::Unavailable`]; undecodable rows are [`StoreError::Corrupt`].
//! PostgreSQL text cannot hold the NUL character: a record containing one is refused with
//! [`StoreError::Unavailable`].
//!
//! ## Durability
//!
//! A commit is acknowledged after PostgreSQL's `COMMIT` returns, so it is as durable as the
//! server's `synchronous_commit` setting makes it (durable with the default `on`).
//!
//! [`StoreError::Duplicate`]: tasklane_core::store::StoreError::Duplicate
//! [`StoreError::VersionConflict`]: tasklane_core::store::StoreError::VersionConflict
//! [`StoreError::Unavailable`]: tasklane_core::store::StoreError::Unavailable
//! [`StoreError::Corrupt`]: tasklane_core::store::StoreError::Corrupt
#![deny(missing_docs)]

/// The SQL expression naming a per-schema notification channel: `<prefix>:<schema>`, or
/// `<prefix>#<md5 of the schema>` when that would exceed the 63 bytes PostgreSQL allows a
/// channel name (`$longest` is the longest schema name in bytes that fits after the prefix and
/// its separator). One channel per schema, so a store never hears another schema's
/// notifications. A macro, so that the statements naming a channel stay constants.
macro_rules! schema_channel {
    ($prefix:literal, $longest:literal) => {
        concat!(
            "CASE WHEN octet_length(current_schema()) <= ",
            $longest,
            " THEN '",
            $prefix,
            ":' || current_schema() ELSE '",
            $prefix,
            "#' || md5(current_schema()) END"
        )
    };
}

mod cache;
mod codec;
mod commit;
mod error;
mod idempotency;
mod kept_connection;
mod log_watch;
mod numbers;
mod query;
mod records;
mod store;

use std::str::FromStr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgPool};

pub use error::Error;

/// The embedded migrations (`storage-postgres/migrations`).
static EMBEDDED: Migrator = sqlx::migrate!("./migrations");

/// The table recording applied migrations. Tasklane's own name, so that another application's
/// sqlx migrations in the same schema are never mistaken for Tasklane's.
pub const MIGRATIONS_TABLE: &str = "_tasklane_migrations";

/// The embedded migrations, recorded in [`MIGRATIONS_TABLE`].
static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
    let mut migrator = Migrator::with_migrations(EMBEDDED.iter().cloned().collect());
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
});

/// How to reach the database.
#[derive(Clone)]
pub struct PgConfig {
    /// A `postgres://` URL.
    pub url: String,
    /// The pool's size (at least 1). The store opens two more connections besides: the
    /// committer's (see the crate documentation) and, with the record cache on or once the log
    /// is watched, the listener's. A connection idle for a second or more is checked with a
    /// ping before it is used; busy connections are not.
    pub max_connections: u32,
    /// `statement_timeout` of every connection, in milliseconds; 0 disables it.
    pub statement_timeout_ms: u64,
    /// How long a caller waits for a free connection (and for the first connection at
    /// start-up) before failing, in milliseconds.
    pub acquire_timeout_ms: u64,
    /// The schema holding Tasklane's tables (created when missing); `None` uses the server's
    /// default `search_path` (normally `public`).
    pub schema: Option<String>,
    /// How often the log watch ([`Store::log_watch`]) re-reads the log's last seq besides
    /// listening for notifications, in milliseconds (at least 1): the longest a wake-up from
    /// another process is late when its notification is lost (the listener's connection was
    /// down). Only a store that is watched polls, on its listener task.
    ///
    /// [`Store::log_watch`]: tasklane_core::store::Store::log_watch
    pub log_poll_interval_ms: u64,
    /// The most entries the record cache keeps in each of its maps (records: tokens, users,
    /// memberships, projects and workflows together; token hashes; member lists); 0 turns the
    /// cache off, tasks included. Tasks have a budget of bytes instead
    /// ([`task_cache_bytes`](Self::task_cache_bytes)), and a task's blocker list is kept only
    /// while the task is. See the crate
    /// documentation: with the cache on, the store keeps a listener connection open from the
    /// start, and a record another process changed is served at most two
    /// [`log_poll_interval_ms`](Self::log_poll_interval_ms) out of date when that connection
    /// silently stops (normally, a notification's delivery).
    pub record_cache_capacity: usize,
    /// The memory for the record cache's tasks, in bytes, as estimated from each task's size
    /// (about 1 KB for a task of the usual size; long descriptions count for their length):
    /// 96 MiB by default, about 100,000 tasks. 0 keeps no task. A count would bound nothing, so
    /// tasks have a budget of their own.
    pub task_cache_bytes: u64,
}

impl PgConfig {
    /// The default memory for the record cache's tasks: 96 MiB.
    pub const DEFAULT_TASK_CACHE_BYTES: u64 = 96 * 1024 * 1024;

    /// A configuration for `url` with 10 connections, a 30 s statement timeout, a 5 s acquire
    /// timeout, the default schema, a 1 s log poll interval and a record cache of 100,000
    /// entries per map and 96 MiB of tasks.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            statement_timeout_ms: 30_000,
            acquire_timeout_ms: 5_000,
            schema: None,
            log_poll_interval_ms: 1_000,
            record_cache_capacity: 100_000,
            task_cache_bytes: Self::DEFAULT_TASK_CACHE_BYTES,
        }
    }

    /// The same configuration using `schema`.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &error::redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("schema", &self.schema)
            .field("log_poll_interval_ms", &self.log_poll_interval_ms)
            .field("record_cache_capacity", &self.record_cache_capacity)
            .field("task_cache_bytes", &self.task_cache_bytes)
            .finish()
    }
}

/// The state of one migration, as `tasklane migrate status` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Its version (the `NNNN` of the file name).
    pub version: i64,
    /// Its description (the rest of the file name), or `"(unknown to this build)"`.
    pub description: String,
    /// Whether it is applied to the database.
    pub applied: bool,
    /// Whether this build contains it (`false`: applied by a newer build).
    pub known: bool,
}

/// Counters of a store's group commit (see the crate documentation), for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Transactions that wrote a group of commits (or one commit of many writes) in bulk.
    pub bulk_transactions: u64,
    /// Commits written by those transactions.
    pub bulk_commits: u64,
    /// Bulk attempts that failed (a conflict, a duplicate, a deadlock) and were re-run commit
    /// by commit.
    pub bulk_fallbacks: u64,
    /// Commits that only inserted records and appended events, written as one statement each
    /// or with their group (one round trip instead of a transaction's four or more).
    pub single_statement_commits: u64,
    /// Task numbers handed out ([`Store::next_task_number`](tasklane_core::store::Store::next_task_number)).
    pub task_numbers: u64,
    /// The increments of project counters that handed them out: requests that wait together
    /// share one (see the crate documentation).
    pub task_number_increments: u64,
}

/// Counters of a store's record cache (see the crate documentation), for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordCacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that went to the database while the cache served.
    pub misses: u64,
    /// Whether the cache serves now: it is enabled and its listener was heard within its lease.
    pub serving: bool,
}

/// The PostgreSQL store. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// First, so that the listener task stops before the rest goes.
    log_watch: log_watch::LogWatch,
    cache: Arc<cache::RecordCache>,
    pool: PgPool,
    committer: Arc<commit::Committer>,
    task_numbers: Arc<numbers::TaskNumbers>,
    /// Dropped (with everything in it) when the last handle goes, for temporary stores.
    temporary: Option<TemporarySchema>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool_size", &self.inner.pool.size())
            .field(
                "temporary_schema",
                &self.inner.temporary.as_ref().map(|t| &t.schema),
            )
            .finish()
    }
}

/// Quotes an identifier for SQL.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn check_config(config: &PgConfig) -> Result<PgConnectOptions, Error> {
    if config.max_connections == 0 {
        return Err(Error::Config("max_connections must be at least 1".into()));
    }
    if config.log_poll_interval_ms == 0 {
        return Err(Error::Config(
            "log_poll_interval_ms must be at least 1".into(),
        ));
    }
    if let Some(schema) = &config.schema {
        if schema.is_empty() || schema.len() > 63 || schema.contains('\0') {
            return Err(Error::Config(format!(
                "schema '{schema}' must have 1 to 63 bytes and no NUL"
            )));
        }
    }
    if !(config.url.starts_with("postgres://") || config.url.starts_with("postgresql://")) {
        return Err(Error::Config(format!(
            "'{}' is not a PostgreSQL URL: it must start with postgres:// or postgresql://",
            error::redact_url(&config.url)
        )));
    }
    PgConnectOptions::from_str(&config.url)
        .map(|o| o.application_name("tasklane"))
        .map_err(|e| {
            Error::Config(format!(
                "'{}' is not a PostgreSQL URL: {e}",
                error::redact_url(&config.url)
            ))
        })
}

/// A connection idle for this long is checked with a round trip (a ping) before it is handed
/// out; connections in steady use are not, so that a statement costs one round trip, not two.
/// (sqlx also pings every connection when it goes back to the pool, after the caller has its
/// answer; the committer and the task number task keep theirs while they work, see
/// `kept_connection`.)
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// The options of a pool of `connections`: every connection gets the schema as its
/// `search_path`, the statement timeout and then `setup`, and is named `application_name`.
fn pool_options(
    config: &PgConfig,
    connections: u32,
    application_name: &str,
    setup: &str,
) -> Result<(PgPoolOptions, PgConnectOptions), Error> {
    let options = check_config(config)?.application_name(application_name);
    let mut statements = String::new();
    if let Some(schema) = &config.schema {
        statements.push_str(&format!("SET search_path TO {};", quote_ident(schema)));
    }
    statements.push_str(&format!(
        "SET statement_timeout = {};",
        config.statement_timeout_ms
    ));
    statements.push_str(setup);
    let statements = Arc::new(statements);
    let pool = PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_millis(config.acquire_timeout_ms.max(1)))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                // A failed ping drops the connection and the pool tries another.
                if meta.idle_for >= IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _meta| {
            let statements = Arc::clone(&statements);
            Box::pin(async move {
                sqlx::raw_sql(AssertSqlSafe(statements.as_str()))
                    .execute(conn)
                    .await
                    .map(|_| ())
            })
        });
    Ok((pool, options))
}

/// The name of the committer's connection in `pg_stat_activity`.
const COMMITTER_APPLICATION_NAME: &str = "tasklane-committer";

/// Opens the committer's pool of `connections`, which connects on first use. Group commits
/// are the same few statements with new rows every time, so their connections plan them once
/// (`plan_cache_mode = force_generic_plan`): planning them again for every group cost a
/// fifth of the creation rate (see docs/BENCHMARKS.md).
fn commit_pool(config: &PgConfig, connections: u32) -> Result<PgPool, Error> {
    let (pool, options) = pool_options(
        config,
        connections,
        COMMITTER_APPLICATION_NAME,
        "SET plan_cache_mode = force_generic_plan;",
    )?;
    Ok(pool.connect_lazy_with(options))
}

/// Opens the pool: every connection gets the schema as its `search_path` and the statement
/// timeout. The first connection is opened now, so an unreachable database fails here.
async fn open_pool(config: &PgConfig) -> Result<PgPool, Error> {
    let (pool, options) = pool_options(config, config.max_connections, "tasklane", "")?;
    let pool = pool
        .connect_with(options)
        .await
        .map_err(|source| Error::Unreachable {
            url: error::redact_url(&config.url),
            source,
        })?;
    if let Some(schema) = &config.schema {
        let create = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
        if let Err(e) = sqlx::raw_sql(AssertSqlSafe(create)).execute(&pool).await {
            // Two processes creating it at once: one wins, the other sees a duplicate.
            let raced = matches!(error::sqlstate(&e).as_deref(), Some("23505" | "42P06"));
            if !raced {
                return Err(Error::Database(e));
            }
        }
    }
    Ok(pool)
}

/// The newest migration this build contains.
fn newest_known() -> i64 {
    MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// The versions applied to the database (empty when it was never migrated).
async fn applied_versions(pool: &PgPool) -> Result<Vec<i64>, Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(MIGRATIONS_TABLE)
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version"
    )))
    .fetch_all(pool)
    .await?)
}

/// Fails when the database holds a migration newer than this build knows.
async fn check_not_newer(pool: &PgPool) -> Result<(), Error> {
    let known = newest_known();
    if let Some(&found) = applied_versions(pool).await?.last() {
        if found > known {
            return Err(Error::SchemaTooNew { found, known });
        }
    }
    Ok(())
}

impl PgStore {
    /// Connects, applies pending migrations and returns the store.
    ///
    /// Fails with [`Error::Unreachable`] when the database cannot be reached within the acquire
    /// timeout, [`Error::SchemaTooNew`] when it was migrated by a newer build, and
    /// [`Error::Migrate`] when a migration fails or an applied one was changed.
    pub async fn connect(config: PgConfig) -> Result<Self, Error> {
        let pool = open_pool(&config).await?;
        migrate_up(&pool).await?;
        let store = Self::from_parts(&config, pool, None)?;
        store.wait_for_the_cache(&config).await;
        Ok(store)
    }

    /// Connects to a fresh schema with a unique name (or `config.schema`, which must then be new
    /// or disposable), migrates it, and drops the schema with everything in it when the last
    /// handle of the store is dropped. Made for tests: each gets an isolated, empty store.
    pub async fn connect_temporary(mut config: PgConfig) -> Result<Self, Error> {
        let schema = config
            .schema
            .clone()
            .unwrap_or_else(|| format!("tasklane_tmp_{}", uuid::Uuid::now_v7().simple()));
        config.schema = Some(schema.clone());
        let pool = open_pool(&config).await?;
        let temporary = TemporarySchema {
            url: config.url.clone(),
            schema,
        };
        // From here on the schema exists; dropping `temporary` on failure removes it.
        migrate_up(&pool).await?;
        let store = Self::from_parts(&config, pool, Some(temporary))?;
        store.wait_for_the_cache(&config).await;
        Ok(store)
    }

    /// Gives the listener up to the acquire timeout to hear its first heartbeat, so that a
    /// store serves from its record cache from its first request on. A listener that cannot
    /// connect yet does not stop the store: it keeps trying, and the cache serves once it is
    /// heard.
    async fn wait_for_the_cache(&self, config: &PgConfig) {
        let cache = &self.inner.cache;
        if cache.enabled() {
            let patience = Duration::from_millis(config.acquire_timeout_ms.max(1));
            if !cache.wait_until_serving(patience).await {
                tracing::warn!(
                    "the record cache's listener is not connected yet; reads go to the \
                     database until it is"
                );
            }
        }
    }

    fn from_parts(
        config: &PgConfig,
        pool: PgPool,
        temporary: Option<TemporarySchema>,
    ) -> Result<Self, Error> {
        // One committer task, on a connection of its own. A group's statement is serial work
        // either way (the log's lock is held through its commit), and a second committer only
        // split the groups and slowed creations by a sixth to a quarter (measured with 16
        // writers, see docs/BENCHMARKS.md).
        let commits = commit_pool(config, 1)?;
        let cache = Arc::new(cache::RecordCache::new(
            config.record_cache_capacity,
            usize::try_from(config.task_cache_bytes).unwrap_or(usize::MAX),
        ));
        let log_watch = log_watch::LogWatch::new(
            check_config(config)?,
            Duration::from_millis(config.log_poll_interval_ms),
            Arc::clone(&cache),
        );
        if cache.enabled() {
            // The cache serves only while the listener hears other processes' writes.
            log_watch.start_listener(&pool);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                log_watch,
                cache,
                committer: commit::Committer::new(commits, 1),
                task_numbers: numbers::TaskNumbers::new(pool.clone()),
                pool,
                temporary,
            }),
        })
    }

    pub(crate) fn log_watch_of_store(&self) -> &log_watch::LogWatch {
        &self.inner.log_watch
    }

    pub(crate) fn cache(&self) -> &cache::RecordCache {
        &self.inner.cache
    }

    pub(crate) fn committer(&self) -> &Arc<commit::Committer> {
        &self.inner.committer
    }

    pub(crate) fn task_numbers(&self) -> &Arc<numbers::TaskNumbers> {
        &self.inner.task_numbers
    }

    /// The group commit counters since the store was opened.
    pub fn commit_stats(&self) -> CommitStats {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.inner.committer.counters;
        CommitStats {
            bulk_transactions: c.bulk_transactions.load(Relaxed),
            bulk_commits: c.bulk_commits.load(Relaxed),
            bulk_fallbacks: c.bulk_fallbacks.load(Relaxed),
            single_statement_commits: c.single_statement_commits.load(Relaxed),
            task_numbers: self.inner.task_numbers.handed_out.load(Relaxed),
            task_number_increments: self.inner.task_numbers.increments.load(Relaxed),
        }
    }

    /// The record cache's counters since the store was opened.
    pub fn record_cache_stats(&self) -> RecordCacheStats {
        self.inner.cache.stats()
    }

    /// Closes the store's connections: the pool's and the committer's. Commits that are
    /// running finish first; every later call fails with
    /// [`StoreError::Unavailable`](tasklane_core::store::StoreError::Unavailable).
    pub async fn close(&self) {
        self.inner.pool.close().await;
        self.inner.committer.close().await;
    }

    /// The connection pool, for raw SQL next to the store (benchmark baselines, health checks).
    /// Closing it stops reads; [`Self::close`] closes the committer's connection too.
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// The migration administration over this store's connections.
    pub fn migrations(&self) -> PgMigrations {
        PgMigrations {
            pool: self.inner.pool.clone(),
        }
    }

    /// Reverts every migration: drops all of Tasklane's tables and their data. The store is
    /// unusable until [`PgMigrations::up`] runs again.
    pub async fn migrate_down_all(&self) -> Result<(), Error> {
        self.migrations().down_to(0).await
    }

    /// The state of every migration.
    pub async fn migration_status(&self) -> Result<Vec<MigrationStatus>, Error> {
        self.migrations().status().await
    }
}

async fn migrate_up(pool: &PgPool) -> Result<(), Error> {
    check_not_newer(pool).await?;
    // Migrations may take longer than a request's statement timeout: run them on one
    // connection without it, then restore the connection's setting (or drop the connection).
    let mut conn = pool.acquire().await?;
    let previous: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::raw_sql("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await?;
    let result = MIGRATOR.run(&mut *conn).await;
    let restored = sqlx::query("SELECT set_config('statement_timeout', $1, false)")
        .bind(&previous)
        .execute(&mut *conn)
        .await;
    if restored.is_err() {
        conn.detach();
    }
    result.map_err(|e| match e {
        sqlx::migrate::MigrateError::VersionMissing(found) => Error::SchemaTooNew {
            found,
            known: newest_known(),
        },
        other => Error::Migrate(other),
    })
}

/// Migration administration (`tasklane migrate up|down|status`), usable on a database whose
/// schema is absent, partial or too new for [`PgStore::connect`].
#[derive(Clone, Debug)]
pub struct PgMigrations {
    pool: PgPool,
}

impl PgMigrations {
    /// Connects without migrating.
    pub async fn connect(config: &PgConfig) -> Result<Self, Error> {
        Ok(Self {
            pool: open_pool(config).await?,
        })
    }

    /// Applies every pending migration.
    pub async fn up(&self) -> Result<(), Error> {
        migrate_up(&self.pool).await
    }

    /// Reverts the applied migrations newer than `version`, newest first (0 reverts all).
    pub async fn down_to(&self, version: i64) -> Result<(), Error> {
        check_not_newer(&self.pool).await?;
        MIGRATOR.undo(&self.pool, version).await?;
        Ok(())
    }

    /// Every migration this build knows, and any applied one it does not, by version.
    pub async fn status(&self) -> Result<Vec<MigrationStatus>, Error> {
        let applied = applied_versions(&self.pool).await?;
        let mut out: Vec<MigrationStatus> = MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
                known: true,
            })
            .collect();
        for version in applied {
            if !out.iter().any(|m| m.version == version) {
                out.push(MigrationStatus {
                    version,
                    description: "(unknown to this build)".into(),
                    applied: true,
                    known: false,
                });
            }
        }
        out.sort_by_key(|m| m.version);
        Ok(out)
    }
}

/// A schema dropped when the store that owns it goes.
struct TemporarySchema {
    url: String,
    schema: String,
}

impl Drop for TemporarySchema {
    fn drop(&mut self) {
        // Drop may run inside an async runtime, which must not be blocked on itself: do the
        // work on a thread of its own with a private runtime, and wait for it (best effort).
        let url = self.url.clone();
        let statement = format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(&self.schema)
        );
        let worker = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(options) = PgConnectOptions::from_str(&url) else {
                    return;
                };
                if let Ok(mut conn) = options.connect().await {
                    let _ = sqlx::raw_sql(AssertSqlSafe(statement))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = worker.join();
    }
}
