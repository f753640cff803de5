//! The contract walked end to end through the real `tasklane` binary (see `steps.rs`), once on
//! sled and once on PostgreSQL.
//!
//! Every answer is recorded under the route it reached. At the end the walk is held against
//! the contract: every route of `tasklane_http::routes()` must have answered with success, and
//! with every status the served OpenAPI document names for it, except the statuses listed in
//! [`EXEMPT`] with their reasons. The statuses the transport can give on any route
//! ([`TRANSPORT_WIDE`]) must each have been seen once somewhere, or be listed in
//! [`NOT_PROVOKED`] with a reason. So a new route, or a new status on a route, fails the walk
//! until a step shows it. The server's own metrics must agree with the recorded routes.

mod client;
mod steps;

use std::collections::BTreeSet;

use crate::{Server, PASSWORD};
use client::{Seen, Walk};

/// How to start the server on the store under test: its flags and environment.
pub struct Launch {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Launch {
    async fn start(&self, settings: &[(&str, &str)]) -> Server {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.extend_from_slice(settings);
        Server::start(&args, &env).await
    }
}

/// The walk sends a few hundred requests within seconds, most with one token: limits far above
/// that, so that only the last step meets them.
const WALKING: &[(&str, &str)] = &[
    ("TASKLANE_RATE_LIMIT__PER_TOKEN_PER_MINUTE", "100000"),
    ("TASKLANE_RATE_LIMIT__PER_TOKEN_BURST", "100000"),
    ("TASKLANE_RATE_LIMIT__PER_ADDRESS_PER_MINUTE", "100000"),
    ("TASKLANE_RATE_LIMIT__PER_ADDRESS_BURST", "100000"),
];

/// The restart's settings: registration closed, a 4 KiB body limit, a burst of five requests
/// per token (and one more a minute), and two failed logins per account.
const LOCKED_DOWN: &[(&str, &str)] = &[
    ("TASKLANE_REGISTRATION", "closed"),
    ("TASKLANE_HTTP__BODY_LIMIT", "4096"),
    ("TASKLANE_RATE_LIMIT__PER_TOKEN_PER_MINUTE", "1"),
    ("TASKLANE_RATE_LIMIT__PER_TOKEN_BURST", "5"),
    ("TASKLANE_LOGIN_THROTTLE__MAX_FAILURES_PER_ACCOUNT", "2"),
];

/// Statuses the transport can give on any route: shown once each rather than on every route.
const TRANSPORT_WIDE: &[u16] = &[400, 401, 408, 413, 415, 429, 500, 503];

/// Transport-wide statuses the walk does not provoke, with the reason.
const NOT_PROVOKED: &[(u16, &str)] = &[
    (
        408,
        "a request would have to outlast the timeout; transport-http's tests cover it",
    ),
    (
        500,
        "a bug by definition: no request in the contract provokes it",
    ),
    (
        503,
        "needs the store to fail under the running server; transport-http's tests cover it",
    ),
];

/// A write race the engine gave up on after its retries (`Conflict::ConcurrentWrite`): the
/// only 409 these routes can give, and not one a sequential walk can provoke.
const RACE: &str = "only a write race lost after all of the engine's retries gives 409 here";

/// Statuses the document names for a route that the walk cannot provoke, with the reason.
const EXEMPT: &[(&str, &str, u16, &str)] = &[
    ("PATCH", "/api/v1/workspaces/{ws}", 409, RACE),
    ("DELETE", "/api/v1/projects/{project}", 409, RACE),
    ("POST", "/api/v1/projects/{project}/archive", 409, RACE),
    ("POST", "/api/v1/projects/{project}/restore", 409, RACE),
];

/// Walks the whole contract against servers started by `launch`; see the module documentation.
pub async fn every_route(launch: Launch) {
    let mut w = Walk::new(launch.start(WALKING).await);
    steps::operations(&mut w).await;
    let people = steps::accounts(&w).await;
    let ws = steps::workspace(&w, &people).await;
    let (project, doomed, statuses) = steps::projects(&w, &people, &ws).await;
    let (label, milestone) = steps::labels_and_milestones(&w, &people, &project).await;
    let mut built = steps::Built {
        ws,
        project,
        doomed,
        statuses,
        label,
        milestone,
        tasks: Default::default(),
        comment: String::new(),
    };
    steps::tasks(&w, &people, &mut built).await;
    steps::comments(&w, &people, &mut built).await;
    steps::ambiguous_keys(&w, &people, &built).await;
    steps::archived_project(&w, &people, &built).await;
    steps::deleted_project(&w, &people, &built).await;
    server_agrees(&w).await;

    w.stop_server();
    w.resume(launch.start(LOCKED_DOWN).await);
    steps::locked_down(&w, &people, &built).await;
    server_agrees(&w).await;
    w.stop_server();

    check_coverage(&w);
}

/// The server counts every answer under the route it matched (`http_requests_total`): each
/// answer recorded from this server must be among them, so the walk's idea of the routes is
/// the server's. Refusals before routing (413 for a body over the limit, 429 from the rate
/// limit) are counted as `unmatched` and left out.
async fn server_agrees(w: &Walk) {
    let mine = w.seen_from_this_server();
    let metrics = w.root("GET", "/metrics").expect(200).await.text;
    let label = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let len = line[start..].find('"')?;
        Some(line[start..start + len].to_owned())
    };
    let counted: BTreeSet<Seen> = metrics
        .lines()
        .filter(|line| line.starts_with("http_requests_total{"))
        .filter_map(|line| {
            Some((
                label(line, "method")?,
                label(line, "route")?,
                label(line, "status")?.parse().ok()?,
            ))
        })
        .collect();
    let unknown: BTreeSet<&Seen> = mine
        .iter()
        .filter(|(_, _, status)| ![413, 429].contains(status))
        .filter(|seen| !counted.contains(*seen))
        .collect();
    assert!(
        unknown.is_empty(),
        "the server counted these answers under other routes: {unknown:?}\n--- metrics ---\n{metrics}"
    );
}

