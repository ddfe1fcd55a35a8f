//! Reads that give up once a time budget is spent, so a caller can try a plan that is fast on
//! most data and fall back to one whose cost it knows when it is not: the ticket and wiki
//! searches walk a list in its order and test each row (microseconds when matches are common,
//! the whole table when they are rare) before they build the full match set.
//!
//! SQLite calls a progress handler every few hundred virtual-machine steps; ours answers "stop"
//! once the deadline has passed, and the statement fails with SQLITE_INTERRUPT. The handler
//! stays on the pooled connection until it is removed, so it is disarmed when the [`Budgeted`]
//! is dropped (a cancelled request included): a later borrower of the connection is never
//! interrupted by a stale deadline. PostgreSQL's reader is a transaction of its own with a
//! `statement_timeout` local to it, so the setting ends with the transaction, however that
//! ends. Either way [`unless_interrupted`] turns the stop into `None`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres, Sqlite};

use super::{Db, SqliteDb, StoreError};

/// Virtual-machine steps between two looks at the clock: a few microseconds of work, so a
/// budget is overrun by no more than that, and the clock is read rarely enough to cost nothing.
const STEPS_PER_CHECK: i32 = 1000;

/// SQLite's result code for a statement stopped by its progress handler.
const SQLITE_INTERRUPT: &str = "9";
/// PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout` (query_canceled).
const PG_QUERY_CANCELED: &str = "57014";

/// A reader whose statements stop once the budget is spent.
#[derive(Debug)]
pub enum Budgeted {
    Sqlite(SqliteReader),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// SQLite's budgeted reader: the connection, and the switch that disarms its handler.
#[derive(Debug)]
pub struct SqliteReader {
    pub(crate) conn: PoolConnection<Sqlite>,
    armed: Arc<AtomicBool>,
}

impl Db {
    /// A reader whose statements, from now on, each stop once `budget` has passed.
    pub async fn budgeted(&self, budget: Duration) -> Result<Budgeted, StoreError> {
        match self {
            Db::Sqlite(s) => s.budgeted(budget).await,
            Db::Postgres(p) => pg_budgeted(p, budget).await,
        }
    }
}

impl SqliteDb {
    /// A reader whose statements, from now on, stop once `budget` has passed.
    pub async fn budgeted(&self, budget: Duration) -> Result<Budgeted, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let armed = Arc::new(AtomicBool::new(true));
        let flag = armed.clone();
        let deadline = Instant::now() + budget;
        conn.lock_handle()
            .await?
            .set_progress_handler(STEPS_PER_CHECK, move || {
                !flag.load(Ordering::Relaxed) || Instant::now() < deadline
            });
        Ok(Budgeted::Sqlite(SqliteReader { conn, armed }))
    }
}

/// PostgreSQL counts the timeout per statement, from its start: each statement on this reader
/// gets the whole budget (the callers run one). Without parallel workers: a statement meant to
/// answer in a few tens of milliseconds gains nothing from starting them, and on a busy server
/// waiting for them spent the budget (a 40 ms count that takes 11–21 ms ran out in one call in
/// ten with the two cores loaded).
async fn pg_budgeted(pool: &PgPool, budget: Duration) -> Result<Budgeted, StoreError> {
    // 0 would mean "no timeout".
    let ms = format!("{}ms", budget.as_millis().max(1));
    let settings = [
        ("statement_timeout", ms.as_str()),
        ("max_parallel_workers_per_gather", "0"),
    ];
    Ok(Budgeted::Postgres(pg_reader(pool, &settings).await?))
}

/// A PostgreSQL read transaction with `settings` (name, value) local to it: they end with the
/// transaction however it ends, so the pooled connection goes back as it came.
pub async fn pg_reader(
    pool: &PgPool,
    settings: &[(&str, &str)],
) -> Result<sqlx::Transaction<'static, Postgres>, StoreError> {
    let mut tx = pool.begin().await?;
    // One round trip for all of them.
    let (names, values): (Vec<&str>, Vec<&str>) = settings.iter().copied().unzip();
    sqlx::query("SELECT set_config(n, v, true) FROM unnest($1::text[], $2::text[]) AS s(n, v)")
        .bind(names)
        .bind(values)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Runs `$body` with `$conn` bound to the budgeted reader's connection, whichever backend.
