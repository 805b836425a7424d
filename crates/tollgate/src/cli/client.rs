use super::output::{client_detail, client_table};
use super::{finish, shown, Api, CliError, Remote};
use crate::http::admin::clients::limit_to_json;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Map, Value};
use std::process::ExitCode;
use tollgate_core::client::LimitInput;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its secret once (confidential clients).
    Create(ClientFields),
    /// List clients.
    List {
        /// Case-insensitive substring of the name.
        #[arg(long)]
        q: Option<String>,
        /// Only active (true) or inactive (false) clients.
        #[arg(long)]
        active: Option<bool>,
        /// Only clients allowed this grant type.
        #[arg(long)]
        grant_type: Option<String>,
    },
    /// Show one client.
    Show {
        /// The client id (it may start with "-").
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Change a client (name cannot change).
    Update {
        /// The client id (it may start with "-").
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[command(flatten)]
        fields: ClientFields,
        /// Refuse if the client changed since this ETag was read.
        #[arg(long)]
        if_match: Option<String>,
    },
    /// Delete a client and its tokens.
    Delete {
        /// The client id (it may start with "-").
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Issue a new secret; prints it once.
    RotateSecret {
        /// The client id (it may start with "-").
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        /// Seconds the previous secret keeps working.
        #[arg(long)]
        grace: Option<i64>,
    },
    /// Allow the client to obtain tokens again.
    Activate {
        /// The client id (it may start with "-").
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Stop the client and invalidate all its tokens for good.
    Deactivate {
        /// The client id (it may start with "-").
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
}

#[derive(Debug, Args, Default)]
pub struct ClientFields {
    #[arg(long)]
    name: Option<String>,
    #[arg(long = "version", id = "client_version")]
    version: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// confidential or public.
    #[arg(long = "type")]
    client_type: Option<String>,
    /// Repeat or separate with commas: authorization_code, client_credentials, password, implicit.
    #[arg(long = "grant", value_delimiter = ',')]
    grants: Vec<String>,
    /// Repeat for several.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Repeat or separate with commas.
    #[arg(long = "scope", value_delimiter = ',')]
    scopes: Vec<String>,
    /// "never" or seconds.
    #[arg(long)]
    lifetime: Option<String>,
    /// "unlimited" or a number (0 = no refresh token).
    #[arg(long)]
    refresh_count: Option<String>,
}

/// "never" stays text; a number is sent as a number. The server validates both.
fn limit(v: &str) -> Value {
    limit_to_json(LimitInput::typed(v))
}

impl ClientFields {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        put("name", self.name.clone().map(Value::from));
        put("version", self.version.clone().map(Value::from));
        put("description", self.description.clone().map(Value::from));
        put("type", self.client_type.clone().map(Value::from));
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| json!(v));
        put("grant_types", list(&self.grants));
        put("redirect_uris", list(&self.redirect_uris));
        put("scopes", list(&self.scopes));
        put("access_token_lifetime", self.lifetime.as_deref().map(limit));
        put("refresh_count", self.refresh_count.as_deref().map(limit));
        Value::Object(m)
    }
}

pub async fn run_client(remote: Remote, cmd: ClientCommand) -> ExitCode {
    finish(run(&remote, cmd).await)
}

fn path_id(id: &str) -> Result<String, CliError> {
    super::path_id("client", id)
}

fn with_secret(c: &Value) -> String {
    let mut out = client_detail(c);
    if let Some(s) = c.get("client_secret").and_then(Value::as_str) {
        out.push_str(&format!(
            "\nclient_secret: {s}\nStore the secret now: it is shown only this once."
        ));
    }
    out
}

async fn run(remote: &Remote, cmd: ClientCommand) -> Result<String, CliError> {
    let api = Api::new(remote)?;
    match cmd {
        ClientCommand::Create(fields) => {
            let v = api
                .call(Method::POST, "/clients", &[], Some(fields.to_json()))
                .await?;
            Ok(shown(remote, &v, with_secret))
        }
        ClientCommand::List {
            q,
            active,
            grant_type,
        } => {
            let mut filters = Vec::new();
            if let Some(q) = q {
                filters.push(("q", q));
            }
            if let Some(a) = active {
                filters.push(("active", a.to_string()));
            }
            if let Some(g) = grant_type {
                filters.push(("grant_type", g));
            }
            let items = api.list_all("/clients", &filters, None).await?;
            Ok(shown(remote, &Value::Array(items), |v| {
                client_table(v.as_array().map(Vec::as_slice).unwrap_or_default())
            }))
        }
        ClientCommand::Show { client_id } => {
            let v = api
                .call(
                    Method::GET,
                    &format!("/clients/{}", path_id(&client_id)?),
                    &[],
                    None,
                )
                .await?;
            Ok(shown(remote, &v, client_detail))
        }
        ClientCommand::Update {
            client_id,
            fields,
            if_match,
        } => {
            let path = format!("/clients/{}", path_id(&client_id)?);
            let v = match if_match {
                None => {
                    api.call(Method::PATCH, &path, &[], Some(fields.to_json()))
                        .await?
                }
                Some(tag) => api.patch_if_match(&path, &tag, fields.to_json()).await?,
            };
            Ok(shown(remote, &v, with_secret))
        }
        ClientCommand::Delete { client_id } => {
            api.call(
                Method::DELETE,
                &format!("/clients/{}", path_id(&client_id)?),
                &[],
                None,
            )
            .await?;
            Ok(if remote.json {
                String::new()
            } else {
                format!("deleted client {client_id}")
            })
        }
        ClientCommand::RotateSecret { client_id, grace } => {
            let body = grace.map(|g| json!({ "grace_seconds": g }));
            let v = api
                .call(
                    Method::POST,
                    &format!("/clients/{}/secret", path_id(&client_id)?),
                    &[],
                    Some(body.unwrap_or_else(|| json!({}))),
                )
                .await?;
            Ok(shown(remote, &v, |v| {
                let mut out = format!(
                    "client_secret: {}\nStore the secret now: it is shown only this once.",
                    v["client_secret"].as_str().unwrap_or("")
                );
                if let Some(t) = v["previous_secret_expires_at"].as_str() {
                    out.push_str(&format!("\nThe previous secret keeps working until {t}."));
                }
                out
            }))
        }
        ClientCommand::Activate { client_id } => set_active(remote, &api, &client_id, true).await,
        ClientCommand::Deactivate { client_id } => {
            set_active(remote, &api, &client_id, false).await
        }
    }
}

async fn set_active(
    remote: &Remote,
    api: &Api,
    client_id: &str,
    active: bool,
) -> Result<String, CliError> {
    let v = api
        .call(
            Method::PATCH,
            &format!("/clients/{}", path_id(client_id)?),
            &[],
            Some(json!({ "active": active })),
        )
        .await?;
    Ok(shown(remote, &v, |v| {
        if active {
            format!("client {} is active", text_of(v, "client_id"))
        } else {
            format!(
                "client {} is inactive; all its tokens are invalid",
                text_of(v, "client_id")
            )
        }
    }))
}

fn text_of(v: &Value, k: &str) -> String {
    super::output::text(&v[k])
}

impl Api {
    async fn patch_if_match(&self, path: &str, tag: &str, body: Value) -> Result<Value, CliError> {
        let tag = if tag.starts_with('"') {
            tag.to_owned()
        } else {
            format!("\"{tag}\"")
        };
        let res = self
            .http
            .patch(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header(reqwest::header::IF_MATCH, tag)
            .json(&body)
            .send()
            .await
            .map_err(|e| CliError::Unreachable {
                url: self.base.clone(),
                reason: e.without_url().to_string(),
            })?;
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(v)
        } else {
            Err(CliError::Api {
                status,
                detail: super::problem_line(&v),
            })
        }
    }
}
