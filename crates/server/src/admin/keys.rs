//! The signing keys as the admin API and Setup show and change them.

use coupa_proto::admin::SigningKeyView;
use coupa_proto::errors::CoupaErrors;

use super::AdminError;
use crate::audit_trail::append;
use crate::domain::audit::Actor;
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
    actor: &Actor,
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
    let keys = service.rotate(alg).await?;
    let algorithm = alg.map_or("every algorithm", Algorithm::as_str);
    append(
        service.store,
        actor,
        "signing_key.rotated",
        "signing_keys",
        serde_json::json!({"alg": algorithm}),
    )
    .await;
    Ok(views(&keys, now_unix()))
}

pub async fn retire(
    service: &KeyService<'_>,
    actor: &Actor,
    kid: &str,
    immediately: bool,
) -> Result<Vec<SigningKeyView>, AdminError> {
    let keys = service.retire(kid, immediately).await?;
    append(
        service.store,
        actor,
        "signing_key.retired",
        &format!("signing_key:{kid}"),
        serde_json::json!({"now": immediately}),
    )
    .await;
    Ok(views(&keys, now_unix()))
}

pub async fn remove(
    service: &KeyService<'_>,
    actor: &Actor,
    kid: &str,
) -> Result<Vec<SigningKeyView>, AdminError> {
    let keys = service.remove(kid).await?;
    append(
        service.store,
        actor,
        "signing_key.removed",
        &format!("signing_key:{kid}"),
        serde_json::Value::Object(Default::default()),
    )
    .await;
    Ok(views(&keys, now_unix()))
}
