//! Signing in and out, and where a sign-in without a destination lands.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::session::safe_return_to;
use super::{PageError, SIGN_IN_PATH, Submitted, Visitor, see_other};
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
    /// On a server without any administrator: the command that creates the first one.
    first_administrator: Option<String>,
}

/// The command that creates the first administrator, while the server has none.
async fn first_administrator(state: &AppState) -> Result<Option<String>, PageError> {
    let seen = state.administrator_seen.check(state.store.as_ref()).await?;
    Ok((!seen).then(|| sign_ins::first_administrator_command(&state.config.issuer)))
}

#[derive(Template)]
#[template(path = "pages/signed_in.html")]
struct SignedInPage<'a> {
    csrf: &'a str,
    user_name: &'a str,
}

/// `GET /oauth2/login?return_to=...`
pub async fn login_get(
    State(state): State<Arc<AppState>>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = FormParams::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let page = SignInPage {
        csrf: visitor.csrf(),
        return_to: safe_return_to(params.get("return_to")),
        login: "",
        error: None,
        first_administrator: first_administrator(&state).await?,
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
        first_administrator: first_administrator(&state).await?,
    };
    let mut response = visitor.render(status, &page)?;
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "pages/signed_out.html")]
struct SignedOutPage<'a> {
    title: &'a str,
    text: &'a str,
}

/// The page that signs a browser out: its button, for whoever is signed in on it.
#[derive(Template)]
#[template(path = "pages/sign_out.html")]
pub(crate) struct SignOutPage<'a> {
    pub title: &'a str,
    /// Why this page is shown instead of the one asked for, if it is.
    pub text: Option<&'a str>,
    pub user_name: &'a str,
    pub csrf: &'a str,
    pub back: &'a str,
    pub back_label: &'a str,
}

/// `GET /oauth2/logout`: a page with the Sign out button, or that says nobody is signed in
/// (`?signed_out=1`: that this browser just signed out).
pub async fn logout_page(
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    match &visitor.signed_in {
        Some(signed_in) => {
            let page = SignOutPage {
                title: "Sign out?",
                text: None,
                user_name: &signed_in.user.name,
                csrf: visitor.csrf(),
                back: if signed_in.user.admin { "/setup" } else { "/" },
                back_label: "Cancel",
            };
            visitor.render(StatusCode::OK, &page)
        }
        None if query.as_deref() == Some("signed_out=1") => visitor.render(
            StatusCode::OK,
            &SignedOutPage {
                title: "Signed out",
                text: "You are signed out on this browser.",
            },
        ),
        None => visitor.render(
            StatusCode::OK,
            &SignedOutPage {
                title: "Not signed in",
                text: "Nobody is signed in on this browser.",
            },
        ),
    }
}

/// `POST /oauth2/logout`: then on to a page saying so (a reload posts nothing again).
pub async fn logout(
    State(state): State<Arc<AppState>>,
    visitor: Visitor,
    _form: Submitted,
) -> Result<Response, PageError> {
    let cookie = visitor.end_session(&state).await?;
    let mut response = see_other("/oauth2/logout?signed_out=1")?;
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Where a sign-in without a destination lands: Setup for administrators, a page that says
/// who is signed in for everyone else.
pub async fn signed_in(visitor: Visitor) -> Result<Response, PageError> {
    let Some(signed_in) = &visitor.signed_in else {
        return see_other(SIGN_IN_PATH);
    };
    if signed_in.user.admin {
        return see_other("/setup");
    }
    let page = SignedInPage {
        csrf: visitor.csrf(),
        user_name: &signed_in.user.name,
    };
    visitor.render(StatusCode::OK, &page)
}
