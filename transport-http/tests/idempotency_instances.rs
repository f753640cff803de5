//! `Idempotency-Key` across server instances: two routers (two "instances", each with its own
//! engine) over one store, served on loopback. A retry that lands on the other instance gets
//! the first answer and creates nothing, concurrent retries spread over both create once, and
//! a restarted instance still replays. Runs on the in-memory store (one store shared by both
//! engines) and on PostgreSQL with two separate connection pools to one schema (the database
//! in `TASKLANE_TEST_DATABASE_URL`; when it is unset the test prints a notice and passes,
//! unless `TASKLANE_REQUIRE_PG=1` makes that a failure).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Resp, ServedRouter, TestServer};
use serde_json::{json, Value};
use tasklane_core::{Engine, EngineConfig, ManualClock, MemoryStore, Store};
use tasklane_storage_postgres::{PgConfig, PgStore};
use time::macros::datetime;

/// One instance: a router over its own engine over `store` (shared with other instances),
/// with `clock`. Ids are UUIDv7, so that instances never hand out the same one.
async fn instance<S: Store>(store: Arc<S>, clock: Arc<ManualClock>) -> ServedRouter {
    let engine = Engine::builder_shared(store)
        .clock(clock.clone())
        .config(EngineConfig::for_tests())
        .build();
    ServedRouter::start(engine, clock).await
}

async fn post_keyed(
    s: &TestServer,
    path: &str,
    token: Option<&str>,
    body: Value,
    key: &str,
) -> Resp {
    s.call_with(
        "POST",
        &format!("/api/v1{path}"),
        token,
        Some(body),
        &[("idempotency-key", key)],
    )
    .await
}

fn count(r: &Resp) -> usize {
    r.body["items"].as_array().expect("a list").len()
}

