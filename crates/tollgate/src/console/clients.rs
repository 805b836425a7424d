//! Console pages for OAuth clients: list, add, edit, rotate the secret, (de)activate,
//! revoke all tokens, delete. All through `ClientService`, like the admin API.

use super::{message, render, service_error, Admin, AdminForm, Layout, Notice};
use crate::http::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use tollgate_core::client::{
    Client, ClientInput, ClientType, GrantType, LimitInput, RefreshCount, TokenLifetime,
};
use tollgate_core::store::ClientFilter;
use tollgate_core::{Conflict, FieldError, ServiceError};

/// The console's words for a grant (SPEC §1 names); the grants themselves are core's.
fn grant_label(g: GrantType) -> &'static str {
    match g {
        GrantType::AuthorizationCode => "Authorization code",
        GrantType::ClientCredentials => "Client credentials",
        GrantType::Password => "Resource owner password",
        GrantType::Implicit => "Implicit",
        GrantType::RefreshToken => "Refresh token",
    }
}

fn grant_options() -> Vec<(String, String)> {
    GrantType::REGISTRABLE
        .iter()
        .map(|g| (g.as_str().to_owned(), grant_label(*g).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// List

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    client_type: String,
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    version: String,
    cursor: Option<String>,
    notice: Option<String>,
}

pub struct Row {
    client_id: String,
    name: String,
    version: String,
    client_type: &'static str,
    grants: String,
    active: bool,
    created_at: String,
    created_short: String,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ListPage {
    layout: Option<Layout>,
    q: String,
    client_type: String,
    grant_type: String,
    active: String,
    version: String,
    grant_options: Vec<(String, String)>,
    rows: Vec<Row>,
    next_url: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Response {
    let filter = ClientFilter {
        q: Some(q.q.trim().to_owned()).filter(|s| !s.is_empty()),
        active: match q.active.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        grant_type: GrantType::parse_registrable(&q.grant_type),
        client_type: ClientType::parse(&q.client_type),
        version: Some(q.version.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    let page = match state
        .services
        .clients
        .list(&filter, q.cursor.as_deref(), Some(50))
        .await
    {
        Ok(p) => p,
        Err(e) => return service_error(&admin, "clients", e),
    };
    let next_url = page.next_cursor.map(|c| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &q.q),
            ("type", &q.client_type),
            ("grant_type", &q.grant_type),
            ("active", &q.active),
            ("version", &q.version),
        ] {
            if !v.is_empty() {
                ser.append_pair(k, v);
            }
        }
        ser.append_pair("cursor", &c);
        format!("/console/clients?{}", ser.finish())
    });
    let rows = page
        .items
        .iter()
        .map(|c| Row {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            version: c.version.clone(),
            client_type: c.client_type.as_str(),
            grants: c
                .grant_types
                .iter()
                .map(|g| g.as_str().replace('_', " "))
                .collect::<Vec<_>>()
                .join(", "),
            active: c.active,
            created_at: c.created_at.to_rfc3339(),
            created_short: c.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect();
    render(
        StatusCode::OK,
        &ListPage {
            layout: Some(admin.layout("clients", admin.flash(q.notice))),
            q: q.q,
            client_type: q.client_type,
            grant_type: q.grant_type,
            active: q.active,
            version: q.version,
            grant_options: grant_options(),
            rows,
            next_url,
        },
    )
}

// ---------------------------------------------------------------------------------------
// The form (add and edit)

/// What the form submits. Repeated names (`grant_types`, `redirect_uris`) are lists.
#[derive(Debug, Default, Deserialize)]
pub struct ClientFormData {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "type")]
    client_type: String,
    #[serde(default)]
    grant_types: Vec<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    lifetime_mode: String,
    #[serde(default)]
    lifetime_seconds: String,
    #[serde(default)]
    refresh_mode: String,
    #[serde(default)]
    refresh_count: String,
    active: Option<String>,
    #[serde(default)]
    revision: i64,
}

impl ClientFormData {
    fn of(c: &Client) -> Self {
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

    fn blank() -> Self {
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

    fn to_input(&self, is_new: bool) -> ClientInput {
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

fn errors_by_field(errs: Vec<FieldError>) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    for e in errs {
        // grant_types[0] etc. are shown beside the grant list.
        let key = if e.field.starts_with("grant_types[") {
            "grant_types".to_owned()
        } else {
            e.field
        };
        m.entry(key)
            .and_modify(|v| {
                v.push(' ');
                v.push_str(&e.message);
            })
            .or_insert(e.message);
    }
    m
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Ready-to-run commands for the client's grants (SPEC §5).
fn curl_commands(state: &AppState, c: &Client) -> Vec<(String, String)> {
    let e = state.services.clients.endpoints();
    let public = c.client_type == ClientType::Public;
    let auth = if public {
        "-d client_id=\"$CLIENT_ID\"".to_owned()
    } else {
        "-u \"$CLIENT_ID:$CLIENT_SECRET\"".to_owned()
    };
    let vars = if public {
        format!("CLIENT_ID={}", shell_quote(&c.client_id))
    } else {
        format!(
            "CLIENT_ID={}\nCLIENT_SECRET='the secret you saved'",
            shell_quote(&c.client_id)
        )
    };
    let token = shell_quote(&e.token);
    let scope = c.scopes.join(" ");
    let mut out = Vec::new();
    if c.grant_types.contains(GrantType::ClientCredentials) {
        out.push((
            "Get a token (client credentials)".to_owned(),
            format!("{vars}\ncurl -s {auth} -d grant_type=client_credentials {token}"),
        ));
    }
    if c.grant_types.contains(GrantType::Password) {
        out.push((
            "Get a token (resource owner password)".to_owned(),
            format!(
                "{vars}\ncurl -s {auth} -d grant_type=password -d username=USER -d password=PASSWORD {token}"
            ),
        ));
    }
    let redirect = c.redirect_uris.first().cloned().unwrap_or_default();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", &c.client_id)
        .append_pair("redirect_uri", &redirect);
    if !scope.is_empty() {
        q.append_pair("scope", &scope);
    }
    q.append_pair("state", "xyz");
    let query = q.finish();
    if c.grant_types.contains(GrantType::AuthorizationCode) {
        let pkce_setup = "VERIFIER=$(openssl rand -base64 48 | tr -d '=+/' | cut -c1-64)\nCHALLENGE=$(printf %s \"$VERIFIER\" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')";
        out.push((
            "1. Send the user to the authorization endpoint (authorization code + PKCE)".to_owned(),
            format!(
                "{pkce_setup}\necho {}\"&code_challenge=$CHALLENGE&code_challenge_method=S256\"\n# open that URL in a browser, sign in, allow; copy `code` from the redirect",
                shell_quote(&format!("{}?response_type=code&{query}", e.authorization))
            ),
        ));
        out.push((
            "2. Exchange the code for tokens".to_owned(),
            format!(
                "{vars}\ncurl -s {auth} -d grant_type=authorization_code -d code=\"$CODE\" -d redirect_uri={} -d code_verifier=\"$VERIFIER\" {token}",
                shell_quote(&redirect)
            ),
        ));
        if c.refresh_count.issues_refresh_tokens() {
            out.push((
                "3. Refresh the access token".to_owned(),
                format!(
                    "{vars}\ncurl -s {auth} -d grant_type=refresh_token -d refresh_token=\"$REFRESH_TOKEN\" {}",
                    shell_quote(&e.refresh_token)
                ),
            ));
        }
    }
    if c.grant_types.contains(GrantType::Implicit) {
        out.push((
            "Implicit: the token comes back in the redirect's fragment".to_owned(),
            format!(
                "echo {}\n# open that URL in a browser; read access_token from the #fragment",
                shell_quote(&format!("{}?response_type=token&{query}", e.authorization))
            ),
        ));
    }
    out
}

struct FormArgs {
    form: ClientFormData,
    errors: BTreeMap<String, String>,
    conflict: Option<String>,
    secret: Option<String>,
    notice: Option<String>,
    status: StatusCode,
}

/// A conflict on the client form: name and version are unique together, so that one is
/// said beside the version, the field to change; any other above the form.
fn conflict_args(c: Conflict, form: ClientFormData) -> FormArgs {
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

fn form_page(state: &AppState, admin: &Admin, client: Option<&Client>, a: FormArgs) -> Response {
    let e = state.services.clients.endpoints();
    let mut res = render(
        a.status,
        &FormPage {
            layout: Some(admin.layout("clients", a.notice)),
            csrf: admin.csrf.clone(),
            is_new: client.is_none(),
            client_id: client.map(|c| c.client_id.clone()).unwrap_or_default(),
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

fn page_args(form: ClientFormData) -> FormArgs {
    FormArgs {
        form,
        errors: BTreeMap::new(),
        conflict: None,
        secret: None,
        notice: None,
        status: StatusCode::OK,
    }
}

pub async fn new_form(State(state): State<AppState>, admin: Admin) -> Response {
    form_page(&state, &admin, None, page_args(ClientFormData::blank()))
}

pub async fn create(State(state): State<AppState>, f: AdminForm<ClientFormData>) -> Response {
    let AdminForm { admin, form } = f;
    match state
        .services
        .clients
        .create(&admin.actor, form.to_input(true))
        .await
    {
        // The secret is shown in this response only (no redirect that could be reloaded).
        Ok(created) => form_page(
            &state,
            &admin,
            Some(&created.client),
            FormArgs {
                secret: created.secret.map(|s| s.expose().to_owned()),
                notice: Some(format!(
                    "Client {} {} created.",
                    created.client.name, created.client.version
                )),
                ..page_args(ClientFormData::of(&created.client))
            },
        ),
        Err(ServiceError::Validation(errs)) => form_page(
            &state,
            &admin,
            None,
            FormArgs {
                errors: errors_by_field(errs),
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..page_args(form)
            },
        ),
        Err(ServiceError::Conflict(c)) => form_page(&state, &admin, None, conflict_args(c, form)),
        Err(e) => service_error(&admin, "clients", e),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    match state.services.clients.get(&id).await {
        Ok(c) => form_page(
            &state,
            &admin,
            Some(&c),
            FormArgs {
                notice: admin.flash(n.notice),
                ..page_args(ClientFormData::of(&c))
            },
        ),
        Err(e) => service_error(&admin, "clients", e),
    }
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: AdminForm<ClientFormData>,
) -> Response {
    let AdminForm { admin, mut form } = f;
    let current = match state.services.clients.get(&id).await {
        Ok(c) => c,
        Err(e) => return service_error(&admin, "clients", e),
    };
    // The name is read-only in the form; show the stored one whatever was sent.
    form.name = current.name.clone();
    form.active = current.active.then(|| "on".into());
    let result = state
        .services
        .clients
        .update(&admin.actor, &id, form.to_input(false), Some(form.revision))
        .await;
    match result {
        Ok(updated) => {
            if let Some(secret) = updated.secret {
                // public → confidential generated a secret: show it now, once.
                return form_page(
                    &state,
                    &admin,
                    Some(&updated.client),
                    FormArgs {
                        secret: Some(secret.expose().to_owned()),
                        notice: Some("Saved. The client is now confidential and has a secret.".into()),
                        ..page_args(ClientFormData::of(&updated.client))
                    },
                );
            }
            admin.see_other(&format!("/console/clients/{id}"), "Changes saved.")
        }
        Err(ServiceError::Validation(errs)) => form_page(
            &state,
            &admin,
            Some(&current),
            FormArgs {
                errors: errors_by_field(errs),
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..page_args(form)
            },
        ),
        Err(ServiceError::PreconditionFailed) => form_page(
            &state,
            &admin,
            Some(&current),
            FormArgs {
                conflict: Some(
                    "Someone else changed this client after you opened it, so your changes were not saved. \
                     Your input is kept below; reload the page (Discard changes) to see the current settings, then apply your change again."
                        .into(),
                ),
                status: StatusCode::CONFLICT,
                ..page_args(form)
            },
        ),
        Err(ServiceError::Conflict(c)) => form_page(&state, &admin, Some(&current), conflict_args(c, form)),
        Err(e) => service_error(&admin, "clients", e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    grace_seconds: String,
}

pub async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: AdminForm<RotateForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    let grace = form.grace_seconds.trim();
    let grace = if grace.is_empty() {
        Ok(0)
    } else {
        grace.parse::<i64>()
    };
    let Ok(grace) = grace else {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(admin.layout("clients", None)),
            "Invalid grace period",
            "The grace period must be a whole number of seconds.",
        );
    };
    match state
        .services
        .clients
        .rotate_secret(&admin.actor, &id, Some(grace))
        .await
    {
        Ok(r) => {
            let notice = match r.previous_secret_expires_at {
                Some(t) => format!(
                    "New secret issued. The previous one keeps working until {}.",
                    t.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                None => "New secret issued. The previous one no longer works.".into(),
            };
            form_page(
                &state,
                &admin,
                Some(&r.client),
                FormArgs {
                    secret: Some(r.secret.expose().to_owned()),
                    notice: Some(notice),
                    ..page_args(ClientFormData::of(&r.client))
                },
            )
        }
        Err(e) => service_error(&admin, "clients", e),
    }
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage {
    layout: Option<Layout>,
    csrf: String,
    title: String,
    message: String,
    action: String,
    fields: Vec<(String, String)>,
    button: String,
    cancel: String,
    danger: bool,
}

pub async fn confirm_active(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Response {
    let c = match state.services.clients.get(&id).await {
        Ok(c) => c,
        Err(e) => return service_error(&admin, "clients", e),
    };
    let (title, msg, button, target) = if c.active {
        (
            format!("Deactivate {} {}?", c.name, c.version),
            "All of this client's access and refresh tokens will be invalidated immediately and for good — reactivating it later does not bring them back. While inactive, it cannot obtain tokens.".to_owned(),
            "Deactivate and invalidate all tokens",
            "false",
        )
    } else {
        (
            format!("Activate {} {}?", c.name, c.version),
            "The client will be able to obtain new tokens again. Tokens invalidated by the deactivation stay invalid.".to_owned(),
            "Activate",
            "true",
        )
    };
    render(
        StatusCode::OK,
        &ConfirmPage {
            layout: Some(admin.layout("clients", None)),
            csrf: admin.csrf.clone(),
            title,
            message: msg,
            action: format!("/console/clients/{id}/active"),
            fields: vec![
                ("active".into(), target.into()),
                ("revision".into(), c.revision.to_string()),
            ],
            button: button.into(),
            cancel: format!("/console/clients/{id}"),
            danger: c.active,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    active: String,
    revision: Option<i64>,
}

pub async fn set_active(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: AdminForm<ActiveForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    let active = form.active == "true";
    match state
        .services
        .clients
        .set_active(&admin.actor, &id, active, form.revision)
        .await
    {
        Ok(_) => admin.see_other(
            &format!("/console/clients/{id}"),
            if active {
                "Client activated."
            } else {
                "Client deactivated. All its tokens are now invalid."
            },
        ),
        Err(e) => service_error(&admin, "clients", e),
    }
}

pub async fn confirm_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Response {
    let c = match state.services.clients.get(&id).await {
        Ok(c) => c,
        Err(e) => return service_error(&admin, "clients", e),
    };
    render(
        StatusCode::OK,
        &ConfirmPage {
            layout: Some(admin.layout("clients", None)),
            csrf: admin.csrf.clone(),
            title: format!("Delete {} {}?", c.name, c.version),
            message: "The client and all its tokens are removed. Applications using it stop working. This cannot be undone.".into(),
            action: format!("/console/clients/{id}/delete"),
            fields: vec![("revision".into(), c.revision.to_string())],
            button: "Delete client".into(),
            cancel: format!("/console/clients/{id}"),
            danger: true,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct RevisionForm {
    revision: Option<i64>,
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: AdminForm<RevisionForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    match state
        .services
        .clients
        .delete(&admin.actor, &id, form.revision)
        .await
    {
        Ok(()) => admin.see_other("/console/clients", "Client deleted."),
        Err(e) => service_error(&admin, "clients", e),
    }
}

pub async fn revoke_tokens(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: AdminForm<RevisionForm>,
) -> Response {
    let AdminForm { admin, .. } = f;
    match state
        .services
        .clients
        .revoke_all_tokens(&admin.actor, &id)
        .await
    {
        Ok(_) => admin.see_other(
            &format!("/console/clients/{id}"),
            "All of this client's tokens were revoked.",
        ),
        Err(e) => service_error(&admin, "clients", e),
    }
}
