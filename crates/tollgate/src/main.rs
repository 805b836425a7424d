use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tollgate::cli::{self, ClientCommand, Remote, TokenCommand, UserCommand};
use tollgate::config::{Config, FlagOverrides, LogFormat};
use tollgate_core::audit::Actor;
use tollgate_core::SystemClock;

/// Tollgate: an OAuth 2.0 authorization server in one binary.
#[derive(Parser)]
#[command(name = "tollgate", version, about)]
struct Cli {
    /// TOML configuration file (settings: see SPEC §7 / README).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates and migrates the database as needed).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Administration that talks to the database directly.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage OAuth clients through a running server's admin API.
    Client {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: Box<ClientCommand>,
    },
    /// Manage users (resource owners, console administrators) through the admin API.
    User {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: Box<UserCommand>,
    },
    /// List and revoke tokens through the admin API.
    Token {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: Box<TokenCommand>,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (overrides `listen`).
    #[arg(long)]
    listen: Option<String>,
    /// Public base URL (overrides `issuer`).
    #[arg(long)]
    issuer: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct DbArgs {
    /// Database URL (overrides `database_url`).
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin key and print it (only it) on stdout.
    CreateKey {
        /// What the key is for.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn main() -> ExitCode {
    match try_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Logs go to stderr: one line per event, in the request's span (method, path without the
/// query, request id). `json` is one object per line for log shippers; `RUST_LOG` overrides
/// the level filter.
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not for journald or a file.
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn try_main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let config_file = cli.config.as_deref();
    let load = |db: &DbArgs, listen: Option<String>, issuer: Option<String>| {
        Config::load(
            config_file,
            &FlagOverrides {
                listen,
                issuer,
                database_url: db.database_url.clone(),
            },
        )
    };
    match cli.command {
        Command::Serve(args) => {
            let config = load(&args.db, args.listen, args.issuer)?;
            init_logging(config.log_format);
            runtime()?.block_on(tollgate::server::run(config))?;
        }
        Command::Migrate(db) => {
            let config = load(&db, None, None)?;
            runtime()?.block_on(async {
                tollgate_store::open(&config.database_url).await?;
                anyhow::Ok(())
            })?;
            eprintln!(
                "database {} is up to date",
                tollgate_store::redact_url(&config.database_url)
            );
        }
        Command::Admin(AdminCommand::CreateKey { name, db }) => {
            let config = load(&db, None, None)?;
            let key = runtime()?.block_on(async {
                let state = tollgate::server::build_state(&config, Arc::new(SystemClock)).await?;
                let new = state
                    .services
                    .admin_keys
                    .create(&Actor::new("cli", None), &name)
                    .await?;
                anyhow::Ok(new.secret)
            })?;
            println!("{}", key.expose());
        }
        Command::Client { remote, command } => {
            return Ok(runtime()?.block_on(cli::run_client(remote, *command)));
        }
        Command::User { remote, command } => {
            return Ok(runtime()?.block_on(cli::run_user(remote, *command)));
        }
        Command::Token { remote, command } => {
            return Ok(runtime()?.block_on(cli::run_token(remote, *command)));
        }
    }
    Ok(ExitCode::SUCCESS)
}
