//! Typed records of the objects integrations use most. Each type names the fields Coupa documents
//! and keeps every other field (custom fields included) in `other`, so a record read and written
//! back loses nothing. Decimals stay strings, as Coupa sends them, so no amount is rounded.
//! Any other object is reachable untyped, as `serde_json::Value`, through the same calls.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An object of the API with its path under `/api`.
pub trait Resource: Serialize + DeserializeOwned + Send {
    const PATH: &'static str;
}

/// A belongs-to association: `{"id": 3, "name": "Acme"}`. Writing one needs only the id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Reference {
    pub fn id(id: u64) -> Self {
        Self {
            id: Some(id),
            other: Map::new(),
        }
    }
}

/// Declares a record type: the fields every record carries, then the object's own.
macro_rules! record {
    ($(#[$meta:meta])* $name:ident, $path:literal, { $($(#[$field_meta:meta])* $field:ident: $kind:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub struct $name {
            /// Assigned by the instance; leave it out when creating.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub id: Option<u64>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub created_at: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub updated_at: Option<String>,
            $(
                $(#[$field_meta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$kind>,
            )*
            /// Every field not named above.
            #[serde(flatten)]
            pub other: Map<String, Value>,
        }

        impl Resource for $name {
            const PATH: &'static str = $path;
        }
    };
}

record!(
    /// An invoice (`invoice-header` in XML).
    Invoice, "invoices", {
        invoice_number: String,
        invoice_date: String,
        status: String,
        gross_total: String,
        total_with_taxes: String,
        supplier: Reference,
        currency: Reference,
        invoice_lines: Vec<InvoiceLine>,
    }
);

record!(InvoiceLine, "invoice_lines", {
    line_num: u32,
    description: String,
    quantity: String,
    price: String,
    total: String,
    account: Reference,
});

record!(
    /// A purchase order (`order-header` in XML).
    PurchaseOrder, "purchase_orders", {
        po_number: String,
        status: String,
        total: String,
        supplier: Reference,
        currency: Reference,
        order_lines: Vec<OrderLine>,
    }
);

record!(OrderLine, "purchase_order_lines", {
    /// Text in Coupa's documentation of order lines.
    line_num: String,
    description: String,
    quantity: String,
    price: String,
    total: String,
    account: Reference,
});

record!(ExpenseReport, "expense_reports", {
    title: String,
    status: String,
    total: String,
    submitted_at: String,
    expensed_by: Reference,
    currency: Reference,
    expense_lines: Vec<ExpenseLine>,
});

record!(ExpenseLine, "expense_lines", {
    line_number: u32,
    description: String,
    amount: String,
    expense_date: String,
});

record!(Supplier, "suppliers", {
    name: String,
    number: String,
    status: String,
    website: String,
});

record!(User, "users", {
    login: String,
    email: String,
    firstname: String,
    lastname: String,
    active: bool,
});
