//! Reading records with their associations, and turning request bodies into column values.

use std::collections::HashMap;

use coupa_proto::errors::CoupaErrors;
use serde_json::Value as Json;

use super::model::{self, FieldType, ObjectDef};
use super::query::{self, ListQuery, Value};
use super::render::Record;
use super::sql;
use crate::store::{Store, StoreError};

pub async fn list(
    store: &dyn Store,
    object: &'static ObjectDef,
    query: &ListQuery,
) -> Result<Vec<Record>, StoreError> {
    load(store, object, &sql::list(object, query)).await
}

pub async fn one(
    store: &dyn Store,
    object: &'static ObjectDef,
    id: i64,
) -> Result<Option<Record>, StoreError> {
    Ok(load(store, object, &sql::by_ids(object, "id", &[id]))
        .await?
        .pop())
}

/// Runs a SELECT of `object` and attaches every record's references and lines.
async fn load(
    store: &dyn Store,
    object: &'static ObjectDef,
    select: &sql::SqlQuery,
) -> Result<Vec<Record>, StoreError> {
    let rows = store.select_rows(select).await?;
    let mut records: Vec<Record> = rows
        .into_iter()
        .map(|values| Record::new(object, values))
        .collect();
    attach_references(store, &mut records).await?;
    attach_lines(store, &mut records).await?;
    Ok(records)
}

