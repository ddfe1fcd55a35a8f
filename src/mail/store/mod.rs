//! SQL of `mail_messages` and `mail_threads`.

use jiff::Timestamp;
use serde::Serialize;

use crate::db::{Db, StoreError, Ts, Tx};
use crate::{on_pool, on_tx};

mod threads;
pub(crate) use threads::{thread_of, threads_of_many};

/// A stored inbound message, as intake and the admin view read it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct MailMessage {
    pub id: i64,
    pub message_id: String,
    pub sha256: String,
    pub size: i64,
    pub via: String,
    pub queue: String,
    pub action: String,
    pub state: String,
    pub reason: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub ticket_id: Option<i64>,
    pub created_ticket: bool,
    pub attempts: i32,
    #[serde(skip)]
    pub received_at: Ts,
}

const COLUMNS: &str = "id, message_id, sha256, size, via, queue, action, state, reason, sender, \
     subject, ticket_id, created_ticket, attempts, received_at";

pub(crate) struct NewMessage<'a> {
    pub message_id: &'a str,
    pub sha256: &'a str,
    pub size: i64,
    pub via: &'a str,
    pub queue: &'a str,
    pub action: &'a str,
    pub sender: Option<&'a str>,
    pub subject: Option<&'a str>,
}

/// Inserts the message in state `received`; `None` when its Message-ID is already stored.
pub(crate) async fn insert(
    tx: &mut Tx,
    m: &NewMessage<'_>,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO mail_messages (message_id, sha256, size, via, queue, action, state, sender, \
         subject, received_at) VALUES ($1, $2, $3, $4, $5, $6, 'received', $7, $8, $9) \
         ON CONFLICT (message_id) DO NOTHING RETURNING id"
    )
    .bind(m.message_id)
    .bind(m.sha256)
    .bind(m.size)
    .bind(m.via)
    .bind(m.queue)
    .bind(m.action)
    .bind(m.sender)
    .bind(m.subject)
    .bind(Ts(now))
    .fetch_optional(c)
    .await?))
}

pub(crate) async fn by_message_id(
    tx: &mut Tx,
    message_id: &str,
) -> Result<Option<MailMessage>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM mail_messages WHERE message_id = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(message_id)
        .fetch_optional(c)
        .await?))
}

/// The message, locked for processing where the backend can lock a row (PostgreSQL); SQLite
/// writers are serialised by the write transaction itself.
pub(crate) async fn get_for_update(
    tx: &mut Tx,
    id: i64,
) -> Result<Option<MailMessage>, StoreError> {
    let lock = match tx.backend() {
        crate::db::Backend::Postgres => " FOR UPDATE",
        crate::db::Backend::Sqlite => "",
    };
    let sql = format!("SELECT {COLUMNS} FROM mail_messages WHERE id = $1{lock}");
    Ok(on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(c)
        .await?))
}

pub(crate) async fn get(db: &Db, id: i64) -> Result<Option<MailMessage>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM mail_messages WHERE id = $1");
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(p)
        .await?))
}

/// Messages in `state`, newest first (the admin view).
pub async fn by_state(db: &Db, state: &str, limit: i64) -> Result<Vec<MailMessage>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM mail_messages WHERE state = $1 ORDER BY id DESC LIMIT $2");
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(state)
        .bind(limit)
        .fetch_all(p)
        .await?))
}

/// Records the outcome of one processing attempt, unless another attempt got there first.
pub(crate) async fn finish(
    tx: &mut Tx,
    id: i64,
    state: &str,
    reason: Option<&str>,
    ticket: Option<(i64, bool)>,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE mail_messages SET state = $2, reason = $3, ticket_id = $4, created_ticket = $5, \
         attempts = attempts + 1, processed_at = $6 WHERE id = $1 AND state = 'received'"
    )
    .bind(id)
    .bind(state)
    .bind(reason)
    .bind(ticket.map(|t| t.0))
    .bind(ticket.is_some_and(|t| t.1))
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Puts a flagged message back in line (the admin's Retry).
pub(crate) async fn requeue(tx: &mut Tx, id: i64) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE mail_messages SET state = 'received', reason = NULL \
         WHERE id = $1 AND state IN ('failed', 'ignored')"
    )
    .bind(id)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Remembers which ticket a Message-ID belongs to (first writer wins).
pub(crate) async fn remember(
    tx: &mut Tx,
    message_id: &str,
    ticket_id: i64,
    outbound: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO mail_threads (message_id, ticket_id, outbound, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING"
    )
    .bind(message_id)
    .bind(ticket_id)
    .bind(outbound)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// The ticket of the first of `ids` we know, in the order given (In-Reply-To before
/// References, the newest reference first).
pub(crate) async fn ticket_of(tx: &mut Tx, ids: &[String]) -> Result<Option<i64>, StoreError> {
    for id in ids.iter().take(30) {
        let t: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT ticket_id FROM mail_threads WHERE message_id = $1"
        )
        .bind(id)
        .fetch_optional(c)
        .await?);
        if t.is_some() {
            return Ok(t);
        }
    }
    Ok(None)
}

