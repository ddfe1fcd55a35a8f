//! The ends of a ticket's mail thread (its first message and the latest one received), which
//! an outgoing message answers in In-Reply-To and References: for one ticket, or for a batch
//! of them in one statement.

use std::collections::HashMap;

use crate::db::{StoreError, Tx};
use crate::on_tx;

/// [`thread_of`] for many tickets in one statement (the escalation pass composes hundreds of
/// notices at once): each ticket's root and latest received message ids; a ticket without
/// mail is absent.
pub(crate) async fn threads_of_many(
    tx: &mut Tx,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>, StoreError> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let list = crate::tickets::store::rows::placeholders(ids.len());
    let sql = format!(
        "SELECT ticket_id, k, message_id FROM ( \
           SELECT ticket_id, 0 AS k, message_id, row_number() OVER \
             (PARTITION BY ticket_id ORDER BY created_at, message_id) AS r \
           FROM mail_threads WHERE ticket_id IN ({list}) \
           UNION ALL \
           SELECT ticket_id, 1 AS k, message_id, row_number() OVER \
             (PARTITION BY ticket_id ORDER BY created_at DESC, message_id DESC) AS r \
           FROM mail_threads WHERE ticket_id IN ({list}) AND NOT outbound \
         ) ends WHERE r = 1 ORDER BY ticket_id, k"
    );
    let rows: Vec<(i64, i32, String)> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await?
    });
    for (ticket, _, id) in rows {
        let ends = out.entry(ticket).or_default();
        if !ends.contains(&id) {
            ends.push(id);
        }
    }
    Ok(out)
}

/// The Message-IDs a reply about `ticket_id` answers: the first message of the ticket and the
/// latest one we received, oldest first.
pub(crate) async fn thread_of(tx: &mut Tx, ticket_id: i64) -> Result<Vec<String>, StoreError> {
    // Both ends of the thread in one statement: the first message (the root) and the latest
    // one we received.
    let rows: Vec<(i32, String)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT k, message_id FROM ( \
           SELECT 0 AS k, message_id FROM (SELECT message_id FROM mail_threads WHERE ticket_id = $1 \
             ORDER BY created_at, message_id LIMIT 1) f \
           UNION ALL \
           SELECT 1 AS k, message_id FROM (SELECT message_id FROM mail_threads WHERE ticket_id = $1 \
             AND NOT outbound ORDER BY created_at DESC, message_id DESC LIMIT 1) l \
         ) ends ORDER BY k"
    )
    .bind(ticket_id)
    .fetch_all(c)
    .await?
    });
    let mut ids: Vec<String> = Vec::with_capacity(2);
    for (_, id) in rows {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use crate::db::Db;

    /// The batch read gives each ticket what the one-ticket read gives: the root (oldest, by
    /// time then id) and the latest received message, once if they are the same, nothing
    /// for a ticket without mail; a newer message we sent is not "the latest received".
    #[tokio::test]
    async fn many_threads_read_at_once_match_each_read_alone() {
        let (_dir, db) = crate::db::scratch_sqlite().await;
        db.migrate().await.unwrap();
        let Db::Sqlite(p) = &db else { unreachable!() };
        sqlx::raw_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6) \
             INSERT INTO tickets (id, queue, subject, status, priority, source, created_by, \
               created_at, updated_at) SELECT i, 'Support', 's', 'new', 3, 'api', 't', i, i FROM n; \
             INSERT INTO mail_threads (message_id, ticket_id, outbound, created_at) VALUES \
               ('a1', 1, 0, 10), ('a2', 1, 0, 20), ('a3', 1, 1, 30), \
               ('b1', 2, 0, 10), \
               ('c2', 3, 1, 10), ('c1', 3, 1, 10), \
               ('d1', 4, 1, 5), ('d2', 4, 0, 7), ('d3', 4, 0, 7), \
               ('e1', 5, 0, 1);",
        )
        .execute(&**p)
        .await
        .unwrap();
        let ids = [1, 2, 3, 4, 6];
        let mut tx = db.begin_read().await.unwrap();
        let many = super::threads_of_many(&mut tx, &ids).await.unwrap();
        for id in ids {
            let alone = super::thread_of(&mut tx, id).await.unwrap();
            assert_eq!(
                many.get(&id).cloned().unwrap_or_default(),
                alone,
                "ticket {id}"
            );
        }
        assert_eq!(many[&1], ["a1", "a2"]);
        assert_eq!(many[&2], ["b1"]);
        assert_eq!(many[&3], ["c1"]);
        assert_eq!(many[&4], ["d1", "d3"]);
        assert!(!many.contains_key(&6) && !many.contains_key(&5));
        tx.commit().await.unwrap();
    }
}
