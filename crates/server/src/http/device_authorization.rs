//! `POST /oauth2/device_authorizations` (Coupa's path; RFC 8628 §3.1): a device starts the
//! device authorization grant. The pages where a user approves it are in `pages/device.rs`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, Request, State};

use super::oauth_form::OAuthRequest;
use super::origin::RequestOrigin;
use super::token::Json;
use crate::grants::{DeviceAuthorization, OAuthError, start_device_authorization};
use crate::state::AppState;

pub async fn device_authorization(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RequestOrigin(origin): RequestOrigin,
    request: Request,
) -> Result<Json<DeviceAuthorization>, OAuthError> {
    // Before the request is read: a flood from one address costs nothing more.
    state.device_starts.check_address(&peer.ip().to_string())?;
    let request = OAuthRequest::from_request(request, &()).await?;
    let client = request.authenticate(&state)?;
    let started = start_device_authorization(
        &state.grant_context_at(&origin),
        &state.device_starts,
        &client,
        &request.params,
    )
    .await?;
    Ok(Json(started))
}
