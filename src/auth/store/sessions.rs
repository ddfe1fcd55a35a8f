use jiff::Timestamp;

use crate::db::{Db, StoreError, Ts, Tx};
use crate::{on_pool, on_tx, on_writer};

/// A stored session; `id_hash` is the SHA-256 of the cookie value, so a copy of the database
/// does not hand out live sessions.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id_hash: String,
    pub user_id: Option<i64>,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: Ts,
    pub last_seen_at: Ts,
    pub idle_until: Ts,
    pub absolute_until: Ts,
}

pub(crate) async fn insert(db: &Db, s: &SessionRow) -> Result<(), StoreError> {
    on_writer!(db, |p| sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, flash, client_ip, user_agent, \
         created_at, last_seen_at, idle_until, absolute_until) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )
    .bind(&s.id_hash)
    .bind(s.user_id)
    .bind(&s.csrf_token)
    .bind(&s.flash)
    .bind(&s.client_ip)
    .bind(&s.user_agent)
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.idle_until)
    .bind(s.absolute_until)
    .execute(p)
    .await
    .map(|_| ())?);
    Ok(())
}

/// The session, if it exists and neither its idle nor its absolute limit has passed.
pub(crate) async fn live(
    db: &Db,
    id_hash: &str,
    now: Timestamp,
) -> Result<Option<SessionRow>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT id_hash, user_id, csrf_token, flash, client_ip, user_agent, created_at, \
         last_seen_at, idle_until, absolute_until FROM sessions \
         WHERE id_hash = $1 AND idle_until > $2 AND absolute_until > $2"
    )
    .bind(id_hash)
    .bind(Ts(now))
    .fetch_optional(p)
    .await?))
}

pub(crate) async fn touch(
    db: &Db,
    id_hash: &str,
    now: Timestamp,
    idle_until: Timestamp,
) -> Result<(), StoreError> {
    on_writer!(db, |p| sqlx::query(
        "UPDATE sessions SET last_seen_at = $2, idle_until = $3 WHERE id_hash = $1"
    )
    .bind(id_hash)
    .bind(Ts(now))
    .bind(Ts(idle_until))
    .execute(p)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn set_flash(
    db: &Db,
    id_hash: &str,
    flash: Option<&str>,
) -> Result<(), StoreError> {
    on_writer!(db, |p| sqlx::query(
        "UPDATE sessions SET flash = $2 WHERE id_hash = $1"
    )
    .bind(id_hash)
    .bind(flash)
    .execute(p)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn delete(db: &Db, id_hash: &str) -> Result<(), StoreError> {
    on_writer!(db, |p| sqlx::query(
        "DELETE FROM sessions WHERE id_hash = $1"
    )
    .bind(id_hash)
    .execute(p)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn purge_expired(tx: &mut Tx, now: Timestamp) -> Result<u64, StoreError> {
    let r = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM sessions WHERE idle_until <= $1 OR absolute_until <= $1"
    )
    .bind(Ts(now))
    .execute(c)
    .await?
    .rows_affected());
    Ok(r)
}
