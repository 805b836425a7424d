//! Configuration (SPEC §7): defaults, then a TOML file, then `TOLLGATE_*` environment
//! variables, then command-line flags. Parsed cheaply first (`RawConfig`), then checked
//! into `Config`; any bad value stops start-up with a message naming the setting.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tollgate_core::service::throttle::{Budget, ThrottleSettings};
use tollgate_core::user::PasswordHashingSettings;
use tollgate_core::Policy;

mod http;

pub use http::{HttpSettings, RawHttp};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: String,
    pub issuer: Option<String>,
    pub database_url: String,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    pub auth_code_lifetime: i64,
    pub token_retention: i64,
    pub log_format: String,
    pub policy: RawPolicy,
    pub rate_limit: RawRateLimit,
    pub password_hashing: RawPasswordHashing,
    pub http: RawHttp,
}

/// Concurrency of Argon2id (SPEC §9 resource limits): `max_concurrent` computations of
/// 19 MiB each at most, `max_waiting` requests queued for one (for at most 1 s); the rest
/// are refused at once with 503 and `Retry-After`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPasswordHashing {
    pub max_concurrent: i64,
    pub max_waiting: i64,
}

impl Default for RawPasswordHashing {
    fn default() -> Self {
        let d = PasswordHashingSettings::default();
        Self {
            max_concurrent: d.max_concurrent.into(),
            max_waiting: d.max_waiting.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub allow_legacy_grants: bool,
    pub allow_never_expiring_tokens: bool,
}

/// Brute-force limits (SPEC §9): failures per key, `burst` in a row then `per_minute`;
/// `per_minute = 0` turns that limit off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    pub client_per_minute: i64,
    pub client_burst: i64,
    pub user_per_minute: i64,
    pub user_burst: i64,
    pub user_untrusted_per_minute: i64,
    pub user_untrusted_burst: i64,
    pub address_per_minute: i64,
    pub address_burst: i64,
}

impl Default for RawRateLimit {
    fn default() -> Self {
        let d = ThrottleSettings::default();
        Self {
            client_per_minute: d.client.per_minute.into(),
            client_burst: d.client.burst.into(),
            user_per_minute: d.user.per_minute.into(),
            user_burst: d.user.burst.into(),
            user_untrusted_per_minute: d.user_untrusted.per_minute.into(),
            user_untrusted_burst: d.user_untrusted.burst.into(),
            address_per_minute: d.address.per_minute.into(),
            address_burst: d.address.burst.into(),
        }
    }
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            issuer: None,
            database_url: "sqlite://tollgate.db".into(),
            tls_cert: None,
            tls_key: None,
            trusted_proxies: Vec::new(),
            auth_code_lifetime: 60,
            token_retention: 604_800,
            log_format: "text".into(),
            policy: RawPolicy {
                allow_legacy_grants: true,
                allow_never_expiring_tokens: true,
            },
            rate_limit: RawRateLimit::default(),
            password_hashing: RawPasswordHashing::default(),
            http: RawHttp::default(),
        }
    }
}

/// Settings given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Public base URL, without a trailing slash.
    pub issuer: String,
    pub database_url: String,
    /// Serve HTTPS with this certificate chain and key (PEM files).
    pub tls: Option<TlsFiles>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub auth_code_lifetime: u32,
    pub token_retention: u64,
    pub log_format: LogFormat,
    pub policy: Policy,
    pub rate_limit: ThrottleSettings,
    pub password_hashing: PasswordHashingSettings,
    pub http: HttpSettings,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration: invalid `{setting}` ({env}): {reason}")]
    Invalid {
        setting: &'static str,
        env: &'static str,
        reason: String,
    },
}

