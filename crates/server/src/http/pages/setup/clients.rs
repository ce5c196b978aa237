//! Setup > OAuth2/OpenID Connect Clients: list, create, show, edit, deactivate, activate,
//! rotate the secret, delete.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use coupa_proto::admin::{ClientView, CreateClient, UpdateClient, token_curl};
use coupa_proto::scopes;
use serde::Deserialize;

use super::listing::{ListParams, ListView};
use super::{Admin, CLIENT_FORM_ORDER, Chrome, ConfirmPage, FieldErrors, NoticeQuery, Submitted};
use crate::admin::clients::ClientFilter;
use crate::admin::{AdminError, clients};
use crate::domain::client::ClientKind;
use crate::domain::setup::{
    client_changes_from_form, client_from_form, describe_duration, display_age, display_time,
    scope_groups,
};
use crate::domain::time::{now_unix, parse_iso8601};
use crate::http::pages::{PageError, see_other};
use crate::reveals::client_secret_subject;
use crate::state::AppState;

const SECTION: &str = "clients";

fn grant_label(grant_type: &str) -> &'static str {
    ClientKind::parse(grant_type).map_or("Unknown", ClientKind::label)
}

/// "2026-11-25 08:30:00 UTC (5 minutes ago)", or `never`.
fn moment(rfc3339: Option<&str>, never: &str) -> String {
    match rfc3339.and_then(parse_iso8601) {
        Some(at) => format!("{} ({})", display_time(at), display_age(at, now_unix())),
        None => never.to_string(),
    }
}

struct ClientRow {
    client_id: String,
    name: String,
    login: String,
    grant_type: &'static str,
    scope_count: usize,
    active: bool,
    last_token: String,
}

impl ClientRow {
    fn new(client: &ClientView) -> Self {
        Self {
            client_id: client.client_id.clone(),
            name: client.name.clone(),
            login: client.login.clone(),
            grant_type: grant_label(&client.grant_type),
            scope_count: client.scope.split_whitespace().count(),
            active: client.active,
            last_token: moment(client.last_token_at.as_deref(), "Never"),
        }
    }
}

#[derive(Template)]
#[template(path = "setup/clients.html")]
struct ClientsPage {
    chrome: Chrome,
    rows: Vec<ClientRow>,
    list: ListView,
    grant_choices: Vec<GrantChoice>,
}

/// `GET /oauth2/clients?q=&grant=&active=&sort=&dir=&page=`
pub async fn index(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Query(query): Query<NoticeQuery>,
    Query(params): Query<ListParams>,
) -> Result<Response, PageError> {
    let filter = ClientFilter {
        grant_type: params.grant(),
        active: params.active().wanted(),
        holding: None,
    };
    let listed = clients::page(&state.admin(), filter, &params.request())
        .await
        .map_err(admin.failure("client"))?;
    let list = ListView::new("/oauth2/clients", &params, &listed);
    let rows = listed.rows.iter().map(ClientRow::new).collect();
    let mut chrome = admin.chrome("OAuth2/OpenID Connect Clients", SECTION);
    if query.notice.as_deref() == Some("deleted") {
        let named = admin.take_revealed(&state, DELETED_NOTICE).await?;
        chrome.notice = Some(named.unwrap_or_else(|| "Client deleted.".into()));
    }
    let grant_choices = ClientKind::ALL
        .iter()
        .map(|grant| GrantChoice {
            value: grant.as_str(),
            label: grant.label(),
            selected: Some(grant.as_str()) == params.grant(),
        })
        .collect();
    let page = ClientsPage {
        chrome,
        rows,
        list,
        grant_choices,
    };
    admin.render(StatusCode::OK, &page)
}

pub struct ScopeOption {
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: &'static [coupa_proto::scopes::Permission],
    pub checked: bool,
}

pub struct ScopeGroupView {
    pub key: String,
    pub scopes: Vec<ScopeOption>,
}

