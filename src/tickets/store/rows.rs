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
    #[sqlx(flatten)]
    pub sla: SlaCols,
}

/// The SLA columns of a ticket (migration 0012): derived from its history by `tickets::sla`
/// and kept on the row so lists, TQL and the escalation pass read instead of recompute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct SlaCols {
    pub response_due_at: Option<Ts>,
    pub resolve_due_at: Option<Ts>,
    pub first_response_at: Option<Ts>,
    pub sla_resolved_at: Option<Ts>,
    pub sla_paused: bool,
    pub sla_warn_at: Option<Ts>,
    pub sla_next_at: Option<Ts>,
}

/// The one ticket SELECT; `$tail` adds WHERE/ORDER BY at compile time.
#[macro_export]
macro_rules! select_tickets {
    ($tail:literal) => {
        concat!(
            "SELECT t.id, t.queue, t.subject, t.status, t.priority, u.username AS owner, c.code AS customer, ",
            "t.source, t.sla_policy, t.host, t.runbook, t.merged_into, t.time_worked, t.created_by, ",
            "t.created_at, t.updated_at, t.resolved_at, t.due_at, t.response_due_at, t.resolve_due_at, ",
            "t.first_response_at, t.sla_resolved_at, t.sla_paused, t.sla_warn_at, t.sla_next_at ",
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

/// Writes the SLA columns and `due_at` (the nearest promise not yet kept).
pub(crate) async fn set_sla(
    tx: &mut Tx,
    id: i64,
    due_at: Option<Timestamp>,
    s: &SlaCols,
) -> Result<(), StoreError> {
    set_sla_many(tx, &[(id, due_at, *s)]).await
}

/// `set_sla` for many tickets in one statement per 500: (id, due_at, columns).
pub(crate) async fn set_sla_many(
    tx: &mut Tx,
    rows: &[(i64, Option<Timestamp>, SlaCols)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = i * 9;
                let cols: Vec<String> = (1..=9).map(|k| format!("${}", b + k)).collect();
                format!("({})", cols.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        // VALUES columns are column1 … column9 on both databases.
        let sql = format!(
            "UPDATE tickets SET due_at = v.column2, response_due_at = v.column3, \
             resolve_due_at = v.column4, first_response_at = v.column5, sla_resolved_at = v.column6, \
             sla_paused = v.column7, sla_warn_at = v.column8, sla_next_at = v.column9 \
             FROM (VALUES {values}) AS v WHERE tickets.id = v.column1"
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, due_at, s) in chunk {
                q = q
                    .bind(*id)
                    .bind(due_at.map(Ts))
                    .bind(s.response_due_at)
                    .bind(s.resolve_due_at)
                    .bind(s.first_response_at)
                    .bind(s.sla_resolved_at)
                    .bind(s.sla_paused)
                    .bind(s.sla_warn_at)
                    .bind(s.sla_next_at);
            }
            q.execute(c).await.map(|_| ())?
        });
    }
    Ok(())
}

/// Tickets with an escalation step due by `now`, soonest first; a read, so the pass takes
/// the writer only for tickets that have work.
pub(crate) async fn escalation_due(
    tx: &mut Tx,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT id FROM tickets WHERE sla_next_at <= $1 ORDER BY sla_next_at, id LIMIT $2"
    )
    .bind(Ts(now))
    .bind(limit)
    .fetch_all(c)
    .await?))
}

/// Of `ids`, those this transaction now holds: on PostgreSQL rows another node holds are
/// skipped (it is escalating them), on SQLite the one writer already holds them all.
pub(crate) async fn lock_many_or_skip(tx: &mut Tx, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match tx {
        Tx::Postgres(t) => {
            let sql = format!(
                "SELECT id FROM tickets WHERE id IN ({}) ORDER BY id FOR UPDATE SKIP LOCKED",
                placeholders(ids.len())
            );
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(&mut **t).await?
        }
        Tx::Sqlite(_) => ids.to_vec(),
    })
}

/// The rows of `ids` (those that exist), in id order.
pub(crate) async fn get_many(tx: &mut Tx, ids: &[i64]) -> Result<Vec<TicketRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{} WHERE t.id IN ({}) ORDER BY t.id",
        select_tickets!(""),
        placeholders(ids.len())
    );
    Ok(on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await?
    }))
}

/// Stops the escalation pass coming back to a ticket whose clocks cannot be computed.
pub(crate) async fn clear_next(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET sla_next_at = NULL WHERE id = $1"
    )
    .bind(id)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// One ticket as the SLA report counts it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub customer: Option<String>,
    pub sla_policy: String,
    pub created_at: Ts,
    pub first_response_at: Option<Ts>,
    pub response_due_at: Option<Ts>,
    pub sla_resolved_at: Option<Ts>,
    pub resolve_due_at: Option<Ts>,
}

/// Tickets under a policy created in `[from, to)`, merged ones left out (they live on in
/// their survivor).
pub(crate) async fn report_rows(
    tx: &mut Tx,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ReportRow>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT c.code AS customer, t.sla_policy, t.created_at, t.first_response_at, \
         t.response_due_at, t.sla_resolved_at, t.resolve_due_at \
         FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id \
         WHERE t.created_at >= $1 AND t.created_at < $2 AND t.sla_policy IS NOT NULL \
         AND t.merged_into IS NULL ORDER BY t.created_at, t.id"
    )
    .bind(Ts(from))
    .bind(Ts(to))
    .fetch_all(c)
    .await?))
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

/// The latest tickets whose runbook is `runbook` (a wiki path), newest first.
pub(crate) async fn with_runbook(
    tx: &mut Tx,
    runbook: &str,
    limit: i64,
) -> Result<Vec<(i64, String, String, Ts)>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, subject, status, created_at FROM tickets \
         WHERE runbook = $1 AND merged_into IS NULL ORDER BY created_at DESC LIMIT $2"
    )
    .bind(runbook)
    .bind(limit)
    .fetch_all(c)
    .await?))
}
