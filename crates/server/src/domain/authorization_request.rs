//! The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core §3.1.2.1):
//! which errors may be sent back to the client and which must only be shown to the user.

use super::client::{ClientKind, ClientRecord};
use super::form::FormParams;
use super::pkce::{self, Method};
use super::scope::{ScopeError, ScopeSet, describe_not_granted};

const MAX_STATE: usize = 2048;
const MAX_NONCE: usize = 512;

/// A request that passed every check: what the consent page shows and the code will carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (rather than relying on the one registered).
    pub redirect_uri_given: bool,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<(String, Method)>,
    /// OpenID Connect `prompt`: `none` asks for no page at all, `login` for a fresh sign-in.
    pub prompt: Prompt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prompt {
    #[default]
    Default,
    None,
    Login,
    Consent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or the redirect URI cannot be trusted: tell the user, never redirect.
    Page(String),
    /// RFC 6749 §4.1.2.1: back to the client with `error`, `error_description` and `state`.
    Redirect(RedirectError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub error: &'static str,
    pub description: String,
    pub state: Option<String>,
}

impl RedirectError {
    /// The redirect URI with the error appended to its query.
    pub fn location(&self) -> String {
        let mut pairs = vec![
            ("error", self.error.to_string()),
            ("error_description", self.description.clone()),
        ];
        if let Some(state) = &self.state {
            pairs.push(("state", state.clone()));
        }
        with_query(&self.redirect_uri, &pairs)
    }
}

/// Appends form-encoded pairs to a URI's query, keeping what it already holds.
pub fn with_query(uri: &str, pairs: &[(&str, String)]) -> String {
    let mut encoded = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        encoded.append_pair(name, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", encoded.finish())
}

/// Validates `params` against the client `find_client` returns.
pub fn validate(
    params: &FormParams,
    find_client: impl Fn(&str) -> Option<std::sync::Arc<ClientRecord>>,
) -> Result<(AuthorizeRequest, std::sync::Arc<ClientRecord>), AuthorizeError> {
    let page = |message: &str| AuthorizeError::Page(message.to_string());
    let client_id = params.get("client_id").ok_or_else(|| {
        page("The request has no client_id. Ask the application's owner to fix its sign-in link.")
    })?;
    let client = find_client(client_id).ok_or_else(|| {
        page("The application asking for access is not registered here (unknown client_id).")
    })?;
    if client.kind != ClientKind::AuthorizationCode {
        return Err(page(
            "This application is not registered for the authorization code grant, so it cannot ask users for access.",
        ));
    }
    if !client.active {
        return Err(page(
            "This application has been deactivated by an administrator.",
        ));
    }
    let redirect_uri = match params.get("redirect_uri") {
        Some(uri)
            if client
                .redirect_uris
                .iter()
                .any(|registered| registered == uri) =>
        {
            uri.to_string()
        }
        Some(_) => {
            return Err(page(
                "The redirect_uri of this request is not registered for the application, so the answer will not be sent there.",
            ));
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(page(
                    "The request has no redirect_uri and the application has several registered: it must name one.",
                ));
            }
        },
    };
    let redirect_uri_given = params.get("redirect_uri").is_some();
    let state = params.get("state").map(str::to_string);
    let redirect = |error: &'static str, description: String| {
        AuthorizeError::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            error,
            description,
            state: state.clone(),
        })
    };
    if state.as_ref().is_some_and(|state| state.len() > MAX_STATE) {
        return Err(redirect(
            "invalid_request",
            format!("state is longer than {MAX_STATE} characters"),
        ));
    }
    match params.get("response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(redirect(
                "unsupported_response_type",
                format!("response_type {other} is not supported; use code"),
            ));
        }
        None => {
            return Err(redirect(
                "invalid_request",
                "response_type is missing; use code".into(),
            ));
        }
    }
    if params.get("request").is_some() || params.get("request_uri").is_some() {
        return Err(redirect(
            if params.get("request").is_some() {
                "request_not_supported"
            } else {
                "request_uri_not_supported"
            },
            "request objects are not supported; send the parameters in the query".into(),
        ));
    }
    let scopes = ScopeSet::grant(&client.scopes, params.get("scope")).map_err(
        |ScopeError::NotGranted(missing)| redirect("invalid_scope", describe_not_granted(&missing)),
    )?;
    let nonce = params.get("nonce").map(str::to_string);
    if nonce.as_ref().is_some_and(|nonce| nonce.len() > MAX_NONCE) {
        return Err(redirect(
            "invalid_request",
            format!("nonce is longer than {MAX_NONCE} characters"),
        ));
    }
    let code_challenge = match params.get("code_challenge") {
        None if client.pkce => {
            return Err(redirect(
                "invalid_request",
                "this is a public (PKCE) client: send code_challenge and code_challenge_method=S256".into(),
            ));
        }
        None => {
            if params.get("code_challenge_method").is_some() {
                return Err(redirect(
                    "invalid_request",
                    "code_challenge_method was sent without code_challenge".into(),
                ));
            }
            None
        }
        Some(challenge) => {
            let method = Method::parse(params.get("code_challenge_method")).ok_or_else(|| {
                redirect(
                    "invalid_request",
                    "code_challenge_method must be S256 (or plain, where allowed)".into(),
                )
            })?;
            if method == Method::Plain && !client.allow_plain_pkce {
                return Err(redirect(
                    "invalid_request",
                    "the PKCE plain method is not allowed for this client; use code_challenge_method=S256".into(),
                ));
            }
            if !pkce::is_well_formed(challenge) || (method == Method::S256 && challenge.len() != 43)
            {
                return Err(redirect(
                    "invalid_request",
                    "code_challenge is malformed: for S256 send the 43-character base64url SHA-256 of the verifier".into(),
                ));
            }
            Some((challenge.to_string(), method))
        }
    };
    let prompt = match params.get("prompt") {
        None => Prompt::Default,
        Some("none") => Prompt::None,
        Some("login") => Prompt::Login,
        Some("consent") => Prompt::Consent,
        Some(other) => {
            return Err(redirect(
                "invalid_request",
                format!("prompt {other} is not supported; use none, login or consent"),
            ));
        }
    };
    Ok((
        AuthorizeRequest {
            client_id: client.client_id.clone(),
            redirect_uri,
            redirect_uri_given,
            scopes,
            state,
            nonce,
            code_challenge,
            prompt,
        },
        client,
    ))
}

