//! The client form (add and edit): what the administrator typed, how it becomes core's
//! `ClientInput`, and the page that shows it with each error beside its field.

use super::{grant_options, try_it::curl_commands};
use super::{render, Admin, Layout};
use crate::http::AppState;
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use tollgate_core::client::{
    Client, ClientInput, LimitInput, RefreshCount, TokenLifetime, LIFETIME_MAX, REFRESH_COUNT_MAX,
};
use tollgate_core::{Conflict, FieldError};

/// What the form submits. Repeated names (`grant_types`, `redirect_uris`) are lists.
#[derive(Debug, Default, Deserialize)]
pub struct ClientFormData {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) version: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default, rename = "type")]
    pub(super) client_type: String,
    #[serde(default)]
    pub(super) grant_types: Vec<String>,
    #[serde(default)]
    pub(super) redirect_uris: Vec<String>,
    #[serde(default)]
    pub(super) scopes: String,
    #[serde(default)]
    pub(super) lifetime_mode: String,
    #[serde(default)]
    pub(super) lifetime_seconds: String,
    #[serde(default)]
    pub(super) refresh_mode: String,
    #[serde(default)]
    pub(super) refresh_count: String,
    pub(super) active: Option<String>,
    #[serde(default)]
    pub(super) revision: i64,
}

impl ClientFormData {
    pub(super) fn of(c: &Client) -> Self {
        Self {
            name: c.name.clone(),
            version: c.version.clone(),
            description: c.description.clone().unwrap_or_default(),
            client_type: c.client_type.as_str().to_owned(),
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            redirect_uris: c.redirect_uris.clone(),
            scopes: c.scopes.join(" "),
            lifetime_mode: match c.access_token_lifetime {
                TokenLifetime::Never => "never".into(),
                TokenLifetime::Seconds(_) => "expires".into(),
            },
            lifetime_seconds: match c.access_token_lifetime {
                TokenLifetime::Never => "3600".into(),
                TokenLifetime::Seconds(s) => s.to_string(),
            },
            refresh_mode: match c.refresh_count {
                RefreshCount::Unlimited => "unlimited".into(),
                RefreshCount::Limited(_) => "limited".into(),
            },
            refresh_count: match c.refresh_count {
                RefreshCount::Unlimited => "0".into(),
                RefreshCount::Limited(n) => n.to_string(),
            },
            active: c.active.then(|| "on".into()),
            revision: c.revision,
        }
    }

    pub(super) fn blank() -> Self {
        Self {
            client_type: "confidential".into(),
            lifetime_mode: "expires".into(),
            lifetime_seconds: "3600".into(),
            refresh_mode: "limited".into(),
            refresh_count: "0".into(),
            active: Some("on".into()),
            ..Default::default()
        }
    }

    pub(super) fn to_input(&self, is_new: bool) -> ClientInput {
        let description = self.description.trim();
        ClientInput {
            name: is_new.then(|| self.name.clone()),
            version: Some(self.version.clone()),
            description: Some((!description.is_empty()).then(|| description.to_owned())),
            client_type: Some(self.client_type.clone()),
            grant_types: Some(self.grant_types.clone()),
            redirect_uris: Some(
                self.redirect_uris
                    .iter()
                    .map(|u| u.trim().to_owned())
                    .filter(|u| !u.is_empty())
                    .collect(),
            ),
            scopes: Some(self.scopes.split_whitespace().map(str::to_owned).collect()),
            access_token_lifetime: Some(if self.lifetime_mode == "never" {
                LimitInput::keyword("never")
            } else {
                LimitInput::typed(&self.lifetime_seconds)
            }),
            refresh_count: Some(if self.refresh_mode == "unlimited" {
                LimitInput::keyword("unlimited")
            } else {
                LimitInput::typed(&self.refresh_count)
            }),
            active: is_new.then_some(self.active.is_some()),
        }
    }
}

/// The form as the template shows it.
pub struct FormView {
    name: String,
    version: String,
    description: String,
    client_type: String,
    grant_types: Vec<String>,
    redirect_uris: Vec<String>,
    scopes: String,
    lifetime_mode: String,
    lifetime_seconds: String,
    refresh_mode: String,
    refresh_count: String,
    active: bool,
    revision: i64,
}

