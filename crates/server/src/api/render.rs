//! Coupa's two renderings of the same records: JSON (no root node, hyphenated keys, decimals
//! as strings, as Rails writes them) and XML (typed attributes, `nil="true"`, arrays).

use serde_json::{Map, Value as Json};

use super::model::{FieldType, ObjectDef};
use super::sql::columns;
use super::view::{Depth, Selection, View};
use crate::domain::time::format_rfc3339;

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

/// What to show of one record: the whole of it, its summary (when nested in another), or
/// what a `fields` selection names; `return_object` narrows further.
#[derive(Clone, Copy)]
struct Shape<'a> {
    depth: Depth,
    /// Nested in another record without a selection of its own.
    summary: bool,
    selection: Option<&'a Selection>,
}

impl Shape<'_> {
    fn shows(&self, record: &Record, name: &str) -> bool {
        if self.depth == Depth::Limited || self.depth == Depth::None {
            return name == "id";
        }
        match self.selection {
            Some(selection) => selection.shows(name),
            None if self.summary => name == "id" || record.object.summary.contains(&name),
            None => true,
        }
    }

    /// The shape of an associated record named `name`.
    fn nested(&self, name: &str) -> Shape<'_> {
        let selection = self.selection.and_then(|selection| selection.nested(name));
        Shape {
            depth: Depth::Full,
            summary: selection.is_none(),
            selection,
        }
    }

    fn associations(&self) -> bool {
        self.depth == Depth::Full && !self.summary
    }
}

/// (wire name, kind, text) of every scalar column the shape shows.
fn scalars<'r>(
    record: &'r Record,
    shape: &Shape,
) -> Vec<(&'static str, FieldType, Option<&'r str>)> {
    columns(record.object)
        .iter()
        .zip(&record.values)
        .filter(|(column, _)| !column.name.ends_with("_id") || column.name == "id")
        .map(|(column, value)| (column.wire.as_str(), column.kind, value.as_deref()))
        .filter(|(name, _, _)| shape.shows(record, name))
        .collect()
}

/// The id of a referenced record, for shallow renderings.
fn reference_id(record: &Record, name: &str) -> Option<i64> {
    record
        .get(&super::model::reference_column(name))
        .and_then(|id| id.parse().ok())
}

fn root_shape(view: &View) -> Shape<'_> {
    Shape {
        depth: view.depth,
        summary: false,
        selection: view.selection.as_ref(),
    }
}

pub fn json(record: &Record, view: &View) -> Json {
    json_of(record, &root_shape(view))
}

fn json_of(record: &Record, shape: &Shape) -> Json {
    let mut map = Map::new();
    for (name, kind, text) in scalars(record, shape) {
        let value = match text.and_then(|text| scalar(kind, text)) {
            None => Json::Null,
            Some(_) if name == "created-by" || name == "updated-by" => {
                serde_json::json!({ "login": text.unwrap_or_default() })
            }
            Some(Scalar::Integer(n)) => Json::from(n),
            Some(Scalar::Boolean(b)) => Json::Bool(b),
            Some(Scalar::Decimal(s) | Scalar::DateTime(s) | Scalar::Text(s)) => Json::String(s),
        };
        map.insert(name.to_string(), value);
    }
    if shape.depth == Depth::Shallow {
        for (name, _) in &record.references {
            if shape.shows(record, name) {
                let id = reference_id(record, name)
                    .map_or(Json::Null, |id| serde_json::json!({ "id": id }));
                map.insert((*name).to_string(), id);
            }
        }
    }
    if shape.associations() {
        for (name, referenced) in &record.references {
            if shape.shows(record, name) {
                let value = referenced.as_ref().map_or(Json::Null, |referenced| {
                    json_of(referenced, &shape.nested(name))
                });
                map.insert((*name).to_string(), value);
            }
        }
        if let Some(lines) = record.object.lines
            && shape.shows(record, lines.name)
        {
            let line_shape = Shape {
                summary: false,
                ..shape.nested(lines.name)
            };
            let rendered = record
                .lines
                .iter()
                .map(|line| json_of(line, &line_shape))
                .collect();
            map.insert(lines.name.to_string(), Json::Array(rendered));
        }
    }
    Json::Object(map)
}

