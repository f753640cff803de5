//! The record cache across server instances: two `PgStore`s with separate pools on one schema
//! stand for two processes, each with an engine. Instance A reads (and so caches) what instance
//! B then changes; A must see every change. A polls only once an hour, so within these tests
//! only B's announcements (or the reconnection after a lost connection) can make A forget.
//! Waits are bounded only to turn a missed change into a failure; they claim no speed.

mod common;

use std::future::Future;
use std::time::Duration;

use tasklane_core::engine::{Engine, EngineConfig, TaskListRequest, TaskPatch, TaskRef};
use tasklane_core::error::Error as EngineError;
use tasklane_core::testkit::Fixture;
use tasklane_storage_postgres::{PgConfig, PgStore};

/// How long a test waits for a change to show before it fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// A poll interval no test outlives (and so a lease no test outlives).
const ONE_HOUR_MS: u64 = 3_600_000;

/// Instance A (with the fixture's users, workspace and project) and instance B, an engine over
/// a second store on A's schema sharing A's clock.
async fn two_instances() -> Option<(Fixture<PgStore>, Engine<PgStore>, PgStore)> {
    let url = common::test_url()?;
    let config = PgConfig {
        log_poll_interval_ms: ONE_HOUR_MS,
        ..common::test_config(url)
    };
    let a = PgStore::connect_temporary(config.clone())
        .await
        .expect("instance A");
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(a.pool())
        .await
        .expect("read the schema");
    let b = PgStore::connect(config.with_schema(schema))
        .await
        .expect("instance B");
    let fx = Fixture::new(a).await;
    let engine_b = Engine::builder(b.clone())
        .clock(fx.clock.clone())
        .config(EngineConfig::for_tests())
        .build();
    Some((fx, engine_b, b))
}

