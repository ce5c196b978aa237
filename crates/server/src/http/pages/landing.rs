//! `/` in a browser: what this server is and where to go from here. Programs asking for JSON
//! or XML get Coupa's 404, as a real instance answers them.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{PageError, html_response};
use crate::http::meta;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/landing.html")]
struct LandingPage<'a> {
    issuer: &'a str,
}

/// `GET /`
pub async fn landing(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if !meta::wants_html(&headers) {
        return meta::not_found(headers).await;
    }
    let page = LandingPage {
        issuer: &state.config.issuer,
    };
    match page.render() {
        Ok(html) => html_response(StatusCode::OK, html, None),
        Err(error) => PageError::from(error).into_response(),
    }
}
