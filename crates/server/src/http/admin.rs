//! The admin API: JSON under `/admin/api`, authenticated by the admin token.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Extension, FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use coupa_proto::admin::{
    ApiKeyView, AuditFilters, AuditPage, ClientView, CreateApiKey, CreateClient, CreateCustomField,
    CreateFault, CreateUser, CustomFieldView, FaultView, ReportView, RetireKey, RotateKeys,
    SandboxReset, SigningKeyView, UpdateClient, UpdateUser, UserView,
};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::errors::AdminApiError;
use super::{content_type, read_body};
use crate::admin::api_keys;
use crate::admin::clients;
use crate::admin::custom_fields;
use crate::admin::faults;
use crate::admin::keys;
use crate::admin::users;
use crate::domain::audit::Actor;
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
        .route(
            "/custom-fields",
            get(list_custom_fields).post(create_custom_field),
        )
        .route(
            "/custom-fields/{object}/{name}",
            axum::routing::delete(delete_custom_field),
        )
        .route("/audit", get(audit_trail))
        .route("/keys", get(list_keys))
        .route("/keys/rotate", post(rotate_keys))
        .route("/keys/{kid}/retire", post(retire_key))
        .route("/keys/{kid}", axum::routing::delete(remove_key))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/faults/{id}", axum::routing::delete(remove_fault))
        .route("/sandbox/reset", post(reset_sandbox))
        .route("/reports", get(list_reports))
        .route("/reports/{client}", get(show_report))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state, require_admin))
}

/// The admin token, compared in constant time. Failures are counted per source address and
/// logged; an address past the limit is refused (429) until its lock ends, whatever it sends.
async fn require_admin(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Result<Response, AdminApiError> {
    let peer = peer.ip().to_string();
    let counters = [(throttle::admin_key(&peer), throttle::PER_ADDRESS)];
    if let Some(seconds) = sign_ins::locked_for(state.store.as_ref(), &counters, now_unix()).await?
    {
        tracing::warn!(%peer, seconds, "admin API refused: locked after repeated wrong admin tokens");
        return Err(AdminApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many wrong admin tokens from this address; the admin API refuses it for {}",
                throttle::describe_wait(seconds)
            ),
        )
        .with_header(header::RETRY_AFTER, seconds.to_string()));
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
        let mut request = request;
        request.extensions_mut().insert(Actor::admin_token(&peer));
        return Ok(next.run(request).await);
    }
    let failures = sign_ins::record_failure(state.store.as_ref(), &counters, now_unix()).await?;
    tracing::warn!(%peer, failures, "admin API: wrong or missing admin token");
    Err(AdminApiError::new(
        StatusCode::UNAUTHORIZED,
        "the admin API needs Authorization: Bearer <admin token> (COUPA_ADMIN_TOKEN, or the token printed at first start)",
    )
    .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"coupa-admin\""))
}

/// A JSON request body, refused with an admin API error when it is not one.
struct AdminJson<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AdminJson<T> {
    type Rejection = AdminApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, AdminApiError> {
        if content_type(request.headers())
            .is_some_and(|media_type| media_type != "application/json")
        {
            return Err(AdminApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as application/json",
            ));
        }
        let bytes = read_body(request.into_body())
            .await
            .map_err(|message| AdminApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message))?;
        serde_json::from_slice(&bytes).map(AdminJson).map_err(|e| {
            AdminApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the JSON body is invalid: {e}"),
            )
        })
    }
}

/// A body that may be left out: no body at all (and no Content-Type) is `None`.
impl<T: DeserializeOwned, S: Send + Sync> axum::extract::OptionalFromRequest<S> for AdminJson<T> {
    type Rejection = AdminApiError;

