//! Reading records with their associations, and turning request bodies into column values.

use std::collections::HashMap;

use coupa_proto::errors::CoupaErrors;
use serde_json::Value as Json;

use super::model::{self, CustomField, Embedded, Field, FieldType, Lines, ObjectDef};
use super::query::{self, ListQuery, Value};
use super::render::Record;
use super::sql;
use crate::store::{Store, StoreError};

/// How much of the records a record points at to load: what a nested association shows by
/// default (id and summary), or every element (a `fields` selection may name any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Associated {
    Summary,
    Full,
}

pub async fn list(
    store: &dyn Store,
    object: &'static ObjectDef,
    custom: &[CustomField],
    query: &ListQuery,
    associated: Associated,
) -> Result<Vec<Record>, StoreError> {
    load(store, object, custom, &sql::list(object, query), associated).await
}

pub async fn one(
    store: &dyn Store,
    object: &'static ObjectDef,
    custom: &[CustomField],
    id: i64,
) -> Result<Option<Record>, StoreError> {
    Ok(load(
        store,
        object,
        custom,
        &sql::by_ids(object, "id", &[id]),
        Associated::Full,
    )
    .await?
    .pop())
}

/// Runs a SELECT of `object` and attaches every record's references, lines and custom
/// fields.
async fn load(
    store: &dyn Store,
    object: &'static ObjectDef,
    custom: &[CustomField],
    select: &sql::SqlQuery,
    associated: Associated,
) -> Result<Vec<Record>, StoreError> {
    let rows = store.select_rows(select).await?;
    let mut records: Vec<Record> = rows
        .into_iter()
        .map(|values| Record::new(object, values))
        .collect();
    attach_references(store, &mut records, associated).await?;
    attach_lines(store, &mut records, associated).await?;
    attach_custom_fields(store, object, custom, &mut records).await?;
    Ok(records)
}

/// Every custom field of each record (absent ones as None), in one query for the page.
async fn attach_custom_fields(
    store: &dyn Store,
    object: &ObjectDef,
    custom: &[CustomField],
    records: &mut [Record],
) -> Result<(), StoreError> {
    let ids: Vec<i64> = records.iter().filter_map(Record::id).collect();
    let mut found: HashMap<(i64, String), String> = HashMap::new();
    if !custom.is_empty() && !ids.is_empty() {
        for row in store.select_rows(&sql::custom_values(object, &ids)).await? {
            if let [Some(id), Some(name), Some(value)] = &row[..]
                && let Ok(id) = id.parse()
            {
                found.insert((id, name.clone()), value.clone());
            }
        }
    }
    for record in records.iter_mut() {
        let id = record.id().unwrap_or_default();
        record.custom = Some(
            custom
                .iter()
                .map(|field| {
                    let value = found.remove(&(id, field.name.clone()));
                    (field.name.clone(), field.kind, value)
                })
                .collect(),
        );
    }
    Ok(())
}

/// One query per reference for the whole page, never one per record.
async fn attach_references(
    store: &dyn Store,
    records: &mut [Record],
    associated: Associated,
) -> Result<(), StoreError> {
    let Some(object) = records.first().map(|record| record.object) else {
        return Ok(());
    };
    for reference in object.references {
        let Some(referenced) = model::object(reference.object) else {
            continue;
        };
        let mut ids: Vec<i64> = records
            .iter()
            .filter_map(|record| record.integer(reference.slot))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found: HashMap<i64, Record> = HashMap::new();
        if !ids.is_empty() {
            let (select, slots) = match associated {
                Associated::Full => (sql::by_ids(referenced, "id", &ids), Vec::new()),
                Associated::Summary => sql::summaries_by_ids(referenced, &ids),
            };
            for row in store.select_rows(&select).await? {
                let values = if slots.is_empty() {
                    row
                } else {
                    let mut values = vec![None; referenced.columns.len()];
                    for (slot, value) in slots.iter().zip(row) {
                        values[*slot] = value;
                    }
                    values
                };
                let record = Record::new(referenced, values);
                if let Some(id) = record.id() {
                    found.insert(id, record);
                }
            }
        }
        for record in records.iter_mut() {
            let target = record.integer(reference.slot).and_then(|id| found.get(&id));
            record
                .references
                .push((reference.name, target.cloned().map(Box::new)));
        }
    }
    Ok(())
}

