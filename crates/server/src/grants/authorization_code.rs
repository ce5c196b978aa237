//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).

use coupa_proto::oauth::TokenResponse;

use super::tokens::{deactivated_since, first_tokens, revoke_after_replay, user_grant};
use super::{AuthenticatedClient, Grant, GrantContext, OAuthError, required};
use crate::domain::authorization_request::{AuthorizeRequest, with_query};
use crate::domain::client::ClientKind;
use crate::domain::form::FormParams;
use crate::domain::grant::{CODE_LIFETIME_SECONDS, CodeRecord, CodeRedemption};
use crate::domain::secret;
use crate::domain::time::now_unix;
use crate::service_error::ServiceError;
use crate::sessions::SignedIn;

pub const GRANT: Grant = Grant {
    name: "authorization_code",
    client_kinds: &[ClientKind::AuthorizationCode],
    issue: |context, client, params| Box::pin(exchange_code(context, client, params)),
};

async fn exchange_code(
    context: &GrantContext<'_>,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let code = required(params, "code")?;
    let now = now_unix();
    let redemption = context
        .store
        .redeem_code(&secret::digest(code), &client.client_id, now)
        .await
        .map_err(OAuthError::unavailable)?;
    let (code, grant) = match redemption {
        CodeRedemption::Redeemed(redeemed) => *redeemed,
        CodeRedemption::Replayed { grant_id } => {
            crate::telemetry::authorization_code_replayed();
            revoke_after_replay(
                context,
                "authorization_code.replayed",
                &client.client_id,
                &grant_id,
            )
            .await
            .map_err(OAuthError::unavailable)?;
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used; every token issued from it has been revoked",
            ));
        }
        CodeRedemption::OtherClient => {
            tracing::warn!(client_id = %client.client_id, "an authorization code of another client was presented");
            return Err(OAuthError::invalid_grant(
                "the authorization code was issued to another client",
            ));
        }
        CodeRedemption::Unknown => {
            return Err(OAuthError::invalid_grant(
                "the authorization code is unknown",
            ));
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
    .map_err(|error| OAuthError::invalid_grant(error.describe()))?;
    first_tokens(context, client, &grant, now).await
}

/// The user allowed `request` at the consent page: records the grant and a code for it, and
/// answers where to send the browser (the redirect URI with `code`, `state` and `iss`).
pub async fn issue_code(
    context: &GrantContext<'_>,
    request: &AuthorizeRequest,
    signed_in: &SignedIn,
) -> Result<String, ServiceError> {
    let code = secret::generate_secret()?;
    let now = now_unix();
    let grant = user_grant(
        &request.client_id,
        &request.scopes,
        signed_in,
        request.nonce.clone(),
        now,
    )?;
    let (code_challenge, code_challenge_method) = match &request.code_challenge {
        Some((challenge, method)) => (Some(challenge.clone()), Some(method.as_str().to_string())),
        None => (None, None),
    };
    let record = CodeRecord {
        code_digest: secret::digest(&code).to_vec(),
        grant_id: grant.grant_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_given: request.redirect_uri_given,
        code_challenge,
        code_challenge_method,
        expires_at: now + CODE_LIFETIME_SECONDS,
        used_at: None,
    };
    context
        .store
        .insert_grant_with_code(&grant, &record)
        .await?;
    tracing::info!(client_id = %grant.client_id, user_id = %grant.user_id, "authorization code issued");
    let mut pairs = vec![("code", code)];
    if let Some(state) = &request.state {
        pairs.push(("state", state.clone()));
    }
    // RFC 9207: tells the client which server answered.
    pairs.push(("iss", context.origin.issuer.clone()));
    Ok(with_query(&request.redirect_uri, &pairs))
}
