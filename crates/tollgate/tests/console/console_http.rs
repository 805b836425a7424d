//! The admin console over plain HTTP, on every backend: forms without the session's CSRF
//! token are refused and change nothing, console pages send the security headers of
//! SPEC §9, and only signed-in administrators get in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::browser::{hidden_inputs, location, Browser};
use crate::common::console::{
    admin_signed_in, change_user, confidential_form, csrf_of, hidden_input, pairs, signed_in,
    submit, user, PASSWORD,
};
use crate::common::oauth::introspect_active;
use crate::common::{confidential, TestServer};
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, SET_COOKIE, X_CONTENT_TYPE_OPTIONS};
use serde_json::Value;
use tollgate_core::service::UserChange;
use tollgate_test_macros::backends;

/// An access token of a new client-credentials client; returns (client_id, token).
async fn issued_token(s: &TestServer, name: &str) -> (String, String) {
    let c = s.create_client(&confidential(name)).await;
    let id = c["client_id"].as_str().unwrap().to_owned();
    let res = s
        .cc_response(&id, c["client_secret"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    (id, v["access_token"].as_str().unwrap().to_owned())
}

async fn token_id(s: &TestServer, client_id: &str) -> String {
    let v: Value = s.get_json(&format!("/tokens?client_id={client_id}")).await;
    v["items"][0]["id"].as_str().unwrap().to_owned()
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_forms_without_the_session_csrf_token_are_refused(s: TestServer) {
    let b = admin_signed_in(&s, "ada").await;
    let csrf = csrf_of(&b, "/console/clients/new").await;
    // Another session of the same administrator has another token.
    let other = signed_in(&s, "ada").await;
    let other_csrf = csrf_of(&other, "/console/clients/new").await;
    assert_ne!(csrf, other_csrf, "CSRF token not bound to the session");

    let client_form = |csrf: Option<&str>| {
        let mut f = confidential_form(
            "Shop",
            "1.0",
            &[
                ("lifetime_mode", "expires"),
                ("lifetime_seconds", "3600"),
                ("refresh_mode", "limited"),
                ("refresh_count", "0"),
                ("active", "on"),
            ],
        );
        if let Some(c) = csrf {
            f.push(("csrf".into(), c.into()));
        }
        f
    };
    for (what, token) in [
        ("no", None),
        ("an empty", Some("")),
        ("a wrong", Some("not-the-token")),
        ("another session's", Some(other_csrf.as_str())),
    ] {
        let res = b.post_form("/console/clients", &client_form(token)).await;
        assert_eq!(res.status(), 403, "create client with {what} CSRF token");
        assert_eq!(s.client_count().await, 0, "{what} token created a client");
    }
    // The same form with the token works, so the refusals were about the token.
    let res = b
        .post_form("/console/clients", &client_form(Some(&csrf)))
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(s.client_count().await, 1);

    // Every other kind of console form, without a token: refused, nothing changes.
    let (client_id, token) = issued_token(&s, "Api").await;
    let tid = token_id(&s, &client_id).await;
    let attempts = [
        (
            format!("/console/clients/{client_id}/active"),
            pairs(&[("active", "false")]),
        ),
        (format!("/console/tokens/{tid}/revoke"), vec![]),
        (
            format!("/console/clients/{client_id}/tokens/revoke"),
            vec![],
        ),
        (
            format!("/console/clients/{client_id}/secret"),
            pairs(&[("grace_seconds", "0")]),
        ),
        (format!("/console/clients/{client_id}/delete"), vec![]),
        (
            format!("/console/clients/{client_id}"),
            pairs(&[("version", "9.9"), ("type", "confidential")]),
        ),
        (
            "/console/users".to_owned(),
            pairs(&[
                ("username", "mallory"),
                ("password", PASSWORD),
                ("admin", "on"),
            ]),
        ),
        (
            "/console/admin-keys".to_owned(),
            pairs(&[("name", "stolen")]),
        ),
    ];
    let audit_before = s.audit_len().await;
    for (path, form) in &attempts {
        let res = b.post_form(path, form).await;
        assert_eq!(res.status(), 403, "POST {path} without CSRF token");
        let body = res.text().await.unwrap();
        assert!(body.contains("CSRF"), "POST {path}: {body}");
    }
    let c = s.stored_client(client_id.as_str()).await;
    assert!(c.active, "deactivated without a CSRF token");
    assert_eq!(c.version, "1.0", "edited without a CSRF token");
    assert!(
        introspect_active(&s, &token).await,
        "token revoked without a CSRF token"
    );
    let audit_after = s.audit_len().await;
    assert_eq!(
        audit_before, audit_after,
        "a refused form changed something"
    );
    let users = s.state.services.users.list(None, None, None).await.unwrap();
    assert!(
        users.items.iter().all(|u| u.username != "mallory"),
        "user created without a CSRF token"
    );

    // The right token works for those too (deactivation, here).
    let active = format!("/console/clients/{client_id}/active");
    let res = submit(&b, &active, &[("active", "false"), ("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    let c = s.stored_client(client_id.as_str()).await;
    assert!(!c.active, "deactivated with the right token");
    assert!(!introspect_active(&s, &token).await);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_pages_send_the_security_headers(s: TestServer) {
    user(&s, "ada", true).await;
    let b = Browser::new(&s.base);
    // The sign-in answer sets the session cookie HttpOnly and SameSite=Lax.
    let page = b
        .get("/login?return_to=/console")
        .await
        .text()
        .await
        .unwrap();
    let mut form = hidden_inputs(&page);
    form.push(("username".into(), "ada".into()));
    form.push(("password".into(), PASSWORD.into()));
    let res = b.post_form("/login", &form).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/console");
    let cookie = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("tollgate_session="))
        .unwrap_or_else(|| panic!("no session cookie"));
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    let (client_id, _) = issued_token(&s, "Api").await;
    for path in [
        "/console/clients".to_owned(),
        "/console/clients/new".to_owned(),
        format!("/console/clients/{client_id}"),
        format!("/console/clients/{client_id}/active"),
        format!("/console/clients/{client_id}/delete"),
        "/console/tokens".to_owned(),
        "/console/users".to_owned(),
        "/console/admin-keys".to_owned(),
        "/console/audit".to_owned(),
        "/console/clients/no-such-client".to_owned(),
    ] {
        let res = b.get(&path).await;
        let status = res.status().as_u16();
        assert!(
            status == 200 || (path.ends_with("no-such-client") && status == 404),
            "GET {path}: {status}"
        );
        let h = res.headers().clone();
        let get = |n| {
            h.get(n)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert!(
            get(CONTENT_TYPE).starts_with("text/html"),
            "{path}: {}",
            get(CONTENT_TYPE)
        );
        assert_eq!(get(X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        let csp = get(CONTENT_SECURITY_POLICY);
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        for d in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "script-src 'self'",
        ] {
            assert!(directives.contains(&d), "{path}: CSP lacks {d}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        // What that policy would block must not be on the page.
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("<script>") && !body.contains(" style=") && !body.contains("<style"),
            "{path} has inline script or style, which the CSP blocks"
        );
    }
    // The page that shows a new secret is never cached.
    let csrf = csrf_of(&b, "/console/clients").await;
    let rotate = format!("/console/clients/{client_id}/secret");
    let res = submit(&b, &rotate, &[("grace_seconds", "0"), ("csrf", &csrf)]).await;
    assert_eq!(res.status(), 200);
    let cc = res
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(cc.contains("no-store"), "secret page cache-control: {cc}");
    // Static assets are not HTML and so carry no page policy, but are nosniff.
    for asset in ["/console/static/console.css", "/console/static/console.js"] {
        let res = b.get(asset).await;
        assert_eq!(res.status(), 200, "{asset}");
        assert_eq!(
            res.headers().get(X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff",
            "{asset}"
        );
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_pages_refuse_everyone_but_signed_in_administrators(s: TestServer) {
    let (client_id, _) = issued_token(&s, "Api").await;
    let pages = [
        "/console/clients".to_owned(),
        "/console/clients/new".to_owned(),
        format!("/console/clients/{client_id}"),
        "/console/tokens".to_owned(),
        "/console/users".to_owned(),
        "/console/admin-keys".to_owned(),
        "/console/audit".to_owned(),
    ];

    // Not signed in: sent to the sign-in page, coming back afterwards.
    let anon = Browser::new(&s.base);
    for p in &pages {
        let res = anon.get(p).await;
        assert_eq!(res.status(), 303, "anonymous GET {p}");
        let to = location(&res);
        let expected = format!(
            "/login?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", p)
                .finish()
        );
        assert_eq!(to, expected, "anonymous GET {p}");
    }
    // An admin API key is not a console session.
    let res = s
        .http
        .get(s.url("/console/clients"))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "admin key on the console");

    // A signed-in user who is not an administrator: 403 on every page.
    user(&s, "bob", false).await;
    let bob = signed_in(&s, "bob").await;
    for p in &pages {
        let res = bob.get(p).await;
        assert_eq!(res.status(), 403, "non-admin GET {p}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Administrators only"),
            "non-admin GET {p}: {body}"
        );
        assert!(
            !body.contains(&client_id),
            "non-admin GET {p} shows console data"
        );
    }
    // Even with a valid CSRF token of their own session (from the "Signed in" page),
    // their forms are refused.
    let bob_csrf = csrf_of(&bob, "/login").await;
    for (path, form) in [
        (
            "/console/clients".to_owned(),
            confidential_form("Bob's", "1", &[("csrf", &bob_csrf)]),
        ),
        (
            format!("/console/clients/{client_id}/active"),
            pairs(&[("active", "false"), ("csrf", &bob_csrf)]),
        ),
        (
            "/console/users".to_owned(),
            pairs(&[
                ("username", "bob2"),
                ("password", PASSWORD),
                ("admin", "on"),
                ("csrf", &bob_csrf),
            ]),
        ),
        (
            "/console/admin-keys".to_owned(),
            pairs(&[("name", "bobs-key"), ("csrf", &bob_csrf)]),
        ),
    ] {
        let res = bob.post_form(&path, &form).await;
        assert_eq!(res.status(), 403, "non-admin POST {path}");
    }
    assert_eq!(s.client_count().await, 1);
    let c = s.stored_client(client_id.as_str()).await;
    assert!(c.active, "a non-admin's form deactivated the client");
    let keys = s.state.services.admin_keys.list().await.unwrap();
    assert!(keys.iter().all(|k| k.name != "bobs-key"));

    // Rights follow the user record, not the moment of sign-in: an administrator who
    // loses the role (or is deactivated) is refused on the next request. (Another
    // administrator stays, as the last one may not be demoted.)
    user(&s, "ada", true).await;
    let demoted = UserChange {
        admin: Some(false),
        ..Default::default()
    };
    let deactivated = UserChange {
        active: Some(false),
        ..Default::default()
    };
    // (user, page, change, the statuses that refuse, what a failure means)
    for (name, page, change, refused, failure) in [
        (
            "carol",
            "/console/clients",
            demoted,
            &[403][..],
            "a demoted",
        ),
        (
            "dave",
            "/console/users",
            deactivated,
            &[303, 403][..],
            "a deactivated",
        ),
    ] {
        let admin = user(&s, name, true).await;
        let b = signed_in(&s, name).await;
        assert_eq!(b.get(page).await.status(), 200, "{name} before the change");
        change_user(&s, &admin.id, change).await;
        let status = b.get(page).await.status();
        assert!(
            refused.contains(&status.as_u16()),
            "{failure} administrator still gets in: {status}"
        );
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_edit_keeps_the_name_whatever_is_submitted(s: TestServer) {
    let b = admin_signed_in(&s, "ada").await;
    let (client_id, _) = issued_token(&s, "Api").await;
    let path = format!("/console/clients/{client_id}");
    let page = b.get(&path).await.text().await.unwrap();
    let revision = hidden_input(&page, "revision", &path);
    let csrf = csrf_of(&b, &path).await;
    let form = confidential_form(
        "Renamed",
        "2.0",
        &[
            ("csrf", &csrf),
            ("revision", &revision),
            ("lifetime_mode", "expires"),
            ("lifetime_seconds", "3600"),
            ("refresh_mode", "limited"),
            ("refresh_count", "0"),
        ],
    );
    let res = b.post_form(&path, &form).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let c = s.stored_client(client_id.as_str()).await;
    assert_eq!((c.name.as_str(), c.version.as_str()), ("Api", "2.0"));
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_lists_refuse_an_unknown_filter_value_as_the_api_does(s: TestServer) {
    let b = admin_signed_in(&s, "ada").await;
    let kind = (
        "/console/tokens?kind=bogus",
        r#"unknown token kind "bogus""#,
    );
    let status = (
        "/console/tokens?status=asleep",
        r#"unknown token status "asleep""#,
    );
    let grant = (
        "/console/clients?grant_type=magic",
        r#"unknown grant type "magic""#,
    );
    let kind_of = (
        "/console/clients?type=secret",
        r#"type must be "confidential" or "public""#,
    );
    let active = (
        "/console/clients?active=maybe",
        "active must be true or false",
    );
    for (path, named) in [kind, status, grant, kind_of, active] {
        let res = b.get(path).await;
        assert_eq!(res.status(), 400, "GET {path}");
        let page = res.text().await.unwrap();
        assert!(page.contains("Unknown filter"), "GET {path}: {page}");
        // The page escapes quotes; compare with them as the browser shows them.
        let shown = page.replace("&quot;", "\"").replace("&#34;", "\"");
        assert!(
            shown.contains(named),
            "GET {path} does not say {named:?}: {page}"
        );
    }
    // The same values the API refuses, and the console's own empty "Any" is no filter.
    // The admin API refuses the same value with the same words (422, a rule broken).
    let api = s.get("/tokens?kind=bogus").await;
    assert_eq!(api.status(), 422, "the admin API refuses the same value");
    let problem = api.text().await.unwrap();
    assert!(
        problem.contains(r#"unknown token kind \"bogus\""#),
        "{problem}"
    );
    for path in [
        "/console/tokens?kind=&status=",
        "/console/clients?grant_type=&type=&active=",
    ] {
        assert_eq!(b.get(path).await.status(), 200, "GET {path}");
    }
}

/// Issue 15 point 8: the client list is newest first by default, sorts by name, version
/// and creation from its column headers (which say how the list is sorted), keeps the
/// filters when it does, and says how many clients match.
#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_client_list_is_newest_first_sortable_and_counted(s: TestServer) {
    for name in ["Zeta", "alpha", "Mid Billing"] {
        s.create_client(&crate::common::confidential(name)).await;
    }
    let b = admin_signed_in(&s, "ada").await;
    let order_of = |page: &str| -> Vec<&'static str> {
        let mut found: Vec<(usize, &'static str)> = ["Zeta", "alpha", "Mid Billing"]
            .into_iter()
            .map(|n| (page.find(&format!(">{n}</a>")).expect(n), n))
            .collect();
        found.sort();
        found.into_iter().map(|(_, n)| n).collect()
    };
    let page = b.get("/console/clients").await.text().await.unwrap();
    assert_eq!(
        order_of(&page),
        ["Mid Billing", "alpha", "Zeta"],
        "newest first"
    );
    assert!(page.contains(">3 clients</p>"), "{page}");
    assert!(
        page.contains(r#"aria-sort="descending"><a href="/console/clients?sort=created""#),
        "Created is the sorted column; its link reverses it: {page}"
    );

    let page = b
        .get("/console/clients?sort=name")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(order_of(&page), ["alpha", "Mid Billing", "Zeta"], "by name");
    assert!(
        page.contains(r#"aria-sort="ascending"><a href="/console/clients?sort=-name""#),
        "{page}"
    );
    assert!(page.contains(r#"<option value="name" selected>"#), "{page}");

    // Filters survive a change of order, and the count follows the filters.
    let page = b
        .get("/console/clients?q=i&sort=-name")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(">1 client matching these filters</p>"),
        "{page}"
    );
    assert!(
        page.replace("&#38;", "&")
            .contains(r#"aria-sort="descending"><a href="/console/clients?q=i&sort=name""#),
        "the Name header keeps the search: {page}"
    );
    let res = b.get("/console/clients?sort=newest").await;
    assert_eq!(
        res.status(),
        400,
        "an unknown order is refused like a filter"
    );
}

/// Issue 15 point 3: revoking a token (or all of a client's) from Token Management returns
/// to the list with the filters and the page it came from; a `back` that names another
/// site or section is not followed.
#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_actions_return_to_the_filtered_list_they_came_from(s: TestServer) {
    let (client_id, _) = issued_token(&s, "Api").await;
    issued_token(&s, "Other").await;
    let b = admin_signed_in(&s, "ada").await;
    let list = format!("/console/tokens?client_id={client_id}&kind=access&status=active");
    let page = b.get(&list).await.text().await.unwrap();
    let back = hidden_input(&page, "back", &list);
    assert_eq!(back, list, "the form carries its list's address");
    let csrf = hidden_input(&page, "csrf", &list);
    let tid = token_id(&s, &client_id).await;

    let res = submit(
        &b,
        &format!("/console/tokens/{tid}/revoke"),
        &[("csrf", &csrf), ("back", &back)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(
        to.starts_with(&format!("{list}&notice=")),
        "back to the filtered list, with the notice: {to}"
    );
    let shown = b.get(&to).await.text().await.unwrap();
    assert!(shown.contains(&format!("Token {tid} revoked.")), "{shown}");

    // Revoke all of the client's tokens from the same list: back to it too.
    let res = submit(
        &b,
        &format!("/console/clients/{client_id}/tokens/revoke"),
        &[("csrf", &csrf), ("back", &back)],
    )
    .await;
    assert!(
        location(&res).starts_with(&format!("{list}&notice=")),
        "{}",
        location(&res)
    );

    // Elsewhere is not a list of this section: the action goes to its usual place.
    for evil in [
        "https://evil.example/console/tokens",
        "//evil.example/console/tokens",
        "/console/tokensX",
        "/console/clients",
        "/console/tokens\r\nSet-Cookie: x=1",
        "/console/tokens?q=\u{7f}\t",
    ] {
        let res = submit(
            &b,
            &format!("/console/clients/{client_id}/tokens/revoke"),
            &[("csrf", &csrf), ("back", evil)],
        )
        .await;
        let to = location(&res);
        assert!(
            to.starts_with(&format!("/console/clients/{client_id}?notice=")),
            "back={evil:?} went to {to}"
        );
    }
}

/// Issue 15 point 9: the audit log names each target beside its id (deleted ones by the
/// name their entry recorded) and reads its details as lines, a change as "old → new",
/// with "never" and "unlimited" as they are.
#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_names_targets_and_reads_changes_as_old_to_new(s: TestServer) {
    let mut body = confidential("Billing");
    body["access_token_lifetime"] = serde_json::json!("never");
    let c = s.create_client(&body).await;
    let id = c["client_id"].as_str().unwrap().to_owned();
    let res = s
        .patch(
            &format!("/clients/{id}"),
            &serde_json::json!({"access_token_lifetime": 60}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let gone = s.create_client(&confidential("Gone")).await;
    let gone_id = gone["client_id"].as_str().unwrap().to_owned();
    assert_eq!(s.delete(&format!("/clients/{gone_id}")).await.status(), 204);

    let b = admin_signed_in(&s, "ada").await;
    let page = b.get("/console/audit").await.text().await.unwrap();
    for shown in [
        format!("<strong>Billing 1.0</strong><br><small>client <code class=\"id\">{id}</code>"),
        format!("<strong>Gone 1.0</strong><br><small>client <code class=\"id\">{gone_id}</code>"),
        "<li>Expiration interval: never → 60</li>".to_owned(),
        "<li>Expiration interval: never</li>".to_owned(),
        "<li>Refresh count: 0</li>".to_owned(),
    ] {
        assert!(
            page.contains(&shown),
            "the audit page lacks {shown:?}: {page}"
        );
    }
    assert!(!page.contains("{&quot;"), "no raw JSON: {page}");
}

/// Issue 15 point 4 on the user form: each error in the form's words beside its own field
/// (the display name had no place to show one), with what was typed kept.
#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_form_errors_are_in_the_forms_words_beside_their_fields(s: TestServer) {
    let b = admin_signed_in(&s, "ada").await;
    let csrf = csrf_of(&b, "/console/users").await;
    let long = "x".repeat(300);
    let res = submit(
        &b,
        "/console/users",
        &[
            ("csrf", &csrf),
            ("username", "kim"),
            ("display_name", &long),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("no {needle}: {page}"))
    };
    let display = at("id=\"display_name-error\"");
    assert!(at("id=\"new-display\"") < display && display < at("id=\"new-password\""));
    assert!(page.contains("Display name must be at most"), "{page}");
    assert!(page.contains("Password must be 8 to"), "{page}");
    assert!(!page.contains("display_name must"), "API words on the page");
    assert!(page.contains("value=\"kim\""), "the username is kept");
}
