//! PostgreSQL's pair index (migration 0021): the one place that files ticket subjects, message
//! bodies and wiki pages under their two-character pair codes (src/db/text.rs), behind the
//! writes. A trigger queues each text written in `text_pairs_pending`, in the writing
//! transaction; a pass here takes a batch of the queue, reads the texts, computes their codes
//! and writes them, and deletes the batch, in one transaction. So a search, which reads the
//! queued texts with ILIKE and the others through the index (src/tql/full_text/sets.rs,
//! src/wiki/store/search.rs), sees every committed text in either half and none in both.
//!
//! Several nodes on one database each run the pass: `FOR UPDATE SKIP LOCKED` gives each batch
//! to one of them. A text changed while its batch runs is queued again once the batch commits
//! (the trigger's insert waits on the batch's delete of the same entry), so the next pass
//! files what it says then.

use sqlx::PgConnection;

use crate::db::{Db, StoreError, pair_array, pair_codes};

/// A kind of text the queue holds, as `text_pairs_pending.kind` names it.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A ticket's subject, by ticket id.
    Subject,
    /// A message's body, by message id.
    Body,
    /// A wiki page's title and body, by page id.
    Wiki,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Subject, Kind::Body, Kind::Wiki];

    fn name(self) -> &'static str {
        match self {
            Kind::Subject => "subject",
            Kind::Body => "body",
            Kind::Wiki => "wiki",
        }
    }

    /// The texts of the ids `$1` that still exist. A wiki page's title and body are one text,
    /// joined by a line break: no pair spans whitespace, so none spans the two.
    fn texts_sql(self) -> &'static str {
        match self {
            Kind::Subject => "SELECT id, subject FROM tickets WHERE id = ANY($1)",
            Kind::Body => {
                "SELECT id, body FROM ticket_transactions WHERE id = ANY($1) AND body IS NOT NULL"
            }
            Kind::Wiki => "SELECT id, title || E'\\n' || body FROM wiki_pages WHERE id = ANY($1)",
        }
    }

    /// Files the codes `$2` (array literals) of the ids `$1`, replacing what was filed.
    fn file_sql(self) -> &'static str {
        match self {
            Kind::Subject => {
                "INSERT INTO ticket_subject_pairs (ticket_id, pairs) \
                 SELECT i, p::smallint[] FROM unnest($1::bigint[], $2::text[]) AS u(i, p) \
                 ON CONFLICT (ticket_id) DO UPDATE SET pairs = EXCLUDED.pairs"
            }
            Kind::Body => {
                "INSERT INTO ticket_body_pairs (id, pairs) \
                 SELECT i, p::smallint[] FROM unnest($1::bigint[], $2::text[]) AS u(i, p) \
                 ON CONFLICT (id) DO UPDATE SET pairs = EXCLUDED.pairs"
            }
            Kind::Wiki => {
                "INSERT INTO wiki_page_pairs (page_id, pairs) \
                 SELECT i, p::smallint[] FROM unnest($1::bigint[], $2::text[]) AS u(i, p) \
                 ON CONFLICT (page_id) DO UPDATE SET pairs = EXCLUDED.pairs"
            }
        }
    }
}

/// The texts of `kind` that wait for the pair index, as a set of ids in a query (searches read
/// them with ILIKE instead).
macro_rules! waiting {
    ($kind:literal) => {
        concat!(
            "(SELECT id FROM text_pairs_pending WHERE kind = '",
            $kind,
            "')"
        )
    };
}

/// Ticket subjects waiting for the pair index, by ticket id.
pub(crate) const SUBJECTS_WAITING: &str = waiting!("subject");
/// Message bodies waiting for the pair index, by message id.
pub(crate) const BODIES_WAITING: &str = waiting!("body");
/// Wiki pages waiting for the pair index, by page id.
pub(crate) const PAGES_WAITING: &str = waiting!("wiki");

/// Whether anything waits for the pair index. Always false on SQLite.
pub(super) async fn pending(db: &Db) -> Result<bool, StoreError> {
    let Db::Postgres(pool) = db else {
        return Ok(false);
    };
    let waiting: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM text_pairs_pending)")
        .fetch_one(pool)
        .await?;
    Ok(waiting)
}

/// Texts waiting for the pair index, by kind (`subjects`, `bodies`, `wiki`), for /metrics.
pub(super) async fn lag(db: &Db) -> Result<Vec<(&'static str, i64)>, StoreError> {
    let Db::Postgres(pool) = db else {
        return Ok(Vec::new());
    };
    let (s, b, w): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE kind = 'subject'), count(*) FILTER (WHERE kind = 'body'), \
         count(*) FILTER (WHERE kind = 'wiki') FROM text_pairs_pending",
    )
    .fetch_one(pool)
    .await?;
    Ok(vec![("subjects", s), ("bodies", b), ("wiki", w)])
}

/// Files up to `rows` waiting texts of each kind, in one transaction. Answers how many it
/// filed; 0 when nothing waits (or on SQLite).
pub(super) async fn pair_batch(db: &Db, rows: i64) -> Result<u64, StoreError> {
    let Db::Postgres(pool) = db else {
        return Ok(0);
    };
    let mut tx = pool.begin().await?;
    let mut filed = 0;
    for kind in Kind::ALL {
        filed += file(&mut tx, kind, rows).await?;
    }
    tx.commit().await?;
    Ok(filed)
}

async fn file(conn: &mut PgConnection, kind: Kind, rows: i64) -> Result<u64, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM text_pairs_pending WHERE kind = $1 AND id IN (SELECT id FROM \
         text_pairs_pending WHERE kind = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING id",
    )
    .bind(kind.name())
    .bind(rows)
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    // Gone since it was queued (a deleted row): its pairs went with it (ON DELETE CASCADE).
    let texts: Vec<(i64, String)> = sqlx::query_as(kind.texts_sql())
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
    let (ids, codes): (Vec<i64>, Vec<String>) = texts
        .iter()
        .map(|(id, text)| (*id, pair_array(&pair_codes(text))))
        .unzip();
    Ok(sqlx::query(kind.file_sql())
        .bind(&ids)
        .bind(&codes)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
