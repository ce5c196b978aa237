//! The query language of list calls: `limit`, `offset` (0-based), `order_by`, `dir`, and
//! filters `attr=value` / `attr[op]=value`, nested through references and lines
//! (`supplier[name]=Acme`, `invoice_lines[account][code]=6000`), names with dashes or
//! underscores, ISO 8601 dates. Parsing resolves every name against the object definitions,
//! so an unknown attribute is an error that names it.

use super::model::{self, CustomField, FieldType, ObjectDef};
use crate::domain::time::parse_iso8601;

pub const MAX_LIMIT: i64 = 50;
const MAX_FILTERS: usize = 20;
/// Association hops in one filter name (`invoice_lines[account][code]` has two).
pub const MAX_HOPS: usize = 4;
const MAX_IN_VALUES: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Contains,
    StartsWith,
    EndsWith,
    Blank,
    Gt,
    Lt,
    GtOrEq,
    LtOrEq,
    NotEq,
    In,
    NotIn,
}

impl Op {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "contains" => Self::Contains,
            "starts_with" => Self::StartsWith,
            "ends_with" => Self::EndsWith,
            "blank" => Self::Blank,
            "gt" => Self::Gt,
            "lt" => Self::Lt,
            "gt_or_eq" => Self::GtOrEq,
            "lt_or_eq" => Self::LtOrEq,
            "not_eq" => Self::NotEq,
            "in" => Self::In,
            "not_in" => Self::NotIn,
            _ => return None,
        })
    }
}

/// A typed value, ready to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Integer(i64),
    /// A validated decimal literal, bound as text and cast to NUMERIC.
    Decimal(String),
    Text(String),
    Boolean(bool),
    Null(FieldType),
}

/// One step from an object to an associated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    /// `supplier[...]`: the parent's `supplier_id` is the child's `id`.
    Reference { column: String, table: String },
    /// `invoice_lines[...]`: the child's `invoice_id` is the parent's `id`.
    Lines {
        parent_column: String,
        table: String,
    },
    /// `custom-fields[cost-center]`: the record's value of that custom field.
    Custom { object: String, name: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub hops: Vec<Hop>,
    pub column: String,
    pub kind: FieldType,
    pub op: Op,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub limit: i64,
    pub offset: i64,
    /// Column and whether ascending; `id` breaks ties so pages never overlap.
    pub order: (String, bool),
    pub filters: Vec<Filter>,
}

/// What was wrong with a query, naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

pub fn parse(
    object: &ObjectDef,
    custom: &[CustomField],
    params: &[(String, String)],
) -> Result<ListQuery, QueryError> {
    let mut query = ListQuery {
        limit: MAX_LIMIT,
        offset: 0,
        order: ("id".into(), true),
        filters: Vec::new(),
    };
    let mut descending = false;
    let mut order_by = None;
    for (name, value) in params {
        match name.as_str() {
            "limit" => {
                let limit: i64 = value
                    .parse()
                    .map_err(|_| QueryError(format!("limit: `{value}` is not a whole number")))?;
                if limit < 1 {
                    return Err(QueryError("limit: must be at least 1".into()));
                }
                query.limit = limit.min(MAX_LIMIT);
            }
            "offset" => {
                query.offset = value
                    .parse()
                    .ok()
                    .filter(|offset: &i64| *offset >= 0)
                    .ok_or_else(|| {
                        QueryError(format!("offset: `{value}` is not a whole number from 0"))
                    })?;
            }
            "order_by" => order_by = Some(value.clone()),
            "dir" => {
                descending = match value.to_ascii_lowercase().as_str() {
                    "asc" => false,
                    "desc" => true,
                    _ => {
                        return Err(QueryError(format!(
                            "dir: `{value}` is neither asc nor desc"
                        )));
                    }
                }
            }
            "fields" | "return_object" => {}
            _ => {
                if query.filters.len() == MAX_FILTERS {
                    return Err(QueryError(format!(
                        "at most {MAX_FILTERS} filters per call"
                    )));
                }
                query
                    .filters
                    .push(parse_filter(object, custom, name, value)?);
            }
        }
    }
    if let Some(order_by) = order_by {
        query.order.0 = order_column(object, &order_by)?;
    }
    query.order.1 = !descending;
    Ok(query)
}

fn order_column(object: &ObjectDef, name: &str) -> Result<String, QueryError> {
    let normalized = name.replace('-', "_");
    if ["id", "created_at", "updated_at"].contains(&normalized.as_str()) {
        return Ok(normalized);
    }
    if let Some(field) = object.field(&normalized) {
        return Ok(object.columns[field.slot].name.to_string());
    }
    if let Some(reference) = object.reference(&normalized) {
        return Ok(object.columns[reference.slot].name.to_string());
    }
    Err(QueryError(format!(
        "order_by: {} has no attribute {name}",
        object.path
    )))
}

