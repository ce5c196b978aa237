//! Start-up: open the store, make sure a signing key and an admin token exist, fill the
//! client cache, then serve until told to stop.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::cache::{self, ApiKeyCache, ClientCache, hex};
use crate::config::{Config, Secret, TlsSource};
use crate::domain::secret::{self, Digest};
use crate::domain::time::now_unix;
use crate::key_encryption::KeyEncryptionKey;
use crate::keys::{self, SharedKeyRing};
use crate::state::AppState;
use crate::store::{self, Store, StoreError};

const ADMIN_TOKEN_SETTING: &str = "admin_token_sha256";
/// The login of the client `coupa sandbox up` prints the credentials of.
pub const SANDBOX_CLIENT_LOGIN: &str = "sandbox-connector";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    KeyRing(#[from] crate::signing_keys::KeyRingError),
    #[error("signing keys: {0}")]
    Keys(#[from] keys::KeyError),
    #[error("{0}")]
    Admin(String),
    #[error("key encryption key: {0}")]
    Kek(#[from] crate::key_encryption::KekError),
    #[error("cannot start the password workers: {0}")]
    Threads(#[from] std::io::Error),
    #[error("{0}")]
    Metrics(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("faults: {0}")]
    Faults(String),
}

/// A server ready to accept connections.
pub struct App {
    pub state: Arc<AppState>,
    /// Set when this start generated the admin token: the one time it can be shown.
    pub generated_admin_token: Option<String>,
    /// With `demo`: the demo client with a fresh secret, to show.
    pub demo_client: Option<coupa_proto::admin::ClientView>,
    /// With `demo`: the login and fresh password of the demo administrator, to show.
    pub demo_admin: Option<(String, String)>,
    /// Whether an administrator can sign in to Setup; if not, the banner says how to make one.
    pub has_administrator: bool,
    /// With `metrics_listen`: where `/metrics` is served, and the recorder behind it.
    metrics: Option<MetricsListener>,
    /// With `tls`: what HTTPS is served with.
    pub tls: Option<TlsServing>,
    /// A SQLite database is this process's while it serves.
    _database_lock: Option<crate::database_lock::DatabaseLock>,
}

/// HTTPS as this start set it up.
pub struct TlsServing {
    config: Arc<rustls::ServerConfig>,
    /// With the local CA: the file holding its certificate, for clients to trust.
    pub ca_certificate_file: Option<std::path::PathBuf>,
    /// Whether this start created the local CA.
    pub ca_created: bool,
    /// The names the certificate from the local CA covers.
    pub names: Vec<String>,
}

/// Sets up HTTPS from `source`: a certificate from the local CA (created when missing) for
/// the names served, or the files given.
fn tls_serving(config: &Config, source: &TlsSource) -> Result<TlsServing, StartError> {
    let failed = |error: crate::tls::TlsError| StartError::Tls(error.to_string());
    match source {
        TlsSource::LocalCa(dir) => {
            let (ca, ca_created) = crate::tls::LocalCa::open_or_create(dir).map_err(failed)?;
            let names = crate::tls::certificate_names(&config.hosts, config.listen);
            let identity = ca.issue(&names).map_err(failed)?;
            Ok(TlsServing {
                config: identity.server_config().map_err(failed)?,
                ca_certificate_file: Some(ca.certificate_file()),
                ca_created,
                names,
            })
        }
        TlsSource::Files { certificate, key } => {
            let identity =
                crate::tls::ServerIdentity::from_files(certificate, key).map_err(failed)?;
            Ok(TlsServing {
                config: identity.server_config().map_err(failed)?,
                ca_certificate_file: None,
                ca_created: false,
                names: Vec::new(),
            })
        }
    }
}

struct MetricsListener {
    listener: TcpListener,
    handle: metrics_exporter_prometheus::PrometheusHandle,
}

/// Uploads read at once: with `max_file_bytes` each, this bounds the memory they take.
const UPLOADS_AT_ONCE: usize = 4;

impl App {
    pub async fn prepare(config: Config) -> Result<Self, StartError> {
        // First, so that the start itself is counted.
        let metrics = match config.metrics_listen {
            Some(address) => {
                let handle = crate::telemetry::install().map_err(StartError::Metrics)?;
                let listener = TcpListener::bind(address).await.map_err(|error| {
                    StartError::Metrics(format!(
                        "cannot serve metrics on {address}: {error}; pick another --metrics-listen"
                    ))
                })?;
                Some(MetricsListener { listener, handle })
            }
            None => None,
        };
        let tls = config
            .tls
            .as_ref()
            .map(|source| tls_serving(&config, source))
            .transpose()?;
        let database_lock = store::database_file(config.database_url.as_str())
            .map(|file| crate::database_lock::claim(&file))
            .transpose()
            .map_err(|message| StartError::Store(StoreError::Unusable(message)))?;
        let store = store::open(config.database_url.as_str()).await?;
        check_issuer(store.as_ref(), &config.issuer).await?;
        store
            .ensure_record_tables(&crate::api::sql::create_tables)
            .await?;
        if config.demo && crate::demo::load(store.as_ref(), &config).await? {
            tracing::info!("demo data loaded");
        }
        let kek = key_encryption_key(&config)?;
        let fault_seed = match config.seed {
            Some(seed) => seed,
            None => crate::domain::secret::random_bytes::<8>()
                .map(u64::from_be_bytes)
                .map_err(|error| StartError::Admin(error.to_string()))?,
        };
        tracing::info!(
            seed = fault_seed,
            "faults draw their chances from this seed; --seed {fault_seed} repeats them"
        );
        let keys = crate::signing_keys::ensure(store.as_ref(), config.signing_alg, &kek).await?;
        let (admin_token_digest, generated_admin_token) =
            admin_token(store.as_ref(), &config).await?;
        let clients = ClientCache::default();
        let count = clients
            .reload_all(|| cache::load_clients(store.as_ref()))
            .await?;
        let api_keys = ApiKeyCache::default();
        api_keys
            .reload_all(|| cache::load_api_keys(store.as_ref()))
            .await?;
        let custom_fields = cache::CustomFieldCache::default();
        custom_fields.reload(store.as_ref()).await?;
        tracing::info!(backend = store.backend(), clients = count, "store ready");
        let rate_limiter = crate::domain::rate_limit::RateLimiter::new(config.rate_limit);
        let revocations = crate::revocations::Revocations::default();
        revocations.follow(store.as_ref(), now_unix()).await?;
        let origins = crate::domain::origin::Origins::new(
            &config.issuer,
            config.tls.is_some(),
            served_hosts(&config),
        );
        let token_settings = crate::grants::TokenSettings {
            access_token_lifetime: config.token_lifetime,
            refresh_token_lifetime: config.refresh_token_lifetime,
            refresh_token_reuse_grace: config.refresh_token_reuse_grace,
        };
        let state = Arc::new(AppState {
            token_settings,
            config,
            store,
            clients,
            api_keys,
            custom_fields,
            api_key_uses: Default::default(),
            refused_api_key_calls: Default::default(),
            token_issue_times: Default::default(),
            rate_limiter,
            keys: SharedKeyRing::new(keys),
            kek,
            admin_token_digest,
            origins,
            revocations,
            auth_failures: Default::default(),
            passwords: crate::passwords::PasswordWorkers::for_this_machine()?,
            device_starts: Default::default(),
            uploads: tokio::sync::Semaphore::new(UPLOADS_AT_ONCE),
            administrator_seen: Default::default(),
            faults: crate::faults::FaultBoard::seeded(fault_seed),
            traffic: Default::default(),
        });
        let (demo_client, demo_admin) = if state.config.demo {
            (
                Some(demo_client(&state).await?),
                Some(demo_admin(&state).await?),
            )
        } else {
            (None, None)
        };
        if let Some(file) = &state.config.faults_file {
            load_scenario(&state, file).await?;
        }
        let has_administrator = state.administrator_seen.check(state.store.as_ref()).await?;
        Ok(Self {
            state,
            has_administrator,
            generated_admin_token,
            demo_client,
            demo_admin,
            metrics,
            tls,
            _database_lock: database_lock,
        })
    }

    /// The sandbox's connector client (login `sandbox-connector`) holding `scope`, with a new
    /// secret to show.
    pub async fn sandbox_client(
        &self,
        scope: &str,
    ) -> Result<coupa_proto::admin::ClientView, StartError> {
        client_with_fresh_secret(
            &self.state,
            coupa_proto::admin::CreateClient {
                name: "Sandbox connector".into(),
                login: SANDBOX_CLIENT_LOGIN.into(),
                grant_type: "client_credentials".into(),
                scope: scope.to_string(),
                contact_info: "Created by coupa sandbox up".into(),
                contact_email: "integrations@example.com".into(),
                ..Default::default()
            },
        )
        .await
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_address(&self) -> Option<std::net::SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|metrics| metrics.listener.local_addr().ok())
    }

    /// Serves on `listener` until `shutdown` completes, then finishes in-flight requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let refresher = tokio::spawn(refresh_caches_periodically(Arc::clone(&self.state)));
        let follower = tokio::spawn(follow_revocations(Arc::clone(&self.state)));
        let janitor = tokio::spawn(purge_expired_periodically(Arc::clone(&self.state)));
        let rotator = tokio::spawn(rotate_keys_when_due(Arc::clone(&self.state)));
        let failures_writer =
            tokio::spawn(write_auth_failures_periodically(Arc::clone(&self.state)));
        let listener_of_changes = tokio::spawn(follow_changes(Arc::clone(&self.state)));
        let limits = self.state.config.connections;
        let metrics = self.metrics.map(|metrics| {
            let router = crate::http::metrics::router(Arc::clone(&self.state), metrics.handle);
            tokio::spawn(crate::http::connections::serve(
                metrics.listener,
                router,
                limits,
                None,
                std::future::pending(),
            ))
        });
        let router = crate::http::router(Arc::clone(&self.state));
        let tls = self.tls.map(|tls| tls.config);
        let result = crate::http::connections::serve(listener, router, limits, tls, shutdown).await;
        self.state
            .auth_failures
            .write(self.state.store.as_ref())
            .await;
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        refresher.abort();
        follower.abort();
        janitor.abort();
        rotator.abort();
        failures_writer.abort();
        listener_of_changes.abort();
        result
    }
}

/// The demo client, created on the first demo start; its secret is renewed at every demo
/// start so that it can be shown.
async fn demo_client(state: &AppState) -> Result<coupa_proto::admin::ClientView, StartError> {
    let scope = coupa_proto::scopes::CATALOGUE
        .iter()
        .map(|scope| scope.name)
        .collect::<Vec<_>>()
        .join(" ");
    client_with_fresh_secret(
        state,
        coupa_proto::admin::CreateClient {
            name: "Demo integration".into(),
            login: crate::demo::DEMO_CLIENT_LOGIN.into(),
            grant_type: "client_credentials".into(),
            scope,
            contact_info: "Created by coupa serve --demo".into(),
            contact_email: "integrations@example.com".into(),
            ..Default::default()
        },
    )
    .await
}

/// The client-credentials client `input` describes, created when its login is new, else
/// given `input`'s scopes; with a new secret either way, so that it can be shown.
async fn client_with_fresh_secret(
    state: &AppState,
    input: coupa_proto::admin::CreateClient,
) -> Result<coupa_proto::admin::ClientView, StartError> {
    use crate::admin::{AdminError, clients};
    let login = input.login.clone();
    let failed = |error: AdminError| StartError::Admin(format!("client {login}: {error:?}"));
    let existing = state
        .store
        .clients()
        .await?
        .into_iter()
        .find(|client| client.login == input.login);
    let Some(client) = existing else {
        return clients::create(&state.admin(), input).await.map_err(failed);
    };
    if client.scopes.to_string() != crate::domain::scope::ScopeSet::parse(&input.scope).to_string()
    {
        let changes = coupa_proto::admin::UpdateClient {
            scope: Some(input.scope.clone()),
            ..Default::default()
        };
        clients::update(&state.admin(), &client.client_id, changes)
            .await
            .map_err(failed)?;
    }
    clients::rotate_secret(&state.admin(), &client.client_id)
        .await
        .map_err(failed)
}

/// The demo administrator, created on the first demo start; like the demo client's secret,
/// its password is renewed at every demo start so that it can be shown.
async fn demo_admin(state: &AppState) -> Result<(String, String), StartError> {
    use crate::admin::users;
    let failed = |error: crate::admin::AdminError| {
        StartError::Admin(format!("demo administrator: {error:?}"))
    };
    let login = crate::demo::DEMO_ADMIN_LOGIN;
    let password =
        secret::generate_secret().map_err(|error| StartError::Admin(error.to_string()))?;
    match state.store.user_by_login(login).await? {
        Some(user) => {
            let changes = coupa_proto::admin::UpdateUser {
                password: Some(password.clone()),
                active: Some(true),
                admin: Some(true),
                ..Default::default()
            };
            users::update(&state.admin(), &user.user_id, changes)
                .await
                .map_err(failed)?;
        }
        None => {
            let input = coupa_proto::admin::CreateUser {
                login: login.into(),
                email: "admin@example.com".into(),
                name: "Demo Administrator".into(),
                password: password.clone(),
                admin: true,
            };
            users::create(&state.admin(), input).await.map_err(failed)?;
        }
    }
    Ok((login.to_string(), password))
}

const ISSUER_SETTING: &str = "issuer";

/// Replicas behind one load balancer must share one issuer, or each refuses the others'
/// tokens: warns when the issuer recorded by the last replica to start differs, then records
/// this one's.
/// Switches on the faults of a scenario file, on behalf of the file.
async fn load_scenario(state: &AppState, file: &std::path::Path) -> Result<(), StartError> {
    let failed = |why: String| StartError::Faults(format!("{}: {why}", file.display()));
    let text = std::fs::read_to_string(file).map_err(|error| failed(error.to_string()))?;
    let actor = crate::domain::audit::Actor {
        name: format!("scenario {}", file.display()),
        address: String::new(),
    };
    let added = crate::admin::faults::load_scenario(&state.admin_as(actor), &state.faults, &text)
        .await
        .map_err(failed)?;
    for fault in &added {
        tracing::warn!(
            kind = %fault.kind, starts_at = %fault.starts_at, ends_at = %fault.ends_at,
            client = fault.client_id.as_deref().unwrap_or("every caller"),
            "fault from the scenario file: {}", fault.effect
        );
    }
    Ok(())
}

/// The host names whose requests are answered as an instance of their own (see
/// `domain::origin`): `--host`, and with a certificate from the local CA every name it covers.
fn served_hosts(config: &Config) -> Vec<String> {
    match config.tls {
        Some(crate::config::TlsSource::LocalCa(_)) => {
            crate::tls::certificate_names(&config.hosts, config.listen)
        }
        _ => config.hosts.clone(),
    }
}

async fn check_issuer(store: &dyn Store, issuer: &str) -> Result<(), StoreError> {
    match store.setting(ISSUER_SETTING).await? {
        Some(recorded) if recorded != issuer => tracing::warn!(
            %issuer, %recorded,
            "this server's issuer differs from the one the last server on this database recorded; \
             replicas behind one load balancer need one --issuer, or each refuses the tokens of the others"
        ),
        Some(_) => return Ok(()),
        None => {}
    }
    store.put_setting(ISSUER_SETTING, issuer).await
}

/// The key encryption key: given, or (SQLite only) kept next to the database.
fn key_encryption_key(config: &Config) -> Result<KeyEncryptionKey, StartError> {
    use crate::key_encryption::KekSource;
    let default_file = store::database_file(config.database_url.as_str()).map(|database| {
        let mut name = database.as_os_str().to_os_string();
        name.push(".key-encryption-key");
        std::path::PathBuf::from(name)
    });
    let (kek, source) = crate::key_encryption::load(
        config.key_encryption_key.as_ref().map(Secret::expose),
        config.key_encryption_key_file.as_deref(),
        default_file.as_deref(),
    )?;
    match source {
        KekSource::Generated(path) => tracing::warn!(
            file = %path.display(),
            "generated a key encryption key for the signing keys: back this file up with the database \
             (without it the keys cannot be read), or set COUPA_KEY_ENCRYPTION_KEY"
        ),
        KekSource::File(path) => {
            tracing::info!(file = %path.display(), kek_id = kek.id(), "signing keys sealed with the key encryption key from a file");
        }
        KekSource::Environment => {
            tracing::info!(
                kek_id = kek.id(),
                "signing keys sealed with COUPA_KEY_ENCRYPTION_KEY"
            );
        }
    }
    Ok(kek)
}

async fn admin_token(
    store: &dyn Store,
    config: &Config,
) -> Result<(Digest, Option<String>), StartError> {
    if let Some(token) = &config.admin_token {
        return Ok((secret::digest(token.expose()), None));
    }
    if let Some(stored) = store.setting(ADMIN_TOKEN_SETTING).await? {
        return Ok((parse_hex_digest(&stored)?, None));
    }
    let token = secret::generate_secret().map_err(|error| StartError::Admin(error.to_string()))?;
    let digest = secret::digest(&token);
    if store
        .insert_setting_if_absent(ADMIN_TOKEN_SETTING, &hex(&digest))
        .await?
    {
        return Ok((digest, Some(token)));
    }
    // Another replica generated it first.
    let stored = store
        .setting(ADMIN_TOKEN_SETTING)
        .await?
        .ok_or_else(|| StartError::Admin("the admin token digest vanished".into()))?;
    Ok((parse_hex_digest(&stored)?, None))
}

fn parse_hex_digest(text: &str) -> Result<Digest, StartError> {
    let corrupt = || {
        StartError::Admin("the stored admin token digest is corrupt; set COUPA_ADMIN_TOKEN".into())
    };
    if text.len() != 64 {
        return Err(corrupt());
    }
    let mut digest = [0u8; 32];
    for (index, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(index * 2..index * 2 + 2).ok_or_else(corrupt)?, 16)
            .map_err(|_| corrupt())?;
    }
    Ok(digest)
}

