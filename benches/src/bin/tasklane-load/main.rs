//! `tasklane-load`: the HTTP load tool of Tasklane.
//!
//! ```text
//! tasklane-load seed (--data-dir DIR | --database-url URL [--schema NAME]) --out seed.json [--tasks 100000] [--reset]
//! tasklane-load sample --url http://127.0.0.1:8080 --seed seed.json --out task.json
//! tasklane-load run --url http://127.0.0.1:8080 --workload get-task|page|create-task|bare|get [--seed seed.json] [--path /healthz]
//!                   [--connections 32] [--seconds 10] [--warmup-seconds 2] [--label sled] [--server-pid PID]
//! tasklane-load clean --database-url URL --schema NAME
//! ```
//!
//! `seed` writes users, a workspace and a project of 100,000 tasks straight into the store the
//! server will open (before it starts); `sample` saves one task's JSON for the bare baseline
//! server (`bare-axum`); `run` drives a fixed number of keep-alive connections for a fixed time
//! and prints req/s with p50, p99 and p99.9 latencies from an HDR histogram, counting every
//! non-2xx answer as an error (a run with errors says so loudly and exits with status 2).
//! `benches/http-load.sh` chains them; `docs/BENCHMARKS.md` has the figures.
#![deny(missing_docs)]

mod client;
mod report;
mod run;
mod seed;
mod workload;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::report::{cpu_seconds, CpuShare, RunFacts};
use crate::run::RunSettings;
use crate::seed::{SeedFile, SeedPlan, Target};
use crate::workload::{Plan, Workload};

/// Any failure of the tool, with a message for the operator.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The exit status of a run that completed with errors.
const EXIT_RUN_HAD_ERRORS: u8 = 2;

/// Load tool for the Tasklane HTTP server.
#[derive(Debug, Parser)]
#[command(name = "tasklane-load", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the load test's data into a store, before the server opens it.
    Seed(SeedArgs),
    /// Save the JSON body of one task GET (for `bare-axum --body-file`).
    Sample(SampleArgs),
    /// Drive a workload against a running server and report req/s and latencies.
    Run(RunArgs),
    /// Drop the PostgreSQL schema a seed wrote.
    Clean(CleanArgs),
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// The sled data directory the server will use (`tasklane --data-dir`).
    #[arg(
        long,
        conflicts_with = "database_url",
        required_unless_present = "database_url"
    )]
    data_dir: Option<PathBuf>,
    /// The PostgreSQL URL the server will use (`tasklane --database-url`).
    #[arg(long)]
    database_url: Option<String>,
    /// The PostgreSQL schema (the server's `postgres.schema`).
    #[arg(long, default_value = "tasklane_bench")]
    schema: String,
    /// How many tasks the project gets.
    #[arg(long, default_value_t = 100_000)]
    tasks: u64,
    /// How many tasks are created concurrently.
    #[arg(long, default_value_t = 32)]
    writers: usize,
    /// Remove what the target holds first (the data directory, or the schema).
    #[arg(long)]
    reset: bool,
    /// Where to write the seed file (ids and the token the runs use).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct SampleArgs {
    /// The server, `http://host:port`.
    #[arg(long)]
    url: String,
    /// The seed file.
    #[arg(long)]
    seed: PathBuf,
    /// Where to write the task's JSON.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The server, `http://host:port`.
    #[arg(long)]
    url: String,
    /// What to send.
    #[arg(long, value_enum)]
    workload: Workload,
    /// The seed file (every workload but `bare`; `get` sends its token when given).
    #[arg(long)]
    seed: Option<PathBuf>,
    /// The path of the `get` workload, such as `/healthz`.
    #[arg(long)]
    path: Option<String>,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Length of the measured window, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Load before the window, not measured, in seconds.
    #[arg(long, default_value_t = 2)]
    warmup_seconds: u64,
    /// Items per page for the `page` workload.
    #[arg(long, default_value_t = 25)]
    page_size: usize,
    /// Threads of the load tool (1 leaves the most CPU to the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// A label for the report (the store: `sled`, `postgres`).
    #[arg(long, default_value = "")]
    label: String,
    /// The server's process id, to report the CPU it used in the window.
    #[arg(long)]
    server_pid: Option<u32>,
}

