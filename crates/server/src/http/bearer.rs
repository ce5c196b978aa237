//! The bearer layer in front of `/api/*` (RFC 6750): verifies the access token, checks that
//! its client is still active and its secret not rotated out, and that one of the token's
//! scopes grants the route, as the scope catalogue says.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coupa_proto::scopes;

use super::errors::{ApiError, ResponseFormat, errors_in};
use crate::domain::authorization_header::{self, Authorization};
use crate::domain::rate_limit::Decision;
use crate::domain::scope::ScopeSet;
use crate::domain::time::now_unix;
use crate::domain::token::{ACCESS_TOKEN_TYPE, AccessTokenClaims};
use crate::keys::JwtError;
use crate::state::AppState;

/// Who is calling, for handlers (`created-by`, `updated-by`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
    pub login: String,
    pub scopes: ScopeSet,
}

const REALM: &str = "coupa";

fn unauthorized(code: Option<&str>, description: &str) -> ApiError {
    let challenge = match code {
        Some(code) => format!(
            "Bearer realm=\"{REALM}\", error=\"{code}\", error_description=\"{description}\""
        ),
        None => format!("Bearer realm=\"{REALM}\""),
    };
    ApiError::on_field(
        StatusCode::UNAUTHORIZED,
        code.unwrap_or("base"),
        description,
    )
    .with_header(header::WWW_AUTHENTICATE, challenge)
}

/// The layer in front of `/api/*`: negotiates the answer's format once (its errors, and the
/// handler's answer, are written in it), then authenticates and authorizes the caller.
pub async fn authorize(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let format = ResponseFormat::negotiate_once(&mut request);
    errors_in(format, async move {
        let (mut parts, body) = request.into_parts();
        let caller = match authenticated_caller(&state, &parts).await {
            Ok(caller) => caller,
            Err(error) => return error.into_response(),
        };
        // From here on the caller is known: its refusals count in its report card too.
        let client_id = caller.client_id.clone();
        let response = match authorize_route(&state, &parts, caller) {
            Err(error) => error.into_response(),
            Ok(caller) => match api_fault(&state, &caller.client_id).await {
                Some(refused) => refused,
                None => {
                    parts.extensions.insert(caller);
                    next.run(Request::from_parts(parts, body)).await
                }
            },
        };
        super::access_log::with_caller(response, client_id)
    })
    .await
}

async fn authenticated_caller(state: &AppState, request: &Parts) -> Result<Caller, ApiError> {
    let caller = match presented(state, request)? {
        Presented::Bearer(token) => {
            let origin = super::origin::RequestOrigin::of(state, request).0;
            let verified = verify_access_token(state, &origin, &token)
                .await
                .map_err(|description| unauthorized(Some("invalid_token"), description))?;
            if let Some(description) = token_fault(state, &verified.claims) {
                return Err(unauthorized(Some("invalid_token"), description));
            }
            Caller {
                client_id: verified.claims.client_id,
                login: verified.claims.sub,
                scopes: verified.scopes,
            }
        }
        Presented::ApiKey(caller) => caller,
    };
    Ok(caller)
}

pub const API_KEY_HEADER: &str = "x-coupa-api-key";

/// What a request authenticates with: a bearer token still to verify, or a legacy API key
/// already looked up.
enum Presented {
    Bearer(String),
    ApiKey(Caller),
}

fn presented(state: &AppState, request: &Parts) -> Result<Presented, ApiError> {
    let invalid = |description: &str| unauthorized(Some("invalid_token"), description);
    let Some(header) = request.headers.get(header::AUTHORIZATION) else {
        if let Some(key) = request.headers.get(API_KEY_HEADER) {
            return check_api_key(state, request, key.as_bytes()).map(Presented::ApiKey);
        }
        return Err(unauthorized(
            None,
            "an access token is required: send Authorization: Bearer <token> from POST /oauth2/token",
        ));
    };
    let header = header
        .to_str()
        .map_err(|_| invalid("the Authorization header is not ASCII"))?;
    match authorization_header::parse(header) {
        Ok(Authorization::Bearer(token)) => Ok(Presented::Bearer(token)),
        Ok(_) => Err(unauthorized(
            Some("invalid_request"),
            "the API takes Authorization: Bearer <access token>",
        )),
        Err(error) => Err(invalid(&error.to_string())),
    }
}

