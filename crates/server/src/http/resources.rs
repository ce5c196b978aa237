//! `/api/{object}`: thin handlers over the resource engine. The bearer layer has already
//! authenticated the caller and checked the route's scope.

use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coupa_proto::errors::CoupaErrors;

use super::bearer::Caller;
use super::errors::{ApiError, ResponseFormat};
use super::{content_type, read_body};
use crate::api::actions;
use crate::api::model::{self, ObjectDef};
use crate::api::query::{self, Value};
use crate::api::records::{self, Input};
use crate::api::render::{self, Record};
use crate::api::sql;
use crate::api::view::{self, Depth, View};
use crate::domain::form::FormParams;
use crate::domain::time::now_unix;
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

pub(super) fn object_or_404(path: &str) -> Result<&'static ObjectDef> {
    model::object(path)
        .ok_or_else(|| ApiError::not_found(format!("{path} are not served by this instance yet")))
}

pub(super) fn id_or_404(text: &str) -> Result<i64> {
    text.parse()
        .map_err(|_| ApiError::not_found(format!("no record with id {text}")))
}

pub(super) fn one_record(
    status: StatusCode,
    format: ResponseFormat,
    record: &Record,
    view: &View,
) -> Response {
    if view.depth == Depth::None {
        // return_object=none: the write is done, and there is nothing to show.
        return StatusCode::NO_CONTENT.into_response();
    }
    match format {
        ResponseFormat::Json => {
            (status, axum::Json(render::json_record(record, view))).into_response()
        }
        ResponseFormat::Xml => (
            status,
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            render::xml(record, view),
        )
            .into_response(),
    }
}

/// The parameters of a call's query string.
fn query_pairs(raw_query: Option<&str>) -> Result<Vec<(String, String)>> {
    FormParams::parse(raw_query.unwrap_or_default().as_bytes())
        .map(FormParams::into_pairs)
        .map_err(|error| ApiError::bad_request(error.to_string()))
}

/// `fields` and `return_object` of a call's query string.
pub(super) fn view_of(
    object: &'static ObjectDef,
    raw_query: Option<&str>,
    writing: bool,
) -> Result<View> {
    let params = FormParams::parse(raw_query.unwrap_or_default().as_bytes())
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    view::parse(
        object,
        params.get("fields"),
        params.get("return_object"),
        writing,
    )
    .map_err(ApiError::bad_request)
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path(path): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response> {
    let object = object_or_404(&path)?;
    list_records(&state, format, object, raw_query.as_deref(), None).await
}

/// A list of `object` as the query asks, and with `within` (a reference and an id) only the
/// records that belong to that record.
pub(super) async fn list_records(
    state: &AppState,
    format: ResponseFormat,
    object: &'static ObjectDef,
    raw_query: Option<&str>,
    within: Option<(&str, i64)>,
) -> Result<Response> {
    let params = FormParams::parse(raw_query.unwrap_or_default().as_bytes())
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let view = view::parse(
        object,
        params.get("fields"),
        params.get("return_object"),
        false,
    )
    .map_err(ApiError::bad_request)?;
    let custom = state.custom_fields.of(object.path);
    let mut pairs = params.into_pairs();
    if let Some((reference, id)) = within {
        pairs.push((reference.to_string(), id.to_string()));
    }
    let query =
        query::parse(object, &custom, &pairs).map_err(|error| ApiError::bad_request(error.0))?;
    let associated = if view.selection.is_some() {
        records::Associated::Full
    } else {
        records::Associated::Summary
    };
    let records = records::list(state.store.as_ref(), object, &custom, &query, associated).await?;
    match format {
        ResponseFormat::Json => Ok(axum::Json(render::json_list(&records, &view)).into_response()),
        ResponseFormat::Xml if records.is_empty() => Err(ApiError::not_found(
            "No results match your search criteria.",
        )),
        ResponseFormat::Xml => Ok((
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            render::xml_list(object, &records, &view),
        )
            .into_response()),
    }
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id)): Path<(String, String)>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response> {
    let object = object_or_404(&path)?;
    let view = view_of(object, raw_query.as_deref(), false)?;
    let record = load(&state, object, id_or_404(&id)?).await?;
    Ok(one_record(StatusCode::OK, format, &record, &view))
}

pub(super) async fn load(state: &AppState, object: &'static ObjectDef, id: i64) -> Result<Record> {
    records::one(
        state.store.as_ref(),
        object,
        &state.custom_fields.of(object.path),
        id,
    )
    .await?
    .ok_or_else(|| ApiError::not_found(format!("no {} with id {id}", object.element)))
}

