//! WAL checkpoints off the writer's path. Left to SQLite, the commit that pushes the WAL past
//! 1000 pages copies the whole WAL back into the database file and fsyncs it before it
//! returns, while that transaction still holds the one writer turn: under mail intake that
//! was a stall of 20–60 ms every fraction of a second, and a third of all writer time. Here
//! every connection opens with `wal_autocheckpoint = 0` and one task per pool copies the WAL
//! back in the background (PASSIVE: it neither waits for nor blocks readers and writers), and
//! syncs the WAL file between passes so that a pass's own sync of it is short.
//!
//! A WAL only starts over from its beginning once every frame in it is back in the database
//! while no writer appends; under unbroken writing that moment may never come by itself. So
//! when the WAL has grown past [`RESTART_FRAMES`], the task catches up with passes back to back,
//! each followed by a sync of the files, and then takes the writer turn for a last short pass
//! over what was written meanwhile (8–10 ms on average under the mail bench), after which the
//! next writer starts the WAL over (`journal_size_limit` trims the file). On close, SQLite
//! checkpoints as always. The same task refreshes the planner's statistics every few hours
//! (statistics.rs).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::SqlitePool;
use tokio::sync::{Mutex, oneshot};

/// How often the WAL is copied back.
const EVERY: Duration = Duration::from_millis(250);

/// How often the WAL file is synced between passes. A pass starts by syncing the WAL, and
/// with a quarter second of intake unsynced in it (some 12 MB) that sync stalled the commits
/// appending to the WAL meanwhile: 10 ms in a bare probe, 20–50 ms under the mail bench, every
/// pass. Synced every 50 ms the pass finds little to sync; the probe's commits (300/s, 40 KB
/// each) went from p99 1.9–2.7 ms, max 10–11 ms, to p99 1.1–1.7 ms, max under 5 ms.
const WAL_SYNC_EVERY: Duration = Duration::from_millis(50);

/// Frames (pages) after which the WAL is made to start over even under unbroken writing:
/// 16384 × 4 KiB = 64 MiB, a second or two of the heaviest intake. Any pause in writing longer
/// than one pass starts it over sooner, without the writer turn.
pub(super) const RESTART_FRAMES: i64 = 16384;

/// Passes back to back, at most, before the last one under the writer turn.
const CATCH_UP_PASSES: usize = 8;

/// A pass and sync this quick had little to copy.
const QUICK_PASS: Duration = Duration::from_millis(5);

/// The WAL file is cut back to this size when it starts over.
pub(super) const WAL_SIZE_LIMIT: &str = "67108864";

/// Stops the task when the last handle on its pool is dropped (the task's own clone of the
/// pool would otherwise keep it open forever).
#[derive(Debug)]
pub(super) struct Checkpointer {
    _stop: oneshot::Sender<()>,
}

/// Starts the task for `pool`; it runs until the pool is closed or the answer dropped.
pub(super) fn start(pool: SqlitePool, path: PathBuf, writer: Arc<Mutex<()>>) -> Checkpointer {
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(run(pool, path, writer, stopped));
    Checkpointer { _stop: stop }
}

async fn run(
    pool: SqlitePool,
    path: PathBuf,
    writer: Arc<Mutex<()>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut failing = false;
    let mut wal = WalSync::new(wal_of(&path));
    let mut next_pass = Instant::now() + EVERY;
    let mut next_statistics = Instant::now() + super::statistics::EVERY;
    while !pool.is_closed() {
        tokio::select! {
            _ = tokio::time::sleep(WAL_SYNC_EVERY) => {}
            _ = &mut stopped => break,
        }
        if pool.is_closed() {
            break;
        }
        if Instant::now() >= next_statistics {
            next_statistics = Instant::now() + super::statistics::EVERY;
            if let Err(e) = super::statistics::refresh(&pool, &writer).await {
                tracing::warn!(error = %e, "refreshing the query planner's statistics failed");
            }
        }
        if Instant::now() < next_pass {
            wal.sync_if_written().await;
            continue;
        }
        next_pass = Instant::now() + EVERY;
        let result = match pass(&pool).await {
            Ok(frames) if frames >= RESTART_FRAMES => restart(&pool, &path, &writer).await,
            other => other.map(|_| ()),
        };
        match result {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("WAL checkpoints work again");
            }
            Ok(_) => {}
            Err(e) if pool.is_closed() => {
                tracing::debug!(error = %e, "checkpoint at close");
            }
            // Logged once per outage: the WAL keeps every change meanwhile, nothing is lost.
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "WAL checkpoint failed; retrying every 250 ms");
            }
            Err(_) => {}
        }
    }
}

