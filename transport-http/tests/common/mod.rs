//! A real server on a loopback port over the in-memory store, and a small client for it.
#![allow(dead_code)]

use std::sync::Arc;

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use tasklane_core::{Engine, EngineConfig, ManualClock, MemoryStore, SequentialIds};
use tasklane_http::{router, HttpConfig};
use time::macros::datetime;

/// A served router. Ids are sequential and the clock stands still, so bodies are deterministic
/// except for token secrets.
pub struct TestServer {
    pub addr: std::net::SocketAddr,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
}

/// A response: status, headers and the body as JSON (`Value::Null` when empty).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("an id").to_owned()
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an error status with a problem document.
    #[track_caller]
    pub fn problem(self, status: u16) -> Self {
        let r = self.expect(status);
        assert_eq!(r.content_type(), "application/problem+json", "{}", r.text);
        assert_eq!(r.body["status"], json!(status), "{}", r.text);
        assert!(
            r.body["type"].is_string()
                && r.body["title"].is_string()
                && r.body["detail"].is_string(),
            "{}",
            r.text
        );
        r
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(HttpConfig::default()).await
    }

    pub async fn start_with(config: HttpConfig) -> Self {
        let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
        let engine = Engine::builder(MemoryStore::new())
            .clock(clock.clone())
            .ids(Arc::new(SequentialIds::new()))
            .config(EngineConfig::for_tests())
            .build();
        let app = router(engine, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, tasklane_http::count_connections(app))
                .await
                .unwrap();
        });
        TestServer {
            addr,
            client: reqwest::Client::new(),
            clock,
        }
    }

    /// `http://127.0.0.1:PORT` + `path` (a full path such as `/api/v1/me`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Calls `/api/v1` + `path`.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        self.call_with(method, &format!("/api/v1{path}"), token, body, &[])
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("POST", path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PATCH", path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.call("DELETE", path, Some(token), None).await
    }

    /// Any request to a full path, with extra headers.
    pub async fn call_with(
        &self,
        method: &str,
        full_path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(full_path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::finish(req.send().await.unwrap()).await
    }

    /// A request with a raw body and content type.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, self.url(&format!("/api/v1{path}")))
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        Self::finish(req.send().await.unwrap()).await
    }

    async fn finish(res: reqwest::Response) -> Resp {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    /// Registers a user; returns (token, user id).
    pub async fn register(&self, name: &str) -> (String, String) {
        let r = self
            .call(
                "POST",
                "/auth/register",
                None,
                Some(json!({"email": format!("{}@example.com", name.to_lowercase()), "password": "correct horse battery", "name": name})),
            )
            .await
            .expect(201);
        (
            r.body["token"].as_str().unwrap().to_owned(),
            r.body["user"]["id"].as_str().unwrap().to_owned(),
        )
    }
}

/// A router over an engine of the test's choosing, served on a loopback port with rate limits
/// off until [`ServedRouter::stop`]; tests that share or drop a store (a temporary PostgreSQL
/// schema, an instance restarted) need the server gone before they go on.
pub struct ServedRouter {
    pub server: Arc<TestServer>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl ServedRouter {
    /// Serves `router(engine)` (with `clock`, the engine's clock, for the [`TestServer`]).
    pub async fn start<S: tasklane_core::Store>(
        engine: Engine<S>,
        clock: Arc<ManualClock>,
    ) -> ServedRouter {
        let config = HttpConfig {
            rate_limit: tasklane_http::RateLimitConfig {
                enabled: false,
                ..tasklane_http::RateLimitConfig::default()
            },
            ..HttpConfig::default()
        };
        let app = tasklane_http::router(engine, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        let server = TestServer {
            addr,
            client: reqwest::Client::new(),
            clock,
        };
        ServedRouter {
            server: Arc::new(server),
            stop,
            task,
        }
    }

    /// Closes the client's connections and stops the server, so that the router (and its
    /// handle of the store) is dropped.
    pub async fn stop(self) {
        drop(self.server);
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), self.task).await;
    }
}

/// Sends `n` concurrent `POST /api/v1{path}` with the same `Idempotency-Key` and body, spread
/// over `servers` in turn, and returns their statuses.
pub async fn keyed_race(servers: &[&TestServer], token: &str, path: &str, n: usize) -> Vec<u16> {
    let mut handles = Vec::new();
    for i in 0..n {
        let s = servers[i % servers.len()];
        let request = s
            .client
            .post(s.url(&format!("/api/v1{path}")))
            .bearer_auth(token)
            .header("idempotency-key", "race")
            .json(&json!({"title": "Once"}));
        handles.push(tokio::spawn(async move {
            request.send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    statuses
}
