//! The objects the API serves, as data.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The wire name, hyphenated as Coupa writes it (`invoice-number`).
    pub name: &'static str,
    pub kind: FieldType,
    pub required: bool,
    /// Indexed, for the filters and orders integrations use most.
    pub indexed: bool,
}

/// A belongs-to association, rendered as a nested object (`"supplier": {"id": 3, ...}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub name: &'static str,
    /// Path of the referenced object (`suppliers`).
    pub object: &'static str,
    pub required: bool,
}

/// A has-many association of lines, rendered as an array (`"invoice-lines": [...]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lines {
    pub name: &'static str,
    /// Path of the line object (`invoice_lines`).
    pub object: &'static str,
    /// The reference of the line object that points back to its parent.
    pub parent: &'static str,
}

/// A custom action that moves `status` (`PUT /api/purchase_orders/{id}/issue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    pub name: &'static str,
    pub from: &'static [&'static str],
    pub to: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectDef {
    /// The path segment under `/api` (`invoices`).
    pub path: &'static str,
    /// The XML element of one record (`invoice-header`); the list is its plural + `s`.
    pub element: &'static str,
    pub fields: &'static [Field],
    pub references: &'static [Reference],
    pub lines: Option<Lines>,
    /// The status a new record starts in, for objects with a status machine.
    pub initial_status: Option<&'static str>,
    pub actions: &'static [Action],
    /// Fields shown when the record is nested in another (besides `id`).
    pub summary: &'static [&'static str],
}

const fn field(name: &'static str, kind: FieldType) -> Field {
    Field {
        name,
        kind,
        required: false,
        indexed: false,
    }
}
const fn required(name: &'static str, kind: FieldType) -> Field {
    Field {
        name,
        kind,
        required: true,
        indexed: true,
    }
}
const fn indexed(name: &'static str, kind: FieldType) -> Field {
    Field {
        name,
        kind,
        required: false,
        indexed: true,
    }
}
const fn reference(name: &'static str, object: &'static str) -> Reference {
    Reference {
        name,
        object,
        required: false,
    }
}

use FieldType::{Boolean, DateTime, Decimal, Integer, String as Text};

const LINE_FIELDS: &[Field] = &[
    field("line-num", Integer),
    field("description", Text),
    field("quantity", Decimal),
    field("price", Decimal),
    field("total", Decimal),
];

/// The empty parts every definition starts from.
const BASE: ObjectDef = ObjectDef {
    path: "",
    element: "",
    fields: &[],
    references: &[],
    lines: None,
    initial_status: None,
    actions: &[],
    summary: &[],
};

