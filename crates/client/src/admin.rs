//! The admin API of `coupa serve`.

use coupa_proto::admin::{
    ApiKeyView, AuditFilters, AuditPage, ClientView, CreateApiKey, CreateClient, CreateCustomField,
    CreateFault, CreateUser, CustomFieldView, FaultView, ReportView, RetireKey, RotateKeys,
    SandboxReset, SigningKeyView, UpdateClient, UpdateUser, UserView,
};
use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ClientError;

pub struct AdminClient {
    base_url: String,
    token: String,
    http: reqwest::Client,
}

impl AdminClient {
    pub fn new(base_url: &str, token: &str) -> Self {
        Self::with_http(base_url, token, reqwest::Client::new())
    }

    /// With an HTTP client of the caller's, e.g. one that trusts a sandbox's local CA.
    pub fn with_http(base_url: &str, token: &str, http: reqwest::Client) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http,
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/admin/api{path}", self.base_url))
            .bearer_auth(&self.token)
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let response = self.execute(request).await?;
        response
            .json()
            .await
            .map_err(|error| ClientError::Unexpected {
                status: 200,
                body: error.to_string(),
            })
    }

    async fn execute(&self, request: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let response = request
            .send()
            .await
            .map_err(|error| ClientError::Unreachable {
                url: self.base_url.clone(),
                reason: crate::http::describe_send_error(&error),
            })?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(ClientError::from_response(response).await)
        }
    }

    fn with_json<B: Serialize>(&self, method: Method, path: &str, body: &B) -> RequestBuilder {
        self.request(method, path).json(body)
    }

    pub async fn create_client(&self, input: &CreateClient) -> Result<ClientView, ClientError> {
        self.send(self.with_json(Method::POST, "/clients", input))
            .await
    }

    pub async fn list_clients(&self) -> Result<Vec<ClientView>, ClientError> {
        self.send(self.request(Method::GET, "/clients")).await
    }

    pub async fn client(&self, client_id: &str) -> Result<ClientView, ClientError> {
        self.send(self.request(
            Method::GET,
            &format!("/clients/{}", path_segment(client_id)),
        ))
        .await
    }

    pub async fn update_client(
        &self,
        client_id: &str,
        changes: &UpdateClient,
    ) -> Result<ClientView, ClientError> {
        self.send(self.with_json(
            Method::PATCH,
            &format!("/clients/{}", path_segment(client_id)),
            changes,
        ))
        .await
    }

    pub async fn rotate_secret(&self, client_id: &str) -> Result<ClientView, ClientError> {
        self.send(self.request(
            Method::POST,
            &format!("/clients/{}/rotate-secret", path_segment(client_id)),
        ))
        .await
    }

    pub async fn delete_client(&self, client_id: &str) -> Result<(), ClientError> {
        self.execute(self.request(
            Method::DELETE,
            &format!("/clients/{}", path_segment(client_id)),
        ))
        .await
        .map(|_| ())
    }
}

impl AdminClient {
    pub async fn create_api_key(&self, input: &CreateApiKey) -> Result<ApiKeyView, ClientError> {
        self.send(self.with_json(Method::POST, "/api-keys", input))
            .await
    }

    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyView>, ClientError> {
        self.send(self.request(Method::GET, "/api-keys")).await
    }

    pub async fn revoke_api_key(&self, key_id: &str) -> Result<ApiKeyView, ClientError> {
        self.send(self.request(
            Method::POST,
            &format!("/api-keys/{}/revoke", path_segment(key_id)),
        ))
        .await
    }
}

impl AdminClient {
    pub async fn create_user(&self, input: &CreateUser) -> Result<UserView, ClientError> {
        self.send(self.with_json(Method::POST, "/users", input))
            .await
    }

    pub async fn list_users(&self) -> Result<Vec<UserView>, ClientError> {
        self.send(self.request(Method::GET, "/users")).await
    }

    /// By user id or login.
    pub async fn user(&self, user: &str) -> Result<UserView, ClientError> {
        self.send(self.request(Method::GET, &format!("/users/{}", path_segment(user))))
            .await
    }

    pub async fn update_user(
        &self,
        user: &str,
        changes: &UpdateUser,
    ) -> Result<UserView, ClientError> {
        self.send(self.with_json(
            Method::PATCH,
            &format!("/users/{}", path_segment(user)),
            changes,
        ))
        .await
    }
}

