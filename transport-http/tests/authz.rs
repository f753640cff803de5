//! The authorization matrix: every route that acts for a signed-in user, called by every role of
//! a workspace (owner, admin, member, guest), by an outsider (the owner of a second workspace)
//! and with a read-only token. Outsiders get 404, because an object's existence is never
//! revealed; roles too weak get 403; read-only tokens get 403 on every write.
//!
//! The same matrix runs on every store: in memory, on sled and on PostgreSQL (the database in
//! `TASKLANE_TEST_DATABASE_URL`, a schema of its own per test; when the variable is unset the
//! test prints a notice and passes, unless `TASKLANE_REQUIRE_PG=1` makes that a failure).
//!
//! `every_route_has_a_matrix_entry` holds the matrix against `tasklane_http::routes()`: a served
//! route without an entry (and without an exemption in [`EXEMPT`], which gives its reason), an
//! entry that matches no served route, and a stale exemption all fail it, naming the routes.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{ServedRouter, TestServer};
use serde_json::{json, Value};
use tasklane_core::{Engine, EngineConfig, ManualClock, MemoryStore, SequentialIds, Store};
use time::macros::datetime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Routes that act for no signed-in user, so there is no caller to authorize: they are
/// exempt from the matrix. Each is named with its method and the reason.
const EXEMPT: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "a probe: answers without a token"),
    ("GET", "/readyz", "a probe: answers without a token"),
    ("GET", "/api/v1/healthz", "a probe: answers without a token"),
    ("GET", "/api/v1/readyz", "a probe: answers without a token"),
    ("GET", "/metrics", "operations: answers without a token"),
    ("GET", "/docs", "the documentation page: public"),
    (
        "GET",
        "/docs/{file}",
        "the documentation page's files: public",
    ),
    ("GET", "/api/v1/openapi.json", "the API document: public"),
    (
        "POST",
        "/api/v1/auth/register",
        "creates the caller: there is no one to authorize yet",
    ),
    (
        "POST",
        "/api/v1/auth/login",
        "checks a password, not a token: there is no one to authorize yet",
    ),
];

/// How many fixtures are built and checked at the same time.
const PARALLEL: usize = 8;

/// What a route needs from its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    /// Any signed-in user, with any token: the caller's own account.
    Account,
    /// Any signed-in user with a token that may write.
    AccountWrite,
    /// Membership of the workspace, any role.
    Read,
    /// Guests and up.
    Comment,
    /// Members and up.
    Work,
    /// Admins and up.
    Manage,
    /// Owners.
    Own,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    Admin,
    Member,
    Guest,
    Outsider,
    /// The owner's personal token with the `read` scope only.
    ReadToken,
}

const EVERYONE: [Who; 6] = [
    Who::Owner,
    Who::Admin,
    Who::Member,
    Who::Guest,
    Who::Outsider,
    Who::ReadToken,
];

/// What one row of the matrix calls on, in a fresh fixture.
struct Fixture {
    tokens: Vec<(Who, String)>,
    ws: String,
    p: String,
    t: String,
    t2: String,
    t3: String,
    trashed: String,
    label: String,
    milestone: String,
    comment: String,
    guest_comment: String,
    tim: String,
    nina_email: String,
    /// A second personal token of the owner, for `DELETE /me/tokens/{id}`.
    spare_token: String,
    statuses: Value,
    done: String,
}

impl Fixture {
    fn token(&self, who: Who) -> &str {
        &self.tokens.iter().find(|(w, _)| *w == who).unwrap().1
    }

    /// A fixture with made-up ids, enough to read the matrix's shape without a server.
    fn placeholder() -> Fixture {
        let id = |n: u8| format!("00000000-0000-7000-8000-0000000000{n:02}");
        Fixture {
            tokens: EVERYONE.iter().map(|w| (*w, String::new())).collect(),
            ws: id(1),
            p: id(2),
            t: id(3),
            t2: id(4),
            t3: id(5),
            trashed: id(6),
            label: id(7),
            milestone: id(8),
            comment: id(9),
            guest_comment: id(10),
            tim: id(11),
            nina_email: "nina@example.com".into(),
            spare_token: id(12),
            statuses: json!([]),
            done: id(13),
        }
    }
}

