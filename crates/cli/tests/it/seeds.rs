//! The seeds' own commands, run as written with the real curl.

use std::process::Command;

use serde_json::Value;

use crate::support::spawn_server;

fn curl(args: &[String]) -> String {
    let output = Command::new("curl")
        .arg("--silent")
        .arg("--show-error")
        .args(args)
        .output()
        .expect("curl is installed");
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn the_seed_001_curl_and_the_seed_003_curls_work_as_written() {
    let server = spawn_server().await;
    let scopes = "core.invoice.read core.expense.read";
    let (_, client) = server.create_client("seeds", scopes).await;
    let url = server.url.clone();
    let (id, secret) = (client.id.clone(), client.secret.clone());

    let seed_001 = tokio::task::spawn_blocking({
        let (url, id, secret) = (url.clone(), id.clone(), secret.clone());
        move || {
            curl(&[
                "-X".into(),
                "POST".into(),
                "-H".into(),
                "Content-Type: application/x-www-form-urlencoded".into(),
                "-d".into(),
                format!("client_id={id}&grant_type=client_credentials&scope={scopes}&client_secret={secret}"),
                format!("{url}/oauth2/token"),
            ])
        }
    })
    .await
    .unwrap();
    let body: Value = serde_json::from_str(&seed_001).unwrap();
    assert_eq!(body["expires_in"], 86_399);
    assert_eq!(body["scope"], scopes);

    let seed_003 = tokio::task::spawn_blocking(move || {
        let token_response = curl(&[
            "--location".into(),
            format!("{url}/oauth2/token"),
            "--header".into(),
            "Content-Type: application/x-www-form-urlencoded".into(),
            "--data-urlencode".into(),
            "grant_type=client_credentials".into(),
            "--data-urlencode".into(),
            format!("client_id={id}"),
            "--data-urlencode".into(),
            format!("client_secret={secret}"),
            "--data-urlencode".into(),
            format!("scope={scopes}"),
        ]);
        let token: Value = serde_json::from_str(&token_response).unwrap();
        let access_token = token["access_token"].as_str().unwrap().to_string();
        curl(&[
            "--location".into(),
            format!("{url}/api/invoices?limit=1"),
            "--header".into(),
            "Accept: application/json".into(),
            "--header".into(),
            format!("Authorization: Bearer {access_token}"),
        ])
    })
    .await
    .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&seed_003).unwrap(),
        serde_json::json!([])
    );
}
