//! What a client may ask about tokens: revocation (RFC 7009), introspection (RFC 7662) and
//! the OpenID Connect UserInfo endpoint (Core §5.3).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coupa_proto::oauth::OAuthErrorCode;
use serde_json::{Map, Value, json};

use super::bearer::verify_access_token;
use super::errors::no_store;
use super::oauth_form::OAuthRequest;
use super::origin::RequestOrigin;
use super::token::Json;
use crate::domain::authorization_header::{self, Authorization};
use crate::domain::secret;
use crate::domain::time::now_unix;
use crate::grants::OAuthError;
use crate::state::AppState;
use crate::store::RevocationKind;

/// `POST /oauth2/revoke`: refresh tokens revoke their whole grant; access tokens are refused
/// from now on. Unknown tokens and other clients' tokens are answered 200 too (RFC 7009 §2.2).
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    RequestOrigin(origin): RequestOrigin,
    request: OAuthRequest,
) -> Result<Response, OAuthError> {
    let client = request.authenticate(&state)?;
    let token = required_token(&request)?;
    let refresh = state
        .store
        .refresh_token(&secret::digest(token))
        .await
        .map_err(OAuthError::unavailable)?;
    match refresh {
        Some((_, grant)) => {
            if grant.client_id == client.client_id {
                crate::grants::revoke_grant(&state.grant_context(), &grant.grant_id)
                    .await
                    .map_err(OAuthError::unavailable)?;
                crate::audit_trail::security_event(
                    state.store.as_ref(),
                    "grant.revoked",
                    &format!("client:{}", client.client_id),
                    &request.peer,
                    serde_json::json!({"grant": grant.grant_id}),
                )
                .await;
            }
        }
        None => {
            if let Ok(verified) = verify_access_token(&state, &origin, token).await
                && verified.claims.client_id == client.client_id
            {
                let claims = verified.claims;
                state
                    .store
                    .revoke_access_token(&claims.jti, claims.exp, now_unix())
                    .await
                    .map_err(OAuthError::unavailable)?;
                state
                    .revocations
                    .add(RevocationKind::AccessToken, &claims.jti, claims.exp);
                crate::store::announce(state.store.as_ref(), crate::store::Change::Revocations)
                    .await;
                tracing::info!(client_id = %client.client_id, "access token revoked");
                crate::audit_trail::security_event(
                    state.store.as_ref(),
                    "access_token.revoked",
                    &format!("client:{}", client.client_id),
                    &request.peer,
                    serde_json::json!({"jti": claims.jti}),
                )
                .await;
            }
        }
    }
    Ok(no_store(StatusCode::OK.into_response()))
}

fn required_token(request: &OAuthRequest) -> Result<&str, OAuthError> {
    request
        .params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))
}

/// `POST /oauth2/introspect` for authenticated confidential clients. A client sees only
/// its own tokens as active, unless an administrator let it introspect any token.
pub async fn introspect(
    State(state): State<Arc<AppState>>,
    RequestOrigin(origin): RequestOrigin,
    request: OAuthRequest,
) -> Result<Json<Value>, OAuthError> {
    let client = request.authenticate(&state)?;
    if client.secret_digest.is_none() {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidClient,
            "a public client cannot introspect tokens; use a confidential client with its secret",
        ));
    }
    let token = required_token(&request)?;
    let may_see = |owner: &str| client.introspect_any_token || owner == client.client_id;
    let inactive = || Ok(Json(json!({"active": false})));
    if let Ok(verified) = verify_access_token(&state, &origin, token).await {
        let claims = verified.claims;
        if !may_see(&claims.client_id) {
            return inactive();
        }
        return Ok(Json(json!({
            "active": true,
            "token_type": "Bearer",
            "scope": verified.scopes.to_string(),
            "client_id": claims.client_id,
            "username": claims.sub,
            "sub": claims.sub,
            "aud": claims.aud,
            "iss": claims.iss,
            "exp": claims.exp,
            "iat": claims.iat,
            "jti": claims.jti,
        })));
    }
    let refresh = state
        .store
        .refresh_token(&secret::digest(token))
        .await
        .map_err(OAuthError::unavailable)?;
    match refresh {
        Some((refresh, grant))
            if may_see(&grant.client_id)
                && refresh.rotated_at.is_none()
                && grant.revoked_at.is_none()
                && refresh.expires_at > now_unix() =>
        {
            let Some(owner) = state
                .clients
                .get(&grant.client_id)
                .filter(|owner| owner.honours_grant_made_at(grant.created_at))
            else {
                return inactive();
            };
            Ok(Json(json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": refresh.scopes.intersection(&owner.scopes).to_string(),
                "client_id": grant.client_id,
                "exp": refresh.expires_at,
                "iat": refresh.issued_at,
                "iss": state.config.issuer,
            })))
        }
        _ => inactive(),
    }
}

fn bearer_error(status: StatusCode, error: &str, description: &str) -> Response {
    let challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    let mut response = (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    no_store(response)
}

/// `GET` or `POST /oauth2/userinfo` with a user's access token that holds `openid`.
pub async fn userinfo(
    State(state): State<Arc<AppState>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| match authorization_header::parse(value) {
            Ok(Authorization::Bearer(token)) => Some(token),
            _ => None,
        });
    let Some(token) = token else {
        let mut response = (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_request", "error_description": "send Authorization: Bearer <access token>"}))).into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return no_store(response);
    };
    let (claims, scopes) = match verify_access_token(&state, &origin, &token).await {
        Ok(verified) => (verified.claims, verified.scopes),
        Err(reason) => return bearer_error(StatusCode::UNAUTHORIZED, "invalid_token", reason),
    };
    let Some(grant_id) = claims.gid.as_deref().filter(|_| scopes.contains("openid")) else {
        return bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "userinfo needs a user's token with the openid scope",
        );
    };
    let grant = match state.store.grant(grant_id).await {
        Ok(Some(grant)) => grant,
        Ok(None) => {
            return bearer_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the grant of this token no longer exists",
            );
        }
        Err(error) => return OAuthError::unavailable(error).into_response(),
    };
    let user = match state.store.user(&grant.user_id).await {
        Ok(Some(user)) if user.active => user,
        Ok(_) => {
            return bearer_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the user of this token is deactivated",
            );
        }
        Err(error) => return OAuthError::unavailable(error).into_response(),
    };
    let mut info = Map::new();
    info.insert("sub".into(), Value::String(user.user_id.clone()));
    if scopes.contains("profile") {
        info.insert("name".into(), Value::String(user.name.clone()));
        info.insert(
            "preferred_username".into(),
            Value::String(user.login.clone()),
        );
        info.insert("updated_at".into(), json!(user.updated_at));
    }
    if scopes.contains("email") {
        info.insert("email".into(), Value::String(user.email.clone()));
        info.insert("email_verified".into(), Value::Bool(false));
    }
    if scopes.contains("login") {
        info.insert("login".into(), Value::String(user.login.clone()));
    }
    no_store(axum::Json(Value::Object(info)).into_response())
}
