//! The steps of the walk, in the order a team meets the product: the server's own pages,
//! accounts, a workspace and its members, a project with its workflow, labels and milestones,
//! tasks, comments, an archived project, a deleted one, and finally a restart with the
//! operator's limits. Each step shows a route's success and then each refusal the contract
//! names for it.

use serde_json::{json, Value};

use super::client::{Resp, Walk};
use super::PASSWORD;

/// An id that names nothing on any server.
const NOBODY: &str = "01890000-0000-7000-8000-000000000000";

/// A signed-in person: their token and user id.
pub struct Person {
    pub token: String,
    pub id: String,
}

/// Everyone in the walk. Ada owns the workspace, Bob administers it, Cy is a member, Gus a
/// guest, Tim a member who is demoted and removed, and Otto belongs to none of it.
pub struct People {
    pub ada: Person,
    pub bob: Person,
    pub cy: Person,
    pub gus: Person,
    pub tim: Person,
    pub otto: Person,
    /// Ada's personal token with the `read` scope only.
    pub read: String,
}

/// What the walk built and later steps use.
pub struct Built {
    pub ws: String,
    pub project: String,
    /// A project that exists only to be deleted.
    pub doomed: String,
    pub statuses: Value,
    pub label: String,
    pub milestone: String,
    /// ENG-1, ENG-2, ENG-3 (a subtask of ENG-1) and ENG-4 (in the trash).
    pub tasks: [String; 4],
    pub comment: String,
}

impl Built {
    fn status(&self, name: &str) -> String {
        self.statuses
            .as_array()
            .and_then(|all| all.iter().find(|s| s["name"] == name))
            .and_then(|s| s["id"].as_str())
            .unwrap_or_else(|| panic!("no status named {name} in {}", self.statuses))
            .to_owned()
    }
}

fn person(r: &Resp) -> Person {
    Person {
        token: r.str("token"),
        id: r.body["user"]["id"].as_str().expect("a user id").to_owned(),
    }
}

/// The probes, the OpenAPI document, the documentation page and the metrics answer without a
/// token. Unknown paths and wrong methods are problem documents too. The served document is
/// kept: it is the contract the walk is checked against at the end.
pub async fn operations(w: &mut Walk) {
    for path in ["/healthz", "/readyz", "/api/v1/healthz", "/api/v1/readyz"] {
        let r = w.root("GET", path).expect(200).await;
        assert_eq!(r.body["status"], "ok", "{path}: {}", r.text);
    }
    let doc = w.call("GET", "/openapi.json").expect(200).await;
    assert!(doc.body["openapi"]
        .as_str()
        .unwrap_or("")
        .starts_with("3.1"));
    w.doc = doc.body;
    let page = w.root("GET", "/docs").expect(200).await;
    assert!(
        page.text.contains("<title>Tasklane API</title>"),
        "{}",
        page.text
    );
    let css = w.root("GET", "/docs/swagger-ui.css").expect(200).await;
    assert_eq!(css.header("content-type"), Some("text/css"));
    w.root("GET", "/docs/passwords.txt").expect(404).await;
    let metrics = w.root("GET", "/metrics").expect(200).await;
    assert!(
        metrics.text.contains("http_requests_total"),
        "{}",
        metrics.text
    );
    w.call("GET", "/nowhere").expect(404).await;
    let r = w.call("PUT", "/me").expect(405).await;
    assert!(r.header("allow").is_some(), "{:?}", r.headers);
}

/// Registration, login, the caller's account, personal tokens and logout.
pub async fn accounts(w: &Walk) -> People {
    // The first account of a fresh server administers it; `Location` points at `/me`.
    let r = w
        .call("POST", "/auth/register")
        .json(json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}))
        .expect(201)
        .await;
    assert_eq!(r.header("location"), Some("/api/v1/me"));
    assert_eq!(r.body["user"]["is_server_admin"], true);
    let ada = person(&r);
    let mut others = Vec::new();
    for name in ["Bob", "Cy", "Gus", "Tim", "Otto"] {
        let email = format!("{}@example.com", name.to_lowercase());
        let r = w
            .call("POST", "/auth/register")
            .json(json!({"email": email, "password": PASSWORD, "name": name}))
            .expect(201)
            .await;
        assert_eq!(r.body["user"]["is_server_admin"], false);
        others.push(person(&r));
    }
    let [bob, cy, gus, tim, otto]: [Person; 5] = others.try_into().ok().unwrap();

    // An address is taken whatever its case; every bad field is named at once; malformed JSON
    // is 400 and a body that is not JSON is 415.
    w.call("POST", "/auth/register")
        .json(json!({"email": "ADA@example.com", "password": PASSWORD, "name": "Ada"}))
        .expect(409)
        .await;
    let r = w
        .call("POST", "/auth/register")
        .json(json!({"email": "nope", "password": "short", "name": ""}))
        .expect(422)
        .await;
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["email", "password", "name"], "{}", r.text);
    w.call("POST", "/auth/register")
        .raw("application/json", "{\"email\": ")
        .expect(400)
        .await;
    w.call("POST", "/auth/register")
        .raw("text/plain", "ada@example.com")
        .expect(415)
        .await;

    // Login issues a session; a wrong password is 401, a missing one 422.
    let r = w
        .call("POST", "/auth/login")
        .json(json!({"email": "ada@example.com", "password": PASSWORD}))
        .expect(200)
        .await;
    assert!(r.body["expires_at"].is_string(), "{}", r.text);
    let session = r.str("token");
    w.call("POST", "/auth/login")
        .json(json!({"email": "ada@example.com", "password": "not the password"}))
        .expect(401)
        .await;
    w.call("POST", "/auth/login")
        .json(json!({"email": "ada@example.com"}))
        .expect(422)
        .await;

    // The caller's account; without a token, or with a made-up one, 401.
    let r = w.call("GET", "/me").by(&ada.token).expect(200).await;
    assert_eq!(r.body["email"], "ada@example.com");
    assert_eq!(r.etag(), 1);
    let r = w.call("GET", "/me").expect(401).await;
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    w.call("GET", "/me").by("tl_madeup").expect(401).await;

    // Personal tokens: the secret is shown once. A read-only token may not make tokens.
    let r = w
        .call("POST", "/me/tokens")
        .by(&ada.token)
        .json(json!({"name": "reports", "scopes": ["read"]}))
        .expect(201)
        .await;
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/me/tokens/{}", r.id()).as_str())
    );
    let read = r.str("token");
    w.call("POST", "/me/tokens")
        .by(&read)
        .json(json!({"name": "escalate"}))
        .expect(403)
        .await;
    w.call("POST", "/me/tokens")
        .by(&ada.token)
        .json(json!({"name": ""}))
        .expect(422)
        .await;
    // A retry with the same Idempotency-Key gets the first answer again and creates nothing;
    // the same key with another body is refused.
    let first = w
        .call("POST", "/me/tokens")
        .by(&ada.token)
        .header("idempotency-key", "walk-ci-token")
        .json(json!({"name": "CI"}))
        .expect(201)
        .await;
    let again = w
        .call("POST", "/me/tokens")
        .by(&ada.token)
        .header("idempotency-key", "walk-ci-token")
        .json(json!({"name": "CI"}))
        .expect(201)
        .await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.id(), first.id());
    w.call("POST", "/me/tokens")
        .by(&ada.token)
        .header("idempotency-key", "walk-ci-token")
        .json(json!({"name": "CD"}))
        .expect(409)
        .await;
    let r = w.call("GET", "/me/tokens").by(&ada.token).expect(200).await;
    assert_eq!(r.items(), 4, "register, login, reports, CI: {}", r.text);
    assert!(r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t.get("token").is_none()));

    // Revoking a token: not with a read-only token; the token then stops working.
    let ci = first.id();
    let ci_token = first.str("token");
    let revoke = format!("/me/tokens/{ci}");
    w.call("DELETE", &revoke).by(&read).expect(403).await;
    w.call("DELETE", &revoke)
        .by(&ada.token)
        .refused_when_stale()
        .await;
    w.call("DELETE", &revoke).by(&ada.token).expect(204).await;
    w.call("GET", "/me").by(&ci_token).expect(401).await;
    w.call("DELETE", &revoke).by(&ada.token).expect(404).await;

    // Logout ends the session it is called with, and only that one.
    w.call("POST", "/auth/logout")
        .by(&session)
        .expect(204)
        .await;
    w.call("GET", "/me").by(&session).expect(401).await;
    w.call("GET", "/me").by(&ada.token).expect(200).await;

    People {
        ada,
        bob,
        cy,
        gus,
        tim,
        otto,
        read,
    }
}

