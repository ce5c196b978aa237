//! Staged signing-key rotation: relying parties that cache the JWKS see no failure across a
//! rotation; a compromised key is refused at once; the admin API, `coupa admin keys` and
//! Setup drive it; automatic rotation follows its interval.

use coupa_server::ConfigLayer;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{
    ADMIN_TOKEN, Backend, TestServer, coupa, jwt_kid as kid_of, run_node, spawn_on,
    spawn_server_with,
};

fn rotating(max_age: &str, delay: &str) -> ConfigLayer {
    ConfigLayer {
        jwks_max_age: Some(max_age.into()),
        key_publication_delay: Some(delay.into()),
        ..ConfigLayer::default()
    }
}

/// Runs the caching relying party for `duration_ms`, rotating after `rotate_after_ms`.
async fn relying_party(server: &TestServer, duration_ms: u64, rotate_after_ms: u64) -> Value {
    let (_, client) = server.create_client("relying", "core.invoice.read").await;
    let output = run_node(
        "rotating-relying-party.mjs",
        &[
            &server.url,
            &client.id,
            &client.secret,
            ADMIN_TOKEN,
            &duration_ms.to_string(),
            &rotate_after_ms.to_string(),
        ],
    )
    .await
    .unwrap();
    serde_json::from_str(&output).unwrap()
}

#[tokio::test]
async fn a_relying_party_caching_the_jwks_sees_no_failure_across_a_rotation() {
    let server = spawn_server_with(Backend::Sqlite, rotating("2s", "3s"))
        .await
        .unwrap();
    let jwks = server
        .http
        .get(server.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        jwks.headers()["cache-control"],
        "public, max-age=2",
        "the JWKS says how long it may be cached"
    );
    let (_, client) = server.create_client("holder", "core.invoice.read").await;
    let before = server.access_token(&client, None).await;

    let report = relying_party(&server, 7_000, 500).await;
    assert_eq!(report["failures"], serde_json::json!([]), "{report}");
    let kids = report["kids"].as_array().unwrap();
    assert_eq!(
        kids.len(),
        2,
        "the new key signed after the delay: {report}"
    );
    assert!(report["verified"].as_u64().unwrap() > 40, "{report}");

    let after = server.access_token(&client, None).await;
    assert_ne!(kid_of(&before), kid_of(&after));
    assert_eq!(
        server.list_invoices(&before).await.status(),
        StatusCode::OK,
        "a token signed before the switch keeps working until it expires"
    );
    let listed = server.admin.list_keys().await.unwrap();
    let states: Vec<(&str, &str)> = listed
        .iter()
        .filter(|key| key.alg == "ES256")
        .map(|key| (key.kid.as_str(), key.state.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            (kid_of(&before).as_str(), "retired"),
            (kid_of(&after).as_str(), "active")
        ]
    );
}

/// The same relying party fails when a new key signs at once, as servers without a
/// publication delay do: the test above can fail.
#[tokio::test]
async fn without_a_publication_delay_the_same_relying_party_fails() {
    let server = spawn_server_with(Backend::Sqlite, rotating("30s", "0"))
        .await
        .unwrap();
    let report = relying_party(&server, 2_000, 300).await;
    let failures = report["failures"].as_array().unwrap();
    assert!(!failures.is_empty(), "{report}");
    assert!(
        failures[0]
            .as_str()
            .unwrap()
            .contains("ERR_JWKS_NO_MATCHING_KEY"),
        "{report}"
    );
}

#[tokio::test]
async fn a_compromised_key_retired_now_is_refused_at_once() {
    let server = spawn_server_with(Backend::Sqlite, ConfigLayer::default())
        .await
        .unwrap();
    let (_, client) = server.create_client("victim", "core.invoice.read").await;
    let leaked = server.access_token(&client, None).await;
    let kid = kid_of(&leaked);
    let env = [
        ("COUPA_URL", server.url.as_str()),
        ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
    ];
    let retired = coupa(
        &["admin", "keys", "retire", &kid, "--now", "--output", "json"],
        &env,
    )
    .await;
    assert!(retired.success, "{}", retired.stderr);
    let keys: Value = serde_json::from_str(&retired.stdout).unwrap();
    let old = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .unwrap();
    assert_eq!(old["state"], "expired", "{keys}");

    let refused = server.list_invoices(&leaked).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(
        crate::support::challenge(&refused).contains("retired key"),
        "{}",
        crate::support::challenge(&refused)
    );
    let jwks: Value = server.get_json("/oauth2/jwks").await;
    assert!(
        !jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|key| key["kid"] == kid.as_str()),
        "{jwks}"
    );
    let fresh = server.access_token(&client, None).await;
    assert_ne!(kid_of(&fresh), kid);
    assert_eq!(server.list_invoices(&fresh).await.status(), StatusCode::OK);

    let text = coupa(&["admin", "keys", "list"], &env).await;
    assert!(text.success, "{}", text.stderr);
    assert!(text.stdout.starts_with("KID"), "{}", text.stdout);
    assert!(text.stdout.contains("expired"), "{}", text.stdout);
}

