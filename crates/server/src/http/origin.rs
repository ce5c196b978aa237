//! The instance a request was made to, from its `Host` (see `domain::origin`).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::HOST;
use axum::http::request::Parts;

use crate::domain::origin::Origin;
use crate::state::AppState;

/// The origin a request is answered under.
pub struct RequestOrigin(pub Arc<Origin>);

impl RequestOrigin {
    pub fn of(state: &AppState, parts: &Parts) -> Self {
        let host = parts
            .headers
            .get(HOST)
            .and_then(|value| value.to_str().ok());
        Self(state.origins.for_host(host))
    }
}

impl FromRequestParts<Arc<AppState>> for RequestOrigin {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(state, parts))
    }
}
