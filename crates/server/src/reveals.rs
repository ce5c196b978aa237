//! Secrets shown once. After a client is created or its secret rotated, the browser is sent
//! on to the client's page, and that page shows the new secret; a reload does not. Meanwhile
//! the secret waits in the store, sealed under the key encryption key and filed under the
//! browser's session and what it belongs to, for a few minutes at most, and the first view
//! deletes it. It never travels in an address.

use crate::domain::secret::RandomnessUnavailable;
use crate::key_encryption::KeyEncryptionKey;
use crate::service_error::ServiceError;
use crate::store::Store;

/// How long a secret waits for its page.
pub const REVEAL_LIFETIME_SECONDS: i64 = 600;

/// What a reveal is filed under for a client's secret.
pub fn client_secret_subject(client_id: &str) -> String {
    format!("client_secret:{client_id}")
}

/// Keeps `secret` for the session `session_digest` to see once as `subject`.
pub async fn keep(
    store: &dyn Store,
    kek: &KeyEncryptionKey,
    session_digest: &[u8],
    subject: &str,
    secret: &str,
    now: i64,
) -> Result<(), ServiceError> {
    let sealed = kek
        .seal(secret.as_bytes(), subject)
        .map_err(|_| RandomnessUnavailable)?;
    store
        .keep_reveal(
            session_digest,
            subject,
            &sealed,
            now.saturating_add(REVEAL_LIFETIME_SECONDS),
        )
        .await?;
    Ok(())
}

/// The secret the session kept as `subject`, once: None when there is none, it expired, it
/// was already seen, or it no longer opens (the key encryption key changed since).
pub async fn take(
    store: &dyn Store,
    kek: &KeyEncryptionKey,
    session_digest: &[u8],
    subject: &str,
    now: i64,
) -> Result<Option<String>, ServiceError> {
    let Some(sealed) = store.take_reveal(session_digest, subject, now).await? else {
        return Ok(None);
    };
    Ok(kek
        .open(&sealed, subject)
        .ok()
        .and_then(|plain| String::from_utf8(plain).ok()))
}
