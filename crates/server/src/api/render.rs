//! Coupa's two renderings of the same records: JSON (no root node, hyphenated keys, decimals
//! as strings, as Rails writes them) and XML (typed attributes, `nil="true"`, arrays).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value as Json;

use super::model::{self, FieldType, ObjectDef};
use super::view::{Depth, Selection, View};
use crate::domain::time::format_rfc3339;

/// One record as read from the store, with its associations attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub object: &'static ObjectDef,
    /// Text of each column, in `ObjectDef::columns` order.
    pub values: Vec<Option<String>>,
    /// Each reference of the object, by name: the referenced record when there is one.
    pub references: Vec<(&'static str, Option<Box<Record>>)>,
    /// Each kind of lines of the object, by name, with this record's lines.
    pub lines: Vec<(&'static str, Vec<Record>)>,
    /// Every custom field of the object with this record's value, when they were loaded
    /// (records fetched directly; not those nested in others).
    pub custom: Option<Vec<(String, FieldType, Option<String>)>>,
}

impl Record {
    pub fn new(object: &'static ObjectDef, values: Vec<Option<String>>) -> Self {
        Self {
            object,
            values,
            references: Vec::new(),
            lines: Vec::new(),
            custom: None,
        }
    }

    pub fn id(&self) -> Option<i64> {
        self.integer(0)
    }

    /// The text of the column in `slot`, if set.
    pub fn value(&self, slot: usize) -> Option<&str> {
        self.values.get(slot).and_then(|value| value.as_deref())
    }

    pub fn integer(&self, slot: usize) -> Option<i64> {
        self.value(slot).and_then(|text| text.parse().ok())
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

impl<'a> Shape<'a> {
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
    fn nested(&self, name: &str) -> Shape<'a> {
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

/// (wire name, kind, text) of every scalar the shape shows: the system columns, then the
/// fields in the documentation's order.
fn scalars<'r>(
    record: &'r Record,
    shape: &Shape,
) -> Vec<(&'static str, FieldType, Option<&'r str>)> {
    let system = model::SYSTEM_ELEMENTS
        .iter()
        .zip(model::SYSTEM_COLUMNS)
        .enumerate()
        .map(|(slot, (name, column))| (*name, column.kind, record.value(slot)));
    let fields = record
        .object
        .fields
        .iter()
        .map(|field| (field.name, field.kind, record.value(field.slot)));
    system
        .chain(fields)
        .filter(|(name, _, _)| shape.shows(record, name))
        .collect()
}

/// The stored JSON of each embedded association the shape shows; absent lines are `[]`.
fn embedded(record: &Record, shape: &Shape) -> Vec<(&'static model::Embedded, Json)> {
    record
        .object
        .embedded
        .iter()
        .filter(|embedded| shape.shows(record, embedded.name))
        .map(|embedded| {
            let stored = record
                .value(embedded.slot)
                .and_then(|text| serde_json::from_str(text).ok());
            let value = match stored {
                Some(value) => value,
                None if embedded.many => Json::Array(Vec::new()),
                None => Json::Null,
            };
            (embedded, value)
        })
        .collect()
}

/// The id of a referenced record, for shallow renderings.
fn reference_id(record: &Record, name: &str) -> Option<i64> {
    record
        .object
        .reference(name)
        .and_then(|reference| record.integer(reference.slot))
}

fn root_shape(view: &View) -> Shape<'_> {
    Shape {
        depth: view.depth,
        summary: false,
        selection: view.selection.as_ref(),
    }
}

/// The custom fields to show of a record: those loaded, unless the shape leaves them out.
fn custom_fields<'r>(
    record: &'r Record,
    shape: &Shape,
) -> Option<&'r [(String, FieldType, Option<String>)]> {
    let shown = matches!(shape.depth, Depth::Full | Depth::Shallow)
        && shape
            .selection
            .is_none_or(|selection| selection.shows(model::CUSTOM_FIELDS));
    record.custom.as_deref().filter(|_| shown)
}

/// A record as a JSON value (for callers that inspect it; answers are written with
/// `json_record`).
pub fn json(record: &Record, view: &View) -> Json {
    serde_json::to_value(json_record(record, view)).unwrap_or(Json::Null)
}

/// A record as JSON, written straight into the answer without building a tree first.
pub fn json_record<'a>(record: &'a Record, view: &'a View) -> impl Serialize + 'a {
    JsonRecord {
        record,
        shape: root_shape(view),
    }
}

