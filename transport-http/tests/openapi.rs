//! The OpenAPI document: a snapshot of the whole of it (every API change shows in review), served
//! without a token; every route the router serves is documented and every documented operation
//! is served; the docs page and its files work without internet access.

mod common;

use std::collections::BTreeSet;

use common::TestServer;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// (method, path) of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn the_document_is_stable() {
    let doc = tasklane_http::openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    insta::assert_json_snapshot!("openapi", doc, {".info.version" => "[version]"});
}

#[test]
fn every_served_route_is_documented_and_nothing_else() {
    let doc = tasklane_http::openapi();
    let served: BTreeSet<(String, String)> = tasklane_http::routes()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    assert!(served.len() >= 60, "{} routes", served.len());
    let documented = documented(&doc);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but missing from the OpenAPI document (add #[utoipa::path] and list the handler in openapi.rs): {undocumented:?}"
    );
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
}

#[test]
fn operations_are_well_formed() {
    let doc = tasklane_http::openapi();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = format!("{method} {path}");
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{at}: no operationId"));
            assert!(
                ids.insert(id.to_owned()),
                "{at}: duplicate operationId {id}"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| t.len() == 1),
                "{at}: one tag"
            );
            let responses = op["responses"].as_object().unwrap();
            let codes: BTreeSet<&str> = responses.keys().map(String::as_str).collect();
            assert!(
                codes.iter().any(|c| c.starts_with('2')),
                "{at}: no success response"
            );
            for always in ["408", "500"] {
                assert!(codes.contains(always), "{at}: no {always}");
            }
            let secured = op.get("security").is_some();
            let public = path.starts_with("/api/v1/auth/register")
                || path.starts_with("/api/v1/auth/login")
                || !path.starts_with("/api/v1/")
                || path.ends_with("/healthz")
                || path.ends_with("/readyz")
                || path.ends_with("/openapi.json");
            assert_eq!(secured, !public, "{at}: security");
            if secured {
                assert!(codes.contains("401"), "{at}: no 401");
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "413", "415", "422"] {
                    assert!(codes.contains(code), "{at}: body but no {code}");
                }
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                assert!(codes.contains("404"), "{at}: path parameters but no 404");
            }
            if params.iter().any(|p| p["name"] == "If-Match") {
                assert!(codes.contains("412"), "{at}: If-Match but no 412");
            }
            if ["patch", "delete", "put"].contains(&method) && secured {
                assert!(
                    params.iter().any(|p| p["name"] == "If-Match"),
                    "{at}: no If-Match"
                );
            }
            if method != "get" && secured && path != "/api/v1/auth/logout" {
                assert!(codes.contains("403"), "{at}: a write without 403");
            }
        }
    }
    let schemes = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(schemes["type"], "http");
    assert_eq!(schemes["scheme"], "bearer");
}

/// Every `$ref` of the document names something the document defines.
#[test]
fn every_reference_resolves() {
    fn walk<'a>(v: &'a Value, refs: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    refs.push(r);
                }
                m.values().for_each(|v| walk(v, refs));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let doc = tasklane_http::openapi();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(refs.len() > 100);
    for r in refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

#[tokio::test]
async fn the_document_is_served_without_a_token() {
    let s = TestServer::start().await;
    let r = s
        .call_with("GET", "/api/v1/openapi.json", None, None, &[])
        .await
        .expect(200);
    assert!(
        r.content_type().starts_with("application/json"),
        "{}",
        r.content_type()
    );
    assert_eq!(r.body, tasklane_http::openapi());
}

