//! The client SDK: against `coupa serve`, and against a mock instance for the failure modes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coupa_client::api::{ApiClient, ApiError, Filters, Limiter};
use coupa_client::profile::{AuthMethod, Format, Profile, Secret};
use coupa_client::tokens::{RefreshPolicy, TokenError, TokenManager};
use coupa_server::ConfigLayer;
use serde_json::json;

use crate::support::{Backend, spawn_server_with};

fn profile(url: &str, id: &str, secret: &str, scope: Option<&str>) -> Arc<Profile> {
    Arc::new(Profile {
        name: "test".into(),
        url: url.trim_end_matches('/').into(),
        client_id: id.into(),
        client_secret: Secret::new(secret),
        scope: scope.map(str::to_string),
        accept: Format::Json,
        auth: AuthMethod::Body,
    })
}

fn quick_policy() -> RefreshPolicy {
    RefreshPolicy {
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        ..RefreshPolicy::default()
    }
}

fn client(tokens: Arc<TokenManager>) -> ApiClient {
    ApiClient::new(tokens, reqwest::Client::new(), Arc::new(Limiter::new(None)))
}

#[tokio::test]
async fn pages_a_real_server_from_offset_zero_and_misses_nothing() {
    let settings = ConfigLayer {
        demo: Some(true),
        ..ConfigLayer::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (_, credentials) = server
        .create_client("sdk", "core.invoice.read core.purchase_order.read")
        .await;
    for auth in [AuthMethod::Body, AuthMethod::Basic] {
        let mut profile = (*profile(
            &server.url,
            &credentials.id,
            &credentials.secret,
            Some("core.invoice.read"),
        ))
        .clone();
        profile.auth = auth;
        let tokens = Arc::new(TokenManager::new(
            Arc::new(profile),
            reqwest::Client::new(),
            RefreshPolicy::default(),
        ));
        let api = client(Arc::clone(&tokens));
        let mut pages = api.pages("invoices", Filters::new());
        let mut numbers = Vec::new();
        while let Some(page) = pages.next().await.unwrap() {
            numbers.extend(
                page.iter()
                    .map(|invoice| invoice["invoice-number"].as_str().unwrap().to_string()),
            );
        }
        let expected: Vec<String> = (1..=40).map(|n| format!("INV-2026-{n:04}")).collect();
        assert_eq!(
            numbers, expected,
            "{auth:?}: every demo invoice once, the first included"
        );
        let approved = Filters::new()
            .eq("status", "approved")
            .op("gross-total", "gt", "0");
        let mut pages = api.pages("invoices", approved);
        let page = pages.next().await.unwrap().unwrap();
        assert!(page.iter().all(|invoice| invoice["status"] == "approved"));
        assert_eq!(tokens.requests_sent(), 1, "one token for every call");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_with_an_expired_token_make_one_token_request() {
    let (url, mock) = spawn_mock().await;
    mock.first_token_expires_in.store(1, Ordering::SeqCst);
    let policy = RefreshPolicy {
        margin: Duration::ZERO,
        ..RefreshPolicy::default()
    };
    let (tokens, api) = mock_client(&url, policy);
    let api = Arc::new(api);
    api.get_json("things", &[]).await.unwrap();
    assert_eq!(tokens.requests_sent(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let api = Arc::clone(&api);
            tokio::spawn(async move { api.get_json("things", &[]).await })
        })
        .collect();
    for call in calls {
        let answer = call.await.unwrap().unwrap();
        assert_eq!(
            answer[0]["token"], "t2",
            "every call carries the one new token"
        );
    }
    assert_eq!(
        tokens.requests_sent(),
        2,
        "exactly one refresh for the thousand calls"
    );
    assert_eq!(mock.token_requests.load(Ordering::SeqCst), 2);
}

/// A programmable instance: token endpoint and one API resource.
#[derive(Default)]
struct Mock {
    token_requests: AtomicUsize,
    api_requests: AtomicUsize,
    /// Token requests from this number on fail with 500 (0: never).
    token_fails_from: AtomicUsize,
    token_delay_ms: AtomicUsize,
    /// The API answers these statuses first, then 200.
    api_script: std::sync::Mutex<Vec<(u16, Option<&'static str>)>>,
    /// The API refuses this token with 401.
    revoked_token: std::sync::Mutex<Option<String>>,
    /// The headers of every API call received.
    seen: std::sync::Mutex<Vec<HeaderMap>>,
    /// The API answers this much later.
    api_delay: std::sync::Mutex<Option<Duration>>,
    /// The first token's lifetime in seconds (0: the usual 86399).
    first_token_expires_in: AtomicUsize,
}

async fn mock_token(State(mock): State<Arc<Mock>>, body: String) -> Response {
    let n = mock.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::time::sleep(Duration::from_millis(
        mock.token_delay_ms.load(Ordering::SeqCst) as u64,
    ))
    .await;
    let fails_from = mock.token_fails_from.load(Ordering::SeqCst);
    if fails_from != 0 && n >= fails_from {
        return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
    }
    if body.contains("scope=core.nope") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_scope", "error_description": "not granted"})),
        )
            .into_response();
    }
    let first_lifetime = mock.first_token_expires_in.load(Ordering::SeqCst);
    let expires_in = if n == 1 && first_lifetime != 0 {
        first_lifetime
    } else {
        86_399
    };
    axum::Json(
        json!({"access_token": format!("t{n}"), "token_type": "bearer", "expires_in": expires_in}),
    )
    .into_response()
}

async fn mock_api(State(mock): State<Arc<Mock>>, headers: HeaderMap) -> Response {
    mock.api_requests.fetch_add(1, Ordering::SeqCst);
    let delay = *mock.api_delay.lock().unwrap();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    mock.seen.lock().unwrap().push(headers.clone());
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches("Bearer ")
        .to_string();
    if mock.revoked_token.lock().unwrap().as_deref() == Some(token.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Bearer error=\"invalid_token\"")],
        )
            .into_response();
    }
    let next = {
        let mut script = mock.api_script.lock().unwrap();
        (!script.is_empty()).then(|| script.remove(0))
    };
    match next {
        Some((status, retry_after)) => {
            let mut response = StatusCode::from_u16(status).unwrap().into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", seconds.parse().unwrap());
            }
            response
        }
        None => axum::Json(json!([{"id": 1, "token": token}])).into_response(),
    }
}

