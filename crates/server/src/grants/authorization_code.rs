//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).

use coupa_proto::oauth::TokenResponse;

use super::tokens::{deactivated_since, first_tokens, revoke_grant};
use super::{AuthenticatedClient, Grant, GrantContext, OAuthError, required};
use crate::domain::client::ClientKind;
use crate::domain::form::FormParams;
use crate::domain::grant::CodeRedemption;
use crate::domain::secret;
use crate::domain::time::now_unix;

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
            revoke_grant(context, &grant_id)
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
