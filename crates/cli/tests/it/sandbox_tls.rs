//! `coupa serve --tls`: a local certificate authority, instance host names, the issuer
//! following the name a request used, and real TLS clients (reqwest, curl, Python requests)
//! that trust the sandbox through the exported CA and nothing else.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use coupa_client::AdminClient;
use coupa_server::{App, Config, ConfigLayer};
use tokio::sync::oneshot;

use crate::interactive::jwt_claims;
use crate::support::*;

const INSTANCE: &str = "acme.coupahost.com";
const TEST_INSTANCE: &str = "acme-test.coupahost.com";

struct TlsServer {
    address: SocketAddr,
    _stop: oneshot::Sender<()>,
}

/// A `--tls` server with the local CA kept in `ca_dir`, answering to the two instance names.
async fn spawn_tls(ca_dir: &Path, settings: ConfigLayer) -> TlsServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let layer = ConfigLayer {
        listen: Some(address.to_string()),
        database_url: Some(fresh_sqlite_url()),
        rate_limit: Some(0.0),
        tls: Some(true),
        ca_dir: Some(ca_dir.display().to_string()),
        host: Some(vec![INSTANCE.into(), TEST_INSTANCE.into()]),
        ..settings
    };
    let config = Config::resolve(layer, Some(ADMIN_TOKEN.to_string())).unwrap();
    TlsServer {
        address,
        _stop: serve_in_background(config, listener).await,
    }
}

/// A client that trusts `ca_pem` alone and resolves the instance names to `address`.
fn trusting_client(ca_pem: &[u8], address: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem).unwrap()])
        .resolve(INSTANCE, address)
        .resolve(TEST_INSTANCE, address)
        .resolve("wrong.example.com", address)
        .build()
        .unwrap()
}

async fn exported_ca(ca_dir: &Path) -> String {
    let run = coupa(
        &["ca", "export", "--ca-dir", &ca_dir.display().to_string()],
        &[],
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("-----BEGIN CERTIFICATE-----"),
        "{}",
        run.stdout
    );
    run.stdout
}

