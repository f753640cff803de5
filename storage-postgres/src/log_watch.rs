//! The log watch ([`Store::log_watch`](tasklane_core::store::Store::log_watch)) across processes.
//!
//! Every transaction that appends events also queues `pg_notify(channel, last_seq)` on its
//! schema's channel ([`crate::commit::LOG_CHANNEL`]), delivered by PostgreSQL when it commits.
//! The first call of `log_watch` on a store starts a listener task (stores that never watch pay
//! nothing) on a connection of its own, outside the store's pool, named
//! `tasklane-log-listener <schema>` in `pg_stat_activity`. It advances the watch with every
//! notification's number, and re-reads `event_log.last_seq` after every (re)connection and every
//! poll interval ([`crate::PgConfig::log_poll_interval_ms`]), so a notification lost while the
//! connection was down delays a wake-up by at most one interval. Commits made through this
//! store advance the watch as soon as they return, without waiting for their notification.
//!
//! Every number the watch takes is visible: a notification is delivered after its transaction
//! committed, and `last_seq` is read from committed data.

use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::PgPool;
use tasklane_core::store::LogWatchSender;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::commit::LOG_CHANNEL;

/// The first wait before reconnecting after the listener failed; it doubles up to the poll
/// interval (at most [`MAX_RETRY_WAIT`]) while reconnecting keeps failing.
const FIRST_RETRY_WAIT: Duration = Duration::from_millis(50);

/// The longest wait between reconnection attempts.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// The prefix of the listener connection's `application_name`; the schema follows it.
pub(crate) const LISTENER_APPLICATION_NAME: &str = "tasklane-log-listener";

/// PostgreSQL keeps at most this many bytes of an `application_name` (`NAMEDATALEN - 1`).
const MAX_APPLICATION_NAME_BYTES: usize = 63;

/// The store's log watch: the sender every handle shares and, once someone watches, the
/// listener task that follows other processes' commits.
pub(crate) struct LogWatch {
    sender: LogWatchSender,
    /// Started by the first [`LogWatch::subscribe`] inside a Tokio runtime; aborted when the
    /// store's last handle is dropped.
    listener: Mutex<Option<AbortOnDrop>>,
    /// How the listener connects (the store's options; the application name is set per schema).
    options: PgConnectOptions,
    /// How often the listener re-reads `last_seq` besides notifications.
    poll_interval: Duration,
}

impl LogWatch {
    /// A watch starting at 0 (nothing known yet); nothing runs until the first subscription.
    pub(crate) fn new(options: PgConnectOptions, poll_interval: Duration) -> Self {
        Self {
            sender: LogWatchSender::new(0),
            listener: Mutex::new(None),
            options,
            poll_interval,
        }
    }

    /// Advances the watch to `seq`, which a commit of this store has just made visible.
    pub(crate) fn advance(&self, seq: u64) {
        self.sender.advance(seq);
    }

    /// A receiver of the watch. Starts the listener task when none runs (first call, or the
    /// previous task ended); outside a Tokio runtime it cannot start, and the receiver then
    /// follows this store's own commits only until a later call starts it.
    pub(crate) fn subscribe(&self, pool: &PgPool) -> watch::Receiver<u64> {
        let mut listener = self.listener.lock().unwrap_or_else(|e| e.into_inner());
        let running = listener.as_ref().is_some_and(|task| !task.0.is_finished());
        if !running {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let task = follow_the_log(
                    pool.clone(),
                    self.options.clone(),
                    self.poll_interval,
                    self.sender.clone(),
                );
                *listener = Some(AbortOnDrop(runtime.spawn(task)));
            }
        }
        self.sender.subscribe()
    }
}

/// A task handle that aborts the task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The listener's `application_name` for `schema`, cut to what PostgreSQL keeps (at a
/// character boundary).
pub(crate) fn listener_application_name(schema: &str) -> String {
    let mut name = format!("{LISTENER_APPLICATION_NAME} {schema}");
    if name.len() > MAX_APPLICATION_NAME_BYTES {
        let mut end = MAX_APPLICATION_NAME_BYTES;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

/// The listener task: follows the log until aborted, reconnecting after failures with a
/// growing wait.
async fn follow_the_log(
    pool: PgPool,
    options: PgConnectOptions,
    poll_interval: Duration,
    sender: LogWatchSender,
) {
    let longest_wait = poll_interval.clamp(FIRST_RETRY_WAIT, MAX_RETRY_WAIT);
    let mut wait = FIRST_RETRY_WAIT;
    loop {
        let mut connected = false;
        let Err(error) = listen(&pool, &options, poll_interval, &sender, &mut connected).await;
        tracing::warn!(
            error = %error,
            "the event log listener lost its connection; wake-ups from other processes are \
             late until it reconnects"
        );
        if connected {
            wait = FIRST_RETRY_WAIT;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(longest_wait);
    }
}

/// Connects, listens on the schema's channel and advances the watch from notifications and
/// polls; returns only when something fails. Sets `connected` once it listens.
async fn listen(
    pool: &PgPool,
    options: &PgConnectOptions,
    poll_interval: Duration,
    sender: &LogWatchSender,
    connected: &mut bool,
) -> Result<Infallible, sqlx::Error> {
    let (channel, schema): (String, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LOG_CHANNEL}, current_schema()::text"
    )))
    .fetch_one(pool)
    .await?;
    // A pool of one connection, of this attempt only: the listener reconnects through it, and
    // a failed attempt drops it with its connection.
    let own = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(
            options
                .clone()
                .application_name(&listener_application_name(&schema)),
        );
    let mut listener = PgListener::connect_with(&own).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(&channel).await?;
    *connected = true;
    // Listening before reading: a commit after the read is notified, one before it is read.
    sender.advance(read_last_seq(pool).await?);
    let notifications = async {
        loop {
            match listener.try_recv().await? {
                Some(notification) => {
                    if notification.channel() == channel {
                        if let Ok(seq) = notification.payload().parse::<u64>() {
                            sender.advance(seq);
                        }
                    }
                }
                // The connection was lost and re-established (listening again): what was
                // notified meanwhile is lost, so read the log's end.
                None => {
                    sender.advance(read_last_seq(pool).await?);
                }
            }
        }
    };
    let polls = async {
        loop {
            tokio::time::sleep(poll_interval).await;
            sender.advance(read_last_seq(pool).await?);
        }
    };
    // Neither loop ends but with an error; the other is then dropped with the connection.
    tokio::select! {
        failed = notifications => failed,
        failed = polls => failed,
    }
}

/// The log's last seq as committed now.
async fn read_last_seq(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let last: i64 = sqlx::query_scalar("SELECT last_seq FROM event_log")
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(last).unwrap_or(0))
}
