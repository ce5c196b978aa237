use coupa_proto::errors::CoupaErrors;
use coupa_proto::oauth::OAuthErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{status}: {errors}")]
    Coupa { status: u16, errors: CoupaErrors },
    #[error("{status}: {}{}", .body.error, .body.error_description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth { status: u16, body: OAuthErrorBody },
    #[error("{status}: unexpected answer: {body}")]
    Unexpected { status: u16, body: String },
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unreachable { .. } => None,
            Self::Coupa { status, .. }
            | Self::OAuth { status, .. }
            | Self::Unexpected { status, .. } => Some(*status),
        }
    }

    /// Turns a failed response into the most specific error its body allows.
    pub(crate) async fn from_response(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if let Ok(errors) = serde_json::from_str::<CoupaErrors>(&body) {
            return Self::Coupa { status, errors };
        }
        if let Ok(body) = serde_json::from_str::<OAuthErrorBody>(&body) {
            return Self::OAuth { status, body };
        }
        let mut body = body;
        body.truncate(500);
        Self::Unexpected { status, body }
    }
}
