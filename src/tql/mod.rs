//! The ticket query language (CONTRACT §5): Request Tracker's TicketSQL, so RT users can type what
//! they already know, e.g. `Queue = 'NOC' AND (Status = 'new' OR Status = 'open') AND Priority <= 2`.
//!
//! This is the pure front half: text in, a validated [`Expr`] out. Everything a user can get wrong
//! (unknown field, `LIKE` on a number, a date that means nothing) is rejected here, with the
//! character position and what was expected there, so the SQL compiler only ever sees trees it can
//! translate and the 400 answer can point at the mistake.
//!
//! Two things are deliberately left to the caller, because they need the request's context:
//! dates stay as the user's text ([`Value::Text`]) and are turned into instants with
//! [`resolve_date`] using the real `now` and the user's zone (DESIGN §5: no clock here), and magic
//! values (`'__Active__'`, `'__Inactive__'`, `'__CurrentUser__'`, `'Nobody'`, `SLA = 'breached'`)
//! are plain text for the compiler to recognise.
//!
//! Hostile input is bounded: at most [`MAX_QUERY_CHARS`] characters and [`MAX_DEPTH`] levels of
//! parentheses and `NOT`, so a parsed tree is at most a few hundred levels deep (long `AND`/`OR`
//! chains nest to the left) and recursive walkers over it cannot overflow the stack.

mod ast;
mod compile;
mod dates;
mod full_text;
mod lexer;
mod order;
mod order_sql;
mod parser;
#[cfg(test)]
mod properties;
/// Written alongside the tickets search (the other half of TQL): AST → bound SQL.
mod to_sql;

pub use ast::{Cond, Expr, Field, FieldKind, Op, Span, Value};
pub use compile::{SqlCtx, probe_atoms, to_probe_sql, to_sql};
pub use dates::{DateValue, resolve_date};
pub use full_text::{Atom, FtsTable};
pub use order::{MAX_SORT_KEYS, Sort, SortKey, parse_order};
pub use order_sql::{order_by, sort_column, total_order};
pub use parser::{MAX_DEPTH, MAX_QUERY_CHARS, parse};

/// A query or sort order the user has to fix; rendered as a 400 with the position, so it says
/// where, what would have been accepted there, and what was there instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at position {position}: expected {expected}, found {found}")]
pub struct TqlError {
    /// 0-based character (not byte) offset, so a UI can put a caret under it.
    pub position: usize,
    pub expected: String,
    pub found: String,
}

impl TqlError {
    pub(crate) fn new(
        position: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self {
            position,
            expected: expected.into(),
            found: found.into(),
        }
    }
}

/// How offending input is quoted in `found`: bounded, so a megabyte of garbage does not come back
/// in the error body.
pub(crate) fn quote_found(raw: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = raw.chars().take(MAX).collect();
    if raw.chars().nth(MAX).is_some() {
        out.push('…');
    }
    format!("\"{out}\"")
}
