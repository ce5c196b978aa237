//! The authorization endpoint (RFC 6749 §4.1, OpenID Connect Core §3.1.2) and the sign-in
//! pages it leads through.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::browser::{self, csrf_matches, csrf_token, remember_csrf};
use super::pages::{self, Consent, error_page, login_page};
use super::read_body;
use crate::domain::authorization_request::{
    self, AuthorizeError, AuthorizeRequest, Prompt, RedirectError, with_query,
};
use crate::domain::form::{FormError, FormFields, FormParams};
use crate::domain::grant::{CODE_LIFETIME_SECONDS, CodeRecord, GrantRecord, SessionRecord};
use crate::domain::secret;
use crate::domain::throttle;
use crate::domain::time::now_unix;
use crate::domain::user::{self, UserRecord};
use crate::sign_ins;
use crate::state::AppState;

pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";

pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, value);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "The redirect address is not valid.",
        ),
    }
}

pub(crate) fn unavailable(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "authorization page failed");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is unavailable right now; try again shortly.",
    )
}

/// A page holding a form: `render` gets this browser's CSRF token, and the cookie is set when
/// the token is new.
pub(crate) fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    render: impl FnOnce(&str) -> Response,
) -> Response {
    match csrf_token(state, headers) {
        Ok((csrf, is_new)) => {
            let mut response = render(&csrf);
            remember_csrf(state, &mut response, &csrf, is_new);
            response
        }
        Err(error) => unavailable(error),
    }
}

fn redirect_error(error: &RedirectError) -> Response {
    see_other(&error.location())
}

/// `GET /oauth2/authorize` and `/oauth2/authorizations/new`.
pub async fn authorize_get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match FormParams::parse(query.unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(error) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("The authorization request is malformed: {error}."),
            );
        }
    };
    let (request, client) = match authorization_request::validate(&params, |id| {
        state.clients.get(id)
    }) {
        Ok(validated) => validated,
        Err(AuthorizeError::Page(message)) => return error_page(StatusCode::BAD_REQUEST, &message),
        Err(AuthorizeError::Redirect(error)) => return redirect_error(&error),
    };
    let signed_in = match browser::current_user(&state, &headers).await {
        Ok(signed_in) => signed_in,
        Err(error) => return unavailable(error),
    };
    let back_here = format!(
        "{AUTHORIZE_PATH}?{}",
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(request.params())
            .finish()
    );
    let refusal = |error: &'static str, description: &str| {
        redirect_error(&RedirectError {
            redirect_uri: request.redirect_uri.clone(),
            error,
            description: description.to_string(),
            state: request.state.clone(),
        })
    };
    match (signed_in, request.prompt) {
        (None, Prompt::None) => refusal("login_required", "the user is not signed in"),
        (Some(_), Prompt::None) => refusal(
            "consent_required",
            "the user has not consented to this request",
        ),
        (None, _) | (Some(_), Prompt::Login) => {
            see_other(&with_query("/oauth2/login", &[("return_to", back_here)]))
        }
        (Some((_, user)), _) => form_page(&state, &headers, |csrf| {
            pages::consent_page(&Consent {
                csrf,
                action: AUTHORIZE_PATH,
                application: &client.name,
                user_name: &user.name,
                scopes: request.scopes.iter().collect(),
                hidden: request.params(),
                redirects_to: Some(&request.redirect_uri),
            })
        }),
    }
}

