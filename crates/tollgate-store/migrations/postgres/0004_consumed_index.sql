-- The janitor deletes consumed refresh tokens past the retention; without this index that
-- part of its purge scanned every token (minutes for a million rows, holding the writer).
-- Same in PostgreSQL and SQLite.
CREATE INDEX tokens_consumed_idx ON tokens (consumed_at) WHERE consumed_at IS NOT NULL;
