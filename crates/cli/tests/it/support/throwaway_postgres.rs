//! A PostgreSQL cluster of a test's own (initdb, pg_ctl on a free port), to stop and start
//! again: the machine's own cluster is never touched. Removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct ThrowawayPostgres {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

/// The newest PostgreSQL server binaries installed (Debian's layout).
fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// `program` run as the cluster's owner: the postgres user when the tests run as root.
fn as_cluster_owner(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl ThrowawayPostgres {
    /// Starts a fresh cluster; None (said loudly, and a failure in CI) when PostgreSQL's
    /// server binaries are not installed.
    pub fn start() -> Option<Self> {
        let Some(bin) = server_binaries() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs PostgreSQL's server binaries (initdb, pg_ctl)"
            );
            eprintln!("\n!!! SKIPPING: no initdb/pg_ctl under /usr/lib/postgresql\n");
            return None;
        };
        let dir = std::env::temp_dir().join(super::unique_name("coupa-pg-"));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { dir, bin, port };
        if running_as_root() {
            // initdb refuses root: the cluster belongs to the postgres user.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir)
                .status()
                .unwrap();
            assert!(status.success());
        }
        cluster.run(
            &cluster.bin.join("initdb"),
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.start_again();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, program: &Path, args: &[&str]) {
        let output = as_cluster_owner(program).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data().display().to_string();
        let mut all = vec!["-D", &data];
        all.extend_from_slice(args);
        self.run(&self.bin.join("pg_ctl"), &all);
    }

    /// Starts the cluster and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        self.pg_ctl(&["-o", &options, "-l", &log, "-w", "start"]);
    }

    /// Stops it at once, as a crash or a lost network would (connections cut, no goodbye).
    pub fn stop(&self) {
        self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = as_cluster_owner(&self.bin.join("pg_ctl"))
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
