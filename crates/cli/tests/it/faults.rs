//! The sandbox's faults: each of Coupa's failure modes switched on through the admin API (or
//! a scenario file, or `coupa admin faults`), seen by a real client, ended by count or time,
//! and recorded in the audit trail.

use std::time::{Duration, Instant};

use coupa_proto::admin::{AuditFilters, CreateFault};
use serde_json::Value;

use crate::interactive::jwt_claims;
use crate::support::*;

const SCOPE: &str = "core.invoice.read";

fn fault(kind: &str) -> CreateFault {
    CreateFault {
        kind: kind.into(),
        ..CreateFault::default()
    }
}

async fn invoices(server: &TestServer, token: &str) -> reqwest::Response {
    server.list_invoices(token).await
}

#[tokio::test]
async fn the_token_endpoint_fails_for_one_client_until_its_requests_are_spent() {
    let server = spawn_server().await;
    let (_, sync) = server.create_client("fault-sync", SCOPE).await;
    let (_, other) = server.create_client("fault-other", SCOPE).await;
    server
        .admin
        .add_fault(&CreateFault {
            client: Some("fault-sync".into()),
            requests: Some(2),
            ..fault("token_unavailable")
        })
        .await
        .unwrap();
    for _ in 0..2 {
        let refused = server.client_credentials(&sync, &[]).await;
        assert_eq!(refused.status(), 503);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }
    assert_eq!(server.client_credentials(&other, &[]).await.status(), 200);
    assert_eq!(server.client_credentials(&sync, &[]).await.status(), 200);
    assert!(
        server.admin.list_faults().await.unwrap().is_empty(),
        "spent"
    );
}

#[tokio::test]
async fn slow_answers_short_lives_and_oversized_tokens() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("fault-tokens", SCOPE).await;
    server
        .admin
        .add_fault(&CreateFault {
            requests: Some(1),
            delay: Some("1s".into()),
            ..fault("token_slow")
        })
        .await
        .unwrap();
    let started = Instant::now();
    assert_eq!(server.client_credentials(&client, &[]).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_secs(1));
    let started = Instant::now();
    server.access_token(&client, None).await;
    assert!(started.elapsed() < Duration::from_secs(1), "spent");

    server
        .admin
        .add_fault(&CreateFault {
            client: Some(client.id.clone()),
            lifetime: Some("60s".into()),
            ..fault("token_lifetime")
        })
        .await
        .unwrap();
    let body: Value = server
        .client_credentials(&client, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["expires_in"], 60);
    let short = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        short["exp"].as_i64().unwrap() - short["iat"].as_i64().unwrap(),
        60
    );
    server.admin.clear_faults().await.unwrap();

    server
        .admin
        .add_fault(&CreateFault {
            bytes: Some(12_000),
            ..fault("oversized_token")
        })
        .await
        .unwrap();
    let token = server.access_token(&client, None).await;
    assert!(
        (11_900..=12_000).contains(&token.len()),
        "{} bytes",
        token.len()
    );
    assert_eq!(
        invoices(&server, &token).await.status(),
        200,
        "the server itself takes its oversized tokens"
    );
}

