//! The SQL of alerts, their storms, their sources' lock rows and the raw deliveries.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::{AlertView, Filter, SilenceView, State};
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
        sqlx::query_scalar(
            "INSERT INTO alerts (source, identity, name, host, severity, summary, state, \
             occurrence, ticket_id, customer_id, storm_id, count, flaps, first_seen, last_seen, \
             changed_at, resolved_at, opened_at, labels, annotations, generator_url, external_url) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22) RETURNING id",
        )
        .bind(&a.source)
        .bind(&a.identity)
        .bind(&a.name)
        .bind(&a.host)
        .bind(&a.severity)
        .bind(&a.summary)
        .bind(&a.state)
        .bind(&a.occurrence)
        .bind(a.ticket_id)
        .bind(a.customer_id)
        .bind(a.storm_id)
        .bind(a.count)
        .bind(a.flaps)
        .bind(a.first_seen)
        .bind(a.last_seen)
        .bind(a.changed_at)
        .bind(a.resolved_at)
        .bind(a.opened_at)
        .bind(&a.labels)
        .bind(&a.annotations)
        .bind(&a.generator_url)
        .bind(&a.external_url)
        .fetch_one(c)
        .await?
    }))
}

/// Writes back everything apply() may change.
pub(super) async fn save(tx: &mut Tx, a: &AlertRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE alerts SET name = $2, host = $3, severity = $4, summary = $5, state = $6, \
         occurrence = $7, ticket_id = $8, customer_id = $9, storm_id = $10, count = $11, \
         flaps = $12, first_seen = $13, last_seen = $14, changed_at = $15, resolved_at = $16, \
         opened_at = $17, labels = $18, annotations = $19, generator_url = $20, \
         external_url = $21 WHERE id = $1"
    )
    .bind(a.id)
    .bind(&a.name)
    .bind(&a.host)
    .bind(&a.severity)
    .bind(&a.summary)
    .bind(&a.state)
    .bind(&a.occurrence)
    .bind(a.ticket_id)
    .bind(a.customer_id)
    .bind(a.storm_id)
    .bind(a.count)
    .bind(a.flaps)
    .bind(a.first_seen)
    .bind(a.last_seen)
    .bind(a.changed_at)
    .bind(a.resolved_at)
    .bind(a.opened_at)
    .bind(&a.labels)
    .bind(&a.annotations)
    .bind(&a.generator_url)
    .bind(&a.external_url)
    .execute(c)
    .await
    .map(|_| ())?);
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

/// A repeat: only the counter and last-seen move.
pub(super) async fn repeat(tx: &mut Tx, id: i64, now: Timestamp) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE alerts SET count = count + 1, last_seen = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// How many incidents of their own the source's alerts opened since `since` (storm members
/// have none).
pub(super) async fn opened_since(
    tx: &mut Tx,
    source: &str,
    since: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE source = $1 AND opened_at >= $2")
            .bind(source)
            .bind(Ts(since))
            .fetch_one(c)
            .await?
    }))
}

/// How many alerts on ticket `id` are not resolved.
pub(super) async fn unresolved_on(tx: &mut Tx, ticket_id: i64) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM alerts WHERE ticket_id = $1 AND state <> 'resolved'",
        )
        .bind(ticket_id)
        .fetch_one(c)
        .await?
    }))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct StormRow {
    pub id: i64,
    pub ticket_id: i64,
    pub started_at: Ts,
    pub last_alert_at: Ts,
    pub ended_at: Option<Ts>,
    pub alerts: i64,
}

pub(super) async fn storm(tx: &mut Tx, id: i64) -> Result<Option<StormRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT id, ticket_id, started_at, last_alert_at, ended_at, alerts \
             FROM alert_storms WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await?
    }))
}

pub(super) async fn insert_storm(
    tx: &mut Tx,
    source: &str,
    ticket_id: i64,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO alert_storms (source, ticket_id, started_at, last_alert_at, alerts) \
             VALUES ($1, $2, $3, $3, 0) RETURNING id",
        )
        .bind(source)
        .bind(ticket_id)
        .bind(Ts(now))
        .fetch_one(c)
        .await?
    }))
}

