//! Creating and changing a client: the input as callers give it (`ClientInput`), and
//! `validate`, every rule of SPEC §1, collecting all problems before failing.

use super::{
    Client, ClientType, GrantSet, GrantType, RefreshCount, TokenLifetime, DESCRIPTION_MAX,
    LIFETIME_DEFAULT, LIFETIME_MAX, NAME_MAX, REDIRECT_URIS_MAX, REDIRECT_URI_LEN_MAX,
    REFRESH_COUNT_MAX, SCOPES_MAX, SCOPE_LEN_MAX, VERSION_MAX,
};
use crate::error::FieldError;
use crate::id::ClientId;
use crate::policy::Policy;
use crate::scope::ScopeSet;
use crate::text::TextKind;

/// A limit (`access_token_lifetime`, `refresh_count`) as the caller gave it, before the
/// rules: the rules, not the caller's format, decide which numbers are in range and which
/// word is allowed, so a bad value becomes a field error like any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitInput {
    /// A number; `None` when it is not a whole number that fits 64 bits (`1.5`, `1e30`).
    Number(Option<i64>),
    /// Text: the keyword (`never`, `unlimited`) or something wrong.
    Text(String),
    /// Neither, as the caller's format writes it (JSON `true`, `null`), for the message.
    Other(String),
}

impl LimitInput {
    /// What an administrator typed (console, CLI): digits are a number, anything else text.
    pub fn typed(raw: &str) -> Self {
        let t = raw.trim();
        t.parse::<i64>()
            .map_or_else(|_| Self::Text(t.to_owned()), |n| Self::Number(Some(n)))
    }

    /// `never` / `unlimited`.
    pub fn keyword(word: &str) -> Self {
        Self::Text(word.to_owned())
    }

    /// How the message names a wrong value: text quoted, anything else as given.
    fn shown(&self) -> String {
        match self {
            Self::Number(Some(n)) => n.to_string(),
            Self::Number(None) => "a number".to_owned(),
            Self::Text(t) => format!("{t:?}"),
            Self::Other(o) => o.clone(),
        }
    }
}

/// Input for creating a client or changing one (PATCH: absent fields stay as they are).
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: Option<String>,
    pub version: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub client_type: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub access_token_lifetime: Option<LimitInput>,
    pub refresh_count: Option<LimitInput>,
    pub active: Option<bool>,
}

/// The settings a client ends up with once the input is validated (and, for an update,
/// merged with the stored client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub client_type: ClientType,
    pub grant_types: GrantSet,
    pub redirect_uris: Vec<String>,
    pub scopes: ScopeSet,
    pub access_token_lifetime: TokenLifetime,
    pub refresh_count: RefreshCount,
    pub active: bool,
}

impl ClientSettings {
    pub fn of(c: &Client) -> Self {
        Self {
            name: c.name.clone(),
            version: c.version.clone(),
            description: c.description.clone(),
            client_type: c.client_type,
            grant_types: c.grant_types,
            redirect_uris: c.redirect_uris.clone(),
            scopes: c.scopes.clone(),
            access_token_lifetime: c.access_token_lifetime,
            refresh_count: c.refresh_count,
            active: c.active,
        }
    }
}

impl ClientSettings {
    /// Client `client_id` with these settings and nothing else yet: no secret or history,
    /// which the caller fills in.
    pub fn into_client(self, client_id: ClientId) -> Client {
        let never = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        Client {
            client_id,
            name: self.name,
            version: self.version,
            description: self.description,
            client_type: self.client_type,
            grant_types: self.grant_types,
            redirect_uris: self.redirect_uris,
            scopes: self.scopes,
            access_token_lifetime: self.access_token_lifetime,
            refresh_count: self.refresh_count,
            active: self.active,
            secret_hash: None,
            previous_secret_hash: None,
            previous_secret_expires_at: None,
            token_epoch: 0,
            revision: 0,
            created_at: never,
            updated_at: never,
        }
    }
}

