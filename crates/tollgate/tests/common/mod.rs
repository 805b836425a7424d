//! Starts the real server (the same router and services `tollgate serve` runs) on
//! 127.0.0.1:0 against a fresh database, and talks to it over HTTP with reqwest.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod binary;
pub mod browser;
pub mod chrome;
pub mod console;
pub mod harness;
pub mod oauth;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tollgate::config::RawConfig;
use tollgate::http::AppState;
use tollgate_core::audit::Actor;
use tollgate_core::service::ThrottleSettings;
use tollgate_core::{Clock, Policy, SystemClock};
pub use tollgate_testkit::TestDb;

pub struct TestServer {
    pub base: String,
    pub key: String,
    /// The audit actor of requests made with `key`.
    pub actor: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub struct Options {
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
    /// Brute-force budgets; the production defaults unless a test needs smaller ones.
    pub rate_limit: ThrottleSettings,
    /// Argon2id concurrency; the production defaults unless a test needs others.
    pub password_hashing: tollgate_core::user::PasswordHashingSettings,
    /// Connection limits (`[http]`); the production defaults unless a test needs shorter.
    pub http: tollgate::config::HttpSettings,
    /// The issuer, when not the listen address over http.
    pub issuer: Option<String>,
    /// Serve HTTPS with this configuration (`base` is then https).
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            policy: Policy::default(),
            rate_limit: ThrottleSettings::default(),
            password_hashing: Default::default(),
            http: Default::default(),
            issuer: None,
            tls: None,
        }
    }
}

pub async fn start(db: TestDb) -> TestServer {
    start_with(db, Options::default()).await
}

pub async fn start_with(db: TestDb, opts: Options) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = RawConfig {
        listen: addr.to_string(),
        database_url: db.url.clone(),
        issuer: opts.issuer.clone(),
        ..RawConfig::default()
    }
    .validate()
    .unwrap();
    config.policy = opts.policy;
    config.rate_limit = opts.rate_limit;
    config.password_hashing = opts.password_hashing;
    config.http = opts.http;
    let state = tollgate::server::build_state(&config, opts.clock)
        .await
        .unwrap();
    let created = state
        .services
        .admin_keys
        .create(&Actor::new("test", None), "test")
        .await
        .unwrap();
    let key = created.secret.expose().to_owned();
    let actor = format!("admin-key:{} (test)", created.key.id);
    let (stop, stopped) = oneshot::channel::<()>();
    let st = state.clone();
    let stopped = async {
        let _ = stopped.await;
    };
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    let task = tokio::spawn(async move {
        match opts.tls {
            Some(tls) => tollgate::server::serve_tls_on(listener, tls, st, stopped).await,
            None => tollgate::server::serve_on(listener, st, stopped).await,
        }
        .unwrap();
    });
    TestServer {
        base: format!("{scheme}://{addr}"),
        key,
        actor,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        state,
        db,
        stop: Some(stop),
        task: Some(task),
    }
}

/// Serves `state` (the services of a started server, changed as a test needs) on a second
/// listener until the test ends; its base URL.
pub async fn serve_state(state: AppState) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let serve = tollgate::server::serve_on(listener, state, std::future::pending());
    tokio::spawn(serve);
    base
}

/// A server on `db` whose clock the test moves, starting at `at`: the server and its clock.
pub async fn manual_clock_server_at(
    db: TestDb,
    at: chrono::DateTime<chrono::Utc>,
) -> (TestServer, Arc<tollgate_core::ManualClock>) {
    let clock = Arc::new(tollgate_core::ManualClock::new(at));
    let s = start_with(
        db,
        Options {
            clock: clock.clone(),
            ..Options::default()
        },
    )
    .await;
    (s, clock)
}

/// `manual_clock_server_at` now.
pub async fn manual_clock_server(db: TestDb) -> (TestServer, Arc<tollgate_core::ManualClock>) {
    manual_clock_server_at(db, chrono::Utc::now()).await
}

