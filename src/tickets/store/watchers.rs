use crate::db::{StoreError, Tx};
use crate::on_tx;

/// Adds a watcher; answers false when it was already there.
pub(crate) async fn add(
    tx: &mut Tx,
    ticket_id: i64,
    role: &str,
    email: &str,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO ticket_watchers (ticket_id, role, email) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
    )
    .bind(ticket_id)
    .bind(role)
    .bind(email)
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(n > 0)
}

pub(crate) async fn remove(
    tx: &mut Tx,
    ticket_id: i64,
    role: &str,
    email: &str,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM ticket_watchers WHERE ticket_id = $1 AND role = $2 AND email = $3"
    )
    .bind(ticket_id)
    .bind(role)
    .bind(email)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n > 0)
}

/// (role, email) pairs, requestors first.
pub(crate) async fn list(tx: &mut Tx, ticket_id: i64) -> Result<Vec<(String, String)>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT role, email FROM ticket_watchers WHERE ticket_id = $1 ORDER BY role DESC, email"
    )
    .bind(ticket_id)
    .fetch_all(c)
    .await?))
}

/// (ticket_id, role, email) of every watcher of many tickets, for list pages.
pub(crate) async fn of_many(
    tx: &mut Tx,
    ids: &[i64],
) -> Result<Vec<(i64, String, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT ticket_id, role, email FROM ticket_watchers WHERE ticket_id IN ({}) ORDER BY role DESC, email",
        super::rows::placeholders(ids.len())
    );
    Ok(on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await?
    }))
}

/// Copies every watcher of `from` to `into` (skipping ones it has) and removes them from `from`.
pub(crate) async fn move_all(tx: &mut Tx, from: i64, into: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO ticket_watchers (ticket_id, role, email) \
         SELECT $2, role, email FROM ticket_watchers WHERE ticket_id = $1 ON CONFLICT DO NOTHING"
    )
    .bind(from)
    .bind(into)
    .execute(c)
    .await
    .map(|_| ())?);
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM ticket_watchers WHERE ticket_id = $1"
    )
    .bind(from)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}
