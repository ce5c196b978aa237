//! Setup's home: every page by section, and "Find it fast", which finds Setup pages and
//! also clients, users and API keys by name, login or identifier.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::registry::{self, SetupPage};
use super::{Admin, Chrome};
use crate::admin::AdminError;
use crate::domain::listing::{self, ListRequest};
use crate::http::pages::PageError;
use crate::state::AppState;

/// A list searched for `text`.
fn searched(list: &str, text: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", text.trim())
        .finish();
    format!("{list}?{query}")
}

/// Records found by Find it fast: one kind's first few matches, and where the rest are.
struct FoundRecords {
    what: &'static str,
    total: usize,
    /// (address, label, detail)
    records: Vec<(String, String, String)>,
    /// The kind's list searched the same way.
    all: String,
}

/// How many records of each kind Find it fast shows.
const FOUND_RECORDS: usize = 10;

#[derive(Template)]
#[template(path = "setup/home.html")]
struct HomePage {
    chrome: Chrome,
    query: String,
    found: Vec<&'static SetupPage>,
    records: Vec<FoundRecords>,
}

/// The clients, users and API keys whose name, login or identifier hold every word of
/// `query`.
async fn find_records(state: &AppState, query: &str) -> Result<Vec<FoundRecords>, AdminError> {
    let request = ListRequest {
        words: ListRequest::search(query),
        per_page: FOUND_RECORDS,
        ..ListRequest::default()
    };
    if request.words.is_empty() {
        return Ok(Vec::new());
    }
    let context = state.admin();
    let clients = crate::admin::clients::page(&context, Default::default(), &request).await?;
    let users = crate::admin::users::records(&context).await?;
    let users = listing::list(users.iter(), &request, "login");
    let keys = crate::admin::api_keys::records(&context).await?;
    let keys = listing::list(keys.iter(), &request, "name");
    Ok(vec![
        FoundRecords {
            what: "OAuth clients",
            total: clients.total,
            records: clients
                .rows
                .iter()
                .map(|client| {
                    (
                        format!("/oauth2/clients/{}", client.client_id),
                        client.name.clone(),
                        format!("{} · {}", client.login, client.client_id),
                    )
                })
                .collect(),
            all: searched("/oauth2/clients", query),
        },
        FoundRecords {
            what: "Users",
            total: users.total,
            records: users
                .rows
                .iter()
                .map(|user| {
                    (
                        format!("/users/{}", user.user_id),
                        user.name.clone(),
                        format!("{} · {}", user.login, user.email),
                    )
                })
                .collect(),
            all: searched("/users", query),
        },
        FoundRecords {
            what: "API keys",
            total: keys.total,
            records: keys
                .rows
                .iter()
                .map(|key| {
                    (
                        searched("/api_keys", &key.key_prefix),
                        key.name.clone(),
                        format!("{}… · acts as {}", key.key_prefix, key.login),
                    )
                })
                .collect(),
            all: searched("/api_keys", query),
        },
    ]
    .into_iter()
    .filter(|found| found.total > 0)
    .collect())
}

#[derive(Deserialize, Default)]
pub struct HomeQuery {
    #[serde(default)]
    q: String,
}

/// `GET /setup`: every Setup page by section, and "Find it fast" (`?q=oauth`), which also
/// finds clients, users and API keys by name, login or identifier.
pub async fn home(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Query(HomeQuery { q: query }): Query<HomeQuery>,
) -> Result<Response, PageError> {
    let records = find_records(&state, &query)
        .await
        .map_err(admin.failure("record"))?;
    let page = HomePage {
        chrome: admin.chrome("Setup", "home"),
        found: registry::find_pages(&query),
        records,
        query,
    };
    admin.render(StatusCode::OK, &page)
}
