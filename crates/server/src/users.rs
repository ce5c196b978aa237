//! User administration: domain rules + store, one call per admin operation.

use coupa_proto::admin::{CreateUser, UpdateUser, UserView};

use crate::app::AppState;
use crate::clients::AdminError;
use crate::domain::time::now_unix;
use crate::domain::user::{UserError, UserRecord};
use crate::store::StoreError;

impl From<UserError> for AdminError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Invalid(errors) => Self::Invalid(errors),
            UserError::Randomness(error) => Self::Unavailable(error.to_string()),
        }
    }
}

const UPDATE_ATTEMPTS: usize = 5;

pub async fn create(state: &AppState, input: CreateUser) -> Result<UserView, AdminError> {
    let login = input.login.clone();
    // Argon2 takes tens of milliseconds: on the password workers.
    let created = state
        .passwords
        .run(move |memory| UserRecord::create(input, now_unix(), memory))
        .await
        .map_err(|busy| AdminError::Unavailable(busy.to_string()))?;
    let record = match created {
        Ok(record) => record,
        Err(error) => {
            return Err(crate::clients::with_login_check(state, &login, error.into()).await);
        }
    };
    state.store.insert_user(&record).await?;
    tracing::info!(user_id = %record.user_id, login = %record.login, "user created");
    Ok(record.view())
}

pub async fn list(state: &AppState) -> Result<Vec<UserView>, AdminError> {
    Ok(state
        .store
        .users()
        .await?
        .iter()
        .map(UserRecord::view)
        .collect())
}

/// By id, or by login when no user has that id.
pub async fn find(state: &AppState, id_or_login: &str) -> Result<UserRecord, AdminError> {
    match state.store.user(id_or_login).await? {
        Some(user) => Ok(user),
        None => state
            .store
            .user_by_login(id_or_login)
            .await?
            .ok_or(AdminError::NotFound),
    }
}

pub async fn update(
    state: &AppState,
    id_or_login: &str,
    changes: UpdateUser,
) -> Result<UserView, AdminError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let mut user = find(state, id_or_login).await?;
        let ends_access = changes.active == Some(false) || changes.password.is_some();
        let changes = changes.clone();
        let user_id = user.user_id.clone();
        user = state
            .passwords
            .run(move |memory| {
                user.update(changes, now_unix(), memory)?;
                Ok::<_, UserError>(user)
            })
            .await
            .map_err(|busy| AdminError::Unavailable(busy.to_string()))??;
        user.version += 1;
        match state.store.update_user(&user).await {
            Ok(()) => {
                tracing::info!(%user_id, "user updated");
                if ends_access {
                    // Deactivation and a new password end every authorization the user gave.
                    for grant_id in state.store.live_grants_of_user(&user_id).await? {
                        crate::grants::revoke_grant(state, &grant_id).await?;
                    }
                }
                return Ok(user.view());
            }
            Err(StoreError::Stale) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(StoreError::Stale.into())
}