/// The `action` of every entry of an audit page, in order.
pub fn audit_actions(page: &Value) -> Vec<&str> {
    item_strs(page, "action")
}

/// The string `key` of every item of a list page, in order.
pub fn item_strs<'a>(page: &'a Value, key: &str) -> Vec<&'a str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].as_str().unwrap())
        .collect()
}

/// Sends `req` and reads its JSON body.
pub async fn send_json(req: RequestBuilder) -> Value {
    req.send().await.unwrap().json().await.unwrap()
}

/// Follows `next_cursor` from `first` (a list path with `limit=limit`), checking each page
/// holds at most `limit` items and that the walk ends; the pages walked and `key` of every
/// item in order.
pub async fn walk_pages(
    s: &TestServer,
    first: &str,
    limit: usize,
    key: &str,
) -> (usize, Vec<String>) {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => first.to_owned(),
            Some(c) => format!("{first}&cursor={c}"),
        };
        let res = s.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        let page: Value = res.json().await.unwrap();
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit, "{page}");
        seen.extend(items.iter().map(|i| i[key].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    (pages, seen)
}

impl TestServer {
    pub fn name(&self) -> &'static str {
        self.db.name()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An admin API request without credentials.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        let url = self.url(&format!("/admin/api/v1{path}"));
        self.http.request(method, url)
    }

    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.anonymous(method, path).bearer_auth(&self.key)
    }

    /// Sends an admin request with a JSON body.
    pub async fn send_with(&self, method: Method, path: &str, body: &Value) -> Response {
        self.admin(method, path).json(body).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send_with(Method::POST, path, body).await
    }

    /// A GET of `path` with no credentials (a page, a static file, health).
    pub async fn get_plain(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// Sends an admin request without a body.
    pub async fn send(&self, method: Method, path: &str) -> Response {
        self.admin(method, path).send().await.unwrap()
    }

    /// An admin GET made with `key` instead of the test's own key.
    pub async fn get_with_key(&self, key: &str, path: &str) -> Response {
        let req = self.anonymous(Method::GET, path).bearer_auth(key);
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path).await
    }

    /// An admin GET's JSON body, whatever its status.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.unwrap()
    }

    /// An admin POST's JSON body, whatever its status.
    pub async fn post_json(&self, path: &str, body: &Value) -> Value {
        self.post(path, body).await.json().await.unwrap()
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send_with(Method::PATCH, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path).await
    }

    /// Sends each admin request of a table (method, path, status) without a body and
    /// asserts each gets a problem with its status.
    pub async fn expect_admin_problems(&self, rows: &[(Method, &str, u16)]) {
        for (method, path, status) in rows {
            let res = self.send(method.clone(), path).await;
            expect_problem_for(&format!("{method} {path}"), res, *status).await;
        }
    }

    /// Creates a client from `body` and returns the response JSON; panics unless 201.
    pub async fn create_client(&self, body: &Value) -> Value {
        let res = self.post("/clients", body).await;
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert_eq!(status, 201, "create failed: {v}");
        v
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// A minimal valid confidential client (client credentials).
pub fn confidential(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "version": "1.0",
        "type": "confidential",
        "grant_types": ["client_credentials"],
        "scopes": ["api:read"],
    })
}

/// A minimal valid public client (authorization code).
pub fn public(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "version": "1.0",
        "type": "public",
        "grant_types": ["authorization_code"],
        "redirect_uris": ["https://app.example.com/callback"],
    })
}

/// The `client_id` and `client_secret` of a confidential client's JSON (as created).
pub fn id_and_secret(c: &Value) -> (String, String) {
    let field = |name: &str| c[name].as_str().unwrap_or_else(|| panic!("no {name}: {c}"));
    (
        field("client_id").to_owned(),
        field("client_secret").to_owned(),
    )
}

