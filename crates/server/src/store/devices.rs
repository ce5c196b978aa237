//! Device authorizations (RFC 8628).

use async_trait::async_trait;

use super::{SqlStore, StoreError, WritePool, on_pool};
use crate::domain::device::DeviceRecord;
use crate::domain::grant::GrantRecord;
use crate::domain::scope::ScopeSet;

/// Device authorizations, by the digest of their device code or by their user code.
/// Deciding and consuming are atomic: of concurrent callers exactly one wins.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// `Taken("user_code")` when the user code is in use.
    async fn insert_device_authorization(&self, device: &DeviceRecord) -> Result<(), StoreError>;

    async fn device_by_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<DeviceRecord>, StoreError>;

    async fn device(&self, device_digest: &[u8]) -> Result<Option<DeviceRecord>, StoreError>;

    /// Approves a pending, unexpired device authorization and stores its grant, in one
    /// transaction. False if it was not pending any more.
    async fn approve_device(
        &self,
        user_code: &str,
        grant: &GrantRecord,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Denies a pending device authorization. False if it was not pending any more.
    async fn deny_device(&self, user_code: &str) -> Result<bool, StoreError>;

    /// Records a poll and the interval to ask of the next one.
    async fn record_device_poll(
        &self,
        device_digest: &[u8],
        now: i64,
        interval: i64,
    ) -> Result<(), StoreError>;

    /// Marks an approved authorization used; of concurrent callers exactly one gets true.
    async fn consume_device(&self, device_digest: &[u8]) -> Result<bool, StoreError>;
}

#[derive(sqlx::FromRow)]
pub(super) struct DeviceRow {
    device_digest: Vec<u8>,
    user_code: String,
    client_id: String,
    scopes: String,
    expires_at: i64,
    poll_interval: i64,
    last_polled_at: Option<i64>,
    status: String,
    grant_id: Option<String>,
}

impl From<DeviceRow> for DeviceRecord {
    fn from(row: DeviceRow) -> Self {
        Self {
            device_digest: row.device_digest,
            user_code: row.user_code,
            client_id: row.client_id,
            scopes: ScopeSet::parse(&row.scopes),
            expires_at: row.expires_at,
            interval: row.poll_interval,
            last_polled_at: row.last_polled_at,
            status: crate::domain::device::DeviceStatus::parse(&row.status),
            grant_id: row.grant_id,
        }
    }
}

pub(super) const DEVICE_COLUMNS: &str = "device_digest, user_code, client_id, scopes, expires_at, \
     poll_interval, last_polled_at, status, grant_id";

#[async_trait]
impl DeviceStore for SqlStore {
    async fn insert_device_authorization(&self, device: &DeviceRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let sql = format!(
                "INSERT INTO device_authorizations ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                DEVICE_COLUMNS
            );
            sqlx::query(&sql)
                .bind(&device.device_digest)
                .bind(&device.user_code)
                .bind(&device.client_id)
                .bind(device.scopes.to_string())
                .bind(device.expires_at)
                .bind(device.interval)
                .bind(device.last_polled_at)
                .bind(device.status.as_str())
                .bind(device.grant_id.as_deref())
                .execute(pool)
                .await
                .map_err(|e| super::unique_violation_to_taken(e, "user_code"))?;
            Ok(())
        })
    }

    async fn device_by_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        on_pool!(self, |pool| {
            let sql = format!(
                "SELECT {} FROM device_authorizations WHERE user_code = $1",
                DEVICE_COLUMNS
            );
            let row: Option<DeviceRow> = sqlx::query_as(&sql)
                .bind(user_code)
                .fetch_optional(pool)
                .await?;
            Ok(row.map(Into::into))
        })
    }

    async fn device(&self, device_digest: &[u8]) -> Result<Option<DeviceRecord>, StoreError> {
        on_pool!(self, |pool| {
            let sql = format!(
                "SELECT {} FROM device_authorizations WHERE device_digest = $1",
                DEVICE_COLUMNS
            );
            let row: Option<DeviceRow> = sqlx::query_as(&sql)
                .bind(device_digest)
                .fetch_optional(pool)
                .await?;
            Ok(row.map(Into::into))
        })
    }

    async fn approve_device(
        &self,
        user_code: &str,
        grant: &GrantRecord,
        now: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let approved = sqlx::query(
                "UPDATE device_authorizations SET status = 'approved', grant_id = $1 \
                 WHERE user_code = $2 AND status = 'pending' AND expires_at > $3",
            )
            .bind(&grant.grant_id)
            .bind(user_code)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if approved == 1 {
                super::grants::insert_grant_in(&mut tx, grant).await?;
            }
            tx.commit().await?;
            Ok(approved == 1)
        })
    }

    async fn deny_device(&self, user_code: &str) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let denied = sqlx::query(
                "UPDATE device_authorizations SET status = 'denied' WHERE user_code = $1 AND status = 'pending'",
            )
            .bind(user_code)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(denied == 1)
        })
    }

    async fn record_device_poll(
        &self,
        device_digest: &[u8],
        now: i64,
        interval: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE device_authorizations SET last_polled_at = $1, poll_interval = $2 WHERE device_digest = $3",
            )
            .bind(now)
            .bind(interval)
            .bind(device_digest)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn consume_device(&self, device_digest: &[u8]) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let used = sqlx::query(
                "UPDATE device_authorizations SET status = 'used' WHERE device_digest = $1 AND status = 'approved'",
            )
            .bind(device_digest)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(used == 1)
        })
    }
}
