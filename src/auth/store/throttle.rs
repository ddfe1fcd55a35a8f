use jiff::Timestamp;

use crate::db::{Db, StoreError, Ts, Tx};
use crate::{on_pool, on_tx, on_writer};

pub(crate) async fn record(
    db: &Db,
    username: &str,
    client_ip: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_writer!(db, |p| sqlx::query(
        "INSERT INTO login_failures (username, client_ip, at) VALUES ($1, $2, $3)"
    )
    .bind(username)
    .bind(client_ip)
    .bind(Ts(now))
    .execute(p)
    .await
    .map(|_| ())?);
    Ok(())
}

/// (failures since `since`, the oldest of them) for a username.
pub(crate) async fn for_username(
    db: &Db,
    username: &str,
    since: Timestamp,
) -> Result<(i64, Option<Ts>), StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM login_failures WHERE username = $1 AND at > $2"
    )
    .bind(username)
    .bind(Ts(since))
    .fetch_one(p)
    .await?))
}

/// (failures since `since`, the oldest of them) for a client address.
pub(crate) async fn for_address(
    db: &Db,
    client_ip: &str,
    since: Timestamp,
) -> Result<(i64, Option<Ts>), StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM login_failures WHERE client_ip = $1 AND at > $2"
    )
    .bind(client_ip)
    .bind(Ts(since))
    .fetch_one(p)
    .await?))
}

/// A good sign-in wipes the user's failures: the owner is not locked out by earlier typos.
pub(crate) async fn clear_username(db: &Db, username: &str) -> Result<(), StoreError> {
    on_writer!(db, |p| sqlx::query(
        "DELETE FROM login_failures WHERE username = $1"
    )
    .bind(username)
    .execute(p)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn purge_before(tx: &mut Tx, before: Timestamp) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query(
        "DELETE FROM login_failures WHERE at <= $1"
    )
    .bind(Ts(before))
    .execute(c)
    .await?
    .rows_affected()))
}
