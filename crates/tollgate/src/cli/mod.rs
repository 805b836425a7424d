//! `tollgate client|user|token …`: a thin client of a running server's admin API. Rules
//! are enforced by the server (one path for every mutation); this only turns flags into
//! requests and responses into tables.

mod client;
mod output;
mod token;
mod user;

pub use client::{run_client, ClientCommand};
pub use token::{run_token, TokenCommand};
pub use user::{run_user, UserCommand};

use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::process::ExitCode;

#[derive(Debug, Clone, Args)]
pub struct Remote {
    /// Base URL of the Tollgate server.
    #[arg(
        long,
        env = "TOLLGATE_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// Admin key (create one with `tollgate admin create-key`).
    #[arg(
        long,
        env = "TOLLGATE_ADMIN_KEY",
        hide_env_values = true,
        global = true
    )]
    pub admin_key: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Why a command failed, in one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("no admin key: pass --admin-key or set TOLLGATE_ADMIN_KEY")]
    NoKey,
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{status}: {detail}")]
    Api { status: StatusCode, detail: String },
    #[error("{0}")]
    Usage(String),
}

/// Prints a command's output (if any) and turns its outcome into the exit code; errors are
/// one line on stderr.
pub(crate) fn finish(result: Result<String, CliError>) -> ExitCode {
    match result {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // The reason may quote what the server was sent or holds.
            eprintln!("error: {}", output::terminal_safe(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// The API's JSON with `--json`, the human rendering otherwise.
pub(crate) fn shown(remote: &Remote, v: &Value, human: impl FnOnce(&Value) -> String) -> String {
    if remote.json {
        output::json_terminal_safe(v)
    } else {
        human(v)
    }
}

/// An id to put in a URL path: refuses anything that is not one of the server's ids
/// (which are URL-safe), so no input can reach another resource.
pub(crate) fn path_id(what: &str, id: &str) -> Result<String, CliError> {
    if is_id_shaped(id) {
        Ok(id.to_owned())
    } else {
        Err(CliError::Usage(format!("{id:?} is not a {what} id")))
    }
}

pub(crate) fn is_id_shaped(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    pub fn new(remote: &Remote) -> Result<Self, CliError> {
        let key = remote.admin_key.clone().ok_or(CliError::NoKey)?;
        Ok(Self {
            http: reqwest::Client::new(),
            base: format!("{}/admin/api/v1", remote.url.trim_end_matches('/')),
            key,
        })
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value, CliError> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .request(method, &url)
            .bearer_auth(&self.key)
            .query(query);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| CliError::Unreachable {
            url: self.base.clone(),
            reason: e.without_url().to_string(),
        })?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let json: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            Ok(json)
        } else {
            Err(CliError::Api {
                status,
                detail: problem_line(&json),
            })
        }
    }
}

impl Api {
    /// Every item of a paginated listing, following `next_cursor` (at most `max` items).
    pub async fn list_all(
        &self,
        path: &str,
        filters: &[(&str, String)],
        max: Option<usize>,
    ) -> Result<Vec<Value>, CliError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "200".to_owned())];
            query.extend(filters.iter().cloned());
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let page = self.call(Method::GET, path, &query, None).await?;
            if let Some(a) = page["items"].as_array() {
                items.extend(a.iter().cloned());
            }
            if let Some(m) = max {
                if items.len() >= m {
                    items.truncate(m);
                    break;
                }
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        Ok(items)
    }
}

/// A problem+json body as one line: the detail, then each field error.
fn problem_line(v: &Value) -> String {
    let mut line = v
        .get("detail")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string());
    if let Some(errors) = v.get("errors").and_then(Value::as_array) {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    e.get("field").and_then(Value::as_str).unwrap_or("?"),
                    e.get("message").and_then(Value::as_str).unwrap_or("?")
                )
            })
            .collect();
        if !parts.is_empty() {
            line = parts.join("; ");
        }
    }
    line.replace('\n', " ")
}
