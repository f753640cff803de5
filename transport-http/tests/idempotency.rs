//! `Idempotency-Key` on creating POSTs, over loopback: a retry with the same key and body gets
//! the first answer and creates nothing; the same key with another body is a 409 naming the key.

mod common;

use common::{Resp, TestServer};
use serde_json::{json, Value};

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

/// A workspace and a project of `token`; returns (workspace id, project id).
async fn board(s: &TestServer, token: &str) -> (String, String) {
    let ws = s
        .post("/workspaces", token, json!({"name": "Engine"}))
        .await
        .expect(201)
        .id();
    let p = s
        .post(
            &format!("/workspaces/{ws}/projects"),
            token,
            json!({"key": "ENG", "name": "Engine"}),
        )
        .await
        .expect(201)
        .id();
    (ws, p)
}

fn count(r: &Resp) -> usize {
    r.body["items"].as_array().expect("a list").len()
}

#[tokio::test]
async fn a_retry_returns_the_first_answer_and_creates_nothing() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    let (_, p) = board(&s, &ada).await;
    let path = format!("/projects/{p}/tasks");
    let body = json!({"title": "Write the spec", "priority": "high"});

    let first = post_keyed(&s, &path, Some(&ada), body.clone(), "k-1")
        .await
        .expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post_keyed(&s, &path, Some(&ada), body.clone(), "k-1")
        .await
        .expect(201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.content_type(), "application/json");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // The same JSON value written differently is the same request.
    let reordered = post_keyed(
        &s,
        &path,
        Some(&ada),
        json!({"priority": "high", "title": "Write the spec"}),
        "k-1",
    )
    .await
    .expect(201);
    assert_eq!(reordered.body["id"], first.body["id"]);
    assert_eq!(count(&s.get(&path, &ada).await.expect(200)), 1);

    // The same key with another body: 409 naming the key, nothing created.
    let r = post_keyed(
        &s,
        &path,
        Some(&ada),
        json!({"title": "Something else"}),
        "k-1",
    )
    .await
    .problem(409);
    assert_eq!(r.body["idempotency_key"], json!("k-1"));
    assert_eq!(
        r.body["type"],
        json!("urn:tasklane:problem:idempotency-key-reused")
    );
    assert!(
        r.body["detail"].as_str().unwrap().contains("'k-1'"),
        "{}",
        r.text
    );
    assert_eq!(count(&s.get(&path, &ada).await.expect(200)), 1);

    // A new key is a new creation; no key at all, too.
    post_keyed(&s, &path, Some(&ada), body.clone(), "k-2")
        .await
        .expect(201);
    s.post(&path, &ada, body.clone()).await.expect(201);
    s.post(&path, &ada, body.clone()).await.expect(201);
    assert_eq!(count(&s.get(&path, &ada).await.expect(200)), 4);
}

#[tokio::test]
async fn keys_belong_to_their_caller_and_path() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    let (bob, _) = s.register("Bob").await;
    let (_, p) = board(&s, &ada).await;
    let (_, q) = board(&s, &bob).await;
    let body = json!({"title": "Same title"});
    let a = post_keyed(
        &s,
        &format!("/projects/{p}/tasks"),
        Some(&ada),
        body.clone(),
        "shared",
    )
    .await
    .expect(201);
    // Another caller with the same key and body is not given Ada's answer.
    let b = post_keyed(
        &s,
        &format!("/projects/{q}/tasks"),
        Some(&bob),
        body.clone(),
        "shared",
    )
    .await
    .expect(201);
    assert_ne!(a.body["id"], b.body["id"]);
    assert_eq!(b.header("idempotent-replayed"), None);
    // Another path with the same key is another request.
    let r = post_keyed(
        &s,
        "/workspaces",
        Some(&ada),
        json!({"name": "Second"}),
        "shared",
    )
    .await
    .expect(201);
    assert_eq!(r.body["name"], json!("Second"));
}

