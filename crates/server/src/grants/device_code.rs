//! The device authorization grant (RFC 8628): starting a device authorization (§3.1, §3.2)
//! and `grant_type=urn:ietf:params:oauth:grant-type:device_code` at the token endpoint
//! (§3.4, §3.5).

use coupa_proto::oauth::{OAuthErrorCode, TokenResponse};
use serde::Serialize;

use super::tokens::{deactivated_since, first_tokens, user_grant};
use super::{AuthenticatedClient, Grant, GrantContext, OAuthError, required};
use crate::domain::authorization_request::with_query;
use crate::domain::client::ClientKind;
use crate::domain::device::{
    self, DeviceRecord, DeviceStatus, INTERVAL_SECONDS, LIFETIME_SECONDS, Poll, SLOW_DOWN_STEP,
    judge_poll,
};
use crate::domain::form::FormParams;
use crate::domain::rate_limit::{Decision, Limit, RateLimiter};
use crate::domain::scope::{ScopeError, ScopeSet, describe_not_granted};
use crate::domain::secret;
use crate::domain::time::now_unix;
use crate::service_error::ServiceError;
use crate::sessions::SignedIn;
use crate::store::StoreError;

pub const GRANT: Grant = Grant {
    name: "urn:ietf:params:oauth:grant-type:device_code",
    client_kinds: &[ClientKind::DeviceCode],
    issue: |context, client, params| Box::pin(poll(context, client, params)),
};

/// Where users enter the code a device shows.
pub const VERIFICATION_PATH: &str = "/oauth2/device";
const USER_CODE_ATTEMPTS: usize = 5;

/// How fast device authorizations may be started: a public device client's id is no secret,
/// so anyone could otherwise fill the store with them.
pub struct DeviceStartLimits {
    per_client: RateLimiter,
    per_address: RateLimiter,
}

impl Default for DeviceStartLimits {
    fn default() -> Self {
        Self {
            per_client: RateLimiter::new(Some(Limit {
                per_second: 5.0,
                burst: 50,
            })),
            per_address: RateLimiter::new(Some(Limit {
                per_second: 1.0,
                burst: 10,
            })),
        }
    }
}

impl DeviceStartLimits {
    /// Checked before the request is even read.
    pub fn check_address(&self, address: &str) -> Result<(), OAuthError> {
        Self::allow(self.per_address.check(address))
    }

    fn check_client(&self, client_id: &str) -> Result<(), OAuthError> {
        Self::allow(self.per_client.check(client_id))
    }

    fn allow(decision: Decision) -> Result<(), OAuthError> {
        match decision {
            Decision::Allow => Ok(()),
            Decision::Deny { retry_after } => {
                let seconds = retry_after.ceil().max(1.0);
                Err(OAuthError::too_many(
                    format!("too many device authorizations started; wait {seconds} seconds"),
                    // Whole seconds, at least one.
                    seconds as u64,
                ))
            }
        }
    }
}

