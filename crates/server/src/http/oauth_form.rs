//! The one reader of OAuth requests (token, revocation, introspection, device
//! authorization): a form body (capped), merged with the query string, which Coupa's own
//! examples use even with POST (a parameter in both places is refused); and the
//! `Authorization` header, which must be ASCII.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};

use super::{content_type, read_body};
use crate::domain::form::FormParams;
use crate::grants::{AuthenticatedClient, OAuthError};
use crate::state::AppState;

const FORM: &str = "application/x-www-form-urlencoded";

pub struct OAuthRequest {
    pub params: FormParams,
    pub authorization: Option<String>,
    /// The caller's address, for the failed authentications it may add to.
    pub peer: String,
}

impl<S: Send + Sync> FromRequest<S> for OAuthRequest {
    type Rejection = OAuthError;

    async fn from_request(request: Request, _: &S) -> Result<Self, OAuthError> {
        let (parts, body) = request.into_parts();
        let body = read_body(body).await.map_err(OAuthError::invalid_request)?;
        check_content_type(&parts.headers, body.is_empty())?;
        let params = FormParams::parse(&body)
            .and_then(|params| {
                params.merge(FormParams::parse(
                    parts.uri.query().unwrap_or_default().as_bytes(),
                )?)
            })
            .map_err(|error| OAuthError::invalid_request(error.to_string()))?;
        let authorization = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| {
                        OAuthError::invalid_request("the Authorization header is not ASCII")
                    })?
                    .to_string(),
            ),
            None => None,
        };
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|peer| peer.0.ip().to_string())
            .unwrap_or_default();
        Ok(Self {
            params,
            authorization,
            peer,
        })
    }
}

impl OAuthRequest {
    /// The client calling, authenticated against the cached clients; a failure is counted.
    pub fn authenticate(&self, state: &AppState) -> Result<AuthenticatedClient, OAuthError> {
        crate::grants::authenticate(
            &state.clients,
            &state.auth_failures,
            &self.peer,
            self.authorization.as_deref(),
            &self.params,
        )
    }
}

fn check_content_type(headers: &HeaderMap, empty_body: bool) -> Result<(), OAuthError> {
    match content_type(headers) {
        Some(media_type) if media_type == FORM => Ok(()),
        None if empty_body => Ok(()),
        Some(media_type) => Err(OAuthError::invalid_request(format!(
            "the body is {media_type}; send the parameters as {FORM}"
        ))),
        None => Err(OAuthError::invalid_request(format!(
            "set Content-Type: {FORM}"
        ))),
    }
}
