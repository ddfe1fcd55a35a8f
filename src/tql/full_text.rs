//! Subject and Content `LIKE` on SQLite: a phrase MATCH on the FTS5 trigram tables (the
//! per-ticket message documents of migration 0004), so a match is proven by trigram positions
//! and no text is read back. Three characters or more; two ASCII characters are found
//! through the index's terms that begin with them and the texts that end with them (migration
//! 0018, [`Builder::leading`]); one character, other short strings and PostgreSQL take the
//! plain (I)LIKE path of to_sql.rs, but for PostgreSQL's two-character strings, which its pair
//! index answers (migration 0021, [`Builder::pg_pair_set`]).
//!
//! The indexes trail the writes by a batch (migration 0011, src/search/index.rs) and live in a
//! file of their own (src/db/search_file.rs): the rows past the indexer's marks, and the
//! tickets changed since they were indexed (renamed or merged into, queued in
//! `ticket_fts_changed`), are read with LIKE in the same statement, so a search sees every
//! committed ticket and message. The marks and the index are in the same file, read in one
//! snapshot of it, so no row is in both halves or in neither. The main file's snapshot may be
//! a moment older than the index file's; then a ticket the index already holds newer text of
//! is found by that newer text, never lost.
//!
//! The probe form ([`super::to_probe_sql`]) tests a term on each candidate row instead: `t.subject LIKE`
//! on the row, and for Content an EXISTS over the ticket's own messages through their
//! `ticket_id` index. Its cost is the number of rows visited before a page is full, so it is
//! microseconds for a common term in list order and a table scan for a rare one; the ticket
//! search runs it under a time budget and falls back to this set form (whose cost is the
//! number of matches) when the budget runs out. Both forms find the same tickets. A query can
//! mix them, term by term: the search asks the index first how common each term
//! ([`Atom`]) is, and tests only the common ones row by row, so a rare term's few matches
//! drive the walk and a common one is a cheap test on each.

use super::TqlError;
use super::ast::{Cond, Op, Value};
use super::to_sql::Builder;
use crate::db::Backend;
mod sets;

use sets::{BODIES, PairsOf, SUBJECTS, fts_phrase};