/// One more alert joined storm `id`.
pub(super) async fn storm_joined(tx: &mut Tx, id: i64, now: Timestamp) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE alert_storms SET alerts = alerts + 1, last_alert_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(Ts(now))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

pub(super) async fn end_storm(tx: &mut Tx, id: i64, at: Timestamp) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE alert_storms SET ended_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(Ts(at))
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

/// The answer given to an earlier delivery of the same bytes since `since`, if there was one.
pub(super) async fn earlier_delivery(
    tx: &mut Tx,
    source: &str,
    digest: &str,
    since: Timestamp,
) -> Result<Option<String>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "SELECT tickets FROM alert_payloads WHERE source = $1 AND digest = $2 \
             AND received_at >= $3 AND outcome = 'applied' ORDER BY id DESC LIMIT 1",
        )
        .bind(source)
        .bind(digest)
        .bind(Ts(since))
        .fetch_optional(c)
        .await?
    }))
}

pub(super) struct NewPayload<'a> {
    pub source: &'a str,
    pub digest: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    pub tickets: &'a str,
}

pub(super) async fn insert_payload(
    tx: &mut Tx,
    p: &NewPayload<'_>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO alert_payloads (source, received_at, digest, content_type, body, \
             outcome, error, tickets) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(p.source)
        .bind(Ts(now))
        .bind(p.digest)
        .bind(p.content_type)
        .bind(p.body)
        .bind(p.outcome)
        .bind(p.error)
        .bind(p.tickets)
        .fetch_one(c)
        .await?
    }))
}

/// Deletes up to `limit` deliveries of `source` received before `before`.
pub(super) async fn purge_payloads(
    tx: &mut Tx,
    source: &str,
    before: Timestamp,
    limit: i64,
) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query(
            "DELETE FROM alert_payloads WHERE id IN (SELECT id FROM alert_payloads \
             WHERE received_at < $2 AND source = $1 ORDER BY received_at LIMIT $3)",
        )
        .bind(source)
        .bind(Ts(before))
        .bind(limit)
        .execute(c)
        .await?
        .rows_affected()
    }))
}

/// Sources that ever applied a delivery (configured or not any more), for the purge; a
/// DISTINCT over the deliveries themselves would read all of them.
pub(super) async fn payload_sources(tx: &mut Tx) -> Result<Vec<String>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar("SELECT name FROM alert_sources")
            .fetch_all(c)
            .await?
    }))
}

pub(super) async fn set_silence(
    tx: &mut Tx,
    id: i64,
    silence: &SilenceView,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE alerts SET silence_id = $2, silenced_until = $3, silenced_by = $4 WHERE id = $1"
    )
    .bind(id)
    .bind(&silence.id)
    .bind(Ts(silence.until))
    .bind(&silence.by)
    .execute(c)
    .await
    .map(|_| ())?);
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ListRow {
    id: i64,
    identity: String,
    source: String,
    state: String,
    name: String,
    host: Option<String>,
    severity: Option<String>,
    summary: String,
    count: i64,
    first_seen: Ts,
    last_seen: Ts,
    resolved_at: Option<Ts>,
    ticket_id: Option<i64>,
    customer: Option<String>,
    flaps: i64,
    storm_id: Option<i64>,
    labels: String,
    annotations: String,
    generator_url: Option<String>,
    silence_id: Option<String>,
    silenced_until: Option<Ts>,
    silenced_by: Option<String>,
}

