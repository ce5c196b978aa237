//! The admin API: clients created, listed, shown, updated, rotated, deleted; validation.

use coupa_client::ClientError;
use coupa_proto::admin::UpdateClient;
use coupa_server::ConfigLayer;
use serde_json::{Value, json};

use crate::support::on_both_backends;
use crate::support::{ADMIN_TOKEN, Backend, client_input, spawn_server, spawn_server_with};

#[tokio::test]
async fn requires_the_admin_token() {
    let server = spawn_server().await;
    let response = server
        .http
        .get(server.url("/admin/api/clients"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(crate::support::challenge(&response).starts_with("Bearer"));
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"]["base"][0]
            .as_str()
            .unwrap()
            .contains("admin token")
    );
    let response = server
        .http
        .get(server.url("/admin/api/clients"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn create_shows_the_secret_once_and_list_and_show_never() {
    let server = spawn_server().await;
    let (created, _) = server
        .create_client("once", "core.invoice.read core.expense.read")
        .await;
    assert_eq!(created.login, "once");
    assert_eq!(created.grant_type, "client_credentials");
    assert_eq!(created.scope, "core.invoice.read core.expense.read");
    assert!(created.active);
    assert_eq!(created.client_secret.as_ref().unwrap().len(), 43);
    let listed = server.admin.list_clients().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].client_secret.is_none());
    let shown = server.admin.client(&created.client_id).await.unwrap();
    assert!(shown.client_secret.is_none());
    assert_eq!(shown.contact_email, "team@example.com");
}

#[tokio::test]
async fn validation_errors_are_422_in_coupa_format() {
    let server = spawn_server().await;
    server.create_client("taken", "core.invoice.read").await;
    let response = server
        .http
        .post(server.url("/admin/api/clients"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&client_input("TAKEN", "core.invoice.read"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"errors": {"login": ["has already been taken"]}})
    );

    for (scope, message) in [
        ("", "can't be empty: select at least one scope"),
        ("core.nope.read", "core.nope.read is not a known scope"),
    ] {
        let error = server
            .admin
            .create_client(&client_input("fresh", scope))
            .await
            .unwrap_err();
        match error {
            ClientError::Coupa {
                status: 422,
                errors,
            } => {
                assert!(errors.errors["scope"][0].contains(message), "{errors:?}");
            }
            other => panic!("expected 422, got {other:?}"),
        }
    }
    let mut input = client_input("mail", "core.invoice.read");
    input.contact_email = "not an email".into();
    let error = server.admin.create_client(&input).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Coupa { status: 422, ref errors } if errors.errors.contains_key("contact_email"))
    );
}

