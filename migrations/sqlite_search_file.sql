-- The tables of SQLite's full-text index file (src/db/search_file.rs), attached as `search`.
-- Not a migration: the file holds only what can be derived from the main file, so a change
-- here raises LAYOUT in search_file.rs and the file is emptied and indexed again.
--
-- Both indexes are contentless (the text lives in the main file, which an index in another
-- file cannot name as its content table) with delete support, trigram-tokenised, one row per
-- ticket (rowid = ticket id). A ticket's document holds all its message bodies joined with a
-- line holding U+001E (record separator), which no search text crosses (migration 0004).
CREATE VIRTUAL TABLE search.tickets_fts USING fts5(
    subject, content='', contentless_delete=1, tokenize='trigram'
);
CREATE VIRTUAL TABLE search.ticket_text_fts USING fts5(
    body, content='', contentless_delete=1, tokenize='trigram'
);
-- The terms of each index in its own order, for two-character searches (migration 0018).
CREATE VIRTUAL TABLE search.tickets_fts_terms USING fts5vocab(tickets_fts, 'instance');
CREATE VIRTUAL TABLE search.ticket_text_fts_terms USING fts5vocab(ticket_text_fts, 'instance');
-- How far the index task got: tickets (subjects) and messages (bodies) by id, and the queue of
-- changed tickets (main.ticket_fts_changed, migration 0020) by sequence number. Kept in this
-- file, so that an index batch and its marks commit together.
CREATE TABLE search.ticket_fts_marks (
    name       TEXT    PRIMARY KEY CHECK (name IN ('subjects', 'bodies', 'changed')),
    indexed_to INTEGER NOT NULL
);
-- The main file's token (main.ticket_fts_owner) this index was built for.
CREATE TABLE search.index_owner (token TEXT NOT NULL);
