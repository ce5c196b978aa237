//! The error every OAuth endpoint answers (RFC 6749 §5.2); the web layer turns it into a
//! response.

use coupa_proto::oauth::OAuthErrorCode;

#[derive(Debug)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    /// The client tried HTTP Basic: a 401 must name the scheme (RFC 6749 §5.2).
    pub basic_challenge: bool,
    /// The caller is going too fast: answered 429 with this `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            basic_challenge: false,
            retry_after: None,
        }
    }

    /// `slow_down` for a caller over its rate: wait `retry_after` seconds.
    pub fn too_many(description: impl Into<String>, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(OAuthErrorCode::SlowDown, description)
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, description)
    }

    /// A fault of this server (store, randomness, signing): logged with its cause, answered
    /// without it.
    pub fn unavailable(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "token request failed");
        Self::new(
            OAuthErrorCode::TemporarilyUnavailable,
            "the server cannot answer right now; try again shortly",
        )
    }
}
