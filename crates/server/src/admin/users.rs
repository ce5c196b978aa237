//! User administration.

use coupa_proto::admin::{CreateUser, UpdateUser, UserView};

use super::{AdminContext, AdminError, as_audited};
use crate::domain::audit;
use crate::domain::time::now_unix;
use crate::domain::user::{UserError, UserRecord};
use crate::store::StoreError;

/// Each lost compare-and-swap means another writer won, so N writers at once need at most N
/// attempts each; beyond this many the write is refused (503).
const UPDATE_ATTEMPTS: usize = 32;

pub async fn create(context: &AdminContext<'_>, input: CreateUser) -> Result<UserView, AdminError> {
    let login = input.login.clone();
    // Argon2 takes tens of milliseconds: on the password workers.
    let created = context
        .passwords
        .run(move |memory| UserRecord::create(input, now_unix(), memory))
        .await?;
    let record = match created {
        Ok(record) => record,
        Err(error) => {
            return Err(super::clients::with_login_check(
                context.store.as_ref(),
                &login,
                error.into(),
            )
            .await);
        }
    };
    context.store.insert_user(&record).await?;
    context
        .record(
            "user.created",
            format!("user:{}", record.login),
            audit::created(&as_audited(&record.view())),
        )
        .await;
    tracing::info!(user_id = %record.user_id, login = %record.login, "user created");
    Ok(record.view())
}

pub async fn list(context: &AdminContext<'_>) -> Result<Vec<UserView>, AdminError> {
    Ok(records(context)
        .await?
        .iter()
        .map(UserRecord::view)
        .collect())
}

/// Every user, as stored.
pub async fn records(context: &AdminContext<'_>) -> Result<Vec<UserRecord>, AdminError> {
    Ok(context.store.users().await?)
}

/// By id, or by login when no user has that id.
pub async fn find(context: &AdminContext<'_>, id_or_login: &str) -> Result<UserRecord, AdminError> {
    match context.store.user(id_or_login).await? {
        Some(user) => Ok(user),
        None => context
            .store
            .user_by_login(id_or_login)
            .await?
            .ok_or(AdminError::NotFound),
    }
}

pub async fn update(
    context: &AdminContext<'_>,
    id_or_login: &str,
    changes: UpdateUser,
) -> Result<UserView, AdminError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let mut user = find(context, id_or_login).await?;
        let before = as_audited(&user.view());
        let ends_access = changes.active == Some(false) || changes.password.is_some();
        let password_changed = changes.password.is_some();
        let changes = changes.clone();
        let user_id = user.user_id.clone();
        user = context
            .passwords
            .run(move |memory| {
                user.update(changes, now_unix(), memory)?;
                Ok::<_, UserError>(user)
            })
            .await??;
        user.version += 1;
        match context.store.update_user(&user).await {
            Ok(()) => {
                let mut details = audit::changes(&before, &as_audited(&user.view()));
                if password_changed && let Some(fields) = details.as_object_mut() {
                    fields.insert(
                        "password".into(),
                        serde_json::json!({"before": "(secret)", "after": "(secret)"}),
                    );
                }
                context
                    .record("user.updated", format!("user:{}", user.login), details)
                    .await;
                tracing::info!(%user_id, "user updated");
                if ends_access {
                    // Deactivation and a new password end every authorization the user gave.
                    for grant_id in context.store.live_grants_of_user(&user_id).await? {
                        crate::grants::revoke_grant(&context.grants, &grant_id).await?;
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
