-- Usernames and client names are now unique under `text::identity_key` (NFKC + full case
-- folding) rather than lower-casing. SQL cannot compute that key, so this marks the keys
-- as pending and the store recomputes them in Rust right after migrating
-- (`rekey_identities`, see src/rekey.rs for what happens to rows that now collide).
INSERT INTO settings (name, value) VALUES ('identity_keys', 'pending');
