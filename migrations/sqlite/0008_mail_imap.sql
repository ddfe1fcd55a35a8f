-- IMAP pollers (issue 4): how far each mailbox has been read, and which node reads it now.
-- `last_uid` only counts within one `uid_validity`; when the server changes that, the mailbox
-- is read again from the start and the stored Message-IDs keep it from counting twice. The
-- lease keeps two nodes from polling one mailbox at once; a dead holder's lease runs out.
CREATE TABLE mail_imap_cursors (
    source       TEXT    NOT NULL PRIMARY KEY,
    uid_validity INTEGER NOT NULL DEFAULT 0,
    last_uid     INTEGER NOT NULL DEFAULT 0,
    holder       TEXT,
    lease_until  INTEGER NOT NULL DEFAULT 0,
    polled_at    INTEGER
);
