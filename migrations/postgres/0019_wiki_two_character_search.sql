-- SQLite's two-character wiki search (migration 0019 there) reads the FTS5 index's term list.
-- pg_trgm keeps no such list that SQL can range over, so PostgreSQL has nothing to add: a
-- two-character ILIKE there still walks the pages.
SELECT 1;
