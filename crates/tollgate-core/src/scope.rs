//! Scopes (RFC 6749 §3.3): what a client may ask for, what a grant holds, what a user
//! consented to. One type, so "narrow", "still allowed" and "covers" are each written once.

use std::fmt;

/// A requested scope is outside the set it was narrowed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAllowed;

/// Scope tokens without duplicates, in the order they were given (a response repeats the
/// request's order). Stored and sent space-separated; read as a slice of its tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<String>);

impl ScopeSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// The space-separated form (the wire's and the database's); empty tokens are
    /// skipped, duplicates dropped.
    pub fn parse(s: &str) -> Self {
        s.split(' ').filter(|x| !x.is_empty()).collect()
    }

    /// The scopes a request asks for, out of `self`: no (or an empty) `scope` means all
    /// of `self`; otherwise each space-separated scope must be in `self`, duplicates are
    /// dropped and the request's order is kept.
    pub fn narrow(&self, requested: Option<&str>) -> Result<ScopeSet, NotAllowed> {
        let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else {
            return Ok(self.clone());
        };
        let asked = Self::parse(requested);
        if asked.iter().all(|s| self.contains(s)) {
            Ok(asked)
        } else {
            Err(NotAllowed)
        }
    }

    /// The scopes of `self` still in `allowed`, in `self`'s order.
    pub fn still_allowed(&self, allowed: &ScopeSet) -> ScopeSet {
        Self(
            self.0
                .iter()
                .filter(|g| allowed.contains(g))
                .cloned()
                .collect(),
        )
    }

    /// Whether every scope of `other` is in `self` (a consent covering a request).
    pub fn covers(&self, other: &ScopeSet) -> bool {
        other.iter().all(|s| self.contains(s))
    }

    /// `self` with the scopes of `other` it lacks appended.
    pub fn union(mut self, other: &ScopeSet) -> ScopeSet {
        for s in other.iter() {
            if !self.contains(s) {
                self.0.push(s.clone());
            }
        }
        self
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl std::ops::Deref for ScopeSet {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl<S: Into<String>> FromIterator<S> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut out = Self::default();
        for s in iter {
            let s = s.into();
            if !out.contains(&s) {
                out.0.push(s);
            }
        }
        out
    }
}

impl From<Vec<String>> for ScopeSet {
    fn from(v: Vec<String>) -> Self {
        v.into_iter().collect()
    }
}

/// Reads well in assertions: `assert_eq!(client.scopes, ["read", "write"])`.
impl<const N: usize> PartialEq<[&str; N]> for ScopeSet {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.0.len() == N && self.0.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl<const N: usize> From<[&str; N]> for ScopeSet {
    fn from(v: [&str; N]) -> Self {
        v.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &[&str]) -> ScopeSet {
        s.iter().copied().collect()
    }

    #[test]
    fn narrowing_follows_rfc_6749_section_3_3() {
        let allowed = set(&["read", "write"]);
        type Case<'a> = (Option<&'a str>, Result<ScopeSet, NotAllowed>);
        let cases: [Case; 6] = [
            (None, Ok(set(&["read", "write"]))),
            (Some("  "), Ok(set(&["read", "write"]))),
            (Some("write"), Ok(set(&["write"]))),
            (Some("write  read write"), Ok(set(&["write", "read"]))),
            (Some("read admin"), Err(NotAllowed)),
            (Some("READ"), Err(NotAllowed)),
        ];
        for (requested, expected) in cases {
            assert_eq!(allowed.narrow(requested), expected, "{requested:?}");
        }
        assert_eq!(ScopeSet::new().narrow(Some("read")), Err(NotAllowed));
        assert_eq!(ScopeSet::new().narrow(None), Ok(ScopeSet::new()));
    }

    #[test]
    fn still_allowed_keeps_the_grants_order() {
        let granted = set(&["write", "read", "admin"]);
        assert_eq!(
            granted.still_allowed(&set(&["read", "write"])),
            set(&["write", "read"])
        );
        assert!(granted.still_allowed(&ScopeSet::new()).is_empty());
    }

    #[test]
    fn parse_display_covers_and_union() {
        let s = ScopeSet::parse(" read  write read ");
        assert_eq!(&*s, ["read".to_owned(), "write".to_owned()]);
        assert_eq!(s.to_string(), "read write");
        assert_eq!(ScopeSet::parse("").to_string(), "");
        assert!(s.covers(&set(&["write"])));
        assert!(s.covers(&ScopeSet::new()));
        assert!(!s.covers(&set(&["write", "admin"])));
        assert_eq!(
            set(&["read"]).union(&set(&["write", "read"])),
            set(&["read", "write"])
        );
    }
}
