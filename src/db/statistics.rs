//! The SQLite query planner's statistics (`sqlite_stat1`/`sqlite_stat4`). Without them it
//! guesses how many rows an index condition selects, and a guess is how a list of one queue in
//! the last 7 days came to walk the whole queue (60 ms at 1M tickets) instead of the last 7
//! days (1 ms): an index created by a migration had none. A database the app grew itself
//! would have none at all, since nothing else runs ANALYZE.
//!
//! So, as SQLite advises for long-lived connections, `PRAGMA optimize` decides once the
//! migrations are done, and then every hour, which tables need analysing: one never
//! analysed, one with an index that has no statistics, one whose size changed some 10-fold
//! since (of those with at least [`MIN_ROWS`] rows). Each such table is analysed whole (a sample, `analysis_limit`, reads an index's
//! first rows only: a queue index then looked like 1,000 tickets per queue, not 50,000, and
//! the plan above came back), one table per writer turn, so writes wait for one table's
//! analysis at most (about 3 s for 1M tickets), and only when its size has changed that much.
//! Between two looks the planner keeps the statistics it has.

use std::time::{Duration, Instant};

use sqlx::SqlitePool;
use tokio::sync::Mutex;

/// How often the statistics are looked at again (a look that finds nothing to do reads a few
/// pages).
pub(super) const EVERY: Duration = Duration::from_secs(3600);

/// Tables smaller than this are left without statistics. Statistics of a small table are worse
/// than none once it has grown: analysed empty right after the first migration, the tables
/// told the planner they held nothing, and a bulk load of a million tickets then took a plan
/// fit for none (the bench's full-text build ran over ten minutes instead of one). Without
/// statistics the planner assumes big tables, and for a small one any plan is quick.
const MIN_ROWS: i64 = 10_000;

/// Which tables of the main file need analysing, on all tables (0x10000), as statements,
/// without running them (0x01): `ANALYZE "main"."tickets"`. Not the full-text index file
/// (search_file.rs): FTS5 reads its own tables by key only, so statistics would not change a
/// plan there.
const WHAT_NEEDS_ANALYSIS: &str = "PRAGMA main.optimize = 0x10003";

/// Analyses each table that needs it, one writer turn each (`writer`: the pool's turn), all
/// on one connection, which then makes the others read the new statistics (see [`RELOAD`]).
pub(super) async fn refresh(pool: &SqlitePool, writer: &Mutex<()>) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let statements: Vec<String> = sqlx::query_scalar(WHAT_NEEDS_ANALYSIS)
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
    let mut analysed = false;
    for sql in statements {
        // Only what SQLite itself proposed: `ANALYZE "schema"."table"`, the name quoted.
        let Some(table) = sql.strip_prefix("ANALYZE ") else {
            continue;
        };
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {MIN_ROWS})"
        )))
        .fetch_one(&mut *conn)
        .await?;
        if rows < MIN_ROWS {
            continue;
        }
        let started = Instant::now();
        let turn = writer.lock().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut *conn)
            .await?;
        drop(turn);
        tracing::info!(
            statement = %sql,
            ms = started.elapsed().as_millis() as u64,
            "refreshed the query planner's statistics"
        );
        analysed = true;
    }
    if analysed {
        let _turn = writer.lock().await;
        sqlx::raw_sql(RELOAD).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A connection reads the statistics into memory with the schema, and reads the schema again
/// only when another connection changed it, which ANALYZE does not do: the pool's other
/// connections kept planning with the statistics they opened with (none, after a migration).
/// A table made and dropped is a schema change, so each of them reloads schema and
/// statistics before its next statement; this connection, which made the change, reloads its
/// own statistics with `ANALYZE sqlite_schema`.
const RELOAD: &str = "BEGIN IMMEDIATE; CREATE TABLE opsdesk_statistics_reload (x); \
                      DROP TABLE opsdesk_statistics_reload; COMMIT; ANALYZE sqlite_schema;";

#[cfg(test)]
mod tests {
    use crate::db::Db;

    /// A table that was never analysed gets statistics for every index, and an index added
    /// later gets its own at the next refresh (the table is analysed whole again).
    #[tokio::test]
    async fn every_index_gets_statistics_and_a_new_index_too() {
        let (_dir, db) = crate::db::scratch_sqlite().await;
        let Db::Sqlite(p) = &db else { unreachable!() };
        sqlx::raw_sql(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, at INTEGER NOT NULL); \
             CREATE INDEX items_kind_idx ON items (kind, at); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
             INSERT INTO items (kind, at) SELECT 'k' || (i % 20), i FROM n;",
        )
        .execute(&p.pool)
        .await
        .unwrap();
        let stats = |idx: &'static str| async move {
            sqlx::query_scalar::<_, String>("SELECT stat FROM sqlite_stat1 WHERE idx = $1")
                .bind(idx)
                .fetch_optional(&p.pool)
                .await
                .unwrap()
        };
        super::refresh(p, &p.writer).await.unwrap();
        // 20,000 rows, 1,000 per kind: the whole index was read, not a sample of its start.
        assert_eq!(
            stats("items_kind_idx").await.as_deref(),
            Some("20000 1000 1")
        );
        sqlx::raw_sql("CREATE INDEX items_at_idx ON items (at)")
            .execute(&p.pool)
            .await
            .unwrap();
        assert_eq!(stats("items_at_idx").await, None);
        super::refresh(p, &p.writer).await.unwrap();
        assert_eq!(stats("items_at_idx").await.as_deref(), Some("20000 1"));
        // Nothing left to do, as every connection of the pool now sees it.
        let mut conns = Vec::new();
        for _ in 0..4 {
            conns.push(p.pool.acquire().await.unwrap());
        }
        for c in &mut conns {
            let left: Vec<String> = sqlx::query_scalar(super::WHAT_NEEDS_ANALYSIS)
                .persistent(false)
                .fetch_all(&mut **c)
                .await
                .unwrap();
            assert_eq!(left, Vec::<String>::new());
        }
    }

    /// A small table gets no statistics: they would tell the planner it is small long after
    /// it has grown.
    #[tokio::test]
    async fn small_tables_are_left_without_statistics() {
        let (_dir, db) = crate::db::scratch_sqlite().await;
        db.migrate().await.unwrap();
        let Db::Sqlite(p) = &db else { unreachable!() };
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_stat1")
            .fetch_one(&**p)
            .await
            .unwrap_or(0);
        assert_eq!(n, 0, "an empty database is not analysed");
    }
}
