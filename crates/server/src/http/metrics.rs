//! `GET /metrics` on the metrics listener (`--metrics-listen`): Prometheus text. The gauges
//! of state (caches, the store's pool, the key ring) are read at each scrape; counters and
//! histograms are recorded where things happen (see `telemetry`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::domain::key_schedule::{self, KeyState};
use crate::domain::time::now_unix;
use crate::keys::Algorithm;
use crate::state::AppState;
use crate::telemetry;

/// How often histograms are drained when no one scrapes.
const UPKEEP_PERIOD: Duration = Duration::from_secs(5);

struct Scrape {
    state: Arc<AppState>,
    handle: PrometheusHandle,
    upkeep: tokio::task::JoinHandle<()>,
}

impl Drop for Scrape {
    fn drop(&mut self) {
        self.upkeep.abort();
    }
}

pub fn router(state: Arc<AppState>, handle: PrometheusHandle) -> Router {
    let upkeep = {
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(UPKEEP_PERIOD);
            loop {
                ticker.tick().await;
                telemetry::run_upkeep(&handle);
            }
        })
    };
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Arc::new(Scrape {
            state,
            handle,
            upkeep,
        }))
}

async fn scrape(State(scrape): State<Arc<Scrape>>) -> Response {
    record_state(&scrape.state);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
        .into_response()
}

fn record_state(state: &AppState) {
    let (entries, age) = state.clients.usage();
    telemetry::cache_state("clients", entries, age);
    let (entries, age) = state.api_keys.usage();
    telemetry::cache_state("api_keys", entries, age);
    let pool = state.store.pool_usage();
    telemetry::pool_state(pool.in_use, pool.idle, pool.max);
    let schedules = state.keys.current().schedules();
    let now = now_unix();
    for alg in [Algorithm::Es256, Algorithm::Rs256, Algorithm::EdDsa] {
        if let Some(key) = key_schedule::signing_key(&schedules, alg.as_str(), now) {
            telemetry::signing_key_state(alg.as_str(), now - key.times.activate_at);
        }
    }
    for key_state in [KeyState::Next, KeyState::Active, KeyState::Retired] {
        let count = schedules
            .iter()
            .filter(|key| key_schedule::state(&schedules, key, now) == key_state)
            .count();
        telemetry::signing_key_count(key_state.as_str(), count);
    }
}
