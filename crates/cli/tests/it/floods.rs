//! Floods and slow clients against `coupa serve` as a process: what one caller can make it
//! spend. The longer ones are `#[ignore]`d in the default run; `.ci/run` runs them.

use std::time::{Duration, Instant};

use coupa_proto::admin::CreateUser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::start_serve_capturing;
use crate::support::{ADMIN_TOKEN, fresh_sqlite_url};
use crate::support::{Browser, hidden_fields};

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib / 1024.0
}

async fn serve(extra: &[&str]) -> (tokio::process::Child, String) {
    let database = fresh_sqlite_url();
    let mut args = vec![
        "--database-url",
        database.as_str(),
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let (child, url, _) = start_serve_capturing(&args, &[("COUPA_ADMIN_TOKEN", ADMIN_TOKEN)]).await;
    (child, url)
}

#[tokio::test]
#[ignore = "a 15-second flood; .ci/run runs it"]
async fn sixty_four_parallel_failed_sign_ins_keep_memory_bounded_and_the_server_answering() {
    let (child, url) = serve(&[]).await;
    let pid = child.id().unwrap();
    let admin = coupa_client::AdminClient::new(&url, ADMIN_TOKEN);
    admin
        .create_user(&CreateUser {
            login: "ada".into(),
            email: "ada@example.com".into(),
            name: "Ada".into(),
            password: "correct horse battery staple".into(),
            admin: false,
        })
        .await
        .unwrap();
    let (_, client) = {
        let view = admin
            .create_client(&crate::support::client_input("probe", "core.invoice.read"))
            .await
            .unwrap();
        let secret = view.client_secret.clone().unwrap();
        (view.client_id.clone(), (view.client_id, secret))
    };
    let before = rss_mib(pid);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut attackers = Vec::new();
    for index in 0..64 {
        let url = url.clone();
        attackers.push(tokio::spawn(async move {
            let mut browser = Browser::new(&url);
            let page = browser.get("/oauth2/login").await;
            let mut form = hidden_fields(&page.body);
            // Half the guesses are for a login that does not exist: they must cost as much.
            let login = if index % 2 == 0 { "ada" } else { "nobody" };
            form.push(("login".into(), login.into()));
            form.push(("password".into(), format!("guess number {index}")));
            let mut answers = Vec::new();
            while Instant::now() < deadline {
                answers.push(browser.post("/oauth2/login", &form).await.status.as_u16());
            }
            answers
        }));
    }
    let http = reqwest::Client::new();
    let mut peak = before;
    let mut slowest = Duration::ZERO;
    while Instant::now() < deadline {
        peak = peak.max(rss_mib(pid));
        let started = Instant::now();
        let health = http.get(format!("{url}/healthz")).send().await.unwrap();
        assert!(health.status().is_success());
        let token = http
            .post(format!("{url}/oauth2/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client.0.as_str()),
                ("client_secret", client.1.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(token.status(), 200);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut answers = Vec::new();
    for attacker in attackers {
        answers.extend(attacker.await.unwrap());
    }
    peak = peak.max(rss_mib(pid));
    eprintln!(
        "flood: {} sign-ins answered ({} refused as busy), RSS {before:.0} -> peak {peak:.0} MiB, slowest probe {slowest:?}",
        answers.len(),
        answers.iter().filter(|status| **status == 503).count()
    );
    assert!(
        answers
            .iter()
            .all(|status| [401, 429, 503].contains(status)),
        "{answers:?}"
    );
    assert!(peak < 200.0, "RSS peaked at {peak:.0} MiB");
    assert!(slowest < Duration::from_secs(1), "a probe took {slowest:?}");
    crate::support::terminate(child).await;
}

/// Whether the server has closed `stream` (reads end or fail) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let until = Instant::now() + within;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
#[ignore = "200 slow connections held for several seconds; .ci/run runs it"]
async fn slow_heads_and_trickled_bodies_are_cut_off() {
    let (child, url) = serve(&["--header-read-timeout", "2s", "--body-read-timeout", "3s"]).await;
    let address = url.trim_start_matches("http://").to_string();
    let mut slow = Vec::new();
    for index in 0..200 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        if index % 2 == 0 {
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
                .await
                .unwrap();
        } else {
            stream
                .write_all(
                    b"POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\n\
                      Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\ngrant_type=",
                )
                .await
                .unwrap();
        }
        slow.push(stream);
    }
    // Trickle: one byte a second on every body, which never completes in time.
    let started = Instant::now();
    let mut closed = vec![false; slow.len()];
    while started.elapsed() < Duration::from_secs(8) && closed.iter().any(|done| !done) {
        for (index, stream) in slow.iter_mut().enumerate() {
            if closed[index] {
                continue;
            }
            if index % 2 == 1 && stream.write_all(b"c").await.is_err() {
                closed[index] = true;
                continue;
            }
            closed[index] = closed_within(stream, Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let open = closed.iter().filter(|done| !**done).count();
    assert_eq!(
        open, 0,
        "{open} of 200 slow connections still open after 8 s"
    );
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert!(health.status().is_success());
    crate::support::terminate(child).await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let (child, url) = serve(&["--header-read-timeout", "1s"]).await;
    let mut stream = TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 4096];
    let read = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    assert!(
        closed_within(&mut stream, Duration::from_secs(4)).await,
        "an idle keep-alive connection is closed"
    );
    crate::support::terminate(child).await;
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_one() {
    let (child, url) = serve(&["--max-connections", "3", "--header-read-timeout", "2s"]).await;
    let address = url.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert!(health.status().is_success());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500),
        "the fourth connection was served while three were held ({waited:?})"
    );
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    crate::support::terminate(child).await;
}

#[tokio::test]
async fn a_stalled_client_does_not_hold_shutdown_past_its_deadline() {
    let (child, url) = serve(&["--body-read-timeout", "120s", "--shutdown-timeout", "2s"]).await;
    let mut stalled = TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap();
    stalled
        .write_all(
            b"POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    crate::support::terminate(child).await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "shutdown took {:?}",
        started.elapsed()
    );
}
