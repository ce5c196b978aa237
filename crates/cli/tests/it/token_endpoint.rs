//! `POST /oauth2/token` with grant_type=client_credentials: RFC 6749 §4.4 and Coupa's habits.

use coupa_server::ConfigLayer;
use serde_json::Value;

use crate::support::on_both_backends;
use crate::support::{Backend, spawn_server, spawn_server_with};

async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("an RFC 6749 JSON error body");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn issues_a_coupa_shaped_token_for_body_credentials() {
    let server = spawn_server().await;
    let (_, client) = server
        .create_client("sync", "core.invoice.read core.expense.read")
        .await;
    let response = server
        .token_request(&[
            ("client_id", &client.id),
            ("grant_type", "client_credentials"),
            ("scope", "core.invoice.read core.expense.read"),
            ("client_secret", &client.secret),
        ])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_399);
    assert_eq!(body["scope"], "core.invoice.read core.expense.read");
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);
    assert!(
        body.get("refresh_token").is_none(),
        "client credentials never get a refresh token"
    );
}

#[tokio::test]
async fn accepts_http_basic_and_defaults_to_every_scope_of_the_client() {
    let server = spawn_server().await;
    let (_, client) = server
        .create_client("basic", "core.invoice.read core.supplier.read")
        .await;
    let response = server
        .http
        .post(server.url("/oauth2/token"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "core.invoice.read core.supplier.read");
}

#[tokio::test]
async fn a_subset_of_scopes_narrows_the_token() {
    let server = spawn_server().await;
    let (_, client) = server
        .create_client("narrow", "core.invoice.read core.supplier.read")
        .await;
    let response = server
        .client_credentials(&client, &[("scope", "core.supplier.read")])
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "core.supplier.read");
}

#[tokio::test]
async fn refuses_two_authentication_methods_at_once() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("twice", "core.invoice.read").await;
    let response = server
        .http
        .post(server.url("/oauth2/token"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", &client.secret),
        ])
        .send()
        .await
        .unwrap();
    let (status, error, description) = error_of(response).await;
    assert_eq!((status, error.as_str()), (400, "invalid_request"));
    assert!(description.contains("one method"), "{description}");
}

#[tokio::test]
async fn wrong_or_unknown_credentials_are_invalid_client() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("wrong", "core.invoice.read").await;

    let response = server
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
            ("client_secret", "nope"),
        ])
        .await;
    assert!(response.headers().get("www-authenticate").is_none());
    assert_eq!(error_of(response).await.1, "invalid_client");

    let response = server
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", "unknown"),
            ("client_secret", "x"),
        ])
        .await;
    let (status, error, _) = error_of(response).await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));

    let response = server
        .http
        .post(server.url("/oauth2/token"))
        .basic_auth(&client.id, Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"coupa\""
    );
    let (status, error, _) = error_of(response).await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));

    let response = server
        .http
        .post(server.url("/oauth2/token"))
        .header("Authorization", "Basic %%%")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));

    let response = server
        .token_request(&[("grant_type", "client_credentials")])
        .await;
    let (status, error, description) = error_of(response).await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
    assert!(
        description.contains("client_id and client_secret"),
        "{description}"
    );

    let response = server
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
        ])
        .await;
    assert_eq!(error_of(response).await.1, "invalid_client");
}

#[tokio::test]
async fn a_deactivated_client_gets_no_token() {
    let server = spawn_server().await;
    let (view, client) = server.create_client("off", "core.invoice.read").await;
    let off = coupa_proto::admin::UpdateClient {
        active: Some(false),
        ..Default::default()
    };
    server
        .admin
        .update_client(&view.client_id, &off)
        .await
        .unwrap();
    let response = server.client_credentials(&client, &[]).await;
    let (status, error, description) = error_of(response).await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
    assert!(description.contains("deactivated"), "{description}");
}

#[tokio::test]
async fn a_scope_the_client_lacks_fails_the_whole_request_and_is_named() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("scoped", "core.invoice.read").await;
    for (asked, named) in [
        ("core.invoice.read core.user.write", "core.user.write"),
        ("core.not.a.scope", "core.not.a.scope"),
        ("core.invoice.read,core.expense.read", "not commas"),
    ] {
        let response = server
            .client_credentials(&client, &[("scope", asked)])
            .await;
        let (status, error, description) = error_of(response).await;
        assert_eq!((status, error.as_str()), (400, "invalid_scope"), "{asked}");
        assert!(description.contains(named), "{asked}: {description}");
    }
}

