//! Legacy API key administration: domain rule + store write + cache update.

use coupa_proto::admin::{ApiKeyView, CreateApiKey};

use crate::app::AppState;
use crate::cache::hex;
use crate::clients::AdminError;
use crate::domain::api_key::{ApiKeyError, ApiKeyRecord};
use crate::domain::time::{format_rfc3339, now_unix};

pub async fn create(state: &AppState, input: CreateApiKey) -> Result<ApiKeyView, AdminError> {
    let (record, key) = ApiKeyRecord::create(
        &input.name,
        input.login.as_deref(),
        input.scope.as_deref(),
        now_unix(),
    )
    .map_err(|error| match error {
        ApiKeyError::Invalid(errors) => AdminError::Invalid(errors),
        ApiKeyError::Randomness(error) => AdminError::Unavailable(error.to_string()),
    })?;
    state.store.insert_api_key(&record).await?;
    let view = record.view(Some(key));
    state.api_keys.set(&hex(&record.key_digest), Some(record));
    tracing::info!(key_id = %view.id, name = %view.name, "API key created");
    Ok(view)
}

/// Every key, with uses not yet written to the database merged in.
pub async fn list(state: &AppState) -> Result<Vec<ApiKeyView>, AdminError> {
    let uses = state
        .api_key_uses
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Ok(state
        .store
        .api_keys()
        .await?
        .into_iter()
        .map(|record| {
            let mut view = record.view(None);
            if let Some((at, from)) = uses.get(&record.key_id)
                && record.last_used_at.is_none_or(|stored| stored < *at)
            {
                view.last_used_at = Some(format_rfc3339(*at));
                view.last_used_from = Some(from.clone());
            }
            view
        })
        .collect())
}

pub async fn revoke(state: &AppState, key_id: &str) -> Result<ApiKeyView, AdminError> {
    if !state.store.revoke_api_key(key_id, now_unix()).await? {
        return Err(AdminError::NotFound);
    }
    let record = state
        .store
        .api_keys()
        .await?
        .into_iter()
        .find(|record| record.key_id == key_id)
        .ok_or(AdminError::NotFound)?;
    let view = record.view(None);
    state.api_keys.set(&hex(&record.key_digest), Some(record));
    tracing::info!(%key_id, "API key revoked");
    Ok(view)
}
