//! Query plans of the list requests the benchmark times, as evidence next to the figures:
//! `EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL.
//!
//! The WHERE fragment and ORDER BY list come from the app itself (`opsdesk::tql::to_sql` and
//! `order_by`); the two statements around them mirror `src/tickets/store/search.rs` (`count`
//! and `page`), and the keyset condition of a cursor mirrors `keyset_filter` in
//! `src/tickets/search.rs` (built from `tql::total_order` and `tql::sort_column`): both must
//! follow the app when it changes. The bind values are read back from the filter's `Debug`
//! form, because their enum is private to the crate; a value that cannot be read back is
//! reported, never guessed. On SQLite each statement is also run three times outside HTTP and
//! its median time shown, since `EXPLAIN QUERY PLAN` has no timings.

use jiff::Timestamp;
use sqlx::AssertSqlSafe;

use super::Res;
use super::drive::ListReq;
use opsdesk::db::{Db, Ts};
use opsdesk::tql::{self, SortKey, SqlCtx};

#[derive(Debug, Clone)]
enum Val {
    Int(i64),
    Text(String),
    Ts(Timestamp),
}

/// `Int(5)`, `Text("Q7")`, `Ts(Ts(2026-11-16T09:00:00Z))` → a value.
fn read_back(debug: &str) -> Option<Val> {
    if let Some(v) = debug.strip_prefix("Int(").and_then(|s| s.strip_suffix(')')) {
        return v.parse().ok().map(Val::Int);
    }
    if let Some(v) = debug
        .strip_prefix("Text(")
        .and_then(|s| s.strip_suffix(')'))
    {
        return serde_json::from_str::<String>(v).ok().map(Val::Text);
    }
    if let Some(v) = debug
        .strip_prefix("Ts(Ts(")
        .and_then(|s| s.strip_suffix("))"))
    {
        return v.parse().ok().map(Val::Ts);
    }
    None
}

/// The app's two statements for one list request, with their binds.
fn statements(db: &Db, r: &ListReq, now: Timestamp) -> Res<Vec<(&'static str, String, Vec<Val>)>> {
    let expr = tql::parse(&r.query)?;
    let sorts = tql::parse_order(r.order.unwrap_or("-updated"))?;
    let ctx = SqlCtx {
        backend: db.backend(),
        now,
        tz: jiff::tz::TimeZone::UTC,
        current_user: Some("bench"),
    };
    let filter = tql::to_sql(Some(&expr), &ctx)?;
    let mut binds = Vec::new();
    for b in &filter.binds {
        let d = format!("{b:?}");
        binds.push(read_back(&d).ok_or_else(|| format!("cannot read back the bind {d}"))?);
    }
    let count = format!(
        "SELECT COUNT(*) FROM tickets t WHERE t.merged_into IS NULL AND ({})",
        filter.sql
    );
    let mut page_binds = binds.clone();
    let mut page = format!(
        "{} WHERE t.merged_into IS NULL AND ({})",
        opsdesk::select_tickets!(""),
        filter.sql
    );
    let per_page = r.per_page.unwrap_or(50);
    let mut offset = (r.page.unwrap_or(1) - 1) * per_page;
    if let Some(c) = &r.after {
        let (cond, vals) = keyset(&sorts, c, page_binds.len())?;
        page.push_str(&format!(" AND ({cond})"));
        page_binds.extend(vals);
        offset = 0;
    }
    let n = page_binds.len();
    page.push_str(&format!(
        " ORDER BY {} LIMIT ${} OFFSET ${}",
        tql::order_by(&sorts),
        n + 1,
        n + 2
    ));
    page_binds.push(Val::Int(per_page));
    page_binds.push(Val::Int(offset));
    Ok(vec![("count", count, binds), ("page", page, page_binds)])
}