/// The request body (XML or JSON, by `Content-Type`) as the object's column values, its
/// references checked.
async fn input_from(
    state: &AppState,
    object: &'static ObjectDef,
    headers: &HeaderMap,
    body: Body,
    creating: bool,
) -> Result<Input> {
    let bytes = read_body(body)
        .await
        .map_err(|message| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message))?;
    if bytes.is_empty() && !creating {
        // `PUT /api/purchase_orders/1?exported=true` carries no body.
        return Ok(Input::default());
    }
    let unsupported = |message: String| ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message);
    let xml = match content_type(headers).as_deref() {
        Some("application/json") => false,
        Some("application/xml" | "text/xml") => true,
        Some(other) => {
            return Err(unsupported(format!(
                "the body is {other}; send application/xml or application/json"
            )));
        }
        None => {
            return Err(unsupported(
                "set Content-Type: application/xml or application/json".into(),
            ));
        }
    };
    let json = body_json(&bytes, xml)?;
    let custom = state.custom_fields.of(object.path);
    let input = records::parse_body(object, &json, creating, records::Writer::Api, &custom)
        .map_err(ApiError::invalid)?;
    let missing = records::missing_references(state.store.as_ref(), &input).await?;
    if missing.is_empty() {
        Ok(input)
    } else {
        Err(ApiError::invalid(missing))
    }
}

/// A request body read as JSON: parsed as such, or converted from Coupa's XML.
pub(super) fn body_json(bytes: &[u8], xml: bool) -> Result<serde_json::Value> {
    if xml {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::bad_request("the XML body is not UTF-8"))?;
        crate::api::xml_body::to_json(text).map_err(ApiError::bad_request)
    } else {
        serde_json::from_slice(bytes)
            .map_err(|error| ApiError::bad_request(format!("the JSON body is invalid: {error}")))
    }
}

pub(super) fn stamped(
    mut values: Vec<(String, Value)>,
    caller: &Caller,
    now: i64,
    creating: bool,
) -> Vec<(String, Value)> {
    values.push(("updated_at".into(), Value::Integer(now)));
    values.push(("updated_by".into(), Value::Text(caller.login.clone())));
    if creating {
        values.push(("created_at".into(), Value::Integer(now)));
        values.push(("created_by".into(), Value::Text(caller.login.clone())));
    }
    values
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path(path): Path<String>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let request = Creation {
        path: &path,
        action: None,
        raw_query: raw_query.as_deref(),
        within: None,
    };
    create_record(&state, format, request, &caller, &headers, body).await
}

/// `POST /api/{object}/new/{action}`: create a record and take the action at once
/// (`POST /api/requisitions/new/submit_for_approval`).
pub async fn create_with_action(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id, action)): Path<(String, String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    if id != "new" {
        let object = object_or_404(&path)?;
        if action == "copy" && object.copyable {
            return copy_record(&state, format, object, &id, raw_query.as_deref(), &caller).await;
        }
        return Err(not_served_error());
    }
    let request = Creation {
        path: &path,
        action: Some(&action),
        raw_query: raw_query.as_deref(),
        within: None,
    };
    create_record(&state, format, request, &caller, &headers, body).await
}

/// What a create call names in its address.
pub(super) struct Creation<'a> {
    pub path: &'a str,
    pub action: Option<&'a str>,
    pub raw_query: Option<&'a str>,
    /// The record the new one belongs to: its column and id (a line created under its parent).
    pub within: Option<(&'a str, i64)>,
}

pub(super) async fn create_record(
    state: &AppState,
    format: ResponseFormat,
    request: Creation<'_>,
    caller: &Caller,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response> {
    let object = object_or_404(request.path)?;
    let view = view_of(object, request.raw_query, true)?;
    let status = match request.action {
        None => object.initial_status,
        Some(name) => {
            let transition = object
                .action(name)
                .filter(|transition| {
                    object
                        .initial_status
                        .is_some_and(|initial| transition.from.contains(&initial))
                })
                .and_then(|transition| transition.to)
                .ok_or_else(|| {
                    ApiError::not_found(format!("{} cannot be created with {name}", object.path))
                })?;
            Some(transition)
        }
    };
    let mut input = input_from(state, object, headers, body, true).await?;
    if let Some((column, id)) = request.within {
        input.set(column, Value::Integer(id));
    }
    let now = now_unix();
    let (parent, children) = records::insert_statements(object, input, status, |values| {
        stamped(values, caller, now, true)
    });
    let id = state.store.insert_record(&parent, &children).await?;
    let record = load(state, object, id).await?;
    Ok(one_record(StatusCode::CREATED, format, &record, &view))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let object = object_or_404(&path)?;
    let id = id_or_404(&id)?;
    let request = Change {
        object,
        id,
        raw_query: raw_query.as_deref(),
    };
    update_record(&state, format, request, &caller, &headers, body).await
}

/// The record an update names.
pub(super) struct Change<'a> {
    pub object: &'static ObjectDef,
    pub id: i64,
    pub raw_query: Option<&'a str>,
}

