-- Accounts, sessions, API tokens, login throttling, the job queue, and customer accounts.
-- Times are INTEGER microseconds since the epoch (DESIGN.md §3); the PostgreSQL file has the
-- same tables and columns with timestamptz.

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    sla         TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE customer_domains (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    domain      TEXT    NOT NULL UNIQUE,
    PRIMARY KEY (customer_id, domain)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'agent', 'customer')),
    customer_id   INTEGER REFERENCES customers(id),
    password_hash TEXT,
    source        TEXT    NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'ldap', 'radius')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_login_at INTEGER
);

CREATE TABLE sessions (
    id_hash       TEXT    PRIMARY KEY,
    user_id       INTEGER REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT    NOT NULL,
    flash         TEXT,
    client_ip     TEXT,
    user_agent    TEXT,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    idle_until    INTEGER NOT NULL,
    absolute_until INTEGER NOT NULL
);
CREATE INDEX sessions_idle_until_idx ON sessions (idle_until);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    scope        TEXT    NOT NULL CHECK (scope IN ('api', 'alerts', 'mail')),
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE login_failures (
    id         INTEGER PRIMARY KEY,
    username   TEXT    NOT NULL,
    client_ip  TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX login_failures_username_idx ON login_failures (username, at);
CREATE INDEX login_failures_client_ip_idx ON login_failures (client_ip, at);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    dedup_key    TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       INTEGER NOT NULL,
    locked_until INTEGER,
    locked_by    TEXT,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    UNIQUE (kind, dedup_key)
);
CREATE INDEX jobs_state_run_at_idx ON jobs (state, run_at);
