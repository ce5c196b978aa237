//! Prometheus metrics, recorded through the `metrics` facade into the process's one
//! `metrics-exporter-prometheus` recorder. The recorder is installed when metrics are asked
//! for (`--metrics-listen`); until then every call here records nothing and costs next to
//! nothing.
//!
//! Labels take their values from bounded sets only (route templates, HTTP methods, status
//! codes, grant types, error codes, registered clients), never from text a caller invents,
//! so no caller can grow the number of series.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::http::Method;
use metrics::{
    Counter, Histogram, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge,
    histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const REQUESTS: &str = "coupa_http_requests_total";
pub const REQUEST_SECONDS: &str = "coupa_http_request_duration_seconds";
pub const TOKENS_ISSUED: &str = "coupa_tokens_issued_total";
pub const TOKEN_ERRORS: &str = "coupa_token_errors_total";
pub const RATE_LIMITED: &str = "coupa_rate_limited_total";
pub const REFRESH_REUSE: &str = "coupa_refresh_token_reuse_total";
pub const CODE_REPLAYS: &str = "coupa_authorization_code_replays_total";
pub const SIGN_IN_FAILURES: &str = "coupa_sign_in_failures_total";
pub const SIGN_IN_LOCKOUTS: &str = "coupa_sign_in_lockouts_total";
pub const CLIENT_AUTH_FAILURES: &str = "coupa_client_authentication_failures_total";
pub const STORE_ERRORS: &str = "coupa_store_errors_total";
pub const CACHE_ENTRIES: &str = "coupa_cache_entries";
pub const CACHE_RELOAD_AGE: &str = "coupa_cache_reload_age_seconds";
pub const POOL_CONNECTIONS: &str = "coupa_store_pool_connections";
pub const POOL_MAX: &str = "coupa_store_pool_max_connections";
pub const SIGNING_KEY_AGE: &str = "coupa_signing_key_active_age_seconds";
pub const SIGNING_KEYS: &str = "coupa_signing_keys";

/// Latency buckets, in seconds: the token endpoint answers in well under a millisecond, a
/// page of records in a few.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the process's recorder, once; later calls (several servers in one process) share
/// it. Its histograms must be drained now and then: see `run_upkeep`.
pub fn install() -> Result<PrometheusHandle, String> {
    let mut installed = HANDLE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), LATENCY_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|error| format!("cannot start the metrics recorder: {error}"))?;
    describe();
    *installed = Some(handle.clone());
    INSTALLED.store(true, Ordering::Release);
    Ok(handle)
}

fn describe() {
    describe_counter!(
        REQUESTS,
        "Requests answered, by method, route template and status."
    );
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to answer, by method and route template."
    );
    describe_counter!(
        TOKENS_ISSUED,
        "Access tokens issued, by grant type and client."
    );
    describe_counter!(
        TOKEN_ERRORS,
        "Token endpoint refusals, by OAuth error code."
    );
    describe_counter!(RATE_LIMITED, "API requests refused with 429, by caller.");
    describe_counter!(
        REFRESH_REUSE,
        "Rotated refresh tokens presented again (the grant is revoked)."
    );
    describe_counter!(
        CODE_REPLAYS,
        "Authorization codes presented again (the grant is revoked)."
    );
    describe_counter!(SIGN_IN_FAILURES, "Failed sign-ins at the sign-in page.");
    describe_counter!(SIGN_IN_LOCKOUTS, "Sign-ins refused because of a lock.");
    describe_counter!(
        CLIENT_AUTH_FAILURES,
        "Failed client authentications at the OAuth endpoints, by client (unknown ones as one)."
    );
    describe_counter!(STORE_ERRORS, "Database operations that failed.");
    describe_gauge!(CACHE_ENTRIES, "Entries of each in-memory cache.");
    describe_gauge!(
        CACHE_RELOAD_AGE,
        Unit::Seconds,
        "Time since each cache was last fully reloaded from the database."
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "Database connections, by state (idle, in_use)."
    );
    describe_gauge!(POOL_MAX, "The most database connections the pool opens.");
    describe_gauge!(
        SIGNING_KEY_AGE,
        Unit::Seconds,
        "How long the active signing key of each algorithm has signed."
    );
    describe_gauge!(
        SIGNING_KEYS,
        "Signing keys, by state (next, active, retired)."
    );
}

/// Drains the histograms into the exposition; to be called every few seconds, so that they
/// do not grow while no one scrapes.
pub fn run_upkeep(handle: &PrometheusHandle) {
    handle.run_upkeep();
}

