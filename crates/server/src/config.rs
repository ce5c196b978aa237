//! One typed configuration. Layers, lowest first: built-in defaults, the TOML file
//! (`--config` / `COUPA_CONFIG`), `COUPA_*` environment variables, command-line flags.
//! The command line merges the last two (a flag wins over its variable) into one
//! `ConfigLayer` before calling `Config::resolve`.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::keys::Algorithm;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://coupa.db";
/// Coupa's tokens live 24 hours less a second (seeds 000 and 001).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(86_399);
pub const DEFAULT_SECRET_GRACE: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_CLIENT_CACHE_REFRESH: Duration = Duration::from_secs(30);
/// Coupa's refresh tokens last 90 days.
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);
pub const DEFAULT_REFRESH_TOKEN_REUSE_GRACE: Duration = Duration::from_secs(5);
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// A client must send a request head within this time, and the next one on a kept-alive
/// connection within this time of the last answer.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A request's body must have arrived this long after the request began.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// On SIGTERM, requests in flight get this long to finish; then their connections are dropped.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// The shortest admin token accepted from the environment.
pub const MIN_ADMIN_TOKEN_LENGTH: usize = 32;

/// One layer of settings; every field optional. Also the schema of the TOML file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigLayer {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub issuer: Option<String>,
    pub token_lifetime: Option<String>,
    pub secret_grace_period: Option<String>,
    pub signing_alg: Option<String>,
    pub client_cache_refresh: Option<String>,
    pub refresh_token_lifetime: Option<String>,
    pub refresh_token_reuse_grace: Option<String>,
    pub session_lifetime: Option<String>,
    pub demo: Option<bool>,
    pub api_keys: Option<bool>,
    pub rate_limit: Option<f64>,
    pub rate_limit_burst: Option<u32>,
    pub rate_limit_retry_after: Option<bool>,
    pub unauthenticated_api_for_benchmarks: Option<bool>,
    pub allow_http_redirect_uris: Option<bool>,
    pub header_read_timeout: Option<String>,
    pub body_read_timeout: Option<String>,
    pub max_connections: Option<usize>,
    pub shutdown_timeout: Option<String>,
    pub key_encryption_key_file: Option<String>,
    /// Client profiles (`[profiles.NAME]`) may share the file; the server ignores them.
    #[serde(default, skip_serializing)]
    pub profiles: Option<toml::Table>,
}

impl ConfigLayer {
    /// Fields set in `self` win over those of `lower`.
    pub fn over(self, lower: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen.or(lower.listen),
            database_url: self.database_url.or(lower.database_url),
            issuer: self.issuer.or(lower.issuer),
            token_lifetime: self.token_lifetime.or(lower.token_lifetime),
            secret_grace_period: self.secret_grace_period.or(lower.secret_grace_period),
            signing_alg: self.signing_alg.or(lower.signing_alg),
            client_cache_refresh: self.client_cache_refresh.or(lower.client_cache_refresh),
            refresh_token_lifetime: self.refresh_token_lifetime.or(lower.refresh_token_lifetime),
            refresh_token_reuse_grace: self
                .refresh_token_reuse_grace
                .or(lower.refresh_token_reuse_grace),
            session_lifetime: self.session_lifetime.or(lower.session_lifetime),
            demo: self.demo.or(lower.demo),
            api_keys: self.api_keys.or(lower.api_keys),
            rate_limit: self.rate_limit.or(lower.rate_limit),
            rate_limit_burst: self.rate_limit_burst.or(lower.rate_limit_burst),
            rate_limit_retry_after: self.rate_limit_retry_after.or(lower.rate_limit_retry_after),
            unauthenticated_api_for_benchmarks: self
                .unauthenticated_api_for_benchmarks
                .or(lower.unauthenticated_api_for_benchmarks),
            allow_http_redirect_uris: self
                .allow_http_redirect_uris
                .or(lower.allow_http_redirect_uris),
            header_read_timeout: self.header_read_timeout.or(lower.header_read_timeout),
            body_read_timeout: self.body_read_timeout.or(lower.body_read_timeout),
            max_connections: self.max_connections.or(lower.max_connections),
            shutdown_timeout: self.shutdown_timeout.or(lower.shutdown_timeout),
            key_encryption_key_file: self
                .key_encryption_key_file
                .or(lower.key_encryption_key_file),
            profiles: None,
        }
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }
}

