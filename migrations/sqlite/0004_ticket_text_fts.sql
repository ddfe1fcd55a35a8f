-- Message bodies are searched per ticket, not per transaction: one FTS5 row per ticket (rowid =
-- ticket id) holding all its bodies, so `Content LIKE` reads ticket ids straight from the index
-- instead of joining every matching transaction back to its ticket. Contentless (the text lives
-- in ticket_transactions already) with delete support, searched with MATCH on a phrase: the
-- trigram positions prove the substring, so no candidate's text is read back to re-check it.
-- Bodies are joined with a line holding U+001E (record separator), which no search text
-- crosses, so a phrase never matches across two messages.
CREATE VIRTUAL TABLE ticket_text_fts USING fts5(
    body, content='', contentless_delete=1, tokenize='trigram'
);

CREATE TRIGGER ticket_text_fts_ai AFTER INSERT ON ticket_transactions WHEN new.body IS NOT NULL BEGIN
    DELETE FROM ticket_text_fts WHERE rowid = new.ticket_id;
    INSERT INTO ticket_text_fts (rowid, body)
        SELECT new.ticket_id, group_concat(body, char(10, 30, 10))
        FROM ticket_transactions WHERE ticket_id = new.ticket_id AND body IS NOT NULL;
END;

-- A merge moves history to the surviving ticket: both documents are rebuilt.
CREATE TRIGGER ticket_text_fts_au AFTER UPDATE OF ticket_id ON ticket_transactions
WHEN new.body IS NOT NULL AND new.ticket_id IS NOT old.ticket_id BEGIN
    DELETE FROM ticket_text_fts WHERE rowid IN (old.ticket_id, new.ticket_id);
    INSERT INTO ticket_text_fts (rowid, body)
        SELECT ticket_id, group_concat(body, char(10, 30, 10))
        FROM ticket_transactions
        WHERE ticket_id IN (old.ticket_id, new.ticket_id) AND body IS NOT NULL
        GROUP BY ticket_id;
END;

INSERT INTO ticket_text_fts (rowid, body)
    SELECT ticket_id, group_concat(body, char(10, 30, 10))
    FROM ticket_transactions WHERE body IS NOT NULL GROUP BY ticket_id;

DROP TRIGGER ticket_transactions_fts_ai;
DROP TABLE ticket_transactions_fts;
