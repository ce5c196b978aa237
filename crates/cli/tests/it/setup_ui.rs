//! Setup, the admin pages: over HTTP as a browser without JavaScript would use them, and in
//! headless Chromium driven by npm `playwright-core`.

use coupa_proto::admin::{CreateApiKey, CreateClient, CreateUser};
use coupa_server::ConfigLayer;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Backend, TestServer, spawn_on, spawn_server_with};
use crate::support::{Browser, Page, hidden_fields};

const ADMIN_PASSWORD: &str = "an administrator's password";

async fn server_with(settings: ConfigLayer) -> TestServer {
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    add_users(&server).await;
    server
}

/// The administrator `root` and the user `ada`.
async fn add_users(server: &TestServer) {
    for (login, admin) in [("root", true), ("ada", false)] {
        server
            .admin
            .create_user(&CreateUser {
                login: login.into(),
                email: format!("{login}@example.com"),
                name: format!("User {login}"),
                password: ADMIN_PASSWORD.into(),
                admin,
            })
            .await
            .unwrap();
    }
}

async fn server() -> TestServer {
    server_with(ConfigLayer::default()).await
}

/// The CSRF token the page's forms carry.
fn csrf(page: &Page) -> String {
    page.body
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token in {}", page.body))
        .to_string()
}

async fn sign_in(server: &TestServer, login: &str, password: &str) -> Browser {
    let mut browser = Browser::new(&server.url);
    let login_page = browser.get("/oauth2/login?return_to=/setup").await;
    let signed_in = browser
        .post(
            "/oauth2/login",
            &[
                ("csrf_token".into(), csrf(&login_page)),
                ("return_to".into(), "/setup".into()),
                ("login".into(), login.into()),
                ("password".into(), password.into()),
            ],
        )
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.location.as_deref(), Some("/setup"));
    browser
}

async fn admin_browser(server: &TestServer) -> Browser {
    sign_in(server, "root", ADMIN_PASSWORD).await
}

/// Posts `fields` from the page at `form_page`, with its CSRF token.
async fn submit(
    browser: &mut Browser,
    form_page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Page {
    let page = browser.get(form_page).await;
    assert_eq!(page.status, StatusCode::OK, "{form_page}: {}", page.body);
    let mut form = vec![("csrf_token".to_string(), csrf(&page))];
    form.extend(
        fields
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string())),
    );
    browser.post(action, &form).await
}

