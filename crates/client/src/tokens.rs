//! The token manager: one token per profile, refreshed before it is needed, one request in
//! flight however many tasks ask at once, a still-valid token served while the token endpoint
//! fails, backoff with jitter between failed attempts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use coupa_proto::oauth::{OAuthErrorBody, TokenResponse};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::profile::{AuthMethod, Profile, Secret, write_private};

/// When to refresh: at `refresh_after` of age (Coupa advises 20 h for its 24 h tokens) or when
/// less than `margin` of the token's life remains, whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct RefreshPolicy {
    pub refresh_after: Duration,
    pub margin: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            refresh_after: Duration::from_secs(20 * 3600),
            margin: Duration::from_secs(5 * 60),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    #[error("cannot reach the token endpoint {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the token endpoint refused: {status} {error}{}{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default(), .hint.as_deref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
    Refused {
        status: u16,
        error: String,
        description: Option<String>,
        hint: Option<String>,
    },
    #[error("the token endpoint answered {status} without a token: {body}")]
    Unexpected { status: u16, body: String },
    #[error(
        "the token endpoint {url} answered {status}, a redirect to {location}: token requests are never redirected, as that would send the client secret elsewhere; set the profile's url to the instance's own address"
    )]
    Redirected {
        url: String,
        status: u16,
        location: String,
    },
    #[error("the token endpoint is failing; the next attempt is in {0:?}: {1}")]
    BackingOff(Duration, Box<TokenError>),
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    obtained: Instant,
    expires: Instant,
    scope: Option<String>,
}

/// A token with what the token endpoint said of it.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub token: Secret,
    /// Seconds of life left.
    pub expires_in: u64,
    pub scope: Option<String>,
}

#[derive(Default)]
struct State {
    cached: Option<Cached>,
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<TokenError>,
}

pub struct TokenManager {
    profile: Arc<Profile>,
    http: reqwest::Client,
    policy: RefreshPolicy,
    state: Mutex<State>,
    requests: AtomicU64,
    disk_cache: Option<PathBuf>,
}

/// What the on-disk cache holds: the token and the identity it was minted for, so a changed
/// URL, client or scope list never reuses it.
#[derive(Serialize, Deserialize)]
struct DiskEntry {
    token_url: String,
    client_id: String,
    requested_scope: Option<String>,
    access_token: String,
    scope: Option<String>,
    obtained_at: u64,
    expires_at: u64,
}

impl TokenManager {
    /// `http` should follow `crate::http::redirect_policy()` (as `crate::http::client()` does):
    /// a client that follows redirects would re-post the secret on a 307 or 308.
    pub fn new(profile: Arc<Profile>, http: reqwest::Client, policy: RefreshPolicy) -> Self {
        Self {
            profile,
            http,
            policy,
            state: Mutex::new(State::default()),
            requests: AtomicU64::new(0),
            disk_cache: None,
        }
    }

    /// Keeps the token in `path` as well (mode 0600, replaced atomically), so separate runs of a
    /// program share one token instead of minting one each. A file minted for another URL,
    /// client or scope list, unreadable, or due for refresh is ignored.
    pub fn with_disk_cache(mut self, path: PathBuf) -> Self {
        let cached = self.read_disk_entry(&path);
        self.state.get_mut().cached = cached;
        self.disk_cache = Some(path);
        self
    }

    /// `DIR/NAME.json` for a profile name, with anything but letters, digits, `-` and `_`
    /// replaced so a name cannot leave the directory.
    pub fn disk_cache_file(directory: &Path, profile_name: &str) -> PathBuf {
        let safe: String = profile_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        directory.join(format!("{safe}.json"))
    }

    fn read_disk_entry(&self, path: &Path) -> Option<Cached> {
        let bytes = std::fs::read(path).ok()?;
        let entry: DiskEntry = serde_json::from_slice(&bytes).ok()?;
        if entry.token_url != self.profile.token_url()
            || entry.client_id != self.profile.client_id
            || entry.requested_scope != self.profile.scope
        {
            return None;
        }
        let now_wall = unix_now();
        let now = Instant::now();
        let age = Duration::from_secs(now_wall.checked_sub(entry.obtained_at)?);
        let remaining = Duration::from_secs(entry.expires_at.checked_sub(now_wall)?);
        let cached = Cached {
            token: Secret::new(entry.access_token),
            obtained: now.checked_sub(age)?,
            expires: now + remaining,
            scope: entry.scope,
        };
        (!self.due(&cached, now)).then_some(cached)
    }

    fn write_disk_entry(&self, cached: &Cached) {
        let Some(path) = &self.disk_cache else {
            return;
        };
        let now_wall = unix_now();
        let entry = DiskEntry {
            token_url: self.profile.token_url(),
            client_id: self.profile.client_id.clone(),
            requested_scope: self.profile.scope.clone(),
            access_token: cached.token.expose().to_string(),
            scope: cached.scope.clone(),
            obtained_at: now_wall,
            expires_at: now_wall
                + cached
                    .expires
                    .saturating_duration_since(cached.obtained)
                    .as_secs(),
        };
        let written = serde_json::to_vec(&entry)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_private(path, &bytes));
        if let Err(error) = written {
            tracing::warn!(profile = %self.profile.name, path = %path.display(), %error, "cannot write the token cache; the token stays in memory only");
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// How many token requests this manager has sent.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A token good for now. Concurrent callers wait for the one request in flight.
    pub async fn token(&self) -> Result<Secret, TokenError> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if let Some(cached) = &state.cached
            && !self.due(cached, now)
        {
            return Ok(cached.token.clone());
        }
        self.refresh_locked(&mut state, now, false).await
    }