/// How many messages sit in each state (for /metrics and the admin view).
pub(crate) async fn counts(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT state, COUNT(*) FROM mail_messages GROUP BY state"
    )
    .fetch_all(p)
    .await?))
}

/// Messages stored but not yet processed (a crash or an outage came in between), oldest first.
pub(crate) async fn waiting(db: &Db, limit: i64) -> Result<Vec<i64>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_scalar(
        "SELECT id FROM mail_messages WHERE state = 'received' ORDER BY id LIMIT $1"
    )
    .bind(limit)
    .fetch_all(p)
    .await?))
}

/// For many messages at once: each one's `insert_outbound` and `remember` (outbound), in
/// two statements per 500: (message_id, ticket_id, kind, recipients).
pub(crate) async fn outbound_many(
    tx: &mut Tx,
    rows: &[(String, i64, String, String)],
    now: Timestamp,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        let values = |per: usize, tail: &str| {
            (0..chunk.len())
                .map(|i| {
                    let b = i * per;
                    let cols: Vec<String> = (1..=per).map(|k| format!("${}", b + k)).collect();
                    format!("({}{tail})", cols.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let outbound = format!(
            "INSERT INTO mail_outbound (message_id, ticket_id, kind, recipients, created_at) \
             VALUES {} ON CONFLICT (message_id) DO NOTHING",
            values(5, "")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(outbound));
            for (m, t, k, r) in chunk {
                q = q.bind(m).bind(*t).bind(k).bind(r).bind(Ts(now));
            }
            q.execute(c).await.map(|_| ())?
        });
        let threads = format!(
            "INSERT INTO mail_threads (message_id, ticket_id, created_at, outbound) \
             VALUES {} ON CONFLICT (message_id) DO NOTHING",
            values(3, ", TRUE")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(threads));
            for (m, t, _, _) in chunk {
                q = q.bind(m).bind(*t).bind(Ts(now));
            }
            q.execute(c).await.map(|_| ())?
        });
    }
    Ok(())
}

/// Auto-replies sent to `recipient` since `since` (the flood guard).
pub(crate) async fn autoreplies_since(
    tx: &mut Tx,
    recipient: &str,
    since: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM mail_outbound \
         WHERE kind = 'autoreply' AND recipients = $1 AND created_at >= $2"
    )
    .bind(recipient)
    .bind(Ts(since))
    .fetch_one(c)
    .await?))
}

/// The admin's texts of two templates (a message and its footer), those that were saved, by
/// name: one statement for both.
pub(crate) async fn templates(
    tx: &mut Tx,
    names: [&str; 2],
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT name, body FROM mail_templates WHERE name IN ($1, $2)"
    )
    .bind(names[0])
    .bind(names[1])
    .fetch_all(c)
    .await?))
}

/// The admin's text of template `name`, if one was saved.
pub(crate) async fn template(tx: &mut Tx, name: &str) -> Result<Option<String>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT body FROM mail_templates WHERE name = $1"
    )
    .bind(name)
    .fetch_optional(c)
    .await?))
}

pub(crate) async fn save_template(
    tx: &mut Tx,
    name: &str,
    body: &str,
    by: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO mail_templates (name, body, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO UPDATE SET body = $2, updated_by = $3, updated_at = $4"
    )
    .bind(name)
    .bind(body)
    .bind(by)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(crate) async fn drop_template(tx: &mut Tx, name: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM mail_templates WHERE name = $1"
    )
    .bind(name)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Answers to `address` on ticket `ticket_id` go to `reply_to` from now on; `None` sends them
/// to the address itself again.
pub(crate) async fn set_reply_to(
    tx: &mut Tx,
    ticket_id: i64,
    address: &str,
    reply_to: Option<&str>,
) -> Result<(), StoreError> {
    let address = address.to_ascii_lowercase();
    match reply_to {
        Some(r) => on_tx!(tx, |c| sqlx::query(
            "INSERT INTO mail_reply_to (ticket_id, address, reply_to) VALUES ($1, $2, $3) \
             ON CONFLICT (ticket_id, address) DO UPDATE SET reply_to = excluded.reply_to"
        )
        .bind(ticket_id)
        .bind(&address)
        .bind(r)
        .execute(c)
        .await
        .map(|_| ())?),
        None => on_tx!(tx, |c| sqlx::query(
            "DELETE FROM mail_reply_to WHERE ticket_id = $1 AND address = $2"
        )
        .bind(ticket_id)
        .bind(&address)
        .execute(c)
        .await
        .map(|_| ())?),
    }
    Ok(())
}

/// (address, reply_to) pairs of ticket `ticket_id` and of the tickets merged into it (their
/// requestors came along); addresses in lower case.
pub(crate) async fn reply_to_of(
    tx: &mut Tx,
    ticket_id: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT address, reply_to FROM mail_reply_to WHERE ticket_id = $1 \
         OR ticket_id IN (SELECT id FROM tickets WHERE merged_into = $1) \
         ORDER BY ticket_id = $1 DESC"
    )
    .bind(ticket_id)
    .fetch_all(c)
    .await?))
}
