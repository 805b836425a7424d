//! `tollgate token …`: the token management list and revocation, through the admin API.

use super::output::{token_detail, token_table};
use super::{finish, path_id, shown, Api, CliError, Remote};
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// List tokens, newest first (never the tokens themselves).
    List {
        /// Only tokens of this client.
        #[arg(long, allow_hyphen_values = true)]
        client_id: Option<String>,
        /// Only tokens of this user (case-insensitive).
        #[arg(long)]
        username: Option<String>,
        /// access or refresh.
        #[arg(long)]
        kind: Option<String>,
        /// active, expired or revoked.
        #[arg(long)]
        status: Option<String>,
        /// Show at most this many (default: all).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Show one token's metadata.
    Show {
        /// The token id (it may start with "-").
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Revoke a token; a refresh token takes every token of its authorization with it.
    Revoke {
        /// The token id (it may start with "-").
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

pub async fn run_token(remote: Remote, cmd: TokenCommand) -> ExitCode {
    finish(run(&remote, cmd).await)
}

fn token_path(id: &str) -> Result<String, CliError> {
    Ok(format!("/tokens/{}", path_id("token", id)?))
}

async fn run(remote: &Remote, cmd: TokenCommand) -> Result<String, CliError> {
    let api = Api::new(remote)?;
    match cmd {
        TokenCommand::List {
            client_id,
            username,
            kind,
            status,
            limit,
        } => {
            let filters: Vec<(&str, String)> = [
                ("client_id", client_id),
                ("username", username),
                ("kind", kind),
                ("status", status),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
            let items = api.list_all("/tokens", &filters, limit).await?;
            Ok(shown(remote, &Value::Array(items), |v| {
                token_table(v.as_array().map(Vec::as_slice).unwrap_or_default())
            }))
        }
        TokenCommand::Show { id } => {
            let v = api.call(Method::GET, &token_path(&id)?, &[], None).await?;
            Ok(shown(remote, &v, token_detail))
        }
        TokenCommand::Revoke { id } => {
            api.call(Method::DELETE, &token_path(&id)?, &[], None)
                .await?;
            Ok(if remote.json {
                String::new()
            } else {
                format!("revoked token {id}")
            })
        }
    }
}
