//! What an attacker or an unlucky operator tried, kept closed: scope removal and client
//! deactivation reaching issued tokens and grants, introspection rights, codes presented by
//! the wrong client, http redirect URIs, the benchmark route, parameter floods, cookies and
//! headers, throttled sign-ins, sealed keys and a private database, the SDK's redirects and
//! files, replicas, and a full disk.

use coupa_proto::admin::{CreateClient, UpdateClient};
use reqwest::StatusCode;
use serde_json::Value;

use crate::interactive::{
    REDIRECT, ada_signed_in, authorize, authorize_url, device_poll, exchange_code, introspect,
    jwt_claims, public_device_client, query_of, refresh_tokens, sign_in_for_tokens,
    user_and_client,
};
use crate::support::{Backend, spawn_server, spawn_server_with};
use crate::support::{Browser, hidden_fields};

fn scopes_of(token: &str) -> Vec<String> {
    jwt_claims(token)["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(str::to_string)
        .collect()
}

async fn set_scope(server: &crate::support::TestServer, client_id: &str, scope: &str) {
    server
        .admin
        .update_client(
            client_id,
            &UpdateClient {
                scope: Some(scope.into()),
                ..UpdateClient::default()
            },
        )
        .await
        .unwrap();
}

async fn set_active(server: &crate::support::TestServer, client_id: &str, active: bool) {
    server
        .admin
        .update_client(
            client_id,
            &UpdateClient {
                active: Some(active),
                ..UpdateClient::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn removing_a_scope_takes_it_from_tokens_already_issued() {
    let server = spawn_server().await;
    let (view, client) = server
        .create_client("sync", "core.invoice.read core.supplier.read")
        .await;
    let token = server.access_token(&client, None).await;
    let suppliers = |token: String| {
        let server = &server;
        async move {
            server
                .api(reqwest::Method::GET, "/api/suppliers", Some(&token), None)
                .await
                .status()
        }
    };
    assert_eq!(suppliers(token.clone()).await, StatusCode::OK);
    set_scope(&server, &view.client_id, "core.invoice.read").await;
    assert_eq!(
        suppliers(token.clone()).await,
        StatusCode::FORBIDDEN,
        "a token minted before the change no longer reads suppliers"
    );
    assert_eq!(server.list_invoices(&token).await.status(), StatusCode::OK);
    let seen = introspect(&server, &client.id, &client.secret, &token).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["scope"], "core.invoice.read", "{seen}");
}

#[tokio::test]
async fn a_refresh_never_hands_out_a_scope_the_client_lost() {
    let server = spawn_server().await;
    let (client_id, secret, _, tokens) = ada_signed_in(&server).await;
    assert!(
        scopes_of(tokens["access_token"].as_str().unwrap()).contains(&"core.invoice.read".into())
    );
    set_scope(
        &server,
        &client_id,
        "openid profile email login offline_access",
    )
    .await;
    let (status, refreshed) = refresh_tokens(
        &server,
        tokens["refresh_token"].as_str().unwrap(),
        &client_id,
        &secret,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let scopes = scopes_of(refreshed["access_token"].as_str().unwrap());
    assert!(!scopes.contains(&"core.invoice.read".into()), "{scopes:?}");
    assert_eq!(refreshed["scope"], "openid profile email offline_access");
    let (status, refused) = refresh_tokens(
        &server,
        refreshed["refresh_token"].as_str().unwrap(),
        &client_id,
        &secret,
        Some("core.invoice.read"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "invalid_scope", "{refused}");
}

#[tokio::test]
async fn refresh_tokens_codes_and_device_codes_die_with_a_deactivation() {
    let server = spawn_server().await;
    let (client_id, secret, mut browser, tokens) = ada_signed_in(&server).await;
    let redirect = authorize(&mut browser, &authorize_url(&client_id, &[]), "allow").await;
    let code = query_of(&redirect)["code"].clone();
    let device_client = public_device_client(&server, "openid core.invoice.read").await;
    let started: Value = server
        .http
        .post(server.url(&format!(
            "/oauth2/device_authorizations?client_id={}&scope=openid",
            device_client.client_id
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Off and on again, in a later second than every issue above.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for id in [&client_id, &device_client.client_id] {
        set_active(&server, id, false).await;
        set_active(&server, id, true).await;
    }
    let (status, refused) = refresh_tokens(
        &server,
        tokens["refresh_token"].as_str().unwrap(),
        &client_id,
        &secret,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "invalid_grant");
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .contains("deactivated")
    );
    let seen = introspect(
        &server,
        &client_id,
        &secret,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(seen["active"], false, "{seen}");
    let (status, refused) =
        exchange_code(&server, &code, &client_id, Some(&secret), Some(REDIRECT)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "invalid_grant");
    let (status, refused) = device_poll(
        &server,
        &device_client.client_id,
        started["device_code"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "invalid_grant", "{refused}");
    // What the client is issued after the reactivation (from the next second on) works.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = sign_in_for_tokens(&server, &mut browser, &client_id, &secret).await;
    assert!(fresh["refresh_token"].is_string());
}

#[tokio::test]
async fn introspection_is_for_confidential_clients_and_their_own_tokens() {
    let server = spawn_server().await;
    let (_, owner) = server.create_client("owner", "core.invoice.read").await;
    let (other_view, other) = server.create_client("other", "core.invoice.read").await;
    let token = server.access_token(&owner, None).await;
    let public = server
        .admin
        .create_client(&CreateClient {
            name: "Public".into(),
            login: "public-app".into(),
            grant_type: "authorization_code".into(),
            scope: "openid offline_access".into(),
            redirect_uris: vec![REDIRECT.into()],
            pkce: true,
            ..CreateClient::default()
        })
        .await
        .unwrap();
    let by_public = server
        .http
        .post(server.url("/oauth2/introspect"))
        .form(&[("token", token.as_str()), ("client_id", &public.client_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(by_public.status(), StatusCode::UNAUTHORIZED);
    let body: Value = by_public.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(
        introspect(&server, &owner.id, &owner.secret, &token).await["active"],
        true
    );
    assert_eq!(
        introspect(&server, &other.id, &other.secret, &token).await,
        serde_json::json!({"active": false}),
        "another client's token looks inactive"
    );
    let changed = server
        .admin
        .update_client(
            &other_view.client_id,
            &UpdateClient {
                introspect_any_token: Some(true),
                ..UpdateClient::default()
            },
        )
        .await
        .unwrap();
    assert!(changed.introspect_any_token);
    let seen = introspect(&server, &other.id, &other.secret, &token).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["client_id"], owner.id.as_str());
}

#[tokio::test]
async fn a_code_presented_by_another_client_is_not_spent_and_redirect_uri_must_repeat() {
    let server = spawn_server().await;
    let (client_id, secret) = user_and_client(&server, false).await;
    let secret = secret.unwrap();
    let thief = server
        .admin
        .create_client(&CreateClient {
            name: "Thief".into(),
            login: "thief".into(),
            grant_type: "authorization_code".into(),
            scope: "openid offline_access core.invoice.read".into(),
            redirect_uris: vec!["https://thief.example/cb".into()],
            ..CreateClient::default()
        })
        .await
        .unwrap();
    let mut browser = Browser::new(&server.url);
    let redirect = authorize(&mut browser, &authorize_url(&client_id, &[]), "allow").await;
    let code = query_of(&redirect)["code"].clone();
    let (status, stolen) = exchange_code(
        &server,
        &code,
        &thief.client_id,
        thief.client_secret.as_deref(),
        Some(REDIRECT),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(stolen["error"], "invalid_grant");
    let (status, missing) = exchange_code(&server, &code, &client_id, Some(&secret), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        missing["error_description"]
            .as_str()
            .unwrap()
            .contains("redirect_uri is missing"),
        "{missing}"
    );
    // The failed attempts above spent the code; the rightful client starts again.
    let redirect = authorize(&mut browser, &authorize_url(&client_id, &[]), "allow").await;
    let code = query_of(&redirect)["code"].clone();
    let (status, _) = exchange_code(
        &server,
        &code,
        &thief.client_id,
        thief.client_secret.as_deref(),
        Some(REDIRECT),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, tokens) =
        exchange_code(&server, &code, &client_id, Some(&secret), Some(REDIRECT)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the rightful client still redeems it: {tokens}"
    );
    let seen = introspect(
        &server,
        &client_id,
        &secret,
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        seen["active"], true,
        "and its grant was not revoked as a replay"
    );
}

#[tokio::test]
async fn http_redirect_uris_are_for_loopback_hosts_unless_the_server_allows_them() {
    let input = |uri: &str| CreateClient {
        name: "Web app".into(),
        login: "web-app".into(),
        grant_type: "authorization_code".into(),
        scope: "openid offline_access".into(),
        redirect_uris: vec![uri.into()],
        ..CreateClient::default()
    };
    let server = spawn_server().await;
    let refused = server
        .http
        .post(server.url("/admin/api/clients"))
        .bearer_auth(crate::support::ADMIN_TOKEN)
        .json(&input("http://app.example.com/cb"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    let message = body["errors"]["redirect_uris"][0].as_str().unwrap();
    assert!(message.contains("--allow-http-redirect-uris"), "{message}");
    server
        .admin
        .create_client(&input("http://127.0.0.1:8765/cb"))
        .await
        .expect("loopback http is fine");
    let allowing = spawn_server_with(
        Backend::Sqlite,
        coupa_server::ConfigLayer {
            allow_http_redirect_uris: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    allowing
        .admin
        .create_client(&input("http://app.example.com/cb"))
        .await
        .expect("allowed by the setting");
}

#[tokio::test]
async fn the_benchmark_route_is_not_in_a_build_without_its_feature() {
    let server = spawn_server_with(
        Backend::Sqlite,
        coupa_server::ConfigLayer {
            unauthenticated_api_for_benchmarks: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let response = server
        .http
        .get(server.url("/bench/api/invoices"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn thousands_of_parameters_are_refused_quickly_with_a_400() {
    let server = spawn_server().await;
    let mut body = String::from("grant_type=client_credentials");
    for index in 0..7_000 {
        body.push_str(&format!("&p{index}=x"));
    }
    assert!(body.len() > 50 * 1024 && body.len() < 64 * 1024);
    let started = std::time::Instant::now();
    let response = server
        .http
        .post(server.url("/oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "invalid_request");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("more than 500 parameters"),
        "{error}"
    );
    assert!(
        elapsed < std::time::Duration::from_millis(500),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn deep_association_filters_are_a_400_naming_the_filter_never_a_503() {
    let (server, token) = crate::support::api_server(Backend::Sqlite).await.unwrap();
    let chain = |hops: usize| {
        let mut name = String::from("invoice_lines");
        for _ in 1..hops {
            name.push_str("[invoice][invoice_lines]");
        }
        format!("/api/invoices?{name}[id]=1")
    };
    let shallow = server
        .api(reqwest::Method::GET, &chain(2), Some(&token), None)
        .await;
    assert_eq!(
        shallow.status(),
        StatusCode::OK,
        "{:?}",
        shallow.text().await
    );
    let deep = server
        .api(reqwest::Method::GET, &chain(60), Some(&token), None)
        .await;
    assert_eq!(deep.status(), StatusCode::BAD_REQUEST);
    let body: Value = deep.json().await.unwrap();
    let message = body["errors"]["base"][0].as_str().unwrap();
    assert!(
        message.starts_with("invoice_lines[invoice]") && message.contains("at most 4 associations"),
        "{message}"
    );
}

#[tokio::test]
async fn a_closed_stdout_ends_a_listing_quietly_and_logs_have_no_colours_off_a_terminal() {
    let server = spawn_server_with(
        Backend::Sqlite,
        coupa_server::ConfigLayer {
            demo: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (_, client) = server.create_client("lister", "core.invoice.read").await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_coupa"))
        .args(["api", "list", "invoices", "--all", "--output", "jsonl"])
        .env("COUPA_URL", &server.url)
        .env("COUPA_CLIENT_ID", &client.id)
        .env("COUPA_CLIENT_SECRET", &client.secret)
        .env_remove("COUPA_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the first record is written, as `| head -0` would.
    drop(child.stdout.take());
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");

    let (child, _, log) = crate::support::serve_logging_to_a_file(
        &crate::support::fresh_sqlite_url(),
        &["--log-format", "text"],
    )
    .await;
    crate::support::terminate(child).await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("INFO"), "{logged}");
    assert!(
        !logged.contains('\u{1b}'),
        "ANSI escapes in a log file: {logged:?}"
    );
}

/// Off a terminal, `coupa serve` writes one JSON line per request to stderr: method, route
/// template, status, latency, the caller and the request id (taken from `X-Request-Id` and
/// returned, or generated), and never a secret or a token.
#[tokio::test]
async fn the_access_log_has_one_json_line_per_request_and_no_secrets() {
    let (child, url, log) = crate::support::serve_logging_to_a_file(
        &crate::support::fresh_sqlite_url(),
        &["--log-format", "auto"],
    )
    .await;
    let client = crate::support::create_client_with_cli(&url, "logged", "core.invoice.read").await;
    let (id, secret) = (client.id.as_str(), client.secret.as_str());
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{url}/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = token["access_token"].as_str().unwrap();
    let listed = http
        .get(format!("{url}/api/invoices?limit=1"))
        .bearer_auth(access_token)
        .header("Accept", "application/json")
        .header("X-Request-Id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(
        listed.headers()["x-request-id"],
        "trace-42",
        "returned as sent"
    );
    let health = http.get(format!("{url}/healthz")).send().await.unwrap();
    let generated = health.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(generated.len(), 32, "a random id: {generated}");
    crate::support::terminate(child).await;

    let logged = std::fs::read_to_string(&log).unwrap();
    for secret in [secret, access_token, crate::support::ADMIN_TOKEN] {
        assert!(!logged.contains(secret), "a secret in the log: {logged}");
    }
    let access: Vec<Value> = logged
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap_or_else(|_| panic!("not JSON: {line}"))
        })
        .filter(|line| line["target"] == "coupa::access")
        .collect();
    let by_id = |request_id: &str| {
        access
            .iter()
            .find(|line| line["request_id"] == request_id)
            .unwrap_or_else(|| panic!("no access line for {request_id}: {logged}"))
    };
    let list = by_id("trace-42");
    assert_eq!(list["method"], "GET");
    assert_eq!(list["route"], "/api/{object}");
    assert_eq!(list["client_id"], id);
    assert_eq!(list["status"], 200);
    assert!(list["latency_ms"].as_f64().unwrap() > 0.0);
    let health = by_id(&generated);
    assert_eq!(
        (&health["route"], &health["status"]),
        (&json_str("/healthz"), &Value::from(200))
    );
    let minted = access
        .iter()
        .find(|line| line["route"] == "/oauth2/token")
        .unwrap();
    assert_eq!(
        (&minted["client_id"], &minted["status"]),
        (&json_str(id), &Value::from(200))
    );
    assert_eq!(
        access
            .iter()
            .filter(|line| line["route"] == "/api/{object}")
            .count(),
        1,
        "one line per request"
    );
}

fn json_str(text: &str) -> Value {
    Value::String(text.to_string())
}

/// A server on 127.0.0.1 at its own port (so its own origin), built from `router`.
async fn mock(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test]
async fn the_sdk_never_follows_a_token_redirect_and_keeps_api_redirects_on_one_origin() {
    use axum::response::{IntoResponse, Redirect};
    use axum::routing::{any, get, post};
    use coupa_client::api::{ApiClient, Limiter};
    use coupa_client::profile::{AuthMethod, Format, Profile, Secret};
    use coupa_client::tokens::{RefreshPolicy, TokenError, TokenManager};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let stolen = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&stolen);
    let attacker = mock(axum::Router::new().route(
        "/{*path}",
        any(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            async { "[]" }
        }),
    ))
    .await;
    let token_to = format!("{attacker}/oauth2/token");
    let redirecting = mock(axum::Router::new().route(
        "/oauth2/token",
        post(move || async move { Redirect::temporary(&token_to).into_response() }),
    ))
    .await;
    let api_to = format!("{attacker}/api/invoices");
    let instance = mock(
        axum::Router::new()
            .route(
                "/oauth2/token",
                post(|| async {
                    axum::Json(serde_json::json!({
                        "access_token": "t0k3n", "token_type": "bearer", "expires_in": 86399
                    }))
                }),
            )
            .route(
                "/api/invoices",
                get(move || async move { Redirect::to(&api_to).into_response() }),
            )
            .route(
                "/api/suppliers",
                get(|| async { Redirect::to("/api/moved") }),
            )
            .route(
                "/api/moved",
                get(|| async { axum::Json(serde_json::json!([])) }),
            ),
    )
    .await;
    let profile = |url: &str| {
        Arc::new(Profile {
            name: "test".into(),
            url: url.into(),
            client_id: "id".into(),
            client_secret: Secret::new("the-secret"),
            scope: None,
            accept: Format::Json,
            auth: AuthMethod::Body,
        })
    };
    let tokens = TokenManager::new(
        profile(&redirecting),
        coupa_client::http::client(),
        RefreshPolicy::default(),
    );
    let error = tokens.token().await.unwrap_err();
    assert!(
        matches!(&error, TokenError::Redirected { status: 307, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("never redirected"), "{error}");
    let tokens = Arc::new(TokenManager::new(
        profile(&instance),
        coupa_client::http::client(),
        RefreshPolicy::default(),
    ));
    let api = ApiClient::new(
        tokens,
        coupa_client::http::client(),
        Arc::new(Limiter::new(None)),
    );
    assert!(
        api.get_json("suppliers", &[]).await.is_ok(),
        "same-origin redirects are followed"
    );
    assert!(api.get_json("invoices", &[]).await.is_err());
    assert_eq!(
        stolen.load(Ordering::SeqCst),
        0,
        "nothing reached the other origin"
    );

    let mut file = coupa_client::profile::ProfileFile::default();
    file.profiles.insert(
        "prod".into(),
        coupa_client::profile::ProfileEntry {
            url: "http://acme.coupahost.com".into(),
            client_id: "id".into(),
            client_secret: Some("s".into()),
            ..Default::default()
        },
    );
    let refused = file.profile("prod").unwrap_err().to_string();
    assert!(
        refused.contains("use https://") && refused.contains("127.0.0.1"),
        "{refused}"
    );
}

#[cfg(unix)]
#[test]
fn private_files_cannot_be_redirected_by_a_planted_symlink_nor_kept_in_a_shared_directory() {
    use coupa_client::profile::{ProfileFile, write_private};
    use std::os::unix::fs::PermissionsExt;
    let root = std::env::temp_dir().join(crate::support::unique_name("coupa-private-"));
    std::fs::create_dir_all(&root).unwrap();
    let victim = root.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let dir = root.join("config");
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("config.toml");
    // The temporary name an earlier version used, planted as a symlink to the victim.
    let planted = target.with_extension(format!("tmp{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    write_private(&target, b"[profiles]\n").unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(
        std::fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        !std::fs::symlink_metadata(&target)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let nested = root.join("new").join("tokens").join("dev.json");
    write_private(&nested, b"{}").unwrap();
    for dir in [root.join("new"), root.join("new").join("tokens")] {
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let refused = write_private(&target, b"x").unwrap_err().to_string();
    assert!(
        refused.contains("writable by other users") && refused.contains("chmod 700"),
        "{refused}"
    );
    let refused = ProfileFile::load(&target).unwrap_err().to_string();
    assert!(refused.contains("writable by other users"), "{refused}");
}

#[tokio::test]
async fn sessions_bind_their_csrf_token_end_on_a_new_sign_in_and_pages_send_protective_headers() {
    let https = spawn_server_with(
        Backend::Sqlite,
        coupa_server::ConfigLayer {
            issuer: Some("https://coupa.example.com".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let login = https
        .http
        .get(https.url("/oauth2/login"))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("__Host-coupa_csrf=")
            && cookie.contains("; Secure")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert_eq!(
        login.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let api = https
        .http
        .get(https.url("/api/invoices"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        api.headers()["strict-transport-security"],
        "max-age=31536000"
    );

    let server = spawn_server().await;
    let (client_id, _) = user_and_client(&server, false).await;
    let (_, machine) = server.create_client("reader", "core.invoice.read").await;
    let token = server.access_token(&machine, None).await;
    let listed = server.list_invoices(&token).await;
    assert_eq!(listed.headers()["x-content-type-options"], "nosniff");
    assert!(
        listed.headers().get("strict-transport-security").is_none(),
        "no HSTS over http"
    );

    let mut browser = Browser::new(&server.url);
    let first = sign_in(&mut browser).await;
    let second = sign_in(&mut browser).await;
    assert_ne!(first, second);
    let with_first = server
        .http
        .get(server.url("/oauth2/signed-in"))
        .header("Cookie", format!("coupa_session={first}"))
        .send()
        .await
        .unwrap();
    assert!(
        with_first.url().path().starts_with("/oauth2/login"),
        "the first session ended"
    );

    // Signed in, the form token comes from the session: the pre-sign-in cookie is not needed.
    browser.forget_cookie("coupa_csrf");
    let consent = browser.get(&authorize_url(&client_id, &[])).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    let policy = consent.headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("form-action 'self' https://app.example"),
        "{policy}"
    );
    let mut form = hidden_fields(&consent.body);
    form.push(("decision".into(), "allow".into()));
    let decided = browser.post("/oauth2/authorize", &form).await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    assert!(decided.location.unwrap().starts_with(REDIRECT));
}

/// Signs Ada in through the login page (checking its CSP); the session cookie it got.
async fn sign_in(browser: &mut Browser) -> String {
    use crate::interactive::PASSWORD;
    let page = browser.get("/oauth2/login").await;
    let policy = page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        policy.contains("form-action 'self'") && policy.contains("base-uri 'none'"),
        "{policy}"
    );
    assert!(
        policy.contains("style-src 'self'") && !policy.contains("unsafe-inline"),
        "one stylesheet, no inline style: {policy}"
    );
    let mut form = hidden_fields(&page.body);
    form.push(("login".into(), "ada".into()));
    form.push(("password".into(), PASSWORD.into()));
    let signed_in = browser.post("/oauth2/login", &form).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .find_map(|value| {
            let value = value.to_str().unwrap();
            value
                .strip_prefix("coupa_session=")
                .map(|rest| rest.split(';').next().unwrap().to_string())
        })
        .unwrap()
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_is_private_and_its_signing_keys_sealed() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let url = crate::support::fresh_sqlite_url();
    let server = crate::support::spawn_on(&url, Default::default()).await;
    let (_, client) = server.create_client("sealed", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    assert_eq!(server.list_invoices(&token).await.status(), StatusCode::OK);
    let database = coupa_server::store::database_file(&url).unwrap();
    let name = database.to_str().unwrap().to_string();
    for file in [name.clone(), format!("{name}-wal"), format!("{name}-shm")] {
        assert_eq!(mode(std::path::Path::new(&file)), 0o600, "{file}");
    }
    let kek_file = format!("{name}.key-encryption-key");
    assert_eq!(mode(std::path::Path::new(&kek_file)), 0o600);
    let kek = coupa_server::key_encryption::KeyEncryptionKey::parse(
        &std::fs::read_to_string(&kek_file).unwrap(),
    )
    .unwrap();
    let store = coupa_server::store::open(&url).await.unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2, "ES256 and RS256");
    for key in &keys {
        assert_eq!(key.kek_id.as_deref(), Some(kek.id()));
        let opened = kek.open(&key.private_key, &key.kid).unwrap();
        assert_ne!(
            opened, key.private_key,
            "what the database holds is not the key"
        );
        assert!(
            key.alg != "ES256"
                || aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &key.private_key
                )
                .is_err()
        );
    }
    drop(server);

    // Another key encryption key cannot open them, and says which one can.
    let config = |url: &str, kek: Option<&str>| {
        let mut config = coupa_server::Config::resolve(
            coupa_server::ConfigLayer {
                database_url: Some(url.into()),
                listen: Some("127.0.0.1:0".into()),
                ..Default::default()
            },
            Some(crate::support::ADMIN_TOKEN.into()),
        )
        .unwrap();
        config.key_encryption_key = kek.map(Into::into);
        config
    };
    let wrong = coupa_server::App::prepare(config(&url, Some(&"ab".repeat(32))))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        wrong.contains(kek.id()) && wrong.contains("COUPA_KEY_ENCRYPTION_KEY"),
        "{wrong}"
    );

    // A database others may read is refused at start, with the fix.
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = coupa_server::App::prepare(config(&url, None))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(refused.contains("chmod 600"), "{refused}");
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o600)).unwrap();

    // PostgreSQL replicas must be given the key.
    if let Some(postgres) = crate::support::fresh_postgres_url().await {
        let refused = coupa_server::App::prepare(config(&postgres, None))
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("COUPA_KEY_ENCRYPTION_KEY"), "{refused}");
    }
}

#[tokio::test]
async fn a_signing_key_stored_in_clear_by_an_earlier_version_is_sealed_at_start() {
    let url = crate::support::fresh_sqlite_url();
    let store = coupa_server::store::open(&url).await.unwrap();
    for alg in [
        coupa_server::keys::Algorithm::Es256,
        coupa_server::keys::Algorithm::Rs256,
    ] {
        let first = coupa_server::domain::key_schedule::NewKey {
            alg: alg.as_str().into(),
            generation: 1,
            activate_at: 1,
        };
        let key = coupa_server::keys::generate(alg, &first, 1).unwrap();
        assert!(store.insert_signing_key(&key).await.unwrap());
    }
    let in_clear = store.signing_keys().await.unwrap();
    let server = crate::support::spawn_on(&url, Default::default()).await;
    let (_, client) = server.create_client("legacy", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    let kid = crate::support::jwt_kid(&token);
    assert!(
        in_clear.iter().any(|key| key.kid == kid),
        "the old key still signs"
    );
    assert_eq!(server.list_invoices(&token).await.status(), StatusCode::OK);
    for key in store.signing_keys().await.unwrap() {
        let before = in_clear.iter().find(|old| old.kid == key.kid).unwrap();
        assert!(key.kek_id.is_some());
        assert_ne!(key.private_key, before.private_key);
    }
}

/// Posts the sign-in form with `password`; the status of the answer.
async fn try_password(browser: &mut Browser, login: &str, password: &str) -> crate::support::Page {
    let page = browser.get("/oauth2/login").await;
    let mut form = hidden_fields(&page.body);
    form.push(("login".into(), login.into()));
    form.push(("password".into(), password.into()));
    browser.post("/oauth2/login", &form).await
}

#[tokio::test]
async fn repeated_failed_sign_ins_lock_the_login_and_the_address_on_every_replica() {
    use crate::interactive::PASSWORD;
    let server = spawn_server().await;
    user_and_client(&server, false).await;
    let mut browser = Browser::new(&server.url);
    for _ in 0..5 {
        let wrong = try_password(&mut browser, "ada", "not the password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let locked = try_password(&mut browser, "ADA", PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password"
    );
    assert!(
        locked.body.contains("Sign-in is locked for a minute"),
        "{}",
        locked.body
    );
    assert_eq!(locked.headers["retry-after"], "30");
    let replica = crate::support::spawn_on(&server.database_url, Default::default()).await;
    let mut elsewhere = Browser::new(&replica.url);
    assert_eq!(
        try_password(&mut elsewhere, "ada", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the other replica sees the lock"
    );
    // The lock ends (its time moved into the past): the right password works again.
    let pool = sqlx::SqlitePool::connect(&server.database_url)
        .await
        .unwrap();
    sqlx::query("UPDATE sign_in_failures SET locked_until = 0")
        .execute(&pool)
        .await
        .unwrap();
    let signed_in = try_password(&mut browser, "ada", PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );

    // One address trying many logins is locked for all of them (counted afresh here).
    sqlx::query("DELETE FROM sign_in_failures")
        .execute(&pool)
        .await
        .unwrap();
    let mut guesser = Browser::new(&server.url);
    for index in 0..20 {
        let status = try_password(&mut guesser, &format!("user{index}"), "guess")
            .await
            .status;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let status = try_password(&mut guesser, "ada", PASSWORD).await.status;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sign_ins_and_wrong_admin_tokens_are_logged_and_throttled_and_short_admin_tokens_refused() {
    use crate::interactive::PASSWORD;
    let short = crate::support::coupa(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &crate::support::fresh_sqlite_url(),
        ],
        &[("COUPA_ADMIN_TOKEN", "short-admin-token")],
    )
    .await;
    assert!(!short.success);
    assert!(
        short.stderr.contains("at least 32") && short.stderr.contains("openssl rand"),
        "{}",
        short.stderr
    );

    let (child, url, log) = crate::support::serve_logging_to_a_file(
        &crate::support::fresh_sqlite_url(),
        &["--log-format", "text"],
    )
    .await;
    let admin = coupa_client::AdminClient::new(&url, crate::support::ADMIN_TOKEN);
    admin
        .create_user(&coupa_proto::admin::CreateUser {
            login: "ada".into(),
            email: "ada@example.com".into(),
            name: "Ada".into(),
            password: PASSWORD.into(),
            admin: false,
        })
        .await
        .unwrap();
    let mut browser = Browser::new(&url);
    assert_eq!(
        try_password(&mut browser, "ada", "hunter2-wrong")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_password(&mut browser, "ada", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    let http = reqwest::Client::new();
    for _ in 0..20 {
        let wrong = http
            .get(format!("{url}/admin/api/clients"))
            .bearer_auth("a-wrong-admin-token-of-some-length-000")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = http
        .get(format!("{url}/admin/api/clients"))
        .bearer_auth(crate::support::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right token too, while locked"
    );
    assert!(locked.headers().contains_key("retry-after"));
    crate::support::terminate(child).await;

    let logged = std::fs::read_to_string(&log).unwrap();
    let failed = logged
        .lines()
        .find(|line| line.contains("sign-in failed"))
        .expect(&logged);
    assert!(
        failed.contains("login=ada") && failed.contains("peer=127.0.0.1"),
        "{failed}"
    );
    let success = logged
        .lines()
        .find(|line| line.contains("signed in"))
        .expect(&logged);
    assert!(
        success.contains("login=ada") && success.contains("peer=127.0.0.1"),
        "{success}"
    );
    assert!(
        logged.contains("admin API: wrong or missing admin token"),
        "{logged}"
    );
    assert!(
        !logged.contains("hunter2") && !logged.contains(PASSWORD),
        "no password in the log"
    );
    assert!(
        !logged.contains("a-wrong-admin-token"),
        "no token in the log"
    );
}

#[tokio::test]
async fn the_server_purges_expired_rows_and_limits_device_authorizations() {
    use coupa_server::domain::grant::SessionRecord;
    let url = crate::support::fresh_sqlite_url();
    let store = coupa_server::store::open(&url).await.unwrap();
    store
        .insert_session(&SessionRecord {
            session_digest: vec![9; 32],
            user_id: "u".into(),
            auth_time: 1,
            expires_at: 2,
        })
        .await
        .unwrap();
    let server = crate::support::spawn_on(&url, Default::default()).await;
    let started = std::time::Instant::now();
    while store.session(&[9; 32]).await.unwrap().is_some() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "never purged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let device_client = public_device_client(&server, "openid").await;
    let mut statuses = Vec::new();
    for _ in 0..15 {
        let response = server
            .http
            .post(server.url("/oauth2/device_authorizations"))
            .form(&[("client_id", device_client.client_id.as_str())])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "slow_down");
        }
    }
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        10,
        "{statuses:?}"
    );
    assert!(
        statuses[10..].iter().all(|status| *status == 429),
        "{statuses:?}"
    );
}

/// Waits until `server` refuses `token` on the API; false if it still accepts it after `within`.
async fn refused_within(
    server: &crate::support::TestServer,
    token: &str,
    within: std::time::Duration,
) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < within {
        if server.list_invoices(token).await.status() == StatusCode::UNAUTHORIZED {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_revocation_committed_out_of_order_still_reaches_the_other_replicas() {
    let Some(url) = crate::support::fresh_postgres_url().await else {
        return;
    };
    let a = crate::support::spawn_on(&url, replica()).await;
    let (_, client) = a.create_client("revoker", "core.invoice.read").await;
    // Started after the client exists: B has it without waiting for its cache refresh.
    let b = crate::support::spawn_on(&url, replica()).await;
    let first = a.access_token(&client, None).await;
    let second = a.access_token(&client, None).await;
    let accepted = b.list_invoices(&first).await;
    assert_eq!(
        accepted.status(),
        StatusCode::OK,
        "{:?}",
        accepted.text().await
    );
    let claims = jwt_claims(&first);
    // A revocation of the first token whose transaction takes its sequence number now...
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut slow = pool.begin().await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    sqlx::query(
        "INSERT INTO revocations (kind, value, expires_at, recorded_at) VALUES ('jti', $1, $2, $3)",
    )
    .bind(claims["jti"].as_str().unwrap())
    .bind(claims["exp"].as_i64().unwrap())
    .bind(now)
    .execute(&mut *slow)
    .await
    .unwrap();
    // ...while a later one commits first and replica B reads it.
    let revoked = a
        .http
        .post(a.url("/oauth2/revoke"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("token", second.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(refused_within(&b, &second, std::time::Duration::from_secs(5)).await);
    slow.commit().await.unwrap();
    assert!(
        refused_within(&b, &first, std::time::Duration::from_secs(5)).await,
        "replica B never learnt the revocation that committed late"
    );
}

/// Settings of a replica: every replica of one deployment has the same issuer.
fn replica() -> coupa_server::ConfigLayer {
    coupa_server::ConfigLayer {
        issuer: Some("https://coupa.replicas.test".into()),
        ..Default::default()
    }
}

/// A replica's configuration on `url`, as `coupa serve` would resolve it.
fn replica_config(url: &str) -> coupa_server::Config {
    let mut config = coupa_server::Config::resolve(
        coupa_server::ConfigLayer {
            database_url: Some(url.into()),
            listen: Some("127.0.0.1:0".into()),
            ..replica()
        },
        Some(crate::support::ADMIN_TOKEN.into()),
    )
    .unwrap();
    config.key_encryption_key = Some(crate::support::TEST_KEY_ENCRYPTION_KEY.into());
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_started_together_on_a_fresh_database_all_come_up() {
    for round in 0..10 {
        let Some(url) = crate::support::fresh_postgres_url().await else {
            return;
        };
        let starts: Vec<_> = (0..3)
            .map(|_| tokio::spawn(coupa_server::App::prepare(replica_config(&url))))
            .collect();
        for start in starts {
            if let Err(error) = start.await.unwrap() {
                panic!("round {round}: a replica failed to start: {error}");
            }
        }
    }
}

#[tokio::test]
async fn a_signing_key_added_by_another_replica_is_learnt_without_a_restart() {
    let Some(url) = crate::support::fresh_postgres_url().await else {
        return;
    };
    let a = crate::support::spawn_on(&url, replica()).await;
    let (_, client) = a.create_client("keyed", "core.invoice.read").await;
    // B signs with another algorithm: it adds an EdDSA key A has never seen.
    let b = crate::support::spawn_on(
        &url,
        coupa_server::ConfigLayer {
            signing_alg: Some("EdDSA".into()),
            ..replica()
        },
    )
    .await;
    let token = b.access_token(&client, None).await;
    let kid = crate::support::jwt_kid(&token);
    let jwks: Value = a.get_json("/oauth2/jwks").await;
    assert!(
        !jwks.to_string().contains(&kid),
        "A does not know the key yet"
    );
    let accepted = a.list_invoices(&token).await;
    assert_eq!(
        accepted.status(),
        StatusCode::OK,
        "{:?}",
        accepted.text().await
    );
    let jwks: Value = a.get_json("/oauth2/jwks").await;
    assert!(jwks.to_string().contains(&kid), "and publishes it now");

    // Made-up key ids are refused and cannot make A read the store again and again.
    let forged = format!(
        "{}.{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"alg":"ES256","typ":"at+jwt","kid":"made-up"}"#
        ),
        token.split_once('.').unwrap().1
    );
    for _ in 0..20 {
        assert_eq!(
            a.list_invoices(&forged).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

/// A small tmpfs, unmounted when dropped: a disk that can be filled.
struct SmallDisk {
    path: std::path::PathBuf,
}

impl SmallDisk {
    /// None (loudly) where mounting is not allowed, outside CI.
    fn mount(megabytes: u32) -> Option<Self> {
        let path = std::env::temp_dir().join(crate::support::unique_name("coupa-disk-"));
        std::fs::create_dir_all(&path).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}M"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|status| status.success());
        if !mounted {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must be able to mount a tmpfs (run as root)"
            );
            eprintln!("\n!!! SKIPPING the full-disk test: cannot mount a tmpfs (needs root)\n");
            return None;
        }
        Some(Self { path })
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file
            .write_all(&block)
            .and_then(|()| file.sync_data())
            .is_ok()
        {}
        let small = [0u8; 512];
        while file
            .write_all(&small)
            .and_then(|()| file.sync_data())
            .is_ok()
        {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

#[tokio::test]
async fn sqlite_writes_recover_within_a_second_once_a_full_disk_has_space_again() {
    let Some(disk) = SmallDisk::mount(16) else {
        return;
    };
    let url = format!("sqlite://{}", disk.path.join("coupa.db").display());
    let server = crate::support::spawn_on(&url, Default::default()).await;
    let create = |login: String| {
        let server = &server;
        async move {
            server
                .http
                .post(server.url("/admin/api/clients"))
                .bearer_auth(crate::support::ADMIN_TOKEN)
                .json(&crate::support::client_input(&login, "core.invoice.read"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(create("before".into()).await, StatusCode::CREATED);
    let filler = disk.fill();
    // Writes land in the write-ahead log's space already on disk until that runs out.
    let mut refused = 0;
    for attempt in 0..1000 {
        let status = create(format!("full-{attempt}")).await;
        assert!(
            status == StatusCode::CREATED || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}"
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            refused += 1;
            if refused == 5 {
                break;
            }
        }
    }
    assert!(refused > 0, "the disk was never full");
    let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let reason: Value = ready.json().await.unwrap();
    assert!(
        reason["errors"]["store"][0]
            .as_str()
            .unwrap()
            .contains("full"),
        "{reason}"
    );
    std::fs::remove_file(filler).unwrap();
    let freed = std::time::Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        if create(format!("after-{attempt}")).await == StatusCode::CREATED {
            break;
        }
        assert!(
            freed.elapsed() < std::time::Duration::from_secs(1),
            "writes still fail a second after space came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK, "ready again");
    let logins: Vec<String> = server
        .admin
        .list_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|client| client.login)
        .collect();
    assert!(
        logins.contains(&"before".to_string()),
        "nothing committed is lost: {logins:?}"
    );
    for ok in 0..5 {
        assert_eq!(create(format!("later-{ok}")).await, StatusCode::CREATED);
    }
    drop(server);
}
