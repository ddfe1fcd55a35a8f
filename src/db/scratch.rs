//! Databases for unit tests.

use super::{DatabaseUrl, Db, PoolOptions};

/// A SQLite database of its own in a new temporary directory, not migrated, for unit tests;
/// the directory goes when the first value is dropped.
pub(crate) async fn scratch_sqlite() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .expect("url");
    let db = Db::connect(&url, PoolOptions::default())
        .await
        .expect("connect");
    (dir, db)
}
