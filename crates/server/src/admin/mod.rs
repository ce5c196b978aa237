//! Administrative operations, shared by the JSON admin API and Setup: each is a domain
//! rule, the store write and the cache update.

pub mod api_keys;
pub mod audit;
pub mod clients;
pub mod custom_fields;
pub mod faults;
pub mod keys;
pub mod reports;
pub mod sandbox;
pub mod users;

use crate::domain::lifetime::Lifetime;
use std::sync::Arc;

use coupa_proto::errors::CoupaErrors;

use crate::cache::{ApiKeyCache, ClientCache};
use crate::domain::client::{ClientError, ClientRules};
use crate::domain::secret::RandomnessUnavailable;
use crate::domain::user::UserError;
use crate::grants::GrantContext;
use crate::passwords::{Busy, PasswordWorkers};
use crate::store::{Store, StoreError};
use crate::uses::RecentUses;

/// What the administrative operations work with.
pub struct AdminContext<'s> {
    pub store: &'s Arc<dyn Store>,
    pub clients: &'s ClientCache,
    pub api_keys: &'s ApiKeyCache,
    pub custom_fields: &'s crate::cache::CustomFieldCache,
    pub api_key_uses: &'s RecentUses,
    pub refused_api_key_calls: &'s crate::uses::RefusedCalls,
    /// When each client was last issued a token (see `uses`).
    pub token_issue_times: &'s RecentUses,
    pub passwords: &'s PasswordWorkers,
    /// Revoking a user's grants, when the user is deactivated or their password changes.
    pub grants: GrantContext<'s>,
    pub client_rules: ClientRules,
    /// How long a rotated client secret keeps working.
    pub secret_grace_period: Lifetime,
    /// Who asks, for the audit trail.
    pub actor: crate::domain::audit::Actor,
}

impl AdminContext<'_> {
    /// Appends a change to the audit trail. The change is already made: a trail that cannot
    /// be written is logged as an error, not undone.
    pub async fn record(&self, kind: &str, object: String, details: serde_json::Value) {
        crate::audit_trail::append(self.store.as_ref(), &self.actor, kind, &object, details).await;
    }
}

/// A view as the audit trail compares it.
pub fn as_audited(view: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(view).unwrap_or_default()
}

/// Why an administrative operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no such record")]
    NotFound,
    #[error("invalid: {0:?}")]
    Invalid(CoupaErrors),
    /// Something this server depends on failed; the cause is kept for the log.
    #[error("the operation could not be completed")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Taken(field) => {
                Self::Invalid(CoupaErrors::single(field, "has already been taken"))
            }
            other => Self::Unavailable(Box::new(other)),
        }
    }
}

impl From<RandomnessUnavailable> for AdminError {
    fn from(error: RandomnessUnavailable) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

impl From<Busy> for AdminError {
    fn from(error: Busy) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

impl From<ClientError> for AdminError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Invalid(errors) => Self::Invalid(errors),
            ClientError::Randomness(error) => error.into(),
        }
    }
}

impl From<UserError> for AdminError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Invalid(errors) => Self::Invalid(errors),
            UserError::Randomness(error) => error.into(),
        }
    }
}