/// `(c1, …, t.id) < ($k+1, …)` (or `>` ascending) for the row a cursor names.
fn keyset(sorts: &[tql::Sort], cursor: &str, before: usize) -> Res<(String, Vec<Val>)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor)?;
    let values: Vec<serde_json::Value> = serde_json::from_slice(&raw)?;
    let keys = tql::total_order(sorts);
    if values.len() != keys.len() || keys.is_empty() {
        return Err("the cursor does not fit the order".into());
    }
    let mut vals = Vec::new();
    for (k, v) in keys.iter().zip(values) {
        let bad = || format!("cursor value {v} for {:?}", k.key);
        vals.push(match k.key {
            SortKey::Id | SortKey::Priority => Val::Int(v.as_i64().ok_or_else(bad)?),
            SortKey::Created | SortKey::Updated => {
                Val::Ts(Timestamp::from_microsecond(v.as_i64().ok_or_else(bad)?)?)
            }
            SortKey::Status | SortKey::Queue | SortKey::Subject => {
                Val::Text(v.as_str().ok_or_else(bad)?.to_owned())
            }
            SortKey::Due | SortKey::Resolved => return Err(bad().into()),
        });
    }
    let cols: Vec<&str> = keys.iter().map(|k| tql::sort_column(k.key)).collect();
    let params: Vec<String> = (1..=keys.len())
        .map(|i| format!("${}", before + i))
        .collect();
    let op = if keys[0].descending { "<" } else { ">" };
    Ok((
        format!("({}) {op} ({})", cols.join(", "), params.join(", ")),
        vals,
    ))
}

macro_rules! bind_vals {
    ($q:expr, $vals:expr) => {{
        let mut q = $q;
        for v in $vals {
            q = match v {
                Val::Int(i) => q.bind(*i),
                Val::Text(s) => q.bind(s.clone()),
                Val::Ts(t) => q.bind(Ts(*t)),
            };
        }
        q
    }};
}

/// Plans of every request in `reqs`, as Markdown (one fenced block per request).
pub async fn explain(db: &Db, reqs: &[(String, ListReq)], now: Timestamp) -> Res<String> {
    let mut out = String::new();
    for (label, r) in reqs {
        out.push_str(&format!("{label}\n\n```\n"));
        match statements(db, r, now) {
            Err(e) => out.push_str(&format!("(not reproduced: {e})\n")),
            Ok(stmts) => {
                for (what, sql, vals) in stmts {
                    out.push_str(&format!("-- {what}\n"));
                    let lines = plan(db, &sql, &vals).await;
                    match lines {
                        Ok(lines) => {
                            for l in lines {
                                out.push_str(&l);
                                out.push('\n');
                            }
                        }
                        Err(e) => out.push_str(&format!("(EXPLAIN failed: {e})\n")),
                    }
                }
            }
        }
        out.push_str("```\n\n");
    }
    Ok(out)
}

async fn plan(db: &Db, sql: &str, vals: &[Val]) -> Res<Vec<String>> {
    Ok(match db {
        Db::Sqlite(p) => {
            let q = sqlx::query_as::<_, (i64, i64, i64, String)>(AssertSqlSafe(format!(
                "EXPLAIN QUERY PLAN {sql}"
            )));
            let rows = bind_vals!(q, vals).fetch_all(&**p).await?;
            // Indent each row under its parent, as the sqlite3 shell does.
            let mut depth: Vec<(i64, usize)> = Vec::new();
            let mut lines: Vec<String> = rows
                .into_iter()
                .map(|(id, parent, _, detail)| {
                    let d = depth
                        .iter()
                        .find(|(i, _)| *i == parent)
                        .map_or(0, |(_, d)| d + 1);
                    depth.push((id, d));
                    format!("{}{detail}", "  ".repeat(d))
                })
                .collect();
            let mut times = Vec::new();
            let mut rows_out = 0;
            for _ in 0..3 {
                let started = std::time::Instant::now();
                let q = sqlx::query(AssertSqlSafe(sql.to_owned()));
                rows_out = bind_vals!(q, vals).fetch_all(&**p).await?.len();
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            lines.push(format!(
                "(run directly: {:.1} ms, median of 3; {rows_out} row(s))",
                times[1]
            ));
            lines
        }
        Db::Postgres(p) => {
            let q = sqlx::query_scalar::<_, String>(AssertSqlSafe(format!(
                "EXPLAIN (ANALYZE, BUFFERS) {sql}"
            )));
            bind_vals!(q, vals).fetch_all(p).await?
        }
    })
}
