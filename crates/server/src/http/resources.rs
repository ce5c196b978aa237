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
use crate::api::model::{self, ObjectDef};
use crate::api::query::{self, Value};
use crate::api::records::{self, Input};
use crate::api::render::{self, Record};
use crate::api::sql;
use crate::api::view::{self, Depth, View};
use crate::domain::form::FormParams;
use crate::domain::time::now_unix;
use crate::state::AppState;
use crate::store::StoreError;

type Result<T> = std::result::Result<T, ApiError>;

/// Coupa answers XML unless asked for JSON; an Accept that allows neither is a 406.
fn negotiate(headers: &HeaderMap) -> Result<ResponseFormat> {
    let accept = headers
        .get(header::ACCEPT)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase())
        .unwrap_or_default();
    if accept.contains("json") {
        Ok(ResponseFormat::Json)
    } else if accept.trim().is_empty() || accept.contains("xml") || accept.contains("*/*") {
        Ok(ResponseFormat::Xml)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            ResponseFormat::Xml,
            "base",
            "this API answers application/xml or application/json; set Accept to one of them",
        ))
    }
}

fn unavailable(format: ResponseFormat) -> impl Fn(StoreError) -> ApiError {
    move |error| {
        tracing::error!(%error, "API request failed on the store");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format,
            "base",
            "the database is unavailable; try again shortly",
        )
    }
}

fn object_or_404(path: &str, format: ResponseFormat) -> Result<&'static ObjectDef> {
    model::object(path).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format,
            "base",
            format!("{path} are not served by this instance yet"),
        )
    })
}

fn id_or_404(text: &str, format: ResponseFormat) -> Result<i64> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format,
            "base",
            format!("no record with id {text}"),
        )
    })
}

fn invalid(format: ResponseFormat, errors: CoupaErrors) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors,
        format,
        headers: Vec::new(),
    }
}

fn one_record(
    status: StatusCode,
    format: ResponseFormat,
    record: &Record,
    view: &View,
) -> Response {
    if view.depth == Depth::None {
        return status.into_response();
    }
    match format {
        ResponseFormat::Json => (status, axum::Json(render::json(record, view))).into_response(),
        ResponseFormat::Xml => (
            status,
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            render::xml(record, view),
        )
            .into_response(),
    }
}

/// `fields` and `return_object` of a call's query string.
fn view_of(
    object: &'static ObjectDef,
    raw_query: Option<&str>,
    writing: bool,
    format: ResponseFormat,
) -> Result<View> {
    let params = FormParams::parse(raw_query.unwrap_or_default().as_bytes()).map_err(|error| {
        ApiError::new(StatusCode::BAD_REQUEST, format, "base", error.to_string())
    })?;
    view::parse(
        object,
        params.get("fields"),
        params.get("return_object"),
        writing,
    )
    .map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, format, "base", message))
}

fn respond(result: Result<Response>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(
        list_records(
            &state,
            &path,
            raw_query.as_deref().unwrap_or_default(),
            &headers,
        )
        .await,
    )
}

async fn list_records(
    state: &AppState,
    path: &str,
    raw_query: &str,
    headers: &HeaderMap,
) -> Result<Response> {
    let format = negotiate(headers)?;
    let object = object_or_404(path, format)?;
    let bad_request =
        |message: String| ApiError::new(StatusCode::BAD_REQUEST, format, "base", message);
    let params =
        FormParams::parse(raw_query.as_bytes()).map_err(|error| bad_request(error.to_string()))?;
    let view = view::parse(
        object,
        params.get("fields"),
        params.get("return_object"),
        false,
    )
    .map_err(&bad_request)?;
    let query = query::parse(object, &params.into_pairs()).map_err(|error| bad_request(error.0))?;
    let records = records::list(state.store.as_ref(), object, &query)
        .await
        .map_err(unavailable(format))?;
    Ok(match format {
        ResponseFormat::Json => axum::Json(render::json_list(&records, &view)).into_response(),
        ResponseFormat::Xml if records.is_empty() => ApiError::new(
            StatusCode::NOT_FOUND,
            format,
            "base",
            "No results match your search criteria.",
        )
        .into_response(),
        ResponseFormat::Xml => (
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            render::xml_list(object, &records, &view),
        )
            .into_response(),
    })
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Path((path, id)): Path<(String, String)>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let format = negotiate(&headers)?;
            let object = object_or_404(&path, format)?;
            let view = view_of(object, raw_query.as_deref(), false, format)?;
            let record = load(&state, object, id_or_404(&id, format)?, format).await?;
            Ok(one_record(StatusCode::OK, format, &record, &view))
        }
        .await,
    )
}

async fn load(
    state: &AppState,
    object: &'static ObjectDef,
    id: i64,
    format: ResponseFormat,
) -> Result<Record> {
    records::one(state.store.as_ref(), object, id)
        .await
        .map_err(unavailable(format))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format,
                "base",
                format!("no {} with id {id}", object.element),
            )
        })
}

