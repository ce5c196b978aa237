//! Setup > Users: list, create, deactivate, activate, reset a password.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use coupa_proto::admin::{CreateUser, UpdateUser, UserView};

use super::listing::{ListParams, ListView};
use super::{Admin, Chrome, ConfirmPage, FieldErrors, NoticeQuery, Submitted, USER_FORM_ORDER};
use crate::admin::AdminError;
use crate::admin::users;
use crate::domain::listing;
use crate::domain::setup::display_time;
use crate::domain::time::parse_iso8601;
use crate::domain::user::MIN_PASSWORD;
use crate::http::pages::{PageError, see_other};
use crate::state::AppState;

const SECTION: &str = "users";
const WHAT: &str = "user";

struct UserRow {
    user: UserView,
    created: String,
}

#[derive(Template)]
#[template(path = "setup/users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<UserRow>,
    list: ListView,
}

/// `GET /users?q=&active=&sort=&dir=&page=`
pub async fn index(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Query(params): Query<ListParams>,
) -> Result<Response, PageError> {
    let records = users::records(&state.admin())
        .await
        .map_err(admin.failure(WHAT))?;
    let active = params.active();
    let listed = listing::list(
        records.iter().filter(|user| active.admits(user.active)),
        &params.request(),
        "login",
    );
    let page = UsersPage {
        chrome: admin.chrome("Users", SECTION),
        list: ListView::new("/users", &params, &listed),
        rows: listed
            .rows
            .iter()
            .map(|user| UserRow {
                user: user.view(),
                created: display_time(user.created_at),
            })
            .collect(),
    };
    admin.render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "setup/user_form.html")]
struct UserFormPage {
    chrome: Chrome,
    form: CreateUser,
    errors: FieldErrors,
    password_hint: String,
}

fn user_form(admin: &Admin, form: CreateUser, errors: FieldErrors) -> UserFormPage {
    UserFormPage {
        chrome: admin.chrome("Create user", SECTION),
        form,
        errors,
        password_hint: format!("At least {MIN_PASSWORD} characters."),
    }
}

/// `GET /users/new`
pub async fn new(admin: Admin) -> Result<Response, PageError> {
    let page = user_form(&admin, CreateUser::default(), FieldErrors::default());
    admin.render(StatusCode::OK, &page)
}

