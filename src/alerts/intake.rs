//! Group commit for deliveries over HTTP. A delivery holds its source's lock (and on SQLite
//! the one writer) from its first read to its commit, so a source's deliveries apply one after
//! another however many arrive at once. Each source therefore has one worker that takes every
//! delivery waiting for it and applies them in order in one transaction: a burst pays for one
//! BEGIN, one source lock and one commit instead of one each, and under load the batches grow
//! by themselves while a lone delivery still goes straight through.
//!
//! A batch lands whole or not at all. If any delivery in it fails, the transaction is rolled
//! back and each delivery is applied again in a transaction of its own, so every sender gets
//! the answer its own delivery earns and one bad delivery never sinks its neighbours. The
//! sender hears back only after the commit: a 202 is never sent for something not stored.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use super::deliver::{self, Prepared};
use super::{AlertError, Delivery, Receipt};
use crate::config::Config;
use crate::db::Db;

/// Deliveries applied in one transaction at most; with [`MAX_EVENTS`] this bounds how long a
/// batch keeps the writer from everything else.
const MAX_BATCH: usize = 64;
/// Alerts in one batch at most (a large webhook still goes in a batch of its own).
const MAX_EVENTS: usize = 512;
/// Deliveries waiting for one source before senders wait to hand theirs over.
const QUEUE: usize = 1024;

/// The per-source workers of one app (cheap to clone; workers start on first use and stop
/// when the last clone is dropped).
#[derive(Clone)]
pub struct Intake {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    config: Arc<Config>,
    queues: Mutex<HashMap<String, mpsc::Sender<Job>>>,
    counts: Counts,
}

/// What the workers did, for /metrics: how well deliveries share transactions, and how often
/// a batch had to be taken apart.
#[derive(Debug, Default)]
struct Counts {
    batches: AtomicU64,
    deliveries: AtomicU64,
    rolled_back: AtomicU64,
}

/// A snapshot of [`Counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeStats {
    /// Transactions the workers ran (a batch taken apart counts once).
    pub batches: u64,
    /// Deliveries they applied or answered.
    pub deliveries: u64,
    /// Batches rolled back and applied one by one because a delivery in them failed.
    pub rolled_back: u64,
}

struct Job {
    prepared: Prepared,
    now: Timestamp,
    reply: oneshot::Sender<Result<Receipt, AlertError>>,
}

impl Intake {
    pub fn new(db: Db, config: Arc<Config>) -> Intake {
        Intake {
            inner: Arc::new(Inner {
                db,
                config,
                queues: Mutex::new(HashMap::new()),
                counts: Counts::default(),
            }),
        }
    }

    /// Takes one delivery: checked and parsed here, applied by its source's worker.
    #[tracing::instrument(skip_all, fields(source = %d.source, bytes = d.body.len()))]
    pub async fn receive(&self, d: Delivery<'_>, now: Timestamp) -> Result<Receipt, AlertError> {
        let inner = &self.inner;
        let prepared = deliver::prepare(&inner.db, &inner.config, d, now).await?;
        let name = prepared.src.name.clone();
        let (reply, answer) = oneshot::channel();
        let mut job = Job {
            prepared,
            now,
            reply,
        };
        // A worker that ended (it panicked) is replaced once; should that fail too, the
        // delivery is applied here rather than refused.
        for _ in 0..2 {
            match self.queue(&name).send(job).await {
                Ok(()) => {
                    return answer.await.unwrap_or(Err(AlertError::Interrupted));
                }
                Err(mpsc::error::SendError(back)) => {
                    job = back;
                    self.forget(&name);
                }
            }
        }
        deliver::apply_alone(&inner.db, &inner.config, &job.prepared, job.now).await
    }

    pub fn stats(&self) -> IntakeStats {
        let c = &self.inner.counts;
        IntakeStats {
            batches: c.batches.load(Ordering::Relaxed),
            deliveries: c.deliveries.load(Ordering::Relaxed),
            rolled_back: c.rolled_back.load(Ordering::Relaxed),
        }
    }

    fn queue(&self, source: &str) -> mpsc::Sender<Job> {
        let mut queues = self
            .inner
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(q) = queues.get(source) {
            return q.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(work(Arc::downgrade(&self.inner), rx));
        queues.insert(source.to_owned(), tx.clone());
        tx
    }

    fn forget(&self, source: &str) {
        self.inner
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(source);
    }
}

/// One source's worker: whatever is waiting when it is free becomes the next batch. It holds
/// the shared state only while it has work, so the state (senders and database handle) goes
/// with the last clone of the intake, and then the worker ends.
async fn work(inner: Weak<Inner>, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut events = first.prepared.parsed.events.len();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && events < MAX_EVENTS {
            match rx.try_recv() {
                Ok(job) => {
                    events += job.prepared.parsed.events.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let c = &inner.counts;
        c.batches.fetch_add(1, Ordering::Relaxed);
        c.deliveries
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        run(&inner, batch).await;
    }
}

async fn run(inner: &Inner, batch: Vec<Job>) {
    let (db, config) = (&inner.db, inner.config.as_ref());
    if batch.len() > 1 {
        let jobs: Vec<_> = batch.iter().map(|j| (&j.prepared, j.now)).collect();
        match deliver::apply_committed(db, config, &jobs).await {
            Ok(receipts) => {
                for (job, receipt) in batch.into_iter().zip(receipts) {
                    // A sender that went away (client disconnected) still had its delivery
                    // stored; only the answer is lost.
                    let _ = job.reply.send(Ok(receipt));
                }
                return;
            }
            Err(e) => {
                inner.counts.rolled_back.fetch_add(1, Ordering::Relaxed);
                tracing::info!(error = %e, deliveries = batch.len(), "alert batch rolled back; applying its deliveries one by one");
            }
        }
    }
    for job in batch {
        let r = deliver::apply_alone(db, config, &job.prepared, job.now).await;
        let _ = job.reply.send(r);
    }
}