/// Validates `input` on its own (create, `existing == None`) or as a change to `existing`.
/// Returns every problem found, not just the first.
pub fn validate(
    input: &ClientInput,
    existing: Option<&Client>,
    policy: Policy,
) -> Result<ClientSettings, Vec<FieldError>> {
    let mut errs = Vec::new();
    let before = existing.map(ClientSettings::of);

    let name = match (&input.name, &before) {
        (Some(n), Some(b)) => {
            let n = n.trim();
            if n != b.name {
                errs.push(FieldError::new(
                    "name",
                    "immutable",
                    "name cannot be changed after the client is created; register a new client instead",
                ));
            }
            b.name.clone()
        }
        (Some(n), None) => text_field(&mut errs, "name", n, NAME_MAX).unwrap_or_default(),
        (None, Some(b)) => b.name.clone(),
        (None, None) => {
            errs.push(FieldError::new("name", "required", "name is required"));
            String::new()
        }
    };

    let version = match (&input.version, &before) {
        (Some(v), _) => text_field(&mut errs, "version", v, VERSION_MAX).unwrap_or_default(),
        (None, Some(b)) => b.version.clone(),
        (None, None) => {
            errs.push(FieldError::new(
                "version",
                "required",
                "version is required (for example \"1.0\")",
            ));
            String::new()
        }
    };

    let description = match &input.description {
        Some(Some(d)) => {
            let d = crate::text::normalize_newlines(d.trim());
            if d.chars().count() > DESCRIPTION_MAX {
                errs.push(FieldError::new(
                    "description",
                    "too_long",
                    format!("description must be at most {DESCRIPTION_MAX} characters"),
                ));
            } else if let Err(e) = crate::text::refuse_controls(&d, TextKind::Multiline) {
                errs.push(FieldError::new(
                    "description",
                    "invalid_characters",
                    format!("description {e}"),
                ));
            }
            (!d.is_empty()).then(|| d.into_owned())
        }
        Some(None) => None,
        None => before.as_ref().and_then(|b| b.description.clone()),
    };

    let client_type = match (&input.client_type, &before) {
        (Some(t), _) => match ClientType::parse(t) {
            Some(t) => Some(t),
            None => {
                errs.push(FieldError::new(
                    "type",
                    "invalid",
                    format!("type must be \"confidential\" or \"public\", not {t:?}"),
                ));
                None
            }
        },
        (None, Some(b)) => Some(b.client_type),
        (None, None) => {
            errs.push(FieldError::new(
                "type",
                "required",
                "type is required: \"confidential\" or \"public\"",
            ));
            None
        }
    };

    let grant_types = match (&input.grant_types, &before) {
        (Some(list), _) => parse_grants(&mut errs, list),
        (None, Some(b)) => Some(b.grant_types),
        (None, None) => {
            errs.push(FieldError::new(
                "grant_types",
                "required",
                "grant_types is required: one or more of authorization_code, client_credentials, password, implicit",
            ));
            None
        }
    };

    if let (Some(t), Some(g)) = (client_type, grant_types) {
        if t == ClientType::Public {
            let bad: Vec<&str> = g
                .iter()
                .filter(|g| !g.allowed_for_public())
                .map(GrantType::as_str)
                .collect();
            if !bad.is_empty() {
                errs.push(FieldError::new(
                    "grant_types",
                    "requires_confidential_client",
                    format!(
                        "{} require a confidential client; a public client may only use authorization_code and implicit",
                        bad.join(" and ")
                    ),
                ));
            }
        }
    }
    if let Some(g) = grant_types {
        if !policy.allow_legacy_grants {
            let had = before.as_ref().map(|b| b.grant_types).unwrap_or_default();
            let new: Vec<&str> = g
                .iter()
                .filter(|x| x.is_legacy() && !had.contains(*x))
                .map(GrantType::as_str)
                .collect();
            if !new.is_empty() {
                errs.push(FieldError::new(
                    "grant_types",
                    "forbidden_by_policy",
                    format!(
                        "{} disabled on this server (policy.allow_legacy_grants = false)",
                        if new.len() == 1 {
                            format!("the {} grant is", new[0])
                        } else {
                            format!("the {} grants are", new.join(" and "))
                        }
                    ),
                ));
            }
        }
    }

    let redirect_uris = match (&input.redirect_uris, &before) {
        (Some(list), _) => parse_redirect_uris(&mut errs, list),
        (None, Some(b)) => b.redirect_uris.clone(),
        (None, None) => Vec::new(),
    };
    if let Some(g) = grant_types {
        if redirect_uris.is_empty()
            && (g.contains(GrantType::AuthorizationCode) || g.contains(GrantType::Implicit))
            && !errs.iter().any(|e| e.field.starts_with("redirect_uris"))
        {
            errs.push(FieldError::new(
                "redirect_uris",
                "required",
                "at least one redirect URI is required for the authorization_code and implicit grants",
            ));
        }
    }

    let scopes = match (&input.scopes, &before) {
        (Some(list), _) => parse_scopes(&mut errs, list).into(),
        (None, Some(b)) => b.scopes.clone(),
        (None, None) => ScopeSet::new(),
    };

    let access_token_lifetime = match (&input.access_token_lifetime, &before) {
        (Some(v), _) => parse_lifetime(&mut errs, v),
        (None, Some(b)) => Some(b.access_token_lifetime),
        (None, None) => Some(TokenLifetime::Seconds(LIFETIME_DEFAULT)),
    };
    if access_token_lifetime == Some(TokenLifetime::Never)
        && !policy.allow_never_expiring_tokens
        && before.as_ref().map(|b| b.access_token_lifetime) != Some(TokenLifetime::Never)
    {
        errs.push(FieldError::new(
            "access_token_lifetime",
            "forbidden_by_policy",
            "never-expiring access tokens are disabled on this server (policy.allow_never_expiring_tokens = false); give a number of seconds",
        ));
    }

    let refresh_count = match (&input.refresh_count, &before) {
        (Some(v), _) => parse_refresh_count(&mut errs, v),
        (None, Some(b)) => Some(b.refresh_count),
        (None, None) => Some(RefreshCount::Limited(0)),
    };

    let active = input
        .active
        .or(before.as_ref().map(|b| b.active))
        .unwrap_or(true);

    match (
        errs.is_empty(),
        client_type,
        grant_types,
        access_token_lifetime,
        refresh_count,
    ) {
        (true, Some(client_type), Some(grant_types), Some(lt), Some(rc)) => Ok(ClientSettings {
            name,
            version,
            description,
            client_type,
            grant_types,
            redirect_uris,
            scopes,
            access_token_lifetime: lt,
            refresh_count: rc,
            active,
        }),
        _ => Err(errs),
    }
}

