//! OAuth clients: validation, secrets and rotation, and which tokens a client still honours.

use coupa_proto::admin::{ClientView, CreateClient, GRANT_TYPES, UpdateClient};
use coupa_proto::errors::CoupaErrors;

use super::scope::ScopeSet;
use super::secret::{self, RandomnessUnavailable};
use super::time::format_rfc3339;

/// The longest name, login or email a form may send (its fields say so with `maxlength`).
pub const MAX_TEXT: usize = 255;
pub const MAX_CONTACT_INFO: usize = 2000;
const MAX_REDIRECT_URIS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    ClientCredentials,
    AuthorizationCode,
    /// RFC 8628, for devices without a browser.
    DeviceCode,
}

impl ClientKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "client_credentials" => Some(Self::ClientCredentials),
            "authorization_code" => Some(Self::AuthorizationCode),
            "device_code" => Some(Self::DeviceCode),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::AuthorizationCode => "authorization_code",
            Self::DeviceCode => "device_code",
        }
    }

    /// As Setup names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::ClientCredentials => "Client credentials",
            Self::AuthorizationCode => "Authorization code",
            Self::DeviceCode => "Device code",
        }
    }

    pub const ALL: [Self; 3] = [
        Self::ClientCredentials,
        Self::AuthorizationCode,
        Self::DeviceCode,
    ];
}

/// A client as stored. Secrets exist only as digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    pub name: String,
    pub login: String,
    /// Which grant the client is registered for (its kind; the admin API calls it
    /// `grant_type`).
    pub kind: ClientKind,
    pub contact_info: String,
    pub contact_email: String,
    pub scopes: ScopeSet,
    pub redirect_uris: Vec<String>,
    pub pkce: bool,
    pub allow_plain_pkce: bool,
    /// May introspect tokens issued to other clients (an admin's choice; by default a
    /// client sees only its own tokens as active).
    pub introspect_any_token: bool,
    pub active: bool,
    /// None for public (PKCE) clients, which have no secret.
    pub secret_digest: Option<Vec<u8>>,
    pub secret_generation: i64,
    pub previous_secret_digest: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<i64>,
    /// Tokens issued before this instant are refused (set when the client is deactivated).
    pub tokens_valid_after: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Bumped on every write; updates are compare-and-swap on it.
    pub version: i64,
}

#[derive(Debug)]
pub enum ClientError {
    Invalid(CoupaErrors),
    Randomness(RandomnessUnavailable),
}

impl From<RandomnessUnavailable> for ClientError {
    fn from(error: RandomnessUnavailable) -> Self {
        Self::Randomness(error)
    }
}

/// Why a token signed by this server is refused for its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientTokenRejection {
    Inactive,
    RevokedByDeactivation,
    SecretRotatedOut,
}

impl ClientTokenRejection {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Inactive => "the client of this token is deactivated",
            Self::RevokedByDeactivation => "the token was issued before the client was deactivated",
            Self::SecretRotatedOut => {
                "the token was minted with a client secret that has been rotated out"
            }
        }
    }
}

/// Server settings that client validation follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientRules {
    /// Accept `http://` redirect URIs for any host, not only loopback ones (RFC 8252 §7.3).
    pub allow_http_redirect_uris: bool,
}

/// Coupa requires `offline_access` of every authorization code client: its applications
/// keep access with refresh tokens.
fn require_offline_access(errors: &mut CoupaErrors, scopes: &ScopeSet) {
    if !errors.errors.contains_key("scope") && !scopes.iter().any(|scope| scope == "offline_access")
    {
        errors.add(
            "scope",
            "must include offline_access for the Authorization code grant type (it lets the \
             application refresh its tokens)",
        );
    }
}

