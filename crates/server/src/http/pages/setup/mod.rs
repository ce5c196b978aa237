//! Setup: the admin pages (askama templates under `templates/setup`). Server-rendered and
//! usable without a script; `setup.js` adds Show/Hide, Copy and live select-all boxes.
//! Every page needs a signed-in administrator; every form carries the CSRF token.

mod api_keys;
mod audit;
mod clients;
mod faults;
mod home;
mod keys;
mod listing;
pub mod registry;
pub(crate) mod scopes;
mod users;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use coupa_proto::errors::CoupaErrors;
use serde::Deserialize;

use self::registry::SetupPage;
use super::{PageError, Visitor};
use crate::admin::AdminError;
use crate::domain::user::UserRecord;
use crate::state::AppState;

pub use super::Submitted;

pub fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    routes().layer(axum::middleware::from_fn_with_state(
        Arc::clone(state),
        in_setup_frame,
    ))
}

/// A refusal met on a Setup page before its handler could frame it (an expired form, a
/// malformed one, the service unavailable) is shown inside Setup's frame when the browser
/// is an administrator's, so the top bar and navigation stay.
async fn in_setup_frame(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (uri, headers) = (request.uri().clone(), request.headers().clone());
    let response = next.run(request).await;
    let Some(refusal) = response.extensions().get::<super::PlainRefusal>().cloned() else {
        return response;
    };
    let mut probe = axum::http::Request::new(());
    *probe.uri_mut() = uri;
    *probe.headers_mut() = headers;
    let (mut parts, ()) = probe.into_parts();
    match Admin::from_request_parts(&mut parts, &state).await {
        Ok(admin) => axum::response::IntoResponse::into_response(admin.refused(
            refusal.status,
            refusal.message,
            vec![("/setup".to_string(), "Setup".to_string())],
        )),
        Err(_) => response,
    }
}

fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/setup", get(home::home))
        .route("/setup/", get(home::home))
        .route("/setup/assets/setup.js", get(script))
        .route("/setup/transition", get(api_keys::transition))
        .route("/oauth2/clients", get(clients::index).post(clients::create))
        .route("/oauth2/clients/new", get(clients::new))
        .route(
            "/oauth2/clients/{client_id}",
            get(clients::show).post(clients::update),
        )
        .route("/oauth2/clients/{client_id}/edit", get(clients::edit))
        .route(
            "/oauth2/clients/{client_id}/grants/{grant_id}/revoke",
            get(clients::confirm_revoke_grant).post(clients::revoke_grant),
        )
        .route(
            "/oauth2/clients/{client_id}/deactivate",
            get(clients::confirm_deactivate).post(clients::deactivate),
        )
        .route(
            "/oauth2/clients/{client_id}/activate",
            post(clients::activate),
        )
        .route(
            "/oauth2/clients/{client_id}/rotate_secret",
            get(clients::confirm_rotate_secret).post(clients::rotate_secret),
        )
        .route(
            "/oauth2/clients/{client_id}/delete",
            get(clients::confirm_delete).post(clients::delete),
        )
        .route("/setup/audit", get(audit::index))
        .route("/setup/faults", get(faults::index).post(faults::add))
        .route("/setup/faults/clear", post(faults::clear))
        .route("/setup/faults/{id}/remove", post(faults::remove))
        .route("/setup/keys", get(keys::index))
        .route("/setup/keys/rotate", post(keys::rotate))
        .route(
            "/setup/keys/{kid}/retire",
            get(keys::confirm_retire).post(keys::retire),
        )
        .route(
            "/setup/keys/{kid}/remove",
            get(keys::confirm_remove).post(keys::remove),
        )
        .route("/api_keys", get(api_keys::index))
        .route(
            "/api_keys/{key_id}/revoke",
            get(api_keys::confirm_revoke).post(api_keys::revoke),
        )
        .route("/users", get(users::index).post(users::create))
        .route("/users/new", get(users::new))
        .route("/users/{user_id}", get(users::show).post(users::update))
        .route(
            "/users/{user_id}/deactivate",
            get(users::confirm_deactivate).post(users::deactivate),
        )
        .route("/users/{user_id}/activate", post(users::activate))
        .route("/users/{user_id}/password", post(users::reset_password))
}

/// The signed-in administrator of a Setup request, on their browser.
pub struct Admin {
    pub user: UserRecord,
    visitor: Visitor,
    /// The browser's address, for the audit trail.
    address: String,
    /// The digest of the browser's session, which secrets shown once are filed under.
    session_digest: Vec<u8>,
}