/// Registers `name` with an address unique to fixture `n`; returns (token, user id).
async fn register(s: &TestServer, name: &str, n: usize) -> (String, String) {
    let email = format!("{}.{n}@example.com", name.to_lowercase());
    let r = s
        .call(
            "POST",
            "/auth/register",
            None,
            Some(json!({"email": email, "password": "correct horse battery", "name": name})),
        )
        .await
        .expect(201);
    (
        r.body["token"].as_str().unwrap().to_owned(),
        r.body["user"]["id"].as_str().unwrap().to_owned(),
    )
}

/// POSTs `body` to `path` as `token`, expects 201 and returns the new object's id.
async fn create(s: &TestServer, token: &str, path: &str, body: Value) -> String {
    s.post(path, token, body).await.expect(201).id()
}

/// Fixture number `n`, with people of its own: workspace W1 with an owner, an admin, two
/// members (Mia acts, Tim is acted upon) and a guest; Nina, who belongs nowhere; workspace W2
/// owned by the outsider; in W1 the project ENG with tasks, a dependency, a trashed task, a
/// label, a milestone and comments by the owner and by the guest.
async fn fixture(s: &TestServer, n: usize) -> Fixture {
    let (owner, _) = register(s, "Olivia", n).await;
    let (admin, _) = register(s, "Adam", n).await;
    let (member, _) = register(s, "Mia", n).await;
    let (guest, _) = register(s, "Gus", n).await;
    let (outsider, _) = register(s, "Otto", n).await;
    let (_, tim) = register(s, "Tim", n).await;
    register(s, "Nina", n).await;
    let ws = create(s, &owner, "/workspaces", json!({"name": "W1"})).await;
    for (name, role) in [
        ("adam", "admin"),
        ("mia", "member"),
        ("tim", "member"),
        ("gus", "guest"),
    ] {
        s.post(
            &format!("/workspaces/{ws}/members"),
            &owner,
            json!({"email": format!("{name}.{n}@example.com"), "role": role}),
        )
        .await
        .expect(201);
    }
    let ws2 = create(s, &outsider, "/workspaces", json!({"name": "W2"})).await;
    create(
        s,
        &outsider,
        &format!("/workspaces/{ws2}/projects"),
        json!({"key": "OPS", "name": "Ops"}),
    )
    .await;
    let p = create(
        s,
        &owner,
        &format!("/workspaces/{ws}/projects"),
        json!({"key": "ENG", "name": "Engine"}),
    )
    .await;
    let tasks = format!("/projects/{p}/tasks");
    let t = create(s, &owner, &tasks, json!({"title": "One"})).await;
    let t2 = create(s, &owner, &tasks, json!({"title": "Two"})).await;
    let t3 = create(s, &owner, &tasks, json!({"title": "Three"})).await;
    let trashed = create(s, &owner, &tasks, json!({"title": "Gone"})).await;
    s.delete(&format!("/tasks/{trashed}"), &owner)
        .await
        .expect(204);
    s.post(
        &format!("/tasks/{t}/dependencies"),
        &owner,
        json!({"blocked_by": t3}),
    )
    .await
    .expect(201);
    let label = create(
        s,
        &owner,
        &format!("/projects/{p}/labels"),
        json!({"name": "bug"}),
    )
    .await;
    let milestone = create(
        s,
        &owner,
        &format!("/projects/{p}/milestones"),
        json!({"name": "v1"}),
    )
    .await;
    let comments = format!("/tasks/{t}/comments");
    let comment = create(s, &owner, &comments, json!({"body": "by the owner"})).await;
    let guest_comment = create(s, &guest, &comments, json!({"body": "by the guest"})).await;
    let read = s
        .post(
            "/me/tokens",
            &owner,
            json!({"name": "read", "scopes": ["read"]}),
        )
        .await
        .expect(201);
    let read = read.body["token"].as_str().unwrap().to_owned();
    let spare_token = create(s, &owner, "/me/tokens", json!({"name": "spare"})).await;
    let flow = s
        .get(&format!("/projects/{p}/workflow"), &owner)
        .await
        .expect(200)
        .body;
    let done = flow["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["name"] == json!("Done"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        tokens: vec![
            (Who::Owner, owner),
            (Who::Admin, admin),
            (Who::Member, member),
            (Who::Guest, guest),
            (Who::Outsider, outsider),
            (Who::ReadToken, read),
        ],
        ws,
        p,
        t,
        t2,
        t3,
        trashed,
        label,
        milestone,
        comment,
        guest_comment,
        tim,
        nina_email: format!("nina.{n}@example.com"),
        spare_token,
        statuses: flow["statuses"].clone(),
        done,
    }
}