#[tokio::test]
async fn the_docs_page_works_offline() {
    let s = TestServer::start().await;
    let r = s
        .call_with("GET", "/docs", None, None, &[])
        .await
        .expect(200);
    assert!(
        r.content_type().starts_with("text/html"),
        "{}",
        r.content_type()
    );
    assert!(r.text.contains("<base href=\"/docs/\">"), "{}", r.text);
    assert!(r.text.contains("<title>Tasklane API</title>"));
    // Every file the page loads is served, and nothing is fetched from elsewhere.
    let mut files = Vec::new();
    for chunk in r.text.split(['"', '\'']) {
        if chunk.ends_with(".js") || chunk.ends_with(".css") || chunk.ends_with(".png") {
            assert!(!chunk.contains("://"), "an external file: {chunk}");
            files.push(chunk.trim_start_matches("./").to_owned());
        }
    }
    assert!(files.len() >= 5, "{files:?}");
    for file in &files {
        let r = s
            .call_with("GET", &format!("/docs/{file}"), None, None, &[])
            .await
            .expect(200);
        assert!(!r.text.is_empty() || file.ends_with(".png"), "{file}");
    }
    let r = s
        .call_with("GET", "/docs/swagger-initializer.js", None, None, &[])
        .await
        .expect(200);
    assert!(r.text.contains("\"/api/v1/openapi.json\""), "{}", r.text);
    assert!(
        r.content_type().contains("javascript"),
        "{}",
        r.content_type()
    );
    // Anything else under /docs is a 404 problem.
    s.call_with("GET", "/docs/../Cargo.toml", None, None, &[])
        .await
        .problem(404);
    s.call_with("GET", "/docs/swagger-ui.js.map", None, None, &[])
        .await
        .problem(404);
}

#[tokio::test]
async fn the_docs_follow_a_prefix() {
    let engine = tasklane_core::Engine::new(tasklane_core::MemoryStore::new());
    let app = axum::Router::new().nest(
        "/tasklane",
        tasklane_http::router(engine, tasklane_http::HttpConfig::default()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();
    let page = client
        .get(format!("http://{addr}/tasklane/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<base href=\"/tasklane/docs/\">"), "{page}");
    let init = client
        .get(format!(
            "http://{addr}/tasklane/docs/swagger-initializer.js"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("\"/tasklane/api/v1/openapi.json\""), "{init}");
    let r = client
        .get(format!("http://{addr}/tasklane/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn creating_posts_take_an_idempotency_key() {
    let doc = tasklane_http::openapi();
    let mut creating = 0;
    for route in tasklane_http::routes() {
        let method = route.method.as_str().to_lowercase();
        let op = &doc["paths"][&route.path][&method];
        let at = format!("{method} {}", route.path);
        let documented = op["parameters"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
        });
        assert_eq!(
            documented, route.idempotent,
            "{at}: Idempotency-Key documented or not as served"
        );
        let creates = method == "post" && op["responses"].get("201").is_some();
        assert_eq!(
            creates, route.idempotent,
            "{at}: a creating POST must be added with Table::create"
        );
        creating += usize::from(creates);
    }
    assert!(creating >= 10, "{creating}");
}

/// JSON Schema's `integer` admits `60.0`; so does the server.
#[tokio::test]
async fn integers_with_a_zero_fraction_are_accepted() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    let ws = s
        .post("/workspaces", &ada, serde_json::json!({"name": "W"}))
        .await
        .expect(201)
        .id();
    let p = s
        .post(
            &format!("/workspaces/{ws}/projects"),
            &ada,
            serde_json::json!({"key": "ENG", "name": "Engine"}),
        )
        .await
        .expect(201)
        .id();
    let r = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            serde_json::json!({"title": "T", "estimate_seconds": 3600.0}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["estimate_seconds"], 3600);
    let t = r.id();
    let r = s
        .patch(
            &format!("/tasks/{t}"),
            &ada,
            serde_json::json!({"estimate_seconds": 60.0}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["estimate_seconds"], 60);
    s.patch(
        &format!("/tasks/{t}"),
        &ada,
        serde_json::json!({"estimate_seconds": null}),
    )
    .await
    .expect(200);
    let r = s
        .patch(
            &format!("/tasks/{t}"),
            &ada,
            serde_json::json!({"estimate_seconds": 1.5}),
        )
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "estimate_seconds");
    s.post(
        &format!("/projects/{p}/tasks"),
        &ada,
        serde_json::json!({"title": "T", "estimate_seconds": -1}),
    )
    .await
    .problem(422);
}