async fn spawn_mock() -> (String, Arc<Mock>) {
    let mock = Arc::new(Mock::default());
    let router = Router::new()
        .route("/oauth2/token", post(mock_token))
        .route("/api/things", get(mock_api))
        .with_state(Arc::clone(&mock));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, mock)
}

fn mock_client(url: &str, policy: RefreshPolicy) -> (Arc<TokenManager>, ApiClient) {
    let tokens = Arc::new(TokenManager::new(
        profile(url, "id", "secret", None),
        reqwest::Client::new(),
        policy,
    ));
    let api = client(Arc::clone(&tokens));
    (tokens, api)
}

#[tokio::test]
async fn retries_429_and_503_and_honours_retry_after() {
    let (url, mock) = spawn_mock().await;
    let (_, api) = mock_client(&url, quick_policy());
    *mock.api_script.lock().unwrap() = vec![(429, None), (503, None), (503, None)];
    let answer = api.get_json("things", &[]).await.unwrap();
    assert_eq!(answer[0]["id"], 1);
    assert_eq!(mock.api_requests.load(Ordering::SeqCst), 4);

    *mock.api_script.lock().unwrap() = vec![(429, Some("1"))];
    let started = Instant::now();
    api.get_json("things", &[]).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 is honoured"
    );

    *mock.api_script.lock().unwrap() = vec![(429, None); 10];
    match api.get_json("things", &[]).await {
        Err(ApiError::Status { status: 429, .. }) => {}
        other => panic!("gives up after its attempts: {other:?}"),
    }
}