/// `POST /users`
pub async fn create(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Submitted(fields): Submitted,
) -> Result<Response, PageError> {
    let input = CreateUser {
        login: fields.text("login"),
        email: fields.text("email"),
        name: fields.text("name"),
        password: fields.text("password"),
        admin: fields.is_checked("admin"),
    };
    match users::create(&state.admin_as(admin.actor()), input.clone()).await {
        Ok(user) => see_other(&format!("/users/{}?notice=created", user.user_id)),
        Err(AdminError::Invalid(errors)) => {
            let form = CreateUser {
                password: String::new(),
                ..input
            };
            let page = user_form(&admin, form, FieldErrors::new(errors, USER_FORM_ORDER));
            admin.render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(admin.failure(WHAT)(error)),
    }
}

#[derive(Template)]
#[template(path = "setup/user.html")]
struct UserPage {
    chrome: Chrome,
    user: UserView,
    created: String,
    updated: String,
    details: Details,
    is_self: bool,
    errors: FieldErrors,
    password_hint: String,
}

/// What the details form holds: the user's, or what was typed when it was refused.
struct Details {
    name: String,
    email: String,
    admin: bool,
}

fn user_page(admin: &Admin, user: UserView, notice: Option<&str>, errors: FieldErrors) -> UserPage {
    let mut chrome = admin.chrome(user.name.clone(), SECTION);
    chrome.notice = match notice {
        Some("created") => Some("User created.".into()),
        Some("updated") => Some("User saved.".into()),
        Some("deactivated") => Some(
            "User deactivated: they cannot sign in, and every authorization they gave is revoked."
                .into(),
        ),
        Some("activated") => Some("User activated: they can sign in again.".into()),
        Some("password") => Some(
            "Password reset: the user's sessions ended and every authorization they gave is revoked."
                .into(),
        ),
        _ => None,
    };
    let moment = |at: &str| parse_iso8601(at).map_or_else(|| at.to_string(), display_time);
    UserPage {
        chrome,
        is_self: user.user_id == admin.user.user_id,
        created: moment(&user.created_at),
        updated: moment(&user.updated_at),
        details: Details {
            name: user.name.clone(),
            email: user.email.clone(),
            admin: user.admin,
        },
        user,
        errors,
        password_hint: format!(
            "At least {MIN_PASSWORD} characters. Their sessions end and the authorizations \
             they gave are revoked."
        ),
    }
}

/// `GET /users/{id}`
pub async fn show(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(user_id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let user = users::find(&state.admin(), &user_id)
        .await
        .map_err(admin.failure(WHAT))?;
    let page = user_page(
        &admin,
        user.view(),
        query.notice.as_deref(),
        FieldErrors::default(),
    );
    admin.render(StatusCode::OK, &page)
}

/// Applies `changes`; where to show the user then, with `notice`.
async fn change(
    state: &AppState,
    admin: &Admin,
    user_id: &str,
    changes: UpdateUser,
    notice: &str,
) -> Result<String, AdminError> {
    let user = users::update(&state.admin_as(admin.actor()), user_id, changes).await?;
    Ok(format!("/users/{}?notice={notice}", user.user_id))
}

async fn set_active(
    state: &AppState,
    admin: &Admin,
    user_id: &str,
    active: bool,
) -> Result<Response, PageError> {
    let changes = UpdateUser {
        active: Some(active),
        ..UpdateUser::default()
    };
    let notice = if active { "activated" } else { "deactivated" };
    let location = change(state, admin, user_id, changes, notice)
        .await
        .map_err(admin.failure(WHAT))?;
    see_other(&location)
}

/// `GET /users/{id}/deactivate`: asks first.
pub async fn confirm_deactivate(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(user_id): Path<String>,
) -> Result<Response, PageError> {
    let user = users::find(&state.admin(), &user_id)
        .await
        .map_err(admin.failure(WHAT))?;
    let path = format!("/users/{}", user.user_id);
    let page = ConfirmPage {
        crumbs: vec![
            ("/users".to_string(), "Users".to_string()),
            (path.clone(), user.name.clone()),
        ],
        consequences: vec![
            format!(
                "{} ({}) can no longer sign in, their sessions end, and every authorization they \
                 gave to an application is revoked: applications acting for them stop working.",
                user.name, user.login
            ),
            "Activate them again to let them sign in; the authorizations stay revoked.".to_string(),
        ],
        button: "Deactivate user",
        back: path.clone(),
        ..ConfirmPage::new(
            &admin,
            SECTION,
            format!("Deactivate {}?", user.name),
            format!("{path}/deactivate"),
        )
    };
    admin.render(StatusCode::OK, &page)
}

/// `POST /users/{id}/deactivate`: not oneself, so Setup always keeps an administrator.
pub async fn deactivate(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(user_id): Path<String>,
    _form: Submitted,
) -> Result<Response, PageError> {
    let is_self = users::find(&state.admin(), &user_id)
        .await
        .is_ok_and(|user| user.user_id == admin.user.user_id);
    if is_self {
        return Err(admin.refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "You cannot deactivate yourself; ask another administrator.",
            vec![("/users".to_string(), "Users".to_string())],
        ));
    }
    set_active(&state, &admin, &user_id, false).await
}

/// `POST /users/{id}/activate`
pub async fn activate(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(user_id): Path<String>,
    _form: Submitted,
) -> Result<Response, PageError> {
    set_active(&state, &admin, &user_id, true).await
}

/// `POST /users/{id}`: name, email and the administrator flag. An administrator cannot take
/// their own flag away, so Setup always keeps one.
pub async fn update(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(user_id): Path<String>,
    Submitted(fields): Submitted,
) -> Result<Response, PageError> {
    let user = users::find(&state.admin(), &user_id)
        .await
        .map_err(admin.failure(WHAT))?;
    let wanted_admin = fields.is_checked("admin");
    if user.user_id == admin.user.user_id && !wanted_admin {
        return Err(admin.refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "You cannot remove your own administrator flag; ask another administrator.",
            vec![(format!("/users/{user_id}"), user.name.clone())],
        ));
    }
    let changes = UpdateUser {
        name: Some(fields.text("name")),
        email: Some(fields.text("email")),
        admin: Some(wanted_admin),
        ..UpdateUser::default()
    };
    match change(&state, &admin, &user_id, changes, "updated").await {
        Err(AdminError::Invalid(errors)) => {
            let mut page = user_page(
                &admin,
                user.view(),
                None,
                FieldErrors::new(errors, USER_FORM_ORDER),
            );
            page.details = Details {
                name: fields.text("name"),
                email: fields.text("email"),
                admin: wanted_admin,
            };
            admin.render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        other => see_other(&other.map_err(admin.failure(WHAT))?),
    }
}

/// `POST /users/{id}/password`: a new password; the user's sessions and grants end.
pub async fn reset_password(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(user_id): Path<String>,
    Submitted(fields): Submitted,
) -> Result<Response, PageError> {
    let changes = UpdateUser {
        password: Some(fields.text("password")),
        ..UpdateUser::default()
    };
    match change(&state, &admin, &user_id, changes, "password").await {
        Err(AdminError::Invalid(errors)) => {
            let user = users::find(&state.admin(), &user_id)
                .await
                .map_err(admin.failure(WHAT))?;
            let page = user_page(
                &admin,
                user.view(),
                None,
                FieldErrors::new(errors, USER_FORM_ORDER),
            );
            admin.render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        other => see_other(&other.map_err(admin.failure(WHAT))?),
    }
}
