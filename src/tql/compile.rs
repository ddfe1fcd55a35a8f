//! The entry points of TQL → SQL, and what a query is compiled against: the set form
//! ([`to_sql`]) and the probe form with its full-text terms (see full_text.rs). The
//! translation itself is to_sql.rs's `Builder`.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::TqlError;
use super::ast::Expr;
use super::full_text::{Atom, Probing};
use super::to_sql::Builder;
use crate::db::Backend;
use crate::tickets::store::search::Filter;

/// What a query is compiled against.
#[derive(Debug, Clone)]
pub struct SqlCtx<'a> {
    pub backend: Backend,
    pub now: Timestamp,
    pub tz: TimeZone,
    /// For `Owner = '__CurrentUser__'`.
    pub current_user: Option<&'a str>,
}

/// Compiles a parsed query; `None` (no query) matches every ticket.
pub fn to_sql(expr: Option<&Expr>, ctx: &SqlCtx<'_>) -> Result<Filter, TqlError> {
    Ok(build(expr, ctx, Probing::Off)?.0)
}

/// The query's full-text terms that can be tested row by row (full_text.rs), in query order:
/// on SQLite the ASCII ones, on PostgreSQL all.
pub fn probe_atoms(expr: Option<&Expr>, ctx: &SqlCtx<'_>) -> Result<Vec<Atom>, TqlError> {
    Ok(build(expr, ctx, Probing::All)?.1)
}

/// The query with the terms `probe` marks (in [`probe_atoms`]' order) tested row by row and
/// the others through the index.
pub fn to_probe_sql(
    expr: Option<&Expr>,
    ctx: &SqlCtx<'_>,
    probe: &[bool],
) -> Result<Filter, TqlError> {
    Ok(build(expr, ctx, Probing::Chosen(probe))?.0)
}

fn build<'a>(
    expr: Option<&Expr>,
    ctx: &'a SqlCtx<'a>,
    probing: Probing<'a>,
) -> Result<(Filter, Vec<Atom>), TqlError> {
    let mut b = Builder {
        ctx,
        binds: Vec::new(),
        probing,
        atoms: Vec::new(),
    };
    let sql = match expr {
        Some(e) => b.expr(e, 0)?,
        None => "1 = 1".into(),
    };
    Ok((
        Filter {
            sql,
            binds: b.binds,
        },
        b.atoms,
    ))
}
