//! PKCE (RFC 7636): the challenge sent to the authorization endpoint and the verifier sent
//! with the code.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    S256,
    Plain,
}

impl Method {
    /// `code_challenge_method`; RFC 7636 §4.3 makes `plain` the default when absent.
    pub fn parse(text: Option<&str>) -> Option<Self> {
        match text {
            Some("S256") => Some(Self::S256),
            Some("plain") | None => Some(Self::Plain),
            Some(_) => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`. A challenge has the same
/// alphabet and length (an S256 challenge is exactly 43).
pub fn is_well_formed(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The challenge a verifier answers, for `method`.
pub fn challenge_of(verifier: &str, method: Method) -> String {
    match method {
        Method::Plain => verifier.to_string(),
        Method::S256 => {
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifierError {
    Missing,
    Malformed,
    Mismatch,
    /// A verifier was sent for a code issued without a challenge.
    Unexpected,
}

impl VerifierError {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Missing => {
                "code_verifier is missing: this code was issued with a PKCE code_challenge"
            }
            Self::Malformed => {
                "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)"
            }
            Self::Mismatch => {
                "code_verifier does not match the code_challenge of the authorization request"
            }
            Self::Unexpected => {
                "code_verifier was sent, but the authorization request had no code_challenge"
            }
        }
    }
}

/// Checks the verifier sent with a code against the challenge stored with it.
pub fn verify(
    challenge: Option<(&str, Method)>,
    verifier: Option<&str>,
) -> Result<(), VerifierError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(VerifierError::Unexpected),
        (Some(_), None) => Err(VerifierError::Missing),
        (Some((challenge, method)), Some(verifier)) => {
            if !is_well_formed(verifier) {
                return Err(VerifierError::Malformed);
            }
            let computed = challenge_of(verifier, method);
            if bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                Ok(())
            } else {
                Err(VerifierError::Mismatch)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            challenge_of(verifier, Method::S256),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let challenge = challenge_of(verifier, Method::S256);
        assert_eq!(
            verify(Some((&challenge, Method::S256)), Some(verifier)),
            Ok(())
        );
        assert_eq!(
            verify(
                Some((&challenge, Method::S256)),
                Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX")
            ),
            Err(VerifierError::Mismatch)
        );
        assert_eq!(
            verify(Some((&challenge, Method::S256)), None),
            Err(VerifierError::Missing)
        );
        assert_eq!(verify(None, Some(verifier)), Err(VerifierError::Unexpected));
        assert_eq!(
            verify(Some((&challenge, Method::S256)), Some("short")),
            Err(VerifierError::Malformed)
        );
    }

    #[test]
    fn methods() {
        assert_eq!(Method::parse(None), Some(Method::Plain));
        assert_eq!(Method::parse(Some("S256")), Some(Method::S256));
        assert_eq!(Method::parse(Some("s256")), None);
    }

    proptest! {
        #[test]
        fn any_verifier_is_checked_without_panicking(verifier in "\\PC{0,200}", challenge in "[A-Za-z0-9_-]{43}") {
            let _ = verify(Some((&challenge, Method::S256)), Some(&verifier));
            let _ = verify(Some((&challenge, Method::Plain)), Some(&verifier));
        }

        #[test]
        fn well_formed_verifiers_match_their_own_challenge(verifier in "[A-Za-z0-9._~-]{43,128}") {
            prop_assert!(is_well_formed(&verifier));
            for method in [Method::S256, Method::Plain] {
                let challenge = challenge_of(&verifier, method);
                prop_assert_eq!(verify(Some((&challenge, method)), Some(&verifier)), Ok(()));
            }
        }
    }
}
