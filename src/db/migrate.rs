//! Migrations: the same numbered files in `migrations/sqlite` and `migrations/postgres`,
//! embedded in the binary so `opsdesk migrate` needs nothing beside it.

use sqlx::migrate::Migrator;

use super::{Db, StoreError};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

pub(super) async fn run(db: &Db) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(p) => {
            SQLITE.run(p.writer_pool()).await?;
            super::search_file::prepare(&mut *p.acquire().await?).await?;
            super::statistics::refresh(p, &p.writer).await?;
        }
        Db::Postgres(p) => POSTGRES.run(p).await?,
    }
    Ok(())
}
