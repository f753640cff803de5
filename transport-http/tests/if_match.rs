//! `If-Match` on the two DELETE routes whose objects have no `GET` of their own:
//! `DELETE /me/tokens/{id}` (compared with the token's version, as in its `ETag` at creation
//! and in the list) and `DELETE /tasks/{task}/dependencies/{blocker}` (compared with the blocked
//! task's version, the `ETag` of `POST /tasks/{task}/dependencies` and of `GET /tasks/{task}`).
//! A stale tag → 412 and nothing is deleted; the current one → 204; no `If-Match` (or `*`) → no
//! condition; a malformed one → 400.

mod common;

use common::{Resp, TestServer};
use serde_json::{json, Value};

/// The `ETag` of a response.
fn etag(r: &Resp) -> String {
    r.header("etag").expect("an ETag").to_owned()
}

async fn delete_if(s: &TestServer, path: &str, token: &str, tag: Option<&str>) -> Resp {
    let headers: Vec<(&str, &str)> = tag.map(|t| ("if-match", t)).into_iter().collect();
    s.call_with(
        "DELETE",
        &format!("/api/v1{path}"),
        Some(token),
        None,
        &headers,
    )
    .await
}

/// A personal token of the caller: (id, secret, ETag of the creation).
async fn new_token(s: &TestServer, owner: &str, name: &str) -> (String, String, String) {
    let r = s
        .post("/me/tokens", owner, json!({"name": name}))
        .await
        .expect(201);
    (
        r.id(),
        r.body["token"].as_str().unwrap().to_owned(),
        etag(&r),
    )
}

/// The token with `id` in the caller's list.
async fn listed(s: &TestServer, owner: &str, id: &str) -> Option<Value> {
    let r = s.get("/me/tokens", owner).await.expect(200);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == json!(id))
        .cloned()
}

#[tokio::test]
async fn revoking_a_token_honours_if_match() {
    let s = TestServer::start().await;
    let (ada, _) = s.register("Ada").await;

    // Created at version 1, with that ETag.
    let (ci, ci_secret, created) = new_token(&s, &ada, "CI").await;
    assert_eq!(created, "\"1\"");
    // Its first use is recorded (`last_used_at`), which moves its version.
    s.get("/me", &ci_secret).await.expect(200);
    let current = listed(&s, &ada, &ci).await.expect("listed")["version"]
        .as_u64()
        .unwrap();
    assert_eq!(current, 2);

    // Stale: 412 with both versions, and the token still works and is still listed.
    let r = delete_if(&s, &format!("/me/tokens/{ci}"), &ada, Some(&created))
        .await
        .problem(412);
    assert_eq!(r.body["expected_version"], json!(1), "{}", r.text);
    assert_eq!(r.body["current_version"], json!(2), "{}", r.text);
    s.get("/me", &ci_secret).await.expect(200);
    assert!(listed(&s, &ada, &ci).await.is_some());

    // Malformed: 400, nothing revoked.
    delete_if(&s, &format!("/me/tokens/{ci}"), &ada, Some("2"))
        .await
        .problem(400);
    s.get("/me", &ci_secret).await.expect(200);

    // Current: 204, and the token stops working.
    delete_if(&s, &format!("/me/tokens/{ci}"), &ada, Some("\"2\""))
        .await
        .expect(204);
    s.get("/me", &ci_secret).await.problem(401);
    assert!(listed(&s, &ada, &ci).await.is_none());
    // Gone: 404 whatever the tag.
    delete_if(&s, &format!("/me/tokens/{ci}"), &ada, Some("\"3\""))
        .await
        .problem(404);

    // Without If-Match, or with `*`: no condition.
    let (other, other_secret, _) = new_token(&s, &ada, "Other").await;
    delete_if(&s, &format!("/me/tokens/{other}"), &ada, None)
        .await
        .expect(204);
    s.get("/me", &other_secret).await.problem(401);
    let (third, _, _) = new_token(&s, &ada, "Third").await;
    delete_if(&s, &format!("/me/tokens/{third}"), &ada, Some("*"))
        .await
        .expect(204);

    // A token may revoke itself with its own current version.
    let (own, own_secret, _) = new_token(&s, &ada, "Own").await;
    s.get("/me", &own_secret).await.expect(200);
    delete_if(&s, &format!("/me/tokens/{own}"), &own_secret, Some("\"1\""))
        .await
        .problem(412);
    delete_if(&s, &format!("/me/tokens/{own}"), &own_secret, Some("\"2\""))
        .await
        .expect(204);
    s.get("/me", &own_secret).await.problem(401);
}

