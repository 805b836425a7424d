//! Console helpers shared by the console and hardening tests: users made through the
//! service, a cookie-keeping client signed in as one, the CSRF token of a page.

use super::browser::{hidden_inputs, Browser};
use super::TestServer;
use tollgate_core::audit::Actor;
use tollgate_core::service::{NewUser, UserChange};
use tollgate_core::user::User;

/// The password of every user made by `user`.
pub const PASSWORD: &str = "a long enough password";

/// Form fields as owned pairs.
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The console's client form for a confidential client-credentials client `name` and
/// `version`, followed by `extra`.
pub fn confidential_form(
    name: &str,
    version: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut form = pairs(&[
        ("name", name),
        ("version", version),
        ("type", "confidential"),
        ("grant_types", "client_credentials"),
    ]);
    form.extend(pairs(extra));
    form
}

/// Submits the form `fields` to `path` as the browser `b` would.
pub async fn submit(b: &Browser, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    b.post_form(path, &pairs(fields)).await
}

/// A user with `PASSWORD`, made through the service.
pub async fn user(s: &TestServer, username: &str, admin: bool) -> User {
    s.state
        .services
        .users
        .create(
            &Actor::new("test", None),
            NewUser {
                username: Some(username.into()),
                password: Some(PASSWORD.into()),
                admin: Some(admin),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

/// Applies `change` to the user `id` through the service, as an administrator would.
pub async fn change_user(s: &TestServer, id: &str, change: UserChange) -> User {
    s.state
        .services
        .users
        .update(&Actor::new("test", None), &id.into(), change)
        .await
        .unwrap()
}

/// A cookie-keeping client signed in as `username`.
pub async fn signed_in(s: &TestServer, username: &str) -> Browser {
    let b = Browser::new(&s.base);
    b.login(username, PASSWORD).await;
    b
}

/// A new administrator `username` (made by `user`) and a client signed in as them.
pub async fn admin_signed_in(s: &TestServer, username: &str) -> Browser {
    user(s, username, true).await;
    signed_in(s, username).await
}

/// The `csrf` hidden input of the page at `path` (which must answer 200).
pub async fn csrf_of(b: &Browser, path: &str) -> String {
    let res = b.get(path).await;
    assert_eq!(res.status(), 200, "GET {path}");
    let page = res.text().await.unwrap();
    hidden_input(&page, "csrf", path)
}

/// The value of the hidden input `name` of `page` (found at `path`); panics without one.
pub fn hidden_input(page: &str, name: &str, path: &str) -> String {
    hidden_inputs(page)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} field on {path}"))
}
