-- Texts of outgoing mail as an admin edited them (issue 4); a template without a row here is
-- the built-in one (templates/email/*.txt).
CREATE TABLE mail_templates (
    name       TEXT    NOT NULL PRIMARY KEY,
    body       TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
