//! `POST /oauth2/token` (RFC 6749 §3.2): the grants themselves are in `grants`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::errors::no_store;
use super::oauth_form::OAuthRequest;
use super::origin::RequestOrigin;
use crate::grants::{self, OAuthError};
use crate::state::AppState;

pub async fn token(
    State(state): State<Arc<AppState>>,
    RequestOrigin(origin): RequestOrigin,
    request: OAuthRequest,
) -> Response {
    let mut caller = None;
    let issued = async {
        grants::grant_type_of(&request.params)?;
        let client = request.authenticate(&state)?;
        caller = Some(client.client_id.clone());
        grants::issue(&state.grant_context_at(&origin), &client, &request.params).await
    }
    .await;
    let response = match issued {
        Ok(tokens) => Json(tokens).into_response(),
        Err(error) => {
            crate::telemetry::token_refused(error.code.as_str());
            error.into_response()
        }
    };
    match caller {
        Some(client_id) => super::access_log::with_caller(response, client_id),
        None => response,
    }
}

/// A JSON answer that no cache may keep (RFC 6749 §5.1).
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        no_store(axum::Json(self.0).into_response())
    }
}

pub async fn wrong_method() -> Response {
    let mut response = OAuthError::invalid_request(
        "the token endpoint takes POST with an application/x-www-form-urlencoded body",
    )
    .into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}
