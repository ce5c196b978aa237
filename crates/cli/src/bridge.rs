//! `coupa bridge`: a reverse proxy for integrations not yet moved to OAuth 2.0 (seed 001,
//! step 5). They keep calling with `X-COUPA-API-KEY`; the bridge forwards only keys it was
//! configured with (each going out as a profile), drops the key, adds a fresh bearer token of
//! the profile, forwards `/api/...` to the instance, streams the answer back, retries once on
//! a 401, and logs which legacy key each call came from, as a fingerprint (the migration
//! worklist). It answers only to `Host` names of this machine (or ones configured), so a web
//! page cannot reach it by rebinding a DNS name; its status needs the local secret. Request
//! bodies are buffered (up to 4 MiB) so that the retry can resend them, and at most
//! `max_concurrent` calls are forwarded at once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coupa_client::tokens::TokenManager;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::Failure;
use crate::listening::listen_and_serve;
use crate::local::{LocalSecret, host_allowed};

const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;
const API_KEY_HEADER: &str = "x-coupa-api-key";
/// Not forwarded either way: hop-by-hop headers (RFC 9110 §7.6.1), and the credentials the
/// bridge replaces. Headers named in `Connection` are dropped too.
const DROPPED: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "authorization",
    API_KEY_HEADER,
    "content-length",
];

/// Whether a header may cross the bridge, given the message's own `Connection` header.
fn forwarded(name: &str, headers: &HeaderMap) -> bool {
    let named_in_connection = headers
        .get_all(axum::http::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case(name));
    !DROPPED.contains(&name) && !named_in_connection
}

#[derive(Default)]
struct KeyUse {
    calls: u64,
    last_path: String,
}

pub struct Bridge {
    /// Legacy key fingerprint → the profile its calls go out as. Only these are forwarded.
    keys: HashMap<String, Arc<TokenManager>>,
    /// The instance, for the status page.
    instance: String,
    secret: LocalSecret,
    /// Host names answered to besides this machine's.
    allowed_hosts: Vec<String>,
    in_flight: Semaphore,
    http: reqwest::Client,
    uses: Mutex<HashMap<String, KeyUse>>,
    /// Keys refused since start (fingerprint → attempts): the ones to map, or to chase.
    refused: Mutex<HashMap<String, u64>>,
}

/// The first 32 hex digits (128 bits) of the key's SHA-256: tells keys apart and names them
/// in the configuration, while no one can work a key back out of it.
pub fn fingerprint(key: &str) -> String {
    coupa_server::cache::hex(&coupa_server::domain::secret::digest(key.trim()))[..32].to_string()
}

/// How the bridge is set up.
pub struct BridgeSettings {
    pub keys: HashMap<String, Arc<TokenManager>>,
    pub instance: String,
    pub secret: String,
    pub allowed_hosts: Vec<String>,
    pub max_concurrent: usize,
}

impl Bridge {
    pub fn new(settings: BridgeSettings) -> Self {
        Self {
            keys: settings.keys,
            instance: settings.instance,
            secret: LocalSecret::new(&settings.secret),
            allowed_hosts: settings.allowed_hosts,
            in_flight: Semaphore::new(settings.max_concurrent.max(1)),
            http: coupa_client::http::client(),
            uses: Mutex::default(),
            refused: Mutex::default(),
        }
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/_bridge/status", axum::routing::get(status))
            .route("/api/{*rest}", axum::routing::any(forward))
            .fallback(not_forwarded)
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&self),
                only_local_hosts,
            ))
            .with_state(self)
    }
}

/// Coupa's error body.
fn coupa_error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"errors": {"base": [message.into()]}})),
    )
        .into_response()
}

async fn only_local_hosts(
    State(bridge): State<Arc<Bridge>>,
    request: Request,
    next: Next,
) -> Response {
    if host_allowed(request.headers(), &bridge.allowed_hosts) {
        next.run(request).await
    } else {
        tracing::warn!(host = ?request.headers().get(axum::http::header::HOST), "bridge refused a call for another host name");
        coupa_error(
            StatusCode::FORBIDDEN,
            "the bridge answers only to localhost and the host names given with --allowed-host",
        )
    }
}

async fn not_forwarded(request: Request) -> Response {
    coupa_error(
        StatusCode::NOT_FOUND,
        format!(
            "the bridge forwards /api/... only, not {}",
            request.uri().path()
        ),
    )
}

