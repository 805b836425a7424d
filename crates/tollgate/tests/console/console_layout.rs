//! The console's layout in headless Chromium, measured against the viewport rather than
//! judged by eye (issue 15, points 1, 2, 7 and 10): Token Management fits the window at
//! desktop and phone widths with every Revoke button on screen, token ids stay on one line,
//! the "danger" actions are readable, and the sign-in pages share the console's look.
//!
//! SQLite only, like `console_browser`: what is measured is the HTML and CSS, the same on
//! every backend. Skipped without Chromium (except under `CI`). Saves the phone-width
//! screenshots `clients-phone.png` and `tokens-phone.png` to `docs/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::chrome::Chrome;
use crate::common::console::{user, PASSWORD};
use crate::common::oauth::cc_token;
use crate::common::{start_with, Options};
use serde_json::{json, Value};

const ADMIN: &str = "ada";

/// The viewport, the page's scroll width, the tokens table's width, and the rect of every
/// Revoke button and token id of Token Management.
const MEASURE_TOKENS: &str = r#"
const rect = (e) => { const r = e.getBoundingClientRect();
  return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }; };
const table = document.getElementById('tokens-table');
return {
  innerWidth: window.innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  table: rect(table),
  revoke: [...table.querySelectorAll('tbody button[type=submit]')].map(rect),
  ids: [...table.querySelectorAll('tbody tr')].map((tr) => {
    const code = tr.querySelector('td:first-child code');
    return { expected: tr.dataset.tokenId, text: code.textContent, lines: code.getClientRects().length,
             userSelect: getComputedStyle(code).userSelect, whiteSpace: getComputedStyle(code).whiteSpace };
  }),
};
"#;

/// Every element matching SELECTOR (replaced before running): its computed text colour and
/// the first non-transparent background behind it (its own or an ancestor's; else white).
const MEASURE_COLOURS: &str = r#"
const out = [];
for (const e of document.querySelectorAll(SELECTOR)) {
  let bg = 'rgb(255, 255, 255)';
  for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    const m = c.match(/[\d.]+/g);
    if (m && (m.length < 4 || parseFloat(m[3]) > 0)) { bg = c; break; }
  }
  out.push({ id: e.id, text: e.textContent.trim(), color: getComputedStyle(e).color, background: bg });
}
return out;
"#;

/// The look of a page: the body's font and colour, the brand's, and the primary button's.
const MEASURE_LOOK: &str = r#"
const s = (q, p) => { const e = document.querySelector(q); return e ? getComputedStyle(e)[p] : null; };
return {
  bodyFont: s('body', 'fontFamily'), bodyColor: s('body', 'color'), bodyBackground: s('body', 'backgroundColor'),
  brandFont: s('.brand', 'fontFamily'), brandWeight: s('.brand', 'fontWeight'), brandColor: s('.brand', 'color'), brandText: document.querySelector('.brand')?.textContent.trim(),
  buttonBackground: s(PRIMARY, 'backgroundColor'), buttonColor: s(PRIMARY, 'color'),
  buttonRadius: s(PRIMARY, 'borderTopLeftRadius'), buttonFont: s(PRIMARY, 'fontFamily'),
};
"#;

/// `r`, `g`, `b` of a computed `rgb(…)` / `rgba(…)` colour.
fn rgb(css: &str) -> [f64; 3] {
    let n: Vec<f64> = css
        .trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '(')
        .trim_end_matches(')')
        .split(',')
        .map(|p| {
            p.trim()
                .parse()
                .unwrap_or_else(|_| panic!("not rgb: {css}"))
        })
        .collect();
    assert!(n.len() >= 3, "not rgb: {css}");
    [n[0], n[1], n[2]]
}

/// The WCAG 2 contrast ratio of two computed colours.
fn contrast(a: &str, b: &str) -> f64 {
    let lum = |c: [f64; 3]| {
        let ch = |v: f64| {
            let v = v / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2])
    };
    let (x, y) = (lum(rgb(a)), lum(rgb(b)));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn contrast_is_computed_as_wcag_does() {
    let black_white = contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)");
    assert!((black_white - 21.0).abs() < 1e-9, "{black_white}");
    assert!((contrast("rgb(180, 35, 24)", "rgba(180, 35, 24, 1)") - 1.0).abs() < 1e-9);
    let grey = contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)");
    assert!((4.5..4.6).contains(&grey), "{grey}");
}

/// Checks every `.danger` element of the current page (there must be one): its text stands
/// out from what is behind it by WCAG AA's 4.5:1.
async fn assert_danger_readable(chrome: &Chrome, page: &str) {
    let found = chrome
        .js(&MEASURE_COLOURS.replace("SELECTOR", "'.danger'"))
        .await;
    let found = found.as_array().unwrap();
    assert!(!found.is_empty(), "no .danger element on {page}");
    for e in found {
        let (fg, bg) = (
            e["color"].as_str().unwrap(),
            e["background"].as_str().unwrap(),
        );
        let ratio = contrast(fg, bg);
        eprintln!("{page}: .danger {e} contrast {ratio:.2}");
        assert!(ratio >= 4.5, "{page}: {e} has a contrast of {ratio:.2}");
    }
}

