-- Tokens are now `<id>.<secret>` and are found by their id, whose index grows in order.
-- The UNIQUE index on the random token_hash goes: it cost more than half of every token
-- insert, and more as the table grew. Tokens issued before keep working: their hash is
-- copied to legacy_hash, which has a partial index that new rows (legacy_hash NULL) never
-- touch and that empties as the janitor purges them. Same in PostgreSQL.
-- SQLite cannot drop a UNIQUE constraint, so the table is rebuilt (same columns, same
-- indexes, the AUTOINCREMENT counter carried over).
CREATE TABLE tokens_new (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL UNIQUE,
    token_hash     TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    client_id      TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id        TEXT    REFERENCES users (id) ON DELETE CASCADE,
    username       TEXT,
    scopes         TEXT    NOT NULL,
    grant_type     TEXT    NOT NULL,
    family_id      TEXT,
    refreshes_left INTEGER,
    client_epoch   INTEGER NOT NULL,
    user_epoch     INTEGER,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER,
    revoked_at     INTEGER,
    consumed_at    INTEGER,
    legacy_hash    TEXT
);
INSERT INTO tokens_new (seq, id, token_hash, kind, client_id, user_id, username, scopes,
    grant_type, family_id, refreshes_left, client_epoch, user_epoch, issued_at, expires_at,
    revoked_at, consumed_at, legacy_hash)
SELECT seq, id, token_hash, kind, client_id, user_id, username, scopes, grant_type,
    family_id, refreshes_left, client_epoch, user_epoch, issued_at, expires_at, revoked_at,
    consumed_at, token_hash
FROM tokens;
DELETE FROM sqlite_sequence WHERE name = 'tokens_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'tokens_new', seq FROM sqlite_sequence WHERE name = 'tokens';
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;

CREATE INDEX tokens_client_idx ON tokens (client_id, issued_at);
CREATE INDEX tokens_user_idx ON tokens (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX tokens_family_idx ON tokens (family_id) WHERE family_id IS NOT NULL;
CREATE INDEX tokens_expires_idx ON tokens (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX tokens_revoked_idx ON tokens (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX tokens_client_epoch_live_idx ON tokens (client_id, client_epoch) WHERE revoked_at IS NULL;
CREATE INDEX tokens_user_epoch_live_idx ON tokens (user_id, user_epoch) WHERE revoked_at IS NULL AND user_id IS NOT NULL;
CREATE INDEX tokens_consumed_idx ON tokens (consumed_at) WHERE consumed_at IS NOT NULL;
CREATE UNIQUE INDEX tokens_legacy_hash_idx ON tokens (legacy_hash) WHERE legacy_hash IS NOT NULL;