/// The scope checklist, grouped by service.object, with `selected` ticked.
fn checklist(selected: &str) -> Vec<ScopeGroupView> {
    let selected: Vec<&str> = selected.split_whitespace().collect();
    scope_groups()
        .into_iter()
        .map(|group| ScopeGroupView {
            key: group.key,
            scopes: group
                .scopes
                .iter()
                .map(|scope| ScopeOption {
                    name: scope.name,
                    description: scope.description,
                    permissions: scope.permissions,
                    checked: selected.contains(&scope.name),
                })
                .collect(),
        })
        .collect()
}

/// What the form's boxes hold.
struct FormValues {
    name: String,
    login: String,
    grant_type: String,
    contact_info: String,
    contact_email: String,
    redirect_uris: String,
    pkce: bool,
    allow_plain_pkce: bool,
}

impl From<&CreateClient> for FormValues {
    fn from(input: &CreateClient) -> Self {
        Self {
            name: input.name.clone(),
            login: input.login.clone(),
            grant_type: input.grant_type.clone(),
            contact_info: input.contact_info.clone(),
            contact_email: input.contact_email.clone(),
            redirect_uris: input.redirect_uris.join("\n"),
            pkce: input.pkce,
            allow_plain_pkce: input.allow_plain_pkce,
        }
    }
}

struct GrantChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// The client being edited; None on the create form.
struct Editing {
    client_id: String,
    grant_label: &'static str,
    scope: String,
}

#[derive(Template)]
#[template(path = "setup/client_form.html")]
struct ClientFormPage {
    chrome: Chrome,
    openid_group: &'static str,
    editing: Option<Editing>,
    form: FormValues,
    grant_choices: Vec<GrantChoice>,
    groups: Vec<ScopeGroupView>,
    errors: FieldErrors,
}

impl ClientFormPage {
    fn new(
        admin: &Admin,
        editing: Option<Editing>,
        input: &CreateClient,
        errors: FieldErrors,
    ) -> Self {
        let title = match &editing {
            Some(_) => format!("Edit {}", input.name),
            None => "Create OAuth2/OpenID Connect Client".to_string(),
        };
        let grant_choices = ClientKind::ALL
            .iter()
            .map(|grant| GrantChoice {
                value: grant.as_str(),
                label: grant.label(),
                selected: grant.as_str() == input.grant_type,
            })
            .collect();
        Self {
            chrome: admin.chrome(title, SECTION),
            openid_group: crate::domain::setup::OPENID_GROUP,
            editing,
            form: FormValues::from(input),
            grant_choices,
            groups: checklist(&input.scope),
            errors,
        }
    }

    fn is_authorization_code(&self) -> bool {
        self.form.grant_type == ClientKind::AuthorizationCode.as_str()
    }
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    grant_type: Option<String>,
}

/// `GET /oauth2/clients/new`
pub async fn new(admin: Admin, Query(query): Query<NewQuery>) -> Result<Response, PageError> {
    let input = CreateClient {
        grant_type: query
            .grant_type
            .filter(|grant| ClientKind::parse(grant).is_some())
            .unwrap_or_else(|| ClientKind::ClientCredentials.as_str().to_string()),
        ..CreateClient::default()
    };
    let page = ClientFormPage::new(&admin, None, &input, FieldErrors::default());
    admin.render(StatusCode::OK, &page)
}

/// `POST /oauth2/clients`: saved, on to the client's page, which shows the secret once;
/// refused, the form comes back with each error next to its field.
pub async fn create(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Submitted(fields): Submitted,
) -> Result<Response, PageError> {
    let input = client_from_form(&fields);
    match clients::create(&state.admin_as(admin.actor()), input.clone()).await {
        Ok(client) => {
            if let Some(secret) = &client.client_secret {
                admin
                    .reveal_once(&state, &client_secret_subject(&client.client_id), secret)
                    .await?;
            }
            see_other(&client_path(&client.client_id, "created"))
        }
        Err(AdminError::Invalid(errors)) => {
            let page = ClientFormPage::new(
                &admin,
                None,
                &input,
                FieldErrors::new(errors, CLIENT_FORM_ORDER),
            );
            admin.render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(admin.failure("client")(error)),
    }
}

/// Why the client page is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Plain,
    Created,
    Rotated,
}

