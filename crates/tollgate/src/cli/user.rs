//! `tollgate user …`: resource owners and console administrators, through the admin API.

use super::output::{user_detail, user_table};
use super::{finish, is_id_shaped, shown, Api, CliError, Remote};
use clap::{Args, Subcommand};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        /// Unique, compared case-insensitively.
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Allow the user to use the admin console.
        #[arg(long)]
        admin: bool,
        /// Create the user deactivated.
        #[arg(long)]
        inactive: bool,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// List users.
    List {
        /// Case-insensitive substring of the username.
        #[arg(long)]
        q: Option<String>,
    },
    /// Show one user (by id or username).
    Show {
        /// A user id (it may start with "-") or username.
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Set a user's password (by id or username); their tokens and sessions end.
    SetPassword {
        /// A user id (it may start with "-") or username.
        #[arg(allow_hyphen_values = true)]
        user: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Delete a user (by id or username) with their tokens and sessions.
    Delete {
        /// A user id (it may start with "-") or username.
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Allow a deactivated user (by id or username) to log in again.
    Activate {
        /// A user id (it may start with "-") or username.
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Stop a user (by id or username) and invalidate their tokens and sessions for good.
    Deactivate {
        /// A user id (it may start with "-") or username.
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
}

#[derive(Debug, Args)]
pub struct PasswordArg {
    /// The password. A command-line argument is visible to other local users; prefer the
    /// environment variable.
    #[arg(long, env = "TOLLGATE_USER_PASSWORD", hide_env_values = true)]
    password: Option<String>,
}

impl PasswordArg {
    fn get(self) -> Result<String, CliError> {
        self.password.ok_or_else(|| {
            CliError::Usage("no password: pass --password or set TOLLGATE_USER_PASSWORD".to_owned())
        })
    }
}

pub async fn run_user(remote: Remote, cmd: UserCommand) -> ExitCode {
    finish(run(&remote, cmd).await)
}

fn text_of(v: &Value, k: &str) -> String {
    super::output::text(&v[k])
}

async fn run(remote: &Remote, cmd: UserCommand) -> Result<String, CliError> {
    let api = Api::new(remote)?;
    match cmd {
        UserCommand::Create {
            username,
            display_name,
            admin,
            inactive,
            password,
        } => {
            let password = password.get()?;
            let mut body = Map::new();
            body.insert("username".into(), json!(username));
            if let Some(d) = display_name {
                body.insert("display_name".into(), json!(d));
            }
            body.insert("password".into(), json!(password));
            body.insert("admin".into(), json!(admin));
            body.insert("active".into(), json!(!inactive));
            let v = api
                .call(Method::POST, "/users", &[], Some(Value::Object(body)))
                .await?;
            Ok(shown(remote, &v, user_detail))
        }
        UserCommand::List { q } => {
            let filters: Vec<(&str, String)> = q.into_iter().map(|q| ("q", q)).collect();
            let items = api.list_all("/users", &filters, None).await?;
            Ok(shown(remote, &Value::Array(items), |v| {
                user_table(v.as_array().map(Vec::as_slice).unwrap_or_default())
            }))
        }
        UserCommand::Show { user } => {
            let v = resolve(&api, &user).await?;
            Ok(shown(remote, &v, user_detail))
        }
        UserCommand::SetPassword { user, password } => {
            let password = password.get()?;
            let u = resolve(&api, &user).await?;
            api.call(
                Method::POST,
                &format!("/users/{}/password", text_of(&u, "id")),
                &[],
                Some(json!({ "password": password })),
            )
            .await?;
            Ok(if remote.json {
                String::new()
            } else {
                format!(
                    "password of user {} changed; their tokens and sessions have ended",
                    text_of(&u, "username")
                )
            })
        }
        UserCommand::Delete { user } => {
            let u = resolve(&api, &user).await?;
            api.call(
                Method::DELETE,
                &format!("/users/{}", text_of(&u, "id")),
                &[],
                None,
            )
            .await?;
            Ok(if remote.json {
                String::new()
            } else {
                format!("deleted user {}", text_of(&u, "username"))
            })
        }
        UserCommand::Activate { user } => set_active(remote, &api, &user, true).await,
        UserCommand::Deactivate { user } => set_active(remote, &api, &user, false).await,
    }
}

async fn set_active(
    remote: &Remote,
    api: &Api,
    user: &str,
    active: bool,
) -> Result<String, CliError> {
    let u = resolve(api, user).await?;
    let v = api
        .call(
            Method::PATCH,
            &format!("/users/{}", text_of(&u, "id")),
            &[],
            Some(json!({ "active": active })),
        )
        .await?;
    Ok(shown(remote, &v, |v| {
        if active {
            format!("user {} is active", text_of(v, "username"))
        } else {
            format!(
                "user {} is inactive; all their tokens and sessions are invalid",
                text_of(v, "username")
            )
        }
    }))
}

/// Finds a user by id or by username (exact, case-insensitive). An argument that is one
/// user's id and another user's username is refused rather than guessed.
async fn resolve(api: &Api, who: &str) -> Result<Value, CliError> {
    let who = who.trim();
    if who.is_empty() {
        return Err(CliError::Usage(
            "no user given (an id or a username)".into(),
        ));
    }
    let by_id = if is_id_shaped(who) {
        match api
            .call(Method::GET, &format!("/users/{who}"), &[], None)
            .await
        {
            Ok(v) => Some(v),
            Err(CliError::Api {
                status: StatusCode::NOT_FOUND,
                ..
            }) => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let by_name = find_by_username(api, who).await?;
    match (by_id, by_name) {
        (Some(a), Some(b)) if a["id"] != b["id"] => Err(CliError::Usage(format!(
            "{who:?} is the id of user {} and the username of another user; pass that user's id ({}) instead",
            text_of(&a, "username"),
            text_of(&b, "id")
        ))),
        (Some(u), _) | (None, Some(u)) => Ok(u),
        (None, None) => Err(CliError::Api {
            status: StatusCode::NOT_FOUND,
            detail: format!("no user has the id or username {who:?}"),
        }),
    }
}

async fn find_by_username(api: &Api, username: &str) -> Result<Option<Value>, CliError> {
    let wanted = username.to_lowercase();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("q", username.to_owned()), ("limit", "500".to_owned())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page = api.call(Method::GET, "/users", &query, None).await?;
        let found = page["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|u| u["username"].as_str().map(str::to_lowercase).as_deref() == Some(&wanted))
                .cloned()
        });
        if found.is_some() {
            return Ok(found);
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(None),
        }
    }
}
