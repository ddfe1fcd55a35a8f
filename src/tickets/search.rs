//! Finding tickets with TQL (CONTRACT §5): one page of the matches and their total.

use jiff::Timestamp;
use serde::Serialize;

use super::Ticket;
use super::store::{links, search, watchers};
use super::view::assemble;
use crate::db::Db;
use crate::error::AppError;
use crate::tql::{self, SqlCtx, TqlError};

/// A search request as the API and pages take it.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    pub query: Option<&'a str>,
    pub order: Option<&'a str>,
    pub page: i64,
    pub per_page: i64,
    pub current_user: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub items: Vec<Ticket>,
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

/// Runs a search; bad queries and orders come back as `AppError::BadQuery` with the position.
pub async fn find(db: &Db, s: Search<'_>, now: Timestamp) -> Result<Found, AppError> {
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
    let filter = tql::to_sql(expr.as_ref(), &ctx)?;
    let total = search::count(db, &filter).await?;
    let offset = (s.page - 1) * s.per_page;
    let rows = search::page(
        db,
        &filter,
        None,
        &tql::order_by(&sorts),
        s.per_page,
        offset,
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tx = db.begin().await?;
    let w = watchers::of_many(&mut tx, &ids).await?;
    let l = links::of_many(&mut tx, &ids).await?;
    tx.commit().await?;
    let items = rows
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
            assemble(r, mine_w, mine_l)
        })
        .collect();
    Ok(Found {
        total,
        page: s.page,
        per_page: s.per_page,
        items,
    })
}
