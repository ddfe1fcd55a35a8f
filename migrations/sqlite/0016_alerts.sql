-- Monitoring alerts (issue 8, CONTRACT §7). `alert_sources` holds one row per configured
-- source, taken with an upsert at the start of every delivery: it serialises a source's
-- deliveries on PostgreSQL (the row lock) as SQLite's one writer does, and points at the
-- source's storm while one lasts.
CREATE TABLE alert_storms (
    id            INTEGER PRIMARY KEY,
    source        TEXT    NOT NULL,
    ticket_id     INTEGER NOT NULL REFERENCES tickets(id),
    started_at    INTEGER NOT NULL,
    last_alert_at INTEGER NOT NULL,
    ended_at      INTEGER,
    alerts        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_storms_source_idx ON alert_storms (source, started_at);

CREATE TABLE alert_sources (
    name       TEXT    PRIMARY KEY,
    storm_id   INTEGER REFERENCES alert_storms(id),
    touched_at INTEGER NOT NULL
);

-- One row per alert identity of a source: its current state and the ticket it is on.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    source        TEXT    NOT NULL,
    identity      TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    host          TEXT,
    severity      TEXT,
    summary       TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
    -- Which firing of the identity this is (Alertmanager startsAt, Nagios problem id): a
    -- resolve of the same occurrence makes a late-arriving fire of it stale.
    occurrence    TEXT,
    ticket_id     INTEGER REFERENCES tickets(id),
    customer_id   INTEGER REFERENCES customers(id),
    storm_id      INTEGER REFERENCES alert_storms(id),
    count         INTEGER NOT NULL DEFAULT 1,
    flaps         INTEGER NOT NULL DEFAULT 0,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    changed_at    INTEGER NOT NULL,
    resolved_at   INTEGER,
    -- When this alert opened its own incident (not set for storm members): storms count these.
    opened_at     INTEGER,
    labels        TEXT    NOT NULL DEFAULT '{}',
    annotations   TEXT    NOT NULL DEFAULT '{}',
    generator_url TEXT,
    external_url  TEXT,
    silence_id    TEXT,
    silenced_until INTEGER,
    silenced_by   TEXT,
    UNIQUE (source, identity)
);
CREATE INDEX alerts_state_idx ON alerts (state, last_seen);
CREATE INDEX alerts_ticket_idx ON alerts (ticket_id, state);
CREATE INDEX alerts_opened_idx ON alerts (source, opened_at);
CREATE INDEX alerts_subject_idx ON alerts (source, host, name, changed_at);
CREATE INDEX alerts_customer_idx ON alerts (customer_id, state);

-- Every delivery as it came, for audit, until the source's retention passes. A delivery whose
-- bytes were seen from the same source shortly before is a retry: it answers what the first
-- answered and changes nothing.
CREATE TABLE alert_payloads (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    digest       TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('applied', 'duplicate', 'rejected')),
    error        TEXT,
    tickets      TEXT    NOT NULL DEFAULT '[]'
);
CREATE INDEX alert_payloads_digest_idx ON alert_payloads (source, digest, received_at);
CREATE INDEX alert_payloads_received_idx ON alert_payloads (received_at);
