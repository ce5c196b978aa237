//! Who is calling an OAuth endpoint (RFC 6749 §2.3.1): HTTP Basic or `client_id` +
//! `client_secret` in the body, not both; a public (PKCE) client sends only its `client_id`
//! (§2.3, RFC 7636).

use std::ops::Deref;
use std::sync::Arc;

use coupa_proto::oauth::OAuthErrorCode;

use super::OAuthError;
use crate::auth_failures::AuthFailures;
use crate::cache::ClientCache;
use crate::domain::authorization_header::{self, Authorization};
use crate::domain::client::ClientRecord;
use crate::domain::form::FormParams;
use crate::domain::time::now_unix;

/// A client that proved who it is, with the generation of the secret it proved it with
/// (tokens carry it, so that a rotation's end stops them).
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub record: Arc<ClientRecord>,
    pub secret_generation: i64,
}

impl Deref for AuthenticatedClient {
    type Target = ClientRecord;

    fn deref(&self) -> &ClientRecord {
        &self.record
    }
}

/// Authenticates the caller from its `Authorization` header (already known to be ASCII) and
/// its form parameters, against the cached clients.
pub fn authenticate(
    clients: &ClientCache,
    failures: &AuthFailures,
    peer: &str,
    authorization: Option<&str>,
    params: &FormParams,
) -> Result<AuthenticatedClient, OAuthError> {
    let invalid_client = |description: &str, basic: bool| OAuthError {
        code: OAuthErrorCode::InvalidClient,
        description: description.to_string(),
        basic_challenge: basic,
        retry_after: None,
    };
    let (client_id, secret, basic) = match presented_credentials(authorization, params)? {
        Presented::Basic {
            client_id,
            client_secret,
        } => (client_id, client_secret, true),
        Presented::Body {
            client_id,
            client_secret,
        } => (client_id, client_secret, false),
        Presented::Refused(reason) => return Err(invalid_client(&reason, true)),
        Presented::Public { client_id } => {
            return match clients.get(&client_id) {
                Some(client) if client.pkce && client.active => Ok(AuthenticatedClient {
                    secret_generation: client.secret_generation,
                    record: client,
                }),
                Some(client) if client.pkce => Err(invalid_client(
                    "the client is deactivated; activate it in Setup or use another client",
                    false,
                )),
                _ => Err(invalid_client(
                    "client_secret is missing; send it in the body or use HTTP Basic",
                    false,
                )),
            };
        }
        Presented::Nothing => {
            return Err(invalid_client(
                "client authentication is missing: send client_id and client_secret in the body, or use HTTP Basic",
                false,
            ));
        }
    };
    let wrong = || invalid_client("unknown client or wrong client secret", basic);
    let Some(client) = clients.get(&client_id) else {
        failures.note(None, peer);
        return Err(wrong());
    };
    let Some(secret_generation) = client.authenticate(&secret, now_unix()) else {
        failures.note(Some(&client.client_id), peer);
        return Err(wrong());
    };
    if !client.active {
        return Err(invalid_client(
            "the client is deactivated; activate it in Setup or use another client",
            basic,
        ));
    }
    Ok(AuthenticatedClient {
        record: client,
        secret_generation,
    })
}

enum Presented {
    Basic {
        client_id: String,
        client_secret: String,
    },
    Body {
        client_id: String,
        client_secret: String,
    },
    /// Only a client id: a public client, or a confidential one that forgot its secret.
    Public {
        client_id: String,
    },
    /// Authorization was sent but cannot authenticate a client here.
    Refused(String),
    Nothing,
}

fn presented_credentials(
    authorization: Option<&str>,
    params: &FormParams,
) -> Result<Presented, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    match authorization.map(authorization_header::parse) {
        Some(Ok(Authorization::Basic {
            client_id,
            client_secret,
        })) => {
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "the client authenticated twice (HTTP Basic and client_secret in the body); use one method",
                ));
            }
            if body_id.is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the one in HTTP Basic",
                ));
            }
            Ok(Presented::Basic {
                client_id,
                client_secret,
            })
        }
        Some(Err(error)) => Ok(Presented::Refused(error.to_string())),
        Some(Ok(Authorization::Bearer(_) | Authorization::Other(_))) => Ok(Presented::Refused(
            "the token endpoint takes HTTP Basic client authentication or client_id and client_secret in the body"
                .to_string(),
        )),
        None => match (body_id, body_secret) {
            (Some(id), Some(secret)) => Ok(Presented::Body {
                client_id: id.to_string(),
                client_secret: secret.to_string(),
            }),
            (Some(id), None) => Ok(Presented::Public {
                client_id: id.to_string(),
            }),
            _ => Ok(Presented::Nothing),
        },
    }
}
