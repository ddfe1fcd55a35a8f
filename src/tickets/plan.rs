//! How a ticket search runs its count and its page when the query has full-text terms. The set
//! form (the trigram index's matches, then the list's order) costs in proportion to the
//! matches: 300k of 1M tickets hold "packet loss", and finding and ordering them all took half
//! a second for 50 rows on SQLite; on PostgreSQL a word in many messages took 2 s. The probe
//! form walks the list in its order and tests each row, so it stops after the first page's
//! worth: a fraction of a millisecond for a common term, but the whole table for a rare one.
//! So:
//!
//! 1. on SQLite each term is looked up in the index first: with fewer than [`COMMON`] tickets
//!    it is rare and stays in the set form, where its few matches drive the search; a common
//!    term becomes a test on each row (a query may mix both), and so does a term too short
//!    for the index (under three characters), whose set form scans every message anyway.
//!    PostgreSQL's trigram index cannot say how common a term is without finding every
//!    match, so there every term is tried row by row first;
//! 2. if any term is tested row by row, that form runs under a time budget
//!    ([`count_budget`], [`PAGE_BUDGET`]), and the set form only if the budget runs out (a
//!    further condition, an order with no index, a page deep in the list);
//! 3. on PostgreSQL the count first takes each operand of the query's top-level OR alone, in
//!    its set form, within a short budget ([`count`]): a term in a few percent of the subjects
//!    reaches the cap there in milliseconds, where the walk could not count that far and the
//!    set form of the whole OR would gather every message holding it; a rare term answers
//!    below the cap just as fast, and its few matches go to the set form without a walk.
//!
//! Both forms give the same tickets (tests/integration/search_plans.rs holds them to it), so
//! which one answered shows only in the time taken.

use std::time::Duration;

use super::store::rows::TicketRow;
use super::store::search::{self, Filter, PageAt};
use crate::db::{Db, StoreError};
use crate::error::AppError;
use crate::tql::{self, Expr, SqlCtx};

/// Tickets in the index below which a term is rare enough for the set form.
pub const COMMON: i64 = 200;

/// How long the probe form may take to count, before the set form takes over. A common term
/// costs about its inverse share of rows to count to the cap (1,001 matches): at 1M tickets,
/// 4 ms for a term in 30% of them, 22 ms for one in 10% of the most recent ones. Past 40 ms
/// the term is rare enough for the set form, which costs in proportion to its matches, to be
/// about as cheap.
pub const COUNT_BUDGET: Duration = Duration::from_millis(40);

/// How long the probe form may take to fill a page: a page needs far fewer matches than the
/// count (50, not 1,001), so a term that has not filled it by then is rare in the list's order.
pub const PAGE_BUDGET: Duration = Duration::from_millis(20);

/// A page ending beyond this many rows is left to the set form: the probe form would visit
/// about (offset + limit) / (share of tickets matching) rows.
const PROBE_ROWS: i64 = 1000;

/// The query with its common full-text terms tested row by row (a term is common when the
/// index holds at least `common_from` tickets with it), or `None` when no term is.
pub async fn probe_filter(
    db: &Db,
    expr: Option<&Expr>,
    ctx: &SqlCtx<'_>,
    common_from: i64,
) -> Result<Option<Filter>, AppError> {
    let atoms = tql::probe_atoms(expr, ctx)?;
    let mut common = Vec::with_capacity(atoms.len());
    for a in &atoms {
        common.push(
            common_from <= 0 || !a.indexed || search::indexed_at_least(db, a, common_from).await?,
        );
    }
    if !common.contains(&true) {
        return Ok(None);
    }
    Ok(Some(tql::to_probe_sql(expr, ctx, &common)?))
}

/// [`COUNT_BUDGET`] on SQLite. PostgreSQL tests a row more slowly (ILIKE folds case as it
/// goes): a word in a few percent of 1M tickets took 50–90 ms to count to the cap, where its
/// set form took 3 s. A rare term's count is settled before this walk ([`count`]).
pub fn count_budget(db: &Db) -> Duration {
    match db {
        Db::Sqlite(_) => COUNT_BUDGET,
        Db::Postgres(_) => PG_COUNT_BUDGET,
    }
}

const PG_COUNT_BUDGET: Duration = Duration::from_millis(150);

/// A count of `filter`'s matches, and whether the page is still worth walking.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    pub n: i64,
    pub walk_page: bool,
}