/// Environment variables that are settings. Others with the prefix (`TOLLGATE_URL`,
/// `TOLLGATE_ADMIN_KEY` for the CLI, `TOLLGATE_ADMIN_PASSWORD`) are not.
const ENV_SETTINGS: &[&str] = &[
    "listen",
    "issuer",
    "database_url",
    "tls_cert",
    "tls_key",
    "trusted_proxies",
    "auth_code_lifetime",
    "token_retention",
    "log_format",
    "policy__allow_legacy_grants",
    "policy__allow_never_expiring_tokens",
    "rate_limit__client_per_minute",
    "rate_limit__client_burst",
    "rate_limit__user_per_minute",
    "rate_limit__user_burst",
    "rate_limit__user_untrusted_per_minute",
    "rate_limit__user_untrusted_burst",
    "rate_limit__address_per_minute",
    "rate_limit__address_burst",
    "password_hashing__max_concurrent",
    "password_hashing__max_waiting",
    "http__header_read_timeout",
    "http__request_body_timeout",
    "http__idle_timeout",
    "http__tls_handshake_timeout",
    "http__max_header_bytes",
    "http__max_connections",
    "http__hsts_max_age",
];

impl Config {
    pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(RawConfig::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Load(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        fig = fig
            .merge(
                Env::prefixed("TOLLGATE_")
                    // Keys keep the variable's case here; nested ones may already be split.
                    .filter(|k| {
                        let k = k.as_str().replace('.', "__");
                        ENV_SETTINGS.iter().any(|s| s.eq_ignore_ascii_case(&k))
                    })
                    .split("__"),
            )
            .merge(Serialized::defaults(flags));
        let raw: RawConfig = fig.extract().map_err(describe)?;
        raw.validate()
    }
}

/// Figment's errors, phrased with the setting's TOML name and where the value came from.
fn describe(err: figment::Error) -> ConfigError {
    let parts: Vec<String> = err
        .into_iter()
        .map(|e| {
            let key = e.path.join(".").to_lowercase();
            let source = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            if key.is_empty() {
                format!("{}{source}", e.kind)
            } else {
                format!("invalid `{key}`{source}: {}", e.kind)
            }
        })
        .collect();
    ConfigError::Load(parts.join("; "))
}

fn invalid(setting: &'static str, env: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        env,
        reason: reason.into(),
    }
}

