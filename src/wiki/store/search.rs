//! Wiki search's SQL: the trigram index (FTS5 on SQLite, pg_trgm behind ILIKE on
//! PostgreSQL), or a walk of the pages newest first for a word in many of them (on SQLite when
//! the index says it is common, on PostgreSQL first, under a budget).

use super::{PAGE_COLS, PageRow};
use crate::db::{
    Db, SqliteDb, StoreError, ascii_prefix_range, like_contains, pair_array, pair_code, pg_reader,
    unless_interrupted,
};
use crate::on_budget;
use crate::search::PAGES_WAITING;
use crate::wiki::Page;
use sqlx::PgPool;

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
/// SQLite, a two-character ASCII text (migration 0019): the pages with an indexed trigram
/// beginning with it (`$4` the text in lower case, `$5` the first string past every term that
/// begins with it) or a title or body ending with it, each checked with LIKE (`$1`), so the
/// answer is LIKE's: the index also folds the few non-ASCII letters whose lower case is ASCII
/// (the Kelvin sign).
const PAIR_SQLITE: &str = "id IN (SELECT doc FROM wiki_fts_terms WHERE term >= $4 AND term < $5 \
     UNION ALL SELECT id FROM wiki_pages WHERE lower(substr(title, -2)) = $4 \
     UNION ALL SELECT id FROM wiki_pages WHERE lower(substr(body, -2)) = $4) \
     AND (title LIKE $1 ESCAPE '\\' OR body LIKE $1 ESCAPE '\\')";
/// PostgreSQL: ILIKE, served by the pg_trgm GIN indexes.
const ILIKE_PG: &str = "(title ILIKE $1 OR body ILIKE $1)";

/// PostgreSQL, a two-character text filed under `code` in the pair index (migration 0021):
/// the newest live pages visible to the reader (`$2`, as [`newest_where`]) that the index files
/// under the code or that wait for it, each checked with ILIKE (`$1`), at most `$3`. The
/// candidates are put in order first, fenced off (`OFFSET 0`), and checked newest first until
/// the limit is met: nearly every page the index files under a pair holds it (only case
/// folding and whitespace set them apart), so a pair in 10% of the pages checks about the
/// limit's worth instead of all of them. Left to itself, the planner walked every page newest
/// first and tested each with ILIKE before the lookup (1.16 s for `Zq`, which no page holds).
fn pair_pg(code: i16) -> String {
    let codes = pair_array(&[code]);
    format!(
        "SELECT {PAGE_COLS} FROM (SELECT {PAGE_COLS} FROM wiki_pages WHERE id IN \
         (SELECT page_id FROM wiki_page_pairs WHERE pairs @> '{codes}'::smallint[] \
         UNION ALL {PAGES_WAITING}) AND deleted_at IS NULL \
         AND ($2 = 0 OR visibility = 'public') ORDER BY updated_at DESC OFFSET 0) p \
         WHERE {ILIKE_PG} ORDER BY updated_at DESC LIMIT $3"
    )
}

/// Whether the pair index files at least [`COMMON_PAGES`] pages under `code` (reading no
/// further): then the walk finds the limit's worth soon. The code is spelled in the statement,
/// not bound, and the statement is planned each time: with the array bound, it took 25 ms at
/// 10k pages for a pair no page holds (`Zq`: 26 ms a search, 1.1 ms spelled out), where the
/// index answers in a fraction of a millisecond.
async fn common_pg_pair(db: &PgPool, code: i16) -> Result<bool, StoreError> {
    let codes = pair_array(&[code]);
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM (SELECT 1 FROM wiki_page_pairs \
         WHERE pairs @> '{codes}'::smallint[] LIMIT $1) p"
    )))
    .bind(COMMON_PAGES)
    .persistent(false)
    .fetch_one(db)
    .await?;
    Ok(n >= COMMON_PAGES)
}

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

/// Whether the index holds trigrams beginning with the ASCII `pair` at least
/// [`COMMON_PAGES`] times (reading no further): then the walk finds the limit's worth soon.
async fn common_pair(db: &SqliteDb, pair: &str) -> Result<bool, StoreError> {
    let (lo, hi) = ascii_prefix_range(pair);
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM wiki_fts_terms WHERE term >= $1 AND term < $2 \
         LIMIT $3)",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(COMMON_PAGES)
    .fetch_one(&**db)
    .await?;
    Ok(n >= COMMON_PAGES)
}

/// SQLite: the newest pages holding the two ASCII characters `pair` (`like` its LIKE
/// pattern), found through the index's terms and the ends of titles and bodies, not by reading
/// every page.
async fn pair(
    db: &SqliteDb,
    pair: &str,
    like: &str,
    public_only: bool,
    limit: i64,
) -> Result<Vec<PageRow>, StoreError> {
    let (lo, hi) = ascii_prefix_range(pair);
    let sql = newest_where(PAIR_SQLITE);
    Ok(sqlx::query_as::<_, PageRow>(sqlx::AssertSqlSafe(sql))
        .bind(like)
        .bind(i64::from(public_only))
        .bind(limit)
        .bind(&lo)
        .bind(&hi)
        .fetch_all(&**db)
        .await?)
}

