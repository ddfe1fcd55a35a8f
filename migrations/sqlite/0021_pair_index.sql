-- Kept in step with migrations/postgres/0021 (the pair index for two-character searches).
-- SQLite needs nothing here: its two-character searches read the FTS5 trigram index's term
-- list (migrations 0018 and 0019).
SELECT 1;
