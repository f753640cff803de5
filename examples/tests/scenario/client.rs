//! The walk's HTTP client: requests to the running server, each answer recorded under the route
//! it reached (method and path template from `tasklane_http::routes()`) with its status.

use std::collections::BTreeSet;
use std::sync::Mutex;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::Server;

/// One answer the walk saw: method, route template, status.
pub type Seen = (String, String, u16);

/// The walk: the server it currently talks to, what it has seen, and the served OpenAPI
/// document (the contract the coverage check holds the walk against).
pub struct Walk {
    server: Option<Server>,
    seen: Mutex<Vec<Seen>>,
    /// Where the current server's answers begin in `seen`.
    epoch: usize,
    pub doc: Value,
}

impl Walk {
    pub fn new(server: Server) -> Walk {
        Walk {
            server: Some(server),
            seen: Mutex::new(Vec::new()),
            epoch: 0,
            doc: Value::Null,
        }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("a running server")
    }

    /// Stops the current server with SIGTERM; it must exit cleanly.
    pub fn stop_server(&mut self) {
        let server = self.server.take().expect("a running server");
        let (status, log) = server.terminate();
        crate::assert_clean_exit(status, &log);
    }

    /// Continues the walk against `server`.
    pub fn resume(&mut self, server: Server) {
        assert!(self.server.is_none(), "stop the running server first");
        self.server = Some(server);
        self.epoch = self.seen.lock().unwrap().len();
    }

    /// A request to `/api/v1` + `path`.
    pub fn call(&self, method: &str, path: &str) -> Call<'_> {
        self.root(method, &format!("/api/v1{path}"))
    }

    /// A request to a path from the root of the server (`/healthz`, `/docs`).
    pub fn root(&self, method: &str, path: &str) -> Call<'_> {
        Call {
            walk: self,
            method: method.to_owned(),
            path: path.to_owned(),
            token: None,
            body: None,
            headers: Vec::new(),
        }
    }

    /// Every answer seen so far, without repetitions.
    pub fn seen(&self) -> BTreeSet<Seen> {
        self.seen.lock().unwrap().iter().cloned().collect()
    }

    /// The answers seen from the current server.
    pub fn seen_from_this_server(&self) -> Vec<Seen> {
        self.seen.lock().unwrap()[self.epoch..].to_vec()
    }

    /// Whether the served document says `method template` honours `If-Match`.
    pub fn honours_if_match(&self, method: &str, template: &str) -> bool {
        self.doc["paths"][template][method.to_lowercase()]["parameters"]
            .as_array()
            .is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["in"] == "header" && p["name"] == "If-Match")
            })
    }

    fn record(&self, method: &str, path: &str, status: u16) {
        if let Some(template) = route_of(method, path) {
            self.seen
                .lock()
                .unwrap()
                .push((method.to_owned(), template, status));
        }
    }

    fn fail(&self, why: String) -> ! {
        panic!(
            "{why}\n--- server stderr ---\n{}",
            self.server().stderr.lock().unwrap()
        );
    }
}

/// The served route (method and template) that `method path` reaches. Literal segments win
/// over parameters, as in the router.
pub fn route_of(method: &str, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    tasklane_http::routes()
        .into_iter()
        .filter(|r| r.method.as_str() == method)
        .filter(|r| {
            let template: Vec<&str> = r.path.split('/').collect();
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
        })
        .max_by_key(|r| r.path.split('/').filter(|t| !t.starts_with('{')).count())
        .map(|r| r.path)
}

/// A request under construction.
pub struct Call<'w> {
    walk: &'w Walk,
    method: String,
    path: String,
    token: Option<String>,
    body: Option<(String, Vec<u8>)>,
    headers: Vec<(String, String)>,
}

impl Call<'_> {
    /// Sends `Authorization: Bearer <token>`.
    pub fn by(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Sends `body` as JSON.
    pub fn json(self, body: Value) -> Self {
        self.raw("application/json", body.to_string())
    }

    /// Sends `bytes` with `content_type`.
    pub fn raw(mut self, content_type: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some((content_type.to_owned(), bytes.into()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends `If-Match: "<version>"`.
    pub fn if_match(self, version: u64) -> Self {
        self.header("if-match", &format!("\"{version}\""))
    }

    /// Sends the request and records the answer.
    pub async fn send(self) -> Resp {
        let server = self.walk.server();
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let mut req = server
            .http
            .request(method, format!("{}{}", server.base, self.path));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some((content_type, bytes)) = self.body {
            req = req.header("content-type", content_type).body(bytes);
        }
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        let res = match req.send().await {
            Ok(res) => res,
            Err(e) => self
                .walk
                .fail(format!("{} {}: no answer: {e}", self.method, self.path)),
        };
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.walk.record(&self.method, &self.path, status);
        Resp {
            method: self.method,
            path: self.path,
            status,
            headers,
            body,
            text,
        }
    }

    /// Sends the request and checks the status; every error must be a problem document.
    pub async fn expect(self, status: u16) -> Resp {
        let walk = self.walk;
        let r = self.send().await;
        if r.status != status {
            walk.fail(format!(
                "{} {}: expected {status}, got {}: {}",
                r.method, r.path, r.status, r.text
            ));
        }
        if status >= 400 {
            let problem = r.header("content-type") == Some("application/problem+json")
                && r.body["status"] == status
                && r.body["type"].is_string()
                && r.body["title"].is_string()
                && r.body["detail"].is_string();
            if !problem {
                walk.fail(format!(
                    "{} {}: {status} is not a problem document: {:?} {}",
                    r.method,
                    r.path,
                    r.header("content-type"),
                    r.text
                ));
            }
        }
        r
    }

    /// When the served document says this route honours `If-Match`, sends the request with a
    /// version that is long gone and expects 412; otherwise sends nothing (the request would
    /// succeed and change what later steps rely on).
    pub async fn refused_when_stale(self) {
        let Some(template) = route_of(&self.method, &self.path) else {
            self.walk
                .fail(format!("{} {} is no served route", self.method, self.path));
        };
        if self.walk.honours_if_match(&self.method, &template) {
            let r = self.if_match(999_999).expect(412).await;
            assert!(r.body["current_version"].is_u64(), "{}", r.text);
        }
    }
}

/// An answer: status, headers and the body as JSON (`Null` when empty or not JSON).
pub struct Resp {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `id` of the body.
    pub fn id(&self) -> String {
        self.str("id")
    }

    /// A string field of the body.
    pub fn str(&self, field: &str) -> String {
        match self.body[field].as_str() {
            Some(s) => s.to_owned(),
            None => panic!(
                "{} {}: no string {field:?} in {}",
                self.method, self.path, self.text
            ),
        }
    }

    /// The number of `items` of a list.
    pub fn items(&self) -> usize {
        match self.body["items"].as_array() {
            Some(items) => items.len(),
            None => panic!("{} {}: not a list: {}", self.method, self.path, self.text),
        }
    }

    /// The version in the `ETag` header.
    pub fn etag(&self) -> u64 {
        self.header("etag")
            .and_then(|t| t.trim_matches('"').parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "{} {}: no ETag in {:?}",
                    self.method, self.path, self.headers
                )
            })
    }
}