/// Waits until `check` holds for what `read` gives, failing after [`PATIENCE`].
async fn eventually<T, F, Fut>(what: &str, mut read: F, check: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
    T: std::fmt::Debug,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let value = read().await;
        if check(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: still {value:?} after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Reads served from A's cache since `before` (by its hit counter).
fn hits_since(store: &PgStore, before: u64) -> u64 {
    store.record_cache_stats().hits - before
}

/// Tasks, blocker edges, memberships and tokens changed on B reach A's cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_on_one_instance_reach_the_other_instances_cache() {
    let Some((fx, engine_b, _b)) = two_instances().await else {
        return;
    };
    let a_store = fx.engine.store().clone();
    assert!(a_store.record_cache_stats().serving, "A's cache serves");
    let task = fx.task("cached").await;
    let blocker = fx.task("blocker").await;
    let id = TaskRef::Id(task.task.id);
    let get = || async { fx.engine.tasks().get(&fx.member, &id).await };

    // A reads the task twice: the second read is served by the cache.
    get().await.expect("first read");
    let before = a_store.record_cache_stats().hits;
    assert_eq!(get().await.expect("second read").task.title, "cached");
    assert!(
        hits_since(&a_store, before) > 0,
        "the second read hit the cache"
    );

    // A's page keeps the task too.
    let page = || async {
        fx.engine
            .tasks()
            .list(&fx.member, fx.project.id, TaskListRequest::default())
            .await
            .expect("a page on A")
            .items
            .into_iter()
            .map(|view| view.task.title)
            .collect::<Vec<_>>()
    };
    assert_eq!(page().await, ["cached", "blocker"]);
    assert_eq!(page().await, ["cached", "blocker"]);

    // A task update on B.
    engine_b
        .tasks()
        .update(
            &fx.member,
            &id,
            TaskPatch {
                title: Some("renamed on B".into()),
                ..TaskPatch::default()
            },
            None,
        )
        .await
        .expect("update on B");
    // A page lists the versions it found, so it never shows a kept task older than the page,
    // announcement or not.
    assert_eq!(page().await, ["renamed on B", "blocker"]);
    eventually(
        "the title on A",
        || async { get().await.expect("read").task.title },
        |title| title == "renamed on B",
    )
    .await;

    // A blocker edge added on B (A had kept the task's edges as none).
    engine_b
        .tasks()
        .add_dependency(&fx.member, &id, &TaskRef::Id(blocker.task.id))
        .await
        .expect("add a blocker on B");
    eventually(
        "the blockers on A",
        || async { get().await.expect("read").blocked_by },
        |blockers| blockers == &vec![blocker.task.id],
    )
    .await;

    // The member removed from the workspace on B: on A the task disappears for them.
    engine_b
        .workspaces()
        .remove_member(&fx.owner, fx.workspace.id, fx.member.user_id, None)
        .await
        .expect("remove the member on B");
    let _ = eventually(
        "the removed member's read on A",
        || async { get().await.map(|view| view.task.title) },
        |read| matches!(read, Err(EngineError::NotFound { .. })),
    )
    .await;

    // A token that A authenticated (and so cached) is revoked on B.
    let (_, issued) = fx
        .engine
        .accounts()
        .login("adam@example.com", "password123")
        .await
        .expect("log in on A");
    let actor = fx
        .engine
        .accounts()
        .authenticate(&issued.secret)
        .await
        .expect("authenticate on A");
    // The first authentication recorded the token's use (a write, which A forgets); the second
    // reads it afresh and keeps it; the third is served by the cache.
    for _ in 0..2 {
        fx.engine
            .accounts()
            .authenticate(&issued.secret)
            .await
            .expect("authenticate again on A");
    }
    let before = a_store.record_cache_stats().hits;
    fx.engine
        .accounts()
        .authenticate(&issued.secret)
        .await
        .expect("authenticate again on A");
    assert!(hits_since(&a_store, before) > 0, "the token was cached");
    engine_b
        .accounts()
        .logout(&actor)
        .await
        .expect("log out on B");
    let _ = eventually(
        "the revoked token on A",
        || async { fx.engine.accounts().authenticate(&issued.secret).await },
        |auth| matches!(auth, Err(EngineError::Unauthenticated)),
    )
    .await;
}

/// When A's listener connection is killed, whatever A kept may have missed announcements: it
/// forgets everything. A change made behind Tasklane's back (raw SQL, never announced) shows
/// exactly that: A keeps serving the old record until its listener is killed, then reads the
/// new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_listener_connection_forgets_what_was_kept() {
    let Some((fx, _engine_b, b)) = two_instances().await else {
        return;
    };
    let task = fx.task("before the kill").await;
    let id = TaskRef::Id(task.task.id);
    let get = || async { fx.engine.tasks().get(&fx.member, &id).await };
    get().await.expect("read on A");

    sqlx::query(
        "UPDATE tasks SET doc = jsonb_set(doc, '{title}', to_jsonb('changed behind'::text)) \
         WHERE id = $1",
    )
    .bind(task.task.id.0)
    .execute(b.pool())
    .await
    .expect("change the task with raw SQL");
    assert_eq!(
        get().await.expect("read on A").task.title,
        "before the kill",
        "unannounced changes are not seen while A keeps the task"
    );

    // Both instances' listeners carry the schema's name; kill them all.
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(b.pool())
        .await
        .expect("read the schema");
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind({
        let mut name = format!("tasklane-log-listener {schema}");
        name.truncate(63);
        name
    })
    .fetch_all(b.pool())
    .await
    .expect("terminate the listeners");
    assert_eq!(killed, vec![true, true], "both instances' listeners");

    eventually(
        "the title on A",
        || async { get().await.expect("read").task.title },
        |title| title == "changed behind",
    )
    .await;
    // And A's cache serves again once it hears its listener.
    let a_store = fx.engine.store().clone();
    eventually(
        "A's cache serving again",
        || async { a_store.record_cache_stats().serving },
        |serving| *serving,
    )
    .await;
}