async fn status(State(bridge): State<Arc<Bridge>>, headers: HeaderMap) -> Response {
    if !bridge.secret.admits(&headers) {
        return coupa_error(
            StatusCode::UNAUTHORIZED,
            "send Authorization: Bearer <the bridge's local secret>",
        );
    }
    let uses = bridge.uses.lock().unwrap_or_else(PoisonError::into_inner);
    let keys: Vec<_> = uses
        .iter()
        .map(|(key, usage)| json!({"key": key, "calls": usage.calls, "last_path": usage.last_path}))
        .collect();
    let refused = bridge
        .refused
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(key, attempts)| json!({"key": key, "attempts": attempts}))
        .collect::<Vec<_>>();
    axum::Json(json!({"instance": bridge.instance, "legacy_keys": keys, "refused_keys": refused}))
        .into_response()
}

fn bad_gateway(message: String) -> Response {
    tracing::warn!(%message, "bridge could not forward a call");
    coupa_error(StatusCode::BAD_GATEWAY, message)
}

async fn forward(State(bridge): State<Arc<Bridge>>, request: Request) -> Response {
    let Ok(_slot) = bridge.in_flight.try_acquire() else {
        return coupa_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the bridge is forwarding as many calls as it may at once; retry shortly",
        );
    };
    let (parts, body) = request.into_parts();
    let key = parts
        .headers
        .get(API_KEY_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(fingerprint);
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let Some((who, tokens)) = key
        .as_ref()
        .and_then(|key| bridge.keys.get(key).map(|tokens| (key.clone(), tokens)))
    else {
        let who = key.unwrap_or_else(|| "no key".into());
        tracing::warn!(legacy_key = %who, method = %parts.method, %path, "bridge refused a legacy key it was not given");
        *bridge
            .refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(who)
            .or_default() += 1;
        return coupa_error(
            StatusCode::UNAUTHORIZED,
            "the API key is not valid: the bridge forwards only the keys it was started with (--key FINGERPRINT=PROFILE)",
        );
    };
    tracing::info!(legacy_key = %who, method = %parts.method, %path, profile = %tokens.profile().name, "bridged call");
    {
        let mut uses = bridge.uses.lock().unwrap_or_else(PoisonError::into_inner);
        let usage = uses.entry(who).or_default();
        usage.calls += 1;
        usage.last_path = path.clone();
    }
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return coupa_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over {} MiB, the most the bridge buffers",
                    MAX_REQUEST_BODY / 1024 / 1024
                ),
            );
        }
    };
    let url = format!("{}{path}", tokens.profile().url);
    let mut token = match tokens.token().await {
        Ok(token) => token,
        Err(error) => {
            return bad_gateway(format!(
                "no token for profile {}: {error}",
                tokens.profile().name
            ));
        }
    };
    let mut retried = false;
    loop {
        let mut outgoing = bridge
            .http
            .request(parts.method.clone(), &url)
            .bearer_auth(token.expose())
            .body(body.clone());
        for (name, value) in &parts.headers {
            if forwarded(name.as_str(), &parts.headers) {
                outgoing = outgoing.header(name, value);
            }
        }
        let answer = match outgoing.send().await {
            Ok(answer) => answer,
            Err(error) => return bad_gateway(format!("cannot reach {url}: {error}")),
        };
        if answer.status() == reqwest::StatusCode::UNAUTHORIZED && !retried {
            retried = true;
            match tokens.force_refresh(&token).await {
                Ok(fresh) => {
                    token = fresh;
                    continue;
                }
                Err(error) => return bad_gateway(format!("token refresh failed: {error}")),
            }
        }
        return stream_back(answer);
    }
}

fn stream_back(answer: reqwest::Response) -> Response {
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if forwarded(name.as_str(), answer.headers())
            && let Ok(name) = HeaderName::from_bytes(name.as_str().as_bytes())
            && let Ok(value) = axum::http::HeaderValue::from_bytes(value.as_bytes())
        {
            headers.append(name, value);
        }
    }
    let mut response = Response::new(Body::from_stream(answer.bytes_stream()));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

pub async fn run(bridge: Bridge, listen: SocketAddr, allow_remote: bool) -> Result<(), Failure> {
    if !listen.ip().is_loopback() && !allow_remote {
        return Err(Failure::new(format!(
            "the bridge calls the API as its profiles, so it listens on loopback only, not {listen}"
        ))
        .hint("use --listen 127.0.0.1:PORT, or add --allow-remote (with --allowed-host NAME) if other machines must reach it"));
    }
    let instance = bridge.instance.clone();
    listen_and_serve(
        "the bridge",
        listen,
        |address| {
            outln!("coupa bridge: listening on http://{address} (forwarding to {instance})");
            Ok(())
        },
        |listener, shutdown| {
            axum::serve(listener, Arc::new(bridge).router())
                .with_graceful_shutdown(shutdown)
                .into_future()
        },
    )
    .await
}
