//! The objects the API serves, as data: Coupa's element tables (`model/coupa-api-fields.tsv`,
//! one row per documented element) and what they do not say (`model/objects.toml`: XML
//! names, summaries, line rows, status machines), both embedded and read once by `load`.

mod load;

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Integer,
    Decimal,
    String,
    Boolean,
    DateTime,
}

impl FieldType {
    /// The `type` attribute of Coupa's XML; None for plain strings.
    pub fn xml_type(self) -> Option<&'static str> {
        match self {
            Self::Integer => Some("integer"),
            Self::Decimal => Some("decimal"),
            Self::Boolean => Some("boolean"),
            Self::DateTime => Some("dateTime"),
            Self::String => None,
        }
    }

    pub fn sql_type(self) -> &'static str {
        match self {
            Self::Integer | Self::DateTime => "BIGINT",
            Self::Decimal => "NUMERIC",
            Self::String => "TEXT",
            Self::Boolean => "BOOLEAN",
        }
    }
}

/// A column of an object's table. `slot` of an element is its index in `ObjectDef::columns`
/// and in a record's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: FieldType,
}

/// The columns every table starts with, in this order.
pub const SYSTEM_COLUMNS: [Column; 5] = [
    Column {
        name: "id",
        kind: FieldType::Integer,
    },
    Column {
        name: "created_at",
        kind: FieldType::DateTime,
    },
    Column {
        name: "updated_at",
        kind: FieldType::DateTime,
    },
    Column {
        name: "created_by",
        kind: FieldType::String,
    },
    Column {
        name: "updated_by",
        kind: FieldType::String,
    },
];

/// Wire names of the system columns, which the server sets.
pub const SYSTEM_ELEMENTS: [&str; 5] =
    ["id", "created-at", "updated-at", "created-by", "updated-by"];

/// A scalar element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// The wire name, hyphenated as Coupa writes it (`invoice-number`).
    pub name: &'static str,
    pub kind: FieldType,
    pub slot: usize,
    pub required: bool,
    /// Taken from request bodies; a read-only element in a body is ignored, as Coupa does.
    pub writable: bool,
    /// Indexed, for the filters and orders integrations use most.
    pub indexed: bool,
    /// The documented values, when the documentation enumerates them.
    pub values: &'static [&'static str],
    /// Inclusive bounds of a number documented as `lo..hi`.
    pub range: Option<(f64, f64)>,
    pub max_length: Option<usize>,
}

/// A belongs-to association with an object the API serves, rendered as a nested object
/// (`"supplier": {"id": 3, ...}`) and stored as the referenced id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub name: &'static str,
    /// Path of the referenced object (`suppliers`).
    pub object: &'static str,
    pub slot: usize,
    pub required: bool,
    pub writable: bool,
}

/// Lines stored as rows of their own object, rendered as an array (`"invoice-lines": [...]`)
/// and created with their parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lines {
    pub name: &'static str,
    /// Path of the line object (`invoice_lines`).
    pub object: &'static str,
    /// The reference of the line object that points back to its parent; empty for lines
    /// that point back by (object, id) link columns (attachments).
    pub parent: &'static str,
    pub required: bool,
    pub writable: bool,
}

impl Lines {
    /// Linked by (object, id) rather than by a parent reference: attachments of any object.
    pub fn linked(&self) -> bool {
        self.parent.is_empty()
    }
}

/// The slots of the hidden columns that link a record to the record it belongs to, whatever
/// its object (an attachment to its invoice): the owner's object path and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Links {
    pub object: usize,
    pub id: usize,
}

/// An association with something the API does not serve as an object of its own (tax
/// lines, countries, tags, ...): kept as the JSON the record was given, an object or an
/// array of objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embedded {
    pub name: &'static str,
    /// What the documentation says it holds (`tax_lines`, `countries`).
    pub target: &'static str,
    /// An array (`lines` in the tables) rather than one object.
    pub many: bool,
    /// The XML element of one item (`tax-line`).
    pub item: &'static str,
    pub slot: usize,
    pub writable: bool,
}