pub static OBJECTS: &[ObjectDef] = &[
    ObjectDef {
        path: "suppliers",
        element: "supplier",
        fields: &[
            required("name", Text),
            indexed("number", Text),
            indexed("status", Text),
            field("website", Text),
            field("tax-id", Text),
        ],
        summary: &["name", "number"],
        ..BASE
    },
    ObjectDef {
        path: "users",
        element: "user",
        fields: &[
            required("login", Text),
            indexed("email", Text),
            field("firstname", Text),
            field("lastname", Text),
            indexed("active", Boolean),
        ],
        summary: &["login", "email"],
        ..BASE
    },
    ObjectDef {
        path: "currencies",
        element: "currency",
        fields: &[
            required("code", Text),
            field("decimals", Integer),
            field("enabled-flag", Boolean),
        ],
        summary: &["code"],
        ..BASE
    },
    ObjectDef {
        path: "accounts",
        element: "account",
        fields: &[
            required("code", Text),
            field("name", Text),
            indexed("active", Boolean),
        ],
        summary: &["code", "name"],
        ..BASE
    },
    ObjectDef {
        path: "invoices",
        element: "invoice-header",
        fields: &[
            required("invoice-number", Text),
            indexed("invoice-date", DateTime),
            indexed("status", Text),
            field("total", Decimal),
            field("exported", Boolean),
        ],
        references: &[
            Reference {
                name: "supplier",
                object: "suppliers",
                required: true,
            },
            reference("currency", "currencies"),
        ],
        lines: Some(Lines {
            name: "invoice-lines",
            object: "invoice_lines",
            parent: "invoice",
        }),
        initial_status: Some("draft"),
        actions: &[
            Action {
                name: "submit",
                from: &["draft"],
                to: "pending_approval",
            },
            Action {
                name: "void",
                from: &["approved", "pending_receipt"],
                to: "voided",
            },
            Action {
                name: "abandon",
                from: &["draft", "on_hold"],
                to: "abandoned",
            },
        ],
        summary: &["invoice-number"],
    },
    ObjectDef {
        path: "invoice_lines",
        element: "invoice-line",
        fields: LINE_FIELDS,
        references: &[
            reference("invoice", "invoices"),
            reference("account", "accounts"),
        ],
        summary: &["line-num"],
        ..BASE
    },
    ObjectDef {
        path: "purchase_orders",
        element: "order-header",
        fields: &[
            required("po-number", Text),
            indexed("status", Text),
            field("total", Decimal),
        ],
        references: &[
            Reference {
                name: "supplier",
                object: "suppliers",
                required: true,
            },
            reference("currency", "currencies"),
        ],
        lines: Some(Lines {
            name: "order-lines",
            object: "purchase_order_lines",
            parent: "order-header",
        }),
        initial_status: Some("draft"),
        actions: &[
            Action {
                name: "issue",
                from: &["draft", "buyer_hold"],
                to: "issued",
            },
            Action {
                name: "issue_without_send",
                from: &["draft", "buyer_hold"],
                to: "issued",
            },
            Action {
                name: "cancel",
                from: &[
                    "draft",
                    "buyer_hold",
                    "issued",
                    "currency_hold",
                    "supplier_hold",
                    "supplier_window_hold",
                    "error",
                ],
                to: "cancelled",
            },
            Action {
                name: "close",
                from: &["issued"],
                to: "closed",
            },
            Action {
                name: "reopen",
                from: &["closed"],
                to: "issued",
            },
            Action {
                name: "release_from_buyer_hold",
                from: &["buyer_hold"],
                to: "issued",
            },
        ],
        summary: &["po-number"],
    },
    ObjectDef {
        path: "purchase_order_lines",
        element: "order-line",
        fields: LINE_FIELDS,
        references: &[
            reference("order-header", "purchase_orders"),
            reference("account", "accounts"),
        ],
        summary: &["line-num"],
        ..BASE
    },
    ObjectDef {
        path: "expense_reports",
        element: "expense-report",
        fields: &[
            required("title", Text),
            indexed("status", Text),
            field("total", Decimal),
            indexed("submitted-at", DateTime),
        ],
        references: &[
            reference("expensed-by", "users"),
            reference("currency", "currencies"),
        ],
        lines: Some(Lines {
            name: "expense-lines",
            object: "expense_lines",
            parent: "expense-report",
        }),
        initial_status: Some("draft"),
        summary: &["title"],
        ..BASE
    },
    ObjectDef {
        path: "expense_lines",
        element: "expense-line",
        fields: &[
            field("line-num", Integer),
            field("description", Text),
            field("amount", Decimal),
            indexed("expense-date", DateTime),
        ],
        references: &[
            reference("expense-report", "expense_reports"),
            reference("account", "accounts"),
        ],
        summary: &["line-num"],
        ..BASE
    },
    ObjectDef {
        path: "purchase_order_changes",
        element: "order-header-change",
        fields: &[
            indexed("status", Text),
            field("change-type", Text),
            field("reason", Text),
        ],
        references: &[
            reference("order-header", "purchase_orders"),
            reference("requester", "users"),
        ],
        summary: &["status"],
        ..BASE
    },
    ObjectDef {
        path: "user_groups",
        element: "user-group",
        fields: &[
            required("name", Text),
            field("description", Text),
            indexed("active", Boolean),
        ],
        summary: &["name"],
        ..BASE
    },
    ObjectDef {
        path: "approvals",
        element: "approval",
        fields: &[
            indexed("status", Text),
            field("position", Integer),
            indexed("approval-date", DateTime),
            field("approvable-type", Text),
        ],
        references: &[reference("approver", "users")],
        summary: &["status"],
        ..BASE
    },
    ObjectDef {
        path: "budget_lines",
        element: "budget-line",
        fields: &[
            required("name", Text),
            field("amount", Decimal),
            indexed("period", Text),
            field("active", Boolean),
        ],
        references: &[reference("currency", "currencies")],
        summary: &["name"],
        ..BASE
    },
    ObjectDef {
        path: "contracts",
        element: "contract",
        fields: &[
            required("name", Text),
            indexed("number", Text),
            indexed("status", Text),
            indexed("start-date", DateTime),
            indexed("end-date", DateTime),
        ],
        references: &[reference("supplier", "suppliers")],
        summary: &["name", "number"],
        ..BASE
    },
    ObjectDef {
        path: "requisitions",
        element: "requisition-header",
        fields: &[
            indexed("status", Text),
            field("justification", Text),
            field("total", Decimal),
            indexed("need-by-date", DateTime),
        ],
        references: &[
            reference("requested-by", "users"),
            reference("currency", "currencies"),
        ],
        lines: Some(Lines {
            name: "requisition-lines",
            object: "requisition_lines",
            parent: "requisition-header",
        }),
        initial_status: Some("draft"),
        // Taken at creation: POST /api/requisitions/new/submit_for_approval.
        actions: &[Action {
            name: "submit_for_approval",
            from: &["draft"],
            to: "pending_approval",
        }],
        summary: &["status"],
    },
    ObjectDef {
        path: "requisition_lines",
        element: "requisition-line",
        fields: &[
            field("line-num", Integer),
            field("description", Text),
            field("quantity", Decimal),
            field("unit-price", Decimal),
            field("total", Decimal),
        ],
        references: &[
            reference("requisition-header", "requisitions"),
            reference("account", "accounts"),
        ],
        summary: &["line-num"],
        ..BASE
    },
    ObjectDef {
        path: "items",
        element: "item",
        fields: &[
            required("name", Text),
            indexed("item-number", Text),
            field("description", Text),
            indexed("active", Boolean),
        ],
        references: &[
            reference("uom", "uoms"),
            reference("commodity", "commodities"),
        ],
        summary: &["name", "item-number"],
        ..BASE
    },
    ObjectDef {
        path: "inventory_transactions",
        element: "inventory-transaction",
        fields: &[
            required("transaction-type", Text),
            indexed("status", Text),
            field("quantity", Decimal),
            indexed("transaction-date", DateTime),
        ],
        references: &[reference("item", "items"), reference("uom", "uoms")],
        initial_status: Some("created"),
        actions: &[Action {
            name: "void",
            from: &["created"],
            to: "voided",
        }],
        summary: &["transaction-type"],
        ..BASE
    },
    ObjectDef {
        path: "quote_requests",
        element: "quote-request",
        fields: &[
            required("name", Text),
            indexed("status", Text),
            indexed("start-time", DateTime),
            indexed("end-time", DateTime),
        ],
        references: &[reference("created-for", "users")],
        summary: &["name"],
        ..BASE
    },
    ObjectDef {
        path: "addresses",
        element: "address",
        fields: &[
            field("name", Text),
            field("street1", Text),
            field("street2", Text),
            indexed("city", Text),
            field("state", Text),
            indexed("postal-code", Text),
            indexed("country-code", Text),
            indexed("active", Boolean),
        ],
        summary: &["name", "city"],
        ..BASE
    },
    ObjectDef {
        path: "departments",
        element: "department",
        fields: &[required("name", Text), indexed("active", Boolean)],
        summary: &["name"],
        ..BASE
    },
    ObjectDef {
        path: "commodities",
        element: "commodity",
        fields: &[
            required("name", Text),
            field("category", Text),
            indexed("active", Boolean),
        ],
        summary: &["name"],
        ..BASE
    },
    ObjectDef {
        path: "payment_terms",
        element: "payment-term",
        fields: &[
            required("code", Text),
            field("description", Text),
            field("days-for-net-payment", Integer),
            indexed("active", Boolean),
        ],
        summary: &["code"],
        ..BASE
    },
    ObjectDef {
        path: "uoms",
        element: "uom",
        fields: &[
            required("code", Text),
            field("name", Text),
            field("allowable-precision", Integer),
            indexed("active", Boolean),
        ],
        summary: &["code", "name"],
        ..BASE
    },
    ObjectDef {
        path: "lookup_values",
        element: "lookup-value",
        fields: &[
            required("name", Text),
            field("description", Text),
            indexed("external-ref-code", Text),
            indexed("active", Boolean),
        ],
        summary: &["name"],
        ..BASE
    },
];

