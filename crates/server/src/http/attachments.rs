//! Files of the API: `/api/{object}/{id}/attachments` (file, URL and text attachments),
//! invoices' image scans (`PUT .../image_scan`, `GET .../retrieve_image_scan`) and legal PDFs,
//! and `GET /api/attachments/{id}/file`. Uploads are multipart (`attachment[file]`, as
//! Coupa's examples send them) or, for attachments without a file, JSON or XML.

use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coupa_proto::errors::CoupaErrors;
use serde_json::{Map, Value as Json};

use super::bearer::Caller;
use super::content_type;
use super::errors::{ApiError, ResponseFormat};
use super::resources::{body_json, id_or_404, load, object_or_404, one_record, stamped, view_of};
use crate::api::model::{self, ObjectDef};
use crate::api::records;
use crate::api::render;
use crate::api::sql;
use crate::domain::time::now_unix;
use crate::files::{FileError, Upload};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// The kinds of attachment Coupa has, and the element each needs.
const KINDS: [(&str, &str); 3] = [("file", "file"), ("url", "url"), ("text", "text")];

fn attachments() -> Result<&'static ObjectDef> {
    model::object("attachments").ok_or_else(|| ApiError::not_found("attachments are not served"))
}

fn files_unavailable(error: FileError) -> ApiError {
    match error {
        FileError::Store(error) => error.into(),
        FileError::Directory(_) => ApiError::unavailable(error),
    }
}

/// The record `owner_id` of `owner`, which must exist.
async fn owner_record(state: &AppState, path: &str, id: &str) -> Result<(&'static ObjectDef, i64)> {
    let owner = object_or_404(path)?;
    let owner_id = id_or_404(id)?;
    must_exist(state, owner, owner_id).await?;
    Ok((owner, owner_id))
}

/// Coupa's 404 unless record `id` of `object` exists; its associations are not loaded.
pub(super) async fn must_exist(state: &AppState, object: &ObjectDef, id: i64) -> Result<()> {
    if state
        .store
        .select_rows(&sql::by_ids(object, "id", &[id]))
        .await?
        .is_empty()
    {
        return Err(ApiError::not_found(format!(
            "no {} with id {id}",
            object.element
        )));
    }
    Ok(())
}

/// A multipart field's name without Coupa's `attachment[...]` / `invoice[...]` wrapper.
fn bare_name(name: &str) -> &str {
    name.split_once('[')
        .and_then(|(_, inner)| inner.strip_suffix(']'))
        .unwrap_or(name)
}

/// Reads one file of at most `max` bytes.
async fn read_file(mut field: axum::extract::multipart::Field<'_>, max: usize) -> Result<Upload> {
    let file_name = field.file_name().unwrap_or("upload").to_string();
    let content_type = field
        .content_type()
        .unwrap_or("application/octet-stream")
        .to_string();
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|error| {
        ApiError::bad_request(format!("the multipart body is malformed: {error}"))
    })? {
        if bytes.len() + chunk.len() > max {
            return Err(too_large(max));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Upload {
        content_type,
        file_name: file_name.chars().take(255).collect(),
        bytes,
    })
}

/// One of the few uploads read at once, or a 503 asking to retry.
fn upload_permit(state: &AppState) -> Result<tokio::sync::SemaphorePermit<'_>> {
    state.uploads.try_acquire().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many uploads at once; retry shortly",
        )
        .with_header(header::RETRY_AFTER, "1")
    })
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the file is larger than {max} bytes (max-file-bytes)"),
    )
}

/// The text fields and the file of a multipart body; the file is the field `file_field`.
async fn read_multipart(
    request: Request,
    state: &Arc<AppState>,
    file_field: &str,
) -> Result<(Map<String, Json>, Option<Upload>)> {
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|error| ApiError::bad_request(error.body_text()))?;
    let mut fields = Map::new();
    let mut upload = None;
    while let Some(field) = multipart.next_field().await.map_err(|error| {
        ApiError::bad_request(format!("the multipart body is malformed: {error}"))
    })? {
        let name = bare_name(field.name().unwrap_or_default()).to_string();
        if name == file_field || (name == "file" && upload.is_none()) {
            upload = Some(read_file(field, state.config.max_file_bytes).await?);
        } else {
            let text = field.text().await.map_err(|error| {
                ApiError::bad_request(format!("the multipart body is malformed: {error}"))
            })?;
            if text.len() > super::MAX_BODY_BYTES {
                return Err(too_large(super::MAX_BODY_BYTES));
            }
            fields.insert(name, Json::String(text));
        }
    }
    Ok((fields, upload))
}