#[tokio::test]
async fn a_401_on_a_token_thought_valid_forces_one_refresh_and_one_retry() {
    let (url, mock) = spawn_mock().await;
    let (tokens, api) = mock_client(&url, quick_policy());
    api.get_json("things", &[]).await.unwrap();
    *mock.revoked_token.lock().unwrap() = Some("t1".into());
    let answer = api.get_json("things", &[]).await.unwrap();
    assert_eq!(answer[0]["token"], "t2");
    assert_eq!(tokens.requests_sent(), 2);
    *mock.revoked_token.lock().unwrap() = Some("t2".into());
    mock.token_fails_from.store(0, Ordering::SeqCst);
    let answer = api.get_json("things", &[]).await.unwrap();
    assert_eq!(answer[0]["token"], "t3");
}

#[tokio::test]
async fn a_failing_token_endpoint_keeps_the_valid_token_in_use_and_backs_off() {
    let (url, mock) = spawn_mock().await;
    let policy = RefreshPolicy {
        refresh_after: Duration::from_millis(100),
        ..quick_policy()
    };
    let (tokens, api) = mock_client(&url, policy);
    assert_eq!(api.get_json("things", &[]).await.unwrap()[0]["token"], "t1");
    mock.token_fails_from.store(2, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        api.get_json("things", &[]).await.unwrap()[0]["token"],
        "t1",
        "still valid: still served"
    );
    assert_eq!(tokens.requests_sent(), 2);
    api.get_json("things", &[]).await.unwrap();
    assert_eq!(
        tokens.requests_sent(),
        2,
        "no new attempt before the backoff ends"
    );
}

