//! The escalation ledger (migration 0012, `sla_escalations`): one row per step fired.

use jiff::Timestamp;

use super::escalation::Watch;
use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

/// A step already fired: (clock, step, cycle).
pub type Fired = (Watch, usize, Timestamp);

pub async fn fired(tx: &mut Tx, ticket_id: i64) -> Result<Vec<Fired>, StoreError> {
    let rows: Vec<(String, i32, Ts)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT clock, step, cycle FROM sla_escalations WHERE ticket_id = $1"
    )
    .bind(ticket_id)
    .fetch_all(c)
    .await?);
    Ok(rows
        .into_iter()
        .filter_map(|(clock, step, cycle)| {
            Some((Watch::parse(&clock)?, usize::try_from(step).ok()?, cycle.0))
        })
        .collect())
}

/// Records a step as fired; `false` when it already was (by this node or another): the
/// primary key decides, inside the transaction that also writes the notice.
pub async fn fire(
    tx: &mut Tx,
    ticket_id: i64,
    (watch, step, cycle): Fired,
    due_at: Timestamp,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let step = i32::try_from(step).unwrap_or(i32::MAX);
    let row: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO sla_escalations (ticket_id, clock, step, cycle, due_at, fired_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING ticket_id"
    )
    .bind(ticket_id)
    .bind(watch.as_str())
    .bind(step)
    .bind(Ts(cycle))
    .bind(Ts(due_at))
    .bind(Ts(now))
    .fetch_optional(c)
    .await?);
    Ok(row.is_some())
}
