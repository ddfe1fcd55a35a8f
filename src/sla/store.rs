//! The escalation ledger (migration 0012, `sla_escalations`): one row per step fired.

use jiff::Timestamp;

use super::escalation::Watch;
use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

/// A step already fired: (clock, step, cycle).
pub type Fired = (Watch, usize, Timestamp);

pub async fn fired(tx: &mut Tx, ticket_id: i64) -> Result<Vec<Fired>, StoreError> {
    Ok(fired_many(tx, &[ticket_id])
        .await?
        .into_iter()
        .map(|(_, f)| f)
        .collect())
}

/// `fired` of many tickets at once: (ticket_id, step).
pub async fn fired_many(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(i64, Fired)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT ticket_id, clock, step, cycle FROM sla_escalations WHERE ticket_id IN ({})",
        (1..=ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows: Vec<(i64, String, i32, Ts)> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(id, clock, step, cycle)| {
            Some((
                id,
                (Watch::parse(&clock)?, usize::try_from(step).ok()?, cycle.0),
            ))
        })
        .collect())
}

/// Records many steps as fired, (ticket, step, deadline) each; answers those that were not
/// yet (by this node or another): the primary key decides, inside the transaction that also
/// writes the notices.
pub async fn fire_many(
    tx: &mut Tx,
    steps: &[(i64, Fired, Timestamp)],
    now: Timestamp,
) -> Result<Vec<(i64, Fired)>, StoreError> {
    let mut out = Vec::new();
    // Six binds a row: well under both databases' limits per statement.
    for chunk in steps.chunks(500) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = i * 6;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO sla_escalations (ticket_id, clock, step, cycle, due_at, fired_at) \
             VALUES {values} ON CONFLICT DO NOTHING RETURNING ticket_id, clock, step, cycle"
        );
        let rows: Vec<(i64, String, i32, Ts)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for &(id, (watch, step, cycle), due_at) in chunk {
                q = q
                    .bind(id)
                    .bind(watch.as_str())
                    .bind(i32::try_from(step).unwrap_or(i32::MAX))
                    .bind(Ts(cycle))
                    .bind(Ts(due_at))
                    .bind(Ts(now));
            }
            q.fetch_all(c).await?
        });
        out.extend(rows.into_iter().filter_map(|(id, clock, step, cycle)| {
            Some((
                id,
                (Watch::parse(&clock)?, usize::try_from(step).ok()?, cycle.0),
            ))
        }));
    }
    Ok(out)
}