/// An access token that passed every check, with what it still grants.
pub(crate) struct VerifiedToken {
    pub claims: AccessTokenClaims,
    /// The token's scopes that its client still holds: removing a scope from a client
    /// takes it from the tokens already issued.
    pub scopes: ScopeSet,
}

/// Every check an access token of this server must pass: signature and type, issuer,
/// audience and time, its client still honouring it, not revoked. The error says why not.
/// A key this replica does not know yet (another replica just added it) makes it read the
/// key ring again, at most once every few seconds.
pub(crate) async fn verify_access_token(
    state: &AppState,
    origin: &crate::domain::origin::Origin,
    token: &str,
) -> Result<VerifiedToken, &'static str> {
    let verified = state.keys.current().verify(token, ACCESS_TOKEN_TYPE);
    let verified = match verified {
        Err(JwtError::UnknownKey) if state.keys.may_reload_for_unknown_kid() => {
            if let Err(error) = state.reload_key_ring().await {
                tracing::warn!(%error, "cannot read the key ring again");
            }
            state.keys.current().verify(token, ACCESS_TOKEN_TYPE)
        }
        other => other,
    };
    let claims: AccessTokenClaims = verified.map_err(|error| error.describe())?;
    let now = now_unix();
    claims
        .check_time_and_origin(&origin.issuer, &origin.audience, now)
        .map_err(|rejection| rejection.describe())?;
    let client = state
        .clients
        .get(&claims.client_id)
        .ok_or("the client of this token no longer exists")?;
    client
        .accepts_token(claims.secret_generation, claims.iat, now)
        .map_err(|rejection| rejection.describe())?;
    if state
        .revocations
        .is_revoked(&claims.jti, claims.gid.as_deref())
    {
        return Err("the access token has been revoked");
    }
    let scopes = ScopeSet::parse(&claims.scope).intersection(&client.scopes);
    Ok(VerifiedToken { claims, scopes })
}

/// Legacy `X-COUPA-API-KEY`: looked up by digest in the key cache; uses are recorded for the
/// migration worklist.
fn check_api_key(state: &AppState, request: &Parts, key: &[u8]) -> Result<Caller, ApiError> {
    let refused = |description: &str| {
        ApiError::on_field(StatusCode::UNAUTHORIZED, "invalid_api_key", description).with_header(
            header::WWW_AUTHENTICATE,
            format!("Bearer realm=\"{REALM}\""),
        )
    };
    if !state.config.api_keys {
        return Err(refused(
            "API keys are no longer accepted by this instance; use OAuth 2.0 client credentials (POST /oauth2/token)",
        ));
    }
    let key = std::str::from_utf8(key)
        .map_err(|_| refused("the API key is not valid"))?
        .trim();
    let digest = crate::cache::hex(&crate::domain::secret::digest(key));
    let record = state
        .api_keys
        .get(&digest)
        .ok_or_else(|| refused("the API key is not valid"))?;
    let from = request
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_default();
    if record.revoked_at.is_some() {
        crate::uses::note_refused_api_key_call(
            &state.refused_api_key_calls,
            &state.store,
            &record.key_id,
            &from,
        );
        return Err(refused(
            "the API key has been revoked; use OAuth 2.0 client credentials (POST /oauth2/token)",
        ));
    }
    crate::uses::note_api_key_use(&state.api_key_uses, &state.store, &record.key_id, &from);
    Ok(Caller {
        client_id: format!("api-key:{}", record.key_id),
        login: record.login.clone(),
        scopes: record.scopes.clone(),
    })
}