/// An element an administrator added to an object, shown under `custom-fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    /// The key under `custom-fields` (`cost-center`).
    pub name: String,
    pub kind: FieldType,
    pub label: String,
}

/// The wire name of the custom fields of a record.
pub const CUSTOM_FIELDS: &str = "custom-fields";

impl FieldType {
    /// The type of a custom field as the admin API names it (`decimal`).
    pub fn parse(kind: &str) -> Option<Self> {
        Some(match kind {
            "string" => Self::String,
            "integer" => Self::Integer,
            "decimal" => Self::Decimal,
            "boolean" => Self::Boolean,
            "datetime" => Self::DateTime,
            _ => return None,
        })
    }
}

/// A custom action on one record (`PUT /api/purchase_orders/{id}/issue`): it moves `status`,
/// sets elements, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub name: &'static str,
    /// The statuses it applies from; empty: any.
    pub from: &'static [&'static str],
    /// The status it moves to.
    pub to: Option<&'static str>,
    /// Elements it sets: a boolean to true, a datetime to now (`exported`, `last-exported-at`).
    pub sets: &'static [&'static str],
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectDef {
    /// The path segment under `/api` (`invoices`).
    pub path: &'static str,
    /// The XML element of one record (`invoice-header`).
    pub element: &'static str,
    /// The XML root of a list (`invoice-headers`).
    pub list_element: &'static str,
    pub columns: &'static [Column],
    pub fields: &'static [Field],
    pub references: &'static [Reference],
    pub lines: &'static [Lines],
    pub embedded: &'static [Embedded],
    /// The status a new record starts in, for objects with a status machine.
    pub initial_status: Option<&'static str>,
    pub actions: &'static [Action],
    /// `POST /api/{object}/{id}/copy` makes a copy.
    pub copyable: bool,
    /// `DELETE /api/{object}/{id}` deletes a record (of the initial status, for a document).
    pub deletable: bool,
    /// Other names of lines served at `/api/{object}/{id}/{segment}` (segment, lines element),
    /// besides the line object's own path (`addresses` of suppliers: their remit-to addresses).
    pub nested_as: &'static [(&'static str, &'static str)],
    /// Records of this object belong to records of others (attachments).
    pub links: Option<Links>,
    /// Elements shown when the record is nested in another (besides `id`).
    pub summary: &'static [&'static str],
}

/// Every object, read from the embedded tables on first use.
pub fn objects() -> &'static [ObjectDef] {
    static OBJECTS: OnceLock<Vec<ObjectDef>> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        let (objects, problems) = load::read();
        for problem in problems {
            tracing::error!(%problem, "the object model skips what it cannot read");
        }
        objects
    })
}

/// Looks an object up by its path segment, with dashes or underscores.
pub fn object(path: &str) -> Option<&'static ObjectDef> {
    let path = path.replace('-', "_");
    objects().iter().find(|object| object.path == path)
}

pub fn table(object: &ObjectDef) -> String {
    format!("api_{}", object.path)
}

/// The element of one item of a list named `name` (`tax_lines` → `tax-line`).
pub fn singular(name: &str) -> String {
    let name = wire(name);
    if let Some(stem) = name.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = name.strip_suffix("sses") {
        format!("{stem}ss")
    } else if let Some(stem) = name.strip_suffix('s') {
        stem.to_string()
    } else {
        name
    }
}

/// A name as the tables write it: `invoice_number` → `invoice-number`.
fn wire(name: &str) -> String {
    name.replace('_', "-")
}

