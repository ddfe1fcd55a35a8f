//! The storage seam (DESIGN.md §3): one `Db`/`Tx` pair over SQLite or PostgreSQL, chosen by the
//! URL scheme. Feature stores write ONE SQL string and ONE body, run by the `on_tx!`/`on_pool!`
//! macros once per backend; handlers never see which backend is underneath.

mod backup;
mod budget;
mod checkpoint;
mod error;
mod migrate;
#[cfg(test)]
mod scratch;
pub mod search_file;
mod sqlite;
mod statistics;
mod text;
mod ts;
mod url;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Sqlite};
use tokio::sync::OwnedMutexGuard;

pub use backup::backup_sqlite;
pub use budget::{Budgeted, pg_reader, unless_interrupted};
pub use error::StoreError;
#[cfg(test)]
pub(crate) use scratch::scratch_sqlite;
pub use sqlite::{SqliteDb, WriteConn};
pub use text::{ascii_prefix_range, like_contains, pair_array, pair_code, pair_codes};
pub use ts::Ts;
pub use url::DatabaseUrl;

/// Which database engine a `Db` talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A pool on one of the two backends. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// An open transaction; every feature function that changes data takes `&mut Tx`.
#[derive(Debug)]
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A SQLite transaction and, when it writes, this process's writer turn (released after the
/// transaction ends: fields drop in order).
#[derive(Debug)]
pub struct SqliteTx {
    pub tx: sqlx::Transaction<'static, Sqlite>,
    _turn: Option<OwnedMutexGuard<()>>,
}

/// Pool sizing and patience, from `[db]` in the config.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Runs `$body` with `$conn` bound to the transaction's connection, once per backend arm.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut *t.tx;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool, once per backend arm (reads outside a transaction).
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(p) => {
                let $pool: &sqlx::SqlitePool = p;
                $body
            }
            $crate::db::Db::Postgres(p) => {
                let $pool = p;
                $body
            }
        }
    };
}

/// Runs `$body` with `$conn` bound to where a single statement that writes outside a
/// transaction goes: SQLite's write connection in the writer turn, or the PostgreSQL pool.
/// Evaluates to `Result<_, StoreError>`'s `?` on the turn, so use it in a function whose error
/// converts from `StoreError`.
#[macro_export]
macro_rules! on_writer {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(p) => {
                let mut w = p.write_conn().await?;
                let $conn: &mut sqlx::SqliteConnection = &mut w;
                $body
            }
            $crate::db::Db::Postgres(p) => {
                let $conn = p;
                $body
            }
        }
    };
}

impl Db {
    /// Opens the pool; a SQLite file (and its folder) is created on first start.
    pub async fn connect(url: &DatabaseUrl, opts: PoolOptions) -> Result<Db, StoreError> {
        match url.backend() {
            Backend::Sqlite => Ok(Db::Sqlite(SqliteDb::connect(url, opts).await?)),
            Backend::Postgres => {
                let conn = PgConnectOptions::from_str(url.expose())?.application_name("opsdesk");
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.acquire_timeout)
                    .test_before_acquire(true)
                    .connect_with(conn)
                    .await?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Whether dynamic SQL (a search, whose text and values vary) may run as a cached prepared
    /// statement. Not on PostgreSQL: after five runs of one statement it may switch to a
    /// generic plan, made without the bound values, and for `ILIKE $1` that plan walks the
    /// whole list (a wiki search for a word in 5 of 10k pages: 2.5 s with the generic plan,
    /// 1.5 ms with the value's). An unnamed statement is planned with its values every time.
    /// SQLite re-plans a cached statement itself when a value could change the plan.
    pub fn caches_statements(&self) -> bool {
        matches!(self, Db::Sqlite(_))
    }

    /// A transaction that will write. On SQLite it takes the write lock at BEGIN (IMMEDIATE):
    /// a deferred transaction that reads first cannot upgrade once another writer committed
    /// (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry), so concurrent writers would
    /// fail instead of queueing.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => {
                let turn = p.writer.clone().lock_owned().await;
                Tx::Sqlite(SqliteTx {
                    tx: p.write.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                })
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A transaction that only reads: one consistent snapshot, no write lock on SQLite.
    pub async fn begin_read(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(SqliteTx {
                tx: p.begin().await?,
                _turn: None,
            }),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Applies pending migrations of this backend's folder.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate::run(self).await
    }

    /// Answers whether the database takes a query right now (for /readyz).
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// (open connections, idle connections), for /metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Sqlite(p) => (
                p.pool.size() + p.write.size(),
                p.pool.num_idle() + p.write.num_idle(),
            ),
            Db::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    pub async fn close(&self) {
        if let Db::Sqlite(p) = self {
            p.write.close().await;
        }
        on_pool!(self, |pool| pool.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.tx.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// Marks a point [`Tx::rollback_to`] returns to: work after it can be undone while work
    /// before it (a stored raw message) commits.
    pub async fn savepoint(&mut self, name: Savepoint) -> Result<(), StoreError> {
        self.run(&format!("SAVEPOINT {}", name.0)).await
    }

    pub async fn rollback_to(&mut self, name: Savepoint) -> Result<(), StoreError> {
        self.run(&format!("ROLLBACK TO SAVEPOINT {}", name.0)).await
    }

    async fn run(&mut self, sql: &str) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        on_tx!(self, |c| sqlx::query(sql).execute(c).await.map(|_| ())?);
        Ok(())
    }
}

/// `rows` parenthesised groups of `cols` numbered placeholders, numbered on from `$first`,
/// for a multi-row `VALUES` (both backends take `$n`).
pub fn value_rows(rows: usize, cols: usize, first: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (0..cols)
                .map(|c| format!("${}", first + r * cols + c))
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A savepoint's name: a fixed identifier, never text from outside.
#[derive(Debug, Clone, Copy)]
pub struct Savepoint(pub &'static str);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn value_rows_number_on_from_the_first() {
        assert_eq!(super::value_rows(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::value_rows(1, 2, 3), "($3, $4)");
    }

    use super::Db;

    /// A statement that writes on its own queues for the writer turn like a transaction does:
    /// while a write transaction is open it is not given the connection, and it is at once
    /// after the commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_autocommit_write_waits_for_the_writer_turn() {
        let (_dir, db) = super::scratch_sqlite().await;
        let Db::Sqlite(p) = &db else {
            panic!("a SQLite URL opens SQLite")
        };
        let tx = db.begin().await.expect("begin");
        let waiting = tokio::time::timeout(Duration::from_millis(200), p.write_conn()).await;
        assert!(waiting.is_err(), "the turn is held by the open transaction");
        tx.commit().await.expect("commit");
        let mut w = tokio::time::timeout(Duration::from_secs(10), p.write_conn())
            .await
            .expect("the turn is free after the commit")
            .expect("write connection");
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut *w)
            .await
            .expect("write on the write connection");
        drop(w);
        db.close().await;
    }
}