impl ClientRecord {
    /// Validates a create request. Returns the record and, for confidential clients, the
    /// secret in clear text: the only time it exists outside the caller.
    pub fn create(
        input: CreateClient,
        now: i64,
        rules: ClientRules,
    ) -> Result<(Self, Option<String>), ClientError> {
        let mut errors = CoupaErrors::new();
        let name = required_text(&mut errors, "name", &input.name);
        let login = required_text(&mut errors, "login", &input.login);
        if login.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.add("login", "must not contain spaces");
        }
        let kind = ClientKind::parse(input.grant_type.trim());
        if kind.is_none() {
            errors.add(
                "grant_type",
                format!("must be one of: {}", GRANT_TYPES.join(", ")),
            );
        }
        let scopes = validate_scopes(&mut errors, &input.scope);
        if kind == Some(ClientKind::AuthorizationCode) {
            require_offline_access(&mut errors, &scopes);
        }
        validate_contact(&mut errors, &input.contact_info, &input.contact_email);
        let redirect_uris = validate_redirect_uris(&mut errors, &input.redirect_uris, rules);
        if kind == Some(ClientKind::AuthorizationCode) && input.redirect_uris.is_empty() {
            errors.add(
                "redirect_uris",
                "must hold at least one URI for an authorization code client",
            );
        }
        if input.pkce
            && !matches!(
                kind,
                Some(ClientKind::AuthorizationCode | ClientKind::DeviceCode)
            )
        {
            errors.add(
                "pkce",
                "applies to authorization code and device code clients only",
            );
        }
        if input.allow_plain_pkce && kind != Some(ClientKind::AuthorizationCode) {
            errors.add(
                "allow_plain_pkce",
                "applies to authorization code clients only",
            );
        }
        if input.introspect_any_token && input.pkce {
            errors.add(
                "introspect_any_token",
                "applies to confidential clients only: a public client cannot introspect",
            );
        }
        let Some(kind) = kind.filter(|_| errors.is_empty()) else {
            return Err(ClientError::Invalid(errors));
        };
        let secret = if input.pkce {
            None
        } else {
            Some(secret::generate_secret()?)
        };
        let record = Self {
            client_id: secret::generate_identifier()?,
            name,
            login,
            kind,
            contact_info: input.contact_info.trim().to_string(),
            contact_email: input.contact_email.trim().to_string(),
            scopes,
            redirect_uris,
            pkce: input.pkce,
            allow_plain_pkce: input.allow_plain_pkce,
            introspect_any_token: input.introspect_any_token,
            active: true,
            secret_digest: secret.as_deref().map(|s| secret::digest(s).to_vec()),
            secret_generation: 1,
            previous_secret_digest: None,
            previous_secret_expires_at: None,
            tokens_valid_after: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        Ok((record, secret))
    }

    /// Applies a partial update; fields left out keep their value.
    pub fn update(
        &mut self,
        changes: UpdateClient,
        now: i64,
        rules: ClientRules,
    ) -> Result<(), ClientError> {
        let mut errors = CoupaErrors::new();
        if let Some(name) = &changes.name {
            self.name = required_text(&mut errors, "name", name);
        }
        let contact_info = changes
            .contact_info
            .as_deref()
            .unwrap_or(&self.contact_info)
            .to_string();
        let contact_email = changes
            .contact_email
            .as_deref()
            .unwrap_or(&self.contact_email)
            .to_string();
        validate_contact(&mut errors, &contact_info, &contact_email);
        self.contact_info = contact_info.trim().to_string();
        self.contact_email = contact_email.trim().to_string();
        if let Some(scope) = &changes.scope {
            self.scopes = validate_scopes(&mut errors, scope);
            if self.kind == ClientKind::AuthorizationCode {
                require_offline_access(&mut errors, &self.scopes);
            }
        }
        if let Some(uris) = &changes.redirect_uris {
            self.redirect_uris = validate_redirect_uris(&mut errors, uris, rules);
            if self.kind == ClientKind::AuthorizationCode && uris.is_empty() {
                errors.add(
                    "redirect_uris",
                    "must hold at least one URI for an authorization code client",
                );
            }
        }
        if let Some(allow) = changes.allow_plain_pkce {
            if allow && self.kind != ClientKind::AuthorizationCode {
                errors.add(
                    "allow_plain_pkce",
                    "applies to authorization code clients only",
                );
            }
            self.allow_plain_pkce = allow;
        }
        if let Some(any) = changes.introspect_any_token {
            if any && self.pkce {
                errors.add(
                    "introspect_any_token",
                    "applies to confidential clients only: a public client cannot introspect",
                );
            }
            self.introspect_any_token = any;
        }
        if let Some(active) = changes.active {
            if self.active && !active {
                // +1: a token minted earlier in this same second must not survive.
                self.tokens_valid_after = now + 1;
            }
            self.active = active;
        }
        if !errors.is_empty() {
            return Err(ClientError::Invalid(errors));
        }
        self.updated_at = now;
        Ok(())
    }

