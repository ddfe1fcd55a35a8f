-- Two-character wiki searches (`L2`) have no trigram to look up, and used to read every page's
-- text when the pair is rare (97 ms for 10,000 pages, a text in none of them). As for tickets
-- (migration 0018): every place two characters sit in a title or body, except at its very end,
-- begins a trigram the index holds, which the fts5vocab table lists in the index's own term
-- order, so the trigrams beginning with the pair are a range scan; the two indexes on the last
-- two characters find the titles and bodies that end with it. Each candidate is then checked
-- with LIKE, so the answer stays LIKE's.
CREATE VIRTUAL TABLE wiki_fts_terms USING fts5vocab(wiki_fts, 'instance');
CREATE INDEX wiki_pages_title_end_idx ON wiki_pages (lower(substr(title, -2)));
CREATE INDEX wiki_pages_body_end_idx ON wiki_pages (lower(substr(body, -2)));
