//! Bodies of the admin API (`/admin/api/*`).

use serde::{Deserialize, Serialize};

/// The token call of Coupa's transition guide for a client-credentials client, ready to
/// paste: the secret and scopes in the form body, as the guide sends them.
pub fn token_curl(base_url: &str, client_id: &str, scope: &str, secret: &str) -> String {
    format!(
        "curl -X POST -H \"Content-Type: application/x-www-form-urlencoded\" -d \"client_id={client_id}&grant_type=client_credentials&scope={scope}&client_secret={secret}\" {}/oauth2/token",
        base_url.trim_end_matches('/')
    )
}

/// The grant types a client can be registered for.
pub const GRANT_TYPES: &[&str] = &["client_credentials", "authorization_code", "device_code"];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    pub name: String,
    pub login: String,
    pub grant_type: String,
    /// Space-separated scope names.
    pub scope: String,
    #[serde(default)]
    pub contact_info: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// A public client without a secret: authorization code clients then must use PKCE;
    /// device code clients just send their client_id.
    #[serde(default)]
    pub pkce: bool,
    /// Accept the PKCE `plain` method from this client (S256 only by default).
    #[serde(default)]
    pub allow_plain_pkce: bool,
    /// May introspect tokens issued to other clients (a resource server's right); by default
    /// a client sees only its own tokens as active.
    #[serde(default)]
    pub introspect_any_token: bool,
}

/// A partial update: fields left out keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_plain_pkce: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspect_any_token: Option<bool>,
}

/// An OAuth client as the admin API shows it. The secret appears only in
/// the answers to create and rotate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub name: String,
    pub login: String,
    pub grant_type: String,
    pub scope: String,
    pub contact_info: String,
    pub contact_email: String,
    pub redirect_uris: Vec<String>,
    pub pkce: bool,
    #[serde(default)]
    pub allow_plain_pkce: bool,
    #[serde(default)]
    pub introspect_any_token: bool,
    pub active: bool,
    /// Until this time (RFC 3339) the secret replaced by the last rotation still works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_valid_until: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// When the client was last issued a token (RFC 3339); absent if it never was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_token_at: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: String,
    /// The API user the key acts as (created-by); defaults to the name.
    #[serde(default)]
    pub login: Option<String>,
    /// Space-separated scopes; every scope when left out, as legacy keys had full access.
    #[serde(default)]
    pub scope: Option<String>,
}

/// A legacy API key as the admin API shows it. The key appears only in the answer to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub name: String,
    pub login: String,
    pub scope: String,
    pub key_prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub last_used_from: Option<String>,
    pub revoked_at: Option<String>,
}

/// A user who signs in to authorize applications (and, with `admin`, to run Setup).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub login: String,
    pub email: String,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub admin: bool,
}

/// A partial update: fields left out keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
}

/// A user as the admin API shows it; the password never appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub user_id: String,
    pub login: String,
    pub email: String,
    pub name: String,
    pub active: bool,
    pub admin: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// An element an administrator adds to an API object, shown under `custom-fields`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomField {
    /// The object's path (`invoices`).
    pub object: String,
    /// The key under `custom-fields` (`cost-center`; underscores become dashes).
    pub name: String,
    /// `string`, `integer`, `decimal`, `boolean` or `datetime`.
    pub kind: String,
    /// What Setup and the API document call it; the name when left out.
    #[serde(default)]
    pub label: Option<String>,
}

/// A custom field as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFieldView {
    pub object: String,
    pub name: String,
    pub kind: String,
    pub label: String,
    pub created_at: String,
}

/// A signing key and its place in the rotation: `next` (published, not signing yet),
/// `active` (signing), `retired` (verifying the tokens it signed until `verifies_until`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyView {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub created_at: String,
    pub signs_from: String,
    pub signs_until: Option<String>,
    pub verifies_until: Option<String>,
}

