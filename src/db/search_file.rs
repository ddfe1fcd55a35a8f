//! SQLite's ticket full-text indexes live in a database file of their own beside the main one
//! (`opsdesk.db.search` for `opsdesk.db`), attached to every reader connection as `search`.
//!
//! Why a file of its own: SQLite lets one transaction write to a file at a time, and FTS5
//! merges its index segments inside the transaction that flushes new rows, in lumps of 10–50
//! ms. In the main file those lumps held the one writer turn that every alert delivery, mail
//! and ticket write waits for (the alert p99 went from 17.5 to 24–28 ms with the indexer on;
//! BENCHMARKS.md). In a file of its own the indexer takes that file's write lock only, and the
//! writes to the main file go on meanwhile. The write connection does not attach the file, so
//! its `BEGIN IMMEDIATE` (which takes the write lock of every attached file) never waits for
//! the indexer either.
//!
//! Everything in the file is derived from the main file, so it is never backed up and never
//! migrated: when its layout ([`LAYOUT`]) or its owner differs from what the main file
//! expects, it is emptied and the index task (src/search/index.rs) fills it again from the
//! start; searches stay complete meanwhile, reading what is not indexed yet with LIKE. The
//! owner is a token in the main file (migration 0020) that `opsdesk backup` renews in every
//! copy, so an index built for other data (a restored backup beside the live index) is never
//! taken for this data's.

use std::path::{Path, PathBuf};

use sqlx::SqliteConnection;

use super::StoreError;

/// The schema name the file is attached under.
pub const SCHEMA: &str = "search";

/// The layout of the file: its tables, as `PRAGMA search.user_version`. Raise it with any
/// change to [`TABLES`]; the file is then rebuilt rather than migrated.
const LAYOUT: i64 = 1;

/// The file's tables (the statements run in order on an empty file).
const TABLES: &str = include_str!("../../migrations/sqlite_search_file.sql");

/// The index file of the main database file at `main`.
pub fn path_of(main: &Path) -> PathBuf {
    let mut name = main.as_os_str().to_owned();
    name.push(".search");
    PathBuf::from(name)
}

/// Attaches the index file to a connection and sets what SQLite keeps per file and per
/// connection, as `connect` does for the main file: the file's changes are synced at
/// checkpoints (WAL with synchronous NORMAL), and its WAL is cut back after it starts over.
pub async fn attach(conn: &mut SqliteConnection, file: &Path) -> Result<(), sqlx::Error> {
    sqlx::query("ATTACH DATABASE $1 AS search")
        .bind(file.to_string_lossy().into_owned())
        .execute(&mut *conn)
        .await?;
    sqlx::raw_sql(
        "PRAGMA search.journal_mode = WAL; \
         PRAGMA search.synchronous = NORMAL; \
         PRAGMA search.journal_size_limit = 67108864;",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Makes the attached file fit for the main file it sits beside: empties it and lays its
/// tables out again when it is new, of another layout, built for another owner, or ahead of
/// the main file (an older copy of the main file put back beside a newer index). Runs after
/// the main file's migrations, on a connection that has the file attached.
pub(super) async fn prepare(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let layout: i64 = sqlx::query_scalar("PRAGMA search.user_version")
        .fetch_one(&mut *conn)
        .await?;
    if layout == LAYOUT && belongs(conn).await? {
        return Ok(());
    }
    if layout != 0 {
        tracing::info!(
            layout,
            "the full-text index file does not match this database; rebuilding it"
        );
    }
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    // Virtual tables first: FTS5's shadow tables go with theirs.
    for kind in [
        "sql LIKE 'CREATE VIRTUAL TABLE%'",
        "name NOT LIKE 'sqlite%'",
    ] {
        let tables: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM search.sqlite_master WHERE type = 'table' AND {kind}"
        )))
        .fetch_all(&mut *tx)
        .await?;
        for t in tables {
            let drop = format!("DROP TABLE search.\"{}\"", t.replace('"', "\"\""));
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut *tx)
                .await?;
        }
    }
    sqlx::raw_sql(TABLES).execute(&mut *tx).await?;
    // Everything is indexed from the start again, with the text as it is now: the renames and
    // merges queued so far are in that already.
    sqlx::query(
        "INSERT INTO search.ticket_fts_marks (name, indexed_to) VALUES ('subjects', 0), \
         ('bodies', 0), ('changed', (SELECT coalesce(max(seq), 0) FROM main.ticket_fts_changed))",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO search.index_owner (token) SELECT token FROM main.ticket_fts_owner")
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PRAGMA search.user_version = {LAYOUT}"
    )))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the file's index was built from this main file: the same owner token, and no mark