/// Makes the WAL start over: rounds of a pass and a sync of what it copied, back to back,
/// until a round is quick (it found little written since the one before), then a last pass
/// under the writer turn. That pass copies only what was written during the quick round and
/// completes the checkpoint, which syncs the database file: with the earlier copies already on
/// disk, it held the turn 8–10 ms on average under the mail bench, where syncing everything
/// the catch-up had copied held it 20–30 ms.
async fn restart(pool: &SqlitePool, path: &Path, writer: &Mutex<()>) -> Result<(), sqlx::Error> {
    for _ in 0..CATCH_UP_PASSES {
        let started = Instant::now();
        pass(pool).await?;
        flush(path).await;
        if started.elapsed() < QUICK_PASS {
            break;
        }
    }
    let _turn = writer.lock().await;
    pass(pool).await.map(|_| ())
}

/// Writes the database file's and the WAL's dirty pages to disk. Only the pass that completes
/// a checkpoint syncs the database file, and it holds the writer turn: every page the passes
/// before it copied would still be in the page cache, to be synced then.
async fn flush(path: &Path) {
    let files = [path.to_path_buf(), wal_of(path)];
    let synced = tokio::task::spawn_blocking(move || {
        for f in files {
            std::fs::File::open(&f)?.sync_data()?;
        }
        Ok::<(), std::io::Error>(())
    })
    .await;
    // Only a head start: the checkpoint syncs the files itself.
    if let Ok(Err(e)) = synced {
        tracing::debug!(error = %e, "syncing ahead of a checkpoint");
    }
}

/// Syncs the WAL file when it was written since the last sync (its modification time moved),
/// so an idle database costs a `stat`, not a sync, per tick.
struct WalSync {
    path: PathBuf,
    synced: Option<std::time::SystemTime>,
}

impl WalSync {
    fn new(path: PathBuf) -> WalSync {
        WalSync { path, synced: None }
    }

    async fn sync_if_written(&mut self) {
        let (path, synced) = (self.path.clone(), self.synced);
        let done = tokio::task::spawn_blocking(move || {
            let modified = std::fs::metadata(&path)?.modified()?;
            if synced != Some(modified) {
                // The time is read before the sync: a write during it shows next tick.
                std::fs::File::open(&path)?.sync_data()?;
            }
            Ok::<_, std::io::Error>(modified)
        })
        .await;
        match done {
            Ok(Ok(modified)) => self.synced = Some(modified),
            // Only a head start for the next pass, which syncs the WAL itself.
            Ok(Err(e)) => tracing::debug!(error = %e, "syncing the WAL between checkpoints"),
            Err(e) => tracing::debug!(error = %e, "the WAL sync task failed"),
        }
    }
}

fn wal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// One PASSIVE checkpoint; answers how many frames the WAL holds.
async fn pass(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    let (_busy, log, _done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::WalSync;
    use crate::db::{DatabaseUrl, Db, PoolOptions};

    /// No WAL yet is no error; a written one is synced and remembered by its time, so the
    /// next tick without writes does nothing.
    #[tokio::test]
    async fn the_wal_is_synced_when_it_was_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("x.db-wal");
        let mut wal = WalSync::new(path.clone());
        wal.sync_if_written().await;
        assert_eq!(wal.synced, None);
        std::fs::write(&path, b"frames").expect("write");
        wal.sync_if_written().await;
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(wal.synced, Some(modified));
    }

    /// With SQLite's own checkpoints off, only the background task moves pages from the WAL
    /// into the database file: the file growing shows it ran.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_is_copied_back_in_the_background() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).expect("url");
        let db = Db::connect(&url, PoolOptions::default())
            .await
            .expect("connect");
        let Db::Sqlite(p) = &db else {
            panic!("a SQLite URL opens SQLite")
        };
        let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&p.pool)
            .await
            .expect("pragma");
        assert_eq!(auto, 0, "commits must not checkpoint");
        let mut tx = db.begin().await.expect("begin");
        tx.run("CREATE TABLE b (data BLOB)").await.expect("create");
        tx.commit().await.expect("commit");
        let before = std::fs::metadata(&path).expect("db file").len();
        let mut tx = db.begin().await.expect("begin");
        if let crate::db::Tx::Sqlite(t) = &mut tx {
            sqlx::query("INSERT INTO b VALUES ($1)")
                .bind(vec![7u8; 4 << 20])
                .execute(&mut *t.tx)
                .await
                .expect("insert");
        }
        tx.commit().await.expect("commit");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let now = std::fs::metadata(&path).expect("db file").len();
            if now >= before + (4 << 20) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the database file stayed at {now} bytes: no checkpoint ran"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        db.close().await;
    }
}
