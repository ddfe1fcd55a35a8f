-- SQLite's two-character search (migration 0018 there) reads the FTS5 index's term list.
-- pg_trgm keeps no such list that SQL can range over (its GIN keys are packed trigrams), so
-- PostgreSQL has nothing to add here: a two-character ILIKE still reads every row.
SELECT 1;
