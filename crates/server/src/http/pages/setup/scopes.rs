//! Setup > Scopes: every scope with its description; one scope's API permissions and the
//! clients that hold it. Browsers get these pages at `/oauth2/scopes`; programs asking for
//! JSON get the catalogue.

use askama::Template;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use coupa_proto::admin::ClientView;
use coupa_proto::scopes::{self, ScopeDef};

use super::{Admin, Chrome};
use crate::admin::clients;
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

fn holders<'a>(clients: &'a [ClientView], scope: &str) -> Vec<&'a ClientView> {
    clients
        .iter()
        .filter(|client| client.scope.split_whitespace().any(|held| held == scope))
        .collect()
}

/// `GET /oauth2/scopes` for a browser.
pub async fn index(state: &Arc<AppState>, parts: &mut Parts) -> Result<Response, PageError> {
    let admin = Admin::from_request_parts(parts, state).await?;
    let clients = clients::list(&state.admin())
        .await
        .map_err(admin.failure("client"))?;
    let groups = scope_groups()
        .into_iter()
        .map(|group| GroupRows {
            key: group.key,
            rows: group
                .scopes
                .into_iter()
                .map(|scope| ScopeRow {
                    scope,
                    clients: holders(&clients, scope.name).len(),
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
struct ScopePage<'a> {
    chrome: Chrome,
    scope: &'static ScopeDef,
    clients: Vec<&'a ClientView>,
}

/// `GET /oauth2/scopes/{name}` for a browser.
pub async fn show(
    state: &Arc<AppState>,
    parts: &mut Parts,
    name: &str,
) -> Result<Response, PageError> {
    let admin = Admin::from_request_parts(parts, state).await?;
    let scope = scopes::find(name).ok_or_else(|| {
        admin.refused(
            StatusCode::NOT_FOUND,
            "There is no such scope. The Scopes page lists them all.",
            vec![("/oauth2/scopes".to_string(), "Scopes".to_string())],
        )
    })?;
    let clients = clients::list(&state.admin())
        .await
        .map_err(admin.failure("client"))?;
    let page = ScopePage {
        chrome: admin.chrome(scope.name, SECTION),
        scope,
        clients: holders(&clients, scope.name),
    };
    admin.render(StatusCode::OK, &page)
}
