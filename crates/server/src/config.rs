//! One typed configuration. Layers, lowest first: built-in defaults, the TOML file
//! (`--config` / `COUPA_CONFIG`), `COUPA_*` environment variables, command-line flags.
//! The command line merges the last two (a flag wins over its variable) into one
//! `ConfigLayer` before calling `Config::resolve`.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::domain::lifetime::Lifetime;
use crate::keys::Algorithm;

/// The shortest admin token accepted from the environment.
pub const MIN_ADMIN_TOKEN_LENGTH: usize = 32;

/// Declares every setting once: its layer field (a TOML key in kebab-case, a `--flag`, a
/// `COUPA_*` variable, its help with the default), how layers merge, and its default, in the
/// form a user would write it (`DEFAULTS`), read by the same parser as a written value.
macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $ty:ty, $env:literal, $value:literal
            $(, default $default:literal)? $(, arg($($arg:tt)*))?;
    )*) => {
        /// One layer of settings, every field optional: the TOML file's schema and the
        /// command line's options.
        #[derive(Debug, Clone, Default, Deserialize, clap::Args)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct ConfigLayer {
            $(
                #[arg(
                    long,
                    env = $env,
                    value_name = $value,
                    help = help_text(&[$($doc),*], settings!(@default $($default)?))
                    $(, $($arg)*)?
                )]
                pub $name: Option<$ty>,
            )*
            /// Client profiles (`[profiles.NAME]`) may share the file; the server ignores
            /// them.
            #[arg(skip)]
            #[serde(default)]
            pub profiles: Option<toml::Table>,
        }

        impl ConfigLayer {
            /// Fields set in `self` win over those of `lower`.
            pub fn over(self, lower: ConfigLayer) -> ConfigLayer {
                ConfigLayer {
                    $($name: self.$name.or(lower.$name),)*
                    profiles: None,
                }
            }
        }

        /// Each setting's default as written in a file; None where it follows from others.
        #[allow(dead_code)]
        pub struct Defaults {
            $(pub $name: Option<&'static str>,)*
        }

        pub const DEFAULTS: Defaults = Defaults {
            $($name: settings!(@default $($default)?),)*
        };
    };
    (@default $default:literal) => { Some($default) };
    (@default) => { None };
}

/// A setting's help: its doc lines joined, then its default.
fn help_text(doc: &[&str], default: Option<&str>) -> String {
    let mut text: Vec<&str> = doc.iter().map(|line| line.trim()).collect();
    let default = default.map(|default| format!("[default: {default}]"));
    text.extend(default.as_deref());
    text.join(" ")
}