impl ObjectDef {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        let name = wire(name);
        self.fields.iter().find(|field| field.name == name)
    }

    pub fn reference(&self, name: &str) -> Option<&'static Reference> {
        let name = wire(name);
        self.references
            .iter()
            .find(|reference| reference.name == name)
    }

    pub fn lines_named(&self, name: &str) -> Option<&'static Lines> {
        let name = wire(name);
        self.lines.iter().find(|lines| lines.name == name)
    }

    pub fn embedded_named(&self, name: &str) -> Option<&'static Embedded> {
        let name = wire(name);
        self.embedded.iter().find(|embedded| embedded.name == name)
    }

    pub fn action(&self, name: &str) -> Option<&'static Action> {
        self.actions.iter().find(|action| action.name == name)
    }

    /// The slot of a column by name.
    /// The lines served at `/api/{object}/{id}/{segment}`: those whose object is `segment`,
    /// or that the overlay names so.
    pub fn nested(&self, segment: &str) -> Option<&'static Lines> {
        let alias = self
            .nested_as
            .iter()
            .find(|(name, _)| *name == segment)
            .and_then(|(_, lines)| self.lines_named(lines));
        alias.or_else(|| {
            self.lines
                .iter()
                .find(|lines| !lines.linked() && lines.object == segment)
        })
    }

    pub fn slot(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }

    /// Every wire name a body, a filter or a `fields` selection may use.
    pub fn knows(&self, name: &str) -> bool {
        let name = wire(name);
        SYSTEM_ELEMENTS.contains(&name.as_str())
            || name == CUSTOM_FIELDS
            || self.field(&name).is_some()
            || self.reference(&name).is_some()
            || self.lines_named(&name).is_some()
            || self.embedded_named(&name).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_object_and_action_is_granted_by_the_scope_catalogue() {
        for object in objects() {
            let list = format!("/api/{}", object.path);
            assert!(
                !coupa_proto::scopes::scopes_granting("GET", &list).is_empty(),
                "GET {list}"
            );
            for action in object.actions {
                let on_record = format!("/api/{}/1/{}", object.path, action.name);
                let on_create = format!("/api/{}/new/{}", object.path, action.name);
                let granted = !coupa_proto::scopes::scopes_granting("PUT", &on_record).is_empty()
                    || !coupa_proto::scopes::scopes_granting("POST", &on_create).is_empty();
                assert!(granted, "{} has no route in the catalogue", action.name);
            }
        }
    }

    /// The objects records can be deleted from are those Coupa documents
    /// `DELETE /api/{object}/:id` for, and the scope catalogue grants exactly those deletes.
    #[test]
    fn deletes_are_the_documented_ones() {
        let documented: Vec<&str> = include_str!("../../../model/coupa-api-actions.tsv")
            .lines()
            .filter_map(|row| {
                let mut columns = row.split('\t');
                let (object, method, path) = (columns.next()?, columns.next()?, columns.next()?);
                (method == "DELETE" && path == format!("/api/{object}/:id")).then_some(object)
            })
            .collect();
        for object in objects() {
            let member = format!("/api/{}/1", object.path);
            let granted = !coupa_proto::scopes::scopes_granting("DELETE", &member).is_empty();
            assert_eq!(object.deletable, granted, "{member}");
            let expected = documented.contains(&object.path);
            assert_eq!(object.deletable, expected, "{}", object.path);
        }
    }

    #[test]
    fn every_reference_and_line_points_at_a_defined_object() {
        for object in objects() {
            for reference in object.references {
                assert!(
                    object_named(reference.object),
                    "{}.{}",
                    object.path,
                    reference.name
                );
            }
            for lines in object.lines.iter().filter(|lines| !lines.linked()) {
                let line_object = super::object(lines.object).expect("line object");
                let parent = line_object
                    .reference(lines.parent)
                    .expect("parent reference");
                assert_eq!(parent.object, object.path);
            }
        }
    }

    /// docs/coupa-compatibility.md has a row for every object, with its XML names.
    #[test]
    fn the_compatibility_document_lists_every_object_as_served() {
        let document = include_str!("../../../../../docs/coupa-compatibility.md");
        for object in objects() {
            let row = format!(
                "| {} | `{}` in `{}` |",
                object.path, object.element, object.list_element
            );
            assert!(
                document.lines().any(|line| line.starts_with(&row)),
                "no row {row}"
            );
        }
    }

    fn object_named(path: &str) -> bool {
        super::object(path).is_some()
    }
}