/// A workspace and its members.
pub async fn workspace(w: &Walk, p: &People) -> String {
    let r = w
        .call("POST", "/workspaces")
        .by(&p.ada.token)
        .json(json!({"name": "Analytical Engines"}))
        .expect(201)
        .await;
    let ws = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/workspaces/{ws}").as_str())
    );
    w.call("POST", "/workspaces")
        .by(&p.read)
        .json(json!({"name": "Read only"}))
        .expect(403)
        .await;
    w.call("POST", "/workspaces")
        .by(&p.ada.token)
        .json(json!({"name": " "}))
        .expect(422)
        .await;
    w.call("POST", "/workspaces")
        .by(&p.ada.token)
        .header("idempotency-key", "walk-scratch")
        .json(json!({"name": "Scratch"}))
        .expect(201)
        .await;
    w.call("POST", "/workspaces")
        .by(&p.ada.token)
        .header("idempotency-key", "walk-scratch")
        .json(json!({"name": "Another"}))
        .expect(409)
        .await;
    let r = w
        .call("GET", "/workspaces")
        .by(&p.ada.token)
        .expect(200)
        .await;
    assert_eq!(r.items(), 2, "{}", r.text);
    let r = w
        .call("GET", "/workspaces")
        .by(&p.otto.token)
        .expect(200)
        .await;
    assert_eq!(r.items(), 0, "{}", r.text);

    // An outsider cannot tell the workspace exists.
    let this = format!("/workspaces/{ws}");
    w.call("GET", &this).by(&p.ada.token).expect(200).await;
    w.call("GET", &this).by(&p.otto.token).expect(404).await;

    // Members join by e-mail with a role; twice is a conflict; nobody by that address is 404;
    // a member may not add anyone.
    let members = format!("/workspaces/{ws}/members");
    for (email, role) in [
        ("bob@example.com", "admin"),
        ("cy@example.com", "member"),
        ("gus@example.com", "guest"),
        ("tim@example.com", "member"),
    ] {
        w.call("POST", &members)
            .by(&p.ada.token)
            .json(json!({"email": email, "role": role}))
            .expect(201)
            .await;
    }
    w.call("POST", &members)
        .by(&p.ada.token)
        .json(json!({"user_id": p.bob.id, "role": "member"}))
        .expect(409)
        .await;
    w.call("POST", &members)
        .by(&p.ada.token)
        .json(json!({"email": "zed@example.com", "role": "member"}))
        .expect(404)
        .await;
    w.call("POST", &members)
        .by(&p.ada.token)
        .json(json!({"email": "otto@example.com", "role": "king"}))
        .expect(422)
        .await;
    w.call("POST", &members)
        .by(&p.cy.token)
        .json(json!({"email": "otto@example.com", "role": "member"}))
        .expect(403)
        .await;
    let r = w.call("GET", &members).by(&p.gus.token).expect(200).await;
    assert_eq!(r.items(), 5, "{}", r.text);
    w.call("GET", &members).by(&p.otto.token).expect(404).await;

    // Renaming needs an admin; a stale If-Match is 412, a malformed one 400.
    let rename = |name: &str| w.call("PATCH", &this).json(json!({ "name": name }));
    rename("Mine").by(&p.cy.token).expect(403).await;
    rename("").by(&p.ada.token).expect(422).await;
    rename("Engines")
        .by(&p.ada.token)
        .refused_when_stale()
        .await;
    rename("Engines")
        .by(&p.ada.token)
        .header("if-match", "seven")
        .expect(400)
        .await;
    rename("Engines").by(&p.otto.token).expect(404).await;
    let version = w
        .call("GET", &this)
        .by(&p.ada.token)
        .expect(200)
        .await
        .etag();
    let r = rename("Engines")
        .by(&p.bob.token)
        .if_match(version)
        .expect(200)
        .await;
    assert_eq!(r.body["name"], "Engines");

    // Roles change by admins; the last owner cannot step down.
    let tim = format!("/workspaces/{ws}/members/{}", p.tim.id);
    let ada = format!("/workspaces/{ws}/members/{}", p.ada.id);
    let role = |path: &str, role: &str| w.call("PATCH", path).json(json!({ "role": role }));
    role(&tim, "guest").by(&p.cy.token).expect(403).await;
    role(&tim, "king").by(&p.ada.token).expect(422).await;
    role(&tim, "guest")
        .by(&p.ada.token)
        .refused_when_stale()
        .await;
    role(&format!("{members}/{NOBODY}"), "guest")
        .by(&p.ada.token)
        .expect(404)
        .await;
    let r = role(&ada, "admin").by(&p.ada.token).expect(409).await;
    assert_eq!(r.body["reason"], "last_owner", "{}", r.text);
    let r = role(&tim, "guest").by(&p.bob.token).expect(200).await;
    assert_eq!(r.body["role"], "guest");

    // Removing members: admins only; never the last owner.
    w.call("DELETE", &tim).by(&p.cy.token).expect(403).await;
    w.call("DELETE", &tim)
        .by(&p.ada.token)
        .refused_when_stale()
        .await;
    w.call("DELETE", &ada).by(&p.ada.token).expect(409).await;
    w.call("DELETE", &tim).by(&p.bob.token).expect(204).await;
    w.call("DELETE", &tim).by(&p.bob.token).expect(404).await;
    w.call("GET", &this).by(&p.tim.token).expect(404).await;

    // The workspace's activity, for members only; the page size is 1 to 200.
    let activity = format!("/workspaces/{ws}/activity");
    let r = w.call("GET", &activity).by(&p.gus.token).expect(200).await;
    assert!(r.items() >= 7, "{}", r.text);
    w.call("GET", &format!("{activity}?limit=0"))
        .by(&p.ada.token)
        .expect(422)
        .await;
    w.call("GET", &activity).by(&p.otto.token).expect(404).await;
    ws
}

