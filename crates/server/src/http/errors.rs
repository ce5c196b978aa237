//! Error responses. OAuth endpoints answer RFC 6749 §5.2 JSON; the API and the admin API
//! answer Coupa's `errors` body, in JSON or XML as the client asked.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coupa_proto::errors::CoupaErrors;
use coupa_proto::oauth::{OAuthErrorBody, OAuthErrorCode};

use crate::api::render::escape_xml;
use crate::grants::OAuthError;

/// HTTP status of an OAuth error (RFC 6749 §5.2, RFC 6750 §3.1).
fn oauth_status(code: OAuthErrorCode) -> StatusCode {
    match code {
        OAuthErrorCode::InvalidClient | OAuthErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        OAuthErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// What no cache may keep: token answers and OAuth errors (RFC 6749 §5.1).
pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match self.retry_after {
            Some(_) => StatusCode::TOO_MANY_REQUESTS,
            None => oauth_status(self.code),
        };
        let body = OAuthErrorBody {
            error: self.code.as_str().to_string(),
            error_description: Some(self.description),
        };
        let response = (status, axum::Json(body)).into_response();
        let mut response = no_store(response);
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.basic_challenge && status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"coupa\""),
            );
        }
        response
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    Json,
    Xml,
}

impl ResponseFormat {
    /// Coupa answers XML unless the client asks for JSON.
    pub fn from_accept(headers: &HeaderMap) -> Self {
        let accept = headers
            .get(header::ACCEPT)
            .map(|value| value.as_bytes())
            .unwrap_or_default();
        let accept = String::from_utf8_lossy(accept).to_ascii_lowercase();
        if accept.contains("json") {
            Self::Json
        } else {
            Self::Xml
        }
    }
}

/// A Coupa-style error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: CoupaErrors,
    pub format: ResponseFormat,
    pub headers: Vec<(header::HeaderName, String)>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        format: ResponseFormat,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            errors: CoupaErrors::single(field, message),
            format,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.format {
            ResponseFormat::Json => (self.status, axum::Json(&self.errors)).into_response(),
            ResponseFormat::Xml => (
                self.status,
                [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                errors_xml(&self.errors),
            )
                .into_response(),
        };
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// `<errors><error>…</error></errors>`, one element per full message.
pub fn errors_xml(errors: &CoupaErrors) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<errors>\n");
    for message in errors.full_messages() {
        xml.push_str("  <error>");
        xml.push_str(&escape_xml(&message));
        xml.push_str("</error>\n");
    }
    xml.push_str("</errors>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_errors_are_escaped() {
        let xml = errors_xml(&CoupaErrors::single("base", "a <b> & \"c\"\u{1}"));
        assert!(
            xml.contains("<error>a &lt;b&gt; &amp; &quot;c&quot;</error>"),
            "{xml}"
        );
    }
}
