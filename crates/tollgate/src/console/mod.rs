//! The admin console (SPEC §5): server-rendered pages for administrators, working without
//! JavaScript. Every page calls the same services as the admin API, so no rule lives twice.
//! Sign-in is the shared `/login` page; the console needs a session of a user with
//! `admin: true`, and every form carries the session's CSRF token.

mod admin_keys;
mod audit;
mod clients;
mod tokens;
mod users;

use crate::http::oauth::pages::SESSION_COOKIE;
use crate::http::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;
use tollgate_core::audit::Actor;
use tollgate_core::ServiceError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/clients") }),
        )
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/clients") }),
        )
        .route("/console/clients", get(clients::list).post(clients::create))
        .route("/console/clients/new", get(clients::new_form))
        .route(
            "/console/clients/{id}",
            get(clients::edit_form).post(clients::update),
        )
        .route("/console/clients/{id}/secret", post(clients::rotate))
        .route(
            "/console/clients/{id}/active",
            get(clients::confirm_active).post(clients::set_active),
        )
        .route(
            "/console/clients/{id}/delete",
            get(clients::confirm_delete).post(clients::delete),
        )
        .route(
            "/console/clients/{id}/tokens/revoke",
            post(clients::revoke_tokens),
        )
        .route("/console/tokens", get(tokens::list))
        .route("/console/tokens/{id}/revoke", post(tokens::revoke))
        .route("/console/users", get(users::list).post(users::create))
        .route("/console/users/{id}", post(users::update))
        .route("/console/users/{id}/password", post(users::set_password))
        .route(
            "/console/admin-keys",
            get(admin_keys::list).post(admin_keys::create),
        )
        .route("/console/admin-keys/{id}/delete", post(admin_keys::delete))
        .route("/console/audit", get(audit::list))
        .route("/console/static/pico.min.css", get(pico))
        .route("/console/static/console.css", get(console_css))
        .route("/console/static/console.js", get(console_js))
        .layer(axum::middleware::from_fn(refuse_control_characters))
}

/// No console id, filter or search holds a control or format character: such an address is
/// refused before any handler runs, so neither database is asked (PostgreSQL cannot take a
/// NUL; SQLite's LIKE stops at one). The admin API does the same in its extractors.
async fn refuse_control_characters(req: Request, next: axum::middleware::Next) -> Response {
    let bad = {
        let uri = req.uri();
        let path = percent_encoding::percent_decode_str(uri.path()).decode_utf8_lossy();
        let query = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes());
        let mut texts = std::iter::once(path).chain(query.flat_map(|(k, v)| [k, v]));
        texts.any(|t| tollgate_core::text::has_control(&t))
    };
    if bad {
        return message(
            StatusCode::BAD_REQUEST,
            None,
            "Invalid address",
            "This address contains a control or formatting character, which no console page takes. Check the link.",
        );
    }
    next.run(req).await
}

async fn pico() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/pico.min.css"),
    )
}

async fn console_css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/console.css"),
    )
}

async fn console_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/console.js"),
    )
}

fn asset(ct: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// What every console page's layout needs.
pub struct Layout {
    pub username: String,
    pub csrf: String,
    /// Which navigation entry is current.
    pub section: &'static str,
    pub notice: Option<String>,
}

/// A signed-in administrator.
pub struct Admin {
    pub username: String,
    pub csrf: String,
    pub actor: Actor,
    cookie: String,
    sessions: tollgate_core::service::SessionService,
}

impl Admin {
    pub fn layout(&self, section: &'static str, notice: Option<String>) -> Layout {
        Layout {
            username: self.username.clone(),
            csrf: self.csrf.clone(),
            section,
            notice,
        }
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    layout: Option<Layout>,
    title: String,
    message: String,
}

/// A plain page with a title and a message (errors, refusals).
pub fn message(
    status: StatusCode,
    layout: Option<Layout>,
    title: &str,
    msg: impl Into<String>,
) -> Response {
    render(
        status,
        &MessagePage {
            layout,
            title: title.into(),
            message: msg.into(),
        },
    )
}

pub fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => crate::http::edge::with_cause(
            (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response(),
            format!("template rendering failed: {e}"),
        ),
    }
}

/// A service failure as a page: what went wrong, in words an administrator can act on.
pub fn service_error(admin: &Admin, section: &'static str, e: ServiceError) -> Response {
    let (status, title) = match &e {
        ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
        ServiceError::Conflict(_) => (StatusCode::CONFLICT, "Not possible"),
        ServiceError::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "Changed meanwhile"),
        ServiceError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid input"),
        ServiceError::Store(tollgate_core::store::StoreError::Unavailable(_)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "Database unavailable")
        }
        ServiceError::Busy(_) | ServiceError::Throttled(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "Server busy")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong"),
    };
    let (msg, cause) = match &e {
        ServiceError::Store(_) | ServiceError::Internal(_) => (
            "The server could not complete this; the server log has the details.".to_owned(),
            Some(e.to_string()),
        ),
        other => (other.to_string(), None),
    };
    let res = message(status, Some(admin.layout(section, None)), title, msg);
    // Logged once, by `edge`, in the request's line.
    match cause {
        Some(c) => crate::http::edge::with_cause(res, c),
        None => res,
    }
}

impl Admin {
    /// Where to go after a change: back to a page, with a notice to show there. The notice
    /// is signed for this session, so a link cannot make the console show someone else's
    /// text (`flash` checks it).
    pub fn see_other(&self, path: &str, notice: &str) -> Response {
        let signed = self.sessions.sign_notice(&self.cookie, notice);
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("notice", &signed)
            .finish();
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut res = crate::http::location::see_other(&format!("{path}{sep}{q}"));
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }

