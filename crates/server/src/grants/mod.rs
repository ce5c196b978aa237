//! The grants of the token endpoint. Each grant is one file with one entry point of the same
//! shape; `GRANTS` lists them, and drives dispatch, `grant_types_supported` in discovery, the
//! error naming what is supported and which kinds of client may use each grant. Adding a
//! grant is a new file and a row of `GRANTS`.

mod authorization_code;
mod client_auth;
mod client_credentials;
mod device_code;
mod error;
mod refresh_token;
mod tokens;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use coupa_proto::oauth::{OAuthErrorCode, TokenResponse};

use crate::domain::client::ClientKind;
use crate::domain::form::FormParams;
use crate::domain::lifetime::Lifetime;
use crate::keys::SharedKeyRing;
use crate::revocations::Revocations;
use crate::store::Store;
use crate::uses::RecentUses;

pub use authorization_code::issue_code;
pub use client_auth::{AuthenticatedClient, authenticate};
pub use device_code::{
    Decided, DeviceAuthorization, DeviceDecision, DeviceStartLimits, VERIFICATION_PATH,
    decide_device, pending_device, start_device_authorization,
};
pub use error::OAuthError;
pub use tokens::revoke_grant;

/// What issuing tokens needs, fixed at start.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub access_token_lifetime: Lifetime,
    pub refresh_token_lifetime: Lifetime,
    /// How long a just-rotated refresh token may be presented again (a retried request)
    /// before its reuse revokes the grant.
    pub refresh_token_reuse_grace: Lifetime,
}

/// What the grants work with.
pub struct GrantContext<'s> {
    pub store: &'s Arc<dyn Store>,
    pub keys: &'s SharedKeyRing,
    pub revocations: &'s Revocations,
    pub settings: &'s TokenSettings,
    /// The instance the request was made to: the issuer and audience of what is issued.
    pub origin: &'s crate::domain::origin::Origin,
    /// When each client was last issued a token (see `uses`).
    pub token_issue_times: &'s RecentUses,
    /// The sandbox's faults switched on (token endpoint unavailable or slow, short-lived or
    /// oversized tokens).
    pub faults: &'s crate::faults::FaultBoard,
}

pub type Issued<'a> = Pin<Box<dyn Future<Output = Result<TokenResponse, OAuthError>> + Send + 'a>>;

/// One grant type of the token endpoint.
pub struct Grant {
    /// Its `grant_type` value.
    pub name: &'static str,
    /// The kinds of client that may use it.
    pub client_kinds: &'static [ClientKind],
    pub issue:
        for<'a, 's> fn(&'a GrantContext<'s>, &'a AuthenticatedClient, &'a FormParams) -> Issued<'a>,
}

pub const GRANTS: [Grant; 4] = [
    client_credentials::GRANT,
    authorization_code::GRANT,
    refresh_token::GRANT,
    device_code::GRANT,
];

/// The `grant_type` values served, in the order of `GRANTS`.
pub fn grant_type_names() -> Vec<&'static str> {
    GRANTS.iter().map(|grant| grant.name).collect()
}

/// `POST /oauth2/token` once the client is authenticated: the grant named by `grant_type`.
/// The token endpoint unavailable or slow for `client`, when a fault says so.
async fn endpoint_faults(
    context: &GrantContext<'_>,
    client: &AuthenticatedClient,
) -> Result<(), OAuthError> {
    use crate::domain::faults::FaultKind;
    let fault = context.faults.take(
        &client.client_id,
        crate::domain::time::now_unix(),
        |fault| {
            matches!(
                fault.kind,
                FaultKind::TokenUnavailable | FaultKind::TokenSlow { .. }
            )
        },
    );
    match fault.map(|fault| fault.kind) {
        Some(FaultKind::TokenUnavailable) => Err(OAuthError::new(
            OAuthErrorCode::TemporarilyUnavailable,
            "the server cannot answer right now; try again shortly",
        )),
        Some(FaultKind::TokenSlow { seconds }) => {
            tokio::time::sleep(std::time::Duration::from_secs(seconds.unsigned_abs())).await;
            Ok(())
        }
        _ => Ok(()),
    }
}

pub async fn issue(
    context: &GrantContext<'_>,
    client: &AuthenticatedClient,
    params: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    let grant_type = grant_type_of(params)?;
    let grant = GRANTS
        .iter()
        .find(|grant| grant.name == grant_type)
        .ok_or_else(|| {
            OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type {grant_type} is not supported; supported: {}",
                    grant_type_names().join(", ")
                ),
            )
        })?;
    if !grant.client_kinds.contains(&client.kind) {
        return Err(OAuthError::new(
            OAuthErrorCode::UnauthorizedClient,
            format!(
                "this client is registered for the {} grant, not {grant_type}",
                client.kind.as_str()
            ),
        ));
    }
    endpoint_faults(context, client).await?;
    let issued = (grant.issue)(context, client, params).await?;
    crate::telemetry::token_issued(grant.name, &client.client_id);
    crate::uses::note_client_token(context.token_issue_times, context.store, &client.client_id);
    Ok(issued)
}

/// The `grant_type` parameter, which the token endpoint checks before authenticating.
pub fn grant_type_of(params: &FormParams) -> Result<&str, OAuthError> {
    params.get("grant_type").ok_or_else(|| {
        OAuthError::invalid_request("grant_type is missing; send grant_type=client_credentials")
    })
}

/// A parameter a grant cannot do without.
fn required<'p>(params: &'p FormParams, name: &str) -> Result<&'p str, OAuthError> {
    params
        .get(name)
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")))
}
