//! Finding tickets with TQL (CONTRACT §5): one page of the matches and their total.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::Ticket;
use super::plan;
use super::store::search::{Bind, Filter, PageAt};
use super::store::{links, watchers};
use super::view::assemble;
use crate::db::{Db, Ts};
use crate::error::AppError;
use crate::tql::{self, Sort, SortKey, SqlCtx, TqlError};

/// A search request as the API and pages take it.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    pub query: Option<&'a str>,
    pub order: Option<&'a str>,
    pub page: i64,
    pub per_page: i64,
    pub current_user: Option<&'a str>,
    /// A cursor from a previous page's `next`: continue after that row (keyset paging,
    /// constant cost at any depth), instead of skipping `page` rows.
    pub after: Option<&'a str>,
    /// Count every match instead of stopping at [`COUNT_CAP`]; costs a visit of every
    /// matching row, so lists ask for it only when someone wants the number.
    pub exact_total: bool,
    /// Only this customer's tickets, whatever the query says: how the portal and a signed-in
    /// customer's API calls are fenced in. A bound value added around the compiled query.
    pub customer: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Found {
    /// Tickets matched; when `total_exact` is false, at least this many (the count stopped
    /// at the cap, as RT-style lists say "1000+").
    pub total: i64,
    pub total_exact: bool,
    pub page: i64,
    pub per_page: i64,
    pub items: Vec<Ticket>,
    /// Pass as `after` for the next page; absent on the last page, and for orders on
    /// Due or Resolved (nullable) or mixing directions, which page by number only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl From<TqlError> for AppError {
    fn from(e: TqlError) -> AppError {
        AppError::BadQuery {
            position: e.position,
            expected: e.expected,
            found: e.found,
        }
    }
}

pub const MAX_PER_PAGE: i64 = 500;

/// Where a list's count stops unless `exact_total` is asked for: far above any page a person
/// reads, low enough that counting costs about as much as fetching a page.
pub const COUNT_CAP: i64 = 1000;

/// Runs a search; bad queries and orders come back as `AppError::BadQuery` with the position.
pub async fn find(db: &Db, s: Search<'_>, now: Timestamp) -> Result<Found, AppError> {
    find_planned(db, s, now, Plan::Auto).await
}

/// How [`find_planned`] runs full-text terms (see plan.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Terms in at least [`plan::COMMON`] tickets (on PostgreSQL: all) row by row, within
    /// [`plan::count_budget`] and [`plan::PAGE_BUDGET`].
    Auto,
    /// The set form only.
    SetOnly,
    /// Terms in at least `common_from` tickets (0: all) row by row, within `budget` (for the
    /// count and again for the page).
    Probe { budget: Duration, common_from: i64 },
}

impl Plan {
    /// (count budget, page budget, tickets from which a term is common), or `None` for the
    /// set form only.
    fn probing(self, db: &Db) -> Option<(Duration, Duration, i64)> {
        match self {
            Plan::Auto => Some((plan::count_budget(db), plan::PAGE_BUDGET, plan::COMMON)),
            Plan::SetOnly => None,
            Plan::Probe {
                budget,
                common_from,
            } => Some((budget, budget, common_from)),
        }
    }
}