/// Whether a recorder is installed: without one, the label values (some allocated) are not
/// even built.
fn recording() -> bool {
    INSTALLED.load(Ordering::Acquire)
}

/// The methods HTTP defines keep their name; any other is `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The request metrics' handles by route template, then method and status: a handful of
/// series take almost every request, and finding a registered series by its labels (building
/// its key, hashing every label) costs more than counting.
type RequestSeries = HashMap<String, HashMap<(&'static str, u16), (Counter, Histogram)>>;

static REQUEST_SERIES: LazyLock<RwLock<RequestSeries>> = LazyLock::new(Default::default);

/// One answered request; `route` is the route template (or a fixed word when none matched).
pub fn request_served(method: &Method, route: &str, status: u16, latency: Duration) {
    if !recording() {
        return;
    }
    let method = method_label(method);
    let seconds = latency.as_secs_f64();
    let known = REQUEST_SERIES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(route)
        .and_then(|by_status| by_status.get(&(method, status)))
        .map(|(count, time)| {
            count.increment(1);
            time.record(seconds);
        })
        .is_some();
    if known {
        return;
    }
    let count = counter!(REQUESTS, "method" => method, "route" => route.to_string(), "status" => status.to_string());
    let time = histogram!(REQUEST_SECONDS, "method" => method, "route" => route.to_string());
    count.increment(1);
    time.record(seconds);
    REQUEST_SERIES
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(route.to_string())
        .or_default()
        .insert((method, status), (count, time));
}

/// The tokens-issued counters by client, then grant type: as for the request series, a
/// registered counter is found without building its key.
type TokenSeries = HashMap<String, HashMap<&'static str, Counter>>;

static TOKEN_SERIES: LazyLock<RwLock<TokenSeries>> = LazyLock::new(Default::default);

pub fn token_issued(grant_type: &'static str, client_id: &str) {
    if !recording() {
        return;
    }
    let known = TOKEN_SERIES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(client_id)
        .and_then(|by_grant| by_grant.get(grant_type))
        .map(|count| count.increment(1))
        .is_some();
    if known {
        return;
    }
    let count =
        counter!(TOKENS_ISSUED, "grant_type" => grant_type, "client_id" => client_id.to_string());
    count.increment(1);
    TOKEN_SERIES
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(client_id.to_string())
        .or_default()
        .insert(grant_type, count);
}

pub fn token_refused(error: &'static str) {
    counter!(TOKEN_ERRORS, "error" => error).increment(1);
}

/// `client_id` must name a registered client (the caller was authenticated).
pub fn rate_limited(client_id: &str) {
    if !recording() {
        return;
    }
    counter!(RATE_LIMITED, "caller" => client_id.to_string()).increment(1);
}

pub fn refresh_token_reused() {
    counter!(REFRESH_REUSE).increment(1);
}

pub fn authorization_code_replayed() {
    counter!(CODE_REPLAYS).increment(1);
}

pub fn sign_in_failed() {
    counter!(SIGN_IN_FAILURES).increment(1);
}

pub fn sign_in_locked() {
    counter!(SIGN_IN_LOCKOUTS).increment(1);
}

/// `known_client` is the client id when it names a registered client; None counts the
/// attempt under `unknown`, so made-up ids cannot add series.
pub fn client_authentication_failed(known_client: Option<&str>) {
    if !recording() {
        return;
    }
    let client = known_client.map_or("unknown".to_string(), str::to_string);
    counter!(CLIENT_AUTH_FAILURES, "client_id" => client).increment(1);
}

pub fn store_error() {
    counter!(STORE_ERRORS).increment(1);
}

pub fn cache_state(cache: &'static str, entries: usize, reload_age: Option<Duration>) {
    gauge!(CACHE_ENTRIES, "cache" => cache).set(entries as f64);
    if let Some(age) = reload_age {
        gauge!(CACHE_RELOAD_AGE, "cache" => cache).set(age.as_secs_f64());
    }
}

pub fn pool_state(in_use: u32, idle: u32, max: u32) {
    gauge!(POOL_CONNECTIONS, "state" => "in_use").set(f64::from(in_use));
    gauge!(POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    gauge!(POOL_MAX).set(f64::from(max));
}

pub fn signing_key_state(alg: &'static str, active_for_seconds: i64) {
    gauge!(SIGNING_KEY_AGE, "alg" => alg).set(active_for_seconds as f64);
}

pub fn signing_key_count(state: &'static str, count: usize) {
    gauge!(SIGNING_KEYS, "state" => state).set(count as f64);
}
