//! The `coupa` binary itself: admin commands, scopes, and `serve` as a real process.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::{
    ADMIN_TOKEN, COUPA, Credentials, Run, TestServer, coupa, fresh_sqlite_url, spawn_server,
    start_serve_capturing, terminate,
};

fn json(run: &Run) -> Value {
    assert!(run.success, "command failed: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

#[tokio::test]
async fn admin_clients_commands_drive_the_admin_api() {
    let server = spawn_server().await;
    let env = [
        ("COUPA_URL", server.url.as_str()),
        ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
    ];
    let created = json(
        &coupa(
            &[
                "admin",
                "clients",
                "create",
                "--name",
                "Invoices sync",
                "--login",
                "invoice-sync",
                "--grant-type",
                "client_credentials",
                "--scope",
                "core.invoice.read core.expense.read",
                "--contact-info",
                "Integration team",
                "--contact-email",
                "team@example.com",
                "--output",
                "json",
            ],
            &env,
        )
        .await,
    );
    for field in [
        "client_id",
        "client_secret",
        "name",
        "login",
        "grant_type",
        "scope",
        "active",
    ] {
        assert!(
            created.get(field).is_some(),
            "{field} missing from {created}"
        );
    }
    assert_eq!(created["scope"], "core.invoice.read core.expense.read");
    assert_eq!(created["active"], true);
    let id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let client = crate::support::Credentials {
        id: id.into(),
        secret: secret.into(),
    };
    server
        .access_token(&client, Some("core.invoice.read"))
        .await;

    let listed = json(&coupa(&["admin", "clients", "list", "--output", "json"], &env).await);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        listed[0]["last_token_at"].as_str().is_some(),
        "when it last got a token: {listed}"
    );
    let text = coupa(&["admin", "clients", "list"], &env).await;
    assert!(
        text.stdout.contains("IDENTIFIER")
            && text.stdout.contains("invoice-sync")
            && text.stdout.contains("LAST TOKEN"),
        "{}",
        text.stdout
    );

    let shown = json(&coupa(&["admin", "clients", "show", id, "--output", "json"], &env).await);
    assert!(shown.get("client_secret").is_none());

    let updated = json(
        &coupa(
            &[
                "admin",
                "clients",
                "update",
                id,
                "--scope",
                "core.expense.read",
                "--output",
                "json",
            ],
            &env,
        )
        .await,
    );
    assert_eq!(updated["scope"], "core.expense.read");

    let rotated = json(
        &coupa(
            &["admin", "clients", "rotate-secret", id, "--output", "json"],
            &env,
        )
        .await,
    );
    assert_ne!(rotated["client_secret"], created["client_secret"]);

    let off = json(
        &coupa(
            &["admin", "clients", "deactivate", id, "--output", "json"],
            &env,
        )
        .await,
    );
    assert_eq!(off["active"], false);
    let on = json(
        &coupa(
            &["admin", "clients", "activate", id, "--output", "json"],
            &env,
        )
        .await,
    );
    assert_eq!(on["active"], true);

    let deleted = coupa(&["admin", "clients", "delete", id], &env).await;
    assert!(deleted.success, "{}", deleted.stderr);
    let missing = coupa(&["admin", "clients", "show", id], &env).await;
    assert!(!missing.success);
    assert!(
        missing.stderr.contains("coupa admin clients list"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn admin_api_keys_commands() {
    let server = spawn_server().await;
    let env = [
        ("COUPA_URL", server.url.as_str()),
        ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
    ];
    let created = json(
        &coupa(
            &[
                "admin",
                "api-keys",
                "create",
                "--name",
                "Payroll export",
                "--output",
                "json",
            ],
            &env,
        )
        .await,
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["key"].as_str().unwrap().len(), 40);
    let listed = coupa(&["admin", "api-keys", "list"], &env).await;
    assert!(
        listed.stdout.contains("Payroll export") && listed.stdout.contains("never"),
        "{}",
        listed.stdout
    );
    let revoked = json(
        &coupa(
            &["admin", "api-keys", "revoke", id, "--output", "json"],
            &env,
        )
        .await,
    );
    assert!(revoked["revoked_at"].is_string());
    let missing = coupa(&["admin", "api-keys", "revoke", "nope"], &env).await;
    assert!(
        missing.stderr.contains("no such API key")
            && missing.stderr.contains("coupa admin api-keys list"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn admin_errors_say_what_to_do_next() {
    let server = spawn_server().await;
    let no_token = coupa(&["admin", "clients", "list", "--url", &server.url], &[]).await;
    assert!(!no_token.success);
    assert!(
        no_token.stderr.contains("COUPA_ADMIN_TOKEN"),
        "{}",
        no_token.stderr
    );

    let env = [
        ("COUPA_URL", server.url.as_str()),
        ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
    ];
    let bad_scope = coupa(
        &[
            "admin",
            "clients",
            "create",
            "--name",
            "x",
            "--login",
            "x",
            "--scope",
            "core.invoice.reed",
        ],
        &env,
    )
    .await;
    assert!(!bad_scope.success);
    assert!(
        bad_scope
            .stderr
            .contains("core.invoice.reed is not a known scope"),
        "{}",
        bad_scope.stderr
    );
    assert!(
        bad_scope.stderr.contains("coupa scopes list"),
        "{}",
        bad_scope.stderr
    );

    let unreachable = coupa(
        &["admin", "clients", "list"],
        &[
            ("COUPA_URL", "http://127.0.0.1:9"),
            ("COUPA_ADMIN_TOKEN", "x"),
        ],
    )
    .await;
    assert!(!unreachable.success);
    assert!(
        unreachable.stderr.contains("is `coupa serve` running"),
        "{}",
        unreachable.stderr
    );
}

#[tokio::test]
async fn scopes_commands_print_the_catalogue() {
    let list = json(&coupa(&["scopes", "list", "--output", "json"], &[]).await);
    assert!(list.as_array().unwrap().len() > 30);
    let show = coupa(&["scopes", "show", "core.invoice.read"], &[]).await;
    assert!(show.success);
    assert!(
        show.stdout.contains("GET   /api/invoices/{id}"),
        "{}",
        show.stdout
    );
    let unknown = coupa(&["scopes", "show", "core.invoice.reed"], &[]).await;
    assert!(!unknown.success);
    assert!(
        unknown.stderr.contains("did you mean core.invoice.read"),
        "{}",
        unknown.stderr
    );
    let help = coupa(&["--help"], &[]).await;
    assert!(
        help.stdout.contains("coupa admin clients create"),
        "{}",
        help.stdout
    );
}

/// Starts `coupa serve`; returns the process, its URL and the admin token it printed, if any.
async fn start_serve(args: &[&str], envs: &[(&str, &str)]) -> (Child, String, Option<String>) {
    let (child, url, printed) = start_serve_capturing(args, envs).await;
    let mut lines = printed.lines();
    let admin_token = lines
        .by_ref()
        .find(|line| line.starts_with("Admin token"))
        .and_then(|_| lines.next())
        .map(|line| line.trim().to_string());
    (child, url, admin_token)
}

#[tokio::test]
async fn serve_prints_the_admin_token_once_and_stops_on_sigterm() {
    let database_url = fresh_sqlite_url();
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        database_url.as_str(),
    ];
    let (child, url, printed) = start_serve_capturing(&args, &[]).await;
    let admin_token = printed
        .lines()
        .skip_while(|line| !line.starts_with("Admin token"))
        .nth(1)
        .map(|line| line.trim().to_string())
        .expect("first start prints the admin token");
    assert!(
        printed.contains("No administrator exists yet")
            && printed.contains(&format!("coupa admin users create --url {url}")),
        "a fresh server says how to create the first administrator: {printed}"
    );
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let listed = http
        .get(format!("{url}/admin/api/clients"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    terminate(child).await;

    let (child, url, again) = start_serve(&args, &[]).await;
    assert!(
        again.is_none(),
        "the admin token is printed only on first start"
    );
    let listed = http
        .get(format!("{url}/admin/api/clients"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.status(),
        200,
        "the generated token keeps working across restarts"
    );
    terminate(child).await;
}

#[tokio::test]
async fn serve_layers_file_env_and_flags() {
    let dir = std::env::temp_dir().join(crate::support::unique_name("coupa-config-"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("coupa.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:1\"\ntoken-lifetime = \"2h\"\nsigning-alg = \"EdDSA\"\n",
    )
    .unwrap();
    let database_url = fresh_sqlite_url();
    let config_path = config.to_str().unwrap();
    let (child, url, _) = start_serve(
        &["--config", config_path, "--listen", "127.0.0.1:0"],
        &[
            ("COUPA_DATABASE_URL", database_url.as_str()),
            ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
            ("COUPA_SIGNING_ALG", "RS256"),
        ],
    )
    .await;
    let server_admin = coupa_client::AdminClient::new(&url, ADMIN_TOKEN);
    let view = server_admin
        .create_client(&crate::support::client_input("layers", "core.invoice.read"))
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .post(format!("{url}/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &view.client_id),
            ("client_secret", view.client_secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 7200, "the file sets the lifetime");
    let jwks: Value = reqwest::get(format!("{url}/oauth2/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        jwks["keys"][0]["alg"], "RS256",
        "the environment beats the file"
    );
    terminate(child).await;

    let bad = coupa(
        &["serve", "--config", config_path, "--signing-alg", "HS256"],
        &[],
    )
    .await;
    assert!(!bad.success);
    assert!(bad.stderr.contains("ES256, RS256, EdDSA"), "{}", bad.stderr);
}

#[tokio::test]
async fn serve_demo_loads_data_once_and_prints_commands_that_work() {
    let database_url = fresh_sqlite_url();
    let (child, url, printed, token_curl) = crate::support::start_demo_serve(&database_url).await;
    let api_curl = printed
        .lines()
        .find(|line| line.contains("/api/expense_reports?limit=1"))
        .expect("an API curl")
        .trim()
        .to_string();
    let token = run_shell(&format!("{token_curl} --silent"));
    let token: Value = serde_json::from_str(&token).unwrap();
    let access_token = token["access_token"].as_str().unwrap();
    assert_eq!(
        token["scope"],
        "core.expense.read core.invoice.read core.purchase_order.read core.supplier.read"
    );
    let reports = run_shell(&format!(
        "{} --silent",
        api_curl.replace("<access_token>", access_token)
    ));
    let reports: Value = serde_json::from_str(&reports).unwrap();
    assert_eq!(reports.as_array().unwrap().len(), 1);
    assert_eq!(
        reports[0]["title"], "Trip Berlin #1",
        "the data set is deterministic"
    );
    let http = reqwest::Client::new();
    let count = |path: &'static str| {
        let http = http.clone();
        let url = url.clone();
        let access_token = access_token.to_string();
        async move {
            let mut total = 0;
            let mut offset = 0;
            loop {
                let page: Value = http
                    .get(format!("{url}{path}?limit=50&offset={offset}"))
                    .bearer_auth(&access_token)
                    .header("Accept", "application/json")
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let size = page.as_array().unwrap().len();
                if size == 0 {
                    return total;
                }
                total += size;
                offset += size;
            }
        }
    };
    assert_eq!(count("/api/invoices").await, 40);
    assert_eq!(count("/api/purchase_orders").await, 40);
    terminate(child).await;

    let (child, url, printed, token_curl) = crate::support::start_demo_serve(&database_url).await;
    assert!(printed.contains("Demo data is loaded"));
    let token: Value = serde_json::from_str(&run_shell(&format!("{token_curl} --silent"))).unwrap();
    assert!(
        token["access_token"].is_string(),
        "the renewed secret works: {token}"
    );
    let invoices: Value = http
        .get(format!("{url}/api/invoices?limit=50&offset=40"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        invoices,
        serde_json::json!([]),
        "a second demo start loads nothing twice"
    );
    terminate(child).await;
}

fn run_shell(command: &str) -> String {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A demo instance, a client that reads invoices and suppliers, and a `dev` profile for it
/// (secret from `$DEV_SECRET`, scope `core.invoice.read`) in a config file of its own.
struct DevProfile {
    /// Kept for its lifetime: the server stops when dropped.
    _server: TestServer,
    client: Credentials,
    dir: std::path::PathBuf,
    config: String,
}

impl DevProfile {
    async fn added() -> Self {
        let server = demo_server().await;
        let (_, client) = server
            .create_client("cli-user", "core.invoice.read core.supplier.read")
            .await;
        let dir = std::env::temp_dir().join(crate::support::unique_name("coupa-profiles-"));
        let config = dir.join("config.toml").to_str().unwrap().to_string();
        let added = coupa(
            &[
                "profiles",
                "add",
                "dev",
                "--url",
                &server.url,
                "--client-id",
                &client.id,
                "--client-secret-env",
                "DEV_SECRET",
                "--scope",
                "core.invoice.read",
                "--config",
                &config,
            ],
            &[],
        )
        .await;
        assert!(added.success, "{}", added.stderr);
        Self {
            _server: server,
            client,
            dir,
            config,
        }
    }

    fn env(&self) -> [(&str, &str); 2] {
        [
            ("DEV_SECRET", self.client.secret.as_str()),
            ("COUPA_CONFIG", self.config.as_str()),
        ]
    }
}

async fn demo_server() -> TestServer {
    let settings = coupa_server::ConfigLayer {
        demo: Some(true),
        ..Default::default()
    };
    crate::support::spawn_server_with(crate::support::Backend::Sqlite, settings)
        .await
        .unwrap()
}

#[tokio::test]
async fn profiles_are_kept_private_and_listed_without_secrets() {
    let dev = DevProfile::added().await;
    let config = dev.config.as_str();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(config).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let listed = coupa(&["profiles", "list", "--config", config], &[]).await;
    assert!(
        listed.stdout.contains("dev") && listed.stdout.contains("from $DEV_SECRET"),
        "{}",
        listed.stdout
    );
    assert!(
        !listed.stdout.contains(&dev.client.secret),
        "secrets never print"
    );
    let removed = coupa(&["profiles", "remove", "dev", "--config", config], &[]).await;
    assert!(removed.success);
}

#[tokio::test]
async fn token_mints_describes_and_caches_a_profiles_token() {
    let dev = DevProfile::added().await;
    let env = dev.env();
    let token = coupa(&["token", "--profile", "dev"], &env).await;
    assert!(token.success, "{}", token.stderr);
    assert_eq!(token.stdout.trim().split('.').count(), 3);
    let described = json(&coupa(&["token", "--profile", "dev", "--json"], &env).await);
    assert_eq!(described["scope"], "core.invoice.read");
    assert!(described["expires_in"].as_u64().unwrap() > 86_000);
    let cache = dev.dir.join("tokens");
    let cached = [
        "token",
        "--profile",
        "dev",
        "--token-cache",
        cache.to_str().unwrap(),
    ];
    let first = coupa(&cached, &env).await;
    let second = coupa(&cached, &env).await;
    assert!(first.success && second.success, "{}", first.stderr);
    assert_eq!(
        first.stdout, second.stdout,
        "the second run reuses the cached token"
    );
    assert_ne!(
        first.stdout, token.stdout,
        "runs without the cache mint their own"
    );
    assert!(cache.join("dev.json").exists());
    let missing = coupa(
        &["token", "--profile", "dev"],
        &[("COUPA_CONFIG", dev.config.as_str())],
    )
    .await;
    assert!(
        !missing.success && missing.stderr.contains("DEV_SECRET"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn api_list_all_pages_through_every_record_as_jsonl_and_csv() {
    let dev = DevProfile::added().await;
    let env = dev.env();
    let listed = coupa(
        &[
            "api",
            "list",
            "invoices",
            "--all",
            "--profile",
            "dev",
            "--output",
            "jsonl",
        ],
        &env,
    )
    .await;
    assert!(listed.success, "{}", listed.stderr);
    let numbers: Vec<String> = listed
        .stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["invoice-number"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(numbers.len(), 40, "every record, none skipped");
    assert_eq!(numbers[0], "INV-2026-0001");
    let csv = coupa(
        &[
            "api",
            "list",
            "invoices",
            "--all",
            "--profile",
            "dev",
            "--output",
            "csv",
            "--filter",
            "status=approved",
        ],
        &env,
    )
    .await;
    let mut lines = csv.stdout.lines();
    assert!(
        lines.next().unwrap().starts_with("id,created-at"),
        "{}",
        csv.stdout
    );
    assert_eq!(lines.count(), 9);
}

#[tokio::test]
async fn api_get_limits_and_names_the_scopes_a_refusal_needs() {
    let dev = DevProfile::added().await;
    let env = dev.env();
    let one = json(
        &coupa(
            &[
                "api",
                "get",
                "invoices",
                "--limit",
                "2",
                "--profile",
                "dev",
                "--output",
                "json",
            ],
            &env,
        )
        .await,
    );
    assert_eq!(one.as_array().unwrap().len(), 2);
    let refused = coupa(&["api", "get", "suppliers", "--profile", "dev"], &env).await;
    assert!(
        !refused.success
            && refused.stderr.contains("403")
            && refused.stderr.contains("coupa scopes needed"),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn api_create_update_and_action_write_with_credentials_from_the_environment() {
    let server = demo_server().await;
    let (_, writer) = server
        .create_client("cli-writer", "core.supplier.write core.supplier.read core.purchase_order.write core.purchase_order.read")
        .await;
    let writer_env = [
        ("COUPA_URL", server.url.as_str()),
        ("COUPA_CLIENT_ID", writer.id.as_str()),
        ("COUPA_CLIENT_SECRET", writer.secret.as_str()),
    ];
    let created = json(
        &coupa(
            &[
                "api",
                "create",
                "suppliers",
                "--data",
                r#"{"name": "From the CLI"}"#,
            ],
            &writer_env,
        )
        .await,
    );
    assert_eq!(created["created-by"]["login"], "cli-writer");
    let id = created["id"].to_string();
    let updated = json(
        &coupa(
            &[
                "api",
                "update",
                "suppliers",
                &id,
                "--data",
                r#"{"number": "S-77"}"#,
            ],
            &writer_env,
        )
        .await,
    );
    assert_eq!(updated["number"], "S-77");
    let orders = json(
        &coupa(
            &[
                "api",
                "get",
                "purchase_orders",
                "--filter",
                "status=draft",
                "--limit",
                "1",
            ],
            &writer_env,
        )
        .await,
    );
    let order = orders[0]["id"].to_string();
    let issued = json(
        &coupa(
            &["api", "action", "purchase_orders", &order, "issue"],
            &writer_env,
        )
        .await,
    );
    assert_eq!(issued["status"], "issued");
    let bad = coupa(
        &["api", "create", "suppliers", "--data", "{oops"],
        &writer_env,
    )
    .await;
    assert!(
        !bad.success && bad.stderr.contains("--data is not JSON"),
        "{}",
        bad.stderr
    );
}

#[tokio::test]
async fn scopes_needed_names_the_scopes_for_objects_and_operations() {
    let needed = coupa(
        &[
            "scopes",
            "needed",
            "--object",
            "invoices",
            "--object",
            "expense_reports",
            "--ops",
            "read,write",
        ],
        &[],
    )
    .await;
    assert_eq!(
        needed.stdout.trim(),
        "core.invoice.read core.invoice.write core.expense.read core.expense.write"
    );
}

#[tokio::test]
async fn the_broker_hands_tokens_to_local_programs_that_know_its_secret() {
    let server = spawn_server().await;
    let (_, client) = server.create_client("brokered", "core.invoice.read").await;
    let token_dir = std::env::temp_dir().join(crate::support::unique_name("coupa-tokens-"));
    let mut command = Command::new(COUPA);
    command
        .args([
            "broker",
            "--listen",
            "127.0.0.1:0",
            "--token-dir",
            token_dir.to_str().unwrap(),
        ])
        .env("COUPA_URL", &server.url)
        .env("COUPA_CLIENT_ID", &client.id)
        .env("COUPA_CLIENT_SECRET", &client.secret)
        .env("COUPA_BROKER_SECRET", "local-secret")
        .env(
            "COUPA_CONFIG",
            std::env::temp_dir().join(crate::support::unique_name("no-config-")),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut broker = command.spawn().unwrap();
    let mut lines = BufReader::new(broker.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let address = line
        .strip_prefix("coupa broker: listening on ")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();

    let refused = http
        .get(format!("{address}/token/environment"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let refused = http
        .get(format!("{address}/token/environment"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let token = http
        .get(format!("{address}/token/environment"))
        .bearer_auth("local-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let token = token.text().await.unwrap().trim().to_string();
    assert_eq!(
        server.list_invoices(&token).await.status(),
        200,
        "the brokered token works on the API"
    );
    let file = token_dir.join("environment.token");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), token);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let unknown = http
        .get(format!("{address}/token/nope"))
        .bearer_auth("local-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    for path in ["/metrics", "/status"] {
        let refused = http.get(format!("{address}{path}")).send().await.unwrap();
        assert_eq!(refused.status(), 401, "{path} needs the local secret");
    }
    let rebound = http
        .get(format!("{address}/token/environment"))
        .header("Host", "attacker.example")
        .bearer_auth("local-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(
        rebound.status(),
        403,
        "a DNS-rebound page names another host"
    );
    let metrics = http
        .get(format!("{address}/metrics"))
        .bearer_auth("local-secret")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("coupa_broker_token_requests_total{profile=\"environment\"} 1"),
        "{metrics}"
    );
    let status: Value = http
        .get(format!("{address}/status"))
        .bearer_auth("local-secret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        status["profiles"]["environment"]["expires_in"]
            .as_u64()
            .unwrap()
            > 86_000
    );
    let bad = coupa(
        &["broker", "--listen", "0.0.0.0:0"],
        &[
            ("COUPA_URL", "http://127.0.0.1:9"),
            ("COUPA_CLIENT_ID", "a"),
            ("COUPA_CLIENT_SECRET", "b"),
        ],
    )
    .await;
    assert!(
        !bad.success && bad.stderr.contains("loopback"),
        "{}",
        bad.stderr
    );
    broker.kill().await.unwrap();
}

fn user_admin_env(server: &TestServer) -> [(&str, &str); 3] {
    [
        ("COUPA_URL", server.url.as_str()),
        ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
        ("COUPA_USER_PASSWORD", "correct horse battery staple"),
    ]
}

async fn create_ada(env: &[(&str, &str)]) -> Value {
    json(
        &coupa(
            &[
                "admin",
                "users",
                "create",
                "--login",
                "ada",
                "--email",
                "ada@example.com",
                "--name",
                "Ada Lovelace",
                "--output",
                "json",
            ],
            env,
        )
        .await,
    )
}

#[tokio::test]
async fn admin_users_create_refuses_taken_logins_and_short_passwords() {
    let server = spawn_server().await;
    let env = user_admin_env(&server);
    let created = create_ada(&env).await;
    assert_eq!(created["login"], "ada");
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());

    let taken = coupa(
        &[
            "admin",
            "users",
            "create",
            "--login",
            "ADA",
            "--email",
            "a@example.com",
            "--name",
            "Other",
        ],
        &env,
    )
    .await;
    assert!(
        !taken.success && taken.stderr.contains("login has already been taken"),
        "{}",
        taken.stderr
    );
    let short = coupa(
        &[
            "admin",
            "users",
            "create",
            "--login",
            "bob",
            "--email",
            "bob@example.com",
            "--name",
            "Bob",
            "--password",
            "short",
        ],
        &env,
    )
    .await;
    assert!(
        !short.success
            && short
                .stderr
                .contains("password is too short (minimum is 12 characters)"),
        "{}",
        short.stderr
    );
}

#[tokio::test]
async fn admin_users_list_deactivate_update_and_show_drive_the_admin_api() {
    let server = spawn_server().await;
    let env = user_admin_env(&server);
    let created = create_ada(&env).await;
    let listed = coupa(&["admin", "users", "list"], &env).await;
    assert!(
        listed.success && listed.stdout.contains("Ada Lovelace"),
        "{}",
        listed.stdout
    );
    let deactivated = json(
        &coupa(
            &["admin", "users", "deactivate", "ada", "--output", "json"],
            &env,
        )
        .await,
    );
    assert_eq!(deactivated["active"], false);
    let updated = json(
        &coupa(
            &[
                "admin", "users", "update", "ada", "--name", "Ada King", "--admin", "true",
                "--output", "json",
            ],
            &env,
        )
        .await,
    );
    assert_eq!(updated["name"], "Ada King");
    assert_eq!(updated["admin"], true);
    let shown = json(
        &coupa(
            &[
                "admin",
                "users",
                "show",
                created["user_id"].as_str().unwrap(),
                "--output",
                "json",
            ],
            &env,
        )
        .await,
    );
    assert_eq!(shown["login"], "ada");
    let missing = coupa(&["admin", "users", "show", "nobody"], &env).await;
    assert!(
        !missing.success && missing.stderr.contains("coupa admin users list"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn admin_clients_create_registers_a_public_pkce_client_without_a_secret() {
    let server = spawn_server().await;
    let env = user_admin_env(&server);
    let public = json(
        &coupa(
            &[
                "admin",
                "clients",
                "create",
                "--name",
                "Mobile",
                "--login",
                "mobile-app",
                "--grant-type",
                "authorization_code",
                "--scope",
                "openid offline_access",
                "--redirect-uri",
                "https://app.example/cb",
                "--redirect-uri",
                "com.example.app://cb",
                "--pkce",
                "--output",
                "json",
            ],
            &env,
        )
        .await,
    );
    assert_eq!(public["grant_type"], "authorization_code");
    assert_eq!(public["pkce"], true);
    assert!(
        public.get("client_secret").is_none(),
        "a public client has no secret"
    );
}

#[tokio::test]
async fn admin_custom_fields_commands_define_list_and_delete() {
    let server = spawn_server().await;
    let env = [
        ("COUPA_URL", server.url.as_str()),
        ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
    ];
    let created = json(
        &coupa(
            &[
                "admin",
                "custom-fields",
                "create",
                "--object",
                "purchase_orders",
                "--name",
                "erp_ref",
                "--label",
                "ERP reference",
                "--output",
                "json",
            ],
            &env,
        )
        .await,
    );
    assert_eq!(created[0]["name"], "erp-ref");
    assert_eq!(created[0]["kind"], "string");
    let listed = coupa(&["admin", "custom-fields", "list"], &env).await;
    assert!(
        listed.success
            && listed.stdout.contains("purchase_orders")
            && listed.stdout.contains("ERP reference"),
        "{}",
        listed.stdout
    );
    let wrong = coupa(
        &[
            "admin",
            "custom-fields",
            "create",
            "--object",
            "widgets",
            "--name",
            "x",
        ],
        &env,
    )
    .await;
    assert!(
        !wrong.success && wrong.stderr.contains("not an API object"),
        "{}",
        wrong.stderr
    );
    let deleted = coupa(
        &[
            "admin",
            "custom-fields",
            "delete",
            "purchase_orders",
            "erp-ref",
        ],
        &env,
    )
    .await;
    assert!(deleted.success, "{}", deleted.stderr);
    let listed = json(
        &coupa(
            &["admin", "custom-fields", "list", "--output", "json"],
            &env,
        )
        .await,
    );
    assert_eq!(listed, serde_json::json!([]));
}

#[tokio::test]
async fn demo_writes_the_data_set_and_bulk_invoices_into_a_database() {
    let database_url = fresh_sqlite_url();
    let run = json(
        &coupa(
            &[
                "demo",
                "--size",
                "1234",
                "--database-url",
                &database_url,
                "--output",
                "json",
            ],
            &[],
        )
        .await,
    );
    assert_eq!(run["demo_data_loaded"], true);
    assert_eq!(run["invoices_added"], 1234);
    let again = json(
        &coupa(
            &[
                "demo",
                "--size",
                "6",
                "--database-url",
                &database_url,
                "--output",
                "json",
            ],
            &[],
        )
        .await,
    );
    assert_eq!(
        again["demo_data_loaded"], false,
        "the demo set is loaded once"
    );
    let server = crate::support::spawn_on(&database_url, Default::default()).await;
    let (_, client) = server.create_client("counter", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    let (status, last) = crate::support::get_json_with(
        &server,
        &token,
        "/api/invoices?order_by=id&dir=desc&limit=1",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        last[0]["invoice-number"], "INV-BULK-0001280",
        "40 demo invoices, then 1,234 and 6 more numbered on from them"
    );
    assert!(!last[0]["invoice-lines"].as_array().unwrap().is_empty());
    let bad = coupa(&["demo", "--database-url", "mysql://nowhere/db"], &[]).await;
    assert!(
        !bad.success && bad.stderr.contains("--database-url"),
        "{}",
        bad.stderr
    );
}
