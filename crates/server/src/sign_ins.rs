//! Failed sign-ins counted in the store (so every replica shares the counters): at the
//! sign-in page per login and per source address, at the admin API per source address.

use crate::domain::throttle::{self, ThrottlePolicy};
use crate::domain::time::now_unix;
use crate::domain::user::{self, UserRecord};
use crate::passwords::{Busy, PasswordWorkers};
use crate::store::{Store, StoreError};

/// Whether an active administrator exists, remembered once one is seen: the sign-in page of a
/// fresh server says how to create the first one, and asks the store only until there is one.
#[derive(Default)]
pub struct AdministratorSeen(std::sync::atomic::AtomicBool);

impl AdministratorSeen {
    pub async fn check(&self, store: &dyn Store) -> Result<bool, StoreError> {
        use std::sync::atomic::Ordering::Relaxed;
        if self.0.load(Relaxed) {
            return Ok(true);
        }
        let found = store
            .users()
            .await?
            .iter()
            .any(|user| user.admin && user.active);
        if found {
            self.0.store(true, Relaxed);
        }
        Ok(found)
    }
}

/// How to create the first administrator of the server at `url`.
pub fn first_administrator_command(url: &str) -> String {
    format!(
        "COUPA_ADMIN_TOKEN=<admin token> COUPA_USER_PASSWORD='<a long passphrase>' \
         coupa admin users create --url {url} --login admin --email admin@example.com \
         --name \"Administrator\" --admin"
    )
}

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
            // The key names what is locked: `login:...`, `address:...`, `admin:...`.
            crate::audit_trail::security_event(
                store,
                "sign_in.locked",
                key,
                "",
                serde_json::json!({"failures": failures, "locked_for_seconds": seconds}),
            )
            .await;
        }
        most = most.max(failures);
    }
    Ok(most)
}

/// How a sign-in at the sign-in page ended.
pub enum SignIn {
    SignedIn(UserRecord),
    /// Too many failures for this login or from this address: refused for this long.
    Locked {
        seconds: i64,
    },
    /// Wrong login or password, or a deactivated account (counted as a failure).
    Refused,
    /// Every password worker is busy; try again in a few seconds.
    Busy(Busy),
}

/// Checks `login` and `password` from `peer`: refused while a counter is locked, an unknown
/// login costs one password verification like a known one, and a failure is counted
/// against the login and the address. Every outcome is logged with the login and peer.
pub async fn sign_in(
    store: &dyn Store,
    passwords: &PasswordWorkers,
    login: &str,
    password: String,
    peer: &str,
) -> Result<SignIn, StoreError> {
    let counters = [
        (throttle::login_key(login), throttle::PER_LOGIN),
        (throttle::address_key(peer), throttle::PER_ADDRESS),
    ];
    if let Some(seconds) = locked_for(store, &counters, now_unix()).await? {
        crate::telemetry::sign_in_locked();
        tracing::warn!(%login, %peer, seconds, "sign-in refused: locked after repeated failures");
        return Ok(SignIn::Locked { seconds });
    }
    let found = store.user_by_login(login).await?;
    let checked = passwords
        .run(move |memory| match found {
            Some(user) if user.verify_password(&password, memory) => Some(user),
            Some(_) => None,
            None => {
                user::verify_nothing(&password, memory);
                None
            }
        })
        .await;
    let verified = match checked {
        Ok(verified) => verified,
        Err(busy) => {
            tracing::warn!(%login, %peer, "sign-in refused: every password worker is busy");
            return Ok(SignIn::Busy(busy));
        }
    };
    let Some(user) = verified.filter(|user| user.active) else {
        let failures = record_failure(store, &counters, now_unix()).await?;
        crate::telemetry::sign_in_failed();
        tracing::warn!(%login, %peer, failures, "sign-in failed");
        crate::audit_trail::security_event(
            store,
            "sign_in.failed",
            &format!("login:{login}"),
            peer,
            serde_json::json!({"failures": failures}),
        )
        .await;
        return Ok(SignIn::Refused);
    };
    store.clear_sign_in_failures(&counters[0].0).await?;
    tracing::info!(%login, %peer, user_id = %user.user_id, "signed in");
    Ok(SignIn::SignedIn(user))
}
