//! The SQL of alerts and their sources' lock rows; storms, raw deliveries and the list are
//! beside this file.

mod list;
mod payloads;
mod storms;

pub(super) use list::*;
pub use payloads::PayloadRow;
pub(super) use payloads::*;
pub(super) use storms::*;

use jiff::Timestamp;

use super::State;
use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

/// An alert as apply() reads, changes and writes it back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct AlertRow {
    pub id: i64,
    pub source: String,
    pub identity: String,
    pub name: String,
    pub host: Option<String>,
    pub severity: Option<String>,
    pub summary: String,
    pub state: String,
    pub occurrence: Option<String>,
    pub ticket_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub storm_id: Option<i64>,
    pub count: i64,
    pub flaps: i64,
    pub first_seen: Ts,
    pub last_seen: Ts,
    pub changed_at: Ts,
    pub resolved_at: Option<Ts>,
    pub opened_at: Option<Ts>,
    pub labels: String,
    pub annotations: String,
    pub generator_url: Option<String>,
    pub external_url: Option<String>,
}

impl AlertRow {
    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Firing)
    }
}

/// `SELECT <every AlertRow column> FROM alerts` + `$tail`, one column list for every read.
macro_rules! select_alerts {
    ($tail:literal) => {
        concat!(
            "SELECT id, source, identity, name, host, severity, summary, state, occurrence, \
             ticket_id, customer_id, storm_id, count, flaps, first_seen, last_seen, changed_at, \
             resolved_at, opened_at, labels, annotations, generator_url, external_url \
             FROM alerts ",
            $tail
        )
    };
}

/// Binds `a`'s columns from `name` to `external_url`, in table order: insert and save list
/// them alike after their own first parameters.
macro_rules! bind_state {
    ($q:expr, $a:expr) => {
        $q.bind(&$a.name)
            .bind(&$a.host)
            .bind(&$a.severity)
            .bind(&$a.summary)
            .bind(&$a.state)
            .bind(&$a.occurrence)
            .bind($a.ticket_id)
            .bind($a.customer_id)
            .bind($a.storm_id)
            .bind($a.count)
            .bind($a.flaps)
            .bind($a.first_seen)
            .bind($a.last_seen)
            .bind($a.changed_at)
            .bind($a.resolved_at)
            .bind($a.opened_at)
            .bind(&$a.labels)
            .bind(&$a.annotations)
            .bind(&$a.generator_url)
            .bind(&$a.external_url)
    };
}

/// Takes the source's lock row (creating it): deliveries of one source apply one at a time on
/// PostgreSQL too. Answers the source's storm, if one is on.
pub(super) async fn lock_source(
    tx: &mut Tx,
    name: &str,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    if let Tx::Sqlite(t) = tx {
        // SQLite's transaction already holds the one write lock: a read does, and spares a
        // page write on every delivery.
        let row: Option<Option<i64>> =
            sqlx::query_scalar("SELECT storm_id FROM alert_sources WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *t.tx)
                .await?;
        if let Some(storm) = row {
            return Ok(storm);
        }
    }
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO alert_sources (name, touched_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET touched_at = excluded.touched_at RETURNING storm_id",
        )
        .bind(name)
        .bind(Ts(now))
        .fetch_one(c)
        .await?
    }))
}

pub(super) async fn set_source_storm(
    tx: &mut Tx,
    name: &str,
    storm: Option<i64>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE alert_sources SET storm_id = $2 WHERE name = $1"
    )
    .bind(name)
    .bind(storm)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(super) async fn get(
    tx: &mut Tx,
    source: &str,
    identity: &str,
) -> Result<Option<AlertRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(select_alerts!("WHERE source = $1 AND identity = $2"))
            .bind(source)
            .bind(identity)
            .fetch_optional(c)
            .await?
    }))
}

pub(super) async fn by_id(tx: &mut Tx, id: i64) -> Result<Option<AlertRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(select_alerts!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(c)
            .await?
    }))
}

/// The latest alert of a source about `name` on `host` changed since `since`, open ones
/// (`resolved` false) or resolved ones: Nagios gives every problem a new id, so a re-fire or
/// a recovery without ids is matched to its alert by what it is about.
pub(super) async fn by_subject(
    tx: &mut Tx,
    source: &str,
    host: &str,
    name: &str,
    resolved: bool,
    since: Timestamp,
) -> Result<Option<AlertRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(select_alerts!(
            "WHERE source = $1 AND host = $2 AND name = $3 AND changed_at >= $5 \
             AND (state = 'resolved') = $4 ORDER BY changed_at DESC LIMIT 1"
        ))
        .bind(source)
        .bind(host)
        .bind(name)
        .bind(resolved)
        .bind(Ts(since))
        .fetch_optional(c)
        .await?
    }))
}

pub(super) async fn insert(tx: &mut Tx, a: &AlertRow) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        let q = sqlx::query_scalar(
            "INSERT INTO alerts (source, identity, name, host, severity, summary, state, \
             occurrence, ticket_id, customer_id, storm_id, count, flaps, first_seen, last_seen, \
             changed_at, resolved_at, opened_at, labels, annotations, generator_url, external_url) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22) RETURNING id",
        )
        .bind(&a.source)
        .bind(&a.identity);
        bind_state!(q, a).fetch_one(c).await?
    }))
}

/// Writes back everything apply() may change.
pub(super) async fn save(tx: &mut Tx, a: &AlertRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        let q = sqlx::query(
            "UPDATE alerts SET name = $2, host = $3, severity = $4, summary = $5, state = $6, \
         occurrence = $7, ticket_id = $8, customer_id = $9, storm_id = $10, count = $11, \
         flaps = $12, first_seen = $13, last_seen = $14, changed_at = $15, resolved_at = $16, \
         opened_at = $17, labels = $18, annotations = $19, generator_url = $20, \
         external_url = $21 WHERE id = $1",
        )
        .bind(a.id);
        bind_state!(q, a).execute(c).await.map(|_| ())?
    });
    Ok(())
}

/// A repeat of a firing alert at the same severity, in one statement: counter and last-seen
/// move, and the ticket it is on answers. None: not that case (new, resolved, no ticket, or a
/// severity change), and nothing was written.
pub(super) async fn repeat_firing(
    tx: &mut Tx,
    source: &str,
    identity: &str,
    severity: Option<&str>,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    let t: Option<Option<i64>> = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "UPDATE alerts SET count = count + 1, last_seen = $3 \
             WHERE source = $1 AND identity = $2 AND state <> 'resolved' \
             AND ticket_id IS NOT NULL AND ($4 IS NULL OR severity = $4) RETURNING ticket_id",
        )
        .bind(source)
        .bind(identity)
        .bind(Ts(now))
        .bind(severity)
        .fetch_optional(c)
        .await?
    });
    Ok(t.flatten())
}
