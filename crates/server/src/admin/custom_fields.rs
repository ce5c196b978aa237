//! Custom field administration: definitions checked against the object model, stored, and
//! the engine's cache reloaded.

use coupa_proto::admin::{CreateCustomField, CustomFieldView};
use coupa_proto::errors::CoupaErrors;

use super::{AdminContext, AdminError, as_audited};
use crate::api::model;
use crate::domain::audit;
use crate::domain::custom_field::{CustomFieldRecord, MAX_PER_OBJECT};
use crate::domain::time::{format_rfc3339, now_unix};
use crate::store::{Change, announce};

fn view(record: CustomFieldRecord) -> CustomFieldView {
    CustomFieldView {
        object: record.object,
        name: record.name,
        kind: record.kind,
        label: record.label,
        created_at: format_rfc3339(record.created_at),
    }
}

pub async fn list(context: &AdminContext<'_>) -> Result<Vec<CustomFieldView>, AdminError> {
    Ok(context
        .store
        .custom_fields()
        .await?
        .into_iter()
        .map(view)
        .collect())
}

pub async fn create(
    context: &AdminContext<'_>,
    input: CreateCustomField,
) -> Result<CustomFieldView, AdminError> {
    let Some(object) = model::object(&input.object) else {
        return Err(AdminError::Invalid(CoupaErrors::single(
            "object",
            format!("{} is not an API object", input.object),
        )));
    };
    let record = CustomFieldRecord::create(
        object.path,
        &input.name,
        &input.kind,
        input.label.as_deref(),
        now_unix(),
    )
    .map_err(AdminError::Invalid)?;
    if object.knows(&record.name) {
        return Err(AdminError::Invalid(CoupaErrors::single(
            "name",
            format!("{} already has an element {}", object.path, record.name),
        )));
    }
    let existing = context.custom_fields.of(object.path).len();
    if existing >= MAX_PER_OBJECT {
        return Err(AdminError::Invalid(CoupaErrors::single(
            "object",
            format!("{} has {MAX_PER_OBJECT} custom fields already", object.path),
        )));
    }
    context.store.insert_custom_field(&record).await?;
    context.custom_fields.reload(context.store.as_ref()).await?;
    announce(context.store.as_ref(), Change::CustomFields).await;
    context
        .record(
            "custom_field.created",
            format!("custom_field:{}/{}", record.object, record.name),
            audit::created(&as_audited(&view(record.clone()))),
        )
        .await;
    tracing::info!(object = %record.object, name = %record.name, kind = %record.kind, "custom field created");
    Ok(view(record))
}

/// Removes a definition and every value recorded for it.
pub async fn delete(
    context: &AdminContext<'_>,
    object: &str,
    name: &str,
) -> Result<(), AdminError> {
    let object = model::object(object).ok_or(AdminError::NotFound)?;
    let name = name.replace('_', "-");
    if !context
        .store
        .delete_custom_field(object.path, &name)
        .await?
    {
        return Err(AdminError::NotFound);
    }
    context.custom_fields.reload(context.store.as_ref()).await?;
    announce(context.store.as_ref(), Change::CustomFields).await;
    context
        .record(
            "custom_field.deleted",
            format!("custom_field:{}/{name}", object.path),
            serde_json::Value::Object(Default::default()),
        )
        .await;
    tracing::info!(object = %object.path, %name, "custom field deleted with its values");
    Ok(())
}
