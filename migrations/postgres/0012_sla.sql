-- SLA clocks (issue 5). The deadlines are derived from the ticket's history by src/sla and
-- kept on the ticket, so lists, TQL (`SLA = 'breached'`, `Due < ...`) and the escalation pass
-- read columns instead of recomputing clocks. `due_at` is the nearest promise not yet kept.
ALTER TABLE tickets ADD COLUMN response_due_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN resolve_due_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN first_response_at TIMESTAMPTZ;
-- When the resolution promise was kept (the resolution of the current cycle).
ALTER TABLE tickets ADD COLUMN sla_resolved_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN sla_paused BOOLEAN NOT NULL DEFAULT FALSE;
-- The first escalation step's instant for the nearest unkept promise: "breaching soon".
ALTER TABLE tickets ADD COLUMN sla_warn_at TIMESTAMPTZ;
-- The earliest escalation step not yet fired: the escalation pass reads only these.
ALTER TABLE tickets ADD COLUMN sla_next_at TIMESTAMPTZ;
-- Set on history moved by a merge: the survivor's clocks run on its own history only.
ALTER TABLE ticket_transactions ADD COLUMN merged_from BIGINT;
CREATE INDEX tickets_sla_next_idx ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;
CREATE INDEX tickets_due_idx ON tickets (due_at, id) WHERE due_at IS NOT NULL;

-- One row per escalation step fired: the primary key is what makes a step fire once, on any
-- number of nodes and across restarts. `cycle` is the start of the clock stretch in which the
-- step's point was reached, so a clock resumed after a pause, or a resolution clock started
-- over by a reopen, can escalate again.
CREATE TABLE sla_escalations (
    ticket_id BIGINT  NOT NULL REFERENCES tickets(id),
    clock     TEXT    NOT NULL CHECK (clock IN ('response', 'resolve')),
    step      INTEGER NOT NULL,
    cycle     TIMESTAMPTZ NOT NULL,
    due_at    TIMESTAMPTZ NOT NULL,
    fired_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticket_id, clock, step, cycle)
);

-- Escalation notices go out through the outbox like every other mail (kind 'escalation').
ALTER TABLE mail_outbound DROP CONSTRAINT mail_outbound_kind_check,
    ADD CONSTRAINT mail_outbound_kind_check
    CHECK (kind IN ('autoreply', 'correspond', 'comment', 'resolved', 'escalation'));
