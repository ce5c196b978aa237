//! Persistence: one `Store` trait, implemented for SQLite (the embedded default) and
//! PostgreSQL (for several replicas). Both run the same SQL (see `sql_store.rs`), each with
//! its own migrations.

mod postgres;
mod sql_store;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::api::sql::SqlQuery;
use crate::domain::api_key::{ApiKeyRecord, ApiKeySource};
use crate::domain::client::ClientRecord;
use crate::domain::device::DeviceRecord;
use crate::domain::grant::{
    CodeRecord, CodeRedemption, GrantRecord, RefreshTokenRecord, Rotation, SessionRecord,
};
use crate::domain::user::UserRecord;

/// Rows of the resource engine: the text of each selected column.
pub type Rows = Vec<Vec<Option<String>>>;

pub use postgres::PostgresStore;
pub use sqlite::{SqliteStore, database_file};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique field is already taken; holds the field's name.
    #[error("{0} has already been taken")]
    Taken(&'static str),
    /// The row changed since it was read; read it again and retry.
    #[error("the record was changed concurrently")]
    Stale,
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Self::Unavailable(format!("migration failed: {error}"))
    }
}

/// A signing key as kept in the database, shared by every replica: PKCS#8 DER sealed under
/// the key encryption key `kek_id` (see `key_encryption`); None for a key stored in clear by
/// an earlier version, which the next start seals.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub private_key: Vec<u8>,
    pub created_at: i64,
    pub active: bool,
    pub kek_id: Option<String>,
}

/// A revoked access token (`kind` = `jti`) or grant (`grant`), as replicas follow them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Revocation {
    pub seq: i64,
    pub kind: String,
    pub value: String,
    pub expires_at: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is, for logs.
    fn backend(&self) -> &'static str;

    /// Cheap liveness check for `/healthz`.
    async fn ping(&self) -> Result<(), StoreError>;

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

    /// Inserts a user and claims its login; `Taken("login")` if the login is in use by a
    /// user or a client.
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;
    /// The user of a login, case-insensitively.
    async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, StoreError>;
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// Compare-and-swap on `version`, as `update_client`.
    async fn update_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn session(&self, digest: &[u8]) -> Result<Option<SessionRecord>, StoreError>;
    async fn delete_session(&self, digest: &[u8]) -> Result<(), StoreError>;

    /// Stores a grant and the code that carries it, in one transaction.
    async fn insert_grant_with_code(
        &self,
        grant: &GrantRecord,
        code: &CodeRecord,
    ) -> Result<(), StoreError>;
    async fn grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StoreError>;
    /// The ids of a user's grants not yet revoked.
    async fn live_grants_of_user(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
    /// Spends a code atomically if it was issued to `client_id`: of concurrent callers
    /// exactly one gets `Redeemed`. Another client's attempt spends nothing (`OtherClient`).
    async fn redeem_code(
        &self,
        digest: &[u8],
        client_id: &str,
        now: i64,
    ) -> Result<CodeRedemption, StoreError>;
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError>;
    /// A refresh token with its grant.
    async fn refresh_token(
        &self,
        digest: &[u8],
    ) -> Result<Option<(RefreshTokenRecord, GrantRecord)>, StoreError>;
    /// Spends `old_digest` and stores `new` in one transaction, if the old token is unspent
    /// and its grant unrevoked; of concurrent callers exactly one gets `Rotated`. A token spent
    /// less than `grace_seconds` ago answers `JustRotated`.
    async fn rotate_refresh_token(
        &self,
        old_digest: &[u8],
        new: &RefreshTokenRecord,
        now: i64,
        grace_seconds: i64,
    ) -> Result<Rotation, StoreError>;
    /// Revokes a grant (and so every token from it) and records the revocation for the
    /// replicas until `tokens_expire_by`. False if it was already revoked or does not exist.
    async fn revoke_grant(
        &self,
        grant_id: &str,
        now: i64,
        tokens_expire_by: i64,
    ) -> Result<bool, StoreError>;
    /// Records a revoked access token (at `now`) until it would have expired anyway.
    async fn revoke_access_token(
        &self,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Revocations after `seq` or recorded at `recorded_since` or later, by `seq`, not yet
    /// expired at `now`. Reading a recent window again catches a revocation whose
    /// transaction committed after one with a higher `seq`.
    async fn revocations_since(
        &self,
        seq: i64,
        recorded_since: i64,
        now: i64,
    ) -> Result<Vec<Revocation>, StoreError>;

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

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Marks the key revoked at `at` unless it already is. False if there is no such key.
    async fn revoke_api_key(&self, key_id: &str, at: i64) -> Result<bool, StoreError>;
    /// Records a use of the key from the address `from` (a use older than the one recorded
    /// changes nothing).
    async fn touch_api_key(&self, key_id: &str, at: i64, from: &str) -> Result<(), StoreError>;
    /// Every address each key was used from, with its first and last use.
    async fn api_key_sources(&self) -> Result<Vec<ApiKeySource>, StoreError>;

    /// Records that the client was issued a token at `at` (never moves backwards).
    async fn touch_client_token(&self, client_id: &str, at: i64) -> Result<(), StoreError>;
    /// When each client that was ever issued a token last was.
    async fn client_token_times(&self) -> Result<Vec<(String, i64)>, StoreError>;

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

    /// Runs a SELECT built by `api::sql`; every column is selected as text.
    async fn select_rows(&self, query: &SqlQuery) -> Result<Rows, StoreError>;
    /// Runs `parent` (an `INSERT ... RETURNING id`), then each of `children` with the new id
    /// bound as `$1`, in one transaction. Returns the new id.
    async fn insert_record(
        &self,
        parent: &SqlQuery,
        children: &[SqlQuery],
    ) -> Result<i64, StoreError>;
    /// Runs an UPDATE built by `api::sql`; returns the number of rows changed.
    async fn execute(&self, query: &SqlQuery) -> Result<u64, StoreError>;

    /// Counts a failed sign-in against `key` and returns the failures in a row, starting
    /// again from one when the last failure is older than `forget_before`.
    async fn record_sign_in_failure(
        &self,
        key: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<i64, StoreError>;
    /// Refuses sign-ins for `key` until `until`.
    async fn lock_sign_in(&self, key: &str, until: i64) -> Result<(), StoreError>;
    /// The latest lock among `keys` (0 when none is locked).
    async fn sign_in_locked_until(&self, keys: &[String]) -> Result<i64, StoreError>;
    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError>;

    /// Deletes what can no longer be used at `now`: expired codes, device authorizations,
    /// sessions and refresh tokens, revocations of tokens that have expired anyway, and
    /// sign-in counters that are neither locked nor recent. Returns the rows deleted.
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError>;

    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Sets a value unless it is already set. True if this call set it.
    async fn insert_setting_if_absent(&self, name: &str, value: &str) -> Result<bool, StoreError>;
}

/// Opens the store a `--database-url` names, running its migrations.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(database_url).await?))
    } else {
        Err(StoreError::Unavailable(format!(
            "unsupported database URL `{}`: use sqlite://PATH or postgres://USER@HOST/DB",
            redact_url(database_url)
        )))
    }
}

/// Hides the password of a database URL, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://coupa.db"), "sqlite://coupa.db");
    }
}
