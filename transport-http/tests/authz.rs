//! The authorization matrix: two workspaces, every role, an outsider and a read-only token,
//! against every workspace-scoped route. Outsiders get 404 (existence is never revealed),
//! roles too weak get 403, read-only tokens get 403 on every write.

mod common;

use common::TestServer;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    Read,
    Comment,
    Work,
    Manage,
    Own,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    Admin,
    Member,
    Guest,
    Outsider,
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
    statuses: Value,
    done: String,
}

impl Fixture {
    fn token(&self, who: Who) -> &str {
        &self.tokens.iter().find(|(w, _)| *w == who).unwrap().1
    }
}

/// Workspace W1 with an owner, an admin, two members (Mia acts, Tim is acted upon) and a guest;
/// workspace W2 owned by the outsider; project ENG with tasks, a dependency, a trashed task, a
/// label, a milestone and comments.
async fn fixture(s: &TestServer) -> Fixture {
    let (owner, _) = s.register("Olivia").await;
    let (admin, _) = s.register("Adam").await;
    let (member, _) = s.register("Mia").await;
    let (guest, _) = s.register("Gus").await;
    let (outsider, _) = s.register("Otto").await;
    let (_, tim) = s.register("Tim").await;
    s.register("Nina").await;
    let ws = s
        .post("/workspaces", &owner, json!({"name": "W1"}))
        .await
        .expect(201)
        .id();
    for (email, role) in [
        ("adam", "admin"),
        ("mia", "member"),
        ("tim", "member"),
        ("gus", "guest"),
    ] {
        s.post(
            &format!("/workspaces/{ws}/members"),
            &owner,
            json!({"email": format!("{email}@example.com"), "role": role}),
        )
        .await
        .expect(201);
    }
    let ws2 = s
        .post("/workspaces", &outsider, json!({"name": "W2"}))
        .await
        .expect(201)
        .id();
    s.post(
        &format!("/workspaces/{ws2}/projects"),
        &outsider,
        json!({"key": "OPS", "name": "Ops"}),
    )
    .await
    .expect(201);
    let p = s
        .post(
            &format!("/workspaces/{ws}/projects"),
            &owner,
            json!({"key": "ENG", "name": "Engine"}),
        )
        .await
        .expect(201)
        .id();
    let t = s
        .post(
            &format!("/projects/{p}/tasks"),
            &owner,
            json!({"title": "One"}),
        )
        .await
        .expect(201)
        .id();
    let t2 = s
        .post(
            &format!("/projects/{p}/tasks"),
            &owner,
            json!({"title": "Two"}),
        )
        .await
        .expect(201)
        .id();
    let t3 = s
        .post(
            &format!("/projects/{p}/tasks"),
            &owner,
            json!({"title": "Three"}),
        )
        .await
        .expect(201)
        .id();
    let trashed = s
        .post(
            &format!("/projects/{p}/tasks"),
            &owner,
            json!({"title": "Gone"}),
        )
        .await
        .expect(201)
        .id();
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
    let label = s
        .post(
            &format!("/projects/{p}/labels"),
            &owner,
            json!({"name": "bug"}),
        )
        .await
        .expect(201)
        .id();
    let milestone = s
        .post(
            &format!("/projects/{p}/milestones"),
            &owner,
            json!({"name": "v1"}),
        )
        .await
        .expect(201)
        .id();
    let comment = s
        .post(
            &format!("/tasks/{t}/comments"),
            &owner,
            json!({"body": "by the owner"}),
        )
        .await
        .expect(201)
        .id();
    let guest_comment = s
        .post(
            &format!("/tasks/{t}/comments"),
            &guest,
            json!({"body": "by the guest"}),
        )
        .await
        .expect(201)
        .id();
    let read = s
        .post(
            "/me/tokens",
            &owner,
            json!({"name": "read", "scopes": ["read"]}),
        )
        .await
        .expect(201);
    let read = read.body["token"].as_str().unwrap().to_owned();
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
        statuses: flow["statuses"].clone(),
        done,
    }
}

struct Entry {
    method: &'static str,
    path: String,
    body: Option<Value>,
    need: Need,
    ok: u16,
    /// Overrides for roles the need alone does not predict.
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
            Some(json!({"email": "nina@example.com", "role": "member"})),
            Manage,
            201,
        ),
        entry(
            "POST",
            format!("/workspaces/{ws}/members"),
            Some(json!({"email": "nina@example.com", "role": "owner"})),
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

fn expected(who: Who, e: &Entry) -> u16 {
    if let Some((_, status)) = e.except.iter().find(|(w, _)| *w == who) {
        return *status;
    }
    let allowed = match who {
        Who::Outsider => return 404,
        Who::ReadToken => e.need == Need::Read,
        Who::Owner => true,
        Who::Admin => e.need <= Need::Manage,
        Who::Member => e.need <= Need::Work,
        Who::Guest => e.need <= Need::Comment,
    };
    if allowed {
        e.ok
    } else {
        403
    }
}

#[tokio::test]
async fn authorization_matrix() {
    // Every (role, route) pair runs against a fresh server with the same fixture (sequential ids
    // make the fixture's ids identical each time), so one write cannot disturb the next row.
    let rows = {
        let s = TestServer::start().await;
        matrix(&fixture(&s).await).len()
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in 0..rows {
        for who in EVERYONE {
            let s = TestServer::start().await;
            let f = fixture(&s).await;
            let e = &matrix(&f)[row];
            let r = s
                .call(e.method, &e.path, Some(f.token(who)), e.body.clone())
                .await;
            let want = expected(who, e);
            checked += 1;
            if r.status != want {
                failures.push(format!(
                    "{:?} {} {}: want {want}, got {} {}",
                    who, e.method, e.path, r.status, r.text
                ));
            } else if r.status >= 400 {
                assert_eq!(r.content_type(), "application/problem+json");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 300, "the matrix shrank: {checked} checks");
}

#[tokio::test]
async fn read_tokens_cannot_write_account_data() {
    let s = TestServer::start().await;
    let f = fixture(&s).await;
    let read = f.token(Who::ReadToken);
    s.post("/me/tokens", read, json!({"name": "escalate"}))
        .await
        .problem(403);
    s.post("/workspaces", read, json!({"name": "mine"}))
        .await
        .problem(403);
    s.get("/me", read).await.expect(200);
    s.get("/me/tokens", read).await.expect(200);
}
