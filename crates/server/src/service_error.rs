//! What the services behind the browser pages fail with when it is not the caller's fault.

use crate::domain::secret::RandomnessUnavailable;
use crate::store::StoreError;

/// The store or the system's random number generator failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Randomness(#[from] RandomnessUnavailable),
}