/// Ada with a project ENG and two tasks; returns (token, ENG-1's id, ENG-2's id).
async fn two_tasks(s: &TestServer) -> (String, String, String) {
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
    let mut ids = Vec::new();
    for title in ["Blocked", "Blocker"] {
        let r = s
            .post(
                &format!("/projects/{p}/tasks"),
                &ada,
                json!({"title": title}),
            )
            .await
            .expect(201);
        ids.push(r.id());
    }
    let t2 = ids.pop().unwrap();
    let t1 = ids.pop().unwrap();
    (ada, t1, t2)
}

#[tokio::test]
async fn removing_a_dependency_honours_if_match_on_the_blocked_task() {
    let s = TestServer::start().await;
    let (ada, t1, t2) = two_tasks(&s).await;

    // The 201 of the edge carries the blocked task and the task's ETag.
    let r = s
        .post(
            &format!("/tasks/{t1}/dependencies"),
            &ada,
            json!({"blocked_by": t2}),
        )
        .await
        .expect(201);
    let added = etag(&r);
    assert_eq!(added, format!("\"{}\"", r.body["version"]));
    let location = r.header("location").unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/tasks/{t1}/dependencies/{t2}"));
    let edge = location.strip_prefix("/api/v1").unwrap().to_owned();
    // Adding the edge did not change the task's version: GET gives the same ETag.
    assert_eq!(
        etag(&s.get(&format!("/tasks/{t1}"), &ada).await.expect(200)),
        added
    );

    // Someone edits the task: the tag the client holds is stale.
    let r = s
        .patch(&format!("/tasks/{t1}"), &ada, json!({"title": "Renamed"}))
        .await
        .expect(200);
    let current = etag(&r);
    assert_ne!(current, added);

    // Stale: 412, and the edge is still there.
    let r = delete_if(&s, &edge, &ada, Some(&added)).await.problem(412);
    assert_eq!(
        format!("\"{}\"", r.body["expected_version"]),
        added,
        "{}",
        r.text
    );
    assert_eq!(
        format!("\"{}\"", r.body["current_version"]),
        current,
        "{}",
        r.text
    );
    let task = s.get(&format!("/tasks/{t1}"), &ada).await.expect(200);
    assert_eq!(task.body["blocked_by"], json!([t2]));
    // Also when the edge is named by keys.
    delete_if(&s, "/tasks/ENG-1/dependencies/ENG-2", &ada, Some(&added))
        .await
        .problem(412);
    // Malformed: 400.
    delete_if(&s, &edge, &ada, Some("W/\"2\""))
        .await
        .problem(400);
    assert_eq!(
        s.get(&format!("/tasks/{t1}"), &ada).await.expect(200).body["blocked_by"],
        json!([t2])
    );

    // Current: 204; the edge is gone and the task's ETag is unchanged.
    delete_if(&s, &edge, &ada, Some(&current)).await.expect(204);
    let task = s.get(&format!("/tasks/{t1}"), &ada).await.expect(200);
    assert_eq!(task.body["blocked_by"], json!([]));
    assert_eq!(etag(&task), current);
    // Gone: 404 whatever the tag.
    delete_if(&s, &edge, &ada, Some(&current))
        .await
        .problem(404);

    // Without If-Match, or with `*`: no condition.
    for tag in [None, Some("*")] {
        s.post(
            &format!("/tasks/{t1}/dependencies"),
            &ada,
            json!({"blocked_by": "ENG-2"}),
        )
        .await
        .expect(201);
        delete_if(&s, &edge, &ada, tag).await.expect(204);
        assert_eq!(
            s.get(&format!("/tasks/{t1}"), &ada).await.expect(200).body["blocked_by"],
            json!([])
        );
    }
}
