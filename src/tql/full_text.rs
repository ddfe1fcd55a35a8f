//! Subject and Content `LIKE` on SQLite: a phrase MATCH on the FTS5 trigram tables (the
//! per-ticket message documents of migration 0004), so a match is proven by trigram positions
//! and no text is read back. Three characters or more; shorter ones, and PostgreSQL, take the
//! plain (I)LIKE path of to_sql.rs.
//!
//! The indexes trail the writes by a batch (migration 0011, src/search/index.rs): the rows
//! past the indexer's mark in `ticket_fts_backlog` are read with LIKE in the same statement,
//! so a search sees every committed ticket and message. The mark and the index are read in
//! one snapshot, so no row is in both halves or in neither.

use super::TqlError;
use super::ast::{Cond, Op, Value};
use super::to_sql::Builder;
use crate::db::Backend;

impl Builder<'_> {
    /// FTS5 trigram only answers substrings of 3+ characters; shorter ones scan with LIKE.
    fn fts_ok(&self, s: &str) -> bool {
        self.ctx.backend == Backend::Sqlite && s.chars().count() >= 3
    }

    pub(super) fn subject(&mut self, c: &Cond) -> Result<String, TqlError> {
        match (&c.op, &c.value) {
            (Op::Like | Op::NotLike, Value::Text(s)) if self.fts_ok(s) => {
                let p = self.text(&fts_phrase(s));
                let tail = self.like_pattern(s);
                let m = format!(
                    "t.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH {p} \
                     UNION ALL SELECT id FROM tickets WHERE id > {SUBJECTS_MARK} \
                     AND subject LIKE {tail} ESCAPE '\\')"
                );
                Ok(if c.op == Op::Like {
                    m
                } else {
                    format!("(NOT {m})")
                })
            }
            _ => self.text_cmp("t.subject", c),
        }
    }

    pub(super) fn content(&mut self, c: &Cond) -> Result<String, TqlError> {
        let Value::Text(s) = &c.value else {
            return Err(TqlError {
                position: c.span.start,
                expected: "a quoted string".into(),
                found: format!("{:?}", c.value),
            });
        };
        let matched = if self.fts_ok(s) {
            let p = self.text(&fts_phrase(s));
            let tail = self.like_pattern(s);
            format!(
                "t.id IN (SELECT rowid FROM ticket_text_fts WHERE ticket_text_fts MATCH {p} \
                 UNION ALL SELECT ticket_id FROM ticket_transactions WHERE id > {BODIES_MARK} \
                 AND body LIKE {tail} ESCAPE '\\')"
            )
        } else {
            let like = self.like_op();
            let p = self.like_pattern(s);
            format!(
                "t.id IN (SELECT ticket_id FROM ticket_transactions WHERE body {like} {p} ESCAPE '\\')"
            )
        };
        Ok(match c.op {
            Op::Like | Op::Eq => matched,
            Op::NotLike | Op::Ne => format!("(NOT {matched})"),
            op => {
                return Err(TqlError {
                    position: c.span.start,
                    expected: "LIKE or NOT LIKE".into(),
                    found: format!("{op:?}"),
                });
            }
        })
    }
}

/// How far the indexer has taken tickets into `tickets_fts`, and messages into `ticket_text_fts`.
const SUBJECTS_MARK: &str = "(SELECT indexed_to FROM ticket_fts_backlog WHERE name = 'subjects')";
const BODIES_MARK: &str = "(SELECT indexed_to FROM ticket_fts_backlog WHERE name = 'bodies')";

/// An FTS5 query for `s` as one phrase: on a trigram table that is a case-insensitive
/// substring match proven by trigram positions, with no operator or column syntax left to the
/// user (a `"` inside is doubled, the string form of FTS5's query language).
fn fts_phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
