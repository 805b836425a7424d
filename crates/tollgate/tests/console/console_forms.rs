//! The console's forms over plain HTTP (no JavaScript), on every backend: lost-update
//! protection, errors beside fields with input kept, secrets shown once, curl commands.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::console::{admin_signed_in, submit};
use tollgate_test_macros::backends;

use crate::common::browser::{hidden_inputs, location, Browser};

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn client_form(csrf: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![("csrf".into(), csrf.into())];
    for (k, v) in extra {
        f.push(((*k).into(), (*v).into()));
    }
    f
}

/// Creates a confidential client through the console; returns (client path, page HTML).
async fn create(b: &Browser, name: &str) -> (String, String) {
    let page = b.get("/console/clients/new").await.text().await.unwrap();
    let csrf = field(&hidden_inputs(&page), "csrf");
    let res = b
        .post_form(
            "/console/clients",
            &client_form(
                &csrf,
                &[
                    ("name", name),
                    ("version", "1.0"),
                    ("description", "made in the console"),
                    ("type", "confidential"),
                    ("grant_types", "client_credentials"),
                    ("grant_types", "authorization_code"),
                    ("redirect_uris", "https://app.example.com/cb"),
                    ("redirect_uris", ""),
                    ("redirect_uris", "http://localhost:3000/cb"),
                    ("scopes", "read write"),
                    ("lifetime_mode", "expires"),
                    ("lifetime_seconds", "900"),
                    ("refresh_mode", "limited"),
                    ("refresh_count", "3"),
                    ("active", "on"),
                ],
            ),
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let start = html.find("data-client-path=\"").expect("secret box") + 18;
    let path = html[start..start + html[start..].find('"').unwrap()].to_owned();
    (path, html)
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_client_matches_the_form_and_its_secret_is_shown_once(s: TestServer) {
    let b = admin_signed_in(&s, "root").await;
    let (path, html) = create(&b, "Console App").await;
    let id = path.rsplit('/').next().unwrap().to_owned();
    let c = s.stored_client(id.as_str()).await;
    assert_eq!(c.description.as_deref(), Some("made in the console"));
    assert_eq!(
        c.redirect_uris,
        ["https://app.example.com/cb", "http://localhost:3000/cb"]
    );
    assert_eq!(c.scopes, ["read", "write"]);
    assert_eq!(
        c.access_token_lifetime,
        tollgate_core::client::TokenLifetime::Seconds(900)
    );
    assert_eq!(
        c.refresh_count,
        tollgate_core::client::RefreshCount::Limited(3)
    );
    let start = html.find("id=\"client-secret\">").unwrap() + 19;
    let secret = &html[start..start + html[start..].find('<').unwrap()];
    let clients = &s.state.services.clients;
    let accepted = clients
        .authenticate(&tollgate_core::ClientId::new(id.as_str()), secret)
        .await
        .unwrap();
    assert!(accepted.is_some(), "the secret shown works");
    assert!(html.contains("shown only this once"));
    // A later visit never shows it.
    let again = b.get(&path).await.text().await.unwrap();
    assert!(!again.contains(secret), "secret shown again");
    assert!(!again.contains("id=\"client-secret\""));
    // The page shows the endpoints and curl commands for its grants.
    for needle in [
        "/oauth2/token",
        "/oauth2/authorize",
        "grant_type=client_credentials",
        "grant_type=authorization_code",
        "grant_type=refresh_token",
        &id,
    ] {
        assert!(again.contains(needle), "page lacks {needle}");
    }
    assert!(again.contains("readonly"), "name is read-only");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_errors_appear_beside_their_fields_with_the_input_kept(s: TestServer) {
    let b = admin_signed_in(&s, "root").await;
    let page = b.get("/console/clients/new").await.text().await.unwrap();
    let csrf = field(&hidden_inputs(&page), "csrf");
    let res = b
        .post_form(
            "/console/clients",
            &client_form(
                &csrf,
                &[
                    ("name", "Kept Name"),
                    ("version", ""),
                    ("type", "public"),
                    ("grant_types", "client_credentials"),
                    ("redirect_uris", "http://evil.example.com/cb"),
                    ("scopes", "ok bad\"scope"),
                    ("lifetime_mode", "expires"),
                    ("lifetime_seconds", "abc"),
                    ("refresh_mode", "limited"),
                    ("refresh_count", "2"),
                ],
            ),
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    for id in [
        "version-error",
        "grant_types-error",
        "redirect-0-error",
        "access_token_lifetime-error",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "no {id}");
    }
    assert!(html.contains("value=\"Kept Name\""), "name kept");
    assert!(
        html.contains("value=\"http://evil.example.com/cb\""),
        "uri kept"
    );
    assert!(html.contains("value=\"abc\""), "lifetime kept");
    // Issue 15 point 4: the lifetime error is in the form's words, beside the seconds box
    // (after it, before the Never choice), and says no API field name.
    let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("no {needle}"));
    let error = at("id=\"access_token_lifetime-error\"");
    assert!(at("id=\"lifetime_seconds\"") < error && error < at("value=\"never\""));
    assert!(
        html.contains("Expiration interval: enter 1 to 315360000 seconds, or choose Never expires"),
        "{html}"
    );
    assert!(
        !html.contains("access_token_lifetime must"),
        "API words on the page"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    assert_eq!(s.client_count().await, 0, "nothing created");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_administrator_saving_a_stale_form_is_refused_with_a_clear_message(s: TestServer) {
    let a = admin_signed_in(&s, "anna").await;
    let b = admin_signed_in(&s, "bert").await;
    let (path, _) = create(&a, "Shared").await;
    // Both open the edit page.
    let form_a = hidden_inputs(&a.get(&path).await.text().await.unwrap());
    let form_b = hidden_inputs(&b.get(&path).await.text().await.unwrap());
    let base = |form: &[(String, String)], desc: &str| {
        client_form(
            &field(form, "csrf"),
            &[
                ("revision", field(form, "revision").as_str()),
                ("version", "1.0"),
                ("description", desc),
                ("type", "confidential"),
                ("grant_types", "client_credentials"),
                ("scopes", "read"),
                ("lifetime_mode", "expires"),
                ("lifetime_seconds", "900"),
                ("refresh_mode", "limited"),
                ("refresh_count", "0"),
            ],
        )
    };
    let first = a.post_form(&path, &base(&form_a, "from anna")).await;
    assert_eq!(first.status(), 303);
    assert!(location(&first).starts_with(&path));
    let second = b.post_form(&path, &base(&form_b, "from bert")).await;
    assert_eq!(second.status(), 409);
    let html = second.text().await.unwrap();
    assert!(html.contains("Someone else changed this client"));
    assert!(html.contains("from bert"), "bert's input is kept");
    let id = path.rsplit('/').next().unwrap();
    let c = s.stored_client(id).await;
    assert_eq!(
        c.description.as_deref(),
        Some("from anna"),
        "anna's change stands"
    );
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_forms_without_the_csrf_token_change_nothing(s: TestServer) {
    let b = admin_signed_in(&s, "root").await;
    let client = [
        ("name", "NoCsrf"),
        ("version", "1"),
        ("type", "confidential"),
        ("grant_types", "client_credentials"),
    ];
    let res = submit(&b, "/console/clients", &client).await;
    assert_eq!(res.status(), 403);
    let key = [("csrf", "forged"), ("name", "x")];
    let res = submit(&b, "/console/admin-keys", &key).await;
    assert_eq!(res.status(), 403);
    assert_eq!(s.client_count().await, 0);
    assert_eq!(
        s.state.services.admin_keys.list().await.unwrap().len(),
        1,
        "only the test's key"
    );
}
