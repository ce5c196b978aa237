//! What a user's consent leaves behind: browser sessions, grants, authorization codes and
//! refresh tokens, and the rules for using them.

use super::pkce::{self, Method, VerifierError};
use super::scope::ScopeSet;

/// A code lives at most this long (RFC 6749 §4.1.2 recommends 10 minutes at most).
pub const CODE_LIFETIME_SECONDS: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub session_digest: Vec<u8>,
    pub user_id: String,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// One user's consent to one client. Every code, refresh token and access token issued
/// from it names it; revoking it revokes them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub grant_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scopes: ScopeSet,
    pub auth_time: i64,
    pub nonce: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub code_digest: Vec<u8>,
    pub grant_id: String,
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri`; then the token request must
    /// name the same (RFC 6749 §4.1.3).
    pub redirect_uri_given: bool,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_digest: Vec<u8>,
    pub grant_id: String,
    pub scopes: ScopeSet,
    pub issued_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First use: the code is now spent.
    Redeemed(Box<(CodeRecord, GrantRecord)>),
    /// The code was used before: whoever holds it now may have stolen it.
    Replayed {
        grant_id: String,
    },
    /// Unspent, but issued to another client: left unspent for its rightful client.
    OtherClient,
    Unknown,
}

/// What rotating a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is spent and the new one stored.
    Rotated,
    /// Another request rotated it within the grace window: a concurrent retry, not theft.
    JustRotated,
    /// Rotated earlier than the grace window allows, or its grant is revoked: the family
    /// must be revoked.
    Reused {
        grant_id: String,
    },
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeError {
    Expired,
    WrongClient,
    RedirectMismatch,
    RedirectMissing,
    Verifier(VerifierError),
}

impl CodeError {
    pub fn describe(&self) -> String {
        match self {
            Self::Expired => "the authorization code has expired (codes live 10 minutes); start the authorization again".into(),
            Self::WrongClient => "the authorization code was issued to another client".into(),
            Self::RedirectMismatch => "redirect_uri differs from the one of the authorization request".into(),
            Self::RedirectMissing => "redirect_uri is missing: the authorization request named one, so the token request must send the same".into(),
            Self::Verifier(error) => error.describe().into(),
        }
    }
}

impl CodeRecord {
    /// RFC 6749 §4.1.3 and RFC 7636 §4.6 checks of a freshly redeemed code.
    pub fn check(
        &self,
        grant: &GrantRecord,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        now: i64,
    ) -> Result<(), CodeError> {
        if grant.client_id != client_id {
            return Err(CodeError::WrongClient);
        }
        if now >= self.expires_at {
            return Err(CodeError::Expired);
        }
        // The authorization request may have left redirect_uri out (one registered URI);
        // then the token request may too.
        match redirect_uri {
            Some(uri) if uri != self.redirect_uri => return Err(CodeError::RedirectMismatch),
            None if self.redirect_uri_given => return Err(CodeError::RedirectMissing),
            _ => {}
        }
        let challenge = self.code_challenge.as_deref().map(|challenge| {
            let method =
                Method::parse(self.code_challenge_method.as_deref()).unwrap_or(Method::S256);
            (challenge, method)
        });
        pkce::verify(challenge, verifier).map_err(CodeError::Verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> GrantRecord {
        GrantRecord {
            grant_id: "g".into(),
            client_id: "c".into(),
            user_id: "u".into(),
            scopes: ScopeSet::parse("openid"),
            auth_time: 0,
            nonce: None,
            created_at: 0,
            revoked_at: None,
        }
    }

    fn code(challenge: Option<&str>) -> CodeRecord {
        CodeRecord {
            code_digest: vec![1],
            grant_id: "g".into(),
            redirect_uri: "https://app/cb".into(),
            redirect_uri_given: false,
            code_challenge: challenge.map(str::to_string),
            code_challenge_method: challenge.map(|_| "S256".to_string()),
            expires_at: 600,
            used_at: None,
        }
    }

    #[test]
    fn each_rule_has_its_error() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = pkce::challenge_of(verifier, Method::S256);
        let code = code(Some(&challenge));
        assert_eq!(
            code.check(&grant(), "c", Some("https://app/cb"), Some(verifier), 10),
            Ok(())
        );
        assert_eq!(code.check(&grant(), "c", None, Some(verifier), 10), Ok(()));
        assert_eq!(
            code.check(&grant(), "x", None, Some(verifier), 10),
            Err(CodeError::WrongClient)
        );
        assert_eq!(
            code.check(&grant(), "c", None, Some(verifier), 600),
            Err(CodeError::Expired)
        );
        assert_eq!(
            code.check(&grant(), "c", Some("https://app/other"), Some(verifier), 10),
            Err(CodeError::RedirectMismatch)
        );
        assert_eq!(
            code.check(&grant(), "c", None, Some(&"a".repeat(43)), 10),
            Err(CodeError::Verifier(VerifierError::Mismatch))
        );
        assert!(
            code.check(&grant(), "c", None, None, 10)
                .unwrap_err()
                .describe()
                .contains("code_verifier is missing")
        );
        let named = CodeRecord {
            redirect_uri_given: true,
            ..code.clone()
        };
        assert_eq!(
            named.check(&grant(), "c", None, Some(verifier), 10),
            Err(CodeError::RedirectMissing)
        );
        assert_eq!(
            named.check(&grant(), "c", Some("https://app/cb"), Some(verifier), 10),
            Ok(())
        );
    }
}