/// The token call, split around the secret so the page can mask it.
struct Curl {
    before_secret: String,
    after_secret: String,
    /// Whole, with the secret when known, for the Copy button.
    full: String,
}

const SECRET_PLACEHOLDER: &str = "<CLIENT_SECRET>";

/// Where an interactive client's application talks to this server.
struct Endpoints {
    authorize: String,
    token: String,
    discovery: String,
    /// Device code clients start at the device authorization endpoint instead.
    device_authorization: Option<String>,
    /// A ready-made authorization request, with placeholders for what changes per request.
    authorization_request: Option<String>,
}

impl Endpoints {
    fn of(issuer: &str, client: &ClientView) -> Option<Self> {
        let kind = ClientKind::parse(&client.grant_type)?;
        if kind == ClientKind::ClientCredentials {
            return None;
        }
        let authorize = format!("{issuer}{}", crate::http::pages::authorize::AUTHORIZE_PATH);
        let authorization_request = (kind == ClientKind::AuthorizationCode).then(|| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &client.client_id)
                .append_pair(
                    "redirect_uri",
                    client.redirect_uris.first().map_or("", String::as_str),
                )
                .append_pair("scope", &client.scope)
                .append_pair("state", "STATE");
            if client.pkce {
                query
                    .append_pair("code_challenge", "CODE_CHALLENGE")
                    .append_pair("code_challenge_method", "S256");
            }
            format!("{authorize}?{}", query.finish())
        });
        Some(Self {
            token: format!("{issuer}/oauth2/token"),
            discovery: format!("{issuer}/.well-known/openid-configuration"),
            device_authorization: (kind == ClientKind::DeviceCode)
                .then(|| format!("{issuer}/oauth2/device_authorizations")),
            authorize,
            authorization_request,
        })
    }
}

/// A user's authorization of the client, as its page lists it.
struct GrantRow {
    grant_id: String,
    user: String,
    scopes: String,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "setup/client.html")]
struct ClientPage {
    chrome: Chrome,
    client: ClientView,
    /// Interactive clients only: the users' authorizations not yet revoked.
    grants: Option<Vec<GrantRow>>,
    endpoints: Option<Endpoints>,
    grant_label: &'static str,
    /// Only right after creation or a rotation.
    secret: Option<String>,
    curl: Option<Curl>,
    rotated: bool,
    scopes_changed: bool,
    grace_period: String,
    token_lifetime_seconds: u64,
    last_token: String,
    created: String,
    updated: String,
    old_secret_until: Option<String>,
}

impl ClientPage {
    fn new(state: &AppState, admin: &Admin, mut client: ClientView, shown: Shown) -> Self {
        let secret = client.client_secret.take();
        // A deactivated client gets no token: its page offers no call that would fail.
        let curl = (client.grant_type == ClientKind::ClientCredentials.as_str() && client.active)
            .then(|| {
                let template = token_curl(
                    &state.config.issuer,
                    &client.client_id,
                    &client.scope,
                    SECRET_PLACEHOLDER,
                );
                let (before, after) = template
                    .split_once(SECRET_PLACEHOLDER)
                    .unwrap_or((template.as_str(), ""));
                Curl {
                    before_secret: before.to_string(),
                    after_secret: after.to_string(),
                    full: match &secret {
                        Some(secret) => format!("{before}{secret}{after}"),
                        None => template.clone(),
                    },
                }
            });
        let mut chrome = admin.chrome(client.name.clone(), SECTION);
        chrome.notice = match (shown, secret.is_some()) {
            (Shown::Created, true) => {
                Some("Client saved. Copy the secret now: it is shown only this once.".to_string())
            }
            (Shown::Rotated, true) => {
                Some("New secret generated. Copy it now: it is shown only this once.".to_string())
            }
            (Shown::Created, false) => Some("Client saved.".to_string()),
            (Shown::Rotated, false) => Some("Secret rotated.".to_string()),
            (Shown::Plain, _) => None,
        };
        Self {
            chrome,
            grants: None,
            endpoints: Endpoints::of(&state.config.issuer, &client),
            grant_label: grant_label(&client.grant_type),
            last_token: moment(client.last_token_at.as_deref(), "Never"),
            created: moment(Some(&client.created_at), ""),
            updated: moment(Some(&client.updated_at), ""),
            old_secret_until: client
                .previous_secret_valid_until
                .as_deref()
                .and_then(parse_iso8601)
                .map(display_time),
            grace_period: describe_duration(state.config.secret_grace_period.secs()),
            token_lifetime_seconds: state.config.token_lifetime.secs(),
            secret,
            curl,
            rotated: shown == Shown::Rotated,
            scopes_changed: false,
            client,
        }
    }