/// One query per reference for the whole page, never one per record.
async fn attach_references(store: &dyn Store, records: &mut [Record]) -> Result<(), StoreError> {
    let Some(object) = records.first().map(|record| record.object) else {
        return Ok(());
    };
    for reference in object.references {
        let column = model::reference_column(reference.name);
        let mut ids: Vec<i64> = records
            .iter()
            .filter_map(|record| record.get(&column).and_then(|id| id.parse().ok()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let Some(referenced) = model::object(reference.object) else {
            continue;
        };
        let mut found: HashMap<i64, Record> = HashMap::new();
        if !ids.is_empty() {
            for values in store
                .select_rows(&sql::by_ids(referenced, "id", &ids))
                .await?
            {
                let record = Record::new(referenced, values);
                if let Some(id) = record.id() {
                    found.insert(id, record);
                }
            }
        }
        for record in records.iter_mut() {
            let target = record
                .get(&column)
                .and_then(|id| id.parse::<i64>().ok())
                .and_then(|id| found.get(&id));
            record
                .references
                .push((reference.name, target.cloned().map(Box::new)));
        }
    }
    Ok(())
}

async fn attach_lines(store: &dyn Store, records: &mut [Record]) -> Result<(), StoreError> {
    let Some(lines) = records.first().and_then(|record| record.object.lines) else {
        return Ok(());
    };
    let Some(line_object) = model::object(lines.object) else {
        return Ok(());
    };
    let ids: Vec<i64> = records.iter().filter_map(Record::id).collect();
    let parent_column = model::reference_column(lines.parent);
    let rows = store
        .select_rows(&sql::by_ids(line_object, &parent_column, &ids))
        .await?;
    let mut line_records: Vec<Record> = rows
        .into_iter()
        .map(|values| Record::new(line_object, values))
        .collect();
    attach_references(store, &mut line_records).await?;
    let mut by_parent: HashMap<i64, Vec<Record>> = HashMap::new();
    for line in line_records {
        if let Some(parent) = line.get(&parent_column).and_then(|id| id.parse().ok()) {
            by_parent.entry(parent).or_default().push(line);
        }
    }
    for record in records.iter_mut() {
        if let Some(id) = record.id() {
            record.lines = by_parent.remove(&id).unwrap_or_default();
        }
    }
    Ok(())
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
    let mut values = stamp(input.values);
    if let Some(status) = status {
        values.push(("status".into(), Value::Text(status.into())));
    }
    let mut children = Vec::new();
    if let Some(lines) = object.lines
        && let Some(line_object) = model::object(lines.object)
    {
        let parent_column = model::reference_column(lines.parent);
        for line in input.lines {
            children.push(sql::insert(line_object, &stamp(line), Some(&parent_column)));
        }
    }
    (sql::insert(object, &values, None), children)
}

/// Column values taken from a request body, with the lines to create.
#[derive(Debug, Default, PartialEq)]
pub struct Input {
    pub values: Vec<(String, Value)>,
    pub lines: Vec<Vec<(String, Value)>>,
    /// (reference name, referenced object, id) to check for existence.
    pub references: Vec<(String, &'static str, i64)>,
}

/// Attributes the server sets; a body may carry them (as read back from a GET) and they
/// are ignored.
const SERVER_SET: &[&str] = &["id", "created-at", "updated-at", "created-by", "updated-by"];

/// Parses a JSON body for `object`. On create, required attributes must be present.
pub fn parse_body(
    object: &'static ObjectDef,
    body: &Json,
    creating: bool,
    parent: Option<&str>,
) -> Result<Input, CoupaErrors> {
    let mut errors = CoupaErrors::new();
    let mut input = Input::default();
    let Some(map) = body.as_object() else {
        return Err(CoupaErrors::single(
            "base",
            format!("the body must be one {} object", object.element),
        ));
    };
    for (key, value) in map {
        let name = key.replace('_', "-");
        if SERVER_SET.contains(&name.as_str()) || Some(name.as_str()) == parent {
            continue;
        }
        if let Some(field) = object.field(&name) {
            if object.initial_status.is_some() && field.name == "status" {
                errors.add(&name, "changes through the object's actions only");
                continue;
            }
            match json_value(field.name, field.kind, value) {
                Ok(value) => input.values.push((model::column(field.name), value)),
                Err(message) => errors.add(&name, message),
            }
        } else if let Some(reference) = object.reference(&name) {
            match reference_id(value) {
                Ok(Some(id)) => {
                    input
                        .values
                        .push((model::reference_column(reference.name), Value::Integer(id)));
                    input
                        .references
                        .push((reference.name.to_string(), reference.object, id));
                }
                Ok(None) => input.values.push((
                    model::reference_column(reference.name),
                    Value::Null(FieldType::Integer),
                )),
                Err(message) => errors.add(&name, message),
            }
        } else if let Some(lines) = object.lines_named(&name) {
            if !creating {
                errors.add(
                    &name,
                    "are created with the object; change a line through its own resource",
                );
                continue;
            }
            let Some(line_object) = model::object(lines.object) else {
                continue;
            };
            let Some(items) = value.as_array() else {
                errors.add(&name, "must be an array");
                continue;
            };
            for (index, item) in items.iter().enumerate() {
                match parse_body(line_object, item, true, Some(lines.parent)) {
                    Ok(line) => {
                        input.references.extend(line.references);
                        input.lines.push(line.values);
                    }
                    Err(line_errors) => {
                        for (field, messages) in line_errors.errors {
                            for message in messages {
                                errors.add(format!("{name}[{index}].{field}"), message);
                            }
                        }
                    }
                }
            }
        } else {
            errors.add(&name, format!("is not an attribute of {}", object.path));
        }
    }
    if creating {
        for field in object.fields.iter().filter(|field| field.required) {
            let column = model::column(field.name);
            let present = input
                .values
                .iter()
                .any(|(name, value)| *name == column && !matches!(value, Value::Null(_)));
            if !present {
                errors.add(field.name, "can't be blank");
            }
        }
        for reference in object
            .references
            .iter()
            .filter(|reference| reference.required)
        {
            let column = model::reference_column(reference.name);
            if !input
                .values
                .iter()
                .any(|(name, value)| *name == column && !matches!(value, Value::Null(_)))
            {
                errors.add(reference.name, "can't be blank");
            }
        }
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

fn json_value(name: &str, kind: FieldType, value: &Json) -> Result<Value, String> {
    let text = match value {
        Json::Null => return Ok(Value::Null(kind)),
        Json::String(text) => text.clone(),
        Json::Number(number) => number.to_string(),
        Json::Bool(flag) => flag.to_string(),
        _ => return Err("must be a single value".to_string()),
    };
    query::parse_value(name, kind, &text).map_err(|error| {
        error
            .0
            .split_once(": ")
            .map(|(_, message)| message.to_string())
            .unwrap_or(error.0)
    })
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

    #[test]
    fn parses_fields_references_and_lines() {
        let body = json!({
            "invoice-number": "INV-9",
            "total": "10.50",
            "supplier": {"id": 3},
            "id": 99,
            "invoice_lines": [{"description": "Paper", "quantity": 2, "account": 4}],
        });
        let input = parse_body(invoices(), &body, true, None).unwrap();
        assert!(
            input
                .values
                .contains(&("invoice_number".into(), Value::Text("INV-9".into())))
        );
        assert!(
            input
                .values
                .contains(&("total".into(), Value::Decimal("10.50".into())))
        );
        assert!(
            input
                .values
                .contains(&("supplier_id".into(), Value::Integer(3)))
        );
        assert_eq!(input.lines.len(), 1);
        assert_eq!(input.references.len(), 2);
    }

    #[test]
    fn reports_every_problem_by_field() {
        let body = json!({"total": "ten", "colour": "red", "status": "approved", "invoice_lines": [{"quantity": "x"}]});
        let errors = parse_body(invoices(), &body, true, None).unwrap_err();
        for field in [
            "total",
            "colour",
            "status",
            "invoice-number",
            "supplier",
            "invoice-lines[0].quantity",
        ] {
            assert!(errors.errors.contains_key(field), "{field}: {errors:?}");
        }
        assert!(parse_body(invoices(), &json!([1]), true, None).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(key in "[a-z_-]{1,20}", text in "\\PC{0,20}", number in any::<i64>()) {
            for value in [json!(text), json!(number), json!({"id": text.clone()}), json!([number]), json!(null)] {
                let _ = parse_body(invoices(), &json!({ key.clone(): value }), true, None);
            }
        }
    }
}
