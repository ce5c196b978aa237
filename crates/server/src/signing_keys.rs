//! The life of the signing keys in the store: generate the missing ones, seal those an
//! earlier version kept in clear, open them all into a key ring, and rotate, retire and
//! remove them by the schedule of `domain::key_schedule`.

use crate::domain::key_schedule::{self, KeyPlan, KeyRuleError, KeySchedule, KeyWindows, NewKey};
use crate::domain::time::now_unix;
use crate::key_encryption::{self, KekError, KeyEncryptionKey};
use crate::keys::{self, Algorithm, KeyError, KeyRing, SharedKeyRing};
use crate::store::{Store, StoreError, StoredKey};

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error("key encryption key: {0}")]
    Kek(#[from] KekError),
    #[error("{0}")]
    Rule(#[from] KeyRuleError),
    #[error("the signing keys kept changing under this operation; try again")]
    Contended,
}

/// Makes sure a key of `signing_alg` signs now, and one of RS256 (OpenID Connect requires it
/// for ID tokens), every key sealed; then opens the ring.
pub async fn ensure(
    store: &dyn Store,
    signing_alg: Algorithm,
    kek: &KeyEncryptionKey,
) -> Result<KeyRing, KeyRingError> {
    for alg in [signing_alg, Algorithm::Rs256] {
        let schedules = schedules(store).await?;
        if let Some(new) = key_schedule::missing(&schedules, alg.as_str(), now_unix()) {
            let sealed = sealed_key(kek, alg, &new)?;
            // Another replica may win this race; either way one key of this generation results.
            if store.insert_signing_key(&sealed).await? {
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

async fn schedules(store: &dyn Store) -> Result<Vec<KeySchedule>, StoreError> {
    Ok(store
        .signing_keys()
        .await?
        .iter()
        .map(StoredKey::schedule)
        .collect())
}

fn sealed_key(
    kek: &KeyEncryptionKey,
    alg: Algorithm,
    new: &NewKey,
) -> Result<StoredKey, KeyRingError> {
    let key = keys::generate(alg, new, now_unix())?;
    Ok(StoredKey {
        private_key: kek.seal(&key.private_key, &key.kid)?,
        kek_id: Some(kek.id().to_string()),
        ..key
    })
}

/// What rotating, retiring and removing keys work with.
pub struct KeyService<'s> {
    pub store: &'s dyn Store,
    pub kek: &'s KeyEncryptionKey,
    pub ring: &'s SharedKeyRing,
    pub signing_alg: Algorithm,
    pub windows: KeyWindows,
}

/// Plans are recomputed from fresh rows when another writer changed the keys meanwhile.
const PLAN_ATTEMPTS: usize = 3;

impl KeyService<'_> {
    /// Every key with its schedule, as the store holds them now.
    pub async fn list(&self) -> Result<Vec<KeySchedule>, KeyRingError> {
        Ok(schedules(self.store).await?)
    }

    /// Starts a rotation of `alg`, or of every algorithm that has a signing key.
    pub async fn rotate(&self, alg: Option<Algorithm>) -> Result<Vec<KeySchedule>, KeyRingError> {
        let algorithms = match alg {
            Some(alg) => vec![alg],
            None => {
                let now = now_unix();
                let schedules = schedules(self.store).await?;
                [Algorithm::Es256, Algorithm::Rs256, Algorithm::EdDsa]
                    .into_iter()
                    .filter(|alg| {
                        key_schedule::signing_key(&schedules, alg.as_str(), now).is_some()
                    })
                    .collect()
            }
        };
        for alg in algorithms {
            self.apply(|keys, now| key_schedule::rotate(keys, alg.as_str(), now, self.windows))
                .await?;
        }
        self.list().await
    }

    /// Stops `kid` signing now; `immediately` also refuses the tokens it signed.
    pub async fn retire(
        &self,
        kid: &str,
        immediately: bool,
    ) -> Result<Vec<KeySchedule>, KeyRingError> {
        self.apply(|keys, now| key_schedule::retire(keys, kid, now, immediately, self.windows))
            .await?;
        self.list().await
    }

    /// Deletes a retired key.
    pub async fn remove(&self, kid: &str) -> Result<Vec<KeySchedule>, KeyRingError> {
        self.apply(|keys, now| key_schedule::remove(keys, kid, now))
            .await?;
        self.list().await
    }

    /// Starts the rotations `interval` makes due; true if one started. Replicas racing to
    /// start the same rotation are safe: one generation, one winner.
    pub async fn rotate_due(&self, interval: i64) -> Result<bool, KeyRingError> {
        let mut rotated = false;
        for alg in [Algorithm::Es256, Algorithm::Rs256, Algorithm::EdDsa] {
            let due = |keys: &[KeySchedule], now| {
                if key_schedule::rotation_due(keys, alg.as_str(), now, interval) {
                    key_schedule::rotate(keys, alg.as_str(), now, self.windows)
                } else {
                    Ok(KeyPlan::default())
                }
            };
            rotated |= self.apply(due).await?;
        }
        Ok(rotated)
    }

    /// Plans from the current rows and writes the plan, again from fresh rows if another
    /// writer changed them meanwhile; then this replica's ring is read again. True if
    /// anything was written.
    async fn apply(
        &self,
        plan_for: impl Fn(&[KeySchedule], i64) -> Result<KeyPlan, KeyRuleError>,
    ) -> Result<bool, KeyRingError> {
        for _ in 0..PLAN_ATTEMPTS {
            let now = now_unix();
            let plan = plan_for(&schedules(self.store).await?, now)?;
            if plan.is_empty() {
                return Ok(false);
            }
            let new_key = match &plan.new_key {
                Some(new) => {
                    let alg = Algorithm::parse(&new.alg)
                        .ok_or_else(|| KeyError::Corrupt(format!("algorithm {}", new.alg)))?;
                    Some(sealed_key(self.kek, alg, new)?)
                }
                None => None,
            };
            if self
                .store
                .apply_key_plan(new_key.as_ref(), &plan.changes, &plan.removals)
                .await?
            {
                for change in &plan.changes {
                    tracing::info!(kid = %change.kid, activate_at = change.after.activate_at,
                        retired_at = ?change.after.retired_at, expires_at = ?change.after.expires_at,
                        "signing key rescheduled");
                }
                if let Some(key) = &new_key {
                    tracing::info!(kid = %key.kid, alg = %key.alg, activate_at = key.activate_at,
                        "signing key published");
                }
                for kid in &plan.removals {
                    tracing::info!(%kid, "signing key removed");
                }
                crate::store::announce(self.store, crate::store::Change::SigningKeys).await;
                self.ring
                    .replace(open(self.store, self.kek, self.signing_alg).await?);
                return Ok(true);
            }
        }
        Err(KeyRingError::Contended)
    }
}
