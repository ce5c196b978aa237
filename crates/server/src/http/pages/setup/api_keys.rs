//! Setup > API Keys (list and revoke the legacy keys) and the transition report: which keys
//! are still used, from where, and how many OAuth clients have taken over.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::listing::{ListParams, ListView};
use super::{Admin, Chrome, ConfirmPage, NoticeQuery, Submitted};
use crate::admin::api_keys;
use crate::domain::api_key::ApiKeyRecord;
use crate::domain::listing;
use crate::domain::setup::{TransitionReport, display_age, display_time, transition_report};
use crate::domain::time::now_unix;
use crate::http::pages::{PageError, see_other};
use crate::state::AppState;

const WHAT: &str = "API key";

struct KeyRow {
    key_id: String,
    name: String,
    key_prefix: String,
    login: String,
    scope_count: usize,
    created: String,
    last_used: String,
    last_used_from: String,
    revoked: Option<String>,
}

impl KeyRow {
    fn new(key: &ApiKeyRecord, now: i64) -> Self {
        Self {
            key_id: key.key_id.clone(),
            name: key.name.clone(),
            key_prefix: key.key_prefix.clone(),
            login: key.login.clone(),
            scope_count: key.scopes.iter().count(),
            created: display_time(key.created_at),
            last_used: key.last_used_at.map_or_else(
                || "Never".to_string(),
                |at| format!("{} ({})", display_time(at), display_age(at, now)),
            ),
            last_used_from: key.last_used_from.clone().unwrap_or_default(),
            revoked: key.revoked_at.map(display_time),
        }
    }
}

#[derive(Template)]
#[template(path = "setup/api_keys.html")]
struct ApiKeysPage {
    chrome: Chrome,
    rows: Vec<KeyRow>,
    list: ListView,
    keys_accepted: bool,
}

/// `GET /api_keys?q=&active=&sort=&dir=&page=` (active: not revoked)
pub async fn index(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Query(query): Query<NoticeQuery>,
    Query(params): Query<ListParams>,
) -> Result<Response, PageError> {
    let keys = api_keys::records(&state.admin())
        .await
        .map_err(admin.failure(WHAT))?;
    let now = now_unix();
    let active = params.active();
    let listed = listing::list(
        keys.iter()
            .filter(|key| active.admits(key.revoked_at.is_none())),
        &params.request(),
        "name",
    );
    let mut chrome = admin.chrome("API Keys", "api_keys");
    chrome.notice = (query.notice.as_deref() == Some("revoked"))
        .then(|| "API key revoked: calls that send it are refused from now on.".into());
    let page = ApiKeysPage {
        chrome,
        list: ListView::new("/api_keys", &params, &listed),
        rows: listed
            .rows
            .iter()
            .map(|key| KeyRow::new(key, now))
            .collect(),
        keys_accepted: state.config.api_keys,
    };
    admin.render(StatusCode::OK, &page)
}

/// `GET /api_keys/{id}/revoke`: asks first, saying when and where the key was last used.
pub async fn confirm_revoke(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(key_id): Path<String>,
) -> Result<Response, PageError> {
    let keys = api_keys::records(&state.admin())
        .await
        .map_err(admin.failure(WHAT))?;
    let key = keys
        .iter()
        .find(|key| key.key_id == key_id && key.revoked_at.is_none())
        .ok_or_else(|| admin.failure(WHAT)(crate::admin::AdminError::NotFound))?;
    let row = KeyRow::new(key, now_unix());
    let mut last_use = format!("Last used: {}", row.last_used);
    if !row.last_used_from.is_empty() {
        last_use.push_str(&format!(", from {}", row.last_used_from));
    }
    last_use.push('.');
    let page = ConfirmPage {
        crumbs: vec![("/api_keys".to_string(), "API Keys".to_string())],
        consequences: vec![
            format!(
                "Calls that send {} ({}…, acting as {}) are refused from now on: integrations still \
                 using it stop working. This cannot be undone.",
                row.name, row.key_prefix, row.login
            ),
            last_use,
        ],
        button: "Revoke API key",
        back: "/api_keys".to_string(),
        ..ConfirmPage::new(
            &admin,
            "api_keys",
            format!("Revoke the API key {}?", row.name),
            format!("/api_keys/{key_id}/revoke"),
        )
    };
    admin.render(StatusCode::OK, &page)
}

