-- The ticket full-text indexes move to a database file of their own (src/db/search_file.rs):
-- FTS5 merges its segments inside the indexing transaction, and in this file that held the
-- writer turn every alert, mail and ticket write waits for. The new file is filled from the
-- start by the index task; searches read what it has not reached with LIKE meanwhile.
DROP TRIGGER tickets_fts_au;
DROP TRIGGER ticket_text_fts_au;
DROP TABLE tickets_fts_terms;
DROP TABLE ticket_text_fts_terms;
DROP TABLE tickets_fts;
DROP TABLE ticket_text_fts;
DROP TABLE ticket_fts_backlog;

-- A trigger cannot write to another file: a change to indexed text of a ticket the index
-- already holds is queued here instead, and the index task takes it in (its mark in the index
-- file says how far). Until then searches read those tickets' text with LIKE. AUTOINCREMENT:
-- a sequence number is never used twice, even after the taken entries are deleted.
CREATE TABLE ticket_fts_changed (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL
);
CREATE TRIGGER ticket_fts_changed_subject AFTER UPDATE OF subject ON tickets
WHEN new.subject IS NOT old.subject BEGIN
    INSERT INTO ticket_fts_changed (ticket_id) VALUES (new.id);
END;
-- A merge moves messages to the surviving ticket: both documents change.
CREATE TRIGGER ticket_fts_changed_merge AFTER UPDATE OF ticket_id ON ticket_transactions
WHEN new.body IS NOT NULL AND new.ticket_id IS NOT old.ticket_id BEGIN
    INSERT INTO ticket_fts_changed (ticket_id) VALUES (old.ticket_id), (new.ticket_id);
END;

-- Which data an index file was built for. `opsdesk backup` gives every copy a token of its
-- own, so that a restored copy never takes the live data's index for its own.
CREATE TABLE ticket_fts_owner (token TEXT NOT NULL);
INSERT INTO ticket_fts_owner (token) VALUES (lower(hex(randomblob(16))));
