//! A scripted browser for the authorization endpoint: follows the sign-in and consent pages
//! over HTTP with a cookie jar, as a person would, and reads values out of the HTML forms.

use reqwest::header::LOCATION;
use std::collections::HashMap;

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

/// What the authorization endpoint finally did.
#[derive(Debug)]
pub enum Outcome {
    /// Redirected to the client (the `Location`).
    Redirect(String),
    /// Showed a page instead (status, body).
    Page(u16, String),
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    /// A browser whose connections come from `source` (any 127.0.0.0/8 address reaches the
    /// server's 127.0.0.1 on Linux), to play a person at another address.
    pub fn from_address(base: &str, source: [u8; 4]) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .local_address(std::net::IpAddr::from(source))
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    fn abs(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_owned()
        }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(self.abs(url)).send().await.unwrap()
    }

    pub async fn post_form(&self, url: &str, form: &[(String, String)]) -> reqwest::Response {
        self.http
            .post(self.abs(url))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the login page; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) {
        let page = self.get("/login").await.text().await.unwrap();
        let mut form = hidden_inputs(&page);
        form.push(("username".into(), username.into()));
        form.push(("password".into(), password.into()));
        let res = self.post_form("/login", &form).await;
        assert_eq!(
            res.status(),
            303,
            "login failed: {}",
            res.text().await.unwrap()
        );
    }

    /// Opens an authorization URL; signs in when asked, and answers the consent page with
    /// `allow` (true/false) when it appears.
    pub async fn authorize(&self, url: &str, login: Option<(&str, &str)>, allow: bool) -> Outcome {
        let mut res = self.get(url).await;
        if res.status() == 303 {
            let loc = location(&res);
            if loc.starts_with("/login") {
                let (u, p) = login.expect("the authorization endpoint asked to sign in");
                let page = self.get(&loc).await.text().await.unwrap();
                let mut form = hidden_inputs(&page);
                form.push(("username".into(), u.into()));
                form.push(("password".into(), p.into()));
                let r = self.post_form("/login", &form).await;
                assert_eq!(r.status(), 303, "login failed: {}", r.text().await.unwrap());
                res = self.get(&location(&r)).await;
            }
        }
        if res.status() == 303 {
            return Outcome::Redirect(location(&res));
        }
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        if status == 200 && body.contains("action=\"/oauth2/consent\"") {
            let mut form = hidden_inputs(&body);
            form.push((
                "decision".into(),
                if allow { "allow" } else { "deny" }.into(),
            ));
            let r = self.post_form("/oauth2/consent", &form).await;
            if r.status() == 303 {
                return Outcome::Redirect(location(&r));
            }
            let st = r.status().as_u16();
            return Outcome::Page(st, r.text().await.unwrap());
        }
        Outcome::Page(status, body)
    }
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The `name`/`value` pairs of every hidden input of the page.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
        if !tag.contains("type=\"hidden\"") {
            continue;
        }
        if let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value")) {
            out.push((n, v));
        }
    }
    out
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// HTML entities as askama writes them: named ones and `&#NN;` / `&#xHH;`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let ent = &rest[1..end];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The query (or fragment) parameters of a redirect URL.
pub fn params_of(url: &str, fragment: bool) -> HashMap<String, String> {
    let u = url::Url::parse(url).unwrap();
    let raw = if fragment {
        u.fragment().unwrap_or("").to_owned()
    } else {
        u.query().unwrap_or("").to_owned()
    };
    url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
