//! The authorization endpoint (RFC 6749 §4.1, OpenID Connect Core §3.1.2) and its consent
//! page.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{ConsentPage, PageError, Submitted, Visitor, see_other, sign_in_path};
use crate::domain::authorization_request::{self, Prompt, RedirectError};
use crate::domain::form::FormParams;
use crate::grants::issue_code;
use crate::http::origin::RequestOrigin;
use crate::state::AppState;

pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";

/// `GET /oauth2/authorize` and `/oauth2/authorizations/new`.
pub async fn authorize_get(
    State(state): State<Arc<AppState>>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = FormParams::parse(query.unwrap_or_default().as_bytes()).map_err(|error| {
        PageError::bad_request(format!("The authorization request is malformed: {error}."))
    })?;
    let (request, client) = authorization_request::validate(&params, |id| state.clients.get(id))?;
    let refusal = |error: &'static str, description: &str| {
        Err(PageError::ToClient(RedirectError {
            redirect_uri: request.redirect_uri.clone(),
            error,
            description: description.to_string(),
            state: request.state.clone(),
        }))
    };
    match (&visitor.signed_in, request.prompt) {
        (None, Prompt::None) => refusal("login_required", "the user is not signed in"),
        (Some(_), Prompt::None) => refusal(
            "consent_required",
            "the user has not consented to this request",
        ),
        (None, _) | (Some(_), Prompt::Login) => {
            let back_here = format!(
                "{AUTHORIZE_PATH}?{}",
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(request.params())
                    .finish()
            );
            see_other(&sign_in_path(&back_here))
        }
        (Some(signed_in), _) => {
            let page = ConsentPage {
                csrf: visitor.csrf(),
                action: AUTHORIZE_PATH,
                application: &client.name,
                user_name: &signed_in.user.name,
                scopes: ConsentPage::scopes_of(request.scopes.iter()),
                hidden: request.params(),
            };
            let form_target = form_target_source(&request.redirect_uri);
            visitor.render_with_form_target(StatusCode::OK, &page, form_target.as_deref())
        }
    }
}

/// The consent form: `decision=allow` or `decision=deny`, with the request in hidden fields.
pub async fn authorize_post(
    State(state): State<Arc<AppState>>,
    RequestOrigin(origin): RequestOrigin,
    visitor: Visitor,
    form: Submitted,
) -> Result<Response, PageError> {
    let form = form.oauth_params()?;
    let decision = form.get("decision").map(str::to_string);
    let request_params = form.without(&["decision"]);
    let (request, _) =
        authorization_request::validate(&request_params, |id| state.clients.get(id))?;
    let signed_in = visitor.signed_in.as_ref().ok_or_else(|| {
        PageError::refused(
            StatusCode::UNAUTHORIZED,
            "Your sign-in has ended. Start again from the application.",
        )
    })?;
    match decision.as_deref() {
        Some("allow") => {
            let location =
                issue_code(&state.grant_context_at(&origin), &request, signed_in).await?;
            see_other(&location)
        }
        Some("deny") => Err(PageError::ToClient(RedirectError {
            redirect_uri: request.redirect_uri.clone(),
            error: "access_denied",
            description: "the user denied the request".into(),
            state: request.state.clone(),
        })),
        _ => Err(PageError::bad_request("Choose Allow or Deny.")),
    }
}

/// The CSP source of a redirect URI: its origin, or its scheme for a native app's.
fn form_target_source(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once(':')?;
    let valid = |text: &str| {
        !text.is_empty()
            && text.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | ':' | '[' | ']')
            })
    };
    match rest.strip_prefix("//") {
        Some(after) => {
            let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
            let authority = authority.rsplit('@').next().unwrap_or_default();
            (valid(scheme) && valid(authority)).then(|| format!("{scheme}://{authority}"))
        }
        None => valid(scheme).then(|| format!("{scheme}:")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_targets_are_origins_or_app_schemes() {
        assert_eq!(
            form_target_source("https://app.example:8443/cb?x=1").as_deref(),
            Some("https://app.example:8443")
        );
        assert_eq!(
            form_target_source("http://127.0.0.1:9000/cb").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(
            form_target_source("com.example.app:/cb").as_deref(),
            Some("com.example.app:")
        );
        assert_eq!(form_target_source("https://a b/"), None);
        assert_eq!(form_target_source("https://x;script-src *"), None);
    }
}