async fn input_from(
    state: &AppState,
    object: &'static ObjectDef,
    headers: &HeaderMap,
    body: Body,
    creating: bool,
    format: ResponseFormat,
) -> Result<Input> {
    let unsupported = |message: String| {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, format, "base", message)
    };
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
    let bytes = read_body(body)
        .await
        .map_err(|message| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format, "base", message))?;
    let bad_request =
        |message: String| ApiError::new(StatusCode::BAD_REQUEST, format, "base", message);
    let json: serde_json::Value = if xml {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| bad_request("the XML body is not UTF-8".into()))?;
        crate::api::xml_body::to_json(text).map_err(bad_request)?
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|error| bad_request(format!("the JSON body is invalid: {error}")))?
    };
    let input = records::parse_body(object, &json, creating, None)
        .map_err(|errors| invalid(format, errors))?;
    let missing = records::missing_references(state.store.as_ref(), &input)
        .await
        .map_err(unavailable(format))?;
    if missing.is_empty() {
        Ok(input)
    } else {
        Err(invalid(format, missing))
    }
}

fn stamped(
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
    Path(path): Path<String>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        create_record(
            &state,
            &path,
            None,
            &caller,
            raw_query.as_deref(),
            &headers,
            body,
        )
        .await,
    )
}

/// `POST /api/{object}/new/{action}`: create a record and take the action at once
/// (`POST /api/requisitions/new/submit_for_approval`).
pub async fn create_with_action(
    State(state): State<Arc<AppState>>,
    Path((path, id, action)): Path<(String, String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if id != "new" {
        return not_served(headers).await;
    }
    respond(
        create_record(
            &state,
            &path,
            Some(&action),
            &caller,
            raw_query.as_deref(),
            &headers,
            body,
        )
        .await,
    )
}

async fn create_record(
    state: &AppState,
    path: &str,
    action: Option<&str>,
    caller: &Caller,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response> {
    let format = negotiate(headers)?;
    let object = object_or_404(path, format)?;
    let view = view_of(object, raw_query, true, format)?;
    let status = match action {
        None => object.initial_status,
        Some(name) => {
            let transition = object
                .action(name)
                .filter(|transition| {
                    object
                        .initial_status
                        .is_some_and(|initial| transition.from.contains(&initial))
                })
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        format,
                        "base",
                        format!("{} cannot be created with {name}", object.path),
                    )
                })?;
            Some(transition.to)
        }
    };
    let input = input_from(state, object, headers, body, true, format).await?;
    let now = now_unix();
    let (parent, children) = records::insert_statements(object, input, status, |values| {
        stamped(values, caller, now, true)
    });
    let id = state
        .store
        .insert_record(&parent, &children)
        .await
        .map_err(unavailable(format))?;
    let record = load(state, object, id, format).await?;
    Ok(one_record(StatusCode::CREATED, format, &record, &view))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    Path((path, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let format = negotiate(&headers)?;
            let object = object_or_404(&path, format)?;
            let view = view_of(object, raw_query.as_deref(), true, format)?;
            let id = id_or_404(&id, format)?;
            let input = input_from(&state, object, &headers, body, false, format).await?;
            let values = stamped(input.values, &caller, now_unix(), false);
            let changed = state
                .store
                .execute(&sql::update(object, id, &values, None))
                .await
                .map_err(unavailable(format))?;
            if changed == 0 {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format,
                    "base",
                    format!("no {} with id {id}", object.element),
                ));
            }
            let record = load(&state, object, id, format).await?;
            Ok(one_record(StatusCode::OK, format, &record, &view))
        }
        .await,
    )
}

/// A status transition, checked and applied in one UPDATE so two concurrent actions cannot
/// both succeed from the same status.
pub async fn action(
    State(state): State<Arc<AppState>>,
    Path((path, id, action)): Path<(String, String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let format = negotiate(&headers)?;
            let object = object_or_404(&path, format)?;
            let view = view_of(object, raw_query.as_deref(), true, format)?;
            let id = id_or_404(&id, format)?;
            let Some(transition) = object.action(&action) else {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format,
                    "base",
                    format!("{} have no action {action}", object.path),
                ));
            };
            let mut values = vec![("status".to_string(), Value::Text(transition.to.to_string()))];
            values = stamped(values, &caller, now_unix(), false);
            let changed = state
                .store
                .execute(&sql::update(object, id, &values, Some(transition.from)))
                .await
                .map_err(unavailable(format))?;
            let record = load(&state, object, id, format).await?;
            if changed == 0 {
                let status = record
                    .get("status")
                    .unwrap_or("without a status")
                    .to_string();
                let element = object.element.replace('-', " ");
                let article = if element.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                return Err(invalid(
                    format,
                    CoupaErrors::single(
                        "status",
                        format!(
                            "cannot {action} {article} {element} that is {status} (allowed from: {})",
                            transition.from.join(", ")
                        ),
                    ),
                ));
            }
            Ok(one_record(StatusCode::OK, format, &record, &view))
        }
        .await,
    )
}

pub async fn not_served(headers: HeaderMap) -> Response {
    let format = ResponseFormat::from_accept(&headers);
    ApiError::new(
        StatusCode::NOT_FOUND,
        format,
        "base",
        "this resource is not served by this instance yet",
    )
    .into_response()
}
