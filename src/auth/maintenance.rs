//! Housekeeping of the auth tables, run by the purge job (jobs::periodic).

use jiff::Timestamp;

use super::store;
use crate::db::{StoreError, Tx};

/// Deletes expired sessions and login failures older than `failures_before`.
/// Answers (sessions removed, failures removed).
pub async fn purge(
    tx: &mut Tx,
    now: Timestamp,
    failures_before: Timestamp,
) -> Result<(u64, u64), StoreError> {
    let sessions = store::sessions::purge_expired(tx, now).await?;
    let failures = store::throttle::purge_before(tx, failures_before).await?;
    Ok((sessions, failures))
}
