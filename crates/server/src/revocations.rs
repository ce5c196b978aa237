//! Revoked access tokens and grants, in memory: the bearer check asks here, never the
//! database. This replica's revocations count at once; other replicas' arrive through the
//! store's revocation feed, followed every couple of seconds.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use crate::store::{RevocationKind, Store, StoreError};

#[derive(Default)]
struct Revoked {
    /// Value → when the last token it could cover expires.
    access_tokens: HashMap<String, i64>,
    grants: HashMap<String, i64>,
    last_seq: i64,
    /// When the last read of the feed started; None before the first.
    last_read_at: Option<i64>,
}

/// Each read of the feed also takes again what was recorded this long before the previous
/// read: a revocation whose transaction committed late (after one with a higher sequence
/// number) is picked up then. Longer than any transaction takes, and than replicas' clocks
/// drift apart.
pub const FEED_OVERLAP_SECONDS: i64 = 60;

#[derive(Default)]
pub struct Revocations {
    revoked: RwLock<Revoked>,
}

impl Revocations {
    pub fn is_revoked(&self, jti: &str, grant_id: Option<&str>) -> bool {
        let revoked = self.revoked.read().unwrap_or_else(PoisonError::into_inner);
        revoked.access_tokens.contains_key(jti)
            || grant_id.is_some_and(|grant_id| revoked.grants.contains_key(grant_id))
    }

    pub fn add(&self, kind: RevocationKind, value: &str, expires_at: i64) {
        let mut revoked = self.revoked.write().unwrap_or_else(PoisonError::into_inner);
        let map = if kind == RevocationKind::Grant {
            &mut revoked.grants
        } else {
            &mut revoked.access_tokens
        };
        map.insert(value.to_string(), expires_at);
    }

    /// Reads what the feed holds past the last entry seen and what was recorded shortly
    /// before the last read (see `FEED_OVERLAP_SECONDS`), and forgets entries whose tokens
    /// have all expired. The first read takes every unexpired revocation.
    pub async fn follow(&self, store: &dyn Store, now: i64) -> Result<(), StoreError> {
        let (since, recorded_since) = {
            let revoked = self.revoked.read().unwrap_or_else(PoisonError::into_inner);
            let recorded_since = revoked
                .last_read_at
                .map_or(i64::MIN, |at| at - FEED_OVERLAP_SECONDS);
            (revoked.last_seq, recorded_since)
        };
        let fresh = store.revocations_since(since, recorded_since, now).await?;
        let mut revoked = self.revoked.write().unwrap_or_else(PoisonError::into_inner);
        revoked.last_read_at = Some(now);
        for entry in fresh {
            revoked.last_seq = revoked.last_seq.max(entry.seq);
            let map = if entry.kind == RevocationKind::Grant {
                &mut revoked.grants
            } else {
                &mut revoked.access_tokens
            };
            map.insert(entry.value, entry.expires_at);
        }
        revoked
            .access_tokens
            .retain(|_, expires_at| *expires_at > now);
        revoked.grants.retain(|_, expires_at| *expires_at > now);
        Ok(())
    }
}