    /// The client's scopes with what each is for.
    fn scope_list(&self) -> Vec<(String, &'static str)> {
        self.client
            .scope
            .split_whitespace()
            .map(|name| {
                let description = scopes::find(name).map_or("", |scope| scope.description);
                (name.to_string(), description)
            })
            .collect()
    }
}

/// `GET /oauth2/clients/{id}`: after a create or a rotation, the new secret, on the first
/// view only.
pub async fn show(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let mut client = clients::show(&state.admin(), &client_id)
        .await
        .map_err(admin.failure("client"))?;
    client.client_secret = admin
        .take_revealed(&state, &client_secret_subject(&client_id))
        .await?;
    let shown = match query.notice.as_deref() {
        Some("created") => Shown::Created,
        Some("rotated") => Shown::Rotated,
        _ => Shown::Plain,
    };
    let interactive = client.grant_type != ClientKind::ClientCredentials.as_str();
    let mut page = ClientPage::new(&state, &admin, client, shown);
    if interactive {
        let now = now_unix();
        let grants = clients::grants(&state.admin(), &client_id)
            .await
            .map_err(admin.failure("client"))?;
        page.grants = Some(
            grants
                .into_iter()
                .map(|grant| GrantRow {
                    user: if grant.user_name.is_empty() {
                        grant.user_login
                    } else {
                        format!("{} ({})", grant.user_name, grant.user_login)
                    },
                    scopes: grant.scopes,
                    created: format!(
                        "{} ({})",
                        display_time(grant.created_at),
                        display_age(grant.created_at, now)
                    ),
                    last_used: grant.last_used_at.map_or_else(
                        || "Not refreshed yet".to_string(),
                        |at| format!("{} ({})", display_time(at), display_age(at, now)),
                    ),
                    grant_id: grant.grant_id,
                })
                .collect(),
        );
    }
    let notice = match query.notice.as_deref() {
        Some("updated") => Some("Client saved."),
        Some("scopes_changed") => {
            page.scopes_changed = true;
            Some("Client saved, with new scopes.")
        }
        Some("deactivated") => {
            Some("Client deactivated: it gets no new tokens, and the tokens it holds are refused.")
        }
        Some("activated") => Some("Client activated: it can get tokens again."),
        Some("grant_revoked") => Some(
            "Authorization revoked: its refresh token is refused now, its access tokens within seconds.",
        ),
        _ => None,
    };
    if let Some(notice) = notice {
        page.chrome.notice = Some(notice.to_string());
    }
    admin.render(StatusCode::OK, &page)
}

fn editing(client: &ClientView) -> Editing {
    Editing {
        client_id: client.client_id.clone(),
        grant_label: grant_label(&client.grant_type),
        scope: client.scope.clone(),
    }
}

/// The form values of a stored client.
fn as_input(client: &ClientView) -> CreateClient {
    CreateClient {
        name: client.name.clone(),
        login: client.login.clone(),
        grant_type: client.grant_type.clone(),
        scope: client.scope.clone(),
        contact_info: client.contact_info.clone(),
        contact_email: client.contact_email.clone(),
        redirect_uris: client.redirect_uris.clone(),
        pkce: client.pkce,
        allow_plain_pkce: client.allow_plain_pkce,
        introspect_any_token: client.introspect_any_token,
    }
}