/// Looks an object up by its path segment, with dashes or underscores.
pub fn object(path: &str) -> Option<&'static ObjectDef> {
    let path = path.replace('-', "_");
    OBJECTS.iter().find(|object| object.path == path)
}

/// The SQL column of a wire name: `invoice-number` → `invoice_number`.
pub fn column(name: &str) -> String {
    name.replace('-', "_")
}

/// The column of a reference: `supplier` → `supplier_id`.
pub fn reference_column(name: &str) -> String {
    format!("{}_id", column(name))
}

pub fn table(object: &ObjectDef) -> String {
    format!("api_{}", object.path)
}

impl ObjectDef {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        let name = name.replace('_', "-");
        self.fields.iter().find(|field| field.name == name)
    }

    pub fn reference(&self, name: &str) -> Option<&'static Reference> {
        let name = name.replace('_', "-");
        self.references
            .iter()
            .find(|reference| reference.name == name)
    }

    pub fn lines_named(&self, name: &str) -> Option<Lines> {
        let name = name.replace('_', "-");
        self.lines.filter(|lines| lines.name == name)
    }

    pub fn action(&self, name: &str) -> Option<&'static Action> {
        self.actions.iter().find(|action| action.name == name)
    }

    /// The XML element of a list: `invoice-headers`.
    pub fn list_element(&self) -> String {
        format!("{}s", self.element)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_and_line_points_at_a_defined_object() {
        for object in OBJECTS {
            for reference in object.references {
                assert!(
                    super::object(reference.object).is_some(),
                    "{}.{}",
                    object.path,
                    reference.name
                );
            }
            if let Some(lines) = object.lines {
                let line_object = super::object(lines.object).expect("line object");
                let parent = line_object
                    .reference(lines.parent)
                    .expect("parent reference");
                assert_eq!(parent.object, object.path);
            }
        }
    }

    #[test]
    fn every_object_is_granted_by_the_scope_catalogue() {
        for object in OBJECTS {
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
}