/// How long each alternative of a query may take to count alone on PostgreSQL
/// ([`count`]): a subject word in 1% of 1M tickets reached the cap in 11–21 ms; a word in
/// 17,000 message bodies planned as a walk over every message (370 ms), which this stops.
const ALTERNATIVE_BUDGET: Duration = Duration::from_millis(40);

/// At most this many alternatives are counted alone (each may spend
/// [`ALTERNATIVE_BUDGET`]); the caller passes none for a longer OR chain, which goes to the walk.
pub const MAX_ALTERNATIVES: usize = 4;

/// The count of `filter`'s matches (up to `cap`), by `probe` within `budget` when given.
///
/// On PostgreSQL, `alternatives` (the set forms of the query's top-level OR operands, each
/// fenced as the query is) are counted first, each alone within [`ALTERNATIVE_BUDGET`]: one
/// that reaches the cap settles the count (a subject word in a few percent of tickets: the
/// walk could not count that far in its budget, and the set form of the whole OR orders
/// every message that holds it too; 100 + 150 ms at 1M tickets). When every alternative
/// answers below the cap, the matches are few and the set form of the whole query counts them
/// at once; it also pages them (`walk_page` false), since a walk for a rare term would only
/// spend its budget. Only when an alternative ran out of time does the walk get its turn.
///
/// Otherwise every term is walked first, rare ones included (nothing says which are rare), so
/// a count whose walk ran out of budget falls to the set form; the page is walked then only
/// when the count reached the cap (the matches are many, so the list's first rows hold some)
/// or on SQLite, where only terms its index found common are walked.
pub async fn count(
    db: &Db,
    filter: &Filter,
    probe: Option<&Filter>,
    alternatives: &[Filter],
    cap: Option<i64>,
    budget: Duration,
) -> Result<Counted, StoreError> {
    let (Some(p), Some(cap)) = (probe, cap) else {
        return Ok(Counted {
            n: search::count(db, filter, cap).await?,
            walk_page: true,
        });
    };
    if !alternatives.is_empty()
        && let Some(c) = by_alternatives(db, filter, alternatives, cap).await?
    {
        return Ok(c);
    }
    let mut b = db.budgeted(budget).await?;
    let n = search::count_within(&mut b, p, Some(cap)).await?;
    b.release().await;
    if let Some(n) = n {
        return Ok(Counted { n, walk_page: true });
    }
    let n = search::count(db, filter, Some(cap)).await?;
    Ok(Counted {
        n,
        walk_page: matches!(db, Db::Sqlite(_)) || n >= cap,
    })
}

/// The count from the alternatives alone (see [`count`]), or `None` when one of them ran out
/// of time and none reached the cap.
async fn by_alternatives(
    db: &Db,
    filter: &Filter,
    alternatives: &[Filter],
    cap: i64,
) -> Result<Option<Counted>, StoreError> {
    let mut all_answered = true;
    let mut last = 0;
    for a in alternatives {
        let mut b = db.budgeted(ALTERNATIVE_BUDGET).await?;
        let n = search::count_within(&mut b, a, Some(cap)).await?;
        b.release().await;
        match n {
            Some(n) if n >= cap => return Ok(Some(Counted { n, walk_page: true })),
            Some(n) => last = n,
            None => all_answered = false,
        }
    }
    if !all_answered {
        return Ok(None);
    }
    // A single alternative is the query itself, already counted.
    let n = match alternatives.len() {
        1 => last,
        _ => search::count(db, filter, Some(cap)).await?,
    };
    Ok(Some(Counted {
        n,
        walk_page: false,
    }))
}

/// One page of `filter`'s matches, by `probe` within `budget` when given and `counted` says
/// the walk is worth it.
pub async fn page(
    db: &Db,
    filter: &Filter,
    probe: Option<&Filter>,
    counted: Counted,
    at: &PageAt<'_>,
    budget: Duration,
) -> Result<Vec<TicketRow>, StoreError> {
    if let Some(p) = probe
        && counted.walk_page
        && at.offset + at.limit <= PROBE_ROWS
    {
        let mut b = db.budgeted(budget).await?;
        let rows = search::page_within(&mut b, p, at).await?;
        b.release().await;
        if let Some(rows) = rows {
            return Ok(rows);
        }
    }
    search::page(db, filter, at).await
}
