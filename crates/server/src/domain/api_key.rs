//! Legacy API keys (`X-COUPA-API-KEY`), kept for integrations not yet moved to OAuth 2.0.
//! Keys are 40 hex digits as Coupa's are, shown once, stored as digests.

use coupa_proto::errors::CoupaErrors;
use coupa_proto::scopes::CATALOGUE;

use super::scope::ScopeSet;
use super::secret::{self, RandomnessUnavailable, random_bytes};
use super::time::format_rfc3339;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub key_id: String,
    pub name: String,
    /// The API user the key acts as: records it creates show it as created-by.
    pub login: String,
    pub scopes: ScopeSet,
    pub key_digest: Vec<u8>,
    /// The first characters of the key, to recognise it in lists.
    pub key_prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub last_used_from: Option<String>,
    pub revoked_at: Option<i64>,
    /// Calls refused because the key was revoked, and the latest of them.
    pub refused_calls: i64,
    pub last_refused_at: Option<i64>,
    pub last_refused_from: Option<String>,
}

/// An address a key was used from, with the first and last use seen from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeySource {
    pub key_id: String,
    pub address: String,
    pub first_used_at: i64,
    pub last_used_at: i64,
}

#[derive(Debug)]
pub enum ApiKeyError {
    Invalid(CoupaErrors),
    Randomness(RandomnessUnavailable),
}

impl ApiKeyRecord {
    /// Validates a create request; returns the record and the key in clear, the only time it
    /// exists outside the caller. No scope means every scope, as legacy keys had full access.
    pub fn create(
        name: &str,
        login: Option<&str>,
        scope: Option<&str>,
        now: i64,
    ) -> Result<(Self, String), ApiKeyError> {
        let mut errors = CoupaErrors::new();
        let name = name.trim();
        if name.is_empty() {
            errors.add("name", "can't be blank");
        }
        let scopes = match scope.map(str::trim).filter(|scope| !scope.is_empty()) {
            Some(scope) => ScopeSet::parse(scope),
            None => ScopeSet::parse(
                &CATALOGUE
                    .iter()
                    .map(|scope| scope.name)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        for unknown in scopes.unknown() {
            errors.add(
                "scope",
                format!("{unknown} is not a known scope (see `coupa scopes list`)"),
            );
        }
        let login = login
            .map(str::trim)
            .filter(|login| !login.is_empty())
            .unwrap_or(name)
            .to_string();
        if !errors.is_empty() {
            return Err(ApiKeyError::Invalid(errors));
        }
        let key: String = random_bytes::<20>()
            .map_err(ApiKeyError::Randomness)?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let record = Self {
            key_id: secret::generate_identifier().map_err(ApiKeyError::Randomness)?,
            name: name.to_string(),
            login,
            scopes,
            key_digest: secret::digest(&key).to_vec(),
            key_prefix: key[..6].to_string(),
            created_at: now,
            last_used_at: None,
            last_used_from: None,
            revoked_at: None,
            refused_calls: 0,
            last_refused_at: None,
            last_refused_from: None,
        };
        Ok((record, key))
    }

    pub fn view(&self, key: Option<String>) -> coupa_proto::admin::ApiKeyView {
        coupa_proto::admin::ApiKeyView {
            id: self.key_id.clone(),
            key,
            name: self.name.clone(),
            login: self.login.clone(),
            scope: self.scopes.to_string(),
            key_prefix: self.key_prefix.clone(),
            created_at: format_rfc3339(self.created_at),
            last_used_at: self.last_used_at.map(format_rfc3339),
            last_used_from: self.last_used_from.clone(),
            revoked_at: self.revoked_at.map(format_rfc3339),
        }
    }
}

impl crate::domain::listing::Listable for ApiKeyRecord {
    fn searched(&self) -> Vec<&str> {
        vec![&self.name, &self.key_prefix, &self.login, &self.key_id]
    }

    fn sort_key(&self, column: &str) -> Option<crate::domain::listing::SortKey> {
        use crate::domain::listing::SortKey;
        Some(match column {
            "name" => SortKey::text(&self.name),
            "key" => SortKey::text(&self.key_prefix),
            "login" => SortKey::text(&self.login),
            "scopes" => SortKey::Number(i64::try_from(self.scopes.iter().count()).unwrap_or(0)),
            "created" => SortKey::Number(self.created_at),
            "last_used" => SortKey::optional_number(self.last_used_at),
            "revoked" => SortKey::optional_number(self.revoked_at),
            _ => return None,
        })
    }

    fn identity(&self) -> &str {
        &self.key_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_look_like_coupas_and_are_stored_as_digests() {
        let (record, key) = ApiKeyRecord::create("Payroll export", None, None, 10).unwrap();
        assert_eq!(key.len(), 40);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(record.key_digest, secret::digest(&key).to_vec());
        assert_eq!(record.login, "Payroll export");
        assert!(
            record.scopes.contains("core.invoice.read"),
            "no scope means every scope"
        );
        assert!(record.view(None).key.is_none());
    }

    #[test]
    fn validation() {
        assert!(matches!(
            ApiKeyRecord::create(" ", None, None, 0),
            Err(ApiKeyError::Invalid(_))
        ));
        assert!(matches!(
            ApiKeyRecord::create("x", None, Some("core.bogus"), 0),
            Err(ApiKeyError::Invalid(_))
        ));
        let (record, _) =
            ApiKeyRecord::create("x", Some("erp"), Some("core.invoice.read"), 0).unwrap();
        assert_eq!(
            (record.login.as_str(), record.scopes.to_string().as_str()),
            ("erp", "core.invoice.read")
        );
    }
}