#[macro_export]
macro_rules! on_budget {
    ($b:expr, |$conn:ident| $body:expr) => {
        match $b {
            $crate::db::Budgeted::Sqlite(r) => {
                let $conn: &mut sqlx::SqliteConnection = &mut *r.conn;
                $body
            }
            $crate::db::Budgeted::Postgres(tx) => {
                let $conn: &mut sqlx::PgConnection = &mut *tx;
                $body
            }
        }
    };
}

impl Budgeted {
    /// [`Db::caches_statements`] for this reader's backend.
    pub fn caches_statements(&self) -> bool {
        matches!(self, Budgeted::Sqlite(_))
    }

    /// Removes SQLite's handler before the connection goes back to the pool; ends
    /// PostgreSQL's read transaction (and its timeout with it).
    pub async fn release(self) {
        match self {
            Budgeted::Sqlite(mut r) => {
                r.armed.store(false, Ordering::Relaxed);
                if let Ok(mut h) = r.conn.lock_handle().await {
                    h.remove_progress_handler();
                }
            }
            Budgeted::Postgres(tx) => {
                // It only read; a statement the timeout stopped has aborted it anyway.
                let _ = tx.rollback().await;
            }
        }
    }
}

impl Drop for SqliteReader {
    fn drop(&mut self) {
        self.armed.store(false, Ordering::Relaxed);
    }
}

/// A statement's result, `None` when the budget stopped it.
pub fn unless_interrupted<T>(r: Result<T, sqlx::Error>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(sqlx::Error::Database(e))
            if matches!(
                e.code().as_deref(),
                Some(SQLITE_INTERRUPT | PG_QUERY_CANCELED)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::unless_interrupted;
    use crate::db::Db;

    /// Counts to `n` in SQL: long enough for a budget to stop at large `n`.
    const COUNT_TO: &str = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c \
                            WHERE i < ?) SELECT max(i) FROM c";

    fn conn(b: &mut super::Budgeted) -> &mut sqlx::SqliteConnection {
        match b {
            super::Budgeted::Sqlite(r) => &mut r.conn,
            super::Budgeted::Postgres(_) => unreachable!("SQLite"),
        }
    }

    async fn sqlite() -> (tempfile::TempDir, Db) {
        crate::db::scratch_sqlite().await
    }

    #[tokio::test]
    async fn a_statement_past_its_budget_stops_and_the_connection_stays_usable() {
        let (_dir, db) = sqlite().await;
        let Db::Sqlite(p) = &db else { unreachable!() };
        let mut b = p.budgeted(Duration::from_millis(5)).await.unwrap();
        let r = sqlx::query_scalar::<_, i64>(COUNT_TO)
            .bind(1_000_000_000_i64)
            .fetch_one(conn(&mut b))
            .await;
        assert_eq!(unless_interrupted(r).unwrap(), None);
        // Within the budget a statement answers.
        let mut b = p.budgeted(Duration::from_secs(30)).await.unwrap();
        let r = sqlx::query_scalar::<_, i64>(COUNT_TO)
            .bind(10_000_i64)
            .fetch_one(conn(&mut b))
            .await;
        assert_eq!(unless_interrupted(r).unwrap(), Some(10_000));
        b.release().await;
    }

    #[tokio::test]
    async fn a_dropped_budget_never_interrupts_the_next_borrower() {
        let (_dir, db) = sqlite().await;
        let Db::Sqlite(p) = &db else { unreachable!() };
        // Every reader connection gets a budget that is spent at once, and is dropped
        // without release (as a cancelled request would).
        let mut held = Vec::new();
        for _ in 0..p.pool.size().max(1) {
            held.push(p.budgeted(Duration::ZERO).await.unwrap());
        }
        drop(held);
        for _ in 0..4 {
            let n: i64 = sqlx::query_scalar(COUNT_TO)
                .bind(2_000_000_i64)
                .fetch_one(&p.pool)
                .await
                .unwrap();
            assert_eq!(n, 2_000_000);
        }
    }

    #[tokio::test]
    async fn other_errors_stay_errors() {
        let (_dir, db) = sqlite().await;
        let Db::Sqlite(p) = &db else { unreachable!() };
        let mut b = p.budgeted(Duration::from_secs(30)).await.unwrap();
        let r = sqlx::query_scalar::<_, i64>("SELECT nope FROM nowhere")
            .fetch_one(conn(&mut b))
            .await;
        assert!(unless_interrupted(r).is_err());
    }
}