/// `GET /oauth2/clients/{id}/edit`
pub async fn edit(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
) -> Result<Response, PageError> {
    let client = clients::show(&state.admin(), &client_id)
        .await
        .map_err(admin.failure("client"))?;
    let page = ClientFormPage::new(
        &admin,
        Some(editing(&client)),
        &as_input(&client),
        FieldErrors::default(),
    );
    admin.render(StatusCode::OK, &page)
}

fn client_path(client_id: &str, notice: &str) -> String {
    format!("/oauth2/clients/{client_id}?notice={notice}")
}

/// `POST /oauth2/clients/{id}`: the edit form.
pub async fn update(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
    Submitted(fields): Submitted,
) -> Result<Response, PageError> {
    let client = clients::show(&state.admin(), &client_id)
        .await
        .map_err(admin.failure("client"))?;
    let grant_type = ClientKind::parse(&client.grant_type)
        .ok_or(admin.failure("client")(AdminError::NotFound))?;
    let changes = client_changes_from_form(&fields, grant_type);
    match clients::update(&state.admin_as(admin.actor()), &client_id, changes.clone()).await {
        Ok(updated) => {
            let notice = if same_scopes(&updated.scope, &client.scope) {
                "updated"
            } else {
                "scopes_changed"
            };
            see_other(&client_path(&client_id, notice))
        }
        Err(AdminError::Invalid(errors)) => {
            let mut input = as_input(&client);
            apply(&mut input, changes);
            let page = ClientFormPage::new(
                &admin,
                Some(editing(&client)),
                &input,
                FieldErrors::new(errors, CLIENT_FORM_ORDER),
            );
            admin.render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(admin.failure("client")(error)),
    }
}

/// Whether two scope lists hold the same scopes, in whatever order.
fn same_scopes(a: &str, b: &str) -> bool {
    fn sorted(list: &str) -> Vec<&str> {
        let mut names: Vec<&str> = list.split_whitespace().collect();
        names.sort_unstable();
        names
    }
    sorted(a) == sorted(b)
}

/// What the administrator typed, to show again with the errors.
fn apply(input: &mut CreateClient, changes: UpdateClient) {
    let UpdateClient {
        name,
        contact_info,
        contact_email,
        scope,
        redirect_uris,
        active: _,
        allow_plain_pkce,
        introspect_any_token: _,
    } = changes;
    input.name = name.unwrap_or(std::mem::take(&mut input.name));
    input.contact_info = contact_info.unwrap_or(std::mem::take(&mut input.contact_info));
    input.contact_email = contact_email.unwrap_or(std::mem::take(&mut input.contact_email));
    input.scope = scope.unwrap_or(std::mem::take(&mut input.scope));
    input.redirect_uris = redirect_uris.unwrap_or(std::mem::take(&mut input.redirect_uris));
    input.allow_plain_pkce = allow_plain_pkce.unwrap_or(input.allow_plain_pkce);
}

async fn set_active(
    state: &AppState,
    admin: &Admin,
    client_id: &str,
    active: bool,
) -> Result<Response, PageError> {
    let changes = UpdateClient {
        active: Some(active),
        ..UpdateClient::default()
    };
    clients::update(&state.admin_as(admin.actor()), client_id, changes)
        .await
        .map_err(admin.failure("client"))?;
    see_other(&client_path(
        client_id,
        if active { "activated" } else { "deactivated" },
    ))
}

/// The client named in the path, for a confirmation page.
async fn client_to_confirm(
    state: &AppState,
    admin: &Admin,
    client_id: &str,
) -> Result<ClientView, PageError> {
    clients::show(&state.admin(), client_id)
        .await
        .map_err(admin.failure("client"))
}

/// A confirmation page about `client`, its trail leading back to it.
fn confirm_page(admin: &Admin, client: &ClientView, question: String, action: &str) -> ConfirmPage {
    let path = format!("/oauth2/clients/{}", client.client_id);
    ConfirmPage {
        crumbs: vec![
            (
                "/oauth2/clients".to_string(),
                "OAuth2/OpenID Connect Clients".to_string(),
            ),
            (path.clone(), client.name.clone()),
        ],
        back: path.clone(),
        ..ConfirmPage::new(admin, SECTION, question, format!("{path}/{action}"))
    }
}

/// What deactivating or deleting `client` does to the integrations using it.
fn stops_getting_tokens(client: &ClientView) -> String {
    format!(
        "Integrations using {} stop getting tokens at once, and the tokens it already holds are refused.",
        client.login
    )
}

/// `GET /oauth2/clients/{id}/deactivate`: asks first.
pub async fn confirm_deactivate(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
) -> Result<Response, PageError> {
    let client = client_to_confirm(&state, &admin, &client_id).await?;
    let page = ConfirmPage {
        consequences: vec![
            stops_getting_tokens(&client),
            "Its secret and settings are kept: activate it again to let it back in.".to_string(),
        ],
        button: "Deactivate client",
        ..confirm_page(
            &admin,
            &client,
            format!("Deactivate {}?", client.name),
            "deactivate",
        )
    };
    admin.render(StatusCode::OK, &page)
}

/// `POST /oauth2/clients/{id}/deactivate`
pub async fn deactivate(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
    _form: Submitted,
) -> Result<Response, PageError> {
    set_active(&state, &admin, &client_id, false).await
}

/// `POST /oauth2/clients/{id}/activate`
pub async fn activate(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
    _form: Submitted,
) -> Result<Response, PageError> {
    set_active(&state, &admin, &client_id, true).await
}

/// The field a rotation's confirmation carries: the grace period it was asked under (or
/// `none`), so that a form re-sent after the rotation, or after another one, rotates nothing.
const ROTATION_SEEN: &str = "previous_secret_valid_until";

fn rotation_seen(client: &ClientView) -> String {
    client
        .previous_secret_valid_until
        .clone()
        .unwrap_or_else(|| "none".to_string())
}

/// `GET /oauth2/clients/{id}/rotate_secret`: asks first, and says plainly when a rotation
/// would cut short the previous secret's grace period.
pub async fn confirm_rotate_secret(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let client = client_to_confirm(&state, &admin, &client_id).await?;
    if client.pkce {
        return Err(admin.refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{} is a public client: it has no secret to rotate, and proves itself with PKCE.",
                client.name
            ),
            vec![(format!("/oauth2/clients/{client_id}"), client.name.clone())],
        ));
    }
    let now = now_unix();
    let grace = describe_duration(state.config.secret_grace_period.secs());
    let current_until =
        display_time(now.saturating_add(state.config.secret_grace_period.seconds()));
    let previous_until = client
        .previous_secret_valid_until
        .as_deref()
        .and_then(parse_iso8601)
        .filter(|until| *until > now);
    let mut consequences = Vec::new();
    let question = match previous_until {
        Some(until) => {
            consequences.push(format!(
                "The secret replaced by the last rotation is still accepted until {} ({}). \
                 Rotating again stops it now: integrations that have not switched to the current \
                 secret fail at once.",
                display_time(until),
                display_age(until, now)
            ));
            format!("Rotate the secret of {} again?", client.name)
        }
        None => format!("Rotate the secret of {}?", client.name),
    };
    consequences.push(format!(
        "A new secret is generated and shown once, on the next page. The current secret keeps \
         working for {grace} (until {current_until}), so integrations can switch over; then it is refused."
    ));
    let mut page = ConfirmPage {
        consequences,
        hidden: vec![(ROTATION_SEEN, rotation_seen(&client))],
        button: if previous_until.is_some() {
            "Rotate again, stopping the previous secret"
        } else {
            "Rotate secret"
        },
        ..confirm_page(&admin, &client, question, "rotate_secret")
    };
    if query.notice.as_deref() == Some("changed") {
        page.chrome.notice = Some(
            "The secret was rotated since that page was shown, so nothing was rotated. \
             Check what rotating now would do."
                .to_string(),
        );
    }
    admin.render(StatusCode::OK, &page)
}

