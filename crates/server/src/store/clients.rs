//! OAuth clients, the logins they hold, and when each was last issued a token.

use async_trait::async_trait;

use super::{SqlStore, StoreError, WritePool, on_pool};
use crate::domain::client::{ClientKind, ClientRecord};
use crate::domain::scope::ScopeSet;

/// Clients. Logins are unique case-insensitively across clients and users (the `logins`
/// table); updates are compare-and-swap on `version`.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Inserts a client and claims its login; `Taken("login")` if the login is in use.
    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError>;

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError>;

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError>;

    /// Writes `client` over the row with its id if that row still has `client.version - 1`;
    /// `Stale` otherwise.
    async fn update_client(&self, client: &ClientRecord) -> Result<(), StoreError>;

    /// Whether a client or a user has the login (case-insensitively).
    async fn login_taken(&self, login: &str) -> Result<bool, StoreError>;

    /// Deletes the client and frees its login. False if there was no such client.
    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError>;

    /// Records that the client was issued a token at `at` (never moves backwards).
    async fn touch_client_token(&self, client_id: &str, at: i64) -> Result<(), StoreError>;

    /// When each client that was ever issued a token last was.
    async fn client_token_times(&self) -> Result<Vec<(String, i64)>, StoreError>;
}

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    client_id: String,
    name: String,
    login: String,
    grant_type: String,
    contact_info: String,
    contact_email: String,
    scopes: String,
    redirect_uris: String,
    pkce: bool,
    allow_plain_pkce: bool,
    introspect_any_token: bool,
    active: bool,
    secret_digest: Option<Vec<u8>>,
    secret_generation: i64,
    previous_secret_digest: Option<Vec<u8>>,
    previous_secret_expires_at: Option<i64>,
    tokens_valid_after: i64,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TryFrom<ClientRow> for ClientRecord {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        let kind = ClientKind::parse(&row.grant_type).ok_or_else(|| {
            StoreError::Unusable(format!(
                "client {} has unknown grant type {}",
                row.client_id, row.grant_type
            ))
        })?;
        Ok(Self {
            client_id: row.client_id,
            name: row.name,
            login: row.login,
            kind,
            contact_info: row.contact_info,
            contact_email: row.contact_email,
            scopes: ScopeSet::parse(&row.scopes),
            redirect_uris: row
                .redirect_uris
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            pkce: row.pkce,
            allow_plain_pkce: row.allow_plain_pkce,
            introspect_any_token: row.introspect_any_token,
            active: row.active,
            secret_digest: row.secret_digest,
            secret_generation: row.secret_generation,
            previous_secret_digest: row.previous_secret_digest,
            previous_secret_expires_at: row.previous_secret_expires_at,
            tokens_valid_after: row.tokens_valid_after,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        })
    }
}

pub(super) const CLIENT_COLUMNS: &str = "client_id, name, login, grant_type, contact_info, contact_email, scopes, \
     redirect_uris, pkce, active, secret_digest, secret_generation, previous_secret_digest, \
     previous_secret_expires_at, tokens_valid_after, created_at, updated_at, version, allow_plain_pkce, introspect_any_token";

#[async_trait]
impl ClientStore for SqlStore {
    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            use super::unique_violation_to_taken;
            let mut tx = pool.begin_write().await?;
            super::claim_login(&mut tx, "client", &client.login, &client.client_id).await?;
            let sql = format!(
                "INSERT INTO oauth_clients ({}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
                CLIENT_COLUMNS
            );
            sqlx::query(&sql)
                .bind(&client.client_id)
                .bind(&client.name)
                .bind(&client.login)
                .bind(client.kind.as_str())
                .bind(&client.contact_info)
                .bind(&client.contact_email)
                .bind(client.scopes.to_string())
                .bind(client.redirect_uris.join(" "))
                .bind(client.pkce)
                .bind(client.active)
                .bind(client.secret_digest.as_deref())
                .bind(client.secret_generation)
                .bind(client.previous_secret_digest.as_deref())
                .bind(client.previous_secret_expires_at)
                .bind(client.tokens_valid_after)
                .bind(client.created_at)
                .bind(client.updated_at)
                .bind(client.version)
                .bind(client.allow_plain_pkce)
                .bind(client.introspect_any_token)
                .execute(&mut *tx)
                .await
                .map_err(|e| unique_violation_to_taken(e, "client_id"))?;
            tx.commit().await?;
            Ok(())
        })
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        on_pool!(self, |pool| {
            let sql = format!(
                "SELECT {} FROM oauth_clients WHERE client_id = $1",
                CLIENT_COLUMNS
            );
            let row: Option<ClientRow> = sqlx::query_as(&sql)
                .bind(client_id)
                .fetch_optional(pool)
                .await?;
            row.map(TryInto::try_into).transpose()
        })
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        on_pool!(self, |pool| {
            let sql = format!(
                "SELECT {} FROM oauth_clients ORDER BY created_at, client_id",
                CLIENT_COLUMNS
            );
            let rows: Vec<ClientRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
            rows.into_iter().map(TryInto::try_into).collect()
        })
    }

    async fn update_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let result = sqlx::query(
                "UPDATE oauth_clients SET name = $1, contact_info = $2, contact_email = $3, scopes = $4, \
                 redirect_uris = $5, active = $6, secret_digest = $7, secret_generation = $8, \
                 previous_secret_digest = $9, previous_secret_expires_at = $10, tokens_valid_after = $11, \
                 updated_at = $12, version = $13, allow_plain_pkce = $16, introspect_any_token = $17 \
                 WHERE client_id = $14 AND version = $15",
            )
            .bind(&client.name)
            .bind(&client.contact_info)
            .bind(&client.contact_email)
            .bind(client.scopes.to_string())
            .bind(client.redirect_uris.join(" "))
            .bind(client.active)
            .bind(client.secret_digest.as_deref())
            .bind(client.secret_generation)
            .bind(client.previous_secret_digest.as_deref())
            .bind(client.previous_secret_expires_at)
            .bind(client.tokens_valid_after)
            .bind(client.updated_at)
            .bind(client.version)
            .bind(&client.client_id)
            .bind(client.version - 1)
            .bind(client.allow_plain_pkce)
            .bind(client.introspect_any_token)
            .execute(pool)
            .await?;
            if result.rows_affected() == 1 {
                Ok(())
            } else {
                Err(StoreError::Stale)
            }
        })
    }

    async fn login_taken(&self, login: &str) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let owner: Option<String> =
                sqlx::query_scalar("SELECT owner_id FROM logins WHERE login_key = $1")
                    .bind(crate::domain::client::login_key(login))
                    .fetch_optional(pool)
                    .await?;
            Ok(owner.is_some())
        })
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let deleted = sqlx::query("DELETE FROM oauth_clients WHERE client_id = $1")
                .bind(client_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM logins WHERE owner_kind = 'client' AND owner_id = $1")
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(deleted == 1)
        })
    }

    async fn touch_client_token(&self, client_id: &str, at: i64) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE oauth_clients SET last_token_at = $1 \
                 WHERE client_id = $2 AND (last_token_at IS NULL OR last_token_at < $1)",
            )
            .bind(at)
            .bind(client_id)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn client_token_times(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT client_id, last_token_at FROM oauth_clients WHERE last_token_at IS NOT NULL",
            )
            .fetch_all(pool)
            .await?)
        })
    }
}
