//! What every grant hands out: access tokens (one minting function), and for the user grants
//! refresh tokens and ID tokens; and what revoking a grant does.

use coupa_proto::oauth::TokenResponse;

use super::{AuthenticatedClient, GrantContext, OAuthError};
use crate::domain::grant::{GrantRecord, RefreshTokenRecord};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{self, RandomnessUnavailable, generate_identifier};
use crate::domain::time::now_unix;
use crate::domain::token::{
    ACCESS_TOKEN_TYPE, AccessTokenClaims, ID_TOKEN_TYPE, IdTokenClaims, at_hash,
};
use crate::domain::user::UserRecord;
use crate::keys::Algorithm;
use crate::sessions::SignedIn;
use crate::store::{RevocationKind, StoreError};

/// ID tokens prove a sign-in; they need not live as long as access tokens.
const ID_TOKEN_LIFETIME: u64 = 3600;
pub const OFFLINE_ACCESS: &str = "offline_access";
const OPENID: &str = "openid";

/// A signed-in user's consent, now, to `client_id` for `scopes`: a new grant.
pub fn user_grant(
    client_id: &str,
    scopes: &ScopeSet,
    signed_in: &SignedIn,
    nonce: Option<String>,
    now: i64,
) -> Result<GrantRecord, RandomnessUnavailable> {
    Ok(GrantRecord {
        grant_id: generate_identifier()?,
        client_id: client_id.to_string(),
        user_id: signed_in.user.user_id.clone(),
        scopes: scopes.clone(),
        auth_time: signed_in.session.auth_time,
        nonce,
        created_at: now,
        revoked_at: None,
    })
}

/// The one place access tokens are minted: for `subject`, with `scopes`, under the user grant
/// `grant` if any.
pub fn mint_access_token(
    context: &GrantContext<'_>,
    client: &AuthenticatedClient,
    subject: &str,
    scopes: &ScopeSet,
    grant: Option<&GrantRecord>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    use crate::domain::faults::FaultKind;
    let settings = context.settings;
    let lifetime_fault = context.faults.take(&client.client_id, now, |fault| {
        matches!(fault.kind, FaultKind::TokenLifetime { .. })
    });
    let lifetime = match lifetime_fault.map(|fault| fault.kind) {
        Some(FaultKind::TokenLifetime { seconds }) => seconds,
        _ => settings.access_token_lifetime.seconds(),
    };
    let mut claims = AccessTokenClaims {
        iss: context.origin.issuer.clone(),
        sub: subject.to_string(),
        aud: context.origin.audience.clone(),
        client_id: client.client_id.clone(),
        scope: scopes.to_string(),
        iat: now,
        exp: now.saturating_add(lifetime),
        jti: generate_identifier().map_err(OAuthError::unavailable)?,
        secret_generation: client.secret_generation,
        gid: grant.map(|grant| grant.grant_id.clone()),
        padding: None,
    };
    let sign = |claims: &AccessTokenClaims| {
        context
            .keys
            .current()
            .sign(ACCESS_TOKEN_TYPE, claims)
            .map_err(OAuthError::unavailable)
    };
    let mut access_token = sign(&claims)?;
    let oversized = context.faults.take(&client.client_id, now, |fault| {
        matches!(fault.kind, FaultKind::OversizedToken { .. })
    });
    if let Some(FaultKind::OversizedToken { bytes }) = oversized.map(|fault| fault.kind) {
        // Three bytes of filler are four of the token; `,"padding":""` adds 14 before.
        let wanted = usize::try_from(bytes).unwrap_or(usize::MAX);
        let missing = wanted.saturating_sub(access_token.len() + 19);
        if missing > 0 {
            claims.padding = Some("x".repeat(missing * 3 / 4));
            access_token = sign(&claims)?;
        }
    }
    Ok(TokenResponse {
        access_token,
        token_type: "bearer".to_string(),
        expires_in: lifetime.unsigned_abs(),
        scope: Some(claims.scope),
        refresh_token: None,
        id_token: None,
    })
}