/// `POST /api/{object}/{id}/attachments`: a file (multipart `attachment[file]` with
/// `attachment[type]=file`), a URL or a text.
pub async fn create(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw_query): RawQuery,
    request: Request,
) -> Result<Response> {
    let (owner, owner_id) = owner_record(&state, &path, &id).await?;
    let object = attachments()?;
    let view = view_of(object, raw_query.as_deref(), true)?;
    let _permit = upload_permit(&state)?;
    let (fields, upload) =
        if content_type(request.headers()).as_deref() == Some("multipart/form-data") {
            read_multipart(request, &state, "file").await?
        } else {
            let xml = matches!(
                content_type(request.headers()).as_deref(),
                Some("application/xml" | "text/xml")
            );
            let bytes = super::read_body(request.into_body())
                .await
                .map_err(|message| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message))?;
            match body_json(&bytes, xml)? {
                Json::Object(fields) => (fields, None),
                _ => {
                    return Err(ApiError::bad_request(
                        "the body must be one attachment object",
                    ));
                }
            }
        };
    let kind = fields
        .get("type")
        .and_then(Json::as_str)
        .unwrap_or(if upload.is_some() { "file" } else { "" })
        .to_string();
    let Some((_, needed)) = KINDS.iter().find(|(name, _)| *name == kind) else {
        return Err(ApiError::invalid(CoupaErrors::single(
            "type",
            "must be file, url or text",
        )));
    };
    let given = match *needed {
        "file" => upload.is_some(),
        element => fields
            .get(element)
            .and_then(Json::as_str)
            .is_some_and(|text| !text.trim().is_empty()),
    };
    if !given {
        return Err(ApiError::invalid(CoupaErrors::single(
            *needed,
            format!("can't be blank for a {kind} attachment"),
        )));
    }
    let mut body = fields;
    body.insert("type".into(), Json::String(kind));
    let input = records::parse_body(object, &Json::Object(body), true, records::Writer::Api, &[])
        .map_err(ApiError::invalid)?;
    let now = now_unix();
    let values = stamped(input.values, &caller, now, true);
    let id = crate::files::attach(
        state.files(),
        &state.config.issuer,
        (owner, owner_id),
        values,
        upload,
        now,
    )
    .await
    .map_err(files_unavailable)?;
    let record = load(&state, object, id).await?;
    Ok(one_record(StatusCode::CREATED, format, &record, &view))
}

/// `GET /api/{object}/{id}/attachments`
pub async fn list(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id)): Path<(String, String)>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response> {
    let (owner, owner_id) = owner_record(&state, &path, &id).await?;
    let object = attachments()?;
    let view = view_of(object, raw_query.as_deref(), false)?;
    let records = records::linked(state.store.as_ref(), object, owner, owner_id).await?;
    Ok(match format {
        ResponseFormat::Json => axum::Json(render::json_list(&records, &view)).into_response(),
        ResponseFormat::Xml if records.is_empty() => {
            return Err(ApiError::not_found(
                "No results match your search criteria.",
            ));
        }
        ResponseFormat::Xml => (
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            render::xml_list(object, &records, &view),
        )
            .into_response(),
    })
}

/// The attachment `attachment_id` of record `id` of `path`.
async fn owned_attachment(
    state: &AppState,
    path: &str,
    id: &str,
    attachment_id: &str,
) -> Result<(&'static ObjectDef, render::Record)> {
    let (owner, owner_id) = owner_record(state, path, id).await?;
    let object = attachments()?;
    let attachment_id = id_or_404(attachment_id)?;
    let record = load(state, object, attachment_id).await?;
    let belongs = object.links.is_some_and(|links| {
        record.value(links.object) == Some(owner.path) && record.integer(links.id) == Some(owner_id)
    });
    if !belongs {
        return Err(ApiError::not_found(format!(
            "no attachment {attachment_id} on {} {owner_id}",
            owner.element
        )));
    }
    Ok((object, record))
}