/// The `value` of the input with `id`.
fn input_value(html: &str, id: &str) -> String {
    let input = html
        .split(&format!("id=\"{id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    input
        .split("value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string()
}

/// The text of the element with `id` (no nested markup).
fn text_of(html: &str, id: &str) -> String {
    html.split(&format!("id=\"{id}\""))
        .nth(1)
        .and_then(|rest| rest.split_once('>'))
        .and_then(|(_, rest)| rest.split('<').next())
        .unwrap_or_else(|| panic!("no #{id} in {html}"))
        .trim()
        .to_string()
}

async fn token_status(
    server: &TestServer,
    client_id: &str,
    secret: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let response = server.token_request(&form).await;
    (response.status(), response.json().await.unwrap())
}

/// A legacy API key named `name`, holding every scope.
async fn legacy_key(server: &TestServer, name: &str) -> coupa_proto::admin::ApiKeyView {
    server
        .admin
        .create_api_key(&CreateApiKey {
            name: name.into(),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// The `value` of the form field named `name` (a hidden field, say).
fn field_value(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        .to_string()
}

/// Follows a `303 See Other` answer to its page.
async fn follow(browser: &mut Browser, answer: &Page) -> Page {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location.clone().unwrap();
    browser.get(&location).await
}

/// Creates a client through the form; answers the page it was redirected to (the one view
/// that shows the secret), its id and secret.
async fn create_client_by_form(
    browser: &mut Browser,
    fields: &[(&str, &str)],
) -> (Page, String, String) {
    let answer = submit(browser, "/oauth2/clients/new", "/oauth2/clients", fields).await;
    let location = answer.location.clone().unwrap_or_default();
    assert!(
        location.ends_with("?notice=created"),
        "{location} {}",
        answer.body
    );
    let page = follow(browser, &answer).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let client_id = text_of(&page.body, "client-id");
    assert_eq!(
        location,
        format!("/oauth2/clients/{client_id}?notice=created")
    );
    let secret = input_value(&page.body, "client-secret");
    (page, client_id, secret)
}

/// Rotates a client's secret through its confirmation page; answers the confirmation page,
/// the page after (the one view that shows the new secret) and the new secret.
async fn rotate_by_form(browser: &mut Browser, client_id: &str) -> (Page, Page, String) {
    let confirm_path = format!("/oauth2/clients/{client_id}/rotate_secret");
    let confirm = browser.get(&confirm_path).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let seen = field_value(&confirm.body, "previous_secret_valid_until");
    let answer = browser
        .post(
            &confirm_path,
            &[
                ("csrf_token".into(), csrf(&confirm)),
                ("previous_secret_valid_until".into(), seen),
            ],
        )
        .await;
    assert_eq!(
        answer.location.as_deref(),
        Some(format!("/oauth2/clients/{client_id}?notice=rotated").as_str())
    );
    let page = follow(browser, &answer).await;
    let secret = input_value(&page.body, "client-secret");
    (confirm, page, secret)
}

const INVOICE_SYNC: &[(&str, &str)] = &[
    ("grant_type", "client_credentials"),
    ("name", "Invoices sync"),
    ("login", "invoice-sync"),
    ("contact_info", "Finance integrations"),
    ("contact_email", "integrations@example.com"),
    ("scope_group", "core.invoice"),
    ("scope", "core.expense.read"),
];

#[tokio::test]
async fn setup_needs_a_signed_in_administrator() {
    let server = server().await;
    let mut stranger = Browser::new(&server.url);
    for path in [
        "/setup",
        "/oauth2/clients",
        "/api_keys",
        "/users",
        "/setup/transition",
    ] {
        let page = stranger.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        let location = page.location.unwrap();
        assert!(
            location.starts_with("/oauth2/login?return_to="),
            "{location}"
        );
        assert!(location.contains(&path.replace('/', "%2F")), "{location}");
    }

    let mut user = sign_in(&server, "ada", ADMIN_PASSWORD).await;
    let refused = user.get("/setup").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("Setup is for administrators"),
        "{}",
        refused.body
    );
    // A valid CSRF token does not make a non-administrator's form count.
    let login_page = user.get("/oauth2/login").await;
    let forbidden = user
        .post(
            "/oauth2/clients",
            &[
                ("csrf_token".into(), csrf(&login_page)),
                ("name".into(), "x".into()),
                ("login".into(), "x".into()),
                ("grant_type".into(), "client_credentials".into()),
                ("scope".into(), "core.invoice.read".into()),
            ],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert!(server.admin.list_clients().await.unwrap().is_empty());

    let mut admin = admin_browser(&server).await;
    let home = admin.get("/setup").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Find it fast"));
    assert!(
        home.body.contains("User root"),
        "the signed-in administrator is named"
    );

    let response = reqwest::get(server.url("/setup")).await.unwrap();
    assert_eq!(
        response.url().path(),
        "/oauth2/login",
        "followed to sign-in"
    );
}

#[tokio::test]
async fn setup_pages_send_protective_headers_and_their_assets() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let page = admin.get("/setup").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<script src=\"/setup/assets/setup.js\""));
    let headers = &page.headers;
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    let policy = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    for (path, media_type) in [
        ("/setup/assets/setup.js", "text/javascript; charset=utf-8"),
        ("/assets/coupa.css", "text/css; charset=utf-8"),
    ] {
        let asset = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(asset.status(), 200);
        assert_eq!(asset.headers()["content-type"], media_type);
        assert_eq!(asset.headers()["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn find_it_fast_works_without_a_script() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let all = admin.get("/setup").await;
    let found = admin.get("/setup?q=oauth").await;
    assert!(
        found
            .body
            .contains("<a href=\"/oauth2/clients\">OAuth2/OpenID Connect Clients</a>")
    );
    // /users is in the navigation of every page, and among the entries only when it matches.
    assert_eq!(all.body.matches("href=\"/users\"").count(), 2);
    assert_eq!(found.body.matches("href=\"/users\"").count(), 1);
    let nothing = admin.get("/setup?q=%3Cscript%3Ezzz").await;
    assert!(
        nothing
            .body
            .contains("Nothing in Setup matches “&#60;script&#62;zzz”"),
        "{}",
        nothing.body
    );
}

/// The registry of Setup pages drives the navigation, Find it fast and where a sign-in may
/// return: every page it lists is served, shows itself as current, and is a return path.
#[tokio::test]
async fn every_page_of_the_setup_registry_is_routed_and_in_the_navigation() {
    use coupa_server::http::pages::setup::registry::{HOME_PATH, SETUP_PAGES};
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let home = admin.get(HOME_PATH).await;
    assert_eq!(home.status, StatusCode::OK);
    for page in SETUP_PAGES {
        let served = admin
            .get_with_accept(page.path, "text/html,application/xhtml+xml")
            .await;
        assert_eq!(
            served.status,
            StatusCode::OK,
            "{}: {}",
            page.path,
            served.body
        );
        assert!(
            served.body.contains(&format!(
                "<a href=\"{}\" aria-current=\"page\">{}</a>",
                page.path, page.nav_label
            )),
            "{} is not current in its own navigation",
            page.path
        );
        assert!(
            home.body.contains(&format!("<a href=\"{}\">", page.path)),
            "{} is missing from the navigation",
            page.path
        );
        let mut browser = Browser::new(&server.url);
        let login_page = browser.get("/oauth2/login").await;
        let signed_in = browser
            .post(
                "/oauth2/login",
                &[
                    ("csrf_token".into(), csrf(&login_page)),
                    ("return_to".into(), page.path.into()),
                    ("login".into(), "root".into()),
                    ("password".into(), ADMIN_PASSWORD.into()),
                ],
            )
            .await;
        assert_eq!(signed_in.location.as_deref(), Some(page.path));
    }
}

#[tokio::test]
async fn a_client_created_through_the_form_gets_tokens_as_its_page_says() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let (page, client_id, secret) = create_client_by_form(&mut admin, INVOICE_SYNC).await;
    assert!(page.body.contains("Client saved. Copy the secret now"));
    assert!(
        page.body.contains("type=\"password\" id=\"client-secret\""),
        "masked until Show"
    );
    let scopes = text_of(&page.body, "oidc-scopes");
    let held: Vec<&str> = scopes.split(' ').collect();
    assert!(held.contains(&"core.invoice.read") && held.contains(&"core.invoice.write"));
    assert!(held.contains(&"core.expense.read"));
    assert!(
        held.iter()
            .all(|scope| scope.starts_with("core.invoice.") || *scope == "core.expense.read")
    );
    // The copy button holds seed 001's token call with the real secret.
    let expected_curl = coupa_proto::admin::token_curl(&server.url, &client_id, &scopes, &secret);
    let escaped = expected_curl.replace('&', "&#38;").replace('"', "&#34;");
    assert!(
        page.body.contains(&format!("data-copy-text=\"{escaped}\"")),
        "{}",
        page.body
    );

    let (status, token) =
        token_status(&server, &client_id, &secret, Some("core.invoice.read")).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let bearer = token["access_token"].as_str().unwrap();
    assert_eq!(server.list_invoices(bearer).await.status(), 200);

    // The secret is never shown again.
    let shown = admin.get(&format!("/oauth2/clients/{client_id}")).await;
    assert!(!shown.body.contains(&secret));
    assert!(
        shown.body.contains("&#60;CLIENT_SECRET&#62;"),
        "the curl keeps a placeholder"
    );
    let list = admin.get("/oauth2/clients").await;
    assert!(list.body.contains("Invoices sync") && list.body.contains("invoice-sync"));
    assert!(list.body.contains("Client credentials"));
    assert!(
        list.body.contains("(just now)"),
        "the last token issued: {}",
        list.body
    );
}

#[tokio::test]
async fn refused_forms_come_back_with_errors_by_their_fields() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let page = submit(
        &mut admin,
        "/oauth2/clients/new",
        "/oauth2/clients",
        &[
            ("grant_type", "client_credentials"),
            ("name", "<script>alert(1)</script>"),
            ("login", "ROOT"),
            ("contact_email", "not an email"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let login_error = text_of(&page.body, "login-error");
    assert!(
        page.body
            .contains("<span>Login has already been taken</span>"),
        "{login_error}: {}",
        page.body
    );
    assert!(
        page.body
            .contains("<span>Scopes can&#39;t be empty: select at least one scope</span>")
    );
    assert!(page.body.contains("<span>Contact email is invalid</span>"));
    assert!(
        page.body
            .contains("aria-invalid=\"true\" aria-describedby=\"login-hint login-error\"")
    );
    assert!(
        page.body
            .contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62;\""),
        "typed values stay, escaped"
    );
    assert!(!page.body.contains("<script>alert"));
    assert!(
        page.body.contains("<a href=\"#login\">"),
        "the summary links to the field"
    );

    let unknown_scope = submit(
        &mut admin,
        "/oauth2/clients/new",
        "/oauth2/clients",
        &[
            ("grant_type", "authorization_code"),
            ("name", "App"),
            ("login", "app"),
            ("scope", "core.bogus.read"),
        ],
    )
    .await;
    assert_eq!(unknown_scope.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown_scope
            .body
            .contains("core.bogus.read is not a known scope")
    );
    assert!(
        unknown_scope
            .body
            .contains("Redirect URIs must hold at least one URI")
    );
    assert!(
        server.admin.list_clients().await.unwrap().is_empty(),
        "nothing saved"
    );
}

#[tokio::test]
async fn editing_scopes_warns_and_changes_what_tokens_carry() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let (_, client_id, secret) = create_client_by_form(&mut admin, INVOICE_SYNC).await;
    let path = format!("/oauth2/clients/{client_id}");
    let edit = admin.get(&format!("{path}/edit")).await;
    assert!(edit.body.contains("Changing scopes?"));
    assert!(
        edit.body.contains("value=\"Finance integrations\"")
            || edit.body.contains(">Finance integrations</textarea>")
    );

    let saved = submit(
        &mut admin,
        &format!("{path}/edit"),
        &path,
        &[
            ("name", "Invoices sync"),
            ("contact_info", ""),
            ("contact_email", "integrations@example.com"),
            ("scope", "core.supplier.read"),
            ("scope", "core.expense.read"),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("{path}?notice=scopes_changed").as_str())
    );
    let shown = admin.get(saved.location.as_deref().unwrap()).await;
    assert!(shown.body.contains("The scopes changed."));
    assert_eq!(
        text_of(&shown.body, "new-scope-list"),
        "core.expense.read core.supplier.read"
    );
    let stored = server.admin.client(&client_id).await.unwrap();
    assert_eq!(stored.contact_info, "", "a cleared box clears the field");

    let (status, body) =
        token_status(&server, &client_id, &secret, Some("core.invoice.read")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    let (status, _) = token_status(&server, &client_id, &secret, Some("core.supplier.read")).await;
    assert_eq!(status, StatusCode::OK);

    let unchanged = submit(
        &mut admin,
        &format!("{path}/edit"),
        &path,
        &[
            ("name", "Renamed"),
            ("scope", "core.supplier.read"),
            ("scope", "core.expense.read"),
        ],
    )
    .await;
    assert_eq!(
        unchanged.location.as_deref(),
        Some(format!("{path}?notice=updated").as_str())
    );

    let refused = submit(
        &mut admin,
        &format!("{path}/edit"),
        &path,
        &[("name", ""), ("contact_email", "x")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Name can&#39;t be blank"));
    assert!(refused.body.contains("Scopes can&#39;t be empty"));
    assert_eq!(
        server.admin.client(&client_id).await.unwrap().name,
        "Renamed",
        "nothing saved"
    );
}

#[tokio::test]
async fn saving_the_same_scopes_in_another_order_is_no_scope_change() {
    let server = server().await;
    let (view, _) = server
        .create_client("ordered", "core.invoice.read core.expense.read")
        .await;
    let mut admin = admin_browser(&server).await;
    let path = format!("/oauth2/clients/{}", view.client_id);
    let saved = submit(
        &mut admin,
        &format!("{path}/edit"),
        &path,
        &[
            ("name", "Renamed"),
            ("scope", "core.invoice.read"),
            ("scope", "core.expense.read"),
        ],
    )
    .await;
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("{path}?notice=updated").as_str())
    );
}

#[tokio::test]
async fn rotate_deactivate_activate_and_delete() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let (_, client_id, secret) = create_client_by_form(&mut admin, INVOICE_SYNC).await;
    let path = format!("/oauth2/clients/{client_id}");
    let show = admin.get(&path).await;
    assert!(
        show.body
            .contains("keeps working for 24 hours (the grace period)")
    );

    assert_eq!(
        token_status(&server, &client_id, &secret, None).await.0,
        StatusCode::OK
    );
    let (confirm, rotated, new_secret) = rotate_by_form(&mut admin, &client_id).await;
    assert!(confirm.body.contains("Rotate the secret of Invoices sync?"));
    assert!(confirm.body.contains("keeps working for 24 hours"));
    assert!(rotated.body.contains("New secret generated"));
    assert!(rotated.body.contains("The old secret keeps working until"));
    assert!(
        rotated.body.contains("<dt>Last token issued</dt><dd>20"),
        "rotating keeps the record of the last token"
    );
    assert_ne!(new_secret, secret);
    let (old_status, old_token) = token_status(&server, &client_id, &secret, None).await;
    assert_eq!(
        old_status,
        StatusCode::OK,
        "the old secret works in the grace period"
    );
    assert_eq!(
        token_status(&server, &client_id, &new_secret, None).await.0,
        StatusCode::OK
    );

    let confirm = admin.get(&format!("{path}/deactivate")).await;
    assert!(confirm.body.contains("Deactivate Invoices sync?"));
    assert!(
        confirm
            .body
            .contains("Integrations using invoice-sync stop getting tokens")
    );
    let deactivated = submit(
        &mut admin,
        &format!("{path}/deactivate"),
        &format!("{path}/deactivate"),
        &[],
    )
    .await;
    assert_eq!(
        deactivated.location.as_deref(),
        Some(format!("{path}?notice=deactivated").as_str())
    );
    let bearer = old_token["access_token"].as_str().unwrap();
    assert_eq!(
        server.list_invoices(bearer).await.status(),
        401,
        "tokens it holds are refused"
    );
    let (status, body) = token_status(&server, &client_id, &new_secret, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let list = admin.get("/oauth2/clients").await;
    assert!(list.body.contains("<span class=\"badge off\">No</span>"));

    let activated = submit(&mut admin, &path, &format!("{path}/activate"), &[]).await;
    assert_eq!(
        activated.location.as_deref(),
        Some(format!("{path}?notice=activated").as_str())
    );
    assert_eq!(
        token_status(&server, &client_id, &new_secret, None).await.0,
        StatusCode::OK
    );

    let confirm = admin.get(&format!("{path}/delete")).await;
    assert!(confirm.body.contains("Delete Invoices sync?"));
    let deleted = submit(
        &mut admin,
        &format!("{path}/delete"),
        &format!("{path}/delete"),
        &[],
    )
    .await;
    assert_eq!(
        deleted.location.as_deref(),
        Some("/oauth2/clients?notice=deleted")
    );
    assert!(server.admin.list_clients().await.unwrap().is_empty());
    assert_eq!(admin.get(&path).await.status, StatusCode::NOT_FOUND);
    let again = admin.get(&format!("{path}/delete")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reloading_after_save_or_rotate_repeats_nothing_and_shows_no_secret() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let (created, client_id, first) = create_client_by_form(&mut admin, INVOICE_SYNC).await;
    assert!(created.body.contains("Client saved. Copy the secret now"));
    let path = format!("/oauth2/clients/{client_id}");

    // Reloading the page after Save: the saved client, its secret gone, nothing saved twice.
    let reloaded = admin.get(&format!("{path}?notice=created")).await;
    assert_eq!(reloaded.status, StatusCode::OK);
    assert!(reloaded.body.contains("Client saved."));
    assert!(!reloaded.body.contains("Copy the secret now"));
    assert!(!reloaded.body.contains(&first));
    assert!(!reloaded.body.contains("already been taken"));
    assert!(reloaded.body.contains("Hidden. It was shown once"));
    assert_eq!(server.admin.list_clients().await.unwrap().len(), 1);

    // The secret waits for the session that saved the client, not for whoever has the address.
    let mut other_admin = admin_browser(&server).await;
    let answer = submit(
        &mut admin,
        "/oauth2/clients/new",
        "/oauth2/clients",
        &[
            ("grant_type", "client_credentials"),
            ("name", "Second"),
            ("login", "second"),
            ("scope", "core.invoice.read"),
        ],
    )
    .await;
    let location = answer.location.clone().unwrap();
    assert!(!location.contains("secret"), "{location}");
    let elsewhere = other_admin.get(&location).await;
    assert!(elsewhere.body.contains("Hidden. It was shown once"));
    let mine = follow(&mut admin, &answer).await;
    assert!(mine.body.contains("Copy the secret now"), "{}", mine.body);

    // Reloading the page after a rotation rotates nothing: both secrets keep working.
    let (_, _, second) = rotate_by_form(&mut admin, &client_id).await;
    let reloaded = admin.get(&format!("{path}?notice=rotated")).await;
    assert!(reloaded.body.contains("Secret rotated."));
    assert!(!reloaded.body.contains(&second));
    for secret in [&first, &second] {
        assert_eq!(
            token_status(&server, &client_id, secret, None).await.0,
            StatusCode::OK
        );
    }

    // The first confirmation sent again (the browser's Back and resend) rotates nothing
    // either: it was asked before the rotation, and the page says so.
    let stale = admin
        .post(
            &format!("{path}/rotate_secret"),
            &[
                ("csrf_token".into(), csrf(&reloaded)),
                ("previous_secret_valid_until".into(), "none".into()),
            ],
        )
        .await;
    assert_eq!(
        stale.location.as_deref(),
        Some(format!("{path}/rotate_secret?notice=changed").as_str())
    );
    let again = follow(&mut admin, &stale).await;
    assert!(again.body.contains("nothing was rotated"), "{}", again.body);
    for secret in [&first, &second] {
        assert_eq!(
            token_status(&server, &client_id, secret, None).await.0,
            StatusCode::OK
        );
    }

    // A second rotation inside the grace period says what it stops, and stops it.
    assert!(
        again
            .body
            .contains("Rotate the secret of Invoices sync again?")
    );
    assert!(again.body.contains("is still accepted until"));
    assert!(again.body.contains("Rotating again stops it now"));
    assert!(
        again
            .body
            .contains("Rotate again, stopping the previous secret")
    );
    let (_, _, third) = rotate_by_form(&mut admin, &client_id).await;
    assert_eq!(
        token_status(&server, &client_id, &first, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    for secret in [&second, &third] {
        assert_eq!(
            token_status(&server, &client_id, secret, None).await.0,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn actions_that_stop_an_integration_or_a_person_ask_first() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let (_, client_id, _) = create_client_by_form(&mut admin, INVOICE_SYNC).await;
    let key = legacy_key(&server, "Legacy export").await;
    let ada = server.admin.user("ada").await.unwrap();
    let client = format!("/oauth2/clients/{client_id}");
    let kid = server.admin.list_keys().await.unwrap()[0].kid.clone();
    // Each action's page links to its confirmation, whose form posts to the same address.
    let confirmations = [
        (
            client.clone(),
            format!("{client}/deactivate"),
            "Deactivate Invoices sync?",
            "Deactivate client",
        ),
        (
            client.clone(),
            format!("{client}/rotate_secret"),
            "Rotate the secret of Invoices sync?",
            "Rotate secret",
        ),
        (
            client.clone(),
            format!("{client}/delete"),
            "Delete Invoices sync?",
            "Delete client",
        ),
        (
            "/api_keys".to_string(),
            format!("/api_keys/{}/revoke", key.id),
            "Revoke the API key Legacy export?",
            "Revoke API key",
        ),
        (
            format!("/users/{}", ada.user_id),
            format!("/users/{}/deactivate", ada.user_id),
            "Deactivate User ada?",
            "Deactivate user",
        ),
        (
            "/setup/keys".to_string(),
            format!("/setup/keys/{kid}/retire?now=true"),
            &format!("Retire the key {kid} now?"),
            "Retire now",
        ),
    ];
    for (from, confirm_path, question, button) in &confirmations {
        let page = admin.get(from).await;
        let link = confirm_path.replace('&', "&#38;");
        assert!(
            page.body.contains(&format!("href=\"{link}\"")),
            "{from} links to {confirm_path}: {}",
            page.body
        );
        let confirm = admin.get(confirm_path).await;
        assert_eq!(confirm.status, StatusCode::OK, "{confirm_path}");
        assert!(
            confirm.body.contains(&format!("<h1>{question}</h1>")),
            "{}",
            confirm.body
        );
        let action = confirm_path.split('?').next().unwrap();
        assert!(
            confirm
                .body
                .contains(&format!("method=\"post\" action=\"{action}\""))
        );
        assert!(
            confirm
                .body
                .contains(&format!("class=\"danger\">{button}</button>"))
        );
        assert!(
            confirm.body.contains("class=\"button\" href=\""),
            "a way back"
        );
    }
    // Asking changed nothing.
    assert!(server.admin.list_clients().await.unwrap()[0].active);
    assert!(
        server.admin.list_api_keys().await.unwrap()[0]
            .revoked_at
            .is_none()
    );
    assert!(server.admin.user("ada").await.unwrap().active);
    // Confirmed, each happens.
    let confirm = admin.get(&format!("/api_keys/{}/revoke", key.id)).await;
    assert!(
        confirm.body.contains("Last used: Never."),
        "{}",
        confirm.body
    );
    let revoked = admin
        .post(
            &format!("/api_keys/{}/revoke", key.id),
            &[("csrf_token".into(), csrf(&confirm))],
        )
        .await;
    assert_eq!(
        revoked.location.as_deref(),
        Some("/api_keys?notice=revoked")
    );
    assert!(
        server.admin.list_api_keys().await.unwrap()[0]
            .revoked_at
            .is_some()
    );
    assert_eq!(
        admin
            .get(&format!("/api_keys/{}/revoke", key.id))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "a revoked key has nothing left to confirm"
    );
}

#[tokio::test]
async fn forms_posted_without_their_csrf_token_change_nothing() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let (_, client_id, _) = create_client_by_form(&mut admin, INVOICE_SYNC).await;
    let key = legacy_key(&server, "Legacy").await;
    let user = server.admin.user("ada").await.unwrap();
    let client = format!("/oauth2/clients/{client_id}");
    let posts = [
        "/oauth2/clients".to_string(),
        client.clone(),
        format!("{client}/deactivate"),
        format!("{client}/rotate_secret"),
        format!("{client}/delete"),
        format!("/api_keys/{}/revoke", key.id),
        "/users".to_string(),
        format!("/users/{}/deactivate", user.user_id),
        format!("/users/{}/password", user.user_id),
    ];
    for path in &posts {
        for token in [None, Some("forged-token")] {
            let mut form = vec![
                ("name".to_string(), "Forged".to_string()),
                ("login".to_string(), "forged".to_string()),
                ("grant_type".to_string(), "client_credentials".to_string()),
                ("scope".to_string(), "core.invoice.read".to_string()),
                ("password".to_string(), "a forged password!".to_string()),
            ];
            if let Some(token) = token {
                form.push(("csrf_token".to_string(), token.to_string()));
            }
            let page = admin.post(path, &form).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.body.contains("did not come from this site"));
            assert!(
                page.body.contains("class=\"topbar\""),
                "an administrator's refused form keeps Setup's frame: {}",
                page.body
            );
        }
    }
    let clients = server.admin.list_clients().await.unwrap();
    assert_eq!(clients.len(), 1);
    assert!(clients[0].active);
    assert!(
        server.admin.list_api_keys().await.unwrap()[0]
            .revoked_at
            .is_none()
    );
    assert!(server.admin.user("ada").await.unwrap().active);
    assert_eq!(server.admin.list_users().await.unwrap().len(), 2);
}

#[tokio::test]
async fn bad_input_gets_a_page_never_a_crash() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let page = admin.get("/setup").await;
    let token = csrf(&page);
    let huge = "x".repeat(70 * 1024);
    let too_big = admin
        .post(
            "/oauth2/clients",
            &[("csrf_token".into(), token.clone()), ("name".into(), huge)],
        )
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    for missing in [
        "/oauth2/clients/nope",
        "/oauth2/clients/nope/edit",
        "/oauth2/clients/nope/delete",
        "/oauth2/clients/nope/deactivate",
        "/oauth2/clients/nope/rotate_secret",
        "/api_keys/nope/revoke",
        "/users/nope",
        "/users/nope/deactivate",
        "/setup/keys/nope/retire",
        "/setup/keys/nope/retire?now=true",
        "/setup/keys/nope/remove",
    ] {
        let page = admin.get(missing).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{missing}");
        assert!(page.body.contains("There is no such"));
    }
    for action in [
        "/oauth2/clients/nope",
        "/oauth2/clients/nope/rotate_secret",
        "/oauth2/clients/nope/deactivate",
        "/oauth2/clients/nope/delete",
        "/api_keys/nope/revoke",
        "/users/nope/activate",
    ] {
        let page = admin
            .post(action, &[("csrf_token".into(), token.clone())])
            .await;
        assert_eq!(
            page.status,
            StatusCode::NOT_FOUND,
            "{action}: {}",
            page.body
        );
    }
    let malformed = admin
        .post_raw("/oauth2/clients", &format!("csrf_token={token}&name=%zz"))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.body.contains("The form is malformed"));
    // Lists read nonsense as their defaults; a huge search is cut to its first words.
    let long_word = "x".repeat(300);
    let huge_search = vec![long_word.as_str(); 40].join("+");
    for list in [
        "/oauth2/clients",
        "/users",
        "/api_keys",
        "/setup/transition",
        "/setup",
    ] {
        for query in [
            "page=-1&per_page=99999999999999999999&sort=%3Cscript%3E&dir=up&active=maybe&grant=%00",
            &format!("q={huge_search}"),
            "q=%ff%fe&page=abc",
        ] {
            let page = admin.get(&format!("{list}?{query}")).await;
            assert_eq!(
                page.status,
                StatusCode::OK,
                "{list}?{}",
                &query[..query.len().min(80)]
            );
            assert!(
                !page.body.contains("<script>"),
                "{list}: nothing from the address unescaped"
            );
        }
    }
    let odd = admin.get("/setup?q=%ff").await;
    assert_eq!(
        odd.status,
        StatusCode::OK,
        "a query that is not UTF-8 finds nothing"
    );
    assert!(odd.body.contains("Nothing in Setup matches"));
    let grant = admin
        .get("/oauth2/clients/new?grant_type=%3Cbogus%3E")
        .await;
    assert_eq!(grant.status, StatusCode::OK);
    assert!(
        grant
            .body
            .contains("<option value=\"client_credentials\" selected>")
    );
}

#[tokio::test]
async fn scope_pages_for_browsers_and_the_catalogue_for_programs() {
    let server = server().await;
    let json = server
        .http
        .get(server.url("/oauth2/scopes"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200);
    let catalogue: Value = json.json().await.unwrap();
    assert!(catalogue.as_array().unwrap().len() > 20);
    let plain = reqwest::get(server.url("/oauth2/scopes/core.invoice.read"))
        .await
        .unwrap();
    assert_eq!(
        plain.json::<Value>().await.unwrap()["name"],
        "core.invoice.read"
    );

    let html_request = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.url("/oauth2/scopes"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(
        html_request.status(),
        StatusCode::SEE_OTHER,
        "a stranger's browser signs in first"
    );

    let mut admin = admin_browser(&server).await;
    create_client_by_form(&mut admin, INVOICE_SYNC).await;
    // The test browser sends no Accept; a browser's navigation asks for HTML.
    let page = html_get(&server, &mut admin, "/oauth2/scopes").await;
    assert!(page.contains(
        "<a href=\"/oauth2/scopes/core.invoice.read\"><code>core.invoice.read</code></a>"
    ));
    let scope = html_get(&server, &mut admin, "/oauth2/scopes/core.invoice.read").await;
    assert!(
        scope.contains(
            "<td data-label=\"Method\"><span class=\"method\">GET</span></td><td data-label=\"Path\"><code>/api/invoices</code></td>"
        ),
        "{scope}"
    );
    assert!(
        scope.contains(">Invoices sync</a>"),
        "the clients holding it"
    );
    let user_scope = html_get(&server, &mut admin, "/oauth2/scopes/core.user.read").await;
    assert!(user_scope.contains("No client holds this scope."));
}

/// A GET as a browser's navigation sends it: asking for HTML.
async fn html_get(server: &TestServer, browser: &mut Browser, path: &str) -> String {
    let page = browser
        .get_with_accept(&server.url(path), "text/html,application/xhtml+xml")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    page.body
}

#[tokio::test]
async fn api_keys_are_listed_revoked_and_reported_for_the_transition() {
    let server = server().await;
    let mut keys = Vec::new();
    for name in ["Payroll export", "Old reporting", "Never used"] {
        keys.push(legacy_key(&server, name).await);
    }
    let payroll = keys[0].key.clone().unwrap();
    let used = server
        .http
        .get(server.url("/api/invoices"))
        .header("X-COUPA-API-KEY", &payroll)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(used.status(), 200);
    let store = coupa_server::store::open(&server.database_url)
        .await
        .unwrap();
    let now = coupa_server::domain::time::now_unix();
    store
        .touch_api_key(&keys[1].id, now - 40 * 86_400, "192.0.2.7")
        .await
        .unwrap();

    let mut admin = admin_browser(&server).await;
    let list = admin.get("/api_keys").await;
    assert!(list.body.contains("Payroll export"));
    assert!(list.body.contains("from 127.0.0.1"), "{}", list.body);
    assert!(list.body.contains("Never"));

    let report = admin.get("/setup/transition").await;
    assert_eq!(report.status, StatusCode::OK);
    for expected in [
        "<span class=\"count\">1</span> key used in the last day",
        "<span class=\"count\">1</span> key used in the last 7 days",
        "<span class=\"count\">2</span> idle (no use in 30 days; 1 never used)",
        "<span class=\"count\">0</span> revoked",
        "<span class=\"count\">0</span> active OAuth clients",
        "1 of 3 keys are still in use.",
        "<code>127.0.0.1</code>",
        "Idle (no use in 30 days)",
    ] {
        assert!(
            report.body.contains(expected),
            "{expected}: {}",
            report.body
        );
    }
    assert!(
        !report.body.contains("192.0.2.7"),
        "sources older than 30 days are not listed"
    );

    let revoked = submit(
        &mut admin,
        "/api_keys",
        &format!("/api_keys/{}/revoke", keys[0].id),
        &[],
    )
    .await;
    assert_eq!(
        revoked.location.as_deref(),
        Some("/api_keys?notice=revoked")
    );
    let refused = server
        .http
        .get(server.url("/api/invoices"))
        .header("X-COUPA-API-KEY", &payroll)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    create_client_by_form(&mut admin, INVOICE_SYNC).await;
    let report = admin.get("/setup/transition").await;
    assert!(
        report
            .body
            .contains("<span class=\"count\">1</span> revoked")
    );
    assert!(
        report
            .body
            .contains("<span class=\"count\">1</span> active OAuth client<")
    );

    // What the report shows outlives the process: another server on the same database.
    let replica = spawn_on(&server.database_url, ConfigLayer::default()).await;
    let mut replica_admin = admin_browser(&replica).await;
    let replayed = replica_admin.get("/setup/transition").await;
    assert!(
        replayed.body.contains("<code>127.0.0.1</code>"),
        "{}",
        replayed.body
    );
}

#[tokio::test]
async fn the_last_token_issued_is_recorded_for_every_replica() {
    let server = server().await;
    let (view, credentials) = server.create_client("recorded", "core.invoice.read").await;
    assert!(view.last_token_at.is_none());
    server.access_token(&credentials, None).await;
    let shown = server.admin.client(&credentials.id).await.unwrap();
    assert!(shown.last_token_at.is_some());
    let replica = spawn_on(&server.database_url, ConfigLayer::default()).await;
    let mut seen = None;
    for _ in 0..50 {
        seen = replica
            .admin
            .client(&credentials.id)
            .await
            .unwrap()
            .last_token_at;
        if seen.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen, shown.last_token_at,
        "written to the database in the background"
    );
}

#[tokio::test]
async fn users_are_created_deactivated_and_their_passwords_reset() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let short = submit(
        &mut admin,
        "/users/new",
        "/users",
        &[
            ("login", "grace"),
            ("name", "Grace Hopper"),
            ("email", "grace@example.com"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short.body.contains("Password is too short"),
        "{}",
        short.body
    );
    assert!(
        !short.body.contains("value=\"short\""),
        "a password is never sent back"
    );
    let taken = submit(
        &mut admin,
        "/users/new",
        "/users",
        &[
            ("login", "ADA"),
            ("name", "Another"),
            ("email", "x@example.com"),
            ("password", "long enough password"),
        ],
    )
    .await;
    assert!(taken.body.contains("Login has already been taken"));

    let created = submit(
        &mut admin,
        "/users/new",
        "/users",
        &[
            ("login", "grace"),
            ("name", "Grace Hopper"),
            ("email", "grace@example.com"),
            ("password", "first password!!"),
            ("admin", "1"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let user_path = created
        .location
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let grace = server.admin.user("grace").await.unwrap();
    assert!(grace.admin && grace.active);
    let list = admin.get("/users").await;
    assert!(list.body.contains("Grace Hopper"));
    sign_in(&server, "grace", "first password!!").await;

    let reset = submit(
        &mut admin,
        &user_path,
        &format!("{user_path}/password"),
        &[("password", "second password!!")],
    )
    .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    let mut old = Browser::new(&server.url);
    let login = old.get("/oauth2/login").await;
    let refused = old
        .post(
            "/oauth2/login",
            &[
                ("csrf_token".into(), csrf(&login)),
                ("login".into(), "grace".into()),
                ("password".into(), "first password!!".into()),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    sign_in(&server, "grace", "second password!!").await;
    let too_short = submit(
        &mut admin,
        &user_path,
        &format!("{user_path}/password"),
        &[("password", "x")],
    )
    .await;
    assert_eq!(too_short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_short.body.contains("id=\"password-error\""));

    let deactivated = submit(
        &mut admin,
        &user_path,
        &format!("{user_path}/deactivate"),
        &[],
    )
    .await;
    assert_eq!(deactivated.status, StatusCode::SEE_OTHER);
    assert!(!server.admin.user("grace").await.unwrap().active);

    let root = server.admin.user("root").await.unwrap();
    let own = format!("/users/{}", root.user_id);
    let page = admin.get(&own).await;
    assert!(page.body.contains("You cannot deactivate yourself."));
    let myself = submit(&mut admin, &own, &format!("{own}/deactivate"), &[]).await;
    assert_eq!(myself.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(server.admin.user("root").await.unwrap().active);
}

#[tokio::test]
async fn setup_sessions_expire() {
    let server = server_with(ConfigLayer {
        session_lifetime: Some("1s".into()),
        ..ConfigLayer::default()
    })
    .await;
    let mut admin = admin_browser(&server).await;
    assert_eq!(admin.get("/setup").await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let expired = admin.get("/oauth2/clients").await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert_eq!(
        expired.location.as_deref(),
        Some("/oauth2/login?return_to=%2Foauth2%2Fclients")
    );
}

/// The `<title>` of a page.
fn title_of(html: &str) -> String {
    html.split("<title>")
        .nth(1)
        .and_then(|rest| rest.split("</title>").next())
        .unwrap_or_else(|| panic!("no title in {html}"))
        .to_string()
}

#[tokio::test]
async fn no_page_is_a_dead_end() {
    let server = server().await;
    let instance = server.url.trim_start_matches("http://").to_string();

    // `/`: a landing page for browsers, Coupa's 404 for programs.
    let mut stranger = Browser::new(&server.url);
    let landing = stranger
        .get_with_accept("/", "text/html,application/xhtml+xml,*/*;q=0.8")
        .await;
    assert_eq!(landing.status, StatusCode::OK);
    for link in [
        "/setup",
        "/oauth2/scopes",
        "/.well-known/openid-configuration",
        "/api_docs",
        "/oauth2/login",
    ] {
        assert!(landing.body.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert_eq!(title_of(&landing.body), format!("coupa-oauth · {instance}"));
    let http = reqwest::Client::new();
    for (accept, content_type) in [("application/json", "json"), ("application/xml", "xml")] {
        let response = http
            .get(server.url("/"))
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let header = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(header.contains(content_type), "{header}");
    }
    assert_eq!(stranger.get("/favicon.ico").await.status, StatusCode::OK);

    // Signing out: GET is a page, and the page after leads back in.
    let nobody = stranger.get("/oauth2/logout").await;
    assert_eq!(nobody.status, StatusCode::OK);
    assert!(nobody.body.contains("Nobody is signed in"));
    assert!(
        nobody
            .body
            .contains("href=\"/oauth2/login?return_to=/setup\"")
    );
    let mut admin = admin_browser(&server).await;
    let ask = admin.get("/oauth2/logout").await;
    assert!(ask.body.contains("<h1>Sign out?</h1>"));
    let answer = admin
        .post("/oauth2/logout", &[("csrf_token".into(), csrf(&ask))])
        .await;
    assert_eq!(
        answer.location.as_deref(),
        Some("/oauth2/logout?signed_out=1"),
        "post/redirect/get"
    );
    let out = follow(&mut admin, &answer).await;
    assert!(out.body.contains("<h1>Signed out</h1>"));
    assert!(out.body.contains("Sign in again"));

    // Signing in at the sign-in page itself leads administrators on to Setup.
    let mut direct = Browser::new(&server.url);
    let login = direct.get("/oauth2/login").await;
    let signed_in = direct
        .post(
            "/oauth2/login",
            &[
                ("csrf_token".into(), csrf(&login)),
                ("login".into(), "root".into()),
                ("password".into(), ADMIN_PASSWORD.into()),
            ],
        )
        .await;
    let landed = follow(&mut direct, &signed_in).await;
    assert_eq!(landed.location.as_deref(), Some("/setup"));

    // A signed-in user who is not an administrator can sign out from Setup's refusal.
    let mut ada = sign_in(&server, "ada", ADMIN_PASSWORD).await;
    let refused = ada.get("/setup").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Setup is for administrators"));
    assert!(refused.body.contains("action=\"/oauth2/logout\""));
    let answer = ada
        .post("/oauth2/logout", &[("csrf_token".into(), csrf(&refused))])
        .await;
    let out = follow(&mut ada, &answer).await;
    assert!(out.body.contains("<h1>Signed out</h1>"));
    assert_eq!(ada.get("/setup").await.status, StatusCode::SEE_OTHER);

    // Setup's error pages keep the top bar and link what they mention; titles name the
    // page and the instance.
    let mut admin = admin_browser(&server).await;
    let missing = admin.get("/oauth2/clients/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("class=\"topbar\""));
    assert!(missing.body.contains("There is no such client"));
    assert!(
        missing
            .body
            .contains("<a href=\"/oauth2/clients\">OAuth2/OpenID Connect Clients</a>")
    );
    assert_eq!(
        title_of(&missing.body),
        format!("Not found · Setup · {instance}")
    );
    assert_eq!(
        title_of(&admin.get("/users").await.body),
        format!("Users · Setup · {instance}")
    );
    assert_eq!(
        title_of(&admin.get("/setup").await.body),
        format!("Setup · {instance}")
    );
    assert_eq!(
        title_of(&Browser::new(&server.url).get("/oauth2/login").await.body),
        format!("Sign in · {instance}")
    );
}

#[tokio::test]
async fn a_server_without_administrators_says_how_to_create_the_first() {
    let server = spawn_server_with(Backend::Sqlite, ConfigLayer::default())
        .await
        .unwrap();
    let mut browser = Browser::new(&server.url);
    let page = browser.get("/oauth2/login").await;
    assert!(
        page.body.contains("No administrator exists yet"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("coupa admin users create --url {}", server.url)),
        "{}",
        page.body
    );
    server
        .admin
        .create_user(&CreateUser {
            login: "first".into(),
            email: "first@example.com".into(),
            name: "First".into(),
            password: ADMIN_PASSWORD.into(),
            admin: true,
        })
        .await
        .unwrap();
    let page = browser.get("/oauth2/login").await;
    assert!(!page.body.contains("No administrator exists yet"));
}

/// The rows of a list page's table body.
fn table_rows(html: &str) -> Vec<&str> {
    html.split("<tbody>")
        .nth(1)
        .and_then(|body| body.split("</tbody>").next())
        .map(|body| body.split("<tr").skip(1).collect())
        .unwrap_or_default()
}

/// The text of the list summary ("Showing 1–50 of 10,000.").
fn list_summary(html: &str) -> String {
    html.split("class=\"list-summary\" role=\"status\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no list summary in {html}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_list_searches_sorts_and_pages_ten_thousand_clients() {
    use coupa_server::domain::client::ClientRecord;
    const CLIENTS: i64 = 10_000;
    let database_url = crate::support::fresh_sqlite_url();
    let store = coupa_server::store::open(&database_url).await.unwrap();
    let mut ids = Vec::new();
    for index in 0..CLIENTS {
        let mut input =
            crate::support::client_input(&format!("bulk-{index:05}"), "core.invoice.read");
        input.name = format!("Bulk client {index:05}");
        input.contact_email = format!("team{index}@example.com");
        let record = ClientRecord::create(input, 1_000 + index, Default::default())
            .unwrap()
            .0;
        store.insert_client(&record).await.unwrap();
        ids.push(record.client_id);
    }
    drop(store);
    let server = spawn_on(&database_url, ConfigLayer::default()).await;
    add_users(&server).await;
    let mut admin = admin_browser(&server).await;

    let mut slowest = std::time::Duration::ZERO;
    let mut timed = async |path: &str| {
        let started = std::time::Instant::now();
        let page = admin.get(path).await;
        let took = started.elapsed();
        slowest = slowest.max(took);
        eprintln!("{took:>10.1?}  {path}");
        assert_eq!(page.status, StatusCode::OK, "{path}");
        page
    };
    let first = timed("/oauth2/clients").await;
    assert_eq!(list_summary(&first.body), "Showing 1–50 of 10,000.");
    let rows = table_rows(&first.body);
    assert_eq!(rows.len(), 50);
    assert!(
        rows[0].contains("Bulk client 00000") && rows[0].contains(&ids[0]),
        "an Identifier column"
    );
    assert!(
        first.body.contains(
            "aria-sort=\"ascending\"><a href=\"/oauth2/clients?sort=name&#38;dir=desc\">Name ▲</a>"
        ),
        "{}",
        first.body
    );
    assert!(first.body.contains("Page 1 of 200"));

    let last = timed("/oauth2/clients?sort=name&page=200").await;
    assert_eq!(list_summary(&last.body), "Showing 9,951–10,000 of 10,000.");
    assert!(table_rows(&last.body)[49].contains("Bulk client 09999"));
    let beyond = timed("/oauth2/clients?page=999999").await;
    assert!(
        beyond.body.contains("Page 200 of 200"),
        "past the end is the last page"
    );

    let descending = timed("/oauth2/clients?sort=name&dir=desc").await;
    assert!(table_rows(&descending.body)[0].contains("Bulk client 09999"));
    let by_id = timed("/oauth2/clients?sort=client_id").await;
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    assert!(table_rows(&by_id.body)[0].contains(&sorted_ids[0]));

    // An identifier from a log finds its client in one search, as do a login and an email.
    let found = timed(&format!("/oauth2/clients?q={}", ids[4321])).await;
    assert_eq!(list_summary(&found.body), "1 in all.");
    assert!(table_rows(&found.body)[0].contains("Bulk client 04321"));
    let by_email = timed("/oauth2/clients?q=TEAM777%40example").await;
    assert_eq!(list_summary(&by_email.body), "1 in all.");
    let words = timed("/oauth2/clients?q=bulk+0999").await;
    let expected = (0..CLIENTS)
        .filter(|index| {
            let id = ids[usize::try_from(*index).unwrap()].to_lowercase();
            format!("{index:05}").contains("0999")
                || format!("{index}@").contains("0999")
                || id.contains("0999")
        })
        .count();
    assert_eq!(list_summary(&words.body), format!("{expected} in all."));

    // Filters, kept by the sort and page links.
    let none = timed("/oauth2/clients?grant=authorization_code").await;
    assert_eq!(list_summary(&none.body), "Nothing matches.");
    server
        .admin
        .update_client(
            &ids[17],
            &coupa_proto::admin::UpdateClient {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let deactivated = timed("/oauth2/clients?active=no&grant=client_credentials").await;
    assert_eq!(list_summary(&deactivated.body), "1 in all.");
    assert!(deactivated.body.contains(
        "href=\"/oauth2/clients?grant=client_credentials&#38;active=no&#38;sort=login\""
    ));
    let active = timed("/oauth2/clients?active=yes&page=2").await;
    assert_eq!(list_summary(&active.body), "Showing 51–100 of 9,999.");
    assert!(
        active
            .body
            .contains("href=\"/oauth2/clients?active=yes&#38;sort=name&#38;page=3\"")
    );

    // Find it fast finds the client too.
    let home = timed(&format!("/setup?q={}", ids[4321])).await;
    assert!(
        home.body
            .contains(&format!("href=\"/oauth2/clients/{}\"", ids[4321])),
        "{}",
        home.body
    );
    assert!(
        slowest < std::time::Duration::from_millis(500),
        "the slowest list page took {slowest:?}"
    );
    eprintln!("slowest list page over {CLIENTS} clients: {slowest:?}");

    // The same through the page's own controls, in a real browser.
    if chromium().is_none() {
        return;
    }
    let output = crate::support::run_node(
        "setup-lists.mjs",
        &[&server.url, "root", ADMIN_PASSWORD, &ids[4321]],
    )
    .await
    .unwrap_or_else(|error| panic!("the browser run failed: {error}"));
    let seen: Value = serde_json::from_str(output.trim()).unwrap();
    eprintln!("in the browser: {}", seen["timings"]);
    assert_eq!(seen["first"], "Showing 1–50 of 10,000.");
    assert_eq!(seen["search"], "1 in all.");
    assert_eq!(seen["found"], true);
    assert_eq!(seen["descending_first"], "Bulk client 09999");
    assert_eq!(seen["last_page"], "Showing 9,951–10,000 of 10,000.");
    assert_eq!(seen["previous_page"], "Showing 9,901–9,950 of 10,000.");
}

#[tokio::test]
async fn users_api_keys_and_scope_holders_are_searched_and_paged() {
    let server = server().await;
    for index in 0..60 {
        server
            .admin
            .create_user(&CreateUser {
                login: format!("person{index:02}"),
                email: format!("p{index}@example.com"),
                name: format!("Person {index:02}"),
                password: ADMIN_PASSWORD.into(),
                admin: false,
            })
            .await
            .unwrap();
    }
    let mut admin = admin_browser(&server).await;
    let users = admin.get("/users").await;
    assert_eq!(list_summary(&users.body), "Showing 1–50 of 62.");
    let second = admin.get("/users?page=2").await;
    assert_eq!(table_rows(&second.body).len(), 12);
    let found = admin.get("/users?q=person07").await;
    assert_eq!(list_summary(&found.body), "1 in all.");
    let by_email = admin.get("/users?q=p42%40").await;
    assert!(table_rows(&by_email.body)[0].contains("person42"));
    let last = admin.get("/users?q=person&sort=login&dir=desc").await;
    assert!(table_rows(&last.body)[0].contains("person59"));
    let admins_first = admin.get("/users?sort=admin&dir=desc").await;
    assert!(table_rows(&admins_first.body)[0].contains(">root<"));

    for name in ["Legacy export", "Legacy import", "Nightly"] {
        legacy_key(&server, name).await;
    }
    let keys = server.admin.list_api_keys().await.unwrap();
    let nightly = keys.iter().find(|key| key.name == "Nightly").unwrap();
    server.admin.revoke_api_key(&nightly.id).await.unwrap();
    let legacy = admin.get("/api_keys?q=legacy").await;
    assert_eq!(list_summary(&legacy.body), "2 in all.");
    let revoked = admin.get("/api_keys?active=no").await;
    assert_eq!(list_summary(&revoked.body), "1 in all.");
    assert!(table_rows(&revoked.body)[0].contains("Nightly"));
    let report = admin.get("/setup/transition?q=import").await;
    assert_eq!(list_summary(&report.body), "1 in all.");

    for index in 0..3 {
        server
            .create_client(&format!("holder-{index}"), "core.supplier.read")
            .await;
    }
    let scope = admin
        .get_with_accept("/oauth2/scopes/core.supplier.read?q=holder-1", "text/html")
        .await;
    assert_eq!(list_summary(&scope.body), "1 in all.");
    let scopes = admin.get_with_accept("/oauth2/scopes", "text/html").await;
    assert!(scopes.body.contains("core.supplier.read"));
}

#[tokio::test]
async fn authorization_code_clients_are_created_as_coupa_describes() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let form = admin
        .get("/oauth2/clients/new?grant_type=authorization_code")
        .await;
    // Each scope says what it is for and opens its API permissions in place.
    assert!(form.body.contains("<span class=\"scope-description\">"));
    assert!(
        form.body
            .contains("<details class=\"permissions\"><summary>API permissions (")
    );
    assert!(
        form.body
            .contains("<input type=\"search\" id=\"scope-filter\"")
    );

    let refused = submit(
        &mut admin,
        "/oauth2/clients/new",
        "/oauth2/clients",
        &[
            ("grant_type", "authorization_code"),
            ("name", "Expense App"),
            ("login", "expense-app"),
            ("scope", "openid"),
            ("scope", "core.expense.read"),
            (
                "redirect_uris",
                "ftp://bad.example/cb\nftp://bad.example/cb\nhttp://app.example.com/cb",
            ),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Scopes must include offline_access for the Authorization code grant type"),
        "{}",
        refused.body
    );
    assert_eq!(
        refused
            .body
            .matches("“ftp://bad.example/cb” is not an absolute")
            .count(),
        2,
        "once by the field, once in the summary"
    );
    assert!(
        refused
            .body
            .contains("“http://app.example.com/cb” uses http://")
    );

    let answer = submit(
        &mut admin,
        "/oauth2/clients/new",
        "/oauth2/clients",
        &[
            ("grant_type", "authorization_code"),
            ("name", "Expense App"),
            ("login", "expense-app"),
            ("scope", "openid"),
            ("scope", "offline_access"),
            ("scope", "core.expense.read"),
            (
                "redirect_uris",
                "https://app.example.com/cb\ncom.example.app:/cb",
            ),
            ("pkce", "1"),
        ],
    )
    .await;
    let saved = follow(&mut admin, &answer).await;
    let client_id = text_of(&saved.body, "client-id");
    let issuer = &server.url;
    assert_eq!(
        text_of(&saved.body, "authorize-url"),
        format!("{issuer}/oauth2/authorize")
    );
    assert_eq!(
        text_of(&saved.body, "token-url"),
        format!("{issuer}/oauth2/token")
    );
    assert_eq!(
        text_of(&saved.body, "discovery-url"),
        format!("{issuer}/.well-known/openid-configuration")
    );
    let request = saved
        .body
        .split("id=\"authorization-request\"><code>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .replace("&#38;", "&");
    assert!(
        request.starts_with(&format!(
            "{issuer}/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&scope=openid+offline_access+core.expense.read&state=STATE&code_challenge=CODE_CHALLENGE&code_challenge_method=S256"
        )),
        "{request}"
    );
    assert!(
        !saved.body.to_lowercase().contains("secret"),
        "a public client's page does not talk about a secret: {}",
        saved.body
    );

    // "Select all scopes" on a client credentials client takes the API scopes only.
    let answer = submit(
        &mut admin,
        "/oauth2/clients/new",
        "/oauth2/clients",
        &[
            ("grant_type", "client_credentials"),
            ("name", "Everything"),
            ("login", "everything"),
            ("all_scopes", "1"),
        ],
    )
    .await;
    let everything = follow(&mut admin, &answer).await;
    let scopes = text_of(&everything.body, "oidc-scopes");
    assert!(scopes.contains("core.invoice.read"));
    assert!(
        !scopes
            .split(' ')
            .any(|scope| scope == "openid" || scope == "offline_access"),
        "{scopes}"
    );
    // A deactivated client's page offers no token call that would fail.
    let id = text_of(&everything.body, "client-id");
    assert!(everything.body.contains("Get a token"));
    let confirm = admin.get(&format!("/oauth2/clients/{id}/deactivate")).await;
    admin
        .post(
            &format!("/oauth2/clients/{id}/deactivate"),
            &[("csrf_token".into(), csrf(&confirm))],
        )
        .await;
    let deactivated = admin.get(&format!("/oauth2/clients/{id}")).await;
    assert!(!deactivated.body.contains("Get a token"));
}

#[tokio::test]
async fn a_clients_page_lists_the_authorizations_in_force_and_revokes_them() {
    let server = crate::support::spawn_server().await;
    let (client_id, secret, _ada, tokens) = crate::interactive::ada_signed_in(&server).await;
    server
        .admin
        .create_user(&CreateUser {
            login: "root".into(),
            email: "root@example.com".into(),
            name: "User root".into(),
            password: ADMIN_PASSWORD.into(),
            admin: true,
        })
        .await
        .unwrap();
    let mut admin = admin_browser(&server).await;
    let path = format!("/oauth2/clients/{client_id}");
    let page = admin.get(&path).await;
    assert!(page.body.contains("Sessions and authorizations"));
    let rows = table_rows(&page.body);
    assert_eq!(rows.len(), 1, "{}", page.body);
    assert!(rows[0].contains("Ada Lovelace (ada)"));
    assert!(rows[0].contains("offline_access"));
    let revoke = rows[0]
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert!(revoke.starts_with(&format!("{path}/grants/")), "{revoke}");
    let confirm = admin.get(&revoke).await;
    assert!(
        confirm.body.contains("<h1>Revoke ada")
            && confirm.body.contains("authorization of Expense App?</h1>"),
        "{}",
        confirm.body
    );
    let done = admin
        .post(&revoke, &[("csrf_token".into(), csrf(&confirm))])
        .await;
    assert_eq!(
        done.location.as_deref(),
        Some(format!("{path}?notice=grant_revoked").as_str())
    );
    let after = follow(&mut admin, &done).await;
    assert!(
        after
            .body
            .contains("No user has an authorization of this client in force.")
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) =
        crate::interactive::refresh_tokens(&server, refresh, &client_id, &secret, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(
        admin.get(&revoke).await.status,
        StatusCode::NOT_FOUND,
        "nothing left to revoke"
    );
    // A client credentials client has no such section.
    let (machine, _) = server.create_client("machine", "core.invoice.read").await;
    let machine_page = admin
        .get(&format!("/oauth2/clients/{}", machine.client_id))
        .await;
    assert!(!machine_page.body.contains("Sessions and authorizations"));
}

#[tokio::test]
async fn users_are_edited_and_forms_say_what_they_limit() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let ada = server.admin.user("ada").await.unwrap();
    let path = format!("/users/{}", ada.user_id);
    let page = admin.get(&path).await;
    // One date format across pages.
    assert!(page.body.contains("<dt>Created</dt><dd>20") && page.body.contains(" UTC</dd>"));
    let refused = submit(
        &mut admin,
        &path,
        &path,
        &[("name", ""), ("email", "not an email")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let summary = refused
        .body
        .split("This could not be saved")
        .nth(1)
        .unwrap()
        .split("</ul>")
        .next()
        .unwrap()
        .to_string();
    let name_at = summary
        .find("Name can")
        .unwrap_or_else(|| panic!("{summary}"));
    let email_at = summary.find("Email is").unwrap();
    assert!(
        name_at < email_at,
        "the summary follows the form: {summary}"
    );
    assert_eq!(
        input_value(&refused.body, "email"),
        "not an email",
        "what was typed stays"
    );

    let saved = submit(
        &mut admin,
        &path,
        &path,
        &[
            ("name", "Ada King"),
            ("email", "ada.king@example.com"),
            ("admin", "1"),
        ],
    )
    .await;
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("{path}?notice=updated").as_str())
    );
    let ada = server.admin.user("ada").await.unwrap();
    assert_eq!(
        (ada.name.as_str(), ada.email.as_str(), ada.admin),
        ("Ada King", "ada.king@example.com", true)
    );

    // Nobody removes their own administrator flag.
    let root = server.admin.user("root").await.unwrap();
    let own = format!("/users/{}", root.user_id);
    let myself = submit(
        &mut admin,
        &own,
        &own,
        &[("name", "Root"), ("email", "root@example.com")],
    )
    .await;
    assert_eq!(myself.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        myself
            .body
            .contains("cannot remove your own administrator flag")
    );
    assert!(server.admin.user("root").await.unwrap().admin);

    // Fields the server limits say so.
    let form = admin.get("/oauth2/clients/new").await;
    assert!(
        form.body.contains(
            "id=\"name\" name=\"name\" value=\"\" autocomplete=\"off\" maxlength=\"255\""
        ),
        "{}",
        form.body
    );
    assert!(form.body.contains("maxlength=\"2000\""), "contact info");
    let new_user = admin.get("/users/new").await;
    assert!(new_user.body.contains("maxlength=\"1024\""), "password");

    // "Client deleted" names the client.
    let (_, client_id, _) = create_client_by_form(&mut admin, INVOICE_SYNC).await;
    let delete = format!("/oauth2/clients/{client_id}/delete");
    let deleted = submit(&mut admin, &delete, &delete, &[]).await;
    let list = follow(&mut admin, &deleted).await;
    assert!(
        list.body
            .contains("Client “Invoices sync” (invoice-sync) deleted."),
        "{}",
        list.body
    );
    let reloaded = admin.get("/oauth2/clients?notice=deleted").await;
    assert!(reloaded.body.contains("Client deleted."));
}

#[tokio::test]
async fn the_transition_report_counts_calls_refused_with_revoked_keys() {
    let server = server().await;
    let key = legacy_key(&server, "Payroll export").await;
    let secret = key.key.clone().unwrap();
    let call = async || {
        server
            .http
            .get(server.url("/api/invoices"))
            .header("X-COUPA-API-KEY", &secret)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(call().await, StatusCode::OK);
    server.admin.revoke_api_key(&key.id).await.unwrap();
    for _ in 0..3 {
        assert_eq!(call().await, StatusCode::UNAUTHORIZED);
    }
    let mut admin = admin_browser(&server).await;
    let report = admin.get("/setup/transition").await;
    assert!(
        report.body.contains("3 calls refused since, the last"),
        "{}",
        report.body
    );
    assert!(
        report
            .body
            .contains("from 127.0.0.1 (an integration still sends it)")
    );
    assert!(
        report.body.contains(
            "<span class=\"count\">3</span> calls refused with revoked keys (1 integration broke)"
        ),
        "{}",
        report.body
    );
    // The first refusal is written at once; the others when the next write is due (counted
    // in memory meanwhile, and shown from there).
    let store = coupa_server::store::open(&server.database_url)
        .await
        .unwrap();
    let stored = store.api_keys().await.unwrap();
    assert_eq!(stored[0].refused_calls, 1);
}

#[tokio::test]
async fn signing_out_from_setup_ends_the_session() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let signed_out = submit(&mut admin, "/setup", "/oauth2/logout", &[]).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(admin.get("/setup").await.status, StatusCode::SEE_OTHER);
}

/// Where the browser test's application waits for its users: nothing listens there, the
/// browser's request is enough.
const LOOPBACK_REDIRECT: &str = "http://127.0.0.1:9/callback";

/// Chromium for the browser test: Debian's, as `.ci/run` installs it.
fn chromium() -> Option<String> {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if std::path::Path::new(&path).exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("Chromium is required in CI at {path} (apt-get install chromium)");
    }
    eprintln!(
        "\n!!! SKIPPING the browser test: no Chromium at {path} (apt-get install chromium)\n"
    );
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_pages_in_a_real_browser() {
    if chromium().is_none() {
        return;
    }
    let server = server().await;
    let key = legacy_key(&server, "Payroll export").await;
    // The OAuth pages a user meets: a consent page (and its Deny), the device pages.
    let expense_app = server
        .admin
        .create_client(&CreateClient {
            name: "Expense App".into(),
            login: "expense-app".into(),
            grant_type: "authorization_code".into(),
            scope: "openid offline_access core.invoice.read".into(),
            redirect_uris: vec![LOOPBACK_REDIRECT.into()],
            ..CreateClient::default()
        })
        .await
        .unwrap();
    let authorize_path = format!(
        "/oauth2/authorize?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &expense_app.client_id)
            .append_pair("redirect_uri", LOOPBACK_REDIRECT)
            .append_pair("scope", "openid core.invoice.read")
            .append_pair("state", "s-1")
            .finish()
    );
    let scanner = crate::interactive::public_device_client(&server, "core.invoice.read").await;
    let started: Value = server
        .http
        .post(server.url("/oauth2/device_authorizations"))
        .form(&[("client_id", scanner.client_id.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut args = vec![
        server.url.clone(),
        "root".into(),
        ADMIN_PASSWORD.into(),
        key.key.unwrap(),
        authorize_path,
        started["user_code"].as_str().unwrap().to_string(),
    ];
    if let Some(dir) = std::env::var_os("SETUP_SCREENSHOTS") {
        args.push(dir.to_string_lossy().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = crate::support::run_node("setup-ui.mjs", &args)
        .await
        .unwrap_or_else(|error| panic!("the browser run failed: {error}"));
    let seen: Value = serde_json::from_str(output.trim()).unwrap();
    assert_eq!(seen["find_it_fast"], 3);
    assert_eq!(
        seen["accessibility_checked"], 26,
        "every page passed axe-core's WCAG 2.1 A and AA rules"
    );
    assert_eq!(
        seen["widths_checked"], 54,
        "18 pages at 390, 768 and 1280 px, none wider than the window"
    );
    assert_eq!(
        seen["keyboard_client"], "core.supplier.read",
        "a client created with the keyboard alone"
    );
    assert_eq!(
        seen["buttons_without_scripts"], 0,
        "no Show or Copy button without scripts"
    );
    assert_eq!(seen["consent_denied"], "access_denied");
    assert_eq!(seen["fault_rows"], 1, "a fault switched on in the browser");
    assert_eq!(seen["device_connected"], true);
    let client_id = seen["client_id"].as_str().unwrap();
    assert!(
        server.admin.client(client_id).await.is_err(),
        "deleted at the end"
    );
    assert!(
        server.admin.list_api_keys().await.unwrap()[0]
            .revoked_at
            .is_some()
    );
    let grace = server.admin.user("grace").await.unwrap();
    assert_eq!(grace.name, "Grace Hopper");
    assert!(
        server
            .admin
            .list_clients()
            .await
            .unwrap()
            .iter()
            .all(|client| client.login != "forged")
    );
}

#[tokio::test]
async fn signing_keys_are_rotated_and_retired_from_setup() {
    let server = server().await;
    let mut browser = admin_browser(&server).await;
    let page = browser.get("/setup/keys").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let keys = server.admin.list_keys().await.unwrap();
    for key in &keys {
        assert!(page.body.contains(&key.kid), "{} not listed", key.kid);
    }
    assert!(page.body.contains("max-age") || page.body.contains("5 minutes"));

    let rotated = submit(
        &mut browser,
        "/setup/keys",
        "/setup/keys/rotate",
        &[("alg", "ES256")],
    )
    .await;
    assert_eq!(rotated.status, StatusCode::SEE_OTHER);
    assert_eq!(
        rotated.location.as_deref(),
        Some("/setup/keys?notice=rotated")
    );
    let shown = browser.get("/setup/keys?notice=rotated").await;
    assert!(shown.body.contains("New key published"), "{}", shown.body);
    assert!(shown.body.contains(">next<"), "{}", shown.body);

    let refused = submit(
        &mut browser,
        "/setup/keys",
        "/setup/keys/rotate",
        &[("alg", "ES256")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("already under way"),
        "{}",
        refused.body
    );

    let active = keys.iter().find(|key| key.alg == "ES256").unwrap();
    let retired = submit(
        &mut browser,
        "/setup/keys",
        &format!("/setup/keys/{}/retire", active.kid),
        &[("now", "true")],
    )
    .await;
    assert_eq!(
        retired.location.as_deref(),
        Some("/setup/keys?notice=retired-now")
    );
    let after = server.admin.list_keys().await.unwrap();
    let old = after.iter().find(|key| key.kid == active.kid).unwrap();
    assert_eq!(old.state, "expired");

    // Both changes are in the audit trail under the administrator's name, and on its page.
    let trail = server
        .admin
        .audit(&coupa_proto::admin::AuditFilters {
            kind: Some("signing_key".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let who: Vec<(&str, &str, &str)> = trail
        .entries
        .iter()
        .map(|entry| {
            (
                entry.kind.as_str(),
                entry.actor.as_str(),
                entry.address.as_str(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            ("signing_key.retired", "user:root", "127.0.0.1"),
            ("signing_key.rotated", "user:root", "127.0.0.1")
        ]
    );
    let page = browser.get("/setup/audit?kind=signing_key").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("signing_key.retired"), "{}", page.body);
    assert!(page.body.contains("Entries 1–2 of 2"), "{}", page.body);
    for bad in ["/setup/audit?limit=lots", "/setup/audit?since=someday"] {
        let refused = browser.get(bad).await;
        assert!(
            refused.status == StatusCode::BAD_REQUEST
                || refused.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            refused.status
        );
        assert!(refused.body.contains("<html"), "a page, not bare text");
    }
}

#[tokio::test]
async fn faults_are_switched_on_after_a_confirmation_and_off_from_setup() {
    let server = server().await;
    let mut admin = admin_browser(&server).await;
    let (_, client) = server
        .create_client("fault-target", "core.invoice.read")
        .await;
    let token = server.access_token(&client, None).await;
    let empty = html_get(&server, &mut admin, "/setup/faults").await;
    assert!(empty.contains("No fault is on"), "{empty}");
    assert!(
        empty.contains("api_connection_dropped"),
        "every kind is offered"
    );

    // Mistakes come back by their fields, with what was typed.
    let refused = submit(
        &mut admin,
        "/setup/faults",
        "/setup/faults",
        &[("kind", "api_slow"), ("requests", "many"), ("delay", "")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("error-summary"), "{}", refused.body);
    assert!(
        refused.body.contains("href=\"#requests\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"many\""), "{}", refused.body);

    // A valid fault asks first; nothing is on until confirmed.
    let fields = [
        ("kind", "api_unavailable"),
        ("client", client.id.as_str()),
        ("requests", "2"),
    ];
    let confirm = submit(&mut admin, "/setup/faults", "/setup/faults", &fields).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm.body.contains(
            "Switch on api_unavailable for the client Client fault-target (fault-target)?"
        ),
        "{}",
        confirm.body
    );
    assert!(
        confirm.body.contains("It lasts 2 request(s)"),
        "{}",
        confirm.body
    );
    assert_eq!(
        server.list_invoices(&token).await.status(),
        200,
        "not on yet"
    );
    let mut confirmed = hidden_fields(&confirm.body);
    assert!(
        confirmed
            .iter()
            .any(|(name, value)| name == "confirmed" && value == "yes")
    );
    confirmed.retain(|(name, _)| name != "csrf_token");
    confirmed.insert(0, ("csrf_token".into(), csrf(&confirm)));
    let added = admin.post("/setup/faults", &confirmed).await;
    let listed = follow(&mut admin, &added).await;
    assert!(listed.body.contains("Fault switched on"), "{}", listed.body);
    assert!(listed.body.contains("/api answers 503"), "{}", listed.body);
    assert!(listed.body.contains("Client fault-target (fault-target)"));
    assert_eq!(server.list_invoices(&token).await.status(), 503);

    // Switched off from the list; the trail names the administrator.
    let id = server.admin.list_faults().await.unwrap()[0].id.clone();
    let removed = submit(
        &mut admin,
        "/setup/faults",
        &format!("/setup/faults/{id}/remove"),
        &[],
    )
    .await;
    let after = follow(&mut admin, &removed).await;
    assert!(after.body.contains("Fault switched off"), "{}", after.body);
    assert_eq!(server.list_invoices(&token).await.status(), 200);
    let trail = server
        .admin
        .audit(&coupa_proto::admin::AuditFilters {
            kind: Some("fault".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(trail.entries.len(), 2);
    assert!(trail.entries.iter().all(|entry| entry.actor == "user:root"));

    // Switch every fault off.
    server
        .admin
        .add_fault(&coupa_proto::admin::CreateFault {
            kind: "scope_change".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let cleared = submit(&mut admin, "/setup/faults", "/setup/faults/clear", &[]).await;
    let after = follow(&mut admin, &cleared).await;
    assert!(
        after.body.contains("Every fault switched off"),
        "{}",
        after.body
    );
    assert!(server.admin.list_faults().await.unwrap().is_empty());
}
