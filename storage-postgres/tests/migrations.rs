//! Migrations: up, all down, up again on a fresh schema; status; clear errors at start-up.

mod common;

use std::time::{Duration, Instant};

use tasklane_core::store::{Commit, Record, Store};
use tasklane_core::{User, UserId};
use tasklane_storage_postgres::{Error, PgConfig, PgMigrations, PgStore, MIGRATIONS_TABLE};

/// The tables Tasklane owns, for checking that down removes them all.
async fn tables(store: &PgStore) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_name <> $1 \
         ORDER BY table_name",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// The versions this build knows: all of them are applied to a fresh store.
async fn known_versions(store: &PgStore) -> Vec<i64> {
    let status = store.migration_status().await.unwrap();
    assert!(status.iter().all(|m| m.known));
    status.iter().map(|m| m.version).collect()
}

fn user(email: &str) -> User {
    User {
        id: UserId(uuid::Uuid::now_v7()),
        email: email.into(),
        name: "U".into(),
        password_hash: "x".into(),
        is_server_admin: false,
        disabled: false,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        version: 1,
    }
}

#[tokio::test]
async fn up_then_all_down_then_up_again() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let versions = known_versions(&store).await;
    assert!(
        versions.len() >= 3,
        "the schema comes in several migrations"
    );
    let status = store.migration_status().await.unwrap();
    assert_eq!(
        status.iter().map(|m| m.version).collect::<Vec<_>>(),
        versions
    );
    assert!(status.iter().all(|m| m.applied && m.known), "{status:?}");
    let expected_tables = vec![
        "comments",
        "dependencies",
        "event_log",
        "events",
        "idempotency_keys",
        "labels",
        "memberships",
        "milestones",
        "projects",
        "task_counters",
        "tasks",
        "tokens",
        "users",
        "workflows",
        "workspaces",
    ];
    assert_eq!(tables(&store).await, expected_tables);

    // Some data, so that down has something to drop.
    let mut c = Commit::new();
    c.insert(Record::User(user("a@example.com")));
    store.commit(c).await.unwrap();

    store.migrate_down_all().await.unwrap();
    assert_eq!(
        tables(&store).await,
        Vec::<String>::new(),
        "down removes every table"
    );
    let status = store.migration_status().await.unwrap();
    assert!(status.iter().all(|m| !m.applied), "{status:?}");

    // Partial: up to the first migration only, then down to it is a no-op, then all up.
    let migrations = store.migrations();
    migrations.up().await.unwrap();
    migrations.down_to(versions[0]).await.unwrap();
    let status = store.migration_status().await.unwrap();
    assert_eq!(
        status
            .iter()
            .filter(|m| m.applied)
            .map(|m| m.version)
            .collect::<Vec<_>>(),
        vec![versions[0]]
    );
    migrations.up().await.unwrap();
    assert_eq!(tables(&store).await, expected_tables);

    // The store works again, empty.
    assert_eq!(store.user_count().await.unwrap(), 0);
    assert_eq!(store.last_seq().await.unwrap(), 0);
    let mut c = Commit::new();
    c.insert(Record::User(user("a@example.com")));
    store.commit(c).await.unwrap();
    assert_eq!(store.user_count().await.unwrap(), 1);
}

#[tokio::test]
async fn connecting_migrates_once_and_reconnecting_is_a_no_op() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let url = common::test_url().unwrap();
    let mut c = Commit::new();
    c.insert(Record::User(user("keep@example.com")));
    store.commit(c).await.unwrap();
    // Another application's sqlx migrations in the same schema are none of Tasklane's business.
    sqlx::raw_sql(
        "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text, \
         installed_on timestamptz, success boolean, checksum bytea, execution_time bigint); \
         INSERT INTO _sqlx_migrations VALUES (20991231000000, 'theirs', now(), true, '\\x00', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    // A second store on the same schema sees the data and applies nothing.
    let again = PgStore::connect(common::test_config(url).with_schema(schema))
        .await
        .unwrap();
    assert_eq!(again.user_count().await.unwrap(), 1);
    assert!(again
        .migration_status()
        .await
        .unwrap()
        .iter()
        .all(|m| m.applied));
}

#[tokio::test]
async fn a_schema_newer_than_the_code_is_a_clear_error() {
    let Some(store) = common::test_store().await else {
        return;
    };
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let known = *known_versions(&store).await.last().unwrap();
    // A later build applied migration 9999.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {MIGRATIONS_TABLE} (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', true, '\\x00', 0)"
    )))
    .execute(store.pool())
    .await
    .unwrap();
    let config = common::test_config(common::test_url().unwrap()).with_schema(schema);
    let err = PgStore::connect(config.clone())
        .await
        .expect_err("a newer schema must be refused");
    match &err {
        Error::SchemaTooNew {
            found,
            known: newest,
        } => {
            assert_eq!(*found, 9999);
            assert_eq!(*newest, known);
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(err.to_string().contains("newer"), "{err}");
    // Status still works and shows the stranger.
    let admin = PgMigrations::connect(&config).await.unwrap();
    let status = admin.status().await.unwrap();
    let last = status.last().unwrap();
    assert_eq!(
        (last.version, last.applied, last.known),
        (9999, true, false)
    );
    // Down refuses too: it cannot revert what it does not know.
    assert!(matches!(
        admin.down_to(0).await,
        Err(Error::SchemaTooNew { .. })
    ));
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    // No server listens on port 1; this needs no database, so it always runs.
    let config = PgConfig {
        acquire_timeout_ms: 2_000,
        ..PgConfig::new("postgres://someone:hunter2@127.0.0.1:1/nothing")
    };
    let started = Instant::now();
    let err = PgStore::connect(config)
        .await
        .expect_err("nothing listens there");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(
        !message.contains("hunter2"),
        "the password is not shown: {message}"
    );
}

#[tokio::test]
async fn a_malformed_configuration_is_a_clear_error() {
    let err = PgStore::connect(PgConfig::new("mysql://nope"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    let err = PgStore::connect(PgConfig {
        max_connections: 0,
        ..PgConfig::new("postgres://127.0.0.1/x")
    })
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}