/// Projects and their workflow, statistics and activity. Returns the project ENG and a second
/// one, OLD, to be deleted later.
pub async fn projects(w: &Walk, p: &People, ws: &str) -> (String, String, Value) {
    let projects = format!("/workspaces/{ws}/projects");
    let r = w
        .call("POST", &projects)
        .by(&p.cy.token)
        .json(json!({"key": "ENG", "name": "Engine", "description": "The mill"}))
        .expect(201)
        .await;
    let eng = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/projects/{eng}").as_str())
    );
    let old = w
        .call("POST", &projects)
        .by(&p.ada.token)
        .json(json!({"key": "OLD", "name": "Old"}))
        .expect(201)
        .await
        .id();
    let r = w
        .call("POST", &projects)
        .by(&p.ada.token)
        .json(json!({"key": "ENG", "name": "Again"}))
        .expect(409)
        .await;
    assert_eq!(r.body["reason"], "duplicate", "{}", r.text);
    w.call("POST", &projects)
        .by(&p.ada.token)
        .json(json!({"key": "1x", "name": ""}))
        .expect(422)
        .await;
    w.call("POST", &projects)
        .by(&p.gus.token)
        .json(json!({"key": "GUS", "name": "Mine"}))
        .expect(403)
        .await;
    w.call("POST", &projects)
        .by(&p.otto.token)
        .json(json!({"key": "OTTO", "name": "Mine"}))
        .expect(404)
        .await;
    let r = w.call("GET", &projects).by(&p.gus.token).expect(200).await;
    assert_eq!(r.items(), 2, "{}", r.text);
    w.call("GET", &projects).by(&p.otto.token).expect(404).await;

    // One project; changing it takes an admin.
    let this = format!("/projects/{eng}");
    w.call("GET", &this).by(&p.gus.token).expect(200).await;
    w.call("GET", &format!("/projects/{NOBODY}"))
        .by(&p.ada.token)
        .expect(404)
        .await;
    let patch = |body: Value| w.call("PATCH", &this).json(body);
    patch(json!({"name": "Mine"}))
        .by(&p.cy.token)
        .expect(403)
        .await;
    patch(json!({"name": null}))
        .by(&p.ada.token)
        .expect(422)
        .await;
    patch(json!({"name": "Difference Engine"}))
        .by(&p.ada.token)
        .refused_when_stale()
        .await;
    w.call("PATCH", &format!("/projects/{NOBODY}"))
        .by(&p.ada.token)
        .json(json!({"name": "Nothing"}))
        .expect(404)
        .await;
    let r = patch(json!({"name": "Difference Engine"}))
        .by(&p.bob.token)
        .expect(200)
        .await;
    assert_eq!(r.body["version"], 2);

    // The workflow: every move allowed by default; restricted here to Todo → In Progress →
    // Done (the latter only without open blockers), by an admin.
    let workflow = format!("/projects/{eng}/workflow");
    let r = w.call("GET", &workflow).by(&p.gus.token).expect(200).await;
    let statuses = r.body["statuses"].clone();
    assert_eq!(statuses.as_array().map(Vec::len), Some(6), "{}", r.text);
    w.call("GET", &format!("/projects/{NOBODY}/workflow"))
        .by(&p.ada.token)
        .expect(404)
        .await;
    let restricted = json!({
        "statuses": statuses,
        "transitions": [
            {"from": "Todo", "to": "In Progress"},
            {"from": "In Progress", "to": "Done", "conditions": ["no_open_blockers"]},
        ],
    });
    let put = |body: &Value| w.call("PUT", &workflow).json(body.clone());
    put(&restricted).by(&p.cy.token).expect(403).await;
    let mut bad = restricted.clone();
    bad["statuses"][0]["category"] = json!("someday");
    let r = put(&bad).by(&p.ada.token).expect(422).await;
    assert_eq!(r.body["errors"][0]["field"], "statuses[0].category");
    put(&restricted).by(&p.ada.token).refused_when_stale().await;
    w.call("PUT", &format!("/projects/{NOBODY}/workflow"))
        .by(&p.ada.token)
        .json(restricted.clone())
        .expect(404)
        .await;
    let r = put(&restricted).by(&p.bob.token).expect(200).await;
    assert_eq!(r.body["transitions"].as_array().map(Vec::len), Some(2));

    // Statistics and activity, for members.
    let r = w
        .call("GET", &format!("/projects/{eng}/stats"))
        .by(&p.gus.token)
        .expect(200)
        .await;
    assert!(r.body.is_object(), "{}", r.text);
    w.call("GET", &format!("/projects/{NOBODY}/stats"))
        .by(&p.ada.token)
        .expect(404)
        .await;
    let activity = format!("/projects/{eng}/activity");
    let r = w.call("GET", &activity).by(&p.gus.token).expect(200).await;
    assert!(r.items() >= 3, "{}", r.text);
    w.call("GET", &format!("{activity}?limit=500"))
        .by(&p.ada.token)
        .expect(422)
        .await;
    w.call("GET", &activity).by(&p.otto.token).expect(404).await;
    (eng, old, statuses)
}