/// `POST /api_keys/{id}/revoke`
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(key_id): Path<String>,
    _form: Submitted,
) -> Result<Response, PageError> {
    api_keys::revoke(&state.admin_as(admin.actor()), &key_id)
        .await
        .map_err(admin.failure(WHAT))?;
    see_other("/api_keys?notice=revoked")
}

struct SourceRow {
    address: String,
    last_used: String,
}

struct ReportRow {
    key: KeyRow,
    activity: String,
    in_use: bool,
    sources: Vec<SourceRow>,
}

#[derive(Template)]
#[template(path = "setup/transition.html")]
struct TransitionPage {
    chrome: Chrome,
    report: TransitionReport,
    rows: Vec<ReportRow>,
    list: ListView,
    keys_accepted: bool,
}

/// `GET /setup/transition?q=&sort=&dir=&page=`
pub async fn transition(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Query(params): Query<ListParams>,
) -> Result<Response, PageError> {
    let loaded = async {
        Ok::<_, crate::admin::AdminError>((
            api_keys::records(&state.admin()).await?,
            api_keys::sources(&state.admin()).await?,
            crate::admin::clients::list(&state.admin()).await?,
        ))
    };
    let (keys, sources, clients) = loaded.await.map_err(admin.failure(WHAT))?;
    let now = now_unix();
    let active_clients = clients.iter().filter(|client| client.active).count();
    let report = transition_report(&keys, &sources, active_clients, now);
    let listed = listing::list(report.keys.iter(), &params.request(), "activity");
    let list = ListView::new("/setup/transition", &params, &listed);
    let rows = listed
        .rows
        .iter()
        .map(|entry| ReportRow {
            key: KeyRow::new(&entry.key, now),
            activity: describe_activity(entry, now),
            in_use: entry.activity.in_use(),
            sources: entry
                .recent_sources
                .iter()
                .map(|source| SourceRow {
                    address: source.address.clone(),
                    last_used: display_age(source.last_used_at, now),
                })
                .collect(),
        })
        .collect();
    let page = TransitionPage {
        chrome: admin.chrome("API Key Transition", "transition"),
        report,
        rows,
        list,
        keys_accepted: state.config.api_keys,
    };
    admin.render(StatusCode::OK, &page)
}

/// A key's standing; for a revoked key still called, the calls refused since.
fn describe_activity(entry: &crate::domain::setup::KeyReport, now: i64) -> String {
    let key = &entry.key;
    match key.last_refused_at.filter(|_| key.refused_calls > 0) {
        Some(at) => format!(
            "{}; {} refused since, the last {} from {} (an integration still sends it)",
            entry.activity.describe(),
            if key.refused_calls == 1 {
                "1 call".to_string()
            } else {
                format!("{} calls", key.refused_calls)
            },
            display_age(at, now),
            key.last_refused_from
                .as_deref()
                .unwrap_or("an unknown address"),
        ),
        None => entry.activity.describe(),
    }
}

fn count_of(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        one.to_string()
    } else {
        many.to_string()
    }
}

impl TransitionPage {
    /// The summary cards: a count and what it counts.
    fn summary(&self) -> Vec<(usize, String)> {
        let report = &self.report;
        let mut cards: Vec<(usize, String)> = report
            .used_within
            .iter()
            .map(|&(days, count)| {
                let window = if days == 1 {
                    "day".to_string()
                } else {
                    format!("{days} days")
                };
                (
                    count,
                    format!(
                        "{} used in the last {window}",
                        count_of(count, "key", "keys")
                    ),
                )
            })
            .collect();
        let idle = report.idle + report.never_used;
        cards.push((
            idle,
            format!("idle (no use in 30 days; {} never used)", report.never_used),
        ));
        cards.push((report.revoked, "revoked".to_string()));
        cards.push((
            usize::try_from(report.refused_calls).unwrap_or(usize::MAX),
            format!(
                "calls refused with revoked keys ({} {} broke)",
                report.broken,
                count_of(report.broken, "integration", "integrations")
            ),
        ));
        cards.push((
            report.active_oauth_clients,
            format!(
                "active OAuth {}",
                count_of(report.active_oauth_clients, "client", "clients")
            ),
        ));
        cards
    }

    fn progress(&self) -> String {
        let keys = &self.report.keys;
        let in_use = keys.iter().filter(|entry| entry.activity.in_use()).count();
        format!(
            "{in_use} of {} {} still in use.",
            keys.len(),
            count_of(keys.len(), "key is", "keys are")
        )
    }
}
