//! The v1 contract walked through with a real HTTP client against a served router: every route,
//! the status codes `api.md` names, and snapshots of representative bodies.

mod common;

use common::TestServer;
use insta::assert_json_snapshot;
use serde_json::json;

#[tokio::test]
async fn accounts() {
    let s = TestServer::start().await;
    // Register: 201 {user, token}; the first user administers the server.
    let r = s
        .call("POST", "/auth/register", None, Some(json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"})))
        .await
        .expect(201);
    assert_eq!(r.header("location"), Some("/api/v1/me"));
    assert_json_snapshot!("register", r.body, {".token" => "[token]"});
    let ada = r.body["token"].as_str().unwrap().to_owned();
    assert!(ada.starts_with("tl_"));
    let (bob, _) = s.register("Bob").await;
    let r = s.get("/me", &bob).await.expect(200);
    assert_eq!(r.body["is_server_admin"], json!(false));

    // Duplicate e-mail: 409; invalid fields: 422 naming every one.
    s.call(
        "POST",
        "/auth/register",
        None,
        Some(
            json!({"email": "ADA@example.com", "password": "correct horse battery", "name": "Ada"}),
        ),
    )
    .await
    .problem(409);
    let r = s
        .call(
            "POST",
            "/auth/register",
            None,
            Some(json!({"email": "nope", "password": "short", "name": ""})),
        )
        .await
        .problem(422);
    assert_json_snapshot!("register_invalid", r.body);

    // Login: 200 {token, expires_at, user}; wrong credentials 401.
    let r = s
        .call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": "ada@example.com", "password": "correct horse battery"})),
        )
        .await
        .expect(200);
    assert_json_snapshot!("login", r.body, {".token" => "[token]"});
    let session = r.body["token"].as_str().unwrap().to_owned();
    let r = s
        .call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": "ada@example.com", "password": "wrong password!"})),
        )
        .await
        .problem(401);
    assert_json_snapshot!("login_wrong", r.body);

    // /me: 200 with ETag; no token or a bad one: 401 with WWW-Authenticate.
    let r = s.get("/me", &ada).await.expect(200);
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(r.body["email"], json!("ada@example.com"));
    let r = s.call("GET", "/me", None, None).await.problem(401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    s.get("/me", "tl_0000").await.problem(401);
    s.call_with(
        "GET",
        "/api/v1/me",
        None,
        None,
        &[("authorization", "Basic YWRhOnB3")],
    )
    .await
    .problem(401);

    // Personal tokens: the secret is shown once; a read token cannot write.
    let r = s
        .post(
            "/me/tokens",
            &ada,
            json!({"name": "CI", "scopes": ["read"], "expires_at": "2027-01-01T00:00:00+02:00"}),
        )
        .await
        .expect(201);
    assert_json_snapshot!("token_created", r.body, {".token" => "[token]", ".prefix" => "[prefix]"});
    let read_token = r.body["token"].as_str().unwrap().to_owned();
    let read_id = r.id();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/me/tokens/{read_id}")
    );
    s.get("/me", &read_token).await.expect(200);
    s.post("/workspaces", &read_token, json!({"name": "No"}))
        .await
        .problem(403);
    s.post("/me/tokens", &ada, json!({"name": ""}))
        .await
        .problem(422);
    let r = s.get("/me/tokens", &ada).await.expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "register session, login session, CI token");
    assert!(
        items.iter().all(|t| t.get("token").is_none()),
        "secrets are never listed"
    );
    assert_eq!(r.body["next_cursor"], json!(null));
    s.delete(&format!("/me/tokens/{read_id}"), &ada)
        .await
        .expect(204);
    s.get("/me", &read_token).await.problem(401);
    s.delete(&format!("/me/tokens/{read_id}"), &ada)
        .await
        .problem(404);
    s.delete("/me/tokens/not-a-uuid", &ada).await.problem(404);

    // Logout: 204 and the token stops working.
    s.call("POST", "/auth/logout", Some(&session), None)
        .await
        .expect(204);
    s.get("/me", &session).await.problem(401);
    s.get("/me", &ada).await.expect(200);
}

