//! Wiki search's SQL: the trigram index (FTS5 on SQLite, pg_trgm behind ILIKE on
//! PostgreSQL), or a walk of the pages newest first for a word in many of them (on SQLite when
//! the index says it is common, on PostgreSQL first, under a budget).

use super::{PAGE_COLS, PageRow};
use crate::db::{Db, SqliteDb, StoreError, pg_reader, unless_interrupted};
use crate::on_budget;
use crate::wiki::Page;

/// Pages in the trigram index from which a phrase counts as common: the walk then finds the
/// limit's worth soon.
const COMMON_PAGES: i64 = 200;

/// How long the walk may take before the index answers instead.
const WALK_BUDGET: std::time::Duration = std::time::Duration::from_millis(20);
/// The same on PostgreSQL, whose ILIKE tests a page more slowly: a text in 10% of pages needs
/// about 200 of them (25 ms) to fill a limit of 20. A rare word pays this before its index
/// answers (10 ms).
const PG_WALK_BUDGET: std::time::Duration = std::time::Duration::from_millis(50);

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

/// Pages PostgreSQL's walk looks at, newest first. Its planner will not walk by date on its
/// own (it reads every page and sorts), so the walk is spelled out: the newest pages by the
/// date index, then the test on each until the limit is met.
const PG_WALK_PAGES: i64 = 2000;

/// PostgreSQL's walk: the matches among the `window` newest live pages visible to the reader
/// (all of them for `None`), newest first, at most `$3`. The window's LIMIT, or OFFSET 0
/// without one, keeps the planner from folding the test into the page list, where it would ask
/// the trigram index instead.
fn pg_walk(window: Option<i64>) -> String {
    let fence = match window {
        Some(n) => format!("LIMIT {n}"),
        None => "OFFSET 0".to_owned(),
    };
    format!(
        "SELECT {PAGE_COLS} FROM (SELECT {PAGE_COLS} FROM wiki_pages \
         WHERE deleted_at IS NULL AND ($2 = 0 OR visibility = 'public') \
         ORDER BY updated_at DESC {fence}) p \
         WHERE {ILIKE_PG} ORDER BY updated_at DESC LIMIT $3"
    )
}

/// Runs a statement over wiki pages with the three binds [`newest_where`] and [`pg_walk`]
/// take (`$1` the text, `$2` public only, `$3` the limit) on `$exec`; cached only where
/// [`Db::caches_statements`] says so.
macro_rules! page_rows {
    ($exec:expr, $sql:expr, $arg:expr, $public_only:expr, $limit:expr, $cached:expr) => {
        sqlx::query_as::<_, PageRow>(sqlx::AssertSqlSafe($sql))
            .bind($arg)
            .bind(i64::from($public_only))
            .bind($limit)
            .persistent($cached)
            .fetch_all($exec)
            .await
    };
}

/// The newest pages holding the `like` pattern, tested page by page newest first within the
/// walk's budget: `None` when the budget ran out (the matches are not among the newest pages),
/// or on PostgreSQL when its window held fewer than the limit (older pages may hold more).
async fn walk(
    db: &Db,
    like: &str,
    public_only: bool,
    limit: i64,
) -> Result<Option<Vec<PageRow>>, StoreError> {
    // PostgreSQL's walk looks at a window of the newest pages only (see `pg_walk`).
    let (budget, sql, windowed) = match db {
        Db::Sqlite(_) => (WALK_BUDGET, newest_where(LIKE_SQLITE), false),
        Db::Postgres(_) => (PG_WALK_BUDGET, pg_walk(Some(PG_WALK_PAGES)), true),
    };
    let mut b = db.budgeted(budget).await?;
    let cached = b.caches_statements();
    let r = on_budget!(&mut b, |c| unless_interrupted(page_rows!(
        c,
        sql,
        like,
        public_only,
        limit,
        cached
    ))?);
    b.release().await;
    Ok(r.filter(|rows| !windowed || rows.len() as i64 >= limit))
}

/// Live pages whose title or body holds `text` (any case), most recently changed first. SQLite
/// asks its trigram index for texts of 3 characters or more (a phrase, so the trigrams prove the
/// substring) and scans for shorter ones, and walks the pages newest first for a word in many
/// of them. PostgreSQL walks every page for a text under three characters; for a longer one it
/// walks the newest pages first, then asks its trigram GIN indexes.
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
                walk(db, &like, public_only, limit).await?
            } else {
                None
            };
            match walked {
                Some(rows) => rows,
                None => {
                    let sql = newest_where(IN_INDEX);
                    page_rows!(&**s, sql, &phrase, public_only, limit, true)?
                }
            }
        }
        Db::Sqlite(s) => {
            let sql = newest_where(LIKE_SQLITE);
            page_rows!(&**s, sql, &like, public_only, limit, true)?
        }
        // Under three characters the trigram index cannot help: in the end every page is
        // read either way, so the walk goes through all of them, newest first, with no budget,
        // and stops at the limit. (With the 50 ms budget of longer texts, `L2` in 10% of 10k
        // pages ran out of it in some runs and then paid the full scan as well: 1.4-2.0 s.)
        Db::Postgres(p) if text.chars().count() < 3 => {
            page_rows!(p, pg_walk(None), &like, public_only, limit, false)?
        }
        // The trigram index cannot say how common the text is without finding every match:
        // the walk is tried first (a word in 98% of 10k pages took 1.2 s through the index).
        Db::Postgres(p) => match walk(db, &like, public_only, limit).await? {
            Some(rows) => rows,
            None => {
                // Through the trigram indexes, however the planner prices them: the bodies
                // live out of line (TOAST), so it takes reading every page for a scan of a few
                // hundred blocks, and unpacking 100 MB of text took 1.2–1.6 s where the index
                // answers in 10 ms (10k pages). Only the bitmap scans are left to it.
                let off = [("enable_seqscan", "off"), ("enable_indexscan", "off")];
                let mut tx = pg_reader(p, &off).await?;
                let sql = newest_where(ILIKE_PG);
                let rows = page_rows!(&mut *tx, sql, &like, public_only, limit, false)?;
                tx.commit().await?;
                rows
            }
        },
    };
    Ok(rows.into_iter().map(|r| r.into_page().1).collect())
}
