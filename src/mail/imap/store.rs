//! SQL of `mail_imap_cursors`: how far each mailbox has been read, and the lease that lets one
//! node at a time read it.

use jiff::Timestamp;

use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

/// Where reading a mailbox resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Cursor {
    pub uid_validity: i64,
    pub last_uid: i64,
}

/// Takes or renews the lease on `source` for `holder` until `until`; `None` while another
/// holder's lease runs.
pub async fn lease(
    tx: &mut Tx,
    source: &str,
    holder: &str,
    until: Timestamp,
    now: Timestamp,
) -> Result<Option<Cursor>, StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO mail_imap_cursors (source) VALUES ($1) ON CONFLICT (source) DO NOTHING"
    )
    .bind(source)
    .execute(&mut *c)
    .await
    .map(|_| ())?);
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "UPDATE mail_imap_cursors SET holder = $2, lease_until = $3, polled_at = $4 \
         WHERE source = $1 AND (holder IS NULL OR holder = $2 OR lease_until < $4) \
         RETURNING uid_validity, last_uid"
    )
    .bind(source)
    .bind(holder)
    .bind(Ts(until))
    .bind(Ts(now))
    .fetch_optional(c)
    .await?))
}

/// Moves the cursor, if `holder` still holds the lease; answers whether it did.
pub async fn advance(
    tx: &mut Tx,
    source: &str,
    holder: &str,
    to: Cursor,
) -> Result<bool, StoreError> {
    let done = on_tx!(tx, |c| sqlx::query(
        "UPDATE mail_imap_cursors SET uid_validity = $3, last_uid = $4 \
         WHERE source = $1 AND holder = $2"
    )
    .bind(source)
    .bind(holder)
    .bind(to.uid_validity)
    .bind(to.last_uid)
    .execute(c)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Gives the lease up at shutdown, so another node takes over at its next poll.
pub async fn release(tx: &mut Tx, source: &str, holder: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE mail_imap_cursors SET holder = NULL WHERE source = $1 AND holder = $2"
    )
    .bind(source)
    .bind(holder)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}