pub fn json_list(records: &[Record], view: &View) -> Json {
    Json::Array(records.iter().map(|record| json(record, view)).collect())
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

pub fn xml(record: &Record, view: &View) -> String {
    let mut out = String::from(XML_DECLARATION);
    xml_of(
        &mut out,
        record,
        record.object.element,
        &root_shape(view),
        0,
    );
    out
}

pub fn xml_list(object: &ObjectDef, records: &[Record], view: &View) -> String {
    let mut out = String::from(XML_DECLARATION);
    let list = object.list_element();
    out.push_str(&format!("<{list} type=\"array\">\n"));
    for record in records {
        xml_of(&mut out, record, object.element, &root_shape(view), 1);
    }
    out.push_str(&format!("</{list}>\n"));
    out
}

fn xml_of(out: &mut String, record: &Record, element: &str, shape: &Shape, depth: usize) {
    let indent = "  ".repeat(depth);
    let inner = "  ".repeat(depth + 1);
    out.push_str(&format!("{indent}<{element}>\n"));
    for (name, kind, text) in scalars(record, shape) {
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
    if shape.depth == Depth::Shallow {
        for (name, _) in &record.references {
            if !shape.shows(record, name) {
                continue;
            }
            match reference_id(record, name) {
                Some(id) => out.push_str(&format!(
                    "{inner}<{name}>\n{inner}  <id type=\"integer\">{id}</id>\n{inner}</{name}>\n"
                )),
                None => out.push_str(&format!("{inner}<{name} nil=\"true\"/>\n")),
            }
        }
    }
    if shape.associations() {
        for (name, referenced) in &record.references {
            if !shape.shows(record, name) {
                continue;
            }
            match referenced {
                Some(referenced) => xml_of(out, referenced, name, &shape.nested(name), depth + 1),
                None => out.push_str(&format!("{inner}<{name} nil=\"true\"/>\n")),
            }
        }
        if let Some(lines) = record.object.lines
            && shape.shows(record, lines.name)
        {
            out.push_str(&format!("{inner}<{} type=\"array\">\n", lines.name));
            let line_element =
                super::model::object(lines.object).map_or("line", |object| object.element);
            let line_shape = Shape {
                summary: false,
                ..shape.nested(lines.name)
            };
            for line in &record.lines {
                xml_of(out, line, line_element, &line_shape, depth + 2);
            }
            out.push_str(&format!("{inner}</{}>\n", lines.name));
        }
    }
    out.push_str(&format!("{indent}</{element}>\n"));
}

/// Text escaped for an XML element or attribute; control characters XML 1.0 cannot carry
/// are dropped.
pub fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => escaped.push(c),
        }
    }
    escaped
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
        let json = json(&invoice(), &View::default());
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
        let xml = xml_list(
            model::object("invoices").unwrap(),
            &[invoice()],
            &View::default(),
        );
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
    fn views_narrow_what_is_shown() {
        let object = model::object("invoices").unwrap();
        let limited = crate::api::view::parse(object, None, Some("limited"), false).unwrap();
        assert_eq!(json(&invoice(), &limited), serde_json::json!({"id": 7}));
        let shallow = crate::api::view::parse(object, None, Some("shallow"), false).unwrap();
        let shallow = json(&invoice(), &shallow);
        assert_eq!(shallow["supplier"], serde_json::json!({"id": 3}));
        assert!(shallow.get("invoice-lines").is_none());
        assert_eq!(shallow["invoice-number"], "INV-1");
        let fields = crate::api::view::parse(
            object,
            Some(r#"["id",{"supplier":["id","name"]}]"#),
            None,
            false,
        )
        .unwrap();
        assert_eq!(
            json(&invoice(), &fields),
            serde_json::json!({"id": 7, "supplier": {"id": 3, "name": "Acme & Sons"}})
        );
        let xml = xml(&invoice(), &fields);
        assert!(
            xml.contains("<supplier>") && !xml.contains("invoice-number"),
            "{xml}"
        );
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