    async fn from_request(request: Request, state: &S) -> Result<Option<Self>, AdminApiError> {
        let empty = request.headers().get(header::CONTENT_TYPE).is_none()
            && request
                .headers()
                .get(header::CONTENT_LENGTH)
                .is_none_or(|length| length == "0")
            && request.headers().get(header::TRANSFER_ENCODING).is_none();
        if empty {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(request, state)
            .await
            .map(Some)
    }
}

type Answer<T> = Result<Json<T>, AdminApiError>;
type Created<T> = Result<(StatusCode, Json<T>), AdminApiError>;

async fn list_clients(State(state): State<Arc<AppState>>) -> Answer<Vec<ClientView>> {
    Ok(Json(clients::list(&state.admin()).await?))
}

async fn create_client(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    AdminJson(input): AdminJson<CreateClient>,
) -> Created<ClientView> {
    let client = clients::create(&state.admin_as(actor), input).await?;
    Ok((StatusCode::CREATED, Json(client)))
}

async fn show_client(
    State(state): State<Arc<AppState>>,
    Path(client_id): Path<String>,
) -> Answer<ClientView> {
    Ok(Json(clients::show(&state.admin(), &client_id).await?))
}

async fn update_client(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(client_id): Path<String>,
    AdminJson(changes): AdminJson<UpdateClient>,
) -> Answer<ClientView> {
    Ok(Json(
        clients::update(&state.admin_as(actor), &client_id, changes).await?,
    ))
}

async fn rotate_secret(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(client_id): Path<String>,
) -> Answer<ClientView> {
    Ok(Json(
        clients::rotate_secret(&state.admin_as(actor), &client_id).await?,
    ))
}

async fn delete_client(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(client_id): Path<String>,
) -> Result<StatusCode, AdminApiError> {
    clients::delete(&state.admin_as(actor), &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_api_keys(State(state): State<Arc<AppState>>) -> Answer<Vec<ApiKeyView>> {
    Ok(Json(api_keys::list(&state.admin()).await?))
}

async fn create_api_key(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    AdminJson(input): AdminJson<CreateApiKey>,
) -> Created<ApiKeyView> {
    let key = api_keys::create(&state.admin_as(actor), input).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

async fn revoke_api_key(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(key_id): Path<String>,
) -> Answer<ApiKeyView> {
    Ok(Json(
        api_keys::revoke(&state.admin_as(actor), &key_id).await?,
    ))
}

async fn list_users(State(state): State<Arc<AppState>>) -> Answer<Vec<UserView>> {
    Ok(Json(users::list(&state.admin()).await?))
}

async fn create_user(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    AdminJson(input): AdminJson<CreateUser>,
) -> Created<UserView> {
    let user = users::create(&state.admin_as(actor), input).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `{user}` is the user id or the login.
async fn show_user(
    State(state): State<Arc<AppState>>,
    Path(user): Path<String>,
) -> Answer<UserView> {
    Ok(Json(users::find(&state.admin(), &user).await?.view()))
}

async fn update_user(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(user): Path<String>,
    AdminJson(changes): AdminJson<UpdateUser>,
) -> Answer<UserView> {
    Ok(Json(
        users::update(&state.admin_as(actor), &user, changes).await?,
    ))
}

async fn list_custom_fields(State(state): State<Arc<AppState>>) -> Answer<Vec<CustomFieldView>> {
    Ok(Json(custom_fields::list(&state.admin()).await?))
}

async fn create_custom_field(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    AdminJson(input): AdminJson<CreateCustomField>,
) -> Created<CustomFieldView> {
    let field = custom_fields::create(&state.admin_as(actor), input).await?;
    Ok((StatusCode::CREATED, Json(field)))
}

async fn delete_custom_field(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path((object, name)): Path<(String, String)>,
) -> Result<StatusCode, AdminApiError> {
    custom_fields::delete(&state.admin_as(actor), &object, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit_trail(
    State(state): State<Arc<AppState>>,
    filters: Result<axum::extract::Query<AuditFilters>, axum::extract::rejection::QueryRejection>,
) -> Answer<AuditPage> {
    let axum::extract::Query(filters) = filters
        .map_err(|rejection| AdminApiError::new(StatusCode::BAD_REQUEST, rejection.body_text()))?;
    Ok(Json(
        crate::admin::audit::page(&state.admin(), &filters).await?,
    ))
}

async fn list_keys(State(state): State<Arc<AppState>>) -> Answer<Vec<SigningKeyView>> {
    Ok(Json(keys::list(&state.key_service()).await?))
}

async fn rotate_keys(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    body: Option<AdminJson<RotateKeys>>,
) -> Answer<Vec<SigningKeyView>> {
    let alg = body.and_then(|AdminJson(input)| input.alg);
    Ok(Json(
        keys::rotate(&state.key_service(), &actor, alg.as_deref()).await?,
    ))
}

async fn retire_key(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(kid): Path<String>,
    body: Option<AdminJson<RetireKey>>,
) -> Answer<Vec<SigningKeyView>> {
    let now = body.is_some_and(|AdminJson(input)| input.now);
    Ok(Json(
        keys::retire(&state.key_service(), &actor, &kid, now).await?,
    ))
}

async fn remove_key(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(kid): Path<String>,
) -> Answer<Vec<SigningKeyView>> {
    Ok(Json(
        keys::remove(&state.key_service(), &actor, &kid).await?,
    ))
}

async fn list_faults(State(state): State<Arc<AppState>>) -> Answer<Vec<FaultView>> {
    Ok(Json(faults::list(&state.faults)))
}

async fn add_fault(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    AdminJson(input): AdminJson<CreateFault>,
) -> Created<FaultView> {
    let fault = faults::add(&state.admin_as(actor), &state.faults, &input).await?;
    Ok((StatusCode::CREATED, Json(fault)))
}

async fn remove_fault(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Answer<FaultView> {
    Ok(Json(
        faults::remove(&state.admin_as(actor), &state.faults, &id).await?,
    ))
}

async fn clear_faults(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
) -> Answer<serde_json::Value> {
    let removed = faults::clear(&state.admin_as(actor), &state.faults).await;
    Ok(Json(serde_json::json!({ "removed": removed })))
}

async fn list_reports(State(state): State<Arc<AppState>>) -> Answer<Vec<ReportView>> {
    Ok(Json(crate::admin::reports::reports(
        &state.clients,
        &state.traffic,
    )))
}

#[derive(serde::Deserialize)]
struct ReportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// A client's report card: JSON, or `?format=markdown` for a change request.
async fn show_report(
    State(state): State<Arc<AppState>>,
    Path(client): Path<String>,
    axum::extract::Query(query): axum::extract::Query<ReportQuery>,
) -> Result<Response, AdminApiError> {
    use axum::response::IntoResponse;
    let report = crate::admin::reports::report(&state.clients, &state.traffic, &client)?;
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(report).into_response()),
        Some("markdown") => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            crate::admin::reports::markdown(&report),
        )
            .into_response()),
        Some(other) => Err(AdminApiError::new(
            StatusCode::BAD_REQUEST,
            format!("format `{other}` is not json or markdown"),
        )),
    }
}

async fn reset_sandbox(
    State(state): State<Arc<AppState>>,
    Extension(actor): Extension<Actor>,
) -> Answer<SandboxReset> {
    if !state.config.sandbox {
        return Err(AdminApiError::new(
            StatusCode::CONFLICT,
            "this server is not a sandbox, so its records are never reset; start one with \
             `coupa sandbox up` (or `coupa serve --sandbox --demo`)",
        ));
    }
    Ok(Json(
        crate::admin::sandbox::reset(
            &state.admin_as(actor),
            &state.faults,
            &state.config,
            &state.traffic,
        )
        .await?,
    ))
}

async fn not_found() -> AdminApiError {
    AdminApiError::new(
        StatusCode::NOT_FOUND,
        "no such admin resource; see /admin/api/clients, /admin/api/users, /admin/api/api-keys, /admin/api/custom-fields, /admin/api/keys, /admin/api/faults and /admin/api/audit",
    )
}
