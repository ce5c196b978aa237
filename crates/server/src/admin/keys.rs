//! The signing keys as the admin API and Setup show and change them.

use coupa_proto::admin::SigningKeyView;
use coupa_proto::errors::CoupaErrors;

use super::AdminError;
use crate::domain::key_schedule::{self, KeyRuleError, KeySchedule};
use crate::domain::time::{format_rfc3339, now_unix};
use crate::keys::Algorithm;
use crate::signing_keys::{KeyRingError, KeyService};

impl From<KeyRingError> for AdminError {
    fn from(error: KeyRingError) -> Self {
        match error {
            KeyRingError::Rule(KeyRuleError::NotFound(_)) => Self::NotFound,
            KeyRingError::Rule(rule) => Self::Invalid(CoupaErrors::single("key", rule.to_string())),
            other => Self::Unavailable(Box::new(other)),
        }
    }
}

pub fn views(keys: &[KeySchedule], now: i64) -> Vec<SigningKeyView> {
    keys.iter()
        .map(|key| SigningKeyView {
            kid: key.kid.clone(),
            alg: key.alg.clone(),
            state: key_schedule::state(keys, key, now).as_str().to_string(),
            created_at: format_rfc3339(key.created_at),
            signs_from: format_rfc3339(key.times.activate_at),
            signs_until: key.times.retired_at.map(format_rfc3339),
            verifies_until: key.times.expires_at.map(format_rfc3339),
        })
        .collect()
}

pub async fn list(service: &KeyService<'_>) -> Result<Vec<SigningKeyView>, AdminError> {
    Ok(views(&service.list().await?, now_unix()))
}

/// `alg` names one algorithm (ES256, RS256, EdDSA); None rotates every one that signs.
pub async fn rotate(
    service: &KeyService<'_>,
    alg: Option<&str>,
) -> Result<Vec<SigningKeyView>, AdminError> {
    let alg = match alg {
        Some(text) => Some(Algorithm::parse(text).ok_or_else(|| {
            AdminError::Invalid(CoupaErrors::single(
                "alg",
                format!("`{text}` is not one of ES256, RS256, EdDSA"),
            ))
        })?),
        None => None,
    };
    Ok(views(&service.rotate(alg).await?, now_unix()))
}

pub async fn retire(
    service: &KeyService<'_>,
    kid: &str,
    immediately: bool,
) -> Result<Vec<SigningKeyView>, AdminError> {
    Ok(views(&service.retire(kid, immediately).await?, now_unix()))
}

pub async fn remove(
    service: &KeyService<'_>,
    kid: &str,
) -> Result<Vec<SigningKeyView>, AdminError> {
    Ok(views(&service.remove(kid).await?, now_unix()))
}
