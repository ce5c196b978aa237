//! Values Coupa computes rather than takes (the tables mark them read-only): a line's total
//! from its quantity and price, a document's totals from its lines, an account's code from
//! its segments. Applied to a new record before it is stored; a value the server itself
//! gives (demo data) is kept.

use super::model::Lines;
use super::model::{self, ObjectDef};
use super::query::Value;

/// A record's column values, and its lines' by kind.
type Values = Vec<(String, Value)>;

/// (line object, total, quantity, price): total = quantity × price (price alone without a
/// quantity, as amount lines have).
const LINE_TOTALS: &[(&str, &str, &str, &str)] = &[
    ("invoice_lines", "total", "quantity", "price"),
    ("purchase_order_lines", "total", "quantity", "price"),
    ("purchase_order_line_changes", "total", "quantity", "price"),
    ("requisition_lines", "total", "quantity", "unit-price"),
];

/// (object, total, lines, element of a line summed).
const DOCUMENT_TOTALS: &[(&str, &str, &str, &str)] = &[
    ("invoices", "gross-total", "invoice-lines", "total"),
    ("invoices", "gross-total", "invoice-charges", "total"),
    ("invoices", "total-with-taxes", "invoice-lines", "total"),
    ("invoices", "total-with-taxes", "invoice-charges", "total"),
    ("purchase_orders", "total", "order-lines", "total"),
    ("requisitions", "total", "requisition-lines", "total"),
    ("expense_reports", "total", "expense-lines", "amount"),
    (
        "purchase_order_changes",
        "total",
        "order-line-changes",
        "total",
    ),
];

/// An account's code: its non-blank segments, joined.
const CODE_SEPARATOR: &str = "-";

/// True for an element the server computes on create (a line or document total, an
/// account's code), which a writer should leave out.
pub fn computed(object: &str, element: &str) -> bool {
    LINE_TOTALS
        .iter()
        .any(|(path, total, _, _)| *path == object && *total == element)
        || DOCUMENT_TOTALS
            .iter()
            .any(|(path, total, _, _)| *path == object && *total == element)
        || (object == "accounts" && element == "code")
}

/// A decimal as an integer of units and a number of places; enough for money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    units: i128,
    places: u32,
}

impl Decimal {
    fn parse(text: &str) -> Option<Self> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let places = u32::try_from(fraction.len())
            .ok()
            .filter(|places| *places <= 12)?;
        let units: i128 = format!("{whole}{fraction}").parse().ok()?;
        Some(Self { units, places })
    }

    fn of(value: &Value) -> Option<Self> {
        match value {
            Value::Decimal(text) | Value::Text(text) => Self::parse(text),
            Value::Integer(number) => Some(Self {
                units: i128::from(*number),
                places: 0,
            }),
            _ => None,
        }
    }

    fn scaled(self, places: u32) -> Option<i128> {
        self.units
            .checked_mul(10_i128.checked_pow(places - self.places)?)
    }

    fn add(self, other: Self) -> Option<Self> {
        let places = self.places.max(other.places);
        Some(Self {
            units: self.scaled(places)?.checked_add(other.scaled(places)?)?,
            places,
        })
    }

    fn multiply(self, other: Self) -> Option<Self> {
        Some(Self {
            units: self.units.checked_mul(other.units)?,
            places: self.places + other.places,
        })
    }

    fn text(self) -> String {
        let places = self.places as usize;
        let digits = self.units.unsigned_abs().to_string();
        let digits = format!("{digits:0>width$}", width = places + 1);
        let (whole, fraction) = digits.split_at(digits.len() - places);
        let sign = if self.units < 0 { "-" } else { "" };
        if places == 0 {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{fraction}")
        }
    }
}

fn column_of(object: &ObjectDef, element: &str) -> Option<&'static str> {
    object
        .field(element)
        .map(|field| object.columns[field.slot].name)
}

fn value_of<'v>(values: &'v [(String, Value)], column: &str) -> Option<&'v Value> {
    values
        .iter()
        .find(|(name, value)| name == column && !matches!(value, Value::Null(_)))
        .map(|(_, value)| value)
}

fn set_unless_given(values: &mut Vec<(String, Value)>, column: &str, value: Value) {
    if value_of(values, column).is_none() {
        values.retain(|(name, _)| name != column);
        values.push((column.to_string(), value));
    }
}

fn line_total(object: &ObjectDef, values: &mut Vec<(String, Value)>) {
    for (path, total, quantity, price) in LINE_TOTALS {
        if object.path != *path {
            continue;
        }
        let (Some(total), Some(price)) = (column_of(object, total), column_of(object, price))
        else {
            continue;
        };
        let Some(price) = value_of(values, price).and_then(Decimal::of) else {
            continue;
        };
        let quantity = column_of(object, quantity)
            .and_then(|quantity| value_of(values, quantity))
            .and_then(Decimal::of);
        let product = match quantity {
            Some(quantity) => quantity.multiply(price),
            None => Some(price),
        };
        if let Some(product) = product {
            set_unless_given(values, total, Value::Decimal(product.text()));
        }
    }
}

