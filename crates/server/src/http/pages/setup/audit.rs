//! Setup > Audit Trail: who changed what, when and from where, with the admin API's filters.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use coupa_proto::admin::{AuditEntryView, AuditFilters};

use super::{Admin, Chrome};
use crate::domain::setup::display_time;
use crate::domain::time::parse_iso8601;
use crate::http::pages::PageError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "setup/audit.html")]
struct AuditTrailPage {
    chrome: Chrome,
    filters: AuditFilters,
    entries: Vec<EntryRow>,
    total: i64,
    first: u32,
    last: u32,
    previous: Option<String>,
    next: Option<String>,
}

struct EntryRow {
    entry: AuditEntryView,
    at: String,
    changes: String,
}

/// `?since=...&offset=N` for another page of the same filters.
fn page_link(filters: &AuditFilters, offset: u32) -> String {
    let moved = AuditFilters {
        offset: Some(offset),
        ..filters.clone()
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("actor", &moved.actor),
        ("object", &moved.object),
        ("kind", &moved.kind),
        ("since", &moved.since),
        ("until", &moved.until),
    ] {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    query.append_pair("offset", &offset.to_string());
    format!("/setup/audit?{}", query.finish())
}

/// `GET /setup/audit`
pub async fn index(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    filters: Result<Query<AuditFilters>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(mut filters) = filters.map_err(|rejection| {
        admin.refused(
            StatusCode::BAD_REQUEST,
            format!("These filters cannot be read: {}", rejection.body_text()),
            vec![(
                "/setup/audit".to_string(),
                "The audit trail, unfiltered".to_string(),
            )],
        )
    })?;
    if filters.since.is_none() {
        filters.since = Some("7d".into());
    }
    let page = crate::admin::audit::page(&state.admin(), &filters)
        .await
        .map_err(admin.failure("audit entry"))?;
    let shown = u32::try_from(page.entries.len()).unwrap_or(u32::MAX);
    let next_offset = page.offset + shown;
    let page_view = AuditTrailPage {
        chrome: admin.chrome("Audit Trail", "audit"),
        previous: (page.offset > 0)
            .then(|| page_link(&filters, page.offset.saturating_sub(page.limit))),
        next: (i64::from(next_offset) < page.total).then(|| page_link(&filters, next_offset)),
        first: page.offset + 1,
        last: next_offset,
        total: page.total,
        entries: page
            .entries
            .into_iter()
            .map(|entry| EntryRow {
                at: parse_iso8601(&entry.at).map_or_else(|| entry.at.clone(), display_time),
                changes: serde_json::to_string_pretty(&entry.details).unwrap_or_default(),
                entry,
            })
            .collect(),
        filters,
    };
    admin.render(StatusCode::OK, &page_view)
}
