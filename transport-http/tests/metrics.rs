//! `GET /metrics`: Prometheus text without a token; requests counted by method, matched route
//! template and status, latency histograms, requests in flight, open connections, and the
//! engine's commit latency.

mod common;

use common::TestServer;
use serde_json::json;

/// The value of the sample `name{labels}` (labels in the exporter's order), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn requests_are_counted_by_matched_route() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    s.get("/me", &ada).await.expect(200);
    s.get("/me", &ada).await.expect(200);
    // A raw path with an id or key is counted under its route template.
    s.get("/tasks/ENG-12345", &ada).await.problem(404);
    s.call("GET", "/no/such/route", None, None)
        .await
        .problem(404);

    let r = s
        .call_with("GET", "/metrics", None, None, &[])
        .await
        .expect(200);
    assert!(
        r.content_type().starts_with("text/plain; version=0.0.4"),
        "{}",
        r.content_type()
    );
    let text = &r.text;
    // Other tests in this process add to the same counters: at least ours are there.
    let me = sample(
        text,
        r#"http_requests_total{method="GET",route="/api/v1/me",status="200"}"#,
    )
    .unwrap_or_else(|| panic!("no counter for GET /api/v1/me:\n{text}"));
    assert!(me >= 2.0, "{me}");
    assert!(
        sample(
            text,
            r#"http_requests_total{method="POST",route="/api/v1/auth/register",status="201"}"#
        )
        .is_some(),
        "{text}"
    );
    assert!(
        sample(
            text,
            r#"http_requests_total{method="GET",route="/api/v1/tasks/{task}",status="404"}"#
        )
        .is_some(),
        "{text}"
    );
    assert!(
        sample(
            text,
            r#"http_requests_total{method="GET",route="unmatched",status="404"}"#
        )
        .is_some(),
        "{text}"
    );
    assert!(
        !text.contains("ENG-12345"),
        "a raw path leaked into a label"
    );
    assert!(
        !text.contains("/no/such/route"),
        "a raw path leaked into a label"
    );
    // A histogram (buckets, sum, count) per route.
    assert!(
        text.contains(
            r#"http_request_duration_seconds_bucket{method="GET",route="/api/v1/me",le="0.005"}"#
        ),
        "{text}"
    );
    let count = sample(
        text,
        r#"http_request_duration_seconds_count{method="GET",route="/api/v1/me"}"#,
    )
    .expect("a histogram count");
    assert!(count >= 2.0);
    assert!(
        text.contains("# TYPE http_request_duration_seconds histogram"),
        "{text}"
    );
    // This very request is in flight, over at least this connection.
    let in_flight = sample(text, "http_requests_in_flight").expect("in flight");
    assert!(in_flight >= 1.0, "{in_flight}");
    let connections = sample(text, "http_open_connections").expect("open connections");
    assert!(connections >= 1.0, "{connections}");

    // /metrics itself is counted under its route.
    let r = s
        .call_with("GET", "/metrics", None, None, &[])
        .await
        .expect(200);
    assert!(
        sample(
            &r.text,
            r#"http_requests_total{method="GET",route="/metrics",status="200"}"#
        )
        .is_some(),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn many_routers_share_one_recorder() {
    // Building routers (and servers) over and over must not try to install a second recorder.
    for _ in 0..3 {
        let s = TestServer::start().await;
        s.call_with("GET", "/healthz", None, None, &[])
            .await
            .expect(200);
        s.call_with("GET", "/metrics", None, None, &[])
            .await
            .expect(200);
    }
}

/// The engine times every store commit: `tasklane_engine_commit_seconds{outcome}` is a histogram
/// with the engine's buckets, and creating a task adds to its count.
#[tokio::test]
async fn engine_commit_latency_is_a_histogram() {
    let s = TestServer::start().await;
    let commits = |text: &str| {
        sample(
            text,
            r#"tasklane_engine_commit_seconds_count{outcome="ok"}"#,
        )
    };
    let (ada, _) = s.register("Ada").await;
    let ws = s
        .post("/workspaces", &ada, json!({"name": "Analytical"}))
        .await
        .expect(201)
        .id();
    let p = s
        .post(
            &format!("/workspaces/{ws}/projects"),
            &ada,
            json!({"key": "ENG", "name": "Engine"}),
        )
        .await
        .expect(201)
        .id();
    let metrics = || async {
        s.call_with("GET", "/metrics", None, None, &[])
            .await
            .expect(200)
            .text
    };
    let before = commits(&metrics().await).expect("commits counted");
    assert!(before >= 3.0, "register, workspace, project: {before}");

    s.post(
        &format!("/projects/{p}/tasks"),
        &ada,
        json!({"title": "Design the mill"}),
    )
    .await
    .expect(201);
    let text = metrics().await;
    // Other tests in this process commit too: at least ours are counted.
    let after = commits(&text).unwrap_or_else(|| panic!("no commit histogram:\n{text}"));
    assert!(after >= before + 1.0, "{before} -> {after}");
    assert!(
        text.contains("# TYPE tasklane_engine_commit_seconds histogram"),
        "{text}"
    );
    // The engine's buckets (50 µs to 5 s), not the exporter's defaults.
    for le in ["0.00005", "0.001", "5"] {
        let bucket = format!(r#"tasklane_engine_commit_seconds_bucket{{outcome="ok",le="{le}"}}"#);
        assert!(text.contains(&bucket), "no {bucket}:\n{text}");
    }
    let sum = sample(
        text.as_str(),
        r#"tasklane_engine_commit_seconds_sum{outcome="ok"}"#,
    )
    .expect("a sum");
    assert!(sum > 0.0, "{sum}");
}
