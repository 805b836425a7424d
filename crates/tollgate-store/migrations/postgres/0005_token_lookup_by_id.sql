-- Tokens are now `<id>.<secret>` and are found by their id, whose index grows in order.
-- The UNIQUE index on the random token_hash goes: it cost more than half of every token
-- insert, and more as the table grew. Tokens issued before keep working: their hash is
-- copied to legacy_hash, which has a partial index that new rows (legacy_hash NULL) never
-- touch and that empties as the janitor purges them. Same in SQLite.
ALTER TABLE tokens ADD COLUMN legacy_hash TEXT;
UPDATE tokens SET legacy_hash = token_hash;
ALTER TABLE tokens DROP CONSTRAINT tokens_token_hash_key;
CREATE UNIQUE INDEX tokens_legacy_hash_idx ON tokens (legacy_hash) WHERE legacy_hash IS NOT NULL;
