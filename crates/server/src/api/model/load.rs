//! Reads the embedded tables into object definitions, once. The data is fixed at build time;
//! `read` reports anything it could not use, and a unit test keeps that list empty.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::{
    Action, Column, Embedded, Field, FieldType, Lines, Links, ObjectDef, Reference, SYSTEM_COLUMNS,
    SYSTEM_ELEMENTS,
};

const ELEMENTS: &str = include_str!("../../../model/coupa-api-fields.tsv");
const OVERLAY: &str = include_str!("../../../model/objects.toml");

/// Elements integrations filter and order on: indexed in every object that has them.
const INDEXED: &[&str] = &[
    "status",
    "exported",
    "active",
    "name",
    "code",
    "number",
    "login",
    "email",
    "invoice-date",
    "last-exported-at",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Overlay {
    element: String,
    list: String,
    summary: Vec<String>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    optional: Vec<String>,
    initial_status: Option<String>,
    #[serde(default)]
    children: BTreeMap<String, String>,
    #[serde(default)]
    actions: Vec<ActionSpec>,
    #[serde(default)]
    copy: bool,
    #[serde(default)]
    delete: bool,
    /// Lines served under the record's own path besides their object's name: segment → lines.
    #[serde(default)]
    nested: BTreeMap<String, String>,
    /// Records belong to records of any object, by hidden link columns (attachments).
    #[serde(default)]
    links: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionSpec {
    name: String,
    #[serde(default)]
    from: Vec<String>,
    to: Option<String>,
    #[serde(default)]
    sets: Vec<String>,
}

/// One row of the element table.
struct Row<'a> {
    object: &'a str,
    element: &'a str,
    kind: &'a str,
    target: &'a str,
    required: bool,
    writable: bool,
    values: &'a str,
    max_length: Option<usize>,
}

fn rows() -> (Vec<Row<'static>>, Vec<String>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in ELEMENTS.lines().enumerate().skip(1) {
        let cells: Vec<&str> = line.split('\t').collect();
        let [
            object,
            element,
            kind,
            target,
            required,
            writable,
            values,
            max_length,
            ..,
        ] = cells[..]
        else {
            problems.push(format!("fields table line {}: too few cells", number + 1));
            continue;
        };
        rows.push(Row {
            object,
            element,
            kind,
            target,
            required: required == "yes",
            // `?`: neither source says; taken rather than refused.
            writable: writable != "no",
            values,
            max_length: max_length.parse().ok(),
        });
    }
    (rows, problems)
}

fn leak<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

fn leak_str(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}

fn leak_strs(texts: &[String]) -> &'static [&'static str] {
    leak(texts.iter().map(|text| leak_str(text)).collect())
}

fn column_name(element: &str) -> String {
    element.replace('-', "_")
}

/// The scalar type of a field row. Enumerated words documented under `integer` are sent as
/// the words, so they are text.
fn field_type(row: &Row) -> FieldType {
    let words = !row.values.is_empty()
        && !row.values.contains("..")
        && row
            .values
            .split('|')
            .any(|value| value.parse::<f64>().is_err());
    match row.target {
        "integer" if !words => FieldType::Integer,
        "decimal" if !words => FieldType::Decimal,
        "boolean" => FieldType::Boolean,
        "datetime" => FieldType::DateTime,
        _ => FieldType::String,
    }
}

fn range(values: &str) -> Option<(f64, f64)> {
    let (low, high) = values.split_once("..")?;
    Some((low.trim().parse().ok()?, high.trim().parse().ok()?))
}

/// Columns of one table under construction: names are unique, and a field `x-id` shares the
/// column of the reference `x` (both are the referenced record's id).
struct Columns {
    columns: Vec<Column>,
}

impl Columns {
    fn new() -> Self {
        Self {
            columns: SYSTEM_COLUMNS.to_vec(),
        }
    }

    fn slot(&mut self, name: &str, kind: FieldType) -> Option<usize> {
        match self.columns.iter().position(|column| column.name == name) {
            Some(slot) if self.columns[slot].kind == kind => Some(slot),
            Some(_) => None,
            None => {
                self.columns.push(Column {
                    name: leak_str(name),
                    kind,
                });
                Some(self.columns.len() - 1)
            }
        }
    }
}

struct Built {
    def: ObjectDef,
    /// (lines element, parent reference) this object declares as line rows.
    children: Vec<(String, String, String)>,
}

