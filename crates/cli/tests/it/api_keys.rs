//! Legacy `X-COUPA-API-KEY` keys: accepted as old integrations send them, tracked, revoked,
//! and switched off entirely when the instance says so.

use coupa_proto::admin::CreateApiKey;
use coupa_server::ConfigLayer;
use serde_json::{Value, json};

use crate::support::{Backend, TestServer, spawn_server, spawn_server_with};

async fn with_key(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = server
        .http
        .request(method, server.url(path))
        .header("X-COUPA-API-KEY", key)
        .header("Accept", "application/json");
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_key_reaches_the_api_until_it_is_revoked() {
    let server = spawn_server().await;
    let input = CreateApiKey {
        name: "Legacy ERP".into(),
        login: Some("erp-sync".into()),
        scope: None,
    };
    let created = server.admin.create_api_key(&input).await.unwrap();
    let key = created.key.clone().expect("the key is shown on create");
    assert_eq!(key.len(), 40);
    assert_eq!(created.key_prefix, key[..6]);

    let response = with_key(&server, reqwest::Method::GET, "/api/invoices", &key, None).await;
    assert_eq!(response.status(), 200);
    let supplier = with_key(
        &server,
        reqwest::Method::POST,
        "/api/suppliers",
        &key,
        Some(json!({"name": "Acme"})),
    )
    .await;
    assert_eq!(supplier.status(), 201);
    let supplier: Value = supplier.json().await.unwrap();
    assert_eq!(supplier["created-by"]["login"], "erp-sync");

    let listed = server.admin.list_api_keys().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].key.is_none(), "never shown again");
    assert!(listed[0].last_used_at.is_some());
    assert_eq!(listed[0].last_used_from.as_deref(), Some("127.0.0.1"));

    let response = with_key(
        &server,
        reqwest::Method::GET,
        "/api/invoices",
        "0123456789abcdef0123456789abcdef01234567",
        None,
    )
    .await;
    assert_eq!(response.status(), 401);

    let revoked = server.admin.revoke_api_key(&created.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    let response = with_key(&server, reqwest::Method::GET, "/api/invoices", &key, None).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"]["invalid_api_key"][0]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    assert!(server.admin.revoke_api_key("no-such-key").await.is_err());
}

#[tokio::test]
async fn a_key_is_limited_to_its_scopes() {
    let server = spawn_server().await;
    let input = CreateApiKey {
        name: "Expenses only".into(),
        login: None,
        scope: Some("core.expense.read".into()),
    };
    let key = server
        .admin
        .create_api_key(&input)
        .await
        .unwrap()
        .key
        .unwrap();
    assert_eq!(
        with_key(
            &server,
            reqwest::Method::GET,
            "/api/expense_reports",
            &key,
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        with_key(&server, reqwest::Method::GET, "/api/invoices", &key, None)
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn keys_can_be_switched_off_as_from_r35() {
    let settings = ConfigLayer {
        api_keys: Some(false),
        ..ConfigLayer::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let input = CreateApiKey {
        name: "Old".into(),
        login: None,
        scope: None,
    };
    let key = server
        .admin
        .create_api_key(&input)
        .await
        .unwrap()
        .key
        .unwrap();
    let response = with_key(&server, reqwest::Method::GET, "/api/invoices", &key, None).await;
    assert_eq!(response.status(), 401);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("no longer accepted")
    );
}
