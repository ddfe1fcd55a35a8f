//! Raw deliveries: kept, matched for retries, listed and purged.

use jiff::Timestamp;

use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

/// The answer given to an earlier delivery of the same bytes since `since`, if there was one.
pub(crate) async fn earlier_delivery(
    tx: &mut Tx,
    source: &str,
    digest: &str,
    since: Timestamp,
) -> Result<Option<String>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "SELECT tickets FROM alert_payloads WHERE source = $1 AND digest = $2 \
             AND received_at >= $3 AND outcome = 'applied' ORDER BY id DESC LIMIT 1",
        )
        .bind(source)
        .bind(digest)
        .bind(Ts(since))
        .fetch_optional(c)
        .await?
    }))
}

pub(crate) struct NewPayload<'a> {
    pub source: &'a str,
    pub digest: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    pub tickets: &'a str,
}

pub(crate) async fn insert_payload(
    tx: &mut Tx,
    p: &NewPayload<'_>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO alert_payloads (source, received_at, digest, content_type, body, \
             outcome, error, tickets) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(p.source)
        .bind(Ts(now))
        .bind(p.digest)
        .bind(p.content_type)
        .bind(p.body)
        .bind(p.outcome)
        .bind(p.error)
        .bind(p.tickets)
        .fetch_one(c)
        .await?
    }))
}

/// Deletes up to `limit` deliveries of `source` received before `before`.
pub(crate) async fn purge_payloads(
    tx: &mut Tx,
    source: &str,
    before: Timestamp,
    limit: i64,
) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query(
            "DELETE FROM alert_payloads WHERE id IN (SELECT id FROM alert_payloads \
             WHERE received_at < $2 AND source = $1 ORDER BY received_at LIMIT $3)",
        )
        .bind(source)
        .bind(Ts(before))
        .bind(limit)
        .execute(c)
        .await?
        .rows_affected()
    }))
}

/// Sources that ever applied a delivery (configured or not any more), for the purge; a
/// DISTINCT over the deliveries themselves would read all of them.
pub(crate) async fn payload_sources(tx: &mut Tx) -> Result<Vec<String>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar("SELECT name FROM alert_sources")
            .fetch_all(c)
            .await?
    }))
}

/// One kept delivery, without its bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayloadRow {
    pub id: i64,
    pub source: String,
    pub received_at: Ts,
    pub content_type: String,
    pub outcome: String,
    pub error: Option<String>,
    pub tickets: String,
    pub size: i64,
}

/// The latest deliveries, newest first; only those with `outcome` when given.
pub(crate) async fn payloads(
    tx: &mut Tx,
    outcome: Option<&str>,
    limit: i64,
) -> Result<Vec<PayloadRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT id, source, received_at, content_type, outcome, error, tickets, \
             CAST(LENGTH(body) AS BIGINT) AS size FROM alert_payloads \
             WHERE ($1 IS NULL OR outcome = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(outcome)
        .bind(limit)
        .fetch_all(c)
        .await?
    }))
}

/// The bytes of delivery `id`, as received.
pub(crate) async fn payload_body(tx: &mut Tx, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar("SELECT body FROM alert_payloads WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?
    }))
}
