//! Running a compiled TQL filter. The SQL text holds only placeholders and whitelisted column
//! names (tql::to_sql builds it); every value travels as a bind.

use super::rows::TicketRow;
use crate::db::{Db, StoreError, Ts};
use crate::on_pool;

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
    Ok(on_pool!(db, |p| {
        let q = bind_all!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), &binds);
        q.fetch_one(p).await?
    }))
}

/// One page of matches in `order_by` (trusted column list of `tickets t` only), after the
/// optional keyset `after` fragment (also placeholders only). The page's ids are found first,
/// from `tickets` alone, and only those rows are joined to their owner and customer: a deep
/// OFFSET then skips index entries and bare rows, not joined, fully built result rows.
pub(crate) async fn page(
    db: &Db,
    filter: &Filter,
    keyset: Option<&Filter>,
    order_by: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<TicketRow>, StoreError> {
    let mut binds = filter.binds.clone();
    let mut ids = format!(
        "SELECT t.id FROM tickets t WHERE t.merged_into IS NULL AND ({})",
        filter.sql
    );
    if let Some(k) = keyset {
        ids.push_str(&format!(" AND ({})", renumber(&k.sql, binds.len())));
        binds.extend(k.binds.iter().cloned());
    }
    let n = binds.len();
    ids.push_str(&format!(
        " ORDER BY {order_by} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    ));
    let sql = format!(
        "{} WHERE t.id IN ({ids}) ORDER BY {order_by}",
        crate::select_tickets!("")
    );
    binds.push(Bind::Int(limit));
    binds.push(Bind::Int(offset));
    Ok(on_pool!(db, |p| {
        let q = bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &binds);
        q.fetch_all(p).await?
    }))
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
