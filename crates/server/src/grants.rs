//! The token endpoint's user grants: authorization code (with PKCE) and refresh token, and
//! what revoking a grant does.

use coupa_proto::oauth::{OAuthErrorCode, TokenResponse};

use crate::app::AppState;
use crate::domain::client::{ClientRecord, GrantType};
use crate::domain::form::FormParams;
use crate::domain::grant::{CodeRedemption, GrantRecord, RefreshTokenRecord, Rotation};
use crate::domain::scope::{ScopeError, ScopeSet, describe_not_granted};
use crate::domain::secret::{self, generate_identifier};
use crate::domain::time::now_unix;
use crate::domain::token::{
    ACCESS_TOKEN_TYPE, AccessTokenClaims, ID_TOKEN_TYPE, IdTokenClaims, at_hash,
};
use crate::domain::user::UserRecord;
use crate::http::errors::OAuthError;
use crate::keys::Algorithm;
use crate::revocations::KIND_GRANT;
use crate::store::StoreError;

/// ID tokens prove a sign-in; they need not live as long as access tokens.
const ID_TOKEN_LIFETIME: u64 = 3600;
const OFFLINE_ACCESS: &str = "offline_access";
const OPENID: &str = "openid";

fn invalid_grant(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidGrant, description)
}

fn unavailable(error: impl std::fmt::Display) -> OAuthError {
    tracing::error!(%error, "token issuance failed");
    OAuthError::new(
        OAuthErrorCode::TemporarilyUnavailable,
        "the server cannot issue tokens right now; try again shortly",
    )
}

fn deactivated_since() -> OAuthError {
    invalid_grant("the client was deactivated after this was issued; the user must authorize again")
}

fn require_client_of(
    client: &ClientRecord,
    allowed: &[GrantType],
    grant_type: &str,
) -> Result<(), OAuthError> {
    if allowed.contains(&client.grant_type) {
        Ok(())
    } else {
        Err(OAuthError::new(
            OAuthErrorCode::UnauthorizedClient,
            format!(
                "this client is registered for the {} grant, not {grant_type}",
                client.grant_type.as_str()
            ),
        ))
    }
}

/// Revokes a grant: its refresh tokens stop at once everywhere, its access tokens on this
/// replica at once and on the others within seconds.
pub async fn revoke_grant(state: &AppState, grant_id: &str) -> Result<(), StoreError> {
    let now = now_unix();
    let lifetime = i64::try_from(state.config.token_lifetime.as_secs()).unwrap_or(i64::MAX);
    let until = now.saturating_add(lifetime);
    if state.store.revoke_grant(grant_id, now, until).await? {
        tracing::warn!(%grant_id, "grant revoked");
    }
    state.revocations.add(KIND_GRANT, grant_id, until);
    Ok(())
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub async fn exchange_code(
    state: &AppState,
    client: &ClientRecord,
    secret_generation: i64,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    require_client_of(
        client,
        &[GrantType::AuthorizationCode],
        "authorization_code",
    )?;
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::new(OAuthErrorCode::InvalidRequest, "code is missing"))?;
    let now = now_unix();
    let (code, grant) = match state
        .store
        .redeem_code(&secret::digest(code), &client.client_id, now)
        .await
        .map_err(unavailable)?
    {
        CodeRedemption::Redeemed(redeemed) => *redeemed,
        CodeRedemption::Replayed { grant_id } => {
            revoke_grant(state, &grant_id).await.map_err(unavailable)?;
            return Err(invalid_grant(
                "the authorization code was already used; every token issued from it has been revoked",
            ));
        }
        CodeRedemption::OtherClient => {
            tracing::warn!(client_id = %client.client_id, "an authorization code of another client was presented");
            return Err(invalid_grant(
                "the authorization code was issued to another client",
            ));
        }
        CodeRedemption::Unknown => {
            return Err(invalid_grant("the authorization code is unknown"));
        }
    };
    if !client.honours_grant_made_at(grant.created_at) {
        return Err(deactivated_since());
    }
    code.check(
        &grant,
        &client.client_id,
        params.get("redirect_uri"),
        params.get("code_verifier"),
        now,
    )
    .map_err(|error| invalid_grant(error.describe()))?;
    first_tokens(state, client, secret_generation, &grant, now).await
}