pub(super) fn read() -> (Vec<ObjectDef>, Vec<String>) {
    let (rows, mut problems) = rows();
    let overlays: BTreeMap<String, Overlay> = match toml::from_str(OVERLAY) {
        Ok(overlays) => overlays,
        Err(error) => {
            problems.push(format!("objects.toml: {error}"));
            BTreeMap::new()
        }
    };
    let served: BTreeSet<&str> = rows.iter().map(|row| row.object).collect();
    let linked: BTreeSet<&str> = overlays
        .iter()
        .filter(|(_, overlay)| overlay.links)
        .map(|(path, _)| path.as_str())
        .collect();
    for path in overlays.keys() {
        if !served.contains(path.as_str()) {
            problems.push(format!("objects.toml: {path} is not in the fields table"));
        }
    }
    // Parent references the tables do not list: (line object) → [(reference, parent object)].
    let mut parents: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (path, overlay) in &overlays {
        for (lines, reference) in &overlay.children {
            match rows
                .iter()
                .find(|row| row.object == path && row.element == lines && row.kind == "lines")
            {
                Some(row) => parents
                    .entry(row.target.to_string())
                    .or_default()
                    .push((reference.clone(), path.clone())),
                None => problems.push(format!(
                    "objects.toml: {path}.{lines} is not a lines element"
                )),
            }
        }
    }
    let elements: BTreeMap<&str, &str> = overlays
        .iter()
        .map(|(path, overlay)| (path.as_str(), overlay.element.as_str()))
        .collect();
    let mut built = Vec::new();
    for path in &served {
        let Some(overlay) = overlays.get(*path) else {
            problems.push(format!("objects.toml: no entry for {path}"));
            continue;
        };
        let object_rows: Vec<&Row> = rows.iter().filter(|row| row.object == *path).collect();
        let parent_references = parents.get(*path).cloned().unwrap_or_default();
        let others = Others {
            elements: &elements,
            served: &served,
            linked: &linked,
        };
        built.push(build(
            path,
            overlay,
            &others,
            &object_rows,
            &parent_references,
            &mut problems,
        ));
    }
    for object in &built {
        check(object, &built, &mut problems);
    }
    (
        built.into_iter().map(|object| object.def).collect(),
        problems,
    )
}

/// What building one object needs to know of the others.
struct Others<'a> {
    /// The XML element of each object.
    elements: &'a BTreeMap<&'a str, &'a str>,
    /// The objects the API serves.
    served: &'a BTreeSet<&'a str>,
    /// The objects whose records belong to records of any object (attachments).
    linked: &'a BTreeSet<&'a str>,
}

fn build(
    path: &str,
    overlay: &Overlay,
    others: &Others,
    rows: &[&Row],
    parent_references: &[(String, String)],
    problems: &mut Vec<String>,
) -> Built {
    let Others {
        elements,
        served,
        linked,
    } = others;
    let required = |row: &Row| {
        overlay.required.iter().any(|name| name == row.element)
            || (row.required
                && row.writable
                && !overlay.optional.iter().any(|name| name == row.element))
    };
    let mut columns = Columns::new();
    let mut fields = Vec::new();
    let mut references = Vec::new();
    let mut lines = Vec::new();
    let mut embedded = Vec::new();
    // References first, so that a field `x-id` finds the column of the reference `x`.
    let reference_rows = rows
        .iter()
        .filter(|row| row.kind == "reference" && served.contains(row.target));
    for row in reference_rows {
        if SYSTEM_ELEMENTS.contains(&row.element) {
            continue;
        }
        let name = format!("{}_id", column_name(row.element));
        let slot = columns
            .slot(&name, FieldType::Integer)
            .or_else(|| columns.slot(&format!("{name}_ref"), FieldType::Integer));
        match slot {
            Some(slot) => references.push(Reference {
                name: leak_str(row.element),
                object: leak_str(row.target),
                slot,
                required: required(row),
                writable: row.writable,
            }),
            None => problems.push(format!("{path}.{}: no free column", row.element)),
        }
    }
    for (reference, parent) in parent_references {
        match columns.slot(
            &format!("{}_id", column_name(reference)),
            FieldType::Integer,
        ) {
            Some(slot) => references.push(Reference {
                name: leak_str(reference),
                object: leak_str(parent),
                slot,
                required: false,
                writable: false,
            }),
            None => problems.push(format!("{path}.{reference}: no free column")),
        }
    }
    for row in rows {
        if SYSTEM_ELEMENTS.contains(&row.element) {
            continue;
        }
        match row.kind {
            "field" => {
                let kind = field_type(row);
                let name = column_name(row.element);
                let Some(slot) = columns
                    .slot(&name, kind)
                    .or_else(|| columns.slot(&format!("{name}_value"), kind))
                else {
                    problems.push(format!("{path}.{}: no free column", row.element));
                    continue;
                };
                let range = range(row.values);
                let values: Vec<String> = if range.is_some() || row.values.is_empty() {
                    Vec::new()
                } else {
                    row.values.split('|').map(str::to_string).collect()
                };
                fields.push(Field {
                    name: leak_str(row.element),
                    kind,
                    slot,
                    required: required(row),
                    writable: row.writable,
                    indexed: INDEXED.contains(&row.element)
                        || row.element.ends_with("-number")
                        || row.element.starts_with("external-ref"),
                    values: leak_strs(&values),
                    range,
                    max_length: row.max_length,
                });
            }
            "reference" if served.contains(row.target) => {}
            "lines" if overlay.children.contains_key(row.element) => lines.push(Lines {
                name: leak_str(row.element),
                object: leak_str(row.target),
                parent: leak_str(&overlay.children[row.element]),
                required: required(row),
                writable: row.writable,
            }),
            "lines" if linked.contains(row.target) => lines.push(Lines {
                name: leak_str(row.element),
                object: leak_str(row.target),
                parent: "",
                required: false,
                writable: false,
            }),
            "reference" | "lines" => {
                let Some(slot) = columns.slot(&column_name(row.element), FieldType::String) else {
                    problems.push(format!("{path}.{}: no free column", row.element));
                    continue;
                };
                let item = elements.get(row.target).map_or_else(
                    || super::singular(row.target),
                    |element| element.to_string(),
                );
                embedded.push(Embedded {
                    name: leak_str(row.element),
                    target: leak_str(row.target),
                    many: row.kind == "lines",
                    item: leak_str(&item),
                    slot,
                    writable: row.writable,
                });
            }
            other => problems.push(format!("{path}.{}: unknown kind {other}", row.element)),
        }
    }
    let links = if overlay.links {
        let object = columns.slot("linked_object", FieldType::String);
        let id = columns.slot("linked_id", FieldType::Integer);
        object.zip(id).map(|(object, id)| Links { object, id })
    } else {
        None
    };
    let actions = overlay
        .actions
        .iter()
        .map(|action| Action {
            name: leak_str(&action.name),
            from: leak_strs(&action.from),
            to: action.to.as_deref().map(leak_str),
            sets: leak_strs(&action.sets),
        })
        .collect();
    Built {
        def: ObjectDef {
            path: leak_str(path),
            element: leak_str(&overlay.element),
            list_element: leak_str(&overlay.list),
            columns: leak(columns.columns),
            fields: leak(fields),
            references: leak(references),
            lines: leak(lines),
            embedded: leak(embedded),
            initial_status: overlay.initial_status.as_deref().map(leak_str),
            actions: leak(actions),
            copyable: overlay.copy,
            deletable: overlay.delete,
            nested_as: leak(
                overlay
                    .nested
                    .iter()
                    .map(|(segment, lines)| (leak_str(segment), leak_str(lines)))
                    .collect(),
            ),
            links,
            summary: leak_strs(&overlay.summary),
        },
        children: overlay
            .children
            .iter()
            .map(|(lines, parent)| (path.to_string(), lines.clone(), parent.clone()))
            .collect(),
    }
}