/// `POST /admin/api/keys/rotate`: one algorithm, or every algorithm that signs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateKeys {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// `POST /admin/api/keys/{kid}/retire`: `now` also refuses the tokens the key signed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetireKey {
    #[serde(default)]
    pub now: bool,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: String,
    /// `admin token`, `user:LOGIN` (Setup), `system`, or for security events the client or
    /// login concerned.
    pub actor: String,
    pub address: String,
    pub kind: String,
    pub object: String,
    /// What changed, `{"field": {"before": ..., "after": ...}}` (secrets never shown), or the
    /// event's details.
    pub details: serde_json::Value,
}

/// A page of the audit trail, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// How many entries the filters select in all.
    pub total: i64,
    pub limit: u32,
    pub offset: u32,
}

/// `GET /admin/api/audit` filters; times are RFC 3339, or a duration back from now (`24h`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

/// Every kind of fault, in the order the help lists them.
pub const FAULT_KINDS: [&str; 11] = [
    "token_unavailable",
    "token_slow",
    "token_lifetime",
    "oversized_token",
    "api_rate_limited",
    "api_unavailable",
    "api_slow",
    "api_connection_dropped",
    "clock_offset",
    "token_propagation_delay",
    "scope_change",
];

/// `POST /admin/api/faults` (and each `[[faults]]` of a scenario file): one of Coupa's failure
/// modes, on for one client or for every caller, for a time or a number of requests (whichever
/// ends first; ten minutes when neither is given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateFault {
    /// token_unavailable, token_slow, token_lifetime, oversized_token, api_rate_limited,
    /// api_unavailable, api_slow, api_connection_dropped, clock_offset,
    /// token_propagation_delay or scope_change.
    pub kind: String,
    /// A client's identifier or login; none: every caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// How long it stays on, e.g. `30s`, `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// How many requests it affects; then it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// How long from now until it begins, e.g. `30s`; none: at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_in: Option<String>,
    /// token_slow and api_slow: the added latency; token_propagation_delay: how long a fresh
    /// token is refused (Coupa warns of 5 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// api_rate_limited: the `Retry-After` seconds to send; none: no header, as Coupa.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// token_lifetime: the lifetime of the tokens issued meanwhile, e.g. `60s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<String>,
    /// clock_offset: how far ahead the server's clock runs when it checks tokens, e.g. `24h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    /// oversized_token: the size of the tokens issued meanwhile, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The chance (above 0, at most 1) that it affects each request it could: intermittent
    /// failures. Drawn from the server's seed (`--seed`), so a run can be repeated exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// A fault, on or waiting to begin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultView {
    pub id: String,
    pub kind: String,
    /// What callers see while it is on, in a sentence.
    pub effect: String,
    /// The client's identifier; none: every caller.
    pub client_id: Option<String>,
    pub starts_at: String,
    pub ends_at: String,
    /// Requests it still affects, when it was given a number.
    pub requests_left: Option<u64>,
    /// The chance it affects each request, when it is not every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Whether it is on now (begun, not over).
    pub active: bool,
    /// Who turned it on (`admin token`, `user:LOGIN`, `scenario FILE`).
    pub created_by: String,
}

/// `POST /admin/api/sandbox/reset`: what the reset did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxReset {
    /// How long it took.
    pub milliseconds: u64,
    /// Faults that were on, now off.
    pub faults_cleared: u64,
}

/// One thing an integration does that a real Coupa instance punishes, with what shows it and
/// how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingView {
    /// token_per_call, secret_in_query, burst, paging_from_one, paging_gap,
    /// paging_unordered, retried_refusal or xml_then_json.
    pub kind: String,
    pub title: String,
    /// How many requests (or seconds, for bursts) show it.
    pub count: u64,
    pub evidence: String,
    /// The first request that showed it: method, path and query, answer, time.
    pub example: String,
    pub first_seen: String,
    pub last_seen: String,
    pub fix: String,
}

/// `GET /admin/api/reports/{client}`: a client's report card from its recent traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    pub client_id: String,
    pub name: String,
    pub login: String,
    /// Requests read: the most recent ones, up to the window's bound.
    pub requests: u64,
    pub findings: Vec<FindingView>,
}