/// `POST /oauth2/clients/{id}/rotate_secret`: the new secret is shown once, on the client's
/// page; the old one keeps working for the grace period.
pub async fn rotate_secret(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
    Submitted(fields): Submitted,
) -> Result<Response, PageError> {
    let client = client_to_confirm(&state, &admin, &client_id).await?;
    if fields.get(ROTATION_SEEN) != Some(rotation_seen(&client).as_str()) {
        return see_other(&format!(
            "/oauth2/clients/{client_id}/rotate_secret?notice=changed"
        ));
    }
    let rotated = clients::rotate_secret(&state.admin_as(admin.actor()), &client_id)
        .await
        .map_err(admin.failure("client"))?;
    if let Some(secret) = &rotated.client_secret {
        admin
            .reveal_once(&state, &client_secret_subject(&client_id), secret)
            .await?;
    }
    see_other(&client_path(&client_id, "rotated"))
}

/// `GET /oauth2/clients/{id}/delete`: asks first.
pub async fn confirm_delete(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
) -> Result<Response, PageError> {
    let client = client_to_confirm(&state, &admin, &client_id).await?;
    let page = ConfirmPage {
        consequences: vec![
            stops_getting_tokens(&client),
            "This cannot be undone. To pause the client instead, deactivate it.".to_string(),
        ],
        button: "Delete client",
        ..confirm_page(
            &admin,
            &client,
            format!("Delete {}?", client.name),
            "delete",
        )
    };
    admin.render(StatusCode::OK, &page)
}

