//! The SQL of the `jobs` table. The claim is the one statement that differs by backend:
//! PostgreSQL skips rows other nodes hold (`FOR UPDATE SKIP LOCKED`); SQLite has one writer.

use jiff::Timestamp;

use super::NewJob;
use crate::db::{Db, StoreError, Ts, Tx};
use crate::{on_pool, on_tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Dead,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: Ts,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub queued: i64,
    pub running: i64,
    pub dead: i64,
}

/// The columns of `JobRow`, spliced into statements at compile time.
macro_rules! job_columns {
    () => {
        "id, kind, payload, state, attempts, max_attempts, run_at, locked_by, last_error, created_at, updated_at"
    };
}

pub(super) async fn insert(
    tx: &mut Tx,
    job: &NewJob,
    max_attempts: u32,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    let payload = job.payload.to_string();
    let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, dedup_key, state, attempts, max_attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6) \
         ON CONFLICT (kind, dedup_key) DO NOTHING RETURNING id"
    )
    .bind(job.kind)
    .bind(&payload)
    .bind(&job.dedup_key)
    .bind(max)
    .bind(Ts(job.run_at))
    .bind(Ts(now))
    .fetch_optional(c)
    .await?
    }))
}

/// Takes the next due job (or one whose lease ran out) and leases it to `worker` until
/// `lease_until`, counting the attempt.
pub(super) async fn claim(
    db: &Db,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<JobRow>, StoreError> {
    let mut tx = db.begin().await?;
    let row: Option<JobRow> = match &mut tx {
        Tx::Postgres(t) => sqlx::query_as(concat!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, \
             locked_until = $3, updated_at = $2 \
             WHERE id = (SELECT id FROM jobs \
                 WHERE (state = 'queued' AND run_at <= $2) OR (state = 'running' AND locked_until <= $2) \
                 ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING ", job_columns!()),
        )
        .bind(worker)
        .bind(Ts(now))
        .bind(Ts(lease_until))
        .fetch_optional(&mut **t)
        .await?,
        Tx::Sqlite(t) => sqlx::query_as(concat!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, \
             locked_until = $3, updated_at = $2 \
             WHERE id = (SELECT id FROM jobs \
                 WHERE (state = 'queued' AND run_at <= $2) OR (state = 'running' AND locked_until <= $2) \
                 ORDER BY run_at, id LIMIT 1) \
             RETURNING ", job_columns!()),
        )
        .bind(worker)
        .bind(Ts(now))
        .bind(Ts(lease_until))
        .fetch_optional(&mut *t.tx)
        .await?,
    };
    tx.commit().await?;
    Ok(row)
}

/// Marks done; only the lease holder may (a worker whose lease was taken over loses the race).
pub(super) async fn finish(
    db: &Db,
    id: i64,
    worker: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = on_pool!(db, |p| {
        sqlx::query(
        "UPDATE jobs SET state = 'done', locked_by = NULL, locked_until = NULL, last_error = NULL, \
         updated_at = $3, finished_at = $3 WHERE id = $1 AND locked_by = $2 AND state = 'running'"
    )
    .bind(id)
    .bind(worker)
    .bind(Ts(now))
    .execute(p)
    .await?
    .rows_affected()
    });
    Ok(n > 0)
}

/// Reschedules at `run_at`, or buries it as dead when `dead` is set.
pub(super) async fn fail(
    db: &Db,
    id: i64,
    worker: &str,
    error: &str,
    run_at: Timestamp,
    dead: bool,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let state = if dead { "dead" } else { "queued" };
    let n = on_pool!(db, |p| sqlx::query(
        "UPDATE jobs SET state = $4, locked_by = NULL, locked_until = NULL, last_error = $3, \
         run_at = $5, updated_at = $6 WHERE id = $1 AND locked_by = $2 AND state = 'running'"
    )
    .bind(id)
    .bind(worker)
    .bind(error)
    .bind(state)
    .bind(Ts(run_at))
    .bind(Ts(now))
    .execute(p)
    .await?
    .rows_affected());
    Ok(n > 0)
}

pub(super) async fn depth(db: &Db) -> Result<QueueDepth, StoreError> {
    let rows: Vec<(String, i64)> = on_pool!(db, |p| sqlx::query_as(
        "SELECT state, COUNT(*) FROM jobs WHERE state <> 'done' GROUP BY state"
    )
    .fetch_all(p)
    .await?);
    let mut d = QueueDepth::default();
    for (state, n) in rows {
        match state.as_str() {
            "queued" => d.queued = n,
            "running" => d.running = n,
            "dead" => d.dead = n,
            _ => {}
        }
    }
    Ok(d)
}

pub(super) async fn dead(db: &Db, limit: i64) -> Result<Vec<JobRow>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " \
         FROM jobs WHERE state = 'dead' ORDER BY updated_at DESC, id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(p)
    .await?))
}

pub(super) async fn get(db: &Db, id: i64) -> Result<Option<JobRow>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " \
         FROM jobs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(p)
    .await?))
}

pub(super) async fn requeue_dead(tx: &mut Tx, id: i64, now: Timestamp) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, updated_at = $2 \
         WHERE id = $1 AND state = 'dead'"
    )
    .bind(id)
    .bind(Ts(now))
    .execute(c)
    .await?
    .rows_affected());
    Ok(n > 0)
}

pub(super) async fn delete_dead(tx: &mut Tx, id: i64) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM jobs WHERE id = $1 AND state = 'dead'"
    )
    .bind(id)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n > 0)
}

pub(super) async fn purge_done(tx: &mut Tx, before: Timestamp) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query(
        "DELETE FROM jobs WHERE state = 'done' AND finished_at <= $1"
    )
    .bind(Ts(before))
    .execute(c)
    .await?
    .rows_affected()))
}
