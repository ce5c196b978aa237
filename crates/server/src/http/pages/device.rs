//! The device verification pages (RFC 8628 §3.3): a signed-in user enters the code a device
//! shows, sees what it asks for, and allows or denies it.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{ConsentPage, PageError, Submitted, Visitor, message_page};
use crate::domain::form::FormParams;
use crate::grants::{Decided, DeviceDecision, VERIFICATION_PATH, decide_device, pending_device};
use crate::state::AppState;

const DECISION_PATH: &str = "/oauth2/device/decision";

#[derive(Template)]
#[template(path = "pages/device_code.html")]
struct CodePage<'a> {
    csrf: &'a str,
    action: &'a str,
    user_code: &'a str,
    error: Option<&'a str>,
}

/// The form to enter a device's code, with `error` (a 400) when the last one was not right.
fn code_page(
    visitor: &Visitor,
    user_code: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = CodePage {
        csrf: visitor.csrf(),
        action: VERIFICATION_PATH,
        user_code,
        error,
    };
    visitor.render(status, &page)
}

/// `GET /oauth2/device[?user_code=...]`: sign in first, then enter (or confirm) the code.
pub async fn verification_get(
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = query.unwrap_or_default();
    let back_here = if query.is_empty() {
        VERIFICATION_PATH.to_string()
    } else {
        format!("{VERIFICATION_PATH}?{query}")
    };
    visitor.require_sign_in(&back_here)?;
    let params = FormParams::parse(query.as_bytes()).unwrap_or_default();
    code_page(&visitor, params.get("user_code").unwrap_or_default(), None)
}

/// `POST /oauth2/device`: the code entered; answers the consent page for its device.
pub async fn verification_post(
    State(state): State<Arc<AppState>>,
    visitor: Visitor,
    form: Submitted,
) -> Result<Response, PageError> {
    let form = form.oauth_params()?;
    let signed_in = visitor.require_sign_in(VERIFICATION_PATH)?;
    let typed = form.get("user_code").unwrap_or_default();
    let Some(device) = pending_device(&state.grant_context(), typed).await? else {
        return code_page(
            &visitor,
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
        return code_page(
            &visitor,
            typed,
            Some("The application of this device is not available any more."),
        );
    };
    let page = ConsentPage {
        csrf: visitor.csrf(),
        action: DECISION_PATH,
        application: &client.name,
        user_name: &signed_in.user.name,
        scopes: ConsentPage::scopes_of(device.scopes.iter()),
        hidden: vec![("user_code", device.user_code.clone())],
    };
    visitor.render(StatusCode::OK, &page)
}

/// `POST /oauth2/device/decision`: `decision=allow|deny` for the device's user code.
pub async fn decision(
    State(state): State<Arc<AppState>>,
    visitor: Visitor,
    form: Submitted,
) -> Result<Response, PageError> {
    let form = form.oauth_params()?;
    let signed_in = visitor.require_sign_in(VERIFICATION_PATH)?;
    let user_code = form
        .get("user_code")
        .ok_or_else(|| PageError::bad_request("The form has no device code."))?;
    let decision = match form.get("decision") {
        Some("allow") => DeviceDecision::Allow,
        Some("deny") => DeviceDecision::Deny,
        _ => return Err(PageError::bad_request("Choose Allow or Deny.")),
    };
    match decide_device(&state.grant_context(), user_code, decision, signed_in).await? {
        Decided::Approved => {
            message_page("Device connected", Some("You can return to your device."))
        }
        Decided::Denied => message_page("Access denied", Some("The device will not get access.")),
        Decided::TooLate => Err(PageError::bad_request(
            "This code was already decided on or has expired, or is not valid.",
        )),
    }
}
