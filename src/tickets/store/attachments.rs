use jiff::Timestamp;

use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    pub id: i64,
    pub transaction_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// Stores the bytes once per content (sha-256); a second copy costs nothing.
pub(crate) async fn blob_data(tx: &mut Tx, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT data FROM blobs WHERE sha256 = $1"
    )
    .bind(sha256)
    .fetch_optional(c)
    .await?))
}

pub(crate) async fn put_blob(tx: &mut Tx, sha256: &str, data: &[u8]) -> Result<(), StoreError> {
    let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
    )
    .bind(sha256)
    .bind(size)
    .bind(data)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// One attachment row to write.
pub(crate) struct NewAttachment<'a> {
    pub ticket_id: i64,
    pub transaction_id: i64,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
}

pub(crate) async fn insert(
    tx: &mut Tx,
    a: &NewAttachment<'_>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO attachments (transaction_id, ticket_id, filename, content_type, size, sha256, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(a.transaction_id)
    .bind(a.ticket_id)
    .bind(a.filename)
    .bind(a.content_type)
    .bind(a.size)
    .bind(a.sha256)
    .bind(Ts(now))
    .fetch_one(c)
    .await?
    }))
}

pub(crate) async fn of_ticket(
    tx: &mut Tx,
    ticket_id: i64,
) -> Result<Vec<AttachmentRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT id, transaction_id, filename, content_type, size, sha256 FROM attachments WHERE ticket_id = $1 ORDER BY id"
    )
    .bind(ticket_id)
    .fetch_all(c)
    .await?
    }))
}

/// The attachment's metadata and bytes, if it belongs to `ticket_id`.
pub(crate) async fn get(
    tx: &mut Tx,
    ticket_id: i64,
    id: i64,
) -> Result<Option<(AttachmentRow, Vec<u8>)>, StoreError> {
    let row: Option<AttachmentRow> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT id, transaction_id, filename, content_type, size, sha256 FROM attachments WHERE id = $1 AND ticket_id = $2"
    )
    .bind(id)
    .bind(ticket_id)
    .fetch_optional(c)
    .await?
    });
    let Some(row) = row else { return Ok(None) };
    let data: Vec<u8> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT data FROM blobs WHERE sha256 = $1"
    )
    .bind(&row.sha256)
    .fetch_one(c)
    .await?);
    Ok(Some((row, data)))
}
