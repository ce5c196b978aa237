//! Client administration: domain rules + store + cache, one call per admin operation.

use std::collections::HashMap;

use coupa_proto::admin::{ClientView, CreateClient, UpdateClient};
use coupa_proto::errors::CoupaErrors;

use crate::app::AppState;
use crate::domain::client::{ClientError, ClientRecord};
use crate::domain::time::{format_rfc3339, now_unix};
use crate::store::StoreError;

#[derive(Debug)]
pub enum AdminError {
    NotFound,
    Invalid(CoupaErrors),
    Unavailable(String),
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Taken(field) => {
                Self::Invalid(CoupaErrors::single(field, "has already been taken"))
            }
            StoreError::Stale => Self::Unavailable(
                "the record is being changed by another request; try again".into(),
            ),
            StoreError::Unavailable(message) => Self::Unavailable(message),
        }
    }
}

impl From<ClientError> for AdminError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Invalid(errors) => Self::Invalid(errors),
            ClientError::Randomness(error) => Self::Unavailable(error.to_string()),
        }
    }
}

/// Read-modify-write retries when another writer got in between.
const UPDATE_ATTEMPTS: usize = 5;

pub async fn create(state: &AppState, input: CreateClient) -> Result<ClientView, AdminError> {
    let now = now_unix();
    let login = input.login.clone();
    let (record, secret) = match ClientRecord::create(input, now, state.config.client_rules) {
        Ok(created) => created,
        Err(error) => return Err(with_login_check(state, &login, error.into()).await),
    };
    state.store.insert_client(&record).await?;
    let view = record.view(secret, now);
    state.clients.set(&view.client_id, Some(record));
    tracing::info!(client_id = %view.client_id, login = %view.login, "client created");
    Ok(view)
}

/// A refused create names every problem at once: a login already in use too, which only
/// the store can tell.
pub async fn with_login_check(state: &AppState, login: &str, error: AdminError) -> AdminError {
    let AdminError::Invalid(mut errors) = error else {
        return error;
    };
    let login = login.trim();
    if !login.is_empty() && !errors.errors.contains_key("login") {
        match state.store.login_taken(login).await {
            Ok(true) => errors.add("login", "has already been taken"),
            Ok(false) => {}
            Err(error) => return error.into(),
        }
    }
    AdminError::Invalid(errors)
}

pub async fn list(state: &AppState) -> Result<Vec<ClientView>, AdminError> {
    let now = now_unix();
    let last_tokens = last_token_times(state).await?;
    Ok(state
        .store
        .clients()
        .await?
        .iter()
        .map(|client| with_last_token(client.view(None, now), &last_tokens))
        .collect())
}

pub async fn show(state: &AppState, client_id: &str) -> Result<ClientView, AdminError> {
    let client = state
        .store
        .client(client_id)
        .await?
        .ok_or(AdminError::NotFound)?;
    let last_tokens = last_token_times(state).await?;
    Ok(with_last_token(client.view(None, now_unix()), &last_tokens))
}

/// When each client was last issued a token: the database, with this process's uses not
/// yet written merged in.
async fn last_token_times(state: &AppState) -> Result<HashMap<String, i64>, AdminError> {
    let mut times: HashMap<String, i64> = state
        .store
        .client_token_times()
        .await?
        .into_iter()
        .collect();
    for (client_id, (at, _)) in state.client_tokens.snapshot() {
        let time = times.entry(client_id).or_insert(at);
        *time = (*time).max(at);
    }
    Ok(times)
}

fn with_last_token(mut view: ClientView, last_tokens: &HashMap<String, i64>) -> ClientView {
    view.last_token_at = last_tokens
        .get(&view.client_id)
        .copied()
        .map(format_rfc3339);
    view
}

pub async fn update(
    state: &AppState,
    client_id: &str,
    changes: UpdateClient,
) -> Result<ClientView, AdminError> {
    modify(state, client_id, |client, now| {
        client.update(changes.clone(), now, state.config.client_rules)?;
        Ok(None)
    })
    .await
}

pub async fn rotate_secret(state: &AppState, client_id: &str) -> Result<ClientView, AdminError> {
    let grace = i64::try_from(state.config.secret_grace_period.as_secs()).unwrap_or(i64::MAX);
    modify(state, client_id, |client, now| {
        Ok(Some(client.rotate_secret(now, grace)?))
    })
    .await
}

pub async fn delete(state: &AppState, client_id: &str) -> Result<(), AdminError> {
    let deleted = state.store.delete_client(client_id).await?;
    state.clients.set(client_id, None);
    if deleted {
        tracing::info!(%client_id, "client deleted");
        Ok(())
    } else {
        Err(AdminError::NotFound)
    }
}

/// Applies `change` to the stored client with compare-and-swap, retrying on a concurrent
/// write. `change` may return a new secret to show once.
async fn modify(
    state: &AppState,
    client_id: &str,
    change: impl Fn(&mut ClientRecord, i64) -> Result<Option<String>, ClientError>,
) -> Result<ClientView, AdminError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let mut client = state
            .store
            .client(client_id)
            .await?
            .ok_or(AdminError::NotFound)?;
        let now = now_unix();
        let secret = change(&mut client, now)?;
        client.version += 1;
        match state.store.update_client(&client).await {
            Ok(()) => {
                let last_tokens = last_token_times(state).await?;
                let view = with_last_token(client.view(secret, now), &last_tokens);
                state.clients.set(client_id, Some(client));
                tracing::info!(%client_id, "client updated");
                return Ok(view);
            }
            Err(StoreError::Stale) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(StoreError::Stale.into())
}
