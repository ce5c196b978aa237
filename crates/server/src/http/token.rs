//! `POST /oauth2/token` (RFC 6749 §3.2, §4.4).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coupa_proto::oauth::{OAuthErrorCode, TokenResponse};

use super::errors::OAuthError;
use super::{content_type, read_body};
use crate::app::AppState;
use crate::domain::authorization::{self, Authorization};
use crate::domain::client::{ClientRecord, GrantType};
use crate::domain::form::FormParams;
use crate::domain::scope::{ScopeError, ScopeSet, describe_not_granted};
use crate::domain::secret::generate_identifier;
use crate::domain::time::now_unix;
use crate::domain::token::{ACCESS_TOKEN_TYPE, AccessTokenClaims};

const FORM: &str = "application/x-www-form-urlencoded";
const SUPPORTED_GRANTS: &str = "client_credentials, authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code";

pub async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    match issue(&state, &headers, query.as_deref(), body).await {
        Ok(token) => {
            let mut response = (StatusCode::OK, axum::Json(token)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(error) => error.into_response(),
    }
}

pub async fn wrong_method() -> Response {
    let mut response = OAuthError::new(
        OAuthErrorCode::InvalidRequest,
        "the token endpoint takes POST with an application/x-www-form-urlencoded body",
    )
    .into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

fn invalid_request(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidRequest, description)
}

async fn issue(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> Result<TokenResponse, OAuthError> {
    let params = read_oauth_form(headers, query, body).await?;
    let grant_type = params.get("grant_type").ok_or_else(|| {
        invalid_request("grant_type is missing; send grant_type=client_credentials")
    })?;
    issue_for_client(state, headers, &params, grant_type).await
}

/// The parameters of an OAuth endpoint: a form body (capped), and the query string, which
/// Coupa's own examples use even with POST; a parameter in both places is refused.
pub(crate) async fn read_oauth_form(
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> Result<FormParams, OAuthError> {
    let body = read_body(body).await.map_err(invalid_request)?;
    match content_type(headers) {
        Some(media_type) if media_type == FORM => {}
        None if body.is_empty() => {}
        Some(media_type) => {
            return Err(invalid_request(format!(
                "the body is {media_type}; send the parameters as {FORM}"
            )));
        }
        None => return Err(invalid_request(format!("set Content-Type: {FORM}"))),
    }
    // Coupa's own examples send parameters in the query string of the POST; accept them
    // there too, but never the same parameter in both places.
    FormParams::parse(&body)
        .and_then(|params| params.merge(FormParams::parse(query.unwrap_or_default().as_bytes())?))
        .map_err(|error| invalid_request(error.to_string()))
}

async fn issue_for_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &FormParams,
    grant_type: &str,
) -> Result<TokenResponse, OAuthError> {
    let (client, secret_generation) = authenticate_client(state, headers, params)?;
    let issued = match grant_type {
        "client_credentials" => {
            client_credentials(state, &client, secret_generation, params.get("scope"))
        }
        "authorization_code" => {
            crate::grants::exchange_code(state, &client, secret_generation, params).await
        }
        "refresh_token" => crate::grants::refresh(state, &client, secret_generation, params).await,
        crate::grants::DEVICE_CODE_GRANT => {
            crate::grants::device_token(state, &client, secret_generation, params).await
        }
        other => Err(OAuthError::new(
            OAuthErrorCode::UnsupportedGrantType,
            format!("grant_type {other} is not supported; supported: {SUPPORTED_GRANTS}"),
        )),
    };
    if issued.is_ok() {
        crate::uses::note_client_token(&state.client_tokens, &state.store, &client.client_id);
    }
    issued
}

/// RFC 6749 §2.3.1: HTTP Basic or `client_id` + `client_secret` in the body, not both; a
/// public (PKCE) client sends only its `client_id` (§2.3, RFC 7636).
pub(crate) fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &FormParams,
) -> Result<(Arc<ClientRecord>, i64), OAuthError> {
    let invalid_client = |description: &str, basic: bool| OAuthError {
        code: OAuthErrorCode::InvalidClient,
        description: description.to_string(),
        basic_challenge: basic,
    };
    let presented = presented_credentials(headers, params)?;
    let (client_id, secret, basic) = match presented {
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
            return match state.clients.get(&client_id) {
                Some(client) if client.pkce && client.active => {
                    let generation = client.secret_generation;
                    Ok((client, generation))
                }
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
    let now = now_unix();
    let wrong = || invalid_client("unknown client or wrong client secret", basic);
    let client = state.clients.get(&client_id).ok_or_else(wrong)?;
    let generation = client.authenticate(&secret, now).ok_or_else(wrong)?;
    if !client.active {
        return Err(invalid_client(
            "the client is deactivated; activate it in Setup or use another client",
            basic,
        ));
    }
    Ok((client, generation))
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
    headers: &HeaderMap,
    params: &FormParams,
) -> Result<Presented, OAuthError> {
    let header = match headers.get(header::AUTHORIZATION) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| invalid_request("the Authorization header is not ASCII"))?,
        ),
        None => None,
    };
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    match header.map(authorization::parse) {
        Some(Ok(Authorization::Basic { client_id, client_secret })) => {
            if body_secret.is_some() {
                return Err(invalid_request(
                    "the client authenticated twice (HTTP Basic and client_secret in the body); use one method",
                ));
            }
            if body_id.is_some_and(|id| id != client_id) {
                return Err(invalid_request("client_id in the body differs from the one in HTTP Basic"));
            }
            Ok(Presented::Basic { client_id, client_secret })
        }
        Some(Err(error)) => Ok(Presented::Refused(error.to_string())),
        Some(Ok(Authorization::Bearer(_) | Authorization::Other(_))) => Ok(Presented::Refused(
            "the token endpoint takes HTTP Basic client authentication or client_id and client_secret in the body"
                .to_string(),
        )),
        None => match (body_id, body_secret) {
            (Some(id), Some(secret)) => {
                Ok(Presented::Body { client_id: id.to_string(), client_secret: secret.to_string() })
            }
            (Some(id), None) => Ok(Presented::Public {
                client_id: id.to_string(),
            }),
            _ => Ok(Presented::Nothing),
        },
    }
}

