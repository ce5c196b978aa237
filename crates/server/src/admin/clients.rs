//! Client administration.

use std::collections::HashMap;

use coupa_proto::admin::{ClientView, CreateClient, UpdateClient};

use super::{AdminContext, AdminError, as_audited};
use crate::domain::audit;
use crate::domain::client::{ClientError, ClientRecord};
use crate::domain::listing::{self, ListPage, ListRequest, Listable, SortKey};
use crate::domain::time::{format_rfc3339, now_unix};
use crate::store::{Change, Store, StoreError, announce};

/// Read-modify-write retries when another writer got in between.
/// Each lost compare-and-swap means another writer won, so N writers at once need at most N
/// attempts each; beyond this many the write is refused (503).
const UPDATE_ATTEMPTS: usize = 32;

pub async fn create(
    context: &AdminContext<'_>,
    input: CreateClient,
) -> Result<ClientView, AdminError> {
    let now = now_unix();
    let login = input.login.clone();
    let (record, secret) = match ClientRecord::create(input, now, context.client_rules) {
        Ok(created) => created,
        Err(error) => {
            return Err(with_login_check(context.store.as_ref(), &login, error.into()).await);
        }
    };
    context.store.insert_client(&record).await?;
    let view = record.view(secret, now);
    context.clients.set(&view.client_id, Some(record));
    announce(
        context.store.as_ref(),
        Change::Client(view.client_id.clone()),
    )
    .await;
    context
        .record(
            "client.created",
            format!("client:{}", view.client_id),
            audit::created(&as_audited(&view)),
        )
        .await;
    tracing::info!(client_id = %view.client_id, login = %view.login, "client created");
    Ok(view)
}

/// A refused create names every problem at once: a login already in use too, which only
/// the store can tell.
pub async fn with_login_check(store: &dyn Store, login: &str, error: AdminError) -> AdminError {
    let AdminError::Invalid(mut errors) = error else {
        return error;
    };
    let login = login.trim();
    if !login.is_empty() && !errors.errors.contains_key("login") {
        match store.login_taken(login).await {
            Ok(true) => errors.add("login", "has already been taken"),
            Ok(false) => {}
            Err(error) => return error.into(),
        }
    }
    AdminError::Invalid(errors)
}

pub async fn list(context: &AdminContext<'_>) -> Result<Vec<ClientView>, AdminError> {
    let now = now_unix();
    let last_tokens = last_token_times(context).await?;
    Ok(context
        .store
        .clients()
        .await?
        .iter()
        .map(|client| with_last_token(client.view(None, now), &last_tokens))
        .collect())
}

/// A client as its list sorts and searches it.
struct ClientEntry<'a> {
    client: &'a ClientRecord,
    last_token_at: Option<i64>,
}

impl Listable for ClientEntry<'_> {
    fn searched(&self) -> Vec<&str> {
        vec![
            &self.client.name,
            &self.client.login,
            &self.client.client_id,
            &self.client.contact_email,
        ]
    }

    fn sort_key(&self, column: &str) -> Option<SortKey> {
        let client = self.client;
        Some(match column {
            "name" => SortKey::text(&client.name),
            "client_id" => SortKey::text(&client.client_id),
            "login" => SortKey::text(&client.login),
            "grant_type" => SortKey::text(client.kind.label()),
            "scopes" => SortKey::Number(i64::try_from(client.scopes.iter().count()).unwrap_or(0)),
            "active" => SortKey::Number(i64::from(client.active)),
            "last_token" => SortKey::optional_number(self.last_token_at),
            "created" => SortKey::Number(client.created_at),
            _ => return None,
        })
    }

    fn identity(&self) -> &str {
        &self.client.client_id
    }
}

/// Which clients a list shows besides its search.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientFilter<'a> {
    /// A grant type (`client_credentials`); None for every kind.
    pub grant_type: Option<&'a str>,
    /// Only active (true) or only deactivated (false) clients.
    pub active: Option<bool>,
    /// Only clients holding this scope.
    pub holding: Option<&'a str>,
}

/// One page of the clients (as this replica's cache holds them, which every change reaches
/// within a second), searched by name, login, identifier and contact email.
pub async fn page(
    context: &AdminContext<'_>,
    filter: ClientFilter<'_>,
    request: &ListRequest,
) -> Result<ListPage<ClientView>, AdminError> {
    let now = now_unix();
    let last_tokens = last_token_times(context).await?;
    let entries = context.clients.entries();
    let kept = entries.values().filter(|client| {
        filter
            .grant_type
            .is_none_or(|grant| client.kind.as_str() == grant)
            && filter.active.is_none_or(|active| client.active == active)
            && filter
                .holding
                .is_none_or(|scope| client.scopes.iter().any(|held| held == scope))
    });
    let listed = listing::list(
        kept.map(|client| ClientEntry {
            client,
            last_token_at: last_tokens.get(&client.client_id).copied(),
        }),
        request,
        "name",
    );
    Ok(listed.map(|entry| with_last_token(entry.client.view(None, now), &last_tokens)))
}

/// How many of a client's live grants its page lists (the newest).
pub const GRANTS_SHOWN: u32 = 200;

/// A user's authorization of a client, as its page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    pub grant_id: String,
    pub user_login: String,
    pub user_name: String,
    pub scopes: String,
    pub created_at: i64,
    /// When its refresh token was last used; None if never.
    pub last_used_at: Option<i64>,
}