#[tokio::test]
async fn workspaces_and_members() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    let (bob, bob_id) = s.register("Bob").await;

    let r = s
        .post("/workspaces", &ada, json!({"name": "Analytical"}))
        .await
        .expect(201);
    let ws = r.id();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/workspaces/{ws}")
    );
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_json_snapshot!("workspace_created", r.body);
    s.post("/workspaces", &ada, json!({"name": ""}))
        .await
        .problem(422);

    let r = s.get("/workspaces", &ada).await.expect(200);
    assert_eq!(r.body["items"][0]["role"], json!("owner"));
    assert_eq!(
        s.get("/workspaces", &bob).await.expect(200).body["items"],
        json!([])
    );

    // Invisible to outsiders: 404, never 403.
    s.get(&format!("/workspaces/{ws}"), &bob).await.problem(404);
    s.get("/workspaces/not-a-uuid", &ada).await.problem(404);
    s.get(&format!("/workspaces/{ws}"), &ada).await.expect(200);

    // PATCH with If-Match: stale → 412, malformed → 400, current → 200.
    let r = s
        .call_with(
            "PATCH",
            &format!("/api/v1/workspaces/{ws}"),
            Some(&ada),
            Some(json!({"name": "Engine"})),
            &[("if-match", "\"7\"")],
        )
        .await
        .problem(412);
    assert_json_snapshot!("stale_version", r.body);
    s.call_with(
        "PATCH",
        &format!("/api/v1/workspaces/{ws}"),
        Some(&ada),
        Some(json!({"name": "Engine"})),
        &[("if-match", "seven")],
    )
    .await
    .problem(400);
    let r = s
        .call_with(
            "PATCH",
            &format!("/api/v1/workspaces/{ws}"),
            Some(&ada),
            Some(json!({"name": "Engine"})),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(r.body["name"], json!("Engine"));

    // Members: add by e-mail (201), twice (409), unknown (404), list, change role, remove.
    let r = s
        .post(
            &format!("/workspaces/{ws}/members"),
            &ada,
            json!({"email": "bob@example.com", "role": "guest"}),
        )
        .await
        .expect(201);
    assert_json_snapshot!("member_added", r.body);
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/workspaces/{ws}/members/{bob_id}")
    );
    s.post(
        &format!("/workspaces/{ws}/members"),
        &ada,
        json!({"user_id": bob_id, "role": "member"}),
    )
    .await
    .problem(409);
    s.post(
        &format!("/workspaces/{ws}/members"),
        &ada,
        json!({"email": "zed@example.com", "role": "member"}),
    )
    .await
    .problem(404);
    let r = s
        .post(
            &format!("/workspaces/{ws}/members"),
            &ada,
            json!({"email": "zed@example.com", "role": "king"}),
        )
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], json!("role"));
    s.post(
        &format!("/workspaces/{ws}/members"),
        &ada,
        json!({"role": "member"}),
    )
    .await
    .problem(422);
    let r = s
        .get(&format!("/workspaces/{ws}/members"), &bob)
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    // A guest may not manage members: 403.
    s.patch(
        &format!("/workspaces/{ws}/members/{bob_id}"),
        &bob,
        json!({"role": "owner"}),
    )
    .await
    .problem(403);
    let r = s
        .patch(
            &format!("/workspaces/{ws}/members/{bob_id}"),
            &ada,
            json!({"role": "admin"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], json!("admin"));
    assert_eq!(r.header("etag"), Some("\"2\""));
    // The last owner cannot leave: 409.
    let ada_id = s.get("/me", &ada).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .delete(&format!("/workspaces/{ws}/members/{ada_id}"), &ada)
        .await
        .problem(409);
    assert_eq!(r.body["reason"], json!("last_owner"));
    s.call_with(
        "DELETE",
        &format!("/api/v1/workspaces/{ws}/members/{bob_id}"),
        Some(&ada),
        None,
        &[("if-match", "\"1\"")],
    )
    .await
    .problem(412);
    s.delete(&format!("/workspaces/{ws}/members/{bob_id}"), &ada)
        .await
        .expect(204);
    s.get(&format!("/workspaces/{ws}"), &bob).await.problem(404);
    let r = s
        .get(&format!("/workspaces/{ws}/activity"), &ada)
        .await
        .expect(200);
    assert!(r.body["items"].as_array().unwrap().len() >= 4);
}