/// A fault that makes `/api` refuse a token it would take (clock ahead, token not yet
/// propagated, scopes changed), when one is on for the token's client.
fn token_fault(state: &AppState, claims: &AccessTokenClaims) -> Option<&'static str> {
    use crate::domain::faults::refuses_token;
    let now = now_unix();
    let refusal = |fault: crate::faults::InForce| {
        refuses_token(fault.kind, fault.started_at, claims.iat, claims.exp, now)
    };
    state
        .faults
        .take(&claims.client_id, now, |fault| refusal(fault).is_some())
        .and_then(refusal)
}

/// `/api` unavailable, rate limited, slow or hanging up on `client_id`, when a fault says so:
/// the answer to give instead of the route's, if any.
async fn api_fault(state: &AppState, client_id: &str) -> Option<Response> {
    use crate::domain::faults::FaultKind;
    let fault = state.faults.take(client_id, now_unix(), |fault| {
        matches!(
            fault.kind,
            FaultKind::ApiRateLimited { .. }
                | FaultKind::ApiUnavailable
                | FaultKind::ApiSlow { .. }
                | FaultKind::ApiConnectionDropped
        )
    })?;
    match fault.kind {
        FaultKind::ApiRateLimited { retry_after } => {
            let error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate limit exceeded; retry with exponential backoff",
            );
            Some(
                match retry_after {
                    Some(seconds) => error.with_header(header::RETRY_AFTER, seconds.to_string()),
                    None => error,
                }
                .into_response(),
            )
        }
        FaultKind::ApiUnavailable => Some(
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service is unavailable; try again shortly",
            )
            .into_response(),
        ),
        FaultKind::ApiSlow { seconds } => {
            tokio::time::sleep(std::time::Duration::from_secs(seconds.unsigned_abs())).await;
            None
        }
        FaultKind::ApiConnectionDropped => Some(super::connections::dropped_connection()),
        _ => None,
    }
}

/// Rate limit, then the route's scope: the checks every authenticated caller goes through.
fn authorize_route(state: &AppState, request: &Parts, caller: Caller) -> Result<Caller, ApiError> {
    if let Decision::Deny { retry_after } = state.rate_limiter.check(&caller.client_id) {
        crate::telemetry::rate_limited(&caller.client_id);
        let limit = state
            .config
            .rate_limit
            .map(|limit| {
                format!(
                    "{} requests per second, burst {}",
                    limit.per_second, limit.burst
                )
            })
            .unwrap_or_default();
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit exceeded ({limit}); retry with exponential backoff"),
        );
        return Err(if state.config.rate_limit_retry_after {
            error.with_header(
                header::RETRY_AFTER,
                (retry_after.ceil() as u64).max(1).to_string(),
            )
        } else {
            error
        });
    }
    let granted = &caller.scopes;
    let method = request.method.as_str();
    let path = request.uri.path();
    let needed = scopes::scopes_granting(method, path);
    if needed.is_empty() {
        return Err(route_not_granted(path));
    }
    if !needed.iter().any(|scope| granted.contains(scope)) {
        let description = format!("this call needs the scope {}", needed.join(" or "));
        let challenge = format!(
            "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{}\", error_description=\"{description}\"",
            needed.join(" ")
        );
        return Err(
            ApiError::on_field(StatusCode::FORBIDDEN, "insufficient_scope", description)
                .with_header(header::WWW_AUTHENTICATE, challenge),
        );
    }
    Ok(caller)
}

/// No scope grants this method on this path: 405 if other methods are granted, else 404.
fn route_not_granted(path: &str) -> ApiError {
    let allowed: Vec<&str> = ["GET", "POST", "PUT", "DELETE"]
        .into_iter()
        .filter(|method| !scopes::scopes_granting(method, path).is_empty())
        .collect();
    if allowed.is_empty() {
        ApiError::not_found(format!("no API resource at {path}"))
    } else {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} supports {}", allowed.join(", ")),
        )
        .with_header(header::ALLOW, allowed.join(", "))
    }
}