/// One query per kind of lines for the whole page.
async fn attach_lines(
    store: &dyn Store,
    records: &mut [Record],
    associated: Associated,
) -> Result<(), StoreError> {
    let Some(object) = records.first().map(|record| record.object) else {
        return Ok(());
    };
    let ids: Vec<i64> = records.iter().filter_map(Record::id).collect();
    for lines in object.lines {
        let Some(line_object) = model::object(lines.object) else {
            continue;
        };
        let (select, parent_slot) = if lines.linked() {
            let Some(links) = line_object.links else {
                continue;
            };
            (sql::linked_to(line_object, object.path, &ids), links.id)
        } else {
            let Some(parent) = line_object.reference(lines.parent) else {
                continue;
            };
            let parent_column = line_object.columns[parent.slot].name;
            (sql::by_ids(line_object, parent_column, &ids), parent.slot)
        };
        let mut line_records: Vec<Record> = store
            .select_rows(&select)
            .await?
            .into_iter()
            .map(|values| Record::new(line_object, values))
            .collect();
        attach_references(store, &mut line_records, associated).await?;
        let mut by_parent: HashMap<i64, Vec<Record>> = HashMap::new();
        for line in line_records {
            if let Some(parent_id) = line.integer(parent_slot) {
                by_parent.entry(parent_id).or_default().push(line);
            }
        }
        for record in records.iter_mut() {
            let own = record
                .id()
                .and_then(|id| by_parent.remove(&id))
                .unwrap_or_default();
            record.lines.push((lines.name, own));
        }
    }
    Ok(())
}

/// The records of `object` (attachments) that belong to record `owner_id` of `owner`.
pub async fn linked(
    store: &dyn Store,
    object: &'static ObjectDef,
    owner: &ObjectDef,
    owner_id: i64,
) -> Result<Vec<Record>, StoreError> {
    load(
        store,
        object,
        &[],
        &sql::linked_to(object, owner.path, &[owner_id]),
        Associated::Full,
    )
    .await
}

/// The line object of `lines` and its reference back to the parent.
pub fn line_parts(lines: &Lines) -> Option<(&'static ObjectDef, &'static model::Reference)> {
    let line_object = model::object(lines.object)?;
    Some((line_object, line_object.reference(lines.parent)?))
}

/// The statements that create a record and its lines: the parent's `INSERT ... RETURNING id`
/// and each line's, whose `$1` the store binds to the new id. `stamp` adds the columns the
/// server sets (times, created-by) to the parent and to every line; `status` is the parent's.
pub fn insert_statements(
    object: &ObjectDef,
    input: Input,
    status: Option<&str>,
    stamp: impl Fn(Vec<(String, Value)>) -> Vec<(String, Value)>,
) -> (sql::SqlQuery, Vec<sql::SqlQuery>) {
    let mut input = input;
    super::derive::on_create(object, &mut input.values, &mut input.lines);
    let mut values = stamp(input.values);
    // A status the server itself gives (demo data) wins over the initial one.
    if let Some(status) = status
        && !values.iter().any(|(name, _)| name == "status")
    {
        values.push(("status".into(), Value::Text(status.into())));
    }
    let children = input
        .lines
        .into_iter()
        .filter_map(|(lines, mut line)| {
            let (line_object, parent) = line_parts(lines)?;
            if let Some(initial) = line_object.initial_status
                && !line.iter().any(|(name, _)| name == "status")
            {
                line.push(("status".into(), Value::Text(initial.into())));
            }
            let parent_column = line_object.columns[parent.slot].name;
            Some(sql::insert(line_object, &stamp(line), Some(parent_column)))
        })
        .collect::<Vec<_>>();
    let mut children = children;
    children.extend(input.custom.iter().filter_map(|(name, value)| {
        Some(sql::insert_custom_value(object, name, value.as_deref()?))
    }));
    (sql::insert(object, &values, None), children)
}

/// The statements that delete record `id`: its row, then its lines and custom values.
pub fn delete_statements(object: &ObjectDef, id: i64) -> (sql::SqlQuery, Vec<sql::SqlQuery>) {
    let mut then: Vec<sql::SqlQuery> = object
        .lines
        .iter()
        .filter_map(line_parts)
        .map(|(line_object, parent)| {
            sql::delete_where(line_object, line_object.columns[parent.slot].name, id)
        })
        .collect();
    then.push(sql::delete_custom_values(object, id));
    (sql::delete(object, id), then)
}

