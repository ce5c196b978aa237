//! The `Authorization` request header: HTTP Basic client credentials (RFC 6749 §2.3.1) and
//! bearer tokens (RFC 6750 §2.1). Schemes match case-insensitively, since Coupa's own
//! integrations send `bearer` in lower case.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::form::decode_component;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    Basic {
        client_id: String,
        client_secret: String,
    },
    Bearer(String),
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationError {
    MalformedBasic,
    MalformedBearer,
}

impl std::fmt::Display for AuthorizationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MalformedBasic => {
                "the Basic credentials are not base64 of `client_id:client_secret`"
            }
            Self::MalformedBearer => "the Authorization header does not hold a bearer token",
        })
    }
}

pub fn parse(header: &str) -> Result<Authorization, AuthorizationError> {
    let header = header.trim();
    let (scheme, rest) = match header.find(' ') {
        Some(at) => (&header[..at], header[at..].trim_start()),
        None => (header, ""),
    };
    if scheme.eq_ignore_ascii_case("basic") {
        parse_basic(rest)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        parse_bearer(rest)
    } else {
        Ok(Authorization::Other(scheme.to_string()))
    }
}

fn parse_basic(credentials: &str) -> Result<Authorization, AuthorizationError> {
    let decoded = STANDARD
        .decode(credentials)
        .map_err(|_| AuthorizationError::MalformedBasic)?;
    let colon = decoded
        .iter()
        .position(|&b| b == b':')
        .ok_or(AuthorizationError::MalformedBasic)?;
    // RFC 6749 §2.3.1: both halves are form-urlencoded before base64.
    let client_id =
        decode_component(&decoded[..colon]).map_err(|_| AuthorizationError::MalformedBasic)?;
    let client_secret =
        decode_component(&decoded[colon + 1..]).map_err(|_| AuthorizationError::MalformedBasic)?;
    if client_id.is_empty() {
        return Err(AuthorizationError::MalformedBasic);
    }
    Ok(Authorization::Basic {
        client_id,
        client_secret,
    })
}

/// RFC 6750 §2.1 b64token: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn parse_bearer(token: &str) -> Result<Authorization, AuthorizationError> {
    let body = token.trim_end_matches('=');
    let well_formed = !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        });
    if well_formed {
        Ok(Authorization::Bearer(token.to_string()))
    } else {
        Err(AuthorizationError::MalformedBearer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20client:s%2Bcret:x"));
        assert_eq!(
            parse(&header),
            Ok(Authorization::Basic {
                client_id: "my client".into(),
                client_secret: "s+cret:x".into()
            })
        );
    }

    #[test]
    fn schemes_match_in_any_case() {
        assert_eq!(
            parse("bearer abc.def"),
            Ok(Authorization::Bearer("abc.def".into()))
        );
        assert_eq!(parse("BEARER abc"), Ok(Authorization::Bearer("abc".into())));
        assert_eq!(parse("Digest x"), Ok(Authorization::Other("Digest".into())));
    }

    #[test]
    fn malformed_credentials_are_errors() {
        assert_eq!(parse("Basic !!!"), Err(AuthorizationError::MalformedBasic));
        assert_eq!(
            parse(&format!("Basic {}", STANDARD.encode("nocolon"))),
            Err(AuthorizationError::MalformedBasic)
        );
        assert_eq!(parse("Bearer"), Err(AuthorizationError::MalformedBearer));
        assert_eq!(
            parse("Bearer a b"),
            Err(AuthorizationError::MalformedBearer)
        );
    }

    proptest! {
        #[test]
        fn never_panics(header in "\\PC{0,200}") {
            let _ = parse(&header);
        }

        #[test]
        fn never_panics_on_basic_payloads(payload in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&format!("Basic {}", STANDARD.encode(payload)));
        }
    }
}
