-- On-call overrides (issue 5): for a swap or a holiday, someone else is on duty in a rotation
-- from starts_at (inclusive) to ends_at (exclusive); where two overlap, the one created last
-- wins. `rotation` is an [[oncall]] name from the config, not a row. A NULL backup_user keeps
-- the rotation's backup. Times are microseconds since the epoch (db::Ts, DESIGN.md §3).
CREATE TABLE oncall_overrides (
    id           INTEGER PRIMARY KEY,
    rotation     TEXT    NOT NULL,
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    primary_user TEXT    NOT NULL CHECK (primary_user <> ''),
    backup_user  TEXT    CHECK (backup_user <> ''),
    reason       TEXT    NOT NULL DEFAULT '',
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
-- The page and the API list a rotation's overrides by start.
CREATE INDEX oncall_overrides_rotation_starts_idx ON oncall_overrides (rotation, starts_at);
-- "Who is on duty at T" (every SLA escalation asks) wants the overrides that have not ended
-- by T: past ones pile up over the years, those still to end stay few.
CREATE INDEX oncall_overrides_rotation_ends_idx ON oncall_overrides (rotation, ends_at);