/// Live pages whose title or body holds `text` (any case), most recently changed first. SQLite
/// asks its trigram index for texts of 3 characters or more (a phrase, so the trigrams prove the
/// substring), and walks the pages newest first for a word in many of them; two ASCII
/// characters are found through the index's terms (walked first when they begin many of its
/// trigrams); shorter or other texts are scanned. PostgreSQL finds two characters through
/// its pair index (walked first when it files many pages under them), walks every page for
/// one character or a pair it does not file; for a longer text it walks the newest pages
/// first, then asks its trigram GIN indexes.
pub(in crate::wiki) async fn search(
    db: &Db,
    text: &str,
    public_only: bool,
    limit: i64,
) -> Result<Vec<Page>, StoreError> {
    let like = like_contains(text);
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
        // A common pair fills the limit among the newest pages (within the walk's budget); a
        // rare one is found through the index's terms (`Zq`, in none of 10,000 pages: 42-97
        // ms to read them all).
        Db::Sqlite(s) if text.is_ascii() && text.len() == 2 => {
            let walked = if common_pair(s, text).await? {
                walk(db, &like, public_only, limit).await?
            } else {
                None
            };
            match walked {
                Some(rows) => rows,
                None => pair(s, text, &like, public_only, limit).await?,
            }
        }
        Db::Sqlite(s) => {
            let sql = newest_where(LIKE_SQLITE);
            page_rows!(&**s, sql, &like, public_only, limit, true)?
        }
        // A common pair fills the limit among the newest pages (within the walk's budget); a
        // rare one is found through the pair index (`Zq`, in none of 10,000 pages, used to
        // read every page: 1.1-1.5 s).
        Db::Postgres(p) if let Some(code) = pair_code(text) => {
            let walked = if common_pg_pair(p, code).await? {
                walk(db, &like, public_only, limit).await?
            } else {
                None
            };
            match walked {
                Some(rows) => rows,
                None => page_rows!(p, pair_pg(code), &like, public_only, limit, false)?,
            }
        }
        // One character, or two the pair index does not file (whitespace, non-ASCII): the
        // trigram index cannot help, and in the end every page is read either way, so the
        // walk goes through all of them, newest first, with no budget, and stops at the
        // limit. (With the 50 ms budget of longer texts, `L2` in 10% of 10k pages ran out of
        // it in some runs and then paid the full scan as well: 1.4-2.0 s.)
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

#[cfg(test)]
mod tests {
    use super::{LIKE_SQLITE, PageRow, newest_where, pair};
    use crate::db::like_contains;
    use crate::db::{Db, Tx};

    /// Through the index's terms and the text ends, a two-character text finds what reading
    /// every page with LIKE finds: the pair inside a title or a body, at the very end of
    /// either, in either case; not across title and body, not on deleted pages, not on
    /// internal pages for customers, and not through the index's folding of the Kelvin sign.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_two_character_text_through_the_terms_answers_as_reading_every_page() {
        let (_dir, db) = crate::db::scratch_sqlite().await;
        db.migrate().await.expect("migrate");
        let pages: [(&str, &str, bool); 8] = [
            ("Core L2 switch", "vlan trunk", false),
            ("Uplink", "the port is l2", true),
            ("Router zL", "2 ports", true),
            ("Ends with L2", "nothing here", false),
            ("deleted l2", "gone", false),
            ("Kelvin", "\u{212a}2 sign and k3", true),
            ("IP plan", "ip ip IP", true),
            ("under_2 score", "50% off", true),
        ];
        let mut tx = db.begin().await.expect("begin");
        let Tx::Sqlite(t) = &mut tx else {
            panic!("SQLite")
        };
        for (i, (title, body, public)) in pages.iter().enumerate() {
            let id = i as i64 + 1;
            sqlx::query(
                "INSERT INTO wiki_pages (id, path, title, body, revision, visibility, \
                   deleted_at, created_at, updated_at, updated_by) \
                 VALUES ($1, 'p/' || $1, $2, $3, 1, $4, CASE WHEN $2 LIKE 'deleted%' \
                   THEN 1 END, $1, $1, 'test')",
            )
            .bind(id)
            .bind(title)
            .bind(body)
            .bind(if *public { "public" } else { "internal" })
            .execute(&mut *t.tx)
            .await
            .expect("page");
        }
        tx.commit().await.expect("commit");
        let Db::Sqlite(s) = &db else { panic!("SQLite") };
        let ids = |rows: Vec<PageRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        for text in ["L2", "l2", "k2", "K3", "Zq", "ip", "2 ", "_2", "0%", "Lp"] {
            for public_only in [false, true] {
                let like = like_contains(text);
                let scanned: Vec<PageRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(newest_where(LIKE_SQLITE)))
                        .bind(&like)
                        .bind(i64::from(public_only))
                        .bind(20_i64)
                        .fetch_all(&**s)
                        .await
                        .expect("scan");
                let found = pair(s, text, &like, public_only, 20).await.expect("pair");
                assert_eq!(
                    ids(found),
                    ids(scanned),
                    "{text}, public only: {public_only}"
                );
            }
        }
        let l2 = pair(s, "L2", &like_contains("L2"), false, 20)
            .await
            .expect("L2");
        assert_eq!(
            ids(l2),
            [4, 2, 1],
            "inside, at a body's end, at a title's end"
        );
        let k3 = pair(s, "K3", &like_contains("K3"), true, 20)
            .await
            .expect("K3");
        assert_eq!(ids(k3), [6]);
        let k2 = pair(s, "k2", &like_contains("k2"), false, 20)
            .await
            .expect("k2");
        assert!(k2.is_empty(), "the Kelvin sign is no k to LIKE");
        let limited = pair(s, "ip", &like_contains("ip"), false, 1)
            .await
            .expect("ip");
        assert_eq!(ids(limited), [7], "newest first, at most the limit");
    }
}