settings! {
    /// Address to listen on.
    listen: String, "COUPA_LISTEN", "ADDR", default "127.0.0.1:8080";
    /// Serve HTTPS with a certificate from the local certificate authority (created once in
    /// --ca-dir; give its certificate to clients: `coupa ca export`), or with --tls-cert and
    /// --tls-key.
    tls: bool, "COUPA_TLS", "BOOL", default "false", arg(num_args = 0..=1,
        default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new());
    /// With --tls: serve this PEM certificate chain rather than one from the local CA.
    tls_cert: String, "COUPA_TLS_CERT", "FILE";
    /// With --tls-cert: the PEM private key of the certificate (mode 0600).
    tls_key: String, "COUPA_TLS_KEY", "FILE";
    /// Where the local certificate authority is kept (key 0600) [default:
    /// ~/.local/share/coupa/ca]
    ca_dir: String, "COUPA_CA_DIR", "DIR";
    /// A host name this server answers to as an instance, e.g. acme.coupahost.com (repeat
    /// the flag, or separate with commas): the local CA's certificate covers it, and a
    /// request naming it gets it as issuer, in tokens and in discovery.
    host: Vec<String>, "COUPA_HOST", "NAME", arg(value_delimiter = ',');
    /// A scenario file (TOML) of faults to switch on at start, each `[[faults]]` as the admin
    /// API takes them (kind, client, starts_in, duration, requests, ...); see sandbox.md.
    faults: String, "COUPA_FAULTS", "FILE";
    /// sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    database_url: String, "COUPA_DATABASE_URL", "URL", default "sqlite://coupa.db";
    /// The public base URL of this server, put in tokens and discovery [default: http:// and
    /// the listen address]
    issuer: String, "COUPA_ISSUER", "URL";
    /// Access token lifetime, e.g. 86399, 30m, 24h (Coupa's tokens live a day less a second).
    token_lifetime: String, "COUPA_TOKEN_LIFETIME", "DURATION", default "86399";
    /// How long a rotated-out client secret keeps working.
    secret_grace_period: String, "COUPA_SECRET_GRACE_PERIOD", "DURATION", default "24h";
    /// Algorithm of the token signing key: ES256, RS256 or EdDSA.
    signing_alg: String, "COUPA_SIGNING_ALG", "ALG", default "ES256";
    /// How long relying parties may cache the JWKS (its Cache-Control max-age).
    jwks_max_age: String, "COUPA_JWKS_MAX_AGE", "DURATION", default "5m";
    /// How long a new signing key is published in the JWKS before it signs, so relying
    /// parties caching the JWKS know it first [default: the JWKS max-age plus 5 minutes]
    key_publication_delay: String, "COUPA_KEY_PUBLICATION_DELAY", "DURATION";
    /// Rotate every signing key this often, e.g. 90d (each key then verifies its tokens
    /// until they expire); 0 leaves rotation to `coupa admin keys rotate`.
    key_rotation_interval: String, "COUPA_KEY_ROTATION_INTERVAL", "DURATION", default "0";
    /// How often to reload clients changed by other replicas; 0 turns it off.
    client_cache_refresh: String, "COUPA_CLIENT_CACHE_REFRESH", "DURATION", default "30s";
    /// How long a refresh token (authorization code grant, with offline_access) lives (as
    /// Coupa's, 90 days).
    refresh_token_lifetime: String, "COUPA_REFRESH_TOKEN_LIFETIME", "DURATION", default "90d";
    /// A rotated refresh token sent again within this time is taken for a concurrent retry
    /// (refused, the grant kept); later, for theft (the whole grant revoked).
    refresh_token_reuse_grace: String, "COUPA_REFRESH_TOKEN_REUSE_GRACE", "DURATION", default "5s";
    /// How long the audit trail keeps an entry.
    audit_retention: String, "COUPA_AUDIT_RETENTION", "DURATION", default "400d";
    /// How long a user's sign-in (also to Setup) lasts.
    session_lifetime: String, "COUPA_SESSION_LIFETIME", "DURATION", default "8h";
    /// Serve Prometheus metrics at /metrics on this address (e.g. 127.0.0.1:9100), apart
    /// from the API; off when not set.
    metrics_listen: String, "COUPA_METRICS_LISTEN", "ADDR";
    /// Load a demo data set (suppliers, invoices, purchase orders, expense reports, ...)
    /// once, and print a demo client's token and API calls, ready to paste, and a sign-in
    /// to Setup.
    demo: bool, "COUPA_DEMO", "BOOL", default "false", arg(num_args = 0..=1,
        default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new());
    /// Seed of the faults' chances (a fault's `probability`): the same seed, faults and
    /// requests give the same failures [default: drawn at start, and logged]
    seed: u64, "COUPA_SEED", "N";
    /// A sandbox: allow POST /admin/api/sandbox/reset, which puts the API's records back to
    /// the demo data set (`coupa sandbox up` sets it). Never on a server holding real data.
    sandbox: bool, "COUPA_SANDBOX", "BOOL", default "false", arg(num_args = 0..=1,
        default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new());
    /// Accept legacy X-COUPA-API-KEY keys: true, or false as from Coupa R35.
    api_keys: bool, "COUPA_API_KEYS", "BOOL", default "true", arg(num_args = 0..=1,
        default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new());
    /// Requests per second allowed per client or API key on /api (Coupa's); 0 turns
    /// limiting off.
    rate_limit: f64, "COUPA_RATE_LIMIT", "PER_SECOND", default "25";
    /// Requests a caller may send at once before the rate applies.
    rate_limit_burst: u32, "COUPA_RATE_LIMIT_BURST", "REQUESTS", default "20";
    /// Send Retry-After with 429 answers (Coupa does not).
    rate_limit_retry_after: bool, "COUPA_RATE_LIMIT_RETRY_AFTER", "BOOL", default "false",
        arg(num_args = 0..=1, default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new());
    /// For benchmarks only: also serve GET /bench/api/{object} WITHOUT authentication (only
    /// in builds with the `bench-routes` feature).
    unauthenticated_api_for_benchmarks: bool, "COUPA_UNAUTHENTICATED_API_FOR_BENCHMARKS",
        "BOOL", default "false", arg(hide = true, num_args = 0..=1,
        default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new());
    /// Accept http:// redirect URIs on any host; without it, http:// is for loopback hosts
    /// only (http://127.0.0.1:PORT/..., as RFC 8252 native apps use).
    allow_http_redirect_uris: bool, "COUPA_ALLOW_HTTP_REDIRECT_URIS", "BOOL", default "false",
        arg(num_args = 0..=1, default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new());
    /// A client must send a request head within this time, and the next one on a
    /// kept-alive connection within this time of the last answer.
    header_read_timeout: String, "COUPA_HEADER_READ_TIMEOUT", "DURATION", default "10s";
    /// A request's body must have arrived this long after the request began; past it the
    /// request is refused and its connection closed.
    body_read_timeout: String, "COUPA_BODY_READ_TIMEOUT", "DURATION", default "30s";
    /// Connections served at once; more wait to be accepted.
    max_connections: usize, "COUPA_MAX_CONNECTIONS", "COUNT", default "1024";
    /// Keep attachment files and invoice image scans in this directory (created if missing,
    /// files 0600) rather than in the database.
    files_dir: String, "COUPA_FILES_DIR", "DIR";
    /// The largest attachment file or image scan taken, in bytes.
    max_file_bytes: usize, "COUPA_MAX_FILE_BYTES", "BYTES", default "10485760";
    /// On SIGTERM or Ctrl-C, requests in flight get this long to finish; then the remaining
    /// connections are dropped and the server exits 0.
    shutdown_timeout: String, "COUPA_SHUTDOWN_TIMEOUT", "DURATION", default "10s";
    /// A file (mode 0600) holding the key that seals the signing keys in the database: 32
    /// random bytes in base64, e.g. from `openssl rand -base64 32`. COUPA_KEY_ENCRYPTION_KEY
    /// may hold the key itself instead. Without either, a SQLite server generates one into
    /// DATABASE.key-encryption-key; PostgreSQL replicas must all be given the same one.
    key_encryption_key_file: String, "COUPA_KEY_ENCRYPTION_KEY_FILE", "FILE";
}

