//! Wiki search's SQL: the trigram index (FTS5 on SQLite, pg_trgm behind ILIKE on
//! PostgreSQL), or on SQLite a walk of the pages newest first for a word in many of them.

use super::{PAGE_COLS, PageRow};
use crate::db::{Db, SqliteDb, StoreError, unless_interrupted};
use crate::wiki::Page;

/// Pages in the trigram index from which a phrase counts as common: the walk then finds the
/// limit's worth soon.
const COMMON_PAGES: i64 = 200;

/// How long the walk may take before the index answers instead.
const WALK_BUDGET: std::time::Duration = std::time::Duration::from_millis(20);

/// Whether the index holds `phrase` in at least [`COMMON_PAGES`] pages (reading no further).
async fn common(db: &SqliteDb, phrase: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM wiki_fts WHERE wiki_fts MATCH $1 LIMIT $2)",
    )
    .bind(phrase)
    .bind(COMMON_PAGES)
    .fetch_one(&**db)
    .await?;
    Ok(n >= COMMON_PAGES)
}

/// Live pages whose title or body holds `text` (any case), most recently changed first. SQLite
/// asks its trigram index for texts of 3 characters or more (a phrase, so the trigrams prove the
/// substring) and scans for shorter ones; PostgreSQL's ILIKE uses the trigram GIN indexes.
pub(in crate::wiki) async fn search(
    db: &Db,
    text: &str,
    public_only: bool,
    limit: i64,
) -> Result<Vec<Page>, StoreError> {
    let like = format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let phrase = format!("\"{}\"", text.replace('"', "\"\""));
    if let Db::Sqlite(s) = db
        && text.chars().count() >= 3
        && text.is_ascii()
        && common(s, &phrase).await?
    {
        // A word in many pages: walk the pages newest first and test each, which stops at
        // the limit, instead of finding every match and ordering them all (209 ms at 10k
        // pages for a word in 98% of them). LIKE folds ASCII case as the index does. Under a
        // budget: if the matches are not among the newest pages after all, the index answers.
        let mut b = s.budgeted(WALK_BUDGET).await?;
        let sql = format!(
            "SELECT {PAGE_COLS} FROM wiki_pages \
             WHERE (title LIKE $1 ESCAPE '\\' OR body LIKE $1 ESCAPE '\\') \
             AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
             ORDER BY updated_at DESC LIMIT $3"
        );
        let walked: Result<Vec<PageRow>, sqlx::Error> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&like)
            .bind(i64::from(public_only))
            .bind(limit)
            .fetch_all(b.conn())
            .await;
        let walked = unless_interrupted(walked)?;
        b.release().await;
        if let Some(rows) = walked {
            return Ok(rows.into_iter().map(|r| r.into_page().1).collect());
        }
    }
    let rows: Vec<PageRow> = match db {
        Db::Sqlite(db) if text.chars().count() >= 3 => {
            let p: &sqlx::SqlitePool = db;
            let sql = format!(
                "SELECT {PAGE_COLS} FROM wiki_pages WHERE id IN \
                 (SELECT rowid FROM wiki_fts WHERE wiki_fts MATCH $1) \
                 AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
                 ORDER BY updated_at DESC LIMIT $3"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&phrase)
                .bind(i64::from(public_only))
                .bind(limit)
                .fetch_all(p)
                .await?
        }
        Db::Sqlite(db) => {
            let p: &sqlx::SqlitePool = db;
            let sql = format!(
                "SELECT {PAGE_COLS} FROM wiki_pages \
                 WHERE (title LIKE $1 ESCAPE '\\' OR body LIKE $1 ESCAPE '\\') \
                 AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
                 ORDER BY updated_at DESC LIMIT $3"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&like)
                .bind(i64::from(public_only))
                .bind(limit)
                .fetch_all(p)
                .await?
        }
        Db::Postgres(p) => {
            let sql = format!(
                "SELECT {PAGE_COLS} FROM wiki_pages WHERE (title ILIKE $1 OR body ILIKE $1) \
                 AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
                 ORDER BY updated_at DESC LIMIT $3"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&like)
                .bind(i64::from(public_only))
                .bind(limit)
                .fetch_all(p)
                .await?
        }
    };
    Ok(rows.into_iter().map(|r| r.into_page().1).collect())
}