pub(super) async fn update_record(
    state: &AppState,
    format: ResponseFormat,
    request: Change<'_>,
    caller: &Caller,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response> {
    let Change {
        object,
        id,
        raw_query,
    } = request;
    let view = view_of(object, raw_query, true)?;
    let now = now_unix();
    let flag = actions::exported_flag(object, &query_pairs(raw_query)?, now)
        .map_err(ApiError::bad_request)?;
    let input = input_from(state, object, headers, body, false).await?;
    let custom = records::custom_value_statements(object, id, &input);
    let mut values = input.values;
    values.extend(flag);
    let values = stamped(values, caller, now, false);
    let changed = state
        .store
        .execute_then(&sql::update(object, id, &values, None), &custom)
        .await?;
    if changed == 0 {
        return Err(ApiError::not_found(format!(
            "no {} with id {id}",
            object.element
        )));
    }
    let record = load(state, object, id).await?;
    Ok(one_record(StatusCode::OK, format, &record, &view))
}

/// An action on one record: its status move checked and applied in one UPDATE, so two
/// concurrent actions cannot both succeed from the same status.
pub async fn action(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id, action)): Path<(String, String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response> {
    let object = object_or_404(&path)?;
    let view = view_of(object, raw_query.as_deref(), true)?;
    let id = id_or_404(&id)?;
    let taken = object
        .action(&action)
        .ok_or_else(|| ApiError::not_found(format!("{} have no action {action}", object.path)))?;
    let now = now_unix();
    let values = stamped(actions::values(object, taken, now), &caller, now, false);
    let guard = (!taken.from.is_empty()).then_some(taken.from);
    let changed = state
        .store
        .execute(&sql::update(object, id, &values, guard))
        .await?;
    let record = load(&state, object, id).await?;
    if changed == 0 {
        let status = object
            .field("status")
            .and_then(|field| record.value(field.slot))
            .unwrap_or("without a status")
            .to_string();
        let element = object.element.replace('-', " ");
        let article = if element.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        return Err(ApiError::invalid(CoupaErrors::single(
            "status",
            format!(
                "cannot {action} {article} {element} that is {status} (allowed from: {})",
                taken.from.join(", ")
            ),
        )));
    }
    Ok(one_record(StatusCode::OK, format, &record, &view))
}

/// `POST /api/{object}/{id}/copy`: a new record with the copied one's elements.
async fn copy_record(
    state: &AppState,
    format: ResponseFormat,
    object: &'static ObjectDef,
    id: &str,
    raw_query: Option<&str>,
    caller: &Caller,
) -> Result<Response> {
    let view = view_of(object, raw_query, true)?;
    let original = load(state, object, id_or_404(id)?).await?;
    let now = now_unix();
    let values = stamped(records::copied_values(&original), caller, now, true);
    let id = state
        .store
        .insert_record(&sql::insert(object, &values, None), &[])
        .await?;
    let record = load(state, object, id).await?;
    Ok(one_record(StatusCode::CREATED, format, &record, &view))
}

/// `POST /api/{object}/{action}`: create a record and take the action at once, as
/// `POST /api/requisitions/submit_for_approval` does.
pub async fn create_then(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, action)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let request = Creation {
        path: &path,
        action: Some(&action),
        raw_query: raw_query.as_deref(),
        within: None,
    };
    create_record(&state, format, request, &caller, &headers, body).await
}

/// `DELETE /api/{object}/{id}`, where Coupa documents it: the record with its lines; a
/// document only while it is in its initial status (a draft).
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path((path, id)): Path<(String, String)>,
) -> Result<Response> {
    let object = object_or_404(&path)?;
    if !object.deletable {
        return Err(not_served_error());
    }
    delete_record(&state, object, id_or_404(&id)?).await
}

/// Deletes record `id` of `object` with its lines, a document only in its initial status.
pub(super) async fn delete_record(
    state: &AppState,
    object: &'static ObjectDef,
    id: i64,
) -> Result<Response> {
    let record = load(state, object, id).await?;
    if let Some(initial) = object.initial_status {
        let status = object.slot("status").and_then(|slot| record.value(slot));
        if status.is_some_and(|status| status != initial) {
            return Err(ApiError::invalid(CoupaErrors::single(
                "status",
                format!("only a {initial} {} can be deleted", object.element),
            )));
        }
    }
    let (first, then) = records::delete_statements(object, id);
    state.store.execute_then(&first, &then).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn not_served_error() -> ApiError {
    ApiError::not_found("this resource is not served by this instance yet")
}

pub async fn not_served() -> ApiError {
    not_served_error()
}
