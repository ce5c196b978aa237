//! Health, discovery metadata, JWKS and the scope catalogue over HTTP.

use coupa_server::ConfigLayer;
use serde_json::Value;

use crate::support::{Backend, spawn_server, spawn_server_with};

#[tokio::test]
async fn healthz_answers_once_ready() {
    let server = spawn_server().await;
    let response = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn discovery_lists_what_is_implemented_and_nothing_more() {
    let settings = ConfigLayer {
        issuer: Some("https://coupa.example.com/".into()),
        ..ConfigLayer::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let document: Value = server
            .http
            .get(server.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(document["issuer"], "https://coupa.example.com");
        assert_eq!(
            document["token_endpoint"],
            "https://coupa.example.com/oauth2/token"
        );
        assert_eq!(
            document["jwks_uri"],
            "https://coupa.example.com/oauth2/jwks"
        );
        assert_eq!(
            document["grant_types_supported"],
            serde_json::json!([
                "client_credentials",
                "authorization_code",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code"
            ])
        );
        assert_eq!(
            document["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256"])
        );
        assert_eq!(
            document["code_challenge_methods_supported"],
            serde_json::json!(["S256", "plain"])
        );
        // Every endpoint listed answers (at the test server's address).
        let endpoints: Vec<&str> = document
            .as_object()
            .unwrap()
            .iter()
            .filter(|(key, _)| key.ends_with("_endpoint") || key.as_str() == "jwks_uri")
            .map(|(_, value)| value.as_str().unwrap())
            .collect();
        assert!(endpoints.len() >= 6, "{endpoints:?}");
        for endpoint in endpoints {
            let path = endpoint.strip_prefix("https://coupa.example.com").unwrap();
            let status = server
                .http
                .get(server.url(path))
                .send()
                .await
                .unwrap()
                .status();
            assert_ne!(status, reqwest::StatusCode::NOT_FOUND, "{path}");
        }
        let scopes = document["scopes_supported"].as_array().unwrap();
        assert!(scopes.iter().any(|scope| scope == "core.invoice.read"));
    }
}

#[tokio::test]
async fn jwks_holds_the_key_that_signs_tokens_for_each_algorithm() {
    for (alg, kty) in [("ES256", "EC"), ("RS256", "RSA"), ("EdDSA", "OKP")] {
        let settings = ConfigLayer {
            signing_alg: Some(alg.into()),
            ..ConfigLayer::default()
        };
        let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
        let (_, client) = server.create_client("jwks", "core.invoice.read").await;
        let token = server.access_token(&client, None).await;
        let header = token.split('.').next().unwrap();
        let header: Value = serde_json::from_slice(&base64_url(header)).unwrap();
        assert_eq!(header["alg"], alg);
        assert_eq!(header["typ"], "at+jwt");
        let jwks: Value = server.get_json("/oauth2/jwks").await;
        let key = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["kid"] == header["kid"])
            .expect("signing key listed");
        assert_eq!(key["kty"], kty);
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "never a private part");
    }
}

#[tokio::test]
async fn signing_keys_survive_a_restart() {
    let database_url = crate::support::fresh_sqlite_url();
    let first = crate::support::spawn_on(&database_url, ConfigLayer::default()).await;
    let (_, client) = first.create_client("persist", "core.invoice.read").await;
    let token = first.access_token(&client, None).await;
    drop(first);
    let second = crate::support::spawn_on(&database_url, ConfigLayer::default()).await;
    let issuer_bound = second
        .api_get(
            "/api/invoices",
            Some(&format!("Bearer {token}")),
            "application/json",
        )
        .await;
    // The issuer is the listen address, which differs between the two servers.
    assert_eq!(issuer_bound.status(), 401);
    assert!(
        issuer_bound.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("another server")
    );
    let fresh = second.access_token(&client, None).await;
    assert_eq!(
        fresh.split('.').next(),
        token.split('.').next(),
        "same key, same header"
    );
}

#[tokio::test]
async fn the_scope_catalogue_is_served() {
    let server = spawn_server().await;
    let scopes: Value = server.get_json("/oauth2/scopes").await;
    let names: Vec<&str> = scopes
        .as_array()
        .unwrap()
        .iter()
        .map(|scope| scope["name"].as_str().unwrap())
        .collect();
    for name in [
        "login",
        "email",
        "offline_access",
        "openid",
        "profile",
        "core.common.read",
        "core.invoice.read",
    ] {
        assert!(names.contains(&name), "{name}");
    }
    let scope: Value = server.get_json("/oauth2/scopes/core.invoice.read").await;
    assert!(
        scope["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["method"] == "GET" && p["path"] == "/api/invoices")
    );
    let missing = server
        .http
        .get(server.url("/oauth2/scopes/core.nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn api_docs_is_a_valid_openapi_document() {
    let server = spawn_server().await;
    let output = crate::support::run_node("validate-openapi.mjs", &[&server.url("/api_docs")])
        .await
        .unwrap_or_else(|error| panic!("the OpenAPI document is invalid: {error}"));
    let summary: Value = serde_json::from_str(&output).unwrap();
    assert!(summary["paths"].as_u64().unwrap() > 40, "{summary}");
}