/// Records as a JSON array, written straight into the answer.
pub fn json_list<'a>(records: &'a [Record], view: &'a View) -> impl Serialize + 'a {
    JsonRecords {
        records,
        shape: root_shape(view),
    }
}

struct JsonRecord<'a> {
    record: &'a Record,
    shape: Shape<'a>,
}

struct JsonRecords<'a> {
    records: &'a [Record],
    shape: Shape<'a>,
}

/// A stored value as JSON: numbers and booleans as such, decimals and times as strings.
struct JsonScalar<'a>(FieldType, Option<&'a str>);

/// `{"login": ...}`, as created-by and updated-by show their user.
struct JsonLogin<'a>(&'a str);

/// `{"id": ...}`, as a shallow rendering shows an association.
struct JsonId(i64);

impl Serialize for JsonRecords<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut list = serializer.serialize_seq(Some(self.records.len()))?;
        for record in self.records {
            list.serialize_element(&JsonRecord {
                record,
                shape: self.shape,
            })?;
        }
        list.end()
    }
}

impl Serialize for JsonScalar<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let JsonScalar(kind, text) = *self;
        match (kind, text) {
            (_, None) => serializer.serialize_none(),
            (FieldType::String, Some(text)) => serializer.serialize_str(text),
            (kind, Some(text)) => match scalar(kind, text) {
                None => serializer.serialize_none(),
                Some(Scalar::Integer(n)) => serializer.serialize_i64(n),
                Some(Scalar::Boolean(b)) => serializer.serialize_bool(b),
                Some(Scalar::Decimal(s) | Scalar::DateTime(s) | Scalar::Text(s)) => {
                    serializer.serialize_str(&s)
                }
            },
        }
    }
}

impl Serialize for JsonLogin<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("login", self.0)?;
        map.end()
    }
}

impl Serialize for JsonId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("id", &self.0)?;
        map.end()
    }
}

impl Serialize for JsonRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (record, shape) = (self.record, &self.shape);
        let mut map = serializer.serialize_map(None)?;
        for (name, kind, text) in scalars(record, shape) {
            match text {
                Some(login) if name == "created-by" || name == "updated-by" => {
                    map.serialize_entry(name, &JsonLogin(login))?
                }
                _ => map.serialize_entry(name, &JsonScalar(kind, text))?,
            }
        }
        if shape.depth == Depth::Shallow {
            for (name, _) in &record.references {
                if shape.shows(record, name) {
                    map.serialize_entry(name, &reference_id(record, name).map(JsonId))?;
                }
            }
        }
        if shape.associations() {
            for (name, referenced) in &record.references {
                if shape.shows(record, name) {
                    let nested = referenced.as_deref().map(|referenced| JsonRecord {
                        record: referenced,
                        shape: shape.nested(name),
                    });
                    map.serialize_entry(name, &nested)?;
                }
            }
            for (name, lines) in &record.lines {
                if !shape.shows(record, name) {
                    continue;
                }
                let line_shape = Shape {
                    summary: false,
                    ..shape.nested(name)
                };
                let lines = JsonRecords {
                    records: lines,
                    shape: line_shape,
                };
                map.serialize_entry(name, &lines)?;
            }
            for (embedded, value) in embedded(record, shape) {
                map.serialize_entry(embedded.name, &value)?;
            }
        }
        if let Some(custom) = custom_fields(record, shape) {
            let values: Vec<(&str, JsonScalar<'_>)> = custom
                .iter()
                .map(|(name, kind, text)| (name.as_str(), JsonScalar(*kind, text.as_deref())))
                .collect();
            map.serialize_entry(model::CUSTOM_FIELDS, &JsonFields(&values))?;
        }
        map.end()
    }
}

/// Custom fields as a JSON object, in their order.
struct JsonFields<'a>(&'a [(&'a str, JsonScalar<'a>)]);

