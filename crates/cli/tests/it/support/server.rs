//! `spawn_server()`: a real server on port 0 with a fresh database, plus helpers to call it.

use coupa_client::AdminClient;
use coupa_proto::admin::{ClientView, CreateClient};
use coupa_server::{App, Config, ConfigLayer};
use tokio::sync::oneshot;

use super::backends::{Backend, fresh_database_url};

/// 32 bytes, base64.
pub const TEST_KEY_ENCRYPTION_KEY: &str = "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=";
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdefghijklmnop";

pub struct TestServer {
    pub url: String,
    pub admin: AdminClient,
    pub http: reqwest::Client,
    pub database_url: String,
    _stop: oneshot::Sender<()>,
}

pub async fn spawn_server() -> TestServer {
    spawn_server_with(Backend::Sqlite, ConfigLayer::default())
        .await
        .expect("sqlite always works")
}

/// Starts a server on `backend` with `settings` layered over the defaults. None when the
/// backend is PostgreSQL and it is not reachable locally.
pub async fn spawn_server_with(backend: Backend, settings: ConfigLayer) -> Option<TestServer> {
    let database_url = fresh_database_url(backend).await?;
    Some(spawn_on(&database_url, settings).await)
}

pub async fn spawn_on(database_url: &str, settings: ConfigLayer) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let url = format!("http://{address}");
    // Tests fire requests far faster than Coupa's 25/s; the limit is tested on its own.
    let layer = ConfigLayer {
        listen: Some(address.to_string()),
        database_url: Some(database_url.to_string()),
        rate_limit: settings.rate_limit.or(Some(0.0)),
        ..settings
    };
    let mut config = Config::resolve(layer, Some(ADMIN_TOKEN.to_string())).expect("config");
    if database_url.starts_with("postgres") {
        // Replicas on PostgreSQL share one key encryption key, given to each.
        config.key_encryption_key = Some(TEST_KEY_ENCRYPTION_KEY.into());
    }
    let stop = serve_in_background(config, listener).await;
    TestServer {
        admin: AdminClient::new(&url, ADMIN_TOKEN),
        http: reqwest::Client::new(),
        url,
        database_url: database_url.to_string(),
        _stop: stop,
    }
}

/// Prepares a server with `config` and serves it on `listener` until the sender is dropped.
pub async fn serve_in_background(
    config: Config,
    listener: tokio::net::TcpListener,
) -> oneshot::Sender<()> {
    let app = App::prepare(config).await.expect("server starts");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = app
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await;
    });
    stop
}

pub fn client_input(login: &str, scope: &str) -> CreateClient {
    CreateClient {
        name: format!("Client {login}"),
        login: login.to_string(),
        grant_type: "client_credentials".into(),
        scope: scope.to_string(),
        contact_info: "Integration team".into(),
        contact_email: "team@example.com".into(),
        ..CreateClient::default()
    }
}

pub struct Credentials {
    pub id: String,
    pub secret: String,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn create_client(&self, login: &str, scope: &str) -> (ClientView, Credentials) {
        let view = self
            .admin
            .create_client(&client_input(login, scope))
            .await
            .expect("client created");
        let credentials = Credentials {
            id: view.client_id.clone(),
            secret: view.client_secret.clone().expect("a secret on create"),
        };
        (view, credentials)
    }

    /// POSTs a form to the token endpoint.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/token"))
            .form(form)
            .send()
            .await
            .expect("token endpoint reachable")
    }

    /// A client-credentials request with the secret in the body, plus `extra` parameters.
    pub async fn client_credentials(
        &self,
        credentials: &Credentials,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", credentials.id.as_str()),
            ("client_secret", credentials.secret.as_str()),
        ];
        form.extend_from_slice(extra);
        self.token_request(&form).await
    }

    /// An unauthenticated GET of `path`, its JSON body.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("server reachable")
            .json()
            .await
            .expect("a JSON answer")
    }

    /// `POST /oauth2/revoke` of `token` by the client of `credentials`.
    pub async fn revoke(&self, credentials: &Credentials, token: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/revoke"))
            .form(&[
                ("token", token),
                ("client_id", credentials.id.as_str()),
                ("client_secret", credentials.secret.as_str()),
            ])
            .send()
            .await
            .expect("revocation endpoint reachable")
    }

    /// A client-credentials token, asserting success.
    pub async fn access_token(&self, credentials: &Credentials, scope: Option<&str>) -> String {
        let extra: Vec<(&str, &str)> = scope.map(|scope| ("scope", scope)).into_iter().collect();
        let response = self.client_credentials(credentials, &extra).await;
        assert_eq!(
            response.status(),
            200,
            "token request failed: {:?}",
            response.text().await
        );
        let body: serde_json::Value = response.json().await.expect("json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// `GET /api/invoices` as JSON with `token` as the bearer.
    pub async fn list_invoices(&self, token: &str) -> reqwest::Response {
        self.api_get(
            "/api/invoices",
            Some(&format!("Bearer {token}")),
            "application/json",
        )
        .await
    }

    /// Any call to the API as JSON, with `token` as the bearer when given.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("Accept", "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("api reachable")
    }

    pub async fn api_get(
        &self,
        path: &str,
        authorization: Option<&str>,
        accept: &str,
    ) -> reqwest::Response {
        let mut request = self.http.get(self.url(path)).header("Accept", accept);
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        request.send().await.expect("api reachable")
    }
}

/// The `WWW-Authenticate` header of a response, or "" when it has none.
pub fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// Every scope of the catalogue, space-separated.
pub fn all_scopes() -> String {
    coupa_proto::scopes::CATALOGUE
        .iter()
        .map(|scope| scope.name)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A server with a client that holds every scope, and a token of that client.
pub async fn api_server(backend: Backend) -> Option<(TestServer, String)> {
    api_server_with(backend, ConfigLayer::default()).await
}

/// `api_server` with the demo data set loaded.
pub async fn demo_api_server(backend: Backend) -> Option<(TestServer, String)> {
    let settings = ConfigLayer {
        demo: Some(true),
        ..ConfigLayer::default()
    };
    api_server_with(backend, settings).await
}

async fn api_server_with(backend: Backend, settings: ConfigLayer) -> Option<(TestServer, String)> {
    let server = spawn_server_with(backend, settings).await?;
    let (_, client) = server.create_client("api-user", &all_scopes()).await;
    let token = server.access_token(&client, None).await;
    Some((server, token))
}

/// `GET path` as JSON with `token`: (status, body or null).
pub async fn get_json_with(
    server: &TestServer,
    token: &str,
    path: &str,
) -> (u16, serde_json::Value) {
    let response = server
        .api(reqwest::Method::GET, path, Some(token), None)
        .await;
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// The `kid` in a JWT's header.
pub fn jwt_kid(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().expect("a JWT");
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("base64url header"),
    )
    .expect("JSON header");
    header["kid"].as_str().expect("a kid").to_string()
}
