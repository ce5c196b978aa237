//! Every page a browser sees: sign-in (`sign_in.rs`), the authorization endpoint and its
//! consent page (`authorize.rs`), the device verification pages (`device.rs`) and Setup
//! (`setup/`). Askama templates on one base layout (`templates/base.html`) with one
//! stylesheet (`assets/coupa.css`) and one Content-Security-Policy without inline code; the
//! session cookie and CSRF protection (`session.rs`); `PageError`, what a page handler fails
//! with.

pub(crate) mod authorize;
pub(crate) mod device;
mod landing;
pub(crate) mod session;
pub mod setup;
pub(crate) mod sign_in;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coupa_proto::scopes;

use crate::domain::authorization_request::{AuthorizeError, RedirectError, with_query};
use crate::domain::form::FormError;
use crate::domain::secret::RandomnessUnavailable;
use crate::service_error::ServiceError;
use crate::state::AppState;
use crate::store::StoreError;

pub use session::{Submitted, Visitor};

/// Where the one stylesheet of every page is served.
pub const STYLESHEET_PATH: &str = "/assets/coupa.css";
pub const SIGN_IN_PATH: &str = "/oauth2/login";

/// Every page's route, and the stylesheet's.
pub fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    use authorize::{AUTHORIZE_PATH, authorize_get, authorize_post};
    Router::new()
        .route("/", get(landing::landing))
        .route(STYLESHEET_PATH, get(stylesheet))
        .route("/favicon.ico", get(favicon))
        .route("/favicon.svg", get(favicon))
        .route(AUTHORIZE_PATH, get(authorize_get).post(authorize_post))
        .route(
            "/oauth2/authorizations/new",
            get(authorize_get).post(authorize_post),
        )
        .route(
            SIGN_IN_PATH,
            get(sign_in::login_get).post(sign_in::login_post),
        )
        .route(
            "/oauth2/logout",
            get(sign_in::logout_page).post(sign_in::logout),
        )
        .route("/oauth2/signed-in", get(sign_in::signed_in))
        .route(
            crate::grants::VERIFICATION_PATH,
            get(device::verification_get).post(device::verification_post),
        )
        .route("/oauth2/device/decision", post(device::decision))
        .merge(setup::router(state))
}

tokio::task_local! {
    /// The instance a page belongs to, named in its title.
    static INSTANCE: Arc<str>;
}

/// Runs a page request knowing its instance, so that every page's title names it and tabs
/// of prod, test, dev and stage can be told apart.
pub async fn within_instance(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    INSTANCE
        .scope(instance_name(&state.config.issuer), next.run(request))
        .await
}

/// `future`, run as a page request of `state`'s instance (for pages served from routes of
/// their own, such as the scope catalogue's).
pub async fn as_page<F: Future>(state: &AppState, future: F) -> F::Output {
    INSTANCE
        .scope(instance_name(&state.config.issuer), future)
        .await
}

/// An issuer's host and port: what tells one instance from another.
fn instance_name(issuer: &str) -> Arc<str> {
    let without_scheme = issuer.split_once("://").map_or(issuer, |(_, rest)| rest);
    Arc::from(without_scheme.split('/').next().unwrap_or(without_scheme))
}

/// The instance of the page being rendered (empty outside a page request).
pub fn instance() -> Arc<str> {
    INSTANCE
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::from(""))
}

/// A file of `assets/`, which browsers may keep a few minutes.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn favicon() -> Response {
    asset("image/svg+xml", include_str!("../../../assets/favicon.svg"))
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../../assets/coupa.css"),
    )
}

