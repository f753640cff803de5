//! The log watch ([`Store::log_watch`](tasklane_core::store::Store::log_watch)) across processes.
//!
//! Every transaction that appends events also queues `pg_notify(channel, last_seq)` on its
//! schema's channel ([`crate::commit::LOG_CHANNEL`]), delivered by PostgreSQL when it commits.
//! The first call of `log_watch` on a store starts a listener task (with the record cache off,
//! stores that never watch pay nothing; with it on, the store starts the task when it opens) on
//! a connection of its own, outside the store's pool, named
//! `tasklane-log-listener <schema>` in `pg_stat_activity`. It advances the watch with every
//! notification's number, and re-reads `event_log.last_seq` after every (re)connection and every
//! poll interval ([`crate::PgConfig::log_poll_interval_ms`]), so a notification lost while the
//! connection was down delays a wake-up by at most one interval. Commits made through this
//! store advance the watch as soon as they return, without waiting for their notification.
//!
//! The same connection listens on the schema's key channel for the record cache
//! ([`crate::cache`]). Its polls run on that connection: they are heartbeats, which grant the
//! cache its lease, and a heartbeat not answered within the poll interval (at least 5 s) counts
//! as a lost connection.
//!
//! Every number the watch takes is visible: a notification is delivered after its transaction
//! committed, and `last_seq` is read from committed data.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgListener, PgNotification, PgPoolOptions};
use sqlx::PgPool;
use tasklane_core::store::LogWatchSender;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cache::{RecordCache, KEYS_CHANNEL};
use crate::commit::LOG_CHANNEL;
use crate::quote_ident;

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
    /// The record cache the listener tells about other processes' writes.
    cache: Arc<RecordCache>,
}

impl LogWatch {
    /// A watch starting at 0 (nothing known yet); nothing runs until the first subscription.
    pub(crate) fn new(
        options: PgConnectOptions,
        poll_interval: Duration,
        cache: Arc<RecordCache>,
    ) -> Self {
        Self {
            sender: LogWatchSender::new(0),
            listener: Mutex::new(None),
            options,
            poll_interval,
            cache,
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
        self.start_listener(pool);
        self.sender.subscribe()
    }

    /// Starts the listener task when none runs and a Tokio runtime is at hand (a store whose
    /// record cache is enabled starts it when it opens).
    pub(crate) fn start_listener(&self, pool: &PgPool) {
        let mut listener = self.listener.lock().unwrap_or_else(|e| e.into_inner());
        let running = listener.as_ref().is_some_and(|task| !task.0.is_finished());
        if !running {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let task = follow_the_log(
                    pool.clone(),
                    self.options.clone(),
                    self.poll_interval,
                    self.sender.clone(),
                    Arc::clone(&self.cache),
                );
                *listener = Some(AbortOnDrop(runtime.spawn(task)));
            }
        }
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
/// growing wait. While it is not connected the record cache does not serve.
async fn follow_the_log(
    pool: PgPool,
    options: PgConnectOptions,
    poll_interval: Duration,
    sender: LogWatchSender,
    cache: Arc<RecordCache>,
) {
    let longest_wait = poll_interval.clamp(FIRST_RETRY_WAIT, MAX_RETRY_WAIT);
    let mut wait = FIRST_RETRY_WAIT;
    loop {
        let mut connected = false;
        let Err(error) = listen(
            &pool,
            &options,
            poll_interval,
            &sender,
            &cache,
            &mut connected,
        )
        .await;
        cache.suspend();
        tracing::warn!(
            error = %error,
            "the event log listener lost its connection; wake-ups from other processes are \
             late and the record cache is off until it reconnects"
        );
        if connected {
            wait = FIRST_RETRY_WAIT;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(longest_wait);
    }
}

/// The listener's connection and what it hears.
struct Hearing<'a> {
    listener: PgListener,
    log_channel: String,
    keys_channel: String,
    /// `SELECT last_seq FROM <schema>.event_log`: the listener's connection has no search path.
    last_seq_query: String,
    poll_interval: Duration,
    sender: &'a LogWatchSender,
    cache: &'a RecordCache,
}

impl Hearing<'_> {
    fn handle(&self, notification: &PgNotification) {
        if notification.channel() == self.log_channel {
            if let Ok(seq) = notification.payload().parse::<u64>() {
                self.sender.advance(seq);
            }
        } else if notification.channel() == self.keys_channel {
            self.cache.hear(notification.payload());
        }
    }

    /// Reads the log's end on the listener's own connection. PostgreSQL sends a session its
    /// pending notifications before it answers a query, so once the answer is here everything
    /// committed before the query was sent has been heard: the watch advances and the record
    /// cache may serve for two more poll intervals.
    async fn heartbeat(&mut self) -> Result<(), sqlx::Error> {
        let sent_at = Instant::now();
        let wait = self.poll_interval.max(MAX_RETRY_WAIT);
        let query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(self.last_seq_query.clone()));
        let last = tokio::time::timeout(wait, query.fetch_one(&mut self.listener))
            .await
            .map_err(|_| {
                sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the listener's connection did not answer within a poll interval",
                ))
            })??;
        while let Some(notification) = self.listener.next_buffered() {
            self.handle(&notification);
        }
        self.sender.advance(u64::try_from(last).unwrap_or(0));
        self.cache
            .lease(sent_at, self.poll_interval.saturating_mul(2));
        Ok(())
    }
}

/// Connects, listens on the schema's channels, advances the watch from notifications and
/// heartbeats, and tells the record cache what other processes wrote; returns only when
/// something fails. Sets `connected` once it listens.
async fn listen(
    pool: &PgPool,
    options: &PgConnectOptions,
    poll_interval: Duration,
    sender: &LogWatchSender,
    cache: &RecordCache,
    connected: &mut bool,
) -> Result<Infallible, sqlx::Error> {
    let (log_channel, keys_channel, schema): (String, String, String) =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {LOG_CHANNEL}, {KEYS_CHANNEL}, current_schema()::text"
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
    listener
        .listen_all([log_channel.as_str(), keys_channel.as_str()])
        .await?;
    *connected = true;
    let mut hearing = Hearing {
        listener,
        log_channel,
        keys_channel,
        last_seq_query: format!("SELECT last_seq FROM {}.event_log", quote_ident(&schema)),
        poll_interval,
        sender,
        cache,
    };
    // Listening before reading: a commit after the read is notified, one before it is read.
    // What was kept before this connection may have missed announcements: forget it.
    cache.forget_all();
    hearing.heartbeat().await?;
    let mut next_heartbeat = Instant::now() + poll_interval;
    loop {
        tokio::select! {
            received = hearing.listener.try_recv() => match received? {
                Some(notification) => hearing.handle(&notification),
                // The connection was lost and re-established (listening again): what was
                // notified meanwhile is lost, so forget what is kept and read the log's end.
                None => {
                    cache.suspend();
                    hearing.heartbeat().await?;
                    next_heartbeat = Instant::now() + poll_interval;
                }
            },
            () = tokio::time::sleep_until(next_heartbeat.into()) => {
                hearing.heartbeat().await?;
                next_heartbeat = Instant::now() + poll_interval;
            }
        }
    }
}
