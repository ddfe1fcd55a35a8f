//! The SQLite full-text backlog (migration 0011): the one place that moves tickets and
//! messages into the FTS5 indexes and the marks of how far that got. PostgreSQL has no
//! backlog: its trigram GIN indexes are kept by the writing statement.

use sqlx::SqliteConnection;

use crate::db::{Db, StoreError, Tx};

/// Whether tickets or messages wait past the marks. A read on the pool: the writer turn is
/// taken only when there is work.
pub(super) async fn pending(db: &Db) -> Result<bool, StoreError> {
    let Db::Sqlite(pool) = db else {
        return Ok(false);
    };
    let waiting: bool = sqlx::query_scalar(
        "SELECT (SELECT coalesce(max(id), 0) FROM tickets) \
                  > (SELECT indexed_to FROM ticket_fts_backlog WHERE name = 'subjects') \
             OR (SELECT coalesce(max(id), 0) FROM ticket_transactions) \
                  > (SELECT indexed_to FROM ticket_fts_backlog WHERE name = 'bodies')",
    )
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
    let lag: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT coalesce(max(id), 0) FROM tickets) \
                  - (SELECT indexed_to FROM ticket_fts_backlog WHERE name = 'subjects'), \
                (SELECT coalesce(max(id), 0) FROM ticket_transactions) \
                  - (SELECT indexed_to FROM ticket_fts_backlog WHERE name = 'bodies')",
    )
    .fetch_one(&**pool)
    .await?;
    Ok(Some(lag))
}

/// The two indexes that trail the writes, each with its mark in `ticket_fts_backlog`.
#[derive(Debug, Clone, Copy)]
enum Index {
    /// `tickets_fts`, one row per ticket.
    Subjects,
    /// `ticket_text_fts`, one document per ticket built from its message bodies.
    Bodies,
}

impl Index {
    fn mark(self) -> &'static str {
        match self {
            Index::Subjects => "subjects",
            Index::Bodies => "bodies",
        }
    }

    /// (mark, last id the next pass takes), the latter NULL when nothing waits.
    fn next_range_sql(self) -> &'static str {
        match self {
            Index::Subjects => {
                "SELECT b.indexed_to, (SELECT max(id) FROM (SELECT id FROM tickets \
                   WHERE id > b.indexed_to ORDER BY id LIMIT $2)) \
                 FROM ticket_fts_backlog b WHERE b.name = $1"
            }
            Index::Bodies => {
                "SELECT b.indexed_to, (SELECT max(id) FROM (SELECT id FROM ticket_transactions \
                   WHERE id > b.indexed_to ORDER BY id LIMIT $2)) \
                 FROM ticket_fts_backlog b WHERE b.name = $1"
            }
        }
    }
}

/// Indexes the next batch of subjects and of message bodies and moves both marks, in the
/// caller's write transaction (so a crash leaves the index and its marks in step). Answers
/// how many subjects and documents it wrote; 0 when the indexes are complete. `rows` bounds
/// the tickets and the messages it takes (the caller fits it to how long a batch may hold the
/// writer turn).
pub(super) async fn index_batch(tx: &mut Tx, rows: i64) -> Result<u64, StoreError> {
    let Tx::Sqlite(t) = tx else {
        return Ok(0);
    };
    let conn: &mut SqliteConnection = &mut t.tx;
    let mut written = 0;

    if let Some((from, to)) = next_range(conn, Index::Subjects, rows).await? {
        written += sqlx::query(
            "INSERT INTO tickets_fts (rowid, subject) \
             SELECT id, subject FROM tickets WHERE id > $1 AND id <= $2",
        )
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        mark(conn, Index::Subjects, to).await?;
    }

    if let Some((from, to)) = next_range(conn, Index::Bodies, rows).await? {
        // A ticket's document holds all its bodies (migration 0004): the tickets that got a
        // message are rebuilt whole, each once however many messages it got.
        sqlx::query(
            "DELETE FROM ticket_text_fts WHERE rowid IN \
             (SELECT ticket_id FROM ticket_transactions \
              WHERE id > $1 AND id <= $2 AND body IS NOT NULL)",
        )
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await?;
        written += sqlx::query(
            "INSERT INTO ticket_text_fts (rowid, body) \
             SELECT ticket_id, group_concat(body, char(10, 30, 10)) FROM ticket_transactions \
             WHERE body IS NOT NULL AND ticket_id IN \
               (SELECT ticket_id FROM ticket_transactions \
                WHERE id > $1 AND id <= $2 AND body IS NOT NULL) \
             GROUP BY ticket_id",
        )
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        mark(conn, Index::Bodies, to).await?;
    }
    Ok(written)
}

async fn next_range(
    conn: &mut SqliteConnection,
    index: Index,
    rows: i64,
) -> Result<Option<(i64, i64)>, StoreError> {
    let (from, to): (i64, Option<i64>) = sqlx::query_as(index.next_range_sql())
        .bind(index.mark())
        .bind(rows)
        .fetch_one(&mut *conn)
        .await?;
    Ok(to.map(|to| (from, to)))
}

async fn mark(conn: &mut SqliteConnection, index: Index, to: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE ticket_fts_backlog SET indexed_to = $2 WHERE name = $1")
        .bind(index.mark())
        .bind(to)
        .execute(conn)
        .await?;
    Ok(())
}
