//! The bearer layer of `/api/*` (RFC 6750).

use coupa_proto::admin::UpdateClient;
use coupa_server::ConfigLayer;
use serde_json::Value;

use crate::support::{Backend, spawn_server, spawn_server_with};

#[tokio::test]
async fn accepts_the_bearer_scheme_in_any_case_and_answers_json_or_xml() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("reader", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = server
            .api_get(
                "/api/invoices",
                Some(&format!("{scheme} {token}")),
                "application/json",
            )
            .await;
        assert_eq!(response.status(), 200, "{scheme}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            serde_json::json!([])
        );
    }
    let response = server
        .api_get(
            "/api/invoices",
            Some(&format!("Bearer {token}")),
            "application/xml",
        )
        .await;
    assert_eq!(
        response.status(),
        404,
        "Coupa answers an empty XML search with 404"
    );
    let body = response.text().await.unwrap();
    assert!(
        body.contains(
            "<errors>\n  <error>No results match your search criteria.</error>\n</errors>"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn a_missing_or_bad_token_is_401_with_a_bearer_challenge() {
    let server = spawn_server().await;
    let response = server
        .api_get("/api/invoices", None, "application/json")
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"coupa\""
    );
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"]["base"][0]
            .as_str()
            .unwrap()
            .contains("/oauth2/token")
    );

    for bad in [
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer",
        "Basic Zm9vOmJhcg==",
    ] {
        let response = server
            .api_get("/api/invoices", Some(bad), "application/json")
            .await;
        assert_eq!(response.status(), 401, "{bad}");
        let challenge = crate::support::challenge(&response);
        assert!(
            challenge.starts_with("Bearer realm=\"coupa\", error="),
            "{bad}: {challenge}"
        );
    }
    let response = server
        .api_get("/api/invoices", Some("Bearer a.b.c"), "application/json")
        .await;
    assert!(crate::support::challenge(&response).contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn a_token_from_another_server_is_refused() {
    let server = spawn_server().await;
    let other = spawn_server().await;
    let (_, client) = other.create_client("elsewhere", "core.invoice.read").await;
    let token = other.access_token(&client, None).await;
    let response = server.list_invoices(&token).await;
    assert_eq!(response.status(), 401);
    assert!(crate::support::challenge(&response).contains("invalid_token"));
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let settings = ConfigLayer {
        token_lifetime: Some("1s".into()),
        ..ConfigLayer::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (_, client) = server.create_client("brief", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = server.list_invoices(&token).await;
    assert_eq!(response.status(), 401);
    assert!(crate::support::challenge(&response).contains("expired"));
}

#[tokio::test]
async fn a_token_without_the_routes_scope_is_403_naming_it() {
    let server = spawn_server().await;
    let (_, client) = server
        .create_client("expenses", "core.expense.read core.invoice.read")
        .await;
    let token = server
        .access_token(&client, Some("core.expense.read"))
        .await;
    let response = server.list_invoices(&token).await;
    assert_eq!(response.status(), 403);
    let challenge = crate::support::challenge(&response);
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"core.invoice.read\""),
        "{challenge}"
    );
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"]["insufficient_scope"][0]
            .as_str()
            .unwrap()
            .contains("core.invoice.read")
    );
}

#[tokio::test]
async fn deactivation_refuses_tokens_and_reactivation_does_not_revive_them() {
    let server = spawn_server().await;
    let (view, client) = server.create_client("toggle", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    let bearer = format!("Bearer {token}");
    let off = UpdateClient {
        active: Some(false),
        ..UpdateClient::default()
    };
    server
        .admin
        .update_client(&view.client_id, &off)
        .await
        .unwrap();
    let response = server
        .api_get("/api/invoices", Some(&bearer), "application/json")
        .await;
    assert_eq!(response.status(), 401);
    assert!(crate::support::challenge(&response).contains("deactivated"));
    let on = UpdateClient {
        active: Some(true),
        ..UpdateClient::default()
    };
    server
        .admin
        .update_client(&view.client_id, &on)
        .await
        .unwrap();
    let response = server
        .api_get("/api/invoices", Some(&bearer), "application/json")
        .await;
    assert_eq!(
        response.status(),
        401,
        "tokens issued before deactivation stay dead"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = server.access_token(&client, None).await;
    let response = server.list_invoices(&fresh).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn unknown_routes_are_404_and_delete_is_405() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("routes", "core.invoice.read").await;
    let bearer = format!("Bearer {}", server.access_token(&client, None).await);
    let response = server
        .api_get("/api/nothing_here", Some(&bearer), "application/json")
        .await;
    assert_eq!(response.status(), 404);
    let response = server
        .http
        .delete(server.url("/api/invoices/1"))
        .header("Authorization", &bearer)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(
        response.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("GET")
    );
    let response = server
        .api_get("/api/invoices", None, "application/xml")
        .await;
    assert_eq!(
        response.status(),
        401,
        "authentication comes before anything else"
    );
}

#[tokio::test]
async fn each_caller_is_rate_limited_on_its_own() {
    let settings = ConfigLayer {
        rate_limit: Some(5.0),
        rate_limit_burst: Some(3),
        ..ConfigLayer::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (_, busy) = server.create_client("busy", "core.invoice.read").await;
    let (_, calm) = server.create_client("calm", "core.invoice.read").await;
    let busy = server.access_token(&busy, None).await;
    let calm = server.access_token(&calm, None).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(server.list_invoices(&busy).await.status().as_u16());
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "the burst");
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let refused = server.list_invoices(&busy).await;
    assert_eq!(refused.status(), 429);
    assert!(
        refused.headers().get("retry-after").is_none(),
        "Coupa sends no Retry-After by default"
    );
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["errors"]["base"][0]
            .as_str()
            .unwrap()
            .contains("rate limit")
    );
    assert_eq!(
        server.list_invoices(&calm).await.status(),
        200,
        "another client has its own budget"
    );
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        server.list_invoices(&busy).await.status(),
        200,
        "the rate refills"
    );
}

#[tokio::test]
async fn retry_after_can_be_sent() {
    let settings = ConfigLayer {
        rate_limit: Some(1.0),
        rate_limit_burst: Some(1),
        rate_limit_retry_after: Some(true),
        ..ConfigLayer::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (_, client) = server.create_client("retry", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    assert_eq!(server.list_invoices(&token).await.status(), 200);
    let refused = server.list_invoices(&token).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
}
