//! The browser side of the authorization endpoint (RFC 6749 §4.1.1, §4.2.1): sign-in,
//! consent and sign-out pages, with server-side sessions (SPEC §3) and CSRF tokens on
//! every form.

use super::{parse_params, OAuthErrorResponse, SourceAddr};
use crate::http::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use std::collections::HashMap;
use tollgate_core::oauth::{AuthorizeError, AuthorizeRequest, OAuthError, ValidatedAuthorize};
use tollgate_core::secret::random_string;
use tollgate_core::service::throttle::RetryAfter;
use tollgate_core::service::Origin;
use tollgate_core::token::SessionState;
use tollgate_core::ServiceError;

pub const SESSION_COOKIE: &str = "tollgate_session";
/// A pre-session nonce the sign-in form's CSRF token is bound to.
const LOGIN_COOKIE: &str = "tollgate_login";
/// Signed entries naming the users who signed in from this browser before (SPEC §9 device
/// cookies): their sign-ins are limited per browser, so a guesser elsewhere cannot lock
/// them out.
const DEVICE_COOKIE: &str = "tollgate_device";
/// How long a browser stays known without signing in again.
const DEVICE_COOKIE_DAYS: i64 = 365;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    return_to: String,
    username: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    client_name: String,
    client_version: String,
    description: Option<String>,
    username: String,
    scopes: Vec<String>,
    csrf: String,
    params: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
}

#[derive(Template)]
#[template(path = "signed_in.html")]
struct SignedInPage {
    username: String,
    csrf: String,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage;

fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => crate::http::edge::with_cause(
            (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response(),
            format!("template rendering failed: {e}"),
        ),
    }
}

fn error_page(status: StatusCode, title: &str, message: impl Into<String>) -> Response {
    render(
        status,
        &ErrorPage {
            title: title.into(),
            message: message.into(),
        },
    )
}

fn server_error_page(e: OAuthError) -> Response {
    let (status, cause) = match &e {
        OAuthError::TemporarilyUnavailable(m) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {m}"),
        ),
        other => (StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    };
    // Logged once, by `edge`, in the request's line.
    crate::http::edge::with_cause(
        error_page(status, "Something went wrong", e.description()),
        cause,
    )
}

/// A redirect that may carry a code or token: never cached, never sent on as a referrer.
fn redirect(url: &str) -> Response {
    let mut res = crate::http::location::see_other(url);
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn secure(state: &AppState) -> bool {
    state.issuer.starts_with("https://")
}

/// Browser-session cookies (no Max-Age): the server decides when a session ends.
fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state))
        .path("/")
        .build()
}

/// The device cookie: persistent, and sent only to the sign-in page.
fn device_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((DEVICE_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state))
        .path("/login")
        .max_age(time::Duration::days(DEVICE_COOKIE_DAYS))
        .build()
}

/// Clears cookie `name`; the removal carries the same flags as the cookie (SPEC §9).
fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    cookie(state, name, String::new())
}

/// The longest `return_to` the sign-in page carries (it travels in the URL and a form).
const MAX_RETURN_TO: usize = 4096;

/// SPEC §9: `return_to` may only be a local path (no open redirect).
fn safe_return_to(r: Option<&str>) -> Option<String> {
    let r = r?;
    let ok = r.starts_with('/')
        && !r.starts_with("//")
        && !r.contains('\\')
        && r.len() <= MAX_RETURN_TO
        && !r.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then(|| r.to_owned())
}

