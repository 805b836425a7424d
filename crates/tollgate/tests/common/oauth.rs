//! The OAuth requests the suites make, written once: token requests, the code flow through
//! the sign-in and consent pages, refresh, client credentials, introspection.

use super::browser::{params_of, Browser, Outcome};
use super::TestServer;
use serde_json::{json, Value};
use tollgate_core::oauth::{AuthMethod, ClientCredentials};
use tollgate_core::secret::Secret;

/// The redirect URI the OAuth suites register (nothing listens there).
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// The resource owner the code flow signs in as.
pub const ALICE: (&str, &str) = ("alice", "alice-password");

/// Creates a client; its id and, for a confidential client, its secret.
pub async fn client(s: &TestServer, body: Value) -> (String, Option<String>) {
    let c = s.create_client(&body).await;
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().map(str::to_owned),
    )
}

/// HTTP Basic client credentials, as the service takes them.
pub fn basic_credentials(client_id: &str, secret: &str) -> ClientCredentials {
    ClientCredentials {
        client_id: client_id.into(),
        secret: Some(Secret::new(secret.to_owned())),
        method: AuthMethod::Basic,
    }
}

/// The string `field` of a JSON response; panics naming it when absent.
pub fn tok(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
        .to_owned()
}

/// `/oauth2/authorize?…` with the given parameters, form-encoded.
pub fn authorize_url(params: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    format!("/oauth2/authorize?{}", ser.finish())
}

/// Runs the browser part of the code flow (signing in as alice when asked, allowing
/// consent) and returns the code; the redirect goes to the `redirect_uri` and carries the
/// `state` of `params`, when they name them.
pub async fn get_code(browser: &Browser, params: &[(&str, &str)]) -> String {
    let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    match browser
        .authorize(&authorize_url(params), Some(ALICE), true)
        .await
    {
        Outcome::Redirect(loc) => {
            assert!(
                loc.starts_with(param("redirect_uri").unwrap_or_default()),
                "{loc}"
            );
            let p = params_of(&loc, false);
            assert_eq!(p.get("state").map(String::as_str), param("state"), "{loc}");
            p.get("code")
                .unwrap_or_else(|| panic!("no code in {loc}"))
                .clone()
        }
        Outcome::Page(st, body) => panic!("authorize showed a page {st}: {body}"),
    }
}

/// `get_code` for the plain request of the code flow: `client_id`, `REDIRECT`, a state.
pub async fn code_of(browser: &Browser, client_id: &str) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("state", "st"),
    ];
    get_code(browser, &params).await
}

/// POSTs a token request.
pub async fn token_response(
    s: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    s.oauth_post("/oauth2/token", basic, form).await
}

/// POSTs a token request; its status and JSON body.
pub async fn token_request(
    s: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let res = token_response(s, basic, form).await;
    let st = res.status().as_u16();
    (st, res.json().await.unwrap())
}

/// The authorization code grant (RFC 6749 §4.1.3): redeems `code`, naming `redirect_uri`
/// when given; the status and JSON body.
pub async fn redeem(
    s: &TestServer,
    basic: Option<(&str, &str)>,
    code: &str,
    redirect_uri: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
    form.extend(redirect_uri.map(|r| ("redirect_uri", r)));
    token_request(s, basic, &form).await
}

/// The body of a token response with `status`; every token response is `no-store`
/// (RFC 6749 §5.1).
pub async fn token_json(res: reqwest::Response, status: u16) -> Value {
    let st = res.status();
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["pragma"], "no-cache");
    let v: Value = res.json().await.unwrap();
    assert_eq!(st, status, "{v}");
    v
}

/// A client credentials token response; panics unless 200.
pub async fn cc_token(s: &TestServer, id: &str, secret: &str) -> Value {
    let (st, v) = token_request(
        s,
        Some((id, secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(st, 200, "client credentials: {v}");
    v
}

/// The code flow for a confidential client (alice signs in and allows, in `browser`);
/// returns the token response JSON.
pub async fn code_flow(
    s: &TestServer,
    browser: &Browser,
    id: &str,
    secret: &str,
    scope: Option<&str>,
) -> Value {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", id),
        ("redirect_uri", REDIRECT),
        ("state", "st"),
    ];
    params.extend(scope.map(|sc| ("scope", sc)));
    let code = get_code(browser, &params).await;
    let res = token_response(
        s,
        Some((id, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    token_json(res, 200).await
}

/// A refresh request, optionally narrowing the scope.
pub async fn refresh_response(
    s: &TestServer,
    id: &str,
    secret: &str,
    rt: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", rt)];
    form.extend(scope.map(|sc| ("scope", sc)));
    token_response(s, Some((id, secret)), &form).await
}

/// A refresh request; its status and JSON body.
pub async fn refresh(
    s: &TestServer,
    id: &str,
    secret: &str,
    rt: &str,
    scope: Option<&str>,
) -> (u16, Value) {
    let res = refresh_response(s, id, secret, rt, scope).await;
    let st = res.status().as_u16();
    (st, res.json().await.unwrap())
}

/// Whether RFC 7662 introspection (with the test's admin key) calls `token` active.
pub async fn introspect_active(s: &TestServer, token: &str) -> bool {
    s.introspect(token).await["active"] == json!(true)
}
