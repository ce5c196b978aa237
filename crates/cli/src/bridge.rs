//! `coupa bridge`: a reverse proxy for integrations not yet moved to OAuth 2.0 (seed 001,
//! step 5). They keep calling with `X-COUPA-API-KEY` (or with no auth); the bridge drops the
//! key, adds a fresh bearer token of the profile, forwards to the instance, streams the answer
//! back, retries once on a 401, and logs which legacy key each call came from, as a fingerprint
//! (the migration worklist). Request bodies are buffered (up to 16 MiB) so that retry can
//! resend them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use coupa_client::tokens::TokenManager;
use serde_json::json;

use crate::Failure;

const MAX_REQUEST_BODY: usize = 16 * 1024 * 1024;
const API_KEY_HEADER: &str = "x-coupa-api-key";
/// Not forwarded: hop-by-hop headers, and the credentials the bridge replaces.
const DROPPED: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "authorization",
    API_KEY_HEADER,
    "content-length",
];

#[derive(Default)]
struct KeyUse {
    calls: u64,
    last_path: String,
}

pub struct Bridge {
    default: Arc<TokenManager>,
    /// Legacy key fingerprint → the profile its calls go out as.
    mapped: HashMap<String, Arc<TokenManager>>,
    http: reqwest::Client,
    uses: Mutex<HashMap<String, KeyUse>>,
}

/// The first 12 hex digits of the key's SHA-256: enough to tell keys apart, useless to replay.
pub fn fingerprint(key: &str) -> String {
    coupa_server::cache::hex(&coupa_server::domain::secret::digest(key.trim()))[..12].to_string()
}

impl Bridge {
    pub fn new(default: Arc<TokenManager>, mapped: HashMap<String, Arc<TokenManager>>) -> Self {
        Self {
            default,
            mapped,
            http: coupa_client::http::client(),
            uses: Mutex::default(),
        }
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/_bridge/status", axum::routing::get(status))
            .fallback(forward)
            .with_state(self)
    }
}

async fn status(State(bridge): State<Arc<Bridge>>) -> Response {
    let uses = bridge.uses.lock().unwrap_or_else(PoisonError::into_inner);
    let keys: Vec<_> = uses
        .iter()
        .map(|(key, usage)| json!({"key": key, "calls": usage.calls, "last_path": usage.last_path}))
        .collect();
    axum::Json(json!({"instance": bridge.default.profile().url, "legacy_keys": keys}))
        .into_response()
}

fn bad_gateway(message: String) -> Response {
    tracing::warn!(%message, "bridge could not forward a call");
    (
        StatusCode::BAD_GATEWAY,
        axum::Json(json!({"errors": {"base": [message]}})),
    )
        .into_response()
}

async fn forward(State(bridge): State<Arc<Bridge>>, request: Request) -> Response {
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
    let tokens = key
        .as_ref()
        .and_then(|key| bridge.mapped.get(key))
        .unwrap_or(&bridge.default);
    let who = key.clone().unwrap_or_else(|| "no key".into());
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
            return (StatusCode::PAYLOAD_TOO_LARGE, "request body over 16 MiB").into_response();
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
            if !DROPPED.contains(&name.as_str()) {
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
        if !DROPPED.contains(&name.as_str())
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

pub async fn run(bridge: Bridge, listen: SocketAddr) -> Result<(), Failure> {
    if !listen.ip().is_loopback() {
        tracing::warn!(%listen, "the bridge listens beyond this machine: anyone who reaches it calls the API as the profile");
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| {
            Failure::new(format!("cannot listen on {listen}: {error}"))
                .hint("pick another port with --listen")
        })?;
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    outln!(
        "coupa bridge: listening on http://{address} (forwarding to {})",
        bridge.default.profile().url
    );
    axum::serve(listener, Arc::new(bridge).router())
        .with_graceful_shutdown(crate::serve::shutdown_signal())
        .await
        .map_err(|error| Failure::new(format!("the bridge stopped: {error}")))
}
