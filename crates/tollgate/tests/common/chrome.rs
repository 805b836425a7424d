//! Headless Chromium driven over WebDriver (chromedriver + fantoccini), for the console's
//! browser tests.
//!
//! Every [`Chrome`] starts its own chromedriver on a free 127.0.0.1 port and its own
//! Chromium with a fresh profile directory, and holds a process-wide turn so that only one
//! browser runs at a time (the test machines have two cores). Without the binaries the tests
//! are skipped with a message, except when `CI` is set: CI must run them.

use super::binary::free_port;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard};

/// How long a page or an element may take to appear.
pub const TIMEOUT: Duration = Duration::from_secs(15);

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 800;
/// Full-page screenshots stop growing here.
const MAX_SCREENSHOT_HEIGHT: u64 = 6000;

static TURN: Mutex<()> = Mutex::const_new(());

pub struct Chrome {
    pub client: Client,
    /// The server under test, e.g. `http://127.0.0.1:1234`.
    pub base: String,
    // Dropped in this order: chromedriver (and its Chromium), the profile, then the turn.
    _driver: Driver,
    profile: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

/// A running chromedriver in its own process group; dropping it kills the group, so the
/// Chromium it started goes too, even when a test panics half-way.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary(var: &str, default: &str) -> Option<PathBuf> {
    let p = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    p.is_file().then_some(p)
}

/// The chromedriver and Chromium binaries (`CHROMEDRIVER`, `CHROMIUM` override the Debian
/// paths). `None`, with a message, when one is missing; a panic instead under `CI`.
pub fn binaries() -> Option<(PathBuf, PathBuf)> {
    let driver = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
    let chromium = binary("CHROMIUM", "/usr/bin/chromium");
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        (d, c) => {
            let mut missing = Vec::new();
            if d.is_none() {
                missing.push("chromedriver (/usr/bin/chromedriver or CHROMEDRIVER)");
            }
            if c.is_none() {
                missing.push("chromium (/usr/bin/chromium or CHROMIUM)");
            }
            let missing = format!(
                "{} not found (Debian packages: chromium chromium-driver)",
                missing.join(" and ")
            );
            if std::env::var_os("CI").is_some() {
                panic!("CI is set, so the browser tests must run, but {missing}");
            }
            eprintln!("browser test SKIPPED: {missing}");
            None
        }
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Where screenshots go: `docs/screenshots/` at the workspace root.
pub fn screenshot_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/screenshots"
    ))
    .to_path_buf()
}

