-- Kept in step with migrations/sqlite/0004 (per-ticket FTS5 document for message bodies).
-- PostgreSQL needs no change: `Content LIKE` runs ILIKE on ticket_transactions.body through its
-- pg_trgm GIN index.
SELECT 1;
