//! One access-log event per request, from tower-http's trace and request-id layers: method,
//! route template, status, latency, the caller (client_id, or `api-key:ID` for a legacy key)
//! and the request id, which is taken from `X-Request-Id` or generated, and returned. Never a
//! secret, a token or a query string.

use std::time::Duration;

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, Request, Response};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The target of access-log events, for filtering (`RUST_LOG=coupa::access=off`).
pub const TARGET: &str = "coupa::access";
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// A request id a client sends is kept up to this length.
const MAX_REQUEST_ID: usize = 128;

/// A random request id (128 bits from the system CSPRNG, hex) for a request that brings none.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let bytes = crate::domain::secret::random_bytes::<16>().ok()?;
        crate::cache::hex(&bytes).parse().ok().map(RequestId::new)
    }
}

/// The caller's identity, once the request is authenticated, on the request's log span.
pub fn record_caller(client_id: &str) {
    Span::current().record("client_id", client_id);
}

fn request_span<B>(request: &Request<B>) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str);
    let request_id: String = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .chars()
        .take(MAX_REQUEST_ID)
        .collect();
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        client_id = tracing::field::Empty,
    )
}

fn log_response<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        target: TARGET,
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request"
    );
}

/// Wraps every route: request ids in and out, and the access log.
pub fn layer(router: Router) -> Router {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(log_response)
                .on_body_chunk(())
                .on_eos(())
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
}
