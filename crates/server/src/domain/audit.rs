//! The audit trail's rules: who acted, what an entry holds (the values before and after a
//! change, never a secret), and how entries are asked for.

use serde_json::{Map, Value};

/// Who made a change, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `admin token`, `user:LOGIN` (Setup), or `system` (the server itself, at start).
    pub name: String,
    /// The peer address; empty for the server itself.
    pub address: String,
}

impl Actor {
    pub fn admin_token(address: &str) -> Self {
        Self {
            name: "admin token".into(),
            address: address.into(),
        }
    }

    pub fn user(login: &str, address: &str) -> Self {
        Self {
            name: format!("user:{login}"),
            address: address.into(),
        }
    }

    pub fn system() -> Self {
        Self {
            name: "system".into(),
            address: String::new(),
        }
    }
}

/// One entry of the trail, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub address: String,
    /// `object.action`: `client.updated`, `api_key.revoked`, `signing_key.retired`, ...
    pub kind: String,
    /// `kind:id` of what was changed: `client:2f1c...`, `user:ada`, `signing_key:Gm3...`.
    pub object: String,
    /// What changed: `{"field": {"before": ..., "after": ...}}`, or the event's details.
    pub details: Value,
}

/// Fields whose values never enter the trail: only that they changed.
const SECRET_FIELDS: &[&str] = &["client_secret", "secret", "password", "key", "token"];

fn redacted(field: &str, value: &Value) -> Value {
    if SECRET_FIELDS.contains(&field) && !value.is_null() {
        Value::from("(secret)")
    } else {
        value.clone()
    }
}

/// The fields of two JSON objects that differ, each with its value before and after (a
/// secret's value replaced); a field only one side has counts as null on the other.
pub fn changes(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut changed = Map::new();
    let fields = before
        .keys()
        .chain(after.keys().filter(|key| !before.contains_key(*key)));
    for field in fields {
        let old = before.get(field).unwrap_or(&Value::Null);
        let new = after.get(field).unwrap_or(&Value::Null);
        if old != new {
            changed.insert(
                field.clone(),
                serde_json::json!({"before": redacted(field, old), "after": redacted(field, new)}),
            );
        }
    }
    Value::Object(changed)
}

/// A record created or deleted: every field on one side.
pub fn created(after: &Value) -> Value {
    changes(&Value::Null, after)
}

pub fn deleted(before: &Value) -> Value {
    changes(before, &Value::Null)
}

/// How entries are asked for; every filter optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<String>,
    /// `client:ID` for one record, or `client` for every client.
    pub object: Option<String>,
    /// `client.updated`, or `client` for every kind of client entry.
    pub kind: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: u32,
    pub offset: u32,
}

/// Most entries one call returns.
pub const MAX_PAGE: u32 = 200;

impl AuditQuery {
    /// `limit` bounded to `1..=MAX_PAGE` (50 when unset).
    pub fn bounded(mut self) -> Self {
        self.limit = match self.limit {
            0 => 50,
            limit => limit.min(MAX_PAGE),
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_name_what_differs_and_never_a_secret() {
        let before = json!({"name": "Old", "active": true, "client_secret": null, "scope": "a"});
        let after =
            json!({"name": "New", "active": true, "client_secret": "s3cr3t", "redirect_uris": []});
        let changed = changes(&before, &after);
        assert_eq!(changed["name"], json!({"before": "Old", "after": "New"}));
        assert!(changed.get("active").is_none());
        assert_eq!(
            changed["client_secret"],
            json!({"before": null, "after": "(secret)"})
        );
        assert_eq!(changed["scope"], json!({"before": "a", "after": null}));
        assert_eq!(
            changed["redirect_uris"],
            json!({"before": null, "after": []})
        );
        assert!(!changed.to_string().contains("s3cr3t"));
        assert_eq!(
            deleted(&before)["name"],
            json!({"before": "Old", "after": null})
        );
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(AuditQuery::default().bounded().limit, 50);
        assert_eq!(
            AuditQuery {
                limit: 10_000,
                ..Default::default()
            }
            .bounded()
            .limit,
            MAX_PAGE
        );
    }
}
