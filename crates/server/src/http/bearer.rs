//! The bearer layer in front of `/api/*` (RFC 6750): verifies the access token, checks that
//! its client is still active and its secret not rotated out, and that one of the token's
//! scopes grants the route, as the scope catalogue says.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coupa_proto::scopes;

use super::errors::{ApiError, ResponseFormat};
use crate::app::AppState;
use crate::domain::authorization::{self, Authorization};
use crate::domain::scope::ScopeSet;
use crate::domain::time::now_unix;
use crate::domain::token::{ACCESS_TOKEN_TYPE, AccessTokenClaims};

/// Who is calling, for handlers (`created-by`, `updated-by`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
    pub login: String,
    pub scopes: ScopeSet,
}

const REALM: &str = "coupa";

fn unauthorized(format: ResponseFormat, code: Option<&str>, description: &str) -> ApiError {
    let challenge = match code {
        Some(code) => format!(
            "Bearer realm=\"{REALM}\", error=\"{code}\", error_description=\"{description}\""
        ),
        None => format!("Bearer realm=\"{REALM}\""),
    };
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        format,
        code.unwrap_or("base"),
        description,
    )
    .with_header(header::WWW_AUTHENTICATE, challenge)
}

pub async fn authorize(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let format = ResponseFormat::from_accept(request.headers());
    match check(&state, &request, format) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

fn check(state: &AppState, request: &Request, format: ResponseFormat) -> Result<Caller, ApiError> {
    let invalid = |description: &str| unauthorized(format, Some("invalid_token"), description);
    let Some(header) = request.headers().get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            format,
            None,
            "an access token is required: send Authorization: Bearer <token> from POST /oauth2/token",
        ));
    };
    let header = header
        .to_str()
        .map_err(|_| invalid("the Authorization header is not ASCII"))?;
    let token = match authorization::parse(header) {
        Ok(Authorization::Bearer(token)) => token,
        Ok(_) => {
            return Err(unauthorized(
                format,
                Some("invalid_request"),
                "the API takes Authorization: Bearer <access token>",
            ));
        }
        Err(error) => return Err(invalid(&error.to_string())),
    };
    let claims: AccessTokenClaims = state
        .keys
        .verify(&token, ACCESS_TOKEN_TYPE)
        .map_err(|error| invalid(error.describe()))?;
    let now = now_unix();
    claims
        .check_time_and_origin(&state.config.issuer, &state.audience, now)
        .map_err(|rejection| invalid(rejection.describe()))?;
    let client = state
        .clients
        .get(&claims.client_id)
        .ok_or_else(|| invalid("the client of this token no longer exists"))?;
    client
        .accepts_token(claims.secret_generation, claims.iat, now)
        .map_err(|rejection| invalid(rejection.describe()))?;
    let granted = ScopeSet::parse(&claims.scope);
    let method = request.method().as_str();
    let path = request.uri().path();
    let needed = scopes::scopes_granting(method, path);
    if needed.is_empty() {
        return Err(route_not_granted(format, path));
    }
    if !needed.iter().any(|scope| granted.contains(scope)) {
        let description = format!("this call needs the scope {}", needed.join(" or "));
        let challenge = format!(
            "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{}\", error_description=\"{description}\"",
            needed.join(" ")
        );
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format,
            "insufficient_scope",
            description,
        )
        .with_header(header::WWW_AUTHENTICATE, challenge));
    }
    Ok(Caller {
        client_id: claims.client_id,
        login: claims.sub,
        scopes: granted,
    })
}

/// No scope grants this method on this path: 405 if other methods are granted, else 404.
fn route_not_granted(format: ResponseFormat, path: &str) -> ApiError {
    let allowed: Vec<&str> = ["GET", "POST", "PUT"]
        .into_iter()
        .filter(|method| !scopes::scopes_granting(method, path).is_empty())
        .collect();
    if allowed.is_empty() {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format,
            "base",
            format!("no API resource at {path}"),
        )
    } else {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format,
            "base",
            format!("{path} supports {}", allowed.join(", ")),
        )
        .with_header(header::ALLOW, allowed.join(", "))
    }
}
