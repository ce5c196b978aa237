//! Announcing changes that other replicas cache, so they apply them within a second rather
//! than at their next full reload: PostgreSQL's `NOTIFY` on one channel, `LISTEN`ed to by
//! every replica. SQLite serves one process, which applies its own changes as it makes them.

use async_trait::async_trait;

use super::{Pool, SqlStore, StoreError};

/// The channel the replicas working in `schema` announce on and listen to.
pub(super) fn channel(schema: &str) -> String {
    format!("coupa_changes.{schema}")
}

/// Something other replicas hold in memory changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Client(String),
    ApiKeys,
    SigningKeys,
    Revocations,
    CustomFields,
}

impl Change {
    fn payload(&self) -> String {
        match self {
            Self::Client(client_id) => format!("client:{client_id}"),
            Self::ApiKeys => "api_keys".into(),
            Self::SigningKeys => "signing_keys".into(),
            Self::Revocations => "revocations".into(),
            Self::CustomFields => "custom_fields".into(),
        }
    }

    /// None for a payload this version does not know (a newer replica's): the caller reloads
    /// everything then.
    fn parse(payload: &str) -> Option<Self> {
        match payload {
            "api_keys" => Some(Self::ApiKeys),
            "signing_keys" => Some(Self::SigningKeys),
            "revocations" => Some(Self::Revocations),
            "custom_fields" => Some(Self::CustomFields),
            other => other
                .strip_prefix("client:")
                .map(|client_id| Self::Client(client_id.to_string())),
        }
    }
}

/// What a subscription delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    Changed(Change),
    /// An announcement this version does not understand (a newer replica's): reload
    /// everything.
    ReloadEverything,
}

/// A replica's subscription to the announcements of the others (and its own).
pub struct ChangeSubscription {
    listener: sqlx::postgres::PgListener,
}

impl ChangeSubscription {
    /// The next announcement; waits for one. An error means the connection was lost, and
    /// announcements with it: subscribe again (which waits for the database), then reload
    /// everything.
    pub async fn next(&mut self) -> Result<Announcement, StoreError> {
        match self.listener.try_recv().await? {
            Some(notification) => Ok(Change::parse(notification.payload())
                .map_or(Announcement::ReloadEverything, Announcement::Changed)),
            None => Err(StoreError::Unusable(
                "the connection that listens for other replicas' changes was lost".into(),
            )),
        }
    }
}

/// Announces `change`; a failure is logged, not returned: the change itself is committed,
/// and other replicas' periodic full reload picks it up.
pub async fn announce(store: &dyn ChangeStore, change: Change) {
    if let Err(error) = store.announce(&change).await {
        tracing::warn!(%error, ?change, "cannot announce a change to other replicas; their next full reload will pick it up");
    }
}

#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// Tells every replica that `change` happened (after it was committed).
    async fn announce(&self, change: &Change) -> Result<(), StoreError>;

    /// Starts listening to announcements; None where there are no other replicas (SQLite).
    async fn subscribe(&self) -> Result<Option<ChangeSubscription>, StoreError>;
}

#[async_trait]
impl ChangeStore for SqlStore {
    async fn announce(&self, change: &Change) -> Result<(), StoreError> {
        if let Pool::Postgres(pool) = &self.pool {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&self.changes_channel)
                .bind(change.payload())
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    async fn subscribe(&self) -> Result<Option<ChangeSubscription>, StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => Ok(None),
            Pool::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(&self.changes_channel).await?;
                Ok(Some(ChangeSubscription { listener }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_unknown_ones_reload_everything() {
        for change in [
            Change::Client("abc".into()),
            Change::ApiKeys,
            Change::SigningKeys,
            Change::Revocations,
            Change::CustomFields,
        ] {
            assert_eq!(Change::parse(&change.payload()), Some(change));
        }
        assert_eq!(Change::parse("users:1"), None);
    }
}