fn account_code(object: &ObjectDef, values: &mut Vec<(String, Value)>) {
    if object.path != "accounts" {
        return;
    }
    let segments: Vec<String> = (1..=20)
        .filter_map(|index| column_of(object, &format!("segment-{index}")))
        .filter_map(|column| match value_of(values, column) {
            Some(Value::Text(text)) if !text.trim().is_empty() => Some(text.clone()),
            _ => None,
        })
        .collect();
    if let (false, Some(code)) = (segments.is_empty(), column_of(object, "code")) {
        set_unless_given(values, code, Value::Text(segments.join(CODE_SEPARATOR)));
    }
}

/// Fills what Coupa computes for a record about to be created with its lines.
pub fn on_create(object: &ObjectDef, values: &mut Values, lines: &mut [(&Lines, Values)]) {
    account_code(object, values);
    line_total(object, values);
    for (lines, values) in lines.iter_mut() {
        if let Some(line_object) = model::object(lines.object) {
            line_total(line_object, values);
        }
    }
    let mut sums: Vec<(&str, Decimal)> = Vec::new();
    for (path, total, lines_name, element) in DOCUMENT_TOTALS {
        if object.path != *path {
            continue;
        }
        let Some(line_object) = object
            .lines_named(lines_name)
            .and_then(|lines| model::object(lines.object))
        else {
            continue;
        };
        let Some(line_column) = column_of(line_object, element) else {
            continue;
        };
        let mut sum = sums.iter().find(|(name, _)| name == total).map_or(
            Decimal {
                units: 0,
                places: 2,
            },
            |(_, sum)| *sum,
        );
        for (given, values) in lines.iter() {
            if given.name != *lines_name {
                continue;
            }
            if let Some(amount) = value_of(values, line_column).and_then(Decimal::of) {
                sum = sum.add(amount).unwrap_or(sum);
            }
        }
        sums.retain(|(name, _)| name != total);
        sums.push((total, sum));
    }
    let has_lines = !lines.is_empty();
    for (total, sum) in sums {
        if let (true, Some(column)) = (has_lines, column_of(object, total)) {
            set_unless_given(values, column, Value::Decimal(sum.text()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::records::{Input, Writer, parse_body};
    use serde_json::json;

    fn created(path: &str, body: serde_json::Value) -> Input {
        let object = model::object(path).unwrap();
        let mut input = parse_body(object, &body, true, Writer::Api, &[]).unwrap();
        on_create(object, &mut input.values, &mut input.lines);
        input
    }

    fn value(values: &[(String, Value)], column: &str) -> Option<Value> {
        value_of(values, column).cloned()
    }

    #[test]
    fn decimals_add_and_multiply_exactly() {
        let a = Decimal::parse("0.1").unwrap();
        let b = Decimal::parse("0.20").unwrap();
        assert_eq!(a.add(b).unwrap().text(), "0.30");
        assert_eq!(
            Decimal::parse("3")
                .unwrap()
                .multiply(Decimal::parse("1.25").unwrap())
                .unwrap()
                .text(),
            "3.75"
        );
        assert_eq!(Decimal::parse("-0.05").unwrap().text(), "-0.05");
        assert!(Decimal::parse("1e5").is_none());
    }

    #[test]
    fn an_invoice_totals_its_lines_and_charges() {
        let input = created(
            "invoices",
            json!({
                "invoice-number": "INV-1",
                "invoice-date": "2026-01-01",
                "supplier": {"id": 1},
                "invoice-lines": [
                    {"description": "Paper", "quantity": "3", "price": "1.25"},
                    {"description": "Fee", "price": "10"},
                ],
                "invoice-charges": [{"total": "2.50"}],
            }),
        );
        assert_eq!(
            value(&input.lines[0].1, "total"),
            Some(Value::Decimal("3.75".into()))
        );
        assert_eq!(
            value(&input.lines[1].1, "total"),
            Some(Value::Decimal("10".into()))
        );
        assert_eq!(
            value(&input.values, "gross_total"),
            Some(Value::Decimal("16.25".into()))
        );
        assert_eq!(
            value(&input.values, "total_with_taxes"),
            Some(Value::Decimal("16.25".into()))
        );
    }

    #[test]
    fn an_account_code_joins_its_segments() {
        let input = created(
            "accounts",
            json!({"segment-1": "6000", "segment-2": "100", "name": "Office"}),
        );
        assert_eq!(
            value(&input.values, "code"),
            Some(Value::Text("6000-100".into()))
        );
    }
}
