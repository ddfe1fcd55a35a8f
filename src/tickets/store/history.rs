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
    insert_many(tx, &[(ticket_id, t.clone())], now)
        .await?
        .first()
        .copied()
        .ok_or(StoreError::NotFound)
}

/// `insert` of many entries in one statement per 200, answering their ids in the order given.
/// Ids are taken in row order within a statement (SQLite's rowid, PostgreSQL's identity
/// sequence), so the ascending ids map to the rows in order.
pub(crate) async fn insert_many(
    tx: &mut Tx,
    entries: &[(i64, NewTxn<'_>)],
    now: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::with_capacity(entries.len());
    for chunk in entries.chunks(200) {
        let values = (0..chunk.len())
            .map(|i| {
                let cols: Vec<String> = (1..=10).map(|k| format!("${}", i * 10 + k)).collect();
                format!("({})", cols.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO ticket_transactions (ticket_id, kind, actor, created_at, field, old_value, \
             new_value, body, body_format, time_taken) VALUES {values} RETURNING id"
        );
        let mut got: Vec<i64> = on_tx!(tx, |c| {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
            for (ticket_id, t) in chunk {
                q = q
                    .bind(*ticket_id)
                    .bind(t.kind)
                    .bind(t.actor)
                    .bind(Ts(now))
                    .bind(t.field)
                    .bind(t.old_value)
                    .bind(t.new_value)
                    .bind(t.body)
                    .bind(t.body_format)
                    .bind(t.time_taken);
            }
            q.fetch_all(c).await?
        });
        got.sort_unstable();
        ids.extend(got);
    }
    Ok(ids)
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

/// `clock_events` of many tickets at once: (ticket_id, entry), each ticket's oldest first.
pub(crate) async fn clock_events_many(
    tx: &mut Tx,
    ids: &[i64],
) -> Result<Vec<(i64, ClockRow)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT ticket_id, kind, field, old_value, new_value, created_at FROM ticket_transactions \
         WHERE ticket_id IN ({}) AND merged_from IS NULL AND (kind = 'create' \
         OR (kind = 'set' AND field IN ('priority', 'status')) \
         OR (kind = 'correspond' AND field = 'staff')) ORDER BY ticket_id, id",
        super::rows::placeholders(ids.len())
    );
    let rows: Vec<ManyClockRow> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await?
    });
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.ticket_id,
                ClockRow {
                    kind: r.kind,
                    field: r.field,
                    old_value: r.old_value,
                    new_value: r.new_value,
                    created_at: r.created_at,
                },
            )
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ManyClockRow {
    ticket_id: i64,
    kind: String,
    field: Option<String>,
    old_value: Option<String>,
    new_value: Option<String>,
    created_at: Ts,
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

/// Whether staff have written to the requestors on ticket `id` (a person answered it).
pub(crate) async fn answered_by_staff(tx: &mut Tx, ticket_id: i64) -> Result<bool, StoreError> {
    let found: Option<i64> = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "SELECT id FROM ticket_transactions \
             WHERE ticket_id = $1 AND kind = 'correspond' AND field = 'staff' LIMIT 1",
        )
        .bind(ticket_id)
        .fetch_optional(c)
        .await?
    });
    Ok(found.is_some())
}
