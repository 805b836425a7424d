-- Lets the janitor find tokens killed by a client or user epoch change (deactivation,
-- revoke-all, password change) without scanning every token. Same in PostgreSQL.
CREATE INDEX tokens_client_epoch_live_idx ON tokens (client_id, client_epoch) WHERE revoked_at IS NULL;
CREATE INDEX tokens_user_epoch_live_idx ON tokens (user_id, user_epoch) WHERE revoked_at IS NULL AND user_id IS NOT NULL;