/// Holds what the walk saw against the routes and the served document.
fn check_coverage(w: &Walk) {
    let seen = w.seen();
    let saw = |method: &str, path: &str, status: u16| {
        seen.contains(&(method.to_owned(), path.to_owned(), status))
    };
    let exempt = |method: &str, path: &str, status: u16| {
        EXEMPT
            .iter()
            .any(|(m, p, s, _)| *m == method && *p == path && *s == status)
    };
    let mut missing = Vec::new();
    let mut declared_somewhere = BTreeSet::new();
    for route in tasklane_http::routes() {
        let (method, path) = (route.method.as_str(), route.path.as_str());
        if !seen
            .iter()
            .any(|(m, p, s)| m == method && p == path && (200..300).contains(s))
        {
            missing.push(format!("{method} {path} never answered with success"));
        }
        let operation = &w.doc["paths"][path][method.to_lowercase()];
        let Some(responses) = operation["responses"].as_object() else {
            missing.push(format!("{method} {path} is not in the served document"));
            continue;
        };
        for status in responses.keys().filter_map(|s| s.parse::<u16>().ok()) {
            declared_somewhere.insert(status);
            if TRANSPORT_WIDE.contains(&status) {
                continue;
            }
            let shown = saw(method, path, status);
            match (shown, exempt(method, path, status)) {
                (false, false) => missing.push(format!("{method} {path} never answered {status}")),
                (true, true) => missing.push(format!(
                    "{method} {path} answered {status}: drop its exemption"
                )),
                _ => {}
            }
        }
    }
    for (method, path, status, _) in EXEMPT {
        let declared = w.doc["paths"][*path][method.to_lowercase()]["responses"]
            .get(status.to_string())
            .is_some();
        if !declared {
            missing.push(format!(
                "the exemption of {status} for {method} {path} names no status the document declares"
            ));
        }
    }
    for status in TRANSPORT_WIDE {
        let shown = seen.iter().any(|(_, _, s)| s == status);
        let excused = NOT_PROVOKED.iter().any(|(s, _)| s == status);
        if declared_somewhere.contains(status) && !shown && !excused {
            missing.push(format!("no route ever answered {status}"));
        }
    }
    assert!(
        missing.is_empty(),
        "the walk does not cover the contract:\n{}",
        missing.join("\n")
    );
}