fn client_credentials(
    state: &AppState,
    client: &ClientRecord,
    secret_generation: i64,
    requested_scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    if client.grant_type != GrantType::ClientCredentials {
        return Err(OAuthError::new(
            OAuthErrorCode::UnauthorizedClient,
            format!(
                "this client is registered for the {} grant, not client_credentials",
                client.grant_type.as_str()
            ),
        ));
    }
    let scopes = ScopeSet::grant(&client.scopes, requested_scope).map_err(
        |ScopeError::NotGranted(missing)| {
            OAuthError::new(OAuthErrorCode::InvalidScope, describe_not_granted(&missing))
        },
    )?;
    let now = now_unix();
    let lifetime = state.config.token_lifetime.as_secs();
    let unavailable = |what: &str| OAuthError::new(OAuthErrorCode::TemporarilyUnavailable, what);
    let claims = AccessTokenClaims {
        iss: state.config.issuer.clone(),
        sub: client.login.clone(),
        aud: state.audience.clone(),
        client_id: client.client_id.clone(),
        scope: scopes.to_string(),
        iat: now,
        exp: now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
        jti: generate_identifier()
            .map_err(|_| unavailable("the random number generator failed"))?,
        secret_generation,
        gid: None,
    };
    let access_token = state
        .keys
        .current()
        .sign(ACCESS_TOKEN_TYPE, &claims)
        .map_err(|_| unavailable("signing the token failed"))?;
    Ok(TokenResponse {
        access_token,
        token_type: "bearer".to_string(),
        expires_in: lifetime,
        scope: Some(claims.scope),
        refresh_token: None,
        id_token: None,
    })
}
