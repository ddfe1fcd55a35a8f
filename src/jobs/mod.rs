//! The job queue (DESIGN.md §4): jobs live in the database; a worker claims one with a short
//! transaction that sets a lease, does the work outside any transaction, then records done or
//! reschedules with backoff. After `max_attempts` a job becomes a dead letter an admin can retry.
//! Handlers must be idempotent: a lease can expire under a slow worker and the job run twice.

pub mod periodic;
pub mod routes;
pub mod runner;
mod store;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

pub use runner::{Outcome, Runner};
pub use store::{JobRow, JobState, QueueDepth};

use crate::db::{Db, StoreError, Tx};

/// A job waiting to be enqueued.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: serde_json::Value,
    /// Jobs of one kind with the same key are enqueued once (e.g. one purge per time slot).
    pub dedup_key: Option<String>,
    pub run_at: Timestamp,
}

impl NewJob {
    pub fn now(kind: &'static str, payload: impl Serialize, now: Timestamp) -> NewJob {
        NewJob {
            kind,
            payload: serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
            dedup_key: None,
            run_at: now,
        }
    }

    pub fn dedup(mut self, key: impl Into<String>) -> NewJob {
        self.dedup_key = Some(key.into());
        self
    }
}

/// Puts a job on the queue inside the caller's transaction, so the work and the change that
/// caused it commit together. Answers `None` when the dedup key is already queued.
pub async fn enqueue(
    tx: &mut Tx,
    job: &NewJob,
    max_attempts: u32,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    store::insert(tx, job, max_attempts, now).await
}

/// `enqueue` of many jobs in a few statements, for callers that produce a burst of them (the
/// escalation pass); a dedup key already queued is skipped.
pub async fn enqueue_many(
    tx: &mut Tx,
    jobs: &[NewJob],
    max_attempts: u32,
    now: Timestamp,
) -> Result<(), StoreError> {
    store::insert_many(tx, jobs, max_attempts, now).await
}

/// How a handler failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobFailure {
    /// Worth trying again later (a peer is down, a lock is busy).
    #[error("{0}")]
    Retry(String),
    /// Trying again cannot help (malformed payload): straight to the dead letters.
    #[error("{0}")]
    Permanent(String),
}

pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<(), JobFailure>> + Send + 'a>>;

/// What a handler gets to work with.
#[derive(Clone)]
pub struct JobCtx {
    pub db: Db,
    pub clock: crate::clock::SharedClock,
}

pub type BatchFuture<'a> = Pin<Box<dyn Future<Output = Vec<Result<(), JobFailure>>> + Send + 'a>>;

/// One kind of background work.
pub trait JobHandler: Send + Sync {
    fn kind(&self) -> &'static str;
    fn run<'a>(&'a self, ctx: &'a JobCtx, job: &'a JobRow) -> JobFuture<'a>;

    /// How many due jobs of this kind one claim may take. More than one suits work where the
    /// claim and the bookkeeping cost more than the job (handing a message to a relay).
    fn batch(&self) -> usize {
        1
    }

    /// Runs a claimed batch; answers one result per job, in order. By default one by one.
    fn run_batch<'a>(&'a self, ctx: &'a JobCtx, jobs: &'a [JobRow]) -> BatchFuture<'a> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(jobs.len());
            for job in jobs {
                out.push(self.run(ctx, job).await);
            }
            out
        })
    }
}

/// The handlers a node knows, by kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
}

impl Registry {
    pub fn with(mut self, handler: impl JobHandler + 'static) -> Registry {
        self.handlers.insert(handler.kind(), Arc::new(handler));
        self
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn JobHandler>> {
        self.handlers.get(kind)
    }
}

/// Backoff before attempt `attempt + 1`: 10 s doubling per attempt, capped at one hour, with up
/// to 10 % jitter so a burst of failures does not retry in lockstep.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 10u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    let capped = base.min(3_600);
    let jitter = jitter.clamp(0.0, 1.0);
    Duration::from_millis((capped as f64 * 1_000.0 * (1.0 + 0.1 * jitter)) as u64)
}

pub async fn depth(db: &Db) -> Result<QueueDepth, StoreError> {
    store::depth(db).await
}

pub async fn dead_letters(db: &Db, limit: i64) -> Result<Vec<JobRow>, StoreError> {
    store::dead(db, limit).await
}

/// Puts a dead letter back on the queue with a fresh set of attempts.
pub async fn retry_dead(db: &Db, id: i64, now: Timestamp) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let ok = store::requeue_dead(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(ok)
}

pub async fn discard_dead(db: &Db, id: i64) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let ok = store::delete_dead(&mut tx, id).await?;
    tx.commit().await?;
    Ok(ok)
}

/// Finished jobs are kept a week for inspection, then removed by the purge job.
pub async fn purge_done(tx: &mut Tx, before: Timestamp) -> Result<u64, StoreError> {
    store::purge_done(tx, before).await
}

pub async fn get(db: &Db, id: i64) -> Result<Option<JobRow>, StoreError> {
    store::get(db, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_an_hour() {
        assert_eq!(backoff(1, 0.0).as_secs(), 10);
        assert_eq!(backoff(2, 0.0).as_secs(), 20);
        assert_eq!(backoff(5, 0.0).as_secs(), 160);
        assert_eq!(backoff(30, 0.0).as_secs(), 3_600);
        assert_eq!(backoff(1, 1.0).as_millis(), 11_000);
    }
}