#[tokio::test]
async fn bad_bodies_are_clear_4xx() {
    let server = spawn_server().await;
    let post = |body: &'static str, content_type: &'static str| {
        server
            .http
            .post(server.url("/admin/api/clients"))
            .bearer_auth(ADMIN_TOKEN)
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    assert_eq!(
        post("{not json", "application/json")
            .await
            .unwrap()
            .status(),
        400
    );
    let response = post(r#"{"name":"x","login":"x","grant_type":"client_credentials","scope":"core.invoice.read","colour":"red"}"#, "application/json").await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("colour"));
    assert_eq!(
        post("name=x", "application/x-www-form-urlencoded")
            .await
            .unwrap()
            .status(),
        415
    );
    let huge = server
        .http
        .post(server.url("/admin/api/clients"))
        .bearer_auth(ADMIN_TOKEN)
        .header("Content-Type", "application/json")
        .body("x".repeat(100 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let missing = server
        .http
        .get(server.url("/admin/api/clients/nope"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn update_changes_only_what_is_given_and_scopes_take_effect() {
    let server = spawn_server().await;
    let (view, client) = server
        .create_client("upd", "core.invoice.read core.expense.read")
        .await;
    let changes = UpdateClient {
        name: Some("Renamed".into()),
        scope: Some("core.expense.read".into()),
        ..UpdateClient::default()
    };
    let updated = server
        .admin
        .update_client(&view.client_id, &changes)
        .await
        .unwrap();
    assert_eq!(updated.name, "Renamed");
    assert_eq!(updated.scope, "core.expense.read");
    assert_eq!(updated.contact_email, "team@example.com");
    assert!(updated.client_secret.is_none());
    let response = server
        .client_credentials(&client, &[("scope", "core.invoice.read")])
        .await;
    assert_eq!(
        response.status(),
        400,
        "a removed scope can no longer be asked for"
    );
    let bad = UpdateClient {
        scope: Some("   ".into()),
        ..UpdateClient::default()
    };
    assert!(matches!(
        server.admin.update_client(&view.client_id, &bad).await,
        Err(ClientError::Coupa { status: 422, .. })
    ));
}

#[tokio::test]
async fn delete_frees_the_login_and_kills_the_credentials() {
    let server = spawn_server().await;
    let (view, client) = server.create_client("gone", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    server.admin.delete_client(&view.client_id).await.unwrap();
    assert!(matches!(
        server.admin.client(&view.client_id).await,
        Err(ClientError::Coupa { status: 404, .. })
    ));
    assert!(matches!(
        server.admin.delete_client(&view.client_id).await,
        Err(ClientError::Coupa { status: 404, .. })
    ));
    let response = server.client_credentials(&client, &[]).await;
    assert_eq!(response.status(), 401);
    let response = server.list_invoices(&token).await;
    assert_eq!(response.status(), 401);
    server.create_client("gone", "core.invoice.read").await;
}

/// Rotation on both stores: the old secret and its tokens keep working for the grace period,
/// then stop.
async fn rotation_with_grace(backend: Backend) {
    let settings = ConfigLayer {
        secret_grace_period: Some("2s".into()),
        ..ConfigLayer::default()
    };
    let Some(server) = spawn_server_with(backend, settings).await else {
        return;
    };
    let (view, old) = server.create_client("rotating", "core.invoice.read").await;
    let old_token = server.access_token(&old, None).await;
    let rotated = server.admin.rotate_secret(&view.client_id).await.unwrap();
    let new_secret = rotated.client_secret.clone().unwrap();
    assert_ne!(new_secret, old.secret);
    assert!(rotated.previous_secret_valid_until.is_some());
    let new = crate::support::Credentials {
        id: old.id.clone(),
        secret: new_secret,
    };
    server.access_token(&new, None).await;
    let grace_token = server.access_token(&old, None).await;
    for token in [&old_token, &grace_token] {
        let response = server.list_invoices(token).await;
        assert_eq!(response.status(), 200, "within the grace period");
    }
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let response = server.client_credentials(&old, &[]).await;
    assert_eq!(
        response.status(),
        401,
        "the old secret is gone after the grace period"
    );
    for token in [&old_token, &grace_token] {
        let response = server.list_invoices(token).await;
        assert_eq!(response.status(), 401);
        let challenge = crate::support::challenge(&response);
        assert!(challenge.contains("rotated out"), "{challenge}");
    }
    let new_token = server.access_token(&new, None).await;
    let response = server.list_invoices(&new_token).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn concurrent_updates_are_not_lost() {
    let server = spawn_server().await;
    let (view, _) = server.create_client("race", "core.invoice.read").await;
    let mut tasks = Vec::new();
    for index in 0..8 {
        let admin = coupa_client::AdminClient::new(&server.url, ADMIN_TOKEN);
        let id = view.client_id.clone();
        tasks.push(tokio::spawn(async move {
            let changes = if index % 2 == 0 {
                UpdateClient {
                    contact_info: Some(format!("info {index}")),
                    ..UpdateClient::default()
                }
            } else {
                UpdateClient {
                    name: Some(format!("name {index}")),
                    ..UpdateClient::default()
                }
            };
            admin.update_client(&id, &changes).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let rotated = server.admin.rotate_secret(&view.client_id).await.unwrap();
    let client = crate::support::Credentials {
        id: view.client_id.clone(),
        secret: rotated.client_secret.unwrap(),
    };
    server.access_token(&client, None).await;
    let shown = server.admin.client(&view.client_id).await.unwrap();
    assert!(shown.name.starts_with("name "));
    assert!(shown.contact_info.starts_with("info "));
}

on_both_backends!(rotation_with_grace);
