//! Legacy API keys and where they were used from.

use async_trait::async_trait;

use super::{SqlStore, StoreError, WritePool, on_pool};
use crate::domain::api_key::{ApiKeyRecord, ApiKeySource};
use crate::domain::scope::ScopeSet;

/// Legacy API keys (by digest) and the addresses they were used from.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;

    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Marks the key revoked at `at` unless it already is. False if there is no such key.
    async fn revoke_api_key(&self, key_id: &str, at: i64) -> Result<bool, StoreError>;

    /// Records a use of the key from the address `from` (a use older than the one recorded
    /// changes nothing).
    async fn touch_api_key(&self, key_id: &str, at: i64, from: &str) -> Result<(), StoreError>;

    /// Every address each key was used from, with its first and last use.
    async fn api_key_sources(&self) -> Result<Vec<ApiKeySource>, StoreError>;

    /// Adds `calls` refused because the key is revoked, the latest at `at` from `from`.
    async fn add_refused_api_key_calls(
        &self,
        key_id: &str,
        calls: i64,
        at: i64,
        from: &str,
    ) -> Result<(), StoreError>;
}

#[derive(sqlx::FromRow)]
pub(super) struct ApiKeyRow {
    key_id: String,
    name: String,
    login: String,
    scopes: String,
    key_digest: Vec<u8>,
    key_prefix: String,
    created_at: i64,
    last_used_at: Option<i64>,
    last_used_from: Option<String>,
    revoked_at: Option<i64>,
    refused_calls: i64,
    last_refused_at: Option<i64>,
    last_refused_from: Option<String>,
}

impl From<ApiKeyRow> for ApiKeyRecord {
    fn from(row: ApiKeyRow) -> Self {
        Self {
            key_id: row.key_id,
            name: row.name,
            login: row.login,
            scopes: ScopeSet::parse(&row.scopes),
            key_digest: row.key_digest,
            key_prefix: row.key_prefix,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            last_used_from: row.last_used_from,
            revoked_at: row.revoked_at,
            refused_calls: row.refused_calls,
            last_refused_at: row.last_refused_at,
            last_refused_from: row.last_refused_from,
        }
    }
}

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO api_keys (key_id, name, login, scopes, key_digest, key_prefix, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&key.key_id)
            .bind(&key.name)
            .bind(&key.login)
            .bind(key.scopes.to_string())
            .bind(&key.key_digest)
            .bind(&key.key_prefix)
            .bind(key.created_at)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        on_pool!(self, |pool| {
            let rows: Vec<ApiKeyRow> = sqlx::query_as(
                "SELECT key_id, name, login, scopes, key_digest, key_prefix, created_at, last_used_at, \
                 last_used_from, revoked_at, refused_calls, last_refused_at, last_refused_from \
                 FROM api_keys ORDER BY created_at, key_id",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows.into_iter().map(Into::into).collect())
        })
    }

    async fn revoke_api_key(&self, key_id: &str, at: i64) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(key_id)
            .execute(pool)
            .await?;
            let exists: Option<String> =
                sqlx::query_scalar("SELECT key_id FROM api_keys WHERE key_id = $1")
                    .bind(key_id)
                    .fetch_optional(pool)
                    .await?;
            Ok(exists.is_some())
        })
    }

    async fn touch_api_key(&self, key_id: &str, at: i64, from: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE api_keys SET last_used_at = $1, last_used_from = $2 \
                 WHERE key_id = $3 AND (last_used_at IS NULL OR last_used_at <= $1)",
            )
            .bind(at)
            .bind(from)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO api_key_sources (key_id, address, first_used_at, last_used_at) \
                 SELECT $1, $2, $3, $3 WHERE EXISTS (SELECT 1 FROM api_keys WHERE key_id = $1) \
                 ON CONFLICT (key_id, address) DO UPDATE \
                 SET first_used_at = CASE WHEN excluded.first_used_at < api_key_sources.first_used_at \
                     THEN excluded.first_used_at ELSE api_key_sources.first_used_at END, \
                 last_used_at = CASE WHEN excluded.last_used_at > api_key_sources.last_used_at \
                     THEN excluded.last_used_at ELSE api_key_sources.last_used_at END",
            )
            .bind(key_id)
            .bind(from)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    async fn add_refused_api_key_calls(
        &self,
        key_id: &str,
        calls: i64,
        at: i64,
        from: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE api_keys SET refused_calls = refused_calls + $1, \
                 last_refused_from = CASE WHEN last_refused_at IS NULL OR last_refused_at <= $2 \
                 THEN $3 ELSE last_refused_from END, \
                 last_refused_at = CASE WHEN last_refused_at IS NULL OR last_refused_at <= $2 \
                 THEN $2 ELSE last_refused_at END \
                 WHERE key_id = $4",
            )
            .bind(calls)
            .bind(at)
            .bind(from)
            .bind(key_id)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn api_key_sources(&self) -> Result<Vec<ApiKeySource>, StoreError> {
        on_pool!(self, |pool| {
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                "SELECT key_id, address, first_used_at, last_used_at FROM api_key_sources \
                 ORDER BY key_id, last_used_at DESC, address",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(
                    |(key_id, address, first_used_at, last_used_at)| ApiKeySource {
                        key_id,
                        address,
                        first_used_at,
                        last_used_at,
                    },
                )
                .collect())
        })
    }
}
