//! When each signing key signs and verifies. A key moves `next → active → retired → removed`
//! by instants kept with it in the store, never by a local timer, so every replica reading
//! the same rows agrees on the signing key at every instant.
//!
//! A key is published (in the JWKS) from its creation, signs from `activate_at` until
//! `retired_at`, and verifies until `expires_at`. Of the keys of one algorithm that may sign
//! at an instant, the one of the highest generation signs.

/// A key's instants, as the store keeps them (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTimes {
    pub activate_at: i64,
    pub retired_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// One signing key's place in the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchedule {
    pub kid: String,
    pub alg: String,
    pub generation: i64,
    pub created_at: i64,
    pub times: KeyTimes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, not signing yet.
    Next,
    /// Signing new tokens.
    Active,
    /// No longer signing; verifies the tokens it signed until they expire.
    Retired,
    /// Neither signs nor verifies; removed from the store by the next purge.
    Expired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Expired => "expired",
        }
    }
}

impl KeySchedule {
    pub fn verifies_at(&self, now: i64) -> bool {
        self.times.expires_at.is_none_or(|at| at > now)
    }

    fn may_sign_at(&self, now: i64) -> bool {
        self.times.activate_at <= now
            && self.times.retired_at.is_none_or(|at| at > now)
            && self.verifies_at(now)
    }
}

/// How long the stages last, from settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyWindows {
    /// From publication to signing: relying parties caching the JWKS must have seen the key.
    pub publication_delay: i64,
    /// From retirement to expiry: the longest a token it signed lives, plus clock leeway.
    pub verification: i64,
}

/// The key of `alg` that signs at `now`, if any.
pub fn signing_key<'a>(
    keys: impl IntoIterator<Item = &'a KeySchedule>,
    alg: &str,
    now: i64,
) -> Option<&'a KeySchedule> {
    keys.into_iter()
        .filter(|key| key.alg == alg && key.may_sign_at(now))
        .max_by_key(|key| key.generation)
}

pub fn state(keys: &[KeySchedule], key: &KeySchedule, now: i64) -> KeyState {
    if !key.verifies_at(now) {
        KeyState::Expired
    } else if key.times.activate_at > now && key.times.retired_at.is_none_or(|at| at > now) {
        KeyState::Next
    } else if signing_key(keys, &key.alg, now).is_some_and(|signer| signer.kid == key.kid) {
        KeyState::Active
    } else {
        KeyState::Retired
    }
}

/// A change to one key's instants, applied only if the key still has `before` (another
/// admin or replica may have changed it meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimesChange {
    pub kid: String,
    pub before: KeyTimes,
    pub after: KeyTimes,
}

/// A new key to generate, seal and insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub alg: String,
    pub generation: i64,
    pub activate_at: i64,
}

/// What one operation writes, all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPlan {
    pub new_key: Option<NewKey>,
    pub changes: Vec<TimesChange>,
    pub removals: Vec<String>,
}