/// Styles and scripts from this server only, forms posted only to it (and to `form_target`,
/// where a consent decision is sent on: browsers hold a form's redirects to `form-action`
/// too), no `<base>`, no framing.
fn content_security_policy(form_target: Option<&str>) -> String {
    let form_target = form_target
        .map(|source| format!(" {source}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
         form-action 'self'{form_target}; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// A rendered page with the headers every page gets: never cached, never framed, no
/// referrer, and the one Content-Security-Policy.
fn html_response(status: StatusCode, html: String, form_target: Option<&str>) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(form_target)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `303 See Other` to `location`, never cached.
pub(crate) fn see_other(location: &str) -> Result<Response, PageError> {
    let value = HeaderValue::from_str(location)
        .map_err(|_| PageError::bad_request("The redirect address is not valid."))?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The sign-in page, coming back to `return_to` once signed in.
pub(crate) fn sign_in_path(return_to: &str) -> String {
    with_query(SIGN_IN_PATH, &[("return_to", return_to.to_string())])
}

/// A page of a title and, optionally, one paragraph: outcomes and errors.
#[derive(Template)]
#[template(path = "pages/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    text: Option<&'a str>,
    is_error: bool,
}

/// A page with a title and one paragraph (or none).
pub(crate) fn message_page(title: &str, text: Option<&str>) -> Result<Response, PageError> {
    let page = MessagePage {
        title,
        text,
        is_error: false,
    };
    Ok(html_response(StatusCode::OK, page.render()?, None))
}

/// The consent page: which application asks for what, Allow or Deny. The authorization
/// endpoint and the device pages ask with it.
#[derive(Template)]
#[template(path = "pages/consent.html")]
pub(crate) struct ConsentPage<'a> {
    pub csrf: &'a str,
    /// Where the decision is posted.
    pub action: &'a str,
    pub application: &'a str,
    pub user_name: &'a str,
    /// Each scope asked for, with what it is for.
    pub scopes: Vec<(&'a str, &'static str)>,
    /// The request, carried through the form.
    pub hidden: Vec<(&'a str, String)>,
}

impl<'a> ConsentPage<'a> {
    pub fn scopes_of(names: impl Iterator<Item = &'a str>) -> Vec<(&'a str, &'static str)> {
        names
            .map(|name| {
                let description = scopes::find(name).map_or("", |scope| scope.description);
                (name, description)
            })
            .collect()
    }
}

/// Why a page could not be shown. Handlers return it with `?`; its one `IntoResponse`
/// answers the "Cannot continue" page with the status, the sign-in page's address, or the
/// redirect back to the client, and logs a failure of this server once, with its cause.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The request cannot be served as sent; the message says what to do instead.
    #[error("{message}")]
    Refused { status: StatusCode, message: String },
    /// Only a signed-in browser may see this; sign in, then come back to `return_to`.
    #[error("sign-in required")]
    SignIn { return_to: String },
    /// RFC 6749 §4.1.2.1: the error goes back to the client, on its redirect URI.
    #[error("{}", .0.description)]
    ToClient(RedirectError),
    /// Something this server depends on failed.
    #[error("the service is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A refusal already rendered as a page of its own (inside Setup's frame, or with a form).
    #[error("refused with a page")]
    Page(Box<Response>),
}

impl PageError {
    pub fn refused(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Refused {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::refused(StatusCode::BAD_REQUEST, message)
    }

    pub fn malformed_form(error: &FormError) -> Self {
        Self::bad_request(format!("The form is malformed: {error}."))
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

impl From<ServiceError> for PageError {
    fn from(error: ServiceError) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

impl From<RandomnessUnavailable> for PageError {
    fn from(error: RandomnessUnavailable) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

impl From<AuthorizeError> for PageError {
    fn from(error: AuthorizeError) -> Self {
        match error {
            AuthorizeError::Page(message) => Self::bad_request(message),
            AuthorizeError::Redirect(error) => Self::ToClient(error),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::Refused { status, message } => (status, message),
            Self::SignIn { return_to } => {
                return into_response(see_other(&sign_in_path(&return_to)));
            }
            Self::ToClient(error) => return into_response(see_other(&error.location())),
            Self::Page(response) => return *response,
            Self::Unavailable(error) => {
                tracing::error!(error = %crate::http::errors::causes(error.as_ref()), "a page failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service is unavailable right now; try again shortly.".to_string(),
                )
            }
        };
        let page = MessagePage {
            title: "Cannot continue",
            text: Some(&message),
            is_error: true,
        };
        let mut response = match page.render() {
            Ok(html) => html_response(status, html, None),
            Err(error) => {
                tracing::error!(%error, "the error page failed to render");
                (status, message.clone()).into_response()
            }
        };
        response
            .extensions_mut()
            .insert(PlainRefusal { status, message });
        response
    }
}

/// Marks a refusal rendered as the plain "Cannot continue" card, so that Setup can show it
/// inside its own frame instead (see `setup::in_setup_frame`).
#[derive(Debug, Clone)]
pub struct PlainRefusal {
    pub status: StatusCode,
    pub message: String,
}

fn into_response(result: Result<Response, PageError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_is_the_issuer_host() {
        assert_eq!(
            &*instance_name("https://acme.coupahost.com"),
            "acme.coupahost.com"
        );
        assert_eq!(&*instance_name("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(&*instance_name("odd"), "odd");
    }

    #[test]
    fn the_policy_allows_no_inline_code() {
        let policy = content_security_policy(None);
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("style-src 'self'"), "{policy}");
        assert!(
            content_security_policy(Some("https://app.example"))
                .contains("form-action 'self' https://app.example;")
        );
    }
}
