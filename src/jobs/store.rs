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

/// `insert` of many jobs in one statement per 500 (dedup conflicts skipped as there).
pub(super) async fn insert_many(
    tx: &mut Tx,
    jobs: &[NewJob],
    max_attempts: u32,
    now: Timestamp,
) -> Result<(), StoreError> {
    let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
    for chunk in jobs.chunks(500) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = i * 6;
                format!(
                    "(${}, ${}, ${}, 'queued', 0, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 6
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO jobs (kind, payload, dedup_key, state, attempts, max_attempts, run_at, \
             created_at, updated_at) VALUES {values} ON CONFLICT (kind, dedup_key) DO NOTHING"
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for job in chunk {
                q = q
                    .bind(job.kind)
                    .bind(job.payload.to_string())
                    .bind(job.dedup_key.clone())
                    .bind(max)
                    .bind(Ts(job.run_at))
                    .bind(Ts(now));
            }
            q.execute(c).await.map(|_| ())?
        });
    }
    Ok(())
}

/// Takes the next due job (or one whose lease ran out) and leases it to `worker` until
/// `lease_until`, counting the attempt; then, when `batch` of its kind is more than one, up to
/// that many due jobs of the same kind in the same transaction (one claim for a batch).
pub(super) async fn claim(
    db: &Db,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
    batch: impl Fn(&str) -> usize,
) -> Result<Vec<JobRow>, StoreError> {
    // A job is due when queued for now or earlier, or when its worker's lease ran out.
    let due_at = |now: &str| {
        format!(
            "((state = 'queued' AND run_at <= {now}) OR (state = 'running' AND locked_until <= {now}))"
        )
    };
    // A read first: on SQLite the claim takes the one writer turn, and workers woken by every
    // enqueue would otherwise take it for nothing as often as they find the queue empty.
    let any_sql = format!("SELECT EXISTS (SELECT 1 FROM jobs WHERE {})", due_at("$1"));
    let any: bool = on_pool!(db, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(any_sql))
        .bind(Ts(now))
        .fetch_one(p)
        .await?);
    if !any {
        return Ok(Vec::new());
    }
    let mut tx = db.begin().await?;
    let skip_locked = match tx.backend() {
        crate::db::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        crate::db::Backend::Sqlite => "",
    };
    let due = due_at("$2");
    let lease = "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, \
                 locked_until = $3, updated_at = $2";
    let first_sql = format!(
        "{lease} WHERE id = (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id LIMIT 1{skip_locked}) \
         RETURNING {}",
        job_columns!()
    );
    let first: Option<JobRow> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(first_sql))
        .bind(worker)
        .bind(Ts(now))
        .bind(Ts(lease_until))
        .fetch_optional(c)
        .await?);
    let Some(first) = first else {
        tx.commit().await?;
        return Ok(Vec::new());
    };
    let more = i64::try_from(batch(&first.kind).saturating_sub(1)).unwrap_or(0);
    let mut rows = vec![first];
    if more > 0 {
        let more_sql = format!(
            "{lease} WHERE id IN (SELECT id FROM jobs WHERE kind = $4 AND {due} \
             ORDER BY run_at, id LIMIT $5{skip_locked}) RETURNING {}",
            job_columns!()
        );
        let kind = rows[0].kind.clone();
        let mut others: Vec<JobRow> =
            on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(more_sql))
                .bind(worker)
                .bind(Ts(now))
                .bind(Ts(lease_until))
                .bind(&kind)
                .bind(more)
                .fetch_all(c)
                .await?);
        others.sort_by_key(|j| j.id);
        rows.extend(others);
    }
    tx.commit().await?;
    Ok(rows)
}

/// How a claimed job ended.
#[derive(Debug, Clone)]
pub(super) enum Settle {
    Done,
    /// Queued again at `run_at`, or buried as dead.
    Failed {
        error: String,
        run_at: Timestamp,
        dead: bool,
    },
}

/// Records how each job ended, all in one transaction, the done ones in one statement; answers,
/// per job, whether `worker` still held it (a worker whose lease was taken over loses the race).
pub(super) async fn settle(
    db: &Db,
    worker: &str,
    ends: &[(i64, Settle)],
    now: Timestamp,
) -> Result<Vec<bool>, StoreError> {
    let mut tx = db.begin().await?;
    let done: Vec<i64> = ends
        .iter()
        .filter(|(_, e)| matches!(e, Settle::Done))
        .map(|(id, _)| *id)
        .collect();
    let mut held_done: Vec<i64> = Vec::new();
    if !done.is_empty() {
        let list = (0..done.len())
            .map(|i| format!("${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE jobs SET state = 'done', locked_by = NULL, locked_until = NULL, \
             last_error = NULL, updated_at = $2, finished_at = $2 \
             WHERE locked_by = $1 AND state = 'running' AND id IN ({list}) RETURNING id"
        );
        held_done = on_tx!(&mut tx, |c| {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .bind(worker)
                .bind(Ts(now));
            for id in &done {
                q = q.bind(*id);
            }
            q.fetch_all(c).await?
        });
    }
    let mut held = Vec::with_capacity(ends.len());
    for (id, end) in ends {
        let Settle::Failed {
            error,
            run_at,
            dead,
        } = end
        else {
            held.push(held_done.contains(id));
            continue;
        };
        let n = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE jobs SET state = $4, locked_by = NULL, locked_until = NULL, \
             last_error = $3, run_at = $5, updated_at = $6 \
             WHERE id = $1 AND locked_by = $2 AND state = 'running'"
        )
        .bind(id)
        .bind(worker)
        .bind(error)
        .bind(if *dead { "dead" } else { "queued" })
        .bind(Ts(*run_at))
        .bind(Ts(now))
        .execute(c)
        .await?
        .rows_affected());
        held.push(n > 0);
    }
    tx.commit().await?;
    Ok(held)
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