    /// Replaces the secret. The old one keeps working for `grace_seconds`, so running
    /// integrations can be moved over; a second rotation within that time drops the first secret.
    pub fn rotate_secret(&mut self, now: i64, grace_seconds: i64) -> Result<String, ClientError> {
        if self.pkce {
            return Err(ClientError::Invalid(CoupaErrors::single(
                "base",
                "a PKCE (public) client has no secret to rotate",
            )));
        }
        let secret = secret::generate_secret()?;
        self.previous_secret_digest = self.secret_digest.take();
        self.previous_secret_expires_at = Some(now + grace_seconds);
        self.secret_digest = Some(secret::digest(&secret).to_vec());
        self.secret_generation += 1;
        self.updated_at = now;
        Ok(secret)
    }

    /// Checks a presented secret; on success returns the generation of the secret it matched.
    /// Both digests are always compared, so timing does not tell which one matched.
    pub fn authenticate(&self, presented: &str, now: i64) -> Option<i64> {
        let current = self
            .secret_digest
            .as_deref()
            .is_some_and(|digest| secret::matches(presented, digest));
        let previous = self
            .previous_secret_digest
            .as_deref()
            .is_some_and(|digest| secret::matches(presented, digest));
        if current {
            Some(self.secret_generation)
        } else if previous && self.previous_secret_valid(now) {
            Some(self.secret_generation - 1)
        } else {
            None
        }
    }

    fn previous_secret_valid(&self, now: i64) -> bool {
        self.previous_secret_expires_at
            .is_some_and(|until| now < until)
    }

    /// Whether a grant (and so its codes, refresh tokens and device codes) made at
    /// `created_at` may still yield tokens: not when the client was deactivated since.
    pub fn honours_grant_made_at(&self, created_at: i64) -> bool {
        self.active && created_at >= self.tokens_valid_after
    }

    /// Whether a token this server signed for the client is still honoured.
    pub fn accepts_token(
        &self,
        secret_generation: i64,
        issued_at: i64,
        now: i64,
    ) -> Result<(), ClientTokenRejection> {
        if !self.active {
            return Err(ClientTokenRejection::Inactive);
        }
        if issued_at < self.tokens_valid_after {
            return Err(ClientTokenRejection::RevokedByDeactivation);
        }
        let current = secret_generation == self.secret_generation;
        let in_grace =
            secret_generation == self.secret_generation - 1 && self.previous_secret_valid(now);
        // A public client has no secret: its tokens carry the generation it was created with.
        if current || in_grace || self.pkce {
            Ok(())
        } else {
            Err(ClientTokenRejection::SecretRotatedOut)
        }
    }

    pub fn view(&self, secret: Option<String>, now: i64) -> ClientView {
        ClientView {
            client_id: self.client_id.clone(),
            client_secret: secret,
            name: self.name.clone(),
            login: self.login.clone(),
            grant_type: self.kind.as_str().to_string(),
            scope: self.scopes.to_string(),
            contact_info: self.contact_info.clone(),
            contact_email: self.contact_email.clone(),
            redirect_uris: self.redirect_uris.clone(),
            pkce: self.pkce,
            allow_plain_pkce: self.allow_plain_pkce,
            introspect_any_token: self.introspect_any_token,
            active: self.active,
            previous_secret_valid_until: self
                .previous_secret_expires_at
                .filter(|_| self.previous_secret_valid(now))
                .map(format_rfc3339),
            created_at: format_rfc3339(self.created_at),
            updated_at: format_rfc3339(self.updated_at),
            last_token_at: None,
        }
    }
}

/// The key under which logins are unique, across clients and users.
pub fn login_key(login: &str) -> String {
    login.to_lowercase()
}

pub(crate) fn required_text(errors: &mut CoupaErrors, field: &str, value: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.add(field, "can't be blank");
    } else if value.chars().count() > MAX_TEXT {
        errors.add(
            field,
            format!("is too long (maximum is {MAX_TEXT} characters)"),
        );
    }
    value.to_string()
}

