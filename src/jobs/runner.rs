//! Running jobs: `try_run_one` takes one job through claim → work → outcome, so tests drain
//! the queue deterministically; `run` is the loop a node keeps going until shutdown.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};

use super::store::{self, Settle};
use super::{JobCtx, JobFailure, Registry, backoff};
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
    /// A batch of one kind, one outcome per job.
    Batch(Vec<Outcome>),
}

/// How one job's result is recorded: done, or queued again after a backoff, or dead when it
/// cannot succeed or has had its attempts.
fn settlement(job: &store::JobRow, result: &Result<(), JobFailure>, now: Timestamp) -> Settle {
    let Err(failure) = result else {
        return Settle::Done;
    };
    let attempt = u32::try_from(job.attempts).unwrap_or(u32::MAX);
    let dead = matches!(failure, JobFailure::Permanent(_)) || job.attempts >= job.max_attempts;
    let wait = backoff(attempt, rand::random::<f64>());
    let run_at = now
        .saturating_add(SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_secs(3600)))
        .unwrap_or(now);
    Settle::Failed {
        error: failure.to_string(),
        run_at,
        dead,
    }
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

    /// Claims the next due job (with more of its kind when its handler takes batches), runs
    /// it, and records how it ended.
    #[tracing::instrument(skip_all, fields(worker = %self.worker_id))]
    pub async fn try_run_one(&self) -> Result<Outcome, StoreError> {
        let now = self.ctx.clock.now();
        let lease = SignedDuration::try_from(self.lease).unwrap_or(SignedDuration::from_secs(300));
        let lease_until = now.saturating_add(lease).unwrap_or(now);
        let registry = &self.registry;
        let jobs = store::claim(&self.ctx.db, &self.worker_id, now, lease_until, |kind| {
            registry.get(kind).map_or(1, |h| h.batch().max(1))
        })
        .await?;
        let Some(first) = jobs.first() else {
            return Ok(Outcome::Idle);
        };
        let kind = first.kind.clone();
        let results = match self.registry.get(&kind) {
            Some(handler) => {
                let mut r = AssertUnwindSafe(handler.run_batch(&self.ctx, &jobs))
                    .catch_unwind()
                    .await
                    .unwrap_or_default();
                // A handler that panicked, or answered for fewer jobs than it was given.
                r.resize_with(jobs.len(), || {
                    Err(JobFailure::Retry("the handler panicked".into()))
                });
                r
            }
            // Another node may run newer code that knows this kind: leave it for a while.
            None => jobs
                .iter()
                .map(|_| {
                    Err(JobFailure::Retry(format!(
                        "no handler for job kind {kind} on this node"
                    )))
                })
                .collect(),
        };
        let now = self.ctx.clock.now();
        let ends: Vec<(i64, Settle)> = jobs
            .iter()
            .zip(&results)
            .map(|(job, result)| (job.id, settlement(job, result, now)))
            .collect();
        let held = store::settle(&self.ctx.db, &self.worker_id, &ends, now).await?;
        let mut outcomes = Vec::with_capacity(jobs.len());
        for ((job, (_, end)), held) in jobs.iter().zip(&ends).zip(held) {
            let span =
                tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts);
            let _enter = span.enter();
            outcomes.push(match end {
                _ if !held => Outcome::LostLease { id: job.id },
                Settle::Done => {
                    tracing::debug!("job done");
                    Outcome::Done {
                        id: job.id,
                        kind: job.kind.clone(),
                    }
                }
                Settle::Failed { error, dead: true, .. } => {
                    tracing::error!(error = %error, "job failed for the last time; it is now a dead letter");
                    Outcome::Dead {
                        id: job.id,
                        kind: job.kind.clone(),
                    }
                }
                Settle::Failed { error, run_at, .. } => {
                    tracing::warn!(error = %error, retry_at = %run_at, "job failed; will retry");
                    Outcome::Retrying {
                        id: job.id,
                        kind: job.kind.clone(),
                        at: *run_at,
                    }
                }
            });
        }
        Ok(if outcomes.len() == 1 {
            outcomes.remove(0)
        } else {
            Outcome::Batch(outcomes)
        })
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