async fn client_credentials(
    http: &reqwest::Client,
    base: &str,
    client_id: &str,
    secret: &str,
) -> serde_json::Value {
    let answer = http
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", "core.invoice.read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

#[tokio::test]
async fn each_instance_name_is_served_over_tls_as_its_own_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let server = spawn_tls(&ca_dir, ConfigLayer::default()).await;
    let port = server.address.port();
    let ca = exported_ca(&ca_dir).await;
    let http = trusting_client(ca.as_bytes(), server.address);
    let acme = format!("https://{INSTANCE}:{port}");
    let acme_test = format!("https://{TEST_INSTANCE}:{port}");

    // Discovery names the instance the request named, every URL in it too.
    for base in [&acme, &acme_test] {
        let discovery: serde_json::Value = http
            .get(format!("{base}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(discovery["issuer"], base.as_str());
        for endpoint in ["token_endpoint", "jwks_uri", "authorization_endpoint"] {
            assert!(
                discovery[endpoint]
                    .as_str()
                    .unwrap()
                    .starts_with(base.as_str()),
                "{endpoint}: {}",
                discovery[endpoint]
            );
        }
    }

    // A token minted at one instance carries its issuer and works there only.
    let admin = AdminClient::with_http(&acme, ADMIN_TOKEN, http.clone());
    let client = admin
        .create_client(&client_input("tls-sync", "core.invoice.read"))
        .await
        .unwrap();
    let secret = client.client_secret.clone().unwrap();
    let tokens = client_credentials(&http, &acme, &client.client_id, &secret).await;
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(token)["iss"], acme.as_str());
    assert_eq!(jwt_claims(token)["aud"], format!("{acme}/api"));
    let call = |base: String| {
        let http = http.clone();
        let token = token.to_string();
        async move {
            http.get(format!("{base}/api/invoices?limit=1"))
                .bearer_auth(token)
                .header("Accept", "application/json")
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(call(acme.clone()).await, 200);
    assert_eq!(
        call(acme_test.clone()).await,
        401,
        "another instance's token"
    );
    let other = client_credentials(&http, &acme_test, &client.client_id, &secret).await;
    assert_eq!(
        jwt_claims(other["access_token"].as_str().unwrap())["iss"],
        acme_test.as_str()
    );

    // The certificate covers the instance names, not any name.
    let wrong = http
        .get(format!("https://wrong.example.com:{port}/healthz"))
        .send()
        .await
        .expect_err("a name the certificate does not cover is refused by the client");
    assert!(
        format!("{wrong:?}").contains("NotValidForName"),
        "{wrong:?}"
    );

    // A client that does not trust the local CA refuses the server.
    let untrusting = reqwest::Client::builder()
        .resolve(INSTANCE, server.address)
        .build()
        .unwrap();
    let refused = untrusting
        .get(format!("{acme}/healthz"))
        .send()
        .await
        .expect_err("without the CA the certificate is not trusted");
    assert!(
        format!("{refused:?}").contains("UnknownIssuer"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn curl_trusts_the_sandbox_with_the_exported_ca_and_only_for_its_names() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let server = spawn_tls(&ca_dir, ConfigLayer::default()).await;
    let port = server.address.port();
    let ca_file = dir.path().join("exported.pem");
    std::fs::write(&ca_file, exported_ca(&ca_dir).await).unwrap();
    let curl = |name: &str, with_ca: bool| {
        let mut command = tokio::process::Command::new("curl");
        command.args([
            "-sS",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "--max-time",
            "20",
            "--resolve",
            &format!("{name}:{port}:127.0.0.1"),
        ]);
        if with_ca {
            command.arg("--cacert").arg(&ca_file);
        }
        command.arg(format!(
            "https://{name}:{port}/.well-known/openid-configuration"
        ));
        async move { command.output().await.unwrap() }
    };
    let trusted = curl(INSTANCE, true).await;
    assert!(trusted.status.success(), "{trusted:?}");
    let body = String::from_utf8_lossy(&trusted.stdout);
    assert!(body.ends_with("\n200"), "{body}");
    assert!(
        body.contains(&format!("\"issuer\":\"https://{INSTANCE}:{port}\"")),
        "{body}"
    );
    // curl's exit code 60: the peer's certificate cannot be authenticated.
    assert_eq!(
        curl(INSTANCE, false).await.status.code(),
        Some(60),
        "no CA given"
    );
    assert_eq!(
        curl("wrong.example.com", true).await.status.code(),
        Some(60),
        "a name the certificate does not cover"
    );
}

#[tokio::test]
async fn the_local_ca_is_made_once_kept_private_and_exported_as_pem_der_or_json() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let first = exported_ca(&ca_dir).await;
    let key_mode = std::fs::metadata(ca_dir.join("ca-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(&ca_dir).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    // A server start and a second export keep the same CA.
    let server = spawn_tls(&ca_dir, ConfigLayer::default()).await;
    assert_eq!(exported_ca(&ca_dir).await, first);

    // coupa's own commands trust it through SSL_CERT_FILE, and say so when they do not.
    let url = format!("https://127.0.0.1:{}", server.address.port());
    let ca_file = ca_dir.join("ca.pem").display().to_string();
    let list = ["admin", "clients", "list", "--url", url.as_str()];
    let untrusted = coupa(&list, &[("COUPA_ADMIN_TOKEN", ADMIN_TOKEN)]).await;
    assert!(!untrusted.success);
    assert!(
        untrusted.stderr.contains("UnknownIssuer") && untrusted.stderr.contains("SSL_CERT_FILE"),
        "{}",
        untrusted.stderr
    );
    let trusted = coupa(
        &list,
        &[
            ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
            ("SSL_CERT_FILE", &ca_file),
        ],
    )
    .await;
    assert!(trusted.success, "{}", trusted.stderr);

    let ca_dir_text = ca_dir.display().to_string();
    let der = tokio::process::Command::new(COUPA)
        .args(["ca", "export", "--format", "der", "--ca-dir", &ca_dir_text])
        .output()
        .await
        .unwrap();
    assert!(der.status.success());
    let pem_body: String = first
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    use base64::Engine as _;
    assert_eq!(
        der.stdout,
        base64::engine::general_purpose::STANDARD
            .decode(pem_body)
            .unwrap()
    );

    let json = coupa(
        &["ca", "export", "--output", "json", "--ca-dir", &ca_dir_text],
        &[],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["pem"], first.as_str());
    assert_eq!(json["file"], ca_dir.join("ca.pem").display().to_string());
    let openssl = tokio::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(ca_dir.join("ca.pem"))
        .output()
        .await
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&openssl.stdout);
    assert!(
        fingerprint
            .trim()
            .ends_with(json["sha256_fingerprint"].as_str().unwrap()),
        "{fingerprint} against {}",
        json["sha256_fingerprint"]
    );

    // A key others may read is refused, with the fix.
    std::fs::set_permissions(
        ca_dir.join("ca-key.pem"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let refused = coupa(&["ca", "export", "--ca-dir", &ca_dir_text], &[]).await;
    assert!(!refused.success);
    assert!(refused.stderr.contains("chmod 600"), "{}", refused.stderr);
}

#[tokio::test]
async fn trust_help_gives_each_clients_exact_steps_with_the_real_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let ca_dir_text = ca_dir.display().to_string();
    let file = ca_dir.join("ca.pem").display().to_string();
    let run = coupa(
        &[
            "ca",
            "trust-help",
            "--ca-dir",
            &ca_dir_text,
            "--host",
            INSTANCE,
            "--host",
            TEST_INSTANCE,
        ],
        &[],
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    for expected in [
        format!("--cacert {file}"),
        format!("REQUESTS_CA_BUNDLE={file}"),
        format!("NODE_EXTRA_CA_CERTS={file}"),
        format!("keytool -importcert -noprompt -alias coupa-oauth-local-ca -file {file}"),
        "update-ca-certificates".to_string(),
        format!("127.0.0.1 {INSTANCE} {TEST_INSTANCE}"),
    ] {
        assert!(
            run.stdout.contains(&expected),
            "{expected} in\n{}",
            run.stdout
        );
    }
    let json = coupa(
        &[
            "ca",
            "trust-help",
            "--output",
            "json",
            "--ca-dir",
            &ca_dir_text,
        ],
        &[],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["ca_certificate"], file.as_str());
    assert_eq!(json["hosts_line"], "127.0.0.1 acme.coupahost.com");
}

#[tokio::test]
async fn a_certificate_and_key_given_as_files_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let other_ca = coupa_server::tls::LocalCa::open_or_create(&dir.path().join("corporate"))
        .unwrap()
        .0;
    let identity = other_ca.issue(&[INSTANCE.to_string()]).unwrap();
    let pem = |label: &str, der: &[u8]| {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = text
            .as_bytes()
            .chunks(64)
            .map(|chunk| std::str::from_utf8(chunk).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    };
    let certificate_file = dir.path().join("server.pem");
    let key_file = dir.path().join("server-key.pem");
    std::fs::write(
        &certificate_file,
        identity
            .chain
            .iter()
            .map(|certificate| pem("CERTIFICATE", certificate))
            .collect::<String>(),
    )
    .unwrap();
    std::fs::write(&key_file, pem("PRIVATE KEY", identity.key.secret_der())).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let settings = ConfigLayer {
        tls_cert: Some(certificate_file.display().to_string()),
        tls_key: Some(key_file.display().to_string()),
        ..ConfigLayer::default()
    };
    let server = spawn_tls(&dir.path().join("unused-ca"), settings).await;
    assert!(
        !dir.path().join("unused-ca").exists(),
        "no local CA is made when files are given"
    );
    let http = trusting_client(other_ca.certificate_pem().as_bytes(), server.address);
    let answer = http
        .get(format!(
            "https://{INSTANCE}:{}/healthz",
            server.address.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // A key file others may read, or half a pair, is refused with what to do.
    let failure = |layer: ConfigLayer| async move {
        match Config::resolve(layer, Some(ADMIN_TOKEN.to_string())) {
            Err(error) => error,
            Ok(config) => App::prepare(config).await.err().unwrap().to_string(),
        }
    };
    let half = failure(ConfigLayer {
        tls: Some(true),
        tls_cert: Some(certificate_file.display().to_string()),
        ..ConfigLayer::default()
    })
    .await;
    assert!(half.contains("tls-cert and tls-key go together"), "{half}");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let open = failure(ConfigLayer {
        tls: Some(true),
        tls_cert: Some(certificate_file.display().to_string()),
        tls_key: Some(key_file.display().to_string()),
        database_url: Some(fresh_sqlite_url()),
        ..ConfigLayer::default()
    })
    .await;
    assert!(open.contains("chmod 600"), "{open}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_handshake_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let settings = ConfigLayer {
        header_read_timeout: Some("1s".into()),
        ..ConfigLayer::default()
    };
    let server = spawn_tls(&dir.path().join("ca"), settings).await;
    let mut silent = tokio::net::TcpStream::connect(server.address)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buffer = [0u8; 16];
    let read = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut silent, &mut buffer),
    )
    .await
    .expect("the server closes the connection");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// A Python connector written for real Coupa (it builds https://{instance}.coupahost.com and
/// will not talk plain http) runs against the sandbox unchanged: only its name resolution
/// (in its own process) and its CA bundle point it here.
#[tokio::test]
async fn a_python_connector_written_for_real_coupa_runs_unchanged_against_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let settings = ConfigLayer {
        demo: Some(true),
        ..ConfigLayer::default()
    };
    let server = spawn_tls(&ca_dir, settings).await;
    let ca_file = dir.path().join("coupa-ca.pem");
    let ca = exported_ca(&ca_dir).await;
    std::fs::write(&ca_file, &ca).unwrap();
    let base = format!("https://{INSTANCE}:{}", server.address.port());
    let http = trusting_client(ca.as_bytes(), server.address);
    let admin = AdminClient::with_http(&base, ADMIN_TOKEN, http.clone());
    let client = admin
        .create_client(&client_input("python-export", "core.invoice.read"))
        .await
        .unwrap();

    // The connector as written, its names resolved to the sandbox in its own process.
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python");
    let connector = || {
        let mut command = tokio::process::Command::new("python3");
        command
            .arg(python.join("resolve_to_sandbox.py"))
            .arg(".coupahost.com")
            .arg(server.address.to_string())
            .arg(python.join("coupa_invoice_export.py"))
            .env_remove("SSL_CERT_FILE")
            .env("COUPA_INSTANCE", "acme")
            .env("COUPA_CLIENT_ID", &client.client_id)
            .env(
                "COUPA_CLIENT_SECRET",
                client.client_secret.as_deref().unwrap(),
            );
        command
    };
    let run = connector()
        .env("REQUESTS_CA_BUNDLE", &ca_file)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["base_url"], "https://acme.coupahost.com");
    assert_eq!(report["expires_in"], 86399);

    // The same invoices as the API gives any caller.
    let token = client_credentials(
        &http,
        &base,
        &client.client_id,
        client.client_secret.as_deref().unwrap(),
    )
    .await;
    let approved: Vec<serde_json::Value> = http
        .get(format!(
            "{base}/api/invoices?status=approved&order_by=id&limit=50"
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!approved.is_empty(), "the demo data has approved invoices");
    assert_eq!(report["approved_invoices"], approved.len());

    // Without the CA bundle the same connector refuses the sandbox.
    let untrusting = connector()
        .env_remove("REQUESTS_CA_BUNDLE")
        .output()
        .await
        .unwrap();
    assert!(!untrusting.status.success());
    assert!(
        String::from_utf8_lossy(&untrusting.stderr).contains("CERTIFICATE_VERIFY_FAILED"),
        "{}",
        String::from_utf8_lossy(&untrusting.stderr)
    );
}
