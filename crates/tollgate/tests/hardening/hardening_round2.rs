//! Issue 13 (the second attack on a running server): console notices, long authorization
//! requests at sign-in, sessions replaced by a new sign-in, and `Location` headers. Each
//! on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::browser::{hidden_inputs, location, params_of, Browser};
use crate::common::console::{csrf_of, signed_in, submit, user, PASSWORD};
use crate::common::TestServer;
use serde_json::{json, Value};
use tollgate_test_macros::backends;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

#[backends]
/// Finding 11: `?notice=` on any console URL showed attacker-chosen text inside the real
/// console. Notices are now signed for the session they were made for.
#[tokio::test]
async fn console_notices_cannot_be_chosen_by_a_link(s: TestServer) {
    user(&s, "boss", true).await;
    user(&s, "deputy", true).await;
    let b = signed_in(&s, "boss").await;
    let bait = "Your session expired: call +1 555 0100 to restore access";
    for path in [
        "/console/clients",
        "/console/tokens",
        "/console/users",
        "/console/admin-keys",
    ] {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("notice", bait)
            .finish();
        let page = b.get(&format!("{path}?{q}")).await.text().await.unwrap();
        assert!(!page.contains("call +1 555"), "{path} showed the bait");
    }
    // The console's own notice after a change is shown ...
    let csrf = csrf_of(&b, "/console/users").await;
    let res = submit(
        &b,
        "/console/users",
        &[
            ("csrf", &csrf),
            ("username", "newcomer"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    let page = b.get(&to).await.text().await.unwrap();
    assert!(page.contains("User newcomer created."), "{page}");
    // ... but only to the session it was made for: the link is no bait either.
    let other = signed_in(&s, "deputy").await;
    let page = other.get(&to).await.text().await.unwrap();
    assert!(
        !page.contains("newcomer created"),
        "shown to another session"
    );
}

/// A confidential client `name` with `grants` and the redirect URI `REDIRECT` (and
/// `scopes`, when given); its JSON.
async fn redirecting_client(
    s: &TestServer,
    name: &str,
    grants: &[&str],
    scopes: Option<&[&str]>,
) -> Value {
    let mut body = json!({
        "name": name, "version": "1", "type": "confidential",
        "grant_types": grants, "redirect_uris": [REDIRECT],
    });
    if let Some(scopes) = scopes {
        body["scopes"] = json!(scopes);
    }
    s.create_client(&body).await
}

#[backends]
/// Finding 12: an authorization request over ~4 KB lost the flow at sign-in (the
/// `return_to` was dropped silently). It now fails visibly, to the client, before sign-in.
#[tokio::test]
async fn an_authorize_request_too_long_to_resume_fails_visibly(s: TestServer) {
    let c = redirecting_client(&s, "Web", &["authorization_code"], None).await;
    let id = c["client_id"].as_str().unwrap();
    let url = |state: &str| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("state", state)
            .finish();
        format!("/oauth2/authorize?{q}")
    };
    let b = Browser::new(&s.base);
    // Long, but short enough: the sign-in page brings the user back to it.
    let res = b.get(&url(&"s".repeat(3000))).await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(to.starts_with("/login?return_to="), "{to}");
    let page = b.get(&to).await.text().await.unwrap();
    let back = hidden_inputs(&page)
        .into_iter()
        .find(|(k, _)| k == "return_to")
        .map(|(_, v)| v)
        .unwrap_or_default();
    assert!(back.contains(&"s".repeat(3000)), "the flow is kept");
    // Too long to carry through sign-in: the client hears of it at once.
    let state = "t".repeat(5000);
    let res = b.get(&url(&state)).await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(
        to.starts_with(REDIRECT),
        "to the client, not to sign-in: {to}"
    );
    let p = params_of(&to, false);
    assert_eq!(p["error"], "invalid_request", "{p:?}");
    assert_eq!(p["state"], state);
    assert!(p["error_description"].contains("too long"), "{p:?}");
}

/// The value of cookie `name` that `res` sets.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (k, rest) = v.split_once('=')?;
            (k == name).then(|| rest.split(';').next().unwrap_or("").to_owned())
        })
}

/// Signs in over plain HTTP with explicit cookies; returns the new session cookie.
async fn sign_in_with(s: &common::TestServer, username: &str, session: Option<&str>) -> String {
    let form = s.http.get(s.url("/login")).send().await.unwrap();
    let nonce = set_cookie(&form, "tollgate_login").unwrap();
    let mut fields = hidden_inputs(&form.text().await.unwrap());
    fields.push(("username".into(), username.into()));
    fields.push(("password".into(), PASSWORD.into()));
    let mut cookies = format!("tollgate_login={nonce}");
    if let Some(old) = session {
        cookies.push_str(&format!("; tollgate_session={old}"));
    }
    let res = s
        .http
        .post(s.url("/login"))
        .header("cookie", cookies)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "sign-in");
    set_cookie(&res, "tollgate_session").unwrap()
}