impl Chrome {
    /// Starts chromedriver and a headless Chromium session for tests against `base`.
    /// `None` when the binaries are missing (see [`binaries`]).
    pub async fn start(base: &str) -> Option<Chrome> {
        let (driver_bin, chromium_bin) = binaries()?;
        let turn = TURN.lock().await;
        let profile = tempfile::tempdir().expect("temp dir for the Chromium profile");
        let log = profile.path().join("chromedriver.log");
        let user_data = profile.path().join("profile");
        let port = free_port();
        let mut driver = Driver(
            Command::new(&driver_bin)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own process group, so that dropping it also ends the Chromium it started.
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_bin.display())),
        );
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = driver.0.try_wait().expect("chromedriver status") {
                panic!("chromedriver exited with {status}: {}", read_log(&log));
            }
            let ready = match http.get(format!("{url}/status")).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .map(|v| v["value"]["ready"] == json!(true))
                    .unwrap_or(false),
                Err(_) => false,
            };
            if ready {
                break;
            }
            if Instant::now() > deadline {
                panic!("chromedriver did not answer on {url}: {}", read_log(&log));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium_bin.to_string_lossy(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-dev-shm-usage",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                    format!("--user-data-dir={}", user_data.display()),
                ],
            }),
        );
        // chromedriver speaks plain HTTP on loopback: no TLS stack needed.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}\n{}", read_log(&log)));
        Some(Chrome {
            client,
            base: base.trim_end_matches('/').to_owned(),
            _driver: driver,
            profile,
            _turn: turn,
        })
    }

    /// Ends the WebDriver session (Chromium exits) and stops chromedriver.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
        // Dropping `self` stops chromedriver.
    }

    fn abs(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base)
        } else {
            path.to_owned()
        }
    }

    /// Opens `path` (relative to the server, or an absolute URL).
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.abs(path))
            .await
            .unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    }

    /// The current URL's path and query, e.g. `/console/clients?q=x`.
    pub async fn path(&self) -> String {
        let u = self.client.current_url().await.expect("current url");
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// The page's visible text.
    pub async fn body_text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("body text")
    }

    /// The first element matching `css`, waiting up to [`TIMEOUT`] for it; panics (with
    /// the page's URL and text) when it does not appear.
    pub async fn wait_for(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(TIMEOUT)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!(
                "no element `{css}` on {} after {TIMEOUT:?}: {e}\npage text:\n{}",
                self.path().await,
                self.body_text().await
            ),
        }
    }

    /// Every element matching `css` now (no waiting).
    pub async fn all(&self, css: &str) -> Vec<Element> {
        let found = self.client.find_all(Locator::Css(css)).await;
        found.expect("find_all")
    }

    /// Whether an element matches `css` now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        !self.all(css).await.is_empty()
    }

    /// The visible text of the first element matching `css` (waiting for it).
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of `{css}`: {e}"))
    }

    /// The visible texts of every element matching `css` (no waiting).
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.all(css).await {
            out.push(e.text().await.expect("text"));
        }
        out
    }

    /// The current `value` of a form control.
    pub async fn value(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// The value of an attribute of the first element matching `css` (waiting for it).
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.wait_for(css).await.attr(name).await.expect("attr")
    }

    /// Replaces the content of a text field.
    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.wait_for(css).await;
        e.clear()
            .await
            .unwrap_or_else(|err| panic!("clear `{css}`: {err}"));
        e.send_keys(value)
            .await
            .unwrap_or_else(|err| panic!("type into `{css}`: {err}"));
    }

    /// Chooses the option with `value` in a `<select>`.
    pub async fn select(&self, css: &str, value: &str) {
        self.wait_for(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in `{css}`: {e}"));
    }

    /// Sets a checkbox or radio button to `on` (clicking it when it differs).
    pub async fn check(&self, css: &str, on: bool) {
        let e = self.wait_for(css).await;
        if e.is_selected().await.expect("is_selected") != on {
            e.click()
                .await
                .unwrap_or_else(|err| panic!("click `{css}`: {err}"));
        }
        assert_eq!(
            e.is_selected().await.expect("is_selected"),
            on,
            "`{css}` did not change"
        );
    }

    /// Clicks an element that does not load a new page.
    pub async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click `{css}`: {e}"));
    }

    /// Marks the current document, so that [`Chrome::wait_for_new_page`] can tell when
    /// another one has replaced it.
    pub async fn mark_page(&self) {
        self.client
            .execute("window.__tollgateOldPage = true;", vec![])
            .await
            .expect("mark page");
    }

    /// Waits until the document marked by [`Chrome::mark_page`] is gone and the new one has
    /// loaded.
    pub async fn wait_for_new_page(&self) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            // Fails while the navigation is in flight; that counts as "not yet".
            let done = self
                .client
                .execute(
                    "return window.__tollgateOldPage !== true && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .map(|v| v == json!(true))
                .unwrap_or(false);
            if done {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "no new page loaded after {TIMEOUT:?}; still on {}",
                    self.path().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks an element that loads a new page (a submit button, a link) and waits for it.
    pub async fn click_and_wait(&self, css: &str) {
        let e = self.wait_for(css).await;
        self.mark_page().await;
        e.click()
            .await
            .unwrap_or_else(|err| panic!("click `{css}`: {err}"));
        self.wait_for_new_page().await;
    }

    /// Reloads the page and waits for it.
    pub async fn reload(&self) {
        self.mark_page().await;
        self.client.refresh().await.expect("reload");
        self.wait_for_new_page().await;
    }

    /// Accepts a JavaScript `confirm()` dialog, waiting for it to open; returns its text.
    pub async fn accept_dialog(&self) -> String {
        self.answer_dialog(true).await
    }

    /// Dismisses (cancels) a JavaScript `confirm()` dialog; returns its text.
    pub async fn dismiss_dialog(&self) -> String {
        self.answer_dialog(false).await
    }

    /// Waits for a dialog to open, then accepts or dismisses it; returns its text.
    async fn answer_dialog(&self, accept: bool) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(text) = self.client.get_alert_text().await {
                if accept {
                    self.client.accept_alert().await.expect("accept dialog");
                } else {
                    self.client.dismiss_alert().await.expect("dismiss dialog");
                }
                return text;
            }
            if Instant::now() > deadline {
                panic!("no dialog opened on {}", self.path().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fills in the sign-in form at `/login` (with `return_to` when given) and submits it;
    /// panics when the page answers with an error or is still the sign-in form.
    pub async fn login_to(&self, return_to: Option<&str>, username: &str, password: &str) {
        let url = match return_to {
            Some(r) => {
                let q = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("return_to", r)
                    .finish();
                format!("/login?{q}")
            }
            None => "/login".to_owned(),
        };
        self.goto(&url).await;
        self.fill_login(username, password).await;
        self.click_and_wait("form[action='/login'] button[type='submit']")
            .await;
        if self
            .exists("form[action='/login'] input[name='password']")
            .await
        {
            panic!(
                "sign-in as {username} failed on {}:\n{}",
                self.path().await,
                self.body_text().await
            );
        }
    }

    /// Signs in through `/login` (no `return_to`: the "Signed in" page follows).
    pub async fn login(&self, username: &str, password: &str) {
        self.login_to(None, username, password).await;
    }

    /// Types the credentials into the sign-in form on the current page (without submitting).
    pub async fn fill_login(&self, username: &str, password: &str) {
        self.fill("form[action='/login'] input[name='username']", username)
            .await;
        self.fill("form[action='/login'] input[name='password']", password)
            .await;
    }

    /// Saves a PNG of the whole page as `docs/screenshots/{name}.png` and returns its path.
    /// The window grows to the page's height for the shot, then returns to its size.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let (w, h) = self.client.get_window_size().await.expect("window size");
        let dims = self
            .client
            .execute(
                "return [window.innerHeight, Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)];",
                vec![],
            )
            .await
            .expect("page height");
        let inner = dims[0].as_u64().unwrap_or(h);
        let content = dims[1].as_u64().unwrap_or(h);
        let chrome_height = h.saturating_sub(inner);
        let full = (content + chrome_height).clamp(h, MAX_SCREENSHOT_HEIGHT);
        if full != h {
            self.client
                .set_window_size(w as u32, full as u32)
                .await
                .expect("grow window");
        }
        let png = self.client.screenshot().await.expect("screenshot");
        if full != h {
            self.client
                .set_window_size(w as u32, h as u32)
                .await
                .expect("restore window");
        }
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "the screenshot is not a PNG"
        );
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("create docs/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Runs `script` (a function body; what it `return`s comes back as JSON) in the page.
    pub async fn js(&self, script: &str) -> Value {
        match self.client.execute(script, vec![]).await {
            Ok(v) => v,
            Err(e) => panic!("script failed on {}: {e}\n{script}", self.path().await),
        }
    }

    /// Resizes the window so that the page's viewport (`innerWidth` x `innerHeight`) is
    /// `width` x `height`; panics when Chromium cannot make it that small.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let (mut w, mut h) = (width, height);
        let mut inner = (0, 0);
        for _ in 0..2 {
            self.client
                .set_window_size(w, h)
                .await
                .expect("resize window");
            let v = self
                .js("return [window.innerWidth, window.innerHeight];")
                .await;
            inner = (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
            if inner == (u64::from(width), u64::from(height)) {
                return;
            }
            // The window's frame takes the difference: grow the window by it.
            w = width + width.saturating_sub(inner.0 as u32);
            h = height + height.saturating_sub(inner.1 as u32);
        }
        panic!("the viewport is {inner:?}, not {width}x{height}");
    }

    /// The profile directory of this browser (downloads, logs).
    pub fn profile_dir(&self) -> &Path {
        self.profile.path()
    }
}