impl RawConfig {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            invalid(
                "listen",
                "TOLLGATE_LISTEN",
                format!(
                    "{:?} is not an address:port such as 127.0.0.1:8080",
                    self.listen
                ),
            )
        })?;
        let tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid(
                    "tls_key",
                    "TOLLGATE_TLS_KEY",
                    "`tls_cert` is set, so the private key file is needed too",
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "tls_cert",
                    "TOLLGATE_TLS_CERT",
                    "`tls_key` is set, so the certificate file is needed too",
                ))
            }
        };
        let issuer = match self.issuer {
            None if tls.is_some() => format!("https://{listen}"),
            None => format!("http://{listen}"),
            Some(i) => {
                let u = url::Url::parse(&i).map_err(|e| {
                    invalid(
                        "issuer",
                        "TOLLGATE_ISSUER",
                        format!("{i:?} is not a URL: {e}"),
                    )
                })?;
                if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                    return Err(invalid(
                        "issuer",
                        "TOLLGATE_ISSUER",
                        "must be an http(s) URL such as https://auth.example.com",
                    ));
                }
                // RFC 8414 §2: the issuer has no query or fragment.
                if u.query().is_some() || u.fragment().is_some() {
                    return Err(invalid(
                        "issuer",
                        "TOLLGATE_ISSUER",
                        "must not have a query or fragment (RFC 8414 §2)",
                    ));
                }
                i.trim_end_matches('/').to_owned()
            }
        };
        if tollgate_store::Backend::of_url(&self.database_url).is_none() {
            return Err(invalid(
                "database_url",
                "TOLLGATE_DATABASE_URL",
                "must start with sqlite:// or postgres://",
            ));
        }
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                // A bare address is a range of one.
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "trusted_proxies",
                            "TOLLGATE_TRUSTED_PROXIES",
                            format!("{p:?} is not an IP address or CIDR range such as 10.0.0.0/8"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !(1..=600).contains(&self.auth_code_lifetime) {
            return Err(invalid(
                "auth_code_lifetime",
                "TOLLGATE_AUTH_CODE_LIFETIME",
                format!("{} is outside 1–600 seconds", self.auth_code_lifetime),
            ));
        }
        if self.token_retention < 0 {
            return Err(invalid(
                "token_retention",
                "TOLLGATE_TOKEN_RETENTION",
                "must be a number of seconds ≥ 0",
            ));
        }
        let log_format = match self.log_format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log_format",
                    "TOLLGATE_LOG_FORMAT",
                    format!("{other:?} is neither \"text\" nor \"json\""),
                ))
            }
        };
        let r = &self.rate_limit;
        let rate_limit = ThrottleSettings {
            client: budget(r.client_per_minute, r.client_burst, RATE_LIMIT_SETTINGS[0])?,
            user: budget(r.user_per_minute, r.user_burst, RATE_LIMIT_SETTINGS[1])?,
            user_untrusted: budget(
                r.user_untrusted_per_minute,
                r.user_untrusted_burst,
                RATE_LIMIT_SETTINGS[3],
            )?,
            address: budget(
                r.address_per_minute,
                r.address_burst,
                RATE_LIMIT_SETTINGS[2],
            )?,
        };
        let p = &self.password_hashing;
        let password_hashing = PasswordHashingSettings {
            max_concurrent: u32::try_from(p.max_concurrent)
                .ok()
                .filter(|n| (1..=256).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "password_hashing.max_concurrent",
                        "TOLLGATE_PASSWORD_HASHING__MAX_CONCURRENT",
                        format!(
                            "{} is not a number of concurrent Argon2id computations from 1 to 256 (each takes 19 MiB)",
                            p.max_concurrent
                        ),
                    )
                })?,
            max_waiting: u32::try_from(p.max_waiting)
                .ok()
                .filter(|n| *n <= 100_000)
                .ok_or_else(|| {
                    invalid(
                        "password_hashing.max_waiting",
                        "TOLLGATE_PASSWORD_HASHING__MAX_WAITING",
                        format!(
                            "{} is not a number of waiting requests from 0 to 100000",
                            p.max_waiting
                        ),
                    )
                })?,
        };
        let http = self.http.validate()?;
        Ok(Config {
            listen,
            issuer,
            database_url: self.database_url,
            tls,
            trusted_proxies,
            auth_code_lifetime: self.auth_code_lifetime as u32,
            token_retention: self.token_retention as u64,
            log_format,
            policy: Policy {
                allow_legacy_grants: self.policy.allow_legacy_grants,
                allow_never_expiring_tokens: self.policy.allow_never_expiring_tokens,
            },
            rate_limit,
            password_hashing,
            http,
        })
    }
}

/// (setting, environment variable) of each rate limit's `per_minute` and `burst`.
type BudgetNames = [(&'static str, &'static str); 2];

const RATE_LIMIT_SETTINGS: [BudgetNames; 4] = [
    [
        (
            "rate_limit.client_per_minute",
            "TOLLGATE_RATE_LIMIT__CLIENT_PER_MINUTE",
        ),
        (
            "rate_limit.client_burst",
            "TOLLGATE_RATE_LIMIT__CLIENT_BURST",
        ),
    ],
    [
        (
            "rate_limit.user_per_minute",
            "TOLLGATE_RATE_LIMIT__USER_PER_MINUTE",
        ),
        ("rate_limit.user_burst", "TOLLGATE_RATE_LIMIT__USER_BURST"),
    ],
    [
        (
            "rate_limit.address_per_minute",
            "TOLLGATE_RATE_LIMIT__ADDRESS_PER_MINUTE",
        ),
        (
            "rate_limit.address_burst",
            "TOLLGATE_RATE_LIMIT__ADDRESS_BURST",
        ),
    ],
    [
        (
            "rate_limit.user_untrusted_per_minute",
            "TOLLGATE_RATE_LIMIT__USER_UNTRUSTED_PER_MINUTE",
        ),
        (
            "rate_limit.user_untrusted_burst",
            "TOLLGATE_RATE_LIMIT__USER_UNTRUSTED_BURST",
        ),
    ],
];