impl From<&ClientFormData> for FormView {
    fn from(f: &ClientFormData) -> Self {
        // Keep the rows as typed, so error positions match; always offer one empty row.
        let mut uris = f.redirect_uris.clone();
        if uris.is_empty() {
            uris.push(String::new());
        }
        Self {
            name: f.name.clone(),
            version: f.version.clone(),
            description: f.description.clone(),
            client_type: f.client_type.clone(),
            grant_types: f.grant_types.clone(),
            redirect_uris: uris,
            scopes: f.scopes.clone(),
            lifetime_mode: f.lifetime_mode.clone(),
            lifetime_seconds: f.lifetime_seconds.clone(),
            refresh_mode: f.refresh_mode.clone(),
            refresh_count: f.refresh_count.clone(),
            active: f.active.is_some(),
            revision: f.revision,
        }
    }
}

#[derive(Template)]
#[template(path = "console/client_form.html")]
struct FormPage {
    layout: Option<Layout>,
    csrf: String,
    is_new: bool,
    client_id: String,
    form: FormView,
    errors: BTreeMap<String, String>,
    conflict: Option<String>,
    secret: Option<String>,
    endpoints: (String, String, String),
    warnings: Vec<String>,
    curl: Vec<(String, String)>,
    grant_options: Vec<(String, String)>,
}

impl FormPage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.get(field).cloned()
    }

    fn has_grant(&self, g: &str) -> bool {
        self.form.grant_types.iter().any(|x| x == g)
    }

    fn client_path(&self) -> String {
        format!("/console/clients/{}", self.client_id)
    }

    /// Errors of the i-th redirection URL row. The rules number only non-empty rows, so
    /// map back to the row as displayed.
    fn row_err(&self, i: usize) -> Option<String> {
        let row = self.form.redirect_uris.get(i)?;
        if row.trim().is_empty() {
            return None;
        }
        let index = self.form.redirect_uris[..i]
            .iter()
            .filter(|u| !u.trim().is_empty())
            .count();
        self.errors.get(&format!("redirect_uris[{index}]")).cloned()
    }

    /// All scope errors, joined (the rules report them per scope).
    fn scope_err(&self) -> Option<String> {
        let v: Vec<&str> = self
            .errors
            .iter()
            .filter(|(k, _)| k.starts_with("scopes"))
            .map(|(_, v)| v.as_str())
            .collect();
        (!v.is_empty()).then(|| v.join(" "))
    }
}

pub(super) fn errors_by_field(errs: Vec<FieldError>) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    for e in errs {
        let message = console_message(&e);
        let key = match (e.field.as_str(), e.code) {
            // grant_types[0] etc. are shown beside the grant list.
            (f, _) if f.starts_with("grant_types[") => "grant_types".to_owned(),
            // A bad number belongs beside its box; any other refusal of these two (policy)
            // beside the choice of never / unlimited.
            ("access_token_lifetime" | "refresh_count", "out_of_range" | "invalid") => e.field,
            ("access_token_lifetime" | "refresh_count", _) => format!("{}.mode", e.field),
            _ => e.field,
        };
        m.entry(key)
            .and_modify(|v| {
                v.push(' ');
                v.push_str(&message);
            })
            .or_insert(message);
    }
    m
}

/// The labels the form shows, for the API's field names (the rules stay core's; only the
/// wording is the console's).
const LABELS: [(&str, &str); 9] = [
    ("access_token_lifetime", "Expiration interval"),
    ("refresh_count", "Refresh count"),
    ("redirect_uris", "Redirection URLs"),
    ("grant_types", "Allowed grants"),
    ("description", "Description"),
    ("version", "Version"),
    ("scopes", "Scopes"),
    ("name", "Name"),
    ("type", "Client type"),
];

