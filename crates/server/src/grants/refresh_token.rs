//! `grant_type=refresh_token` (RFC 6749 §6) with rotation (RFC 9700 §4.14.2).

use coupa_proto::oauth::{OAuthErrorCode, TokenResponse};

use super::tokens::{
    active_user, deactivated_since, new_refresh_token, revoke_after_replay, user_tokens,
};
use super::{AuthenticatedClient, Grant, GrantContext, OAuthError, required};
use crate::domain::client::ClientKind;
use crate::domain::form::FormParams;
use crate::domain::grant::Rotation;
use crate::domain::scope::{ScopeError, ScopeSet, describe_not_granted};
use crate::domain::secret;
use crate::domain::time::now_unix;

pub const GRANT: Grant = Grant {
    name: "refresh_token",
    client_kinds: &[ClientKind::AuthorizationCode, ClientKind::DeviceCode],
    issue: |context, client, params| Box::pin(refresh(context, client, params)),
};

async fn refresh(
    context: &GrantContext<'_>,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let presented = required(params, "refresh_token")?;
    let digest = secret::digest(presented);
    let (token, grant) = context
        .store
        .refresh_token(&digest)
        .await
        .map_err(OAuthError::unavailable)?
        .ok_or_else(|| OAuthError::invalid_grant("the refresh token is unknown"))?;
    let now = now_unix();
    if grant.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if token.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the refresh token has expired; the user must authorize again",
        ));
    }
    if grant.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant(
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
    let user = active_user(context, &grant).await?;
    // The new refresh token keeps the scopes of the old one (RFC 6749 §6), less those the
    // client lost.
    let (new_token, record) = new_refresh_token(context, &grant.grant_id, &held, now)?;
    let grace = context.settings.refresh_token_reuse_grace.seconds();
    let rotation = context
        .store
        .rotate_refresh_token(&digest, &record, now, grace)
        .await
        .map_err(OAuthError::unavailable)?;
    match rotation {
        Rotation::Rotated => user_tokens(context, client, &grant, &user, &scopes, Some(new_token)),
        Rotation::JustRotated => Err(OAuthError::invalid_grant(
            "this refresh token was used moments ago by another request; use the refresh token that request received",
        )),
        Rotation::Reused { grant_id } => {
            crate::telemetry::refresh_token_reused();
            revoke_after_replay(
                context,
                "refresh_token.reused",
                &client.client_id,
                &grant_id,
            )
            .await
            .map_err(OAuthError::unavailable)?;
            Err(OAuthError::invalid_grant(
                "this refresh token was already used; for safety every token of this authorization has been revoked and the user must authorize again",
            ))
        }
        Rotation::Unknown => Err(OAuthError::invalid_grant("the refresh token is unknown")),
    }
}