/// Labels and milestones. Returns the label `bug` and the milestone `v1`, which stay.
pub async fn labels_and_milestones(w: &Walk, p: &People, eng: &str) -> (String, String) {
    // Labels: names are unique in a project whatever their case; colours are hex.
    let labels = format!("/projects/{eng}/labels");
    let new_label = |body: Value| w.call("POST", &labels).json(body);
    let r = new_label(json!({"name": "bug", "color": "#d73a4a"}))
        .by(&p.cy.token)
        .expect(201)
        .await;
    let bug = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/labels/{bug}").as_str())
    );
    let wontfix = new_label(json!({"name": "wontfix"}))
        .by(&p.cy.token)
        .expect(201)
        .await
        .id();
    new_label(json!({"name": "BUG"}))
        .by(&p.cy.token)
        .expect(409)
        .await;
    new_label(json!({"name": "red", "color": "red"}))
        .by(&p.cy.token)
        .expect(422)
        .await;
    new_label(json!({"name": "mine"}))
        .by(&p.gus.token)
        .expect(403)
        .await;
    w.call("POST", &format!("/projects/{NOBODY}/labels"))
        .by(&p.cy.token)
        .json(json!({"name": "none"}))
        .expect(404)
        .await;
    let r = w.call("GET", &labels).by(&p.gus.token).expect(200).await;
    assert_eq!(r.items(), 2, "{}", r.text);
    w.call("GET", &format!("/projects/{NOBODY}/labels"))
        .by(&p.cy.token)
        .expect(404)
        .await;
    w.call("GET", &format!("/labels/{bug}"))
        .by(&p.gus.token)
        .expect(200)
        .await;
    w.call("GET", &format!("/labels/{NOBODY}"))
        .by(&p.cy.token)
        .expect(404)
        .await;
    let label = format!("/labels/{wontfix}");
    let patch = |body: Value| w.call("PATCH", &label).json(body);
    patch(json!({"name": "Bug"}))
        .by(&p.cy.token)
        .expect(409)
        .await;
    patch(json!({"color": "grey"}))
        .by(&p.cy.token)
        .expect(422)
        .await;
    patch(json!({"color": "#cccccc"}))
        .by(&p.gus.token)
        .expect(403)
        .await;
    patch(json!({"color": "#cccccc"}))
        .by(&p.cy.token)
        .refused_when_stale()
        .await;
    w.call("PATCH", &format!("/labels/{NOBODY}"))
        .by(&p.cy.token)
        .json(json!({"color": "#cccccc"}))
        .expect(404)
        .await;
    let r = patch(json!({"color": "#cccccc"}))
        .by(&p.cy.token)
        .expect(200)
        .await;
    assert_eq!(r.body["color"], "#cccccc");
    w.call("DELETE", &label).by(&p.gus.token).expect(403).await;
    w.call("DELETE", &label)
        .by(&p.cy.token)
        .refused_when_stale()
        .await;
    w.call("DELETE", &label).by(&p.cy.token).expect(204).await;
    w.call("DELETE", &label).by(&p.cy.token).expect(404).await;

    // Milestones: a due day, opened and closed.
    let milestones = format!("/projects/{eng}/milestones");
    let new_milestone = |body: Value| w.call("POST", &milestones).json(body);
    let v1 = new_milestone(json!({"name": "v1", "due_on": "2026-06-30"}))
        .by(&p.cy.token)
        .expect(201)
        .await
        .id();
    let v0 = new_milestone(json!({"name": "v0"}))
        .by(&p.cy.token)
        .expect(201)
        .await
        .id();
    new_milestone(json!({"name": "v2", "due_on": "June"}))
        .by(&p.cy.token)
        .expect(422)
        .await;
    new_milestone(json!({"name": "v2"}))
        .by(&p.gus.token)
        .expect(403)
        .await;
    w.call("POST", &format!("/projects/{NOBODY}/milestones"))
        .by(&p.cy.token)
        .json(json!({"name": "v2"}))
        .expect(404)
        .await;
    let r = w
        .call("GET", &milestones)
        .by(&p.gus.token)
        .expect(200)
        .await;
    assert_eq!(r.items(), 2, "{}", r.text);
    w.call("GET", &format!("/projects/{NOBODY}/milestones"))
        .by(&p.cy.token)
        .expect(404)
        .await;
    w.call("GET", &format!("/milestones/{v1}"))
        .by(&p.gus.token)
        .expect(200)
        .await;
    w.call("GET", &format!("/milestones/{NOBODY}"))
        .by(&p.cy.token)
        .expect(404)
        .await;
    let milestone = format!("/milestones/{v1}");
    let patch = |body: Value| w.call("PATCH", &milestone).json(body);
    patch(json!({"due_on": "July"}))
        .by(&p.cy.token)
        .expect(422)
        .await;
    patch(json!({"closed": true}))
        .by(&p.gus.token)
        .expect(403)
        .await;
    patch(json!({"closed": true}))
        .by(&p.cy.token)
        .refused_when_stale()
        .await;
    w.call("PATCH", &format!("/milestones/{NOBODY}"))
        .by(&p.cy.token)
        .json(json!({"closed": true}))
        .expect(404)
        .await;
    let r = patch(json!({"due_on": "2026-07-31"}))
        .by(&p.cy.token)
        .expect(200)
        .await;
    assert_eq!(r.body["due_on"], "2026-07-31");
    let gone = format!("/milestones/{v0}");
    w.call("DELETE", &gone).by(&p.gus.token).expect(403).await;
    w.call("DELETE", &gone)
        .by(&p.cy.token)
        .refused_when_stale()
        .await;
    w.call("DELETE", &gone).by(&p.cy.token).expect(204).await;
    w.call("DELETE", &gone).by(&p.cy.token).expect(404).await;
    (bug, v1)
}

