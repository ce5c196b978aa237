//! Interactive grants through the real HTML pages: sign-in, consent, codes with PKCE,
//! refresh-token rotation, ID tokens, userinfo, revocation and introspection.

use std::collections::HashMap;

use coupa_proto::admin::{ClientView, CreateClient, CreateUser};
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::Value;

use crate::support::{Backend, Browser, TestServer, hidden_fields, spawn_server_with, unescape};

pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT: &str = "https://app.example/callback";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(crate) fn query_of(url: &str) -> HashMap<String, String> {
    let query = url
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

pub async fn user_and_client(server: &TestServer, pkce: bool) -> (String, Option<String>) {
    server
        .admin
        .create_user(&CreateUser {
            login: "ada".into(),
            email: "ada@example.com".into(),
            name: "Ada Lovelace".into(),
            password: PASSWORD.into(),
            admin: false,
        })
        .await
        .unwrap();
    let client = server
        .admin
        .create_client(&CreateClient {
            name: "Expense App".into(),
            login: "expense-app".into(),
            grant_type: "authorization_code".into(),
            scope: "openid profile email login offline_access core.invoice.read".into(),
            redirect_uris: vec![REDIRECT.into()],
            pkce,
            ..CreateClient::default()
        })
        .await
        .unwrap();
    (client.client_id, client.client_secret)
}

pub(crate) fn authorize_url(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair(
            "scope",
            "openid profile email offline_access core.invoice.read",
        )
        .append_pair("state", "st-123")
        .append_pair("nonce", "n-456")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256");
    for (name, value) in extra {
        query.append_pair(name, value);
    }
    format!("/oauth2/authorizations/new?{}", query.finish())
}

/// Signs in through the login form when sent there, then answers the consent page; returns
/// the final redirect to the client.
pub async fn authorize(browser: &mut Browser, url: &str, decision: &str) -> String {
    let mut page = browser.get(url).await;
    if page.status == StatusCode::SEE_OTHER
        && page
            .location
            .as_deref()
            .unwrap()
            .starts_with("/oauth2/login")
    {
        let login = browser.get(&page.location.unwrap()).await;
        assert_eq!(login.status, StatusCode::OK);
        assert!(login.body.contains("name=\"login\"") && login.body.contains("name=\"password\""));
        let mut form = hidden_fields(&login.body);
        form.push(("login".into(), "ada".into()));
        form.push(("password".into(), PASSWORD.into()));
        let signed_in = browser.post("/oauth2/login", &form).await;
        assert_eq!(
            signed_in.status,
            StatusCode::SEE_OTHER,
            "{}",
            signed_in.body
        );
        page = browser.get(&signed_in.location.unwrap()).await;
    }
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Allow Expense App"), "{}", page.body);
    let shown = unescape(&page.body);
    for scope in coupa_proto::scopes::CATALOGUE {
        if shown.contains(&format!("<code>{}</code>", scope.name)) {
            assert!(
                shown.contains(&format!(
                    "<code>{}</code>: {}",
                    scope.name, scope.description
                )),
                "each scope is listed with its catalogue description: {}",
                scope.name
            );
        }
    }
    let mut form = hidden_fields(&page.body);
    form.push(("decision".into(), decision.into()));
    let decided = browser.post("/oauth2/authorize", &form).await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    decided.location.unwrap()
}

pub(crate) async fn token_request(
    server: &TestServer,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = server
        .http
        .post(server.url("/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Ada, her confidential client (id and secret), a browser she signed in with, and the tokens
/// the client got from her consent.
pub(crate) async fn ada_signed_in(server: &TestServer) -> (String, String, Browser, Value) {
    let (client_id, secret) = user_and_client(server, false).await;
    let secret = secret.unwrap();
    let mut browser = Browser::new(&server.url);
    let tokens = sign_in_for_tokens(server, &mut browser, &client_id, &secret).await;
    (client_id, secret, browser, tokens)
}

/// A public device code client holding `scope`.
pub(crate) async fn public_device_client(server: &TestServer, scope: &str) -> ClientView {
    server
        .admin
        .create_client(&CreateClient {
            name: "Warehouse Scanner".into(),
            login: "scanner".into(),
            grant_type: "device_code".into(),
            scope: scope.into(),
            pkce: true,
            ..CreateClient::default()
        })
        .await
        .unwrap()
}

/// `grant_type=authorization_code` for `code` as `client_id` (with its secret when given),
/// with the PKCE verifier, and `redirect_uri` when given.
pub(crate) async fn exchange_code(
    server: &TestServer,
    code: &str,
    client_id: &str,
    secret: Option<&str>,
    redirect_uri: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", VERIFIER),
        ("client_id", client_id),
    ];
    form.extend(secret.map(|secret| ("client_secret", secret)));
    form.extend(redirect_uri.map(|uri| ("redirect_uri", uri)));
    token_request(server, &form).await
}

/// `grant_type=refresh_token` as a confidential client, narrowed to `scope` when given.
pub(crate) async fn refresh_tokens(
    server: &TestServer,
    refresh_token: &str,
    client_id: &str,
    secret: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    form.extend(scope.map(|scope| ("scope", scope)));
    token_request(server, &form).await
}

/// Ada signs in and allows the confidential client, which exchanges the code (with PKCE).
pub(crate) async fn sign_in_for_tokens(
    server: &TestServer,
    browser: &mut Browser,
    client_id: &str,
    secret: &str,
) -> Value {
    let redirect = authorize(browser, &authorize_url(client_id, &[]), "allow").await;
    let code = query_of(&redirect)["code"].clone();
    let (status, tokens) = token_request(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

pub(crate) fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// A server with Ada and a confidential code client, and a browser about to sign her in.
struct CodeFlow {
    server: TestServer,
    browser: Browser,
    client_id: String,
    secret: String,
}

impl CodeFlow {
    async fn start() -> Self {
        let server = spawn_server_with(Backend::Sqlite, Default::default())
            .await
            .unwrap();
        let (client_id, secret) = user_and_client(&server, false).await;
        let browser = Browser::new(&server.url);
        Self {
            server,
            browser,
            client_id,
            secret: secret.unwrap(),
        }
    }

    /// Ada allows the client; the redirect back to it.
    async fn allow(&mut self) -> String {
        authorize(
            &mut self.browser,
            &authorize_url(&self.client_id, &[]),
            "allow",
        )
        .await
    }

    fn exchange<'a>(&'a self, code: &'a str) -> [(&'a str, &'a str); 6] {
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &self.client_id),
            ("client_secret", &self.secret),
        ]
    }

    /// The tokens a fresh code buys, and the form that bought them.
    async fn tokens(&mut self) -> (Value, String) {
        let code = query_of(&self.allow().await)["code"].clone();
        let (status, tokens) = token_request(&self.server, &self.exchange(&code)).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        (tokens, code)
    }
}

#[tokio::test]
async fn code_flow_redirects_back_with_the_code_state_and_issuer() {
    let mut flow = CodeFlow::start().await;
    let redirect = flow.allow().await;
    assert!(redirect.starts_with(&format!("{REDIRECT}?")), "{redirect}");
    let answer = query_of(&redirect);
    assert_eq!(answer["state"], "st-123", "state passed back");
    assert_eq!(answer["iss"], flow.server.url(""));
    assert!(!answer["code"].is_empty());
}

#[tokio::test]
async fn code_flow_refuses_a_wrong_pkce_verifier() {
    let mut flow = CodeFlow::start().await;
    let code = query_of(&flow.allow().await)["code"].clone();
    let (status, wrong_verifier) = token_request(
        &flow.server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &"x".repeat(43)),
            ("client_id", &flow.client_id),
            ("client_secret", &flow.secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_verifier["error"], "invalid_grant");
    assert!(
        wrong_verifier["error_description"]
            .as_str()
            .unwrap()
            .contains("does not match"),
        "{wrong_verifier}"
    );
}

#[tokio::test]
async fn code_flow_issues_tokens_and_an_id_token_for_the_signed_in_user() {
    let mut flow = CodeFlow::start().await;
    let (tokens, _) = flow.tokens().await;
    let server = &flow.server;
    assert_eq!(tokens["token_type"], "bearer");
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    let access_token = tokens["access_token"].as_str().unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let id_claims = jwt_claims(id_token);
    assert_eq!(id_claims["aud"], flow.client_id.as_str());
    assert_eq!(id_claims["nonce"], "n-456");
    assert_eq!(id_claims["iss"], server.url(""));
    assert!(id_claims["auth_time"].as_i64().unwrap() > 0);
    assert_eq!(
        id_claims["at_hash"],
        coupa_server::domain::token::at_hash(access_token).as_str()
    );
    let header: Value = {
        use base64::Engine;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(id_token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["alg"], "RS256");

    let invoices = server
        .http
        .get(server.url("/api/invoices"))
        .bearer_auth(access_token)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        invoices.status(),
        StatusCode::OK,
        "the user's token calls the API"
    );
}

#[tokio::test]
async fn userinfo_answers_get_and_post_with_the_claims_asked_for() {
    let mut flow = CodeFlow::start().await;
    let (tokens, _) = flow.tokens().await;
    let server = &flow.server;
    let access_token = tokens["access_token"].as_str().unwrap();
    let id_claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    let userinfo: Value = server
        .http
        .get(server.url("/oauth2/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["sub"], id_claims["sub"]);
    assert_eq!(userinfo["name"], "Ada Lovelace");
    assert_eq!(userinfo["email"], "ada@example.com");
    assert!(userinfo.get("login").is_none(), "login was not asked for");
    let posted: Value = server
        .http
        .post(server.url("/oauth2/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted, userinfo, "POST answers as GET");
    let client_token = server
        .http
        .get(server.url("/oauth2/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(client_token.status(), StatusCode::UNAUTHORIZED);
    assert!(
        client_token.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn replaying_a_code_fails_and_revokes_what_it_issued() {
    let mut flow = CodeFlow::start().await;
    let (tokens, code) = flow.tokens().await;
    let server = &flow.server;
    let access_token = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let (status, replay) = token_request(server, &flow.exchange(&code)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(replay["error"], "invalid_grant");
    let refused = server
        .http
        .get(server.url("/api/invoices"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        StatusCode::UNAUTHORIZED,
        "derived access token revoked"
    );
    let (status, refresh_after_replay) = token_request(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", &flow.client_id),
            ("client_secret", &flow.secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refresh_after_replay["error"], "invalid_grant",
        "derived refresh token revoked"
    );
    let trail = server
        .admin
        .audit(&coupa_proto::admin::AuditFilters {
            kind: Some("authorization_code".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(trail.total, 1);
    assert_eq!(trail.entries[0].kind, "authorization_code.replayed");
    assert_eq!(trail.entries[0].actor, format!("client:{}", flow.client_id));
}

#[tokio::test]
async fn refresh_tokens_rotate_narrow_and_reuse_revokes_the_family() {
    let settings = coupa_server::ConfigLayer {
        refresh_token_reuse_grace: Some("0s".into()),
        ..Default::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (client_id, _) = user_and_client(&server, true).await;
    let mut browser = Browser::new(&server.url);
    let redirect = authorize(&mut browser, &authorize_url(&client_id, &[]), "allow").await;
    let code = query_of(&redirect)["code"].clone();
    // Parameters in the query string of the POST, as Coupa's own example sends them.
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("code_verifier", VERIFIER)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("client_id", &client_id)
        .finish();
    let response = server
        .http
        .post(server.url(&format!("/oauth2/token?{query}")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(
        status,
        StatusCode::OK,
        "a public client needs no secret: {tokens}"
    );
    let first = tokens["refresh_token"].as_str().unwrap().to_string();

    let refresh = |token: String, scope: Option<&'static str>| {
        let client_id = client_id.clone();
        let server = &server;
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", token),
                ("client_id", client_id),
            ];
            if let Some(scope) = scope {
                form.push(("scope", scope.to_string()));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token_request(server, &form).await
        }
    };
    let (status, narrowed) = refresh(first.clone(), Some("core.invoice.read")).await;
    assert_eq!(status, StatusCode::OK, "{narrowed}");
    assert_eq!(narrowed["scope"], "core.invoice.read");
    assert!(
        narrowed.get("id_token").is_none(),
        "no openid asked, no id_token"
    );
    let second = narrowed["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first, "rotated");
    let (status, widened) = refresh(second.clone(), Some("core.invoice.read core.user.read")).await;
    assert_eq!(
        (status, widened["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );

    let (status, third) = refresh(second.clone(), None).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    assert_eq!(
        third["scope"], "openid profile email offline_access core.invoice.read",
        "the refresh token kept the full scopes"
    );
    let live_access = third["access_token"].as_str().unwrap().to_string();
    let third_refresh = third["refresh_token"].as_str().unwrap().to_string();

    // Reusing a rotated token revokes the whole family.
    let (status, reuse) = refresh(first, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        reuse["error_description"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{reuse}"
    );
    let (status, _) = refresh(third_refresh, None).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the newest token went with the family"
    );
    let api = server
        .http
        .get(server.url("/api/invoices"))
        .bearer_auth(&live_access)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn untrusted_requests_get_a_page_and_other_errors_go_back_with_the_state() {
    let server = spawn_server_with(Backend::Sqlite, Default::default())
        .await
        .unwrap();
    let (client_id, _) = user_and_client(&server, false).await;
    let mut browser = Browser::new(&server.url);

    let mismatch = authorize_url(&client_id, &[]).replace(
        &form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
        "https%3A%2F%2Fevil.example%2Fcallback",
    );
    let page = browser.get(&mismatch).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.location.is_none(),
        "never redirected to an unregistered URI"
    );
    assert!(page.body.contains("not registered"), "{}", page.body);
    let unknown = browser.get(&authorize_url("no-such-client", &[])).await;
    assert_eq!(
        (unknown.status, unknown.location),
        (StatusCode::BAD_REQUEST, None)
    );

    let no_session = browser
        .get(&authorize_url(&client_id, &[("prompt", "none")]))
        .await;
    let answer = query_of(no_session.location.as_deref().unwrap());
    assert_eq!(answer["error"], "login_required");
    assert_eq!(answer["state"], "st-123");

    let plain = format!(
        "/oauth2/authorize?client_id={client_id}&response_type=code&state=p1&code_challenge={VERIFIER}&code_challenge_method=plain"
    );
    let refused = browser.get(&plain).await;
    let location = refused.location.expect("a redirect");
    assert!(location.starts_with(REDIRECT), "{location}");
    let answer = query_of(&location);
    assert_eq!(answer["error"], "invalid_request");
    assert!(answer["error_description"].contains("plain"), "{answer:?}");
    assert_eq!(answer["state"], "p1");

    let denied = authorize(&mut browser, &authorize_url(&client_id, &[]), "deny").await;
    let answer = query_of(&denied);
    assert_eq!(answer["error"], "access_denied");
    assert_eq!(answer["state"], "st-123");
    assert!(!answer.contains_key("code"));
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let server = spawn_server_with(Backend::Sqlite, Default::default())
        .await
        .unwrap();
    let (client_id, _) = user_and_client(&server, false).await;
    let mut browser = Browser::new(&server.url);
    let login = browser.get("/oauth2/login").await;
    let mut form = hidden_fields(&login.body);
    form.retain(|(name, _)| name != "csrf_token");
    form.push(("login".into(), "ada".into()));
    form.push(("password".into(), PASSWORD.into()));
    let refused = browser.post("/oauth2/login", &form).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut wrong_password = hidden_fields(&login.body);
    wrong_password.push(("login".into(), "ada".into()));
    wrong_password.push(("password".into(), "not the password".into()));
    let wrong = browser.post("/oauth2/login", &wrong_password).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong login or password"));

    // Signed in, the consent form still needs the token that matches the cookie.
    let page = browser.get(&authorize_url(&client_id, &[])).await;
    let login = browser.get(&page.location.unwrap()).await;
    let mut form = hidden_fields(&login.body);
    form.push(("login".into(), "ADA".into()));
    form.push(("password".into(), PASSWORD.into()));
    let signed_in = browser.post("/oauth2/login", &form).await;
    let consent = browser.get(&signed_in.location.unwrap()).await;
    // A token this browser had before signing in (one a cross-site page could have made it
    // fetch) is not the token of its session.
    let before_sign_in = hidden_fields(&login.body)
        .into_iter()
        .find(|(name, _)| name == "csrf_token")
        .unwrap();
    let mut form: Vec<(String, String)> = hidden_fields(&consent.body)
        .into_iter()
        .filter(|(name, _)| name != "csrf_token")
        .collect();
    form.push(before_sign_in);
    form.push(("decision".into(), "allow".into()));
    let forged = browser.post("/oauth2/authorize", &form).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.location.is_none(), "no code for a cross-site post");
}

pub(crate) async fn introspect(
    server: &TestServer,
    client_id: &str,
    secret: &str,
    token: &str,
) -> Value {
    server
        .http
        .post(server.url("/oauth2/introspect"))
        .basic_auth(client_id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn revoke(server: &TestServer, client_id: &str, secret: &str, token: &str) -> StatusCode {
    server
        .http
        .post(server.url("/oauth2/revoke"))
        .basic_auth(client_id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn revocation_and_introspection_of_active_expired_and_revoked_tokens() {
    let settings = coupa_server::ConfigLayer {
        token_lifetime: Some("2s".into()),
        ..Default::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (client_id, secret, _, tokens) = ada_signed_in(&server).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let active = introspect(&server, &client_id, &secret, access).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["username"], "ada");
    assert_eq!(active["client_id"], client_id.as_str());
    let refresh_info = introspect(&server, &client_id, &secret, refresh).await;
    assert_eq!(refresh_info["active"], true);
    assert_eq!(refresh_info["token_type"], "refresh_token");
    assert_eq!(
        introspect(&server, &client_id, &secret, "garbage").await["active"],
        false
    );

    // A client-credentials client may introspect and revoke too.
    let (_, service) = server.create_client("svc", "core.invoice.read").await;
    let service_token = server.access_token(&service, None).await;
    assert_eq!(
        introspect(&server, &service.id, &service.secret, &service_token).await["active"],
        true
    );
    assert_eq!(
        revoke(&server, &service.id, &service.secret, &service_token).await,
        StatusCode::OK
    );
    assert_eq!(
        introspect(&server, &service.id, &service.secret, &service_token).await["active"],
        false
    );
    let api = server
        .http
        .get(server.url("/api/invoices"))
        .bearer_auth(&service_token)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED, "refused at once");
    assert_eq!(
        revoke(&server, &service.id, &service.secret, access).await,
        StatusCode::OK,
        "another client's token: 200, and nothing happens"
    );
    assert_eq!(
        introspect(&server, &client_id, &secret, access).await["active"],
        true
    );
    let unauthenticated = server
        .http
        .post(server.url("/oauth2/revoke"))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        introspect(&server, &client_id, &secret, access).await["active"],
        false,
        "expired"
    );

    assert_eq!(
        revoke(&server, &client_id, &secret, refresh).await,
        StatusCode::OK
    );
    assert_eq!(
        introspect(&server, &client_id, &secret, refresh).await["active"],
        false,
        "revoked"
    );
    let (status, after) = token_request(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(
        (status, after["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn npm_openid_client_completes_the_flow_through_the_html_forms() {
    let server = spawn_server_with(Backend::Sqlite, Default::default())
        .await
        .unwrap();
    let (client_id, secret) = user_and_client(&server, false).await;
    let issuer = server.url("");
    let output = crate::support::run_node(
        "oidc-relying-party.mjs",
        &[
            &issuer,
            &client_id,
            &secret.unwrap(),
            "ada",
            PASSWORD,
            REDIRECT,
        ],
    )
    .await
    .unwrap_or_else(|error| panic!("the relying party failed: {error}"));
    let seen: Value = serde_json::from_str(output.trim()).unwrap();
    assert_eq!(seen["name"], "Ada Lovelace");
    assert_eq!(seen["email"], "ada@example.com");
    assert_eq!(seen["rotated"], true);
    assert_eq!(seen["introspected_active"], true);
    assert_eq!(seen["revoked_active"], false);
    assert_eq!(seen["reuse_refused"], true);
}

pub(crate) async fn device_poll(
    server: &TestServer,
    client_id: &str,
    device_code: &str,
) -> (StatusCode, Value) {
    token_request(
        server,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", client_id),
        ],
    )
    .await
}

#[tokio::test]
async fn device_flow_states_from_pending_to_tokens_and_denial() {
    let server = spawn_server_with(Backend::Sqlite, Default::default())
        .await
        .unwrap();
    user_and_client(&server, false).await;
    let device_client =
        public_device_client(&server, "openid profile offline_access core.invoice.read").await;
    assert!(
        device_client.client_secret.is_none(),
        "a public device client"
    );
    let client_id = device_client.client_id;
    let start = |scope: &'static str| {
        let url = server.url(&format!(
            "/oauth2/device_authorizations?client_id={client_id}&scope={}",
            scope.replace(' ', "%20")
        ));
        let http = server.http.clone();
        async move {
            let response = http.post(url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let started = start("openid offline_access core.invoice.read").await;
    assert_eq!(started["interval"], 5);
    assert_eq!(started["expires_in"], 600);
    let user_code = started["user_code"].as_str().unwrap().to_string();
    assert_eq!(user_code.len(), 9, "XXXX-XXXX: {user_code}");
    let device_code = started["device_code"].as_str().unwrap().to_string();

    let (status, pending) = device_poll(&server, &client_id, &device_code).await;
    assert_eq!(
        (status, pending["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("authorization_pending"))
    );
    let (_, slow) = device_poll(&server, &client_id, &device_code).await;
    assert_eq!(
        slow["error"], "slow_down",
        "polled sooner than the interval"
    );

    let mut browser = Browser::new(&server.url);
    let complete = started["verification_uri_complete"].as_str().unwrap();
    let path = complete.strip_prefix(&server.url).unwrap();
    let to_login = browser.get(path).await;
    let login = browser.get(&to_login.location.unwrap()).await;
    let mut form = hidden_fields(&login.body);
    form.push(("login".into(), "ada".into()));
    form.push(("password".into(), PASSWORD.into()));
    let signed_in = browser.post("/oauth2/login", &form).await;
    let code_page = browser.get(&signed_in.location.unwrap()).await;
    assert!(code_page.body.contains(&user_code), "the code is filled in");
    let mut form = hidden_fields(&code_page.body);
    form.push((
        "user_code".into(),
        user_code.to_lowercase().replace('-', " "),
    ));
    let consent = browser.post("/oauth2/device", &form).await;
    assert!(
        consent.body.contains("Allow Warehouse Scanner"),
        "{}",
        consent.body
    );
    let mut form = hidden_fields(&consent.body);
    form.push(("decision".into(), "allow".into()));
    let done = browser.post("/oauth2/device/decision", &form).await;
    assert!(done.body.contains("Device connected"), "{}", done.body);

    let (status, tokens) = device_poll(&server, &client_id, &device_code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["refresh_token"].is_string() && tokens["id_token"].is_string());
    assert_eq!(tokens["scope"], "openid offline_access core.invoice.read");
    let (_, again) = device_poll(&server, &client_id, &device_code).await;
    assert_eq!(
        again["error"], "invalid_grant",
        "a device code gives tokens once"
    );
    let (status, refreshed) = token_request(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "device grants refresh too: {refreshed}"
    );

    let denied = start("core.invoice.read").await;
    let mut form = hidden_fields(&browser.get("/oauth2/device").await.body);
    form.push((
        "user_code".into(),
        denied["user_code"].as_str().unwrap().into(),
    ));
    let consent = browser.post("/oauth2/device", &form).await;
    let mut form = hidden_fields(&consent.body);
    form.push(("decision".into(), "deny".into()));
    browser.post("/oauth2/device/decision", &form).await;
    let (_, refused) =
        device_poll(&server, &client_id, denied["device_code"].as_str().unwrap()).await;
    assert_eq!(refused["error"], "access_denied");
    let mut form = hidden_fields(&browser.get("/oauth2/device").await.body);
    form.push(("user_code".into(), "BCDF-GHJK".into()));
    let unknown = browser.post("/oauth2/device", &form).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("not valid"));
}

#[tokio::test]
async fn cookies_are_secure_behind_https_and_plain_pkce_works_where_allowed() {
    let settings = coupa_server::ConfigLayer {
        issuer: Some("https://coupa.example.com".into()),
        ..Default::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let login = server
        .http
        .get(server.url("/oauth2/login"))
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    let server = spawn_server_with(Backend::Sqlite, Default::default())
        .await
        .unwrap();
    user_and_client(&server, false).await;
    let plain_client = server
        .admin
        .create_client(&CreateClient {
            name: "Expense App".into(),
            login: "legacy-app".into(),
            grant_type: "authorization_code".into(),
            scope: "openid offline_access".into(),
            redirect_uris: vec![REDIRECT.into()],
            allow_plain_pkce: true,
            ..CreateClient::default()
        })
        .await
        .unwrap();
    let mut browser = Browser::new(&server.url);
    let url = format!(
        "/oauth2/authorize?client_id={}&response_type=code&scope=openid&code_challenge={VERIFIER}&code_challenge_method=plain",
        plain_client.client_id
    );
    let redirect = authorize(&mut browser, &url, "allow").await;
    let code = query_of(&redirect)["code"].clone();
    let (status, tokens) = token_request(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("client_id", &plain_client.client_id),
            (
                "client_secret",
                plain_client.client_secret.as_deref().unwrap(),
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(
        tokens.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
}

#[tokio::test]
async fn deactivating_a_user_ends_what_they_authorized() {
    let server = spawn_server_with(Backend::Sqlite, Default::default())
        .await
        .unwrap();
    let (client_id, secret, mut browser, tokens) = ada_signed_in(&server).await;
    let access = tokens["access_token"].as_str().unwrap();
    server
        .admin
        .update_user(
            "ada",
            &coupa_proto::admin::UpdateUser {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let api = server
        .http
        .get(server.url("/api/invoices"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let (status, refreshed) = token_request(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(
        (status, refreshed["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let page = browser.get(&authorize_url(&client_id, &[])).await;
    assert!(
        page.location
            .as_deref()
            .is_some_and(|to| to.starts_with("/oauth2/login")),
        "the session ended too"
    );
}
