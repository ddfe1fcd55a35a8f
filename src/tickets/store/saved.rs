use jiff::Timestamp;

use crate::db::{Db, StoreError, Ts};
use crate::{on_pool, on_writer};

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SavedRow {
    pub id: i64,
    pub name: String,
    pub query: String,
    pub sort: String,
}

/// Saves (or replaces, by name) one of a user's searches.
pub(crate) async fn upsert(
    db: &Db,
    user_id: i64,
    name: &str,
    query: &str,
    sort: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_writer!(db, |p| {
        sqlx::query(
        "INSERT INTO saved_searches (user_id, name, query, sort, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query, sort = excluded.sort"
    )
    .bind(user_id)
    .bind(name)
    .bind(query)
    .bind(sort)
    .bind(Ts(now))
    .execute(p)
    .await
    .map(|_| ())?
    });
    Ok(())
}

pub(crate) async fn list(db: &Db, user_id: i64) -> Result<Vec<SavedRow>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT id, name, query, sort FROM saved_searches WHERE user_id = $1 ORDER BY name"
    )
    .bind(user_id)
    .fetch_all(p)
    .await?))
}

/// Deletes one of the user's own searches; answers whether it existed.
pub(crate) async fn delete(db: &Db, user_id: i64, id: i64) -> Result<bool, StoreError> {
    let n = on_writer!(db, |p| sqlx::query(
        "DELETE FROM saved_searches WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user_id)
    .execute(p)
    .await?
    .rows_affected());
    Ok(n > 0)
}
