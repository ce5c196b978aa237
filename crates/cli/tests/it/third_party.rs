//! Third-party peers: the `oauth2` crate gets tokens; npm `jose` verifies them against the JWKS.

use coupa_server::ConfigLayer;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use serde_json::Value;

use crate::support::{Backend, spawn_server, spawn_server_with};

/// The HTTP transport oauth2 needs, over reqwest.
async fn transport(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client.execute(reqwest::Request::try_from(request)?).await?;
    let mut builder = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    Ok(builder
        .body(response.bytes().await?.to_vec())
        .expect("a valid response"))
}

#[tokio::test]
async fn the_oauth2_crate_gets_tokens_by_body_and_by_basic() {
    let server = spawn_server().await;
    let (_, client) = server
        .create_client("oauth2-crate", "core.invoice.read core.expense.read")
        .await;
    for auth_type in [AuthType::RequestBody, AuthType::BasicAuth] {
        let oauth = BasicClient::new(ClientId::new(client.id.clone()))
            .set_client_secret(ClientSecret::new(client.secret.clone()))
            .set_token_uri(TokenUrl::new(server.url("/oauth2/token")).unwrap())
            .set_auth_type(auth_type.clone());
        let token = oauth
            .exchange_client_credentials()
            .add_scope(Scope::new("core.invoice.read".into()))
            .request_async(&transport)
            .await
            .unwrap_or_else(|error| panic!("{auth_type:?}: {error:?}"));
        assert_eq!(token.expires_in().unwrap().as_secs(), 86_399);
        assert_eq!(
            token.scopes().unwrap(),
            &vec![Scope::new("core.invoice.read".into())]
        );
        assert!(token.refresh_token().is_none());
        let bearer = format!("Bearer {}", token.access_token().secret());
        let response = server
            .api_get("/api/invoices", Some(&bearer), "application/json")
            .await;
        assert_eq!(response.status(), 200);
    }
    let oauth = BasicClient::new(ClientId::new(client.id.clone()))
        .set_client_secret(ClientSecret::new(client.secret.clone()))
        .set_token_uri(TokenUrl::new(server.url("/oauth2/token")).unwrap());
    let error = oauth
        .exchange_client_credentials()
        .add_scope(Scope::new("core.user.write".into()))
        .request_async(&transport)
        .await
        .unwrap_err();
    assert!(format!("{error:?}").contains("invalid_scope"), "{error:?}");
}

async fn verify_with_jose(
    jwks_url: &str,
    issuer: &str,
    audience: &str,
    token: &str,
) -> Result<Value, String> {
    let output =
        crate::support::run_node("verify-jwt.mjs", &[jwks_url, issuer, audience, token]).await?;
    Ok(serde_json::from_str(&output).expect("JSON from verify-jwt.mjs"))
}

#[tokio::test]
async fn an_independent_jose_library_verifies_tokens_of_every_algorithm() {
    for alg in ["ES256", "RS256", "EdDSA"] {
        let settings = ConfigLayer {
            signing_alg: Some(alg.into()),
            ..ConfigLayer::default()
        };
        let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
        let (view, client) = server
            .create_client("jose", "core.invoice.read core.expense.read")
            .await;
        let token = server
            .access_token(&client, Some("core.expense.read"))
            .await;
        let verified = verify_with_jose(
            &server.url("/oauth2/jwks"),
            &server.url,
            &server.url("/api"),
            &token,
        )
        .await
        .unwrap_or_else(|error| panic!("{alg}: {error}"));
        let payload = &verified["payload"];
        assert_eq!(verified["protectedHeader"]["alg"], alg);
        assert_eq!(verified["protectedHeader"]["typ"], "at+jwt");
        assert_eq!(payload["sub"], "jose");
        assert_eq!(payload["client_id"], view.client_id);
        assert_eq!(payload["scope"], "core.expense.read");
        assert_eq!(
            payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
            86_399
        );
        assert!(payload["jti"].as_str().unwrap().len() >= 32);

        // The first character of the signature always carries signature bits (the last may
        // hold only padding bits, which lenient decoders ignore).
        let signature_start = token.rfind('.').unwrap() + 1;
        let mut tampered = token.clone();
        let replacement = if &token[signature_start..=signature_start] == "A" {
            "B"
        } else {
            "A"
        };
        tampered.replace_range(signature_start..=signature_start, replacement);
        assert!(
            verify_with_jose(
                &server.url("/oauth2/jwks"),
                &server.url,
                &server.url("/api"),
                &tampered
            )
            .await
            .is_err()
        );
    }
}

#[tokio::test]
async fn jose_refuses_a_token_checked_against_another_servers_keys() {
    let server = spawn_server().await;
    let other = spawn_server().await;
    let (_, client) = server.create_client("cross", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    let error = verify_with_jose(
        &other.url("/oauth2/jwks"),
        &server.url,
        &server.url("/api"),
        &token,
    )
    .await
    .unwrap_err();
    assert!(error.contains("ERR_JWKS_NO_MATCHING_KEY"), "{error}");
}