/// `e` in the words of the form: its label first, and no API field names.
pub(super) fn console_message(e: &FieldError) -> String {
    let field = e.field.split('[').next().unwrap_or_default();
    match (field, e.code) {
        ("access_token_lifetime", "out_of_range" | "invalid") => format!(
            "Expiration interval: enter 1 to {LIFETIME_MAX} seconds, or choose Never expires"
        ),
        ("refresh_count", "out_of_range" | "invalid") => {
            format!("Refresh count: enter 0 to {REFRESH_COUNT_MAX} refreshes, or choose Unlimited")
        }
        // Beside its own row: which URL is plain.
        ("redirect_uris", _) if e.field.contains('[') => match e.message.strip_prefix("must ") {
            Some(rest) => format!("This URL must {rest}"),
            None => e.message.clone(),
        },
        _ => super::super::in_words(e, &LABELS)
            .replace("\"never\"", "Never expires")
            .replace("\"unlimited\"", "Unlimited"),
    }
}

pub(super) struct FormArgs {
    pub(super) form: ClientFormData,
    pub(super) errors: BTreeMap<String, String>,
    pub(super) conflict: Option<String>,
    pub(super) secret: Option<String>,
    pub(super) notice: Option<String>,
    pub(super) status: StatusCode,
}

/// A conflict on the client form: name and version are unique together, so that one is
/// said beside the version, the field to change; any other above the form.
pub(super) fn conflict_args(c: Conflict, form: ClientFormData) -> FormArgs {
    let (errors, conflict) = match c {
        Conflict::DuplicateNameVersion => (
            BTreeMap::from([("version".to_owned(), c.to_string())]),
            None,
        ),
        other => (BTreeMap::new(), Some(other.to_string())),
    };
    FormArgs {
        errors,
        conflict,
        status: StatusCode::CONFLICT,
        ..page_args(form)
    }
}

pub(super) fn form_page(
    state: &AppState,
    admin: &Admin,
    client: Option<&Client>,
    a: FormArgs,
) -> Response {
    let e = state.services.clients.endpoints();
    let mut res = render(
        a.status,
        &FormPage {
            layout: Some(admin.layout("clients", a.notice)),
            csrf: admin.csrf.clone(),
            is_new: client.is_none(),
            client_id: client.map(|c| c.client_id.to_string()).unwrap_or_default(),
            form: FormView::from(&a.form),
            errors: a.errors,
            conflict: a.conflict,
            secret: a.secret,
            endpoints: (e.authorization, e.token, e.refresh_token),
            warnings: client
                .map(|c| {
                    c.warnings()
                        .into_iter()
                        .map(|w| w.message.to_owned())
                        .collect()
                })
                .unwrap_or_default(),
            curl: client.map(|c| curl_commands(state, c)).unwrap_or_default(),
            grant_options: grant_options(),
        },
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub(super) fn page_args(form: ClientFormData) -> FormArgs {
    FormArgs {
        form,
        errors: BTreeMap::new(),
        conflict: None,
        secret: None,
        notice: None,
        status: StatusCode::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_messages_use_the_forms_labels() {
        let e = |field: &str, code, message: &str| {
            console_message(&FieldError::new(field, code, message))
        };
        assert_eq!(
            e(
                "access_token_lifetime",
                "out_of_range",
                "access_token_lifetime must be …"
            ),
            "Expiration interval: enter 1 to 315360000 seconds, or choose Never expires"
        );
        assert_eq!(
            e("refresh_count", "invalid", "refresh_count must be …"),
            format!("Refresh count: enter 0 to {REFRESH_COUNT_MAX} refreshes, or choose Unlimited")
        );
        assert_eq!(
            e("version", "required", "version is required"),
            "Version is required"
        );
        assert_eq!(
            e(
                "grant_types",
                "required",
                "at least one grant type is required"
            ),
            "Allowed grants: at least one grant type is required"
        );
        assert_eq!(
            e(
                "redirect_uris[1]",
                "fragment",
                "must not contain a fragment (#…)"
            ),
            "This URL must not contain a fragment (#…)"
        );
        assert_eq!(
            e(
                "redirect_uris[0]",
                "insecure_scheme",
                "http is allowed only on loopback hosts"
            ),
            "http is allowed only on loopback hosts"
        );
        assert_eq!(
            e(
                "access_token_lifetime",
                "forbidden_by_policy",
                "never-expiring access tokens are disabled on this server (policy.allow_never_expiring_tokens = false); give a number of seconds"
            ),
            "Expiration interval: never-expiring access tokens are disabled on this server (policy.allow_never_expiring_tokens = false); give a number of seconds"
        );
    }
}