/// The first tokens of a grant: a refresh token only with `offline_access`.
async fn first_tokens(
    state: &AppState,
    client: &ClientRecord,
    secret_generation: i64,
    grant: &GrantRecord,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let user = active_user(state, grant).await?;
    let scopes = grant.scopes.intersection(&client.scopes);
    let refresh_token = if scopes.contains(OFFLINE_ACCESS) {
        let (token, record) = new_refresh_token(state, &grant.grant_id, &scopes, now)?;
        state
            .store
            .insert_refresh_token(&record)
            .await
            .map_err(unavailable)?;
        Some(token)
    } else {
        None
    };
    issue(
        state,
        client,
        secret_generation,
        grant,
        &user,
        &scopes,
        refresh_token,
    )
}

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5).
pub async fn device_token(
    state: &AppState,
    client: &ClientRecord,
    secret_generation: i64,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    use crate::domain::device::{Poll, SLOW_DOWN_STEP, judge_poll};
    require_client_of(client, &[GrantType::DeviceCode], DEVICE_CODE_GRANT)?;
    let device_code = params
        .get("device_code")
        .ok_or_else(|| OAuthError::new(OAuthErrorCode::InvalidRequest, "device_code is missing"))?;
    let digest = secret::digest(device_code);
    let device = state
        .store
        .device(&digest)
        .await
        .map_err(unavailable)?
        .filter(|device| device.client_id == client.client_id)
        .ok_or_else(|| invalid_grant("the device_code is unknown"))?;
    let issued_at = device.expires_at - crate::domain::device::LIFETIME_SECONDS;
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
    state
        .store
        .record_device_poll(&digest, now, interval)
        .await
        .map_err(unavailable)?;
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
        Poll::AlreadyUsed => Err(invalid_grant("the device code was already used")),
        Poll::Approved { grant_id } => {
            if !state
                .store
                .consume_device(&digest)
                .await
                .map_err(unavailable)?
            {
                return Err(invalid_grant("the device code was already used"));
            }
            let grant = state
                .store
                .grant(&grant_id)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| invalid_grant("the grant of this device code is gone"))?;
            first_tokens(state, client, secret_generation, &grant, now).await
        }
    }
}