#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    /// No trailing slash.
    pub issuer: String,
    pub token_lifetime: Duration,
    pub secret_grace_period: Duration,
    pub signing_alg: Algorithm,
    pub client_cache_refresh: Duration,
    pub refresh_token_lifetime: Duration,
    /// A rotated refresh token presented again within this time is a concurrent retry:
    /// refused without revoking its grant.
    pub refresh_token_reuse_grace: Duration,
    /// How long a sign-in lasts.
    pub session_lifetime: Duration,
    /// From `COUPA_ADMIN_TOKEN`; when absent the server keeps a generated one's digest.
    pub admin_token: Option<String>,
    /// Load the demo data set (once) and prepare the demo client.
    pub demo: bool,
    /// Whether legacy `X-COUPA-API-KEY` keys are accepted (Coupa R35 turns them off).
    pub api_keys: bool,
    /// Requests per second and burst per client or API key; None when off.
    pub rate_limit: Option<crate::domain::rate_limit::Limit>,
    /// Send `Retry-After` with 429 answers (Coupa does not).
    pub rate_limit_retry_after: bool,
    /// Also serve `GET /bench/api/{object}` without authentication, so a benchmark can
    /// measure what authentication costs. Only in builds with the `bench-routes` feature.
    pub unauthenticated_api_for_benchmarks: bool,
    /// What client validation allows (http:// redirect URIs beyond loopback).
    pub client_rules: crate::domain::client::ClientRules,
    pub connections: ConnectionLimits,
    /// The key encryption key itself, from `COUPA_KEY_ENCRYPTION_KEY` (never from a file of
    /// settings); wins over `key_encryption_key_file`.
    pub key_encryption_key: Option<String>,
    /// A file holding the key encryption key. Without either, a SQLite server keeps a
    /// generated one next to its database; PostgreSQL replicas must be given one.
    pub key_encryption_key_file: Option<std::path::PathBuf>,
}

/// What one connection may hold, and how long shutdown waits for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field(
                "database_url",
                &crate::store::redact_url(&self.database_url),
            )
            .field("issuer", &self.issuer)
            .field("token_lifetime", &self.token_lifetime)
            .field("secret_grace_period", &self.secret_grace_period)
            .field("signing_alg", &self.signing_alg)
            .field("client_cache_refresh", &self.client_cache_refresh)
            .field("refresh_token_lifetime", &self.refresh_token_lifetime)
            .field("refresh_token_reuse_grace", &self.refresh_token_reuse_grace)
            .field("session_lifetime", &self.session_lifetime)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .field("demo", &self.demo)
            .field("api_keys", &self.api_keys)
            .field("rate_limit", &self.rate_limit)
            .field("client_rules", &self.client_rules)
            .field("connections", &self.connections)
            .field(
                "key_encryption_key",
                &self.key_encryption_key.as_ref().map(|_| "<set>"),
            )
            .field("key_encryption_key_file", &self.key_encryption_key_file)
            .finish()
    }
}