/// The statements that set (or clear) the custom fields of record `id`.
pub fn custom_value_statements(object: &ObjectDef, id: i64, input: &Input) -> Vec<sql::SqlQuery> {
    input
        .custom
        .iter()
        .map(|(name, value)| match value {
            Some(value) => sql::upsert_custom_value(object, id, name, value),
            None => sql::delete_custom_value(object, id, name),
        })
        .collect()
}

/// The values of a copy of `record`: every element it has, typed for binding; the server
/// sets the id, times and authors anew.
pub fn copied_values(record: &Record) -> Vec<(String, Value)> {
    record
        .object
        .columns
        .iter()
        .zip(&record.values)
        .skip(model::SYSTEM_COLUMNS.len())
        .filter_map(|(column, text)| {
            let text = text.as_deref()?;
            let value = match column.kind {
                FieldType::Integer | FieldType::DateTime => Value::Integer(text.parse().ok()?),
                FieldType::Decimal => Value::Decimal(text.to_string()),
                FieldType::Boolean => Value::Boolean(matches!(text, "1" | "true" | "t" | "TRUE")),
                FieldType::String => Value::Text(text.to_string()),
            };
            Some((column.name.to_string(), value))
        })
        .collect()
}

/// Column values taken from a request body, with the lines to create.
#[derive(Debug, Default, PartialEq)]
pub struct Input {
    pub values: Vec<(String, Value)>,
    pub lines: Vec<(&'static Lines, Vec<(String, Value)>)>,
    /// (reference name, referenced object, id) to check for existence.
    pub references: Vec<(String, &'static str, i64)>,
    /// Custom fields by name, as stored text; None clears one.
    pub custom: Vec<(String, Option<String>)>,
}

impl Input {
    /// Sets a column's value; a later element naming the same column wins.
    pub fn set(&mut self, column: &str, value: Value) {
        self.values.retain(|(name, _)| name != column);
        self.values.push((column.to_string(), value));
    }
}

/// Who writes: a caller of the API, for whom read-only elements are ignored as Coupa ignores
/// them, or the server itself (demo data), which sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    Api,
    Server,
}

/// An embedded association holds at most this much JSON.
const MAX_EMBEDDED_BYTES: usize = 64 * 1024;

/// Parses a JSON body for `object`. On create, required elements must be present.
pub fn parse_body(
    object: &'static ObjectDef,
    body: &Json,
    creating: bool,
    writer: Writer,
    custom: &[CustomField],
) -> Result<Input, CoupaErrors> {
    let mut errors = CoupaErrors::new();
    let mut input = Input::default();
    let Some(map) = body.as_object() else {
        return Err(CoupaErrors::single(
            "base",
            format!("the body must be one {} object", object.element),
        ));
    };
    let writes = |writable: bool| writable || writer == Writer::Server;
    for (key, value) in map {
        let name = key.replace('_', "-");
        if model::SYSTEM_ELEMENTS.contains(&name.as_str()) {
            continue;
        }
        if name == model::CUSTOM_FIELDS {
            parse_custom_fields(object, custom, value, &mut input, &mut errors);
            continue;
        }
        // A field `x-id` shares the column of the reference `x`: it is that reference's id.
        let field = object.field(&name);
        let reference = object.reference(&name).or_else(|| {
            field.and_then(|field| {
                object
                    .references
                    .iter()
                    .find(|reference| reference.slot == field.slot)
            })
        });
        if let Some(reference) = reference {
            if !writes(reference.writable && field.is_none_or(|field| field.writable)) {
                continue;
            }
            let column = object.columns[reference.slot].name;
            match reference_id(value) {
                Ok(Some(id)) => {
                    input.set(column, Value::Integer(id));
                    input.references.push((name.clone(), reference.object, id));
                }
                Ok(None) => input.set(column, Value::Null(FieldType::Integer)),
                Err(message) => errors.add(&name, message),
            }
        } else if let Some(field) = field {
            if !writes(field.writable) {
                continue;
            }
            match json_value(field, value) {
                Ok(value) => input.set(object.columns[field.slot].name, value),
                Err(message) => errors.add(&name, message),
            }
        } else if let Some(lines) = object.lines_named(&name) {
            if !writes(lines.writable) {
                continue;
            }
            if !creating {
                errors.add(
                    &name,
                    "are created with the object; change a line through its own resource",
                );
                continue;
            }
            parse_lines(lines, value, writer, &mut input, &mut errors);
        } else if let Some(embedded) = object.embedded_named(&name) {
            if !writes(embedded.writable) {
                continue;
            }
            match embedded_value(embedded, value) {
                Ok(value) => input.set(object.columns[embedded.slot].name, value),
                Err(message) => errors.add(&name, message),
            }
        } else {
            errors.add(&name, format!("is not an attribute of {}", object.path));
        }
    }
    if creating {
        require_present(object, &input, &mut errors);
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

fn parse_lines(
    lines: &'static Lines,
    value: &Json,
    writer: Writer,
    input: &mut Input,
    errors: &mut CoupaErrors,
) {
    let Some((line_object, _)) = line_parts(lines) else {
        return;
    };
    let Some(items) = value.as_array() else {
        errors.add(lines.name, "must be an array");
        return;
    };
    for (index, item) in items.iter().enumerate() {
        match parse_body(line_object, item, true, writer, &[]) {
            Ok(line) => {
                input.references.extend(line.references);
                input.lines.push((lines, line.values));
            }
            Err(line_errors) => {
                for (field, messages) in line_errors.errors {
                    for message in messages {
                        errors.add(format!("{}[{index}].{field}", lines.name), message);
                    }
                }
            }
        }
    }
}

/// `"custom-fields": {"cost-center": "CC-100"}`: each key a custom field of the object, each
/// value checked against its kind; null clears one.
fn parse_custom_fields(
    object: &ObjectDef,
    custom: &[CustomField],
    value: &Json,
    input: &mut Input,
    errors: &mut CoupaErrors,
) {
    let Some(map) = value.as_object() else {
        errors.add(
            model::CUSTOM_FIELDS,
            "must be an object of custom field names and values",
        );
        return;
    };
    for (key, value) in map {
        let name = key.replace('_', "-");
        let error_key = format!("{}.{name}", model::CUSTOM_FIELDS);
        let Some(field) = custom.iter().find(|field| field.name == name) else {
            errors.add(
                error_key,
                format!("is not a custom field of {}", object.path),
            );
            continue;
        };
        let text = match value {
            Json::Null => {
                input.custom.push((name, None));
                continue;
            }
            Json::String(text) => text.clone(),
            Json::Number(number) => number.to_string(),
            Json::Bool(flag) => flag.to_string(),
            _ => {
                errors.add(error_key, "must be a single value");
                continue;
            }
        };
        if text.chars().count() > MAX_CUSTOM_VALUE_CHARS {
            errors.add(
                error_key,
                format!("is too long (maximum is {MAX_CUSTOM_VALUE_CHARS} characters)"),
            );
            continue;
        }
        match query::parse_value(&name, field.kind, &text) {
            Ok(parsed) => input.custom.push((name, Some(stored_text(parsed, text)))),
            Err(error) => errors.add(
                error_key,
                error
                    .0
                    .split_once(": ")
                    .map_or(error.0.clone(), |(_, message)| message.to_string()),
            ),
        }
    }
}

/// A custom value at most this long.
const MAX_CUSTOM_VALUE_CHARS: usize = 1024;

/// How a custom value is stored: numbers and times as numbers (so they compare as such),
/// booleans as `true`/`false`, text as given.
fn stored_text(value: Value, given: String) -> String {
    match value {
        Value::Integer(number) => number.to_string(),
        Value::Decimal(text) | Value::Text(text) => text,
        Value::Boolean(flag) => flag.to_string(),
        Value::Null(_) => given,
    }
}

/// "can't be blank" for each required element a new record lacks.
fn require_present(object: &ObjectDef, input: &Input, errors: &mut CoupaErrors) {
    let present = |slot: usize| {
        let column = object.columns[slot].name;
        input
            .values
            .iter()
            .any(|(name, value)| name == column && !matches!(value, Value::Null(_)))
    };
    for field in object.fields.iter().filter(|field| field.required) {
        if !present(field.slot) {
            errors.add(field.name, "can't be blank");
        }
    }
    for reference in object.references.iter().filter(|r| r.required) {
        if !present(reference.slot) {
            errors.add(reference.name, "can't be blank");
        }
    }
    for lines in object.lines.iter().filter(|lines| lines.required) {
        if !input
            .lines
            .iter()
            .any(|(given, _)| given.name == lines.name)
        {
            errors.add(lines.name, "can't be blank");
        }
    }
}

/// A scalar of a body, checked against the field's type, enumeration, range and length.
fn json_value(field: &Field, value: &Json) -> Result<Value, String> {
    let text = match value {
        Json::Null => return Ok(Value::Null(field.kind)),
        Json::String(text) => text.clone(),
        Json::Number(number) => number.to_string(),
        Json::Bool(flag) => flag.to_string(),
        _ => return Err("must be a single value".to_string()),
    };
    let parsed = query::parse_value(field.name, field.kind, &text).map_err(|error| {
        error
            .0
            .split_once(": ")
            .map(|(_, message)| message.to_string())
            .unwrap_or(error.0)
    })?;
    if !field.values.is_empty() && !field.values.contains(&text.as_str()) {
        return Err(format!(
            "is not included in the list: {}",
            field.values.join(", ")
        ));
    }
    if let Some((low, high)) = field.range
        && let Ok(number) = text.parse::<f64>()
        && !(low..=high).contains(&number)
    {
        return Err(format!("must be between {low} and {high}"));
    }
    if let Some(max) = field.max_length
        && text.chars().count() > max
    {
        return Err(format!("is too long (maximum is {max} characters)"));
    }
    Ok(parsed)
}

/// An embedded association as JSON text: an object (or an array of objects for lines).
fn embedded_value(embedded: &Embedded, value: &Json) -> Result<Value, String> {
    let fits = match value {
        Json::Null => return Ok(Value::Null(FieldType::String)),
        Json::Object(_) => !embedded.many,
        Json::Array(items) => embedded.many && items.iter().all(Json::is_object),
        _ => false,
    };
    if !fits {
        return Err(if embedded.many {
            "must be an array of objects".to_string()
        } else {
            "must be an object".to_string()
        });
    }
    let text = value.to_string();
    if text.len() > MAX_EMBEDDED_BYTES {
        return Err(format!(
            "is too large (at most {} KiB)",
            MAX_EMBEDDED_BYTES / 1024
        ));
    }
    Ok(Value::Text(text))
}

/// `{"id": 5}`, `5` or `"5"`.
fn reference_id(value: &Json) -> Result<Option<i64>, String> {
    let id = match value {
        Json::Null => return Ok(None),
        Json::Object(map) => map.get("id").cloned().unwrap_or(Json::Null),
        other => other.clone(),
    };
    match id {
        Json::Number(number) => number
            .as_i64()
            .map(Some)
            .ok_or_else(|| "id must be a whole number".to_string()),
        Json::String(text) => text
            .parse()
            .map(Some)
            .map_err(|_| "id must be a whole number".to_string()),
        _ => Err("give the referenced record as {\"id\": N}".to_string()),
    }
}

/// The references of an input that do not exist, as Coupa errors.
pub async fn missing_references(
    store: &dyn Store,
    input: &Input,
) -> Result<CoupaErrors, StoreError> {
    let mut errors = CoupaErrors::new();
    for (name, object_path, id) in &input.references {
        let Some(object) = model::object(object_path) else {
            continue;
        };
        if store
            .select_rows(&sql::by_ids(object, "id", &[*id]))
            .await?
            .is_empty()
        {
            errors.add(name.as_str(), format!("{object_path} {id} does not exist"));
        }
    }
    Ok(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn invoices() -> &'static ObjectDef {
        model::object("invoices").unwrap()
    }

    fn valid_invoice() -> Json {
        json!({
            "invoice-number": "INV-9",
            "invoice-date": "2026-11-02T00:00:00Z",
            "handling-amount": "10.50",
            "supplier": {"id": 3},
            "id": 99,
            "invoice_lines": [{"description": "Paper", "price": 2, "quantity": 2, "account": 4}],
            "tax-lines": [{"amount": "1.00"}],
        })
    }

    #[test]
    fn parses_fields_references_lines_and_embedded_associations() {
        let input = parse_body(invoices(), &valid_invoice(), true, Writer::Api, &[]).unwrap();
        assert!(
            input
                .values
                .contains(&("invoice_number".into(), Value::Text("INV-9".into())))
        );
        assert!(
            input
                .values
                .contains(&("handling_amount".into(), Value::Decimal("10.50".into())))
        );
        assert!(
            input
                .values
                .contains(&("supplier_id".into(), Value::Integer(3)))
        );
        assert!(input.values.contains(&(
            "tax_lines".into(),
            Value::Text(r#"[{"amount":"1.00"}]"#.into())
        )));
        assert_eq!(input.lines.len(), 1);
        assert_eq!(input.lines[0].0.name, "invoice-lines");
        assert_eq!(input.references.len(), 2);
    }

    #[test]
    fn reports_every_problem_by_field() {
        let body = json!({
            "handling-amount": "ten",
            "colour": "red",
            "invoice_lines": [{"quantity": "x"}],
            "customs-declaration-number": "x".repeat(61),
            "tax-lines": {"not": "an array"},
        });
        let errors = parse_body(invoices(), &body, true, Writer::Api, &[]).unwrap_err();
        for field in [
            "handling-amount",
            "colour",
            "invoice-number",
            "supplier",
            "invoice-lines[0].quantity",
            "invoice-lines[0].description",
            "customs-declaration-number",
            "tax-lines",
        ] {
            assert!(errors.errors.contains_key(field), "{field}: {errors:?}");
        }
        assert!(parse_body(invoices(), &json!([1]), true, Writer::Api, &[]).is_err());
    }

    #[test]
    fn enumerations_name_the_allowed_values() {
        let lines = model::object("invoice_lines").unwrap();
        let body = json!({"description": "x", "price": 1, "type": "InvoiceFreeLine"});
        let errors = parse_body(lines, &body, true, Writer::Api, &[]).unwrap_err();
        let message = &errors.errors["type"][0];
        assert!(
            message.contains("InvoiceQuantityLine") && message.contains("InvoiceAmountLine"),
            "{message}"
        );
        let terms = model::object("payment_terms").unwrap();
        let errors = parse_body(
            terms,
            &json!({"code": "N30", "net-due-day": 40}),
            true,
            Writer::Api,
            &[],
        )
        .unwrap_err();
        assert!(errors.errors["net-due-day"][0].contains("between 1 and 31"));
    }

    #[test]
    fn read_only_elements_are_ignored_unless_the_server_writes() {
        let mut body = valid_invoice();
        body["status"] = json!("approved");
        body["exported"] = json!(true);
        body["gross-total"] = json!("99.00");
        let from_api = parse_body(invoices(), &body, true, Writer::Api, &[]).unwrap();
        for column in ["status", "exported", "gross_total"] {
            assert!(
                !from_api.values.iter().any(|(name, _)| name == column),
                "{column}"
            );
        }
        let from_server = parse_body(invoices(), &body, true, Writer::Server, &[]).unwrap();
        assert!(
            from_server
                .values
                .contains(&("gross_total".into(), Value::Decimal("99.00".into())))
        );
    }

    #[test]
    fn a_field_named_after_a_reference_writes_its_id_once() {
        let values = model::object("lookup_values").unwrap();
        let body = json!({"name": "CC-100", "lookup-id": "5", "lookup": {"id": 6}});
        let input = parse_body(values, &body, true, Writer::Api, &[]).unwrap();
        let ids: Vec<&Value> = input
            .values
            .iter()
            .filter(|(name, _)| name == "lookup_id")
            .map(|(_, value)| value)
            .collect();
        assert_eq!(
            ids,
            vec![&Value::Integer(6)],
            "one column, the later element wins"
        );
        assert_eq!(input.references.len(), 2, "both ids are checked to exist");
    }

    proptest! {
        #[test]
        fn never_panics(key in "[a-z_-]{1,20}", text in "\\PC{0,20}", number in any::<i64>()) {
            for value in [json!(text), json!(number), json!({"id": text.clone()}), json!([number]), json!(null)] {
                let _ = parse_body(invoices(), &json!({ key.clone(): value }), true, Writer::Api, &[]);
            }
        }
    }
}
