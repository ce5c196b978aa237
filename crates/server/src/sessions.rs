//! Browser sessions: who is signed in, starting a session at sign-in and ending it. The web
//! layer keeps the session secret in a cookie; the store keeps only its digest.

use crate::domain::grant::SessionRecord;
use crate::domain::lifetime::Lifetime;
use crate::domain::secret;
use crate::domain::user::UserRecord;
use crate::service_error::ServiceError;
use crate::store::{Store, StoreError};

/// A live session of an active user.
pub struct SignedIn {
    pub session: SessionRecord,
    pub user: UserRecord,
}

/// The signed-in user of the session whose secret is `token`: None when the session is
/// unknown or expired (then it is deleted), or its user deactivated or signed out
/// everywhere since.
pub async fn signed_in(
    store: &dyn Store,
    token: &str,
    now: i64,
) -> Result<Option<SignedIn>, StoreError> {
    let digest = secret::digest(token);
    let Some(session) = store.session(&digest).await? else {
        return Ok(None);
    };
    if session.expires_at <= now {
        store.delete_session(&digest).await?;
        return Ok(None);
    }
    let Some(user) = store.user(&session.user_id).await? else {
        return Ok(None);
    };
    if !user.active || session.auth_time < user.sessions_valid_after {
        return Ok(None);
    }
    Ok(Some(SignedIn { session, user }))
}

/// Starts a session for `user`, ending `previous` (the session this browser had, if any);
/// answers the new session's secret.
pub async fn start(
    store: &dyn Store,
    previous: Option<&str>,
    user: &UserRecord,
    lifetime: Lifetime,
    now: i64,
) -> Result<String, ServiceError> {
    if let Some(previous) = previous {
        store.delete_session(&secret::digest(previous)).await?;
    }
    let token = secret::generate_secret()?;
    let session = SessionRecord {
        session_digest: secret::digest(&token).to_vec(),
        user_id: user.user_id.clone(),
        auth_time: now,
        expires_at: now.saturating_add(lifetime.seconds()),
    };
    store.insert_session(&session).await?;
    Ok(token)
}

/// Ends the session whose secret is `token`.
pub async fn end(store: &dyn Store, token: &str) -> Result<(), StoreError> {
    store.delete_session(&secret::digest(token)).await
}
