//! `tasklane serve`: the HTTP API until SIGTERM or Ctrl-C, then a graceful stop.

use std::future::IntoFuture;
use std::io::Write;
use std::net::SocketAddr;

use tasklane_core::{Engine, Store};
use tokio::sync::oneshot;

use crate::error::Error;
use crate::settings::Settings;
use crate::store::{with_store, Backend};

/// Opens the store, serves until a signal, waits for requests in flight, closes the store.
pub async fn run(settings: Settings) -> Result<(), Error> {
    let backend = Backend::open(&settings).await?;
    let described = backend.describe(&settings);
    let report = report_store_figures(&backend);
    let served =
        with_store!(&backend, store => serve(store.clone(), &settings, &described, report).await);
    // Flush (sled) or close the pool (PostgreSQL) even when serving failed.
    let closed = backend.close().await;
    served?;
    closed?;
    tracing::info!("store closed; goodbye");
    Ok(())
}

async fn serve<S: Store>(
    store: S,
    settings: &Settings,
    described: &str,
    report: impl std::future::Future<Output = std::convert::Infallible>,
) -> Result<(), Error> {
    let engine = Engine::builder(store)
        .config(settings.engine_config())
        .build();
    let app = tasklane_http::router(engine, settings.http_config());
    let shutdown = Shutdown::install()?;
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .map_err(Error::io(format!("cannot listen on {}", settings.bind)))?;
    let local = listener
        .local_addr()
        .map_err(Error::io("cannot read the bound address"))?;
    // The first line on standard output, for scripts and tests that bind port 0. A closed
    // standard output (a daemon's) is no reason not to serve.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on http://{local}").and_then(|()| stdout.flush());
    drop(stdout);
    tracing::info!(
        address = %local,
        store = %described,
        version = env!("CARGO_PKG_VERSION"),
        "tasklane is serving"
    );

    let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
    let signal = async move {
        let which = shutdown.wait().await;
        tracing::info!(
            signal = which,
            "shutting down: no new connections, finishing requests in flight"
        );
        let _ = stopping_tx.send(());
    };
    // Client addresses for the per-address rate limits; open connections for `/metrics`.
    let make_service =
        tasklane_http::count_connections(app.into_make_service_with_connect_info::<SocketAddr>());
    let server = axum::serve(listener, make_service)
        .with_graceful_shutdown(signal)
        .into_future();
    let grace = settings.shutdown_grace();
    let deadline = async move {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => served.map_err(Error::io("the server failed"))?,
        never = anchor_the_timer_wheel() => match never {},
        never = report => match never {},
        () = deadline => tracing::warn!(
            grace_secs = grace.as_secs(),
            "requests still in flight after the grace period; stopping without them"
        ),
    }
    Ok(())
}

/// Copies the store's own figures into `/metrics` every second, for as long as the server runs.
/// PostgreSQL: its record cache, `tasklane_store_cache_lookups_total{result="hit"|"miss"}` and
/// `tasklane_store_cache_serving` (1 while its listener keeps it coherent). sled reports none.
async fn report_store_figures(backend: &Backend) -> std::convert::Infallible {
    match backend {
        Backend::Sled(_) => std::future::pending().await,
        #[cfg(feature = "postgres")]
        Backend::Postgres(store) => {
            metrics::describe_counter!(
                "tasklane_store_cache_lookups_total",
                "Reads the PostgreSQL store's record cache answered (result=hit) or sent to the \
                 database while it served (result=miss)."
            );
            metrics::describe_gauge!(
                "tasklane_store_cache_serving",
                "1 while the PostgreSQL store's record cache serves (its listener is heard), else 0."
            );
            let hits = metrics::counter!("tasklane_store_cache_lookups_total", "result" => "hit");
            let misses =
                metrics::counter!("tasklane_store_cache_lookups_total", "result" => "miss");
            let serving = metrics::gauge!("tasklane_store_cache_serving");
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let stats = store.record_cache_stats();
                hits.absolute(stats.hits);
                misses.absolute(stats.misses);
                serving.set(if stats.serving { 1.0 } else { 0.0 });
            }
        }
    }
}

/// Keeps one timer a second in Tokio's timer wheel, for as long as the server runs.
///
/// Every request runs under a timeout (tower-http's `TimeoutLayer`), which registers a timer.
/// Tokio wakes its I/O driver (an `eventfd` write, and often a `futex` wake of a parked worker)
/// whenever a timer is registered while the wheel it last looked at was empty; between bursts
/// of requests it often is, and under load that cost one wake per request (a fifth of a task
/// GET's CPU, measured with `strace -c`). With this timer in the wheel, a request's timer is
/// never the earliest, and registering it wakes nothing.
async fn anchor_the_timer_wheel() -> std::convert::Infallible {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
    }
}

/// The signals that stop the server, registered before the address is announced so that a
/// signal sent right after start-up is never lost to the default action.
struct Shutdown {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn install() -> Result<Self, Error> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Shutdown {
                term: signal(SignalKind::terminate())
                    .map_err(Error::io("cannot handle SIGTERM"))?,
                int: signal(SignalKind::interrupt()).map_err(Error::io("cannot handle SIGINT"))?,
            })
        }
        #[cfg(not(unix))]
        Ok(Shutdown {})
    }

    /// Waits for SIGTERM or Ctrl-C (SIGINT); returns which.
    async fn wait(self) -> &'static str {
        #[cfg(unix)]
        {
            let Shutdown { mut term, mut int } = self;
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = self;
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        }
    }
}
