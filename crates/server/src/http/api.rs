//! `/api/*` resources. The resource engine serves the Coupa objects; until an object is
//! served it answers as an empty collection would.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::errors::{ApiError, ResponseFormat};

/// Coupa's answer to a search that matches nothing: JSON `[]`, XML a 404.
fn empty_list(format: ResponseFormat) -> Response {
    match format {
        ResponseFormat::Json => axum::Json(Vec::<()>::new()).into_response(),
        ResponseFormat::Xml => ApiError::new(
            StatusCode::NOT_FOUND,
            format,
            "base",
            "No results match your search criteria.",
        )
        .into_response(),
    }
}

pub async fn invoices(headers: HeaderMap) -> Response {
    empty_list(ResponseFormat::from_accept(&headers))
}

pub async fn not_yet_served(headers: HeaderMap) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ResponseFormat::from_accept(&headers),
        "base",
        "this resource is not served by this instance yet",
    )
    .into_response()
}