/// How often other replicas' revocations are picked up.
const REVOCATION_POLL: std::time::Duration = std::time::Duration::from_secs(2);

async fn follow_revocations(state: Arc<AppState>) {
    let mut ticker = tokio::time::interval(REVOCATION_POLL);
    loop {
        ticker.tick().await;
        if let Err(error) = state
            .revocations
            .follow(state.store.as_ref(), now_unix())
            .await
        {
            tracing::warn!(%error, "cannot read the revocation feed; will retry");
        }
    }
}

/// How often expired rows are deleted (first at start).
const PURGE_PERIOD: std::time::Duration = std::time::Duration::from_secs(300);

async fn purge_expired_periodically(state: Arc<AppState>) {
    let mut ticker = tokio::time::interval(PURGE_PERIOD);
    loop {
        ticker.tick().await;
        match state.store.purge_expired(now_unix()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(
                deleted,
                "deleted expired codes, sessions, tokens, revocations and signing keys"
            ),
            Err(error) => tracing::warn!(%error, "cannot delete expired rows; will retry"),
        }
        let keep_since = now_unix() - state.config.audit_retention.seconds();
        match state.store.purge_audit(keep_since).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted audit entries past their retention"),
            Err(error) => tracing::warn!(%error, "cannot purge the audit trail; will retry"),
        }
    }
}

