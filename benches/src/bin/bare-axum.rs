//! `bare-axum`: the baseline of the HTTP load runs. One axum handler, no middleware, no store,
//! no authentication, answering `GET /bare` with a JSON document serialized on every request —
//! the task saved by `tasklane-load sample`, so the body has the size of a task GET's.
//!
//! ```text
//! bare-axum --body-file task.json [--bind 127.0.0.1:0]
//! ```
//!
//! It runs on the same runtime as the `tasklane` server (tokio's multi-threaded scheduler, one
//! worker per core) and prints `listening on http://ADDR` as its first line, as `tasklane` does.
#![deny(missing_docs)]

/// The server's allocator, so that the baseline differs from it only by the work it skips.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;

/// A bare axum server answering `GET /bare` with a fixed JSON document.
#[derive(Debug, Parser)]
#[command(name = "bare-axum", version, about, long_about = None)]
struct Cli {
    /// Address and port to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// The JSON document to answer with.
    #[arg(long)]
    body_file: PathBuf,
}

/// The one handler: the document, serialized anew each time (as a real handler serializes its
/// answer).
async fn bare(State(document): State<Arc<serde_json::Value>>) -> Response {
    Json(&*document).into_response()
}

async fn serve(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read(&cli.body_file)
        .map_err(|e| format!("cannot read {}: {e}", cli.body_file.display()))?;
    let document: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| format!("{} is not JSON: {e}", cli.body_file.display()))?;
    let app = Router::new()
        .route("/bare", get(bare))
        .with_state(Arc::new(document));
    let listener = tokio::net::TcpListener::bind(cli.bind).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    drop(stdout);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bare-axum: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bare-axum: error: {e}");
            ExitCode::FAILURE
        }
    }
}