/// Tasks: creation, lists, changes, subtasks, dependencies, transitions, board moves, bulk
/// changes, the trash and the activity. Returns ENG-1 to ENG-4; ENG-2 blocks ENG-1 and ENG-4
/// is in the trash.
pub async fn tasks(w: &Walk, p: &People, b: &mut Built) {
    let eng = b.project.clone();
    let create = |body: Value| w.call("POST", &format!("/projects/{eng}/tasks")).json(body);
    let r = create(json!({
        "title": "Design the mill",
        "priority": "high",
        "assignee_ids": [p.cy.id],
        "label_ids": [b.label],
        "milestone_id": b.milestone,
        "estimate_seconds": 3600,
    }))
    .by(&p.cy.token)
    .expect(201)
    .await;
    assert_eq!(r.body["key"], "ENG-1");
    assert_eq!(r.body["status_id"], b.status("Todo"));
    let t1 = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/tasks/{t1}").as_str())
    );
    let t2 = create(json!({"title": "Punch cards"}))
        .by(&p.cy.token)
        .expect(201)
        .await
        .id();
    let t3 = create(json!({"title": "Store", "parent_id": t1}))
        .by(&p.cy.token)
        .expect(201)
        .await
        .id();
    let t4 = create(json!({"title": "Scrap"}))
        .by(&p.cy.token)
        .expect(201)
        .await
        .id();
    let r = create(json!({"description": "no title", "colour": "red"}))
        .by(&p.cy.token)
        .expect(422)
        .await;
    assert_eq!(
        r.body["errors"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.text
    );
    create(json!({"title": "Mine"}))
        .by(&p.gus.token)
        .expect(403)
        .await;
    w.call("POST", &format!("/projects/{NOBODY}/tasks"))
        .by(&p.cy.token)
        .json(json!({"title": "Nowhere"}))
        .expect(404)
        .await;

    // Lists page with a cursor and take the filter language; a bad filter is 422.
    let list = format!("/projects/{eng}/tasks");
    let r = w
        .call("GET", &format!("{list}?limit=3"))
        .by(&p.gus.token)
        .expect(200)
        .await;
    assert_eq!(r.items(), 3, "{}", r.text);
    let cursor = r.str("next_cursor");
    let r = w
        .call("GET", &format!("{list}?limit=3&cursor={cursor}"))
        .by(&p.gus.token)
        .expect(200)
        .await;
    assert_eq!(r.items(), 1, "{}", r.text);
    assert_eq!(r.body["next_cursor"], Value::Null);
    let r = w
        .call("GET", &format!("{list}?q=priority%3E%3Dhigh%20label%3Abug"))
        .by(&p.gus.token)
        .expect(200)
        .await;
    assert_eq!(r.items(), 1, "{}", r.text);
    w.call("GET", &format!("{list}?q=priority%3E%3D"))
        .by(&p.gus.token)
        .expect(422)
        .await;
    w.call("GET", &format!("/projects/{NOBODY}/tasks"))
        .by(&p.gus.token)
        .expect(404)
        .await;

    // One task, by id or by key.
    let r = w
        .call("GET", "/tasks/ENG-1")
        .by(&p.gus.token)
        .expect(200)
        .await;
    assert_eq!(r.id(), t1);
    w.call("GET", &format!("/tasks/{t1}"))
        .by(&p.gus.token)
        .expect(200)
        .await;
    w.call("GET", "/tasks/ENG-99")
        .by(&p.gus.token)
        .expect(404)
        .await;

    // Changes: members and up; `null` clears, but not a title; a task cannot become a subtask
    // of its own subtask.
    let task1 = format!("/tasks/{t1}");
    let patch = |body: Value| w.call("PATCH", &task1).json(body);
    patch(json!({"title": "Mine"}))
        .by(&p.gus.token)
        .expect(403)
        .await;
    patch(json!({"title": null}))
        .by(&p.cy.token)
        .expect(422)
        .await;
    patch(json!({"title": "Design the engine"}))
        .by(&p.cy.token)
        .refused_when_stale()
        .await;
    let r = patch(json!({"parent_id": t3}))
        .by(&p.cy.token)
        .expect(409)
        .await;
    assert_eq!(r.body["reason"], "subtask_cycle", "{}", r.text);
    w.call("PATCH", &format!("/tasks/{NOBODY}"))
        .by(&p.cy.token)
        .json(json!({"title": "Nothing"}))
        .expect(404)
        .await;
    let r = patch(json!({"due_at": "2026-03-10T17:00:00+01:00", "estimate_seconds": null}))
        .by(&p.cy.token)
        .expect(200)
        .await;
    assert_eq!(r.body["due_at"], "2026-03-10T16:00:00Z");
    assert_eq!(r.body["estimate_seconds"], Value::Null);

    let r = w
        .call("GET", &format!("/tasks/{t1}/subtasks"))
        .by(&p.gus.token)
        .expect(200)
        .await;
    assert_eq!(r.body["items"][0]["id"], t3, "{}", r.text);
    w.call("GET", &format!("/tasks/{NOBODY}/subtasks"))
        .by(&p.gus.token)
        .expect(404)
        .await;

    // Dependencies: ENG-2 blocks ENG-1; the reverse edge would close a cycle.
    let r = w
        .call("POST", &format!("/tasks/{t1}/dependencies"))
        .by(&p.cy.token)
        .json(json!({"blocked_by": "ENG-2"}))
        .expect(201)
        .await;
    assert_eq!(r.body["blocked_by"], json!([t2]));
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/tasks/{t1}/dependencies/{t2}").as_str())
    );
    let r = w
        .call("POST", &format!("/tasks/{t2}/dependencies"))
        .by(&p.cy.token)
        .json(json!({"blocked_by": t1}))
        .expect(409)
        .await;
    assert_eq!(r.body["reason"], "dependency_cycle", "{}", r.text);
    w.call("POST", &format!("/tasks/{t2}/dependencies"))
        .by(&p.cy.token)
        .json(json!({"blocked_by": "nonsense"}))
        .expect(422)
        .await;
    w.call("POST", &format!("/tasks/{t2}/dependencies"))
        .by(&p.gus.token)
        .json(json!({"blocked_by": t3}))
        .expect(403)
        .await;
    w.call("POST", &format!("/tasks/{NOBODY}/dependencies"))
        .by(&p.cy.token)
        .json(json!({"blocked_by": t3}))
        .expect(404)
        .await;

    // Transitions follow the workflow: Todo → Done is not among them (409 with the reason).
    let transition = |to: &str| {
        w.call("POST", &format!("/tasks/{t1}/transition"))
            .json(json!({ "status_id": to }))
    };
    let r = transition(&b.status("Done"))
        .by(&p.cy.token)
        .expect(409)
        .await;
    assert_eq!(r.body["reason"], "transition_not_allowed", "{}", r.text);
    transition(&b.status("In Progress"))
        .by(&p.gus.token)
        .expect(403)
        .await;
    transition("not-a-status").by(&p.cy.token).expect(422).await;
    transition(&b.status("In Progress"))
        .by(&p.cy.token)
        .refused_when_stale()
        .await;
    w.call("POST", &format!("/tasks/{NOBODY}/transition"))
        .by(&p.cy.token)
        .json(json!({"status_id": b.status("In Progress")}))
        .expect(404)
        .await;
    let r = transition(&b.status("In Progress"))
        .by(&p.cy.token)
        .expect(200)
        .await;
    assert_eq!(r.body["status_id"], b.status("In Progress"));

    // A workflow that drops a status still holding tasks, without saying where they go: 409.
    let kept: Vec<Value> = b
        .statuses
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] != "In Progress")
        .cloned()
        .collect();
    let r = w
        .call("PUT", &format!("/projects/{eng}/workflow"))
        .by(&p.ada.token)
        .json(json!({ "statuses": kept }))
        .expect(409)
        .await;
    assert_eq!(r.body["reason"], "statuses_in_use", "{}", r.text);

    // Board moves.
    let r = w
        .call("POST", &format!("/tasks/{t2}/move"))
        .by(&p.cy.token)
        .json(json!({ "before_id": t4 }))
        .expect(200)
        .await;
    assert!(r.body["position"].is_string(), "{}", r.text);
    w.call("POST", &format!("/tasks/{t2}/move"))
        .by(&p.gus.token)
        .json(json!({ "before_id": t4 }))
        .expect(403)
        .await;
    w.call("POST", &format!("/tasks/{t2}/move"))
        .by(&p.cy.token)
        .json(json!({ "before_id": "the top" }))
        .expect(422)
        .await;
    w.call("POST", &format!("/tasks/{NOBODY}/move"))
        .by(&p.cy.token)
        .json(json!({ "before_id": t4 }))
        .expect(404)
        .await;

    // Removing the dependency (members and up); it is gone afterwards. It is added again for
    // the archived project's step.
    let edge = format!("/tasks/{t1}/dependencies/ENG-2");
    w.call("DELETE", &edge).by(&p.gus.token).expect(403).await;
    w.call("DELETE", &edge)
        .by(&p.cy.token)
        .refused_when_stale()
        .await;
    w.call("DELETE", &edge).by(&p.cy.token).expect(204).await;
    w.call("DELETE", &edge).by(&p.cy.token).expect(404).await;
    w.call("POST", &format!("/tasks/{t1}/dependencies"))
        .by(&p.cy.token)
        .json(json!({"blocked_by": t2}))
        .expect(201)
        .await;

    // Bulk changes are all or nothing: one unknown task fails the request and names it.
    let bulk = format!("/projects/{eng}/tasks/bulk");
    let r = w
        .call("POST", &bulk)
        .by(&p.cy.token)
        .json(json!({"task_ids": ["ENG-2", t3], "set": {"priority": "low"}}))
        .expect(200)
        .await;
    assert_eq!(r.items(), 2, "{}", r.text);
    let r = w
        .call("POST", &bulk)
        .by(&p.cy.token)
        .json(json!({"task_ids": ["ENG-2", "ENG-77"], "set": {"priority": "urgent"}}))
        .expect(404)
        .await;
    assert_eq!(r.body["failures"][0]["task"], "ENG-77", "{}", r.text);
    w.call("POST", &bulk)
        .by(&p.cy.token)
        .json(json!({"task_ids": ["ENG-2"]}))
        .expect(422)
        .await;
    w.call("POST", &bulk)
        .by(&p.gus.token)
        .json(json!({"task_ids": ["ENG-2"], "delete": true}))
        .expect(403)
        .await;
    w.call("POST", &format!("/projects/{NOBODY}/tasks/bulk"))
        .by(&p.cy.token)
        .json(json!({"task_ids": ["ENG-2"], "delete": true}))
        .expect(404)
        .await;

    // The trash: deleting hides a task, restoring brings it back; restoring a task that is not
    // in the trash is a conflict. ENG-4 stays in the trash.
    let scrap = format!("/tasks/{t4}");
    w.call("DELETE", &scrap).by(&p.gus.token).expect(403).await;
    w.call("DELETE", &scrap)
        .by(&p.cy.token)
        .refused_when_stale()
        .await;
    w.call("DELETE", &scrap).by(&p.cy.token).expect(204).await;
    w.call("GET", &scrap).by(&p.cy.token).expect(404).await;
    w.call("DELETE", &scrap).by(&p.cy.token).expect(404).await;
    let restore = format!("/tasks/{t4}/restore");
    w.call("POST", &restore).by(&p.gus.token).expect(403).await;
    let r = w.call("POST", &restore).by(&p.cy.token).expect(200).await;
    assert_eq!(r.body["trashed"], false);
    w.call("POST", &restore).by(&p.cy.token).expect(409).await;
    w.call("POST", &format!("/tasks/{NOBODY}/restore"))
        .by(&p.cy.token)
        .expect(404)
        .await;
    w.call("DELETE", &scrap).by(&p.cy.token).expect(204).await;

    // A task's activity, oldest first.
    let activity = format!("/tasks/{t1}/activity");
    let r = w.call("GET", &activity).by(&p.gus.token).expect(200).await;
    let kinds: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"task_created"), "{}", r.text);
    assert!(kinds.contains(&"task_transitioned"), "{}", r.text);
    w.call("GET", &format!("{activity}?since=-1"))
        .by(&p.gus.token)
        .expect(422)
        .await;
    w.call("GET", &format!("/tasks/{NOBODY}/activity"))
        .by(&p.gus.token)
        .expect(404)
        .await;
    b.tasks = [t1, t2, t3, t4];
}

