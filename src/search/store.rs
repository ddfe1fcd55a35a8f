//! The SQLite full-text backlog: the one place that moves tickets and messages into the FTS5
//! indexes of the index file (src/db/search_file.rs, attached as `search`) and the marks of how
//! far that got. PostgreSQL has no backlog: its trigram GIN indexes are kept by the writing
//! statement.
//!
//! The index file has a write lock of its own. A batch runs on a reader connection (the write
//! connection does not attach the file), in a transaction that writes only to that file, so
//! the writes to the main file never wait for it.

use sqlx::SqliteConnection;

use crate::db::{Db, StoreError};

/// A mark of `search.ticket_fts_marks`, by its name, as a value in a query.
macro_rules! mark {
    ($name:literal) => {
        concat!(
            "(SELECT indexed_to FROM search.ticket_fts_marks WHERE name = '",
            $name,
            "')"
        )
    };
}

/// The last ticket id the subject index has taken in; later tickets wait for it.
pub(crate) const SUBJECTS_MARK: &str = mark!("subjects");

/// The last message id the body index has taken in; later messages wait for it.
pub(crate) const BODIES_MARK: &str = mark!("bodies");

/// The last entry of `ticket_fts_changed` the index has taken in.
const CHANGED_MARK: &str = mark!("changed");

/// The tickets changed since the index took them in and not yet taken in again (migration
/// 0020): the index may hold their old text, so searches read their text with LIKE instead.
/// Empty but for the moments between a rename or merge and the indexer's next pass.
pub(crate) const CHANGED_WAITING: &str = concat!(
    "(SELECT ticket_id FROM ticket_fts_changed WHERE seq > ",
    mark!("changed"),
    ")"
);

/// Whether tickets, messages or changed tickets wait past the marks. A read: the index file's
/// write lock is taken only when there is work.
pub(super) async fn pending(db: &Db) -> Result<bool, StoreError> {
    let Db::Sqlite(pool) = db else {
        return Ok(false);
    };
    let waiting: bool = sqlx::query_scalar(concat!(
        "SELECT (SELECT coalesce(max(id), 0) FROM tickets) > ",
        mark!("subjects"),
        " OR (SELECT coalesce(max(id), 0) FROM ticket_transactions) > ",
        mark!("bodies"),
        " OR (SELECT coalesce(max(seq), 0) FROM ticket_fts_changed) > ",
        mark!("changed")
    ))
    .fetch_one(&**pool)
    .await?;
    Ok(waiting)
}

/// Rows written past each mark: (tickets not yet in the subject index, messages not yet in
/// the body index), counted by id (ids are dense: rows are never deleted). None on PostgreSQL.
pub(super) async fn lag(db: &Db) -> Result<Option<(i64, i64)>, StoreError> {
    let Db::Sqlite(pool) = db else {
        return Ok(None);
    };
    let lag: (i64, i64) = sqlx::query_as(concat!(
        "SELECT (SELECT coalesce(max(id), 0) FROM tickets) - ",
        mark!("subjects"),
        ", (SELECT coalesce(max(id), 0) FROM ticket_transactions) - ",
        mark!("bodies")
    ))
    .fetch_one(&**pool)
    .await?;
    Ok(Some(lag))
}

/// What trails the writes, each with its mark in `search.ticket_fts_marks`.
#[derive(Debug, Clone, Copy)]
enum Backlog {
    /// New tickets, by id, into `tickets_fts` (one row per ticket).
    Subjects,
    /// New messages, by id, into `ticket_text_fts` (one document per ticket built from its
    /// message bodies).
    Bodies,
    /// Tickets whose subject changed or whose messages moved (a merge) after they were
    /// indexed, by sequence number in `ticket_fts_changed` (migration 0020).
    Changed,
}

impl Backlog {
    fn mark(self) -> &'static str {
        match self {
            Backlog::Subjects => "subjects",
            Backlog::Bodies => "bodies",
            Backlog::Changed => "changed",
        }
    }

    /// (mark, last id or sequence number the next pass takes, at most `$1` entries on), the
    /// latter NULL when nothing waits.
    fn next_range_sql(self) -> String {
        let (key, table, mark) = match self {
            Backlog::Subjects => ("id", "tickets", SUBJECTS_MARK),
            Backlog::Bodies => ("id", "ticket_transactions", BODIES_MARK),
            Backlog::Changed => ("seq", "ticket_fts_changed", CHANGED_MARK),
        };
        format!(
            "SELECT {mark}, (SELECT max({key}) FROM (SELECT {key} FROM {table} \
               WHERE {key} > {mark} ORDER BY {key} LIMIT $1))"
        )
    }
}

/// A ticket's document: all its message bodies, joined with a line no search text crosses
/// (migration 0004).
const DOCUMENTS: &str = "INSERT INTO search.ticket_text_fts (rowid, body) \
     SELECT ticket_id, group_concat(body, char(10, 30, 10)) FROM ticket_transactions \
     WHERE body IS NOT NULL AND ticket_id IN";

