//! Unique violations as the domain error they mean, chosen by which constraint refused the
//! write (realworld-axum-sqlx's `on_constraint`), never by reading the message's prose.
//! PostgreSQL reports the constraint's name; SQLite names no constraint, only the columns
//! it covers (`UNIQUE constraint failed: clients.name_key, clients.version`), so each
//! entry carries both identities. Names are those of `migrations/`.

use tollgate_core::store::StoreError;

/// A unique constraint as each database identifies it.
pub(crate) struct Unique {
    /// PostgreSQL's constraint (or unique index) name.
    pub postgres: &'static str,
    /// SQLite's `table.column, …` list.
    pub sqlite: &'static str,
    pub error: StoreError,
}

const fn dup(postgres: &'static str, sqlite: &'static str, what: &'static str) -> Unique {
    Unique {
        postgres,
        sqlite,
        error: StoreError::Duplicate(what),
    }
}

/// Every unique constraint a write can meet.
const UNIQUE: &[Unique] = &[
    Unique {
        postgres: "clients_name_version_key",
        sqlite: "clients.name_key, clients.version",
        error: StoreError::DuplicateNameVersion,
    },
    dup("clients_client_id_key", "clients.client_id", "client"),
    dup("admin_keys_pkey", "admin_keys.id", "admin key"),
    dup(
        "admin_keys_key_hash_key",
        "admin_keys.key_hash",
        "admin key",
    ),
    dup("users_pkey", "users.id", "user"),
    dup("users_username_key", "users.username_key", "user"),
    dup("tokens_id_key", "tokens.id", "token"),
    dup("tokens_legacy_hash_idx", "tokens.legacy_hash", "token"),
    dup(
        "auth_codes_pkey",
        "auth_codes.code_hash",
        "authorization code",
    ),
];

/// How the database named the constraint a write violated.
pub(crate) enum Violated<'a> {
    /// PostgreSQL: the constraint's name.
    Named(&'a str),
    /// SQLite: its error message, whose text after the fixed prefix is the column list.
    SqliteMessage(&'a str),
}

/// The domain error for a unique violation; `fallback` for a constraint not in the table.
pub(crate) fn unique_violation(violated: Violated<'_>, fallback: StoreError) -> StoreError {
    let found = match violated {
        Violated::Named(name) => UNIQUE.iter().find(|u| u.postgres == name),
        Violated::SqliteMessage(message) => message
            .strip_prefix("UNIQUE constraint failed: ")
            .and_then(|columns| UNIQUE.iter().find(|u| u.sqlite == columns)),
    };
    found.map_or(fallback, |u| u.error.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_are_told_apart_by_identity_on_both_databases() {
        let fallback = || StoreError::Duplicate("x");
        for (violated, expected) in [
            (
                Violated::Named("clients_name_version_key"),
                "a client with this name and version already exists",
            ),
            (
                Violated::SqliteMessage(
                    "UNIQUE constraint failed: clients.name_key, clients.version",
                ),
                "a client with this name and version already exists",
            ),
            (Violated::Named("users_username_key"), "user already exists"),
            (
                Violated::SqliteMessage("UNIQUE constraint failed: tokens.id"),
                "token already exists",
            ),
            (Violated::Named("something_else"), "x already exists"),
            // Only the column list counts, not words elsewhere in the message.
            (
                Violated::SqliteMessage("clients.name_key, clients.version"),
                "x already exists",
            ),
        ] {
            assert_eq!(unique_violation(violated, fallback()).to_string(), expected);
        }
    }
}
