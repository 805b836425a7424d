-- Tollgate schema v2 (SQLite): tokens, authorization codes, sessions, consents.
-- Keep in step with migrations/postgres/0002_oauth.sql.

-- Deactivating a user moves its epoch: every token and session that remembers an older
-- epoch is dead, in one write.
ALTER TABLE users ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;

CREATE TABLE tokens (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL UNIQUE,
    token_hash     TEXT    NOT NULL UNIQUE,
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
    consumed_at    INTEGER
);
CREATE INDEX tokens_client_idx ON tokens (client_id, issued_at);
CREATE INDEX tokens_user_idx ON tokens (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX tokens_family_idx ON tokens (family_id) WHERE family_id IS NOT NULL;
CREATE INDEX tokens_expires_idx ON tokens (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX tokens_revoked_idx ON tokens (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE auth_codes (
    code_hash          TEXT    PRIMARY KEY,
    client_id          TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id            TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri       TEXT    NOT NULL,
    redirect_uri_given INTEGER NOT NULL,
    scopes             TEXT    NOT NULL,
    code_challenge     TEXT,
    family_id          TEXT    NOT NULL,
    client_epoch       INTEGER NOT NULL,
    user_epoch         INTEGER NOT NULL,
    issued_at          INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    used_at            INTEGER
);
CREATE INDEX auth_codes_expires_idx ON auth_codes (expires_at);

CREATE TABLE sessions (
    id_hash    TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_epoch INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE consents (
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scopes     TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
