//! What browser-facing pages share: the sign-in session cookie and CSRF protection.
//!
//! CSRF: every form repeats a token in a hidden field and a POST whose field does not match
//! is refused. Before sign-in the token is a random value in an HttpOnly, SameSite=Lax
//! cookie (double submit); once signed in it is derived from the session secret, so it is
//! bound to the session and renewed by every sign-in. Behind https the cookies carry the
//! `__Host-` prefix (Secure, Path=/, no Domain: no other host can set them).

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::domain::cookie;
use crate::domain::grant::SessionRecord;
use crate::domain::secret::{self, RandomnessUnavailable};
use crate::domain::time::now_unix;
use crate::domain::user::UserRecord;
use crate::state::AppState;
use crate::store::StoreError;

pub const SESSION_COOKIE: &str = "coupa_session";
pub const CSRF_COOKIE: &str = "coupa_csrf";

/// The cookie's name as set: `__Host-` prefixed when the issuer is https.
fn cookie_name(state: &AppState, name: &str) -> String {
    if state.config.issuer.starts_with("https://") {
        format!("__Host-{name}")
    } else {
        name.to_string()
    }
}

/// The session secret this browser sent, if any.
fn session_cookie<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    cookie_value(headers, &cookie_name(state, SESSION_COOKIE))
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| cookie::get(value, name))
        .filter(|value| !value.is_empty())
}

fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: Option<u64>,
) -> Option<HeaderValue> {
    let secure = if state.config.issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let max_age = max_age
        .map(|seconds| format!("; Max-Age={seconds}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}",
        cookie_name(state, name)
    ))
    .ok()
}

/// A signed-in browser's CSRF token: a digest of its session secret, useless without it.
fn session_csrf(session_token: &str) -> String {
    crate::cache::hex(&secret::digest(&format!("csrf:{session_token}")))
}

/// The CSRF token of this browser, and whether it is new (then the response must set it).
pub fn csrf_token(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, bool), RandomnessUnavailable> {
    if let Some(session) = session_cookie(state, headers) {
        return Ok((session_csrf(session), false));
    }
    match cookie_value(headers, &cookie_name(state, CSRF_COOKIE)) {
        Some(token) => Ok((token.to_string(), false)),
        None => Ok((secret::generate_secret()?, true)),
    }
}

/// Sets the CSRF cookie on `response` when `csrf_token` made a new one.
pub fn remember_csrf(state: &AppState, response: &mut Response, token: &str, is_new: bool) {
    if is_new && let Some(value) = set_cookie(state, CSRF_COOKIE, token, None) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Whether a form's `csrf_token` is this browser's: its session's, or before sign-in its
/// cookie's.
pub fn csrf_matches(state: &AppState, headers: &HeaderMap, submitted: Option<&str>) -> bool {
    let expected = match session_cookie(state, headers) {
        Some(session) => Some(session_csrf(session)),
        None => cookie_value(headers, &cookie_name(state, CSRF_COOKIE)).map(str::to_string),
    };
    match (expected, submitted) {
        (Some(expected), Some(field)) => bool::from(expected.as_bytes().ct_eq(field.as_bytes())),
        _ => false,
    }
}

/// The signed-in user, if the session cookie names a live session of an active user.
pub async fn current_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let Some(token) = session_cookie(state, headers) else {
        return Ok(None);
    };
    let digest = secret::digest(token);
    let Some(session) = state.store.session(&digest).await? else {
        return Ok(None);
    };
    if session.expires_at <= now_unix() {
        state.store.delete_session(&digest).await?;
        return Ok(None);
    }
    let Some(user) = state.store.user(&session.user_id).await? else {
        return Ok(None);
    };
    if !user.active || session.auth_time < user.sessions_valid_after {
        return Ok(None);
    }
    Ok(Some((session, user)))
}

/// Starts a session for `user`, ending the one this browser had; returns the cookie to set.
pub async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &UserRecord,
) -> Result<Option<HeaderValue>, String> {
    if let Some(previous) = session_cookie(state, headers) {
        state
            .store
            .delete_session(&secret::digest(previous))
            .await
            .map_err(|error| error.to_string())?;
    }
    let token = secret::generate_secret().map_err(|error| error.to_string())?;
    let now = now_unix();
    let lifetime = state.config.session_lifetime.as_secs();
    let session = SessionRecord {
        session_digest: secret::digest(&token).to_vec(),
        user_id: user.user_id.clone(),
        auth_time: now,
        expires_at: now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
    };
    state
        .store
        .insert_session(&session)
        .await
        .map_err(|error| error.to_string())?;
    Ok(set_cookie(state, SESSION_COOKIE, &token, Some(lifetime)))
}

/// Ends the session the cookie names (if any); returns the cookie that clears it.
pub async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<HeaderValue>, StoreError> {
    if let Some(token) = session_cookie(state, headers) {
        state.store.delete_session(&secret::digest(token)).await?;
    }
    Ok(set_cookie(state, SESSION_COOKIE, "", Some(0)))
}

/// Where a sign-in may send the browser back to: only this server's own pages (the OAuth
/// pages and Setup's).
pub fn safe_return_to(text: Option<&str>) -> &str {
    match text {
        Some(path)
            if (path.starts_with("/oauth2/") || super::setup::registry::is_setup_path(path))
                && !path.contains("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/oauth2/signed-in",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_this_server() {
        for good in ["/oauth2/authorize?x=1", "/setup", "/api_keys", "/users/u1"] {
            assert_eq!(safe_return_to(Some(good)), good);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/oauth2//evil",
            "/\\evil",
            "/admin",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/oauth2/signed-in", "{bad}");
        }
    }
}