/// The tokens page at `width` x `height`: measures it, checks that nothing needs a
/// horizontal scroll, that every Revoke button is on screen, and that every token id is on
/// one line and complete; returns the measures.
async fn check_tokens_at(chrome: &Chrome, width: u32, height: u32, rows: usize) -> Value {
    chrome.set_viewport(width, height).await;
    chrome.goto("/console/tokens").await;
    chrome.wait_for("#tokens-table").await;
    let m = chrome.js(MEASURE_TOKENS).await;
    eprintln!(
        "Token Management at {width}x{height}: scrollWidth {}, table {}, Revoke buttons {}",
        m["scrollWidth"], m["table"], m["revoke"]
    );
    let inner = m["innerWidth"].as_f64().unwrap();
    assert_eq!(inner, f64::from(width));
    assert!(
        m["scrollWidth"].as_f64().unwrap() <= inner,
        "at {width}px the page scrolls sideways: {m}"
    );
    assert!(
        m["table"]["right"].as_f64().unwrap() <= inner,
        "at {width}px the table is wider than the window: {}",
        m["table"]
    );
    let revoke = m["revoke"].as_array().unwrap();
    assert_eq!(
        revoke.len(),
        rows,
        "one Revoke button per active token: {m}"
    );
    for r in revoke {
        assert!(
            r["left"].as_f64().unwrap() >= 0.0
                && r["right"].as_f64().unwrap() <= inner
                && r["width"].as_f64().unwrap() > 0.0
                && r["height"].as_f64().unwrap() > 0.0,
            "at {width}px a Revoke button is off screen: {r}"
        );
    }
    let ids = m["ids"].as_array().unwrap();
    assert_eq!(ids.len(), rows);
    for id in ids {
        assert_eq!(id["text"], id["expected"], "the id cell shows the whole id");
        assert_eq!(id["lines"], 1, "at {width}px a token id wraps: {id}");
        assert_eq!(id["whiteSpace"], "nowrap", "token ids never wrap: {id}");
        assert_ne!(id["userSelect"], "none", "token ids can be selected: {id}");
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_layout_fits_the_window_in_chromium() {
    let s = start_with(tollgate_testkit::sqlite(), Options::default()).await;
    user(&s, ADMIN, true).await;
    // Several client-credentials tokens, of clients with long names, so that the table
    // has something to be wide with.
    let mut first_client = String::new();
    let mut tokens = 0;
    for (name, version) in [
        ("Billing Service Integration", "2.1.0-beta"),
        ("Warehouse Reports", "10.4"),
    ] {
        let c = s
            .create_client(&json!({
                "name": name,
                "version": version,
                "type": "confidential",
                "grant_types": ["client_credentials"],
            }))
            .await;
        let (id, secret) = (
            c["client_id"].as_str().unwrap(),
            c["client_secret"].as_str().unwrap(),
        );
        if first_client.is_empty() {
            first_client = id.to_owned();
        }
        for _ in 0..3 {
            cc_token(&s, id, secret).await;
            tokens += 1;
        }
    }
    let Some(chrome) = Chrome::start(&s.base).await else {
        return;
    };

    // ---- Point 10: the sign-in page looks like the console.
    chrome.set_viewport(1280, 800).await;
    chrome.goto("/login").await;
    assert_eq!(chrome.text("main h1").await, "Sign in");
    let sign_in = chrome
        .js(&MEASURE_LOOK.replace("PRIMARY", "\"form[action='/login'] button[type=submit]\""))
        .await;
    chrome
        .login_to(Some("/console/clients"), ADMIN, PASSWORD)
        .await;
    assert_eq!(chrome.path().await, "/console/clients");
    let console = chrome
        .js(&MEASURE_LOOK.replace("PRIMARY", "'#add-client'"))
        .await;
    eprintln!("sign-in page: {sign_in}\nconsole: {console}");
    for key in [
        "bodyFont",
        "bodyColor",
        "bodyBackground",
        "brandFont",
        "brandWeight",
        "brandColor",
        "brandText",
        "buttonBackground",
        "buttonColor",
        "buttonRadius",
        "buttonFont",
    ] {
        assert!(!console[key].is_null(), "console has no {key}: {console}");
        assert_eq!(
            sign_in[key], console[key],
            "{key} differs between the sign-in page and the console"
        );
    }

    // ---- Point 2: "Delete this client…" and the other danger actions are readable.
    chrome
        .goto(&format!("/console/clients/{first_client}"))
        .await;
    chrome.wait_for("#delete").await;
    assert_danger_readable(&chrome, "the client page").await;
    chrome.click_and_wait("#delete").await;
    chrome.wait_for("#confirm.danger").await;
    assert_danger_readable(&chrome, "the delete confirmation").await;

    // ---- Points 1 and 7: Token Management fits the window; ids stay on one line.
    for (w, h) in [(1280, 800), (1024, 768), (390, 844)] {
        check_tokens_at(&chrome, w, h, tokens).await;
        if w == 390 {
            chrome.screenshot("tokens-phone").await;
        }
    }
    chrome.goto("/console/clients").await;
    chrome.wait_for("main h1").await;
    let scroll = chrome
        .js("return [document.documentElement.scrollWidth, window.innerWidth];")
        .await;
    assert!(
        scroll[0].as_f64().unwrap() <= scroll[1].as_f64().unwrap(),
        "the client list scrolls sideways on a phone: {scroll}"
    );
    chrome.screenshot("clients-phone").await;

    chrome.quit().await;
}
