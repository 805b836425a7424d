//! The admin console in a real browser: headless Chromium driven through chromedriver.
//!
//! These run on SQLite only: the console calls the same services as the admin API, whose
//! tests run on every backend. Each test starts its own chromedriver and Chromium; they take
//! turns (see `common::chrome`). Without Chromium they are skipped with a message, except
//! under `CI`. Each test saves screenshots of the pages it visits to `docs/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::console::{user, PASSWORD};

use crate::common::chrome::Chrome;
use crate::common::oauth::{cc_token, introspect_active, tok};
use crate::common::{start_with, Options, TestServer};
use fantoccini::Locator;
use serde_json::json;
use tollgate_core::client::{RefreshCount, TokenLifetime};

const ADMIN: &str = "ada";

/// A SQLite server with one admin user.
async fn server_with_admin() -> TestServer {
    let s = start_with(tollgate_testkit::sqlite(), Options::default()).await;
    user(&s, ADMIN, true).await;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_page_renders_and_signs_in_in_chromium() {
    let s = server_with_admin().await;
    let Some(chrome) = Chrome::start(&s.base).await else {
        return;
    };

    chrome.goto("/login").await;
    assert_eq!(chrome.text("h1").await, "Sign in");
    assert_eq!(chrome.client.title().await.unwrap(), "Sign in · Tollgate");
    // The CSRF token is in the form, bound to a cookie the page set.
    let csrf = chrome
        .value("form[action='/login'] input[name='csrf']")
        .await;
    assert!(
        csrf.len() >= 16,
        "no CSRF token in the sign-in form: {csrf:?}"
    );
    chrome.fill_login(ADMIN, "").await;
    chrome.screenshot("login").await;

    // A wrong password keeps the user on the form, with the username kept and an error.
    chrome.fill_login(ADMIN, "wrong password").await;
    chrome
        .click_and_wait("form[action='/login'] button[type='submit']")
        .await;
    assert_eq!(chrome.text("h1").await, "Sign in");
    assert_eq!(
        chrome.text("[role='alert']").await,
        "Wrong username or password."
    );
    assert_eq!(
        chrome
            .value("form[action='/login'] input[name='username']")
            .await,
        ADMIN
    );

    chrome.login(ADMIN, PASSWORD).await;
    assert_eq!(chrome.path().await, "/login");
    assert_eq!(chrome.text("h1").await, "Signed in");
    assert_eq!(chrome.text("main strong").await, ADMIN);
    let session = chrome
        .client
        .get_named_cookie("tollgate_session")
        .await
        .expect("the session cookie is set after signing in");
    assert_eq!(session.http_only(), Some(true));

    // Signing out ends the session: /login shows the form again.
    chrome
        .click_and_wait("form[action='/logout'] button[type='submit']")
        .await;
    chrome.goto("/login").await;
    assert_eq!(chrome.text("h1").await, "Sign in");

    chrome.quit().await;
}

/// `(token id, status text)` of each row of the Token Management table.
async fn token_rows(chrome: &Chrome) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for row in chrome.all("#tokens-table tbody tr").await {
        let id = row.attr("data-token-id").await.unwrap().unwrap_or_default();
        let status = row
            .find(Locator::Css("td.status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        out.push((id, status));
    }
    out
}

/// The whole administrator session the issue describes, in one browser: create a
/// confidential client filling every field (after a validation error), see its secret once,
/// edit it, revoke one token, deactivate it with confirmation, create a user and an admin
/// key, and find all of that in the audit log. Saves the console's screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_session_in_chromium() {
    let s = server_with_admin().await;
    let Some(chrome) = Chrome::start(&s.base).await else {
        return;
    };
    let clients = &s.state.services.clients;

    // Signing in with a console return_to lands on the console.
    chrome
        .login_to(Some("/console/clients"), ADMIN, PASSWORD)
        .await;
    assert_eq!(chrome.path().await, "/console/clients");
    assert_eq!(chrome.text("main h1").await, "Clients");

    // ---- Add client: every field filled in.
    chrome.click_and_wait("#add-client").await;
    assert_eq!(chrome.path().await, "/console/clients/new");
    chrome.fill("#name", "Billing Service").await;
    chrome.fill("#version", "2.1").await;
    chrome
        .fill("#description", "Invoices and payments for the shop")
        .await;
    chrome
        .check("input[name='type'][value='confidential']", true)
        .await;
    for g in [
        "authorization_code",
        "client_credentials",
        "password",
        "implicit",
    ] {
        chrome
            .check(&format!("input[name='grant_types'][value='{g}']"), true)
            .await;
    }
    let row = |n: usize| format!("#redirect-uris [data-rows] .uri-row:nth-child({n}) input");
    chrome
        .fill(&row(1), "https://billing.example.com/callback")
        .await;
    // A second row, added by the page's script.
    chrome.click("#redirect-uris [data-add-row]").await;
    chrome
        .fill(&row(2), "https://billing.example.com/oauth/done")
        .await;
    chrome.fill("#scopes", "invoices:read invoices:write").await;
    chrome
        .check("input[name='lifetime_mode'][value='expires']", true)
        .await;
    chrome.fill("#lifetime_seconds", "7200").await;
    chrome
        .check("input[name='refresh_mode'][value='limited']", true)
        .await;
    chrome.fill("#refresh_count", "5").await;
    chrome.check("input[name='active']", true).await;
    chrome.screenshot("client-new").await;

    // ---- A box that does not apply is disabled while Never / Unlimited is chosen.
    let choices = [
        ("lifetime_mode", "never", "expires", "#lifetime_seconds"),
        ("refresh_mode", "unlimited", "limited", "#refresh_count"),
    ];
    for (name, off, on, bx) in choices {
        chrome
            .check(&format!("input[name='{name}'][value='{off}']"), true)
            .await;
        assert!(
            chrome.attr(bx, "disabled").await.is_some(),
            "{bx} stays live with {off}"
        );
        chrome
            .check(&format!("input[name='{name}'][value='{on}']"), true)
            .await;
        assert_eq!(chrome.attr(bx, "disabled").await, None, "{bx} with {on}");
    }
    assert_eq!(
        chrome.value("#lifetime_seconds").await,
        "7200",
        "the value is kept"
    );

    // ---- A validation error: shown beside its field, with every input kept.
    chrome
        .fill(&row(2), "http://billing.example.com/oauth/done")
        .await;
    chrome.click_and_wait("#save").await;
    assert_eq!(chrome.text("main h1").await, "Add client");
    assert!(
        chrome
            .text("#form-errors")
            .await
            .contains("1 highlighted field"),
        "{}",
        chrome.text("#form-errors").await
    );
    let bad_row = "#redirect-uris [data-rows] .uri-row:nth-child(2)";
    let err = chrome
        .text(&format!("{bad_row} #redirect-1-error.field-error"))
        .await;
    assert!(err.contains("https"), "unexpected error text: {err}");
    assert_eq!(
        chrome.attr(&row(2), "aria-invalid").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        chrome.attr(&row(2), "aria-describedby").await.as_deref(),
        Some("redirect-1-error")
    );
    // Only that field is marked.
    assert_eq!(chrome.texts(".field-error").await.len(), 1);
    assert_eq!(chrome.attr(&row(1), "aria-invalid").await, None);
    assert_eq!(chrome.value("#name").await, "Billing Service");
    assert_eq!(chrome.value("#version").await, "2.1");
    assert_eq!(
        chrome.value("#description").await,
        "Invoices and payments for the shop"
    );
    assert_eq!(
        chrome.value(&row(1)).await,
        "https://billing.example.com/callback"
    );
    assert_eq!(
        chrome.value(&row(2)).await,
        "http://billing.example.com/oauth/done"
    );
    assert_eq!(
        chrome.value("#scopes").await,
        "invoices:read invoices:write"
    );
    assert_eq!(chrome.value("#lifetime_seconds").await, "7200");
    assert_eq!(chrome.value("#refresh_count").await, "5");
    for g in [
        "authorization_code",
        "client_credentials",
        "password",
        "implicit",
    ] {
        assert!(
            chrome
                .wait_for(&format!("input[name='grant_types'][value='{g}']"))
                .await
                .is_selected()
                .await
                .unwrap(),
            "grant {g} was not kept"
        );
    }
    assert!(chrome
        .wait_for("input[name='type'][value='confidential']")
        .await
        .is_selected()
        .await
        .unwrap());
    assert!(chrome
        .wait_for("input[name='active']")
        .await
        .is_selected()
        .await
        .unwrap());
    assert!(
        clients
            .list(&Default::default(), None, None)
            .await
            .unwrap()
            .items
            .is_empty(),
        "a refused form created a client"
    );

    // ---- Corrected: created, and the secret shown once.
    chrome
        .fill(&row(2), "https://billing.example.com/oauth/done")
        .await;
    chrome.click_and_wait("#save").await;
    let secret = chrome.text("#secret-box #client-secret").await;
    assert!(
        chrome
            .text("#secret-box")
            .await
            .contains("shown only this once"),
        "no warning beside the secret"
    );
    let client_id = chrome.text("#client-id").await;
    assert!(secret.len() >= 43, "secret too short: {secret:?}");
    assert!(chrome
        .text("[role='status']")
        .await
        .contains("Billing Service 2.1 created"));
    // The address bar no longer points at the form's POST target.
    assert_eq!(chrome.path().await, format!("/console/clients/{client_id}"));
    let c = s.stored_client(&client_id).await;
    assert_eq!(c.name, "Billing Service");
    assert_eq!(c.version, "2.1");
    assert_eq!(
        c.description.as_deref(),
        Some("Invoices and payments for the shop")
    );
    assert_eq!(c.client_type.as_str(), "confidential");
    let mut grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
    grants.sort_unstable();
    assert_eq!(
        grants,
        [
            "authorization_code",
            "client_credentials",
            "implicit",
            "password"
        ]
    );
    assert_eq!(
        c.redirect_uris,
        [
            "https://billing.example.com/callback",
            "https://billing.example.com/oauth/done"
        ]
    );
    assert_eq!(c.scopes, ["invoices:read", "invoices:write"]);
    assert_eq!(c.access_token_lifetime, TokenLifetime::Seconds(7200));
    assert_eq!(c.refresh_count, RefreshCount::Limited(5));
    assert!(c.active);
    // The secret shown is the real one.
    let t1 = tok(&cc_token(&s, &client_id, &secret).await, "access_token");
    let t2 = tok(&cc_token(&s, &client_id, &secret).await, "access_token");
    chrome.screenshot("client-secret").await;

    // ---- Reloading does not show it again.
    chrome.reload().await;
    assert_eq!(chrome.path().await, format!("/console/clients/{client_id}"));
    assert_eq!(chrome.text("#client-id").await, client_id);
    assert!(!chrome.exists("#secret-box").await);
    assert!(!chrome.client.source().await.unwrap().contains(&secret));

    // ---- Edit: the name is read-only and not submitted; the rest saves.
    assert!(
        chrome.text("#ep-token").await.ends_with("/oauth2/token"),
        "token endpoint not shown"
    );
    assert_eq!(
        chrome.attr("#name", "readonly").await.as_deref(),
        Some("true")
    );
    assert_eq!(chrome.attr("#name", "name").await, None);
    assert_eq!(chrome.value("#name").await, "Billing Service");
    assert!(chrome.text("main").await.contains("curl"));
    // Issue 15 point 6: a page to scan: overview, settings, try it, danger zone, in that
    // order, the form's actions clear of the next heading.
    assert_eq!(
        chrome.texts("main section > h2").await,
        ["Overview", "Settings", "Try it", "Danger zone"]
    );
    let rect = |css: &'static str| {
        let chrome = &chrome;
        async move { chrome.wait_for(css).await.rectangle().await.unwrap() }
    };
    let (discard, next) = (rect("#discard").await, rect("#curl-h").await);
    assert!(
        next.1 - (discard.1 + discard.3) >= 24.0,
        "Discard changes ({discard:?}) runs into Try it ({next:?})"
    );
    let (overview, danger) = (rect("#overview").await, rect("#danger-zone").await);
    assert!(overview.1 < danger.1 && rect("#delete").await.1 > rect("#save").await.1);
    chrome.fill("#version", "2.2").await;
    chrome
        .fill("#description", "Invoices, payments and refunds")
        .await;
    chrome.click_and_wait("#save").await;
    assert_eq!(
        chrome.text("[role='status']").await,
        "Changes saved.",
        "no confirmation after saving"
    );
    assert_eq!(chrome.value("#version").await, "2.2");
    let c = s.stored_client(&client_id).await;
    assert_eq!(
        (c.name.as_str(), c.version.as_str()),
        ("Billing Service", "2.2")
    );
    assert_eq!(
        c.description.as_deref(),
        Some("Invoices, payments and refunds")
    );
    assert_eq!(c.redirect_uris.len(), 2, "editing lost redirect URIs");
    chrome.screenshot("client-edit").await;

    // A second client with never-expiring tokens, through the admin API.
    let other = s
        .create_client(&json!({
            "name": "Reports",
            "version": "1.0",
            "type": "confidential",
            "grant_types": ["client_credentials"],
            "access_token_lifetime": "never",
        }))
        .await;
    let other_id = other["client_id"].as_str().unwrap().to_owned();
    let t3 = tok(
        &cc_token(&s, &other_id, other["client_secret"].as_str().unwrap()).await,
        "access_token",
    );

    // ---- Token Management: revoke one token.
    chrome
        .goto(&format!("/console/tokens?client_id={client_id}"))
        .await;
    assert_eq!(chrome.text("main h1").await, "Token Management");
    let rows = token_rows(&chrome).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|(_, st)| st == "active"), "{rows:?}");
    let page = chrome.client.source().await.unwrap();
    assert!(
        !page.contains(&t1) && !page.contains(&t2),
        "Token Management shows a token"
    );
    let revoked_id = rows[0].0.clone();
    let kept_id = rows[1].0.clone();
    chrome
        .click_and_wait(&format!(
            "#tokens-table tr[data-token-id='{revoked_id}'] button[type='submit']"
        ))
        .await;
    assert!(chrome
        .text("[role='status']")
        .await
        .contains(&format!("Token {revoked_id} revoked")));
    chrome.goto("/console/tokens").await;
    let rows = token_rows(&chrome).await;
    let status_of = |id: &str| {
        rows.iter()
            .find(|(i, _)| i == id)
            .map(|(_, st)| st.clone())
            .unwrap_or_else(|| panic!("token {id} not listed: {rows:?}"))
    };
    assert_eq!(status_of(&revoked_id), "revoked");
    assert_eq!(status_of(&kept_id), "active");
    assert_eq!(rows.len(), 3, "{rows:?}");
    let active: Vec<bool> = vec![
        introspect_active(&s, &t1).await,
        introspect_active(&s, &t2).await,
    ];
    assert_eq!(
        active.iter().filter(|a| !**a).count(),
        1,
        "exactly one token should be revoked: {active:?}"
    );
    // Never-expiring tokens show "Lifetime".
    let lifetime_texts = chrome.texts("#tokens-table tbody tr").await;
    assert!(
        lifetime_texts
            .iter()
            .any(|t| t.contains("Reports 1.0") && t.contains("Lifetime")),
        "{lifetime_texts:?}"
    );
    chrome.screenshot("tokens").await;

    // ---- Deactivate, with a confirmation step that can be cancelled.
    chrome.goto(&format!("/console/clients/{client_id}")).await;
    chrome.click_and_wait("#deactivate").await;
    assert!(chrome
        .text("main h1")
        .await
        .starts_with("Deactivate Billing Service"));
    chrome.click_and_wait("#cancel").await;
    assert_eq!(chrome.path().await, format!("/console/clients/{client_id}"));
    assert!(
        s.stored_client(&client_id).await.active,
        "cancel deactivated"
    );
    chrome.click_and_wait("#deactivate").await;
    chrome.click_and_wait("#confirm").await;
    assert!(chrome
        .text("[role='status']")
        .await
        .contains("Client deactivated"));
    assert!(chrome.exists("#activate").await);
    assert!(!s.stored_client(&client_id).await.active);
    chrome
        .goto(&format!("/console/tokens?client_id={client_id}"))
        .await;
    let rows = token_rows(&chrome).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter().all(|(_, st)| st == "revoked"),
        "tokens of a deactivated client still shown active: {rows:?}"
    );
    assert!(!introspect_active(&s, &t1).await);
    assert!(!introspect_active(&s, &t2).await);
    assert!(
        introspect_active(&s, &t3).await,
        "another client's token was affected"
    );

    // ---- Users: a refused password keeps the input, then the user is created.
    chrome.goto("/console/users").await;
    chrome.click("#add-user summary").await;
    chrome.fill("#new-username", "grace").await;
    chrome.fill("#new-display", "Grace Hopper").await;
    chrome.fill("#new-password", "short").await;
    chrome.click_and_wait("#create-user").await;
    assert!(!chrome.text("#password-error").await.is_empty());
    assert_eq!(chrome.value("#new-username").await, "grace");
    assert_eq!(chrome.value("#new-display").await, "Grace Hopper");
    assert!(
        !chrome
            .exists("#users-table tr[data-username='grace']")
            .await
    );
    chrome.fill("#new-password", "a long enough password").await;
    chrome.click_and_wait("#create-user").await;
    assert!(chrome
        .text("[role='status']")
        .await
        .contains("User grace created"));
    let grace_row = chrome.text("#users-table tr[data-username='grace']").await;
    assert!(
        grace_row.contains("Grace Hopper") && grace_row.contains("Active"),
        "{grace_row}"
    );
    assert!(
        s.can_sign_in("grace", "a long enough password").await,
        "grace signs in"
    );
    chrome.screenshot("users").await;

    // ---- Admin keys: the key is shown once and works on the admin API.
    chrome.goto("/console/admin-keys").await;
    chrome.fill("#key-name", "ci-deploy").await;
    chrome.click_and_wait("#create-key").await;
    let key = chrome.text("#secret-box #admin-key").await;
    let res = s
        .http
        .get(s.url("/admin/api/v1/clients"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the new admin key does not work");
    chrome.screenshot("admin-keys").await;
    chrome.reload().await;
    assert_eq!(chrome.path().await, "/console/admin-keys");
    assert!(!chrome.exists("#admin-key").await);
    assert!(chrome.text("#keys-table").await.contains("ci-deploy"));
    assert!(!chrome.client.source().await.unwrap().contains(&key));

    // ---- The audit log lists all of it, by this administrator, without secrets.
    chrome.goto("/console/audit").await;
    let mut entries = Vec::new();
    for r in chrome.all("#audit-table tbody tr").await {
        let cells = r.find_all(Locator::Css("td")).await.unwrap();
        let actor = cells[1].text().await.unwrap();
        let action = cells[2].text().await.unwrap();
        entries.push((actor, action));
    }
    for action in [
        "client.create",
        "client.update",
        "token.revoke",
        "client.deactivate",
        "user.create",
        "admin_key.create",
    ] {
        assert!(
            entries
                .iter()
                .any(|(actor, a)| a == action && actor == &format!("user:{ADMIN}")),
            "no {action} by user:{ADMIN} in the audit log: {entries:?}"
        );
    }
    let page = chrome.client.source().await.unwrap();
    assert!(
        !page.contains(&secret) && !page.contains(&key),
        "the audit log shows a secret"
    );
    chrome.screenshot("audit").await;
    chrome.goto("/console/audit?action=client.deactivate").await;
    assert_eq!(chrome.texts("#audit-table tbody tr").await.len(), 1);
    // A hand-edited filter value is refused with a page naming it, not ignored.
    chrome.goto("/console/tokens?kind=bogus").await;
    let page = chrome.body_text().await;
    assert!(
        page.contains("Unknown filter") && page.contains("unknown token kind \"bogus\""),
        "{page}"
    );

    // ---- The clients list: newest first, sortable from its headers, searchable.
    chrome.goto("/console/clients").await;
    let names = chrome.texts("#clients-table tbody tr td:first-child").await;
    assert_eq!(
        names,
        ["Reports", "Billing Service"],
        "newest first: {names:?}"
    );
    assert_eq!(chrome.texts("#client-count").await, ["2 clients"]);
    chrome.screenshot("clients").await;
    chrome
        .click_and_wait("#clients-table thead th:first-child a")
        .await;
    let names = chrome.texts("#clients-table tbody tr td:first-child").await;
    assert_eq!(names, ["Billing Service", "Reports"], "by name: {names:?}");
    chrome
        .click_and_wait("#clients-table thead th:first-child a")
        .await;
    let names = chrome.texts("#clients-table tbody tr td:first-child").await;
    assert_eq!(
        names,
        ["Reports", "Billing Service"],
        "by name, reversed: {names:?}"
    );
    chrome.goto("/console/clients").await;
    chrome.fill("input[name='q']", "billing").await;
    chrome
        .click_and_wait("form[role='search'] button[type='submit']")
        .await;
    assert_eq!(
        chrome.texts("#clients-table tbody tr td:first-child").await,
        ["Billing Service"]
    );

    chrome.quit().await;
}