/// The field errors of a problem+json body, as (field, code) pairs.
pub fn field_errors(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("").to_owned(),
                        e["code"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts `res` has `status` and is an RFC 9457 problem; returns the body.
pub async fn expect_problem(res: Response, status: u16) -> Value {
    expect_problem_for("response", res, status).await
}

/// [`expect_problem`] with `what` (the request, or the table row) named in every message.
pub async fn expect_problem_for(what: &str, res: Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{what}: expected {status}, got {got}: {text}");
    assert_eq!(
        ct.as_deref(),
        Some("application/problem+json"),
        "{what}: a {status} must be application/problem+json: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], status, "{what}: problem status: {v}");
    assert!(v["type"].is_string(), "{what}: problem type: {v}");
    assert!(v["title"].is_string(), "{what}: problem title: {v}");
    assert!(
        v["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}: problem detail: {v}"
    );
    v
}

/// Sends each request of a table in turn (label, request, status) and asserts each gets
/// a problem with its status; the bodies, in order.
pub async fn expect_problems(rows: Vec<(&str, RequestBuilder, u16)>) -> Vec<Value> {
    let mut bodies = Vec::new();
    for (what, req, status) in rows {
        let res = req.send().await.unwrap();
        bodies.push(expect_problem_for(what, res, status).await);
    }
    bodies
}

/// Asserts `res` is a 422 problem naming `field` with `code`; returns the body.
pub async fn expect_field_error(res: Response, field: &str, code: &str) -> Value {
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 422, "expected 422, got {status}: {v}");
    assert_eq!(ct.as_deref(), Some("application/problem+json"));
    assert!(
        field_errors(&v)
            .iter()
            .any(|(f, c)| f == field && c == code),
        "expected error {field}/{code} in {v}"
    );
    v
}

impl TestServer {
    /// Creates a resource owner directly through the service.
    pub async fn create_user(&self, username: &str, password: &str) -> tollgate_core::user::User {
        self.state
            .services
            .users
            .create(
                &Actor::new("test", None),
                tollgate_core::service::NewUser {
                    username: Some(username.into()),
                    password: Some(password.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    /// Whether `username` signs in with `password`, asked of the service.
    pub async fn can_sign_in(&self, username: &str, password: &str) -> bool {
        let users = &self.state.services.users;
        let user = users.verify_login(username, password, Default::default());
        user.await.unwrap().is_some()
    }

    /// How many audit entries exist (up to 500), read through the service.
    pub async fn audit_len(&self) -> usize {
        let audit = &self.state.services.audit;
        let page = audit.list(&Default::default(), None, Some(500)).await;
        page.unwrap().items.len()
    }

    /// The stored client `id`, read through the service; panics when there is none.
    pub async fn stored_client(&self, id: &str) -> tollgate_core::client::Client {
        self.state
            .services
            .clients
            .get(&tollgate_core::ClientId::new(id))
            .await
            .unwrap_or_else(|e| panic!("client {id}: {e}"))
    }

    /// How many clients exist, read through the service.
    pub async fn client_count(&self) -> usize {
        self.state
            .services
            .clients
            .list(&Default::default(), None, None)
            .await
            .unwrap()
            .items
            .len()
    }

    /// POSTs a form to an OAuth endpoint, optionally with HTTP Basic credentials.
    pub async fn oauth_post(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Response {
        let mut req = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        req.send().await.unwrap()
    }

    /// A client credentials request for the client `id` with `secret` (HTTP Basic).
    pub async fn cc_response(&self, id: &str, secret: &str) -> Response {
        let form = [("grant_type", "client_credentials")];
        self.oauth_post("/oauth2/token", Some((id, secret)), &form)
            .await
    }

    /// RFC 7662 introspection with the test's admin key.
    pub async fn introspect(&self, token: &str) -> Value {
        self.http
            .post(self.url("/oauth2/introspect"))
            .bearer_auth(&self.key)
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}
