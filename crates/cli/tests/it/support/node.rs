//! The JavaScript peers of `tests/node`, run with the machine's Node.js.

/// Runs one of the JavaScript peers in `tests/node`; its stdout, or its stderr as the error.
pub async fn run_node(script: &str, args: &[&str]) -> Result<String, String> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules").exists(),
        "the JavaScript peers are missing: run `npm ci --prefix {}` (scripts/test does)",
        dir.display()
    );
    let output = tokio::process::Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .output()
        .await
        .expect("node runs");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).to_string())
    }
}