#[tokio::test]
async fn the_admin_api_explains_what_it_refuses() {
    let server = spawn_server_with(Backend::Sqlite, ConfigLayer::default())
        .await
        .unwrap();
    let keys = server.admin.rotate_keys(Some("ES256")).await.unwrap();
    let next = keys.iter().find(|key| key.state == "next").unwrap().clone();
    let active = keys
        .iter()
        .find(|key| key.state == "active" && key.alg == "ES256")
        .unwrap()
        .clone();
    assert_eq!(
        active.signs_until.as_deref(),
        Some(next.signs_from.as_str())
    );
    assert!(active.verifies_until.is_some());

    let again = server.admin.rotate_keys(Some("ES256")).await.unwrap_err();
    assert!(again.to_string().contains("already under way"), "{again}");
    let unknown = server.admin.rotate_keys(Some("HS256")).await.unwrap_err();
    assert!(
        unknown.to_string().contains("ES256, RS256, EdDSA"),
        "{unknown}"
    );
    let removing_active = server.admin.remove_key(&active.kid).await.unwrap_err();
    assert!(
        removing_active.to_string().contains("retire it before"),
        "{removing_active}"
    );
    let missing = server
        .admin
        .retire_key("no-such-kid", false)
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("404"), "{missing}");

    // Retiring the key waiting to sign cancels the rotation.
    let cancelled = server.admin.retire_key(&next.kid, false).await.unwrap();
    assert!(!cancelled.iter().any(|key| key.kid == next.kid));
    let restored = cancelled.iter().find(|key| key.kid == active.kid).unwrap();
    assert_eq!(
        (restored.state.as_str(), restored.signs_until.as_deref()),
        ("active", None)
    );

    // Retiring the active key hands over at once; the retired key can then be removed.
    let (_, client) = server.create_client("handover", "core.invoice.read").await;
    let held = server.access_token(&client, None).await;
    let handed = server.admin.retire_key(&active.kid, false).await.unwrap();
    let old = handed.iter().find(|key| key.kid == active.kid).unwrap();
    assert_eq!(old.state, "retired");
    assert_eq!(server.list_invoices(&held).await.status(), StatusCode::OK);
    assert_ne!(
        kid_of(&server.access_token(&client, None).await),
        active.kid
    );
    let removed = server.admin.remove_key(&active.kid).await.unwrap();
    assert!(!removed.iter().any(|key| key.kid == active.kid));
    assert_eq!(
        server.list_invoices(&held).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let no_body = server
        .http
        .post(server.url("/admin/api/keys/rotate"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(no_body.status(), StatusCode::OK, "every algorithm rotates");
    let rotated: Vec<Value> = no_body.json().await.unwrap();
    let next_algs: Vec<&str> = rotated
        .iter()
        .filter(|key| key["state"] == "next")
        .map(|key| key["alg"].as_str().unwrap())
        .collect();
    assert_eq!(next_algs, ["ES256", "RS256"]);
}

#[tokio::test]
async fn keys_rotate_by_themselves_on_their_interval() {
    let url = crate::support::fresh_sqlite_url();
    let settings = ConfigLayer {
        key_rotation_interval: Some("2s".into()),
        key_publication_delay: Some("1s".into()),
        ..ConfigLayer::default()
    };
    let server = spawn_on(&url, settings).await;
    let (_, client) = server.create_client("scheduled", "core.invoice.read").await;
    let first = kid_of(&server.access_token(&client, None).await);
    tokio::time::sleep(std::time::Duration::from_millis(4_500)).await;
    let later = kid_of(&server.access_token(&client, None).await);
    assert_ne!(first, later, "a new key signs after the interval");
    let keys = server.admin.list_keys().await.unwrap();
    assert!(
        keys.iter().filter(|key| key.alg == "RS256").count() >= 2,
        "every algorithm rotates: {keys:?}"
    );
}
