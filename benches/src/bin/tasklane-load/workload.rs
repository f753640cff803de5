//! The workloads: which requests a run sends, built once so that the timed loop only clones
//! prepared values.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use hyper::body::Bytes;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};

use crate::client::OutgoingRequest;
use crate::seed::SeedFile;
use crate::Failure;
use http_body_util::Full;

/// What a run sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// `GET /api/v1/tasks/{id}`, stepping through every seeded task.
    GetTask,
    /// `GET /api/v1/projects/{ENG}/tasks?q=status:"S" assignee:A&limit=25`, cycling through
    /// every status and assignee of the seed (each pair matches 1/18 of the project).
    Page,
    /// `POST /api/v1/projects/{NEW}/tasks` with a title, a description and a priority.
    CreateTask,
    /// `GET /bare` on the bare axum server (`bare-axum`), the baseline.
    Bare,
    /// `GET` of the path given with `--path` (with the seed's token when `--seed` is given):
    /// one route on its own, such as `/healthz` to measure the transport without the engine.
    Get,
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Workload::GetTask => "get-task",
            Workload::Page => "page",
            Workload::CreateTask => "create-task",
            Workload::Bare => "bare",
            Workload::Get => "get",
        })
    }
}

/// The requests of a run, prepared.
pub struct Plan {
    workload: Workload,
    method: Method,
    /// The request targets, visited in one shared stride (see [`Self::request`]).
    targets: Vec<Uri>,
    /// How many requests all connections together have made: the next one's place in the
    /// stride.
    made: AtomicU64,
    /// The stride: a large prime that does not divide the number of targets.
    stride: u64,
    host: HeaderValue,
    authorization: Option<HeaderValue>,
    /// For pages: how many items each answer must hold.
    page_size: usize,
}

impl Plan {
    /// The plan of `workload` against `host` (`127.0.0.1:8080`); every workload but `bare` and
    /// `get` needs the seed, and `get` needs `path`.
    pub fn new(
        workload: Workload,
        seed: Option<&SeedFile>,
        host: &str,
        page_size: usize,
        path: Option<&str>,
    ) -> Result<Plan, Failure> {
        let host = HeaderValue::from_str(host)?;
        let need_seed = || {
            seed.ok_or_else(|| {
                format!("the {workload} workload needs --seed (from `tasklane-load seed`)")
            })
        };
        let (method, paths, authorization) = match workload {
            Workload::Bare => (Method::GET, vec!["/bare".to_owned()], None),
            Workload::Get => {
                let path = path.ok_or("the get workload needs --path")?;
                let authorization = seed.map(bearer).transpose()?;
                (Method::GET, vec![path.to_owned()], authorization)
            }
            Workload::GetTask => {
                let seed = need_seed()?;
                let paths = seed
                    .task_ids
                    .iter()
                    .map(|id| format!("/api/v1/tasks/{id}"))
                    .collect();
                (Method::GET, paths, Some(bearer(seed)?))
            }
            Workload::Page => {
                let seed = need_seed()?;
                let mut paths = Vec::new();
                for (i, assignee) in seed.assignees.iter().enumerate() {
                    // The token's owner is `me`; the others are named by e-mail.
                    let who = if i == 0 {
                        "me".to_owned()
                    } else {
                        format!("\"{assignee}\"")
                    };
                    for status in &seed.statuses {
                        let q = format!("status:\"{status}\" assignee:{who}");
                        let query = form_urlencoded::Serializer::new(String::new())
                            .append_pair("q", &q)
                            .append_pair("limit", &page_size.to_string())
                            .finish();
                        paths.push(format!(
                            "/api/v1/projects/{}/tasks?{query}",
                            seed.project_id
                        ));
                    }
                }
                (Method::GET, paths, Some(bearer(seed)?))
            }
            Workload::CreateTask => {
                let seed = need_seed()?;
                let path = format!("/api/v1/projects/{}/tasks", seed.scratch_project_id);
                (Method::POST, vec![path], Some(bearer(seed)?))
            }
        };
        if paths.is_empty() {
            return Err("the seed names no target".into());
        }
        let targets = paths
            .into_iter()
            .map(|p| p.parse::<Uri>())
            .collect::<Result<Vec<_>, _>>()?;
        let stride = stride_for(targets.len() as u64);
        Ok(Plan {
            workload,
            method,
            targets,
            made: AtomicU64::new(0),
            stride,
            host,
            authorization,
            page_size,
        })
    }

    /// The workload.
    pub fn workload(&self) -> Workload {
        self.workload
    }

    /// How many distinct targets the plan cycles through.
    pub fn target_count(&self) -> usize {
        self.targets.len()
    }

    /// For pages, the number of items every answer must hold.
    pub fn expected_items(&self) -> Option<usize> {
        (self.workload == Workload::Page).then_some(self.page_size)
    }

    /// The `n`-th request of `connection`. All connections together walk the targets in one
    /// stride by a large prime, so any `len` consecutive requests visit every target once (a
    /// cache in the server is full after one pass, as it would be after a random sample of
    /// about four times as many).
    pub fn request(&self, connection: usize, n: u64) -> OutgoingRequest {
        let len = self.targets.len() as u64;
        let k = self.made.fetch_add(1, Relaxed) % len;
        // Below 2^64: both factors are below `len` and the stride (u64), taken as u128.
        let at = (u128::from(k) * u128::from(self.stride) % u128::from(len)) as u64;
        self.request_to(at as usize, connection, n)
    }

