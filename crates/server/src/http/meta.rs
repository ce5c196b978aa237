//! Health, discovery (RFC 8414 / OpenID Connect Discovery), JWKS and the scope catalogue.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coupa_proto::scopes;
use serde_json::json;

use super::errors::{ApiError, ResponseFormat};
use super::origin::RequestOrigin;
use super::pages::setup;
use crate::domain::time::now_unix;
use crate::state::AppState;

/// `GET /healthz`: the process is alive and answering (liveness); it asks nothing else, so
/// an orchestrator does not restart a server only because its database is away.
pub async fn healthz() -> Response {
    (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response()
}

/// How long `/readyz` waits for the database before it calls it unreachable.
const READINESS_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// `GET /readyz`: whether this replica can serve everything (readiness): the store answers a
/// write, a key signs, the caches were loaded. 503 in Coupa's error format naming what fails.
pub async fn readyz(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let mut failing = coupa_proto::errors::CoupaErrors::new();
    let checked_at = now_unix().to_string();
    let write = state.store.put_setting(READINESS_SETTING, &checked_at);
    match tokio::time::timeout(READINESS_WAIT, write).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database refuses writes");
            failing.add("store", format!("refuses writes: {error}"));
        }
        Err(_) => failing.add(
            "store",
            format!("did not answer within {} ms", READINESS_WAIT.as_millis()),
        ),
    }
    let on_disk = crate::store::database_file(state.config.database_url.as_str())
        .into_iter()
        .chain(state.config.files_dir.clone());
    for path in on_disk {
        if let Some(free) = free_bytes(&path)
            && free < MIN_FREE_BYTES
        {
            failing.add(
                "store",
                format!(
                    "the disk holding {} is full: {free} bytes free",
                    path.display()
                ),
            );
        }
    }
    let ring = state.keys.current();
    if ring
        .signing_kid(ring.signing_algorithm(), now_unix())
        .is_none()
    {
        failing.add("signing_keys", "no key signs access tokens now");
    }
    if state.clients.usage().1.is_none() || state.api_keys.usage().1.is_none() {
        failing.add("caches", "are not loaded yet");
    }
    if failing.is_empty() {
        return (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response();
    }
    // JSON unless XML is named: probes send no Accept, or `*/*`.
    let names_xml = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains("xml"));
    let format = if names_xml {
        ResponseFormat::Xml
    } else {
        ResponseFormat::Json
    };
    ApiError::with_errors(StatusCode::SERVICE_UNAVAILABLE, failing).render(format)
}

/// Below this much free space on the disk of a SQLite database (or the files directory) a
/// replica is not ready: SQLite may still take a small write into log space it already
/// holds, and then refuse the next real one.
const MIN_FREE_BYTES: u64 = 1024 * 1024;

/// Free bytes for unprivileged writers on the file system holding `path` (its directory when
/// the file does not exist yet).
fn free_bytes(path: &std::path::Path) -> Option<u64> {
    let existing = if path.exists() { path } else { path.parent()? };
    let stats = rustix::fs::statvfs(existing).ok()?;
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Written by each readiness check: a write the database must accept.
const READINESS_SETTING: &str = "readiness_checked_at";

/// Lists what this server implements, and nothing more.
pub async fn discovery(
    State(state): State<Arc<AppState>>,
    RequestOrigin(origin): RequestOrigin,
) -> Response {
    let issuer = &origin.issuer;
    let scope_names: Vec<&str> = scopes::CATALOGUE.iter().map(|scope| scope.name).collect();
    let document = json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "jwks_uri": format!("{issuer}/oauth2/jwks"),
        "scopes_supported": scope_names,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "device_authorization_endpoint": format!("{issuer}/oauth2/device_authorizations"),
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "grant_types_supported": crate::grants::grant_type_names(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "name", "preferred_username", "updated_at", "email", "email_verified", "login"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "access_token_signing_alg_values_supported": [state.keys.current().signing_algorithm().as_str()],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    cacheable(axum::Json(document).into_response())
}

pub async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    let mut response = axum::Json(state.keys.current().jwks(now_unix())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    let max_age = format!("public, max-age={}", state.config.jwks_max_age.secs());
    if let Ok(value) = HeaderValue::from_str(&max_age) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

/// The OpenAPI document of `/api/*`, where Coupa serves its Swagger.
pub async fn api_docs(RequestOrigin(origin): RequestOrigin) -> Response {
    cacheable(axum::Json(crate::api::openapi::document(&origin.issuer)).into_response())
}

/// Whether the caller is a browser navigating (it asks for HTML by name).
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains("text/html"))
}

/// The scope catalogue: JSON for programs, the Setup page for browsers.
pub async fn scopes(State(state): State<Arc<AppState>>, request: Request) -> Response {
    if wants_html(request.headers()) {
        let (mut parts, _) = request.into_parts();
        let page = async {
            setup::scopes::index(&state, &mut parts)
                .await
                .into_response()
        };
        return crate::http::pages::as_page(&state, page).await;
    }
    axum::Json(scopes::CATALOGUE).into_response()
}

pub async fn scope(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    if wants_html(request.headers()) {
        let (mut parts, _) = request.into_parts();
        let page = async {
            setup::scopes::show(&state, &mut parts, &name)
                .await
                .into_response()
        };
        return crate::http::pages::as_page(&state, page).await;
    }
    match scopes::find(&name) {
        Some(scope) => axum::Json(scope).into_response(),
        None => ApiError::not_found(format!(
            "no scope named {name}; GET /oauth2/scopes lists them"
        ))
        .render(ResponseFormat::Json),
    }
}

pub async fn not_found(headers: HeaderMap) -> Response {
    ApiError::not_found("not found").render(ResponseFormat::for_errors(&headers))
}

fn cacheable(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
