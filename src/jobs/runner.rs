//! Running jobs: `try_run_one` takes one job through claim → work → outcome, so tests drain
//! the queue deterministically; `run` is the loop a node keeps going until shutdown.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};

use super::{JobCtx, JobFailure, Registry, backoff, store};
use crate::db::StoreError;

/// What one turn of the runner did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing was due.
    Idle,
    Done {
        id: i64,
        kind: String,
    },
    Retrying {
        id: i64,
        kind: String,
        at: Timestamp,
    },
    Dead {
        id: i64,
        kind: String,
    },
    /// The lease ran out while working and another worker took the job over.
    LostLease {
        id: i64,
    },
}

#[derive(Clone)]
pub struct Runner {
    ctx: JobCtx,
    registry: Registry,
    worker_id: String,
    lease: Duration,
    poll: Duration,
}

impl Runner {
    pub fn new(ctx: JobCtx, registry: Registry, worker_id: String, lease: Duration) -> Runner {
        Runner {
            ctx,
            registry,
            worker_id,
            lease,
            poll: Duration::from_secs(1),
        }
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    #[tracing::instrument(skip_all, fields(worker = %self.worker_id))]
    pub async fn try_run_one(&self) -> Result<Outcome, StoreError> {
        let now = self.ctx.clock.now();
        let lease = SignedDuration::try_from(self.lease).unwrap_or(SignedDuration::from_secs(300));
        let lease_until = now.saturating_add(lease).unwrap_or(now);
        let Some(job) = store::claim(&self.ctx.db, &self.worker_id, now, lease_until).await? else {
            return Ok(Outcome::Idle);
        };
        let span =
            tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts);
        let result = match self.registry.get(&job.kind) {
            Some(handler) => AssertUnwindSafe(handler.run(&self.ctx, &job))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(JobFailure::Retry("the handler panicked".into()))),
            // Another node may run newer code that knows this kind: leave it for a while.
            None => Err(JobFailure::Retry(format!(
                "no handler for job kind {} on this node",
                job.kind
            ))),
        };
        let now = self.ctx.clock.now();
        let _enter = span.enter();
        match result {
            Ok(()) => {
                if store::finish(&self.ctx.db, job.id, &self.worker_id, now).await? {
                    tracing::debug!("job done");
                    Ok(Outcome::Done {
                        id: job.id,
                        kind: job.kind,
                    })
                } else {
                    Ok(Outcome::LostLease { id: job.id })
                }
            }
            Err(failure) => {
                let attempt = u32::try_from(job.attempts).unwrap_or(u32::MAX);
                let dead =
                    matches!(failure, JobFailure::Permanent(_)) || job.attempts >= job.max_attempts;
                let wait = backoff(attempt, rand::random::<f64>());
                let at = now
                    .saturating_add(
                        SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_secs(3600)),
                    )
                    .unwrap_or(now);
                let message = failure.to_string();
                if !store::fail(
                    &self.ctx.db,
                    job.id,
                    &self.worker_id,
                    &message,
                    at,
                    dead,
                    now,
                )
                .await?
                {
                    return Ok(Outcome::LostLease { id: job.id });
                }
                if dead {
                    tracing::error!(error = %message, "job failed for the last time; it is now a dead letter");
                    Ok(Outcome::Dead {
                        id: job.id,
                        kind: job.kind,
                    })
                } else {
                    tracing::warn!(error = %message, retry_at = %at, "job failed; will retry");
                    Ok(Outcome::Retrying {
                        id: job.id,
                        kind: job.kind,
                        at,
                    })
                }
            }
        }
    }

    /// Works until `shutdown` turns true; the job in hand is always finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>, wake: Arc<Notify>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            let pause = match self.try_run_one().await {
                Ok(Outcome::Idle) => self.poll,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, worker = %self.worker_id, "job queue unreachable; waiting");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(worker = %self.worker_id, "job worker stopped");
    }
}
