//! The admin console in a real browser: headless Chromium driven through chromedriver.
//!
//! These run on SQLite only: the console calls the same services as the admin API, whose
//! tests run on every backend. Each test starts its own chromedriver and Chromium; they take
//! turns (see `common::chrome`). Without Chromium they are skipped with a message, except
//! under `CI`. Each test saves screenshots of the pages it visits to `docs/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chrome::Chrome;
use common::{start_with, Options, TestServer};
use tollgate_core::audit::Actor;
use tollgate_core::service::NewUser;

const ADMIN: &str = "ada";
const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A SQLite server with one admin user.
async fn server_with_admin() -> TestServer {
    let s = start_with(tollgate_testkit::sqlite(), Options::default()).await;
    s.state
        .services
        .users
        .create(
            &Actor::new("test", None),
            NewUser {
                username: Some(ADMIN.into()),
                password: Some(ADMIN_PASSWORD.into()),
                admin: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
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

    chrome.login(ADMIN, ADMIN_PASSWORD).await;
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
