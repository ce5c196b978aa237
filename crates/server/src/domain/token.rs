//! Claims of the access tokens this server issues: a JWT profile per RFC 9068.

use serde::{Deserialize, Serialize};

/// The media type in the JOSE `typ` header of an access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    /// The client's login: the API user that records show in `created-by`.
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// Which generation of the client secret minted the token, so that tokens minted with a
    /// rotated-out secret stop working when its grace period ends.
    pub secret_generation: i64,
    /// For tokens from a user's consent: the grant, so that revoking it revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// Filler that makes the token as long as an `oversized_token` fault asks (the sandbox's
    /// tokens of a scope-heavy client); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding: Option<String>,
}

/// An OpenID Connect ID token (Core §2), always signed with RS256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    /// The user's id: stable, never reassigned.
    pub sub: String,
    pub aud: String,
    pub azp: String,
    pub iat: i64,
    pub exp: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub at_hash: String,
}

/// The JOSE `typ` of ID tokens.
pub const ID_TOKEN_TYPE: &str = "JWT";

/// OpenID Connect Core §3.1.3.6: the left half of the SHA-256 of the access token, base64url.
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

/// Why a well-signed token is still not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
}

impl TokenRejection {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Expired => "the access token has expired; request a new one at /oauth2/token",
            Self::NotYetValid => "the access token is not valid yet (check the clocks)",
            Self::WrongIssuer => "the access token was issued by another server",
            Self::WrongAudience => "the access token is not meant for this API",
        }
    }
}

/// Clock skew tolerated on `iat`.
const LEEWAY_SECONDS: i64 = 60;

impl AccessTokenClaims {
    pub fn check_time_and_origin(
        &self,
        issuer: &str,
        audience: &str,
        now: i64,
    ) -> Result<(), TokenRejection> {
        if self.iss != issuer {
            return Err(TokenRejection::WrongIssuer);
        }
        if self.aud != audience {
            return Err(TokenRejection::WrongAudience);
        }
        if self.exp <= now {
            return Err(TokenRejection::Expired);
        }
        if self.iat > now + LEEWAY_SECONDS {
            return Err(TokenRejection::NotYetValid);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "https://i".into(),
            sub: "api".into(),
            aud: "https://i/api".into(),
            client_id: "c".into(),
            scope: "core.invoice.read".into(),
            iat: 100,
            exp: 200,
            jti: "j".into(),
            secret_generation: 1,
            gid: None,
            padding: None,
        }
    }

    #[test]
    fn checks_each_rule() {
        let c = claims();
        assert_eq!(
            c.check_time_and_origin("https://i", "https://i/api", 150),
            Ok(())
        );
        assert_eq!(
            c.check_time_and_origin("https://i", "https://i/api", 200),
            Err(TokenRejection::Expired)
        );
        assert_eq!(
            c.check_time_and_origin("https://x", "https://i/api", 150),
            Err(TokenRejection::WrongIssuer)
        );
        assert_eq!(
            c.check_time_and_origin("https://i", "https://x", 150),
            Err(TokenRejection::WrongAudience)
        );
        assert_eq!(
            c.check_time_and_origin("https://i", "https://i/api", 20),
            Err(TokenRejection::NotYetValid)
        );
    }
}