/// What the overlay names must exist in the tables.
fn check(object: &Built, all: &[Built], problems: &mut Vec<String>) {
    let def = &object.def;
    let statuses = def.field("status").map_or(&[][..], |status| status.values);
    for action in def.actions {
        let named = action.from.iter().chain(&action.to);
        for status in named.filter(|status| !statuses.is_empty() && !statuses.contains(status)) {
            problems.push(format!(
                "objects.toml: {}.{} names status {status}",
                def.path, action.name
            ));
        }
        for element in action.sets {
            if def.field(element).is_none() {
                problems.push(format!(
                    "objects.toml: {}.{} sets {element}",
                    def.path, action.name
                ));
            }
        }
    }
    for name in def.summary {
        if def.field(name).is_none() {
            problems.push(format!("objects.toml: {}.summary names {name}", def.path));
        }
    }
    for (segment, lines) in def.nested_as {
        if def.lines_named(lines).is_none() {
            problems.push(format!(
                "objects.toml: {}.nested.{segment} names lines {lines}",
                def.path
            ));
        }
    }
    for (path, lines, parent) in &object.children {
        let line_object = def
            .lines_named(lines)
            .and_then(|lines| all.iter().find(|other| other.def.path == lines.object));
        if line_object.is_none_or(|line| line.def.reference(parent).is_none()) {
            problems.push(format!("objects.toml: {path}.{lines} has no line object"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_tables_load_without_problems() {
        let (objects, problems) = read();
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(objects.len(), 38);
    }

    #[test]
    fn every_documented_element_is_in_its_object() {
        let (rows, _) = rows();
        let (objects, _) = read();
        for row in rows {
            let object = objects
                .iter()
                .find(|object| object.path == row.object)
                .unwrap();
            assert!(object.knows(row.element), "{}.{}", row.object, row.element);
        }
    }

    #[test]
    fn a_field_named_after_a_reference_shares_its_column() {
        let (objects, _) = read();
        let accounts = objects
            .iter()
            .find(|object| object.path == "accounts")
            .unwrap();
        assert_eq!(
            accounts.field("account-type-id").unwrap().slot,
            accounts.reference("account-type").unwrap().slot
        );
    }

    #[test]
    fn enumerations_ranges_and_lengths_come_from_the_table() {
        let (objects, _) = read();
        let find = |path: &str| objects.iter().find(|object| object.path == path).unwrap();
        let status = find("invoices").field("status").unwrap();
        assert_eq!(status.values.len(), 16);
        assert!(!status.writable);
        assert_eq!(
            find("invoices").field("invoice-number").unwrap().max_length,
            Some(40)
        );
        assert_eq!(
            find("payment_terms").field("net-due-day").unwrap().range,
            Some((1.0, 31.0))
        );
        let whose_paper = find("contracts").field("whose-paper").unwrap();
        assert_eq!(whose_paper.kind, FieldType::String, "documented as words");
    }
}