/// `GET /oauth2/clients/{id}/grants/{grant_id}/revoke`: asks first.
pub async fn confirm_revoke_grant(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path((client_id, grant_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let client = client_to_confirm(&state, &admin, &client_id).await?;
    let grants = clients::grants(&state.admin(), &client_id)
        .await
        .map_err(admin.failure("client"))?;
    let grant = grants
        .iter()
        .find(|grant| grant.grant_id == grant_id)
        .ok_or_else(|| admin.failure("authorization")(AdminError::NotFound))?;
    let page = ConfirmPage {
        consequences: vec![
            format!(
                "{} can no longer act for {}: its refresh token is refused at once, and the \
                 access tokens it holds within seconds, on every replica.",
                client.name, grant.user_login
            ),
            format!(
                "{} can authorize it again by signing in when the application asks.",
                grant.user_login
            ),
        ],
        button: "Revoke authorization",
        ..confirm_page(
            &admin,
            &client,
            format!(
                "Revoke {}'s authorization of {}?",
                grant.user_login, client.name
            ),
            &format!("grants/{grant_id}/revoke"),
        )
    };
    admin.render(StatusCode::OK, &page)
}

/// `POST /oauth2/clients/{id}/grants/{grant_id}/revoke`
pub async fn revoke_grant(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path((client_id, grant_id)): Path<(String, String)>,
    _form: Submitted,
) -> Result<Response, PageError> {
    clients::revoke_grant(&state.admin_as(admin.actor()), &client_id, &grant_id)
        .await
        .map_err(admin.failure("authorization"))?;
    see_other(&client_path(&client_id, "grant_revoked"))
}

/// What the list says after a delete, kept for the one view after the redirect (it names
/// the client, which the address cannot carry).
const DELETED_NOTICE: &str = "notice:client_deleted";

/// `POST /oauth2/clients/{id}/delete`
pub async fn delete(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(client_id): Path<String>,
    _form: Submitted,
) -> Result<Response, PageError> {
    let client = client_to_confirm(&state, &admin, &client_id).await?;
    clients::delete(&state.admin_as(admin.actor()), &client_id)
        .await
        .map_err(admin.failure("client"))?;
    let notice = format!("Client “{}” ({}) deleted.", client.name, client.login);
    admin.reveal_once(&state, DELETED_NOTICE, &notice).await?;
    see_other("/oauth2/clients?notice=deleted")
}
