//! Console pages for OAuth clients: list, add, edit, rotate the secret, (de)activate,
//! revoke all tokens, delete. All through `ClientService`, like the admin API.

use super::{message, render, service_error, Admin, AdminForm, BackForm, Layout, Notice};
use crate::http::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tollgate_core::client::GrantType;
use tollgate_core::filter::ClientQuery;
use tollgate_core::store::{ClientFilter, ClientOrder};
use tollgate_core::ClientId;
use tollgate_core::ServiceError;

mod form;
mod try_it;

use form::{conflict_args, errors_by_field, form_page, page_args, ClientFormData, FormArgs};

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
    /// `ClientOrder::as_str`'s spellings; none (or empty): newest first.
    #[serde(default)]
    sort: String,
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
    sort: &'static str,
    sort_options: Vec<(String, String)>,
    /// Name, Version and Created: each a link that sorts by it (or reverses it).
    headers: [SortHeader; 3],
    /// How many clients match the filters, on every page.
    count: u64,
    rows: Vec<Row>,
    next_url: Option<String>,
}

pub struct SortHeader {
    label: &'static str,
    href: String,
    /// `aria-sort`: "ascending", "descending" or "none".
    aria: &'static str,
}

impl ListQuery {
    /// This list (its filters, no cursor) in `sort`, and on the page after `cursor`.
    fn url(&self, sort: ClientOrder, cursor: Option<&str>) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", self.q.as_str()),
            ("type", &self.client_type),
            ("grant_type", &self.grant_type),
            ("active", &self.active),
            ("version", &self.version),
            ("sort", sort.as_str()),
        ] {
            if !v.is_empty() {
                ser.append_pair(k, v);
            }
        }
        if let Some(c) = cursor {
            ser.append_pair("cursor", c);
        }
        format!("/console/clients?{}", ser.finish())
    }
}

/// The column header of `asc`/`desc`: sorted by it now, or a link to sort by it (the
/// first click sorts `first`, a second reverses).
fn header(
    q: &ListQuery,
    now: ClientOrder,
    label: &'static str,
    (asc, desc): (ClientOrder, ClientOrder),
    first: ClientOrder,
) -> SortHeader {
    let (aria, next) = match now {
        o if o == asc => ("ascending", desc),
        o if o == desc => ("descending", asc),
        _ => ("none", first),
    };
    SortHeader {
        label,
        href: q.url(next, None),
        aria,
    }
}

const SORT_OPTIONS: [(ClientOrder, &str); 6] = [
    (ClientOrder::CreatedDesc, "Newest first"),
    (ClientOrder::Created, "Oldest first"),
    (ClientOrder::Name, "Name, A to Z"),
    (ClientOrder::NameDesc, "Name, Z to A"),
    (ClientOrder::Version, "Version, ascending"),
    (ClientOrder::VersionDesc, "Version, descending"),
];

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Response {
    let filter = match ClientFilter::parse(ClientQuery {
        // The search box: what was typed, without the spaces around it.
        q: Some(q.q.trim()),
        active: Some(&q.active),
        grant_type: Some(&q.grant_type),
        client_type: Some(&q.client_type),
        version: Some(&q.version),
        sort: Some(match q.sort.as_str() {
            "" => ClientOrder::CreatedDesc.as_str(),
            s => s,
        }),
    }) {
        Ok(f) => f,
        Err(errs) => return super::bad_filter(&admin, "clients", errs),
    };
    let clients = &state.services.clients;
    let listed = tokio::try_join!(
        clients.list(&filter, q.cursor.as_deref(), Some(50)),
        clients.count(&filter)
    );
    let (page, count) = match listed {
        Ok(p) => p,
        Err(e) => return service_error(&admin, "clients", e),
    };
    let order = filter.order;
    let next_url = page.next_cursor.map(|c| q.url(order, Some(&c)));
    let headers = [
        header(
            &q,
            order,
            "Name",
            (ClientOrder::Name, ClientOrder::NameDesc),
            ClientOrder::Name,
        ),
        header(
            &q,
            order,
            "Version",
            (ClientOrder::Version, ClientOrder::VersionDesc),
            ClientOrder::Version,
        ),
        header(
            &q,
            order,
            "Created",
            (ClientOrder::Created, ClientOrder::CreatedDesc),
            ClientOrder::CreatedDesc,
        ),
    ];
    let rows = page
        .items
        .iter()
        .map(|c| Row {
            client_id: c.client_id.to_string(),
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
            sort: order.as_str(),
            sort_options: SORT_OPTIONS
                .iter()
                .map(|(o, text)| (o.as_str().to_owned(), (*text).to_owned()))
                .collect(),
            headers,
            count,
            rows,
            next_url,
        },
    )
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
    Path(id): Path<ClientId>,
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
    Path(id): Path<ClientId>,
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
    Path(id): Path<ClientId>,
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
    Path(id): Path<ClientId>,
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
    Path(id): Path<ClientId>,
    f: AdminForm<ActiveForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    let active = form.active == "true";
    let outcome = (state.services.clients)
        .set_active(&admin.actor, &id, active, form.revision)
        .await;
    let to = format!("/console/clients/{id}");
    admin.finish("clients", outcome, &to, |_| {
        if active {
            "Client activated.".into()
        } else {
            "Client deactivated. All its tokens are now invalid.".into()
        }
    })
}

pub async fn confirm_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<ClientId>,
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
    Path(id): Path<ClientId>,
    f: AdminForm<RevisionForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    let outcome = (state.services.clients)
        .delete(&admin.actor, &id, form.revision)
        .await;
    admin.finish("clients", outcome, "/console/clients", |()| {
        "Client deleted.".into()
    })
}

pub async fn revoke_tokens(
    State(state): State<AppState>,
    Path(id): Path<ClientId>,
    f: AdminForm<BackForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    let outcome = (state.services.clients)
        .revoke_all_tokens(&admin.actor, &id)
        .await;
    // From Token Management, back to the list it was on; else to the client.
    let to = form
        .back_to("/console/tokens")
        .map_or_else(|| format!("/console/clients/{id}"), str::to_owned);
    admin.finish("clients", outcome, &to, |_| {
        "All of this client's tokens were revoked.".into()
    })
}
