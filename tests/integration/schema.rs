//! Migrations in lockstep (DESIGN.md §3): the same numbered files in both folders, making the
//! same tables with the same columns. Full-text indexes are the one deliberate difference
//! (on SQLite the FTS5 virtual tables, and the queue of changed tickets and the owner token
//! of their index file, all named `*_fts_*`; on PostgreSQL the pg_trgm GIN indexes, and the
//! pair index of two-character texts with its queue, named `*_pairs` and `text_pairs_*`,
//! migration 0021) and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::helpers::*;

fn files(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

type Schema = BTreeMap<String, BTreeSet<String>>;

async fn sqlite_schema(url: &str) -> Schema {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_sqlx%' AND name NOT LIKE '%_fts' AND name NOT LIKE '%_fts_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = Schema::new();
    for t in tables {
        let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(&t)
            .fetch_all(&pool)
            .await
            .unwrap();
        out.insert(t, cols.into_iter().collect());
    }
    out
}

async fn postgres_schema(url: &str) -> Schema {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' \
         AND table_name NOT LIKE '%\\_pairs' AND table_name NOT LIKE 'text\\_pairs\\_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = Schema::new();
    for (t, c) in rows {
        out.entry(t).or_default().insert(c);
    }
    out
}

#[test]
fn both_migration_folders_hold_the_same_numbered_files() {
    let sqlite = files("migrations/sqlite");
    let postgres = files("migrations/postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn both_backends_end_up_with_the_same_tables_and_columns() {
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", sqlite_dir.path().join("s.db").display());
    let cfg = write_config(sqlite_dir.path(), &sqlite_url, "");
    assert!(cli(&cfg, &["migrate"], None).status.success());
    let s = sqlite_schema(&sqlite_url).await;
    assert!(s.contains_key("users") && s.contains_key("jobs") && s.contains_key("sessions"));
    let db = TestDb::fresh().await;
    if !db.is_postgres() {
        // The SQLite run has no server to compare with; the PostgreSQL run of this suite does.
        return;
    }
    let cfg = write_config(db.dir.path(), &db.url, "");
    assert!(cli(&cfg, &["migrate"], None).status.success());
    assert_eq!(s, postgres_schema(&db.url).await);
}