fn text_field(errs: &mut Vec<FieldError>, field: &str, raw: &str, max: usize) -> Option<String> {
    let v = raw.trim();
    if v.is_empty() {
        errs.push(FieldError::new(
            field,
            "blank",
            format!("{field} must not be blank"),
        ));
        return None;
    }
    if v.chars().count() > max {
        errs.push(FieldError::new(
            field,
            "too_long",
            format!("{field} must be at most {max} characters"),
        ));
        return None;
    }
    if let Err(e) = crate::text::refuse_controls(v, TextKind::Identifier) {
        errs.push(FieldError::new(
            field,
            "invalid_characters",
            format!("{field} {e}"),
        ));
        return None;
    }
    Some(v.to_owned())
}

fn parse_grants(errs: &mut Vec<FieldError>, list: &[String]) -> Option<GrantSet> {
    if list.is_empty() {
        errs.push(FieldError::new(
            "grant_types",
            "empty",
            "grant_types must contain at least one of authorization_code, client_credentials, password, implicit",
        ));
        return None;
    }
    let mut set = GrantSet::default();
    let mut ok = true;
    for (i, g) in list.iter().enumerate() {
        match GrantType::parse_registrable(g) {
            Some(g) => set.insert(g),
            None => {
                ok = false;
                errs.push(FieldError::new(
                    format!("grant_types[{i}]"),
                    "invalid",
                    format!("unknown grant type {g:?}; expected authorization_code, client_credentials, password or implicit"),
                ));
            }
        }
    }
    ok.then_some(set)
}

/// SPEC §1 `redirect_uris`, RFC 6749 §3.1.2 (absolute, no fragment) and RFC 8252 §7
/// (loopback http and private-use schemes for native apps).
pub fn check_redirect_uri(uri: &str) -> Result<(), (&'static str, String)> {
    if uri.len() > REDIRECT_URI_LEN_MAX {
        return Err((
            "too_long",
            format!("must be at most {REDIRECT_URI_LEN_MAX} characters"),
        ));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err((
            "invalid",
            "must not contain spaces or control characters".into(),
        ));
    }
    // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
    if uri.contains('#') {
        return Err(("fragment", "must not contain a fragment (#…)".into()));
    }
    let parsed = match url::Url::parse(uri) {
        Ok(u) => u,
        Err(_) => {
            return Err((
                "not_absolute",
                format!(
                "{uri:?} is not an absolute URI (expected e.g. https://app.example.com/callback)"
            ),
            ))
        }
    };
    match parsed.scheme() {
        "https" => {
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(("invalid", "an https URI needs a host".into()));
            }
            Ok(())
        }
        "http" => match parsed.host_str() {
            Some("localhost" | "127.0.0.1" | "[::1]") => Ok(()),
            _ => Err((
                "insecure_scheme",
                "http is allowed only on loopback hosts (localhost, 127.0.0.1, [::1]); use https".into(),
            )),
        },
        // RFC 8252 §7.1: private-use schemes are reverse domain names, so they contain a
        // period; this also keeps out javascript:, data:, file: and the like.
        s if s.contains('.') => Ok(()),
        s => Err((
            "insecure_scheme",
            format!("scheme {s:?} is not allowed; use https, http on a loopback host, or a private-use scheme such as com.example.app:/callback"),
        )),
    }
}