/// `GET /api/{object}/{id}/attachments/{attachment_id}`
pub async fn show(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path((path, id, attachment_id)): Path<(String, String, String)>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response> {
    let (object, record) = owned_attachment(&state, &path, &id, &attachment_id).await?;
    let view = view_of(object, raw_query.as_deref(), false)?;
    Ok(one_record(StatusCode::OK, format, &record, &view))
}

/// `DELETE /api/{object}/{id}/attachments/{attachment_id}`
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path((path, id, attachment_id)): Path<(String, String, String)>,
) -> Result<Response> {
    let (object, record) = owned_attachment(&state, &path, &id, &attachment_id).await?;
    if let Some(id) = record.id() {
        state.store.execute(&sql::delete(object, id)).await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Which stored file a `GET /api/{object}/{id}/{action}` names.
fn stored_file(object: &str, action: &str) -> Option<(&'static str, &'static str)> {
    Some(match (object, action) {
        ("attachments", "file") => ("attachments", "file"),
        ("invoices", "retrieve_image_scan") => ("invoices", "image_scan"),
        ("invoices", "retrieve_legal_invoice_pdf") => ("invoices", "legal_invoice_pdf"),
        ("invoices", "retrieve_clearance_document") => ("invoices", "clearance_document"),
        _ => return None,
    })
}

/// `GET /api/invoices/{id}/retrieve_image_scan` and the other file downloads: the stored
/// bytes with their content type, or Coupa's 404 when there is none.
pub async fn retrieve(
    State(state): State<Arc<AppState>>,
    _format: ResponseFormat,
    Path((path, id, action)): Path<(String, String, String)>,
) -> Result<Response> {
    let object = object_or_404(&path)?;
    let (owner, role) = stored_file(object.path, &action)
        .ok_or_else(|| ApiError::not_found(format!("{} have no {action}", object.path)))?;
    let id = id_or_404(&id)?;
    must_exist(&state, object, id).await?;
    let (file, bytes) = state
        .files()
        .open(owner, id, role)
        .await
        .map_err(files_unavailable)?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{} {id} has no {}",
                object.element,
                role.replace('_', " ")
            ))
        })?;
    let content_type = HeaderValue::from_str(&file.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let name: String = file
        .file_name
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';'))
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from(bytes),
    )
        .into_response())
}

/// `PUT /api/invoices/{id}/image_scan`: the invoice's image scan, multipart
/// (`invoice[image_scan]`, or `file`) or the bytes themselves with their content type.
pub async fn put_image_scan(
    State(state): State<Arc<AppState>>,
    format: ResponseFormat,
    Path(id): Path<String>,
    RawQuery(raw_query): RawQuery,
    request: Request,
) -> Result<Response> {
    let (object, id) = owner_record(&state, "invoices", &id).await?;
    let view = view_of(object, raw_query.as_deref(), true)?;
    let _permit = upload_permit(&state)?;
    let media = content_type(request.headers());
    let upload = match media.as_deref() {
        Some("multipart/form-data") => read_multipart(request, &state, "image_scan").await?.1,
        Some(media) => {
            let max = state.config.max_file_bytes;
            let bytes = axum::body::to_bytes(request.into_body(), max)
                .await
                .map_err(|_| too_large(max))?;
            Some(Upload {
                content_type: media.to_string(),
                file_name: format!("invoice-{id}-image-scan"),
                bytes: bytes.to_vec(),
            })
        }
        None => None,
    }
    .filter(|upload| !upload.bytes.is_empty())
    .ok_or_else(|| {
        ApiError::invalid(CoupaErrors::single(
            "image-scan",
            "send the scan as multipart invoice[image_scan], or as the body with its Content-Type",
        ))
    })?;
    crate::files::image_scan(state.files(), &state.config.issuer, id, upload, now_unix())
        .await
        .map_err(files_unavailable)?;
    let record = load(&state, object, id).await?;
    Ok(one_record(StatusCode::OK, format, &record, &view))
}