/// Comments: guests may comment; only the author (or an admin) edits or deletes.
pub async fn comments(w: &Walk, p: &People, b: &mut Built) {
    let comments = "/tasks/ENG-1/comments";
    let r = w
        .call("POST", comments)
        .by(&p.ada.token)
        .json(json!({"body": "What do you think, @cy?"}))
        .expect(201)
        .await;
    let c = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/comments/{c}").as_str())
    );
    assert_eq!(r.body["mentions"], json!([p.cy.id]), "{}", r.text);
    let reply = w
        .call("POST", comments)
        .by(&p.gus.token)
        .json(json!({"body": "Looks good", "parent_id": c}))
        .expect(201)
        .await
        .id();
    w.call("POST", comments)
        .by(&p.read)
        .json(json!({"body": "read-only"}))
        .expect(403)
        .await;
    w.call("POST", comments)
        .by(&p.ada.token)
        .json(json!({"body": ""}))
        .expect(422)
        .await;
    w.call("POST", &format!("/tasks/{NOBODY}/comments"))
        .by(&p.ada.token)
        .json(json!({"body": "Anyone?"}))
        .expect(404)
        .await;
    let r = w.call("GET", comments).by(&p.gus.token).expect(200).await;
    assert_eq!(r.items(), 2, "{}", r.text);
    w.call("GET", &format!("/tasks/{NOBODY}/comments"))
        .by(&p.gus.token)
        .expect(404)
        .await;
    let comment = format!("/comments/{c}");
    w.call("GET", &comment).by(&p.gus.token).expect(200).await;
    w.call("GET", &format!("/comments/{NOBODY}"))
        .by(&p.gus.token)
        .expect(404)
        .await;

    let edit = |body: &str| w.call("PATCH", &comment).json(json!({ "body": body }));
    edit("Mine now").by(&p.cy.token).expect(403).await;
    edit("").by(&p.ada.token).expect(422).await;
    edit("What do you think?")
        .by(&p.ada.token)
        .refused_when_stale()
        .await;
    w.call("PATCH", &format!("/comments/{NOBODY}"))
        .by(&p.ada.token)
        .json(json!({"body": "Nothing"}))
        .expect(404)
        .await;
    let r = edit("What do you think?")
        .by(&p.ada.token)
        .expect(200)
        .await;
    assert_eq!(r.body["edited"], true);

    let reply = format!("/comments/{reply}");
    w.call("DELETE", &reply).by(&p.cy.token).expect(403).await;
    w.call("DELETE", &reply)
        .by(&p.gus.token)
        .refused_when_stale()
        .await;
    w.call("DELETE", &reply).by(&p.gus.token).expect(204).await;
    w.call("DELETE", &reply).by(&p.gus.token).expect(404).await;
    b.comment = c;
}

