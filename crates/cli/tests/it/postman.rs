//! `coupa postman export`, run with newman against `coupa serve --demo`.

use serde_json::Value;

use crate::support::{ADMIN_TOKEN, fresh_sqlite_url, unique_name};
use crate::support::{coupa, start_serve_capturing, terminate};

/// The value of `name=` in the demo's printed token curl.
fn form_value(curl: &str, name: &str) -> String {
    let start = curl.find(&format!("{name}=")).unwrap() + name.len() + 1;
    curl[start..].split(['&', '"']).next().unwrap().to_string()
}

struct NewmanRun {
    success: bool,
    output: String,
    report: Value,
}

async fn newman(collection: &std::path::Path, extra: &[&str]) -> NewmanRun {
    let node = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let report = collection.with_extension(format!("report{}.json", extra.len()));
    let output = tokio::process::Command::new(node.join("node_modules/.bin/newman"))
        .arg("run")
        .arg(collection)
        .args(["--reporters", "cli,json", "--reporter-json-export"])
        .arg(&report)
        .args(extra)
        .output()
        .await
        .expect("newman runs (scripts/test installs it)");
    NewmanRun {
        success: output.status.success(),
        output: String::from_utf8_lossy(&output.stdout).to_string(),
        report: serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap(),
    }
}

fn stat(report: &Value, what: &str, field: &str) -> u64 {
    report["run"]["stats"][what][field].as_u64().unwrap()
}

#[tokio::test]
async fn the_exported_collection_runs_green_with_newman_against_the_demo() {
    let database_url = fresh_sqlite_url();
    let args = [
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        database_url.as_str(),
    ];
    let (child, url, printed) =
        start_serve_capturing(&args, &[("COUPA_ADMIN_TOKEN", ADMIN_TOKEN)]).await;
    let curl = printed
        .lines()
        .find(|line| line.trim_start().starts_with("curl -X POST"))
        .expect("the demo prints a token curl");
    let (client_id, secret) = (
        form_value(curl, "client_id"),
        form_value(curl, "client_secret"),
    );
    let dir = std::env::temp_dir().join(unique_name("postman-"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("demo.postman_collection.json");
    let env = [
        ("COUPA_URL", url.as_str()),
        ("COUPA_CLIENT_ID", client_id.as_str()),
        ("COUPA_CLIENT_SECRET", secret.as_str()),
        ("COUPA_SCOPE", "core.invoice.read core.expense.read"),
    ];
    let exported = coupa(
        &["postman", "export", "--output", file.to_str().unwrap()],
        &env,
    )
    .await;
    assert!(exported.success, "{}", exported.stderr);
    assert!(
        exported.stderr.contains("newman run"),
        "{}",
        exported.stderr
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(&secret),
        "the secret stays out unless asked for"
    );
    let collection: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        collection["info"]["schema"],
        "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    );
    let auth: Vec<(String, String)> = collection["auth"]["oauth2"]
        .as_array()
        .unwrap()
        .iter()
        .map(|setting| {
            (
                setting["key"].as_str().unwrap().to_string(),
                setting["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for expected in [
        ("grant_type", "client_credentials"),
        ("accessTokenUrl", "{{base_url}}/oauth2/token"),
        ("client_authentication", "body"),
    ] {
        assert!(
            auth.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {auth:?}"
        );
    }

    let secret_var = format!("client_secret={secret}");
    let full = newman(&file, &["--env-var", &secret_var]).await;
    assert!(full.success, "{}", full.output);
    assert_eq!(
        stat(&full.report, "requests", "total"),
        9,
        "{}",
        full.output
    );
    assert_eq!(stat(&full.report, "assertions", "failed"), 0);
    assert_eq!(stat(&full.report, "assertions", "total"), 9);
    let urls: Vec<String> = full.report["run"]["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|execution| {
            let url = &execution["request"]["url"];
            let path = url["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect::<Vec<_>>()
                .join("/");
            let query = url["query"]
                .as_array()
                .map(|query| {
                    query
                        .iter()
                        .map(|q| {
                            format!(
                                "{}={}",
                                q["key"].as_str().unwrap(),
                                q["value"].as_str().unwrap()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("&")
                })
                .unwrap_or_default();
            format!("/{path}?{query}")
        })
        .collect();
    assert!(
        urls.contains(&"/api/expense_reports?limit=1".to_string()),
        "{urls:?}"
    );
    assert!(
        urls.iter().any(|url| url.starts_with("/api/invoices/")),
        "{urls:?}"
    );

    let api_only = newman(&file, &["--env-var", &secret_var, "--folder", "API"]).await;
    assert!(
        api_only.success,
        "the pre-request script mints the token by itself: {}",
        api_only.output
    );
    assert_eq!(
        stat(&api_only.report, "requests", "total"),
        9,
        "8 API calls and the token request the script sent"
    );
    assert_eq!(stat(&api_only.report, "assertions", "total"), 8);

    let wrong_secret = newman(
        &file,
        &["--env-var", "client_secret=wrong", "--folder", "API"],
    )
    .await;
    assert!(!wrong_secret.success, "a refused token fails the run");
    assert!(
        wrong_secret
            .output
            .contains("the token endpoint refused (401)"),
        "the console says why: {}",
        wrong_secret.output
    );

    let with_secret = dir.join("with-secret.json");
    let exported = coupa(
        &[
            "postman",
            "export",
            "--include-secret",
            "--object",
            "suppliers",
            "--output",
            with_secret.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert!(exported.success, "{}", exported.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&with_secret)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let run = newman(&with_secret, &[]).await;
    assert!(
        !run.success && run.output.contains("403"),
        "suppliers lie outside the profile's scopes: {}",
        run.output
    );
    terminate(child).await;

    let stdout = coupa(&["postman", "export", "--object", "Bad Name"], &env).await;
    assert!(!stdout.success && stdout.stderr.contains("--object Bad Name"));
    let misuse = coupa(&["scopes", "list", "--output", "out.json"], &[]).await;
    assert!(
        !misuse.success
            && misuse
                .stderr
                .contains("only `coupa postman export` writes to a file"),
        "{}",
        misuse.stderr
    );
    let typo = coupa(&["scopes", "list", "--output", "jsn"], &[]).await;
    assert!(
        !typo.success && typo.stderr.contains("is not a format"),
        "{}",
        typo.stderr
    );
}
