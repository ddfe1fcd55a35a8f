use jiff::Timestamp;

use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

pub(crate) async fn add(
    tx: &mut Tx,
    base: i64,
    target: i64,
    kind: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO ticket_links (base_id, target_id, kind, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
    )
    .bind(base)
    .bind(target)
    .bind(kind)
    .bind(Ts(now))
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(n > 0)
}

pub(crate) async fn remove(
    tx: &mut Tx,
    base: i64,
    target: i64,
    kind: &str,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM ticket_links WHERE base_id = $1 AND target_id = $2 AND kind = $3"
    )
    .bind(base)
    .bind(target)
    .bind(kind)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n > 0)
}

/// Every link touching the ticket: (base_id, target_id, kind).
pub(crate) async fn of(tx: &mut Tx, id: i64) -> Result<Vec<(i64, i64, String)>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT base_id, target_id, kind FROM ticket_links WHERE base_id = $1 OR target_id = $1 ORDER BY kind, base_id, target_id"
    )
    .bind(id)
    .fetch_all(c)
    .await?
    }))
}

/// Tickets this one depends on that still need work (new, open, stalled).
pub(crate) async fn open_dependencies(tx: &mut Tx, id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT l.target_id FROM ticket_links l JOIN tickets t ON t.id = l.target_id \
         WHERE l.base_id = $1 AND l.kind = 'DependsOn' AND t.status IN ('new', 'open', 'stalled') \
         ORDER BY l.target_id"
    )
    .bind(id)
    .fetch_all(c)
    .await?))
}

/// Re-points every link of `from` to `into` (merge); a link between the two disappears.
pub(crate) async fn move_all(tx: &mut Tx, from: i64, into: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO ticket_links (base_id, target_id, kind, created_at) \
         SELECT $2, target_id, kind, created_at FROM ticket_links WHERE base_id = $1 AND target_id <> $2 \
         ON CONFLICT DO NOTHING"
    )
    .bind(from)
    .bind(into)
    .execute(c)
    .await
    .map(|_| ())?
    });
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO ticket_links (base_id, target_id, kind, created_at) \
         SELECT base_id, $2, kind, created_at FROM ticket_links WHERE target_id = $1 AND base_id <> $2 \
         ON CONFLICT DO NOTHING"
    )
    .bind(from)
    .bind(into)
    .execute(c)
    .await
    .map(|_| ())?
    });
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM ticket_links WHERE base_id = $1 OR target_id = $1"
    )
    .bind(from)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Every link touching any of `ids`: (base_id, target_id, kind), for list pages.
pub(crate) async fn of_many(
    tx: &mut Tx,
    ids: &[i64],
) -> Result<Vec<(i64, i64, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ph = super::rows::placeholders(ids.len());
    let sql = format!(
        "SELECT base_id, target_id, kind FROM ticket_links WHERE base_id IN ({ph}) OR target_id IN ({ph}) \
         ORDER BY kind, base_id, target_id"
    );
    Ok(on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await?
    }))
}
