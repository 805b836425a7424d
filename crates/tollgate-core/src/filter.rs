//! List filters as callers write them (query parameters of the admin API and the console),
//! read into the store's typed filters by one set of rules: an unknown value is refused,
//! naming the parameter, wherever it comes from — never silently ignored.

use crate::client::{ClientType, GrantType};
use crate::error::FieldError;
use crate::id::ClientId;
use crate::store::{ClientFilter, ClientOrder, TokenFilter};
use crate::token::{TokenKind, TokenStatus};

/// Blank means "no filter".
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// `v` read by `parse`, or an error for `field` saying what was expected.
fn parsed<T>(
    errs: &mut Vec<FieldError>,
    field: &str,
    v: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    message: impl Fn(&str) -> String,
) -> Option<T> {
    let v = given(v)?;
    let p = parse(v);
    if p.is_none() {
        errs.push(FieldError::new(field, "invalid", message(v)));
    }
    p
}

/// The client list's filters, as written.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientQuery<'a> {
    pub q: Option<&'a str>,
    pub active: Option<&'a str>,
    pub grant_type: Option<&'a str>,
    pub client_type: Option<&'a str>,
    pub version: Option<&'a str>,
    /// `ClientOrder::as_str`'s spellings.
    pub sort: Option<&'a str>,
}

impl ClientFilter {
    /// Every bad filter is named at once.
    pub fn parse(q: ClientQuery<'_>) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let active = parsed(
            &mut errs,
            "active",
            q.active,
            |a| match a {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            |a| format!("active must be true or false, not {a:?}"),
        );
        let grant_type = parsed(
            &mut errs,
            "grant_type",
            q.grant_type,
            GrantType::parse_registrable,
            |g| {
                format!("unknown grant type {g:?}; expected authorization_code, client_credentials, password or implicit")
            },
        );
        let client_type = parsed(&mut errs, "type", q.client_type, ClientType::parse, |t| {
            format!("type must be \"confidential\" or \"public\", not {t:?}")
        });
        let order = parsed(&mut errs, "sort", q.sort, ClientOrder::parse, |s| {
            format!("unknown sort {s:?}; expected created, name or version, each with a leading - for descending")
        });
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Self {
            order: order.unwrap_or_default(),
            // A substring, so spaces at its ends are part of it.
            q: q.q.filter(|s| !s.trim().is_empty()).map(str::to_owned),
            active,
            grant_type,
            client_type,
            version: given(q.version).map(str::to_owned),
        })
    }
}

/// Token Management's filters, as written.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenQuery<'a> {
    pub client_id: Option<&'a str>,
    pub username: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub status: Option<&'a str>,
}

impl TokenFilter {
    /// Every bad filter is named at once.
    pub fn parse(q: TokenQuery<'_>) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let kind = parsed(&mut errs, "kind", q.kind, TokenKind::parse, |k| {
            format!("unknown token kind {k:?}; expected access or refresh")
        });
        let status = parsed(&mut errs, "status", q.status, TokenStatus::parse, |s| {
            format!("unknown token status {s:?}; expected active, expired or revoked")
        });
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Self {
            client_id: given(q.client_id).map(ClientId::new),
            username: given(q.username).map(str::to_owned),
            kind,
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: Vec<FieldError>) -> Vec<String> {
        e.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn blank_filters_are_no_filters_and_values_are_typed() {
        let f = ClientFilter::parse(ClientQuery {
            q: Some("  "),
            // (a search keeps its spaces: it is a substring)
            active: Some("false"),
            grant_type: Some("password"),
            client_type: Some("public"),
            version: Some(" 2.0 "),
            sort: Some("-name"),
        })
        .unwrap();
        assert_eq!(f.q, None);
        assert_eq!(f.active, Some(false));
        assert_eq!(f.grant_type, Some(GrantType::Password));
        assert_eq!(f.client_type, Some(ClientType::Public));
        assert_eq!(f.version.as_deref(), Some("2.0"));
        assert_eq!(f.order, ClientOrder::NameDesc);
        assert_eq!(
            ClientFilter::parse(ClientQuery::default()).unwrap().order,
            ClientOrder::Created,
            "the API's default: oldest first"
        );
        for o in ClientOrder::ALL {
            assert_eq!(ClientOrder::parse(o.as_str()), Some(o));
        }
        let t = TokenFilter::parse(TokenQuery {
            username: Some(" rita "),
            kind: Some("refresh"),
            status: Some(""),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(t.username.as_deref(), Some("rita"));
        assert_eq!(t.kind, Some(TokenKind::Refresh));
        assert_eq!(t.status, None);
    }

    #[test]
    fn unknown_filter_values_are_refused_each_by_name() {
        let e = ClientFilter::parse(ClientQuery {
            active: Some("yes"),
            grant_type: Some("refresh_token"),
            client_type: Some("secret"),
            sort: Some("created_at"),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(fields(e), ["active", "grant_type", "type", "sort"]);
        let e = TokenFilter::parse(TokenQuery {
            kind: Some("id"),
            status: Some("dead"),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(fields(e), ["kind", "status"]);
    }
}
