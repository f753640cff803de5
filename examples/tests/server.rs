//! End-to-end tests of the real `tasklane` binary: started on a free loopback port with a
//! temporary store, driven over HTTP with reqwest, stopped with SIGTERM.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod scenario;

const BIN: &str = env!("CARGO_BIN_EXE_tasklane");
const PASSWORD: &str = "correct horse battery";

/// The binary with an environment free of the caller's Tasklane settings.
fn tasklane() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("TASKLANE_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    // The lowest-precedence source of `log_filter`: a test's own settings override it.
    cmd.env("RUST_LOG", "info,tasklane_http=warn");
    cmd
}

/// A running server process.
struct Server {
    child: Option<Child>,
    base: String,
    stderr: Arc<Mutex<String>>,
    http: reqwest::Client,
}

impl Server {
    /// Starts `tasklane serve --bind 127.0.0.1:0` with `args` and `env`, reads the bound address
    /// from its first line of output, and waits until `/readyz` answers.
    async fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = tasklane();
        cmd.args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the tasklane binary");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let mut server = Server {
            child: Some(child),
            base: String::new(),
            stderr,
            http: reqwest::Client::new(),
        };
        let first = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => server.fail("the server did not print its address within 60 s"),
        };
        let Some(base) = first.strip_prefix("listening on ") else {
            server.fail(&format!("unexpected first line: {first:?}"));
        };
        assert!(base.starts_with("http://127.0.0.1:"), "{first}");
        assert!(!base.ends_with(":0"), "{first}");
        server.base = base.to_owned();
        server.wait_ready().await;
        server
    }

    fn fail(&mut self, why: &str) -> ! {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        std::thread::sleep(Duration::from_millis(100));
        panic!(
            "{why}\n--- server stderr ---\n{}",
            self.stderr.lock().unwrap()
        );
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.http.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            if Instant::now() > deadline {
                self.fail("/readyz did not answer 200 within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Calls `method path` under `/api/v1` with an optional token and JSON body; returns the
    /// status and the body as JSON (`Null` when empty).
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// Like [`Server::call`], asserting the status.
    #[track_caller]
    fn expect(&self, got: (u16, Value), status: u16) -> Value {
        assert_eq!(
            got.0,
            status,
            "body: {}\n--- server stderr ---\n{}",
            got.1,
            self.stderr.lock().unwrap()
        );
        got.1
    }

    /// Sends SIGTERM and waits for the process to exit.
    fn terminate(self) -> (ExitStatus, String) {
        self.stop("TERM")
    }

    /// Sends SIG`signal` and waits for the process to exit.
    fn stop(mut self, signal: &str) -> (ExitStatus, String) {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "the server did not stop within 30 s of SIG{signal}\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(50));
        let log = self.stderr.lock().unwrap().clone();
        (status, log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs the binary to completion with `args`, `env` and `stdin`; fails the test when it runs
/// for more than a minute (a server that started where an error was expected, say).
fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = tasklane();
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start the tasklane binary");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for tasklane") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "tasklane {args:?} {env:?} still ran after 60 s; stderr:\n{}",
                text(&stderr.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What the walk left behind, to check after a restart.
struct Walked {
    token: String,
    task_key: String,
    done_id: String,
    project_id: String,
}

/// Registration → workspace → project → task → across the board → comment → activity.
async fn walk(s: &Server) -> Walked {
    let body = s.expect(
        s.call(
            "POST",
            "/auth/register",
            None,
            Some(json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"})),
        )
        .await,
        201,
    );
    assert_eq!(body["user"]["is_server_admin"], json!(true));
    let token = body["token"].as_str().expect("a token").to_owned();
    let t = Some(token.as_str());

    let me = s.expect(s.call("GET", "/me", t, None).await, 200);
    assert_eq!(me["email"], json!("ada@example.com"));

    let ws = s.expect(
        s.call(
            "POST",
            "/workspaces",
            t,
            Some(json!({"name": "Analytical Engines"})),
        )
        .await,
        201,
    );
    let ws = ws["id"].as_str().unwrap().to_owned();
    let project = s.expect(
        s.call(
            "POST",
            &format!("/workspaces/{ws}/projects"),
            t,
            Some(json!({"key": "ENG", "name": "Engine"})),
        )
        .await,
        201,
    );
    let p = project["id"].as_str().unwrap().to_owned();
    let task = s.expect(
        s.call(
            "POST",
            &format!("/projects/{p}/tasks"),
            t,
            Some(json!({"title": "Design the mill", "priority": "high"})),
        )
        .await,
        201,
    );
    assert_eq!(task["key"], json!("ENG-1"));
    assert_eq!(task["completed_at"], json!(null));

    let flow = s.expect(
        s.call("GET", &format!("/projects/{p}/workflow"), t, None)
            .await,
        200,
    );
    let statuses = flow["statuses"].as_array().expect("statuses").clone();
    let id_of = |name: &str| {
        statuses
            .iter()
            .find(|st| st["name"] == json!(name))
            .unwrap_or_else(|| panic!("a status named {name}: {flow}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // A new task starts in the first unstarted status; then across the board, with the
    // completion time following the category.
    assert_eq!(task["status_id"], json!(id_of("Todo")), "{task}");
    for name in ["In Progress", "In Review", "Done"] {
        let moved = s.expect(
            s.call(
                "POST",
                "/tasks/ENG-1/transition",
                t,
                Some(json!({"status_id": id_of(name)})),
            )
            .await,
            200,
        );
        assert_eq!(moved["status_id"], json!(id_of(name)));
        assert_eq!(moved["completed_at"].is_null(), name != "Done", "{moved}");
    }
    // An unknown status is refused with a problem document.
    let (status, problem) = s
        .call(
            "POST",
            "/tasks/ENG-1/transition",
            t,
            Some(json!({"status_id": "not-a-status"})),
        )
        .await;
    assert!((400..500).contains(&status), "{status} {problem}");
    assert!(problem["type"].is_string(), "{problem}");

    let comment = s.expect(
        s.call(
            "POST",
            "/tasks/ENG-1/comments",
            t,
            Some(json!({"body": "Done, with **four** rules. @ada"})),
        )
        .await,
        201,
    );
    assert!(comment["id"].is_string());
    let comments = s.expect(s.call("GET", "/tasks/ENG-1/comments", t, None).await, 200);
    assert_eq!(comments["items"].as_array().unwrap().len(), 1);

    let activity = s.expect(s.call("GET", "/tasks/ENG-1/activity", t, None).await, 200);
    let kinds: Vec<&str> = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "task_created",
            "task_transitioned",
            "task_transitioned",
            "task_transitioned",
            "comment_added"
        ],
        "{activity}"
    );
    let seqs: Vec<u64> = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    Walked {
        token,
        task_key: "ENG-1".into(),
        done_id: id_of("Done"),
        project_id: p,
    }
}

/// After a restart: the old session still works and the task is where the walk left it.
async fn check_survived(s: &Server, w: &Walked) {
    let t = Some(w.token.as_str());
    let task = s.expect(
        s.call("GET", &format!("/tasks/{}", w.task_key), t, None)
            .await,
        200,
    );
    assert_eq!(task["title"], json!("Design the mill"));
    assert_eq!(task["status_id"], json!(w.done_id));
    assert!(task["completed_at"].is_string(), "{task}");
    let list = s.expect(
        s.call("GET", &format!("/projects/{}/tasks", w.project_id), t, None)
            .await,
        200,
    );
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // Password login works too, and numbering continues after the restart.
    let login = s.expect(
        s.call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await,
        200,
    );
    assert!(login["token"].is_string());
    let next = s.expect(
        s.call(
            "POST",
            &format!("/projects/{}/tasks", w.project_id),
            t,
            Some(json!({"title": "Punch cards"})),
        )
        .await,
        201,
    );
    assert_eq!(next["key"], json!("ENG-2"));
}

fn assert_clean_exit(status: ExitStatus, log: &str) {
    assert!(status.success(), "exit status {status:?}\n{log}");
    assert!(log.contains("SIGTERM"), "{log}");
}

#[tokio::test]
async fn sled_walk_survives_a_restart_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();

    let s = Server::start(&["--data-dir", data], &[]).await;
    let walked = walk(&s).await;
    let (status, log) = s.terminate();
    assert_clean_exit(status, &log);

    let s = Server::start(&["--data-dir", data], &[]).await;
    check_survived(&s, &walked).await;
    // The store is locked while the server runs: an admin command says so.
    let out = run(&["admin", "export", "--data-dir", data], &[], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already open"),
        "{}",
        text(&out.stderr)
    );
    let (status, log) = s.terminate();
    assert_clean_exit(status, &log);

    // The export holds the workspace, its project, both tasks and the comment.
    let file = dir.path().join("export.json");
    let out = run(
        &[
            "admin",
            "export",
            "--data-dir",
            data,
            "--out",
            file.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let export: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(export["format"], json!("tasklane-export"));
    assert_eq!(export["users"][0]["email"], json!("ada@example.com"));
    assert!(export["users"][0].get("password_hash").is_none());
    let workspace = &export["workspaces"][0];
    assert_eq!(workspace["name"], json!("Analytical Engines"));
    assert_eq!(workspace["members"][0]["role"], json!("owner"));
    let project = &workspace["projects"][0];
    assert_eq!(project["key"], json!("ENG"));
    assert_eq!(project["workflow"]["statuses"].as_array().unwrap().len(), 6);
    let titles: Vec<&str> = project["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Design the mill", "Punch cards"]);
    assert_eq!(project["comments"].as_array().unwrap().len(), 1);
}

/// Every route of the contract, with the statuses it names, through the real binary on sled
/// (see `scenario/mod.rs`).
#[tokio::test]
async fn sled_walk_covers_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    scenario::every_route(scenario::Launch {
        args: vec!["--data-dir".into(), data.to_str().unwrap().into()],
        env: Vec::new(),
    })
    .await;
}

#[tokio::test]
async fn trashed_tasks_are_exported() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned() + "/data";
    let s = Server::start(&["--data-dir", &data], &[]).await;
    let w = walk(&s).await;
    let t = Some(w.token.as_str());
    s.expect(s.call("DELETE", "/tasks/ENG-1", t, None).await, 204);
    // Ctrl-C stops the server as cleanly as SIGTERM.
    let (status, log) = s.stop("INT");
    assert!(status.success(), "exit status {status:?}\n{log}");
    assert!(log.contains("SIGINT"), "{log}");
    let out = run(&["admin", "export", "--data-dir", &data], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let export: Value = serde_json::from_slice(&out.stdout).unwrap();
    let task = &export["workspaces"][0]["projects"][0]["tasks"][0];
    assert_eq!(task["title"], json!("Design the mill"));
    assert!(task["deleted_at"].is_string(), "{task}");
}

#[tokio::test]
async fn admin_create_user_then_login() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();

    let out = run(
        &[
            "admin",
            "create-user",
            "--data-dir",
            data,
            "--email",
            "root@example.com",
            "--name",
            "Root",
            "--password",
            PASSWORD,
            "--admin",
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("server administrator"),
        "{}",
        text(&out.stdout)
    );
    // The password from standard input, as a script would pipe it.
    let out = run(
        &[
            "admin",
            "create-user",
            "--data-dir",
            data,
            "--email",
            "bob@example.com",
            "--name",
            "Bob",
        ],
        &[],
        Some("another good password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A duplicate is refused with the engine's reason.
    let out = run(
        &[
            "admin",
            "create-user",
            "--data-dir",
            data,
            "--email",
            "BOB@example.com",
            "--name",
            "Bob",
            "--password",
            PASSWORD,
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already taken"),
        "{}",
        text(&out.stderr)
    );

    // Registration closed through the environment: accounts come from the operator only.
    let s = Server::start(
        &["--data-dir", data],
        &[("TASKLANE_REGISTRATION", "closed")],
    )
    .await;
    s.expect(
        s.call(
            "POST",
            "/auth/register",
            None,
            Some(json!({"email": "eve@example.com", "password": PASSWORD, "name": "Eve"})),
        )
        .await,
        403,
    );
    let root = s.expect(
        s.call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": "root@example.com", "password": PASSWORD})),
        )
        .await,
        200,
    );
    assert_eq!(root["user"]["is_server_admin"], json!(true));
    let bob = s.expect(
        s.call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": "bob@example.com", "password": "another good password"})),
        )
        .await,
        200,
    );
    assert_eq!(bob["user"]["is_server_admin"], json!(false));
    let bob_token = bob["token"].as_str().unwrap().to_owned();
    let (status, log) = s.terminate();
    assert_clean_exit(status, &log);

    // reset-password revokes Bob's sessions; the new password works.
    let out = run(
        &[
            "admin",
            "reset-password",
            "--data-dir",
            data,
            "--email",
            "bob@example.com",
        ],
        &[],
        Some("a brand new password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = Server::start(&["--data-dir", data], &[]).await;
    s.expect(s.call("GET", "/me", Some(&bob_token), None).await, 401);
    s.expect(
        s.call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": "bob@example.com", "password": "a brand new password"})),
        )
        .await,
        200,
    );
    let (status, log) = s.terminate();
    assert_clean_exit(status, &log);
}

#[test]
fn help_explains_every_option() {
    let out = run(&["--help"], &[], None);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for needle in [
        "serve",
        "admin",
        "migrate",
        "--bind",
        "--data-dir",
        "--database-url",
        "--config",
        "--log-format",
        "TASKLANE_DATA_DIR",
        "TASKLANE_HTTP__BODY_LIMIT",
        "registration",
        "durability",
        "cors_origins",
        "per_token_per_minute",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
    for sub in [
        &["serve", "--help"][..],
        &["admin", "--help"],
        &["admin", "create-user", "--help"],
        &["admin", "export", "--help"],
        &["migrate", "--help"],
    ] {
        let out = run(sub, &[], None);
        assert!(out.status.success(), "{sub:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage:"), "{sub:?}");
    }
    let out = run(&["--version"], &[], None);
    assert!(text(&out.stdout).starts_with("tasklane "));
}

#[test]
fn bad_values_are_named_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let check = |args: &[&str], env: &[(&str, &str)], needles: &[&str]| {
        let out = run(args, env, None);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {err}");
        for needle in needles {
            assert!(
                err.contains(needle),
                "{args:?} {env:?}: {err} lacks {needle}"
            );
        }
    };
    // Flags.
    check(&["--bind", "nowhere"], &[], &["--bind"]);
    check(
        &["--log-format", "xml"],
        &[],
        &["--log-format", "text", "json"],
    );
    // Environment variables.
    check(
        &["--data-dir", data],
        &[("TASKLANE_BIND", "nowhere")],
        &["TASKLANE_BIND"],
    );
    check(
        &["--data-dir", data],
        &[("TASKLANE_REGISTRATION", "maybe")],
        &["TASKLANE_REGISTRATION", "invite-only"],
    );
    check(
        &["--data-dir", data],
        &[("TASKLANE_RATE_LIMIT__PER_TOKEN_BURST", "0")],
        &["TASKLANE_RATE_LIMIT__PER_TOKEN_BURST"],
    );
    check(
        &["--data-dir", data],
        &[("TASKLANE_DATABASE_URL", "mysql://db")],
        &["database_url", "postgres://"],
    );
    // A configuration file.
    let file = dir.path().join("tasklane.toml");
    let config = file.to_str().unwrap();
    std::fs::write(&file, "[http]\nbody_limit = 0\n").unwrap();
    check(
        &["--config", config],
        &[],
        &["http.body_limit", "tasklane.toml"],
    );
    std::fs::write(&file, "[sled]\ndurability = \"sometimes\"\n").unwrap();
    check(&["--config", config], &[], &["sled.durability", "periodic"]);
    std::fs::write(&file, "[http]\ncors_origins = [\"example.com/\"]\n").unwrap();
    check(&["--config", config], &[], &["http.cors_origins"]);
    std::fs::write(&file, "bnd = \"127.0.0.1:1\"\n").unwrap();
    check(&["--config", config], &[], &["bnd"]);
    std::fs::write(&file, "log_filter = \"info,[=\"\n").unwrap();
    check(&["--config", config], &[], &["log_filter"]);
    check(
        &["--config", "/nonexistent/tasklane.toml"],
        &[],
        &["/nonexistent/tasklane.toml"],
    );
    // Migrations need PostgreSQL.
    check(
        &["migrate", "status", "--data-dir", data],
        &[],
        &["PostgreSQL"],
    );
}

#[tokio::test]
async fn flags_override_environment_override_file() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let file = dir.path().join("tasklane.toml");
    std::fs::write(
        &file,
        format!(
            "data_dir = {:?}\nregistration = \"closed\"\n[sled]\ndurability = \"periodic\"\nflush_interval_ms = 20\n",
            at("from-file")
        ),
    )
    .unwrap();
    let config = file.to_str().unwrap().to_owned();
    let from_flag = at("from-flag");
    let from_env = at("from-env");
    let s = Server::start(
        &["--config", &config, "--data-dir", &from_flag],
        &[
            ("TASKLANE_DATA_DIR", &from_env),
            ("TASKLANE_REGISTRATION", "open"),
        ],
    )
    .await;
    // The environment beat the file: registration is open.
    s.expect(
        s.call(
            "POST",
            "/auth/register",
            None,
            Some(json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"})),
        )
        .await,
        201,
    );
    let (status, log) = s.terminate();
    assert_clean_exit(status, &log);
    // The flag beat both for the directory.
    assert!(Path::new(&from_flag).is_dir());
    assert!(!Path::new(&from_env).exists());
    assert!(!Path::new(&at("from-file")).exists());

    // The file alone decides when nothing overrides it: registration closed, JSON logs.
    let s = Server::start(&["--log-format", "json"], &[("TASKLANE_CONFIG", &config)]).await;
    s.expect(
        s.call(
            "POST",
            "/auth/register",
            None,
            Some(json!({"email": "bob@example.com", "password": PASSWORD, "name": "Bob"})),
        )
        .await,
        403,
    );
    let (status, log) = s.terminate();
    assert!(status.success(), "{log}");
    let first = log.lines().next().expect("a log line");
    let line: Value = serde_json::from_str(first).expect("JSON log lines");
    assert!(line["fields"]["message"].is_string(), "{first}");
    assert!(Path::new(&at("from-file")).is_dir());
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    /// The test database's URL: `None` (with a notice) when unset, a failure when
    /// `TASKLANE_REQUIRE_PG=1`.
    fn test_url() -> Option<String> {
        match std::env::var("TASKLANE_TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Some(url),
            _ => {
                assert!(
                    std::env::var("TASKLANE_REQUIRE_PG").as_deref() != Ok("1"),
                    "TASKLANE_REQUIRE_PG=1 but TASKLANE_TEST_DATABASE_URL is not set"
                );
                eprintln!(
                    "notice: TASKLANE_TEST_DATABASE_URL is not set; skipping a PostgreSQL test"
                );
                None
            }
        }
    }

    /// A schema of the test's own, dropped with everything in it at the end.
    struct Schema {
        url: String,
        name: String,
    }

    impl Schema {
        fn new(url: &str) -> Schema {
            let unique = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            Schema {
                url: url.to_owned(),
                name: format!("tasklane_e2e_{}_{unique}", std::process::id()),
            }
        }
    }

    impl Drop for Schema {
        fn drop(&mut self) {
            // A temporary store over the schema drops it when it goes.
            let config = tasklane_storage_postgres::PgConfig::new(self.url.clone())
                .with_schema(self.name.clone());
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    drop(tasklane_storage_postgres::PgStore::connect_temporary(config).await)
                });
            });
            let _ = dropped.join();
        }
    }

    #[tokio::test]
    async fn postgres_walk_survives_a_restart() {
        let Some(url) = test_url() else { return };
        let schema = Schema::new(&url);
        let env = [("TASKLANE_POSTGRES__SCHEMA", schema.name.as_str())];
        let s = Server::start(&["--database-url", &url], &env).await;
        let walked = walk(&s).await;
        let (status, log) = s.terminate();
        assert_clean_exit(status, &log);
        let s = Server::start(&["--database-url", &url], &env).await;
        check_survived(&s, &walked).await;
        // Admin commands and exports work on PostgreSQL while the server runs.
        let out = run(
            &[
                "admin",
                "create-user",
                "--database-url",
                &url,
                "--email",
                "bob@example.com",
                "--name",
                "Bob",
                "--password",
                PASSWORD,
            ],
            &env,
            None,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let bob = s.expect(
            s.call(
                "POST",
                "/auth/login",
                None,
                Some(json!({"email": "bob@example.com", "password": PASSWORD})),
            )
            .await,
            200,
        );
        let bob_token = bob["token"].as_str().expect("a token").to_owned();
        // The record cache's figures reach /metrics (copied every second); Bob's reads of his
        // account are answered from it once it serves.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            s.expect(s.call("GET", "/me", Some(&bob_token), None).await, 200);
            let metrics = s
                .http
                .get(format!("{}/metrics", s.base))
                .send()
                .await
                .expect("the server answers")
                .text()
                .await
                .expect("a body");
            let hit = metrics
                .lines()
                .find(|l| l.starts_with("tasklane_store_cache_lookups_total{result=\"hit\"}"));
            let hits: u64 = hit
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if hits > 0 && metrics.contains("tasklane_store_cache_serving 1") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no cache figures in /metrics:\n{metrics}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let out = run(&["admin", "export", "--database-url", &url], &env, None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let export: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            export["workspaces"][0]["projects"][0]["tasks"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let (status, log) = s.terminate();
        assert_clean_exit(status, &log);
    }

    /// Every route of the contract, with the statuses it names, through the real binary on
    /// PostgreSQL (see `scenario/mod.rs`).
    #[tokio::test]
    async fn postgres_walk_covers_every_route() {
        let Some(url) = test_url() else { return };
        let schema = Schema::new(&url);
        scenario::every_route(scenario::Launch {
            args: vec!["--database-url".into(), url.clone()],
            env: vec![("TASKLANE_POSTGRES__SCHEMA".into(), schema.name.clone())],
        })
        .await;
    }

    #[test]
    fn postgres_migrate_status_down_up() {
        let Some(url) = test_url() else { return };
        let schema = Schema::new(&url);
        let env = [("TASKLANE_POSTGRES__SCHEMA", schema.name.as_str())];
        let migrate = |args: &[&str]| {
            let mut all = vec!["migrate"];
            all.extend_from_slice(args);
            all.extend_from_slice(&["--database-url", &url]);
            run(&all, &env, None)
        };
        let out = migrate(&["status"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("pending"),
            "{}",
            text(&out.stdout)
        );
        let out = migrate(&["up"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let status = text(&out.stdout);
        assert!(
            !status.contains("pending") && status.contains("applied"),
            "{status}"
        );
        // Down needs a confirmation.
        let out = migrate(&["down"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("--yes"));
        let out = migrate(&["down", "--yes"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
        assert!(lines.last().unwrap().ends_with("pending"), "{lines:?}");
        assert!(lines.first().unwrap().ends_with("applied"), "{lines:?}");
        let out = migrate(&["down", "--to", "0", "--yes"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            !text(&out.stdout).contains("applied"),
            "{}",
            text(&out.stdout)
        );
        let out = migrate(&["up"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}
