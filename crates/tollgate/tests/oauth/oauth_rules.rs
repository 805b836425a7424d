//! The token rules (SPEC §1, §2) and the introspection and revocation endpoints (RFC 7662,
//! RFC 7009) over HTTP: lifetimes kept by stored tokens, who may introspect and revoke
//! what, revoke-all, and the janitor's purge. Which token is active, what a revocation
//! takes with it and which refresh is refused are core's (`introspect_revoke.rs`,
//! `refresh.rs`, `token_endpoint.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::browser::{Browser, Outcome};
use crate::common::oauth::{cc_token, code_flow, refresh, tok, ALICE, REDIRECT};
use crate::common::TestServer;
use chrono::Duration;
use serde_json::{json, Value};
use tollgate_core::store::TokenFilter;
use tollgate_test_macros::backends;

async fn client(s: &TestServer, body: Value) -> (String, String) {
    let c = s.create_client(&body).await;
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A confidential client with client credentials and the code grant.
fn both_grants(name: &str, lifetime: Value, refresh_count: Value) -> Value {
    json!({
        "name": name, "version": "1", "type": "confidential",
        "grant_types": ["authorization_code", "client_credentials"],
        "redirect_uris": [REDIRECT], "scopes": ["read", "write"],
        "access_token_lifetime": lifetime, "refresh_count": refresh_count,
    })
}

/// A confidential client-credentials client with the given lifetime.
fn cc_client(name: &str, lifetime: Value) -> Value {
    json!({
        "name": name, "version": "1", "type": "confidential",
        "grant_types": ["client_credentials"], "scopes": ["api:read"],
        "access_token_lifetime": lifetime,
    })
}

async fn revoke(s: &TestServer, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> u16 {
    s.oauth_post("/oauth2/revoke", basic, form)
        .await
        .status()
        .as_u16()
}

/// Every stored token of a client, whatever its status.
async fn stored_tokens(s: &TestServer, client_id: &str) -> usize {
    s.state
        .services
        .tokens
        .list(
            &TokenFilter {
                client_id: Some(tollgate_core::ClientId::new(client_id.to_owned())),
                ..Default::default()
            },
            None,
            Some(500),
        )
        .await
        .unwrap()
        .items
        .len()
}

/// RFC 7662 §2.2 / SPEC §2: an inactive token is this and nothing else.
fn inactive() -> Value {
    json!({"active": false})
}

// ---------------------------------------------------------------------------------------
// Lifetimes
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_access_token_lifetime_applies_only_to_tokens_issued_afterwards(db: TestDb) {
    let (s, clock) = common::manual_clock_server(db).await;
    let (id, secret) = client(&s, cc_client("Changing", json!(3600))).await;
    let old = cc_token(&s, &id, &secret).await;
    let old_at = tok(&old, "access_token");
    let old_intro = s.introspect(&old_at).await;

    let res = s
        .patch(
            &format!("/clients/{id}"),
            &json!({"access_token_lifetime": 60}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let new = cc_token(&s, &id, &secret).await;
    assert_eq!(new["expires_in"], 60, "{new}");
    let new_at = tok(&new, "access_token");
    let new_intro = s.introspect(&new_at).await;
    assert_eq!(
        new_intro["exp"].as_i64().unwrap() - new_intro["iat"].as_i64().unwrap(),
        60,
        "{new_intro}"
    );
    let intro = s.introspect(&old_at).await;
    assert_eq!(
        intro["exp"], old_intro["exp"],
        "the old token keeps its exp"
    );
    assert_eq!(
        intro["exp"].as_i64().unwrap() - intro["iat"].as_i64().unwrap(),
        3600,
        "{intro}"
    );

    clock.advance(Duration::seconds(61));
    assert_eq!(s.introspect(&new_at).await, inactive(), "new: 60 s");
    assert_eq!(
        s.introspect(&old_at).await["active"],
        true,
        "old token still within its 3600 s"
    );

    // To "never": the old token still expires when it was going to.
    let res = s
        .patch(
            &format!("/clients/{id}"),
            &json!({"access_token_lifetime": "never"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let forever = cc_token(&s, &id, &secret).await;
    assert!(forever.get("expires_in").is_none(), "{forever}");
    let intro = s.introspect(&tok(&forever, "access_token")).await;
    assert!(
        intro.get("exp").is_none(),
        "never-expiring: no exp in {intro}"
    );
    assert!(intro["iat"].is_i64(), "iat is still there: {intro}");
    assert_eq!(
        s.introspect(&old_at).await["exp"],
        old_intro["exp"],
        "old exp unchanged"
    );
    clock.advance(Duration::seconds(3600));
    assert_eq!(
        s.introspect(&old_at).await,
        inactive(),
        "the old token expires on its original schedule"
    );
    assert_eq!(
        s.introspect(&tok(&forever, "access_token")).await["active"],
        true
    );
}

// ---------------------------------------------------------------------------------------
// Introspection (RFC 7662)
// ---------------------------------------------------------------------------------------

async fn introspect_as(
    s: &TestServer,
    basic: Option<(&str, &str)>,
    bearer: Option<&str>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = s.http.post(s.url("/oauth2/introspect")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let res = req.send().await.unwrap();
    let st = res.status().as_u16();
    (st, res.json().await.unwrap())
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_requires_an_active_confidential_client_or_an_admin_key(s: TestServer) {
    let (id, secret) = client(&s, cc_client("Resource server", json!(3600))).await;
    let (public_id, _) = client(&s, common::public("Public app")).await;
    let (gone_id, gone_secret) = client(&s, cc_client("Deactivated", json!(3600))).await;
    let at = tok(&cc_token(&s, &id, &secret).await, "access_token");
    let res = s
        .patch(&format!("/clients/{gone_id}"), &json!({"active": false}))
        .await;
    assert_eq!(res.status(), 200);

    let refused: Vec<(&str, (u16, Value))> = vec![
        (
            "no credentials",
            introspect_as(&s, None, None, &[("token", &at)]).await,
        ),
        (
            "a public client",
            introspect_as(&s, None, None, &[("token", &at), ("client_id", &public_id)]).await,
        ),
        (
            "a wrong admin key",
            introspect_as(
                &s,
                None,
                Some("tg_this-is-not-an-admin-key-at-all-0000000000"),
                &[("token", &at)],
            )
            .await,
        ),
        (
            "a wrong client secret",
            introspect_as(&s, Some((&id, "wrong-secret")), None, &[("token", &at)]).await,
        ),
        (
            "a deactivated confidential client",
            introspect_as(&s, Some((&gone_id, &gone_secret)), None, &[("token", &at)]).await,
        ),
    ];
    for (what, (st, v)) in refused {
        assert_eq!(st, 401, "{what}: {v}");
        assert_eq!(v["error"], "invalid_client", "{what}: {v}");
        assert!(v.get("active").is_none(), "{what}: {v}");
    }

    let (st, v) = introspect_as(&s, Some((&id, &secret)), None, &[("token", &at)]).await;
    assert_eq!(st, 200, "Basic: {v}");
    assert_eq!(v["active"], true, "Basic: {v}");
    let (st, v) = introspect_as(
        &s,
        None,
        None,
        &[
            ("token", &at),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(st, 200, "client_secret_post: {v}");
    assert_eq!(v["active"], true, "client_secret_post: {v}");
    let (st, v) = introspect_as(&s, None, Some(&s.key), &[("token", &at)]).await;
    assert_eq!(st, 200, "admin key: {v}");
    assert_eq!(v["active"], true);
    for field in [
        "scope",
        "client_id",
        "token_type",
        "iat",
        "exp",
        "sub",
        "iss",
    ] {
        assert!(v.get(field).is_some(), "{field} missing in {v}");
    }
}

// ---------------------------------------------------------------------------------------
// Revocation (RFC 7009)
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_an_unknown_token_answers_200(s: TestServer) {
    let (id, secret) = client(&s, cc_client("Revoker", json!(3600))).await;
    for hint in [None, Some("access_token"), Some("refresh_token")] {
        let mut form = vec![("token", "never-issued-token-value-000000000000000000")];
        if let Some(h) = hint {
            form.push(("token_type_hint", h));
        }
        assert_eq!(
            revoke(&s, Some((&id, &secret)), &form).await,
            200,
            "hint {hint:?}"
        );
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cannot_revoke_another_clients_token(s: TestServer) {
    let (a, a_secret) = client(&s, cc_client("Owner", json!(3600))).await;
    let (b, b_secret) = client(&s, cc_client("Intruder", json!(3600))).await;
    let (public_id, _) = client(&s, common::public("Public intruder")).await;
    let at = tok(&cc_token(&s, &a, &a_secret).await, "access_token");

    assert_eq!(
        revoke(&s, Some((&b, &b_secret)), &[("token", &at)]).await,
        200,
        "RFC 7009 §2.2: 200 anyway"
    );
    assert_eq!(
        s.introspect(&at).await["active"],
        true,
        "another confidential client revoked the token"
    );
    assert_eq!(
        revoke(&s, None, &[("token", &at), ("client_id", &public_id)]).await,
        200
    );
    assert_eq!(
        s.introspect(&at).await["active"],
        true,
        "a public client revoked another client's token"
    );
    // The owner can.
    assert_eq!(
        revoke(&s, Some((&a, &a_secret)), &[("token", &at)]).await,
        200
    );
    assert_eq!(s.introspect(&at).await, inactive());
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_requires_client_authentication(s: TestServer) {
    let (id, secret) = client(&s, cc_client("Owner", json!(3600))).await;
    let at = tok(&cc_token(&s, &id, &secret).await, "access_token");
    let cases: Vec<(&str, reqwest::Response)> = vec![
        (
            "no client authentication",
            s.oauth_post("/oauth2/revoke", None, &[("token", &at)])
                .await,
        ),
        (
            "a wrong secret",
            s.oauth_post("/oauth2/revoke", Some((&id, "wrong")), &[("token", &at)])
                .await,
        ),
        (
            "a confidential client without its secret",
            s.oauth_post(
                "/oauth2/revoke",
                None,
                &[("token", &at), ("client_id", &id)],
            )
            .await,
        ),
    ];
    for (what, res) in cases {
        let st = res.status().as_u16();
        let v: Value = res.json().await.unwrap();
        assert_eq!(st, 401, "{what}: {v}");
        assert_eq!(v["error"], "invalid_client", "{what}: {v}");
    }
    assert_eq!(
        s.introspect(&at).await["active"],
        true,
        "unauthenticated revocations change nothing"
    );
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_write_a_token_revoke_audit_entry_without_the_token_value(s: TestServer) {
    s.create_user(ALICE.0, ALICE.1).await;
    let (id, secret) = client(&s, both_grants("Audited", json!(3600), json!(2))).await;
    let at = tok(&cc_token(&s, &id, &secret).await, "access_token");
    let browser = Browser::new(&s.base);
    let t = code_flow(&s, &browser, &id, &secret, None).await;
    let rt = tok(&t, "refresh_token");
    let family_at = tok(&t, "access_token");

    let res = s.get("/audit?action=token.revoke").await;
    assert_eq!(res.status(), 200);
    let before: Value = res.json().await.unwrap();
    assert_eq!(before["items"].as_array().unwrap().len(), 0, "{before}");

    for t in [&at, &rt] {
        assert_eq!(revoke(&s, Some((&id, &secret)), &[("token", t)]).await, 200);
    }
    let res = s.get("/audit?action=token.revoke").await;
    assert_eq!(res.status(), 200);
    let raw = res.text().await.unwrap();
    let v: Value = serde_json::from_str(&raw).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "one entry per revocation: {v}");
    for e in items {
        assert_eq!(e["action"], "token.revoke", "{e}");
        assert_eq!(e["target_type"], "token", "{e}");
        assert!(
            e["target_id"].as_str().is_some_and(|t| !t.is_empty()),
            "{e}"
        );
        assert!(
            e["actor"].as_str().unwrap().contains(&id),
            "the revoking client is the actor: {e}"
        );
    }
    for (what, secret_value) in [
        ("access token", &at),
        ("refresh token", &rt),
        ("family access token", &family_at),
        ("client secret", &secret),
    ] {
        assert!(
            !raw.contains(secret_value.as_str()),
            "the audit log contains the {what}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Revoke all of a client's tokens
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_all_makes_every_token_of_the_client_inactive_and_the_client_stays_usable(
    s: TestServer,
) {
    s.create_user(ALICE.0, ALICE.1).await;
    let (id, secret) = client(&s, both_grants("Target", json!("never"), json!(3))).await;
    let (other, other_secret) = client(&s, cc_client("Bystander", json!(3600))).await;
    let browser = Browser::new(&s.base);
    let t = code_flow(&s, &browser, &id, &secret, None).await;
    let (at, rt) = (tok(&t, "access_token"), tok(&t, "refresh_token"));
    let cc1 = tok(&cc_token(&s, &id, &secret).await, "access_token");
    let cc2 = tok(&cc_token(&s, &id, &secret).await, "access_token");
    let bystander = tok(&cc_token(&s, &other, &other_secret).await, "access_token");

    let res = s.delete(&format!("/clients/{id}/tokens")).await;
    assert!(res.status().is_success(), "{}", res.status());

    for (what, t) in [
        ("code grant access token", &at),
        ("refresh token", &rt),
        ("client credentials token", &cc1),
        ("another client credentials token", &cc2),
    ] {
        assert_eq!(s.introspect(t).await, inactive(), "{what}");
    }
    assert_eq!(
        s.introspect(&bystander).await["active"],
        true,
        "other clients' tokens are untouched"
    );
    let (st, v) = refresh(&s, &id, &secret, &rt, None).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );

    let c: Value = s.get(&format!("/clients/{id}")).await.json().await.unwrap();
    assert_eq!(c["active"], true, "the client stays active: {c}");
    let fresh = tok(&cc_token(&s, &id, &secret).await, "access_token");
    assert_eq!(s.introspect(&fresh).await["active"], true);
    let t = code_flow(&s, &browser, &id, &secret, None).await;
    assert_eq!(
        s.introspect(&tok(&t, "access_token")).await["active"],
        true,
        "the code grant works again"
    );
    let (st, v) = refresh(&s, &id, &secret, &tok(&t, "refresh_token"), None).await;
    assert_eq!(st, 200, "{v}");
    // The revoked ones stay revoked.
    assert_eq!(s.introspect(&cc1).await, inactive());
}

// ---------------------------------------------------------------------------------------
// The janitor
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn janitor_purges_expired_and_revoked_tokens_codes_and_sessions_after_the_retention_period(
    db: TestDb,
) {
    let (s, clock) = common::manual_clock_server(db).await;
    s.create_user(ALICE.0, ALICE.1).await;
    let (a, a_secret) = client(&s, both_grants("Minute", json!(60), json!(0))).await;
    let (f, f_secret) = client(&s, cc_client("Forever", json!("never"))).await;

    // Client A: three 60-second tokens (one revoked) and a code-grant token; one code
    // left unredeemed. Client F: three never-expiring tokens, one revoked.
    let a1 = tok(&cc_token(&s, &a, &a_secret).await, "access_token");
    let a2 = tok(&cc_token(&s, &a, &a_secret).await, "access_token");
    let _a3 = tok(&cc_token(&s, &a, &a_secret).await, "access_token");
    let browser = Browser::new(&s.base);
    let a4 = tok(
        &code_flow(&s, &browser, &a, &a_secret, None).await,
        "access_token",
    );
    let url = format!(
        "/oauth2/authorize?response_type=code&client_id={a}&redirect_uri={}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    assert!(
        matches!(
            browser.authorize(&url, None, true).await,
            Outcome::Redirect(_)
        ),
        "an unredeemed code"
    );
    let f1 = tok(&cc_token(&s, &f, &f_secret).await, "access_token");
    let f2 = tok(&cc_token(&s, &f, &f_secret).await, "access_token");
    let f3 = tok(&cc_token(&s, &f, &f_secret).await, "access_token");
    assert_eq!(
        revoke(&s, Some((&a, &a_secret)), &[("token", &a1)]).await,
        200
    );
    assert_eq!(
        revoke(&s, Some((&f, &f_secret)), &[("token", &f1)]).await,
        200
    );
    assert_eq!(stored_tokens(&s, &a).await, 4);
    assert_eq!(stored_tokens(&s, &f).await, 3);

    // Expired, but the retention period has not passed: nothing goes.
    clock.advance(Duration::seconds(61));
    assert_eq!(s.introspect(&a2).await, inactive(), "expired");
    let p = s.state.services.janitor.run_once().await.unwrap();
    assert_eq!(
        (p.tokens, p.codes, p.sessions),
        (0, 0, 0),
        "within retention: {p:?}"
    );
    assert_eq!(stored_tokens(&s, &a).await, 4);

    // Past expiry + 7 days (+ 1 s): the expired and revoked tokens and the codes go.
    clock.advance(Duration::days(7) + Duration::seconds(1));
    let p = s.state.services.janitor.run_once().await.unwrap();
    assert_eq!(
        p.tokens, 5,
        "a1..a4 (expired, one also revoked) and f1 (revoked): {p:?}"
    );
    assert_eq!(p.codes, 2, "the redeemed and the unredeemed code: {p:?}");
    assert_eq!(p.sessions, 0, "the session expires after 12 h: {p:?}");
    assert_eq!(stored_tokens(&s, &a).await, 0, "client A's tokens are gone");
    assert_eq!(stored_tokens(&s, &f).await, 2, "f2 and f3 are kept");
    for t in [&f2, &f3] {
        assert_eq!(
            s.introspect(t).await["active"],
            true,
            "an active never-expiring token is kept"
        );
    }
    for t in [&a1, &a2, &a4, &f1] {
        assert_eq!(s.introspect(t).await, inactive());
    }
    // A second pass finds nothing more.
    let p = s.state.services.janitor.run_once().await.unwrap();
    assert_eq!((p.tokens, p.codes, p.sessions), (0, 0, 0), "{p:?}");

    // The session (12 h) goes once it is 7 days past its expiry.
    clock.advance(Duration::hours(12));
    let p = s.state.services.janitor.run_once().await.unwrap();
    assert_eq!(p.sessions, 1, "{p:?}");
    assert_eq!(p.tokens, 0, "{p:?}");
    assert_eq!(stored_tokens(&s, &f).await, 2);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn janitor_purges_never_expiring_tokens_revoked_by_revoke_all_after_the_retention_period(
    db: TestDb,
) {
    let (s, clock) = common::manual_clock_server(db).await;
    let (id, secret) = client(&s, cc_client("Revoked wholesale", json!("never"))).await;
    let t1 = tok(&cc_token(&s, &id, &secret).await, "access_token");
    let _t2 = tok(&cc_token(&s, &id, &secret).await, "access_token");
    let res = s.delete(&format!("/clients/{id}/tokens")).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(s.introspect(&t1).await, inactive());
    let kept = tok(&cc_token(&s, &id, &secret).await, "access_token");
    // The periodic pass (every minute in `serve`) notices the revocation and records
    // its time; nothing is deleted yet.
    let p = s.state.services.janitor.run_once().await.unwrap();
    assert_eq!(p.tokens, 0, "nothing purged within retention: {p:?}");

    clock.advance(Duration::days(7) + Duration::seconds(1));
    let p = s.state.services.janitor.run_once().await.unwrap();
    assert_eq!(
        p.tokens, 2,
        "SPEC §2: revoked tokens are purged after the retention period, also when \
         they were revoked all at once: {p:?}"
    );
    assert_eq!(stored_tokens(&s, &id).await, 1);
    assert_eq!(s.introspect(&kept).await["active"], true);
}