fn validate_scopes(errors: &mut CoupaErrors, text: &str) -> ScopeSet {
    let scopes = ScopeSet::parse(text);
    if scopes.is_empty() {
        errors.add("scope", "can't be empty: select at least one scope");
    }
    for unknown in scopes.unknown() {
        errors.add(
            "scope",
            format!("{unknown} is not a known scope (see `coupa scopes list`)"),
        );
    }
    scopes
}

fn validate_contact(errors: &mut CoupaErrors, info: &str, email: &str) {
    if info.chars().count() > MAX_CONTACT_INFO {
        errors.add(
            "contact_info",
            format!("is too long (maximum is {MAX_CONTACT_INFO} characters)"),
        );
    }
    let email = email.trim();
    if !email.is_empty() && !looks_like_email(email) {
        errors.add("contact_email", "is invalid");
    }
}

pub(crate) fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= MAX_TEXT
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

/// RFC 8252 §7.1: a native app's private-use scheme in reverse-domain form
/// (`com.example.app:/callback`), which cannot be confused with a web scheme.
fn is_private_use_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    scheme.contains('.')
        && scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '+' | '-'))
        && !rest.is_empty()
}

/// RFC 8252 §7.3: a loopback redirect (`http://127.0.0.1:PORT/...`, `[::1]`, `localhost`).
pub fn is_loopback_http_uri(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    coupa_proto::hosts::is_loopback_host(coupa_proto::hosts::host_of_authority(authority))
}