/// past the rows the main file holds.
async fn belongs(conn: &mut SqliteConnection) -> Result<bool, StoreError> {
    let fits: Option<bool> = sqlx::query_scalar(
        "SELECT (SELECT token FROM search.index_owner) \
               = (SELECT token FROM main.ticket_fts_owner) \
           AND (SELECT indexed_to FROM search.ticket_fts_marks WHERE name = 'subjects') \
               <= (SELECT coalesce(max(id), 0) FROM tickets) \
           AND (SELECT indexed_to FROM search.ticket_fts_marks WHERE name = 'bodies') \
               <= (SELECT coalesce(max(id), 0) FROM ticket_transactions) \
           AND (SELECT indexed_to FROM search.ticket_fts_marks WHERE name = 'changed') \
               <= (SELECT coalesce((SELECT seq FROM main.sqlite_sequence \
                                    WHERE name = 'ticket_fts_changed'), 0))",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(fits == Some(true))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::db::{DatabaseUrl, Db, PoolOptions};

    #[test]
    fn the_index_file_sits_beside_the_main_file() {
        assert_eq!(
            super::path_of(Path::new("data/opsdesk.db")),
            Path::new("data/opsdesk.db.search")
        );
    }

    async fn write(db: &Db, sql: &str) {
        let Db::Sqlite(p) = db else { panic!("SQLite") };
        let mut w = p.write_conn().await.expect("writer");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut *w)
            .await
            .expect(sql);
    }

    /// (subjects, bodies) indexed so far, and the rows in the subject index.
    async fn indexed(db: &Db) -> (i64, i64, i64) {
        let Db::Sqlite(p) = db else { panic!("SQLite") };
        sqlx::query_as(
            "SELECT (SELECT indexed_to FROM search.ticket_fts_marks WHERE name = 'subjects'), \
                    (SELECT indexed_to FROM search.ticket_fts_marks WHERE name = 'bodies'), \
                    (SELECT count(*) FROM search.tickets_fts_terms)",
        )
        .fetch_one(&**p)
        .await
        .expect("marks")
    }

    async fn open(path: &Path) -> Db {
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).expect("url");
        let db = Db::connect(&url, PoolOptions::default())
            .await
            .expect("connect");
        db.migrate().await.expect("migrate");
        db
    }

    /// The index file is kept across restarts, and emptied when it cannot be this data's: a
    /// backup restored beside the live index (another owner), an index ahead of the rows, an
    /// index of another layout.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_index_file_that_is_not_this_datas_is_built_again() {
        let (dir, db) = crate::db::scratch_sqlite().await;
        db.migrate().await.expect("migrate");
        write(
            &db,
            "INSERT INTO tickets (id, queue, subject, status, priority, source, created_by, \
               created_at, updated_at) VALUES (1, 'Support', 'uplink flapping', 'new', 3, \
               'api', 't', 1, 1); \
             INSERT INTO ticket_transactions (ticket_id, kind, actor, created_at, body, \
               body_format) VALUES (1, 'create', 't', 1, 'packet loss', 'text');",
        )
        .await;
        crate::search::index::catch_up(&db).await.expect("index");
        let full = indexed(&db).await;
        assert_eq!((full.0, full.1), (1, 1));
        assert!(full.2 > 0, "terms indexed");

        // Migrating again (a restart) keeps it.
        db.migrate().await.expect("migrate again");
        assert_eq!(indexed(&db).await, full);

        // A backup, restored under a new name with the live index file beside it.
        let copy = dir.path().join("copy.db");
        crate::db::backup_sqlite(&db, &copy).await.expect("backup");
        std::fs::copy(
            super::path_of(&dir.path().join("t.db")),
            super::path_of(&copy),
        )
        .expect("copy the index file");
        let restored = open(&copy).await;
        assert_eq!(indexed(&restored).await, (0, 0, 0), "another owner's index");
        crate::search::index::catch_up(&restored)
            .await
            .expect("index");
        assert_eq!(indexed(&restored).await, full);
        restored.close().await;

        // An index ahead of the rows it says it holds.
        let Db::Sqlite(p) = &db else { panic!("SQLite") };
        sqlx::query("UPDATE search.ticket_fts_marks SET indexed_to = 9 WHERE name = 'bodies'")
            .execute(&**p)
            .await
            .expect("mark ahead");
        db.migrate().await.expect("migrate");
        assert_eq!(indexed(&db).await, (0, 0, 0), "ahead of the rows");
        crate::search::index::catch_up(&db).await.expect("index");

        // Another layout.
        sqlx::query("PRAGMA search.user_version = 999")
            .execute(&**p)
            .await
            .expect("layout");
        db.migrate().await.expect("migrate");
        assert_eq!(indexed(&db).await, (0, 0, 0), "another layout");
        db.close().await;
    }
}
