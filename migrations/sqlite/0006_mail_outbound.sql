-- Mail Opsdesk sends (issue 4): one row per message put in the outbox, for threading (its
-- Message-ID is also in mail_threads) and for the auto-reply flood guard (per recipient per
-- hour). The message itself travels in its mail.send job until the relay takes it.
CREATE TABLE mail_outbound (
    id          INTEGER PRIMARY KEY,
    message_id  TEXT    NOT NULL UNIQUE,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('autoreply', 'correspond', 'comment', 'resolved')),
    recipients  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX mail_outbound_kind_idx ON mail_outbound (kind, recipients, created_at);
CREATE INDEX mail_outbound_ticket_idx ON mail_outbound (ticket_id);
