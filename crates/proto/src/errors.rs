//! Coupa's error body: `{"errors":{"field":["message", ...]}}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoupaErrors {
    pub errors: BTreeMap<String, Vec<String>>,
}

impl CoupaErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors
            .entry(field.into())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Every message as `field message`, the way Rails prints full messages.
    pub fn full_messages(&self) -> Vec<String> {
        self.errors
            .iter()
            .flat_map(|(field, messages)| {
                messages.iter().map(move |message| {
                    if field == "base" {
                        message.clone()
                    } else {
                        format!("{field} {message}")
                    }
                })
            })
            .collect()
    }
}

impl std::fmt::Display for CoupaErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full_messages().join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_coupa_does() {
        let errors = CoupaErrors::single("login", "has already been taken");
        let json = serde_json::to_string(&errors).unwrap();
        assert_eq!(json, r#"{"errors":{"login":["has already been taken"]}}"#);
        assert_eq!(errors.to_string(), "login has already been taken");
    }
}
