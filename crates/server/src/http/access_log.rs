//! One access-log event per request, and the request metrics: method, route template,
//! status, latency, the caller (client_id, or `api-key:ID` for a legacy key) and the request
//! id, which tower-http's request-id layers take from `X-Request-Id` or generate, and return.
//! Never a secret, a token or a query string.
//!
//! The event is flat, written once the answer is known, rather than a span per request with
//! an event inside: at 18,000 requests per second a span cost about a fifth of the token
//! endpoint's throughput, a flat event next to nothing (docs/BENCHMARKS.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};

use crate::state::AppState;
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};

/// The target of access-log events, for filtering (`RUST_LOG=coupa::access=off`).
pub const TARGET: &str = "coupa::access";
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// A request id a client sends is kept up to this length.
const MAX_REQUEST_ID: usize = 128;
/// The route of a request no route matched.
const NO_ROUTE: &str = "(no route)";

/// Request ids for requests that bring none: 32 hex digits, a random 64-bit prefix drawn
/// once per process (so replicas and restarts do not collide) and a counter. They only tell
/// requests apart; they guard nothing, so they need no draw from the CSPRNG each.
#[derive(Clone)]
struct GeneratedRequestIds {
    prefix: u64,
    next: Arc<AtomicU64>,
}

impl GeneratedRequestIds {
    fn new() -> Self {
        let prefix = crate::domain::secret::random_bytes::<8>()
            .map(u64::from_be_bytes)
            .unwrap_or_else(|_| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |since| since.as_nanos() as u64)
            });
        Self {
            prefix,
            next: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl MakeRequestId for GeneratedRequestIds {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let count = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}{count:016x}", self.prefix)
            .parse()
            .ok()
            .map(RequestId::new)
    }
}

/// Who made the request, once it was authenticated; set on the answer by the bearer check and
/// the token endpoint.
#[derive(Clone)]
struct AuthenticatedCaller(String);

/// Names the caller of the request `response` answers, for its access-log event.
pub fn with_caller(mut response: Response, client_id: String) -> Response {
    response
        .extensions_mut()
        .insert(AuthenticatedCaller(client_id));
    response
}

async fn observe(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let request_id = request.headers().get(&REQUEST_ID).cloned();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let latency = started.elapsed();
    let route = route.as_ref().map_or(NO_ROUTE, MatchedPath::as_str);
    let status = response.status().as_u16();
    crate::telemetry::request_served(&method, route, status, latency);
    if let Some(caller) = response.extensions().get::<AuthenticatedCaller>() {
        note_for_report(&state, &caller.0, &method, &uri, &response);
    }
    if tracing::enabled!(target: TARGET, tracing::Level::INFO) {
        let request_id = request_id
            .as_ref()
            .and_then(|value| value.to_str().ok())
            .map(|id| id.get(..MAX_REQUEST_ID).unwrap_or(id))
            .unwrap_or_default();
        let caller = response.extensions().get::<AuthenticatedCaller>();
        tracing::info!(
            target: TARGET,
            method = method.as_str(),
            route,
            status,
            latency_ms = latency.as_secs_f64() * 1000.0,
            client_id = caller.map(|caller| caller.0.as_str()),
            request_id,
            "request"
        );
    }
    response
}

/// Keeps an authenticated caller's request for its report card: never a secret (a
/// `client_secret` in the query is noted, its value dropped).
fn note_for_report(
    state: &AppState,
    client_id: &str,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    response: &Response,
) {
    let query = uri.query().unwrap_or_default();
    let secret_in_query = query.contains("client_secret");
    let query = if secret_in_query {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| key != "client_secret"),
            )
            .finish()
    } else {
        query.to_string()
    };
    let xml = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("xml"));
    state.traffic.record(
        client_id,
        crate::domain::report::Seen {
            at_ms: crate::domain::time::now_unix_ms(),
            method: method.as_str().to_string(),
            path: uri.path().to_string(),
            query,
            status: response.status().as_u16(),
            xml,
            secret_in_query,
        },
    );
}

/// Wraps every route: request ids in and out, the access log, the request metrics and the
/// report cards' traffic.
pub fn layer(router: Router, state: Arc<AppState>) -> Router {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(axum::middleware::from_fn_with_state(state, observe))
        .layer(SetRequestIdLayer::new(
            REQUEST_ID,
            GeneratedRequestIds::new(),
        ))
}