/// Tokens for a user's grant: an access token, an ID token with `openid`, and the refresh
/// token given.
pub fn user_tokens(
    context: &GrantContext<'_>,
    client: &AuthenticatedClient,
    grant: &GrantRecord,
    user: &UserRecord,
    scopes: &ScopeSet,
    refresh_token: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let now = now_unix();
    let mut tokens = mint_access_token(context, client, &user.login, scopes, Some(grant), now)?;
    if scopes.contains(OPENID) {
        let lifetime = context.settings.access_token_lifetime.secs();
        let id_claims = IdTokenClaims {
            iss: context.origin.issuer.clone(),
            sub: user.user_id.clone(),
            aud: client.client_id.clone(),
            azp: client.client_id.clone(),
            iat: now,
            exp: now.saturating_add(i64::try_from(lifetime.min(ID_TOKEN_LIFETIME)).unwrap_or(0)),
            auth_time: grant.auth_time,
            nonce: grant.nonce.clone(),
            at_hash: at_hash(&tokens.access_token),
        };
        tokens.id_token = Some(
            context
                .keys
                .current()
                .sign_as(Algorithm::Rs256, ID_TOKEN_TYPE, &id_claims)
                .map_err(OAuthError::unavailable)?,
        );
    }
    tokens.refresh_token = refresh_token;
    Ok(tokens)
}

/// The first tokens of a grant (code exchange, approved device): a refresh token only with
/// `offline_access`.
pub async fn first_tokens(
    context: &GrantContext<'_>,
    client: &AuthenticatedClient,
    grant: &GrantRecord,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let user = active_user(context, grant).await?;
    let scopes = grant.scopes.intersection(&client.scopes);
    let refresh_token = if scopes.contains(OFFLINE_ACCESS) {
        let (token, record) = new_refresh_token(context, &grant.grant_id, &scopes, now)?;
        context
            .store
            .insert_refresh_token(&record)
            .await
            .map_err(OAuthError::unavailable)?;
        Some(token)
    } else {
        None
    };
    user_tokens(context, client, grant, &user, &scopes, refresh_token)
}

/// The user behind a grant, while the grant still speaks for them.
pub async fn active_user(
    context: &GrantContext<'_>,
    grant: &GrantRecord,
) -> Result<UserRecord, OAuthError> {
    context
        .store
        .user(&grant.user_id)
        .await
        .map_err(OAuthError::unavailable)?
        .filter(|user| user.active && grant.auth_time >= user.sessions_valid_after)
        .ok_or_else(|| {
            OAuthError::invalid_grant(
                "the user who authorized this is deactivated or has changed their password",
            )
        })
}

pub fn new_refresh_token(
    context: &GrantContext<'_>,
    grant_id: &str,
    scopes: &ScopeSet,
    now: i64,
) -> Result<(String, RefreshTokenRecord), OAuthError> {
    let token = secret::generate_secret().map_err(OAuthError::unavailable)?;
    let record = RefreshTokenRecord {
        token_digest: secret::digest(&token).to_vec(),
        grant_id: grant_id.to_string(),
        scopes: scopes.clone(),
        issued_at: now,
        expires_at: now.saturating_add(context.settings.refresh_token_lifetime.seconds()),
        rotated_at: None,
    };
    Ok((token, record))
}

pub fn deactivated_since() -> OAuthError {
    OAuthError::invalid_grant(
        "the client was deactivated after this was issued; the user must authorize again",
    )
}

/// A spent code or rotated refresh token presented again (`kind`): it may have been stolen,
/// so the whole grant is revoked, and the event recorded in the audit trail.
pub async fn revoke_after_replay(
    context: &GrantContext<'_>,
    kind: &str,
    client_id: &str,
    grant_id: &str,
) -> Result<(), StoreError> {
    crate::audit_trail::security_event(
        context.store.as_ref(),
        kind,
        &format!("client:{client_id}"),
        "",
        serde_json::json!({"grant_revoked": grant_id}),
    )
    .await;
    revoke_grant(context, grant_id).await
}

/// Revokes a grant: its refresh tokens stop at once everywhere, its access tokens on this
/// replica at once and on the others within seconds.
pub async fn revoke_grant(context: &GrantContext<'_>, grant_id: &str) -> Result<(), StoreError> {
    let now = now_unix();
    let until = now.saturating_add(context.settings.access_token_lifetime.seconds());
    if context.store.revoke_grant(grant_id, now, until).await? {
        tracing::warn!(%grant_id, "grant revoked");
    }
    context
        .revocations
        .add(RevocationKind::Grant, grant_id, until);
    crate::store::announce(context.store.as_ref(), crate::store::Change::Revocations).await;
    Ok(())
}
