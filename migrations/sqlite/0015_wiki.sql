-- The wiki (issue 7): pages at hierarchical paths, every save a revision, renames leaving a
-- redirect, recoverable deletes, the links between pages for backlinks, and full text.
CREATE TABLE wiki_pages (
    id          INTEGER PRIMARY KEY,
    path        TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    -- The current revision's text, kept on the page so a read is one row.
    body        TEXT    NOT NULL,
    revision    INTEGER NOT NULL CHECK (revision >= 1),
    visibility  TEXT    NOT NULL DEFAULT 'internal' CHECK (visibility IN ('internal', 'public')),
    deleted_at  INTEGER,
    deleted_by  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL
);
-- Recent changes.
CREATE INDEX wiki_pages_updated_idx ON wiki_pages (updated_at);

CREATE TABLE wiki_revisions (
    page_id    INTEGER NOT NULL REFERENCES wiki_pages(id) ON DELETE CASCADE,
    revision   INTEGER NOT NULL,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    comment    TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (page_id, revision)
);

-- An old path answers with the page it was renamed to.
CREATE TABLE wiki_redirects (
    from_path  TEXT    PRIMARY KEY,
    page_id    INTEGER NOT NULL REFERENCES wiki_pages(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);

-- `[[target]]` links of each page's current revision; backlinks read them by target.
CREATE TABLE wiki_links (
    page_id INTEGER NOT NULL REFERENCES wiki_pages(id) ON DELETE CASCADE,
    target  TEXT    NOT NULL,
    PRIMARY KEY (page_id, target)
);
CREATE INDEX wiki_links_target_idx ON wiki_links (target);

-- Full text over title and body: trigram FTS5 over the page rows, kept by triggers.
CREATE VIRTUAL TABLE wiki_fts USING fts5(
    title, body, content='wiki_pages', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER wiki_pages_fts_ai AFTER INSERT ON wiki_pages BEGIN
    INSERT INTO wiki_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER wiki_pages_fts_ad AFTER DELETE ON wiki_pages BEGIN
    INSERT INTO wiki_fts (wiki_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER wiki_pages_fts_au AFTER UPDATE OF title, body ON wiki_pages BEGIN
    INSERT INTO wiki_fts (wiki_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO wiki_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

-- "Recent tickets that used this runbook".
CREATE INDEX tickets_runbook_idx ON tickets (runbook, created_at) WHERE runbook IS NOT NULL;