/// Task keys are unique within a workspace only. Kim, a guest of the walk's workspace who also
/// has a project ENG of her own, gets 409 for a key that names a task in both (the ids still
/// work); a key that exists in one of them resolves there.
pub async fn ambiguous_keys(w: &Walk, p: &People, b: &Built) {
    let r = w
        .call("POST", "/auth/register")
        .json(json!({"email": "kim@example.com", "password": PASSWORD, "name": "Kim"}))
        .expect(201)
        .await;
    let kim = person(&r);
    let ws = w
        .call("POST", "/workspaces")
        .by(&kim.token)
        .json(json!({"name": "Elsewhere"}))
        .expect(201)
        .await
        .id();
    let eng = w
        .call("POST", &format!("/workspaces/{ws}/projects"))
        .by(&kim.token)
        .json(json!({"key": "ENG", "name": "Another engine"}))
        .expect(201)
        .await
        .id();
    let theirs = w
        .call("POST", &format!("/projects/{eng}/tasks"))
        .by(&kim.token)
        .json(json!({"title": "Their first"}))
        .expect(201)
        .await;
    assert_eq!(theirs.body["key"], "ENG-1", "{}", theirs.text);
    w.call("POST", &format!("/workspaces/{}/members", b.ws))
        .by(&p.ada.token)
        .json(json!({"email": "kim@example.com", "role": "guest"}))
        .expect(201)
        .await;
    for path in [
        "/tasks/ENG-1",
        "/tasks/ENG-1/comments",
        "/tasks/ENG-1/subtasks",
        "/tasks/ENG-1/activity",
    ] {
        let r = w.call("GET", path).by(&kim.token).expect(409).await;
        assert!(r.text.contains("ambiguous_key"), "{path}: {}", r.text);
    }
    for id in [theirs.id(), b.tasks[0].clone()] {
        w.call("GET", &format!("/tasks/{id}"))
            .by(&kim.token)
            .expect(200)
            .await;
    }
    let r = w
        .call("GET", "/tasks/ENG-2")
        .by(&kim.token)
        .expect(200)
        .await;
    assert_eq!(r.body["id"], b.tasks[1].as_str(), "{}", r.text);
}