/// `invoice_lines[account][code][contains]` → ["invoice_lines", "account", "code", "contains"].
fn split_name(name: &str) -> Option<Vec<&str>> {
    let (head, mut rest) = match name.find('[') {
        Some(at) => (&name[..at], &name[at..]),
        None => (name, ""),
    };
    let mut segments = vec![head];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        segments.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    segments
        .iter()
        .all(|segment| !segment.is_empty())
        .then_some(segments)
}

fn parse_filter(
    root: &ObjectDef,
    custom: &[CustomField],
    name: &str,
    raw: &str,
) -> Result<Filter, QueryError> {
    let unknown = || QueryError(format!("{name}: {} has no such attribute", root.path));
    let mut segments =
        split_name(name).ok_or_else(|| QueryError(format!("{name}: malformed filter name")))?;
    let op = match segments.last().and_then(|last| Op::parse(last)) {
        Some(op) if segments.len() > 1 => {
            segments.pop();
            op
        }
        _ => Op::Eq,
    };
    if segments.len() > MAX_HOPS + 1 {
        return Err(QueryError(format!(
            "{name}: a filter may follow at most {MAX_HOPS} associations"
        )));
    }
    if segments
        .first()
        .map(|head| head.replace('_', "-"))
        .as_deref()
        == Some(model::CUSTOM_FIELDS)
    {
        return custom_filter(root, custom, name, &segments, op, raw);
    }
    let mut object = root;
    let mut hops = Vec::new();
    let mut target = None;
    for (index, segment) in segments.iter().enumerate() {
        let last = index + 1 == segments.len();
        let normalized = segment.replace('-', "_");
        if let Some(field) = object.field(&normalized) {
            if !last {
                return Err(unknown());
            }
            target = Some((object.columns[field.slot].name.to_string(), field.kind));
        } else if matches!(normalized.as_str(), "id" | "created_at" | "updated_at") {
            if !last {
                return Err(unknown());
            }
            let kind = if normalized == "id" {
                FieldType::Integer
            } else {
                FieldType::DateTime
            };
            target = Some((normalized, kind));
        } else if let Some(reference) = object.reference(&normalized) {
            let referenced = model::object(reference.object).ok_or_else(unknown)?;
            let column = object.columns[reference.slot].name.to_string();
            if last {
                // `supplier=5` means `supplier[id]=5`.
                target = Some((column, FieldType::Integer));
            } else {
                hops.push(Hop::Reference {
                    column,
                    table: model::table(referenced),
                });
                object = referenced;
            }
        } else if let Some(lines) = object.lines_named(&normalized) {
            let (line_object, parent) = super::records::line_parts(lines).ok_or_else(unknown)?;
            if last {
                return Err(QueryError(format!(
                    "{name}: name an attribute of the lines, e.g. {name}[id]"
                )));
            }
            hops.push(Hop::Lines {
                parent_column: line_object.columns[parent.slot].name.to_string(),
                table: model::table(line_object),
            });
            object = line_object;
        } else if object.embedded_named(&normalized).is_some() {
            return Err(QueryError(format!(
                "{name}: {} keeps {segment} as given; it cannot be filtered on",
                object.path
            )));
        } else {
            return Err(unknown());
        }
    }
    let (column, kind) = target.ok_or_else(unknown)?;
    let values = parse_values(name, kind, op, raw)?;
    Ok(Filter {
        hops,
        column,
        kind,
        op,
        values,
    })
}

/// `custom-fields[cost-center]=CC-100`, `custom_fields[batch][gt]=3`.
fn custom_filter(
    root: &ObjectDef,
    custom: &[CustomField],
    name: &str,
    segments: &[&str],
    op: Op,
    raw: &str,
) -> Result<Filter, QueryError> {
    let [_, field] = segments else {
        return Err(QueryError(format!(
            "{name}: name one custom field, e.g. custom-fields[cost-center]"
        )));
    };
    let field = field.replace('_', "-");
    let definition = custom
        .iter()
        .find(|candidate| candidate.name == field)
        .ok_or_else(|| QueryError(format!("{name}: {} has no custom field {field}", root.path)))?;
    let mut values = parse_values(name, definition.kind, op, raw)?;
    if definition.kind == FieldType::Boolean && op != Op::Blank {
        // Stored as the words `true` and `false`.
        for value in &mut values {
            if let Value::Boolean(flag) = value {
                *value = Value::Text(flag.to_string());
            }
        }
    }
    Ok(Filter {
        hops: vec![Hop::Custom {
            object: root.path.to_string(),
            name: field,
        }],
        column: "value".into(),
        kind: definition.kind,
        op,
        values,
    })
}

