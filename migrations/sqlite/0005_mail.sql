-- Inbound mail (issue 4). The raw message is stored (content-addressed in blobs) before
-- anything else happens to it; `state` then records what intake made of it. A message that
-- could not be processed stays here, flagged, until an admin retries it.
CREATE TABLE mail_messages (
    id             INTEGER PRIMARY KEY,
    message_id     TEXT    NOT NULL UNIQUE,
    sha256         TEXT    NOT NULL REFERENCES blobs(sha256),
    size           INTEGER NOT NULL,
    via            TEXT    NOT NULL CHECK (via IN ('mailgate', 'api', 'imap')),
    queue          TEXT    NOT NULL,
    action         TEXT    NOT NULL CHECK (action IN ('correspond', 'comment')),
    state          TEXT    NOT NULL CHECK (state IN ('received', 'processed', 'ignored', 'failed')),
    reason         TEXT,
    sender         TEXT,
    subject        TEXT,
    ticket_id      INTEGER REFERENCES tickets(id),
    created_ticket BOOLEAN NOT NULL DEFAULT FALSE,
    attempts       INTEGER NOT NULL DEFAULT 0,
    received_at    INTEGER NOT NULL,
    processed_at   INTEGER
);
CREATE INDEX mail_messages_state_idx ON mail_messages (state, id);
CREATE INDEX mail_messages_ticket_idx ON mail_messages (ticket_id);

-- Message-IDs we received or sent, and the ticket each belongs to: replies thread through
-- their In-Reply-To / References even when the subject tag was lost.
CREATE TABLE mail_threads (
    message_id TEXT    NOT NULL PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    outbound   BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX mail_threads_ticket_idx ON mail_threads (ticket_id);
