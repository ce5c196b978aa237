//! The audit trail, append-only.

use async_trait::async_trait;

use super::{SqlStore, StoreError, on_pool};
use crate::domain::audit::{AuditEntry, AuditQuery};

/// An entry as stored, with its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAuditEntry {
    pub id: i64,
    pub entry: AuditEntry,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// The entries `query` selects, newest first, and how many it selects in all.
    async fn audit_entries(
        &self,
        query: &AuditQuery,
    ) -> Result<(Vec<StoredAuditEntry>, i64), StoreError>;

    /// Deletes the entries older than `before`; how many.
    async fn purge_audit(&self, before: i64) -> Result<u64, StoreError>;
}

type Row = (i64, i64, String, String, String, String, String);

/// The WHERE clause of `query`, its text parameters (`$1`, `$2`, ...), then its time
/// parameters, in order.
fn conditions(query: &AuditQuery) -> (String, Vec<String>, Vec<i64>) {
    let mut clauses = Vec::new();
    let mut texts = Vec::new();
    // `client` selects `client` and every `client:...` (or `client.…`), `client:ID` itself.
    for (column, value, separator) in [("object", &query.object, ':'), ("kind", &query.kind, '.')] {
        if let Some(value) = value {
            let exact = texts.len() + 1;
            clauses.push(format!(
                "({column} = ${exact} OR {column} LIKE ${} ESCAPE '\\')",
                exact + 1
            ));
            let escaped = value
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            texts.push(value.clone());
            texts.push(format!("{escaped}{separator}%"));
        }
    }
    if let Some(actor) = &query.actor {
        clauses.push(format!("actor = ${}", texts.len() + 1));
        texts.push(actor.clone());
    }
    let mut times = Vec::new();
    for (operator, time) in [(">=", query.since), ("<", query.until)] {
        if let Some(time) = time {
            times.push(time);
            clauses.push(format!("at {operator} ${}", texts.len() + times.len()));
        }
    }
    let clause = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (clause, texts, times)
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO audit_events (at, actor, address, kind, object, details) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(entry.at)
            .bind(&entry.actor)
            .bind(&entry.address)
            .bind(&entry.kind)
            .bind(&entry.object)
            .bind(entry.details.to_string())
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn audit_entries(
        &self,
        query: &AuditQuery,
    ) -> Result<(Vec<StoredAuditEntry>, i64), StoreError> {
        let (clause, texts, times) = conditions(query);
        let select = format!(
            "SELECT id, at, actor, address, kind, object, details FROM audit_events{clause} \
             ORDER BY at DESC, id DESC LIMIT {} OFFSET {}",
            query.limit, query.offset
        );
        let count = format!("SELECT COUNT(*) FROM audit_events{clause}");
        on_pool!(self, |pool| {
            let mut rows = sqlx::query_as::<_, Row>(&select);
            let mut total = sqlx::query_scalar::<_, i64>(&count);
            for text in &texts {
                rows = rows.bind(text);
                total = total.bind(text);
            }
            for time in &times {
                rows = rows.bind(time);
                total = total.bind(time);
            }
            let rows = rows.fetch_all(pool).await?;
            let total = total.fetch_one(pool).await?;
            let entries = rows
                .into_iter()
                .map(
                    |(id, at, actor, address, kind, object, details)| StoredAuditEntry {
                        id,
                        entry: AuditEntry {
                            at,
                            actor,
                            address,
                            kind,
                            object,
                            details: serde_json::from_str(&details).unwrap_or_default(),
                        },
                    },
                )
                .collect();
            Ok((entries, total))
        })
    }

    async fn purge_audit(&self, before: i64) -> Result<u64, StoreError> {
        on_pool!(self, |pool| {
            Ok(sqlx::query("DELETE FROM audit_events WHERE at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected())
        })
    }
}
