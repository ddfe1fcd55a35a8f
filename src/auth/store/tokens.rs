use jiff::Timestamp;

use crate::db::{Db, StoreError, Ts, Tx};
use crate::{on_pool, on_tx, on_writer};

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub token_hash: String,
    pub user_id: Option<i64>,
    pub last_used_at: Option<Ts>,
}

pub(crate) async fn insert(
    tx: &mut Tx,
    name: &str,
    scope: &str,
    token_hash: &str,
    user_id: Option<i64>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO api_tokens (name, scope, token_hash, user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(name)
    .bind(scope)
    .bind(token_hash)
    .bind(user_id)
    .bind(Ts(now))
    .fetch_one(c)
    .await?))
}

/// The live (not revoked) token with this hash.
pub(crate) async fn by_hash(db: &Db, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT id, name, scope, token_hash, user_id, last_used_at FROM api_tokens \
         WHERE token_hash = $1 AND revoked_at IS NULL"
    )
    .bind(token_hash)
    .fetch_optional(p)
    .await?))
}

pub(crate) async fn touch(db: &Db, id: i64, now: Timestamp) -> Result<(), StoreError> {
    on_writer!(db, |p| sqlx::query(
        "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(Ts(now))
    .execute(p)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn revoke(tx: &mut Tx, name: &str, now: Timestamp) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL"
    )
    .bind(name)
    .bind(Ts(now))
    .execute(c)
    .await?
    .rows_affected());
    Ok(n > 0)
}
