-- Tickets with RT's model: history (transactions), watchers, links, attachments (content-
-- addressed blobs), saved searches. Full text uses FTS5 with the trigram tokenizer, so that
-- `LIKE` keeps RT's case-insensitive substring meaning and still uses an index.

CREATE TABLE tickets (
    id            INTEGER PRIMARY KEY,
    queue         TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('new', 'open', 'stalled', 'resolved', 'rejected', 'deleted')),
    priority      INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
    owner_id      INTEGER REFERENCES users(id),
    customer_id   INTEGER REFERENCES customers(id),
    source        TEXT    NOT NULL CHECK (source IN ('web', 'email', 'api', 'alert')),
    sla_policy    TEXT,
    host          TEXT,
    runbook       TEXT,
    merged_into   INTEGER REFERENCES tickets(id),
    time_worked   INTEGER NOT NULL DEFAULT 0,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    resolved_at   INTEGER,
    due_at        INTEGER
);
CREATE INDEX tickets_queue_status_idx ON tickets (queue, status);
CREATE INDEX tickets_status_updated_idx ON tickets (status, updated_at);
CREATE INDEX tickets_updated_idx ON tickets (updated_at, id);
CREATE INDEX tickets_created_idx ON tickets (created_at, id);
CREATE INDEX tickets_owner_idx ON tickets (owner_id, status);
CREATE INDEX tickets_customer_idx ON tickets (customer_id, status);
CREATE INDEX tickets_priority_idx ON tickets (priority, id);
CREATE INDEX tickets_merged_into_idx ON tickets (merged_into);

CREATE TABLE ticket_watchers (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    role      TEXT    NOT NULL CHECK (role IN ('requestor', 'cc', 'admincc')),
    email     TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, role, email)
);
CREATE INDEX ticket_watchers_email_idx ON ticket_watchers (email, role);

CREATE TABLE ticket_transactions (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    kind        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    field       TEXT,
    old_value   TEXT,
    new_value   TEXT,
    body        TEXT,
    body_format TEXT,
    time_taken  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ticket_transactions_ticket_idx ON ticket_transactions (ticket_id, id);

CREATE TABLE ticket_links (
    base_id    INTEGER NOT NULL REFERENCES tickets(id),
    target_id  INTEGER NOT NULL REFERENCES tickets(id),
    kind       TEXT    NOT NULL CHECK (kind IN ('DependsOn', 'RefersTo', 'MemberOf')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (base_id, target_id, kind)
);
CREATE INDEX ticket_links_target_idx ON ticket_links (target_id, kind);

CREATE TABLE blobs (
    sha256 TEXT    PRIMARY KEY,
    size   INTEGER NOT NULL,
    data   BLOB    NOT NULL
);

CREATE TABLE attachments (
    id             INTEGER PRIMARY KEY,
    transaction_id INTEGER NOT NULL REFERENCES ticket_transactions(id),
    ticket_id      INTEGER NOT NULL REFERENCES tickets(id),
    filename       TEXT    NOT NULL,
    content_type   TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT    NOT NULL REFERENCES blobs(sha256),
    created_at     INTEGER NOT NULL
);
CREATE INDEX attachments_ticket_idx ON attachments (ticket_id);
CREATE INDEX attachments_transaction_idx ON attachments (transaction_id);

CREATE TABLE saved_searches (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    query      TEXT    NOT NULL,
    sort       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

-- Full text (dialect-specific by design, DESIGN.md §3): external-content FTS5 tables kept in
-- step by triggers. Transactions are append-only; a subject can change.
CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, content='tickets', content_rowid='id', tokenize='trigram');
CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, subject) VALUES (new.id, new.subject);
END;
CREATE TRIGGER tickets_fts_au AFTER UPDATE OF subject ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject);
    INSERT INTO tickets_fts (rowid, subject) VALUES (new.id, new.subject);
END;
CREATE VIRTUAL TABLE ticket_transactions_fts USING fts5(body, content='ticket_transactions', content_rowid='id', tokenize='trigram');
CREATE TRIGGER ticket_transactions_fts_ai AFTER INSERT ON ticket_transactions WHEN new.body IS NOT NULL BEGIN
    INSERT INTO ticket_transactions_fts (rowid, body) VALUES (new.id, new.body);
END;