impl Admin {
    /// The administrator signed in on this browser; otherwise sign in first (then back to
    /// `return_to`), or a refusal for a user who is not an administrator.
    pub fn of(visitor: Visitor, return_to: &str) -> Result<Self, PageError> {
        let signed_in = visitor.require_sign_in(return_to)?;
        let (user, session_digest) = (
            signed_in.user.clone(),
            signed_in.session.session_digest.clone(),
        );
        if !user.admin {
            let text = format!(
                "Setup is for administrators, and {} is not one. Ask an administrator to make \
                 you one, or sign out and sign in as an administrator.",
                user.login
            );
            let page = super::sign_in::SignOutPage {
                title: "Setup is for administrators",
                text: Some(&text),
                user_name: &user.name,
                csrf: visitor.csrf(),
                back: "/",
                back_label: "Home",
            };
            return Err(match visitor.render(StatusCode::FORBIDDEN, &page) {
                Ok(response) => PageError::Page(Box::new(response)),
                Err(error) => error,
            });
        }
        Ok(Self {
            user,
            visitor,
            address: String::new(),
            session_digest,
        })
    }

    /// Who the audit trail names for what this administrator changes.
    pub fn actor(&self) -> crate::domain::audit::Actor {
        crate::domain::audit::Actor::user(&self.user.login, &self.address)
    }

    /// Keeps `secret` for this browser's next view of `subject`'s page, and that view only.
    pub async fn reveal_once(
        &self,
        state: &AppState,
        subject: &str,
        secret: &str,
    ) -> Result<(), PageError> {
        let now = crate::domain::time::now_unix();
        crate::reveals::keep(
            state.store.as_ref(),
            &state.kek,
            &self.session_digest,
            subject,
            secret,
            now,
        )
        .await?;
        Ok(())
    }

    /// The secret kept for this browser's view of `subject`, taken: a reload shows none.
    pub async fn take_revealed(
        &self,
        state: &AppState,
        subject: &str,
    ) -> Result<Option<String>, PageError> {
        let now = crate::domain::time::now_unix();
        Ok(crate::reveals::take(
            state.store.as_ref(),
            &state.kek,
            &self.session_digest,
            subject,
            now,
        )
        .await?)
    }

    /// A refusal shown inside Setup's frame (top bar and navigation kept), linking `links`:
    /// the pages it mentions, as (address, label).
    pub fn refused(
        &self,
        status: StatusCode,
        message: impl Into<String>,
        links: Vec<(String, String)>,
    ) -> PageError {
        let title = if status == StatusCode::NOT_FOUND {
            "Not found"
        } else {
            "Cannot continue"
        };
        let page = RefusedPage {
            chrome: self.chrome(title, ""),
            message: message.into(),
            links,
        };
        match self.render(status, &page) {
            Ok(response) => PageError::Page(Box::new(response)),
            Err(error) => error,
        }
    }

    /// An admin operation on a `what` ("client") that failed in a way a form cannot show,
    /// as a page linking the list of every `what`.
    pub fn failure(&self, what: &'static str) -> impl Fn(AdminError) -> PageError + '_ {
        move |error| match error {
            AdminError::NotFound => self.refused(
                StatusCode::NOT_FOUND,
                format!("There is no such {what}. It may have been deleted."),
                list_of(what),
            ),
            AdminError::Invalid(errors) => self.refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                errors.full_messages().join("; "),
                list_of(what),
            ),
            AdminError::Unavailable(error) => PageError::Unavailable(error),
        }
    }

    /// The frame every Setup page shares.
    pub fn chrome(&self, title: impl Into<String>, section: &'static str) -> Chrome {
        Chrome {
            title: title.into(),
            section,
            user_name: self.user.name.clone(),
            csrf: self.visitor.csrf().to_string(),
            notice: None,
        }
    }

    /// A rendered page, with this browser's CSRF cookie set when it is new.
    pub fn render(&self, status: StatusCode, page: &impl Template) -> Result<Response, PageError> {
        self.visitor.render(status, page)
    }
}

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        // After signing in, a page comes back to itself; a form's action goes to Setup.
        let return_to = match parts.method {
            Method::GET => parts
                .uri
                .path_and_query()
                .map_or("/setup", |path| path.as_str()),
            _ => "/setup",
        };
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|peer| peer.0.ip().to_string())
            .unwrap_or_default();
        Self::of(visitor, return_to).map(|admin| Self { address, ..admin })
    }
}

impl Chrome {
    /// The navigation bar's entries.
    pub fn pages(&self) -> &'static [SetupPage] {
        registry::SETUP_PAGES
    }
}

/// What the layout shows around every page.
pub struct Chrome {
    pub title: String,
    /// Which navigation entry is current.
    pub section: &'static str,
    pub user_name: String,
    pub csrf: String,
    pub notice: Option<String>,
}

