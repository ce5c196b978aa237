//! What an action on one record writes: the status it moves to and the elements it sets
//! (a boolean to true, a time to now), and Coupa's `?exported=true` flag on an update.

use super::model::{Action, FieldType, ObjectDef};
use super::query::Value;

/// The column values `action` writes on a record of `object` at `now`.
pub fn values(object: &ObjectDef, action: &Action, now: i64) -> Vec<(String, Value)> {
    let mut values: Vec<(String, Value)> = action
        .sets
        .iter()
        .filter_map(|element| object.field(element))
        .filter_map(|field| {
            let value = match field.kind {
                FieldType::Boolean => Value::Boolean(true),
                FieldType::DateTime => Value::Integer(now),
                _ => return None,
            };
            Some((object.columns[field.slot].name.to_string(), value))
        })
        .collect();
    if let Some(to) = action.to {
        values.push(("status".into(), Value::Text(to.to_string())));
    }
    values
}

/// `exported=true|false` in an update's query (`PUT /api/purchase_orders/1?exported=true`):
/// the flag, and the export time when set, for objects that carry them. None when the query
/// does not ask; an error when it asks something unreadable or the object has no flag.
pub fn exported_flag(
    object: &ObjectDef,
    query: &[(String, String)],
    now: i64,
) -> Result<Vec<(String, Value)>, String> {
    let Some((_, asked)) = query.iter().find(|(name, _)| name == "exported") else {
        return Ok(Vec::new());
    };
    let flag = match asked.as_str() {
        "true" | "1" => true,
        "false" | "0" => false,
        other => return Err(format!("exported: `{other}` is neither true nor false")),
    };
    let Some(exported) = object.field("exported") else {
        return Err(format!("exported: {} have no export flag", object.path));
    };
    let mut values = vec![(
        object.columns[exported.slot].name.to_string(),
        Value::Boolean(flag),
    )];
    if let (true, Some(at)) = (flag, object.field("last-exported-at")) {
        values.push((
            object.columns[at.slot].name.to_string(),
            Value::Integer(now),
        ));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::model;

    #[test]
    fn mark_exported_sets_the_flag_and_the_time() {
        let invoices = model::object("invoices").unwrap();
        let action = invoices.action("mark_exported").unwrap();
        let values = values(invoices, action, 1_800_000_000);
        assert!(values.contains(&("exported".into(), Value::Boolean(true))));
        assert!(values.contains(&("last_exported_at".into(), Value::Integer(1_800_000_000))));
        assert!(!values.iter().any(|(name, _)| name == "status"));
    }

    #[test]
    fn the_exported_query_flag_is_read_where_the_object_has_one() {
        let orders = model::object("purchase_orders").unwrap();
        let query = |value: &str| vec![("exported".to_string(), value.to_string())];
        assert_eq!(
            exported_flag(orders, &query("false"), 5).unwrap(),
            vec![("exported".into(), Value::Boolean(false))]
        );
        assert_eq!(exported_flag(orders, &query("true"), 5).unwrap().len(), 2);
        assert!(exported_flag(orders, &query("maybe"), 5).is_err());
        assert!(exported_flag(model::object("uoms").unwrap(), &query("true"), 5).is_err());
        assert!(exported_flag(orders, &[], 5).unwrap().is_empty());
    }
}