#[derive(Debug, Args)]
struct CleanArgs {
    /// The PostgreSQL URL.
    #[arg(long)]
    database_url: String,
    /// The schema to drop.
    #[arg(long, default_value = "tasklane_bench")]
    schema: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Seed(args) => multi_threaded().and_then(|rt| rt.block_on(seed_command(args))),
        Command::Sample(args) => current_thread().and_then(|rt| rt.block_on(sample_command(args))),
        Command::Run(args) => run_command(args),
        Command::Clean(args) => current_thread().and_then(|rt| {
            rt.block_on(seed::drop_schema(&args.database_url, &args.schema))
                .map(|()| ExitCode::SUCCESS)
        }),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tasklane-load: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn multi_threaded() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn current_thread() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

async fn seed_command(args: SeedArgs) -> Result<ExitCode, Failure> {
    let target = match (args.data_dir, args.database_url) {
        (Some(dir), None) => Target::Sled(dir),
        (None, Some(url)) => Target::Postgres {
            url,
            schema: args.schema,
        },
        _ => return Err("give either --data-dir or --database-url".into()),
    };
    let plan = SeedPlan {
        target,
        tasks: args.tasks,
        writers: args.writers.max(1),
        reset: args.reset,
        out: args.out,
    };
    seed::seed(&plan).await?;
    eprintln!("seed file written to {}", plan.out.display());
    Ok(ExitCode::SUCCESS)
}

/// `http://host:port[/]` → the socket address and the `Host` header.
fn parse_url(url: &str) -> Result<(SocketAddr, String), Failure> {
    let authority = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?
        .trim_end_matches('/');
    if authority.contains('/') {
        return Err(format!("{url}: give the server's root, without a path").into());
    }
    let address = authority
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: the host has no address"))?;
    Ok((address, authority.to_owned()))
}

async fn sample_command(args: SampleArgs) -> Result<ExitCode, Failure> {
    let seed = SeedFile::read(&args.seed)?;
    let (address, host) = parse_url(&args.url)?;
    let plan = Plan::new(Workload::GetTask, Some(&seed), &host, 0, None)?;
    let mut connection = client::Connection::open(address).await?;
    let (status, body) = connection.exchange(plan.request_to(0, 0, 0)).await?;
    if !status.is_success() {
        return Err(format!(
            "GET of a seeded task answered {status}: {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    std::fs::write(&args.out, &body)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    eprintln!(
        "saved a task's JSON ({} bytes) to {}",
        body.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_command(args: RunArgs) -> Result<ExitCode, Failure> {
    let seed = args.seed.as_deref().map(SeedFile::read).transpose()?;
    let (address, host) = parse_url(&args.url)?;
    let plan = Arc::new(Plan::new(
        args.workload,
        seed.as_ref(),
        &host,
        args.page_size,
        args.path.as_deref(),
    )?);
    drop(seed);
    let threads = args.threads.max(1);
    let runtime = if threads == 1 {
        current_thread()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    let settings = RunSettings {
        address,
        connections: args.connections.max(1),
        warmup: Duration::from_secs(args.warmup_seconds),
        measure: Duration::from_secs(args.seconds.max(1)),
    };
    runtime.block_on(run::preflight(&plan, address))?;
    let (tally, window, cpu) = runtime.block_on(async {
        // CPU is sampled around the measured window only (the warm-up is excluded).
        let sampler = tokio::spawn(async move {
            tokio::time::sleep(settings.warmup).await;
            let before = (cpu_seconds(None), cpu_seconds(args.server_pid));
            tokio::time::sleep(settings.measure).await;
            let after = (cpu_seconds(None), cpu_seconds(args.server_pid));
            let share =
                |b: Option<f64>, a: Option<f64>| Some((a? - b?) / settings.measure.as_secs_f64());
            CpuShare {
                load_tool: share(before.0, after.0),
                server: share(before.1, after.1),
            }
        });
        let (tally, window) = run::run(Arc::clone(&plan), settings).await;
        let cpu = sampler.await.unwrap_or(CpuShare {
            load_tool: None,
            server: None,
        });
        (tally, window, cpu)
    });
    let facts = RunFacts {
        workload: plan.workload().to_string(),
        label: &args.label,
        url: &args.url,
        connections: settings.connections,
        threads,
        warmup: settings.warmup,
        window,
        cpu,
    };
    report::print(&facts, &tally);
    Ok(if tally.errors() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_RUN_HAD_ERRORS)
    })
}

#[cfg(test)]
mod tests {
    use super::parse_url;

    #[test]
    fn urls_name_a_server_root_over_http() {
        let (address, host) = parse_url("http://127.0.0.1:8080/").unwrap();
        assert_eq!(address.to_string(), "127.0.0.1:8080");
        assert_eq!(host, "127.0.0.1:8080");
        assert!(parse_url("https://127.0.0.1:8080").is_err());
        assert!(parse_url("http://127.0.0.1:8080/api").is_err());
    }
}
