//! `coupa postman export`, run with newman against `coupa serve --demo`.

use serde_json::Value;

use crate::support::{coupa, start_demo_serve, terminate};
use crate::support::{fresh_sqlite_url, unique_name};

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

/// `coupa serve --demo` as a process, the demo client it printed, and a collection exported
/// for it (without the secret) to `file`.
struct ExportedDemo {
    child: tokio::process::Child,
    url: String,
    client_id: String,
    secret: String,
    dir: std::path::PathBuf,
    file: std::path::PathBuf,
}

impl ExportedDemo {
    async fn start() -> Self {
        let (child, url, _, curl) = start_demo_serve(&fresh_sqlite_url()).await;
        let (client_id, secret) = (
            form_value(&curl, "client_id"),
            form_value(&curl, "client_secret"),
        );
        let dir = std::env::temp_dir().join(unique_name("postman-"));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("demo.postman_collection.json");
        let demo = Self {
            child,
            url,
            client_id,
            secret,
            dir,
            file,
        };
        let exported = coupa(
            &["postman", "export", "--output", demo.file.to_str().unwrap()],
            &demo.env(),
        )
        .await;
        assert!(exported.success, "{}", exported.stderr);
        assert!(
            exported.stderr.contains("newman run"),
            "{}",
            exported.stderr
        );
        demo
    }

    fn env(&self) -> [(&str, &str); 4] {
        [
            ("COUPA_URL", self.url.as_str()),
            ("COUPA_CLIENT_ID", self.client_id.as_str()),
            ("COUPA_CLIENT_SECRET", self.secret.as_str()),
            ("COUPA_SCOPE", "core.invoice.read core.expense.read"),
        ]
    }

    fn secret_var(&self) -> String {
        format!("client_secret={}", self.secret)
    }
}

/// Each executed request of a newman report as `/path?query`.
fn executed_urls(report: &Value) -> Vec<String> {
    report["run"]["executions"]
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
        .collect()
}

#[tokio::test]
async fn the_exported_collection_leaves_the_secret_out_and_uses_client_credentials() {
    let demo = ExportedDemo::start().await;
    let text = std::fs::read_to_string(&demo.file).unwrap();
    assert!(
        !text.contains(&demo.secret),
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
    terminate(demo.child).await;
}

#[tokio::test]
async fn the_exported_collection_runs_green_with_newman_against_the_demo() {
    let demo = ExportedDemo::start().await;
    let full = newman(&demo.file, &["--env-var", &demo.secret_var()]).await;
    assert!(full.success, "{}", full.output);
    assert_eq!(
        stat(&full.report, "requests", "total"),
        9,
        "{}",
        full.output
    );
    assert_eq!(stat(&full.report, "assertions", "failed"), 0);
    assert_eq!(stat(&full.report, "assertions", "total"), 9);
    let urls = executed_urls(&full.report);
    assert!(
        urls.contains(&"/api/expense_reports?limit=1".to_string()),
        "{urls:?}"
    );
    assert!(
        urls.iter().any(|url| url.starts_with("/api/invoices/")),
        "{urls:?}"
    );
    terminate(demo.child).await;
}

#[tokio::test]
async fn the_api_folder_mints_its_own_token_and_says_why_a_refused_one_fails() {
    let demo = ExportedDemo::start().await;
    let api_only = newman(
        &demo.file,
        &["--env-var", &demo.secret_var(), "--folder", "API"],
    )
    .await;
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
        &demo.file,
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
    terminate(demo.child).await;
}

#[tokio::test]
async fn an_export_with_the_secret_is_private_and_keeps_to_the_profiles_scopes() {
    let demo = ExportedDemo::start().await;
    let with_secret = demo.dir.join("with-secret.json");
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
        &demo.env(),
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
    terminate(demo.child).await;
}

#[tokio::test]
async fn export_and_output_options_refuse_misuse_and_say_what_to_do() {
    let env = [
        ("COUPA_URL", "http://127.0.0.1:9"),
        ("COUPA_CLIENT_ID", "someone"),
        ("COUPA_CLIENT_SECRET", "secret"),
    ];
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