impl Serialize for JsonFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
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
    let list = object.list_element;
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
        match text {
            Some(login) if name == "created-by" || name == "updated-by" => {
                let login = escape_xml(login);
                out.push_str(&format!(
                    "{inner}<{name}>\n{inner}  <login>{login}</login>\n{inner}</{name}>\n"
                ));
            }
            _ => xml_scalar(out, &inner, name, kind, text),
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
        for (name, lines) in &record.lines {
            if !shape.shows(record, name) {
                continue;
            }
            out.push_str(&format!("{inner}<{name} type=\"array\">\n"));
            let line_shape = Shape {
                summary: false,
                ..shape.nested(name)
            };
            for line in lines {
                xml_of(out, line, line.object.element, &line_shape, depth + 2);
            }
            out.push_str(&format!("{inner}</{name}>\n"));
        }
        for (embedded, value) in embedded(record, shape) {
            xml_json(out, embedded.name, embedded.item, &value, depth + 1);
        }
    }
    if let Some(custom) = custom_fields(record, shape) {
        out.push_str(&format!("{inner}<{}>\n", model::CUSTOM_FIELDS));
        for (name, kind, text) in custom {
            xml_scalar(out, &format!("{inner}  "), name, *kind, text.as_deref());
        }
        out.push_str(&format!("{inner}</{}>\n", model::CUSTOM_FIELDS));
    }
    out.push_str(&format!("{indent}</{element}>\n"));
}

/// One typed element: `<total type="decimal">12.50</total>`, or `nil="true"` when unset.
fn xml_scalar(out: &mut String, indent: &str, name: &str, kind: FieldType, text: Option<&str>) {
    match text.and_then(|text| scalar(kind, text)) {
        None => {
            let type_attribute = kind
                .xml_type()
                .map(|t| format!(" type=\"{t}\""))
                .unwrap_or_default();
            out.push_str(&format!("{indent}<{name}{type_attribute} nil=\"true\"/>\n"));
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
                "{indent}<{name}{type_attribute}>{}</{name}>\n",
                escape_xml(&text)
            ));
        }
    }
}

/// Stored JSON as Coupa's XML writes it: objects as elements, arrays as `type="array"` of
/// `item` elements, scalars typed, null as `nil="true"`.
fn xml_json(out: &mut String, name: &str, item: &str, value: &Json, depth: usize) {
    let indent = "  ".repeat(depth);
    let name = xml_name(name);
    match value {
        Json::Null => out.push_str(&format!("{indent}<{name} nil=\"true\"/>\n")),
        Json::Object(map) => {
            out.push_str(&format!("{indent}<{name}>\n"));
            for (key, inner) in map {
                xml_json(out, key, &model::singular(key), inner, depth + 1);
            }
            out.push_str(&format!("{indent}</{name}>\n"));
        }
        Json::Array(items) => {
            out.push_str(&format!("{indent}<{name} type=\"array\">\n"));
            for inner in items {
                xml_json(out, item, &model::singular(item), inner, depth + 1);
            }
            out.push_str(&format!("{indent}</{name}>\n"));
        }
        Json::Bool(flag) => {
            out.push_str(&format!(
                "{indent}<{name} type=\"boolean\">{flag}</{name}>\n"
            ));
        }
        Json::Number(number) => {
            let kind = if number.is_i64() || number.is_u64() {
                "integer"
            } else {
                "decimal"
            };
            out.push_str(&format!(
                "{indent}<{name} type=\"{kind}\">{number}</{name}>\n"
            ));
        }
        Json::String(text) => {
            out.push_str(&format!("{indent}<{name}>{}</{name}>\n", escape_xml(text)));
        }
    }
}

