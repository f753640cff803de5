//! The `tasklane` server: Tasklane's HTTP API over an embedded sled store (the default) or
//! PostgreSQL, with operator commands.
//!
//! ```text
//! tasklane [serve] [--bind ADDR] [--data-dir DIR] [--database-url URL] [--config FILE] [--log-format text|json]
//! tasklane admin create-user --email E --name N [--password P] [--admin]
//! tasklane admin reset-password --email E [--password P]
//! tasklane admin export [--out FILE]
//! tasklane migrate up | down [--to VERSION] --yes | status
//! ```
//!
//! Settings come from a TOML file, `TASKLANE_*` environment variables and flags, in that order of
//! precedence (see `tasklane --help`).

mod admin;
mod cli;
mod error;
mod migrate;
mod serve;
mod settings;
mod store;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::settings::{LogFormat, Settings};

/// mimalloc rather than the system allocator: sled's copy-on-write pages and the HTTP stack
/// allocate small blocks from many threads, where glibc's malloc spends measurably more (the
/// load runs in docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse_checked();
    let settings = match settings::load(cli.global.config.as_deref(), cli.overrides()) {
        Ok(settings) => settings,
        Err(e) => return fail(&e),
    };
    init_logging(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&Error::io("cannot start the async runtime")(e)),
    };
    let result = runtime.block_on(run(cli.command, settings));
    // Do not wait for blocking tasks that may still be parked (a stuck stdin read, say).
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &Error) -> ExitCode {
    eprintln!("tasklane: error: {e}");
    e.exit_code()
}

async fn run(command: Option<Command>, settings: Settings) -> Result<(), Error> {
    match command {
        None | Some(Command::Serve(_)) => serve::run(settings).await,
        Some(Command::Admin(command)) => admin::run(command, settings).await,
        Some(Command::Migrate(command)) => migrate::run(command, &settings).await,
    }
}

/// Logs go to standard error (standard output carries the listening address and command
/// results), as text or JSON, filtered by `log_filter`.
fn init_logging(settings: &Settings) {
    // Validated when the settings were loaded.
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(true).init(),
    }
}
