//! Coupa's two renderings of the same records: JSON (no root node, hyphenated keys, decimals
//! as strings, as Rails writes them) and XML (typed attributes, `nil="true"`, arrays).

use serde_json::{Map, Value as Json};

use super::model::{FieldType, ObjectDef};
use super::sql::columns;
use crate::domain::time::format_rfc3339;
use crate::http::errors::escape_xml;

/// One record as read from the store, with its associations attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub object: &'static ObjectDef,
    /// Text of each column, in `sql::columns` order.
    pub values: Vec<Option<String>>,
    /// Each reference of the object, by name: the referenced record when there is one.
    pub references: Vec<(&'static str, Option<Box<Record>>)>,
    pub lines: Vec<Record>,
}

impl Record {
    pub fn new(object: &'static ObjectDef, values: Vec<Option<String>>) -> Self {
        Self {
            object,
            values,
            references: Vec::new(),
            lines: Vec::new(),
        }
    }

    pub fn id(&self) -> Option<i64> {
        self.values
            .first()
            .and_then(|id| id.as_deref())
            .and_then(|id| id.parse().ok())
    }

    /// The text of `column`, if set.
    pub fn get(&self, column: &str) -> Option<&str> {
        let index = columns(self.object).iter().position(|c| c.name == column)?;
        self.values.get(index).and_then(|value| value.as_deref())
    }
}

/// Typed scalar in both renderings; None when the stored text does not fit the type.
enum Scalar {
    Integer(i64),
    Decimal(String),
    Boolean(bool),
    DateTime(String),
    Text(String),
}

fn scalar(kind: FieldType, text: &str) -> Option<Scalar> {
    Some(match kind {
        FieldType::Integer => Scalar::Integer(text.parse().ok()?),
        FieldType::Decimal => Scalar::Decimal(normalize_decimal(text)?),
        FieldType::Boolean => Scalar::Boolean(matches!(text, "1" | "true" | "t" | "TRUE")),
        FieldType::DateTime => Scalar::DateTime(format_rfc3339(text.parse().ok()?)),
        FieldType::String => Scalar::Text(text.to_string()),
    })
}

