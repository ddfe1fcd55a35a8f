//! Storms: their rows, and the counts that start and end them.

use jiff::Timestamp;

use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

/// How many incidents of their own the source's alerts opened since `since` (storm members
/// have none).
pub(crate) async fn opened_since(
    tx: &mut Tx,
    source: &str,
    since: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE source = $1 AND opened_at >= $2")
            .bind(source)
            .bind(Ts(since))
            .fetch_one(c)
            .await?
    }))
}

/// How many alerts on ticket `id` are not resolved.
pub(crate) async fn unresolved_on(tx: &mut Tx, ticket_id: i64) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM alerts WHERE ticket_id = $1 AND state <> 'resolved'",
        )
        .bind(ticket_id)
        .fetch_one(c)
        .await?
    }))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct StormRow {
    pub id: i64,
    pub ticket_id: i64,
    pub started_at: Ts,
    pub last_alert_at: Ts,
    pub ended_at: Option<Ts>,
    pub alerts: i64,
}

pub(crate) async fn storm(tx: &mut Tx, id: i64) -> Result<Option<StormRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT id, ticket_id, started_at, last_alert_at, ended_at, alerts \
             FROM alert_storms WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await?
    }))
}

pub(crate) async fn insert_storm(
    tx: &mut Tx,
    source: &str,
    ticket_id: i64,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO alert_storms (source, ticket_id, started_at, last_alert_at, alerts) \
             VALUES ($1, $2, $3, $3, 0) RETURNING id",
        )
        .bind(source)
        .bind(ticket_id)
        .bind(Ts(now))
        .fetch_one(c)
        .await?
    }))
}

/// One more alert joined storm `id`.
pub(crate) async fn storm_joined(tx: &mut Tx, id: i64, now: Timestamp) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE alert_storms SET alerts = alerts + 1, last_alert_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn end_storm(tx: &mut Tx, id: i64, at: Timestamp) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE alert_storms SET ended_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(Ts(at))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}