/// The consent form: `decision=allow` or `decision=deny`, with the request in hidden fields.
pub async fn authorize_post(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (form, _) = match read_submitted_form(&state, &headers, body).await {
        Ok(submitted) => submitted,
        Err(response) => return *response,
    };
    let decision = form.get("decision").map(str::to_string);
    let request_params = FormParams::parse(
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                form.clone()
                    .into_pairs()
                    .into_iter()
                    .filter(|(name, _)| name != "decision" && name != "csrf_token"),
            )
            .finish()
            .as_bytes(),
    )
    .unwrap_or_default();
    let (request, _) = match authorization_request::validate(&request_params, |id| {
        state.clients.get(id)
    }) {
        Ok(validated) => validated,
        Err(AuthorizeError::Page(message)) => return error_page(StatusCode::BAD_REQUEST, &message),
        Err(AuthorizeError::Redirect(error)) => return redirect_error(&error),
    };
    let (session, user) = match browser::current_user(&state, &headers).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => {
            return error_page(
                StatusCode::UNAUTHORIZED,
                "Your sign-in has ended. Start again from the application.",
            );
        }
        Err(error) => return unavailable(error),
    };
    match decision.as_deref() {
        Some("allow") => match issue_code(&state, &request, &session, &user).await {
            Ok(location) => see_other(&location),
            Err(response) => *response,
        },
        Some("deny") => redirect_error(&RedirectError {
            redirect_uri: request.redirect_uri.clone(),
            error: "access_denied",
            description: "the user denied the request".into(),
            state: request.state.clone(),
        }),
        _ => error_page(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    }
}

async fn issue_code(
    state: &AppState,
    request: &AuthorizeRequest,
    session: &SessionRecord,
    user: &UserRecord,
) -> Result<String, Box<Response>> {
    let random = |_| Box::new(unavailable("the random number generator failed"));
    let code = secret::generate_secret().map_err(random)?;
    let now = now_unix();
    let grant = GrantRecord {
        grant_id: secret::generate_identifier().map_err(random)?,
        client_id: request.client_id.clone(),
        user_id: user.user_id.clone(),
        scopes: request.scopes.clone(),
        auth_time: session.auth_time,
        nonce: request.nonce.clone(),
        created_at: now,
        revoked_at: None,
    };
    let record = CodeRecord {
        code_digest: secret::digest(&code).to_vec(),
        grant_id: grant.grant_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_given: request.redirect_uri_given,
        code_challenge: request
            .code_challenge
            .as_ref()
            .map(|(challenge, _)| challenge.clone()),
        code_challenge_method: request
            .code_challenge
            .as_ref()
            .map(|(_, method)| method.as_str().to_string()),
        expires_at: now + CODE_LIFETIME_SECONDS,
        used_at: None,
    };
    state
        .store
        .insert_grant_with_code(&grant, &record)
        .await
        .map_err(|error| Box::new(unavailable(error)))?;
    tracing::info!(client_id = %grant.client_id, user_id = %grant.user_id, "authorization code issued");
    let mut pairs = vec![("code", code)];
    if let Some(state_value) = &request.state {
        pairs.push(("state", state_value.clone()));
    }
    // RFC 9207: tells the client which server answered.
    pairs.push(("iss", state.config.issuer.clone()));
    Ok(with_query(&request.redirect_uri, &pairs))
}

/// A form posted by one of this server's pages: read (capped), and refused unless its
/// `csrf_token` matches this browser's cookie.
pub(crate) async fn read_submitted_fields(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<FormFields, Box<Response>> {
    let bytes = read_body(body)
        .await
        .map_err(|message| Box::new(error_page(StatusCode::PAYLOAD_TOO_LARGE, &message)))?;
    let fields = FormFields::parse(&bytes).map_err(|error| Box::new(malformed_form(&error)))?;
    if csrf_matches(state, headers, fields.get("csrf_token")) {
        Ok(fields)
    } else {
        Err(Box::new(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        )))
    }
}

fn malformed_form(error: &FormError) -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        &format!("The form is malformed: {error}."),
    )
}

/// `read_submitted_fields` for the OAuth pages' forms, read as OAuth parameters (no repeated
/// names); answers the fields and the CSRF token.
pub(super) async fn read_submitted_form(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(FormParams, String), Box<Response>> {
    let fields = read_submitted_fields(state, headers, body).await?;
    let csrf = fields.get("csrf_token").unwrap_or_default().to_string();
    let form = FormParams::from_fields(fields).map_err(|error| Box::new(malformed_form(&error)))?;
    Ok((form, csrf))
}

/// `GET /oauth2/login?return_to=...`
pub async fn login_get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = FormParams::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let return_to = browser::safe_return_to(params.get("return_to"));
    form_page(&state, &headers, |csrf| {
        login_page(StatusCode::OK, csrf, return_to, "", None)
    })
}