/// Decimals with at least two places, whatever the backend's text form (`12` → `12.00`).
pub fn normalize_decimal(text: &str) -> Option<String> {
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    let places = text
        .split_once('.')
        .map(|(_, fraction)| fraction.trim_end_matches('0').len())
        .unwrap_or(0);
    if text.contains(['e', 'E']) {
        return Some(format!("{value:.2}"));
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut fraction: String = fraction.chars().take(places.max(2)).collect();
    while fraction.len() < 2 {
        fraction.push('0');
    }
    Some(format!("{whole}.{fraction}"))
}

fn wire_name(column: &str) -> String {
    column.replace('_', "-")
}

/// (wire name, kind, text) of every scalar column; `summary` keeps only id and summary fields.
fn scalars(record: &Record, summary: bool) -> Vec<(String, FieldType, Option<&str>)> {
    let summary_columns: Vec<String> = record
        .object
        .summary
        .iter()
        .map(|name| name.replace('-', "_"))
        .collect();
    columns(record.object)
        .into_iter()
        .zip(&record.values)
        .filter(|(column, _)| !column.name.ends_with("_id") || column.name == "id")
        .filter(|(column, _)| {
            !summary || column.name == "id" || summary_columns.contains(&column.name)
        })
        .map(|(column, value)| (wire_name(&column.name), column.kind, value.as_deref()))
        .collect()
}

pub fn json(record: &Record) -> Json {
    json_of(record, false)
}

fn json_of(record: &Record, summary: bool) -> Json {
    let mut map = Map::new();
    for (name, kind, text) in scalars(record, summary) {
        let value = match text.and_then(|text| scalar(kind, text)) {
            None => Json::Null,
            Some(_) if name == "created-by" || name == "updated-by" => {
                serde_json::json!({ "login": text.unwrap_or_default() })
            }
            Some(Scalar::Integer(n)) => Json::from(n),
            Some(Scalar::Boolean(b)) => Json::Bool(b),
            Some(Scalar::Decimal(s) | Scalar::DateTime(s) | Scalar::Text(s)) => Json::String(s),
        };
        map.insert(name, value);
    }
    if !summary {
        for (name, referenced) in &record.references {
            let value = referenced
                .as_ref()
                .map_or(Json::Null, |referenced| json_of(referenced, true));
            map.insert((*name).to_string(), value);
        }
        if let Some(lines) = record.object.lines {
            map.insert(
                lines.name.to_string(),
                Json::Array(
                    record
                        .lines
                        .iter()
                        .map(|line| json_of(line, false))
                        .collect(),
                ),
            );
        }
    }
    Json::Object(map)
}

pub fn json_list(records: &[Record]) -> Json {
    Json::Array(records.iter().map(json).collect())
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

pub fn xml(record: &Record) -> String {
    let mut out = String::from(XML_DECLARATION);
    xml_of(&mut out, record, record.object.element, false, 0);
    out
}

pub fn xml_list(object: &ObjectDef, records: &[Record]) -> String {
    let mut out = String::from(XML_DECLARATION);
    let list = object.list_element();
    out.push_str(&format!("<{list} type=\"array\">\n"));
    for record in records {
        xml_of(&mut out, record, object.element, false, 1);
    }
    out.push_str(&format!("</{list}>\n"));
    out
}

fn xml_of(out: &mut String, record: &Record, element: &str, summary: bool, depth: usize) {
    let indent = "  ".repeat(depth);
    let inner = "  ".repeat(depth + 1);
    out.push_str(&format!("{indent}<{element}>\n"));
    for (name, kind, text) in scalars(record, summary) {
        match text.and_then(|text| scalar(kind, text)) {
            None => {
                let type_attribute = kind
                    .xml_type()
                    .map(|t| format!(" type=\"{t}\""))
                    .unwrap_or_default();
                out.push_str(&format!("{inner}<{name}{type_attribute} nil=\"true\"/>\n"));
            }
            Some(_) if name == "created-by" || name == "updated-by" => {
                let login = escape_xml(text.unwrap_or_default());
                out.push_str(&format!(
                    "{inner}<{name}>\n{inner}  <login>{login}</login>\n{inner}</{name}>\n"
                ));
            }
            Some(value) => {
                let (text, type_attribute) = match value {
                    Scalar::Integer(n) => (n.to_string(), " type=\"integer\""),
                    Scalar::Decimal(s) => (s, " type=\"decimal\""),
                    Scalar::Boolean(b) => (b.to_string(), " type=\"boolean\""),
                    Scalar::DateTime(s) => (s, " type=\"dateTime\""),
                    Scalar::Text(s) => (s, ""),
                };
                out.push_str(&format!(
                    "{inner}<{name}{type_attribute}>{}</{name}>\n",
                    escape_xml(&text)
                ));
            }
        }
    }
    if !summary {
        for (name, referenced) in &record.references {
            match referenced {
                Some(referenced) => xml_of(out, referenced, name, true, depth + 1),
                None => out.push_str(&format!("{inner}<{name} nil=\"true\"/>\n")),
            }
        }
        if let Some(lines) = record.object.lines {
            out.push_str(&format!("{inner}<{} type=\"array\">\n", lines.name));
            let line_element =
                super::model::object(lines.object).map_or("line", |object| object.element);
            for line in &record.lines {
                xml_of(out, line, line_element, false, depth + 2);
            }
            out.push_str(&format!("{inner}</{}>\n", lines.name));
        }
    }
    out.push_str(&format!("{indent}</{element}>\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::model;

    fn supplier() -> Record {
        let object = model::object("suppliers").unwrap();
        let mut values = vec![None; columns(object).len()];
        values[0] = Some("3".into());
        values[5] = Some("Acme & Sons".into());
        Record::new(object, values)
    }

    fn invoice() -> Record {
        let object = model::object("invoices").unwrap();
        let values = vec![
            Some("7".into()),
            Some("1795334332".into()),
            Some("1795334332".into()),
            Some("sync".into()),
            None,
            Some("INV-1".into()),
            None,
            Some("draft".into()),
            Some("12.5".into()),
            Some("0".into()),
            Some("3".into()),
            None,
        ];
        let mut record = Record::new(object, values);
        record.references = vec![("supplier", Some(Box::new(supplier()))), ("currency", None)];
        record
    }

    #[test]
    fn json_has_no_root_and_coupa_types() {
        let json = json(&invoice());
        assert_eq!(json["id"], 7);
        assert_eq!(json["invoice-number"], "INV-1");
        assert_eq!(json["total"], "12.50");
        assert_eq!(json["exported"], false);
        assert_eq!(json["created-at"], "2026-11-22T07:58:52Z");
        assert_eq!(json["created-by"]["login"], "sync");
        assert_eq!(json["updated-by"], Json::Null);
        assert_eq!(
            json["supplier"],
            serde_json::json!({"id": 3, "name": "Acme & Sons", "number": null})
        );
        assert_eq!(json["invoice-lines"], serde_json::json!([]));
        assert!(json.get("supplier-id").is_none());
    }

    #[test]
    fn xml_carries_typed_attributes() {
        let xml = xml_list(model::object("invoices").unwrap(), &[invoice()]);
        for expected in [
            "<invoice-headers type=\"array\">",
            "<id type=\"integer\">7</id>",
            "<total type=\"decimal\">12.50</total>",
            "<exported type=\"boolean\">false</exported>",
            "<created-at type=\"dateTime\">2026-11-22T07:58:52Z</created-at>",
            "<invoice-date type=\"dateTime\" nil=\"true\"/>",
            "<name>Acme &amp; Sons</name>",
            "<currency nil=\"true\"/>",
            "<invoice-lines type=\"array\">",
        ] {
            assert!(xml.contains(expected), "{expected} missing from\n{xml}");
        }
    }

    #[test]
    fn decimals_normalize_across_backends() {
        assert_eq!(normalize_decimal("12").unwrap(), "12.00");
        assert_eq!(normalize_decimal("12.5").unwrap(), "12.50");
        assert_eq!(normalize_decimal("12.500").unwrap(), "12.50");
        assert_eq!(normalize_decimal("0.125").unwrap(), "0.125");
        assert_eq!(normalize_decimal("-3.1").unwrap(), "-3.10");
        assert!(normalize_decimal("abc").is_none());
    }
}
