use jiff::Timestamp;

use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

/// A ticket as stored, with its owner's username and customer's code joined in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct TicketRow {
    pub id: i64,
    pub queue: String,
    pub subject: String,
    pub status: String,
    pub priority: i32,
    pub owner: Option<String>,
    pub customer: Option<String>,
    pub source: String,
    pub sla_policy: Option<String>,
    pub host: Option<String>,
    pub runbook: Option<String>,
    pub merged_into: Option<i64>,
    pub time_worked: i32,
    pub created_by: String,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub resolved_at: Option<Ts>,
    pub due_at: Option<Ts>,
}

/// The one ticket SELECT; `$tail` adds WHERE/ORDER BY at compile time.
#[macro_export]
macro_rules! select_tickets {
    ($tail:literal) => {
        concat!(
            "SELECT t.id, t.queue, t.subject, t.status, t.priority, u.username AS owner, c.code AS customer, ",
            "t.source, t.sla_policy, t.host, t.runbook, t.merged_into, t.time_worked, t.created_by, ",
            "t.created_at, t.updated_at, t.resolved_at, t.due_at ",
            "FROM tickets t LEFT JOIN users u ON u.id = t.owner_id LEFT JOIN customers c ON c.id = t.customer_id",
            $tail
        )
    };
}

/// The columns of a new ticket row.
#[derive(Debug, Clone)]
pub(crate) struct NewRow<'a> {
    pub queue: &'a str,
    pub subject: &'a str,
    pub status: &'a str,
    pub priority: i32,
    pub owner_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub source: &'a str,
    pub sla_policy: Option<&'a str>,
    pub host: Option<&'a str>,
    pub runbook: Option<&'a str>,
    pub created_by: &'a str,
}

pub(crate) async fn insert(tx: &mut Tx, r: &NewRow<'_>, now: Timestamp) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO tickets (queue, subject, status, priority, owner_id, customer_id, source, sla_policy, \
         host, runbook, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id"
    )
    .bind(r.queue)
    .bind(r.subject)
    .bind(r.status)
    .bind(r.priority)
    .bind(r.owner_id)
    .bind(r.customer_id)
    .bind(r.source)
    .bind(r.sla_policy)
    .bind(r.host)
    .bind(r.runbook)
    .bind(r.created_by)
    .bind(Ts(now))
    .fetch_one(c)
    .await?
    }))
}

pub(crate) async fn get(tx: &mut Tx, id: i64) -> Result<Option<TicketRow>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(select_tickets!(
        " WHERE t.id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?))
}

/// Locks the row for the rest of the transaction on PostgreSQL (SQLite has one writer), so two
/// concurrent changes to one ticket apply one after the other.
pub(crate) async fn lock(tx: &mut Tx, id: i64) -> Result<Option<i64>, StoreError> {
    Ok(match tx {
        Tx::Postgres(t) => {
            sqlx::query_scalar("SELECT merged_into FROM tickets WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
                .map(|m: Option<i64>| m.unwrap_or(id))
        }
        Tx::Sqlite(t) => sqlx::query_scalar("SELECT merged_into FROM tickets WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *t.tx)
            .await?
            .map(|m: Option<i64>| m.unwrap_or(id)),
    })
}

/// `$1, $2, …, $n` for an IN list; only placeholders enter the SQL text, never values.
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn set_status(
    tx: &mut Tx,
    id: i64,
    status: &str,
    resolved_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET status = $2, resolved_at = $3, updated_at = $4 WHERE id = $1"
    )
    .bind(id)
    .bind(status)
    .bind(resolved_at.map(Ts))
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn set_priority(
    tx: &mut Tx,
    id: i64,
    priority: i32,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET priority = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(priority)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn set_queue(
    tx: &mut Tx,
    id: i64,
    queue: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET queue = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(queue)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn set_subject(
    tx: &mut Tx,
    id: i64,
    subject: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET subject = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(subject)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn set_owner(
    tx: &mut Tx,
    id: i64,
    owner_id: Option<i64>,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET owner_id = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(owner_id)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn set_customer(
    tx: &mut Tx,
    id: i64,
    customer_id: Option<i64>,
    sla: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET customer_id = $2, sla_policy = $3, updated_at = $4 WHERE id = $1"
    )
    .bind(id)
    .bind(customer_id)
    .bind(sla)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn add_time(
    tx: &mut Tx,
    id: i64,
    minutes: i32,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET time_worked = time_worked + $2, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(minutes)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn touch(tx: &mut Tx, id: i64, now: Timestamp) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET updated_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Marks `from` merged into `into`, and re-points tickets merged into `from` earlier.
pub(crate) async fn mark_merged(
    tx: &mut Tx,
    from: i64,
    into: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET merged_into = $2, updated_at = $3 WHERE id = $1 OR merged_into = $1"
    )
    .bind(from)
    .bind(into)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}
