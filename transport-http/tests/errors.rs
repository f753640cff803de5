//! Every failure is a problem document: framing (400, 413, 415), routing (404, 405) and input
//! validation (422), over a real HTTP connection.

mod common;

use common::TestServer;
use insta::assert_json_snapshot;
use serde_json::json;
use tasklane_http::HttpConfig;

#[tokio::test]
async fn framing_and_routing_errors() {
    let s = TestServer::start_with(HttpConfig {
        body_limit: 4096,
        ..HttpConfig::default()
    })
    .await;
    let (ada, _) = s.register("Ada").await;

    // Malformed JSON: 400.
    let r = s
        .raw(
            "POST",
            "/workspaces",
            Some(&ada),
            Some("application/json"),
            b"{\"name\": ".to_vec(),
        )
        .await
        .problem(400);
    assert_eq!(r.body["type"], json!("urn:tasklane:problem:malformed-json"));
    s.raw(
        "POST",
        "/workspaces",
        Some(&ada),
        Some("application/json"),
        b"".to_vec(),
    )
    .await
    .problem(400);
    s.raw(
        "POST",
        "/workspaces",
        Some(&ada),
        Some("application/json"),
        b"{\"name\": \"a\"} trailing".to_vec(),
    )
    .await
    .problem(400);

    // Wrong or missing content type: 415; a +json type and a charset are fine.
    s.raw(
        "POST",
        "/workspaces",
        Some(&ada),
        Some("text/plain"),
        b"{\"name\": \"a\"}".to_vec(),
    )
    .await
    .problem(415);
    s.raw(
        "POST",
        "/workspaces",
        Some(&ada),
        None,
        b"{\"name\": \"a\"}".to_vec(),
    )
    .await
    .problem(415);
    s.raw(
        "POST",
        "/workspaces",
        Some(&ada),
        Some("application/json; charset=utf-8"),
        b"{\"name\": \"a\"}".to_vec(),
    )
    .await
    .expect(201);
    s.raw(
        "POST",
        "/workspaces",
        Some(&ada),
        Some("application/merge-patch+json"),
        b"{\"name\": \"b\"}".to_vec(),
    )
    .await
    .expect(201);

    // Body over the limit: 413.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(10_000));
    let r = s
        .raw(
            "POST",
            "/workspaces",
            Some(&ada),
            Some("application/json"),
            big.into_bytes(),
        )
        .await
        .problem(413);
    assert_json_snapshot!("payload_too_large", r.body);

    // Not JSON at the top level of an object body: 422 on the body.
    let r = s
        .raw(
            "POST",
            "/workspaces",
            Some(&ada),
            Some("application/json"),
            b"[1, 2]".to_vec(),
        )
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], json!("body"));

    // Unknown route: 404, also outside /api/v1.
    let r = s.get("/nowhere", &ada).await.problem(404);
    assert_json_snapshot!("route_not_found", r.body);
    s.call_with("GET", "/elsewhere", None, None, &[])
        .await
        .problem(404);

    // Wrong method: 405 with Allow.
    let r = s
        .call("PUT", "/me", Some(&ada), Some(json!({})))
        .await
        .problem(405);
    assert_eq!(r.header("allow"), Some("GET,HEAD"));
    assert_json_snapshot!("method_not_allowed", r.body);
    s.call("DELETE", "/workspaces", Some(&ada), None)
        .await
        .problem(405);

    // Unknown fields in nested objects are named with their path.
    let r = s
        .call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": "a@b.c", "password": "x", "remember": true})),
        )
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], json!("remember"));
}

#[tokio::test]
async fn nested_unknown_fields_are_named_with_their_path() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    let ws = s
        .post("/workspaces", &ada, json!({"name": "W"}))
        .await
        .expect(201)
        .id();
    let p = s
        .post(
            &format!("/workspaces/{ws}/projects"),
            &ada,
            json!({"key": "ENG", "name": "E"}),
        )
        .await
        .expect(201)
        .id();
    s.post(&format!("/projects/{p}/tasks"), &ada, json!({"title": "a"}))
        .await
        .expect(201);
    let r = s
        .post(
            &format!("/projects/{p}/tasks/bulk"),
            &ada,
            json!({"task_ids": ["ENG-1"], "set": {"priority": "low", "colour": "red"}}),
        )
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], json!("set.colour"));
    let r = s
        .call(
            "PUT",
            &format!("/projects/{p}/workflow"),
            Some(&ada),
            Some(json!({"statuses": [{"name": "A", "category": "started", "icon": "x"}]})),
        )
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], json!("statuses[0].icon"));
}

#[tokio::test]
async fn nesting_under_a_prefix_keeps_locations_right() {
    let engine = tasklane_core::Engine::builder(tasklane_core::MemoryStore::new())
        .config(tasklane_core::EngineConfig::for_tests())
        .build();
    let app = axum::Router::new().nest(
        "/tasklane",
        tasklane_http::router(engine, HttpConfig::default()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();
    let r = client
        .post(format!("http://{addr}/tasklane/api/v1/auth/register"))
        .json(&json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["location"], "/tasklane/api/v1/me");
}
