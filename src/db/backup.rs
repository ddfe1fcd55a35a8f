//! `opsdesk backup FILE`: a consistent snapshot of a live SQLite database. `VACUUM INTO` reads
//! inside one transaction, so writers carry on and the copy is a single point in time. The
//! full-text index file (search_file.rs) is not copied: it is derived, and rebuilt beside a
//! restored copy, which gets an owner token of its own so that the live index is never taken
//! for the copy's.

use std::path::Path;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use super::{Db, StoreError};

pub async fn backup_sqlite(db: &Db, target: &Path) -> Result<(), StoreError> {
    let Db::Sqlite(pool) = db else {
        return Err(StoreError::Io {
            what: "backup".into(),
            source: std::io::Error::other(
                "opsdesk backup copies SQLite databases; for PostgreSQL use pg_dump",
            ),
        });
    };
    if target.exists() {
        return Err(StoreError::Io {
            what: format!("writing {}", target.display()),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the file exists; choose a new name",
            ),
        });
    }
    let path = target.to_string_lossy().into_owned();
    sqlx::query("VACUUM INTO $1")
        .bind(path)
        .execute(&**pool)
        .await?;
    let mut copy =
        SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(target)).await?;
    sqlx::query("UPDATE ticket_fts_owner SET token = lower(hex(randomblob(16)))")
        .execute(&mut copy)
        .await?;
    copy.close().await?;
    Ok(())
}
