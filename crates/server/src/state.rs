//! What every handler shares, and the contexts the services are given out of it.

use std::sync::Arc;

use crate::cache::{ApiKeyCache, ClientCache};
use crate::config::Config;
use crate::domain::secret::Digest;
use crate::key_encryption::KeyEncryptionKey;
use crate::keys::SharedKeyRing;
use crate::store::Store;

/// What every handler shares.
pub struct AppState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub clients: ClientCache,
    pub api_keys: ApiKeyCache,
    pub custom_fields: crate::cache::CustomFieldCache,
    /// When API keys were last used, and clients last issued a token (see `uses`).
    pub api_key_uses: crate::uses::RecentUses,
    /// Calls refused because their API key was revoked (see `uses`).
    pub refused_api_key_calls: crate::uses::RefusedCalls,
    pub token_issue_times: crate::uses::RecentUses,
    pub keys: SharedKeyRing,
    /// Opens the signing keys the store holds (see `key_encryption`).
    pub kek: KeyEncryptionKey,
    pub rate_limiter: crate::domain::rate_limit::RateLimiter,
    pub admin_token_digest: Digest,
    /// The instance each request is answered as (see `domain::origin`).
    pub origins: crate::domain::origin::Origins,
    pub revocations: crate::revocations::Revocations,
    /// Failed client authentications, counted until written to the audit trail.
    pub auth_failures: crate::auth_failures::AuthFailures,
    /// Where every Argon2 computation runs (see `passwords`).
    pub passwords: crate::passwords::PasswordWorkers,
    /// Device authorizations started, per client and per source address.
    pub device_starts: crate::grants::DeviceStartLimits,
    pub token_settings: crate::grants::TokenSettings,
    /// Uploads read at once (each may hold up to `max_file_bytes` in memory).
    pub uploads: tokio::sync::Semaphore,
    pub administrator_seen: crate::sign_ins::AdministratorSeen,
    /// The sandbox's faults switched on (see `faults`); none unless someone turns one on.
    pub faults: crate::faults::FaultBoard,
    /// Each client's recent requests, for its report card (see `report`).
    pub traffic: crate::report::Traffic,
}

impl AppState {
    /// Where the API's files are kept.
    pub fn files(&self) -> crate::files::Files<'_> {
        crate::files::Files {
            store: self.store.as_ref(),
            dir: self.config.files_dir.as_deref(),
        }
    }

    /// What the administrative operations work with.
    pub fn admin(&self) -> crate::admin::AdminContext<'_> {
        crate::admin::AdminContext {
            store: &self.store,
            clients: &self.clients,
            api_keys: &self.api_keys,
            custom_fields: &self.custom_fields,
            api_key_uses: &self.api_key_uses,
            refused_api_key_calls: &self.refused_api_key_calls,
            token_issue_times: &self.token_issue_times,
            passwords: &self.passwords,
            grants: self.grant_context(),
            client_rules: self.config.client_rules,
            secret_grace_period: self.config.secret_grace_period,
            actor: crate::domain::audit::Actor::system(),
        }
    }

    /// The administrative operations on behalf of `actor`, who the audit trail names.
    pub fn admin_as(&self, actor: crate::domain::audit::Actor) -> crate::admin::AdminContext<'_> {
        crate::admin::AdminContext {
            actor,
            ..self.admin()
        }
    }

    /// What the grants work with, issuing as the configured instance.
    pub fn grant_context(&self) -> crate::grants::GrantContext<'_> {
        self.grant_context_at(self.origins.configured())
    }

    /// What the grants work with, issuing as `origin` (the instance a request named).
    pub fn grant_context_at<'s>(
        &'s self,
        origin: &'s crate::domain::origin::Origin,
    ) -> crate::grants::GrantContext<'s> {
        crate::grants::GrantContext {
            store: &self.store,
            keys: &self.keys,
            revocations: &self.revocations,
            settings: &self.token_settings,
            origin,
            token_issue_times: &self.token_issue_times,
            faults: &self.faults,
        }
    }
}

impl AppState {
    /// What rotating, retiring and removing signing keys work with.
    pub fn key_service(&self) -> crate::signing_keys::KeyService<'_> {
        crate::signing_keys::KeyService {
            store: self.store.as_ref(),
            kek: &self.kek,
            ring: &self.keys,
            signing_alg: self.config.signing_alg,
            windows: self.config.key_windows(),
        }
    }

    /// Reads again everything this replica caches from the store: the periodic safety net,
    /// and what follows a lost connection to the announcements of other replicas. Each part
    /// that fails keeps what it holds.
    pub async fn reload_everything(&self) {
        let store = self.store.as_ref();
        if let Err(error) = self
            .clients
            .reload_all(|| crate::cache::load_clients(store))
            .await
        {
            tracing::warn!(%error, "client cache refresh failed; serving the cached clients");
        }
        if let Err(error) = self
            .api_keys
            .reload_all(|| crate::cache::load_api_keys(store))
            .await
        {
            tracing::warn!(%error, "API key cache refresh failed; serving the cached keys");
        }
        if let Err(error) = self.custom_fields.reload(store).await {
            tracing::warn!(%error, "custom field reload failed; using the definitions loaded");
        }
        if let Err(error) = self.reload_key_ring().await {
            tracing::warn!(%error, "key ring reload failed; using the keys already loaded");
        }
        if let Err(error) = self
            .revocations
            .follow(store, crate::domain::time::now_unix())
            .await
        {
            tracing::warn!(%error, "cannot read the revocation feed; will retry");
        }
    }

    /// Applies a change another replica (or this one) announced.
    pub async fn apply_change(&self, change: crate::store::Change) {
        use crate::store::Change;
        let store = self.store.as_ref();
        let applied = match &change {
            Change::Client(client_id) => store
                .client(client_id)
                .await
                .map(|client| self.clients.set(client_id, client)),
            Change::ApiKeys => self
                .api_keys
                .reload_all(|| crate::cache::load_api_keys(store))
                .await
                .map(drop),
            Change::CustomFields => self.custom_fields.reload(store).await,
            Change::Revocations => {
                self.revocations
                    .follow(store, crate::domain::time::now_unix())
                    .await
            }
            Change::SigningKeys => self
                .reload_key_ring()
                .await
                .map_err(|error| crate::store::StoreError::Unusable(error.to_string())),
        };
        if let Err(error) = applied {
            tracing::warn!(%error, ?change, "cannot apply another replica's change; the next full reload will");
        }
    }

    /// Reads the key ring again: keys other replicas added since are learnt.
    pub async fn reload_key_ring(&self) -> Result<(), crate::signing_keys::KeyRingError> {
        let ring =
            crate::signing_keys::open(self.store.as_ref(), &self.kek, self.config.signing_alg)
                .await?;
        self.keys.replace(ring);
        Ok(())
    }
}