/// An archived project stays readable and refuses every write with 409 until it is restored.
pub async fn archived_project(w: &Walk, p: &People, b: &Built) {
    let eng = &b.project;
    let [t1, t2, t3, t4] = &b.tasks;
    let archive = format!("/projects/{eng}/archive");
    w.call("POST", &archive).by(&p.cy.token).expect(403).await;
    w.call("POST", &format!("/projects/{NOBODY}/archive"))
        .by(&p.ada.token)
        .expect(404)
        .await;
    let r = w.call("POST", &archive).by(&p.bob.token).expect(200).await;
    assert_eq!(r.body["archived"], true);
    w.call("GET", &format!("/tasks/{t1}"))
        .by(&p.gus.token)
        .expect(200)
        .await;

    let label = format!("/labels/{}", b.label);
    let milestone = format!("/milestones/{}", b.milestone);
    let comment = format!("/comments/{}", b.comment);
    let writes: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PATCH",
            format!("/projects/{eng}"),
            Some(json!({"name": "Frozen"})),
        ),
        (
            "PUT",
            format!("/projects/{eng}/workflow"),
            Some(json!({ "statuses": b.statuses })),
        ),
        (
            "POST",
            format!("/projects/{eng}/labels"),
            Some(json!({"name": "late"})),
        ),
        ("PATCH", label.clone(), Some(json!({"name": "defect"}))),
        ("DELETE", label, None),
        (
            "POST",
            format!("/projects/{eng}/milestones"),
            Some(json!({"name": "v9"})),
        ),
        ("PATCH", milestone.clone(), Some(json!({"closed": true}))),
        ("DELETE", milestone, None),
        (
            "POST",
            format!("/projects/{eng}/tasks"),
            Some(json!({"title": "Late"})),
        ),
        (
            "POST",
            format!("/projects/{eng}/tasks/bulk"),
            Some(json!({"task_ids": [t2], "set": {"priority": "urgent"}})),
        ),
        (
            "PATCH",
            format!("/tasks/{t1}"),
            Some(json!({"title": "Frozen"})),
        ),
        ("DELETE", format!("/tasks/{t3}"), None),
        ("POST", format!("/tasks/{t4}/restore"), None),
        (
            "POST",
            format!("/tasks/{t1}/transition"),
            Some(json!({"status_id": b.status("Todo")})),
        ),
        (
            "POST",
            format!("/tasks/{t2}/move"),
            Some(json!({"after_id": t3})),
        ),
        (
            "POST",
            format!("/tasks/{t3}/dependencies"),
            Some(json!({"blocked_by": t2})),
        ),
        ("DELETE", format!("/tasks/{t1}/dependencies/{t2}"), None),
        (
            "POST",
            format!("/tasks/{t1}/comments"),
            Some(json!({"body": "Late"})),
        ),
        ("PATCH", comment.clone(), Some(json!({"body": "Frozen"}))),
        ("DELETE", comment, None),
    ];
    for (method, path, body) in writes {
        let mut call = w.call(method, &path).by(&p.ada.token);
        if let Some(body) = body {
            call = call.json(body);
        }
        let r = call.expect(409).await;
        assert_eq!(
            r.body["reason"], "project_archived",
            "{method} {path}: {}",
            r.text
        );
    }

    let restore = format!("/projects/{eng}/restore");
    w.call("POST", &restore).by(&p.cy.token).expect(403).await;
    w.call("POST", &format!("/projects/{NOBODY}/restore"))
        .by(&p.ada.token)
        .expect(404)
        .await;
    let r = w.call("POST", &restore).by(&p.bob.token).expect(200).await;
    assert_eq!(r.body["archived"], false);
}

/// Deleting a project takes an admin; it is gone afterwards.
pub async fn deleted_project(w: &Walk, p: &People, b: &Built) {
    let old = format!("/projects/{}", b.doomed);
    w.call("DELETE", &old).by(&p.cy.token).expect(403).await;
    w.call("DELETE", &old)
        .by(&p.ada.token)
        .refused_when_stale()
        .await;
    w.call("DELETE", &old).by(&p.bob.token).expect(204).await;
    w.call("GET", &old).by(&p.ada.token).expect(404).await;
    w.call("DELETE", &old).by(&p.ada.token).expect(404).await;
}

/// After a restart with the operator's limits (see `LOCKED_DOWN`): what the walk wrote is
/// still there; registration is closed (403); a body over the limit is 413; failed logins are
/// throttled and a busy token is rate limited, both with 429 and `Retry-After`.
pub async fn locked_down(w: &Walk, p: &People, b: &Built) {
    let r = w
        .call("GET", "/tasks/ENG-1")
        .by(&p.bob.token)
        .expect(200)
        .await;
    assert_eq!(r.body["title"], "Design the mill");
    assert_eq!(r.body["status_id"], b.status("In Progress"));
    assert_eq!(r.body["blocked_by"], json!([b.tasks[1]]));

    let r = w
        .call("POST", "/auth/register")
        .json(json!({"email": "eve@example.com", "password": PASSWORD, "name": "Eve"}))
        .expect(403)
        .await;
    assert!(
        r.body["detail"].as_str().unwrap_or("").contains("closed"),
        "{}",
        r.text
    );

    w.call("PATCH", &format!("/workspaces/{}", b.ws))
        .by(&p.bob.token)
        .json(json!({ "name": "x".repeat(5000) }))
        .expect(413)
        .await;

    let login = |password: &str| {
        w.call("POST", "/auth/login")
            .json(json!({"email": "gus@example.com", "password": password}))
    };
    login("wrong once").expect(401).await;
    login("wrong twice").expect(401).await;
    let r = login(PASSWORD).expect(429).await;
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);

    let mut answers = Vec::new();
    loop {
        let r = w.call("GET", "/me").by(&p.cy.token).send().await;
        answers.push(r.status);
        if r.status == 429 || answers.len() > 10 {
            assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
            break;
        }
    }
    let (last, before) = answers.split_last().unwrap();
    assert!(
        *last == 429 && before.iter().all(|s| *s == 200) && before.len() == 5,
        "a burst of five, then 429: {answers:?}"
    );
    w.call("GET", "/me").by(&p.cy.token).expect(429).await;
}
