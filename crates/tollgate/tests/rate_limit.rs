//! Brute-force defence (RFC 6749 §2.3.1, §4.3.2; SPEC §9): failed client authentications
//! and failed sign-ins are limited per (client or user, source address), per source address,
//! and per user for browsers without that user's device cookie, with 429 and `Retry-After`;
//! successful requests spend no budget, concurrency cannot exceed a budget, and someone who
//! does not know a credential cannot lock its owner out. Budgets are made small per test so
//! that nothing has to wait.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Utc;
use common::browser::{hidden_inputs, params_of, Browser, Outcome};
use common::{start_with, Options, TestDb, TestServer};
use serde_json::{json, Value};
use std::net::IpAddr;
use std::sync::Arc;
use tollgate_core::service::throttle::Budget;
use tollgate_core::service::ThrottleSettings;
use tollgate_core::user::PasswordHashingSettings;
use tollgate_core::ManualClock;
use tollgate_test_macros::backends;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn budget(per_minute: u32, burst: u32) -> Budget {
    Budget { per_minute, burst }
}

/// Generous for everything but what a test sets.
fn generous() -> ThrottleSettings {
    ThrottleSettings {
        client: budget(60, 1000),
        user: budget(60, 1000),
        user_untrusted: budget(60, 1000),
        address: budget(60, 1000),
    }
}

/// `generous()` but for what `set` changes.
fn generous_but(set: impl FnOnce(&mut ThrottleSettings)) -> ThrottleSettings {
    let mut limits = generous();
    set(&mut limits);
    limits
}

/// `generous()` but for `limit` per client and per address.
fn client_and_address(limit: Budget) -> ThrottleSettings {
    generous_but(|t| {
        t.client = limit;
        t.address = limit;
    })
}

async fn server(db: TestDb, rate_limit: ThrottleSettings) -> TestServer {
    server_with(db, rate_limit, Default::default()).await
}

/// A server with `rate_limit` and its client credentials client "A": (server, id, secret).
async fn server_and_client(
    db: TestDb,
    rate_limit: ThrottleSettings,
) -> (TestServer, String, String) {
    let s = server(db, rate_limit).await;
    let (a, a_secret) = cc_client(&s, "A").await;
    (s, a, a_secret)
}

async fn cc_client(s: &TestServer, name: &str) -> (String, String) {
    let c = s
        .create_client(&json!({
            "name": name, "version": "1", "type": "confidential",
            "grant_types": ["client_credentials", "password"], "scopes": ["api:read"],
        }))
        .await;
    common::id_and_secret(&c)
}

