//! `opsdesk backup FILE`: a consistent snapshot of a live SQLite database. `VACUUM INTO` reads
//! inside one transaction, so writers carry on and the copy is a single point in time.

use std::path::Path;

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
    Ok(())
}
