//! Start-up wiring: open the store, build the services, create the first administrator,
//! serve HTTP until SIGTERM/SIGINT.

use crate::config::Config;
use crate::http::{self, AppState};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tollgate_core::service::{Janitor, ServiceSettings, Services};
use tollgate_core::store::StoreError;
use tollgate_core::{Clock, ServiceError, SystemClock};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("database ({url}): {source}")]
    Store { url: String, source: StoreError },
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// Opens (and migrates) the database and builds the services.
pub async fn build_state(config: &Config, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
    let store = tollgate_store::open(&config.database_url)
        .await
        .map_err(|source| StartError::Store {
            url: tollgate_store::redact_url(&config.database_url),
            source,
        })?;
    let settings = ServiceSettings {
        policy: config.policy,
        issuer: config.issuer.clone(),
        auth_code_lifetime_secs: config.auth_code_lifetime,
        token_retention_secs: config.token_retention,
        throttle: config.rate_limit,
        password_hashing: config.password_hashing,
    };
    let services = Services::new(store, clock, settings).await?;
    Ok(AppState {
        services: Arc::new(services),
        issuer: config.issuer.as_str().into(),
        metrics: Arc::new(http::metrics::Metrics::new()),
        trusted_proxies: config.trusted_proxies.as_slice().into(),
        http: config.http.clone(),
    })
}

/// How long requests in flight at SIGTERM/SIGINT get to finish before the process exits
/// anyway. OAuth requests take milliseconds; this only cuts off stalled clients, well
/// inside the 30 s an orchestrator usually waits before SIGKILL.
pub const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the application on `listener` until `shutdown` completes, then stops accepting
/// and lets the requests in flight finish (at most `DRAIN_LIMIT`). A token request answers
/// only after the group-commit writer committed its tokens, so once they have finished no
/// acknowledged write is pending; one cut off at the limit never got its 200. Connections
/// live under `state.http`'s limits (`conn.rs`).
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.http.clone();
    crate::conn::serve(
        listener,
        None,
        http::router(state),
        limits,
        DRAIN_LIMIT,
        shutdown,
    )
    .await
}

/// `serve_on` over HTTPS: each connection's TLS handshake runs in its own task, within
/// `http.tls_handshake_timeout`, under the same connection cap.
pub async fn serve_tls_on(
    listener: TcpListener,
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.http.clone();
    crate::conn::serve(
        listener,
        Some(tokio_rustls::TlsAcceptor::from(tls)),
        http::router(state),
        limits,
        DRAIN_LIMIT,
        shutdown,
    )
    .await
}

/// `tollgate serve`.
pub async fn run(config: Config) -> Result<(), StartError> {
    // Read first, so a bad certificate or key stops start-up, naming its setting, before
    // anything is created (such as the first administrator, whose password is shown once).
    let tls = match &config.tls {
        Some(files) => Some(crate::tls::server_config(&files.cert, &files.key)?),
        None => None,
    };
    let state = build_state(&config, Arc::new(SystemClock)).await?;
    tracing::info!(
        backend = state.services.store.backend(),
        database = %tollgate_store::redact_url(&config.database_url),
        "database ready"
    );
    let password = std::env::var("TOLLGATE_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    if let Some(generated) = state.services.users.ensure_initial_admin(password).await? {
        // Printed once, on stderr, and never logged.
        eprintln!(
            "Created the administrator `admin` with the generated password: {generated}\n\
             It will not be shown again. Set TOLLGATE_ADMIN_PASSWORD before the first start to choose it."
        );
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    tracing::info!(listen = %config.listen, issuer = %config.issuer, https = tls.is_some(), "tollgate listening");
    tokio::spawn(janitor_loop(
        state.services.janitor.clone(),
        state.metrics.clone(),
    ));
    tokio::spawn(throttle_housekeeping(state.services.throttle.clone()));
    match tls {
        Some(tls) => serve_tls_on(listener, tls, state, shutdown_signal()).await?,
        None => serve_on(listener, state, shutdown_signal()).await?,
    }
    tracing::info!("tollgate stopped");
    Ok(())
}

/// Forgets brute-force keys whose failures are paid back, so the limiter's memory follows
/// the recent failures rather than every key ever tried.
async fn throttle_housekeeping(throttle: tollgate_core::service::Throttle) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        throttle.retain_recent();
    }
}

/// How often the janitor looks for old rows.
const JANITOR_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

async fn janitor_loop(janitor: Janitor, metrics: Arc<http::metrics::Metrics>) {
    let mut tick = tokio::time::interval(JANITOR_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match janitor.run_once().await {
            Ok(p) => {
                metrics.janitor_succeeded(&p);
                if p.tokens + p.codes + p.sessions > 0 {
                    tracing::info!(
                        tokens = p.tokens,
                        codes = p.codes,
                        sessions = p.sessions,
                        "janitor purged old rows"
                    );
                }
            }
            Err(e) => {
                metrics.janitor_failed();
                tracing::warn!(error = %e, "janitor pass failed; will retry");
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
