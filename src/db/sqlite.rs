//! SQLite's side of the pool: the readers, the one write connection and its turn, and the
//! settings every connection opens with.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{DatabaseUrl, PoolOptions, StoreError, checkpoint, search_file};

/// The write connection's page cache (negative: KiB), for the pages of every index a write
/// touches; the readers keep the 16 MiB set in `connect`.
const WRITER_CACHE_KIB: &str = "-65536";

/// How much of the file every connection maps (1 TiB: all of it, in practice). Past the map,
/// a page is a `pread` into the connection's own cache, and with 1 GiB mapped a database of
/// 1M tickets (2.8 GiB) had its newest rows, the ones every write touches, past the map: alert
/// intake fell from 2,258 alerts/s at 100k tickets to 1,409 at 1M, and mapping all of it
/// brought 2,136 back (BENCHMARKS.md). SQLite caps the map at its compile-time
/// `SQLITE_MAX_MMAP_SIZE` (2 GiB unless raised), which `.cargo/config.toml` raises to this for
/// the bundled build (a test below checks that the connections got it). The map costs address
/// space, not memory: the pages are the kernel's page cache, shared by every connection.
const MMAP_BYTES: i64 = 1 << 40;

/// A SQLite pool of readers, the one connection that writes, and its turn. SQLite lets one
/// transaction write at a time; left to `busy_timeout`, waiting writers sleep in steps of up to
/// 100 ms and wake to a lock that may be free for a while already. Writers of this process
/// queue on an async mutex instead and start the moment the previous one ends; `busy_timeout`
/// still arbitrates with other processes (the CLI) on the same file.
///
/// Every write transaction runs on the same connection: its page cache only ever sees its own
/// changes, so it stays valid from one transaction to the next. Spread over the pool, each
/// writer found a cache that another connection's commit had made stale, dropped it and read
/// the index pages it was about to change back in, all while holding the turn.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    pub(super) pool: SqlitePool,
    pub(super) write: SqlitePool,
    pub(super) writer: Arc<Mutex<()>>,
    _checkpointer: Arc<checkpoint::Checkpointer>,
}

impl std::ops::Deref for SqliteDb {
    type Target = SqlitePool;

    fn deref(&self) -> &SqlitePool {
        &self.pool
    }
}

impl SqliteDb {
    /// Opens the readers' pool and the write connection; the file (and its folder) is created
    /// on first start.
    pub(super) async fn connect(
        url: &DatabaseUrl,
        opts: PoolOptions,
    ) -> Result<SqliteDb, StoreError> {
        // Every connection of an in-memory database would see an index file of its own
        // (search_file.rs); the product keeps its data in files anyway.
        let raw = url.expose();
        if raw.contains(":memory:") || raw.contains("mode=memory") {
            return Err(StoreError::Io {
                what: "opening the database".into(),
                source: std::io::Error::other(
                    "an in-memory SQLite database is not supported; use sqlite://PATH",
                ),
            });
        }
        let conn = SqliteConnectOptions::from_str(raw)
            .map_err(StoreError::from)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            // Pages through the OS page cache, shared by every connection, instead of
            // a pread into each connection's private cache.
            .pragma("mmap_size", MMAP_BYTES.to_string())
            .pragma("cache_size", "-16384")
            // Checkpoints run in the background (checkpoint.rs), not in a commit.
            .pragma("wal_autocheckpoint", "0")
            .pragma("journal_size_limit", checkpoint::WAL_SIZE_LIMIT);
        if let Some(parent) = conn.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Io {
                what: format!("creating the folder {}", parent.display()),
                source: e,
            })?;
        }
        let path = conn.get_filename().to_path_buf();
        // One writer at a time is SQLite's model: one connection for it (with a larger
        // cache, as it touches every index), the rest of the pool for readers.
        // No ping before each acquire (sqlx's default): a SQLite connection is a file
        // handle on a worker thread, it cannot go stale, and the ping is a round trip
        // to that thread in front of every transaction.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(conn.clone().pragma("cache_size", WRITER_CACHE_KIB))
            .await?;
        // The readers see the full-text index file too (search_file.rs); the writer
        // does not, so that its transactions never lock that file.
        let index_file = search_file::path_of(&path);
        let pool = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(2) - 1)
            .test_before_acquire(false)
            .acquire_timeout(opts.acquire_timeout)
            .after_connect(move |conn, _| {
                let file = index_file.clone();
                Box::pin(async move { search_file::attach(conn, &file).await })
            })
            .connect_with(conn)
            .await?;
        let writer = Arc::new(Mutex::new(()));
        let checkpointer = Arc::new(checkpoint::start(pool.clone(), path, writer.clone()));
        Ok(SqliteDb {
            pool,
            write,
            writer,
            _checkpointer: checkpointer,
        })
    }

    /// The one connection that writes (migrations run on it too).
    pub(crate) fn writer_pool(&self) -> &SqlitePool {
        &self.write
    }

    /// The write connection in this process's writer turn, for one statement that writes on
    /// its own (autocommit; see [`on_writer!`]). On a reader it would wait for the write lock
    /// in `busy_timeout`'s sleeps, behind the turn's queue instead of in it.
    pub async fn write_conn(&self) -> Result<WriteConn, StoreError> {
        let turn = self.writer.clone().lock_owned().await;
        Ok(WriteConn {
            conn: self.write.acquire().await?,
            _turn: turn,
        })
    }
}

/// The write connection and the writer turn, held for one autocommit statement (the
/// connection goes back before the turn: fields drop in order).
#[derive(Debug)]
pub struct WriteConn {
    conn: sqlx::pool::PoolConnection<Sqlite>,
    _turn: OwnedMutexGuard<()>,
}

impl std::ops::Deref for WriteConn {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &sqlx::SqliteConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::MMAP_BYTES;
    use crate::db::Db;

    /// Both the readers and the writer map the whole file: the bundled SQLite was built with
    /// the raised `SQLITE_MAX_MMAP_SIZE` of `.cargo/config.toml` (without it SQLite quietly
    /// caps the map at 2 GiB, and a large database reads its newest pages with `pread`).
    #[tokio::test]
    async fn every_connection_maps_the_whole_file() {
        let (_dir, db) = crate::db::scratch_sqlite().await;
        let Db::Sqlite(s) = &db else { panic!("SQLite") };
        for pool in [&**s, s.writer_pool()] {
            let mapped: i64 = sqlx::query_scalar("PRAGMA mmap_size")
                .fetch_one(pool)
                .await
                .expect("mmap_size");
            assert_eq!(mapped, MMAP_BYTES);
        }
    }
}