    /// The request to the target at `index` (`connection` and `n` make created titles unique).
    pub fn request_to(&self, index: usize, connection: usize, n: u64) -> OutgoingRequest {
        let body = match self.workload {
            Workload::CreateTask => Bytes::from(format!(
                r#"{{"title":"Load task {connection}-{n}","description":"A description of a few words, as most tasks have.","priority":"{}"}}"#,
                ["none", "low", "medium", "high", "urgent"][(n % 5) as usize]
            )),
            _ => Bytes::new(),
        };
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(self.targets[index].clone())
            .header(HOST, self.host.clone());
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        if !body.is_empty() {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        builder
            .body(Full::new(body))
            .expect("a request from parsed parts")
    }
}

fn bearer(seed: &SeedFile) -> Result<HeaderValue, Failure> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", seed.token))?;
    value.set_sensitive(true);
    Ok(value)
}

/// A prime from 104,729 up that does not divide `len`, so that stepping by it modulo `len`
/// visits every index once per `len` steps.
fn stride_for(len: u64) -> u64 {
    const PRIMES: [u64; 3] = [104_729, 104_723, 104_717];
    PRIMES
        .into_iter()
        .find(|p| !len.is_multiple_of(*p))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use tasklane_core::{ProjectId, TaskId, WorkspaceId};
    use uuid::Uuid;

    use super::*;

    fn seed() -> SeedFile {
        SeedFile {
            store: "sled".into(),
            token: "tl_secret".into(),
            workspace_id: WorkspaceId(Uuid::nil()),
            project_id: ProjectId(Uuid::from_u128(1)),
            scratch_project_id: ProjectId(Uuid::from_u128(2)),
            statuses: vec!["Todo".into(), "In Progress".into()],
            assignees: vec!["owner@example.com".into(), "ann@example.com".into()],
            task_ids: (10..20).map(|n| TaskId(Uuid::from_u128(n))).collect(),
        }
    }

    #[test]
    fn pages_cover_every_status_and_assignee_with_an_encoded_filter() {
        let plan = Plan::new(Workload::Page, Some(&seed()), "127.0.0.1:8080", 25, None).unwrap();
        assert_eq!(plan.target_count(), 4);
        assert_eq!(plan.expected_items(), Some(25));
        let request = plan.request_to(1, 0, 0);
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri().to_string(),
            format!(
                "/api/v1/projects/{}/tasks?q=status%3A%22In+Progress%22+assignee%3Ame&limit=25",
                Uuid::from_u128(1)
            )
        );
        assert_eq!(request.headers()[AUTHORIZATION], "Bearer tl_secret");
        assert_eq!(request.headers()[HOST], "127.0.0.1:8080");
        let others = plan.request_to(3, 0, 0).uri().to_string();
        assert!(
            others.contains("assignee%3A%22ann%40example.com%22"),
            "{others}"
        );
    }

    #[test]
    fn creations_carry_a_json_body_with_unique_titles() {
        let plan = Plan::new(Workload::CreateTask, Some(&seed()), "h:1", 25, None).unwrap();
        let request = plan.request(3, 7);
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.headers()[CONTENT_TYPE], "application/json");
        assert!(request
            .uri()
            .path()
            .ends_with(&format!("{}/tasks", Uuid::from_u128(2))));
        let body = futures_body(request);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["title"], "Load task 3-7");
        assert_eq!(json["priority"], "medium");
    }

    #[test]
    fn connections_together_visit_every_task_once_per_pass() {
        let plan = Plan::new(Workload::GetTask, Some(&seed()), "h:1", 25, None).unwrap();
        let len = plan.target_count();
        assert!(len > 1);
        for pass in 0..2 {
            // Connections take turns unevenly, as they do under load.
            let mut seen: Vec<String> = (0..len)
                .map(|k| {
                    plan.request(k % 3, (pass * len + k) as u64)
                        .uri()
                        .to_string()
                })
                .collect();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), len, "pass {pass}");
        }
    }

    #[test]
    fn the_stride_never_divides_the_targets() {
        for len in [1, 2, 7, 100_000, 104_729, 104_729 * 104_723] {
            let stride = stride_for(len);
            assert!(len == 1 || !len.is_multiple_of(stride), "{len}: {stride}");
        }
    }

    #[test]
    fn the_baseline_needs_no_seed_and_the_others_do() {
        assert!(Plan::new(Workload::Bare, None, "h:1", 25, None).is_ok());
        assert!(Plan::new(Workload::GetTask, None, "h:1", 25, None).is_err());
        assert!(Plan::new(Workload::Get, None, "h:1", 25, None).is_err());
        let probe = Plan::new(Workload::Get, None, "h:1", 25, Some("/healthz")).unwrap();
        assert_eq!(probe.request(5, 5).uri(), "/healthz");
    }

    fn futures_body(request: OutgoingRequest) -> Bytes {
        use http_body_util::BodyExt;
        let body = request.into_body();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(body.collect())
            .unwrap()
            .to_bytes()
    }
}
