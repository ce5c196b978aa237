//! Setup > Signing Keys: the keys tokens are signed with, rotated without an outage and
//! retired at once when one leaks.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Admin, Chrome, ConfirmPage, NoticeQuery, Submitted};
use crate::admin::keys;
use crate::domain::key_schedule::{self, KeyState};
use crate::domain::setup::{describe_duration, display_age, display_time};
use crate::domain::time::now_unix;
use crate::http::pages::{PageError, see_other};
use crate::state::AppState;

const WHAT: &str = "signing key";

struct KeyRow {
    kid: String,
    alg: String,
    state: &'static str,
    signs_from: String,
    signs_until: String,
    verifies_until: String,
    may_retire: bool,
    may_remove: bool,
}

#[derive(Template)]
#[template(path = "setup/keys.html")]
struct KeysPage {
    chrome: Chrome,
    rows: Vec<KeyRow>,
    publication_delay: String,
    jwks_max_age: String,
    rotation_interval: Option<String>,
}

fn when(at: i64, now: i64) -> String {
    format!("{} ({})", display_time(at), display_age(at, now))
}

const NOTICES: &[(&str, &str)] = &[
    (
        "rotated",
        "New key published in the JWKS; it starts signing at the time shown.",
    ),
    (
        "retired",
        "Key retired: it no longer signs, and verifies its tokens until they expire.",
    ),
    (
        "retired-now",
        "Key retired now: every token it signed is refused, on every replica.",
    ),
    ("removed", "Key removed."),
];

/// `GET /setup/keys`
pub async fn index(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let schedules = state
        .key_service()
        .list()
        .await
        .map_err(|error| admin.failure(WHAT)(error.into()))?;
    let now = now_unix();
    let rows = schedules
        .iter()
        .map(|key| {
            let key_state = key_schedule::state(&schedules, key, now);
            KeyRow {
                kid: key.kid.clone(),
                alg: key.alg.clone(),
                state: key_state.as_str(),
                signs_from: when(key.times.activate_at, now),
                signs_until: key.times.retired_at.map_or("—".into(), |at| when(at, now)),
                verifies_until: key.times.expires_at.map_or("—".into(), |at| when(at, now)),
                may_retire: matches!(key_state, KeyState::Next | KeyState::Active),
                may_remove: key_state == KeyState::Retired,
            }
        })
        .collect();
    let mut chrome = admin.chrome("Signing Keys", "keys");
    chrome.notice = NOTICES
        .iter()
        .find(|(name, _)| query.notice.as_deref() == Some(name))
        .map(|(_, text)| (*text).to_string());
    let interval = state.config.key_rotation_interval;
    let page = KeysPage {
        chrome,
        rows,
        publication_delay: describe_duration(state.config.key_publication_delay.secs()),
        jwks_max_age: describe_duration(state.config.jwks_max_age.secs()),
        rotation_interval: (!interval.is_zero()).then(|| describe_duration(interval.secs())),
    };
    admin.render(StatusCode::OK, &page)
}

/// `POST /setup/keys/rotate`
pub async fn rotate(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Submitted(fields): Submitted,
) -> Result<Response, PageError> {
    let alg = fields.get("alg").filter(|alg| !alg.is_empty());
    keys::rotate(&state.key_service(), &admin.actor(), alg)
        .await
        .map_err(admin.failure(WHAT))?;
    see_other("/setup/keys?notice=rotated")
}

#[derive(serde::Deserialize, Default)]
pub struct RetireQuery {
    #[serde(default)]
    now: Option<String>,
}

/// A confirmation page about the key `kid`, which must exist.
async fn confirm_page(
    state: &AppState,
    admin: &Admin,
    kid: &str,
    question: String,
    action: &str,
) -> Result<ConfirmPage, PageError> {
    let schedules = state
        .key_service()
        .list()
        .await
        .map_err(|error| admin.failure(WHAT)(error.into()))?;
    if !schedules.iter().any(|key| key.kid == kid) {
        return Err(admin.failure(WHAT)(crate::admin::AdminError::NotFound));
    }
    Ok(ConfirmPage {
        crumbs: vec![("/setup/keys".to_string(), "Signing Keys".to_string())],
        back: "/setup/keys".to_string(),
        ..ConfirmPage::new(
            admin,
            "keys",
            question,
            format!("/setup/keys/{kid}/{action}"),
        )
    })
}

/// `GET /setup/keys/{kid}/retire[?now=true]`: asks first.
pub async fn confirm_retire(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(kid): Path<String>,
    Query(query): Query<RetireQuery>,
) -> Result<Response, PageError> {
    let page = if query.now.as_deref() == Some("true") {
        ConfirmPage {
            consequences: vec![
                "Every token it signed is refused at once, on every replica: integrations holding \
                 one must fetch a new token, and users of applications signed in with its ID \
                 tokens may have to sign in again."
                    .to_string(),
                "Do this when the key has leaked. Another key takes over signing at once."
                    .to_string(),
            ],
            hidden: vec![("now", "true".to_string())],
            button: "Retire now",
            ..confirm_page(
                &state,
                &admin,
                &kid,
                format!("Retire the key {kid} now?"),
                "retire",
            )
            .await?
        }
    } else {
        ConfirmPage {
            consequences: vec![
                "It stops signing now and another key takes over at once; the tokens it signed \
                 keep verifying until they expire."
                    .to_string(),
            ],
            button: "Retire key",
            ..confirm_page(
                &state,
                &admin,
                &kid,
                format!("Retire the key {kid}?"),
                "retire",
            )
            .await?
        }
    };
    admin.render(StatusCode::OK, &page)
}

/// `GET /setup/keys/{kid}/remove`: asks first.
pub async fn confirm_remove(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(kid): Path<String>,
) -> Result<Response, PageError> {
    let page = ConfirmPage {
        consequences: vec![
            "It leaves the published key set: tokens it signed stop verifying, here and at every \
             relying party once their cached copy expires."
                .to_string(),
        ],
        button: "Remove key",
        ..confirm_page(
            &state,
            &admin,
            &kid,
            format!("Remove the key {kid}?"),
            "remove",
        )
        .await?
    };
    admin.render(StatusCode::OK, &page)
}

/// `POST /setup/keys/{kid}/retire`, with `now` to refuse its tokens at once.
pub async fn retire(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(kid): Path<String>,
    Submitted(fields): Submitted,
) -> Result<Response, PageError> {
    let immediately = fields.get("now") == Some("true");
    keys::retire(&state.key_service(), &admin.actor(), &kid, immediately)
        .await
        .map_err(admin.failure(WHAT))?;
    see_other(if immediately {
        "/setup/keys?notice=retired-now"
    } else {
        "/setup/keys?notice=retired"
    })
}

/// `POST /setup/keys/{kid}/remove`
pub async fn remove(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(kid): Path<String>,
    _form: Submitted,
) -> Result<Response, PageError> {
    keys::remove(&state.key_service(), &admin.actor(), &kid)
        .await
        .map_err(admin.failure(WHAT))?;
    see_other("/setup/keys?notice=removed")
}
