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

/// Live pages for which `matches` (over `$1`) holds, visible to the reader (`$2` = 1: public
/// only), most recently changed first, at most `$3`.
fn newest_where(matches: &str) -> String {
    format!(
        "SELECT {PAGE_COLS} FROM wiki_pages WHERE {matches} \
         AND deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
         ORDER BY updated_at DESC LIMIT $3"
    )
}

/// Title or body holds the `$1` pattern, tested page by page (SQLite's LIKE folds ASCII case).
const LIKE_SQLITE: &str = "(title LIKE $1 ESCAPE '\\' OR body LIKE $1 ESCAPE '\\')";
/// The trigram index holds the `$1` phrase.
const IN_INDEX: &str = "id IN (SELECT rowid FROM wiki_fts WHERE wiki_fts MATCH $1)";
/// PostgreSQL: ILIKE, served by the pg_trgm GIN indexes.
const ILIKE_PG: &str = "(title ILIKE $1 OR body ILIKE $1)";

/// Runs [`newest_where`]'s statement with its three binds on `$exec`.
macro_rules! newest {
    ($exec:expr, $matches:expr, $arg:expr, $public_only:expr, $limit:expr) => {
        sqlx::query_as::<_, PageRow>(sqlx::AssertSqlSafe(newest_where($matches)))
            .bind($arg)
            .bind(i64::from($public_only))
            .bind($limit)
            .fetch_all($exec)
            .await
    };
}

/// Live pages whose title or body holds `text` (any case), most recently changed first. SQLite
/// asks its trigram index for texts of 3 characters or more (a phrase, so the trigrams prove the
/// substring) and scans for shorter ones, and walks the pages newest first for a word in many
/// of them; PostgreSQL's ILIKE uses the trigram GIN indexes.
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
    let rows: Vec<PageRow> = match db {
        Db::Sqlite(s) if text.chars().count() >= 3 => {
            // A word in many pages: walk the pages newest first and test each, which stops
            // at the limit, instead of finding every match and ordering them all (209 ms at
            // 10k pages for a word in 98% of them). LIKE folds ASCII case as the index does.
            // Under a budget: if the matches are not among the newest pages after all, the
            // index answers.
            let walked = if text.is_ascii() && common(s, &phrase).await? {
                let mut b = s.budgeted(WALK_BUDGET).await?;
                let r = newest!(b.conn(), LIKE_SQLITE, &like, public_only, limit);
                let r = unless_interrupted(r)?;
                b.release().await;
                r
            } else {
                None
            };
            match walked {
                Some(rows) => rows,
                None => newest!(&**s, IN_INDEX, &phrase, public_only, limit)?,
            }
        }
        Db::Sqlite(s) => newest!(&**s, LIKE_SQLITE, &like, public_only, limit)?,
        Db::Postgres(p) => newest!(p, ILIKE_PG, &like, public_only, limit)?,
    };
    Ok(rows.into_iter().map(|r| r.into_page().1).collect())
}
