//! `coupa broker`: keeps a fresh token for every profile and hands it to local programs that
//! cannot do OAuth: `GET /token/{profile}` on 127.0.0.1 with the local secret, and optionally
//! a token file per profile, rewritten atomically (0600). When a token endpoint fails, the
//! still-valid token keeps being served; `/status` and `/metrics` (Prometheus) tell. Every
//! route needs the local secret and a `Host` of this machine.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use coupa_client::tokens::TokenManager;
use serde_json::json;

use crate::Failure;
use crate::listening::listen_and_serve;
use crate::local::{LocalSecret, host_allowed};

#[derive(Default, Clone)]
struct Health {
    refreshes_failed: u64,
    last_error: Option<String>,
    expires_in: u64,
}

pub struct Broker {
    managers: BTreeMap<String, Arc<TokenManager>>,
    secret: LocalSecret,
    token_dir: Option<PathBuf>,
    health: Mutex<BTreeMap<String, Health>>,
}

impl Broker {
    pub fn new(
        managers: BTreeMap<String, Arc<TokenManager>>,
        secret: &str,
        token_dir: Option<PathBuf>,
    ) -> Self {
        Self {
            managers,
            secret: LocalSecret::new(secret),
            token_dir,
            health: Mutex::default(),
        }
    }

    /// Refreshes every profile that is due and rewrites its token file.
    async fn refresh_all(&self) {
        for (name, manager) in &self.managers {
            let outcome = manager.token_info().await;
            let mut health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = health.entry(name.clone()).or_default();
            match outcome {
                Ok(info) => {
                    entry.expires_in = info.expires_in;
                    entry.last_error = None;
                    if let Some(dir) = &self.token_dir
                        && let Err(error) = coupa_client::profile::write_private(
                            &dir.join(format!("{name}.token")),
                            info.token.expose().as_bytes(),
                        )
                    {
                        tracing::warn!(profile = %name, %error, "cannot write the token file");
                    }
                }
                Err(error) => {
                    entry.refreshes_failed += 1;
                    entry.last_error = Some(error.to_string());
                    tracing::warn!(profile = %name, %error, "no token for the profile");
                }
            }
        }
    }
}

/// A `Host` of this machine and the local secret, on every route.
async fn local_callers_only(
    State(broker): State<Arc<Broker>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !host_allowed(request.headers(), &[]) {
        return (
            StatusCode::FORBIDDEN,
            "the broker answers only to localhost and loopback addresses\n",
        )
            .into_response();
    }
    if !broker.secret.admits(request.headers()) {
        return (
            StatusCode::UNAUTHORIZED,
            "send Authorization: Bearer <the broker's local secret>\n",
        )
            .into_response();
    }
    next.run(request).await
}

async fn token(State(broker): State<Arc<Broker>>, Path(profile): Path<String>) -> Response {
    let Some(manager) = broker.managers.get(&profile) else {
        return (
            StatusCode::NOT_FOUND,
            format!("no profile {profile}; GET /status lists them\n"),
        )
            .into_response();
    };
    match manager.token().await {
        Ok(token) => (
            [(header::CACHE_CONTROL, "no-store")],
            format!("{}\n", token.expose()),
        )
            .into_response(),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, format!("{error}\n")).into_response(),
    }
}

async fn status(State(broker): State<Arc<Broker>>) -> Response {
    let health = broker
        .health
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let profiles: BTreeMap<_, _> = broker
        .managers
        .iter()
        .map(|(name, manager)| {
            let entry = health.get(name).cloned().unwrap_or_default();
            (
                name.clone(),
                json!({
                    "url": manager.profile().url,
                    "token_requests": manager.requests_sent(),
                    "refreshes_failed": entry.refreshes_failed,
                    "expires_in": entry.expires_in,
                    "last_error": entry.last_error,
                }),
            )
        })
        .collect();
    axum::Json(json!({"profiles": profiles})).into_response()
}

/// Prometheus text exposition; no secrets in it. The figures are the broker's state at the
/// scrape, written into a recorder of their own.
async fn metrics(State(broker): State<Arc<Broker>>) -> Response {
    use metrics::{counter, describe_counter, describe_gauge, gauge};
    let health = broker
        .health
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        describe_counter!(
            "coupa_broker_token_requests_total",
            "Token requests sent per profile."
        );
        describe_counter!(
            "coupa_broker_refresh_failures_total",
            "Failed refreshes per profile."
        );
        describe_gauge!(
            "coupa_broker_token_expires_in_seconds",
            "Life left of the token held per profile."
        );
        for (name, manager) in &broker.managers {
            let entry = health.get(name).cloned().unwrap_or_default();
            let profile = name.clone();
            counter!("coupa_broker_token_requests_total", "profile" => profile.clone())
                .absolute(manager.requests_sent());
            counter!("coupa_broker_refresh_failures_total", "profile" => profile.clone())
                .absolute(entry.refreshes_failed);
            gauge!("coupa_broker_token_expires_in_seconds", "profile" => profile)
                .set(entry.expires_in as f64);
        }
    });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

pub async fn run(broker: Broker, listen: SocketAddr, check_every: Duration) -> Result<(), Failure> {
    if !listen.ip().is_loopback() {
        return Err(Failure::new(format!(
            "the broker hands out tokens, so it listens on loopback only, not {listen}"
        ))
        .hint("use --listen 127.0.0.1:PORT"));
    }
    let broker = Arc::new(broker);
    broker.refresh_all().await;
    let refresher = {
        let broker = Arc::clone(&broker);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(check_every);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                broker.refresh_all().await;
            }
        })
    };
    let profiles = broker.managers.len();
    let router = Router::new()
        .route("/token/{profile}", get(token))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&broker),
            local_callers_only,
        ))
        .with_state(broker);
    let result = listen_and_serve(
        "the broker",
        listen,
        |address| {
            outln!("coupa broker: listening on http://{address} ({profiles} profiles)");
            Ok(())
        },
        |listener, shutdown| {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .into_future()
        },
    )
    .await;
    refresher.abort();
    result
}
