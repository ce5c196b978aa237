//! The report card: for each finding, a small driver that commits exactly that mistake
//! against a demo server, and a clean driver that gets no finding.

use std::time::Duration;

use coupa_proto::admin::ReportView;
use futures_util::future::join_all;

use crate::support::*;

const SCOPE: &str = "core.invoice.read";

/// A client of its own for one driver, and a token for it.
async fn driver(server: &TestServer, login: &str) -> (Credentials, String) {
    let (_, client) = server.create_client(login, SCOPE).await;
    let token = server.access_token(&client, None).await;
    (client, token)
}

async fn get(server: &TestServer, token: &str, path: &str, accept: &str) -> u16 {
    server
        .api_get(path, Some(&format!("Bearer {token}")), accept)
        .await
        .status()
        .as_u16()
}

async fn report(server: &TestServer, login: &str) -> ReportView {
    server.admin.report(login).await.unwrap()
}

fn kinds(report: &ReportView) -> Vec<&str> {
    report
        .findings
        .iter()
        .map(|finding| finding.kind.as_str())
        .collect()
}

async fn demo_server() -> TestServer {
    spawn_server_with(
        Backend::Sqlite,
        coupa_server::ConfigLayer {
            demo: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

const JSON: &str = "application/json";

#[tokio::test]
async fn a_clean_integration_gets_no_finding() {
    let server = demo_server().await;
    let (_, token) = driver(&server, "clean-sync").await;
    for offset in [0, 50] {
        assert_eq!(
            get(
                &server,
                &token,
                &format!("/api/invoices?order_by=id&offset={offset}"),
                JSON
            )
            .await,
            200
        );
    }
    for id in 1..=5 {
        get(&server, &token, &format!("/api/invoices/{id}"), JSON).await;
    }
    let clean = report(&server, "clean-sync").await;
    assert_eq!(clean.requests, 8, "a token and seven calls");
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);
}

#[tokio::test]
async fn a_token_for_every_call_is_found() {
    let server = demo_server().await;
    let (client, _) = driver(&server, "token-per-call").await;
    for id in 1..=6 {
        let token = server.access_token(&client, None).await;
        get(&server, &token, &format!("/api/invoices/{id}"), JSON).await;
    }
    let found = report(&server, "token-per-call").await;
    assert_eq!(kinds(&found), ["token_per_call"]);
    assert_eq!(
        found.findings[0].evidence,
        "7 tokens minted for 6 API calls"
    );
}

#[tokio::test]
async fn a_secret_in_the_url_is_found_and_never_kept() {
    let server = demo_server().await;
    let (client, _) = driver(&server, "secret-in-url").await;
    let answer = server
        .http
        .post(server.url(&format!(
            "/oauth2/token?client_id={}&client_secret={}",
            client.id, client.secret
        )))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let found = report(&server, "secret-in-url").await;
    assert_eq!(kinds(&found), ["secret_in_query"]);
    let text = serde_json::to_string(&found).unwrap();
    assert!(
        !text.contains(&client.secret),
        "the secret is not kept: {text}"
    );
    assert!(found.findings[0].example.contains(&client.id));
}

#[tokio::test]
async fn bursts_over_coupas_rate_are_found() {
    let server = demo_server().await;
    let (_, token) = driver(&server, "bursty").await;
    // Start at the beginning of a second, so that the burst falls within one.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000 - u64::from(now.subsec_millis()))).await;
    let calls = (0..40).map(|_| get(&server, &token, "/api/invoices/1", JSON));
    join_all(calls).await;
    let found = report(&server, "bursty").await;
    assert_eq!(kinds(&found), ["burst"]);
}

#[tokio::test]
async fn paging_mistakes_are_found_each_for_what_it_is() {
    let server = demo_server().await;
    let (_, from_one) = driver(&server, "pages-from-one").await;
    for offset in [1, 51] {
        get(
            &server,
            &from_one,
            &format!("/api/invoices?order_by=id&offset={offset}"),
            JSON,
        )
        .await;
    }
    assert_eq!(
        kinds(&report(&server, "pages-from-one").await),
        ["paging_from_one"]
    );

    let (_, skipping) = driver(&server, "pages-skipped").await;
    for offset in [0, 20] {
        get(
            &server,
            &skipping,
            &format!("/api/invoices?order_by=id&limit=10&offset={offset}"),
            JSON,
        )
        .await;
    }
    assert_eq!(
        kinds(&report(&server, "pages-skipped").await),
        ["paging_gap"]
    );

    let (_, unordered) = driver(&server, "pages-unordered").await;
    for offset in [0, 50] {
        get(
            &server,
            &unordered,
            &format!("/api/invoices?offset={offset}"),
            JSON,
        )
        .await;
    }
    assert_eq!(
        kinds(&report(&server, "pages-unordered").await),
        ["paging_unordered"]
    );
}

#[tokio::test]
async fn retried_refusals_and_double_fetches_are_found() {
    let server = demo_server().await;
    let (_, retrying) = driver(&server, "retries-403").await;
    for _ in 0..3 {
        assert_eq!(get(&server, &retrying, "/api/suppliers", JSON).await, 403);
    }
    let found = report(&server, "retries-403").await;
    assert_eq!(kinds(&found), ["retried_refusal"]);
    assert_eq!(found.findings[0].count, 2);

    let (_, refetching) = driver(&server, "xml-then-json").await;
    get(&server, &refetching, "/api/invoices/2", "application/xml").await;
    get(&server, &refetching, "/api/invoices/2", JSON).await;
    assert_eq!(
        kinds(&report(&server, "xml-then-json").await),
        ["xml_then_json"]
    );
}

#[tokio::test]
async fn coupa_admin_report_lists_explains_and_exports_markdown() {
    let server = demo_server().await;
    let (_, token) = driver(&server, "report-cli").await;
    for offset in [1, 51] {
        get(
            &server,
            &token,
            &format!("/api/invoices?offset={offset}"),
            JSON,
        )
        .await;
    }
    let env = [
        ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
        ("COUPA_URL", server.url.as_str()),
    ];
    let listed = coupa(&["admin", "report"], &env).await;
    assert!(listed.success, "{}", listed.stderr);
    let line = listed
        .stdout
        .lines()
        .find(|line| line.starts_with("report-cli"))
        .unwrap_or_else(|| panic!("{}", listed.stdout));
    assert!(line.contains("paging_from_one, paging_unordered"), "{line}");
    let explained = coupa(&["admin", "report", "report-cli"], &env).await;
    assert!(
        explained
            .stdout
            .contains("fix:      Coupa's offset counts records from 0"),
        "{}",
        explained.stdout
    );
    let markdown = coupa(&["admin", "report", "report-cli", "--markdown"], &env).await;
    assert!(
        markdown
            .stdout
            .starts_with("# Report card: Client report-cli (report-cli)"),
        "{}",
        markdown.stdout
    );
    assert!(
        markdown
            .stdout
            .contains("## Offset paging without order_by=id")
    );
    let json = coupa(&["admin", "report", "report-cli", "--output", "json"], &env).await;
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 2);
    let unknown = coupa(&["admin", "report", "nobody"], &env).await;
    assert!(!unknown.success);
    assert!(
        unknown.stderr.contains("no such client"),
        "{}",
        unknown.stderr
    );
}
