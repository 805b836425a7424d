//! RFC 6749 §3.3 scope requests: the one "narrow" of every flow.

/// A requested scope is outside the set it was narrowed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAllowed;

/// The scopes a request asks for, out of `allowed`: no (or an empty) `scope` means all of
/// `allowed`; otherwise each space-separated scope must be in `allowed`, duplicates are
/// dropped and the request's order is kept.
pub fn narrow(allowed: &[String], requested: Option<&str>) -> Result<Vec<String>, NotAllowed> {
    let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else {
        return Ok(allowed.to_vec());
    };
    let mut out: Vec<String> = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if !allowed.iter().any(|a| a == s) {
            return Err(NotAllowed);
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// The scopes of `granted` still in `allowed`, in `granted`'s order.
pub fn still_allowed(granted: &[String], allowed: &[String]) -> Vec<String> {
    granted
        .iter()
        .filter(|g| allowed.contains(g))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn narrowing_follows_rfc_6749_section_3_3() {
        let allowed = set(&["read", "write"]);
        type Case<'a> = (Option<&'a str>, Result<Vec<String>, NotAllowed>);
        let cases: [Case; 6] = [
            (None, Ok(set(&["read", "write"]))),
            (Some("  "), Ok(set(&["read", "write"]))),
            (Some("write"), Ok(set(&["write"]))),
            (Some("write  read write"), Ok(set(&["write", "read"]))),
            (Some("read admin"), Err(NotAllowed)),
            (Some("READ"), Err(NotAllowed)),
        ];
        for (requested, expected) in cases {
            assert_eq!(narrow(&allowed, requested), expected, "{requested:?}");
        }
        assert_eq!(narrow(&[], Some("read")), Err(NotAllowed));
        assert_eq!(narrow(&[], None), Ok(vec![]));
    }

    #[test]
    fn still_allowed_keeps_the_grants_order() {
        let granted = set(&["write", "read", "admin"]);
        assert_eq!(
            still_allowed(&granted, &set(&["read", "write"])),
            set(&["write", "read"])
        );
        assert!(still_allowed(&granted, &[]).is_empty());
    }
}