/// Indexes the next batch of changed tickets, of subjects and of message bodies, and moves
/// the marks, in one transaction of the index file (so a crash leaves the index and its marks
/// in step). Answers how many subjects and documents it wrote; 0 when the indexes are
/// complete. `rows` bounds the entries of each backlog it takes.
pub(super) async fn index_batch(db: &Db, rows: i64) -> Result<u64, StoreError> {
    let Db::Sqlite(pool) = db else {
        return Ok(0);
    };
    let mut tx = pool.begin().await?;
    let conn: &mut SqliteConnection = &mut tx;
    // The first statement writes, so the transaction takes the index file's write lock before
    // it reads anything (waiting in busy_timeout if another process holds it): a transaction
    // that read first could not upgrade once another writer had committed.
    sqlx::query("UPDATE search.ticket_fts_marks SET indexed_to = indexed_to")
        .execute(&mut *conn)
        .await?;
    let mut written = 0;

    // Changed tickets first, against the marks before this batch moves them: a ticket past
    // the subject mark is indexed with the subject it has then, and so is left alone here.
    if let Some((from, to)) = next_range(conn, Backlog::Changed, rows).await? {
        let changed = "(SELECT ticket_id FROM ticket_fts_changed WHERE seq > $1 AND seq <= $2)";
        let subjects = format!(
            "INSERT INTO search.tickets_fts (rowid, subject) SELECT id, subject FROM tickets \
             WHERE id IN {changed} AND id <= {SUBJECTS_MARK}"
        );
        for (sql, counts) in [
            (
                format!("DELETE FROM search.tickets_fts WHERE rowid IN {changed}"),
                false,
            ),
            (subjects, true),
            (
                format!("DELETE FROM search.ticket_text_fts WHERE rowid IN {changed}"),
                false,
            ),
            (
                format!("{DOCUMENTS} {changed} GROUP BY ticket_id HAVING min(id) <= {BODIES_MARK}"),
                true,
            ),
        ] {
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(from)
                .bind(to)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if counts {
                written += done;
            }
        }
        mark(conn, Backlog::Changed, to).await?;
    }

    if let Some((from, to)) = next_range(conn, Backlog::Subjects, rows).await? {
        written += sqlx::query(
            "INSERT INTO search.tickets_fts (rowid, subject) \
             SELECT id, subject FROM tickets WHERE id > $1 AND id <= $2",
        )
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        mark(conn, Backlog::Subjects, to).await?;
    }

    if let Some((from, to)) = next_range(conn, Backlog::Bodies, rows).await? {
        // The tickets that got a message are rebuilt whole, each once however many messages
        // it got.
        let got = "(SELECT ticket_id FROM ticket_transactions \
                   WHERE id > $1 AND id <= $2 AND body IS NOT NULL)";
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM search.ticket_text_fts WHERE rowid IN {got}"
        )))
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await?;
        written += sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DOCUMENTS} {got} GROUP BY ticket_id"
        )))
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        mark(conn, Backlog::Bodies, to).await?;
    }
    tx.commit().await?;
    Ok(written)
}

async fn next_range(
    conn: &mut SqliteConnection,
    backlog: Backlog,
    rows: i64,
) -> Result<Option<(i64, i64)>, StoreError> {
    let (from, to): (i64, Option<i64>) =
        sqlx::query_as(sqlx::AssertSqlSafe(backlog.next_range_sql()))
            .bind(rows)
            .fetch_one(&mut *conn)
            .await?;
    Ok(to.map(|to| (from, to)))
}

async fn mark(conn: &mut SqliteConnection, backlog: Backlog, to: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE search.ticket_fts_marks SET indexed_to = $2 WHERE name = $1")
        .bind(backlog.mark())
        .bind(to)
        .execute(conn)
        .await?;
    Ok(())
}

/// After a pass: deletes the changed-ticket entries the index has taken in from the main file
/// (a short write in the writer turn, only when there are any), and copies the index file's
/// WAL back into it (PASSIVE: it waits for no reader). The main file's WAL has a task of its
/// own (src/db/checkpoint.rs); this file is written by the index task alone, so the task
/// checkpoints it itself.
pub(super) async fn settle(db: &Db) -> Result<(), StoreError> {
    let Db::Sqlite(pool) = db else {
        return Ok(());
    };
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT m.indexed_to FROM search.ticket_fts_marks m WHERE m.name = 'changed' \
         AND EXISTS (SELECT 1 FROM ticket_fts_changed WHERE seq <= m.indexed_to)",
    )
    .fetch_optional(&**pool)
    .await?;
    if let Some(taken) = taken {
        let mut w = pool.write_conn().await?;
        sqlx::query("DELETE FROM ticket_fts_changed WHERE seq <= $1")
            .bind(taken)
            .execute(&mut *w)
            .await?;
    }
    sqlx::query("PRAGMA search.wal_checkpoint(PASSIVE)")
        .execute(&**pool)
        .await?;
    Ok(())
}
