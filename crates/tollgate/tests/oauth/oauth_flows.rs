//! The OAuth grants end to end over HTTP (SPEC §2, §3), with the `oauth2` crate as an
//! independent client library where it fits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::browser::{params_of, Browser, Outcome};
use crate::common::oauth::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IntrospectionUrl,
    PkceCodeChallenge, RedirectUrl, ResourceOwnerPassword, ResourceOwnerUsername, Scope,
    TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use serde_json::{json, Value};
use std::collections::HashSet;
use tollgate_test_macros::backends;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A confidential client with the authorization code grant, its given refresh count.
fn code_client(name: &str, refresh_count: Value) -> Value {
    json!({
        "name": name, "version": "1", "type": "confidential",
        "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
        "scopes": ["read", "write"], "refresh_count": refresh_count,
    })
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_follows_rfc8414(s: TestServer) {
    let m: Value =
        common::send_json(s.http.get(s.url("/.well-known/oauth-authorization-server"))).await;
    assert_eq!(m["issuer"], s.base);
    assert_eq!(m["token_endpoint"], s.url("/oauth2/token"));
    assert_eq!(m["authorization_endpoint"], s.url("/oauth2/authorize"));
    assert_eq!(m["introspection_endpoint"], s.url("/oauth2/introspect"));
    assert_eq!(m["revocation_endpoint"], s.url("/oauth2/revoke"));
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    let methods = m["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    for x in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(methods.contains(&json!(x)));
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_the_oauth2_crate_basic_and_post(s: TestServer) {
    let (id, secret) = client(&s, common::confidential("CC")).await;
    let secret = secret.unwrap();
    let oc = BasicClient::new(ClientId::new(id.clone()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_token_uri(TokenUrl::new(s.url("/oauth2/token")).unwrap());
    let tok = oc
        .exchange_client_credentials()
        .add_scope(Scope::new("api:read".into()))
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(tok.expires_in().unwrap().as_secs(), 3600);
    assert!(
        tok.refresh_token().is_none(),
        "no refresh token for client credentials"
    );
    assert!(tok.access_token().secret().len() >= 43, "256-bit token");
    let intro = s.introspect(tok.access_token().secret()).await;
    assert_eq!(intro["active"], true, "{intro}");
    assert_eq!(intro["client_id"], id.as_str());
    assert_eq!(intro["scope"], "api:read");
    assert_eq!(intro["token_type"], "Bearer");
    assert_eq!(intro["iss"], s.base.as_str());
    assert!(intro["exp"].as_i64().unwrap() - intro["iat"].as_i64().unwrap() == 3600);

    // RFC 7662 through the oauth2 crate (as this confidential client).
    let intro = oc
        .clone()
        .set_introspection_url(IntrospectionUrl::new(s.url("/oauth2/introspect")).unwrap())
        .introspect(tok.access_token())
        .request_async(&http())
        .await
        .unwrap();
    assert!(intro.active());
    assert_eq!(intro.client_id().unwrap().as_str(), id);
    assert_eq!(intro.scopes().unwrap()[0].as_str(), "api:read");
    assert_eq!(intro.iss().unwrap(), s.base);

    // client_secret_post, with the oauth2 crate's RequestBody auth type.
    let post = oc.clone().set_auth_type(oauth2::AuthType::RequestBody);
    let tok2 = post
        .exchange_client_credentials()
        .request_async(&http())
        .await
        .unwrap();
    assert_ne!(tok2.access_token().secret(), tok.access_token().secret());

    // The raw response: headers and no refresh token.
    let res = s
        .oauth_post(
            "/oauth2/token",
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let v = token_json(res, 200).await;
    assert_eq!(v["token_type"], "Bearer");
    assert!(v.get("refresh_token").is_none());
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_errors_follow_rfc6749_section_5_2(s: TestServer) {
    let (id, secret) = client(&s, common::confidential("Errors")).await;
    let secret = secret.unwrap();
    let cc = [("grant_type", "client_credentials")];

    // Wrong secret with Basic: 401 + WWW-Authenticate.
    let res = s
        .oauth_post("/oauth2/token", Some((&id, "wrong")), &cc)
        .await;
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let v = token_json(res, 401).await;
    assert_eq!(v["error"], "invalid_client");
    // Wrong secret in the body; both methods at once; an unknown grant; a missing
    // grant_type. (Which request gets which code is core's
    // `token_endpoint::token_requests_are_refused_with_the_rfc_6749_code`.)
    // (Basic credentials, form, status, error)
    type Case<'a> = (
        Option<(&'a str, &'a str)>,
        &'a [(&'a str, &'a str)],
        u16,
        &'a str,
    );
    let cases: [Case; 4] = [
        (
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", "bad"),
            ],
            401,
            "invalid_client",
        ),
        (
            Some((&id, &secret)),
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", &secret),
            ],
            400,
            "invalid_request",
        ),
        (
            Some((&id, &secret)),
            &[("grant_type", "magic")],
            400,
            "unsupported_grant_type",
        ),
        (
            Some((&id, &secret)),
            &[("scope", "x")],
            400,
            "invalid_request",
        ),
    ];
    for (basic, form, status, error) in cases {
        let v = token_json(token_response(&s, basic, form).await, status).await;
        assert_eq!(v["error"], error, "{form:?}");
    }
    // Repeated parameter (RFC 6749 §3.1) and a JSON body.
    let res = s
        .http
        .post(s.url("/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(token_json(res, 400).await["error"], "invalid_request");
    let res = s
        .http
        .post(s.url("/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(token_json(res, 400).await["error"], "invalid_request");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_with_the_oauth2_crate_returns_no_refresh_token(s: TestServer) {
    s.create_user("bob", "bob-password").await;
    let (id, secret) = client(
        &s,
        json!({"name": "Pw", "version": "1", "type": "confidential", "grant_types": ["password"], "scopes": ["profile"], "refresh_count": 3}),
    )
    .await;
    let oc = BasicClient::new(ClientId::new(id.clone()))
        .set_client_secret(ClientSecret::new(secret.unwrap()))
        .set_token_uri(TokenUrl::new(s.url("/oauth2/token")).unwrap());
    let tok = oc
        .exchange_password(
            &ResourceOwnerUsername::new("BOB".into()),
            &ResourceOwnerPassword::new("bob-password".into()),
        )
        .request_async(&http())
        .await
        .unwrap();
    assert!(
        tok.refresh_token().is_none(),
        "password grant issues no refresh token"
    );
    let intro = s.introspect(tok.access_token().secret()).await;
    assert_eq!(intro["username"], "bob", "{intro}");
    assert_eq!(intro["scope"], "profile");
    let err = oc
        .exchange_password(
            &ResourceOwnerUsername::new("bob".into()),
            &ResourceOwnerPassword::new("wrong".into()),
        )
        .request_async(&http())
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("invalid_grant"), "{err:?}");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_with_pkce_refresh_introspection_and_revocation_via_the_oauth2_crate(
    s: TestServer,
) {
    s.create_user("alice", "alice-password").await;
    let (id, _) = client(
        &s,
        json!({"name": "SPA", "version": "1", "type": "public", "grant_types": ["authorization_code"],
               "redirect_uris": [REDIRECT], "scopes": ["read", "write"], "refresh_count": "unlimited"}),
    )
    .await;
    let oc = BasicClient::new(ClientId::new(id.clone()))
        .set_auth_uri(AuthUrl::new(s.url("/oauth2/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(s.url("/oauth2/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf) = oc
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = Browser::new(&s.base);
    let Outcome::Redirect(loc) = browser
        .authorize(auth_url.as_str(), Some(("alice", "alice-password")), true)
        .await
    else {
        panic!("no redirect");
    };
    let p = params_of(&loc, false);
    assert_eq!(&p["state"], csrf.secret());
    let tok = oc
        .exchange_code(AuthorizationCode::new(p["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(tok.scopes().unwrap()[0].as_str(), "read");
    let rt = tok.refresh_token().expect("refresh token").clone();
    let intro = s.introspect(tok.access_token().secret()).await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["username"], "alice");

    let refreshed = oc
        .exchange_refresh_token(&rt)
        .request_async(&http())
        .await
        .unwrap();
    assert!(
        refreshed.refresh_token().is_some(),
        "unlimited keeps returning one"
    );
    // The first refresh token is consumed.
    let again = oc.exchange_refresh_token(&rt).request_async(&http()).await;
    assert!(again.is_err(), "a consumed refresh token must fail");

    // RFC 7009 revocation (the oauth2 crate insists on https for it, so plain HTTP here).
    let at = refreshed.access_token().secret().clone();
    let _ = s.introspect(&at).await;
    let res = s
        .oauth_post(
            "/oauth2/revoke",
            None,
            &[("client_id", &id), ("token", &at)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(s.introspect(&at).await, json!({"active": false}));
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_redemptions_of_one_code_give_exactly_one_200(s: TestServer) {
    s.create_user("alice", "alice-password").await;
    let (id, secret) = client(&s, code_client("Race", json!(1))).await;
    let secret = secret.unwrap();
    let browser = Browser::new(&s.base);
    let code = code_of(&browser, &id).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (http, url, id, secret, code, b) = (
            s.http.clone(),
            s.url("/oauth2/token"),
            id.clone(),
            secret.clone(),
            code.clone(),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            http.post(url)
                .basic_auth(id, Some(secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        19,
        "{statuses:?}"
    );
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_of_one_token_have_exactly_one_winner(s: TestServer) {
    s.create_user("alice", "alice-password").await;
    let (id, secret) = client(&s, code_client("RaceR", json!("unlimited"))).await;
    let secret = secret.unwrap();
    let rt = code_flow(&s, &Browser::new(&s.base), &id, &secret, None).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (http, url, id, secret, rt) = (
            s.http.clone(),
            s.url("/oauth2/token"),
            id.clone(),
            secret.clone(),
            rt.clone(),
        );
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_a_client_with_1000_tokens_invalidates_all_and_reactivation_does_not_revive_them(
    s: TestServer,
) {
    let (id, secret) = client(&s, common::confidential("Thousand")).await;
    let secret = secret.unwrap();
    let creds = tollgate_core::oauth::ClientCredentials {
        client_id: tollgate_core::ClientId::new(id.clone()),
        secret: Some(tollgate_core::secret::Secret::new(secret.clone())),
        method: tollgate_core::oauth::AuthMethod::Basic,
    };
    let mut tokens = Vec::new();
    for _ in 0..1000 {
        let r = s
            .state
            .services
            .oauth
            .token(
                &creds,
                Ok(tollgate_core::oauth::TokenRequest::ClientCredentials { scope: None }),
                None,
            )
            .await
            .unwrap();
        tokens.push(r.access_token.expose().to_owned());
    }
    assert_eq!(s.introspect(&tokens[0]).await["active"], true);
    let res = s
        .patch(&format!("/clients/{id}"), &json!({"active": false}))
        .await;
    assert_eq!(res.status(), 200);
    let mut seen = HashSet::new();
    for t in &tokens {
        assert_eq!(s.introspect(t).await, json!({"active": false}));
        seen.insert(t.clone());
    }
    assert_eq!(seen.len(), 1000);
    s.patch(&format!("/clients/{id}"), &json!({"active": true}))
        .await;
    for t in tokens.iter().step_by(7) {
        assert_eq!(
            s.introspect(t).await,
            json!({"active": false}),
            "stays inactive"
        );
    }
    // New tokens work again after reactivation.
    let v = token_json(
        s.oauth_post(
            "/oauth2/token",
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        s.introspect(v["access_token"].as_str().unwrap()).await["active"],
        true
    );
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_client_or_user_removes_their_tokens(s: TestServer) {
    let user = s.create_user("carol", "carol-password").await;
    let (id, secret) = client(
        &s,
        json!({"name": "Del", "version": "1", "type": "confidential", "grant_types": ["client_credentials", "password"]}),
    )
    .await;
    let secret = secret.unwrap();
    let cc = token_json(
        s.oauth_post(
            "/oauth2/token",
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
        200,
    )
    .await;
    let pw = token_json(
        s.oauth_post(
            "/oauth2/token",
            Some((&id, &secret)),
            &[
                ("grant_type", "password"),
                ("username", "carol"),
                ("password", "carol-password"),
            ],
        )
        .await,
        200,
    )
    .await;
    let store = &s.state.services.store;
    let hash_of = |t: &Value| t["access_token"].as_str().unwrap().to_owned();
    let (cc_t, pw_t) = (hash_of(&cc), hash_of(&pw));
    assert_eq!(s.introspect(&pw_t).await["active"], true);
    s.state
        .services
        .users
        .delete(&tollgate_core::audit::Actor::new("test", None), &user.id)
        .await
        .unwrap();
    assert_eq!(s.introspect(&pw_t).await, json!({"active": false}));
    assert_eq!(
        s.introspect(&cc_t).await["active"],
        true,
        "other tokens untouched"
    );
    let before = store
        .list_tokens(&Default::default(), chrono::Utc::now(), None, 100)
        .await
        .unwrap()
        .len();
    assert_eq!(before, 1, "the user's token row is gone");
    assert_eq!(s.delete(&format!("/clients/{id}")).await.status(), 204);
    let after = store
        .list_tokens(&Default::default(), chrono::Utc::now(), None, 100)
        .await
        .unwrap()
        .len();
    assert_eq!(after, 0, "the client's tokens are gone");
    assert_eq!(s.introspect(&cc_t).await, json!({"active": false}));
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_revoking_a_consumed_refresh_token_leaves_its_successor_alive(s: TestServer) {
    s.create_user("alice", "alice-password").await;
    let (id, secret) = client(&s, code_client("Succ", json!(5))).await;
    let secret = secret.unwrap();
    let rt1 = code_flow(&s, &Browser::new(&s.base), &id, &secret, None).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = token_json(refresh_response(&s, &id, &secret, &rt1, None).await, 200).await;
    let rt2 = r["refresh_token"].as_str().unwrap().to_owned();
    let consumed: Value = s
        .get("/tokens?kind=refresh&status=revoked")
        .await
        .json()
        .await
        .unwrap();
    let items = consumed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{consumed}");
    let consumed_id = items[0]["id"].as_str().unwrap();
    assert_eq!(
        s.delete(&format!("/tokens/{consumed_id}")).await.status(),
        204
    );
    assert_eq!(
        s.introspect(&rt2).await["active"],
        true,
        "successor still alive"
    );
    assert_eq!(
        s.introspect(r["access_token"].as_str().unwrap()).await["active"],
        true
    );
}
