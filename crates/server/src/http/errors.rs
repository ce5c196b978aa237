//! The error answers of the JSON and XML surfaces, one type each: `OAuthError` (RFC 6749
//! §5.2 JSON, from `grants`), `ApiError` (Coupa's `errors` body, in the format the request
//! negotiated) and `AdminApiError` (the same body, always JSON). The pages' `PageError` is in
//! `pages`. Each type's one `IntoResponse` adds the status, the body, the challenge and cache
//! headers, and logs a failure of this server once, with its causes.

use std::error::Error;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coupa_proto::errors::CoupaErrors;
use coupa_proto::oauth::{OAuthErrorBody, OAuthErrorCode};

use crate::admin::AdminError;
use crate::api::render::escape_xml;
use crate::grants::OAuthError;
use crate::store::StoreError;

/// A failure of something this server depends on, as the log shows it: the error and every
/// cause under it (each once, where an error already names its cause).
pub(crate) fn causes(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

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

/// The two formats of Coupa's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    Json,
    Xml,
}

/// An `Accept` that allows neither XML nor JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAcceptable;

/// The outcome of a request's negotiation, kept in its extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Negotiated(Result<ResponseFormat, NotAcceptable>);

tokio::task_local! {
    /// The format the current `/api` request negotiated: its errors are written in it.
    static ERRORS_IN: ResponseFormat;
}

impl ResponseFormat {
    /// Coupa answers XML unless the client asks for JSON; an `Accept` naming neither (nor
    /// `*/*`) is not acceptable.
    pub fn negotiate(headers: &HeaderMap) -> Result<Self, NotAcceptable> {
        let accept = headers
            .get(header::ACCEPT)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase())
            .unwrap_or_default();
        if accept.contains("json") {
            Ok(Self::Json)
        } else if accept.trim().is_empty() || accept.contains("xml") || accept.contains("*/*") {
            Ok(Self::Xml)
        } else {
            Err(NotAcceptable)
        }
    }

    /// The format errors are written in: the negotiated one, else XML as Coupa's default.
    pub fn for_errors(headers: &HeaderMap) -> Self {
        Self::negotiate(headers).unwrap_or(Self::Xml)
    }

    /// Negotiates `request`'s format once, keeping the outcome for the handler's extractor;
    /// answers the format its errors are written in.
    pub(crate) fn negotiate_once(request: &mut Request) -> Self {
        let negotiated = Self::negotiate(request.headers());
        request.extensions_mut().insert(Negotiated(negotiated));
        negotiated.unwrap_or(Self::Xml)
    }
}

/// The layer of an API route without the bearer layer: the format negotiated once, the
/// route's errors written in it.
#[cfg_attr(not(feature = "bench-routes"), allow(dead_code))]
pub(crate) async fn negotiated(mut request: Request, next: Next) -> Response {
    let format = ResponseFormat::negotiate_once(&mut request);
    errors_in(format, next.run(request)).await
}

/// Runs `answer` with every `ApiError` it turns into a response written in `format`.
pub(crate) async fn errors_in(
    format: ResponseFormat,
    answer: impl Future<Output = Response>,
) -> Response {
    ERRORS_IN.scope(format, answer).await
}

/// A handler's format: negotiated once per request (by the `/api` layer, or here where no
/// layer ran); a 406 when the request accepts neither.
impl<S: Send + Sync> FromRequestParts<S> for ResponseFormat {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let negotiated = match parts.extensions.get::<Negotiated>() {
            Some(Negotiated(negotiated)) => *negotiated,
            None => Self::negotiate(&parts.headers),
        };
        negotiated.map_err(|NotAcceptable| {
            ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "this API answers application/xml or application/json; set Accept to one of them",
            )
        })
    }
}

/// A Coupa-style error answer of `/api`: `{"errors": ...}` or `<errors>`, in the format the
/// request negotiated.
#[derive(Debug, thiserror::Error)]
#[error("{status}: {errors:?}")]
pub struct ApiError {
    status: StatusCode,
    errors: CoupaErrors,
    headers: Vec<(HeaderName, String)>,
    /// What failed, when it is this server's fault: logged once, never shown.
    #[source]
    cause: Option<Box<dyn Error + Send + Sync>>,
}

impl ApiError {
    /// An error about the request as a whole (`base`).
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self::on_field(status, "base", message)
    }

    /// An error about one field (or, for authentication, the error code).
    pub fn on_field(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        Self::with_errors(status, CoupaErrors::single(field, message))
    }

    pub fn with_errors(status: StatusCode, errors: CoupaErrors) -> Self {
        Self {
            status,
            errors,
            headers: Vec::new(),
            cause: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 422 with the errors of each field.
    pub fn invalid(errors: CoupaErrors) -> Self {
        Self::with_errors(StatusCode::UNPROCESSABLE_ENTITY, errors)
    }

    /// 503: `cause` failed; the caller may try again shortly.
    pub fn unavailable(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable; try again shortly",
            )
        }
    }

    /// A header of the answer: a challenge (`WWW-Authenticate`), `Retry-After`, `Allow`.
    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The answer in `format`.
    pub fn render(self, format: ResponseFormat) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(status = %self.status, error = %causes(cause.as_ref()), "request failed");
        }
        let mut response = match format {
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

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::unavailable(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let format = ERRORS_IN
            .try_with(|format| *format)
            .unwrap_or(ResponseFormat::Xml);
        self.render(format)
    }
}

/// An error answer of the admin API: Coupa's `errors` body, always JSON.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct AdminApiError(#[from] ApiError);

impl AdminApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(ApiError::new(status, message))
    }

    pub fn with_header(self, name: HeaderName, value: impl Into<String>) -> Self {
        Self(self.0.with_header(name, value))
    }
}

impl From<AdminError> for AdminApiError {
    fn from(error: AdminError) -> Self {
        Self(match error {
            AdminError::NotFound => ApiError::not_found("no such record"),
            AdminError::Invalid(errors) => ApiError::invalid(errors),
            AdminError::Unavailable(cause) => ApiError::unavailable(cause),
        })
    }
}

impl From<StoreError> for AdminApiError {
    fn from(error: StoreError) -> Self {
        AdminError::from(error).into()
    }
}

impl IntoResponse for AdminApiError {
    fn into_response(self) -> Response {
        self.0.render(ResponseFormat::Json)
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

    #[test]
    fn a_failure_is_logged_with_each_cause_once() {
        let admin = AdminError::from(StoreError::Unusable("the disk is full".into()));
        assert_eq!(
            causes(&admin),
            "the operation could not be completed: the disk is full"
        );
        let wrapped = ApiError::unavailable(admin);
        assert!(
            causes(&wrapped).ends_with("the operation could not be completed: the disk is full"),
            "{}",
            causes(&wrapped)
        );
    }

    #[test]
    fn one_negotiation_rule() {
        let accept = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
            ResponseFormat::negotiate(&headers)
        };
        assert_eq!(
            ResponseFormat::negotiate(&HeaderMap::new()),
            Ok(ResponseFormat::Xml)
        );
        assert_eq!(accept("application/json"), Ok(ResponseFormat::Json));
        assert_eq!(accept("text/xml"), Ok(ResponseFormat::Xml));
        assert_eq!(accept("*/*"), Ok(ResponseFormat::Xml));
        assert_eq!(accept("text/html"), Err(NotAcceptable));
    }
}