#[tokio::test]
async fn a_slow_token_endpoint_still_gets_one_request_from_many_tasks() {
    let (url, mock) = spawn_mock().await;
    mock.token_delay_ms.store(300, Ordering::SeqCst);
    let (tokens, _) = mock_client(&url, quick_policy());
    let waiting: Vec<_> = (0..50)
        .map(|_| {
            let tokens = Arc::clone(&tokens);
            tokio::spawn(
                async move { tokens.token().await.map(|token| token.expose().to_string()) },
            )
        })
        .collect();
    for task in waiting {
        assert_eq!(task.await.unwrap().unwrap(), "t1");
    }
    assert_eq!(mock.token_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn token_failures_say_what_to_do() {
    let (url, mock) = spawn_mock().await;
    let tokens = TokenManager::new(
        profile(&url, "id", "secret", Some("core.nope.read")),
        reqwest::Client::new(),
        quick_policy(),
    );
    let error = tokens.token().await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, TokenError::Refused { .. }), "{text}");
    assert!(
        text.contains("invalid_scope") && text.contains("core.nope.read") && text.contains("Setup"),
        "{text}"
    );
    mock.token_fails_from.store(1, Ordering::SeqCst);
    let tokens = TokenManager::new(
        profile(&url, "id", "secret", None),
        reqwest::Client::new(),
        quick_policy(),
    );
    assert!(matches!(
        tokens.token().await,
        Err(TokenError::Unexpected { status: 500, .. })
    ));
    assert!(
        matches!(tokens.token().await, Err(TokenError::BackingOff(..))),
        "backs off rather than hammering"
    );
    let unreachable = TokenManager::new(
        profile("http://127.0.0.1:9", "id", "secret", None),
        reqwest::Client::new(),
        quick_policy(),
    );
    assert!(matches!(
        unreachable.token().await,
        Err(TokenError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn the_client_limiter_spreads_calls_at_the_rate() {
    let limiter = Limiter::new(Some(coupa_proto::rate::Limit {
        per_second: 20.0,
        burst: 5,
    }));
    let started = Instant::now();
    for _ in 0..15 {
        limiter.acquire().await;
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(450),
        "5 at once, then 10 at 20/s: {elapsed:?}"
    );
}

/// A legacy key's fingerprint as the bridge names it: the first 32 hex digits of its digest.
fn key_fingerprint(key: &str) -> String {
    coupa_server::cache::hex(&coupa_server::domain::secret::digest(key))[..32].to_string()
}

fn bridge_command(url: &str, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_coupa"));
    command
        .arg("bridge")
        .args(args)
        .env("COUPA_URL", url)
        .env("COUPA_CLIENT_ID", "id")
        .env("COUPA_CLIENT_SECRET", "secret")
        .env("COUPA_BRIDGE_SECRET", "bridge-secret")
        .env_remove("COUPA_PROFILE")
        .env(
            "COUPA_CONFIG",
            std::env::temp_dir().join(crate::support::unique_name("no-config-")),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    command
}

/// A bridge in front of the mock instance that accepts `legacy-key-1` and forwards at most
/// two calls at once.
struct Bridge {
    address: String,
    mock: Arc<Mock>,
    http: reqwest::Client,
    _process: tokio::process::Child,
}

impl Bridge {
    async fn start() -> Self {
        use tokio::io::AsyncBufReadExt;
        let (url, mock) = spawn_mock().await;
        let fingerprint = key_fingerprint("legacy-key-1");
        let mut process = bridge_command(
            &url,
            &[
                "--listen",
                "127.0.0.1:0",
                "--key",
                &fingerprint,
                "--max-concurrent",
                "2",
            ],
        )
        .spawn()
        .unwrap();
        let mut lines = tokio::io::BufReader::new(process.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let address = line
            .strip_prefix("coupa bridge: listening on ")
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        Self {
            address,
            mock,
            http: reqwest::Client::new(),
            _process: process,
        }
    }

    async fn call(&self, key: Option<&str>, path: &str) -> reqwest::Response {
        let mut request = self
            .http
            .get(format!("{}{path}", self.address))
            .header("Connection", "keep-alive, x-hop")
            .header("X-Hop", "private to this hop")
            .header("X-End-To-End", "kept");
        if let Some(key) = key {
            request = request.header("X-COUPA-API-KEY", key);
        }
        request.send().await.unwrap()
    }
}

#[tokio::test]
async fn the_bridge_swaps_legacy_keys_for_bearer_tokens() {
    let bridge = Bridge::start().await;
    let mock = &bridge.mock;
    let answer: serde_json::Value = bridge
        .call(Some("legacy-key-1"), "/api/things?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer[0]["token"], "t1");
    let seen = mock.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(seen["authorization"], "Bearer t1");
    assert!(
        seen.get("x-coupa-api-key").is_none(),
        "the legacy key never reaches the instance"
    );
    assert!(
        seen.get("x-hop").is_none(),
        "a header named in Connection stops here: {seen:?}"
    );
    assert_eq!(seen["x-end-to-end"], "kept");

    *mock.revoked_token.lock().unwrap() = Some("t1".into());
    let answer = bridge
        .call(Some("legacy-key-1"), "/api/things?limit=1")
        .await;
    assert_eq!(answer.status(), 200, "one refresh and one retry on a 401");
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap()[0]["token"],
        "t2"
    );
}

#[tokio::test]
async fn the_bridge_forwards_nothing_it_refuses() {
    let bridge = Bridge::start().await;
    let address = &bridge.address;
    let forwarded_before = bridge.mock.api_requests.load(Ordering::SeqCst);
    for key in [Some("someone-elses-key"), None] {
        let refused = bridge.call(key, "/api/things").await;
        assert_eq!(refused.status(), 401, "{key:?}");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert!(
            body["errors"]["base"][0]
                .as_str()
                .unwrap()
                .contains("not valid"),
            "{body}"
        );
    }
    let outside = bridge.call(Some("legacy-key-1"), "/oauth2/token").await;
    assert_eq!(outside.status(), 404, "only /api/... is forwarded");
    let rebound = bridge
        .http
        .get(format!("{address}/api/things"))
        .header("Host", "attacker.example")
        .header("X-COUPA-API-KEY", "legacy-key-1")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    // Its own client: the bridge closes this connection, which must not go back to a pool.
    let huge = reqwest::Client::new()
        .post(format!("{address}/api/things"))
        .header("X-COUPA-API-KEY", "legacy-key-1")
        .body(vec![b'x'; 5 * 1024 * 1024])
        .send()
        .await;
    match huge {
        Ok(answer) => assert_eq!(answer.status(), 413),
        // The bridge may answer and close before the client has written the whole body.
        Err(error) => assert!(error.is_request(), "{error}"),
    }
    assert_eq!(
        bridge.mock.api_requests.load(Ordering::SeqCst),
        forwarded_before,
        "nothing refused reached the instance"
    );
}

#[tokio::test]
async fn the_bridge_answers_503_past_its_concurrency_limit() {
    let bridge = Bridge::start().await;
    *bridge.mock.api_delay.lock().unwrap() = Some(Duration::from_millis(700));
    let parallel: Vec<_> = (0..5)
        .map(|_| {
            let request = reqwest::Client::new()
                .get(format!("{}/api/things", bridge.address))
                .header("X-COUPA-API-KEY", "legacy-key-1");
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for call in parallel {
        statuses.push(call.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 503).count(),
        3,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn the_bridge_worklist_names_keys_by_fingerprint_behind_its_secret() {
    let bridge = Bridge::start().await;
    for key in ["legacy-key-1", "legacy-key-1", "someone-elses-key"] {
        bridge.call(Some(key), "/api/things").await;
    }
    let address = &bridge.address;
    let refused = bridge
        .http
        .get(format!("{address}/_bridge/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "the worklist needs the local secret");
    let status: serde_json::Value = bridge
        .http
        .get(format!("{address}/_bridge/status"))
        .bearer_auth("bridge-secret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = status["legacy_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["key"] == key_fingerprint("legacy-key-1").as_str())
        .expect("the worklist names the key");
    assert!(key["calls"].as_u64().unwrap() >= 2);
    assert!(
        status["refused_keys"]
            .to_string()
            .contains(&key_fingerprint("someone-elses-key")),
        "{status}"
    );
    assert!(
        !status.to_string().contains("legacy-key-1"),
        "only fingerprints, never the key"
    );
}

#[tokio::test]
async fn the_bridge_listens_beyond_loopback_only_when_allowed() {
    let (url, _mock) = spawn_mock().await;
    let fingerprint = key_fingerprint("legacy-key-1");
    let remote = bridge_command(&url, &["--listen", "0.0.0.0:0", "--key", &fingerprint])
        .output()
        .await
        .unwrap();
    assert!(!remote.status.success());
    assert!(String::from_utf8_lossy(&remote.stderr).contains("--allow-remote"));
}

#[tokio::test]
async fn the_disk_cache_shares_one_token_between_runs_and_only_for_the_same_identity() {
    let server = spawn_server_with(Backend::Sqlite, ConfigLayer::default())
        .await
        .unwrap();
    let (_, credentials) = server
        .create_client("cached", "core.invoice.read core.expense.read")
        .await;
    let dir = std::env::temp_dir().join(crate::support::unique_name("token-cache-"));
    let file = TokenManager::disk_cache_file(&dir, "prod/../x");
    assert_eq!(file.parent().unwrap(), dir, "the name cannot escape");
    let run = |scope: Option<&str>, policy: RefreshPolicy| {
        TokenManager::new(
            profile(&server.url, &credentials.id, &credentials.secret, scope),
            reqwest::Client::new(),
            policy,
        )
        .with_disk_cache(file.clone())
    };

    let first = run(Some("core.invoice.read"), RefreshPolicy::default());
    let token = first.token().await.unwrap();
    assert_eq!(first.requests_sent(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");

    let second = run(Some("core.invoice.read"), RefreshPolicy::default());
    let info = second.token_info().await.unwrap();
    assert_eq!(info.token, token, "the next run reuses the token");
    assert_eq!(second.requests_sent(), 0);
    assert!(info.expires_in > 86_000, "{}", info.expires_in);
    assert_eq!(info.scope.as_deref(), Some("core.invoice.read"));

    let other_scope = run(Some("core.expense.read"), RefreshPolicy::default());
    assert_ne!(other_scope.token().await.unwrap(), token);
    assert_eq!(other_scope.requests_sent(), 1, "another scope list mints");

    let old_enough = RefreshPolicy {
        refresh_after: Duration::ZERO,
        ..RefreshPolicy::default()
    };
    let due = run(Some("core.expense.read"), old_enough);
    due.token().await.unwrap();
    assert_eq!(
        due.requests_sent(),
        1,
        "a token due for refresh is not reused"
    );

    std::fs::write(&file, b"{not json").unwrap();
    let corrupt = run(None, RefreshPolicy::default());
    corrupt.token().await.unwrap();
    assert_eq!(
        corrupt.requests_sent(),
        1,
        "a damaged file is ignored and replaced"
    );
    let replaced: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(replaced["client_id"], credentials.id.as_str());
}

/// npm `oidc-provider` as a third-party authorization server, killed when dropped.
struct OidcProviderPeer {
    url: String,
    _process: tokio::process::Child,
}

async fn spawn_oidc_provider(id: &str, secret: &str, scope: &str, ttl: u64) -> OidcProviderPeer {
    use tokio::io::AsyncBufReadExt;
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/node/oidc-provider-peer.mjs");
    let mut process = tokio::process::Command::new("node")
        .arg(script)
        .args([id, secret, scope, &ttl.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (scripts/test installs the peers)");
    let stdout = process.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let port = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("oidc-provider starts")
        .unwrap()
        .expect("the peer prints its port");
    // The provider prints notices later; a closed pipe would kill it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    OidcProviderPeer {
        url: format!("http://127.0.0.1:{}", port.trim()),
        _process: process,
    }
}

async fn peer_says_active(peer: &OidcProviderPeer, client_id: &str, token: &Secret) -> bool {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oauth2/introspect", peer.url))
        .basic_auth(client_id, Some("peer-secret"))
        .form(&[("token", token.expose())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["active"] == true
}

#[tokio::test]
async fn acquires_and_refreshes_tokens_from_oidc_provider() {
    let peer = spawn_oidc_provider(
        "sdk",
        "peer-secret",
        "core.invoice.read core.expense.read",
        3,
    )
    .await;
    for (client_id, auth) in [("sdk", AuthMethod::Body), ("sdk-basic", AuthMethod::Basic)] {
        let mut profile = (*profile(
            &peer.url,
            client_id,
            "peer-secret",
            Some("core.invoice.read"),
        ))
        .clone();
        profile.auth = auth;
        let policy = RefreshPolicy {
            margin: Duration::from_secs(2),
            ..quick_policy()
        };
        let tokens = TokenManager::new(Arc::new(profile), reqwest::Client::new(), policy);
        let info = tokens.token_info().await.unwrap();
        assert!((1..=3).contains(&info.expires_in), "{}", info.expires_in);
        assert_eq!(info.scope.as_deref(), Some("core.invoice.read"));
        assert!(peer_says_active(&peer, client_id, &info.token).await);
        assert_eq!(
            tokens.token().await.unwrap(),
            info.token,
            "{auth:?}: cached"
        );
        assert_eq!(tokens.requests_sent(), 1);

        tokio::time::sleep(Duration::from_millis(1200)).await;
        let fresh = tokens.token().await.unwrap();
        assert_ne!(fresh, info.token, "{auth:?}: refreshed inside the margin");
        assert_eq!(tokens.requests_sent(), 2);
        assert!(peer_says_active(&peer, client_id, &fresh).await);

        let forced = tokens.force_refresh(&fresh).await.unwrap();
        assert_ne!(forced, fresh);
        assert_eq!(tokens.requests_sent(), 3);
    }

    let wider = TokenManager::new(
        profile(&peer.url, "sdk", "peer-secret", Some("core.user.read")),
        reqwest::Client::new(),
        quick_policy(),
    );
    match wider.token().await {
        Err(TokenError::Refused {
            status: 400,
            error,
            hint: Some(hint),
            ..
        }) => {
            assert_eq!(error, "invalid_scope");
            assert!(hint.contains("core.user.read"), "{hint}");
        }
        other => panic!("expected invalid_scope, got {other:?}"),
    }
    let wrong_secret = TokenManager::new(
        profile(&peer.url, "sdk", "not-the-secret", None),
        reqwest::Client::new(),
        quick_policy(),
    );
    assert!(matches!(
        wrong_secret.token().await,
        Err(TokenError::Refused { status: 401, ref error, .. }) if error == "invalid_client"
    ));
}

#[tokio::test]
async fn typed_records_stream_read_write_and_act_against_a_real_server() {
    use coupa_client::objects::{Invoice, PurchaseOrder, Supplier};
    use futures_util::TryStreamExt;

    let settings = ConfigLayer {
        demo: Some(true),
        ..ConfigLayer::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (_, credentials) = server
        .create_client(
            "typed",
            "core.invoice.read core.supplier.read core.supplier.write core.purchase_order.read core.purchase_order.write core.common.read",
        )
        .await;
    let tokens = Arc::new(TokenManager::new(
        profile(&server.url, &credentials.id, &credentials.secret, None),
        reqwest::Client::new(),
        RefreshPolicy::default(),
    ));
    let api = client(Arc::clone(&tokens));

    let invoices: Vec<Invoice> = api.list(Filters::new()).try_collect().await.unwrap();
    assert_eq!(invoices.len(), 40, "every page, from offset 0");
    let first = &invoices[0];
    assert_eq!(first.invoice_number.as_deref(), Some("INV-2026-0001"));
    assert!(first.supplier.as_ref().and_then(|s| s.id).is_some());
    let lines = first.invoice_lines.as_ref().unwrap();
    assert!(!lines.is_empty() && lines[0].line_num == Some(1));
    assert!(
        first.other.contains_key("created-by"),
        "unnamed fields are kept: {:?}",
        first.other.keys()
    );
    assert_eq!(&api.get::<Invoice>(first.id.unwrap()).await.unwrap(), first);
    let approved: Vec<Invoice> = api
        .list(Filters::new().eq("status", "approved"))
        .try_collect()
        .await
        .unwrap();
    assert!(
        !approved.is_empty()
            && approved
                .iter()
                .all(|i| i.status.as_deref() == Some("approved"))
    );

    let created = api
        .create(&Supplier {
            name: Some("Typed Supplies".into()),
            number: Some("SUP-TYPED".into()),
            ..Supplier::default()
        })
        .await
        .unwrap();
    let id = created.id.expect("the server assigns an id");
    assert_eq!(created.name.as_deref(), Some("Typed Supplies"));
    let changed = api
        .update(
            id,
            &Supplier {
                website: Some("https://typed.example".into()),
                ..Supplier::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.website.as_deref(), Some("https://typed.example"));
    assert_eq!(
        changed.name.as_deref(),
        Some("Typed Supplies"),
        "untouched fields stay"
    );

    let draft = api
        .list::<PurchaseOrder>(Filters::new().eq("status", "draft"))
        .try_next()
        .await
        .unwrap()
        .expect("the demo has draft orders");
    let issued = api
        .act::<PurchaseOrder>(draft.id.unwrap(), "issue")
        .await
        .unwrap();
    assert_eq!(issued.status.as_deref(), Some("issued"));
    match api
        .act::<PurchaseOrder>(draft.id.unwrap(), "release_from_buyer_hold")
        .await
    {
        Err(ApiError::Status { status: 422, .. }) => {}
        other => panic!("an illegal transition is a 422, got {other:?}"),
    }

    let currencies: Vec<serde_json::Value> = api
        .records("currencies", Filters::new())
        .try_collect()
        .await
        .unwrap();
    assert!(currencies.iter().any(|c| c["code"] == "USD"));
}

#[tokio::test]
async fn preflight_names_the_missing_scope_before_any_call() {
    let server = spawn_server_with(Backend::Sqlite, ConfigLayer::default())
        .await
        .unwrap();
    let (_, credentials) = server
        .create_client("narrow", "core.invoice.read core.supplier.read")
        .await;
    let tokens = Arc::new(TokenManager::new(
        profile(
            &server.url,
            &credentials.id,
            &credentials.secret,
            Some("core.invoice.read"),
        ),
        reqwest::Client::new(),
        RefreshPolicy::default(),
    ));
    let api = client(tokens);
    api.preflight("GET", "invoices/42").await.unwrap();
    api.preflight("GET", "not_in_the_catalogue").await.unwrap();
    match api.preflight("PUT", "suppliers/3").await {
        Err(error @ ApiError::MissingScope { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains("PUT /api/suppliers/3")
                    && message.contains("core.supplier.write")
                    && message.contains("`core.invoice.read`"),
                "{message}"
            );
        }
        other => panic!("expected MissingScope, got {other:?}"),
    }
}