/// A JSON key as an XML element name: characters XML names cannot hold become `-`.
fn xml_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
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

    /// A record of `path` with `values` set by wire name (`id`, fields, references).
    fn record(path: &str, values: &[(&str, &str)]) -> Record {
        let object = model::object(path).unwrap();
        let mut record = Record::new(object, vec![None; object.columns.len()]);
        for (name, value) in values {
            let slot = match *name {
                "id" => 0,
                "created-at" => 1,
                "updated-at" => 2,
                "created-by" => 3,
                _ => object
                    .field(name)
                    .map(|field| field.slot)
                    .or_else(|| object.reference(name).map(|reference| reference.slot))
                    .or_else(|| object.embedded_named(name).map(|embedded| embedded.slot))
                    .unwrap(),
            };
            record.values[slot] = Some(value.to_string());
        }
        record
    }

    fn supplier() -> Record {
        record("suppliers", &[("id", "3"), ("name", "Acme & Sons")])
    }

    fn invoice() -> Record {
        let mut record = record(
            "invoices",
            &[
                ("id", "7"),
                ("created-at", "1795334332"),
                ("updated-at", "1795334332"),
                ("created-by", "sync"),
                ("invoice-number", "INV-1"),
                ("status", "draft"),
                ("gross-total", "12.5"),
                ("exported", "0"),
                ("supplier", "3"),
                (
                    "tax-lines",
                    r#"[{"amount":"1.00","rate":{"percentage":20}}]"#,
                ),
            ],
        );
        record.references = vec![("supplier", Some(Box::new(supplier()))), ("currency", None)];
        record.lines = vec![("invoice-lines", Vec::new())];
        record
    }

    #[test]
    fn json_has_no_root_and_coupa_types() {
        let json = json(&invoice(), &View::default());
        assert_eq!(json["id"], 7);
        assert_eq!(json["invoice-number"], "INV-1");
        assert_eq!(json["gross-total"], "12.50");
        assert_eq!(json["tax-lines"][0]["rate"]["percentage"], 20);
        assert_eq!(json["taggings"], serde_json::json!([]));
        assert_eq!(json["destination-country"], Json::Null);
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
            "<tax-lines type=\"array\">",
            "<tax-line>",
            "<percentage type=\"integer\">20</percentage>",
            "<id type=\"integer\">7</id>",
            "<gross-total type=\"decimal\">12.50</gross-total>",
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

    /// Coupa's XML names, written out here rather than read from the model.
    #[test]
    fn every_object_has_coupas_xml_record_and_list_names() {
        let expected = [
            ("account_types", "account-type", "account-types"),
            ("accounts", "account", "accounts"),
            ("addresses", "address", "addresses"),
            ("approvals", "approval", "approvals"),
            ("attachments", "attachment", "attachments"),
            ("budget_lines", "budget-line", "budget-lines"),
            ("business_groups", "business-group", "business-groups"),
            ("commodities", "commodity", "commodities"),
            ("contracts", "contract", "contracts"),
            ("currencies", "currency", "currencies"),
            ("departments", "department", "departments"),
            ("exchange_rates", "exchange-rate", "exchange-rates"),
            ("expense_lines", "expense-line", "expense-lines"),
            ("expense_reports", "expense-report", "expense-reports"),
            (
                "inventory_transactions",
                "inventory-transaction",
                "inventory-transactions",
            ),
            ("invoice_charges", "invoice-charge", "invoice-charges"),
            ("invoice_lines", "invoice-line", "invoice-lines"),
            ("invoices", "invoice-header", "invoice-headers"),
            ("items", "item", "items"),
            ("lookup_values", "lookup-value", "lookup-values"),
            ("lookups", "lookup", "lookups"),
            ("payment_terms", "payment-term", "payment-terms"),
            (
                "purchase_order_changes",
                "order-header-change",
                "order-header-changes",
            ),
            (
                "purchase_order_line_changes",
                "order-line-change",
                "order-line-changes",
            ),
            ("purchase_order_lines", "order-line", "order-lines"),
            ("purchase_orders", "order-header", "order-headers"),
            (
                "quote_request_lines",
                "quote-request-line",
                "quote-request-lines",
            ),
            ("quote_requests", "quote-request", "quote-requests"),
            (
                "receiving_transactions",
                "receiving-transaction",
                "receiving-transactions",
            ),
            (
                "remit_to_addresses",
                "remit-to-address",
                "remit-to-addresses",
            ),
            ("requisition_lines", "requisition-line", "requisition-lines"),
            ("requisitions", "requisition-header", "requisition-headers"),
            ("shipping_terms", "shipping-term", "shipping-terms"),
            ("suppliers", "supplier", "suppliers"),
            ("tax_codes", "tax-code", "tax-codes"),
            ("uoms", "uom", "uoms"),
            ("user_groups", "user-group", "user-groups"),
            ("users", "user", "users"),
        ];
        assert_eq!(expected.len(), model::objects().len());
        for (path, element, list) in expected {
            let object = model::object(path).unwrap();
            let record = Record::new(object, vec![Some("1".into())]);
            let xml = xml_list(object, &[record], &View::default());
            assert!(
                xml.contains(&format!("<{list} type=\"array\">\n  <{element}>\n")),
                "{path}: {}",
                &xml[..xml.len().min(200)]
            );
            assert!(
                xml.ends_with(&format!("</{element}>\n</{list}>\n")),
                "{path}"
            );
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
