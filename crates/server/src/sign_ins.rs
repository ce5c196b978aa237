//! Failed sign-ins counted in the store (so every replica shares the counters): at the
//! sign-in page per login and per source address, at the admin API per source address.

use crate::domain::throttle::ThrottlePolicy;
use crate::store::{Store, StoreError};

/// The counters one attempt is counted against.
pub type Counters = [(String, ThrottlePolicy)];

/// Seconds until every counter of `counters` is unlocked again; None when none is locked.
pub async fn locked_for(
    store: &dyn Store,
    counters: &Counters,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let keys: Vec<String> = counters.iter().map(|(key, _)| key.clone()).collect();
    let until = store.sign_in_locked_until(&keys).await?;
    Ok((until > now).then_some(until - now))
}

/// Counts a failure against each counter, locking those past their threshold. Returns the
/// largest number of failures in a row, for the log.
pub async fn record_failure(
    store: &dyn Store,
    counters: &Counters,
    now: i64,
) -> Result<i64, StoreError> {
    let mut most = 0;
    for (key, policy) in counters {
        let failures = store
            .record_sign_in_failure(key, now, now - policy.forget_after_seconds)
            .await?;
        if let Some(seconds) = policy.lock_after(failures) {
            store.lock_sign_in(key, now + seconds).await?;
        }
        most = most.max(failures);
    }
    Ok(most)
}