/// `POST /oauth2/login`: fields `login`, `password`, `csrf_token`, `return_to`. Failures are
/// counted per login and per source address; past a few, sign-ins are refused for a while.
pub async fn login_post(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (form, csrf) = match read_submitted_form(&state, &headers, body).await {
        Ok(submitted) => submitted,
        Err(response) => return *response,
    };
    let return_to = browser::safe_return_to(form.get("return_to")).to_string();
    let login = form.get("login").unwrap_or_default().to_string();
    let password = form.get("password").unwrap_or_default().to_string();
    let peer = peer.ip().to_string();
    let counters = [
        (throttle::login_key(&login), throttle::PER_LOGIN),
        (throttle::address_key(&peer), throttle::PER_ADDRESS),
    ];
    let page = |status, message: &str| login_page(status, &csrf, &return_to, &login, Some(message));
    match sign_ins::locked_for(state.store.as_ref(), &counters, now_unix()).await {
        Ok(None) => {}
        Ok(Some(seconds)) => {
            tracing::warn!(%login, %peer, seconds, "sign-in refused: locked after repeated failures");
            let mut response = page(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many failed sign-ins for this account or from this address. Sign-in is locked for {}; \
                     try again then, or ask an administrator to reset the password.",
                    throttle::describe_wait(seconds)
                ),
            );
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Err(error) => return unavailable(error),
    }
    let found = match state.store.user_by_login(&login).await {
        Ok(found) => found,
        Err(error) => return unavailable(error),
    };
    let checked = state
        .passwords
        .run(move |memory| match found {
            Some(user) if user.verify_password(&password, memory) => Some(user),
            Some(_) => None,
            None => {
                user::verify_nothing(&password, memory);
                None
            }
        })
        .await;
    let verified = match checked {
        Ok(verified) => verified,
        Err(busy) => {
            tracing::warn!(%login, %peer, "sign-in refused: every password worker is busy");
            let mut response = page(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!(
                    "The server is busy checking other sign-ins ({busy}). Wait a few seconds and sign in again."
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
    };
    let Some(user) = verified.filter(|user| user.active) else {
        match sign_ins::record_failure(state.store.as_ref(), &counters, now_unix()).await {
            Ok(failures) => tracing::warn!(%login, %peer, failures, "sign-in failed"),
            Err(error) => return unavailable(error),
        }
        return page(
            StatusCode::UNAUTHORIZED,
            "Wrong login or password, or the account is deactivated.",
        );
    };
    if let Err(error) = state.store.clear_sign_in_failures(&counters[0].0).await {
        return unavailable(error);
    }
    match browser::start_session(&state, &headers, &user).await {
        Ok(cookie) => {
            tracing::info!(%login, %peer, user_id = %user.user_id, "signed in");
            let mut response = see_other(&return_to);
            if let Some(cookie) = cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => unavailable(error),
    }
}

/// `POST /oauth2/logout`
pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(response) = read_submitted_form(&state, &headers, body).await {
        return *response;
    }
    match browser::end_session(&state, &headers).await {
        Ok(cookie) => {
            let mut response = pages::page(StatusCode::OK, "Signed out", "<h1>Signed out</h1>");
            if let Some(cookie) = cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => unavailable(error),
    }
}

/// Where a sign-in without a destination lands.
pub async fn signed_in(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match browser::current_user(&state, &headers).await {
        Ok(Some((_, user))) => form_page(&state, &headers, |csrf| {
            pages::page(
                StatusCode::OK,
                "Signed in",
                &format!(
                    "<h1>Signed in</h1><p>You are signed in as <strong>{}</strong>.</p>\
<form method=\"post\" action=\"/oauth2/logout\"><input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
<button type=\"submit\" class=\"secondary\">Sign out</button></form>",
                    pages::escape(&user.name),
                    pages::escape(csrf)
                ),
            )
        }),
        Ok(None) => see_other("/oauth2/login"),
        Err(error) => unavailable(error),
    }
}