impl AuthorizeRequest {
    /// The parameters that reproduce this request, for the hidden fields of the consent form.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("client_id", self.client_id.clone()),
            ("response_type", "code".to_string()),
        ];
        if self.redirect_uri_given {
            params.push(("redirect_uri", self.redirect_uri.clone()));
        }
        params.push(("scope", self.scopes.to_string()));
        if let Some(state) = &self.state {
            params.push(("state", state.clone()));
        }
        if let Some(nonce) = &self.nonce {
            params.push(("nonce", nonce.clone()));
        }
        if let Some((challenge, method)) = &self.code_challenge {
            params.push(("code_challenge", challenge.clone()));
            params.push(("code_challenge_method", method.as_str().to_string()));
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coupa_proto::admin::CreateClient;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn client(pkce: bool) -> Arc<ClientRecord> {
        let (mut record, _) = ClientRecord::create(
            CreateClient {
                name: "App".into(),
                login: "app".into(),
                grant_type: "authorization_code".into(),
                scope: "openid profile offline_access core.invoice.read".into(),
                redirect_uris: vec!["https://app.example/cb".into()],
                pkce,
                ..CreateClient::default()
            },
            0,
            crate::domain::client::ClientRules::default(),
        )
        .unwrap();
        record.client_id = "c1".into();
        Arc::new(record)
    }

    fn run(query: &str, pkce: bool) -> Result<AuthorizeRequest, AuthorizeError> {
        let params = FormParams::parse(query.as_bytes()).unwrap();
        let record = client(pkce);
        validate(&params, |id| (id == "c1").then(|| Arc::clone(&record)))
            .map(|(request, _)| request)
    }

    const S256: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn untrusted_clients_and_redirects_get_a_page() {
        for query in [
            "response_type=code",
            "client_id=nope&response_type=code",
            "client_id=c1&redirect_uri=https://evil.example/cb&response_type=code",
            "client_id=c1&redirect_uri=https://app.example/cb/&response_type=code",
        ] {
            assert!(
                matches!(run(query, false), Err(AuthorizeError::Page(_))),
                "{query}"
            );
        }
    }

    #[test]
    fn other_errors_go_back_with_the_state() {
        let Err(AuthorizeError::Redirect(error)) =
            run("client_id=c1&response_type=token&state=xyz", false)
        else {
            panic!("expected a redirect");
        };
        assert_eq!(error.error, "unsupported_response_type");
        assert_eq!(
            error.location().split('?').next(),
            Some("https://app.example/cb")
        );
        assert!(
            error.location().ends_with("&state=xyz"),
            "{}",
            error.location()
        );
        let Err(AuthorizeError::Redirect(error)) = run(
            "client_id=c1&response_type=code&scope=core.user.write",
            false,
        ) else {
            panic!("expected a redirect");
        };
        assert_eq!(error.error, "invalid_scope");
    }

    #[test]
    fn pkce_rules() {
        let public_without = run("client_id=c1&response_type=code", true);
        assert!(
            matches!(public_without, Err(AuthorizeError::Redirect(ref e)) if e.error == "invalid_request")
        );
        let plain = run(
            &format!("client_id=c1&response_type=code&code_challenge={S256}"),
            false,
        );
        assert!(
            matches!(plain, Err(AuthorizeError::Redirect(ref e)) if e.description.contains("plain")),
            "plain (the default method) is refused unless allowed: {plain:?}"
        );
        let ok = run(
            &format!("client_id=c1&response_type=code&code_challenge={S256}&code_challenge_method=S256&state=s&nonce=n"),
            true,
        )
        .unwrap();
        assert_eq!(ok.code_challenge, Some((S256.to_string(), Method::S256)));
        assert_eq!(
            ok.redirect_uri, "https://app.example/cb",
            "the only registered URI"
        );
        assert_eq!(
            ok.scopes.to_string(),
            "openid profile offline_access core.invoice.read"
        );
        let again = FormParams::parse(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(ok.params())
                .finish()
                .as_bytes(),
        )
        .unwrap();
        let record = client(true);
        assert_eq!(
            validate(&again, |_| Some(Arc::clone(&record)))
                .unwrap()
                .0
                .state,
            ok.state
        );
    }

    proptest! {
        #[test]
        fn any_query_is_judged_without_panicking(query in "\\PC{0,300}") {
            if let Ok(params) = FormParams::parse(query.as_bytes()) {
                let record = client(false);
                let _ = validate(&params, |_| Some(Arc::clone(&record)));
            }
        }

        #[test]
        fn a_redirect_never_leaves_the_registered_uri(state in "\\PC{0,50}", scope in "[a-z. ]{0,40}") {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", "c1")
                .append_pair("response_type", "code")
                .append_pair("state", &state)
                .append_pair("scope", &scope)
                .finish();
            if let Err(AuthorizeError::Redirect(error)) = run(&query, false) {
                prop_assert!(error.location().starts_with("https://app.example/cb?"));
            }
        }
    }
}
