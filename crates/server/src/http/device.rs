//! The device authorization grant (RFC 8628): the device authorization endpoint and the
//! verification pages where a signed-in user approves a device.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::authorize::{form_page, read_submitted_form, see_other, unavailable};
use super::browser;
use super::oauth_form::OAuthRequest;
use super::pages::{self, Consent, escape};
use super::token::Json;
use crate::domain::authorization_request::with_query;
use crate::domain::device::{self, DeviceStatus};
use crate::domain::form::FormParams;
use crate::domain::grant::GrantRecord;
use crate::domain::secret;
use crate::domain::time::now_unix;
use crate::grants::{DeviceAuthorization, OAuthError, start_device_authorization};
use crate::state::AppState;

pub use crate::grants::VERIFICATION_PATH;
const DECISION_PATH: &str = "/oauth2/device/decision";

/// `POST /oauth2/device_authorizations` (Coupa's path; RFC 8628 §3.1).
pub async fn device_authorization(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Result<Json<DeviceAuthorization>, OAuthError> {
    // Before the request is read: a flood from one address costs nothing more.
    state.device_starts.check_address(&peer.ip().to_string())?;
    let request = OAuthRequest::from_request(request, &()).await?;
    let client = request.authenticate(&state.clients)?;
    let started = start_device_authorization(
        &state.grant_context(),
        &state.device_starts,
        &client,
        &request.params,
    )
    .await?;
    Ok(Json(started))
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
