//! A connection a worker task keeps from one statement to the next while it has work.
//!
//! sqlx tests every connection with a round trip (an empty `Sync`) when it goes back to the
//! pool, whatever the pool's settings. A task that runs statement after statement, as the
//! committer and the task number task do, would otherwise wait for that round trip between
//! every two statements. (Measured: it stood between every two group commits, see
//! docs/BENCHMARKS.md.)

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};

/// A connection taken from `pool` on first use and kept until [`Self::give_back`] or drop.
pub(crate) struct KeptConnection<'p> {
    pool: &'p PgPool,
    conn: Option<PoolConnection<Postgres>>,
}

impl<'p> KeptConnection<'p> {
    /// Nothing taken yet.
    pub(crate) fn new(pool: &'p PgPool) -> Self {
        Self { pool, conn: None }
    }

    /// The kept connection, taken from the pool if there is none.
    ///
    /// Errors: the pool's (closed, or no connection within its acquire timeout).
    pub(crate) async fn get(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.pool.acquire().await?,
        };
        Ok(&mut **self.conn.insert(conn))
    }

    /// Gives the connection back to the pool, which tests it, so that the next [`Self::get`]
    /// takes a fresh one: for when something failed without an answer from the database and
    /// the connection may be broken, or the pool was closed.
    pub(crate) fn give_back(&mut self) {
        self.conn = None;
    }
}
