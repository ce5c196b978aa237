//! The browser's side of a session: the session cookie, CSRF protection, and the extractors
//! every page handler starts from (`Visitor`, `Submitted`).
//!
//! CSRF: every form repeats a token in a hidden field and a POST whose field does not match
//! is refused. Before sign-in the token is a random value in an HttpOnly, SameSite=Lax
//! cookie (double submit); once signed in it is derived from the session secret, so it is
//! bound to the session and renewed by every sign-in. Behind https the cookies carry the
//! `__Host-` prefix (Secure, Path=/, no Domain: no other host can set them).

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::{PageError, html_response};
use crate::domain::cookie;
use crate::domain::form::{FormFields, FormParams};
use crate::domain::secret;
use crate::domain::time::now_unix;
use crate::domain::user::UserRecord;
use crate::http::read_body;
use crate::service_error::ServiceError;
use crate::sessions::{self, SignedIn};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "coupa_session";
pub const CSRF_COOKIE: &str = "coupa_csrf";
const CSRF_FIELD: &str = "csrf_token";

/// The cookies' names and attributes: `__Host-` prefixed and Secure when the issuer is https.
struct Cookies {
    https: bool,
}

impl Cookies {
    fn of(state: &AppState) -> Self {
        Self {
            https: state.config.issuer.starts_with("https://"),
        }
    }

    fn name(&self, name: &str) -> String {
        if self.https {
            format!("__Host-{name}")
        } else {
            name.to_string()
        }
    }

    /// The value of the cookie `name` this browser sent, if any.
    fn get<'a>(&self, headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        let name = self.name(name);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| cookie::get(value, &name))
            .filter(|value| !value.is_empty())
    }

    fn set(&self, name: &str, value: &str, max_age: Option<u64>) -> Option<HeaderValue> {
        let secure = if self.https { "; Secure" } else { "" };
        let max_age = max_age
            .map(|seconds| format!("; Max-Age={seconds}"))
            .unwrap_or_default();
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}",
            self.name(name)
        ))
        .ok()
    }

    /// The CSRF token this browser's forms must repeat: its session's once signed in, else
    /// its CSRF cookie's.
    fn expected_csrf(&self, headers: &HeaderMap) -> Option<String> {
        match self.get(headers, SESSION_COOKIE) {
            Some(session) => Some(session_csrf(session)),
            None => self.get(headers, CSRF_COOKIE).map(str::to_string),
        }
    }
}

/// A signed-in browser's CSRF token: a digest of its session secret, useless without it.
fn session_csrf(session_token: &str) -> String {
    crate::cache::hex(&secret::digest(&format!("csrf:{session_token}")))
}

/// A browser at one of the pages: who is signed in on it, and the CSRF token its forms
/// carry (set as a cookie with the page when it is new).
pub struct Visitor {
    pub signed_in: Option<SignedIn>,
    session_token: Option<String>,
    csrf: String,
    csrf_is_new: bool,
    cookies: Cookies,
}

impl FromRequestParts<Arc<AppState>> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let cookies = Cookies::of(state);
        let session_token = cookies
            .get(&parts.headers, SESSION_COOKIE)
            .map(str::to_string);
        let signed_in = match &session_token {
            Some(token) => sessions::signed_in(state.store.as_ref(), token, now_unix()).await?,
            None => None,
        };
        let (csrf, csrf_is_new) = match cookies.expected_csrf(&parts.headers) {
            Some(token) => (token, false),
            None => (secret::generate_secret()?, true),
        };
        Ok(Self {
            signed_in,
            session_token,
            csrf,
            csrf_is_new,
            cookies,
        })
    }
}

impl Visitor {
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The signed-in user; otherwise sign in first and come back to `return_to`.
    pub fn require_sign_in(&self, return_to: &str) -> Result<&SignedIn, PageError> {
        self.signed_in.as_ref().ok_or_else(|| PageError::SignIn {
            return_to: return_to.to_string(),
        })
    }

    /// `page` with this browser's CSRF cookie set when the token is new.
    pub fn render(&self, status: StatusCode, page: &impl Template) -> Result<Response, PageError> {
        self.render_with_form_target(status, page, None)
    }

    /// `render`, for a page whose form's answer is sent on to `form_target` (an origin).
    pub fn render_with_form_target(
        &self,
        status: StatusCode,
        page: &impl Template,
        form_target: Option<&str>,
    ) -> Result<Response, PageError> {
        let mut response = html_response(status, page.render()?, form_target);
        if self.csrf_is_new
            && let Some(value) = self.cookies.set(CSRF_COOKIE, &self.csrf, None)
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        Ok(response)
    }

    /// Signs `user` in on this browser, ending the session it had; the cookie to set.
    pub async fn start_session(
        &self,
        state: &AppState,
        user: &UserRecord,
    ) -> Result<Option<HeaderValue>, ServiceError> {
        let lifetime = state.config.session_lifetime;
        let token = sessions::start(
            state.store.as_ref(),
            self.session_token.as_deref(),
            user,
            lifetime,
            now_unix(),
        )
        .await?;
        Ok(self
            .cookies
            .set(SESSION_COOKIE, &token, Some(lifetime.secs())))
    }

    /// Ends this browser's session (if any); the cookie that clears it.
    pub async fn end_session(&self, state: &AppState) -> Result<Option<HeaderValue>, PageError> {
        if let Some(token) = &self.session_token {
            sessions::end(state.store.as_ref(), token).await?;
        }
        Ok(self.cookies.set(SESSION_COOKIE, "", Some(0)))
    }
}

/// A form posted by one of this server's pages: read (capped) and refused unless its
/// `csrf_token` is this browser's.
pub struct Submitted(pub FormFields);

impl FromRequest<Arc<AppState>> for Submitted {
    type Rejection = PageError;

    async fn from_request(
        request: Request,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = read_body(body)
            .await
            .map_err(|message| PageError::refused(StatusCode::PAYLOAD_TOO_LARGE, message))?;
        let fields =
            FormFields::parse(&bytes).map_err(|error| PageError::malformed_form(&error))?;
        let expected = Cookies::of(state).expected_csrf(&parts.headers);
        let matches = match (expected, fields.get(CSRF_FIELD)) {
            (Some(expected), Some(field)) => {
                bool::from(expected.as_bytes().ct_eq(field.as_bytes()))
            }
            _ => false,
        };
        if matches {
            Ok(Self(fields))
        } else {
            Err(PageError::refused(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this site. Go back, reload the page and try again.",
            ))
        }
    }
}

impl Submitted {
    /// The fields read as OAuth parameters (no repeated names), without the CSRF token.
    pub fn oauth_params(self) -> Result<FormParams, PageError> {
        FormParams::from_fields(self.0)
            .map(|params| params.without(&[CSRF_FIELD]))
            .map_err(|error| PageError::malformed_form(&error))
    }
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