async fn signed_in_as(s: &common::TestServer, session: &str) -> Option<String> {
    let page = s
        .http
        .get(s.url("/login"))
        .header("cookie", format!("tollgate_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    page.contains("You are signed in as").then(|| {
        page.split("<strong>")
            .nth(1)
            .unwrap_or("")
            .split('<')
            .next()
            .unwrap_or("")
            .to_owned()
    })
}

#[backends]
/// Finding 14: signing in again left the previous session valid.
#[tokio::test]
async fn signing_in_again_ends_the_previous_session(s: TestServer) {
    user(&s, "hana", false).await;
    user(&s, "ivan", false).await;
    let first = sign_in_with(&s, "hana", None).await;
    assert_eq!(signed_in_as(&s, &first).await.as_deref(), Some("hana"));
    // Another browser's session is its own business.
    let elsewhere = sign_in_with(&s, "hana", None).await;
    // The same browser signs in again (here as someone else): its old session ends.
    let second = sign_in_with(&s, "ivan", Some(&first)).await;
    assert_ne!(first, second);
    assert_eq!(
        signed_in_as(&s, &first).await,
        None,
        "the old session is over"
    );
    assert_eq!(signed_in_as(&s, &second).await.as_deref(), Some("ivan"));
    assert_eq!(
        signed_in_as(&s, &elsewhere).await.as_deref(),
        Some("hana"),
        "other browsers stay signed in"
    );
}

#[backends]
/// Finding 14: raw UTF-8 went into `Location` headers.
#[tokio::test]
async fn locations_are_ascii(s: TestServer) {
    user(&s, "jun", true).await;
    let b = Browser::new(&s.base);
    // Unsigned in: the console sends the browser to sign in, coming back to the path.
    let res = b.get("/console/clients/ümlaut").await;
    assert_eq!(res.status(), 303);
    let raw = res.headers()["location"].as_bytes().to_vec();
    assert!(raw.iter().all(|c| c.is_ascii_graphic()), "{raw:?}");
    // After sign-in, to a return_to with non-ASCII characters.
    let page = b.get("/login").await.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    form.retain(|(k, _)| k != "return_to");
    form.push(("return_to".into(), "/console/clients/é".into()));
    form.push(("username".into(), "jun".into()));
    form.push(("password".into(), PASSWORD.into()));
    let res = b.post_form("/login", &form).await;
    assert_eq!(res.status(), 303);
    let raw = res.headers()["location"].as_bytes().to_vec();
    assert_eq!(raw, b"/console/clients/%C3%A9");
}