    /// A token good for now, with its remaining lifetime and granted scope.
    pub async fn token_info(&self) -> Result<TokenInfo, TokenError> {
        let token = self.token().await?;
        let state = self.state.lock().await;
        let cached = state.cached.as_ref().filter(|cached| cached.token == token);
        Ok(TokenInfo {
            expires_in: cached
                .map(|cached| {
                    cached
                        .expires
                        .saturating_duration_since(Instant::now())
                        .as_secs()
                })
                .unwrap_or(0),
            scope: cached.and_then(|cached| cached.scope.clone()),
            token,
        })
    }

    /// After the API refused `rejected` as invalid: a new token, unless another task already
    /// replaced it.
    pub async fn force_refresh(&self, rejected: &Secret) -> Result<Secret, TokenError> {
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.cached
            && cached.token != *rejected
        {
            return Ok(cached.token.clone());
        }
        state.cached = None;
        self.refresh_locked(&mut state, Instant::now(), true).await
    }

    fn due(&self, cached: &Cached, now: Instant) -> bool {
        now >= cached.obtained + self.policy.refresh_after
            || now + self.policy.margin >= cached.expires
    }

    async fn refresh_locked(
        &self,
        state: &mut State,
        now: Instant,
        forced: bool,
    ) -> Result<Secret, TokenError> {
        let still_valid = state
            .cached
            .as_ref()
            .filter(|cached| now < cached.expires)
            .map(|cached| cached.token.clone());
        if !forced
            && let Some(retry_at) = state.retry_at
            && now < retry_at
        {
            let last = state.last_error.clone().unwrap_or(TokenError::Unexpected {
                status: 0,
                body: String::new(),
            });
            return still_valid.ok_or(TokenError::BackingOff(retry_at - now, Box::new(last)));
        }
        match self.fetch().await {
            Ok((token, lifetime, scope)) => {
                let obtained = Instant::now();
                let cached = Cached {
                    token: token.clone(),
                    obtained,
                    expires: obtained + lifetime,
                    scope,
                };
                self.write_disk_entry(&cached);
                state.cached = Some(cached);
                state.failures = 0;
                state.retry_at = None;
                state.last_error = None;
                Ok(token)
            }
            Err(error) => {
                state.failures += 1;
                state.retry_at = Some(Instant::now() + self.backoff(state.failures));
                state.last_error = Some(error.clone());
                match still_valid {
                    Some(token) => {
                        tracing::warn!(profile = %self.profile.name, %error, "token refresh failed; the current token stays in use");
                        Ok(token)
                    }
                    None => Err(error),
                }
            }
        }
    }

    /// Exponential backoff with full jitter.
    fn backoff(&self, failures: u32) -> Duration {
        let ceiling = self
            .policy
            .backoff_base
            .saturating_mul(1 << failures.min(16))
            .min(self.policy.backoff_max);
        ceiling.mul_f64(jitter())
    }

    async fn fetch(&self) -> Result<(Secret, Duration, Option<String>), TokenError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let profile = &self.profile;
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &profile.scope {
            form.push(("scope", scope));
        }
        let mut request = self
            .http
            .post(profile.token_url())
            .header("Accept", "application/json");
        request = match profile.auth {
            AuthMethod::Body => {
                form.push(("client_id", &profile.client_id));
                form.push(("client_secret", profile.client_secret.expose()));
                request
            }
            AuthMethod::Basic => {
                // RFC 6749 §2.3.1: both halves form-encoded before base64.
                let id: String =
                    form_urlencoded::byte_serialize(profile.client_id.as_bytes()).collect();
                let secret: String =
                    form_urlencoded::byte_serialize(profile.client_secret.expose().as_bytes())
                        .collect();
                request.basic_auth(id, Some(secret))
            }
        };
        let response =
            request
                .form(&form)
                .send()
                .await
                .map_err(|error| TokenError::Unreachable {
                    url: profile.token_url(),
                    reason: crate::http::describe_send_error(&error),
                })?;
        let status = response.status().as_u16();
        let asked = reqwest::Url::parse(&profile.token_url()).ok();
        if response.status().is_redirection() || asked.as_ref() != Some(response.url()) {
            return Err(TokenError::Redirected {
                url: profile.token_url(),
                status,
                location: response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or(response.url().as_str())
                    .to_string(),
            });
        }
        let body = response.text().await.unwrap_or_default();
        if (200..300).contains(&status)
            && let Ok(token) = serde_json::from_str::<TokenResponse>(&body)
        {
            return Ok((
                Secret::new(token.access_token),
                Duration::from_secs(token.expires_in),
                token.scope,
            ));
        }
        if let Ok(error) = serde_json::from_str::<OAuthErrorBody>(&body) {
            let hint = (error.error == "invalid_scope").then(|| {
                format!(
                    "this profile asks for the scopes `{}`; compare them with the client's scopes in Setup > OAuth2/OpenID Connect Clients, or leave the scope out to get all of them",
                    profile.scope.as_deref().unwrap_or("(none: all of the client's)")
                )
            });
            return Err(TokenError::Refused {
                status,
                error: error.error,
                description: error.error_description,
                hint,
            });
        }
        let mut body = body;
        body.truncate(300);
        Err(TokenError::Unexpected { status, body })
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// A factor in [0.5, 1.0) from the clock's low bits: enough to spread retries of many workers.
pub(crate) fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0);
    0.5 + f64::from(nanos % 1000) / 2000.0
}