/// The whole scenario over two handles of one store (`a` and `b` may be the same handle or
/// separate connections to the same data); `c` serves as the restarted first instance.
async fn across_instances<S: Store>(a: Arc<S>, b: Arc<S>, c: Arc<S>) {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
    let one = instance(a, clock.clone()).await;
    let two = instance(b, clock.clone()).await;
    let (s1, s2) = (&one.server, &two.server);

    // Registration is anonymous (keyed by the client address, the same for both instances):
    // the retry on the second instance is a replay, not a 409 for a taken e-mail.
    let register =
        json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"});
    let first = post_keyed(s1, "/auth/register", None, register.clone(), "reg")
        .await
        .expect(201);
    let again = post_keyed(s2, "/auth/register", None, register, "reg")
        .await
        .expect(201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let ada = first.body["token"].as_str().unwrap().to_owned();

    let ws = s1
        .post("/workspaces", &ada, json!({"name": "Engine"}))
        .await
        .expect(201)
        .id();
    let p = s1
        .post(
            &format!("/workspaces/{ws}/projects"),
            &ada,
            json!({"key": "ENG", "name": "Engine"}),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{p}/tasks");
    let body = json!({"title": "Write the spec", "priority": "high"});

    // The first request on instance one, its retry on instance two.
    let first = post_keyed(s1, &path, Some(&ada), body.clone(), "k-1")
        .await
        .expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post_keyed(s2, &path, Some(&ada), body.clone(), "k-1")
        .await
        .expect(201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.content_type(), "application/json");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(count(&s2.get(&path, &ada).await.expect(200)), 1);
    assert_eq!(count(&s1.get(&path, &ada).await.expect(200)), 1);

    // The same key with another body, on either instance: 409 naming the key.
    for s in [s1, s2] {
        let r = post_keyed(s, &path, Some(&ada), json!({"title": "Else"}), "k-1")
            .await
            .problem(409);
        assert_eq!(
            r.body["type"],
            json!("urn:tasklane:problem:idempotency-key-reused")
        );
        assert_eq!(r.body["idempotency_key"], json!("k-1"));
    }

    // A 422 is an answer to that body: kept, and replayed by the other instance.
    let bad = post_keyed(s2, &path, Some(&ada), json!({"title": ""}), "bad")
        .await
        .problem(422);
    let bad_again = post_keyed(s1, &path, Some(&ada), json!({"title": ""}), "bad")
        .await
        .problem(422);
    assert_eq!(bad_again.body, bad.body);
    assert_eq!(bad_again.header("idempotent-replayed"), Some("true"));

    // Concurrent retries spread over both instances create once.
    let statuses = common::keyed_race(&[s1, s2], &ada, &path, 8).await;
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201), "{statuses:?}");
    assert_eq!(
        count(&s1.get(&path, &ada).await.expect(200)),
        2,
        "{statuses:?}"
    );
    for s in [s1, s2] {
        let r = post_keyed(s, &path, Some(&ada), json!({"title": "Once"}), "race")
            .await
            .expect(201);
        assert_eq!(r.header("idempotent-replayed"), Some("true"));
    }

    // Instance one goes away; a new one over the same store still replays its answers.
    one.stop().await;
    let three = instance(c, clock.clone()).await;
    let replayed = post_keyed(&three.server, &path, Some(&ada), body.clone(), "k-1")
        .await
        .expect(201);
    assert_eq!(replayed.body, first.body);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(count(&three.server.get(&path, &ada).await.expect(200)), 2);

    // After 24 hours the answer is gone: the same key creates anew.
    clock.advance(time::Duration::hours(24));
    let later = post_keyed(s2, &path, Some(&ada), body.clone(), "k-1")
        .await
        .expect(201);
    assert_eq!(later.header("idempotent-replayed"), None);
    assert_ne!(later.body["id"], first.body["id"]);
    assert_eq!(count(&s2.get(&path, &ada).await.expect(200)), 3);

    three.stop().await;
    two.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_on_another_instance_replays_in_memory() {
    let store = Arc::new(MemoryStore::new());
    across_instances(store.clone(), store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_on_another_instance_replays_on_postgres() {
    let Some((a, b)) = two_postgres_stores().await else {
        return;
    };
    let (a, b) = (Arc::new(a), Arc::new(b));
    across_instances(a.clone(), b, a).await;
}

/// Expired entries are purged by a keyed request once the purge interval has passed (seen
/// on PostgreSQL, whose table can be counted without purging).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_keys_are_purged_on_postgres() {
    let Some((a, _)) = two_postgres_stores().await else {
        return;
    };
    let store = Arc::new(a);
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
    let one = instance(store.clone(), clock.clone()).await;
    let s = &one.server;
    let (ada, _) = s.register("Ada").await;
    for key in ["w-1", "w-2", "w-3"] {
        post_keyed(s, "/workspaces", Some(&ada), json!({"name": key}), key)
            .await
            .expect(201);
    }
    assert_eq!(key_rows(&store).await, 3);
    clock.advance(time::Duration::hours(25));
    post_keyed(s, "/workspaces", Some(&ada), json!({"name": "w-4"}), "w-4")
        .await
        .expect(201);
    // The purge runs in a task of its own: wait for it.
    let mut left = key_rows(&store).await;
    for _ in 0..200 {
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        left = key_rows(&store).await;
    }
    assert_eq!(left, 1, "only the live key is left");
    one.stop().await;
}

/// How many idempotency keys the PostgreSQL store holds, expired ones included.
async fn key_rows(store: &PgStore) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Two stores with separate connection pools on one fresh schema (dropped with the first);
/// `None` (with a notice) when `TASKLANE_TEST_DATABASE_URL` is unset, a failure instead when
/// `TASKLANE_REQUIRE_PG=1`.
async fn two_postgres_stores() -> Option<(PgStore, PgStore)> {
    let url = match std::env::var("TASKLANE_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            assert!(
                std::env::var("TASKLANE_REQUIRE_PG").as_deref() != Ok("1"),
                "TASKLANE_REQUIRE_PG=1 but TASKLANE_TEST_DATABASE_URL is not set"
            );
            eprintln!("notice: TASKLANE_TEST_DATABASE_URL is not set; skipping a PostgreSQL test");
            return None;
        }
    };
    let config = PgConfig {
        max_connections: 4,
        acquire_timeout_ms: 30_000,
        ..PgConfig::new(url)
    };
    let first = PgStore::connect_temporary(config.clone())
        .await
        .expect("connect to the test database");
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(first.pool())
        .await
        .unwrap();
    let second = PgStore::connect(config.with_schema(schema))
        .await
        .expect("a second connection pool to the same schema");
    Some((first, second))
}
