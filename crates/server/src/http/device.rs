//! The device authorization grant (RFC 8628): the device authorization endpoint and the
//! verification pages where a signed-in user approves a device.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coupa_proto::oauth::OAuthErrorCode;
use serde_json::json;

use super::authorize::{form_page, read_submitted_form, see_other, unavailable};
use super::browser;
use super::errors::OAuthError;
use super::pages::{self, Consent, escape};
use super::token::{authenticate_client, read_oauth_form};
use crate::app::AppState;
use crate::domain::authorize::with_query;
use crate::domain::client::GrantType;
use crate::domain::device::{self, DeviceRecord, DeviceStatus, INTERVAL_SECONDS, LIFETIME_SECONDS};
use crate::domain::form::FormParams;
use crate::domain::grant::GrantRecord;
use crate::domain::rate_limit::Decision;
use crate::domain::scope::{ScopeError, ScopeSet, describe_not_granted};
use crate::domain::secret;
use crate::domain::time::now_unix;
use crate::store::StoreError;

pub const VERIFICATION_PATH: &str = "/oauth2/device";
const DECISION_PATH: &str = "/oauth2/device/decision";
const USER_CODE_ATTEMPTS: usize = 5;

/// `POST /oauth2/device_authorizations` (Coupa's path; RFC 8628 §3.1).
pub async fn device_authorization(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    match start(&state, peer, &headers, query.as_deref(), body).await {
        Ok(answer) => {
            let mut response = axum::Json(answer).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            let limited = error.code == OAuthErrorCode::SlowDown;
            let mut response = error.into_response();
            if limited {
                *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            }
            response
        }
    }
}

fn too_fast(retry_after: f64) -> OAuthError {
    OAuthError::new(
        OAuthErrorCode::SlowDown,
        format!(
            "too many device authorizations started; wait {} seconds",
            retry_after.ceil().max(1.0)
        ),
    )
}

async fn start(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> Result<serde_json::Value, OAuthError> {
    if let Decision::Deny { retry_after } = state
        .device_starts
        .per_address
        .check(&peer.ip().to_string())
    {
        return Err(too_fast(retry_after));
    }
    let params = read_oauth_form(headers, query, body).await?;
    let (client, _) = authenticate_client(state, headers, &params)?;
    if let Decision::Deny { retry_after } = state.device_starts.per_client.check(&client.client_id)
    {
        return Err(too_fast(retry_after));
    }
    if client.grant_type != GrantType::DeviceCode {
        return Err(OAuthError::new(
            OAuthErrorCode::UnauthorizedClient,
            format!(
                "this client is registered for the {} grant; register a device code client",
                client.grant_type.as_str()
            ),
        ));
    }
    let scopes = ScopeSet::grant(&client.scopes, params.get("scope")).map_err(
        |ScopeError::NotGranted(missing)| {
            OAuthError::new(OAuthErrorCode::InvalidScope, describe_not_granted(&missing))
        },
    )?;
    let unavailable = |error: &dyn std::fmt::Display| {
        tracing::error!(%error, "device authorization failed");
        OAuthError::new(
            OAuthErrorCode::TemporarilyUnavailable,
            "the server cannot start a device authorization right now; try again shortly",
        )
    };
    let device_code = secret::generate_secret().map_err(|e| unavailable(&e))?;
    let now = now_unix();
    for _ in 0..USER_CODE_ATTEMPTS {
        let user_code = device::generate_user_code().map_err(|e| unavailable(&e))?;
        let record = DeviceRecord {
            device_digest: secret::digest(&device_code).to_vec(),
            user_code: user_code.clone(),
            client_id: client.client_id.clone(),
            scopes: scopes.clone(),
            expires_at: now + LIFETIME_SECONDS,
            interval: INTERVAL_SECONDS,
            last_polled_at: None,
            status: DeviceStatus::Pending,
            grant_id: None,
        };
        match state.store.insert_device_authorization(&record).await {
            Ok(()) => {
                let verification_uri = format!("{}{VERIFICATION_PATH}", state.config.issuer);
                let shown = device::display_user_code(&user_code);
                return Ok(json!({
                    "device_code": device_code,
                    "user_code": shown,
                    "verification_uri": verification_uri,
                    "verification_uri_complete": with_query(&verification_uri, &[("user_code", shown.clone())]),
                    "expires_in": LIFETIME_SECONDS,
                    "interval": INTERVAL_SECONDS,
                }));
            }
            Err(StoreError::Taken(_)) => continue,
            Err(error) => return Err(unavailable(&error)),
        }
    }
    Err(unavailable(&"no free user code"))
}

fn code_form(csrf: &str, user_code: &str, error: Option<&str>) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let error = error
        .map(|error| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(error)))
        .unwrap_or_default();
    pages::page(
        status,
        "Connect a device",
        &format!(
            "<h1>Connect a device</h1>{error}<p>Enter the code your device shows.</p>\
<form method=\"post\" action=\"{VERIFICATION_PATH}\"><input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
<label for=\"user_code\">Code</label><input type=\"text\" id=\"user_code\" name=\"user_code\" value=\"{code}\" autocomplete=\"off\" required autofocus>\
<button type=\"submit\" class=\"primary\">Continue</button></form>",
            csrf = escape(csrf),
            code = escape(user_code),
        ),
    )
}

