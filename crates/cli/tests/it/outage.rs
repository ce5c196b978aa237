//! Health and a database outage: `/healthz` says the process lives, `/readyz` whether it can
//! serve everything; while the database is away, client-credentials tokens keep coming from
//! the cache and everything that needs the database answers 503 in Coupa's format within
//! 2 s; when it returns, the server recovers by itself. The outage is a PostgreSQL cluster of
//! the test's own, stopped and started again.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::throwaway_postgres::ThrowawayPostgres;
use crate::support::{ADMIN_TOKEN, TestServer, spawn_on};

const BAR: Duration = Duration::from_secs(2);

/// The status and JSON body of a GET, and how long it took.
async fn timed_get(
    server: &TestServer,
    path: &str,
    bearer: Option<&str>,
) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    let mut request = server
        .http
        .get(server.url(path))
        .header("Accept", "application/json");
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

#[tokio::test]
async fn while_the_database_is_away_tokens_still_come_and_the_rest_says_503_fast() {
    let Some(cluster) = ThrowawayPostgres::start() else {
        return;
    };
    let server = spawn_on(&cluster.url(), Default::default()).await;
    let (_, client) = server
        .create_client("outlasting", "core.invoice.read")
        .await;
    let token = server.access_token(&client, None).await;
    let (status, ready, _) = timed_get(&server, "/readyz", None).await;
    assert_eq!(
        (status, &ready["status"]),
        (StatusCode::OK, &Value::from("ready"))
    );

    cluster.stop();

    let (status, _, took) = timed_get(&server, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "alive");
    assert!(took < BAR);
    let started = Instant::now();
    let fresh = server.access_token(&client, None).await;
    assert!(started.elapsed() < BAR, "tokens come from the cache");
    assert!(!fresh.is_empty());

    for (path, bearer) in [
        ("/readyz", None),
        ("/api/invoices", Some(token.as_str())),
        ("/admin/api/clients", Some(ADMIN_TOKEN)),
    ] {
        let (status, body, took) = timed_get(&server, path, bearer).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert!(took < BAR, "{path} took {took:?}");
        assert!(
            body["errors"].is_object(),
            "{path} answers in Coupa's error format: {body}"
        );
    }
    let (_, body, _) = timed_get(&server, "/readyz", None).await;
    assert!(body["errors"]["store"].is_array(), "{body}");

    cluster.start_again();
    let back = Instant::now();
    loop {
        let (status, _, _) = timed_get(&server, "/api/invoices", Some(&token)).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "the server does not recover by itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _, _) = timed_get(&server, "/readyz", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = timed_get(&server, "/admin/api/clients", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
}
