//! Running a compiled TQL filter. The SQL text holds only placeholders and whitelisted column
//! names (tql::to_sql builds it); every value travels as a bind.

use super::rows::TicketRow;
use crate::db::{Budgeted, Db, StoreError, Ts, unless_interrupted};
use crate::tql::{Atom, FtsTable};
use crate::{on_budget, on_pool};

/// A value bound to a `$n` placeholder of dynamic SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Int(i64),
    Text(String),
    Ts(Ts),
}

/// A WHERE fragment over `tickets t` and its binds, numbered from `$1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub sql: String,
    pub binds: Vec<Bind>,
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Int(i) => q.bind(*i),
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Ts(t) => q.bind(*t),
            };
        }
        q
    }};
}

/// How many live (not merged) tickets match, counting no further than `cap` when given: the
/// count visits every matching row, so on large results a cap keeps a list page as cheap as
/// its rows (the caller reports "more than").
pub(crate) async fn count(db: &Db, filter: &Filter, cap: Option<i64>) -> Result<i64, StoreError> {
    let (sql, binds) = count_sql(filter, cap);
    Ok(on_pool!(db, |p| {
        let q = bind_all!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), &binds);
        q.persistent(db.caches_statements()).fetch_one(p).await?
    }))
}

/// [`count`] of a probe-form filter (tql::to_probe_sql) on a budgeted reader: `None` when
/// the budget ran out first.
pub(crate) async fn count_within(
    b: &mut Budgeted,
    filter: &Filter,
    cap: Option<i64>,
) -> Result<Option<i64>, StoreError> {
    let (sql, binds) = count_sql(filter, cap);
    let cached = b.caches_statements();
    on_budget!(b, |c| {
        let q = bind_all!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), &binds);
        unless_interrupted(q.persistent(cached).fetch_one(c).await)
    })
}

fn count_sql(filter: &Filter, cap: Option<i64>) -> (String, Vec<Bind>) {
    let mut binds = filter.binds.clone();
    let sql = match cap {
        None => format!(
            "SELECT COUNT(*) FROM tickets t WHERE t.merged_into IS NULL AND ({})",
            filter.sql
        ),
        Some(cap) => {
            binds.push(Bind::Int(cap));
            format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM tickets t \
                 WHERE t.merged_into IS NULL AND ({}) LIMIT ${}) capped",
                filter.sql,
                binds.len()
            )
        }
    };
    (sql, binds)
}

/// One page of matches in `order_by` (trusted column list of `tickets t` only), after the
/// optional keyset `after` fragment (also placeholders only). The page's ids are found first,
/// from `tickets` alone, and only those rows are joined to their owner and customer: a deep
/// OFFSET then skips index entries and bare rows, not joined, fully built result rows.
pub(crate) async fn page(
    db: &Db,
    filter: &Filter,
    at: &PageAt<'_>,
) -> Result<Vec<TicketRow>, StoreError> {
    let (sql, binds) = page_sql(filter, at);
    Ok(on_pool!(db, |p| {
        let q = bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &binds);
        q.persistent(db.caches_statements()).fetch_all(p).await?
    }))
}

/// [`page`] of a probe-form filter on a budgeted reader: `None` when the budget ran out first.
pub(crate) async fn page_within(
    b: &mut Budgeted,
    filter: &Filter,
    at: &PageAt<'_>,
) -> Result<Option<Vec<TicketRow>>, StoreError> {
    let (sql, binds) = page_sql(filter, at);
    let cached = b.caches_statements();
    on_budget!(b, |c| {
        let q = bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &binds);
        unless_interrupted(q.persistent(cached).fetch_all(c).await)
    })
}

/// Which page of a list: its order, where it starts and how long it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageAt<'a> {
    pub keyset: Option<&'a Filter>,
    pub order_by: &'a str,
    pub limit: i64,
    pub offset: i64,
}

fn page_sql(filter: &Filter, at: &PageAt<'_>) -> (String, Vec<Bind>) {
    let mut binds = filter.binds.clone();
    let mut ids = format!(
        "SELECT t.id FROM tickets t WHERE t.merged_into IS NULL AND ({})",
        filter.sql
    );
    if let Some(k) = at.keyset {
        ids.push_str(&format!(" AND ({})", renumber(&k.sql, binds.len())));
        binds.extend(k.binds.iter().cloned());
    }
    let n = binds.len();
    let order_by = at.order_by;
    ids.push_str(&format!(
        " ORDER BY {order_by} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    ));
    let sql = format!(
        "{} WHERE t.id IN ({ids}) ORDER BY {order_by}",
        crate::select_tickets!("")
    );
    binds.push(Bind::Int(at.limit));
    binds.push(Bind::Int(at.offset));
    (sql, binds)
}

/// Whether the trigram index holds at least `n` tickets with `atom` (reading no further than
/// the `n`th): a term below that is rare enough that the set form costs next to nothing.
pub(crate) async fn indexed_at_least(db: &Db, atom: &Atom, n: i64) -> Result<bool, StoreError> {
    let sql = match atom.table {
        FtsTable::Subjects => {
            "SELECT COUNT(*) FROM (SELECT 1 FROM search.tickets_fts \
             WHERE tickets_fts MATCH $1 LIMIT $2)"
        }
        FtsTable::Bodies => {
            "SELECT COUNT(*) FROM (SELECT 1 FROM search.ticket_text_fts \
             WHERE ticket_text_fts MATCH $1 LIMIT $2)"
        }
    };
    let found: i64 = on_pool!(db, |p| {
        sqlx::query_scalar(sql)
            .bind(&atom.phrase)
            .bind(n)
            .fetch_one(p)
            .await?
    });
    Ok(found >= n)
}

/// Shifts `$1..$n` in `sql` by `by`, so a second fragment can follow the first's binds.
pub(crate) fn renumber(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            let v: usize = n.parse().unwrap_or(0);
            out.push_str(&format!("${}", v + by));
        } else {
            out.push(c);
        }
    }
    out
}

/// (queue, status, count) over live tickets, for the queue overview.
pub(crate) async fn counts(db: &Db) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(on_pool!(db, |p| {
        sqlx::query_as(
        "SELECT queue, status, COUNT(*) FROM tickets WHERE merged_into IS NULL GROUP BY queue, status"
    )
    .fetch_all(p)
    .await?
    }))
}

#[cfg(test)]
mod tests {
    use super::renumber;

    #[test]
    fn placeholders_shift_without_touching_other_text() {
        assert_eq!(
            renumber("(t.a, t.id) < ($1, $2)", 3),
            "(t.a, t.id) < ($4, $5)"
        );
        assert_eq!(
            renumber("x = $10 AND y = 'price $'", 1),
            "x = $11 AND y = 'price $'"
        );
    }
}
