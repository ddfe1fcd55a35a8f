-- Full text is indexed in batches behind the writes instead of by triggers inside them. A
-- trigram FTS5 insert flushes a new index segment at every commit: two thirds of the SQLite
-- time of a ticket create, all of it inside the one writer turn. The search index task
-- (src/search/index.rs) now indexes new tickets and messages a few hundred at a time, and
-- remembers here how far it got; searches read the rows past that mark with LIKE, so a ticket
-- is found the moment its transaction commits.
CREATE TABLE ticket_fts_backlog (
    name       TEXT    PRIMARY KEY CHECK (name IN ('subjects', 'bodies')),
    indexed_to INTEGER NOT NULL
);
INSERT INTO ticket_fts_backlog (name, indexed_to)
    VALUES ('subjects', (SELECT coalesce(max(id), 0) FROM tickets)),
           ('bodies', (SELECT coalesce(max(id), 0) FROM ticket_transactions));

DROP TRIGGER tickets_fts_ai;
DROP TRIGGER ticket_text_fts_ai;

-- A subject changes in the index only once the ticket is in it: the 'delete' of an external-
-- content FTS5 table must name exactly what was indexed, and a ticket past the mark is
-- indexed later with the subject it has then.
DROP TRIGGER tickets_fts_au;
CREATE TRIGGER tickets_fts_au AFTER UPDATE OF subject ON tickets
WHEN old.id <= (SELECT indexed_to FROM ticket_fts_backlog WHERE name = 'subjects') BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject);
    INSERT INTO tickets_fts (rowid, subject) VALUES (new.id, new.subject);
END;