impl ConfigLayer {
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }
}

/// A secret setting: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

/// A database URL: its `Debug` hides a password in it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::store::redact_url(&self.0))
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where `/metrics` is served; None: metrics off.
    pub metrics_listen: Option<SocketAddr>,
    pub database_url: DatabaseUrl,
    /// No trailing slash.
    pub issuer: String,
    /// How HTTPS is served; None: plain HTTP.
    pub tls: Option<TlsSource>,
    /// The instance host names (`--host`), lowercase.
    pub hosts: Vec<String>,
    /// The scenario file of faults to switch on at start.
    pub faults_file: Option<std::path::PathBuf>,
    pub token_lifetime: Lifetime,
    pub secret_grace_period: Lifetime,
    pub signing_alg: Algorithm,
    /// The JWKS answer's `Cache-Control: max-age`.
    pub jwks_max_age: Lifetime,
    /// How long a new signing key is published before it signs.
    pub key_publication_delay: Lifetime,
    /// Automatic rotation of the signing keys; zero when off.
    pub key_rotation_interval: Lifetime,
    pub client_cache_refresh: Lifetime,
    pub refresh_token_lifetime: Lifetime,
    /// A rotated refresh token presented again within this time is a concurrent retry:
    /// refused without revoking its grant.
    pub refresh_token_reuse_grace: Lifetime,
    /// How long a sign-in lasts.
    pub session_lifetime: Lifetime,
    /// How long the audit trail keeps an entry.
    pub audit_retention: Lifetime,
    /// From `COUPA_ADMIN_TOKEN`; when absent the server keeps a generated one's digest.
    pub admin_token: Option<Secret>,
    /// Load the demo data set (once) and prepare the demo client.
    pub demo: bool,
    /// Allow the sandbox's reset of the API's records to the demo data set.
    pub sandbox: bool,
    /// The seed of the faults' chances, when one was given.
    pub seed: Option<u64>,
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
    pub key_encryption_key: Option<Secret>,
    /// A file holding the key encryption key. Without either, a SQLite server keeps a
    /// generated one next to its database; PostgreSQL replicas must be given one.
    pub key_encryption_key_file: Option<std::path::PathBuf>,
    /// Where attachment files and image scans go; None: the database.
    pub files_dir: Option<std::path::PathBuf>,
    pub max_file_bytes: usize,
}

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// Issued at each start by the local CA kept in this directory.
    LocalCa(std::path::PathBuf),
    /// A PEM certificate chain and its key, from files.
    Files {
        certificate: std::path::PathBuf,
        key: std::path::PathBuf,
    },
}

