//! What a client may ask about tokens: revocation (RFC 7009), introspection (RFC 7662) and
//! the OpenID Connect UserInfo endpoint (Core §5.3).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coupa_proto::oauth::OAuthErrorCode;
use serde_json::{Map, Value, json};

use super::bearer::verify_access_token;
use super::errors::OAuthError;
use super::read_body;
use super::token::authenticate_client;
use crate::app::AppState;
use crate::domain::authorization::{self, Authorization};
use crate::domain::form::FormParams;
use crate::domain::secret;
use crate::domain::time::now_unix;
use crate::revocations::KIND_ACCESS_TOKEN;

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn unavailable(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "token request failed");
    OAuthError::new(
        OAuthErrorCode::TemporarilyUnavailable,
        "the server cannot answer right now; try again shortly",
    )
    .into_response()
}

async fn form(body: Body) -> Result<FormParams, Response> {
    let bytes = read_body(body).await.map_err(|message| {
        OAuthError::new(OAuthErrorCode::InvalidRequest, message).into_response()
    })?;
    FormParams::parse(&bytes).map_err(|error| {
        OAuthError::new(OAuthErrorCode::InvalidRequest, error.to_string()).into_response()
    })
}

/// `POST /oauth2/revoke`: refresh tokens revoke their whole grant; access tokens are refused
/// from now on. Unknown tokens and other clients' tokens are answered 200 too (RFC 7009 §2.2).
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match form(body).await {
        Ok(params) => params,
        Err(response) => return response,
    };
    let (client, _) = match authenticate_client(&state, &headers, &params) {
        Ok(client) => client,
        Err(error) => return error.into_response(),
    };
    let Some(token) = params.get("token") else {
        return OAuthError::new(OAuthErrorCode::InvalidRequest, "token is missing").into_response();
    };
    match state.store.refresh_token(&secret::digest(token)).await {
        Ok(Some((_, grant))) => {
            if grant.client_id == client.client_id
                && let Err(error) = crate::grants::revoke_grant(&state, &grant.grant_id).await
            {
                return unavailable(error);
            }
        }
        Ok(None) => {
            if let Ok(verified) = verify_access_token(&state, token).await
                && verified.claims.client_id == client.client_id
            {
                let claims = verified.claims;
                if let Err(error) = state
                    .store
                    .revoke_access_token(&claims.jti, claims.exp, now_unix())
                    .await
                {
                    return unavailable(error);
                }
                state
                    .revocations
                    .add(KIND_ACCESS_TOKEN, &claims.jti, claims.exp);
                tracing::info!(client_id = %client.client_id, "access token revoked");
            }
        }
        Err(error) => return unavailable(error),
    }
    no_store(StatusCode::OK.into_response())
}

/// `POST /oauth2/introspect` for authenticated confidential clients. A client sees only
/// its own tokens as active, unless an administrator let it introspect any token.
pub async fn introspect(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match form(body).await {
        Ok(params) => params,
        Err(response) => return response,
    };
    let (client, _) = match authenticate_client(&state, &headers, &params) {
        Ok(client) => client,
        Err(error) => return error.into_response(),
    };
    if client.secret_digest.is_none() {
        return OAuthError::new(
            OAuthErrorCode::InvalidClient,
            "a public client cannot introspect tokens; use a confidential client with its secret",
        )
        .into_response();
    }
    let Some(token) = params.get("token") else {
        return OAuthError::new(OAuthErrorCode::InvalidRequest, "token is missing").into_response();
    };
    let may_see = |owner: &str| client.introspect_any_token || owner == client.client_id;
    let inactive = || no_store(axum::Json(json!({"active": false})).into_response());
    if let Ok(verified) = verify_access_token(&state, token).await {
        let claims = verified.claims;
        if !may_see(&claims.client_id) {
            return inactive();
        }
        return no_store(
            axum::Json(json!({
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
            }))
            .into_response(),
        );
    }
    match state.store.refresh_token(&secret::digest(token)).await {
        Ok(Some((refresh, grant)))
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
            no_store(
                axum::Json(json!({
                    "active": true,
                    "token_type": "refresh_token",
                    "scope": refresh.scopes.intersection(&owner.scopes).to_string(),
                    "client_id": grant.client_id,
                    "exp": refresh.expires_at,
                    "iat": refresh.issued_at,
                    "iss": state.config.issuer,
                }))
                .into_response(),
            )
        }
        Ok(_) => inactive(),
        Err(error) => unavailable(error),
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
pub async fn userinfo(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| match authorization::parse(value) {
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
    let (claims, scopes) = match verify_access_token(&state, &token).await {
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
        Err(error) => return unavailable(error),
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
        Err(error) => return unavailable(error),
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
