//! Elements an administrator adds to an API object (`custom-fields` in Coupa's records).

use coupa_proto::errors::CoupaErrors;

/// At most this many custom fields per object.
pub const MAX_PER_OBJECT: usize = 50;

/// The kinds a custom field may have: the scalar types of Coupa's elements.
pub const KINDS: &[&str] = &["string", "integer", "decimal", "boolean", "datetime"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFieldRecord {
    /// The object's path (`invoices`).
    pub object: String,
    /// The key under `custom-fields`, hyphenated as Coupa's elements are (`cost-center`).
    pub name: String,
    pub kind: String,
    /// What Setup and the API document call it.
    pub label: String,
    pub created_at: i64,
}

impl CustomFieldRecord {
    /// A new definition, its name normalized to Coupa's hyphenated style.
    pub fn create(
        object: &str,
        name: &str,
        kind: &str,
        label: Option<&str>,
        now: i64,
    ) -> Result<Self, CoupaErrors> {
        let mut errors = CoupaErrors::new();
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        let well_formed = name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !well_formed {
            errors.add(
                "name",
                "must start with a letter and hold only letters, digits and dashes (at most 63)",
            );
        }
        if !KINDS.contains(&kind) {
            errors.add("kind", format!("must be one of {}", KINDS.join(", ")));
        }
        let label = label
            .map(str::trim)
            .filter(|label| !label.is_empty())
            .unwrap_or(&name)
            .to_string();
        if label.chars().count() > 100 {
            errors.add("label", "is too long (maximum is 100 characters)");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            object: object.to_string(),
            name,
            kind: kind.to_string(),
            label,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_hyphenated_and_checked() {
        let field =
            CustomFieldRecord::create("invoices", "Cost_Center", "string", None, 1).unwrap();
        assert_eq!(
            (field.name.as_str(), field.label.as_str()),
            ("cost-center", "cost-center")
        );
        for bad in ["", "1st", "a b", "ü", &"x".repeat(64)] {
            assert!(
                CustomFieldRecord::create("invoices", bad, "string", None, 1).is_err(),
                "{bad}"
            );
        }
        let errors = CustomFieldRecord::create("invoices", "x", "money", None, 1).unwrap_err();
        assert!(errors.errors["kind"][0].contains("decimal"));
    }
}