/// [`find`] with the plan chosen by the caller: tests hold the forms to the same answers.
pub async fn find_planned(
    db: &Db,
    s: Search<'_>,
    now: Timestamp,
    plan: Plan,
) -> Result<Found, AppError> {
    if !(1..=MAX_PER_PAGE).contains(&s.per_page) {
        return Err(AppError::invalid(
            "per_page",
            format!("must be 1 to {MAX_PER_PAGE}"),
        ));
    }
    if s.page < 1 || s.page > 1_000_000 {
        return Err(AppError::invalid("page", "must be 1 or more"));
    }
    let expr = match s.query.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => Some(tql::parse(q)?),
        None => None,
    };
    let sorts = tql::parse_order(s.order.unwrap_or("-updated"))?;
    let ctx = SqlCtx {
        backend: db.backend(),
        now,
        tz: jiff::tz::TimeZone::UTC,
        current_user: s.current_user,
    };
    let filter = fenced(tql::to_sql(expr.as_ref(), &ctx)?, s.customer);
    let (probe, count_budget, page_budget) = match plan.probing(db) {
        None => (None, Duration::ZERO, Duration::ZERO),
        Some((count_budget, page_budget, common_from)) => {
            let probe = plan::probe_filter(db, expr.as_ref(), &ctx, common_from).await?;
            let probe = probe.map(|f| fenced(f, s.customer));
            (probe, count_budget, page_budget)
        }
    };
    // PostgreSQL's index cannot say how common a term is; the alternatives counted alone can
    // (a longer OR chain than plan::MAX_ALTERNATIVES goes to the walk).
    let alternatives = match (db, &probe, &expr) {
        (Db::Postgres(_), Some(_), Some(e)) if plan == Plan::Auto => {
            let all = e.alternatives();
            if all.len() <= plan::MAX_ALTERNATIVES {
                all.into_iter()
                    .map(|a| Ok(fenced(tql::to_sql(Some(a), &ctx)?, s.customer)))
                    .collect::<Result<Vec<_>, TqlError>>()?
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    };
    let cap = (!s.exact_total).then_some(COUNT_CAP + 1);
    let counted = plan::count(
        db,
        &filter,
        probe.as_ref(),
        &alternatives,
        cap,
        count_budget,
    )
    .await?;
    let total_exact = s.exact_total || counted.n <= COUNT_CAP;
    let total = if total_exact { counted.n } else { COUNT_CAP };
    let keyset = match s.after {
        Some(c) => Some(keyset_filter(&sorts, c)?),
        None => None,
    };
    let offset = if keyset.is_some() {
        0
    } else {
        (s.page - 1) * s.per_page
    };
    let order = tql::order_by(&sorts);
    let at = PageAt {
        keyset: keyset.as_ref(),
        order_by: &order,
        limit: s.per_page,
        offset,
    };
    let rows = plan::page(db, &filter, probe.as_ref(), counted, &at, page_budget).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tx = db.begin_read().await?;
    let w = watchers::of_many(&mut tx, &ids).await?;
    let l = links::of_many(&mut tx, &ids).await?;
    tx.commit().await?;
    let items: Vec<Ticket> = rows
        .into_iter()
        .map(|r| {
            let id = r.id;
            let mine_w = w
                .iter()
                .filter(|(t, _, _)| *t == id)
                .map(|(_, role, e)| (role.clone(), e.clone()))
                .collect();
            let mine_l = l
                .iter()
                .filter(|(b, t, _)| *b == id || *t == id)
                .cloned()
                .collect();
            assemble(r, mine_w, mine_l).as_of(now)
        })
        .collect();
    let next = match items.last() {
        Some(last) if items.len() as i64 == s.per_page => cursor(&sorts, last),
        _ => None,
    };
    Ok(Found {
        total,
        total_exact,
        page: s.page,
        per_page: s.per_page,
        items,
        next,
    })
}

/// `filter` within one customer's tickets, whatever the query says: by code, exactly (TQL's
/// Customer also matches names), as a bound value around the compiled query.
fn fenced(mut filter: Filter, customer: Option<&str>) -> Filter {
    if let Some(code) = customer {
        filter.binds.push(Bind::Text(code.to_owned()));
        filter.sql = format!(
            "({}) AND t.customer_id = (SELECT id FROM customers WHERE code = ${})",
            filter.sql,
            filter.binds.len()
        );
    }
    filter
}

/// Whether an order can be paged by keyset: one direction throughout, no nullable column.
fn keyset_able(sorts: &[Sort]) -> bool {
    let all = tql::total_order(sorts);
    all.iter().all(|s| {
        s.descending == all[0].descending && !matches!(s.key, SortKey::Due | SortKey::Resolved)
    })
}

/// The cursor after `t`: its sort values and id, as URL-safe base64 of a JSON array.
fn cursor(sorts: &[Sort], t: &Ticket) -> Option<String> {
    use base64::Engine;
    if !keyset_able(sorts) {
        return None;
    }
    let values: Vec<serde_json::Value> = tql::total_order(sorts)
        .iter()
        .map(|s| match s.key {
            SortKey::Id => t.id.into(),
            SortKey::Created => t.created_at.as_microsecond().into(),
            SortKey::Updated => t.updated_at.as_microsecond().into(),
            SortKey::Priority => t.priority.into(),
            SortKey::Status => t.status.as_str().into(),
            SortKey::Queue => t.queue.clone().into(),
            SortKey::Subject => t.subject.clone().into(),
            SortKey::Due | SortKey::Resolved => serde_json::Value::Null,
        })
        .collect();
    let json = serde_json::Value::Array(values).to_string();
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

/// `(c1, c2, …, t.id) < ($1, $2, …)` (or `>` ascending) for the row a cursor names.
fn keyset_filter(sorts: &[Sort], cursor: &str) -> Result<Filter, AppError> {
    use base64::Engine;
    let bad = || {
        AppError::invalid(
            "after",
            "is not a cursor from this list's `next` (with the same order)",
        )
    };
    if !keyset_able(sorts) {
        return Err(AppError::invalid(
            "after",
            "this order pages by number only (it sorts on Due or Resolved, or mixes directions)",
        ));
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let values: Vec<serde_json::Value> = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let keys = tql::total_order(sorts);
    if values.len() != keys.len() {
        return Err(bad());
    }
    let mut binds = Vec::new();
    for (k, v) in keys.iter().zip(values) {
        binds.push(match k.key {
            SortKey::Id | SortKey::Priority => Bind::Int(v.as_i64().ok_or_else(bad)?),
            SortKey::Created | SortKey::Updated => {
                let us = v.as_i64().ok_or_else(bad)?;
                Bind::Ts(Ts(Timestamp::from_microsecond(us).map_err(|_| bad())?))
            }
            SortKey::Status | SortKey::Queue | SortKey::Subject => {
                Bind::Text(v.as_str().ok_or_else(bad)?.to_owned())
            }
            SortKey::Due | SortKey::Resolved => return Err(bad()),
        });
    }
    let cols: Vec<&str> = keys.iter().map(|k| tql::sort_column(k.key)).collect();
    let params: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
    let op = if keys[0].descending { "<" } else { ">" };
    Ok(Filter {
        sql: format!("({}) {op} ({})", cols.join(", "), params.join(", ")),
        binds,
    })
}