#[tokio::test]
async fn malformed_requests_are_invalid_request() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("malformed", "core.invoice.read").await;
    let post = |body: String, content_type: &'static str| {
        server
            .http
            .post(server.url("/oauth2/token"))
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    let credentials = format!("client_id={}&client_secret={}", client.id, client.secret);
    let form = "application/x-www-form-urlencoded";
    let cases = [
        (
            format!("{credentials}&grant_type=client_credentials&grant_type=client_credentials"),
            form,
            "more than once",
        ),
        (
            format!("{credentials}&scope=core.invoice.read"),
            form,
            "grant_type is missing",
        ),
        (
            format!("{credentials}&grant_type=client_credentials&scope=%zz"),
            form,
            "percent-encoding",
        ),
        (
            r#"{"grant_type":"client_credentials"}"#.to_string(),
            "application/json",
            "x-www-form-urlencoded",
        ),
        (
            format!(
                "{credentials}&grant_type=client_credentials&pad={}",
                "a".repeat(70 * 1024)
            ),
            form,
            "64 KiB",
        ),
    ];
    for (body, content_type, expected) in cases {
        let response = post(body, content_type).await.unwrap();
        let (status, error, description) = error_of(response).await;
        assert_eq!(
            (status, error.as_str()),
            (400, "invalid_request"),
            "{expected}"
        );
        assert!(description.contains(expected), "{expected}: {description}");
    }
}

#[tokio::test]
async fn other_grant_types_are_unsupported_and_get_is_refused() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("grants", "core.invoice.read").await;
    let response = server
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
        ])
        .await;
    let (status, error, _) = error_of(response).await;
    assert_eq!((status, error.as_str()), (400, "unsupported_grant_type"));

    let response = server
        .http
        .get(server.url("/oauth2/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(error_of(response).await.1, "invalid_request");
}

#[tokio::test]
async fn parameters_in_the_query_string_of_the_post_are_accepted_but_not_twice() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("query", "core.invoice.read").await;
    let response = server
        .http
        .post(server.url(&format!(
            "/oauth2/token?grant_type=client_credentials&client_id={}&client_secret={}",
            client.id, client.secret
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = server
        .http
        .post(server.url("/oauth2/token?grant_type=client_credentials"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1, "invalid_request");
}

#[tokio::test]
async fn an_authorization_code_client_cannot_use_client_credentials() {
    let server = spawn_server().await;
    let mut input = crate::support::client_input("web-app", "offline_access core.invoice.read");
    input.grant_type = "authorization_code".into();
    input.redirect_uris = vec!["https://app.example.com/callback".into()];
    let view = server.admin.create_client(&input).await.unwrap();
    let response = server
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &view.client_id),
            ("client_secret", view.client_secret.as_deref().unwrap()),
        ])
        .await;
    let (status, error, _) = error_of(response).await;
    assert_eq!((status, error.as_str()), (400, "unauthorized_client"));
}

#[tokio::test]
async fn the_token_lifetime_is_configurable() {
    let settings = ConfigLayer {
        token_lifetime: Some("1h".into()),
        ..ConfigLayer::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (_, client) = server.create_client("short", "core.invoice.read").await;
    let response = server.client_credentials(&client, &[]).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 3600);
}

/// The hot path: once the server is warm, tokens are issued and checked from memory. With the
/// clients table dropped behind the server's back, tokens still work; admin reads answer 503.
async fn warm_server_needs_no_database(backend: Backend) {
    let Some(server) = spawn_server_with(backend, ConfigLayer::default()).await else {
        return;
    };
    let (_, client) = server.create_client("hot", "core.invoice.read").await;
    let drop_table = "DROP TABLE oauth_clients";
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&server.database_url)
                .await
                .unwrap();
            sqlx::query(drop_table).execute(&pool).await.unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&server.database_url).await.unwrap();
            sqlx::query(drop_table).execute(&pool).await.unwrap();
        }
    }
    for _ in 0..3 {
        let token = server
            .access_token(&client, Some("core.invoice.read"))
            .await;
        let response = server.list_invoices(&token).await;
        assert_eq!(response.status(), 200);
    }
    let response = server
        .http
        .get(server.url("/admin/api/clients"))
        .bearer_auth(crate::support::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        503,
        "a database failure is a 503, never a 500"
    );
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"]["base"][0]
            .as_str()
            .unwrap()
            .contains("unavailable")
    );
}

on_both_backends!(warm_server_needs_no_database);