fn validate_redirect_uris(
    errors: &mut CoupaErrors,
    uris: &[String],
    rules: ClientRules,
) -> Vec<String> {
    if uris.len() > MAX_REDIRECT_URIS {
        errors.add(
            "redirect_uris",
            format!("at most {MAX_REDIRECT_URIS} are allowed"),
        );
    }
    let mut kept: Vec<String> = Vec::new();
    let mut reported: Vec<&str> = Vec::new();
    for uri in uris {
        let uri = uri.trim();
        if kept.iter().any(|existing| existing == uri) || reported.contains(&uri) {
            continue;
        }
        let scheme_ok = uri.starts_with("https://") || uri.starts_with("http://");
        let has_host = uri
            .split("://")
            .nth(1)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        if !(scheme_ok && has_host || is_private_use_uri(uri))
            || uri.contains('#')
            || uri.chars().any(char::is_whitespace)
            || uri.len() > 2000
        {
            errors.add(
                "redirect_uris",
                format!("“{uri}” is not an absolute http(s) URI (or a reverse-domain app scheme such as com.example.app:/cb) without a fragment"),
            );
            reported.push(uri);
        } else if uri.starts_with("http://")
            && !rules.allow_http_redirect_uris
            && !is_loopback_http_uri(uri)
        {
            errors.add(
                "redirect_uris",
                format!("“{uri}” uses http:// on a host that is not loopback: use https://, a loopback address (http://127.0.0.1:PORT/...) or start the server with --allow-http-redirect-uris"),
            );
            reported.push(uri);
        } else {
            kept.push(uri.to_string());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CreateClient {
        CreateClient {
            name: "Invoices sync".into(),
            login: "invoice-sync".into(),
            grant_type: "client_credentials".into(),
            scope: "core.invoice.read core.expense.read".into(),
            contact_info: "Integration team".into(),
            contact_email: "team@example.com".into(),
            ..CreateClient::default()
        }
    }

    fn invalid(result: Result<(ClientRecord, Option<String>), ClientError>) -> CoupaErrors {
        match result {
            Err(ClientError::Invalid(errors)) => errors,
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    #[test]
    fn create_yields_a_secret_stored_as_a_digest() {
        let (record, secret) = ClientRecord::create(input(), 1000, ClientRules::default()).unwrap();
        let secret = secret.unwrap();
        assert_eq!(record.authenticate(&secret, 1000), Some(1));
        assert_eq!(record.authenticate("wrong", 1000), None);
        assert_ne!(record.secret_digest.as_deref(), Some(secret.as_bytes()));
        assert_eq!(
            record.view(None, 1000).scope,
            "core.invoice.read core.expense.read"
        );
    }

    #[test]
    fn create_reports_every_invalid_field() {
        let errors = invalid(ClientRecord::create(
            CreateClient {
                name: " ".into(),
                login: "has space".into(),
                grant_type: "password".into(),
                scope: "core.nothing.read".into(),
                contact_email: "not-an-email".into(),
                ..CreateClient::default()
            },
            0,
            ClientRules::default(),
        ));
        for field in ["name", "login", "grant_type", "scope", "contact_email"] {
            assert!(
                errors.errors.contains_key(field),
                "{field} not reported: {errors:?}"
            );
        }
        let errors = invalid(ClientRecord::create(
            CreateClient {
                scope: "".into(),
                ..input()
            },
            0,
            ClientRules::default(),
        ));
        assert_eq!(
            errors.errors["scope"],
            vec!["can't be empty: select at least one scope".to_string()]
        );
    }

    #[test]
    fn authorization_code_clients_need_offline_access_as_coupa_does() {
        let code_client = |scope: &str| CreateClient {
            grant_type: "authorization_code".into(),
            scope: scope.into(),
            redirect_uris: vec!["https://app.example.com/cb".into()],
            ..input()
        };
        let errors = invalid(ClientRecord::create(
            code_client("openid core.invoice.read"),
            0,
            ClientRules::default(),
        ));
        assert_eq!(errors.errors.len(), 1, "{errors:?}");
        assert!(errors.errors["scope"][0].starts_with("must include offline_access"));
        let (mut record, _) = ClientRecord::create(
            code_client("openid offline_access core.invoice.read"),
            0,
            ClientRules::default(),
        )
        .unwrap();
        let removed = record.update(
            UpdateClient {
                scope: Some("openid core.invoice.read".into()),
                ..UpdateClient::default()
            },
            1,
            ClientRules::default(),
        );
        assert!(removed.is_err(), "an update cannot drop it either");
        let empty = invalid(ClientRecord::create(
            code_client(""),
            0,
            ClientRules::default(),
        ));
        assert_eq!(
            empty.errors["scope"].len(),
            1,
            "one message, not two: {empty:?}"
        );
    }

    #[test]
    fn authorization_code_clients_need_redirect_uris() {
        let errors = invalid(ClientRecord::create(
            CreateClient {
                grant_type: "authorization_code".into(),
                scope: "offline_access core.invoice.read".into(),
                ..input()
            },
            0,
            ClientRules::default(),
        ));
        assert!(errors.errors.contains_key("redirect_uris"));
        let errors = invalid(ClientRecord::create(
            CreateClient {
                grant_type: "authorization_code".into(),
                scope: "offline_access core.invoice.read".into(),
                redirect_uris: vec!["ftp://x".into(), "https://app.example.com/cb#frag".into()],
                ..input()
            },
            0,
            ClientRules::default(),
        ));
        assert_eq!(errors.errors["redirect_uris"].len(), 2);
        let (record, secret) = ClientRecord::create(
            CreateClient {
                grant_type: "authorization_code".into(),
                scope: "offline_access core.invoice.read".into(),
                redirect_uris: vec!["https://app.example.com/cb".into()],
                pkce: true,
                ..input()
            },
            0,
            ClientRules::default(),
        )
        .unwrap();
        assert!(secret.is_none() && record.secret_digest.is_none());
    }

    #[test]
    fn rotation_keeps_the_old_secret_for_the_grace_period() {
        let (mut record, old) =
            ClientRecord::create(input(), 1000, ClientRules::default()).unwrap();
        let old = old.unwrap();
        let new = record.rotate_secret(2000, 60).unwrap();
        assert_eq!(record.authenticate(&new, 2000), Some(2));
        assert_eq!(record.authenticate(&old, 2059), Some(1));
        assert_eq!(record.authenticate(&old, 2060), None);
        assert_eq!(record.accepts_token(1, 1500, 2059), Ok(()));
        assert_eq!(
            record.accepts_token(1, 1500, 2060),
            Err(ClientTokenRejection::SecretRotatedOut)
        );
        assert_eq!(record.accepts_token(2, 2000, 2060), Ok(()));
    }

    #[test]
    fn deactivation_revokes_earlier_tokens_for_good() {
        let (mut record, _) = ClientRecord::create(input(), 1000, ClientRules::default()).unwrap();
        let off = UpdateClient {
            active: Some(false),
            ..UpdateClient::default()
        };
        record.update(off, 1500, ClientRules::default()).unwrap();
        assert_eq!(
            record.accepts_token(1, 1400, 1600),
            Err(ClientTokenRejection::Inactive)
        );
        let on = UpdateClient {
            active: Some(true),
            ..UpdateClient::default()
        };
        record.update(on, 1700, ClientRules::default()).unwrap();
        assert_eq!(
            record.accepts_token(1, 1500, 1700),
            Err(ClientTokenRejection::RevokedByDeactivation)
        );
        assert_eq!(record.accepts_token(1, 1701, 1702), Ok(()));
    }

    #[test]
    fn update_validates_and_keeps_untouched_fields() {
        let (mut record, _) = ClientRecord::create(input(), 1000, ClientRules::default()).unwrap();
        let change = UpdateClient {
            scope: Some("core.bogus".into()),
            ..UpdateClient::default()
        };
        assert!(matches!(
            record.update(change, 1001, ClientRules::default()),
            Err(ClientError::Invalid(_))
        ));
        let change = UpdateClient {
            name: Some("Renamed".into()),
            ..UpdateClient::default()
        };
        let mut fresh = ClientRecord::create(input(), 1000, ClientRules::default())
            .unwrap()
            .0;
        fresh.update(change, 1002, ClientRules::default()).unwrap();
        assert_eq!(fresh.name, "Renamed");
        assert_eq!(fresh.contact_email, "team@example.com");
        assert_eq!(fresh.updated_at, 1002);
    }

    #[test]
    fn redirect_uris_are_web_or_reverse_domain_app_schemes() {
        assert!(is_private_use_uri("com.example.app:/callback"));
        for refused in [
            "javascript:alert(1)",
            "data:text/html,x",
            "Com.Example:/cb",
            "com.example:",
            "file:///etc",
        ] {
            assert!(!is_private_use_uri(refused), "{refused}");
        }
        let mut errors = CoupaErrors::new();
        let kept = validate_redirect_uris(
            &mut errors,
            &[
                "https://app.example/cb".into(),
                "com.example.app:/cb".into(),
                "javascript:x".into(),
            ],
            ClientRules::default(),
        );
        assert_eq!(kept, vec!["https://app.example/cb", "com.example.app:/cb"]);
        assert!(!errors.is_empty(), "javascript: is refused");
    }

    #[test]
    fn http_redirect_uris_only_for_loopback_unless_allowed() {
        let with_uris = |uris: &[&str]| CreateClient {
            grant_type: "authorization_code".into(),
            scope: "offline_access core.invoice.read".into(),
            redirect_uris: uris.iter().map(|uri| uri.to_string()).collect(),
            ..input()
        };
        for loopback in [
            "http://127.0.0.1:8765/cb",
            "http://localhost/cb",
            "http://[::1]:9000/cb",
            "http://127.1.2.3/cb",
        ] {
            assert!(
                ClientRecord::create(with_uris(&[loopback]), 0, ClientRules::default()).is_ok(),
                "{loopback}"
            );
        }
        for remote in [
            "http://app.example.com/cb",
            "http://10.0.0.5/cb",
            "http://localhost.evil.example/cb",
        ] {
            let errors = invalid(ClientRecord::create(
                with_uris(&[remote]),
                0,
                ClientRules::default(),
            ));
            assert!(
                errors.errors["redirect_uris"][0].contains("--allow-http-redirect-uris"),
                "{remote}: {errors:?}"
            );
            let allowed = ClientRules {
                allow_http_redirect_uris: true,
            };
            assert!(ClientRecord::create(with_uris(&[remote]), 0, allowed).is_ok());
        }
    }

    #[test]
    fn grants_made_before_a_deactivation_stay_dead_after_reactivation() {
        let (mut record, _) = ClientRecord::create(input(), 1000, ClientRules::default()).unwrap();
        assert!(record.honours_grant_made_at(1200));
        let set_active = |active| UpdateClient {
            active: Some(active),
            ..UpdateClient::default()
        };
        record
            .update(set_active(false), 1500, ClientRules::default())
            .unwrap();
        assert!(!record.honours_grant_made_at(1600));
        record
            .update(set_active(true), 1700, ClientRules::default())
            .unwrap();
        assert!(!record.honours_grant_made_at(1200));
        assert!(record.honours_grant_made_at(1701));
    }
}
