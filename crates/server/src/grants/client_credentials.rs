//! `grant_type=client_credentials` (RFC 6749 §4.4): what Coupa integrations use.

use coupa_proto::oauth::{OAuthErrorCode, TokenResponse};

use super::{AuthenticatedClient, Grant, GrantContext, OAuthError, tokens};
use crate::domain::client::ClientKind;
use crate::domain::form::FormParams;
use crate::domain::scope::{ScopeError, ScopeSet, describe_not_granted};
use crate::domain::time::now_unix;

pub const GRANT: Grant = Grant {
    name: "client_credentials",
    client_kinds: &[ClientKind::ClientCredentials],
    issue: |context, client, params| Box::pin(async move { issue(context, client, params) }),
};

fn issue(
    context: &GrantContext<'_>,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let scopes = ScopeSet::grant(&client.scopes, params.get("scope")).map_err(
        |ScopeError::NotGranted(missing)| {
            OAuthError::new(OAuthErrorCode::InvalidScope, describe_not_granted(&missing))
        },
    )?;
    tokens::mint_access_token(context, client, &client.login, &scopes, None, now_unix())
}
