//! Schema 6 keys usernames and client names by `text::identity_key` (NFKC + full case
//! folding) instead of `to_lowercase`. SQL cannot compute that key, so the stores recompute
//! it in Rust once, after the SQL migrations (`settings.identity_keys`), with the
//! assignment decided here.
//!
//! Rows that were distinct under the old key may collide under the new one (`straße` and
//! `STRASSE`). No row is changed beyond its key, and none is deleted: the row whose old key
//! already is the new key keeps it (else the oldest row), and each other row of the group
//! keeps its old key with U+0001 and its id appended, a key no valid name can produce,
//! so it stays unique and findable by id, but no longer by name, until an administrator
//! renames or deletes it. Each such row is logged.

/// One row whose key the migration recomputes.
pub(crate) struct KeyedRow {
    pub id: String,
    /// Part of the unique constraint beside the key (a client's version; empty for users).
    pub scope: String,
    pub old_key: String,
    pub new_key: String,
    pub created_at: i64,
}

/// What to write: `(id, key)` for every row whose key changes, and the ids of rows that
/// lost a collision (included in the changes, with their fallback key).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Rekey {
    pub changes: Vec<(String, String)>,
    pub collided: Vec<String>,
}

/// The marker a collision loser's key carries: a control character, which
/// `text::refuse_controls` keeps out of every name and so out of every computed key.
const COLLIDED: char = '\u{1}';

/// `settings.identity_keys` once the keys are recomputed.
pub(crate) const DONE: &str = "nfkc-casefold";

/// A row's key between the two passes of the rewrite: unique by id, never a name's key.
pub(crate) fn parked(id: &str) -> String {
    format!("{COLLIDED}rekey{COLLIDED}{id}")
}

pub(crate) fn assign(mut rows: Vec<KeyedRow>) -> Rekey {
    use std::collections::BTreeMap;
    // The winner of each group first: the row already holding the key, then the oldest.
    rows.sort_by(|a, b| {
        (a.old_key != a.new_key, a.created_at, &a.id).cmp(&(
            b.old_key != b.new_key,
            b.created_at,
            &b.id,
        ))
    });
    let mut taken: BTreeMap<(String, String), ()> = BTreeMap::new();
    let mut out = Rekey::default();
    for r in rows {
        if taken
            .insert((r.scope.clone(), r.new_key.clone()), ())
            .is_none()
        {
            if r.new_key != r.old_key {
                out.changes.push((r.id, r.new_key));
            }
        } else {
            out.changes
                .push((r.id.clone(), format!("{}{COLLIDED}{}", r.old_key, r.id)));
            out.collided.push(r.id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, scope: &str, old: &str, created_at: i64) -> KeyedRow {
        KeyedRow {
            id: id.into(),
            scope: scope.into(),
            old_key: old.to_lowercase(),
            new_key: tollgate_core::text::identity_key(old),
            created_at,
        }
    }

    #[test]
    fn unchanged_keys_are_not_written() {
        let r = assign(vec![row("a", "", "alice", 1), row("b", "", "bob", 2)]);
        assert_eq!(r, Rekey::default());
    }

    #[test]
    fn a_collision_keeps_both_rows_and_the_holder_of_the_key_wins() {
        // "strasse" already holds the new key; "straße" (older) must step aside.
        let r = assign(vec![row("b", "", "straße", 1), row("a", "", "strasse", 2)]);
        assert_eq!(r.changes, vec![("b".into(), "straße\u{1}b".into())]);
        assert_eq!(r.collided, vec!["b".to_owned()]);
    }

    #[test]
    fn without_a_holder_the_oldest_row_wins() {
        let r = assign(vec![
            row("new", "", "ＦＩＬＥ", 5),
            row("old", "", "ﬁle", 1),
        ]);
        assert_eq!(
            r.changes,
            vec![
                ("old".into(), "file".into()),
                ("new".into(), "ｆｉｌｅ\u{1}new".into())
            ]
        );
        assert_eq!(r.collided, vec!["new".to_owned()]);
    }

    #[test]
    fn the_scope_separates_groups() {
        let r = assign(vec![
            row("a", "1.0", "straße", 1),
            row("b", "2.0", "STRASSE", 2),
        ]);
        assert_eq!(r.collided, Vec::<String>::new());
        assert_eq!(r.changes, vec![("a".into(), "strasse".into())]);
    }
}
