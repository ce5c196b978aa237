//! Appending to the audit trail, for administrative operations and security events alike.

use serde_json::Value;

use crate::domain::audit::{Actor, AuditEntry};
use crate::domain::time::now_unix;
use crate::store::Store;

/// Longest text taken from a caller into an entry (a login someone typed, say).
const MAX_TEXT: usize = 200;

fn bounded(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}

/// Appends one entry. What it records has already happened: a trail that cannot be written
/// is logged as an error, and the operation stands.
pub async fn append(store: &dyn Store, actor: &Actor, kind: &str, object: &str, details: Value) {
    let entry = AuditEntry {
        at: now_unix(),
        actor: bounded(&actor.name),
        address: bounded(&actor.address),
        kind: kind.to_string(),
        object: bounded(object),
        details,
    };
    if let Err(error) = store.append_audit(&entry).await {
        tracing::error!(%error, kind = %entry.kind, object = %entry.object, "cannot write the audit trail");
    }
}

/// A security event concerning `subject` (`client:ID`, `login:NAME`), seen from `address`.
pub async fn security_event(
    store: &dyn Store,
    kind: &str,
    subject: &str,
    address: &str,
    details: Value,
) {
    let actor = Actor {
        name: subject.to_string(),
        address: address.to_string(),
    };
    append(store, &actor, kind, subject, details).await;
}