/// Both numbers fit a u32; a limit that is on allows at least one failure.
fn budget(per_minute: i64, burst: i64, names: BudgetNames) -> Result<Budget, ConfigError> {
    let [(rate_name, rate_env), (burst_name, burst_env)] = names;
    let per_minute = u32::try_from(per_minute).map_err(|_| {
        invalid(
            rate_name,
            rate_env,
            format!(
                "{per_minute} is not a number of failures from 0 (off) to {}",
                u32::MAX
            ),
        )
    })?;
    let burst = u32::try_from(burst)
        .ok()
        .filter(|b| *b >= 1 || per_minute == 0)
        .ok_or_else(|| {
            invalid(
                burst_name,
                burst_env,
                format!("{burst} is not a number of failures from 1 to {}", u32::MAX),
            )
        })?;
    Ok(Budget { per_minute, burst })
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn precedence_is_file_then_env_then_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "listen = \"127.0.0.1:9000\"\nissuer = \"https://file.example\"\n[policy]\nallow_legacy_grants = false\n",
            )?;
            jail.set_env("TOLLGATE_ISSUER", "https://env.example");
            jail.set_env("TOLLGATE_POLICY__ALLOW_NEVER_EXPIRING_TOKENS", "false");
            // Not settings: must be ignored, not rejected.
            jail.set_env("TOLLGATE_ADMIN_KEY", "x");
            jail.set_env("TOLLGATE_BIN", "/x");
            let flags = FlagOverrides {
                database_url: Some("sqlite://flag.db".into()),
                ..Default::default()
            };
            let c = Config::load(Some(Path::new("t.toml")), &flags).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
            assert_eq!(c.issuer, "https://env.example");
            assert_eq!(c.database_url, "sqlite://flag.db");
            assert!(!c.policy.allow_legacy_grants);
            assert!(!c.policy.allow_never_expiring_tokens);
            Ok(())
        });
    }

    #[test]
    fn bad_values_name_the_setting() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TOLLGATE_AUTH_CODE_LIFETIME", "601");
            let e = Config::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("auth_code_lifetime"), "{e}");
            jail.set_env("TOLLGATE_AUTH_CODE_LIFETIME", "abc");
            let e = Config::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("auth_code_lifetime"), "{e}");
            jail.set_env("TOLLGATE_AUTH_CODE_LIFETIME", "60");
            jail.set_env("TOLLGATE_LISTEN", "nowhere");
            let e = Config::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("listen"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "listn = \"127.0.0.1:1\"\n")?;
            let e = Config::load(Some(Path::new("t.toml")), &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("listn"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn rate_limits_come_from_file_and_env_and_are_checked() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[rate_limit]\nclient_burst = 3\n")?;
            jail.set_env("TOLLGATE_RATE_LIMIT__ADDRESS_PER_MINUTE", "0");
            let c = Config::load(Some(Path::new("t.toml")), &FlagOverrides::default())
                .map_err(|e| e.to_string())?;
            let d = ThrottleSettings::default();
            assert_eq!(c.rate_limit.client.burst, 3);
            assert_eq!(c.rate_limit.client.per_minute, d.client.per_minute);
            assert_eq!(c.rate_limit.user, d.user);
            assert_eq!(c.rate_limit.address.per_minute, 0);
            jail.set_env("TOLLGATE_RATE_LIMIT__USER_BURST", "0");
            let e = Config::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("rate_limit.user_burst"), "{e}");
            jail.set_env("TOLLGATE_RATE_LIMIT__USER_BURST", "5");
            jail.set_env("TOLLGATE_RATE_LIMIT__CLIENT_PER_MINUTE", "-1");
            let e = Config::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(
                e.to_string().contains("rate_limit.client_per_minute"),
                "{e}"
            );
            jail.set_env("TOLLGATE_RATE_LIMIT__CLIENT_PER_MINUTE", "10");
            jail.set_env("TOLLGATE_RATE_LIMIT__USER_UNTRUSTED_BURST", "7");
            let c = Config::load(None, &FlagOverrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.rate_limit.user_untrusted.burst, 7);
            jail.set_env("TOLLGATE_RATE_LIMIT__CLIENT_PER_MINUTE", "-1");
            jail.create_file("u.toml", "[rate_limit]\nclient_brust = 3\n")?;
            let e = Config::load(Some(Path::new("u.toml")), &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("client_brust"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn tls_needs_both_files_and_defaults_the_issuer_to_https() {
        let raw = |cert: Option<&str>, key: Option<&str>| RawConfig {
            tls_cert: cert.map(PathBuf::from),
            tls_key: key.map(PathBuf::from),
            ..RawConfig::default()
        };
        let e = raw(Some("c.pem"), None).validate().unwrap_err();
        assert!(e.to_string().contains("`tls_key`"), "{e}");
        let e = raw(None, Some("k.pem")).validate().unwrap_err();
        assert!(e.to_string().contains("`tls_cert`"), "{e}");
        let c = raw(Some("c.pem"), Some("k.pem")).validate().unwrap();
        assert_eq!(c.issuer, "https://127.0.0.1:8080");
        assert_eq!(c.tls.unwrap().key, PathBuf::from("k.pem"));
    }

    #[test]
    fn trusted_proxies_come_from_file_or_env_and_are_checked() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n",
            )?;
            let c = Config::load(Some(Path::new("t.toml")), &FlagOverrides::default())
                .map_err(|e| e.to_string())?;
            assert_eq!(c.trusted_proxies.len(), 2);
            assert!(
                c.trusted_proxies[1].contains(&"192.0.2.1".parse::<std::net::IpAddr>().unwrap())
            );
            jail.set_env("TOLLGATE_TRUSTED_PROXIES", "[\"127.0.0.1/32\"]");
            let c = Config::load(None, &FlagOverrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.trusted_proxies, vec!["127.0.0.1/32".parse().unwrap()]);
            jail.set_env("TOLLGATE_TRUSTED_PROXIES", "[\"proxy.example\"]");
            let e = Config::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("trusted_proxies"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn password_hashing_limits_are_settings_and_checked() {
        figment::Jail::expect_with(|jail| {
            let d = PasswordHashingSettings::default();
            let c = Config::load(None, &FlagOverrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.password_hashing, d);
            jail.create_file("t.toml", "[password_hashing]\nmax_concurrent = 3\n")?;
            jail.set_env("TOLLGATE_PASSWORD_HASHING__MAX_WAITING", "0");
            let c = Config::load(Some(Path::new("t.toml")), &FlagOverrides::default())
                .map_err(|e| e.to_string())?;
            assert_eq!(c.password_hashing.max_concurrent, 3);
            assert_eq!(c.password_hashing.max_waiting, 0);
            jail.set_env("TOLLGATE_PASSWORD_HASHING__MAX_CONCURRENT", "0");
            let e = Config::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(
                e.to_string().contains("password_hashing.max_concurrent"),
                "{e}"
            );
            Ok(())
        });
    }

    #[test]
    fn http_limits_come_from_file_and_env_and_name_the_bad_key() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, &FlagOverrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.http, HttpSettings::default());
            jail.create_file("t.toml", "[http]\nidle_timeout = 5\nmax_connections = 7\n")?;
            jail.set_env("TOLLGATE_HTTP__HEADER_READ_TIMEOUT", "3");
            let c = Config::load(Some(Path::new("t.toml")), &FlagOverrides::default())
                .map_err(|e| e.to_string())?;
            assert_eq!(c.http.idle_timeout, Duration::from_secs(5));
            assert_eq!(c.http.max_connections, 7);
            assert_eq!(c.http.header_read_timeout, Duration::from_secs(3));
            jail.set_env("TOLLGATE_HTTP__MAX_HEADER_BYTES", "10");
            let e = Config::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("http.max_header_bytes"), "{e}");
            jail.set_env("TOLLGATE_HTTP__MAX_HEADER_BYTES", "16384");
            jail.set_env("TOLLGATE_HTTP__REQUEST_BODY_TIMEOUT", "0");
            let e = Config::load(None, &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("http.request_body_timeout"), "{e}");
            jail.create_file("u.toml", "[http]\nidle_timout = 5\n")?;
            let e = Config::load(Some(Path::new("u.toml")), &FlagOverrides::default()).unwrap_err();
            assert!(e.to_string().contains("idle_timout"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn issuer_defaults_to_listen_address() {
        let c = RawConfig::default().validate().unwrap();
        assert_eq!(c.issuer, "http://127.0.0.1:8080");
    }
}