impl Config {
    pub fn resolve(layer: ConfigLayer, admin_token: Option<String>) -> Result<Self, String> {
        let listen_text = layer.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            format!("listen: `{listen_text}` is not an address like 127.0.0.1:8080")
        })?;
        let issuer = match layer.issuer {
            Some(issuer) => {
                let issuer = issuer.trim_end_matches('/').to_string();
                if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
                    return Err(format!(
                        "issuer: `{issuer}` must be an http(s) URL such as https://coupa.example.com"
                    ));
                }
                issuer
            }
            None => default_issuer(listen),
        };
        let signing_alg_text = layer.signing_alg.as_deref().unwrap_or("ES256");
        let signing_alg = Algorithm::parse(signing_alg_text).ok_or_else(|| {
            format!("signing-alg: `{signing_alg_text}` is not one of ES256, RS256, EdDSA")
        })?;
        let duration = |name: &str, value: Option<String>, default: Duration| match value {
            Some(text) => parse_duration(&text).map_err(|error| format!("{name}: {error}")),
            None => Ok(default),
        };
        let token_lifetime = duration(
            "token-lifetime",
            layer.token_lifetime,
            DEFAULT_TOKEN_LIFETIME,
        )?;
        if token_lifetime.is_zero() {
            return Err("token-lifetime: must be at least one second".into());
        }
        let admin_token = admin_token.filter(|token| !token.is_empty());
        if let Some(token) = &admin_token
            && token.chars().count() < MIN_ADMIN_TOKEN_LENGTH
        {
            return Err(format!(
                "COUPA_ADMIN_TOKEN is {} characters long; use at least {MIN_ADMIN_TOKEN_LENGTH} random ones \
                 (for example the output of `openssl rand -hex 32`), or leave it unset and the server \
                 generates one at first start",
                token.chars().count()
            ));
        }
        let connections = ConnectionLimits {
            header_read_timeout: positive(duration(
                "header-read-timeout",
                layer.header_read_timeout,
                DEFAULT_HEADER_READ_TIMEOUT,
            )?)
            .ok_or("header-read-timeout: must be at least one second")?,
            body_read_timeout: positive(duration(
                "body-read-timeout",
                layer.body_read_timeout,
                DEFAULT_BODY_READ_TIMEOUT,
            )?)
            .ok_or("body-read-timeout: must be at least one second")?,
            max_connections: match layer.max_connections {
                Some(0) => return Err("max-connections: must be at least 1".into()),
                Some(count) => count,
                None => DEFAULT_MAX_CONNECTIONS,
            },
            shutdown_timeout: duration(
                "shutdown-timeout",
                layer.shutdown_timeout,
                DEFAULT_SHUTDOWN_TIMEOUT,
            )?,
        };
        Ok(Self {
            listen,
            database_url: layer
                .database_url
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            issuer,
            token_lifetime,
            secret_grace_period: duration(
                "secret-grace-period",
                layer.secret_grace_period,
                DEFAULT_SECRET_GRACE,
            )?,
            signing_alg,
            client_cache_refresh: duration(
                "client-cache-refresh",
                layer.client_cache_refresh,
                DEFAULT_CLIENT_CACHE_REFRESH,
            )?,
            refresh_token_lifetime: duration(
                "refresh-token-lifetime",
                layer.refresh_token_lifetime,
                DEFAULT_REFRESH_TOKEN_LIFETIME,
            )?,
            refresh_token_reuse_grace: duration(
                "refresh-token-reuse-grace",
                layer.refresh_token_reuse_grace,
                DEFAULT_REFRESH_TOKEN_REUSE_GRACE,
            )?,
            session_lifetime: duration(
                "session-lifetime",
                layer.session_lifetime,
                DEFAULT_SESSION_LIFETIME,
            )?,
            admin_token,
            demo: layer.demo.unwrap_or(false),
            api_keys: layer.api_keys.unwrap_or(true),
            rate_limit: rate_limit(layer.rate_limit, layer.rate_limit_burst)?,
            rate_limit_retry_after: layer.rate_limit_retry_after.unwrap_or(false),
            unauthenticated_api_for_benchmarks: layer
                .unauthenticated_api_for_benchmarks
                .unwrap_or(false),
            client_rules: crate::domain::client::ClientRules {
                allow_http_redirect_uris: layer.allow_http_redirect_uris.unwrap_or(false),
            },
            connections,
            key_encryption_key: None,
            key_encryption_key_file: layer.key_encryption_key_file.map(Into::into),
        })
    }

    /// The `aud` of access tokens: this instance's API.
    pub fn audience(&self) -> String {
        format!("{}/api", self.issuer)
    }
}

/// Coupa's limit: 25 requests per second with a burst of 20.
pub const DEFAULT_RATE_LIMIT: f64 = 25.0;
pub const DEFAULT_RATE_LIMIT_BURST: u32 = 20;

