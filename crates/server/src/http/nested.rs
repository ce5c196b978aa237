//! Lines served under the record they belong to, where Coupa documents it:
//! `/api/expense_reports/{id}/expense_lines[/{line_id}]` and
//! `/api/suppliers/{id}/addresses[/{address_id}]` (the supplier's remit-to addresses). The
//! scope catalogue says which methods each path takes; the line object's own rules apply.

use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::attachments;
use super::bearer::Caller;
use super::errors::{ApiError, ResponseFormat};
use super::resources::{
    self, Change, Creation, id_or_404, list_records, load, object_or_404, one_record, view_of,
};
use crate::api::model::{ObjectDef, Reference};
use crate::api::records;
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// The lines at `/api/{path}/{id}/{segment}`: (parent, line object, the line's reference to
/// its parent), or None when that segment names no lines of the parent.
fn lines_under(
    path: &str,
    segment: &str,
) -> Result<Option<(&'static ObjectDef, &'static ObjectDef, &'static Reference)>> {
    let parent = object_or_404(path)?;
    Ok(parent
        .nested(segment)
        .and_then(records::line_parts)
        .map(|(line_object, reference)| (parent, line_object, reference)))
}

/// Line `line_id` of record `id`: 404 unless it exists and belongs to that record.
async fn owned_line(
    state: &AppState,
    (line_object, reference): (&'static ObjectDef, &'static Reference),
    id: i64,
    line_id: &str,
) -> Result<(i64, crate::api::render::Record)> {
    let line_id = id_or_404(line_id)?;
    let line = load(state, line_object, line_id).await?;
    if line.integer(reference.slot) != Some(id) {
        return Err(ApiError::not_found(format!(
            "no {} with id {line_id} in this record",
            line_object.element
        )));
    }
    Ok((line_id, line))
}

/// `GET /api/{object}/{id}/{segment}`: the record's lines, filtered and paged as any list;
/// otherwise one of the record's stored files (`retrieve_image_scan`).
pub async fn get_under(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id, segment)): Path<(String, String, String)>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response> {
    let Some((parent, line_object, reference)) = lines_under(&path, &segment)? else {
        return attachments::retrieve(State(state), format, Path((path, id, segment))).await;
    };
    let id = id_or_404(&id)?;
    attachments::must_exist(&state, parent, id).await?;
    let within = Some((reference.name, id));
    list_records(&state, format, line_object, raw_query.as_deref(), within).await
}

/// `POST /api/{object}/{id}/{segment}`: a new line of the record; otherwise a creation
/// action (`/api/requisitions/new/submit_for_approval`) or a copy.
pub async fn post_under(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id, segment)): Path<(String, String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let Some((parent, line_object, reference)) = lines_under(&path, &segment)? else {
        return resources::create_with_action(
            State(state),
            format,
            Path((path, id, segment)),
            Extension(caller),
            RawQuery(raw_query),
            headers,
            body,
        )
        .await;
    };
    let id = id_or_404(&id)?;
    attachments::must_exist(&state, parent, id).await?;
    let request = Creation {
        path: line_object.path,
        action: None,
        raw_query: raw_query.as_deref(),
        within: Some((line_object.columns[reference.slot].name, id)),
    };
    resources::create_record(&state, format, request, &caller, &headers, body).await
}

/// The lines of a record, or a 404 naming what is not served.
fn lines_or_404(path: &str, segment: &str) -> Result<(&'static ObjectDef, &'static Reference)> {
    lines_under(path, segment)?
        .map(|(_, line_object, reference)| (line_object, reference))
        .ok_or_else(|| ApiError::not_found("this resource is not served by this instance yet"))
}

/// `GET /api/{object}/{id}/{segment}/{line_id}`
pub async fn show(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id, segment, line_id)): Path<(String, String, String, String)>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response> {
    let lines = lines_or_404(&path, &segment)?;
    let view = view_of(lines.0, raw_query.as_deref(), false)?;
    let (_, line) = owned_line(&state, lines, id_or_404(&id)?, &line_id).await?;
    Ok(one_record(StatusCode::OK, format, &line, &view))
}

/// `PUT` (or `PATCH`) `/api/{object}/{id}/{segment}/{line_id}`
pub async fn update(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id, segment, line_id)): Path<(String, String, String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let lines = lines_or_404(&path, &segment)?;
    let (line_id, _) = owned_line(&state, lines, id_or_404(&id)?, &line_id).await?;
    let request = Change {
        object: lines.0,
        id: line_id,
        raw_query: raw_query.as_deref(),
    };
    resources::update_record(&state, format, request, &caller, &headers, body).await
}

/// `DELETE /api/{object}/{id}/{segment}/{line_id}`
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path((path, id, segment, line_id)): Path<(String, String, String, String)>,
) -> Result<Response> {
    let lines = lines_or_404(&path, &segment)?;
    let (line_id, _) = owned_line(&state, lines, id_or_404(&id)?, &line_id).await?;
    resources::delete_record(&state, lines.0, line_id).await
}
