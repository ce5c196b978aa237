//! Replicas agree within a second: a change made on one replica (PostgreSQL) is refused on
//! the others at once, through LISTEN/NOTIFY, with the periodic full reload turned off so
//! that nothing else can explain it.

use std::time::{Duration, Instant};

use coupa_proto::admin::{CreateApiKey, UpdateClient};
use coupa_server::ConfigLayer;
use reqwest::StatusCode;

use crate::support::{Credentials, TestServer, jwt_kid as kid_of, spawn_on};

const BAR: Duration = Duration::from_secs(1);
const ROUNDS: usize = 6;

fn replica() -> ConfigLayer {
    ConfigLayer {
        issuer: Some("https://coupa.replicas.test".into()),
        client_cache_refresh: Some("0".into()),
        secret_grace_period: Some("0".into()),
        ..ConfigLayer::default()
    }
}

async fn bearer_status(server: &TestServer, token: &str) -> StatusCode {
    server.list_invoices(token).await.status()
}

async fn api_key_status(server: &TestServer, key: &str) -> StatusCode {
    server
        .http
        .get(server.url("/api/invoices"))
        .header("X-COUPA-API-KEY", key)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .status()
}

/// Polls every 5 ms until `refused` holds on `server`; how long it took. Panics past 10 s.
async fn time_until<F, Fut>(started: Instant, mut refused: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    loop {
        if refused().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never refused");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A token `server` mints for `client`, once `server` knows the client.
async fn token_from(server: &TestServer, client: &Credentials) -> String {
    let started = Instant::now();
    loop {
        let response = server.client_credentials(client, &[]).await;
        if response.status() == StatusCode::OK {
            let body: serde_json::Value = response.json().await.unwrap();
            return body["access_token"].as_str().unwrap().to_string();
        }
        assert!(
            started.elapsed() < BAR,
            "a client created on another replica is known within a second"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_change_on_one_replica_is_refused_on_the_others_within_a_second() {
    let Some(url) = crate::support::fresh_postgres_url().await else {
        return;
    };
    let a = spawn_on(&url, replica()).await;
    let others = [
        spawn_on(&url, replica()).await,
        spawn_on(&url, replica()).await,
    ];
    let mut delays: Vec<(&str, Duration)> = Vec::new();

    for round in 0..ROUNDS {
        // A client deactivated on A.
        let (view, client) = a
            .create_client(&format!("deactivated-{round}"), "core.invoice.read")
            .await;
        let mut tokens = Vec::new();
        for other in &others {
            tokens.push(token_from(other, &client).await);
        }
        let deactivate = UpdateClient {
            active: Some(false),
            ..UpdateClient::default()
        };
        a.admin
            .update_client(&view.client_id, &deactivate)
            .await
            .unwrap();
        let started = Instant::now();
        for (other, token) in others.iter().zip(&tokens) {
            let delay = time_until(started, || async {
                bearer_status(other, token).await == StatusCode::UNAUTHORIZED
            })
            .await;
            delays.push(("client deactivated", delay));
        }

        // A secret rotated out on A (no grace period here).
        let (view, client) = a
            .create_client(&format!("rotated-{round}"), "core.invoice.read")
            .await;
        let mut tokens = Vec::new();
        for other in &others {
            tokens.push(token_from(other, &client).await);
        }
        a.admin.rotate_secret(&view.client_id).await.unwrap();
        let started = Instant::now();
        for (other, token) in others.iter().zip(&tokens) {
            let delay = time_until(started, || async {
                bearer_status(other, token).await == StatusCode::UNAUTHORIZED
            })
            .await;
            delays.push(("secret rotated out", delay));
        }

        // An API key revoked on A.
        let key = a
            .admin
            .create_api_key(&CreateApiKey {
                name: format!("revoked-{round}"),
                ..Default::default()
            })
            .await
            .unwrap();
        let secret = key.key.clone().unwrap();
        for other in &others {
            let started = Instant::now();
            time_until(started, || async {
                api_key_status(other, &secret).await == StatusCode::OK
            })
            .await;
        }
        a.admin.revoke_api_key(&key.id).await.unwrap();
        let started = Instant::now();
        for other in &others {
            let delay = time_until(started, || async {
                api_key_status(other, &secret).await == StatusCode::UNAUTHORIZED
            })
            .await;
            delays.push(("API key revoked", delay));
        }

        // An access token revoked at A's revocation endpoint.
        let (_, client) = a
            .create_client(&format!("revoking-{round}"), "core.invoice.read")
            .await;
        let token = token_from(&others[0], &client).await;
        assert_eq!(a.revoke(&client, &token).await.status(), StatusCode::OK);
        let started = Instant::now();
        for other in &others {
            let delay = time_until(started, || async {
                bearer_status(other, &token).await == StatusCode::UNAUTHORIZED
            })
            .await;
            delays.push(("token revoked", delay));
        }

        // The signing key retired at once on A.
        let token = token_from(&others[0], &client).await;
        let kid = kid_of(&token);
        a.admin.retire_key(&kid, true).await.unwrap();
        let started = Instant::now();
        for other in &others {
            let delay = time_until(started, || async {
                bearer_status(other, &token).await == StatusCode::UNAUTHORIZED
            })
            .await;
            delays.push(("signing key retired now", delay));
        }
    }

    let mut sorted: Vec<Duration> = delays.iter().map(|(_, delay)| *delay).collect();
    sorted.sort();
    let p50 = sorted[sorted.len() / 2];
    let p99 = sorted[(sorted.len() * 99).div_ceil(100) - 1];
    println!(
        "propagation over {} samples: p50 {p50:?}, p99 {p99:?}, max {:?}",
        sorted.len(),
        sorted[sorted.len() - 1]
    );
    for (what, delay) in &delays {
        assert!(
            *delay < BAR,
            "{what} took {delay:?} to reach another replica"
        );
    }
}

#[tokio::test]
async fn a_second_process_on_one_sqlite_file_is_refused_with_the_reason() {
    let database = crate::support::fresh_sqlite_url();
    let (first, url, _) = crate::support::serve_logging_to_a_file(&database, &[]).await;
    let second = crate::support::coupa(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &database,
        ],
        &[("COUPA_ADMIN_TOKEN", crate::support::ADMIN_TOKEN)],
    )
    .await;
    assert!(!second.success);
    assert!(
        second.stderr.contains("another process is serving")
            && second.stderr.contains("PostgreSQL"),
        "{}",
        second.stderr
    );
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "the first serves on");
    crate::support::terminate(first).await;
    let (again, _, _) = crate::support::serve_logging_to_a_file(&database, &[]).await;
    crate::support::terminate(again).await;
}

#[tokio::test]
async fn a_replica_with_another_issuer_is_warned_at_start() {
    let database = crate::support::fresh_sqlite_url();
    let (first, _, quiet) =
        crate::support::serve_logging_to_a_file(&database, &["--issuer", "https://a.example"])
            .await;
    crate::support::terminate(first).await;
    let (second, _, warned) =
        crate::support::serve_logging_to_a_file(&database, &["--issuer", "https://b.example"])
            .await;
    crate::support::terminate(second).await;
    let quiet = std::fs::read_to_string(quiet).unwrap();
    let warned = std::fs::read_to_string(warned).unwrap();
    assert!(!quiet.contains("issuer differs"), "{quiet}");
    assert!(
        warned.contains("issuer differs") && warned.contains("https://a.example"),
        "{warned}"
    );
}
