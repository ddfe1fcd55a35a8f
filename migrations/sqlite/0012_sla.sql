-- SLA clocks (issue 5). The deadlines are derived from the ticket's history by src/sla and
-- kept on the ticket, so lists, TQL (`SLA = 'breached'`, `Due < ...`) and the escalation pass
-- read columns instead of recomputing clocks. `due_at` is the nearest promise not yet kept.
ALTER TABLE tickets ADD COLUMN response_due_at INTEGER;
ALTER TABLE tickets ADD COLUMN resolve_due_at INTEGER;
ALTER TABLE tickets ADD COLUMN first_response_at INTEGER;
-- When the resolution promise was kept (the resolution of the current cycle).
ALTER TABLE tickets ADD COLUMN sla_resolved_at INTEGER;
ALTER TABLE tickets ADD COLUMN sla_paused BOOLEAN NOT NULL DEFAULT FALSE;
-- The first escalation step's instant for the nearest unkept promise: "breaching soon".
ALTER TABLE tickets ADD COLUMN sla_warn_at INTEGER;
-- The earliest escalation step not yet fired: the escalation pass reads only these.
ALTER TABLE tickets ADD COLUMN sla_next_at INTEGER;
-- Set on history moved by a merge: the survivor's clocks run on its own history only.
ALTER TABLE ticket_transactions ADD COLUMN merged_from INTEGER;
CREATE INDEX tickets_sla_next_idx ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;
CREATE INDEX tickets_due_idx ON tickets (due_at, id) WHERE due_at IS NOT NULL;

-- One row per escalation step fired: the primary key is what makes a step fire once, on any
-- number of nodes and across restarts. `cycle` is the start of the clock stretch in which the
-- step's point was reached, so a clock resumed after a pause, or a resolution clock started
-- over by a reopen, can escalate again.
CREATE TABLE sla_escalations (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    clock     TEXT    NOT NULL CHECK (clock IN ('response', 'resolve')),
    step      INTEGER NOT NULL,
    cycle     INTEGER NOT NULL,
    due_at    INTEGER NOT NULL,
    fired_at  INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, clock, step, cycle)
);

-- Escalation notices go out through the outbox like every other mail (kind 'escalation').
-- SQLite cannot change a CHECK in place: the table is rebuilt, rows and ids kept.
CREATE TABLE mail_outbound_new (
    id          INTEGER PRIMARY KEY,
    message_id  TEXT    NOT NULL UNIQUE,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('autoreply', 'correspond', 'comment', 'resolved', 'escalation')),
    recipients  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO mail_outbound_new (id, message_id, ticket_id, kind, recipients, created_at)
    SELECT id, message_id, ticket_id, kind, recipients, created_at FROM mail_outbound;
DROP TABLE mail_outbound;
ALTER TABLE mail_outbound_new RENAME TO mail_outbound;
CREATE INDEX mail_outbound_kind_idx ON mail_outbound (kind, recipients, created_at);
CREATE INDEX mail_outbound_ticket_idx ON mail_outbound (ticket_id);
