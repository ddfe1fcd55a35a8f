-- Two-character searches on PostgreSQL (issue 7). pg_trgm has no trigram for a text of two
-- characters, so `ILIKE '%l2%'` read every message body (8.5 s at 1M tickets for `L2`, 10.2 s
-- for `Zq`, which no ticket holds) and walked every wiki page. The pair index files each text
-- under the codes of its adjacent pairs of ASCII characters, folded to lower case, whitespace
-- left out (src/db/text.rs, `pair_codes`), in a GIN index over a `smallint[]`; a search looks
-- up its pair and checks each candidate with ILIKE, so the answer stays ILIKE's.
--
-- The codes are computed by the app, behind the writes (src/search/pairs.rs), not in the
-- writing statement: the triggers below only queue what changed, in the writing transaction,
-- so a search that reads the queued rows with ILIKE and the rest through the index sees
-- every committed text, and a write pays one small insert, not the pairing of its text.

-- What waits for the pair index: a ticket's subject (`subject`, by ticket id), a message's
-- body (`body`, by message id), a wiki page's title and body (`wiki`, by page id).
CREATE TABLE text_pairs_pending (
    kind TEXT   NOT NULL CHECK (kind IN ('subject', 'body', 'wiki')),
    id   BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

-- By message, not by ticket: a merge moves messages to another ticket without touching their
-- pairs (a search joins back to the message for its ticket).
CREATE TABLE ticket_body_pairs (
    id    BIGINT     PRIMARY KEY REFERENCES ticket_transactions(id) ON DELETE CASCADE,
    pairs SMALLINT[] NOT NULL
);
CREATE INDEX ticket_body_pairs_idx ON ticket_body_pairs USING gin (pairs);

CREATE TABLE ticket_subject_pairs (
    ticket_id BIGINT     PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    pairs     SMALLINT[] NOT NULL
);
CREATE INDEX ticket_subject_pairs_idx ON ticket_subject_pairs USING gin (pairs);

-- Title and body together: the wiki search looks for a text in either.
CREATE TABLE wiki_page_pairs (
    page_id BIGINT     PRIMARY KEY REFERENCES wiki_pages(id) ON DELETE CASCADE,
    pairs   SMALLINT[] NOT NULL
);
CREATE INDEX wiki_page_pairs_idx ON wiki_page_pairs USING gin (pairs);

CREATE FUNCTION text_pairs_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO text_pairs_pending (kind, id) VALUES (TG_ARGV[0], NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER ticket_subject_pairs_new AFTER INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION text_pairs_queue('subject');
CREATE TRIGGER ticket_subject_pairs_changed AFTER UPDATE OF subject ON tickets
    FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject)
    EXECUTE FUNCTION text_pairs_queue('subject');
CREATE TRIGGER ticket_body_pairs_new AFTER INSERT ON ticket_transactions
    FOR EACH ROW WHEN (NEW.body IS NOT NULL) EXECUTE FUNCTION text_pairs_queue('body');
CREATE TRIGGER ticket_body_pairs_changed AFTER UPDATE OF body ON ticket_transactions
    FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body AND NEW.body IS NOT NULL)
    EXECUTE FUNCTION text_pairs_queue('body');
CREATE TRIGGER wiki_page_pairs_new AFTER INSERT ON wiki_pages
    FOR EACH ROW EXECUTE FUNCTION text_pairs_queue('wiki');
CREATE TRIGGER wiki_page_pairs_changed AFTER UPDATE OF title, body ON wiki_pages
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.body IS DISTINCT FROM NEW.body)
    EXECUTE FUNCTION text_pairs_queue('wiki');

-- Everything written before this migration waits too; searches stay complete meanwhile.
INSERT INTO text_pairs_pending (kind, id) SELECT 'subject', id FROM tickets;
INSERT INTO text_pairs_pending (kind, id)
    SELECT 'body', id FROM ticket_transactions WHERE body IS NOT NULL;
INSERT INTO text_pairs_pending (kind, id) SELECT 'wiki', id FROM wiki_pages;