/// What one connection may hold, and how long shutdown waits for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

impl Config {
    pub fn resolve(layer: ConfigLayer, admin_token: Option<String>) -> Result<Self, String> {
        let listen_text = setting(layer.listen.as_deref(), DEFAULTS.listen);
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            format!("listen: `{listen_text}` is not an address like 127.0.0.1:8080")
        })?;
        let tls = tls_source(
            layer.tls.unwrap_or(DEFAULTS.tls == Some("true")),
            layer.tls_cert,
            layer.tls_key,
            layer.ca_dir,
        )?;
        let hosts = host_names(layer.host.unwrap_or_default())?;
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
            None => default_issuer(listen, tls.is_some()),
        };
        let signing_alg_text = setting(layer.signing_alg.as_deref(), DEFAULTS.signing_alg);
        let signing_alg = Algorithm::parse(signing_alg_text).ok_or_else(|| {
            format!("signing-alg: `{signing_alg_text}` is not one of ES256, RS256, EdDSA")
        })?;
        let jwks_max_age = lifetime(
            "jwks-max-age",
            layer.jwks_max_age.as_deref(),
            DEFAULTS.jwks_max_age,
        )?;
        let key_publication_delay = match layer.key_publication_delay.as_deref() {
            Some(text) => lifetime("key-publication-delay", Some(text), None)?,
            None => Lifetime::from_secs(jwks_max_age.secs() + KEY_PUBLICATION_MARGIN),
        };
        let token_lifetime = lifetime(
            "token-lifetime",
            layer.token_lifetime.as_deref(),
            DEFAULTS.token_lifetime,
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
            header_read_timeout: positive(lifetime(
                "header-read-timeout",
                layer.header_read_timeout.as_deref(),
                DEFAULTS.header_read_timeout,
            )?)
            .ok_or("header-read-timeout: must be at least one second")?,
            body_read_timeout: positive(lifetime(
                "body-read-timeout",
                layer.body_read_timeout.as_deref(),
                DEFAULTS.body_read_timeout,
            )?)
            .ok_or("body-read-timeout: must be at least one second")?,
            max_connections: match layer.max_connections {
                Some(0) => return Err("max-connections: must be at least 1".into()),
                Some(count) => count,
                None => number(DEFAULTS.max_connections)?,
            },
            shutdown_timeout: lifetime(
                "shutdown-timeout",
                layer.shutdown_timeout.as_deref(),
                DEFAULTS.shutdown_timeout,
            )?
            .duration(),
        };
        let flag =
            |value: Option<bool>, default: Option<&str>| value.unwrap_or(default == Some("true"));
        let metrics_listen = match layer.metrics_listen.as_deref() {
            None | Some("") => None,
            Some(text) => Some(text.parse().map_err(|_| {
                format!("metrics-listen: `{text}` is not an address like 127.0.0.1:9100")
            })?),
        };
        Ok(Self {
            listen,
            metrics_listen,
            database_url: DatabaseUrl::new(setting(
                layer.database_url.as_deref(),
                DEFAULTS.database_url,
            )),
            issuer,
            tls,
            hosts,
            faults_file: layer.faults.filter(|path| !path.is_empty()).map(Into::into),
            token_lifetime,
            secret_grace_period: lifetime(
                "secret-grace-period",
                layer.secret_grace_period.as_deref(),
                DEFAULTS.secret_grace_period,
            )?,
            signing_alg,
            jwks_max_age,
            key_publication_delay,
            key_rotation_interval: lifetime(
                "key-rotation-interval",
                layer.key_rotation_interval.as_deref(),
                DEFAULTS.key_rotation_interval,
            )?,
            client_cache_refresh: lifetime(
                "client-cache-refresh",
                layer.client_cache_refresh.as_deref(),
                DEFAULTS.client_cache_refresh,
            )?,
            refresh_token_lifetime: lifetime(
                "refresh-token-lifetime",
                layer.refresh_token_lifetime.as_deref(),
                DEFAULTS.refresh_token_lifetime,
            )?,
            refresh_token_reuse_grace: lifetime(
                "refresh-token-reuse-grace",
                layer.refresh_token_reuse_grace.as_deref(),
                DEFAULTS.refresh_token_reuse_grace,
            )?,
            session_lifetime: lifetime(
                "session-lifetime",
                layer.session_lifetime.as_deref(),
                DEFAULTS.session_lifetime,
            )?,
            audit_retention: lifetime(
                "audit-retention",
                layer.audit_retention.as_deref(),
                DEFAULTS.audit_retention,
            )?,
            admin_token: admin_token.map(Secret::new),
            demo: flag(layer.demo, DEFAULTS.demo),
            sandbox: flag(layer.sandbox, DEFAULTS.sandbox),
            seed: layer.seed,
            api_keys: flag(layer.api_keys, DEFAULTS.api_keys),
            rate_limit: rate_limit(layer.rate_limit, layer.rate_limit_burst)?,
            rate_limit_retry_after: flag(
                layer.rate_limit_retry_after,
                DEFAULTS.rate_limit_retry_after,
            ),
            unauthenticated_api_for_benchmarks: flag(
                layer.unauthenticated_api_for_benchmarks,
                DEFAULTS.unauthenticated_api_for_benchmarks,
            ),
            client_rules: crate::domain::client::ClientRules {
                allow_http_redirect_uris: flag(
                    layer.allow_http_redirect_uris,
                    DEFAULTS.allow_http_redirect_uris,
                ),
            },
            connections,
            key_encryption_key: None,
            key_encryption_key_file: layer.key_encryption_key_file.map(Into::into),
            files_dir: layer.files_dir.map(Into::into),
            max_file_bytes: match layer.max_file_bytes {
                Some(0) => return Err("max-file-bytes: must be at least 1".into()),
                Some(bytes) => bytes,
                None => number(DEFAULTS.max_file_bytes)?,
            },
        })
    }

    /// How long signing keys wait before signing and verify after retiring: the longest a
    /// token lives (ID tokens live no longer than access tokens), plus a minute of clock skew.
    pub fn key_windows(&self) -> crate::domain::key_schedule::KeyWindows {
        crate::domain::key_schedule::KeyWindows {
            publication_delay: self.key_publication_delay.seconds(),
            verification: self.token_lifetime.seconds() + 60,
        }
    }
}