/// The client's grants not yet revoked, the newest first (at most `GRANTS_SHOWN`).
pub async fn grants(
    context: &AdminContext<'_>,
    client_id: &str,
) -> Result<Vec<ClientGrant>, AdminError> {
    let live = context
        .store
        .live_grants_of_client(client_id, GRANTS_SHOWN)
        .await?;
    if live.is_empty() {
        return Ok(Vec::new());
    }
    let users: HashMap<String, (String, String)> = context
        .store
        .users()
        .await?
        .into_iter()
        .map(|user| (user.user_id, (user.login, user.name)))
        .collect();
    Ok(live
        .into_iter()
        .map(|(grant, last_used_at)| {
            let (user_login, user_name) = users
                .get(&grant.user_id)
                .cloned()
                .unwrap_or_else(|| (grant.user_id.clone(), String::new()));
            ClientGrant {
                scopes: grant.scopes.to_string(),
                grant_id: grant.grant_id,
                user_login,
                user_name,
                created_at: grant.created_at,
                last_used_at,
            }
        })
        .collect())
}

/// Revokes one of the client's grants: its refresh tokens stop at once, its access tokens
/// within seconds on every replica. NotFound unless it is the client's and still live.
pub async fn revoke_grant(
    context: &AdminContext<'_>,
    client_id: &str,
    grant_id: &str,
) -> Result<(), AdminError> {
    let grant = context
        .store
        .grant(grant_id)
        .await?
        .filter(|grant| grant.client_id == client_id && grant.revoked_at.is_none())
        .ok_or(AdminError::NotFound)?;
    crate::grants::revoke_grant(&context.grants, grant_id).await?;
    context
        .record(
            "grant.revoked",
            format!("client:{client_id}"),
            serde_json::json!({"grant": grant_id, "user": grant.user_id}),
        )
        .await;
    Ok(())
}

/// How many clients hold each scope.
pub fn holders_per_scope(context: &AdminContext<'_>) -> HashMap<String, usize> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for client in context.clients.entries().values() {
        for scope in client.scopes.iter() {
            *counts.entry(scope.to_string()).or_default() += 1;
        }
    }
    counts
}

pub async fn show(context: &AdminContext<'_>, client_id: &str) -> Result<ClientView, AdminError> {
    let client = context
        .store
        .client(client_id)
        .await?
        .ok_or(AdminError::NotFound)?;
    let last_tokens = last_token_times(context).await?;
    Ok(with_last_token(client.view(None, now_unix()), &last_tokens))
}

/// When each client was last issued a token: the database, with this process's uses not
/// yet written merged in.
async fn last_token_times(context: &AdminContext<'_>) -> Result<HashMap<String, i64>, AdminError> {
    let mut times: HashMap<String, i64> = context
        .store
        .client_token_times()
        .await?
        .into_iter()
        .collect();
    for (client_id, (at, _)) in context.token_issue_times.snapshot() {
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
    context: &AdminContext<'_>,
    client_id: &str,
    changes: UpdateClient,
) -> Result<ClientView, AdminError> {
    modify(context, client_id, "client.updated", |client, now| {
        client.update(changes.clone(), now, context.client_rules)?;
        Ok(None)
    })
    .await
}

pub async fn rotate_secret(
    context: &AdminContext<'_>,
    client_id: &str,
) -> Result<ClientView, AdminError> {
    let grace = context.secret_grace_period.seconds();
    modify(
        context,
        client_id,
        "client.secret_rotated",
        |client, now| Ok(Some(client.rotate_secret(now, grace)?)),
    )
    .await
}

pub async fn delete(context: &AdminContext<'_>, client_id: &str) -> Result<(), AdminError> {
    let before = context.store.client(client_id).await?;
    let deleted = context.store.delete_client(client_id).await?;
    if let (true, Some(before)) = (deleted, before) {
        let view = before.view(None, now_unix());
        context
            .record(
                "client.deleted",
                format!("client:{client_id}"),
                audit::deleted(&as_audited(&view)),
            )
            .await;
    }
    context.clients.set(client_id, None);
    announce(
        context.store.as_ref(),
        Change::Client(client_id.to_string()),
    )
    .await;
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
    context: &AdminContext<'_>,
    client_id: &str,
    kind: &str,
    change: impl Fn(&mut ClientRecord, i64) -> Result<Option<String>, ClientError>,
) -> Result<ClientView, AdminError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let mut client = context
            .store
            .client(client_id)
            .await?
            .ok_or(AdminError::NotFound)?;
        let now = now_unix();
        let before = as_audited(&client.view(None, now));
        let secret = change(&mut client, now)?;
        client.version += 1;
        match context.store.update_client(&client).await {
            Ok(()) => {
                let last_tokens = last_token_times(context).await?;
                let view = with_last_token(client.view(secret, now), &last_tokens);
                let after = as_audited(&client.view(view.client_secret.clone(), now));
                context.clients.set(client_id, Some(client));
                context
                    .record(
                        kind,
                        format!("client:{client_id}"),
                        audit::changes(&before, &after),
                    )
                    .await;
                announce(
                    context.store.as_ref(),
                    Change::Client(client_id.to_string()),
                )
                .await;
                tracing::info!(%client_id, "client updated");
                return Ok(view);
            }
            Err(StoreError::Stale) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(StoreError::Stale.into())
}
