//! What users granted to clients: grants, the codes that carry them, refresh tokens, and
//! the revocations every replica follows.

use async_trait::async_trait;

use super::Revocation;
use super::{RevocationKind, SqlStore, StoreError, WritePool, on_pool};
use crate::domain::grant::{CodeRecord, CodeRedemption, GrantRecord, RefreshTokenRecord, Rotation};
use crate::domain::scope::ScopeSet;

/// Grants, authorization codes and refresh tokens, and the revocation feed. Spending a code
/// and rotating a refresh token are atomic: of concurrent callers exactly one wins.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a grant and the code that carries it, in one transaction.
    async fn insert_grant_with_code(
        &self,
        grant: &GrantRecord,
        code: &CodeRecord,
    ) -> Result<(), StoreError>;

    async fn grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StoreError>;

    /// The ids of a user's grants not yet revoked.
    async fn live_grants_of_user(&self, user_id: &str) -> Result<Vec<String>, StoreError>;

    /// A client's grants not yet revoked, the newest first, at most `limit`, each with when
    /// its refresh token was last used (its latest refresh token's issue time).
    async fn live_grants_of_client(
        &self,
        client_id: &str,
        limit: u32,
    ) -> Result<Vec<(GrantRecord, Option<i64>)>, StoreError>;

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
}

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

impl From<GrantRow> for GrantRecord {
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

#[derive(sqlx::FromRow)]
struct ClientGrantRow {
    #[sqlx(flatten)]
    grant: GrantRow,
    last_used_at: Option<i64>,
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

impl From<CodeRow> for CodeRecord {
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

impl From<RefreshRow> for RefreshTokenRecord {
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

/// Inserts a grant inside a write transaction (a code or a device approval commits with it).
pub(super) async fn insert_grant_in<DB>(
    tx: &mut sqlx::Transaction<'static, DB>,
    grant: &GrantRecord,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let sql =
        format!("INSERT INTO grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    sqlx::query(&sql)
        .bind(grant.grant_id.clone())
        .bind(grant.client_id.clone())
        .bind(grant.user_id.clone())
        .bind(grant.scopes.to_string())
        .bind(grant.auth_time)
        .bind(grant.nonce.clone())
        .bind(grant.created_at)
        .bind(grant.revoked_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[async_trait]
impl GrantStore for SqlStore {
    async fn insert_grant_with_code(
        &self,
        grant: &GrantRecord,
        code: &CodeRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            insert_grant_in(&mut tx, grant).await?;
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
        })
    }

    async fn grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StoreError> {
        on_pool!(self, |pool| {
            let sql = format!("SELECT {} FROM grants WHERE grant_id = $1", GRANT_COLUMNS);
            let row: Option<GrantRow> = sqlx::query_as(&sql)
                .bind(grant_id)
                .fetch_optional(pool)
                .await?;
            Ok(row.map(Into::into))
        })
    }

    async fn live_grants_of_user(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        on_pool!(self, |pool| {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT grant_id FROM grants WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            Ok(rows.into_iter().map(|(grant_id,)| grant_id).collect())
        })
    }

    async fn live_grants_of_client(
        &self,
        client_id: &str,
        limit: u32,
    ) -> Result<Vec<(GrantRecord, Option<i64>)>, StoreError> {
        on_pool!(self, |pool| {
            let sql = format!(
                "SELECT {GRANT_COLUMNS}, (SELECT MAX(issued_at) FROM refresh_tokens \
                 WHERE refresh_tokens.grant_id = grants.grant_id) AS last_used_at \
                 FROM grants WHERE client_id = $1 AND revoked_at IS NULL \
                 ORDER BY created_at DESC, grant_id LIMIT $2"
            );
            let rows: Vec<ClientGrantRow> = sqlx::query_as(&sql)
                .bind(client_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            Ok(rows
                .into_iter()
                .map(|row| (row.grant.into(), row.last_used_at))
                .collect())
        })
    }

    async fn redeem_code(
        &self,
        digest: &[u8],
        client_id: &str,
        now: i64,
    ) -> Result<CodeRedemption, StoreError> {
        on_pool!(self, |pool| {
            use CodeRedemption;
            let mut tx = pool.begin_write().await?;
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
            let code: Option<CodeRow> = sqlx::query_as(
                "SELECT code_digest, grant_id, redirect_uri, redirect_uri_given, code_challenge, \
                 code_challenge_method, expires_at, used_at FROM authorization_codes WHERE code_digest = $1",
            )
            .bind(digest)
            .fetch_optional(&mut *tx)
            .await?;
            let outcome = match code.map(CodeRecord::from) {
                None => CodeRedemption::Unknown,
                Some(code) if spent == 1 => {
                    let sql = format!("SELECT {} FROM grants WHERE grant_id = $1", GRANT_COLUMNS);
                    let grant: Option<GrantRow> = sqlx::query_as(&sql)
                        .bind(&code.grant_id)
                        .fetch_optional(&mut *tx)
                        .await?;
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
        })
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
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
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn refresh_token(
        &self,
        digest: &[u8],
    ) -> Result<Option<(RefreshTokenRecord, GrantRecord)>, StoreError> {
        on_pool!(self, |pool| {
            let token: Option<RefreshRow> = sqlx::query_as(
                "SELECT token_digest, grant_id, scopes, issued_at, expires_at, rotated_at \
                 FROM refresh_tokens WHERE token_digest = $1",
            )
            .bind(digest)
            .fetch_optional(pool)
            .await?;
            let Some(token) = token else {
                return Ok(None);
            };
            let token: RefreshTokenRecord = token.into();
            Ok(self
                .grant(&token.grant_id)
                .await?
                .map(|grant| (token, grant)))
        })
    }

    async fn rotate_refresh_token(
        &self,
        old_digest: &[u8],
        new: &RefreshTokenRecord,
        now: i64,
        grace_seconds: i64,
    ) -> Result<Rotation, StoreError> {
        on_pool!(self, |pool| {
            use Rotation;
            let mut tx = pool.begin_write().await?;
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
                    Some((_, Some(rotated_at))) if now - rotated_at < grace_seconds => {
                        Rotation::JustRotated
                    }
                    Some((grant_id, _)) => Rotation::Reused { grant_id },
                }
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }

    async fn revoke_grant(
        &self,
        grant_id: &str,
        now: i64,
        tokens_expire_by: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let revoked = sqlx::query(
                "UPDATE grants SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(grant_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if revoked == 1 {
                sqlx::query(
                    "INSERT INTO revocations (kind, value, expires_at, recorded_at) VALUES ($1, $2, $3, $4)",
                )
                    .bind(RevocationKind::Grant.as_str())
                    .bind(grant_id)
                    .bind(tokens_expire_by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(revoked == 1)
        })
    }

    async fn revoke_access_token(
        &self,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("INSERT INTO revocations (kind, value, expires_at, recorded_at) VALUES ($1, $2, $3, $4)")
                .bind(RevocationKind::AccessToken.as_str())
                .bind(jti)
                .bind(expires_at)
                .bind(now)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    async fn revocations_since(
        &self,
        seq: i64,
        recorded_since: i64,
        now: i64,
    ) -> Result<Vec<Revocation>, StoreError> {
        on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT seq, kind, value, expires_at FROM revocations \
                 WHERE (seq > $1 OR recorded_at >= $2) AND expires_at > $3 ORDER BY seq",
            )
            .bind(seq)
            .bind(recorded_since)
            .bind(now)
            .fetch_all(pool)
            .await?)
        })
    }
}
