//! The set forms of Subject and Content `LIKE` on SQLite (see full_text.rs): every ticket whose
//! text holds the string, from the FTS5 trigram indexes and, with LIKE, from the rows the
//! indexer has not taken in yet. And PostgreSQL's for two characters, from its pair index
//! (migration 0021) and the texts waiting for it.

use crate::db::{Backend, pair_array, pair_code};
use crate::search::{
    BODIES_MARK, BODIES_WAITING, CHANGED_WAITING, SUBJECTS_MARK, SUBJECTS_WAITING,
};
use crate::tql::to_sql::Builder;

impl Builder<'_> {
    /// FTS5 trigram only answers substrings of 3+ characters; shorter ones scan with LIKE.
    pub(super) fn fts_ok(&self, s: &str) -> bool {
        self.ctx.backend == Backend::Sqlite && s.chars().count() >= 3
    }

    /// SQLite: a two-character ASCII string, found through the trigrams that begin with it
    /// and the texts that end with it (migration 0018) instead of a scan of every message.
    pub(super) fn two_chars(&self, s: &str) -> bool {
        self.ctx.backend == Backend::Sqlite && s.is_ascii() && s.len() == 2
    }

    /// Binds for [`Self::two_chars`]: the range of index terms that begin with `s` (`s` in
    /// lower case as the index folds it, and the first string past every term beginning with
    /// it), and the LIKE pattern that checks each candidate. The check keeps the answer
    /// LIKE's: the index also folds the few non-ASCII letters whose lower case is ASCII (the
    /// Kelvin sign), and a ticket's document joins its bodies, so a string with a line break
    /// could span two of them there.
    pub(super) fn leading(&mut self, s: &str) -> (String, String, String) {
        let (lo, hi) = crate::db::ascii_prefix_range(s);
        (self.text(&lo), self.text(&hi), self.like_pattern(s))
    }

    /// The tickets whose `ix` text holds the phrase `s` (three characters or more): the
    /// index's phrase match, and LIKE on the rows past the indexer's mark.
    pub(super) fn phrase_set(&mut self, ix: &Indexed, s: &str) -> String {
        let p = self.text(&fts_phrase(s));
        let tail = self.like_pattern(s);
        let Indexed {
            rows,
            ticket,
            text,
            fts,
            mark,
            ..
        } = ix;
        format!(
            "t.id IN (SELECT rowid FROM search.{fts} WHERE {fts} MATCH {p} \
             AND rowid NOT IN {CHANGED_WAITING} \
             UNION ALL SELECT {ticket} FROM {rows} WHERE id > {mark} \
             AND {text} LIKE {tail} ESCAPE '\\' \
             UNION ALL SELECT {ticket} FROM {rows} WHERE {ticket} IN {CHANGED_WAITING} \
             AND {text} LIKE {tail} ESCAPE '\\')"
        )
    }

    /// The tickets whose `ix` text holds the two ASCII characters `s` ([`Self::two_chars`]):
    /// rows of documents with an indexed trigram beginning with them, rows whose text ends
    /// with them, and rows past the indexer's mark, each checked with LIKE where the index
    /// alone does not prove it.
    pub(super) fn pair_set(&mut self, ix: &Indexed, s: &str) -> String {
        let (lo, hi, tail) = self.leading(s);
        let Indexed {
            rows,
            ticket,
            text,
            terms,
            mark,
            present,
            ..
        } = ix;
        format!(
            "t.id IN (SELECT {ticket} FROM {rows} WHERE {ticket} IN \
             (SELECT doc FROM search.{terms} WHERE term >= {lo} AND term < {hi}) \
             AND {text} LIKE {tail} ESCAPE '\\' \
             UNION ALL SELECT {ticket} FROM {rows} WHERE lower(substr({text}, -2)) = {lo}{present} \
             UNION ALL SELECT {ticket} FROM {rows} WHERE id > {mark} \
             AND {text} LIKE {tail} ESCAPE '\\' \
             UNION ALL SELECT {ticket} FROM {rows} WHERE {ticket} IN {CHANGED_WAITING} \
             AND {text} LIKE {tail} ESCAPE '\\')"
        )
    }
}

impl Builder<'_> {
    /// PostgreSQL: the pair code of a two-character string (src/db/text.rs), which its pair
    /// index files texts under; `None` for any other string, or on SQLite.
    pub(super) fn pg_pair(&self, s: &str) -> Option<i16> {
        (self.ctx.backend == Backend::Postgres)
            .then(|| pair_code(s))
            .flatten()
    }

    /// PostgreSQL: the tickets whose `of` text holds the two characters `s` filed under `code`
    /// ([`Self::pg_pair`]): the texts the pair index files under the code, and those waiting
    /// for it, each checked with ILIKE (the index only says a text has the pair somewhere in
    /// some case). The union is the semi-join's inner side, so the planner drives the lookup
    /// from the few candidates instead of testing every row against two subqueries.
    pub(super) fn pg_pair_set(&mut self, of: PairsOf, s: &str, code: i16) -> String {
        let tail = self.like_pattern(s);
        let codes = pair_array(&[code]);
        let (ticket, rows, key, text, pairs, waiting) = match of {
            PairsOf::Subjects => (
                "id",
                "tickets",
                "ticket_id",
                "subject",
                "ticket_subject_pairs",
                SUBJECTS_WAITING,
            ),
            PairsOf::Bodies => (
                "ticket_id",
                "ticket_transactions",
                "id",
                "body",
                "ticket_body_pairs",
                BODIES_WAITING,
            ),
        };
        format!(
            "t.id IN (SELECT {ticket} FROM {rows} WHERE id IN \
             (SELECT {key} FROM {pairs} WHERE pairs @> '{codes}'::smallint[] \
             UNION ALL {waiting}) AND {text} ILIKE {tail} ESCAPE '\\')"
        )
    }
}

/// Which of PostgreSQL's pair tables a set form reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum PairsOf {
    /// `ticket_subject_pairs`, by ticket.
    Subjects,
    /// `ticket_body_pairs`, by message.
    Bodies,
}

/// One text the SQLite trigram indexes cover, as the set forms read it.
pub(super) struct Indexed {
    /// The rows holding the text, the column naming their ticket, and the text.
    rows: &'static str,
    ticket: &'static str,
    text: &'static str,
    /// The FTS5 index (rowid = ticket) and its term list (migration 0018), in the index file.
    fts: &'static str,
    terms: &'static str,
    /// The id past which rows wait for the index (the indexer's mark).
    mark: &'static str,
    /// What else the index on the text's last two characters requires of a row (it is
    /// partial for bodies).
    present: &'static str,
}

/// Ticket subjects (`tickets_fts`, one row per ticket).
pub(super) const SUBJECTS: Indexed = Indexed {
    rows: "tickets",
    ticket: "id",
    text: "subject",
    fts: "tickets_fts",
    terms: "tickets_fts_terms",
    mark: SUBJECTS_MARK,
    present: "",
};

/// Message bodies (`ticket_text_fts`, one document per ticket of all its bodies).
pub(super) const BODIES: Indexed = Indexed {
    rows: "ticket_transactions",
    ticket: "ticket_id",
    text: "body",
    fts: "ticket_text_fts",
    terms: "ticket_text_fts_terms",
    mark: BODIES_MARK,
    present: " AND body IS NOT NULL",
};

/// An FTS5 query for `s` as one phrase: on a trigram table that is a case-insensitive
/// substring match proven by trigram positions, with no operator or column syntax left to the
/// user (a `"` inside is doubled, the string form of FTS5's query language).
pub(super) fn fts_phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