#[tokio::test]
async fn every_creating_route_replays() {
    let s = TestServer::start().await;
    // Registration is anonymous: keyed by the client address.
    let register =
        json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"});
    let first = post_keyed(&s, "/auth/register", None, register.clone(), "reg")
        .await
        .expect(201);
    let again = post_keyed(&s, "/auth/register", None, register, "reg")
        .await
        .expect(201);
    assert_eq!(
        first.body, again.body,
        "the retry is not a 409 duplicate e-mail"
    );
    let ada = first.body["token"].as_str().unwrap().to_owned();
    let (_, bob_id) = s.register("Bob").await;

    let ws = post_keyed(&s, "/workspaces", Some(&ada), json!({"name": "W"}), "ws")
        .await
        .expect(201)
        .id();
    let p = post_keyed(
        &s,
        &format!("/workspaces/{ws}/projects"),
        Some(&ada),
        json!({"key": "ENG", "name": "Engine"}),
        "p",
    )
    .await
    .expect(201)
    .id();
    let t1 = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            json!({"title": "One"}),
        )
        .await
        .expect(201)
        .id();
    let t2 = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            json!({"title": "Two"}),
        )
        .await
        .expect(201)
        .id();
    let cases: Vec<(String, Value, String)> = vec![
        (
            "/workspaces".into(),
            json!({"name": "W"}),
            "/workspaces".into(),
        ),
        (
            format!("/workspaces/{ws}/projects"),
            json!({"key": "OPS", "name": "Operations"}),
            format!("/workspaces/{ws}/projects"),
        ),
        (
            format!("/workspaces/{ws}/members"),
            json!({"user_id": bob_id, "role": "member"}),
            format!("/workspaces/{ws}/members"),
        ),
        (
            format!("/projects/{p}/labels"),
            json!({"name": "bug"}),
            format!("/projects/{p}/labels"),
        ),
        (
            format!("/projects/{p}/milestones"),
            json!({"name": "v1"}),
            format!("/projects/{p}/milestones"),
        ),
        (
            format!("/projects/{p}/tasks"),
            json!({"title": "Three"}),
            format!("/projects/{p}/tasks"),
        ),
        (
            format!("/tasks/{t1}/comments"),
            json!({"body": "hello"}),
            format!("/tasks/{t1}/comments"),
        ),
        (
            "/me/tokens".into(),
            json!({"name": "CI"}),
            "/me/tokens".into(),
        ),
        (
            format!("/tasks/{t1}/dependencies"),
            json!({"blocked_by": t2}),
            format!("/tasks/{t1}"),
        ),
    ];
    for (path, body, list) in cases {
        let key = format!("key:{path}");
        let before = s.get(&list, &ada).await.expect(200);
        let first = post_keyed(&s, &path, Some(&ada), body.clone(), &key).await;
        // The workspace and the project were created above with other keys: these create anew.
        assert_eq!(first.status, 201, "{path}: {}", first.text);
        let after_first = s.get(&list, &ada).await.expect(200);
        let again = post_keyed(&s, &path, Some(&ada), body, &key)
            .await
            .expect(201);
        assert_eq!(again.body, first.body, "{path}");
        assert_eq!(again.header("location"), first.header("location"), "{path}");
        assert_eq!(again.header("idempotent-replayed"), Some("true"), "{path}");
        let after_again = s.get(&list, &ada).await.expect(200);
        assert_eq!(
            after_again.body, after_first.body,
            "{path}: the retry changed something"
        );
        assert_ne!(
            after_first.body, before.body,
            "{path}: the first created nothing"
        );
    }
}

#[tokio::test]
async fn failed_first_attempts_are_kept_or_not_as_they_deserve() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    let (_, p) = board(&s, &ada).await;
    let path = format!("/projects/{p}/tasks");
    // A validation failure is the answer to that body: replayed.
    let r = post_keyed(&s, &path, Some(&ada), json!({"title": ""}), "bad")
        .await
        .problem(422);
    let again = post_keyed(&s, &path, Some(&ada), json!({"title": ""}), "bad")
        .await
        .problem(422);
    assert_eq!(r.body, again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // A 401 says nothing about the request: not kept.
    post_keyed(&s, &path, Some("tl_nope"), json!({"title": "x"}), "auth")
        .await
        .problem(401);
    let r = post_keyed(&s, &path, Some("tl_nope"), json!({"title": "x"}), "auth")
        .await
        .problem(401);
    assert_eq!(r.header("idempotent-replayed"), None);
}

#[tokio::test]
async fn malformed_keys_are_refused() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    let long = "k".repeat(256);
    for key in ["", "   ", "with space", long.as_str()] {
        let r = post_keyed(&s, "/workspaces", Some(&ada), json!({"name": "W"}), key)
            .await
            .problem(400);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{}",
            r.text
        );
    }
    assert_eq!(count(&s.get("/workspaces", &ada).await.expect(200)), 0);
}

#[tokio::test]
async fn concurrent_retries_create_once() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    let (_, p) = board(&s, &ada).await;
    let path = format!("/projects/{p}/tasks");
    let statuses = common::keyed_race(&[&s], &ada, &path, 8).await;
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201));
    assert_eq!(
        count(&s.get(&path, &ada).await.expect(200)),
        1,
        "{statuses:?}"
    );
    // Once the first is done, a retry is a replay.
    post_keyed(&s, &path, Some(&ada), json!({"title": "Once"}), "race")
        .await
        .expect(201);
    assert_eq!(count(&s.get(&path, &ada).await.expect(200)), 1);
}
