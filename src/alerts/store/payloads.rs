//! Raw deliveries: kept, matched for retries, listed and purged.

use std::collections::HashMap;

use jiff::Timestamp;
use sqlx::AssertSqlSafe;

use crate::db::{StoreError, Ts, Tx, value_rows};
use crate::on_tx;

/// The latest applied delivery of each of `digests` since `since`: when it came and the
/// tickets it answered. The list is padded to a power of two (a digest repeated), so the
/// writer's statement cache holds a handful of shapes, not one per batch size.
pub(crate) async fn earlier_deliveries(
    tx: &mut Tx,
    source: &str,
    digests: &[&str],
    since: Timestamp,
) -> Result<HashMap<String, (Timestamp, String)>, StoreError> {
    let Some(last) = digests.last() else {
        return Ok(HashMap::new());
    };
    let width = digests.len().next_power_of_two();
    let marks = value_rows(1, width, 3);
    let sql = AssertSqlSafe(format!(
        "SELECT digest, received_at, tickets FROM alert_payloads WHERE source = $1 \
         AND received_at >= $2 AND outcome = 'applied' AND digest IN {marks} ORDER BY id"
    ));
    let rows: Vec<(String, Ts, String)> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sql).bind(source).bind(Ts(since));
        for i in 0..width {
            q = q.bind(digests.get(i).unwrap_or(last).to_string());
        }
        q.fetch_all(c).await?
    });
    // Ordered by id: the latest of each digest is the one kept.
    Ok(rows
        .into_iter()
        .map(|(d, at, tickets)| (d, (at.0, tickets)))
        .collect())
}

pub(crate) struct NewPayload<'a> {
    pub source: &'a str,
    pub received_at: Timestamp,
    pub digest: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    pub tickets: String,
}

/// Rows per INSERT at most; a batch goes in chunks of 16, 8, 4, 2 and 1 (a few statement
/// shapes for the writer's cache).
const CHUNK: usize = 16;

/// Stores deliveries, several rows per statement.
pub(crate) async fn insert_payloads(
    tx: &mut Tx,
    rows: &[NewPayload<'_>],
) -> Result<(), StoreError> {
    let mut rest = rows;
    while !rest.is_empty() {
        let n = if rest.len() >= CHUNK {
            CHUNK
        } else {
            1 << rest.len().ilog2()
        };
        let (chunk, after) = rest.split_at(n);
        insert_chunk(tx, chunk).await?;
        rest = after;
    }
    Ok(())
}

async fn insert_chunk(tx: &mut Tx, rows: &[NewPayload<'_>]) -> Result<(), StoreError> {
    let values = value_rows(rows.len(), 8, 1);
    let sql = AssertSqlSafe(format!(
        "INSERT INTO alert_payloads (source, received_at, digest, content_type, body, \
         outcome, error, tickets) VALUES {values}"
    ));
    on_tx!(tx, |c| {
        let mut q = sqlx::query(sql);
        for p in rows {
            q = q
                .bind(p.source)
                .bind(Ts(p.received_at))
                .bind(p.digest)
                .bind(p.content_type)
                .bind(p.body)
                .bind(p.outcome)
                .bind(p.error)
                .bind(p.tickets.as_str());
        }
        q.execute(c).await?;
    });
    Ok(())
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
