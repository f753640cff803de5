//! Login throttling per account and per address: after N failed logins within the window,
//! further attempts get 429 with `Retry-After` (even with the right password) until the window
//! passes; a success clears the account's failures. Time is the engine's (manual) clock.

mod common;

use std::time::Duration;

use common::{Resp, TestServer};
use serde_json::json;
use tasklane_http::{HttpConfig, LoginThrottleConfig, RateLimitConfig};

const RIGHT: &str = "correct horse battery";

fn config(per_account: u32, per_address: u32) -> HttpConfig {
    HttpConfig {
        // Request rate limits would interfere with counting attempts.
        rate_limit: RateLimitConfig {
            enabled: false,
            ..RateLimitConfig::default()
        },
        login_throttle: LoginThrottleConfig {
            enabled: true,
            max_failures_per_account: per_account,
            max_failures_per_address: per_address,
            window: Duration::from_secs(60),
        },
        ..HttpConfig::default()
    }
}

async fn login(s: &TestServer, email: &str, password: &str) -> Resp {
    s.call(
        "POST",
        "/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

fn retry_after(r: &Resp) -> u64 {
    r.header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds")
}

#[tokio::test]
async fn an_account_is_throttled_after_n_failures_until_the_window_passes() {
    let s = TestServer::start_with(config(3, 100)).await;
    s.register("Ada").await;
    for _ in 0..3 {
        login(&s, "ada@example.com", "wrong password")
            .await
            .problem(401);
    }
    // Even the right password is refused now, and so is any spelling of the address.
    let r = login(&s, "ada@example.com", RIGHT).await.problem(429);
    assert_eq!(r.body["type"], json!("urn:tasklane:problem:throttled"));
    assert_eq!(retry_after(&r), 60);
    assert_eq!(r.body["retry_after_seconds"], json!(60));
    login(&s, " ADA@example.com", RIGHT).await.problem(429);
    // Refused attempts do not extend the lock.
    s.clock.advance(time::Duration::seconds(45));
    let r = login(&s, "ada@example.com", "wrong password")
        .await
        .problem(429);
    assert_eq!(retry_after(&r), 15);
    // Other accounts are not affected.
    s.register("Bob").await;
    login(&s, "bob@example.com", RIGHT).await.expect(200);
    // Once the window has passed, the right password works.
    s.clock.advance(time::Duration::seconds(15));
    login(&s, "ada@example.com", RIGHT).await.expect(200);
}

#[tokio::test]
async fn a_success_clears_the_accounts_failures() {
    let s = TestServer::start_with(config(3, 100)).await;
    s.register("Ada").await;
    for _ in 0..2 {
        login(&s, "ada@example.com", "wrong password")
            .await
            .problem(401);
    }
    login(&s, "ada@example.com", RIGHT).await.expect(200);
    for _ in 0..2 {
        login(&s, "ada@example.com", "wrong password")
            .await
            .problem(401);
    }
    // Two failures since the success: still allowed.
    login(&s, "ada@example.com", RIGHT).await.expect(200);
    for _ in 0..3 {
        login(&s, "ada@example.com", "wrong password")
            .await
            .problem(401);
    }
    login(&s, "ada@example.com", RIGHT).await.problem(429);
}

#[tokio::test]
async fn an_address_is_throttled_across_accounts() {
    let s = TestServer::start_with(config(100, 3)).await;
    s.register("Ada").await;
    // Unknown accounts count too: nothing tells them from known ones.
    for who in ["x@example.com", "y@example.com"] {
        login(&s, who, "wrong password").await.problem(401);
    }
    // A success clears the account's failures, not the address's.
    login(&s, "ada@example.com", RIGHT).await.expect(200);
    s.clock.advance(time::Duration::seconds(10));
    login(&s, "z@example.com", "wrong password")
        .await
        .problem(401);
    let r = login(&s, "ada@example.com", RIGHT).await.problem(429);
    assert_eq!(
        retry_after(&r),
        50,
        "until the first failure leaves the window"
    );
    s.clock.advance(time::Duration::seconds(50));
    login(&s, "ada@example.com", RIGHT).await.expect(200);
}

#[tokio::test]
async fn unknown_accounts_are_throttled_like_known_ones() {
    let s = TestServer::start_with(config(2, 100)).await;
    for _ in 0..2 {
        login(&s, "nobody@example.com", "whatever it is")
            .await
            .problem(401);
    }
    login(&s, "nobody@example.com", "whatever it is")
        .await
        .problem(429);
}

#[tokio::test]
async fn throttling_can_be_switched_off() {
    let mut c = config(1, 1);
    c.login_throttle.enabled = false;
    let s = TestServer::start_with(c).await;
    s.register("Ada").await;
    for _ in 0..5 {
        login(&s, "ada@example.com", "wrong password")
            .await
            .problem(401);
    }
    login(&s, "ada@example.com", RIGHT).await.expect(200);
}

#[test]
fn the_default_policy() {
    let d = HttpConfig::default().login_throttle;
    assert!(d.enabled);
    assert_eq!(d.max_failures_per_account, 5);
    assert_eq!(d.max_failures_per_address, 5);
    assert_eq!(d.window, Duration::from_secs(15 * 60));
}