fn parse_values(name: &str, kind: FieldType, op: Op, raw: &str) -> Result<Vec<Value>, QueryError> {
    match op {
        Op::Blank => {
            let blank = parse_boolean(raw)
                .ok_or_else(|| QueryError(format!("{name}: blank takes true or false")))?;
            Ok(vec![Value::Boolean(blank)])
        }
        Op::In | Op::NotIn => {
            let items: Vec<&str> = raw
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .collect();
            if items.is_empty() || items.len() > MAX_IN_VALUES {
                return Err(QueryError(format!(
                    "{name}: give 1 to {MAX_IN_VALUES} comma-separated values"
                )));
            }
            items
                .into_iter()
                .map(|item| parse_value(name, kind, item))
                .collect()
        }
        Op::Contains | Op::StartsWith | Op::EndsWith => {
            if kind != FieldType::String {
                return Err(QueryError(format!(
                    "{name}: contains, starts_with and ends_with apply to text attributes"
                )));
            }
            Ok(vec![Value::Text(raw.to_string())])
        }
        _ => Ok(vec![parse_value(name, kind, raw)?]),
    }
}

fn parse_boolean(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

pub fn parse_value(name: &str, kind: FieldType, raw: &str) -> Result<Value, QueryError> {
    let invalid = |expected: &str| QueryError(format!("{name}: `{raw}` is not {expected}"));
    match kind {
        FieldType::Integer => raw
            .trim()
            .parse()
            .map(Value::Integer)
            .map_err(|_| invalid("a whole number")),
        FieldType::Decimal => {
            let text = raw.trim();
            let digits = text.strip_prefix('-').unwrap_or(text);
            let well_formed = !digits.is_empty()
                && digits.len() <= 40
                && digits.bytes().filter(|b| *b == b'.').count() <= 1
                && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && digits.bytes().any(|b| b.is_ascii_digit());
            if well_formed {
                Ok(Value::Decimal(text.to_string()))
            } else {
                Err(invalid("a decimal number"))
            }
        }
        FieldType::Boolean => parse_boolean(raw)
            .map(Value::Boolean)
            .ok_or_else(|| invalid("true or false")),
        FieldType::DateTime => parse_iso8601(raw)
            .map(Value::Integer)
            .ok_or_else(|| invalid("an ISO 8601 date or time")),
        FieldType::String => Ok(Value::Text(raw.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn invoices() -> &'static ObjectDef {
        model::object("invoices").unwrap()
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_coupas() {
        let query = parse(invoices(), &[], &[]).unwrap();
        assert_eq!((query.limit, query.offset), (50, 0));
        assert_eq!(query.order, ("id".to_string(), true));
    }

    #[test]
    fn paging_and_order() {
        let query = parse(
            invoices(),
            &[],
            &params(&[
                ("limit", "500"),
                ("offset", "10"),
                ("order_by", "invoice-date"),
                ("dir", "desc"),
            ]),
        )
        .unwrap();
        assert_eq!((query.limit, query.offset), (50, 10));
        assert_eq!(query.order, ("invoice_date".to_string(), false));
        for bad in [
            ("limit", "0"),
            ("limit", "x"),
            ("offset", "-1"),
            ("dir", "up"),
            ("order_by", "colour"),
        ] {
            let error = parse(invoices(), &[], &params(&[bad])).unwrap_err();
            assert!(error.0.starts_with(bad.0), "{error:?}");
        }
    }

    #[test]
    fn filters_resolve_through_references_and_lines() {
        let query = parse(
            invoices(),
            &[],
            &params(&[
                ("supplier[name][contains]", "acme"),
                ("invoice_lines[account][code]", "6000"),
                ("invoice-date[gt]", "2026-01-01"),
            ]),
        )
        .unwrap();
        assert_eq!(
            query.filters[0].hops,
            vec![Hop::Reference {
                column: "supplier_id".into(),
                table: "api_suppliers".into()
            }]
        );
        assert_eq!(query.filters[0].op, Op::Contains);
        assert_eq!(query.filters[1].hops.len(), 2);
        assert_eq!(query.filters[1].column, "code");
        assert_eq!(query.filters[2].values, vec![Value::Integer(1_767_225_600)]);
        let query = parse(
            invoices(),
            &[],
            &params(&[("status[in]", "draft, approved"), ("supplier", "7")]),
        )
        .unwrap();
        assert_eq!(
            query.filters[0].values,
            vec![Value::Text("draft".into()), Value::Text("approved".into())]
        );
        assert_eq!(query.filters[1].column, "supplier_id");
    }

    #[test]
    fn unknown_and_malformed_filters_name_themselves() {
        for (name, value) in [
            ("colour", "red"),
            ("supplier[colour]", "red"),
            ("gross-total[bogus_op]", "1"),
            ("gross-total", "ten"),
            ("invoice-date[gt]", "yesterday"),
            ("gross-total[contains]", "1"),
            ("tax-lines[amount]", "1"),
            ("supplier[name", "x"),
            ("invoice_lines", "1"),
        ] {
            let error = parse(invoices(), &[], &params(&[(name, value)])).unwrap_err();
            assert!(error.0.starts_with(name), "{name}: {error:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(name in "[a-z_\\[\\]-]{0,40}", value in "\\PC{0,30}") {
            let _ = parse(invoices(), &[], &[(name, value)]);
        }
    }
}
