//! The audit trail as the admin API, `coupa admin audit` and Setup read it.

use coupa_proto::admin::{AuditEntryView, AuditFilters, AuditPage};
use coupa_proto::errors::CoupaErrors;

use super::{AdminContext, AdminError};
use crate::domain::audit::AuditQuery;
use crate::domain::lifetime::Lifetime;
use crate::domain::time::{format_rfc3339, now_unix, parse_iso8601};

/// A time filter: RFC 3339 / ISO 8601, or a duration back from `now` (`24h`, `7d`).
fn instant(field: &str, text: &str, now: i64) -> Result<i64, AdminError> {
    if let Ok(back) = Lifetime::parse(text) {
        return Ok(now - back.seconds());
    }
    parse_iso8601(text).ok_or_else(|| {
        AdminError::Invalid(CoupaErrors::single(
            field,
            format!("`{text}` is neither a time (2026-12-01T00:00:00Z) nor a duration (24h, 7d)"),
        ))
    })
}

pub fn query(filters: &AuditFilters, now: i64) -> Result<AuditQuery, AdminError> {
    let text = |value: &Option<String>| value.clone().filter(|value| !value.trim().is_empty());
    let time = |field: &str, value: &Option<String>| {
        text(value)
            .map(|value| instant(field, &value, now))
            .transpose()
    };
    Ok(AuditQuery {
        actor: text(&filters.actor),
        object: text(&filters.object),
        kind: text(&filters.kind),
        since: time("since", &filters.since)?,
        until: time("until", &filters.until)?,
        limit: filters.limit.unwrap_or(0),
        offset: filters.offset.unwrap_or(0),
    }
    .bounded())
}

pub async fn page(
    context: &AdminContext<'_>,
    filters: &AuditFilters,
) -> Result<AuditPage, AdminError> {
    let query = query(filters, now_unix())?;
    let (entries, total) = context.store.audit_entries(&query).await?;
    Ok(AuditPage {
        entries: entries
            .into_iter()
            .map(|stored| AuditEntryView {
                id: stored.id,
                at: format_rfc3339(stored.entry.at),
                actor: stored.entry.actor,
                address: stored.entry.address,
                kind: stored.entry.kind,
                object: stored.entry.object,
                details: stored.entry.details,
            })
            .collect(),
        total,
        limit: query.limit,
        offset: query.offset,
    })
}
