//! The alert list and silences recorded on alerts.

use std::collections::BTreeMap;

use crate::alerts::{AlertView, Filter, SilenceView, State};
use crate::db::{StoreError, Ts, Tx};
use crate::on_tx;

pub(crate) async fn set_silence(
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
pub(crate) async fn list(tx: &mut Tx, f: &Filter) -> Result<(i64, Vec<AlertView>), StoreError> {
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