/// How often failed client authentications counted in memory go to the audit trail.
const AUTH_FAILURES_WRITE_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

async fn write_auth_failures_periodically(state: Arc<AppState>) {
    let mut ticker = tokio::time::interval(AUTH_FAILURES_WRITE_PERIOD);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        state.auth_failures.write(state.store.as_ref()).await;
    }
}

/// How often automatic key rotation looks whether a rotation is due.
const KEY_ROTATION_CHECK: std::time::Duration = std::time::Duration::from_secs(60);

async fn rotate_keys_when_due(state: Arc<AppState>) {
    let interval = state.config.key_rotation_interval;
    if interval.is_zero() {
        return;
    }
    let mut ticker = tokio::time::interval(KEY_ROTATION_CHECK.min(interval.duration()));
    loop {
        ticker.tick().await;
        match state.key_service().rotate_due(interval.seconds()).await {
            Ok(true) => tracing::info!("started a scheduled signing key rotation"),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot rotate the signing keys; will retry"),
        }
    }
}

async fn refresh_caches_periodically(state: Arc<AppState>) {
    let period = state.config.client_cache_refresh;
    if period.is_zero() {
        return;
    }
    let mut ticker = tokio::time::interval(period.duration());
    ticker.tick().await;
    loop {
        ticker.tick().await;
        state.reload_everything().await;
    }
}

/// How long to wait before listening again for other replicas' changes after the
/// connection to the database was lost.
const RESUBSCRIBE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Applies what other replicas announce as they announce it (PostgreSQL); after the listening
/// connection comes back from a loss, reloads everything, since announcements were missed.
async fn follow_changes(state: Arc<AppState>) {
    use crate::store::Announcement;
    loop {
        match state.store.subscribe().await {
            Ok(None) => return,
            Ok(Some(mut subscription)) => {
                // Changes made between the last load and this subscription were not heard.
                state.reload_everything().await;
                loop {
                    match subscription.next().await {
                        Ok(Announcement::Changed(change)) => state.apply_change(change).await,
                        Ok(Announcement::ReloadEverything) => state.reload_everything().await,
                        Err(error) => {
                            tracing::warn!(%error, "no longer hearing other replicas' changes; listening again");
                            break;
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for other replicas' changes; will retry");
            }
        }
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
    }
}