async fn current_session(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<SessionState>, OAuthError> {
    match jar.get(SESSION_COOKIE) {
        Some(c) => Ok(state.services.sessions.current(c.value()).await?),
        None => Ok(None),
    }
}

fn authorize_request(p: &HashMap<String, String>) -> AuthorizeRequest {
    let get = |k: &str| p.get(k).cloned();
    AuthorizeRequest {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
    }
}

/// The authorize request as form fields, so the consent POST can re-validate it.
fn request_params(r: &AuthorizeRequest) -> Vec<(String, String)> {
    [
        ("response_type", &r.response_type),
        ("client_id", &r.client_id),
        ("redirect_uri", &r.redirect_uri),
        ("scope", &r.scope),
        ("state", &r.state),
        ("code_challenge", &r.code_challenge),
        ("code_challenge_method", &r.code_challenge_method),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
    .collect()
}

fn authorize_url(r: &AuthorizeRequest) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in request_params(r) {
        ser.append_pair(&k, &v);
    }
    format!("/oauth2/authorize?{}", ser.finish())
}

fn login_redirect(return_to: &str) -> Response {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", return_to)
        .finish();
    redirect(&format!("/login?{q}"))
}

async fn validated(
    state: &AppState,
    req: &AuthorizeRequest,
) -> Result<ValidatedAuthorize, Response> {
    state
        .services
        .oauth
        .validate_authorize(req)
        .await
        .map_err(|e| match e {
            AuthorizeError::Page(msg) => error_page(
                StatusCode::BAD_REQUEST,
                "This request cannot be completed",
                msg,
            ),
            AuthorizeError::Redirect(url) => redirect(&url),
            AuthorizeError::Server(e) => server_error_page(e),
        })
}

/// `GET /oauth2/authorize`
pub async fn authorize(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match parse_params(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Invalid request", e.description()),
    };
    let req = authorize_request(&params);
    let v = match validated(&state, &req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let session = match current_session(&state, &jar).await {
        Ok(s) => s,
        Err(e) => return server_error_page(e),
    };
    let Some(session) = session else {
        let resume = authorize_url(&req);
        if resume.len() > MAX_RETURN_TO {
            // The sign-in page could not bring the user back to this request: say so to
            // the client now rather than lose the flow after the user signed in.
            let err = OAuthError::InvalidRequest(format!(
                "the authorization request is too long to continue after sign-in (at most {MAX_RETURN_TO} bytes of parameters); send a shorter state or scope"
            ));
            return redirect(&state.services.oauth.refuse(&v, &err));
        }
        return login_redirect(&resume);
    };
    let cookie_value = jar
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    finish(&state, &session, &cookie_value, &req, &v, false).await
}

/// Issue right away when consent is remembered (or was just given), else ask.
async fn finish(
    state: &AppState,
    session: &SessionState,
    cookie_value: &str,
    req: &AuthorizeRequest,
    v: &ValidatedAuthorize,
    consented: bool,
) -> Response {
    let oauth = &state.services.oauth;
    let user = match state.services.users.get(&session.user_id).await {
        Ok(u) => u,
        Err(e) => return server_error_page(e.into()),
    };
    if !consented {
        match oauth.needs_consent(&user.id, v).await {
            Ok(false) => {}
            Ok(true) => {
                return render(
                    StatusCode::OK,
                    &ConsentPage {
                        client_name: v.client.name.clone(),
                        client_version: v.client.version.clone(),
                        description: v.client.description.clone(),
                        username: user.username.clone(),
                        scopes: v.scopes.to_vec(),
                        csrf: state.services.sessions.csrf_token(cookie_value),
                        params: request_params(req),
                    },
                )
            }
            Err(e) => return server_error_page(e),
        }
    }
    match oauth.approve(&user, v).await {
        Ok(url) => {
            if v.response_type == tollgate_core::oauth::ResponseType::Token {
                state
                    .metrics
                    .token_issued(tollgate_core::client::GrantType::Implicit);
            }
            redirect(&url)
        }
        Err(e) => server_error_page(e),
    }
}

/// `POST /oauth2/consent`: Allow or Deny.
pub async fn consent(State(state): State<AppState>, jar: CookieJar, body: Bytes) -> Response {
    let mut form = match parse_params(&body) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Invalid request", e.description()),
    };
    let req = authorize_request(&form);
    let session = match current_session(&state, &jar).await {
        Ok(s) => s,
        Err(e) => return server_error_page(e),
    };
    let Some(session) = session else {
        return login_redirect(&authorize_url(&req));
    };
    let cookie_value = jar
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let csrf = form.remove("csrf").unwrap_or_default();
    if !state.services.sessions.check_csrf(&cookie_value, &csrf) {
        return error_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The consent form was not sent from this sign-in session. Go back to the application and start again.",
        );
    }
    let v = match validated(&state, &req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    match form.get("decision").map(String::as_str) {
        Some("allow") => {
            if let Err(e) = state
                .services
                .oauth
                .remember_consent(&session.user_id, &v)
                .await
            {
                return server_error_page(e);
            }
            finish(&state, &session, &cookie_value, &req, &v, true).await
        }
        Some("deny") => redirect(&state.services.oauth.deny(&v)),
        _ => error_page(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "Choose Allow or Deny.",
        ),
    }
}

/// `GET /login`
pub async fn login_page(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_params(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let return_to = safe_return_to(params.get("return_to").map(String::as_str));
    if let Ok(Some(s)) = current_session(&state, &jar).await {
        if let Some(r) = return_to {
            return redirect(&r);
        }
        let cookie_value = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        return render(
            StatusCode::OK,
            &SignedInPage {
                username: s.username,
                csrf: state.services.sessions.csrf_token(&cookie_value),
            },
        );
    }
    login_form(
        &state,
        jar,
        return_to.unwrap_or_default(),
        String::new(),
        None,
        StatusCode::OK,
    )
}

fn login_form(
    state: &AppState,
    jar: CookieJar,
    return_to: String,
    username: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (jar, nonce) = match jar.get(LOGIN_COOKIE) {
        Some(c) if !c.value().is_empty() => {
            let v = c.value().to_owned();
            (jar, v)
        }
        _ => {
            let nonce = random_string::<32>().unwrap_or_default();
            (jar.add(cookie(state, LOGIN_COOKIE, nonce.clone())), nonce)
        }
    };
    let page = render(
        status,
        &LoginPage {
            csrf: state.services.sessions.csrf_token(&nonce),
            return_to,
            username,
            error,
        },
    );
    (jar, page).into_response()
}

/// The sign-in form again, 429 with `Retry-After`, when the username or the source address
/// has used up its budget of failed sign-ins (SPEC §9).
fn throttled_login_form(
    state: &AppState,
    jar: CookieJar,
    return_to: String,
    username: String,
    wait: RetryAfter,
) -> Response {
    let secs = wait.secs();
    let when = if secs <= 90 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    };
    let mut res = login_form(
        state,
        jar,
        return_to,
        username,
        Some(format!(
            "Too many failed sign-in attempts for this account or from your network. Please wait {when} and try again."
        )),
        StatusCode::TOO_MANY_REQUESTS,
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}

/// `POST /login`
pub async fn login(
    State(state): State<AppState>,
    source: SourceAddr,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A username with a control character is a failed sign-in like any unknown name
    // (core's lookup finds no one), not a different error page that tells them apart.
    // `return_to` too: a hostile one is dropped by `safe_return_to` (it refuses controls)
    // and the sign-in goes on, as for any other return_to that is not a local path.
    let free = ["username", "password", "return_to"];
    let mut form = match super::form_body_allowing(&headers, &body, &free) {
        Ok(f) => f,
        Err(e) => return OAuthErrorResponse::from(e).into_response(),
    };
    let return_to = safe_return_to(form.get("return_to").map(String::as_str)).unwrap_or_default();
    let username = form.remove("username").unwrap_or_default();
    let password = form.remove("password").unwrap_or_default();
    let nonce = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let csrf = form.remove("csrf").unwrap_or_default();
    if !state.services.sessions.check_csrf(&nonce, &csrf) {
        return login_form(
            &state,
            jar,
            return_to,
            username,
            Some("The sign-in form expired. Please try again.".into()),
            StatusCode::FORBIDDEN,
        );
    }
    let origin = Origin {
        address: source.0,
        device_cookie: jar.get(DEVICE_COOKIE).map(|c| c.value()),
    };
    let user = match state
        .services
        .users
        .verify_login(&username, &password, origin)
        .await
    {
        Ok(u) => u,
        Err(ServiceError::Throttled(wait)) => {
            return throttled_login_form(&state, jar, return_to, username, wait)
        }
        Err(ServiceError::Busy(wait)) => {
            let mut res = login_form(
                &state,
                jar,
                return_to,
                username,
                Some(format!(
                    "The server is busy. Please try again in {} seconds.",
                    wait.secs()
                )),
                StatusCode::SERVICE_UNAVAILABLE,
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait.secs()));
            return res;
        }
        Err(e) => return server_error_page(e.into()),
    };
    let Some(user) = user else {
        return login_form(
            &state,
            jar,
            return_to,
            username,
            Some("Wrong username or password.".into()),
            StatusCode::UNAUTHORIZED,
        );
    };
    // A new sign-in replaces the browser's previous session rather than leaving it valid.
    if let Some(old) = jar.get(SESSION_COOKIE) {
        if let Err(e) = state.services.sessions.end(old.value()).await {
            return server_error_page(e.into());
        }
    }
    let secret = match state.services.sessions.start(&user).await {
        Ok(s) => s,
        Err(e) => return server_error_page(e.into()),
    };
    let device = match state
        .services
        .users
        .device_cookie(jar.get(DEVICE_COOKIE).map(|c| c.value()), &user)
    {
        Ok(d) => d,
        Err(e) => return server_error_page(e.into()),
    };
    let jar = jar.add(device_cookie(&state, device));
    let jar = jar.remove(removal(&state, LOGIN_COOKIE)).add(cookie(
        &state,
        SESSION_COOKIE,
        secret.expose().to_owned(),
    ));
    let target = if return_to.is_empty() {
        "/login".to_owned()
    } else {
        return_to
    };
    (jar, redirect(&target)).into_response()
}

/// `POST /logout`
pub async fn logout(State(state): State<AppState>, jar: CookieJar, body: Bytes) -> Response {
    let form = parse_params(&body).unwrap_or_default();
    let cookie_value = jar
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if !cookie_value.is_empty() {
        let csrf = form.get("csrf").map(String::as_str).unwrap_or_default();
        if !state.services.sessions.check_csrf(&cookie_value, csrf) {
            return error_page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The sign-out form was not sent from this session.",
            );
        }
        if let Err(e) = state.services.sessions.end(&cookie_value).await {
            return server_error_page(e.into());
        }
    }
    let jar = jar.remove(removal(&state, SESSION_COOKIE));
    (jar, render(StatusCode::OK, &SignedOutPage)).into_response()
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../static/tollgate.css"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn return_to_accepts_local_paths_only() {
        assert_eq!(
            safe_return_to(Some("/oauth2/authorize?x=1")).as_deref(),
            Some("/oauth2/authorize?x=1")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "javascript:alert(1)",
            "",
            "/a b",
        ] {
            assert_eq!(safe_return_to(Some(bad)), None, "{bad}");
        }
    }
}