impl Builder<'_> {
    /// A column as the probe form tests it. On PostgreSQL, `col || ''` is no column its
    /// trigram index covers, so the planner cannot turn the test on each row back into the set
    /// form. SQLite's FTS5 tables are only ever used through MATCH, so its columns need no
    /// fence.
    fn unindexed(&self, col: &str) -> String {
        match self.ctx.backend {
            Backend::Sqlite => col.to_owned(),
            Backend::Postgres => format!("({col} || '')"),
        }
    }

    /// Whether to test this term row by row. Only an ASCII string can be: LIKE's ASCII case
    /// folding then agrees with the trigram index's. (They differ only on text holding one of
    /// the few non-ASCII letters whose case fold is ASCII, such as the Kelvin sign: the index
    /// finds "k" in it, LIKE does not.) Other strings keep the index in every form. Each
    /// term that could be is listed in `atoms`, in query order, which is how the caller's
    /// choices ([`Probing::Chosen`]) line up with the terms. A string under three characters
    /// has no trigram to look up: the index cannot say how common it is (and for one
    /// character, or a non-ASCII pair, the set form scans every message), so the walk is
    /// tried whatever it finds, and the atom says it is not indexed.
    ///
    /// PostgreSQL's set form is ILIKE too, so there any string can be tested row by row.
    fn probe_term(&mut self, table: FtsTable, s: &str) -> bool {
        let sqlite = self.ctx.backend == Backend::Sqlite;
        if matches!(self.probing, Probing::Off) || s.is_empty() || (sqlite && !s.is_ascii()) {
            return false;
        }
        let i = self.atoms.len();
        self.atoms.push(Atom {
            table,
            phrase: fts_phrase(s),
            indexed: self.fts_ok(s),
        });
        match self.probing {
            Probing::Off => false,
            Probing::All => true,
            Probing::Chosen(which) => which.get(i).copied().unwrap_or(false),
        }
    }

    pub(super) fn subject(&mut self, c: &Cond) -> Result<String, TqlError> {
        let s = match (&c.op, &c.value) {
            (Op::Like | Op::NotLike, Value::Text(s)) => s,
            _ => return self.text_cmp("t.subject", c),
        };
        let matched = if self.probe_term(FtsTable::Subjects, s) {
            let tail = self.like_pattern(s);
            let (col, like) = (self.unindexed("t.subject"), self.like_op());
            format!("{col} {like} {tail} ESCAPE '\\'")
        } else if self.fts_ok(s) {
            self.phrase_set(&SUBJECTS, s)
        } else if self.two_chars(s) {
            self.pair_set(&SUBJECTS, s)
        } else if let Some(code) = self.pg_pair(s) {
            self.pg_pair_set(PairsOf::Subjects, s, code)
        } else if self.ctx.backend == Backend::Postgres && c.op == Op::Like {
            // PostgreSQL: as a set of ids, so that `Subject LIKE x OR Content LIKE x` is one
            // set too (see `Or` in to_sql.rs).
            let tail = self.like_pattern(s);
            format!("t.id IN (SELECT id FROM tickets WHERE subject ILIKE {tail} ESCAPE '\\')")
        } else {
            return self.text_cmp("t.subject", c);
        };
        Ok(if c.op == Op::Like {
            matched
        } else {
            format!("(NOT {matched})")
        })
    }

    pub(super) fn content(&mut self, c: &Cond) -> Result<String, TqlError> {
        let Value::Text(s) = &c.value else {
            return Err(TqlError {
                position: c.span.start,
                expected: "a quoted string".into(),
                found: format!("{:?}", c.value),
            });
        };
        let matched = if self.probe_term(FtsTable::Bodies, s) {
            let tail = self.like_pattern(s);
            let (col, like) = (self.unindexed("x.body"), self.like_op());
            // Each backend must run the EXISTS once per candidate ticket, through the
            // messages' ticket_id index. `LIMIT 1` keeps SQLite 3.51 from turning it into a
            // semi-join, whose OFFSET then skips one row per matching message instead of per
            // ticket (page 2 of a list started up to a page too early; tests/integration/
            // search_plans.rs). PostgreSQL drops a LIMIT there and may hash the subquery over
            // every message (2.7 s at 1M tickets); `OFFSET 0` keeps it correlated.
            let fence = match self.ctx.backend {
                Backend::Sqlite => "LIMIT 1",
                Backend::Postgres => "OFFSET 0",
            };
            format!(
                "EXISTS (SELECT 1 FROM ticket_transactions x WHERE x.ticket_id = t.id \
                 AND {col} {like} {tail} ESCAPE '\\' {fence})"
            )
        } else if self.fts_ok(s) {
            self.phrase_set(&BODIES, s)
        } else if self.two_chars(s) {
            self.pair_set(&BODIES, s)
        } else if let Some(code) = self.pg_pair(s) {
            self.pg_pair_set(PairsOf::Bodies, s, code)
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

/// How full-text terms compile.
#[derive(Debug, Clone, Copy)]
pub enum Probing<'a> {
    /// All through the index: the set form.
    Off,
    /// Every term that can be, row by row.
    All,
    /// The terms marked true, in query order (see [`super::probe_atoms`]), row by row.
    Chosen(&'a [bool]),
}

/// A full-text term that can be tested row by row, for asking its index how common it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    pub table: FtsTable,
    /// The FTS5 phrase query for the term (see [`fts_phrase`]).
    pub phrase: String,
    /// Whether the trigram index can say how common it is (three characters or more).
    pub indexed: bool,
}

/// Which trigram index holds a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsTable {
    /// `tickets_fts`: subjects.
    Subjects,
    /// `ticket_text_fts`: each ticket's messages as one document.
    Bodies,
}

