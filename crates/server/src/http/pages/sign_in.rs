//! Signing in and out, and where a sign-in without a destination lands.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::session::safe_return_to;
use super::{PageError, SIGN_IN_PATH, Submitted, Visitor, message_page, see_other};
use crate::domain::form::FormParams;
use crate::domain::throttle;
use crate::sign_ins::{self, SignIn};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/sign_in.html")]
struct SignInPage<'a> {
    csrf: &'a str,
    return_to: &'a str,
    login: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "pages/signed_in.html")]
struct SignedInPage<'a> {
    csrf: &'a str,
    user_name: &'a str,
}

/// `GET /oauth2/login?return_to=...`
pub async fn login_get(visitor: Visitor, RawQuery(query): RawQuery) -> Result<Response, PageError> {
    let params = FormParams::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let page = SignInPage {
        csrf: visitor.csrf(),
        return_to: safe_return_to(params.get("return_to")),
        login: "",
        error: None,
    };
    visitor.render(StatusCode::OK, &page)
}

/// `POST /oauth2/login`: fields `login`, `password`, `csrf_token`, `return_to`. Failures are
/// counted per login and per source address; past a few, sign-ins are refused for a while.
pub async fn login_post(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    visitor: Visitor,
    form: Submitted,
) -> Result<Response, PageError> {
    let form = form.oauth_params()?;
    let return_to = safe_return_to(form.get("return_to"));
    let login = form.get("login").unwrap_or_default();
    let password = form.get("password").unwrap_or_default().to_string();
    let peer = peer.ip().to_string();
    let signed_in = sign_ins::sign_in(
        state.store.as_ref(),
        &state.passwords,
        login,
        password,
        &peer,
    )
    .await?;
    let (status, message, retry_after) = match signed_in {
        SignIn::SignedIn(user) => {
            let cookie = visitor.start_session(&state, &user).await?;
            let mut response = see_other(return_to)?;
            if let Some(cookie) = cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            return Ok(response);
        }
        SignIn::Locked { seconds } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins for this account or from this address. Sign-in is locked for {}; \
                 try again then, or ask an administrator to reset the password.",
                throttle::describe_wait(seconds)
            ),
            Some(seconds),
        ),
        SignIn::Busy(busy) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "The server is busy checking other sign-ins ({busy}). Wait a few seconds and sign in again."
            ),
            Some(5),
        ),
        SignIn::Refused => (
            StatusCode::UNAUTHORIZED,
            "Wrong login or password, or the account is deactivated.".to_string(),
            None,
        ),
    };
    let page = SignInPage {
        csrf: visitor.csrf(),
        return_to,
        login,
        error: Some(&message),
    };
    let mut response = visitor.render(status, &page)?;
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

/// `POST /oauth2/logout`
pub async fn logout(
    State(state): State<Arc<AppState>>,
    visitor: Visitor,
    _form: Submitted,
) -> Result<Response, PageError> {
    let cookie = visitor.end_session(&state).await?;
    let mut response = message_page("Signed out", None)?;
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Where a sign-in without a destination lands.
pub async fn signed_in(visitor: Visitor) -> Result<Response, PageError> {
    let Some(signed_in) = &visitor.signed_in else {
        return see_other(SIGN_IN_PATH);
    };
    let page = SignedInPage {
        csrf: visitor.csrf(),
        user_name: &signed_in.user.name,
    };
    visitor.render(StatusCode::OK, &page)
}
