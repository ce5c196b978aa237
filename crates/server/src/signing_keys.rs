//! The life of the signing keys in the store: generate the missing ones, seal those an
//! earlier version kept in clear, and open them all into a key ring.

use crate::domain::time::now_unix;
use crate::key_encryption::{self, KekError, KeyEncryptionKey};
use crate::keys::{self, Algorithm, KeyError, KeyRing};
use crate::store::{Store, StoreError, StoredKey};

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error("key encryption key: {0}")]
    Kek(#[from] KekError),
}

/// Makes sure an active key of `signing_alg` exists, and one of RS256 (OpenID Connect
/// requires it for ID tokens), every key sealed; then opens the ring.
pub async fn ensure(
    store: &dyn Store,
    signing_alg: Algorithm,
    kek: &KeyEncryptionKey,
) -> Result<KeyRing, KeyRingError> {
    for alg in [signing_alg, Algorithm::Rs256] {
        let have_active = store
            .signing_keys()
            .await?
            .iter()
            .any(|key| key.active && key.alg == alg.as_str());
        if !have_active {
            let key = keys::generate(alg, now_unix())?;
            let sealed = StoredKey {
                private_key: kek.seal(&key.private_key, &key.kid)?,
                kek_id: Some(kek.id().to_string()),
                ..key
            };
            // Another replica may win this race; either way one active key results.
            if store.insert_signing_key_if_none_active(&sealed).await? {
                tracing::info!(kid = %sealed.kid, alg = alg.as_str(), "generated a signing key");
            }
        }
    }
    for key in store.signing_keys().await? {
        if key.kek_id.is_none() {
            let sealed = kek.seal(&key.private_key, &key.kid)?;
            store.seal_signing_key(&key.kid, &sealed, kek.id()).await?;
            tracing::info!(kid = %key.kid, "sealed a signing key stored in clear by an earlier version");
        }
    }
    open(store, kek, signing_alg).await
}

/// Every stored signing key, opened, as a ring signing access tokens with `signing_alg`.
pub async fn open(
    store: &dyn Store,
    kek: &KeyEncryptionKey,
    signing_alg: Algorithm,
) -> Result<KeyRing, KeyRingError> {
    let opened = key_encryption::open_all(kek, store.signing_keys().await?)?;
    Ok(KeyRing::new(&opened, signing_alg)?)
}
