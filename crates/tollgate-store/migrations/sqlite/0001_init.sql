-- Tollgate schema v1 (SQLite). Keep in step with migrations/postgres/0001_init.sql.
-- Times are Unix milliseconds (UTC); JSON arrays are stored as TEXT.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE clients (
    seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id                  TEXT    NOT NULL UNIQUE,
    name                       TEXT    NOT NULL,
    name_key                   TEXT    NOT NULL,
    version                    TEXT    NOT NULL,
    description                TEXT,
    client_type                TEXT    NOT NULL CHECK (client_type IN ('confidential', 'public')),
    grant_mask                 INTEGER NOT NULL CHECK (grant_mask BETWEEN 1 AND 15),
    redirect_uris              TEXT    NOT NULL,
    scopes                     TEXT    NOT NULL,
    access_token_lifetime      INTEGER,
    refresh_count              INTEGER,
    active                     INTEGER NOT NULL,
    secret_hash                TEXT,
    previous_secret_hash       TEXT,
    previous_secret_expires_at INTEGER,
    token_epoch                INTEGER NOT NULL DEFAULT 0,
    revision                   INTEGER NOT NULL,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    CONSTRAINT clients_name_version_key UNIQUE (name_key, version)
);

CREATE TABLE admin_keys (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    key_hash   TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL,
    display_name  TEXT,
    active        INTEGER NOT NULL,
    admin         INTEGER NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username_key)
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    target_id   TEXT    NOT NULL,
    source_ip   TEXT,
    details     TEXT    NOT NULL
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_id, id);
