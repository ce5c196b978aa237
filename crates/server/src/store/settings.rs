//! Server-wide settings by name.

use async_trait::async_trait;

use super::{SqlStore, StoreError, on_pool};

/// Named values set once (the admin token digest).
#[async_trait]
pub trait SettingStore: Send + Sync {
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Sets a value unless it is already set. True if this call set it.
    async fn insert_setting_if_absent(&self, name: &str, value: &str) -> Result<bool, StoreError>;

    /// Sets a value, replacing what it was.
    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StoreError>;
}

#[async_trait]
impl SettingStore for SqlStore {
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        on_pool!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                    .bind(name)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }

    async fn insert_setting_if_absent(&self, name: &str, value: &str) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let result = sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(name)
            .bind(value)
            .execute(pool)
            .await?;
            Ok(result.rows_affected() == 1)
        })
    }

    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(name)
            .bind(value)
            .execute(pool)
            .await?;
            Ok(())
        })
    }
}