fn map(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl From<ListRow> for AlertView {
    fn from(r: ListRow) -> AlertView {
        AlertView {
            id: r.id,
            identity: r.identity,
            source: r.source,
            state: State::parse(&r.state).unwrap_or(State::Firing),
            name: r.name,
            host: r.host,
            severity: r.severity,
            summary: r.summary,
            count: r.count,
            first_seen: r.first_seen.0,
            last_seen: r.last_seen.0,
            resolved_at: r.resolved_at.map(|t| t.0),
            ticket: r.ticket_id,
            customer: r.customer,
            flapping: r.flaps > 0,
            storm: r.storm_id.is_some(),
            labels: map(&r.labels),
            annotations: map(&r.annotations),
            generator_url: r.generator_url,
            silence: match (r.silence_id, r.silenced_until, r.silenced_by) {
                (Some(id), Some(until), by) => Some(SilenceView {
                    id,
                    until: until.0,
                    by: by.unwrap_or_default(),
                }),
                _ => None,
            },
            silenceable: false,
        }
    }
}

const LIST_COLUMNS: &str = "a.id, a.identity, a.source, a.state, a.name, a.host, a.severity, \
     a.summary, a.count, a.first_seen, a.last_seen, a.resolved_at, a.ticket_id, \
     c.code AS customer, a.flaps, a.storm_id, a.labels, a.annotations, a.generator_url, \
     a.silence_id, a.silenced_until, a.silenced_by";

/// The alerts matching `f`, most recently seen first, and how many match. Built from fixed
/// pieces with every value bound.
pub(super) async fn list(tx: &mut Tx, f: &Filter) -> Result<(i64, Vec<AlertView>), StoreError> {
    let mut conds: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut n = 0;
    let mut next = |v: String, binds: &mut Vec<String>| {
        binds.push(v);
        n += 1;
        format!("${n}")
    };
    if !f.states.is_empty() {
        let ps: Vec<String> = f
            .states
            .iter()
            .map(|s| next(s.as_str().to_owned(), &mut binds))
            .collect();
        conds.push(format!("a.state IN ({})", ps.join(", ")));
    }
    if let Some(s) = &f.source {
        conds.push(format!("a.source = {}", next(s.clone(), &mut binds)));
    }
    if let Some(c) = &f.customer {
        conds.push(format!(
            "a.customer_id = (SELECT id FROM customers WHERE code = {})",
            next(c.clone(), &mut binds)
        ));
    }
    let ticket = f.ticket;
    if ticket.is_some() {
        conds.push(format!("a.ticket_id = ${}", binds.len() + 1));
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    let count_sql = format!("SELECT COUNT(*) FROM alerts a{filter}");
    let list_sql = format!(
        "SELECT {LIST_COLUMNS} FROM alerts a LEFT JOIN customers c ON c.id = a.customer_id\
         {filter} ORDER BY a.last_seen DESC, a.id DESC LIMIT {} OFFSET {}",
        f.limit.clamp(1, 1000),
        f.offset.max(0)
    );
    let total: i64 = on_tx!(tx, |c| {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        if let Some(t) = ticket {
            q = q.bind(t);
        }
        q.fetch_one(c).await?
    });
    let rows: Vec<ListRow> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(list_sql.clone()));
        for b in &binds {
            q = q.bind(b.clone());
        }
        if let Some(t) = ticket {
            q = q.bind(t);
        }
        q.fetch_all(c).await?
    });
    Ok((total, rows.into_iter().map(AlertView::from).collect()))
}

/// One kept delivery, without its bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayloadRow {
    pub id: i64,
    pub source: String,
    pub received_at: Ts,
    pub content_type: String,
    pub outcome: String,
    pub error: Option<String>,
    pub tickets: String,
    pub size: i64,
}

/// The latest deliveries, newest first; only those with `outcome` when given.
pub(super) async fn payloads(
    tx: &mut Tx,
    outcome: Option<&str>,
    limit: i64,
) -> Result<Vec<PayloadRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT id, source, received_at, content_type, outcome, error, tickets, \
             CAST(LENGTH(body) AS BIGINT) AS size FROM alert_payloads \
             WHERE ($1 IS NULL OR outcome = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(outcome)
        .bind(limit)
        .fetch_all(c)
        .await?
    }))
}

/// The bytes of delivery `id`, as received.
pub(super) async fn payload_body(tx: &mut Tx, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar("SELECT body FROM alert_payloads WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?
    }))
}