/// A workspace with Ada as owner and a project ENG; returns (token, workspace id, project id).
async fn project(s: &TestServer) -> (String, String, String) {
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
    (ada, ws, p)
}

#[tokio::test]
async fn projects_workflow_labels_milestones() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;
    let ws = s
        .post("/workspaces", &ada, json!({"name": "Analytical"}))
        .await
        .expect(201)
        .id();
    let r = s
        .post(
            &format!("/workspaces/{ws}/projects"),
            &ada,
            json!({"key": "ENG", "name": "Engine", "description": "The mill"}),
        )
        .await
        .expect(201);
    let p = r.id();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/projects/{p}")
    );
    assert_json_snapshot!("project_created", r.body);
    let r = s
        .post(
            &format!("/workspaces/{ws}/projects"),
            &ada,
            json!({"key": "ENG", "name": "Again"}),
        )
        .await
        .problem(409);
    assert_json_snapshot!("project_duplicate_key", r.body);
    let r = s
        .post(
            &format!("/workspaces/{ws}/projects"),
            &ada,
            json!({"key": "1x", "name": ""}),
        )
        .await
        .problem(422);
    let fields: Vec<_> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    assert_eq!(fields, vec![json!("key"), json!("name")]);

    assert_eq!(
        s.get(&format!("/workspaces/{ws}/projects"), &ada)
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.get(&format!("/projects/{p}"), &ada)
            .await
            .expect(200)
            .header("etag"),
        Some("\"1\"")
    );
    let r = s
        .patch(
            &format!("/projects/{p}"),
            &ada,
            json!({"name": "Difference Engine"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["version"], json!(2));
    s.patch(&format!("/projects/{p}"), &ada, json!({"name": null}))
        .await
        .problem(422);

    // Workflow: GET, PUT with restricted transitions (If-Match honoured).
    let r = s
        .get(&format!("/projects/{p}/workflow"), &ada)
        .await
        .expect(200);
    assert_json_snapshot!("workflow_default", r.body);
    let statuses = r.body["statuses"].clone();
    let mut body = json!({
        "statuses": statuses,
        "transitions": [{"from": "Todo", "to": "In Progress"}, {"from": "In Progress", "to": "Done", "conditions": ["no_open_blockers"]}]
    });
    s.call_with(
        "PUT",
        &format!("/api/v1/projects/{p}/workflow"),
        Some(&ada),
        Some(body.clone()),
        &[("if-match", "\"9\"")],
    )
    .await
    .problem(412);
    let r = s
        .call_with(
            "PUT",
            &format!("/api/v1/projects/{p}/workflow"),
            Some(&ada),
            Some(body.clone()),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(r.body["transitions"].as_array().unwrap().len(), 2);
    body["statuses"][0]["category"] = json!("someday");
    let r = s
        .call(
            "PUT",
            &format!("/projects/{p}/workflow"),
            Some(&ada),
            Some(body),
        )
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], json!("statuses[0].category"));

    let r = s
        .get(&format!("/projects/{p}/stats"), &ada)
        .await
        .expect(200);
    assert_json_snapshot!("stats_empty", r.body);

    // Labels.
    let r = s
        .post(
            &format!("/projects/{p}/labels"),
            &ada,
            json!({"name": "bug", "color": "#d73a4a"}),
        )
        .await
        .expect(201);
    let label = r.id();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/labels/{label}")
    );
    s.post(
        &format!("/projects/{p}/labels"),
        &ada,
        json!({"name": "BUG"}),
    )
    .await
    .problem(409);
    s.post(
        &format!("/projects/{p}/labels"),
        &ada,
        json!({"name": "x", "color": "red"}),
    )
    .await
    .problem(422);
    assert_eq!(
        s.get(&format!("/projects/{p}/labels"), &ada)
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.get(&format!("/labels/{label}"), &ada).await.expect(200);
    let r = s
        .patch(&format!("/labels/{label}"), &ada, json!({"color": null}))
        .await
        .expect(200);
    assert_eq!(r.body["color"], json!(null));
    assert_eq!(r.body["name"], json!("bug"));
    s.call_with(
        "DELETE",
        &format!("/api/v1/labels/{label}"),
        Some(&ada),
        None,
        &[("if-match", "\"1\"")],
    )
    .await
    .problem(412);
    s.delete(&format!("/labels/{label}"), &ada)
        .await
        .expect(204);
    s.get(&format!("/labels/{label}"), &ada).await.problem(404);

    // Milestones.
    let r = s
        .post(
            &format!("/projects/{p}/milestones"),
            &ada,
            json!({"name": "v1", "due_on": "2026-06-30"}),
        )
        .await
        .expect(201);
    let m = r.id();
    assert_json_snapshot!("milestone_created", r.body);
    s.post(
        &format!("/projects/{p}/milestones"),
        &ada,
        json!({"name": "v2", "due_on": "June"}),
    )
    .await
    .problem(422);
    assert_eq!(
        s.get(&format!("/projects/{p}/milestones"), &ada)
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = s
        .patch(
            &format!("/milestones/{m}"),
            &ada,
            json!({"due_on": null, "closed": true}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["due_on"], json!(null));
    assert_eq!(r.body["closed"], json!(true));
    s.get(&format!("/milestones/{m}"), &ada).await.expect(200);
    s.delete(&format!("/milestones/{m}"), &ada)
        .await
        .expect(204);
    s.get(&format!("/milestones/{m}"), &ada).await.problem(404);

    // Archive: writes refused with 409 until restored.
    assert_eq!(
        s.call("POST", &format!("/projects/{p}/archive"), Some(&ada), None)
            .await
            .expect(200)
            .body["archived"],
        json!(true)
    );
    let r = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            json!({"title": "No"}),
        )
        .await
        .problem(409);
    assert_eq!(r.body["reason"], json!("project_archived"));
    s.post(
        &format!("/projects/{p}/labels"),
        &ada,
        json!({"name": "late"}),
    )
    .await
    .problem(409);
    assert_eq!(
        s.call("POST", &format!("/projects/{p}/restore"), Some(&ada), None)
            .await
            .expect(200)
            .body["archived"],
        json!(false)
    );
    s.post(
        &format!("/projects/{p}/tasks"),
        &ada,
        json!({"title": "Yes"}),
    )
    .await
    .expect(201);

    let r = s
        .get(&format!("/projects/{p}/activity?since=0&limit=3"), &ada)
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    let r = s
        .get(&format!("/projects/{p}/activity?since={cursor}"), &ada)
        .await
        .expect(200);
    assert!(r.body["items"][0]["seq"].as_u64().unwrap() > cursor.parse::<u64>().unwrap());

    // Delete: 204, then the project is gone.
    s.call_with(
        "DELETE",
        &format!("/api/v1/projects/{p}"),
        Some(&ada),
        None,
        &[("if-match", "\"1\"")],
    )
    .await
    .problem(412);
    s.delete(&format!("/projects/{p}"), &ada).await.expect(204);
    s.get(&format!("/projects/{p}"), &ada).await.problem(404);
}

#[tokio::test]
async fn tasks() {
    let s = TestServer::start().await;
    let (ada, _, p) = project(&s).await;
    let flow = s.get(&format!("/projects/{p}/workflow"), &ada).await.body;
    let status = |name: &str| {
        flow["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|st| st["name"] == json!(name))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // Create: 201, Location, ETag, key ENG-1.
    let r = s
        .post(&format!("/projects/{p}/tasks"), &ada, json!({"title": "Design the mill", "priority": "high", "due_at": "2026-03-10T17:00:00+01:00", "estimate_seconds": 3600}))
        .await
        .expect(201);
    let t1 = r.id();
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/tasks/{t1}"));
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_json_snapshot!("task_created", r.body);
    let t2 = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            json!({"title": "Punch cards"}),
        )
        .await
        .expect(201)
        .id();
    let t3 = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            json!({"title": "Store", "parent_id": t1}),
        )
        .await
        .expect(201)
        .id();

    // Unknown, missing and mistyped fields: 422 naming each.
    let r = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            json!({"title": "x", "colour": "red", "sprint": 4, "priority": "whenever"}),
        )
        .await
        .problem(422);
    assert_json_snapshot!("task_unknown_fields", r.body);
    let r = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            json!({"description": "no title"}),
        )
        .await
        .problem(422);
    assert_eq!(
        r.body["errors"],
        json!([{"field": "title", "message": "is required"}])
    );
    let r = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            json!({"title": 5, "due_at": "tomorrow"}),
        )
        .await
        .problem(422);
    let mut fields: Vec<String> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    assert_eq!(fields, ["due_at", "title"]);

    // Get by id and by key.
    assert_eq!(
        s.get("/tasks/ENG-1", &ada).await.expect(200).body["id"],
        json!(t1)
    );
    assert_eq!(
        s.get(&format!("/tasks/{t1}"), &ada).await.expect(200).body["key"],
        json!("ENG-1")
    );
    s.get("/tasks/ENG-99", &ada).await.problem(404);
    s.get("/tasks/what", &ada).await.problem(404);

    // List with a filter, a sort and pagination.
    let r = s
        .get(&format!("/projects/{p}/tasks?limit=2"), &ada)
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    let r = s
        .get(
            &format!("/projects/{p}/tasks?limit=2&cursor={cursor}"),
            &ada,
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["next_cursor"], json!(null));
    let r = s
        .get(
            &format!("/projects/{p}/tasks?q=priority%3E%3Dhigh&sort=-created"),
            &ada,
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = s
        .get(&format!("/projects/{p}/tasks?q=priority%3E%3D"), &ada)
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], json!("q"));
    assert_json_snapshot!("task_list_bad_filter", r.body);
    s.get(&format!("/projects/{p}/tasks?limit=500"), &ada)
        .await
        .problem(422);
    let r = s
        .get(&format!("/projects/{p}/tasks?limit=many"), &ada)
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], json!("limit"));
    s.get(&format!("/projects/{p}/tasks?sort=colour"), &ada)
        .await
        .problem(422);

    // PATCH: null clears, absent keeps; If-Match stale → 412.
    let r = s
        .patch(
            &format!("/tasks/{t1}"),
            &ada,
            json!({"due_at": null, "title": "Design the engine"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["due_at"], json!(null));
    assert_eq!(r.body["estimate_seconds"], json!(3600));
    assert_eq!(r.body["priority"], json!("high"));
    assert_eq!(r.header("etag"), Some("\"2\""));
    s.call_with(
        "PATCH",
        &format!("/api/v1/tasks/{t1}"),
        Some(&ada),
        Some(json!({"title": "x"})),
        &[("if-match", "\"1\"")],
    )
    .await
    .problem(412);
    s.call_with(
        "PATCH",
        &format!("/api/v1/tasks/{t1}"),
        Some(&ada),
        Some(json!({"title": "Design"})),
        &[("if-match", "\"2\"")],
    )
    .await
    .expect(200);
    s.patch(&format!("/tasks/{t1}"), &ada, json!({"title": null}))
        .await
        .problem(422);

    // Dependencies: ENG-2 blocks ENG-1; ENG-1 blocking ENG-2 would close a cycle: 409 naming it.
    let r = s
        .post(
            &format!("/tasks/{t1}/dependencies"),
            &ada,
            json!({"blocked_by": "ENG-2"}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["blocked_by"], json!([t2]));
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/tasks/{t1}/dependencies/{t2}")
    );
    let r = s
        .post(
            &format!("/tasks/{t2}/dependencies"),
            &ada,
            json!({"blocked_by": t1}),
        )
        .await
        .problem(409);
    assert_json_snapshot!("dependency_cycle", r.body);
    s.post(
        &format!("/tasks/{t2}/dependencies"),
        &ada,
        json!({"blocked_by": "nonsense"}),
    )
    .await
    .problem(422);

    // Transitions: allowed (200), forbidden by the workflow (409 with from/to/why).
    let flow_body = json!({
        "statuses": flow["statuses"],
        "transitions": [{"from": "Todo", "to": "In Progress"}, {"from": "In Progress", "to": "Done", "conditions": ["no_open_blockers"]}]
    });
    s.call(
        "PUT",
        &format!("/projects/{p}/workflow"),
        Some(&ada),
        Some(flow_body),
    )
    .await
    .expect(200);
    let r = s
        .post(
            &format!("/tasks/{t1}/transition"),
            &ada,
            json!({"status_id": status("Done")}),
        )
        .await
        .problem(409);
    assert_json_snapshot!("transition_not_allowed", r.body);
    let r = s
        .post(
            &format!("/tasks/{t1}/transition"),
            &ada,
            json!({"status_id": status("In Progress")}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status_id"], json!(status("In Progress")));
    let r = s
        .post(
            &format!("/tasks/{t1}/transition"),
            &ada,
            json!({"status_id": status("Done")}),
        )
        .await
        .problem(409);
    assert_eq!(r.body["reason"], json!("transition_not_allowed"));
    s.delete(&format!("/tasks/{t1}/dependencies/ENG-2"), &ada)
        .await
        .expect(204);
    s.delete(&format!("/tasks/{t1}/dependencies/{t2}"), &ada)
        .await
        .problem(404);
    let r = s
        .post(
            &format!("/tasks/{t1}/transition"),
            &ada,
            json!({"status_id": status("Done")}),
        )
        .await
        .expect(200);
    assert!(r.body["completed_at"].is_string());

    // Board moves.
    let r = s
        .post(&format!("/tasks/{t2}/move"), &ada, json!({"before_id": t3}))
        .await
        .expect(200);
    assert!(r.body["position"].is_string());

    // Subtasks.
    let r = s
        .get(&format!("/tasks/{t1}/subtasks"), &ada)
        .await
        .expect(200);
    assert_eq!(r.body["items"][0]["id"], json!(t3));

    // Bulk: all or nothing.
    let r = s
        .post(
            &format!("/projects/{p}/tasks/bulk"),
            &ada,
            json!({"task_ids": ["ENG-2", t3], "set": {"priority": "low"}}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let r = s
        .post(
            &format!("/projects/{p}/tasks/bulk"),
            &ada,
            json!({"task_ids": ["ENG-2", "ENG-77"], "set": {"priority": "urgent"}}),
        )
        .await
        .problem(404);
    assert_json_snapshot!("bulk_failed", r.body);
    assert_eq!(
        s.get("/tasks/ENG-2", &ada).await.body["priority"],
        json!("low")
    );
    s.post(
        &format!("/projects/{p}/tasks/bulk"),
        &ada,
        json!({"task_ids": ["ENG-2"]}),
    )
    .await
    .problem(422);

    // Delete moves to the trash (with the subtree); restore brings it back.
    s.call_with(
        "DELETE",
        &format!("/api/v1/tasks/{t1}"),
        Some(&ada),
        None,
        &[("if-match", "\"1\"")],
    )
    .await
    .problem(412);
    s.delete(&format!("/tasks/{t1}"), &ada).await.expect(204);
    s.get(&format!("/tasks/{t1}"), &ada).await.problem(404);
    s.get(&format!("/tasks/{t3}"), &ada).await.problem(404);
    let r = s
        .get(&format!("/projects/{p}/tasks?trashed=true"), &ada)
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["items"][0]["trashed"], json!(true));
    let r = s
        .call("POST", &format!("/tasks/{t1}/restore"), Some(&ada), None)
        .await
        .expect(200);
    assert_eq!(r.body["trashed"], json!(false));
    s.get(&format!("/tasks/{t3}"), &ada).await.expect(200);
    s.call("POST", &format!("/tasks/{t1}/restore"), Some(&ada), None)
        .await
        .problem(409);

    // Activity of a task, oldest first, with `since`.
    let r = s
        .get(&format!("/tasks/{t1}/activity"), &ada)
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items[0]["kind"], json!("task_created"));
    let seqs: Vec<u64> = items.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let updated = items
        .iter()
        .find(|e| e["kind"] == json!("task_updated"))
        .unwrap();
    assert_json_snapshot!("activity_task_updated", updated);
    let r = s
        .get(
            &format!("/tasks/{t1}/activity?since={}", seqs[seqs.len() - 2]),
            &ada,
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    s.get(&format!("/tasks/{t1}/activity?since=-1"), &ada)
        .await
        .problem(422);
    // `since` and `cursor` are int64 in the document: beyond that is a 422 naming each.
    let r = s
        .get(
            &format!(
                "/tasks/{t1}/activity?since=9223372036854775808&cursor=18446744073709551615&limit=0"
            ),
            &ada,
        )
        .await
        .problem(422);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["since", "cursor", "limit"], "{}", r.text);
    s.get(
        &format!("/tasks/{t1}/activity?since=9223372036854775807"),
        &ada,
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn comments() {
    let s = TestServer::start().await;
    let (ada, ws, p) = project(&s).await;
    let (bob, _) = s.register("Bob").await;
    s.post(
        &format!("/workspaces/{ws}/members"),
        &ada,
        json!({"email": "bob@example.com", "role": "member"}),
    )
    .await
    .expect(201);
    let t = s
        .post(
            &format!("/projects/{p}/tasks"),
            &ada,
            json!({"title": "Design"}),
        )
        .await
        .expect(201)
        .id();

    let r = s
        .post(
            &format!("/tasks/{t}/comments"),
            &ada,
            json!({"body": "What do you think, @bob?"}),
        )
        .await
        .expect(201);
    let c = r.id();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/comments/{c}")
    );
    assert_json_snapshot!("comment_created", r.body);
    let reply = s
        .post(
            "/tasks/ENG-1/comments",
            &bob,
            json!({"body": "Looks good", "parent_id": c}),
        )
        .await
        .expect(201);
    s.post(&format!("/tasks/{t}/comments"), &ada, json!({"body": ""}))
        .await
        .problem(422);
    assert_eq!(
        s.get(&format!("/tasks/{t}/comments"), &bob)
            .await
            .expect(200)
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Only the author edits: Bob gets 403 on Ada's comment.
    s.patch(&format!("/comments/{c}"), &bob, json!({"body": "Mine now"}))
        .await
        .problem(403);
    s.call_with(
        "PATCH",
        &format!("/api/v1/comments/{c}"),
        Some(&ada),
        Some(json!({"body": "x"})),
        &[("if-match", "\"5\"")],
    )
    .await
    .problem(412);
    let r = s
        .patch(
            &format!("/comments/{c}"),
            &ada,
            json!({"body": "What do you think?"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["edited"], json!(true));
    assert_eq!(r.header("etag"), Some("\"2\""));
    s.get(&format!("/comments/{c}"), &bob).await.expect(200);
    s.delete(&format!("/comments/{}", reply.id()), &bob)
        .await
        .expect(204);
    s.get("/comments/not-a-uuid", &ada).await.problem(404);
}

#[tokio::test]
async fn probes() {
    let s = TestServer::start().await;
    for path in ["/healthz", "/readyz", "/api/v1/healthz", "/api/v1/readyz"] {
        let r = s.call_with("GET", path, None, None, &[]).await.expect(200);
        assert_eq!(r.body["status"], json!("ok"), "{path}");
    }
}
