-- SQLite moves its ticket full-text indexes to a file of their own (migration 0020 there).
-- PostgreSQL's trigram GIN indexes are kept by the writing statement and no writer waits on
-- another for them, so nothing changes here.
SELECT 1;
