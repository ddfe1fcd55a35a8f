-- Two-character searches (`Content LIKE 'L2'`) have no trigram to look up, and used to read
-- every message (2-4 s at 1M tickets on SQLite). Yet every place a two-character string
-- occurs in a document is the start of a trigram the index holds ("l2" in "vlan l2 down"
-- starts "l2 "), except at the very end of the document. So the documents that hold it are:
-- those with an indexed trigram beginning with it, which the fts5vocab tables below list by
-- range of term (the index's own term order: a range scan, not a scan of the index), plus
-- those whose text ends with it, which the two indexes on the last two characters find.
-- A message body is the end of a document only when it is a ticket's last; indexing the end
-- of every message covers that whatever order the bodies were joined in.
CREATE VIRTUAL TABLE tickets_fts_terms USING fts5vocab(tickets_fts, 'instance');
CREATE VIRTUAL TABLE ticket_text_fts_terms USING fts5vocab(ticket_text_fts, 'instance');
CREATE INDEX tickets_subject_end_idx ON tickets (lower(substr(subject, -2)));
CREATE INDEX ticket_transactions_body_end_idx ON ticket_transactions (lower(substr(body, -2)))
    WHERE body IS NOT NULL;