#[tokio::test]
async fn the_api_answers_429_503_late_or_not_at_all() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("fault-api", SCOPE).await;
    let token = server.access_token(&client, None).await;

    server
        .admin
        .add_fault(&CreateFault {
            requests: Some(2),
            ..fault("api_rate_limited")
        })
        .await
        .unwrap();
    for _ in 0..2 {
        let limited = invoices(&server, &token).await;
        assert_eq!(limited.status(), 429);
        assert!(limited.headers().get("retry-after").is_none(), "as Coupa");
        let body: Value = limited.json().await.unwrap();
        assert!(body["errors"].is_object(), "{body}");
    }
    assert_eq!(invoices(&server, &token).await.status(), 200);
    server
        .admin
        .add_fault(&CreateFault {
            requests: Some(1),
            retry_after: Some(7),
            ..fault("api_rate_limited")
        })
        .await
        .unwrap();
    let limited = invoices(&server, &token).await;
    assert_eq!(limited.headers()["retry-after"], "7");

    server
        .admin
        .add_fault(&CreateFault {
            requests: Some(2),
            ..fault("api_unavailable")
        })
        .await
        .unwrap();
    assert_eq!(invoices(&server, &token).await.status(), 503);
    let xml = server
        .api_get(
            "/api/invoices",
            Some(&format!("Bearer {token}")),
            "application/xml",
        )
        .await;
    assert_eq!(xml.status(), 503);
    assert!(xml.text().await.unwrap().contains("<errors>"), "in XML");
    assert_eq!(invoices(&server, &token).await.status(), 200);

    server
        .admin
        .add_fault(&CreateFault {
            requests: Some(1),
            delay: Some("1s".into()),
            ..fault("api_slow")
        })
        .await
        .unwrap();
    let started = Instant::now();
    assert_eq!(invoices(&server, &token).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_secs(1));

    server
        .admin
        .add_fault(&CreateFault {
            requests: Some(1),
            ..fault("api_connection_dropped")
        })
        .await
        .unwrap();
    let dropped = server
        .http
        .get(server.url("/api/invoices"))
        .bearer_auth(&token)
        .send()
        .await
        .expect_err("the connection is closed without an answer");
    assert!(dropped.is_request(), "{dropped:?}");
    assert_eq!(invoices(&server, &token).await.status(), 200);
}

#[tokio::test]
async fn held_tokens_are_refused_by_clock_age_or_scope_change() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("fault-held", SCOPE).await;
    let held = server.access_token(&client, None).await;

    let offset = server
        .admin
        .add_fault(&CreateFault {
            offset: Some("24h".into()),
            ..fault("clock_offset")
        })
        .await
        .unwrap();
    let expired = invoices(&server, &held).await;
    assert_eq!(expired.status(), 401);
    assert!(
        challenge(&expired).contains("expired"),
        "{}",
        challenge(&expired)
    );
    server.admin.remove_fault(&offset.id).await.unwrap();
    assert_eq!(invoices(&server, &held).await.status(), 200);

    // Times are whole seconds: the change comes a second after the held token.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    server
        .admin
        .add_fault(&CreateFault {
            client: Some("fault-held".into()),
            ..fault("scope_change")
        })
        .await
        .unwrap();
    let refused = invoices(&server, &held).await;
    assert_eq!(refused.status(), 401);
    assert!(
        challenge(&refused).contains("scopes changed"),
        "{}",
        challenge(&refused)
    );
    // A token issued after the change works; the fault began at a whole second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = server.access_token(&client, None).await;
    assert_eq!(invoices(&server, &fresh).await.status(), 200);
    server.admin.clear_faults().await.unwrap();

    server
        .admin
        .add_fault(&CreateFault {
            delay: Some("2s".into()),
            ..fault("token_propagation_delay")
        })
        .await
        .unwrap();
    let young = server.access_token(&client, None).await;
    let refused = invoices(&server, &young).await;
    assert_eq!(refused.status(), 401);
    assert!(
        challenge(&refused).contains("not valid yet"),
        "{}",
        challenge(&refused)
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(invoices(&server, &young).await.status(), 200);
    assert_eq!(invoices(&server, &held).await.status(), 200);
}

