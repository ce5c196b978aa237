//! Legacy API key administration.

use coupa_proto::admin::{ApiKeyView, CreateApiKey};

use super::{AdminContext, AdminError, as_audited};
use crate::cache::hex;
use crate::domain::api_key::{ApiKeyError, ApiKeyRecord, ApiKeySource};
use crate::domain::audit;
use crate::domain::time::now_unix;
use crate::store::{Change, announce};

pub async fn create(
    context: &AdminContext<'_>,
    input: CreateApiKey,
) -> Result<ApiKeyView, AdminError> {
    let (record, key) = ApiKeyRecord::create(
        &input.name,
        input.login.as_deref(),
        input.scope.as_deref(),
        now_unix(),
    )
    .map_err(|error| match error {
        ApiKeyError::Invalid(errors) => AdminError::Invalid(errors),
        ApiKeyError::Randomness(error) => error.into(),
    })?;
    context.store.insert_api_key(&record).await?;
    let view = record.view(Some(key));
    context.api_keys.set(&hex(&record.key_digest), Some(record));
    announce(context.store.as_ref(), Change::ApiKeys).await;
    context
        .record(
            "api_key.created",
            format!("api_key:{}", view.id),
            audit::created(&as_audited(&view)),
        )
        .await;
    tracing::info!(key_id = %view.id, name = %view.name, "API key created");
    Ok(view)
}

/// Every key, with uses not yet written to the database merged in.
pub async fn list(context: &AdminContext<'_>) -> Result<Vec<ApiKeyView>, AdminError> {
    Ok(records(context)
        .await?
        .iter()
        .map(|record| record.view(None))
        .collect())
}

/// Every key record, its last use and refused calls merged with this process's not yet
/// written.
pub async fn records(context: &AdminContext<'_>) -> Result<Vec<ApiKeyRecord>, AdminError> {
    let uses = context.api_key_uses.snapshot();
    let refused = context.refused_api_key_calls.snapshot();
    Ok(context
        .store
        .api_keys()
        .await?
        .into_iter()
        .map(|mut record| {
            if let Some((at, from)) = uses.get(&record.key_id)
                && record.last_used_at.is_none_or(|stored| stored < *at)
            {
                record.last_used_at = Some(*at);
                record.last_used_from = Some(from.clone());
            }
            if let Some(pending) = refused.get(&record.key_id) {
                record.refused_calls += pending.calls;
                if record
                    .last_refused_at
                    .is_none_or(|stored| stored < pending.last_at)
                {
                    record.last_refused_at = Some(pending.last_at);
                    record.last_refused_from = Some(pending.last_from.clone());
                }
            }
            record
        })
        .collect())
}

/// Every address each key was used from, with this process's uses not yet written.
pub async fn sources(context: &AdminContext<'_>) -> Result<Vec<ApiKeySource>, AdminError> {
    let mut sources = context.store.api_key_sources().await?;
    for (key_id, (at, address)) in context.api_key_uses.snapshot() {
        match sources
            .iter_mut()
            .find(|source| source.key_id == key_id && source.address == address)
        {
            Some(source) => source.last_used_at = source.last_used_at.max(at),
            None => sources.push(ApiKeySource {
                key_id,
                address,
                first_used_at: at,
                last_used_at: at,
            }),
        }
    }
    Ok(sources)
}

pub async fn revoke(context: &AdminContext<'_>, key_id: &str) -> Result<ApiKeyView, AdminError> {
    if !context.store.revoke_api_key(key_id, now_unix()).await? {
        return Err(AdminError::NotFound);
    }
    let record = context
        .store
        .api_keys()
        .await?
        .into_iter()
        .find(|record| record.key_id == key_id)
        .ok_or(AdminError::NotFound)?;
    let view = record.view(None);
    context.api_keys.set(&hex(&record.key_digest), Some(record));
    announce(context.store.as_ref(), Change::ApiKeys).await;
    context
        .record(
            "api_key.revoked",
            format!("api_key:{key_id}"),
            serde_json::json!({"revoked_at": {"before": null, "after": view.revoked_at}}),
        )
        .await;
    tracing::info!(%key_id, "API key revoked");
    Ok(view)
}
