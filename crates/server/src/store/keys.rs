//! The signing keys every replica shares, sealed at rest, with their rotation schedule.

use async_trait::async_trait;

use super::StoredKey;
use super::{SqlStore, StoreError, WritePool, on_pool};
use crate::domain::key_schedule::TimesChange;

const COLUMNS: &str =
    "kid, alg, private_key, created_at, generation, activate_at, retired_at, expires_at, kek_id";

/// Signing keys, sealed under the key encryption key (see `key_encryption`), and when each
/// signs and verifies (see `domain::key_schedule`).
#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// Inserts a key unless its algorithm already has a key of its generation (another
    /// replica won the race). True if this key was inserted.
    async fn insert_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError>;

    /// In one transaction: inserts `new_key`, changes the instants of other keys, each only
    /// if it still has the instants the change was planned from, and deletes `removals`.
    /// False, with nothing written, when another writer got there first.
    async fn apply_key_plan(
        &self,
        new_key: Option<&StoredKey>,
        changes: &[TimesChange],
        removals: &[String],
    ) -> Result<bool, StoreError>;

    /// Replaces a key stored in clear with its sealed form (only while it is still in clear).
    async fn seal_signing_key(
        &self,
        kid: &str,
        sealed: &[u8],
        kek_id: &str,
    ) -> Result<(), StoreError>;
}

const INSERT: &str = "INSERT INTO signing_keys (kid, alg, private_key, created_at, generation, \
     activate_at, retired_at, expires_at, kek_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT DO NOTHING";

macro_rules! bind_key {
    ($query:expr, $key:expr) => {
        $query
            .bind(&$key.kid)
            .bind(&$key.alg)
            .bind(&$key.private_key)
            .bind($key.created_at)
            .bind($key.generation)
            .bind($key.activate_at)
            .bind($key.retired_at)
            .bind($key.expires_at)
            .bind($key.kek_id.as_deref())
    };
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        on_pool!(self, |pool| {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM signing_keys ORDER BY alg, generation, created_at, kid"
            ))
            .fetch_all(pool)
            .await?)
        })
    }

    async fn insert_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let result = bind_key!(sqlx::query(INSERT), key).execute(pool).await?;
            Ok(result.rows_affected() == 1)
        })
    }

    async fn apply_key_plan(
        &self,
        new_key: Option<&StoredKey>,
        changes: &[TimesChange],
        removals: &[String],
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            if let Some(key) = new_key {
                let inserted = bind_key!(sqlx::query(INSERT), key)
                    .execute(&mut *tx)
                    .await?;
                if inserted.rows_affected() != 1 {
                    return Ok(false);
                }
            }
            for change in changes {
                let updated = sqlx::query(
                    "UPDATE signing_keys SET activate_at = $1, retired_at = $2, expires_at = $3 \
                     WHERE kid = $4 AND activate_at = $5 AND retired_at IS NOT DISTINCT FROM $6 \
                     AND expires_at IS NOT DISTINCT FROM $7",
                )
                .bind(change.after.activate_at)
                .bind(change.after.retired_at)
                .bind(change.after.expires_at)
                .bind(&change.kid)
                .bind(change.before.activate_at)
                .bind(change.before.retired_at)
                .bind(change.before.expires_at)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() != 1 {
                    return Ok(false);
                }
            }
            for kid in removals {
                sqlx::query("DELETE FROM signing_keys WHERE kid = $1")
                    .bind(kid)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
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
