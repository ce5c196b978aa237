//! Prometheus metrics on their own listener: scraped from `coupa serve` as a process (the
//! recorder is one per process), parsed, and checked to move as requests are made.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{ADMIN_TOKEN, create_client_with_cli, start_serve_capturing, terminate};

/// One sample: the metric's name and labels (sorted), and its value.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

/// Parses the Prometheus text format; panics on a line it cannot read.
fn parse(text: &str) -> Samples {
    let mut samples = Samples::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let rest = rest.strip_suffix('}').unwrap_or_else(|| panic!("{line}"));
                let labels = rest
                    .split("\",")
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) =
                            pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                        (key.to_string(), value.trim_end_matches('"').to_string())
                    })
                    .collect();
                (name.to_string(), labels)
            }
            None => (series.to_string(), BTreeMap::new()),
        };
        samples.insert((name, labels), value);
    }
    samples
}

fn sample(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels = labels
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    samples.get(&(name.to_string(), labels)).copied()
}

fn series_of<'s>(samples: &'s Samples, name: &str) -> Vec<&'s BTreeMap<String, String>> {
    samples
        .keys()
        .filter(|(series, _)| series == name)
        .map(|(_, labels)| labels)
        .collect()
}

async fn scrape(http: &reqwest::Client, metrics_url: &str) -> (String, Samples) {
    let response = http.get(metrics_url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    let samples = parse(&text);
    (text, samples)
}

#[tokio::test]
async fn metrics_are_served_apart_and_move_with_requests() {
    let database = crate::support::fresh_sqlite_url();
    let (child, url, printed) = start_serve_capturing(
        &[
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--database-url",
            &database,
            "--rate-limit",
            "1",
            "--rate-limit-burst",
            "2",
        ],
        &[("COUPA_ADMIN_TOKEN", ADMIN_TOKEN)],
    )
    .await;
    let metrics_url = printed
        .lines()
        .find_map(|line| line.strip_prefix("coupa serve: metrics on "))
        .unwrap_or_else(|| panic!("no metrics address in {printed}"))
        .trim()
        .to_string();
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{url}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "metrics are not served beside the API"
    );

    let client = create_client_with_cli(&url, "counted", "core.invoice.read").await;
    let (id, secret) = (client.id.as_str(), client.secret.as_str());
    let token = |client_id: String, secret: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            http.post(format!("{url}/oauth2/token"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", secret.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let mut access_token = String::new();
    for _ in 0..3 {
        let response = token(id.into(), secret.into()).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        access_token = body["access_token"].as_str().unwrap().to_string();
    }
    for _ in 0..2 {
        assert_eq!(token(id.into(), "wrong".into()).await.status(), 401);
    }
    for attempt in 0..20 {
        let made_up = format!("made-up-client-{attempt}");
        assert_eq!(token(made_up, "x".into()).await.status(), 401);
    }
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = http
            .get(format!("{url}/api/invoices?limit=1"))
            .bearer_auth(&access_token)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    let ok = statuses.iter().filter(|status| **status == 200).count() as f64;
    let limited = statuses.iter().filter(|status| **status == 429).count() as f64;
    assert!(
        limited >= 1.0,
        "the rate limit of 1/s refused some: {statuses:?}"
    );

    let (text, samples) = scrape(&http, &metrics_url).await;
    for name in [
        "coupa_http_requests_total",
        "coupa_http_request_duration_seconds",
        "coupa_tokens_issued_total",
        "coupa_token_errors_total",
        "coupa_client_authentication_failures_total",
        "coupa_rate_limited_total",
        "coupa_cache_entries",
        "coupa_store_pool_connections",
        "coupa_signing_key_active_age_seconds",
    ] {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} undescribed: {text}"
        );
    }
    assert_eq!(
        sample(
            &samples,
            "coupa_tokens_issued_total",
            &[("client_id", id), ("grant_type", "client_credentials")]
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &samples,
            "coupa_token_errors_total",
            &[("error", "invalid_client")]
        ),
        Some(22.0)
    );
    assert_eq!(
        sample(
            &samples,
            "coupa_client_authentication_failures_total",
            &[("client_id", id)]
        ),
        Some(2.0)
    );
    assert_eq!(
        series_of(&samples, "coupa_client_authentication_failures_total").len(),
        2,
        "made-up client ids share one series: {text}"
    );
    let requests = |method: &str, route: &str, status: &str| {
        sample(
            &samples,
            "coupa_http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("POST", "/oauth2/token", "200"), Some(3.0));
    assert_eq!(requests("POST", "/oauth2/token", "401"), Some(22.0));
    assert_eq!(requests("GET", "/api/{object}", "200"), Some(ok));
    assert_eq!(requests("GET", "/api/{object}", "429"), Some(limited));
    assert_eq!(
        sample(
            &samples,
            "coupa_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", "/api/{object}")]
        ),
        Some(5.0)
    );
    assert_eq!(
        sample(
            &samples,
            "coupa_http_request_duration_seconds_bucket",
            &[
                ("le", "+Inf"),
                ("method", "GET"),
                ("route", "/api/{object}")
            ]
        ),
        Some(5.0)
    );
    assert_eq!(
        sample(&samples, "coupa_rate_limited_total", &[("caller", id)]),
        Some(limited)
    );
    assert_eq!(
        sample(&samples, "coupa_cache_entries", &[("cache", "clients")]),
        Some(1.0)
    );
    assert!(
        sample(
            &samples,
            "coupa_cache_reload_age_seconds",
            &[("cache", "clients")]
        )
        .is_some()
    );
    assert!(sample(&samples, "coupa_store_pool_max_connections", &[]).unwrap() >= 1.0);
    assert!(
        sample(
            &samples,
            "coupa_signing_key_active_age_seconds",
            &[("alg", "ES256")]
        )
        .unwrap()
            >= 0.0
    );
    assert_eq!(
        sample(&samples, "coupa_signing_keys", &[("state", "active")]),
        Some(2.0),
        "ES256 for access tokens, RS256 for ID tokens"
    );

    // Counters only grow.
    assert_eq!(token(id.into(), secret.into()).await.status(), 200);
    let (_, again) = scrape(&http, &metrics_url).await;
    assert_eq!(
        sample(
            &again,
            "coupa_tokens_issued_total",
            &[("client_id", id), ("grant_type", "client_credentials")]
        ),
        Some(4.0)
    );
    terminate(child).await;
}
