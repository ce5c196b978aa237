//! Persistence: one small trait per aggregate (a file each, with its rows and SQL), `Store`
//! their sum, implemented once by `SqlStore` over SQLite (the embedded default) or PostgreSQL
//! (for several replicas). Both run the same SQL, each with its own migrations.

mod api_keys;
mod audit;
mod changes;
mod clients;
mod custom_fields;
mod devices;
mod files;
mod grants;
mod keys;
mod postgres;
mod records;
mod sessions;
mod settings;
mod sqlite;
mod users;

use std::sync::Arc;

use async_trait::async_trait;

/// Rows of the resource engine: the text of each selected column.
pub type Rows = Vec<Vec<Option<String>>>;

pub use api_keys::ApiKeyStore;
pub use audit::{AuditStore, StoredAuditEntry};
pub use changes::{Announcement, Change, ChangeStore, ChangeSubscription, announce};
pub use clients::ClientStore;
pub use custom_fields::CustomFieldStore;
pub use devices::DeviceStore;
pub use files::{FileStore, StoredFile};
pub use grants::GrantStore;
pub use keys::KeyStore;
pub use records::{RecordStore, SqlQuery, SqlValue, TableSchema};
pub use sessions::SessionStore;
pub use settings::SettingStore;
pub use sqlite::database_file;
pub use users::UserStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique field is already taken; holds the field's name.
    #[error("{0} has already been taken")]
    Taken(&'static str),
    /// The row changed since it was read; read it again and retry.
    #[error("the record was changed concurrently")]
    Stale,
    #[error("the database is unavailable: {0}")]
    Database(sqlx::Error),
    #[error("the database could not be migrated: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// What the database holds or was asked for cannot be used; says what.
    #[error("{0}")]
    Unusable(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        crate::telemetry::store_error();
        Self::Database(error)
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
    pub generation: i64,
    pub activate_at: i64,
    pub retired_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub kek_id: Option<String>,
}

impl StoredKey {
    /// The key's place in the rotation schedule (see `domain::key_schedule`).
    pub fn schedule(&self) -> crate::domain::key_schedule::KeySchedule {
        crate::domain::key_schedule::KeySchedule {
            kid: self.kid.clone(),
            alg: self.alg.clone(),
            generation: self.generation,
            created_at: self.created_at,
            times: crate::domain::key_schedule::KeyTimes {
                activate_at: self.activate_at,
                retired_at: self.retired_at,
                expires_at: self.expires_at,
            },
        }
    }
}

/// A revoked access token or grant, as replicas follow them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Revocation {
    pub seq: i64,
    #[sqlx(try_from = "String")]
    pub kind: RevocationKind,
    pub value: String,
    pub expires_at: i64,
}

/// Everything the server keeps: the sum of one trait per aggregate, each with its contract
/// documented on it.
/// What a revocation names: one access token (by `jti`), or a grant and every token from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationKind {
    AccessToken,
    Grant,
}

impl RevocationKind {
    /// As the `revocations` table holds it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "jti",
            Self::Grant => "grant",
        }
    }
}

impl TryFrom<String> for RevocationKind {
    type Error = StoreError;

    fn try_from(text: String) -> Result<Self, StoreError> {
        match text.as_str() {
            "jti" => Ok(Self::AccessToken),
            "grant" => Ok(Self::Grant),
            other => Err(StoreError::Unusable(format!(
                "unknown revocation kind {other}"
            ))),
        }
    }
}

/// Connections of the store's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

#[async_trait]
pub trait Store:
    ClientStore
    + UserStore
    + SessionStore
    + GrantStore
    + DeviceStore
    + ApiKeyStore
    + KeyStore
    + SettingStore
    + RecordStore
    + CustomFieldStore
    + FileStore
    + ChangeStore
    + AuditStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is, for logs.
    fn backend(&self) -> &'static str;

    /// Cheap liveness check for `/healthz`.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The connection pool's connections now, for metrics.
    fn pool_usage(&self) -> PoolUsage;

    /// Deletes what can no longer be used at `now`: expired codes, device authorizations,
    /// sessions, one-time reveals and refresh tokens, revocations of tokens that have expired anyway, and
    /// sign-in counters that are neither locked nor recent. Returns the rows deleted.
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError>;
}

/// The one implementation, over SQLite (the embedded default) or PostgreSQL (for several
/// replicas). Both take `$N` placeholders, so every statement is written once.
pub struct SqlStore {
    pool: Pool,
    /// Where changes are announced (PostgreSQL): one channel per schema, so deployments
    /// sharing a database in schemas of their own do not hear each other.
    changes_channel: String,
}

enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Runs `body` with `pool` bound to the store's pool, whichever backend it is: the body is
/// compiled once per backend.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
use on_pool;

/// How each backend opens a transaction that will write.
trait WritePool {
    type Database: sqlx::Database;

    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
            Ok(())
        })
    }

    fn pool_usage(&self) -> PoolUsage {
        on_pool!(self, |pool| {
            let open = pool.size();
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(open);
            PoolUsage {
                in_use: open - idle,
                idle,
                max: pool.options().get_max_connections(),
            }
        })
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        on_pool!(self, |pool| {
            let mut deleted = 0;
            for statement in [
                "DELETE FROM authorization_codes WHERE expires_at < $1",
                "DELETE FROM device_authorizations WHERE expires_at < $1",
                "DELETE FROM sessions WHERE expires_at < $1",
                "DELETE FROM refresh_tokens WHERE expires_at < $1",
                "DELETE FROM revocations WHERE expires_at < $1",
                "DELETE FROM signing_keys WHERE expires_at < $1",
                "DELETE FROM one_time_reveals WHERE expires_at < $1",
            ] {
                deleted += sqlx::query(statement)
                    .bind(now)
                    .execute(pool)
                    .await?
                    .rows_affected();
            }
            deleted += sqlx::query(
                "DELETE FROM sign_in_failures WHERE locked_until < $1 AND last_failed_at < $2",
            )
            .bind(now)
            .bind(now - crate::domain::throttle::PER_ADDRESS.forget_after_seconds)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(deleted)
        })
    }
}

/// Claims `login` for the client or user `owner_id` inside its insert's transaction: logins
/// are unique across clients and users, case-insensitively. `Taken("login")` if in use.
pub(super) async fn claim_login<DB>(
    tx: &mut sqlx::Transaction<'static, DB>,
    owner_kind: &str,
    login: &str,
    owner_id: &str,
) -> Result<(), StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query("INSERT INTO logins (login_key, owner_kind, owner_id) VALUES ($1, $2, $3)")
        .bind(crate::domain::client::login_key(login))
        .bind(owner_kind.to_string())
        .bind(owner_id.to_string())
        .execute(&mut **tx)
        .await
        .map_err(|error| unique_violation_to_taken(error, "login"))?;
    Ok(())
}

pub(super) fn unique_violation_to_taken(error: sqlx::Error, field: &'static str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Taken(field),
        _ => error.into(),
    }
}

/// Opens the store a `--database-url` names, running its migrations.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(SqlStore::open_sqlite(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(SqlStore::open_postgres(database_url).await?))
    } else {
        Err(StoreError::Unusable(format!(
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
