//! Browser sessions, and the failed sign-ins counted against logins and addresses.

use async_trait::async_trait;

use super::{SqlStore, StoreError, on_pool};
use crate::domain::grant::SessionRecord;

/// Browser sessions (by the digest of their cookie) and sign-in throttling counters, which
/// every replica shares.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;

    async fn session(&self, digest: &[u8]) -> Result<Option<SessionRecord>, StoreError>;

    async fn delete_session(&self, digest: &[u8]) -> Result<(), StoreError>;

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

    /// Keeps `sealed` for the session `session_digest` to take once, as `subject`, until
    /// `expires_at`; replaces what that session had kept for `subject`.
    async fn keep_reveal(
        &self,
        session_digest: &[u8],
        subject: &str,
        sealed: &[u8],
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// Takes (deletes and answers) what the session kept as `subject`, if it has not expired
    /// at `now`. A second take answers None.
    async fn take_reveal(
        &self,
        session_digest: &[u8],
        subject: &str,
        now: i64,
    ) -> Result<Option<Vec<u8>>, StoreError>;
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    session_digest: Vec<u8>,
    user_id: String,
    auth_time: i64,
    expires_at: i64,
}

impl From<SessionRow> for SessionRecord {
    fn from(row: SessionRow) -> Self {
        Self {
            session_digest: row.session_digest,
            user_id: row.user_id,
            auth_time: row.auth_time,
            expires_at: row.expires_at,
        }
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("INSERT INTO sessions (session_digest, user_id, auth_time, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(&session.session_digest)
                .bind(&session.user_id)
                .bind(session.auth_time)
                .bind(session.expires_at)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    async fn session(&self, digest: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        on_pool!(self, |pool| {
            let row: Option<SessionRow> = sqlx::query_as(
                "SELECT session_digest, user_id, auth_time, expires_at FROM sessions WHERE session_digest = $1",
            )
            .bind(digest)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(Into::into))
        })
    }

    async fn delete_session(&self, digest: &[u8]) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE session_digest = $1")
                .bind(digest)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    async fn record_sign_in_failure(
        &self,
        key: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<i64, StoreError> {
        on_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "INSERT INTO sign_in_failures (throttle_key, failures, last_failed_at, locked_until) \
                 VALUES ($1, 1, $2, 0) ON CONFLICT (throttle_key) DO UPDATE SET \
                 failures = CASE WHEN sign_in_failures.last_failed_at < $3 THEN 1 \
                 ELSE sign_in_failures.failures + 1 END, last_failed_at = $2 RETURNING failures",
            )
            .bind(key)
            .bind(now)
            .bind(forget_before)
            .fetch_one(pool)
            .await?)
        })
    }

    async fn lock_sign_in(&self, key: &str, until: i64) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("UPDATE sign_in_failures SET locked_until = $1 WHERE throttle_key = $2 AND locked_until < $1")
                .bind(until)
                .bind(key)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    async fn sign_in_locked_until(&self, keys: &[String]) -> Result<i64, StoreError> {
        on_pool!(self, |pool| {
            let mut latest = 0;
            for key in keys {
                let until: Option<i64> = sqlx::query_scalar(
                    "SELECT locked_until FROM sign_in_failures WHERE throttle_key = $1",
                )
                .bind(key)
                .fetch_optional(pool)
                .await?;
                latest = latest.max(until.unwrap_or(0));
            }
            Ok(latest)
        })
    }

    async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1")
                .bind(key)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    async fn keep_reveal(
        &self,
        session_digest: &[u8],
        subject: &str,
        sealed: &[u8],
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO one_time_reveals (session_digest, subject, sealed, expires_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (session_digest, subject) DO UPDATE SET \
                 sealed = excluded.sealed, expires_at = excluded.expires_at",
            )
            .bind(session_digest)
            .bind(subject)
            .bind(sealed)
            .bind(expires_at)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn take_reveal(
        &self,
        session_digest: &[u8],
        subject: &str,
        now: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        on_pool!(self, |pool| {
            let taken: Option<(Vec<u8>, i64)> = sqlx::query_as(
                "DELETE FROM one_time_reveals WHERE session_digest = $1 AND subject = $2 \
                 RETURNING sealed, expires_at",
            )
            .bind(session_digest)
            .bind(subject)
            .fetch_optional(pool)
            .await?;
            Ok(taken.and_then(|(sealed, expires_at)| (expires_at > now).then_some(sealed)))
        })
    }
}