/// Percent-encodes everything but unreserved characters, for one path segment.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl AdminClient {
    pub async fn create_custom_field(
        &self,
        input: &CreateCustomField,
    ) -> Result<CustomFieldView, ClientError> {
        self.send(self.with_json(Method::POST, "/custom-fields", input))
            .await
    }

    pub async fn list_custom_fields(&self) -> Result<Vec<CustomFieldView>, ClientError> {
        self.send(self.request(Method::GET, "/custom-fields")).await
    }

    /// Removes a custom field and every value recorded for it.
    pub async fn delete_custom_field(&self, object: &str, name: &str) -> Result<(), ClientError> {
        self.execute(self.request(
            Method::DELETE,
            &format!(
                "/custom-fields/{}/{}",
                path_segment(object),
                path_segment(name)
            ),
        ))
        .await
        .map(|_| ())
    }
}

impl AdminClient {
    /// The signing keys and their place in the rotation.
    pub async fn list_keys(&self) -> Result<Vec<SigningKeyView>, ClientError> {
        self.send(self.request(Method::GET, "/keys")).await
    }

    /// Publishes a new key of `alg` (or of every algorithm that signs), which signs after the
    /// server's publication delay.
    pub async fn rotate_keys(&self, alg: Option<&str>) -> Result<Vec<SigningKeyView>, ClientError> {
        let input = RotateKeys {
            alg: alg.map(str::to_string),
        };
        self.send(self.with_json(Method::POST, "/keys/rotate", &input))
            .await
    }

    /// Stops `kid` signing; `now` also refuses every token it signed.
    pub async fn retire_key(
        &self,
        kid: &str,
        now: bool,
    ) -> Result<Vec<SigningKeyView>, ClientError> {
        self.send(self.with_json(
            Method::POST,
            &format!("/keys/{}/retire", path_segment(kid)),
            &RetireKey { now },
        ))
        .await
    }

    /// Deletes a retired key.
    pub async fn remove_key(&self, kid: &str) -> Result<Vec<SigningKeyView>, ClientError> {
        self.send(self.request(Method::DELETE, &format!("/keys/{}", path_segment(kid))))
            .await
    }
}

impl AdminClient {
    /// The sandbox's faults on or waiting to begin.
    pub async fn list_faults(&self) -> Result<Vec<FaultView>, ClientError> {
        self.send(self.request(Method::GET, "/faults")).await
    }

    /// Switches a fault on (see `CreateFault`).
    pub async fn add_fault(&self, input: &CreateFault) -> Result<FaultView, ClientError> {
        self.send(self.with_json(Method::POST, "/faults", input))
            .await
    }

    pub async fn remove_fault(&self, id: &str) -> Result<FaultView, ClientError> {
        self.send(self.request(Method::DELETE, &format!("/faults/{}", path_segment(id))))
            .await
    }

    /// Puts a sandbox's records back to the demo data set and switches every fault off.
    pub async fn reset_sandbox(&self) -> Result<SandboxReset, ClientError> {
        self.send(self.request(Method::POST, "/sandbox/reset"))
            .await
    }

    /// Every client's report card, those with the most findings first.
    pub async fn reports(&self) -> Result<Vec<ReportView>, ClientError> {
        self.send(self.request(Method::GET, "/reports")).await
    }

    /// The report card of one client (identifier or login).
    pub async fn report(&self, client: &str) -> Result<ReportView, ClientError> {
        self.send(self.request(Method::GET, &format!("/reports/{}", path_segment(client))))
            .await
    }

    /// The report card of one client as Markdown, for a change request.
    pub async fn report_markdown(&self, client: &str) -> Result<String, ClientError> {
        let request = self
            .request(Method::GET, &format!("/reports/{}", path_segment(client)))
            .query(&[("format", "markdown")]);
        self.execute(request)
            .await?
            .text()
            .await
            .map_err(|error| ClientError::Unexpected {
                status: 200,
                body: error.to_string(),
            })
    }

    /// Switches every fault off; how many there were.
    pub async fn clear_faults(&self) -> Result<u64, ClientError> {
        let answer: serde_json::Value = self.send(self.request(Method::DELETE, "/faults")).await?;
        Ok(answer["removed"].as_u64().unwrap_or(0))
    }
}

impl AdminClient {
    /// A page of the audit trail, newest first.
    pub async fn audit(&self, filters: &AuditFilters) -> Result<AuditPage, ClientError> {
        self.send(self.request(Method::GET, "/audit").query(filters))
            .await
    }
}