/// `grant_type=refresh_token` (RFC 6749 §6) with rotation (RFC 9700 §4.14.2).
pub async fn refresh(
    state: &AppState,
    client: &ClientRecord,
    secret_generation: i64,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    require_client_of(
        client,
        &[GrantType::AuthorizationCode, GrantType::DeviceCode],
        "refresh_token",
    )?;
    let presented = params.get("refresh_token").ok_or_else(|| {
        OAuthError::new(OAuthErrorCode::InvalidRequest, "refresh_token is missing")
    })?;
    let digest = secret::digest(presented);
    let (token, grant) = state
        .store
        .refresh_token(&digest)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| invalid_grant("the refresh token is unknown"))?;
    let now = now_unix();
    if grant.client_id != client.client_id {
        return Err(invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if token.expires_at <= now {
        return Err(invalid_grant(
            "the refresh token has expired; the user must authorize again",
        ));
    }
    if grant.revoked_at.is_some() {
        return Err(invalid_grant(
            "the refresh token has been revoked; the user must authorize again",
        ));
    }
    if !client.honours_grant_made_at(grant.created_at) {
        return Err(deactivated_since());
    }
    // A scope the client no longer holds is not handed out again.
    let held = token.scopes.intersection(&client.scopes);
    let scopes = ScopeSet::grant(&held, params.get("scope")).map_err(
        |ScopeError::NotGranted(missing)| {
            OAuthError::new(
                OAuthErrorCode::InvalidScope,
                format!(
                    "{} (a refresh may narrow the scopes, never widen them)",
                    describe_not_granted(&missing)
                ),
            )
        },
    )?;
    let user = active_user(state, &grant).await?;
    // The new refresh token keeps the scopes of the old one (RFC 6749 §6), less those the
    // client lost.
    let (new_token, record) = new_refresh_token(state, &grant.grant_id, &held, now)?;
    let grace = i64::try_from(state.config.refresh_token_reuse_grace.as_secs()).unwrap_or(0);
    match state
        .store
        .rotate_refresh_token(&digest, &record, now, grace)
        .await
        .map_err(unavailable)?
    {
        Rotation::Rotated => issue(
            state,
            client,
            secret_generation,
            &grant,
            &user,
            &scopes,
            Some(new_token),
        ),
        Rotation::JustRotated => Err(invalid_grant(
            "this refresh token was used moments ago by another request; use the refresh token that request received",
        )),
        Rotation::Reused { grant_id } => {
            revoke_grant(state, &grant_id).await.map_err(unavailable)?;
            Err(invalid_grant(
                "this refresh token was already used; for safety every token of this authorization has been revoked and the user must authorize again",
            ))
        }
        Rotation::Unknown => Err(invalid_grant("the refresh token is unknown")),
    }
}

async fn active_user(state: &AppState, grant: &GrantRecord) -> Result<UserRecord, OAuthError> {
    state
        .store
        .user(&grant.user_id)
        .await
        .map_err(unavailable)?
        .filter(|user| user.active && grant.auth_time >= user.sessions_valid_after)
        .ok_or_else(|| {
            invalid_grant(
                "the user who authorized this is deactivated or has changed their password",
            )
        })
}

fn new_refresh_token(
    state: &AppState,
    grant_id: &str,
    scopes: &ScopeSet,
    now: i64,
) -> Result<(String, RefreshTokenRecord), OAuthError> {
    let token = secret::generate_secret().map_err(unavailable)?;
    let lifetime = i64::try_from(state.config.refresh_token_lifetime.as_secs()).unwrap_or(i64::MAX);
    let record = RefreshTokenRecord {
        token_digest: secret::digest(&token).to_vec(),
        grant_id: grant_id.to_string(),
        scopes: scopes.clone(),
        issued_at: now,
        expires_at: now.saturating_add(lifetime),
        rotated_at: None,
    };
    Ok((token, record))
}

fn issue(
    state: &AppState,
    client: &ClientRecord,
    secret_generation: i64,
    grant: &GrantRecord,
    user: &UserRecord,
    scopes: &ScopeSet,
    refresh_token: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let now = now_unix();
    let lifetime = state.config.token_lifetime.as_secs();
    let claims = AccessTokenClaims {
        iss: state.config.issuer.clone(),
        sub: user.login.clone(),
        aud: state.audience.clone(),
        client_id: client.client_id.clone(),
        scope: scopes.to_string(),
        iat: now,
        exp: now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
        jti: generate_identifier().map_err(unavailable)?,
        secret_generation,
        gid: Some(grant.grant_id.clone()),
    };
    let access_token = state
        .keys
        .current()
        .sign(ACCESS_TOKEN_TYPE, &claims)
        .map_err(unavailable)?;
    let id_token = if scopes.contains(OPENID) {
        let id_claims = IdTokenClaims {
            iss: state.config.issuer.clone(),
            sub: user.user_id.clone(),
            aud: client.client_id.clone(),
            azp: client.client_id.clone(),
            iat: now,
            exp: now.saturating_add(i64::try_from(lifetime.min(ID_TOKEN_LIFETIME)).unwrap_or(0)),
            auth_time: grant.auth_time,
            nonce: grant.nonce.clone(),
            at_hash: at_hash(&access_token),
        };
        Some(
            state
                .keys
                .current()
                .sign_as(Algorithm::Rs256, ID_TOKEN_TYPE, &id_claims)
                .map_err(unavailable)?,
        )
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "bearer".to_string(),
        expires_in: lifetime,
        scope: Some(claims.scope),
        refresh_token,
        id_token,
    })
}
