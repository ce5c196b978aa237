//! The admin API: JSON under `/admin/api`, authenticated by the admin token.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coupa_proto::admin::{CreateApiKey, CreateClient, CreateUser, UpdateClient, UpdateUser};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::errors::{ApiError, ResponseFormat};
use super::{content_type, read_body};
use crate::admin::api_keys;
use crate::admin::users;
use crate::admin::{AdminError, clients};
use crate::domain::authorization_header::{self, Authorization};
use crate::domain::secret;
use crate::domain::throttle;
use crate::domain::time::now_unix;
use crate::sign_ins;
use crate::state::AppState;

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/clients", get(list_clients).post(create_client))
        .route(
            "/clients/{client_id}",
            get(show_client).patch(update_client).delete(delete_client),
        )
        .route("/clients/{client_id}/rotate-secret", post(rotate_secret))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{user}", get(show_user).patch(update_user))
        .route("/api-keys", get(list_api_keys).post(create_api_key))
        .route("/api-keys/{key_id}/revoke", post(revoke_api_key))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state, require_admin))
}

fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError::new(status, ResponseFormat::Json, "base", message)
}

/// The admin token, compared in constant time. Failures are counted per source address and
/// logged; an address past the limit is refused (429) until its lock ends, whatever it sends.
async fn require_admin(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let peer = peer.ip().to_string();
    let counters = [(throttle::admin_key(&peer), throttle::PER_ADDRESS)];
    match sign_ins::locked_for(state.store.as_ref(), &counters, now_unix()).await {
        Ok(None) => {}
        Ok(Some(seconds)) => {
            tracing::warn!(%peer, seconds, "admin API refused: locked after repeated wrong admin tokens");
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many wrong admin tokens from this address; the admin API refuses it for {}",
                    throttle::describe_wait(seconds)
                ),
            )
            .with_header(header::RETRY_AFTER, seconds.to_string())
            .into_response();
        }
        Err(store_error) => return AdminError::from(store_error).into_response(),
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| match authorization_header::parse(value) {
            Ok(Authorization::Bearer(token)) => Some(token),
            _ => None,
        });
    let authorized = presented.is_some_and(|token| {
        bool::from(
            secret::digest(&token)
                .as_slice()
                .ct_eq(state.admin_token_digest.as_slice()),
        )
    });
    if authorized {
        next.run(request).await
    } else {
        match sign_ins::record_failure(state.store.as_ref(), &counters, now_unix()).await {
            Ok(failures) => {
                tracing::warn!(%peer, failures, "admin API: wrong or missing admin token")
            }
            Err(store_error) => return AdminError::from(store_error).into_response(),
        }
        error(
            StatusCode::UNAUTHORIZED,
            "the admin API needs Authorization: Bearer <admin token> (COUPA_ADMIN_TOKEN, or the token printed at first start)",
        )
        .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"coupa-admin\"")
        .into_response()
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound => error(StatusCode::NOT_FOUND, "no such record").into_response(),
            Self::Invalid(errors) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                format: ResponseFormat::Json,
                headers: Vec::new(),
            }
            .into_response(),
            Self::Unavailable(message) => {
                tracing::error!(%message, "admin request failed");
                error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is unavailable; try again shortly",
                )
                .into_response()
            }
        }
    }
}

async fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: Body) -> Result<T, ApiError> {
    if content_type(headers).is_some_and(|media_type| media_type != "application/json") {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as application/json",
        ));
    }
    let bytes = read_body(body)
        .await
        .map_err(|message| error(StatusCode::PAYLOAD_TOO_LARGE, message))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the JSON body is invalid: {e}"),
        )
    })
}

fn respond<T: serde::Serialize>(status: StatusCode, result: Result<T, AdminError>) -> Response {
    match result {
        Ok(value) => (status, axum::Json(value)).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn list_clients(State(state): State<Arc<AppState>>) -> Response {
    respond(StatusCode::OK, clients::list(&state.admin()).await)
}

async fn create_client(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match json_body::<CreateClient>(&headers, body).await {
        Ok(input) => respond(
            StatusCode::CREATED,
            clients::create(&state.admin(), input).await,
        ),
        Err(error) => error.into_response(),
    }
}

async fn show_client(
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<String>,
) -> Response {
    respond(
        StatusCode::OK,
        clients::show(&state.admin(), &client_id).await,
    )
}

async fn update_client(
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match json_body::<UpdateClient>(&headers, body).await {
        Ok(changes) => respond(
            StatusCode::OK,
            clients::update(&state.admin(), &client_id, changes).await,
        ),
        Err(error) => error.into_response(),
    }
}

async fn rotate_secret(
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<String>,
) -> Response {
    respond(
        StatusCode::OK,
        clients::rotate_secret(&state.admin(), &client_id).await,
    )
}

async fn delete_client(
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<String>,
) -> Response {
    match clients::delete(&state.admin(), &client_id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error.into_response(),
    }
}

async fn list_api_keys(State(state): State<Arc<AppState>>) -> Response {
    respond(StatusCode::OK, api_keys::list(&state.admin()).await)
}

async fn create_api_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match json_body::<CreateApiKey>(&headers, body).await {
        Ok(input) => respond(
            StatusCode::CREATED,
            api_keys::create(&state.admin(), input).await,
        ),
        Err(error) => error.into_response(),
    }
}

async fn revoke_api_key(
    State(state): State<Arc<AppState>>,
    Path(key_id): Path<String>,
) -> Response {
    respond(
        StatusCode::OK,
        api_keys::revoke(&state.admin(), &key_id).await,
    )
}

async fn list_users(State(state): State<Arc<AppState>>) -> Response {
    respond(StatusCode::OK, users::list(&state.admin()).await)
}

async fn create_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match json_body::<CreateUser>(&headers, body).await {
        Ok(input) => respond(
            StatusCode::CREATED,
            users::create(&state.admin(), input).await,
        ),
        Err(error) => error.into_response(),
    }
}

/// `{user}` is the user id or the login.
async fn show_user(State(state): State<Arc<AppState>>, Path(user): Path<String>) -> Response {
    respond(
        StatusCode::OK,
        users::find(&state.admin(), &user)
            .await
            .map(|user| user.view()),
    )
}

async fn update_user(
    State(state): State<Arc<AppState>>,
    Path(user): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match json_body::<UpdateUser>(&headers, body).await {
        Ok(changes) => respond(
            StatusCode::OK,
            users::update(&state.admin(), &user, changes).await,
        ),
        Err(error) => error.into_response(),
    }
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such admin resource; see /admin/api/clients, /admin/api/users and /admin/api/api-keys",
    )
    .into_response()
}
