//! Setup > Scopes: every scope with its description; one scope's API permissions and the
//! clients that hold it. Browsers get these pages at `/oauth2/scopes`; programs asking for
//! JSON get the catalogue.

use askama::Template;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use coupa_proto::admin::ClientView;
use coupa_proto::scopes::{self, ScopeDef};

use super::listing::{ListParams, ListView};
use super::{Admin, Chrome};
use crate::admin::clients::{self, ClientFilter};
use crate::domain::setup::scope_groups;
use crate::http::pages::PageError;
use crate::state::AppState;

const SECTION: &str = "scopes";

struct ScopeRow {
    scope: &'static ScopeDef,
    clients: usize,
}

struct GroupRows {
    key: String,
    rows: Vec<ScopeRow>,
}

#[derive(Template)]
#[template(path = "setup/scopes.html")]
struct ScopesPage {
    chrome: Chrome,
    groups: Vec<GroupRows>,
}

/// `GET /oauth2/scopes` for a browser.
pub async fn index(state: &Arc<AppState>, parts: &mut Parts) -> Result<Response, PageError> {
    let admin = Admin::from_request_parts(parts, state).await?;
    let holders = clients::holders_per_scope(&state.admin());
    let groups = scope_groups()
        .into_iter()
        .map(|group| GroupRows {
            key: group.key,
            rows: group
                .scopes
                .into_iter()
                .map(|scope| ScopeRow {
                    scope,
                    clients: holders.get(scope.name).copied().unwrap_or(0),
                })
                .collect(),
        })
        .collect();
    let page = ScopesPage {
        chrome: admin.chrome("Scopes", SECTION),
        groups,
    };
    admin.render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "setup/scope.html")]
struct ScopePage {
    chrome: Chrome,
    scope: &'static ScopeDef,
    clients: Vec<ClientView>,
    list: ListView,
}

/// `GET /oauth2/scopes/{name}` for a browser, its holders searched and paged like the
/// clients list.
pub async fn show(
    state: &Arc<AppState>,
    parts: &mut Parts,
    name: &str,
) -> Result<Response, PageError> {
    let admin = Admin::from_request_parts(parts, state).await?;
    let Query(params) = Query::<ListParams>::from_request_parts(parts, state)
        .await
        .unwrap_or_default();
    let scope = scopes::find(name).ok_or_else(|| {
        admin.refused(
            StatusCode::NOT_FOUND,
            "There is no such scope. The Scopes page lists them all.",
            vec![("/oauth2/scopes".to_string(), "Scopes".to_string())],
        )
    })?;
    let filter = ClientFilter {
        holding: Some(scope.name),
        active: params.active().wanted(),
        ..ClientFilter::default()
    };
    let listed = clients::page(&state.admin(), filter, &params.request())
        .await
        .map_err(admin.failure("client"))?;
    let page = ScopePage {
        chrome: admin.chrome(scope.name, SECTION),
        scope,
        list: ListView::new(format!("/oauth2/scopes/{}", scope.name), &params, &listed),
        clients: listed.rows,
    };
    admin.render(StatusCode::OK, &page)
}