/// One row: a request (path under `/api/v1`) and what it needs.
struct Entry {
    method: &'static str,
    path: String,
    body: Option<Value>,
    need: Need,
    ok: u16,
    /// Overrides for callers the need alone does not predict.
    except: Vec<(Who, u16)>,
}

fn entry(method: &'static str, path: String, body: Option<Value>, need: Need, ok: u16) -> Entry {
    Entry {
        method,
        path,
        body,
        need,
        ok,
        except: Vec::new(),
    }
}

fn matrix(f: &Fixture) -> Vec<Entry> {
    use Need::*;
    let (ws, p, t, t2, t3) = (&f.ws, &f.p, &f.t, &f.t2, &f.t3);
    let mut rows = vec![
        // The caller's own account. The outsider is just another user here.
        entry("GET", "/me".into(), None, Account, 200),
        entry("GET", "/me/tokens".into(), None, Account, 200),
        entry(
            "POST",
            "/me/tokens".into(),
            Some(json!({"name": "new"})),
            AccountWrite,
            201,
        ),
        entry("POST", "/auth/logout".into(), None, Account, 204),
        entry("GET", "/workspaces".into(), None, Account, 200),
        entry(
            "POST",
            "/workspaces".into(),
            Some(json!({"name": "Mine"})),
            AccountWrite,
            201,
        ),
        // Workspaces and members.
        entry("GET", format!("/workspaces/{ws}"), None, Read, 200),
        entry(
            "PATCH",
            format!("/workspaces/{ws}"),
            Some(json!({"name": "Renamed"})),
            Manage,
            200,
        ),
        entry("GET", format!("/workspaces/{ws}/members"), None, Read, 200),
        entry(
            "POST",
            format!("/workspaces/{ws}/members"),
            Some(json!({"email": f.nina_email, "role": "member"})),
            Manage,
            201,
        ),
        entry(
            "POST",
            format!("/workspaces/{ws}/members"),
            Some(json!({"email": f.nina_email, "role": "owner"})),
            Own,
            201,
        ),
        entry(
            "PATCH",
            format!("/workspaces/{ws}/members/{}", f.tim),
            Some(json!({"role": "guest"})),
            Manage,
            200,
        ),
        entry(
            "DELETE",
            format!("/workspaces/{ws}/members/{}", f.tim),
            None,
            Manage,
            204,
        ),
        entry("GET", format!("/workspaces/{ws}/activity"), None, Read, 200),
        // Projects.
        entry(
            "POST",
            format!("/workspaces/{ws}/projects"),
            Some(json!({"key": "NEW", "name": "New"})),
            Work,
            201,
        ),
        entry("GET", format!("/workspaces/{ws}/projects"), None, Read, 200),
        entry("GET", format!("/projects/{p}"), None, Read, 200),
        entry(
            "PATCH",
            format!("/projects/{p}"),
            Some(json!({"name": "Renamed"})),
            Manage,
            200,
        ),
        entry("DELETE", format!("/projects/{p}"), None, Manage, 204),
        entry("POST", format!("/projects/{p}/archive"), None, Manage, 200),
        entry("POST", format!("/projects/{p}/restore"), None, Manage, 200),
        entry("GET", format!("/projects/{p}/workflow"), None, Read, 200),
        entry(
            "PUT",
            format!("/projects/{p}/workflow"),
            Some(json!({"statuses": f.statuses})),
            Manage,
            200,
        ),
        entry("GET", format!("/projects/{p}/stats"), None, Read, 200),
        entry("GET", format!("/projects/{p}/activity"), None, Read, 200),
        // Labels and milestones.
        entry(
            "POST",
            format!("/projects/{p}/labels"),
            Some(json!({"name": "feature"})),
            Work,
            201,
        ),
        entry("GET", format!("/projects/{p}/labels"), None, Read, 200),
        entry("GET", format!("/labels/{}", f.label), None, Read, 200),
        entry(
            "PATCH",
            format!("/labels/{}", f.label),
            Some(json!({"name": "defect"})),
            Work,
            200,
        ),
        entry("DELETE", format!("/labels/{}", f.label), None, Work, 204),
        entry(
            "POST",
            format!("/projects/{p}/milestones"),
            Some(json!({"name": "v2"})),
            Work,
            201,
        ),
        entry("GET", format!("/projects/{p}/milestones"), None, Read, 200),
        entry(
            "GET",
            format!("/milestones/{}", f.milestone),
            None,
            Read,
            200,
        ),
        entry(
            "PATCH",
            format!("/milestones/{}", f.milestone),
            Some(json!({"closed": true})),
            Work,
            200,
        ),
        entry(
            "DELETE",
            format!("/milestones/{}", f.milestone),
            None,
            Work,
            204,
        ),
        // Tasks.
        entry(
            "POST",
            format!("/projects/{p}/tasks"),
            Some(json!({"title": "New"})),
            Work,
            201,
        ),
        entry("GET", format!("/projects/{p}/tasks"), None, Read, 200),
        entry(
            "POST",
            format!("/projects/{p}/tasks/bulk"),
            Some(json!({"task_ids": [t2], "set": {"priority": "low"}})),
            Work,
            200,
        ),
        entry("GET", format!("/tasks/{t}"), None, Read, 200),
        entry("GET", "/tasks/ENG-1".to_owned(), None, Read, 200),
        entry(
            "PATCH",
            format!("/tasks/{t}"),
            Some(json!({"title": "Changed"})),
            Work,
            200,
        ),
        entry("DELETE", format!("/tasks/{t}"), None, Work, 204),
        entry(
            "POST",
            format!("/tasks/{}/restore", f.trashed),
            None,
            Work,
            200,
        ),
        entry(
            "POST",
            format!("/tasks/{t}/transition"),
            Some(json!({"status_id": f.done})),
            Work,
            200,
        ),
        entry(
            "POST",
            format!("/tasks/{t}/move"),
            Some(json!({"after_id": t2})),
            Work,
            200,
        ),
        entry(
            "POST",
            format!("/tasks/{t}/dependencies"),
            Some(json!({"blocked_by": t2})),
            Work,
            201,
        ),
        entry(
            "DELETE",
            format!("/tasks/{t}/dependencies/{t3}"),
            None,
            Work,
            204,
        ),
        entry("GET", format!("/tasks/{t}/subtasks"), None, Read, 200),
        entry("GET", format!("/tasks/{t}/activity"), None, Read, 200),
        // Comments.
        entry(
            "POST",
            format!("/tasks/{t}/comments"),
            Some(json!({"body": "hello"})),
            Comment,
            201,
        ),
        entry("GET", format!("/tasks/{t}/comments"), None, Read, 200),
        entry("GET", format!("/comments/{}", f.comment), None, Read, 200),
        // Someone else's comment: the author (owner here) or an admin.
        entry(
            "PATCH",
            format!("/comments/{}", f.comment),
            Some(json!({"body": "edited"})),
            Manage,
            200,
        ),
        entry(
            "DELETE",
            format!("/comments/{}", f.comment),
            None,
            Manage,
            204,
        ),
    ];
    // The owner's spare token: its owner may revoke it (not with the read-only token); to
    // everyone else it is someone else's token, which they cannot see.
    let mut e = entry(
        "DELETE",
        format!("/me/tokens/{}", f.spare_token),
        None,
        AccountWrite,
        204,
    );
    e.except = [Who::Admin, Who::Member, Who::Guest, Who::Outsider]
        .into_iter()
        .map(|w| (w, 404))
        .collect();
    rows.push(e);
    // The guest's own comment: its author may change it; a member who is not its author may not.
    for (method, body, ok) in [
        ("PATCH", Some(json!({"body": "edited"})), 200),
        ("DELETE", None, 204),
    ] {
        let mut e = entry(
            method,
            format!("/comments/{}", f.guest_comment),
            body,
            Comment,
            ok,
        );
        e.except = vec![(Who::Member, 403)];
        rows.push(e);
    }
    rows
}

