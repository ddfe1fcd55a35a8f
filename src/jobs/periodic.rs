//! Housekeeping on a timer. Every node offers the same job for the same time slot; the dedup
//! key lets exactly one of the offers in, so N nodes do the work once.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use super::{JobCtx, JobFailure, JobFuture, JobHandler, JobRow, NewJob, enqueue};
use crate::clock::SharedClock;
use crate::db::Db;

pub const PURGE: &str = "maintenance.purge";
const SLOT_SECS: i64 = 600;

/// Removes expired sessions, old login failures, finished jobs older than a week, and raw
/// alert deliveries past their source's retention.
pub struct PurgeHandler {
    /// Failures older than this no longer count for throttling.
    pub login_window: Duration,
    /// For each alert source's retention of raw deliveries.
    pub config: std::sync::Arc<crate::config::Config>,
}

impl JobHandler for PurgeHandler {
    fn kind(&self) -> &'static str {
        PURGE
    }

    fn run<'a>(&'a self, ctx: &'a JobCtx, _job: &'a JobRow) -> JobFuture<'a> {
        Box::pin(async move {
            let now = ctx.clock.now();
            let window = SignedDuration::try_from(self.login_window)
                .unwrap_or(SignedDuration::from_hours(1));
            let retry = |e: crate::db::StoreError| JobFailure::Retry(e.to_string());
            let mut tx = ctx.db.begin().await.map_err(retry)?;
            let (sessions, failures) = crate::auth::maintenance::purge(
                &mut tx,
                now,
                now.saturating_sub(window).unwrap_or(now),
            )
            .await
            .map_err(retry)?;
            let week_ago = now
                .saturating_sub(SignedDuration::from_hours(24 * 7))
                .unwrap_or(now);
            let jobs = super::purge_done(&mut tx, week_ago).await.map_err(retry)?;
            tx.commit().await.map_err(retry)?;
            let payloads =
                crate::alerts::purge_payloads(&ctx.db, &self.config, now, 5_000, 5_000_000)
                    .await
                    .map_err(retry)?;
            tracing::info!(sessions, failures, jobs, payloads, "purged expired rows");
            Ok(())
        })
    }
}

/// Offers the purge job for the current slot.
pub async fn offer(
    db: &Db,
    now: Timestamp,
    max_attempts: u32,
) -> Result<Option<i64>, crate::db::StoreError> {
    let slot = now.as_second().div_euclid(SLOT_SECS);
    let job = NewJob::now(PURGE, serde_json::json!({}), now).dedup(format!("slot-{slot}"));
    let mut tx = db.begin().await?;
    let id = enqueue(&mut tx, &job, max_attempts, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Offers housekeeping once a minute until shutdown.
pub async fn run(
    db: Db,
    clock: SharedClock,
    max_attempts: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = offer(&db, clock.now(), max_attempts).await {
            tracing::warn!(error = %e, "could not offer the housekeeping job; will try again");
        }
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}