/// An HTTP client whose connections come from `source` (any 127.0.0.0/8 address reaches the
/// server's 127.0.0.1 on Linux), so a test can play a second source address.
fn http_from(source: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(source))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A client credentials request with HTTP Basic; (status, Retry-After, body).
async fn cc(
    s: &TestServer,
    http: &reqwest::Client,
    id: &str,
    secret: &str,
) -> (u16, Option<u64>, Value) {
    let res = http
        .post(s.url("/oauth2/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    outcome(res).await
}

/// (status, Retry-After, JSON body) of a response.
async fn outcome(res: reqwest::Response) -> (u16, Option<u64>, Value) {
    let st = res.status().as_u16();
    let retry = retry_after(&res);
    (st, retry, res.json().await.unwrap())
}

fn retry_after(res: &reqwest::Response) -> Option<u64> {
    res.headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

/// Asserts a 429 of an OAuth endpoint and returns its `Retry-After`.
fn assert_throttled(what: &str, (st, retry, v): &(u16, Option<u64>, Value)) -> u64 {
    assert_eq!(*st, 429, "{what}: expected 429, got {st}: {v}");
    assert_eq!(v["error"], "temporarily_unavailable", "{what}: {v}");
    let secs = retry.unwrap_or_else(|| panic!("{what}: no Retry-After"));
    assert!((1..=60).contains(&secs), "{what}: Retry-After {secs}");
    secs
}

#[backends]
#[tokio::test]
async fn repeated_bad_secrets_block_that_client_but_not_others(db: TestDb) {
    let (s, a, a_secret) = server_and_client(db, generous_but(|t| t.client = budget(1, 3))).await;
    let (b, b_secret) = cc_client(&s, "B").await;
    for i in 0..3 {
        let (st, retry, v) = cc(&s, &s.http, &a, "wrong").await;
        assert_eq!(st, 401, "failure {i} is an ordinary invalid_client: {v}");
        assert_eq!(v["error"], "invalid_client");
        assert_eq!(retry, None);
    }
    let blocked = cc(&s, &s.http, &a, "wrong").await;
    assert_throttled("fourth bad secret", &blocked);

    // Blocked means blocked: the secret is not even looked at, so the right one is
    // refused too (and an attacker cannot learn that a guess was right).
    let res = s
        .http
        .post(s.url("/oauth2/token"))
        .basic_auth(&a, Some(&a_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store", "RFC 6749 §5.1");
    let right = outcome(res).await;
    assert_throttled("right secret while blocked", &right);
    // Every client-authenticated endpoint and method counts the same client id.
    let post = s
        .oauth_post(
            "/oauth2/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &a),
                ("client_secret", &a_secret),
            ],
        )
        .await;
    assert_eq!(post.status(), 429, "client_secret_post");
    for path in ["/oauth2/introspect", "/oauth2/revoke"] {
        let r = s
            .oauth_post(path, Some((&a, &a_secret)), &[("token", "x")])
            .await;
        assert_eq!(r.status(), 429, "{path}");
        assert!(r.headers().contains_key("retry-after"), "{path}");
    }

    // Client B, from the same address, is unaffected.
    for _ in 0..5 {
        let (st, _, v) = cc(&s, &s.http, &b, &b_secret).await;
        assert_eq!(st, 200, "client B: {v}");
    }
}

#[backends]
#[tokio::test]
async fn right_secrets_spend_no_budget(db: TestDb) {
    let (s, a, a_secret) = server_and_client(db, client_and_address(budget(1, 2))).await;
    for _ in 0..20 {
        let (st, _, v) = cc(&s, &s.http, &a, &a_secret).await;
        assert_eq!(st, 200, "{v}");
    }
    for _ in 0..2 {
        assert_eq!(cc(&s, &s.http, &a, "wrong").await.0, 401);
    }
    assert_throttled("third failure", &cc(&s, &s.http, &a, "wrong").await);
}

#[backends]
#[tokio::test]
async fn an_exhausted_address_blocks_that_address_only(db: TestDb) {
    let (s, a, a_secret) = server_and_client(db, generous_but(|t| t.address = budget(1, 3))).await;
    let attacker = http_from([127, 0, 0, 2]);
    // Spraying made-up client ids: each id is fresh, the address is not.
    for i in 0..3 {
        let (st, _, v) = cc(&s, &attacker, &format!("guess-{i}"), "x").await;
        assert_eq!(st, 401, "{v}");
    }
    assert_throttled(
        "attacker's address",
        &cc(&s, &attacker, "guess-9", "x").await,
    );
    assert_throttled(
        "a real client from the attacker's address",
        &cc(&s, &attacker, &a, &a_secret).await,
    );
    let (st, _, v) = cc(&s, &s.http, &a, &a_secret).await;
    assert_eq!(st, 200, "the same client from another address: {v}");
}

#[backends]
#[tokio::test]
async fn a_block_lifts_after_retry_after(db: TestDb) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let s = start_with(
        db,
        Options {
            clock: clock.clone(),
            rate_limit: ThrottleSettings {
                client: budget(2, 1), // one failure, then one more every 30 s
                ..generous()
            },
            ..Default::default()
        },
    )
    .await;
    let (a, a_secret) = cc_client(&s, "A").await;
    assert_eq!(cc(&s, &s.http, &a, "wrong").await.0, 401);
    let secs = assert_throttled("blocked", &cc(&s, &s.http, &a, &a_secret).await);
    assert_eq!(secs, 30);
    clock.advance(chrono::Duration::seconds(secs as i64));
    let (st, _, v) = cc(&s, &s.http, &a, &a_secret).await;
    assert_eq!(st, 200, "after Retry-After: {v}");
}

/// POSTs the sign-in form from `browser`; (status, Retry-After, body).
async fn sign_in(browser: &Browser, user: &str, password: &str) -> (u16, Option<u64>, String) {
    let page = browser.get("/login").await.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    form.push(("username".into(), user.into()));
    form.push(("password".into(), password.into()));
    let res = browser.post_form("/login", &form).await;
    let st = res.status().as_u16();
    let retry = retry_after(&res);
    (st, retry, res.text().await.unwrap())
}

#[backends]
#[tokio::test]
async fn failed_sign_ins_block_that_user_with_a_friendly_page(db: TestDb) {
    let s = server(db, generous_but(|t| t.user = budget(1, 2))).await;
    s.create_user("bob", "bob-password").await;
    s.create_user("carol", "carol-password").await;
    let browser = Browser::new(&s.base);
    for _ in 0..2 {
        let (st, _, body) = sign_in(&browser, "bob", "guess").await;
        assert_eq!(st, 401);
        assert!(body.contains("Wrong username or password"), "{body}");
    }
    // Usernames are case-insensitive, and so is their budget.
    let (st, retry, body) = sign_in(&browser, "BOB", "bob-password").await;
    assert_eq!(st, 429, "{body}");
    let secs = retry.unwrap_or_else(|| panic!("no Retry-After"));
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
    assert!(
        body.contains("Too many failed sign-in attempts") && body.contains("<form"),
        "the sign-in page again, with a message: {body}"
    );
    assert!(!body.contains("bob-password"), "no password echoed");
    // Another user signs in from the same address.
    let (st, _, body) = sign_in(&browser, "carol", "carol-password").await;
    assert_eq!(st, 303, "carol: {body}");
}

async fn password_grant(
    s: &TestServer,
    id: &str,
    secret: &str,
    user: &str,
    password: &str,
) -> (u16, Option<u64>, Value) {
    let res = s
        .oauth_post(
            "/oauth2/token",
            Some((id, secret)),
            &[
                ("grant_type", "password"),
                ("username", user),
                ("password", password),
            ],
        )
        .await;
    outcome(res).await
}

#[backends]
#[tokio::test]
async fn password_grant_failures_count_against_the_user(db: TestDb) {
    let s = server(db, generous_but(|t| t.user = budget(1, 2))).await;
    s.create_user("dave", "dave-password").await;
    let (c, c_secret) = cc_client(&s, "Pw").await;
    let grant = |password| password_grant(&s, &c, &c_secret, "dave", password);
    for _ in 0..2 {
        let (st, _, v) = grant("guess").await;
        assert_eq!(st, 400, "{v}");
        assert_eq!(v["error"], "invalid_grant");
    }
    assert_throttled("password grant", &grant("dave-password").await);
    // The same budget guards the sign-in page.
    let (st, _, _) = sign_in(&Browser::new(&s.base), "dave", "dave-password").await;
    assert_eq!(st, 429, "sign-in page");
    // The client itself authenticated fine each time: its own budget is untouched.
    let (st, _, v) = cc(&s, &s.http, &c, &c_secret).await;
    assert_eq!(st, 200, "{v}");
}

#[backends]
#[tokio::test]
async fn successful_flows_are_never_throttled(db: TestDb) {
    // Budgets of one failure: any success that spent budget would trip them.
    let limits = ThrottleSettings {
        client: budget(1, 1),
        user: budget(1, 1),
        user_untrusted: budget(1, 1),
        address: budget(1, 1),
    };
    let s = server(db, limits).await;
    s.create_user("alice", "alice-password").await;
    let c = s
        .create_client(&json!({
            "name": "Web", "version": "1", "type": "confidential",
            "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
            "scopes": ["read"], "refresh_count": 10,
        }))
        .await;
    let id = c["client_id"].as_str().unwrap();
    let secret = c["client_secret"].as_str().unwrap();
    for round in 0..3 {
        let browser = Browser::new(&s.base);
        let url = format!(
            "/oauth2/authorize?response_type=code&client_id={id}&redirect_uri={}&state=s",
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        );
        let code = match browser
            .authorize(&url, Some(("alice", "alice-password")), true)
            .await
        {
            Outcome::Redirect(loc) => params_of(&loc, false)["code"].clone(),
            Outcome::Page(st, body) => panic!("round {round}: page {st}: {body}"),
        };
        let res = s
            .oauth_post(
                "/oauth2/token",
                Some((id, secret)),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "round {round}: code redemption");
        let v: Value = res.json().await.unwrap();
        let rt = v["refresh_token"].as_str().unwrap();
        let res = s
            .oauth_post(
                "/oauth2/token",
                Some((id, secret)),
                &[("grant_type", "refresh_token"), ("refresh_token", rt)],
            )
            .await;
        assert_eq!(res.status(), 200, "round {round}: refresh");
        let v: Value = res.json().await.unwrap();
        let at = v["access_token"].as_str().unwrap();
        let res = s
            .oauth_post("/oauth2/introspect", Some((id, secret)), &[("token", at)])
            .await;
        assert_eq!(res.status(), 200, "round {round}: introspect");
        let res = s
            .oauth_post("/oauth2/revoke", Some((id, secret)), &[("token", at)])
            .await;
        assert_eq!(res.status(), 200, "round {round}: revoke");
        // Signing in again on the plain login page.
        let again = Browser::new(&s.base);
        let (st, _, body) = sign_in(&again, "alice", "alice-password").await;
        assert_eq!(st, 303, "round {round}: sign-in: {body}");
        let home = again.get("/login").await.text().await.unwrap();
        assert!(home.contains("alice"), "signed in: {home}");
    }
    assert_eq!(
        s.state.services.throttle.tracked_keys(),
        0,
        "no failure was recorded"
    );
}

async fn server_with(
    db: TestDb,
    rate_limit: ThrottleSettings,
    password_hashing: PasswordHashingSettings,
) -> TestServer {
    common::start_with(
        db,
        Options {
            rate_limit,
            password_hashing,
            ..Default::default()
        },
    )
    .await
}

/// Enough Argon2id slots that no guess in these tests is shed: what limits them is the
/// brute-force budget alone.
const ROOMY: PasswordHashingSettings = PasswordHashingSettings {
    max_concurrent: 16,
    max_waiting: 64,
};

/// Of 41 concurrent attempts against a burst of 10, where `verified` are the statuses of an
/// attempt whose password was checked: at most 10 and at least one were checked, and every
/// other attempt was refused with 429.
fn assert_within_a_burst_of_ten(statuses: &[u16], verified: &[u16]) {
    let checked = statuses.iter().filter(|s| verified.contains(s)).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(checked <= 10, "{checked} verified: {statuses:?}");
    assert!(checked >= 1, "the budget was usable: {statuses:?}");
    assert_eq!(
        checked + refused,
        41,
        "only {verified:?} or 429: {statuses:?}"
    );
}

#[backends]
/// Issue 13, finding 2: 40 parallel wrong passwords plus the right one, against a burst of
/// 10, were all verified. Now a verification is reserved before Argon2id runs.
#[tokio::test]
async fn concurrent_sign_ins_never_verify_more_than_the_budget(db: TestDb) {
    let s = server_with(db, generous_but(|t| t.user = budget(1, 10)), ROOMY).await;
    s.create_user("erin", "erin-password").await;
    let browser = Browser::new(&s.base);
    let page = browser.get("/login").await.text().await.unwrap();
    let form = hidden_inputs(&page);
    let attempts = (0..41).map(|i| {
        let mut f = form.clone();
        f.push(("username".into(), "erin".into()));
        let pw = if i == 20 { "erin-password" } else { "guess" };
        f.push(("password".into(), pw.into()));
        let b = &browser;
        async move { b.post_form("/login", &f).await.status().as_u16() }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_within_a_burst_of_ten(&statuses, &[401, 303]);
}

#[backends]
#[tokio::test]
async fn concurrent_password_grants_never_verify_more_than_the_budget(db: TestDb) {
    let s = server_with(db, generous_but(|t| t.user = budget(1, 10)), ROOMY).await;
    s.create_user("fred", "fred-password").await;
    let (c, c_secret) = cc_client(&s, "Pw").await;
    let attempts = (0..41).map(|i| {
        let pw = if i == 20 { "fred-password" } else { "guess" };
        let (s, c, c_secret) = (&s, &c, &c_secret);
        async move { password_grant(s, c, c_secret, "fred", pw).await.0 }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_within_a_burst_of_ten(&statuses, &[400, 200]);
}

#[backends]
#[tokio::test]
async fn concurrent_bad_secrets_never_exceed_the_budget(db: TestDb) {
    let (s, a, _) = server_and_client(db, generous_but(|t| t.client = budget(1, 10))).await;
    let attempts = (0..60).map(|_| {
        let (s, a) = (&s, &a);
        async move { cc(s, &s.http, a, "wrong").await.0 }
    });
    let statuses = futures::future::join_all(attempts).await;
    let verified = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(verified, 10, "exactly the budget: {statuses:?}");
}

#[backends]
/// Issue 13, finding 3: client ids are public, so bad secrets from one address made the
/// right secret fail from every other address.
#[tokio::test]
async fn bad_secrets_from_elsewhere_never_block_the_client(db: TestDb) {
    let (s, a, a_secret) = server_and_client(db, generous_but(|t| t.client = budget(1, 3))).await;
    let attacker = http_from([127, 0, 0, 2]);
    for _ in 0..10 {
        cc(&s, &attacker, &a, "wrong").await;
    }
    assert_throttled("the attacker", &cc(&s, &attacker, &a, "wrong").await);
    let (st, _, v) = cc(&s, &s.http, &a, &a_secret).await;
    assert_eq!(st, 200, "the owner, from its own address: {v}");
    for path in ["/oauth2/introspect", "/oauth2/revoke"] {
        let r = s
            .oauth_post(path, Some((&a, &a_secret)), &[("token", "x")])
            .await;
        assert_eq!(r.status(), 200, "{path}");
    }
}

#[backends]
#[tokio::test]
async fn requests_of_a_public_client_are_never_counted_as_guesses(db: TestDb) {
    let s = server(db, client_and_address(budget(1, 1))).await;
    let c = s
        .create_client(&json!({
            "name": "SPA", "version": "1", "type": "public",
            "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
        }))
        .await;
    let id = c["client_id"].as_str().unwrap();
    let attacker = http_from([127, 0, 0, 3]);
    for i in 0..10 {
        // A bogus secret for a client that has none guesses nothing.
        let res = attacker
            .post(s.url("/oauth2/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", id),
                ("client_secret", "bogus"),
                ("code", "x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "attempt {i}: not 429");
    }
    // The app's users, from the same address, still redeem and refresh.
    let res = attacker
        .post(s.url("/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", id),
            ("refresh_token", "unknown"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "an ordinary invalid_grant");
    assert_eq!(s.state.services.throttle.tracked_keys(), 0);
}

/// Signs `browser` out, keeping its device cookie (as a person does at the end of the day).
async fn sign_out(browser: &Browser) {
    let page = browser.get("/login").await.text().await.unwrap();
    let res = browser.post_form("/logout", &hidden_inputs(&page)).await;
    assert_eq!(res.status(), 200, "sign-out");
}

#[backends]
/// Issue 13, finding 3: eleven failed sign-ins as `ADMIN` locked the real administrator out.
/// With the production budgets, the owner signs in from their own address, and from the
/// browser they used before even once their account is under attack from everywhere.
#[tokio::test]
async fn a_guesser_cannot_lock_the_owner_out(db: TestDb) {
    let s = server(db, ThrottleSettings::default()).await;
    s.create_user("root", "root-password").await;
    // The owner's usual browser, known from an earlier sign-in.
    let known = Browser::new(&s.base);
    let (st, _, body) = sign_in(&known, "root", "root-password").await;
    assert_eq!(st, 303, "{body}");
    sign_out(&known).await;

    let attacker = Browser::from_address(&s.base, [127, 0, 0, 2]);
    let mut spent = 0;
    for _ in 0..11 {
        if sign_in(&attacker, "ROOT", "guess").await.0 == 401 {
            spent += 1;
        }
    }
    assert_eq!(spent, 10, "the (user, address) budget");
    assert_eq!(sign_in(&attacker, "root", "guess").await.0, 429);

    // A new browser at another address is not blocked by that.
    let fresh = Browser::from_address(&s.base, [127, 0, 0, 4]);
    let (st, _, body) = sign_in(&fresh, "root", "root-password").await;
    assert_eq!(st, 303, "another address: {body}");

    // A distributed guesser spends the per-user budget of new browsers ...
    for i in 10..60u8 {
        let b = Browser::from_address(&s.base, [127, 0, 1, i]);
        sign_in(&b, "root", "guess").await;
    }
    let other = Browser::from_address(&s.base, [127, 0, 2, 1]);
    let (st, _, _) = sign_in(&other, "root", "root-password").await;
    assert_eq!(st, 429, "a new browser now waits");
    // ... but the browser the owner signed in from before is never locked out.
    let (st, _, body) = sign_in(&known, "root", "root-password").await;
    assert_eq!(st, 303, "the owner's own browser: {body}");
}

#[backends]
#[tokio::test]
async fn a_known_browser_has_a_budget_of_its_own(db: TestDb) {
    let s = server(db, generous_but(|t| t.user = budget(1, 2))).await;
    s.create_user("gus", "gus-password").await;
    let known = Browser::new(&s.base);
    assert_eq!(sign_in(&known, "gus", "gus-password").await.0, 303);
    sign_out(&known).await;
    for _ in 0..2 {
        assert_eq!(sign_in(&known, "gus", "guess").await.0, 401);
    }
    assert_eq!(sign_in(&known, "gus", "guess").await.0, 429);
    // That spent the device's budget, not the (user, address) one.
    let (st, _, body) = sign_in(&Browser::new(&s.base), "gus", "gus-password").await;
    assert_eq!(st, 303, "{body}");
}