/// Validation errors, shown next to their fields and summarised at the top in the order
/// the form shows its fields.
#[derive(Default)]
pub struct FieldErrors {
    errors: CoupaErrors,
    order: &'static [&'static str],
}

/// The fields of the client form, in the order it shows them.
pub const CLIENT_FORM_ORDER: &[&str] = &[
    "grant_type",
    "name",
    "login",
    "contact_info",
    "contact_email",
    "redirect_uris",
    "pkce",
    "allow_plain_pkce",
    "scope",
];
/// The fields of the user forms, in the order they show them.
pub const USER_FORM_ORDER: &[&str] = &["login", "name", "email", "admin", "password"];

impl FieldErrors {
    /// `errors` of the form whose fields come in `order`.
    pub fn new(errors: CoupaErrors, order: &'static [&'static str]) -> Self {
        Self { errors, order }
    }

    fn label(field: &str) -> &str {
        match field {
            "name" => "Name",
            "login" => "Login",
            "grant_type" => "Grant type",
            "scope" => "Scopes",
            "contact_info" => "Contact info",
            "contact_email" => "Contact email",
            "redirect_uris" => "Redirect URIs",
            "pkce" => "PKCE",
            "allow_plain_pkce" => "Plain PKCE",
            "email" => "Email",
            "password" => "Password",
            other => other,
        }
    }

    /// The messages of one field, each starting with the field's label ("Login has already
    /// been taken").
    pub fn of(&self, field: &str) -> Vec<String> {
        self.errors
            .errors
            .get(field)
            .map(|messages| {
                messages
                    .iter()
                    .map(|message| match field {
                        "base" => message.clone(),
                        _ => format!("{} {message}", Self::label(field)),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn has(&self, field: &str) -> bool {
        self.errors.errors.contains_key(field)
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Every message with the id of the field it belongs to, for the summary's links, in
    /// the form's order (fields it does not know last).
    pub fn summary(&self) -> Vec<(String, String)> {
        let mut fields: Vec<&String> = self.errors.errors.keys().collect();
        fields.sort_by_key(|field| {
            self.order
                .iter()
                .position(|known| known == field)
                .unwrap_or(usize::MAX)
        });
        fields
            .into_iter()
            .flat_map(|field| {
                self.of(field)
                    .into_iter()
                    .map(move |message| (field.clone(), message))
            })
            .collect()
    }
}

/// The Setup page listing every `what`, to link from a refusal about one.
fn list_of(what: &str) -> Vec<(String, String)> {
    let list = match what {
        "client" => Some(("/oauth2/clients", "OAuth2/OpenID Connect Clients")),
        "user" => Some(("/users", "Users")),
        "API key" => Some(("/api_keys", "API Keys")),
        "signing key" => Some(("/setup/keys", "Signing Keys")),
        "audit entry" => Some(("/setup/audit", "Audit Trail")),
        "fault" => Some(("/setup/faults", "Faults")),
        "scope" => Some(("/oauth2/scopes", "Scopes")),
        _ => None,
    };
    list.map(|(path, label)| (path.to_string(), label.to_string()))
        .into_iter()
        .collect()
}

#[derive(Template)]
#[template(path = "setup/refused.html")]
struct RefusedPage {
    chrome: Chrome,
    message: String,
    links: Vec<(String, String)>,
}

/// The one confirmation page of every action that stops an integration or a person: what
/// will happen, the button that does it (a form, so it works without a script), and the way
/// back. The action's own URL answers it on GET.
#[derive(Template)]
#[template(path = "setup/confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    /// The trail after "Setup": (address, label).
    pub crumbs: Vec<(String, String)>,
    pub question: String,
    pub consequences: Vec<String>,
    /// Where the form posts.
    pub action: String,
    /// Fields the form carries besides its CSRF token.
    pub hidden: Vec<(&'static str, String)>,
    pub button: &'static str,
    /// Where Cancel leads.
    pub back: String,
}

impl ConfirmPage {
    pub fn new(admin: &Admin, section: &'static str, question: String, action: String) -> Self {
        Self {
            chrome: admin.chrome(question.clone(), section),
            crumbs: Vec::new(),
            question,
            consequences: Vec::new(),
            action,
            hidden: Vec::new(),
            button: "Confirm",
            back: "/setup".to_string(),
        }
    }
}

/// `?notice=...` after a redirect: one of the fixed messages a page knows, never text from
/// the address itself.
#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    pub notice: Option<String>,
}

async fn script() -> Response {
    super::asset(
        "text/javascript; charset=utf-8",
        include_str!("../../../../assets/setup.js"),
    )
}
