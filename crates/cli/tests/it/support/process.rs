//! The `coupa` binary as a process: run a command, or start `coupa serve` and stop it with
//! SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const COUPA: &str = env!("CARGO_BIN_EXE_coupa");

pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

pub async fn coupa(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut command = Command::new(COUPA);
    command
        .args(args)
        .env_remove("COUPA_ADMIN_TOKEN")
        .env_remove("COUPA_URL");
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = command.output().await.expect("coupa runs");
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).to_string(),
    }
}

pub async fn terminate(mut child: Child) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("stops on SIGTERM")
        .unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

/// Starts `coupa serve` and reads its stdout up to the "listening" line; returns the process,
/// its URL and everything printed before that line.
pub async fn start_serve_capturing(
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Child, String, String) {
    start_server_capturing(&["serve"], args, envs).await
}

/// `start_serve_capturing` for another command that serves (`sandbox up`).
pub async fn start_server_capturing(
    command_words: &[&str],
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Child, String, String) {
    let mut command = Command::new(COUPA);
    command
        .args(command_words)
        .args(args)
        .env_remove("COUPA_ADMIN_TOKEN")
        .env_remove("COUPA_LISTEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (name, value) in envs {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("coupa serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("coupa serve: listening on ") {
                return rest.split_whitespace().next().unwrap().to_string();
            }
            printed.push_str(&line);
            printed.push('\n');
        }
        panic!("coupa serve exited before listening");
    })
    .await
    .expect("coupa serve listens within 60 s");
    (child, url, printed)
}

/// `coupa serve --demo` on `database_url`: the process, its URL, what it printed, and the
/// token curl it printed for the demo client.
pub async fn start_demo_serve(database_url: &str) -> (Child, String, String, String) {
    let args = [
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        database_url,
    ];
    let (child, url, printed) =
        start_serve_capturing(&args, &[("COUPA_ADMIN_TOKEN", super::ADMIN_TOKEN)]).await;
    let curl = printed
        .lines()
        .find(|line| line.trim_start().starts_with("curl -X POST"))
        .expect("the demo prints a token curl")
        .trim()
        .to_string();
    (child, url, printed, curl)
}

/// `coupa serve` on `database` with `args`, its stderr (the log) going to a file: the process,
/// its URL and the log file.
pub async fn serve_logging_to_a_file(
    database: &str,
    args: &[&str],
) -> (Child, String, std::path::PathBuf) {
    let log = std::env::temp_dir().join(super::unique_name("coupa-log-"));
    let mut child = Command::new(COUPA)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            database,
        ])
        .args(args)
        .env("COUPA_ADMIN_TOKEN", super::ADMIN_TOKEN)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("coupa serve: listening on ") {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("coupa serve exited before listening");
    })
    .await
    .expect("listens within 30 s");
    (child, url, log)
}

/// A client created by `coupa admin clients create` against the server at `url`, holding
/// `scope`: its id and secret as printed.
pub async fn create_client_with_cli(url: &str, login: &str, scope: &str) -> super::Credentials {
    let created = coupa(
        &[
            "admin", "clients", "create", "--url", url, "--name", login, "--login", login,
            "--scope", scope, "--output", "json",
        ],
        &[("COUPA_ADMIN_TOKEN", super::ADMIN_TOKEN)],
    )
    .await;
    assert!(created.success, "{}", created.stderr);
    let client: serde_json::Value = serde_json::from_str(&created.stdout).expect("JSON");
    super::Credentials {
        id: client["client_id"].as_str().expect("client_id").into(),
        secret: client["client_secret"]
            .as_str()
            .expect("client_secret")
            .into(),
    }
}
