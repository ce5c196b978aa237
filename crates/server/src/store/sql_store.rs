//! The SQL both backends share. SQLite and PostgreSQL both take `$N` placeholders, so one
//! body serves both; the macro is instantiated once per backend with its pool type and the
//! statement that opens a write transaction.

use crate::domain::client::{ClientRecord, GrantType};
use crate::domain::scope::ScopeSet;

use super::StoreError;

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
        let grant_type = GrantType::parse(&row.grant_type).ok_or_else(|| {
            StoreError::Unavailable(format!(
                "client {} has unknown grant type {}",
                row.client_id, row.grant_type
            ))
        })?;
        Ok(Self {
            client_id: row.client_id,
            name: row.name,
            login: row.login,
            grant_type,
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
}

impl From<ApiKeyRow> for crate::domain::api_key::ApiKeyRecord {
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
        }
    }
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

impl From<UserRow> for crate::domain::user::UserRecord {
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

#[derive(sqlx::FromRow)]
pub(super) struct GrantRow {
    grant_id: String,
    client_id: String,
    user_id: String,
    scopes: String,
    auth_time: i64,
    nonce: Option<String>,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<GrantRow> for crate::domain::grant::GrantRecord {
    fn from(row: GrantRow) -> Self {
        Self {
            grant_id: row.grant_id,
            client_id: row.client_id,
            user_id: row.user_id,
            scopes: ScopeSet::parse(&row.scopes),
            auth_time: row.auth_time,
            nonce: row.nonce,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        }
    }
}

pub(super) const GRANT_COLUMNS: &str =
    "grant_id, client_id, user_id, scopes, auth_time, nonce, created_at, revoked_at";

#[derive(sqlx::FromRow)]
pub(super) struct CodeRow {
    code_digest: Vec<u8>,
    grant_id: String,
    redirect_uri: String,
    redirect_uri_given: bool,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    expires_at: i64,
    used_at: Option<i64>,
}

impl From<CodeRow> for crate::domain::grant::CodeRecord {
    fn from(row: CodeRow) -> Self {
        Self {
            code_digest: row.code_digest,
            grant_id: row.grant_id,
            redirect_uri: row.redirect_uri,
            redirect_uri_given: row.redirect_uri_given,
            code_challenge: row.code_challenge,
            code_challenge_method: row.code_challenge_method,
            expires_at: row.expires_at,
            used_at: row.used_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RefreshRow {
    token_digest: Vec<u8>,
    grant_id: String,
    scopes: String,
    issued_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
}

impl From<RefreshRow> for crate::domain::grant::RefreshTokenRecord {
    fn from(row: RefreshRow) -> Self {
        Self {
            token_digest: row.token_digest,
            grant_id: row.grant_id,
            scopes: ScopeSet::parse(&row.scopes),
            issued_at: row.issued_at,
            expires_at: row.expires_at,
            rotated_at: row.rotated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    session_digest: Vec<u8>,
    user_id: String,
    auth_time: i64,
    expires_at: i64,
}

impl From<SessionRow> for crate::domain::grant::SessionRecord {
    fn from(row: SessionRow) -> Self {
        Self {
            session_digest: row.session_digest,
            user_id: row.user_id,
            auth_time: row.auth_time,
            expires_at: row.expires_at,
        }
    }
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

impl From<DeviceRow> for crate::domain::device::DeviceRecord {
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

pub(super) const CLIENT_COLUMNS: &str = "client_id, name, login, grant_type, contact_info, contact_email, scopes, \
     redirect_uris, pkce, active, secret_digest, secret_generation, previous_secret_digest, \
     previous_secret_expires_at, tokens_valid_after, created_at, updated_at, version, allow_plain_pkce, introspect_any_token";

pub(super) fn unique_violation_to_taken(error: sqlx::Error, field: &'static str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Taken(field),
        _ => error.into(),
    }
}

/// Implements `Store` for `$store` (which has a `pool` field of database `$db` and an async
/// `begin_write(&self)`), with the SQL shared by every backend. `$id_column` is the DDL of
/// an auto-increment primary key on that backend.
macro_rules! impl_sql_store {
    ($store:ty, $backend:literal, $db:ty, $id_column:literal) => {
        impl $store {
            /// Creates the tables of the API objects, if missing.
            async fn create_object_tables(&self) -> Result<(), $crate::store::StoreError> {
                for object in $crate::api::model::OBJECTS {
                    for statement in $crate::api::sql::create_table(object, $id_column) {
                        sqlx::query(&statement).execute(&self.pool).await?;
                    }
                }
                Ok(())
            }

            async fn insert_grant_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                grant: &$crate::domain::grant::GrantRecord,
            ) -> Result<(), sqlx::Error> {
                let sql = format!(
                    "INSERT INTO grants ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    $crate::store::sql_store::GRANT_COLUMNS
                );
                sqlx::query(&sql)
                    .bind(&grant.grant_id)
                    .bind(&grant.client_id)
                    .bind(&grant.user_id)
                    .bind(grant.scopes.to_string())
                    .bind(grant.auth_time)
                    .bind(grant.nonce.as_deref())
                    .bind(grant.created_at)
                    .bind(grant.revoked_at)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            fn bind_all<'q>(
                mut query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                values: &'q [$crate::api::query::Value],
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
                use $crate::api::model::FieldType;
                use $crate::api::query::Value;
                for value in values {
                    query = match value {
                        Value::Integer(number) => query.bind(*number),
                        Value::Decimal(text) | Value::Text(text) => query.bind(text.as_str()),
                        Value::Boolean(flag) => query.bind(*flag),
                        Value::Null(FieldType::Integer | FieldType::DateTime) => query.bind(None::<i64>),
                        Value::Null(FieldType::Boolean) => query.bind(None::<bool>),
                        Value::Null(FieldType::String | FieldType::Decimal) => query.bind(None::<String>),
                    };
                }
                query
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> Result<(), $crate::store::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn insert_client(
                &self,
                client: &$crate::domain::client::ClientRecord,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql_store::unique_violation_to_taken;
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO logins (login_key, owner_kind, owner_id) VALUES ($1, 'client', $2)")
                    .bind($crate::domain::client::login_key(&client.login))
                    .bind(&client.client_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| unique_violation_to_taken(e, "login"))?;
                let sql = format!(
                    "INSERT INTO oauth_clients ({}) VALUES \
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
                    $crate::store::sql_store::CLIENT_COLUMNS
                );
                sqlx::query(&sql)
                    .bind(&client.client_id)
                    .bind(&client.name)
                    .bind(&client.login)
                    .bind(client.grant_type.as_str())
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
            }

            async fn client(
                &self,
                client_id: &str,
            ) -> Result<Option<$crate::domain::client::ClientRecord>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM oauth_clients WHERE client_id = $1",
                    $crate::store::sql_store::CLIENT_COLUMNS
                );
                let row: Option<$crate::store::sql_store::ClientRow> =
                    sqlx::query_as(&sql).bind(client_id).fetch_optional(&self.pool).await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn clients(
                &self,
            ) -> Result<Vec<$crate::domain::client::ClientRecord>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM oauth_clients ORDER BY created_at, client_id",
                    $crate::store::sql_store::CLIENT_COLUMNS
                );
                let rows: Vec<$crate::store::sql_store::ClientRow> =
                    sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn update_client(
                &self,
                client: &$crate::domain::client::ClientRecord,
            ) -> Result<(), $crate::store::StoreError> {
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
                .execute(&self.pool)
                .await?;
                if result.rows_affected() == 1 { Ok(()) } else { Err($crate::store::StoreError::Stale) }
            }

            async fn login_taken(&self, login: &str) -> Result<bool, $crate::store::StoreError> {
                let owner: Option<String> =
                    sqlx::query_scalar("SELECT owner_id FROM logins WHERE login_key = $1")
                        .bind($crate::domain::client::login_key(login))
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(owner.is_some())
            }

            async fn delete_client(&self, client_id: &str) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
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
            }

            async fn insert_user(
                &self,
                user: &$crate::domain::user::UserRecord,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql_store::unique_violation_to_taken;
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO logins (login_key, owner_kind, owner_id) VALUES ($1, 'user', $2)")
                    .bind($crate::domain::client::login_key(&user.login))
                    .bind(&user.user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| unique_violation_to_taken(e, "login"))?;
                let sql = format!(
                    "INSERT INTO users ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    $crate::store::sql_store::USER_COLUMNS
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
            }

            async fn user(
                &self,
                user_id: &str,
            ) -> Result<Option<$crate::domain::user::UserRecord>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM users WHERE user_id = $1",
                    $crate::store::sql_store::USER_COLUMNS
                );
                let row: Option<$crate::store::sql_store::UserRow> =
                    sqlx::query_as(&sql).bind(user_id).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn user_by_login(
                &self,
                login: &str,
            ) -> Result<Option<$crate::domain::user::UserRecord>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM users WHERE user_id = \
                     (SELECT owner_id FROM logins WHERE login_key = $1 AND owner_kind = 'user')",
                    $crate::store::sql_store::USER_COLUMNS
                );
                let row: Option<$crate::store::sql_store::UserRow> = sqlx::query_as(&sql)
                    .bind($crate::domain::client::login_key(login))
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn users(
                &self,
            ) -> Result<Vec<$crate::domain::user::UserRecord>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM users ORDER BY created_at, user_id",
                    $crate::store::sql_store::USER_COLUMNS
                );
                let rows: Vec<$crate::store::sql_store::UserRow> =
                    sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn update_user(
                &self,
                user: &$crate::domain::user::UserRecord,
            ) -> Result<(), $crate::store::StoreError> {
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
                .execute(&self.pool)
                .await?;
                if result.rows_affected() == 1 { Ok(()) } else { Err($crate::store::StoreError::Stale) }
            }

            async fn insert_session(
                &self,
                session: &$crate::domain::grant::SessionRecord,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query("INSERT INTO sessions (session_digest, user_id, auth_time, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(&session.session_digest)
                    .bind(&session.user_id)
                    .bind(session.auth_time)
                    .bind(session.expires_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn session(
                &self,
                digest: &[u8],
            ) -> Result<Option<$crate::domain::grant::SessionRecord>, $crate::store::StoreError> {
                let row: Option<$crate::store::sql_store::SessionRow> = sqlx::query_as(
                    "SELECT session_digest, user_id, auth_time, expires_at FROM sessions WHERE session_digest = $1",
                )
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn delete_session(&self, digest: &[u8]) -> Result<(), $crate::store::StoreError> {
                sqlx::query("DELETE FROM sessions WHERE session_digest = $1")
                    .bind(digest)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn insert_grant_with_code(
                &self,
                grant: &$crate::domain::grant::GrantRecord,
                code: &$crate::domain::grant::CodeRecord,
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                Self::insert_grant_in(&mut tx, grant).await?;
                sqlx::query(
                    "INSERT INTO authorization_codes (code_digest, grant_id, redirect_uri, code_challenge, \
                     code_challenge_method, expires_at, used_at, redirect_uri_given) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&code.code_digest)
                .bind(&code.grant_id)
                .bind(&code.redirect_uri)
                .bind(code.code_challenge.as_deref())
                .bind(code.code_challenge_method.as_deref())
                .bind(code.expires_at)
                .bind(code.used_at)
                .bind(code.redirect_uri_given)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn grant(
                &self,
                grant_id: &str,
            ) -> Result<Option<$crate::domain::grant::GrantRecord>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM grants WHERE grant_id = $1",
                    $crate::store::sql_store::GRANT_COLUMNS
                );
                let row: Option<$crate::store::sql_store::GrantRow> =
                    sqlx::query_as(&sql).bind(grant_id).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn live_grants_of_user(
                &self,
                user_id: &str,
            ) -> Result<Vec<String>, $crate::store::StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT grant_id FROM grants WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(grant_id,)| grant_id).collect())
            }

            async fn redeem_code(
                &self,
                digest: &[u8],
                client_id: &str,
                now: i64,
            ) -> Result<$crate::domain::grant::CodeRedemption, $crate::store::StoreError> {
                use $crate::domain::grant::CodeRedemption;
                let mut tx = self.begin_write().await?;
                // Only the client the code was issued to can spend it.
                let spent = sqlx::query(
                    "UPDATE authorization_codes SET used_at = $1 WHERE code_digest = $2 AND used_at IS NULL \
                     AND grant_id IN (SELECT grant_id FROM grants WHERE client_id = $3)",
                )
                .bind(now)
                .bind(digest)
                .bind(client_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let code: Option<$crate::store::sql_store::CodeRow> = sqlx::query_as(
                    "SELECT code_digest, grant_id, redirect_uri, redirect_uri_given, code_challenge, \
                     code_challenge_method, expires_at, used_at FROM authorization_codes WHERE code_digest = $1",
                )
                .bind(digest)
                .fetch_optional(&mut *tx)
                .await?;
                let outcome = match code.map($crate::domain::grant::CodeRecord::from) {
                    None => CodeRedemption::Unknown,
                    Some(code) if spent == 1 => {
                        let sql = format!(
                            "SELECT {} FROM grants WHERE grant_id = $1",
                            $crate::store::sql_store::GRANT_COLUMNS
                        );
                        let grant: Option<$crate::store::sql_store::GrantRow> =
                            sqlx::query_as(&sql).bind(&code.grant_id).fetch_optional(&mut *tx).await?;
                        match grant {
                            Some(grant) => CodeRedemption::Redeemed(Box::new((code, grant.into()))),
                            None => CodeRedemption::Unknown,
                        }
                    }
                    Some(code) if code.used_at.is_none() => CodeRedemption::OtherClient,
                    Some(code) => CodeRedemption::Replayed {
                        grant_id: code.grant_id,
                    },
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn insert_refresh_token(
                &self,
                token: &$crate::domain::grant::RefreshTokenRecord,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_digest, grant_id, scopes, issued_at, expires_at, rotated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&token.token_digest)
                .bind(&token.grant_id)
                .bind(token.scopes.to_string())
                .bind(token.issued_at)
                .bind(token.expires_at)
                .bind(token.rotated_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn refresh_token(
                &self,
                digest: &[u8],
            ) -> Result<
                Option<($crate::domain::grant::RefreshTokenRecord, $crate::domain::grant::GrantRecord)>,
                $crate::store::StoreError,
            > {
                let token: Option<$crate::store::sql_store::RefreshRow> = sqlx::query_as(
                    "SELECT token_digest, grant_id, scopes, issued_at, expires_at, rotated_at \
                     FROM refresh_tokens WHERE token_digest = $1",
                )
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?;
                let Some(token) = token else {
                    return Ok(None);
                };
                let token: $crate::domain::grant::RefreshTokenRecord = token.into();
                Ok(self.grant(&token.grant_id).await?.map(|grant| (token, grant)))
            }

            async fn rotate_refresh_token(
                &self,
                old_digest: &[u8],
                new: &$crate::domain::grant::RefreshTokenRecord,
                now: i64,
                grace_seconds: i64,
            ) -> Result<$crate::domain::grant::Rotation, $crate::store::StoreError> {
                use $crate::domain::grant::Rotation;
                let mut tx = self.begin_write().await?;
                let spent = sqlx::query(
                    "UPDATE refresh_tokens SET rotated_at = $1 WHERE token_digest = $2 AND rotated_at IS NULL \
                     AND grant_id IN (SELECT grant_id FROM grants WHERE revoked_at IS NULL)",
                )
                .bind(now)
                .bind(old_digest)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let outcome = if spent == 1 {
                    sqlx::query(
                        "INSERT INTO refresh_tokens (token_digest, grant_id, scopes, issued_at, expires_at, rotated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&new.token_digest)
                    .bind(&new.grant_id)
                    .bind(new.scopes.to_string())
                    .bind(new.issued_at)
                    .bind(new.expires_at)
                    .bind(new.rotated_at)
                    .execute(&mut *tx)
                    .await?;
                    Rotation::Rotated
                } else {
                    let row: Option<(String, Option<i64>)> = sqlx::query_as(
                        "SELECT grant_id, rotated_at FROM refresh_tokens WHERE token_digest = $1",
                    )
                    .bind(old_digest)
                    .fetch_optional(&mut *tx)
                    .await?;
                    match row {
                        None => Rotation::Unknown,
                        Some((_, Some(rotated_at))) if now - rotated_at < grace_seconds => Rotation::JustRotated,
                        Some((grant_id, _)) => Rotation::Reused { grant_id },
                    }
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn revoke_grant(
                &self,
                grant_id: &str,
                now: i64,
                tokens_expire_by: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let revoked = sqlx::query("UPDATE grants SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(grant_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if revoked == 1 {
                    sqlx::query(
                        "INSERT INTO revocations (kind, value, expires_at, recorded_at) VALUES ('grant', $1, $2, $3)",
                    )
                        .bind(grant_id)
                        .bind(tokens_expire_by)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(revoked == 1)
            }

            async fn revoke_access_token(
                &self,
                jti: &str,
                expires_at: i64,
                now: i64,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query("INSERT INTO revocations (kind, value, expires_at, recorded_at) VALUES ('jti', $1, $2, $3)")
                    .bind(jti)
                    .bind(expires_at)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn revocations_since(
                &self,
                seq: i64,
                recorded_since: i64,
                now: i64,
            ) -> Result<Vec<$crate::store::Revocation>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT seq, kind, value, expires_at FROM revocations \
                     WHERE (seq > $1 OR recorded_at >= $2) AND expires_at > $3 ORDER BY seq",
                )
                .bind(seq)
                .bind(recorded_since)
                .bind(now)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_device_authorization(
                &self,
                device: &$crate::domain::device::DeviceRecord,
            ) -> Result<(), $crate::store::StoreError> {
                let sql = format!(
                    "INSERT INTO device_authorizations ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    $crate::store::sql_store::DEVICE_COLUMNS
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
                    .execute(&self.pool)
                    .await
                    .map_err(|e| $crate::store::sql_store::unique_violation_to_taken(e, "user_code"))?;
                Ok(())
            }

            async fn device_by_user_code(
                &self,
                user_code: &str,
            ) -> Result<Option<$crate::domain::device::DeviceRecord>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM device_authorizations WHERE user_code = $1",
                    $crate::store::sql_store::DEVICE_COLUMNS
                );
                let row: Option<$crate::store::sql_store::DeviceRow> =
                    sqlx::query_as(&sql).bind(user_code).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn device(
                &self,
                device_digest: &[u8],
            ) -> Result<Option<$crate::domain::device::DeviceRecord>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM device_authorizations WHERE device_digest = $1",
                    $crate::store::sql_store::DEVICE_COLUMNS
                );
                let row: Option<$crate::store::sql_store::DeviceRow> =
                    sqlx::query_as(&sql).bind(device_digest).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn approve_device(
                &self,
                user_code: &str,
                grant: &$crate::domain::grant::GrantRecord,
                now: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
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
                    Self::insert_grant_in(&mut tx, grant).await?;
                }
                tx.commit().await?;
                Ok(approved == 1)
            }

            async fn deny_device(&self, user_code: &str) -> Result<bool, $crate::store::StoreError> {
                let denied = sqlx::query(
                    "UPDATE device_authorizations SET status = 'denied' WHERE user_code = $1 AND status = 'pending'",
                )
                .bind(user_code)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(denied == 1)
            }

            async fn record_device_poll(
                &self,
                device_digest: &[u8],
                now: i64,
                interval: i64,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "UPDATE device_authorizations SET last_polled_at = $1, poll_interval = $2 WHERE device_digest = $3",
                )
                .bind(now)
                .bind(interval)
                .bind(device_digest)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn consume_device(&self, device_digest: &[u8]) -> Result<bool, $crate::store::StoreError> {
                let used = sqlx::query(
                    "UPDATE device_authorizations SET status = 'used' WHERE device_digest = $1 AND status = 'approved'",
                )
                .bind(device_digest)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(used == 1)
            }

            async fn insert_api_key(
                &self,
                key: &$crate::domain::api_key::ApiKeyRecord,
            ) -> Result<(), $crate::store::StoreError> {
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
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn api_keys(
                &self,
            ) -> Result<Vec<$crate::domain::api_key::ApiKeyRecord>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::sql_store::ApiKeyRow> = sqlx::query_as(
                    "SELECT key_id, name, login, scopes, key_digest, key_prefix, created_at, last_used_at, \
                     last_used_from, revoked_at FROM api_keys ORDER BY created_at, key_id",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn revoke_api_key(&self, key_id: &str, at: i64) -> Result<bool, $crate::store::StoreError> {
                sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL")
                    .bind(at)
                    .bind(key_id)
                    .execute(&self.pool)
                    .await?;
                let exists: Option<String> = sqlx::query_scalar("SELECT key_id FROM api_keys WHERE key_id = $1")
                    .bind(key_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(exists.is_some())
            }

            async fn touch_api_key(&self, key_id: &str, at: i64, from: &str) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
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
            }

            async fn api_key_sources(
                &self,
            ) -> Result<Vec<$crate::domain::api_key::ApiKeySource>, $crate::store::StoreError> {
                let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    "SELECT key_id, address, first_used_at, last_used_at FROM api_key_sources \
                     ORDER BY key_id, last_used_at DESC, address",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(key_id, address, first_used_at, last_used_at)| {
                        $crate::domain::api_key::ApiKeySource { key_id, address, first_used_at, last_used_at }
                    })
                    .collect())
            }

            async fn touch_client_token(&self, client_id: &str, at: i64) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "UPDATE oauth_clients SET last_token_at = $1 \
                     WHERE client_id = $2 AND (last_token_at IS NULL OR last_token_at < $1)",
                )
                .bind(at)
                .bind(client_id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn client_token_times(&self) -> Result<Vec<(String, i64)>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT client_id, last_token_at FROM oauth_clients WHERE last_token_at IS NOT NULL",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn signing_keys(&self) -> Result<Vec<$crate::store::StoredKey>, $crate::store::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT kid, alg, private_key, created_at, active, kek_id FROM signing_keys ORDER BY created_at, kid",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_signing_key_if_none_active(
                &self,
                key: &$crate::store::StoredKey,
            ) -> Result<bool, $crate::store::StoreError> {
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
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected() == 1)
            }

            async fn seal_signing_key(
                &self,
                kid: &str,
                sealed: &[u8],
                kek_id: &str,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(
                    "UPDATE signing_keys SET private_key = $1, kek_id = $2 WHERE kid = $3 AND kek_id IS NULL",
                )
                .bind(sealed)
                .bind(kek_id)
                .bind(kid)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn select_rows(
                &self,
                query: &$crate::api::sql::SqlQuery,
            ) -> Result<$crate::store::Rows, $crate::store::StoreError> {
                use sqlx::Row;
                let rows = Self::bind_all(sqlx::query(&query.sql), &query.binds).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|row| (0..row.len()).map(|index| row.try_get::<Option<String>, _>(index)).collect())
                    .collect::<Result<_, sqlx::Error>>()
                    .map_err(Into::into)
            }

            async fn insert_record(
                &self,
                parent: &$crate::api::sql::SqlQuery,
                children: &[$crate::api::sql::SqlQuery],
            ) -> Result<i64, $crate::store::StoreError> {
                use sqlx::Row;
                let mut tx = self.begin_write().await?;
                let row = Self::bind_all(sqlx::query(&parent.sql), &parent.binds).fetch_one(&mut *tx).await?;
                let id: i64 = row.try_get(0)?;
                for child in children {
                    Self::bind_all(sqlx::query(&child.sql).bind(id), &child.binds).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(id)
            }

            async fn execute(&self, query: &$crate::api::sql::SqlQuery) -> Result<u64, $crate::store::StoreError> {
                let result = Self::bind_all(sqlx::query(&query.sql), &query.binds).execute(&self.pool).await?;
                Ok(result.rows_affected())
            }

            async fn setting(&self, name: &str) -> Result<Option<String>, $crate::store::StoreError> {
                Ok(sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn record_sign_in_failure(
                &self,
                key: &str,
                now: i64,
                forget_before: i64,
            ) -> Result<i64, $crate::store::StoreError> {
                Ok(sqlx::query_scalar(
                    "INSERT INTO sign_in_failures (throttle_key, failures, last_failed_at, locked_until) \
                     VALUES ($1, 1, $2, 0) ON CONFLICT (throttle_key) DO UPDATE SET \
                     failures = CASE WHEN sign_in_failures.last_failed_at < $3 THEN 1 \
                     ELSE sign_in_failures.failures + 1 END, last_failed_at = $2 RETURNING failures",
                )
                .bind(key)
                .bind(now)
                .bind(forget_before)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn lock_sign_in(&self, key: &str, until: i64) -> Result<(), $crate::store::StoreError> {
                sqlx::query("UPDATE sign_in_failures SET locked_until = $1 WHERE throttle_key = $2 AND locked_until < $1")
                    .bind(until)
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn sign_in_locked_until(&self, keys: &[String]) -> Result<i64, $crate::store::StoreError> {
                let mut latest = 0;
                for key in keys {
                    let until: Option<i64> =
                        sqlx::query_scalar("SELECT locked_until FROM sign_in_failures WHERE throttle_key = $1")
                            .bind(key)
                            .fetch_optional(&self.pool)
                            .await?;
                    latest = latest.max(until.unwrap_or(0));
                }
                Ok(latest)
            }

            async fn clear_sign_in_failures(&self, key: &str) -> Result<(), $crate::store::StoreError> {
                sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1")
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn purge_expired(&self, now: i64) -> Result<u64, $crate::store::StoreError> {
                let mut deleted = 0;
                for statement in [
                    "DELETE FROM authorization_codes WHERE expires_at < $1",
                    "DELETE FROM device_authorizations WHERE expires_at < $1",
                    "DELETE FROM sessions WHERE expires_at < $1",
                    "DELETE FROM refresh_tokens WHERE expires_at < $1",
                    "DELETE FROM revocations WHERE expires_at < $1",
                ] {
                    deleted += sqlx::query(statement).bind(now).execute(&self.pool).await?.rows_affected();
                }
                deleted += sqlx::query(
                    "DELETE FROM sign_in_failures WHERE locked_until < $1 AND last_failed_at < $2",
                )
                .bind(now)
                .bind(now - $crate::domain::throttle::PER_ADDRESS.forget_after_seconds)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(deleted)
            }

            async fn insert_setting_if_absent(
                &self,
                name: &str,
                value: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let result =
                    sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(name)
                        .bind(value)
                        .execute(&self.pool)
                        .await?;
                Ok(result.rows_affected() == 1)
            }
        }
    };
}

pub(super) use impl_sql_store;