    /// An action's answer: back to `to` with the notice its outcome earns, or the error
    /// page of `section` when the service refused it.
    pub fn finish<T>(
        &self,
        section: &'static str,
        outcome: Result<T, ServiceError>,
        to: &str,
        notice: impl FnOnce(T) -> String,
    ) -> Response {
        match outcome {
            Ok(v) => self.see_other(to, &notice(v)),
            Err(e) => service_error(self, section, e),
        }
    }

    /// The text of a `?notice=` this console signed for this session; anything else
    /// (hand-written, or from another session) is not shown.
    pub fn flash(&self, notice: Option<String>) -> Option<String> {
        self.sessions.open_notice(&self.cookie, notice.as_deref()?)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let cookie = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        let session = match state.services.sessions.current(&cookie).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "session lookup failed");
                return Err(message(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    "Database unavailable",
                    "Try again in a moment.",
                ));
            }
        };
        let Some(session) = session else {
            let return_to = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/console".into());
            let q = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", &return_to)
                .finish();
            return Err(crate::http::location::see_other(&format!("/login?{q}")));
        };
        if !session.user_admin {
            return Err(message(
                StatusCode::FORBIDDEN,
                None,
                "Administrators only",
                format!(
                    "You are signed in as {}, who is not an administrator. Ask an administrator for access.",
                    session.username
                ),
            ));
        }
        let ip = crate::http::extract::client_ip(parts, state);
        Ok(Self {
            csrf: state.services.sessions.csrf_token(&cookie),
            actor: Actor::new(format!("user:{}", session.username), ip),
            username: session.username,
            cookie,
            sessions: state.services.sessions.clone(),
        })
    }
}

/// A console form submission: an administrator's session, a valid CSRF token, and the
/// fields (repeated names become lists).
pub struct AdminForm<T> {
    pub admin: Admin,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for AdminForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let admin = Admin::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let csrf = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !state.services.sessions.check_csrf(&admin.cookie, &csrf) {
            return Err(message(
                StatusCode::FORBIDDEN,
                Some(admin.layout("", None)),
                "This form has expired",
                "The form was not sent from your current session (missing or wrong CSRF token). Reload the page and try again.",
            ));
        }
        let form = serde_html_form::from_bytes::<T>(&bytes).map_err(|e| {
            message(
                StatusCode::BAD_REQUEST,
                Some(admin.layout("", None)),
                "Invalid form",
                format!("The form could not be read: {e}"),
            )
        })?;
        Ok(Self { admin, form })
    }
}

/// `?notice=…` shown once at the top of a page after a redirect (signed: `Admin::flash`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Notice {
    pub notice: Option<String>,
}

/// A list filter the console does not know (a hand-edited address): refused as the admin
/// API refuses it, naming each bad filter, rather than silently showing everything.
fn bad_filter(
    admin: &Admin,
    section: &'static str,
    errs: Vec<tollgate_core::FieldError>,
) -> Response {
    let said: Vec<String> = errs.into_iter().map(|e| e.message).collect();
    message(
        StatusCode::BAD_REQUEST,
        Some(admin.layout(section, None)),
        "Unknown filter",
        said.join(" "),
    )
}

/// A list page's query: where the page starts, and a notice after an action.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
    notice: Option<String>,
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Empty {}

/// `e` in the words of a console form whose fields carry `labels` (API name → label):
/// its label first and no API field name. The rules stay core's; only the wording is
/// the console's.
pub(crate) fn in_words(e: &tollgate_core::FieldError, labels: &[(&str, &str)]) -> String {
    let field = e.field.split('[').next().unwrap_or_default();
    // Names with an underscore are never English words: replace them anywhere.
    let mut text = e.message.clone();
    for (api, label) in labels.iter().filter(|(api, _)| api.contains('_')) {
        text = text.replace(api, label);
    }
    let label = labels
        .iter()
        .find(|(api, _)| *api == field)
        .map_or(field, |(_, l)| *l);
    // "version must be …" reads "Version must be …"; anything else gets the label.
    match text.strip_prefix(field).filter(|r| r.starts_with(' ')) {
        Some(rest) => format!("{label}{rest}"),
        None if text.starts_with(label) => text,
        None => format!("{label}: {text}"),
    }
}

/// An action's form that came from a list: `back` is the list's address (filters, page),
/// where the action returns.
#[derive(Debug, Default, serde::Deserialize)]
pub struct BackForm {
    back: Option<String>,
}

impl BackForm {
    /// `back` if it is one of `list`'s own addresses: the form names a page of this
    /// console, never another site (an open redirect) or another section.
    pub fn back_to(&self, list: &str) -> Option<&str> {
        self.back.as_deref().filter(|b| {
            b.strip_prefix(list)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('?'))
                && !b.contains('\\')
                && !b.chars().any(char::is_control)
        })
    }
}

/// The address of `list` with `params` (empty ones left out) and `cursor`, as the
/// list's own links and the `back` field of its action forms write it.
fn list_url(list: &str, params: &[(&str, &str)], cursor: Option<&str>) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if !v.is_empty() {
            ser.append_pair(k, v);
        }
    }
    if let Some(c) = cursor {
        ser.append_pair("cursor", c);
    }
    let q = ser.finish();
    if q.is_empty() {
        list.to_owned()
    } else {
        format!("{list}?{q}")
    }
}

/// How list pages show a time.
fn short_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The next page's address: the list's filters and the cursor.
fn next_link(base: &str, params: &[(&str, &str)], cursor: Option<String>) -> Option<String> {
    cursor.map(|c| list_url(base, params, Some(&c)))
}
