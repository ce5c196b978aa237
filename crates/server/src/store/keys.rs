//! The signing keys every replica shares, sealed at rest.

use async_trait::async_trait;

use super::StoredKey;
use super::{SqlStore, StoreError, on_pool};

/// Signing keys, sealed under the key encryption key (see `key_encryption`).
#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// Inserts an active key unless one is already active for its algorithm.
    /// True if this key was inserted.
    async fn insert_signing_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StoreError>;

    /// Replaces a key stored in clear with its sealed form (only while it is still in clear).
    async fn seal_signing_key(
        &self,
        kid: &str,
        sealed: &[u8],
        kek_id: &str,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT kid, alg, private_key, created_at, active, kek_id FROM signing_keys ORDER BY created_at, kid",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    async fn insert_signing_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let result = sqlx::query(
                "INSERT INTO signing_keys (kid, alg, private_key, created_at, active, kek_id) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.private_key)
            .bind(key.created_at)
            .bind(key.active)
            .bind(key.kek_id.as_deref())
            .execute(pool)
            .await?;
            Ok(result.rows_affected() == 1)
        })
    }

    async fn seal_signing_key(
        &self,
        kid: &str,
        sealed: &[u8],
        kek_id: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE signing_keys SET private_key = $1, kek_id = $2 WHERE kid = $3 AND kek_id IS NULL",
            )
            .bind(sealed)
            .bind(kek_id)
            .bind(kid)
            .execute(pool)
            .await?;
            Ok(())
        })
    }
}