#[tokio::test]
async fn faults_are_listed_end_by_themselves_and_are_audited() {
    let server = spawn_server().await;
    server.create_client("fault-audit", SCOPE).await;
    let short = server
        .admin
        .add_fault(&CreateFault {
            duration: Some("1s".into()),
            ..fault("api_unavailable")
        })
        .await
        .unwrap();
    let waiting = server
        .admin
        .add_fault(&CreateFault {
            client: Some("fault-audit".into()),
            starts_in: Some("1h".into()),
            requests: Some(5),
            ..fault("scope_change")
        })
        .await
        .unwrap();
    assert!(short.active);
    assert!(!waiting.active);
    assert_eq!(waiting.requests_left, Some(5));
    let listed = server.admin.list_faults().await.unwrap();
    assert_eq!(listed.len(), 2);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let listed = server.admin.list_faults().await.unwrap();
    assert_eq!(listed.len(), 1, "the one-second fault ended by itself");
    assert_eq!(listed[0].id, waiting.id);
    server.admin.remove_fault(&waiting.id).await.unwrap();
    assert!(server.admin.remove_fault(&waiting.id).await.is_err());
    server
        .admin
        .add_fault(&fault("api_unavailable"))
        .await
        .unwrap();
    assert_eq!(server.admin.clear_faults().await.unwrap(), 1);

    let trail = server
        .admin
        .audit(&AuditFilters {
            kind: Some("fault".into()),
            ..AuditFilters::default()
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = trail
        .entries
        .iter()
        .map(|entry| entry.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "fault.cleared",
            "fault.added",
            "fault.removed",
            "fault.added",
            "fault.added"
        ]
    );
    assert!(
        trail
            .entries
            .iter()
            .all(|entry| entry.actor == "admin token")
    );
    assert_eq!(
        trail.entries[3].details["kind"], "scope_change",
        "{:?}",
        trail.entries[3]
    );
}

#[tokio::test]
async fn bad_faults_are_refused_field_by_field_and_their_number_is_bounded() {
    let server = spawn_server().await;
    let post = |body: Value| {
        let http = server.http.clone();
        let url = server.url("/admin/api/faults");
        async move {
            http.post(url)
                .bearer_auth(ADMIN_TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    for (body, field) in [
        (serde_json::json!({"kind": "meteor_strike"}), "kind"),
        (serde_json::json!({"kind": "token_slow"}), "delay"),
        (
            serde_json::json!({"kind": "api_slow", "delay": "5m"}),
            "delay",
        ),
        (
            serde_json::json!({"kind": "api_unavailable", "client": "nobody"}),
            "client",
        ),
        (
            serde_json::json!({"kind": "api_unavailable", "bytes": 5}),
            "bytes",
        ),
        (
            serde_json::json!({"kind": "oversized_token", "bytes": 1_000_000}),
            "bytes",
        ),
        (
            serde_json::json!({"kind": "api_unavailable", "duration": "1y"}),
            "duration",
        ),
    ] {
        let refused = post(body.clone()).await;
        assert_eq!(refused.status(), 422, "{body}");
        let errors: Value = refused.json().await.unwrap();
        assert!(errors["errors"][field].is_array(), "{body}: {errors}");
    }
    let unknown_field = post(serde_json::json!({"kind": "api_unavailable", "color": "red"})).await;
    assert_eq!(unknown_field.status(), 400);
    let anonymous = server
        .http
        .get(server.url("/admin/api/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    for _ in 0..100 {
        assert_eq!(
            post(serde_json::json!({"kind": "api_slow", "delay": "1s", "starts_in": "1h"}))
                .await
                .status(),
            201
        );
    }
    let one_too_many = post(serde_json::json!({"kind": "api_unavailable"})).await;
    assert_eq!(one_too_many.status(), 422);
    assert!(
        one_too_many
            .text()
            .await
            .unwrap()
            .contains("remove some first"),
        "bounded"
    );
}

#[tokio::test]
async fn a_scenario_file_switches_its_faults_on_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        r#"
# The token endpoint fails twice, then /api rate-limits once, a second later.
[[faults]]
kind = "token_unavailable"
requests = 2

[[faults]]
kind = "api_rate_limited"
starts_in = "1s"
requests = 1
retry_after = 3
"#,
    )
    .unwrap();
    let database = fresh_sqlite_url();
    let scenario_text = scenario.display().to_string();
    let (child, url, _) = start_serve_capturing(
        &[
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &database,
            "--faults",
            &scenario_text,
            "--rate-limit",
            "0",
        ],
        &[("COUPA_ADMIN_TOKEN", ADMIN_TOKEN)],
    )
    .await;
    let admin = coupa_client::AdminClient::new(&url, ADMIN_TOKEN);
    let listed = admin.list_faults().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].created_by.starts_with("scenario "), "{listed:?}");
    let client = admin
        .create_client(&client_input("scenario-sync", SCOPE))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token_request = || {
        http.post(format!("{url}/oauth2/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client.client_id.as_str()),
                ("client_secret", client.client_secret.as_deref().unwrap()),
            ])
            .send()
    };
    assert_eq!(token_request().await.unwrap().status(), 503);
    assert_eq!(token_request().await.unwrap().status(), 503);
    let answer: Value = token_request().await.unwrap().json().await.unwrap();
    let token = answer["access_token"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let call = || {
        http.get(format!("{url}/api/invoices"))
            .bearer_auth(&token)
            .header("Accept", "application/json")
            .send()
    };
    let limited = call().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "3");
    assert_eq!(call().await.unwrap().status(), 200);
    terminate(child).await;

    // A scenario with a mistake stops the start, naming the file and the fault.
    std::fs::write(&scenario, "[[faults]]\nkind = \"token_slow\"\n").unwrap();
    let run = coupa(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &fresh_sqlite_url(),
            "--faults",
            &scenario_text,
        ],
        &[],
    )
    .await;
    assert!(!run.success);
    assert!(
        run.stderr.contains(&scenario_text) && run.stderr.contains("fault 1 (token_slow)"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn coupa_admin_faults_adds_lists_and_clears() {
    let server = spawn_server().await;
    server.create_client("cli-fault", SCOPE).await;
    let env = [
        ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
        ("COUPA_URL", server.url.as_str()),
    ];
    let added = coupa(
        &[
            "admin",
            "faults",
            "add",
            "api_rate_limited",
            "--client",
            "cli-fault",
            "--requests",
            "3",
            "--retry-after",
            "5",
            "--output",
            "json",
        ],
        &env,
    )
    .await;
    assert!(added.success, "{}", added.stderr);
    let added: Value = serde_json::from_str(&added.stdout).unwrap();
    assert_eq!(added[0]["kind"], "api_rate_limited");
    assert_eq!(added[0]["requests_left"], 3);
    let listed = coupa(&["admin", "faults", "list"], &env).await;
    assert!(
        listed.stdout.contains("Retry-After: 5"),
        "{}",
        listed.stdout
    );
    let wrong = coupa(&["admin", "faults", "add", "meteor_strike"], &env).await;
    assert!(!wrong.success);
    assert!(
        wrong.stderr.contains("api_rate_limited"),
        "{}",
        wrong.stderr
    );
    let missing = coupa(&["admin", "faults", "add", "token_slow"], &env).await;
    assert!(!missing.success);
    assert!(missing.stderr.contains("delay"), "{}", missing.stderr);
    let cleared = coupa(&["admin", "faults", "clear"], &env).await;
    assert!(
        cleared.stdout.contains("1 fault(s) switched off"),
        "{}",
        cleared.stdout
    );
    let empty = coupa(&["admin", "faults", "list"], &env).await;
    assert!(empty.stdout.contains("No fault is on"), "{}", empty.stdout);
}

/// The statuses of 40 invoice lists from a fresh server with `seed`, while `api_unavailable`
/// is on for about half the requests.
async fn intermittent_statuses(seed: u64) -> Vec<u16> {
    let server = spawn_server_with(
        Backend::Sqlite,
        coupa_server::ConfigLayer {
            seed: Some(seed),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (_, client) = server.create_client("fault-chance", SCOPE).await;
    let token = server.access_token(&client, None).await;
    let fault = server
        .admin
        .add_fault(&CreateFault {
            probability: Some(0.5),
            ..fault("api_unavailable")
        })
        .await
        .unwrap();
    assert_eq!(fault.probability, Some(0.5));
    assert!(
        fault.effect.contains("about 50% of requests"),
        "{}",
        fault.effect
    );
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(invoices(&server, &token).await.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn intermittent_faults_repeat_exactly_with_their_seed() {
    let first = intermittent_statuses(7).await;
    let unavailable = first.iter().filter(|status| **status == 503).count();
    assert!((8..=32).contains(&unavailable), "{first:?}");
    assert!(first.iter().all(|status| [200, 503].contains(status)));
    assert_eq!(
        intermittent_statuses(7).await,
        first,
        "the same seed, the same failures"
    );
    assert_ne!(
        intermittent_statuses(8).await,
        first,
        "another seed, other failures"
    );
}
