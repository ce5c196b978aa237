//! HTTP: routers, thin handlers, extractors and the mapping of errors to responses.

pub mod access_log;
mod admin;
mod attachments;
mod bearer;
pub(crate) mod connections;
mod device_authorization;
pub(crate) mod errors;
mod meta;
pub mod metrics;
mod nested;
mod oauth_form;
pub(crate) mod origin;
pub mod pages;
mod resources;
mod token;
mod token_info;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use axum::routing::{any, get, post, put};

use crate::state::AppState;

pub use bearer::Caller;
pub use errors::ResponseFormat;

/// Largest request body read by any endpoint here (OAuth forms and admin JSON).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Headers on every answer: `nosniff` (API answers included), and HSTS behind https.
fn protective_headers(router: Router, https: bool) -> Router {
    use tower_http::set_header::SetResponseHeaderLayer;
    let router = router.layer(SetResponseHeaderLayer::if_not_present(
        header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    ));
    if https {
        router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let https = state.config.issuer.starts_with("https://");
    access_log::layer(protective_headers(routes(Arc::clone(&state)), https), state)
}

fn routes(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route(
            "/api/{object}",
            get(resources::list).post(resources::create),
        )
        .route(
            "/api/{object}/{id}",
            get(resources::show)
                .put(resources::update)
                .patch(resources::update)
                .post(resources::create_then)
                .delete(resources::delete),
        )
        .route(
            "/api/{object}/{id}/{action}",
            get(nested::get_under)
                .put(resources::action)
                .post(nested::post_under),
        )
        .route(
            "/api/{object}/{id}/{action}/{line_id}",
            get(nested::show)
                .put(nested::update)
                .patch(nested::update)
                .delete(nested::delete),
        )
        .route(
            "/api/{object}/{id}/{action}/{line_id}/{*rest}",
            any(resources::not_served),
        )
        .merge(file_routes(&state))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            bearer::authorize,
        ));
    benchmark_routes(&state, Router::new())
        .route("/healthz", get(meta::healthz))
        .route("/readyz", get(meta::readyz))
        .route("/.well-known/openid-configuration", get(meta::discovery))
        .route(
            "/.well-known/oauth-authorization-server",
            get(meta::discovery),
        )
        .route("/oauth2/jwks", get(meta::jwks))
        .route("/api_docs", get(meta::api_docs))
        .route("/oauth2/scopes", get(meta::scopes))
        .route("/oauth2/scopes/{name}", get(meta::scope))
        .route(
            "/oauth2/token",
            post(token::token).fallback(token::wrong_method),
        )
        .route(
            "/oauth2/device_authorizations",
            post(device_authorization::device_authorization),
        )
        .route("/oauth2/revoke", post(token_info::revoke))
        .route("/oauth2/introspect", post(token_info::introspect))
        .route(
            "/oauth2/userinfo",
            get(token_info::userinfo).post(token_info::userinfo),
        )
        .nest("/admin/api", admin::router(Arc::clone(&state)))
        .merge(
            pages::router(&state).layer(axum::middleware::from_fn_with_state(
                Arc::clone(&state),
                pages::within_instance,
            )),
        )
        .merge(api)
        .fallback(meta::not_found)
        .with_state(state)
}

#[cfg(feature = "bench-routes")]
fn benchmark_routes(state: &AppState, router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    if !state.config.unauthenticated_api_for_benchmarks {
        return router;
    }
    tracing::warn!("serving GET /bench/api/{{object}} WITHOUT authentication, for benchmarks only");
    router.route(
        "/bench/api/{object}",
        get(resources::list).layer(axum::middleware::from_fn(errors::negotiated)),
    )
}

#[cfg(not(feature = "bench-routes"))]
fn benchmark_routes(state: &AppState, router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    if state.config.unauthenticated_api_for_benchmarks {
        tracing::warn!(
            "this build has no benchmark routes (cargo feature bench-routes): /bench/api is not served"
        );
    }
    router
}

/// The routes that take files, with a body limit of the largest file allowed (and room for
/// the multipart framing and fields around it).
fn file_routes(state: &AppState) -> Router<Arc<AppState>> {
    let limit = state.config.max_file_bytes.saturating_add(MAX_BODY_BYTES);
    Router::new()
        .route(
            "/api/{object}/{id}/attachments",
            get(attachments::list).post(attachments::create),
        )
        .route(
            "/api/{object}/{id}/attachments/{attachment_id}",
            get(attachments::show).delete(attachments::delete),
        )
        .route(
            "/api/invoices/{id}/image_scan",
            put(attachments::put_image_scan),
        )
        .layer(axum::extract::DefaultBodyLimit::max(limit))
}

/// Reads a whole body, refusing more than `MAX_BODY_BYTES`.
pub(crate) async fn read_body(body: Body) -> Result<Bytes, String> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            format!(
                "the request body is larger than {} KiB or was cut off",
                MAX_BODY_BYTES / 1024
            )
        })
}

/// The media type of the request body, lower-cased and without parameters.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).to_string())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
}