/// Beyond the JWKS max-age, how long a new key waits before signing: replicas that learn
/// of it late and relying parties that fetched the JWKS just before it appeared.
const KEY_PUBLICATION_MARGIN: u64 = 300;

/// A text setting: as given, else its default.
fn setting<'a>(value: Option<&'a str>, default: Option<&'static str>) -> &'a str {
    value.or(default).unwrap_or_default()
}

/// A declared numeric default.
fn number<T: std::str::FromStr>(default: Option<&str>) -> Result<T, String> {
    default
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| "a built-in default is not a number".to_string())
}

/// A duration setting named `name`, as given or by default.
fn lifetime(
    name: &str,
    value: Option<&str>,
    default: Option<&'static str>,
) -> Result<Lifetime, String> {
    Lifetime::parse(setting(value, default)).map_err(|error| format!("{name}: {error}"))
}

fn rate_limit(
    per_second: Option<f64>,
    burst: Option<u32>,
) -> Result<Option<crate::domain::rate_limit::Limit>, String> {
    let per_second = match per_second {
        Some(value) => value,
        None => number(DEFAULTS.rate_limit)?,
    };
    let burst = match burst {
        Some(value) => value,
        None => number(DEFAULTS.rate_limit_burst)?,
    };
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

fn positive(lifetime: Lifetime) -> Option<Duration> {
    (!lifetime.is_zero()).then_some(lifetime.duration())
}

fn default_issuer(listen: SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    if listen.ip().is_unspecified() {
        format!("{scheme}://localhost:{}", listen.port())
    } else {
        format!("{scheme}://{listen}")
    }
}

fn tls_source(
    tls: bool,
    certificate: Option<String>,
    key: Option<String>,
    ca_dir: Option<String>,
) -> Result<Option<TlsSource>, String> {
    let certificate = certificate.filter(|path| !path.is_empty());
    let key = key.filter(|path| !path.is_empty());
    let given = match (certificate, key) {
        (Some(certificate), Some(key)) => Some(TlsSource::Files {
            certificate: certificate.into(),
            key: key.into(),
        }),
        (None, None) => None,
        _ => {
            return Err(
                "tls-cert and tls-key go together: give both (PEM files), or neither to use the \
                 local certificate authority"
                    .into(),
            );
        }
    };
    if !tls {
        return match given {
            Some(_) => Err("tls-cert and tls-key need --tls".into()),
            None => Ok(None),
        };
    }
    Ok(Some(given.unwrap_or_else(|| {
        TlsSource::LocalCa(
            ca_dir
                .filter(|dir| !dir.is_empty())
                .map_or_else(crate::tls::default_ca_dir, Into::into),
        )
    })))
}

/// Host names as given to `--host`: lowercase, each once; a port, scheme or path is refused.
fn host_names(names: Vec<String>) -> Result<Vec<String>, String> {
    let mut hosts: Vec<String> = Vec::new();
    for name in names {
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let wildcard_rest = name.strip_prefix("*.");
        let valid = name.len() <= 253
            && (name.parse::<std::net::IpAddr>().is_ok()
                || wildcard_rest.unwrap_or(&name).split('.').all(label_ok));
        if !valid {
            return Err(format!(
                "host: `{name}` is not a host name such as acme.coupahost.com or *.coupacloud.com \
                 (no scheme, port or path)"
            ));
        }
        if !hosts.contains(&name) {
            hosts.push(name);
        }
    }
    Ok(hosts)
}

/// `86399`, `86399s`, `30m`, `20h`, `90d` (see `Lifetime`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    Lifetime::parse(text).map(Lifetime::duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_coupa() {
        let config = Config::resolve(ConfigLayer::default(), None).unwrap();
        assert_eq!(Some(config.listen.to_string().as_str()), DEFAULTS.listen);
        assert_eq!(config.issuer, "http://127.0.0.1:8080");
        assert_eq!(config.token_lifetime.secs(), 86_399);
        assert_eq!(config.signing_alg, Algorithm::Es256);
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
        assert_eq!(config.token_lifetime.secs(), 3600);
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
            Some(Secret::new(long))
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
    fn every_setting_has_a_flag_a_variable_and_its_default_in_the_help() {
        use clap::CommandFactory;
        #[derive(clap::Parser)]
        struct Serve {
            #[command(flatten)]
            settings: ConfigLayer,
        }
        let command = Serve::command();
        let token_lifetime = command
            .get_arguments()
            .find(|arg| arg.get_id() == "token_lifetime")
            .unwrap();
        assert_eq!(token_lifetime.get_long(), Some("token-lifetime"));
        assert_eq!(
            token_lifetime.get_env(),
            Some(std::ffi::OsStr::new("COUPA_TOKEN_LIFETIME"))
        );
        assert!(
            token_lifetime
                .get_help()
                .unwrap()
                .to_string()
                .ends_with("[default: 86399]")
        );
        // Every declared default is one its own parser takes.
        assert!(Config::resolve(ConfigLayer::default(), None).is_ok());
        use clap::Parser;
        let parsed = Serve::try_parse_from(["serve", "--demo", "--api-keys", "false"]).unwrap();
        assert_eq!(
            (parsed.settings.demo, parsed.settings.api_keys),
            (Some(true), Some(false))
        );
    }
}
