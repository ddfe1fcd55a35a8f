-- Nothing to do on PostgreSQL: its trigram GIN indexes take new rows cheaply in the writing
-- statement (pending list), so there is no FTS backlog to keep (see the SQLite file).
SELECT 1;
