use jiff::Timestamp;

use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

/// One entry of a ticket's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct TxnRow {
    pub id: i64,
    pub kind: String,
    pub actor: String,
    pub created_at: Ts,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub body: Option<String>,
    pub body_format: Option<String>,
    pub time_taken: i32,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct NewTxn<'a> {
    pub kind: &'a str,
    pub actor: &'a str,
    pub field: Option<&'a str>,
    pub old_value: Option<&'a str>,
    pub new_value: Option<&'a str>,
    pub body: Option<&'a str>,
    pub body_format: Option<&'a str>,
    pub time_taken: i32,
}

pub(crate) async fn insert(
    tx: &mut Tx,
    ticket_id: i64,
    t: &NewTxn<'_>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO ticket_transactions (ticket_id, kind, actor, created_at, field, old_value, new_value, \
         body, body_format, time_taken) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"
    )
    .bind(ticket_id)
    .bind(t.kind)
    .bind(t.actor)
    .bind(Ts(now))
    .bind(t.field)
    .bind(t.old_value)
    .bind(t.new_value)
    .bind(t.body)
    .bind(t.body_format)
    .bind(t.time_taken)
    .fetch_one(c)
    .await?
    }))
}

pub(crate) async fn list(tx: &mut Tx, ticket_id: i64) -> Result<Vec<TxnRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT id, kind, actor, created_at, field, old_value, new_value, body, body_format, time_taken \
         FROM ticket_transactions WHERE ticket_id = $1 ORDER BY id"
    )
    .bind(ticket_id)
    .fetch_all(c)
    .await?
    }))
}

/// A history entry that moves SLA clocks.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ClockRow {
    pub kind: String,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub created_at: Ts,
}

/// The ticket's own entries that move its SLA clocks (creation, status and priority changes,
/// correspondence from staff), oldest first; history merged in from other tickets is not its.
pub(crate) async fn clock_events(tx: &mut Tx, ticket_id: i64) -> Result<Vec<ClockRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT kind, field, old_value, new_value, created_at FROM ticket_transactions \
             WHERE ticket_id = $1 AND merged_from IS NULL AND (kind = 'create' \
             OR (kind = 'set' AND field IN ('priority', 'status')) \
             OR (kind = 'correspond' AND field = 'staff')) ORDER BY id",
        )
        .bind(ticket_id)
        .fetch_all(c)
        .await?
    }))
}

/// Moves the whole history of `from` onto `into` (merge); ids keep their order.
pub(crate) async fn move_all(tx: &mut Tx, from: i64, into: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE ticket_transactions SET ticket_id = $2, merged_from = COALESCE(merged_from, $1) \
         WHERE ticket_id = $1"
    )
    .bind(from)
    .bind(into)
    .execute(c)
    .await
    .map(|_| ())?);
    on_tx!(tx, |c| sqlx::query(
        "UPDATE attachments SET ticket_id = $2 WHERE ticket_id = $1"
    )
    .bind(from)
    .bind(into)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}
