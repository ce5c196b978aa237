//! Users who sign in to authorize applications and to use Setup.

use async_trait::async_trait;

use super::{SqlStore, StoreError, WritePool, on_pool};
use crate::domain::user::UserRecord;

/// Users. Logins are shared with clients (see `ClientStore`); updates are compare-and-swap on
/// `version`.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user and claims its login; `Taken("login")` if the login is in use by a
    /// user or a client.
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;

    /// The user of a login, case-insensitively.
    async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, StoreError>;

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Compare-and-swap on `version`, as `update_client`.
    async fn update_user(&self, user: &UserRecord) -> Result<(), StoreError>;
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    user_id: String,
    login: String,
    email: String,
    name: String,
    password_hash: String,
    active: bool,
    admin: bool,
    sessions_valid_after: i64,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl From<UserRow> for UserRecord {
    fn from(row: UserRow) -> Self {
        Self {
            user_id: row.user_id,
            login: row.login,
            email: row.email,
            name: row.name,
            password_hash: row.password_hash,
            active: row.active,
            admin: row.admin,
            sessions_valid_after: row.sessions_valid_after,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        }
    }
}

pub(super) const USER_COLUMNS: &str = "user_id, login, email, name, password_hash, active, admin, \
     sessions_valid_after, created_at, updated_at, version";

#[async_trait]
impl UserStore for SqlStore {
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            use super::unique_violation_to_taken;
            let mut tx = pool.begin_write().await?;
            super::claim_login(&mut tx, "user", &user.login, &user.user_id).await?;
            let sql = format!(
                "INSERT INTO users ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                USER_COLUMNS
            );
            sqlx::query(&sql)
                .bind(&user.user_id)
                .bind(&user.login)
                .bind(&user.email)
                .bind(&user.name)
                .bind(&user.password_hash)
                .bind(user.active)
                .bind(user.admin)
                .bind(user.sessions_valid_after)
                .bind(user.created_at)
                .bind(user.updated_at)
                .bind(user.version)
                .execute(&mut *tx)
                .await
                .map_err(|e| unique_violation_to_taken(e, "user_id"))?;
            tx.commit().await?;
            Ok(())
        })
    }

    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        on_pool!(self, |pool| {
            let sql = format!("SELECT {} FROM users WHERE user_id = $1", USER_COLUMNS);
            let row: Option<UserRow> = sqlx::query_as(&sql)
                .bind(user_id)
                .fetch_optional(pool)
                .await?;
            Ok(row.map(Into::into))
        })
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        on_pool!(self, |pool| {
            let sql = format!(
                "SELECT {} FROM users WHERE user_id = \
                 (SELECT owner_id FROM logins WHERE login_key = $1 AND owner_kind = 'user')",
                USER_COLUMNS
            );
            let row: Option<UserRow> = sqlx::query_as(&sql)
                .bind(crate::domain::client::login_key(login))
                .fetch_optional(pool)
                .await?;
            Ok(row.map(Into::into))
        })
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        on_pool!(self, |pool| {
            let sql = format!(
                "SELECT {} FROM users ORDER BY created_at, user_id",
                USER_COLUMNS
            );
            let rows: Vec<UserRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
            Ok(rows.into_iter().map(Into::into).collect())
        })
    }

    async fn update_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let result = sqlx::query(
                "UPDATE users SET email = $1, name = $2, password_hash = $3, active = $4, admin = $5, \
                 sessions_valid_after = $6, updated_at = $7, version = $8 WHERE user_id = $9 AND version = $10",
            )
            .bind(&user.email)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(user.active)
            .bind(user.admin)
            .bind(user.sessions_valid_after)
            .bind(user.updated_at)
            .bind(user.version)
            .bind(&user.user_id)
            .bind(user.version - 1)
            .execute(pool)
            .await?;
            if result.rows_affected() == 1 {
                Ok(())
            } else {
                Err(StoreError::Stale)
            }
        })
    }
}
