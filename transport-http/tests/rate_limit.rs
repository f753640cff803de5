//! Rate limits: per token and per anonymous address, 429 with `Retry-After` and `RateLimit`
//! headers; probes are never limited; limits can be switched off.

mod common;

use common::TestServer;
use serde_json::json;
use tasklane_http::{HttpConfig, RateLimitConfig};

fn tight() -> HttpConfig {
    HttpConfig {
        rate_limit: RateLimitConfig {
            enabled: true,
            per_token_per_minute: 1,
            per_token_burst: 5,
            per_address_per_minute: 1,
            per_address_burst: 3,
        },
        ..HttpConfig::default()
    }
}

#[tokio::test]
async fn anonymous_calls_are_limited_per_address() {
    let s = TestServer::start_with(tight()).await;
    let login = json!({"email": "nobody@example.com", "password": "whatever it is"});
    for remaining in [2, 1, 0] {
        let r = s
            .call("POST", "/auth/login", None, Some(login.clone()))
            .await
            .problem(401);
        assert_eq!(r.header("ratelimit-limit"), Some("3"));
        assert_eq!(
            r.header("ratelimit-remaining"),
            Some(remaining.to_string().as_str())
        );
    }
    let r = s
        .call("POST", "/auth/login", None, Some(login))
        .await
        .problem(429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(r.body["type"], json!("urn:tasklane:problem:rate-limited"));
    // Probes stay reachable.
    s.call_with("GET", "/healthz", None, None, &[])
        .await
        .expect(200);
    s.call_with("GET", "/api/v1/readyz", None, None, &[])
        .await
        .expect(200);
}

#[tokio::test]
async fn each_token_has_its_own_bucket() {
    let s = TestServer::start_with(HttpConfig {
        rate_limit: RateLimitConfig {
            per_address_burst: 10,
            ..tight().rate_limit
        },
        ..tight()
    })
    .await;
    let (ada, _) = s.register("Ada").await;
    let (bob, _) = s.register("Bob").await;
    for _ in 0..5 {
        s.get("/me", &ada).await.expect(200);
    }
    let r = s.get("/me", &ada).await.problem(429);
    assert!(r.header("retry-after").is_some());
    s.get("/me", &bob).await.expect(200);
}

#[tokio::test]
async fn limits_can_be_switched_off() {
    let mut config = tight();
    config.rate_limit.enabled = false;
    let s = TestServer::start_with(config).await;
    let (ada, _) = s.register("Ada").await;
    for _ in 0..20 {
        let r = s.get("/me", &ada).await.expect(200);
        assert!(r.header("ratelimit-limit").is_none());
    }
}
