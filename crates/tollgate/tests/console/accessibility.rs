//! Issue 15: an automated accessibility check. axe-core (from the npm registry, installed
//! by scripts/test.sh into tests/browser-deps) is injected into every console page and the
//! sign-in, consent and error pages in headless Chromium; no violation of impact "serious"
//! or "critical" is allowed. Then a keyboard-only pass: every action of a page is reached
//! with Tab, and the focused element shows a visible focus ring.

use crate::common::chrome::Chrome;
use crate::common::console::{user, PASSWORD};
use crate::common::oauth::{authorize_url, REDIRECT};
use crate::common::{confidential, start_with, Options, TestServer};
use serde_json::{json, Value};

const ADMIN: &str = "ada";

/// axe-core's script, or `None` (skip) outside CI when it is not installed.
fn axe_source() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/browser-deps/node_modules/axe-core/axe.min.js"
    );
    match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("CI is set but {path} cannot be read ({e}); scripts/test.sh installs it")
        }
        Err(_) => {
            eprintln!("axe-core not installed ({path}): the accessibility check is SKIPPED");
            None
        }
    }
}

/// The serious and critical violations axe finds on the current page, one line each.
async fn violations(chrome: &Chrome, axe: &str) -> Vec<String> {
    chrome.client.execute(axe, vec![]).await.unwrap();
    let found = chrome
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ["violations"] })
                 .then((r) => done(r.violations))
                 .catch((e) => done([{ id: "axe-error", impact: "critical", help: String(e), nodes: [] }]));"#,
            vec![],
        )
        .await
        .unwrap();
    found
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| {
            let nodes: Vec<String> = v["nodes"]
                .as_array()
                .map(|n| n.iter().take(3).map(|n| n["target"].to_string()).collect())
                .unwrap_or_default();
            format!(
                "{} ({}): {} at {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                nodes.join(", ")
            )
        })
        .collect()
}