#[cfg(test)]
mod tests {
    use super::{Atom, FtsTable};
    use crate::db::Backend;
    use crate::tql::{SqlCtx, parse, probe_atoms, to_probe_sql, to_sql};

    fn ctx(backend: Backend) -> SqlCtx<'static> {
        SqlCtx {
            backend,
            now: jiff::Timestamp::UNIX_EPOCH,
            tz: jiff::tz::TimeZone::UTC,
            current_user: None,
        }
    }

    /// The probe form with every term row by row, and the terms; None without any.
    fn probe(backend: Backend, q: &str) -> Option<(String, Vec<Atom>)> {
        let e = parse(q).unwrap();
        let atoms = probe_atoms(Some(&e), &ctx(backend)).unwrap();
        if atoms.is_empty() {
            return None;
        }
        let all = vec![true; atoms.len()];
        let f = to_probe_sql(Some(&e), &ctx(backend), &all).unwrap();
        Some((f.sql, atoms))
    }

    #[test]
    fn two_ascii_characters_on_sqlite_range_over_the_index_terms_and_the_text_ends() {
        let e = parse("Content LIKE 'L2' OR Subject LIKE 'z~'").unwrap();
        let f = to_sql(Some(&e), &ctx(Backend::Sqlite)).unwrap();
        let sql = &f.sql;
        assert!(sql.contains("FROM search.ticket_text_fts_terms WHERE term >= $1 AND term < $2"));
        assert!(sql.contains("lower(substr(body, -2)) = $1 AND body IS NOT NULL"));
        assert!(sql.contains("FROM search.tickets_fts_terms WHERE term >= $4 AND term < $5"));
        assert!(sql.contains("lower(substr(subject, -2)) = $4"), "{sql}");
        use crate::tickets::store::search::Bind;
        let text = |i: usize| match &f.binds[i] {
            Bind::Text(t) => t.clone(),
            b => panic!("{b:?}"),
        };
        // Folded as the index folds; the range ends past every term that begins with it.
        assert_eq!(
            (text(0), text(1), text(2)),
            ("l2".into(), "l3".into(), "%L2%".into())
        );
        assert_eq!((text(3), text(4)), ("z~".into(), "z\u{7f}".into()));
        // One character, non-ASCII, and PostgreSQL keep the plain LIKE.
        for (q, backend) in [
            ("Content LIKE 'q'", Backend::Sqlite),
            ("Content LIKE 'žl'", Backend::Sqlite),
            ("Content LIKE 'L2'", Backend::Postgres),
        ] {
            let sql = to_sql(Some(&parse(q).unwrap()), &ctx(backend)).unwrap().sql;
            assert!(!sql.contains("_terms"), "{q}: {sql}");
        }
    }

    #[test]
    fn postgresql_reads_an_or_of_text_terms_as_one_set_of_ids() {
        let e =
            parse("Subject LIKE 'bgp' OR (Content LIKE 'loss' OR Content LIKE 'flap')").unwrap();
        let sql = to_sql(Some(&e), &ctx(Backend::Postgres)).unwrap().sql;
        assert_eq!(sql.matches("t.id IN (").count(), 1, "{sql}");
        assert_eq!(sql.matches("UNION ALL").count(), 2, "{sql}");
        assert!(
            sql.contains("SELECT id FROM tickets WHERE subject ILIKE $1"),
            "{sql}"
        );
        // Anything else in the OR keeps it an OR; so does SQLite, whose FTS5 sets differ.
        let e = parse("Subject LIKE 'bgp' OR Queue = 'NOC'").unwrap();
        let sql = to_sql(Some(&e), &ctx(Backend::Postgres)).unwrap().sql;
        assert!(sql.contains(" OR t.queue = $2"), "{sql}");
        let e = parse("Subject LIKE 'bgp' OR Content LIKE 'loss'").unwrap();
        let sql = to_sql(Some(&e), &ctx(Backend::Sqlite)).unwrap().sql;
        assert!(
            !sql.contains("UNION ALL SELECT id FROM tickets WHERE subject"),
            "{sql}"
        );
        // NOT LIKE is no set of ids to merge.
        let e = parse("Subject NOT LIKE 'bgp' OR Content LIKE 'loss'").unwrap();
        let sql = to_sql(Some(&e), &ctx(Backend::Postgres)).unwrap().sql;
        assert!(sql.contains(" OR t.id IN ("), "{sql}");
    }

    #[test]
    fn ascii_terms_become_row_tests_with_their_index_named() {
        let (sql, atoms) = probe(
            Backend::Sqlite,
            "Content LIKE 'packet loss' AND Subject NOT LIKE 'say \"hi\"'",
        )
        .unwrap();
        assert!(
            sql.contains("EXISTS (SELECT 1 FROM ticket_transactions x"),
            "{sql}"
        );
        assert!(sql.contains("(NOT t.subject LIKE"), "{sql}");
        assert!(!sql.contains("MATCH"), "{sql}");
        assert!(
            !sql.contains("packet"),
            "values are bound, never in the text: {sql}"
        );
        assert_eq!(
            atoms,
            vec![
                Atom {
                    table: FtsTable::Bodies,
                    phrase: "\"packet loss\"".into(),
                    indexed: true,
                },
                Atom {
                    table: FtsTable::Subjects,
                    phrase: "\"say \"\"hi\"\"\"".into(),
                    indexed: true,
                },
            ]
        );
    }

    #[test]
    fn postgresql_tests_every_term_on_each_row_out_of_its_indexes_reach() {
        // Any string (its set form is ILIKE too); the column is fenced from the trigram
        // index, and the EXISTS from being hashed over every message.
        let (sql, atoms) = probe(
            Backend::Postgres,
            "Content LIKE 'Žilina' OR Subject NOT LIKE 'loss'",
        )
        .unwrap();
        assert!(
            sql.contains("AND (x.body || '') ILIKE $1 ESCAPE '\\' OFFSET 0)"),
            "{sql}"
        );
        assert!(sql.contains("(NOT (t.subject || '') ILIKE $2"), "{sql}");
        assert_eq!(atoms.len(), 2);
        assert!(
            atoms.iter().all(|a| !a.indexed),
            "no index to ask: {atoms:?}"
        );
    }

    #[test]
    fn no_probe_form_where_it_would_be_the_set_form() {
        // On SQLite non-ASCII strings keep the index (or plain LIKE).
        let (sql, atoms) = probe(Backend::Sqlite, "Content LIKE 'IP'").unwrap();
        assert!(
            sql.contains("EXISTS"),
            "a short string is walked too: {sql}"
        );
        assert!(!atoms[0].indexed);
        assert_eq!(probe(Backend::Sqlite, "Subject LIKE 'Žilina'"), None);
        assert_eq!(probe(Backend::Sqlite, "Queue = 'NOC'"), None);
        // A mix keeps the index for the term that needs it.
        let (sql, atoms) = probe(
            Backend::Sqlite,
            "Subject LIKE 'Žilina' OR Content LIKE 'loss'",
        )
        .unwrap();
        assert!(sql.contains("tickets_fts MATCH"), "{sql}");
        assert_eq!(atoms.len(), 1);
    }

    #[test]
    fn each_term_takes_the_form_it_is_given() {
        let q = parse("Subject LIKE 'rare one' AND Content LIKE 'packet loss'").unwrap();
        let c = ctx(Backend::Sqlite);
        let mixed = to_probe_sql(Some(&q), &c, &[false, true]).unwrap().sql;
        assert!(mixed.contains("tickets_fts MATCH"), "{mixed}");
        assert!(
            mixed.contains("EXISTS (SELECT 1 FROM ticket_transactions x"),
            "{mixed}"
        );
        let none = to_probe_sql(Some(&q), &c, &[false, false]).unwrap();
        assert_eq!(
            none,
            to_sql(Some(&q), &c).unwrap(),
            "all through the index: the set form"
        );
    }
}