/// `GET /oauth2/device[?user_code=...]`: sign in first, then enter (or confirm) the code.
pub async fn verification_get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let params = FormParams::parse(query.as_bytes()).unwrap_or_default();
    match browser::current_user(&state, &headers).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            let back = if query.is_empty() {
                VERIFICATION_PATH.to_string()
            } else {
                format!("{VERIFICATION_PATH}?{query}")
            };
            return see_other(&with_query("/oauth2/login", &[("return_to", back)]));
        }
        Err(error) => return unavailable(error),
    }
    form_page(&state, &headers, |csrf| {
        code_form(csrf, params.get("user_code").unwrap_or_default(), None)
    })
}

/// `POST /oauth2/device`: the code entered; answers the consent page for its device.
pub async fn verification_post(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (form, csrf) = match read_submitted_form(&state, &headers, body).await {
        Ok(submitted) => submitted,
        Err(response) => return *response,
    };
    let user = match browser::current_user(&state, &headers).await {
        Ok(Some((_, user))) => user,
        Ok(None) => return see_other(VERIFICATION_PATH),
        Err(error) => return unavailable(error),
    };
    let typed = form.get("user_code").unwrap_or_default();
    let found = match device::normalize_user_code(typed) {
        Some(code) => match state.store.device_by_user_code(&code).await {
            Ok(found) => found,
            Err(error) => return unavailable(error),
        },
        None => None,
    };
    let pending = found
        .filter(|device| device.status == DeviceStatus::Pending && device.expires_at > now_unix());
    let Some(device) = pending else {
        return code_form(
            &csrf,
            typed,
            Some(
                "That code is not valid, has expired or was already used. Check the code on your device.",
            ),
        );
    };
    let Some(client) = state
        .clients
        .get(&device.client_id)
        .filter(|client| client.active)
    else {
        return code_form(
            &csrf,
            typed,
            Some("The application of this device is not available any more."),
        );
    };
    pages::consent_page(&Consent {
        csrf: &csrf,
        action: DECISION_PATH,
        application: &client.name,
        user_name: &user.name,
        scopes: device.scopes.iter().collect(),
        hidden: vec![("user_code", device.user_code.clone())],
        redirects_to: None,
    })
}

/// `POST /oauth2/device/decision`: `decision=allow|deny` for the device's user code.
pub async fn decision(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (form, _) = match read_submitted_form(&state, &headers, body).await {
        Ok(submitted) => submitted,
        Err(response) => return *response,
    };
    let (session, user) = match browser::current_user(&state, &headers).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => return see_other(VERIFICATION_PATH),
        Err(error) => return unavailable(error),
    };
    let Some(user_code) = form.get("user_code").and_then(device::normalize_user_code) else {
        return pages::error_page(StatusCode::BAD_REQUEST, "The form has no device code.");
    };
    let device = match state.store.device_by_user_code(&user_code).await {
        Ok(Some(device)) => device,
        Ok(None) => return pages::error_page(StatusCode::BAD_REQUEST, "That code is not valid."),
        Err(error) => return unavailable(error),
    };
    let decided = match form.get("decision") {
        Some("allow") => {
            let grant_id = match secret::generate_identifier() {
                Ok(id) => id,
                Err(error) => return unavailable(error),
            };
            let now = now_unix();
            let grant = GrantRecord {
                grant_id,
                client_id: device.client_id.clone(),
                user_id: user.user_id.clone(),
                scopes: device.scopes.clone(),
                auth_time: session.auth_time,
                nonce: None,
                created_at: now,
                revoked_at: None,
            };
            state
                .store
                .approve_device(&user_code, &grant, now)
                .await
                .map(|done| (done, true))
        }
        Some("deny") => state
            .store
            .deny_device(&user_code)
            .await
            .map(|done| (done, false)),
        _ => return pages::error_page(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    };
    match decided {
        Ok((true, true)) => pages::page(
            StatusCode::OK,
            "Device connected",
            "<h1>Device connected</h1><p>You can return to your device.</p>",
        ),
        Ok((true, false)) => pages::page(
            StatusCode::OK,
            "Access denied",
            "<h1>Access denied</h1><p>The device will not get access.</p>",
        ),
        Ok((false, _)) => pages::error_page(
            StatusCode::BAD_REQUEST,
            "This code was already decided on or has expired.",
        ),
        Err(error) => unavailable(error),
    }
}