async fn server() -> (TestServer, String) {
    let s = start_with(tollgate_testkit::sqlite(), Options::default()).await;
    user(&s, ADMIN, true).await;
    let mut body = confidential("Billing");
    body["grant_types"] = json!(["authorization_code", "client_credentials"]);
    body["redirect_uris"] = json!([REDIRECT]);
    body["refresh_count"] = json!(3);
    let c: Value = s.create_client(&body).await;
    let id = c["client_id"].as_str().unwrap().to_owned();
    // A token, so Token Management has a row (and a Revoke button) to check.
    let res = s
        .cc_response(&id, c["client_secret"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 200);
    (s, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_without_serious_or_critical_violations() {
    let Some(axe) = axe_source() else { return };
    let (s, client_id) = server().await;
    let Some(chrome) = Chrome::start(&s.base).await else {
        return;
    };
    let mut failures = Vec::new();
    let mut check = |page: String, found: Vec<String>| {
        if !found.is_empty() {
            failures.push(format!("{page}:\n  {}", found.join("\n  ")));
        }
    };

    chrome.goto("/login").await;
    check("/login".into(), violations(&chrome, &axe).await);
    // The check can fail: an image without a text alternative is a critical violation.
    chrome
        .client
        .execute(
            r#"document.querySelector("main").append(document.createElement("img"));"#,
            vec![],
        )
        .await
        .unwrap();
    let planted = violations(&chrome, &axe).await;
    assert!(
        planted.iter().any(|v| v.starts_with("image-alt")),
        "axe did not see a planted violation: {planted:?}"
    );
    chrome.goto("/oauth2/authorize?client_id=nobody").await;
    check("an error page".into(), violations(&chrome, &axe).await);

    chrome.login(ADMIN, PASSWORD).await;
    for page in [
        "/console/clients".to_owned(),
        "/console/clients/new".to_owned(),
        format!("/console/clients/{client_id}"),
        format!("/console/clients/{client_id}/active"),
        format!("/console/clients/{client_id}/delete"),
        "/console/tokens".to_owned(),
        "/console/users".to_owned(),
        "/console/admin-keys".to_owned(),
        "/console/audit".to_owned(),
    ] {
        chrome.goto(&page).await;
        check(page, violations(&chrome, &axe).await);
    }
    // The consent page: the signed-in administrator is asked for this client.
    let consent = authorize_url(&[
        ("response_type", "code"),
        ("client_id", &client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "api:read"),
        ("state", "xyz"),
    ]);
    chrome.goto(&consent).await;
    assert!(
        chrome
            .exists("button[name='decision'][value='allow']")
            .await,
        "not the consent page: {}",
        chrome.body_text().await
    );
    check("the consent page".into(), violations(&chrome, &axe).await);

    chrome.quit().await;
    assert!(
        failures.is_empty(),
        "axe found serious or critical violations:\n{}",
        failures.join("\n")
    );
}

/// Keyboard only: Tab reaches every button, link and field of each console page (a radio
/// group is one stop), and each shows a focus indicator (an outline or a box shadow)
/// while focused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_is_reached_with_tab_and_shows_its_focus() {
    let (s, client_id) = server().await;
    let Some(chrome) = Chrome::start(&s.base).await else {
        return;
    };
    chrome.login(ADMIN, PASSWORD).await;
    for page in [
        "/console/clients".to_owned(),
        "/console/clients/new".to_owned(),
        format!("/console/clients/{client_id}"),
        "/console/tokens".to_owned(),
        "/console/users".to_owned(),
        "/console/admin-keys".to_owned(),
        "/console/audit".to_owned(),
    ] {
        chrome.goto(&page).await;
        // Number every element a keyboard user must reach, in document order.
        let total = chrome
            .client
            .execute(
                r#"const wanted = Array.from(document.querySelectorAll(
                     "main a[href], main button, main input:not([type=hidden]), main select, main textarea, main summary"))
                     .filter((e) => !e.disabled && e.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true }))
                     // A radio group is one tab stop (its checked radio); arrows move within it.
                     .filter((e) => e.type !== "radio" || e.checked
                       || !document.querySelector(`input[type=radio][name="${e.name}"]:checked`));
                   wanted.forEach((e, i) => { e.dataset.tabI = String(i); });
                   window.tabNames = wanted.map((e) => e.id || e.name || e.textContent.trim().slice(0, 30) || e.tagName);
                   return wanted.length;"#,
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(0);
        assert!(total > 0, "{page}: nothing to reach");
        // Press Tab through the page: each of them gets the focus, with a ring.
        let mut reached = std::collections::BTreeSet::new();
        let mut unringed = Vec::new();
        for _ in 0..(total * 2 + 40) {
            let body = chrome.client.active_element().await.unwrap();
            body.send_keys("\u{E004}").await.unwrap();
            let state = chrome
                .client
                .execute(
                    r#"const e = document.activeElement;
                       if (!e || e.dataset.tabI === undefined) return null;
                       const s = getComputedStyle(e);
                       const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0)
                         || (s.boxShadow && s.boxShadow !== "none");
                       return { i: Number(e.dataset.tabI), what: e.id || e.name || e.textContent.trim().slice(0, 40) || e.tagName, ring };"#,
                    vec![],
                )
                .await
                .unwrap();
            let Some(i) = state["i"].as_u64() else {
                continue;
            };
            if reached.insert(i) && state["ring"] != json!(true) {
                unringed.push(state["what"].to_string());
            }
            if reached.len() as u64 == total {
                break;
            }
        }
        if reached.len() as u64 != total {
            let names = chrome
                .client
                .execute("return window.tabNames;", vec![])
                .await
                .unwrap();
            let missed: Vec<&Value> = (0..total)
                .filter(|i| !reached.contains(i))
                .filter_map(|i| names.get(i as usize))
                .collect();
            panic!(
                "{page}: Tab never reached {missed:?} ({} of {total})",
                reached.len()
            );
        }
        assert!(
            unringed.is_empty(),
            "{page}: no visible focus on {unringed:?}"
        );
    }
    chrome.quit().await;
}