/// The answer of the device authorization endpoint (RFC 8628 §3.2).
#[derive(Debug, Serialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// Starts a device authorization for `client` with the scopes it asks for.
pub async fn start_device_authorization(
    context: &GrantContext<'_>,
    limits: &DeviceStartLimits,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<DeviceAuthorization, OAuthError> {
    limits.check_client(&client.client_id)?;
    if client.kind != ClientKind::DeviceCode {
        return Err(OAuthError::new(
            OAuthErrorCode::UnauthorizedClient,
            format!(
                "this client is registered for the {} grant; register a device code client",
                client.kind.as_str()
            ),
        ));
    }
    let scopes = ScopeSet::grant(&client.scopes, params.get("scope")).map_err(
        |ScopeError::NotGranted(missing)| {
            OAuthError::new(OAuthErrorCode::InvalidScope, describe_not_granted(&missing))
        },
    )?;
    let device_code = secret::generate_secret().map_err(OAuthError::unavailable)?;
    let now = now_unix();
    for _ in 0..USER_CODE_ATTEMPTS {
        let user_code = device::generate_user_code().map_err(OAuthError::unavailable)?;
        let record = DeviceRecord {
            device_digest: secret::digest(&device_code).to_vec(),
            user_code: user_code.clone(),
            client_id: client.client_id.clone(),
            scopes: scopes.clone(),
            expires_at: now + LIFETIME_SECONDS,
            interval: INTERVAL_SECONDS,
            last_polled_at: None,
            status: DeviceStatus::Pending,
            grant_id: None,
        };
        match context.store.insert_device_authorization(&record).await {
            Ok(()) => {
                let verification_uri = format!("{}{VERIFICATION_PATH}", context.origin.issuer);
                let shown = device::display_user_code(&user_code);
                return Ok(DeviceAuthorization {
                    device_code,
                    verification_uri_complete: with_query(
                        &verification_uri,
                        &[("user_code", shown.clone())],
                    ),
                    user_code: shown,
                    verification_uri,
                    expires_in: LIFETIME_SECONDS,
                    interval: INTERVAL_SECONDS,
                });
            }
            Err(StoreError::Taken(_)) => continue,
            Err(error) => return Err(OAuthError::unavailable(error)),
        }
    }
    Err(OAuthError::unavailable("no free user code"))
}

async fn poll(
    context: &GrantContext<'_>,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let device_code = required(params, "device_code")?;
    let digest = secret::digest(device_code);
    let store = context.store;
    let device = store
        .device(&digest)
        .await
        .map_err(OAuthError::unavailable)?
        .filter(|device| device.client_id == client.client_id)
        .ok_or_else(|| OAuthError::invalid_grant("the device_code is unknown"))?;
    let issued_at = device.expires_at - LIFETIME_SECONDS;
    if !client.honours_grant_made_at(issued_at) {
        return Err(deactivated_since());
    }
    let now = now_unix();
    let poll = judge_poll(&device, now);
    let interval = if poll == Poll::SlowDown {
        device.interval + SLOW_DOWN_STEP
    } else {
        device.interval
    };
    store
        .record_device_poll(&digest, now, interval)
        .await
        .map_err(OAuthError::unavailable)?;
    let refuse = |code, description: String| Err(OAuthError::new(code, description));
    match poll {
        Poll::Pending => refuse(
            OAuthErrorCode::AuthorizationPending,
            "the user has not approved yet; poll again after the interval".into(),
        ),
        Poll::SlowDown => refuse(
            OAuthErrorCode::SlowDown,
            format!("polled too often; wait {interval} seconds between polls"),
        ),
        Poll::Expired => refuse(
            OAuthErrorCode::ExpiredToken,
            "the device code has expired; start a new device authorization".into(),
        ),
        Poll::Denied => refuse(
            OAuthErrorCode::AccessDenied,
            "the user denied the request".into(),
        ),
        Poll::AlreadyUsed => Err(OAuthError::invalid_grant(
            "the device code was already used",
        )),
        Poll::Approved { grant_id } => {
            if !store
                .consume_device(&digest)
                .await
                .map_err(OAuthError::unavailable)?
            {
                return Err(OAuthError::invalid_grant(
                    "the device code was already used",
                ));
            }
            let grant = store
                .grant(&grant_id)
                .await
                .map_err(OAuthError::unavailable)?
                .ok_or_else(|| {
                    OAuthError::invalid_grant("the grant of this device code is gone")
                })?;
            first_tokens(context, client, &grant, now).await
        }
    }
}

/// The pending, unexpired device authorization whose user code a user typed (in whatever
/// case and spacing), if any.
pub async fn pending_device(
    context: &GrantContext<'_>,
    typed: &str,
) -> Result<Option<DeviceRecord>, StoreError> {
    let Some(user_code) = device::normalize_user_code(typed) else {
        return Ok(None);
    };
    let found = context.store.device_by_user_code(&user_code).await?;
    Ok(found
        .filter(|device| device.status == DeviceStatus::Pending && device.expires_at > now_unix()))
}

/// What a signed-in user decided for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceDecision {
    Allow,
    Deny,
}

/// How a decision on a device ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    Approved,
    Denied,
    /// No such code, or it was decided on already, or it expired.
    TooLate,
}

/// Records `decision` on the device whose user code is `typed`: an approval creates the
/// grant the device's next poll is issued tokens from.
pub async fn decide_device(
    context: &GrantContext<'_>,
    typed: &str,
    decision: DeviceDecision,
    signed_in: &SignedIn,
) -> Result<Decided, ServiceError> {
    let Some(user_code) = device::normalize_user_code(typed) else {
        return Ok(Decided::TooLate);
    };
    let Some(device) = context.store.device_by_user_code(&user_code).await? else {
        return Ok(Decided::TooLate);
    };
    let done = match decision {
        DeviceDecision::Allow => {
            let now = now_unix();
            let grant = user_grant(&device.client_id, &device.scopes, signed_in, None, now)?;
            context
                .store
                .approve_device(&user_code, &grant, now)
                .await?
        }
        DeviceDecision::Deny => context.store.deny_device(&user_code).await?,
    };
    Ok(match (done, decision) {
        (false, _) => Decided::TooLate,
        (true, DeviceDecision::Allow) => Decided::Approved,
        (true, DeviceDecision::Deny) => Decided::Denied,
    })
}
