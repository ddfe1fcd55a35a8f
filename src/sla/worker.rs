//! The escalation pass (issue 5): every few seconds each node reads the tickets whose next
//! escalation step is due (`tickets.sla_next_at`, indexed) and fires those steps, a batch of
//! tickets per transaction. Once-only does not rest on the pass: the ledger's primary key and
//! the row lock decide (see `tickets::sla::escalate`), so any number of nodes may run it.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::{Db, StoreError};
use crate::tickets::sla::{Escalated, PassCache, escalate_batch};

/// How often a node looks: the clocks promise the minute, so well under it.
pub const INTERVAL: Duration = Duration::from_secs(10);
/// Tickets per transaction: short writer turns on SQLite, few commits on a burst.
const BATCH: i64 = 200;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PassReport {
    /// Tickets looked at (their next step was due).
    pub tickets: usize,
    /// Steps fired: each a history entry and a notice in the outbox.
    pub fired: usize,
    /// Tickets whose clocks could not be computed; logged, and no longer looked at.
    pub failed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One pass as of `now`: until no due ticket is left, or a batch moves nothing (the rest are
/// in another node's hands).
pub async fn pass(db: &Db, config: &Config, now: Timestamp) -> Result<PassReport, PassError> {
    let mut report = PassReport::default();
    let mut cache = PassCache::default();
    let mut last: Vec<i64> = Vec::new();
    loop {
        let mut read = db.begin_read().await?;
        let ids = crate::tickets::sla::escalation_due(&mut read, now, BATCH).await?;
        read.commit().await?;
        // Nothing due, or the same tickets again: what is left is in another node's hands
        // (or stale until their next change), and this pass is done.
        if ids.is_empty() || ids == last {
            break;
        }
        let mut tx = db.begin().await?;
        let done = escalate_batch(&mut tx, config, &ids, now, &mut cache).await?;
        tx.commit().await?;
        let mut moved = 0;
        for (_, r) in &done {
            match r {
                Escalated::Skipped => {}
                Escalated::Fired(n) => {
                    moved += 1;
                    report.fired += n;
                }
                Escalated::Failed => {
                    moved += 1;
                    report.failed += 1;
                }
            }
        }
        report.tickets += moved;
        last = ids;
        if moved == 0 || to_i64(last.len()) < BATCH {
            break;
        }
    }
    Ok(report)
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Runs a pass every `INTERVAL` until shutdown.
pub async fn run(
    db: Db,
    config: std::sync::Arc<Config>,
    clock: SharedClock,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match pass(&db, &config, clock.now()).await {
            Ok(r) if r.fired > 0 || r.failed > 0 => {
                tracing::info!(
                    tickets = r.tickets,
                    fired = r.fired,
                    failed = r.failed,
                    "SLA escalation pass"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "SLA escalation pass failed; will try again"),
        }
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = tokio::time::sleep(INTERVAL) => {}
        }
    }
}