/// The status `who` must get for `e`.
fn expected(who: Who, e: &Entry) -> u16 {
    if let Some((_, status)) = e.except.iter().find(|(w, _)| *w == who) {
        return *status;
    }
    let allowed = match (e.need, who) {
        (Need::Account, _) => true,
        (Need::AccountWrite, who) => who != Who::ReadToken,
        (_, Who::Outsider) => return 404,
        (need, Who::ReadToken) => need == Need::Read,
        (_, Who::Owner) => true,
        (need, Who::Admin) => need <= Need::Manage,
        (need, Who::Member) => need <= Need::Work,
        (need, Who::Guest) => need <= Need::Comment,
    };
    if allowed {
        e.ok
    } else {
        403
    }
}

/// Whether `who` calling `e` changes something: then no other caller may share its fixture.
/// Reads change nothing, and a refused write must not either (if it did, its own check fails).
fn changes_state(who: Who, e: &Entry) -> bool {
    e.method != "GET" && expected(who, e) < 400
}

/// The served route (method and template) that `method path` reaches, `path` being under
/// `/api/v1`. Literal segments win over parameters, as in the router.
fn route_of(method: &str, path: &str) -> Option<String> {
    let full = format!("/api/v1{}", path.split('?').next().unwrap_or(path));
    let segments: Vec<&str> = full.split('/').collect();
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

#[test]
fn every_route_has_a_matrix_entry() {
    let served: BTreeSet<(String, String)> = tasklane_http::routes()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let exempt: BTreeSet<(String, String)> = EXEMPT
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    for e in matrix(&Fixture::placeholder()) {
        match route_of(e.method, &e.path) {
            Some(template) => {
                covered.insert((e.method.to_owned(), template));
            }
            None => problems.push(format!(
                "the matrix entry {} /api/v1{} matches no served route (removed or renamed?)",
                e.method, e.path
            )),
        }
    }
    for (method, path) in served.difference(&covered) {
        if !exempt.contains(&(method.clone(), path.clone())) {
            problems.push(format!(
                "{method} {path} has no matrix entry: add one (or an exemption with its reason)"
            ));
        }
    }
    for (method, path) in &exempt {
        if !served.contains(&(method.clone(), path.clone())) {
            problems.push(format!(
                "the exemption for {method} {path} names no served route"
            ));
        } else if covered.contains(&(method.clone(), path.clone())) {
            problems.push(format!(
                "{method} {path} is both exempt and in the matrix: drop the exemption"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A router over `store`, served on a loopback port until stopped.
async fn serve<S: Store>(store: S) -> ServedRouter {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
    let engine = Engine::builder(store)
        .clock(clock.clone())
        .ids(Arc::new(SequentialIds::new()))
        .config(EngineConfig::for_tests())
        .build();
    // Hundreds of fixtures register from one address within seconds: rate limits are off.
    ServedRouter::start(engine, clock).await
}

/// Row `row` of the matrix, called by each of `callers` against one fresh fixture (number
/// `n`); returns the failures.
async fn check_group(s: &TestServer, n: usize, row: usize, callers: Vec<Who>) -> Vec<String> {
    let f = fixture(s, n).await;
    let e = &matrix(&f)[row];
    let mut failures = Vec::new();
    for who in callers {
        let r = s
            .call(e.method, &e.path, Some(f.token(who)), e.body.clone())
            .await;
        let want = expected(who, e);
        if r.status != want {
            failures.push(format!(
                "{who:?} {} {}: want {want}, got {} {}",
                e.method, e.path, r.status, r.text
            ));
        } else if r.status >= 400 && r.content_type() != "application/problem+json" {
            failures.push(format!(
                "{who:?} {} {}: {} without a problem document: {:?}",
                e.method,
                e.path,
                r.status,
                r.content_type()
            ));
        }
    }
    failures
}

/// Runs the whole matrix against a server over `store`.
///
/// Every row is checked against fresh fixtures so that one write cannot disturb the next
/// check: the callers whose request changes nothing (reads, and writes that must be refused)
/// share one fixture per row, and each caller whose write must succeed gets a fixture of its
/// own. Each fixture has people of its own, so fixtures are built side by side on one server.
async fn authorization_matrix<S: Store>(store: S) {
    let served = serve(store).await;
    let rows = matrix(&Fixture::placeholder());
    let mut groups = Vec::new();
    for (row, e) in rows.iter().enumerate() {
        let (alone, together): (Vec<Who>, Vec<Who>) =
            EVERYONE.into_iter().partition(|who| changes_state(*who, e));
        if !together.is_empty() {
            groups.push((row, together));
        }
        groups.extend(alone.into_iter().map(|who| (row, vec![who])));
    }
    let checks: usize = groups.iter().map(|(_, callers)| callers.len()).sum();
    assert_eq!(
        checks,
        rows.len() * EVERYONE.len(),
        "every caller, every row"
    );

    let limit = Arc::new(Semaphore::new(PARALLEL));
    let mut running = JoinSet::new();
    for (n, (row, callers)) in groups.into_iter().enumerate() {
        let permit = Arc::clone(&limit).acquire_owned().await.unwrap();
        let s = Arc::clone(&served.server);
        running.spawn(async move {
            let failures = check_group(&s, n, row, callers).await;
            drop(permit);
            failures
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = running.join_next().await {
        failures.extend(done.expect("a group of checks panicked"));
    }
    served.stop().await;
    assert!(
        failures.is_empty(),
        "{} of {checks} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn authorization_matrix_in_memory() {
    authorization_matrix(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn authorization_matrix_on_sled() {
    let store = tasklane_storage_sled::SledStore::temporary().expect("a temporary sled store");
    authorization_matrix(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn authorization_matrix_on_postgres() {
    let Some(url) = test_database_url() else {
        return;
    };
    let config = tasklane_storage_postgres::PgConfig {
        max_connections: 8,
        acquire_timeout_ms: 30_000,
        ..tasklane_storage_postgres::PgConfig::new(url)
    };
    // A schema of this test's own, dropped with the store.
    let store = tasklane_storage_postgres::PgStore::connect_temporary(config)
        .await
        .expect("connect to the test database");
    authorization_matrix(store).await;
}

/// The test database's URL: `None` (with a notice) when `TASKLANE_TEST_DATABASE_URL` is unset,
/// a failure instead when `TASKLANE_REQUIRE_PG=1`.
fn test_database_url() -> Option<String> {
    match std::env::var("TASKLANE_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("TASKLANE_REQUIRE_PG").as_deref() != Ok("1"),
                "TASKLANE_REQUIRE_PG=1 but TASKLANE_TEST_DATABASE_URL is not set"
            );
            eprintln!(
                "notice: TASKLANE_TEST_DATABASE_URL is not set; skipping the PostgreSQL matrix"
            );
            None
        }
    }
}