#[backends]
/// Finding 13: the audit log named admin keys by their name, which is not unique. The actor
/// now leads with the key's id.
#[tokio::test]
async fn the_audit_log_tells_two_keys_of_one_name_apart(s: TestServer) {
    let twin = s.post_json("/admin-keys", &json!({"name": "test"})).await;
    let twin_id = twin["id"].as_str().unwrap();
    let twin_actor = format!("admin-key:{twin_id} (test)");
    assert_ne!(twin_actor, s.actor);
    let client = |name: &str| {
        json!({"name": name, "version": "1", "type": "confidential",
               "grant_types": ["client_credentials"]})
    };
    let res = s
        .http
        .post(format!("{}/admin/api/v1/clients", s.base))
        .bearer_auth(twin["key"].as_str().unwrap())
        .json(&client("By The Twin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(
        s.post("/clients", &client("By The First")).await.status(),
        201
    );
    let log: serde_json::Value = s.get_json("/audit?action=client.create").await;
    let actors = crate::common::item_strs(&log, "actor");
    assert_eq!(actors, [s.actor.as_str(), twin_actor.as_str()], "{log}");
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("actor", &twin_actor)
        .finish();
    let only: serde_json::Value = s.get_json(&format!("/audit?{q}")).await;
    let items = only["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "filtered by the twin: {only}");
    assert_eq!(items[0]["details"]["name"], "By The Twin", "{only}");
}

#[backends]
/// Finding 14: PATCH with `null` for a field that cannot be null was silently ignored. Now
/// it is a 422 naming the field, and nothing changes; `null` still clears the description.
#[tokio::test]
async fn patch_with_null_for_a_required_field_is_refused(s: TestServer) {
    let c: serde_json::Value = s
        .create_client(&json!({
            "name": "Nulls", "version": "1", "type": "confidential",
            "grant_types": ["client_credentials"], "scopes": ["read"],
            "description": "to be cleared",
        }))
        .await;
    let path = format!("/clients/{}", c["client_id"].as_str().unwrap());
    for field in ["type", "grant_types", "redirect_uris", "scopes", "active"] {
        let res = s.patch(&path, &json!({ field: null })).await;
        common::expect_field_error(res, field, "invalid").await;
    }
    let now: serde_json::Value = s.get_json(&path).await;
    assert_eq!(now["type"], "confidential", "{now}");
    assert_eq!(now["active"], true, "{now}");
    assert_eq!(now["updated_at"], c["updated_at"], "nothing was written");
    let res = s.patch(&path, &json!({"description": null})).await;
    assert_eq!(res.status(), 200);
    let now: serde_json::Value = res.json().await.unwrap();
    assert_eq!(now["description"], serde_json::Value::Null, "{now}");
}

#[backends]
/// Finding 7: "last active administrator" was check-then-act, so two concurrent
/// deactivations left none. Now one conditional write: of two concurrent changes that would
/// each remove one of the last two admins, exactly one wins, every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_never_remove_the_last_active_administrator(s: TestServer) {
    let mut ids = Vec::new();
    for name in ["root-a", "root-b"] {
        let u: serde_json::Value = s
            .post_json(
                "/users",
                &json!({"username": name, "password": PASSWORD, "admin": true}),
            )
            .await;
        ids.push(format!("/users/{}", u["id"].as_str().unwrap()));
    }
    let off = json!({"active": false});
    let demote = json!({"admin": false});
    for round in 0..20 {
        // Deactivate both, or deactivate one and demote the other, at the same moment.
        let second = if round % 2 == 0 { &off } else { &demote };
        let (a, b) = tokio::join!(s.patch(&ids[0], &off), s.patch(&ids[1], second));
        let mut codes = [a.status().as_u16(), b.status().as_u16()];
        codes.sort_unstable();
        assert_eq!(codes, [200, 409], "round {round}");
        let admins: serde_json::Value = s.get_json("/users").await;
        let active_admins = admins["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["admin"] == true && u["active"] == true)
            .count();
        assert_eq!(active_admins, 1, "round {round}: {admins}");
        for id in &ids {
            let res = s.patch(id, &json!({"active": true, "admin": true})).await;
            assert_eq!(res.status(), 200, "restore");
        }
    }
    // Deleting both at once: one stays.
    let (a, b) = tokio::join!(s.delete(&ids[0]), s.delete(&ids[1]));
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort_unstable();
    assert_eq!(codes, [204, 409], "concurrent deletes");
}

/// RFC 6749 §4.1.2.1 / §5.2: `error_description` is %x20-21 / %x23-5B / %x5D-7E.
fn within_the_description_charset(d: &str) -> bool {
    d.chars()
        .all(|c| matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E'))
}

#[backends]
/// Finding 10: `scope=<script>…` was echoed into the redirect to the client, and several
/// descriptions held `"`, `§` or U+FFFD. Descriptions now never echo request input and stay
/// within RFC 6749's character set, on the redirect, the error page and the token endpoint.
#[tokio::test]
async fn error_descriptions_echo_nothing_and_stay_within_the_rfc_charset(s: TestServer) {
    let grants = ["authorization_code", "client_credentials"];
    let c = redirecting_client(&s, "Echo", &grants, Some(&["read"])).await;
    let id = c["client_id"].as_str().unwrap();
    let secret = c["client_secret"].as_str().unwrap();
    let bait = "<script>alert(\"§\u{FFFD}\")</script>";
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", bait)
        .append_pair("state", "s")
        .finish();
    let res = s
        .http
        .get(s.url(&format!("/oauth2/authorize?{q}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let p = params_of(&location(&res), false);
    assert_eq!(p["error"], "invalid_scope", "{p:?}");
    let d = &p["error_description"];
    assert!(within_the_description_charset(d), "{d:?}");
    assert!(!d.contains("script"), "echoed: {d:?}");

    // The token endpoint: an unsupported grant type, a bad scope, a duplicate and an
    // unknown parameter named with markup, and messages that used to carry `§`.
    let verifier_short = "short";
    let forms: Vec<Vec<(&str, &str)>> = vec![
        vec![("grant_type", bait)],
        vec![("grant_type", "client_credentials"), ("scope", bait)],
        vec![
            ("grant_type", "client_credentials"),
            (bait, "1"),
            (bait, "2"),
        ],
        vec![
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier_short),
        ],
        vec![("grant_type", "refresh_token")],
    ];
    for form in forms {
        let res = s
            .oauth_post("/oauth2/token", Some((id, secret)), &form)
            .await;
        assert_eq!(res.status(), 400, "{form:?}");
        let v: serde_json::Value = res.json().await.unwrap();
        let d = v["error_description"].as_str().unwrap_or_default();
        assert!(within_the_description_charset(d), "{form:?}: {d:?}");
        assert!(!d.contains("script"), "{form:?} echoed: {d:?}");
    }
}