fn rate_limit(
    per_second: Option<f64>,
    burst: Option<u32>,
) -> Result<Option<crate::domain::rate_limit::Limit>, String> {
    let per_second = per_second.unwrap_or(DEFAULT_RATE_LIMIT);
    let burst = burst.unwrap_or(DEFAULT_RATE_LIMIT_BURST);
    if per_second == 0.0 {
        return Ok(None);
    }
    if !per_second.is_finite() || per_second < 0.0 {
        return Err(format!(
            "rate-limit: {per_second} is not a number of requests per second (0 turns limiting off)"
        ));
    }
    if burst == 0 {
        return Err("rate-limit-burst: must be at least 1".into());
    }
    Ok(Some(crate::domain::rate_limit::Limit { per_second, burst }))
}

fn positive(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

fn default_issuer(listen: SocketAddr) -> String {
    if listen.ip().is_unspecified() {
        format!("http://localhost:{}", listen.port())
    } else {
        format!("http://{listen}")
    }
}

/// `86399`, `86399s`, `30m`, `20h`, `90d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 86399, 30m, 20h or 90d"))?;
    let multiplier = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}` has an unknown unit; use s, m, h or d")),
    };
    amount
        .checked_mul(multiplier)
        .filter(|seconds| *seconds <= 10 * 365 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is longer than ten years"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_follow_coupa() {
        let config = Config::resolve(ConfigLayer::default(), None).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.issuer, "http://127.0.0.1:8080");
        assert_eq!(config.token_lifetime.as_secs(), 86_399);
        assert_eq!(config.signing_alg, Algorithm::Es256);
        assert_eq!(config.audience(), "http://127.0.0.1:8080/api");
        let limit = config.rate_limit.unwrap();
        assert_eq!((limit.per_second, limit.burst), (25.0, 20));
        assert!(!config.rate_limit_retry_after);
    }

    #[test]
    fn higher_layers_win() {
        let file = ConfigLayer::from_toml("listen = \"127.0.0.1:9000\"\ntoken-lifetime = \"1h\"\n")
            .unwrap();
        let flags = ConfigLayer {
            listen: Some("127.0.0.1:9100".into()),
            ..ConfigLayer::default()
        };
        let config = Config::resolve(flags.over(file), None).unwrap();
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.token_lifetime.as_secs(), 3600);
        assert!(ConfigLayer::from_toml("lissten = \"x\"").is_err());
    }

    #[test]
    fn bad_values_say_what_to_write() {
        let layer = ConfigLayer {
            signing_alg: Some("HS256".into()),
            ..ConfigLayer::default()
        };
        assert!(Config::resolve(layer, None).unwrap_err().contains("ES256"));
        let layer = ConfigLayer {
            issuer: Some("coupa.example.com".into()),
            ..ConfigLayer::default()
        };
        assert!(
            Config::resolve(layer, None)
                .unwrap_err()
                .contains("https://")
        );
    }

    #[test]
    fn short_admin_tokens_are_refused_with_a_way_out() {
        let error =
            Config::resolve(ConfigLayer::default(), Some("short-token".into())).unwrap_err();
        assert!(
            error.contains("at least 32") && error.contains("openssl rand"),
            "{error}"
        );
        let long = "x".repeat(32);
        assert_eq!(
            Config::resolve(ConfigLayer::default(), Some(long.clone()))
                .unwrap()
                .admin_token,
            Some(long)
        );
    }

    #[test]
    fn connection_limits_have_defaults_and_refuse_zero() {
        let config = Config::resolve(ConfigLayer::default(), None).unwrap();
        assert_eq!(config.connections.header_read_timeout.as_secs(), 10);
        assert_eq!(config.connections.max_connections, 1024);
        let layer = ConfigLayer {
            max_connections: Some(0),
            ..ConfigLayer::default()
        };
        assert!(Config::resolve(layer, None).is_err());
        let layer = ConfigLayer {
            header_read_timeout: Some("0".into()),
            ..ConfigLayer::default()
        };
        assert!(Config::resolve(layer, None).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20h").unwrap().as_secs(), 72_000);
        assert_eq!(parse_duration("86399").unwrap().as_secs(), 86_399);
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    proptest! {
        #[test]
        fn duration_parser_never_panics(text in "\\PC{0,40}") {
            let _ = parse_duration(&text);
        }
    }
}