fn parse_redirect_uris(errs: &mut Vec<FieldError>, list: &[String]) -> Vec<String> {
    const RULE: ListRule = ListRule {
        field: "redirect_uris",
        max: REDIRECT_URIS_MAX,
        noun: ("redirect URI", "redirect URIs"),
    };
    RULE.parse(errs, list, |uri| {
        check_redirect_uri(uri).map_err(|(code, msg)| (code, format!("redirect URI {msg}")))
    })
}

/// A list field (`redirect_uris`, `scopes`): at most `max` entries, each checked on its
/// own and named by its index, none twice.
struct ListRule {
    field: &'static str,
    max: usize,
    /// How messages call one entry, and several.
    noun: (&'static str, &'static str),
}

impl ListRule {
    fn parse(
        &self,
        errs: &mut Vec<FieldError>,
        list: &[String],
        check: impl Fn(&str) -> Result<(), (&'static str, String)>,
    ) -> Vec<String> {
        if list.len() > self.max {
            errs.push(FieldError::new(
                self.field,
                "too_many",
                format!("at most {} {} are allowed", self.max, self.noun.1),
            ));
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            let field = format!("{}[{i}]", self.field);
            if let Err((code, msg)) = check(v) {
                errs.push(FieldError::new(field, code, msg));
            } else if out.contains(v) {
                errs.push(FieldError::new(
                    field,
                    "duplicate",
                    format!("{} {v:?} is listed twice", self.noun.0),
                ));
            } else {
                out.push(v.clone());
            }
        }
        out
    }
}

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn parse_scopes(errs: &mut Vec<FieldError>, list: &[String]) -> Vec<String> {
    const RULE: ListRule = ListRule {
        field: "scopes",
        max: SCOPES_MAX,
        noun: ("scope", "scopes"),
    };
    RULE.parse(errs, list, |s| {
        if s.len() > SCOPE_LEN_MAX {
            Err((
                "too_long",
                format!("scope must be at most {SCOPE_LEN_MAX} characters"),
            ))
        } else if !is_scope_token(s) {
            Err((
                "invalid",
                format!("{s:?} is not a valid scope: use printable ASCII without spaces, '\"' or '\\' (RFC 6749 §3.3)"),
            ))
        } else {
            Ok(())
        }
    })
}

fn parse_lifetime(errs: &mut Vec<FieldError>, v: &LimitInput) -> Option<TokenLifetime> {
    let rule = LimitRule {
        field: "access_token_lifetime",
        keyword: ("never", TokenLifetime::Never),
        range: 1..=LIFETIME_MAX,
        number: TokenLifetime::Seconds,
        out_of_range: format!("access_token_lifetime must be a whole number of seconds from 1 to {LIFETIME_MAX}, or \"never\""),
        invalid: format!("access_token_lifetime must be \"never\" or a whole number of seconds from 1 to {LIFETIME_MAX}"),
    };
    rule.parse(errs, v)
}

fn parse_refresh_count(errs: &mut Vec<FieldError>, v: &LimitInput) -> Option<RefreshCount> {
    let rule = LimitRule {
        field: "refresh_count",
        keyword: ("unlimited", RefreshCount::Unlimited),
        range: 0..=REFRESH_COUNT_MAX,
        number: RefreshCount::Limited,
        out_of_range: format!(
            "refresh_count must be a whole number from 0 to {REFRESH_COUNT_MAX}, or \"unlimited\""
        ),
        invalid: "refresh_count must be \"unlimited\" or a whole number ≥ 0".to_owned(),
    };
    rule.parse(errs, v)
}

/// A limit field: its keyword, or a whole number in `range`. A number outside it is
/// `out_of_range`, anything else `invalid` (the message then says what was given).
struct LimitRule<T> {
    field: &'static str,
    keyword: (&'static str, T),
    range: std::ops::RangeInclusive<i64>,
    number: fn(u32) -> T,
    out_of_range: String,
    invalid: String,
}

impl<T> LimitRule<T> {
    fn parse(self, errs: &mut Vec<FieldError>, v: &LimitInput) -> Option<T> {
        match v {
            LimitInput::Text(s) if *s == self.keyword.0 => Some(self.keyword.1),
            LimitInput::Number(Some(n)) if self.range.contains(n) => {
                u32::try_from(*n).ok().map(self.number)
            }
            LimitInput::Number(_) => {
                errs.push(FieldError::new(
                    self.field,
                    "out_of_range",
                    self.out_of_range,
                ));
                None
            }
            _ => {
                errs.push(FieldError::new(
                    self.field,
                    "invalid",
                    format!("{}, not {}", self.invalid, v.shown()),
                ));
                None
            }
        }
    }
}