impl KeyPlan {
    pub fn is_empty(&self) -> bool {
        self.new_key.is_none() && self.changes.is_empty() && self.removals.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRuleError {
    #[error("no signing key {0}")]
    NotFound(String),
    #[error("a rotation of {alg} is already under way: {kid} starts signing at {activate_at}")]
    RotationUnderWay {
        alg: String,
        kid: String,
        activate_at: i64,
    },
    #[error("{kid} is {state}; retire it before removing it")]
    StillInUse { kid: String, state: &'static str },
}

fn next_generation(keys: &[KeySchedule], alg: &str) -> i64 {
    keys.iter()
        .filter(|key| key.alg == alg)
        .map(|key| key.generation)
        .max()
        .unwrap_or(0)
        + 1
}

fn change(key: &KeySchedule, after: KeyTimes) -> TimesChange {
    TimesChange {
        kid: key.kid.clone(),
        before: key.times,
        after,
    }
}

/// The key of `alg` waiting to sign, if a rotation is under way.
fn pending<'a>(keys: &'a [KeySchedule], alg: &str, now: i64) -> Option<&'a KeySchedule> {
    keys.iter()
        .find(|key| key.alg == alg && state(keys, key, now) == KeyState::Next)
}

/// A first key for `alg` when none signs at `now` (a fresh store, or every key retired).
pub fn missing(keys: &[KeySchedule], alg: &str, now: i64) -> Option<NewKey> {
    signing_key(keys, alg, now).is_none().then(|| NewKey {
        alg: alg.to_string(),
        generation: next_generation(keys, alg),
        activate_at: now,
    })
}

/// Publishes a new key of `alg` now; it signs after the publication delay, when the current
/// key retires and starts its verification window.
pub fn rotate(
    keys: &[KeySchedule],
    alg: &str,
    now: i64,
    windows: KeyWindows,
) -> Result<KeyPlan, KeyRuleError> {
    if let Some(next) = pending(keys, alg, now) {
        return Err(KeyRuleError::RotationUnderWay {
            alg: alg.to_string(),
            kid: next.kid.clone(),
            activate_at: next.times.activate_at,
        });
    }
    let Some(current) = signing_key(keys, alg, now) else {
        return Ok(KeyPlan {
            new_key: missing(keys, alg, now),
            ..KeyPlan::default()
        });
    };
    let switch_at = now + windows.publication_delay;
    Ok(KeyPlan {
        new_key: Some(NewKey {
            alg: alg.to_string(),
            generation: next_generation(keys, alg),
            activate_at: switch_at,
        }),
        changes: vec![change(
            current,
            KeyTimes {
                retired_at: Some(switch_at),
                expires_at: Some(switch_at + windows.verification),
                ..current.times
            },
        )],
        removals: Vec::new(),
    })
}

/// Stops `kid` signing now; with `immediately`, also stops it verifying (a compromised key).
/// An active key hands over at once to the key waiting to sign, or to a new one. Retiring a
/// key that has not signed yet cancels its rotation.
pub fn retire(
    keys: &[KeySchedule],
    kid: &str,
    now: i64,
    immediately: bool,
    windows: KeyWindows,
) -> Result<KeyPlan, KeyRuleError> {
    let key = keys
        .iter()
        .find(|key| key.kid == kid)
        .ok_or_else(|| KeyRuleError::NotFound(kid.to_string()))?;
    let expires_at = if immediately {
        now
    } else {
        now + windows.verification
    };
    let mut plan = KeyPlan::default();
    match state(keys, key, now) {
        KeyState::Expired => {}
        KeyState::Retired => {
            if immediately {
                plan.changes.push(change(
                    key,
                    KeyTimes {
                        retired_at: Some(key.times.retired_at.map_or(now, |at| at.min(now))),
                        expires_at: Some(now),
                        ..key.times
                    },
                ));
            }
        }
        KeyState::Next => {
            plan.removals.push(key.kid.clone());
            if let Some(current) = signing_key(keys, &key.alg, now) {
                plan.changes.push(change(
                    current,
                    KeyTimes {
                        retired_at: None,
                        expires_at: None,
                        ..current.times
                    },
                ));
            }
        }
        KeyState::Active => {
            plan.changes.push(change(
                key,
                KeyTimes {
                    retired_at: Some(now),
                    expires_at: Some(expires_at),
                    ..key.times
                },
            ));
            match pending(keys, &key.alg, now) {
                Some(next) => plan.changes.push(change(
                    next,
                    KeyTimes {
                        activate_at: now,
                        ..next.times
                    },
                )),
                None => {
                    plan.new_key = Some(NewKey {
                        alg: key.alg.clone(),
                        generation: next_generation(keys, &key.alg),
                        activate_at: now,
                    })
                }
            }
        }
    }
    Ok(plan)
}

/// Deletes a retired key (its tokens stop verifying at once). Keys that sign or are about to
/// must be retired first, so removal never leaves an algorithm without a signing key.
pub fn remove(keys: &[KeySchedule], kid: &str, now: i64) -> Result<KeyPlan, KeyRuleError> {
    let key = keys
        .iter()
        .find(|key| key.kid == kid)
        .ok_or_else(|| KeyRuleError::NotFound(kid.to_string()))?;
    match state(keys, key, now) {
        state @ (KeyState::Active | KeyState::Next) => Err(KeyRuleError::StillInUse {
            kid: kid.to_string(),
            state: state.as_str(),
        }),
        KeyState::Retired | KeyState::Expired => Ok(KeyPlan {
            removals: vec![kid.to_string()],
            ..KeyPlan::default()
        }),
    }
}

/// Whether automatic rotation is due for `alg`: its signing key has signed for `interval`
/// seconds and no rotation is under way.
pub fn rotation_due(keys: &[KeySchedule], alg: &str, now: i64, interval: i64) -> bool {
    interval > 0
        && pending(keys, alg, now).is_none()
        && signing_key(keys, alg, now).is_some_and(|key| key.times.activate_at + interval <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOWS: KeyWindows = KeyWindows {
        publication_delay: 600,
        verification: 86_460,
    };

    fn key(kid: &str, generation: i64, activate_at: i64) -> KeySchedule {
        KeySchedule {
            kid: kid.into(),
            alg: "ES256".into(),
            generation,
            created_at: activate_at,
            times: KeyTimes {
                activate_at,
                retired_at: None,
                expires_at: None,
            },
        }
    }

    /// Applies a plan as the store would, naming a new key `new`.
    fn apply(keys: &[KeySchedule], plan: &KeyPlan, now: i64) -> Vec<KeySchedule> {
        let mut keys: Vec<KeySchedule> = keys
            .iter()
            .filter(|key| !plan.removals.contains(&key.kid))
            .cloned()
            .collect();
        for change in &plan.changes {
            let key = keys.iter_mut().find(|key| key.kid == change.kid).unwrap();
            assert_eq!(key.times, change.before);
            key.times = change.after;
        }
        if let Some(new) = &plan.new_key {
            let mut added = key("new", new.generation, new.activate_at);
            added.created_at = now;
            keys.push(added);
        }
        keys
    }

    fn states(keys: &[KeySchedule], now: i64) -> Vec<(&str, KeyState)> {
        keys.iter()
            .map(|key| (key.kid.as_str(), state(keys, key, now)))
            .collect()
    }

    #[test]
    fn a_rotation_publishes_first_then_switches_at_one_instant_then_expires_the_old_key() {
        let keys = vec![key("old", 1, 0)];
        let plan = rotate(&keys, "ES256", 1000, WINDOWS).unwrap();
        let keys = apply(&keys, &plan, 1000);
        assert_eq!(
            states(&keys, 1000),
            [("old", KeyState::Active), ("new", KeyState::Next)]
        );
        assert_eq!(signing_key(&keys, "ES256", 1599).unwrap().kid, "old");
        assert_eq!(signing_key(&keys, "ES256", 1600).unwrap().kid, "new");
        assert_eq!(
            states(&keys, 1600),
            [("old", KeyState::Retired), ("new", KeyState::Active)]
        );
        assert!(keys[0].verifies_at(1600 + 86_459));
        assert_eq!(state(&keys, &keys[0], 1600 + 86_460), KeyState::Expired);
        assert!(matches!(
            rotate(&keys, "ES256", 1001, WINDOWS),
            Err(KeyRuleError::RotationUnderWay { .. })
        ));
        assert!(
            rotate(&keys, "RS256", 1001, WINDOWS)
                .unwrap()
                .new_key
                .is_some(),
            "each algorithm rotates on its own"
        );
    }

    #[test]
    fn retiring_the_active_key_hands_over_at_once() {
        let keys = vec![key("old", 1, 0)];
        let rotated = apply(&keys, &rotate(&keys, "ES256", 1000, WINDOWS).unwrap(), 1000);
        let handed = apply(
            &rotated,
            &retire(&rotated, "old", 1100, false, WINDOWS).unwrap(),
            1100,
        );
        assert_eq!(signing_key(&handed, "ES256", 1100).unwrap().kid, "new");
        assert!(
            handed[0].verifies_at(1100 + 86_459),
            "tokens keep verifying"
        );

        let compromised = apply(
            &keys,
            &retire(&keys, "old", 1100, true, WINDOWS).unwrap(),
            1100,
        );
        assert!(!compromised[0].verifies_at(1100), "refused at once");
        assert_eq!(signing_key(&compromised, "ES256", 1100).unwrap().kid, "new");
        assert_eq!(compromised[1].generation, 2);
    }

    #[test]
    fn retiring_now_a_retired_key_and_cancelling_a_pending_rotation() {
        let keys = vec![key("old", 1, 0)];
        let rotated = apply(&keys, &rotate(&keys, "ES256", 1000, WINDOWS).unwrap(), 1000);
        let cancelled = apply(
            &rotated,
            &retire(&rotated, "new", 1200, false, WINDOWS).unwrap(),
            1200,
        );
        assert_eq!(cancelled, keys, "the old key signs on as before");

        let retired_at = 1600;
        assert_eq!(
            retire(&rotated, "old", 2000, false, WINDOWS).unwrap(),
            KeyPlan::default(),
            "already retired: nothing to do"
        );
        let now = apply(
            &rotated,
            &retire(&rotated, "old", 2000, true, WINDOWS).unwrap(),
            2000,
        );
        assert!(!now[0].verifies_at(2000));
        assert_eq!(now[0].times.retired_at, Some(retired_at));
        assert_eq!(signing_key(&now, "ES256", 2000).unwrap().kid, "new");
    }

    #[test]
    fn only_retired_keys_are_removed() {
        let keys = vec![key("old", 1, 0)];
        assert!(matches!(
            remove(&keys, "old", 10),
            Err(KeyRuleError::StillInUse { .. })
        ));
        assert!(matches!(
            remove(&keys, "nope", 10),
            Err(KeyRuleError::NotFound(_))
        ));
        let rotated = apply(&keys, &rotate(&keys, "ES256", 10, WINDOWS).unwrap(), 10);
        assert!(remove(&rotated, "new", 11).is_err(), "next");
        assert_eq!(
            remove(&rotated, "old", 700).unwrap().removals,
            ["old".to_string()]
        );
    }

    #[test]
    fn missing_keys_and_automatic_rotation() {
        assert_eq!(
            missing(&[], "ES256", 5),
            Some(NewKey {
                alg: "ES256".into(),
                generation: 1,
                activate_at: 5
            })
        );
        let keys = vec![key("old", 1, 0)];
        assert_eq!(missing(&keys, "ES256", 5), None);
        assert!(!rotation_due(&keys, "ES256", 99, 100));
        assert!(rotation_due(&keys, "ES256", 100, 100));
        assert!(!rotation_due(&keys, "ES256", 100, 0), "0 turns it off");
        let rotated = apply(&keys, &rotate(&keys, "ES256", 100, WINDOWS).unwrap(), 100);
        assert!(!rotation_due(&rotated, "ES256", 200, 100), "under way");
    }
}
