//! `coupa serve --demo`: a deterministic, realistic data set, loaded once, and a demo client.

mod fill;

use std::collections::HashMap;

use serde_json::{Value as Json, json};

use crate::api::model::{self, CustomField, FieldType};
use crate::api::query::Value;
use crate::api::records;
use crate::store::{Store, StoreError};

pub const DEMO_CLIENT_LOGIN: &str = "demo-integration";
/// The administrator `coupa serve --demo` signs Setup in with.
pub const DEMO_ADMIN_LOGIN: &str = "demo-admin";
const LOADED_SETTING: &str = "demo_data_loaded";
const LOGIN: &str = "demo-loader";
/// 2026-01-05T09:00:00Z: every demo timestamp is an offset from it, so the data never varies.
const EPOCH: i64 = 1_767_603_600;
const DAY: i64 = 86_400;

const SUPPLIERS: &[&str] = &[
    "Acme Office Supplies",
    "Northwind Traders",
    "Globex Logistics",
    "Initech Software",
    "Umbrella Facilities",
    "Stark Industrial",
    "Wayne Catering",
    "Cyberdyne Hardware",
    "Soylent Foods",
    "Hooli Cloud Services",
];
const PEOPLE: &[(&str, &str, &str)] = &[
    ("ada.lovelace", "Ada", "Lovelace"),
    ("grace.hopper", "Grace", "Hopper"),
    ("alan.turing", "Alan", "Turing"),
    ("katherine.johnson", "Katherine", "Johnson"),
    ("linus.pauling", "Linus", "Pauling"),
    ("mary.jackson", "Mary", "Jackson"),
    ("edsger.dijkstra", "Edsger", "Dijkstra"),
    ("barbara.liskov", "Barbara", "Liskov"),
];
const ACCOUNTS: &[(&str, &str)] = &[
    ("6000", "Office supplies"),
    ("6100", "Software"),
    ("6200", "Travel"),
    ("6300", "Meals and entertainment"),
    ("6400", "Facilities"),
    ("7000", "Hardware"),
];
const ITEMS: &[&str] = &[
    "Copy paper A4",
    "Toner cartridge",
    "Laptop stand",
    "USB-C dock",
    "Desk chair",
    "Coffee beans 1 kg",
];
/// Where most documents of a kind sit: the statuses records settle into after the first
/// ones have shown every documented status.
const INVOICE_STATUSES: &[&str] = &[
    "draft",
    "pending_approval",
    "approved",
    "approved",
    "voided",
    "disputed",
];
const PO_STATUSES: &[&str] = &[
    "draft",
    "issued",
    "issued",
    "closed",
    "cancelled",
    "buyer_hold",
];
const EXPENSE_STATUSES: &[&str] = &["draft", "pending_approval", "approved", "paid"];
const REQUISITION_STATUSES: &[&str] = &["draft", "pending_approval", "approved", "ordered"];

/// The status of record `index` of `object`: the first records go through every documented
/// status in turn, so each has an example; the rest cycle through `usual`.
fn status_of(object: &str, index: i64, usual: &[&'static str]) -> Option<&'static str> {
    let documented = model::object(object)?.field("status")?.values;
    let index = usize::try_from(index).ok()?;
    match documented.get(index) {
        Some(status) => Some(status),
        None if usual.is_empty() => documented.get(index % documented.len().max(1)).copied(),
        None => Some(usual[(index - documented.len()) % usual.len()]),
    }
}

/// Writes the demo records, completing each with plausible values for what it leaves out,
/// and remembers their ids so later records can refer to them.
struct Loader<'a> {
    store: &'a dyn Store,
    ids: HashMap<&'static str, Vec<i64>>,
}

impl<'a> Loader<'a> {
    fn new(store: &'a dyn Store) -> Self {
        Self {
            store,
            ids: HashMap::new(),
        }
    }

    /// Inserts one record (with lines) as the API would, plus columns the API does not let a
    /// client set (status, timestamps), and returns its id.
    async fn insert(
        &mut self,
        path: &str,
        body: Json,
        status: Option<&str>,
        at: i64,
    ) -> Result<i64, StoreError> {
        self.insert_with_custom(path, body, status, at, &[]).await
    }

    /// `insert`, for an object with custom fields.
    async fn insert_with_custom(
        &mut self,
        path: &str,
        body: Json,
        status: Option<&str>,
        at: i64,
        custom: &[CustomField],
    ) -> Result<i64, StoreError> {
        let object = model::object(path)
            .ok_or_else(|| StoreError::Unusable(format!("demo: no object {path}")))?;
        let Json::Object(mut body) = body else {
            return Err(StoreError::Unusable(format!(
                "demo: {path} body is not an object"
            )));
        };
        if let Some(status) = status {
            body.entry("status").or_insert_with(|| json!(status));
        }
        let index = self.ids.get(object.path).map_or(0, Vec::len) as i64;
        let ids = &self.ids;
        let known = |target: &str, index: i64| {
            let loaded = ids.get(target).filter(|loaded| !loaded.is_empty())?;
            Some(loaded[index.rem_euclid(loaded.len() as i64) as usize])
        };
        fill::complete(object, &mut body, fill::Slot { index, at }, &known);
        let input = records::parse_body(
            object,
            &Json::Object(body),
            true,
            records::Writer::Server,
            custom,
        )
        .map_err(|errors| {
            StoreError::Unusable(format!("demo data for {path} is invalid: {errors}"))
        })?;
        let (parent, children) =
            records::insert_statements(object, input, object.initial_status, stamped_at(at));
        let id = self.store.insert_record(&parent, &children).await?;
        self.ids.entry(object.path).or_default().push(id);
        Ok(id)
    }

    /// Points every reference still empty (its target was loaded later) at a record of its
    /// object, spread over them by id.
    async fn fill_references(&self) -> Result<(), StoreError> {
        for object in model::objects() {
            for reference in object.references {
                let Some(target) = model::object(reference.object) else {
                    continue;
                };
                let (table, targets) = (model::table(object), model::table(target));
                let column = crate::api::sql::quoted(object.columns[reference.slot].name);
                let sql = format!(
                    "UPDATE {table} SET {column} = (SELECT MIN(t.id) FROM {targets} t \
                     WHERE t.id >= (SELECT MIN(id) FROM {targets}) + {table}.id % (SELECT COUNT(*) FROM {targets})) \
                     WHERE {column} IS NULL AND EXISTS (SELECT 1 FROM {targets})"
                );
                self.store
                    .execute(&crate::store::SqlQuery {
                        sql,
                        binds: Vec::new(),
                    })
                    .await?;
            }
        }
        Ok(())
    }
}

/// The columns the server sets, for a demo record written at `at` by the demo loader.
fn stamped_at(at: i64) -> impl Fn(Vec<(String, Value)>) -> Vec<(String, Value)> {
    move |mut values| {
        values.push(("created_at".into(), Value::Integer(at)));
        values.push(("updated_at".into(), Value::Integer(at)));
        values.push(("created_by".into(), Value::Text(LOGIN.into())));
        values.push(("updated_by".into(), Value::Text(LOGIN.into())));
        values
    }
}

/// The element at `index`, cycling through `list`.
fn pick<'a>(list: &[&'a str], index: i64) -> &'a str {
    list[index.rem_euclid(list.len() as i64) as usize]
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Loads the demo data set unless it is already there. True when this call loaded it.
pub async fn load(store: &dyn Store, config: &crate::Config) -> Result<bool, StoreError> {
    if store.setting(LOADED_SETTING).await?.is_some() {
        return Ok(false);
    }
    fill(store, config).await?;
    Ok(true)
}

/// Puts the API's records back to the demo data set: every record and stored file deleted
/// (ids start from 1 again), then the data set loaded anew, so that it is exactly what a
/// fresh `--demo` start holds. Clients, users, keys and custom field definitions stay.
pub async fn reset(store: &dyn Store, config: &crate::Config) -> Result<(), StoreError> {
    let tables: Vec<String> = crate::api::sql::create_tables("")
        .into_iter()
        .map(|schema| schema.table)
        .collect();
    store.clear_records(&tables).await?;
    fill(store, config).await
}

async fn fill(store: &dyn Store, config: &crate::Config) -> Result<(), StoreError> {
    let mut loader = Loader::new(store);
    let mut currencies = Vec::new();
    for (code, name, decimals) in [
        ("USD", "US Dollar", 2),
        ("EUR", "Euro", 2),
        ("GBP", "Pound Sterling", 2),
        ("JPY", "Yen", 0),
    ] {
        currencies.push(
            loader
                .insert(
                    "currencies",
                    json!({"code": code, "name": name, "decimals": decimals, "enabled-flag": true}),
                    None,
                    EPOCH,
                )
                .await?,
        );
    }
    let mut suppliers = Vec::new();
    for (index, name) in SUPPLIERS.iter().enumerate() {
        let body = json!({
            "name": name,
            "number": format!("SUP-{:04}", 1001 + index),
            "status": if index == 8 { "inactive" } else { "active" },
            "website": format!("https://www.{}.example", name.split_whitespace().next().unwrap_or("supplier").to_lowercase()),
            "remit-to-addresses": [{
                "remit-to-code": format!("RT-{:04}", 1001 + index),
                "name": format!("{name} remittance"),
                "street1": format!("{} Commerce Way", 100 + index),
                "city": pick(&["Chicago", "Dublin", "Austin", "Leeds"], index as i64),
                "postal-code": format!("{:05}", 60601 + index),
                "country": {"code": pick(&["US", "IE", "US", "GB"], index as i64)},
                "active": true,
            }],
        });
        suppliers.push(
            loader
                .insert("suppliers", body, None, EPOCH + index as i64 * 3600)
                .await?,
        );
    }
    let mut users = Vec::new();
    for (index, (login, first, last)) in PEOPLE.iter().enumerate() {
        let body = json!({"login": login, "email": format!("{login}@example.com"), "firstname": first, "lastname": last, "active": index != 7});
        users.push(loader.insert("users", body, None, EPOCH).await?);
    }
    let mut accounts = Vec::new();
    for (index, (code, name)) in ACCOUNTS.iter().enumerate() {
        // The code is computed from the segments: account, cost center.
        let cost_center = pick(&["100", "200", "300"], index as i64);
        accounts.push(
            loader.insert("accounts",
                json!({"segment-1": code, "segment-2": cost_center, "name": name, "active": true}),
                None,
                EPOCH,
            )
            .await?,
        );
    }
    for (code, name) in [
        ("EA", "Each"),
        ("BX", "Box"),
        ("KG", "Kilogram"),
        ("HR", "Hour"),
    ] {
        loader
            .insert(
                "uoms",
                json!({"code": code, "name": name, "allowable-precision": 0, "active": true}),
                None,
                EPOCH,
            )
            .await?;
    }
    for name in ["Finance", "Engineering", "Operations", "Sales"] {
        loader
            .insert(
                "departments",
                json!({"name": name, "active": true}),
                None,
                EPOCH,
            )
            .await?;
    }
    for name in [
        "Office Supplies",
        "IT Hardware",
        "Software",
        "Facilities",
        "Catering",
    ] {
        loader
            .insert(
                "commodities",
                json!({"name": name, "active": true}),
                None,
                EPOCH,
            )
            .await?;
    }
    for (code, days) in [("Net 30", 30), ("Net 45", 45), ("Net 60", 60)] {
        loader
            .insert(
                "payment_terms",
                json!({"code": code, "days-for-net-payment": days, "active": true}),
                None,
                EPOCH,
            )
            .await?;
    }
    for (name, city, country) in [
        ("Headquarters", "San Mateo", "US"),
        ("London office", "London", "GB"),
        ("Berlin office", "Berlin", "DE"),
    ] {
        loader.insert("addresses", json!({"name": name, "street1": "1 Main Street", "city": city, "postal-code": "10001", "country": {"code": country}, "active": true}), None, EPOCH).await?;
    }
    reference_data(&mut loader, &currencies).await?;
    for name in ["Approvers", "Buyers", "Integration users"] {
        loader
            .insert(
                "user_groups",
                json!({"name": name, "active": true}),
                None,
                EPOCH,
            )
            .await?;
    }
    let mut items = Vec::new();
    for (index, name) in ITEMS.iter().enumerate() {
        items.push(loader.insert("items", json!({"name": name, "description": format!("{name}, catalogue item"), "item-number": format!("ITM-{:03}", index + 1), "active": true}), None, EPOCH).await?);
    }
    let invoice_fields = invoice_custom_fields(store).await?;
    for index in 0..40i64 {
        let at = EPOCH + index * DAY / 2;
        let lines: Vec<Json> = (0..(index % 3 + 1))
            .map(|line| {
                let quantity = (index + line) % 5 + 1;
                let price = 1250 + (index * 37 + line * 11) % 9000;
                json!({"line-num": line + 1, "description": ITEMS[((index + line) % 6) as usize], "quantity": quantity, "price": money(price), "total": money(quantity * price), "account": {"id": accounts[((index + line) % 6) as usize]}})
            })
            .collect();
        let total: i64 = (0..(index % 3 + 1))
            .map(|line| ((index + line) % 5 + 1) * (1250 + (index * 37 + line * 11) % 9000))
            .sum();
        let body = json!({
            "invoice-number": format!("INV-2026-{:04}", index + 1),
            "invoice-date": crate::domain::time::format_rfc3339(at),
            "exported": index % 4 == 0,
            "supplier": {"id": suppliers[(index % 10) as usize]},
            "currency": {"id": currencies[(index % 3) as usize]},
            "invoice-lines": lines,
            "invoice-charges": if index % 4 == 1 {
                json!([{"line-num": 1, "description": "Freight", "total": money(2500), "type": "InvoiceShippingCharge"}])
            } else {
                json!([])
            },
            "tax-lines": [{"description": "Sales tax", "amount": money(total / 10), "rate": "10.0"}],
            "custom-fields": {
                "cost-center": pick(&["CC-100", "CC-200", "CC-300"], index),
                "ap-batch": index / 10 + 1,
            },
        });
        let status = status_of("invoices", index, INVOICE_STATUSES);
        let invoice = loader
            .insert_with_custom("invoices", body, status, at, &invoice_fields)
            .await?;
        let files = crate::files::Files {
            store,
            dir: config.files_dir.as_deref(),
        };
        if index % 4 == 0 {
            let number = format!("INV-2026-{:04}", index + 1);
            let upload = crate::files::Upload {
                content_type: "application/pdf".into(),
                file_name: format!("{number}.pdf"),
                bytes: pdf(&format!("Scanned supplier invoice {number}")),
            };
            crate::files::image_scan(files, &config.issuer, invoice, upload, at)
                .await
                .map_err(|error| StoreError::Unusable(format!("demo image scan: {error}")))?;
        }
        if status == Some("approved") {
            let upload = crate::files::Upload {
                content_type: "application/pdf".into(),
                file_name: format!("legal-invoice-{}.pdf", index + 1),
                bytes: pdf(&format!("Legal invoice INV-2026-{:04}", index + 1)),
            };
            files
                .save("invoices", invoice, "legal_invoice_pdf", upload, at)
                .await
                .map_err(|error| StoreError::Unusable(format!("demo legal PDF: {error}")))?;
        }
    }
    let mut orders = Vec::new();
    for index in 0..40i64 {
        let at = EPOCH + index * DAY;
        let lines: Vec<Json> = (0..(index % 2 + 1))
            .map(|line| json!({"line-num": line + 1, "description": ITEMS[((index + line) % 6) as usize], "quantity": 10 + line, "price": money(999 + index * 100), "account": {"id": accounts[(index % 6) as usize]}}))
            .collect();
        let body = json!({"po-number": format!("PO-{:05}", 4501 + index), "total": money((999 + index * 100) * 10), "supplier": {"id": suppliers[((index * 3) % 10) as usize]}, "currency": {"id": currencies[0]}, "order-lines": lines});
        orders.push(
            loader
                .insert(
                    "purchase_orders",
                    body,
                    status_of("purchase_orders", index, PO_STATUSES),
                    at,
                )
                .await?,
        );
    }
    for (index, order) in orders.iter().enumerate().take(6) {
        let body = json!({"status": if index % 2 == 0 { "approved" } else { "pending_approval" }, "justification": "Revised quantity", "order-header-id": order, "requester": {"id": users[index % 8]}, "order-line-changes": [{"description": ITEMS[index % 6], "quantity": 20, "price": money(999 + index as i64 * 100)}]});
        loader
            .insert(
                "purchase_order_changes",
                body,
                None,
                EPOCH + index as i64 * DAY,
            )
            .await?;
    }
    for index in 0..15i64 {
        let at = EPOCH + index * DAY;
        let lines: Vec<Json> = (0..(index % 3 + 1))
            .map(|line| json!({"line-number": line + 1, "description": pick(&["Taxi", "Hotel", "Team lunch", "Train ticket"], (index + line) % 4), "amount": money(2500 + (index * 53 + line * 17) % 20000), "expense-date": crate::domain::time::format_rfc3339(at - line * DAY), "account": {"id": accounts[2 + ((index + line) % 2) as usize]}}))
            .collect();
        let body = json!({"title": format!("Trip {} #{}", pick(&["Berlin", "London", "Austin", "Tokyo", "Paris"], index % 5), index + 1), "total": money(2500 + index * 1234), "submitted-at": crate::domain::time::format_rfc3339(at), "expensed-by": {"id": users[(index % 8) as usize]}, "currency": {"id": currencies[(index % 2) as usize]}, "expense-lines": lines});
        loader
            .insert(
                "expense_reports",
                body,
                status_of("expense_reports", index, EXPENSE_STATUSES),
                at,
            )
            .await?;
    }
    for index in 0..12i64 {
        let lines = vec![
            json!({"line-num": 1, "description": ITEMS[(index % 6) as usize], "quantity": index + 1, "unit-price": money(1999), "total": money(1999 * (index + 1)), "account": {"id": accounts[0]}}),
        ];
        let body = json!({"justification": "Team needs", "total": money(1999 * (index + 1)), "requested-by": {"id": users[(index % 8) as usize]}, "currency": "USD", "requisition-lines": lines});
        loader
            .insert(
                "requisitions",
                body,
                status_of("requisitions", index, REQUISITION_STATUSES),
                EPOCH + index * DAY,
            )
            .await?;
    }
    for index in 0..5i64 {
        let body = json!({"name": format!("{} master agreement", SUPPLIERS[index as usize]), "number": format!("CTR-{:03}", index + 1), "status": if index == 4 { "expired" } else { "published" }, "start-date": crate::domain::time::format_rfc3339(EPOCH - 180 * DAY), "end-date": crate::domain::time::format_rfc3339(EPOCH + (index * 90 + 30) * DAY), "supplier": {"id": suppliers[index as usize]}});
        loader.insert("contracts", body, None, EPOCH).await?;
    }
    for index in 0..8i64 {
        let body = json!({"status": pick(&["approved", "pending", "rejected"], index % 3), "position": index % 3 + 1, "approval-date": crate::domain::time::format_rfc3339(EPOCH + index * DAY), "approvable-type": "InvoiceHeader", "approver": {"id": users[(index % 8) as usize]}});
        loader
            .insert("approvals", body, None, EPOCH + index * DAY)
            .await?;
    }
    for (index, period) in ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
        .iter()
        .enumerate()
    {
        loader.insert("budget_lines", json!({"description": format!("Operations {period}"), "amount": money(5_000_000 + index as i64 * 250_000), "period": {"name": period}, "currency": {"id": currencies[0]}}), None, EPOCH).await?;
    }
    for index in 0..6i64 {
        let body = json!({"type": pick(&["InventoryReceipt", "InventoryAdjustment", "InventoryTransfer"], index % 3), "quantity": index * 5 + 5, "transaction-date": crate::domain::time::format_rfc3339(EPOCH + index * DAY), "item": {"id": items[(index % 6) as usize]}});
        loader
            .insert(
                "inventory_transactions",
                body,
                Some(if index == 5 { "voided" } else { "created" }),
                EPOCH + index * DAY,
            )
            .await?;
    }
    for index in 0..3i64 {
        let body = json!({"description": format!("RFQ {}", pick(&["Office furniture", "Cloud hosting", "Catering 2027"], index)), "event-type": "rfq", "state": pick(&["draft", "open", "closed"], index), "start-time": crate::domain::time::format_rfc3339(EPOCH + index * 7 * DAY), "end-time": crate::domain::time::format_rfc3339(EPOCH + (index * 7 + 14) * DAY), "lines": [{"type": "QuoteRequestQuantityLine", "description": ITEMS[index as usize], "quantity": 5 + index}]});
        loader.insert("quote_requests", body, None, EPOCH).await?;
    }
    for index in 0..4i64 {
        let body = json!({"type": "ReceivingQuantityConsumption", "quantity": 10 + index, "price": money(1999), "transaction-date": crate::domain::time::format_rfc3339(EPOCH + index * DAY), "item": {"id": items[(index % 6) as usize]}, "exported": index == 0});
        loader
            .insert(
                "receiving_transactions",
                body,
                Some("created"),
                EPOCH + index * DAY,
            )
            .await?;
    }
    attachments(&loader, config).await?;
    loader.fill_references().await?;
    store.insert_setting_if_absent(LOADED_SETTING, "1").await?;
    Ok(())
}

/// An attachment on the first record of every object that has them: a file, a URL or a
/// text, in turn.
async fn attachments(loader: &Loader<'_>, config: &crate::Config) -> Result<(), StoreError> {
    let files = crate::files::Files {
        store: loader.store,
        dir: config.files_dir.as_deref(),
    };
    let attachments = model::object("attachments")
        .ok_or_else(|| StoreError::Unusable("demo: no attachments".into()))?;
    let owners = model::objects()
        .iter()
        .filter(|object| object.lines.iter().any(|lines| lines.linked()));
    for (index, owner) in owners.enumerate() {
        let Some(&owner_id) = ids_of(loader.store, owner.path).await?.first() else {
            continue;
        };
        let at = EPOCH + index as i64 * 3600;
        let (body, upload) = match index % 3 {
            0 => (
                json!({"type": "file", "intent": "Internal"}),
                Some(crate::files::Upload {
                    content_type: "application/pdf".into(),
                    file_name: format!("{}-{owner_id}-delivery-note.pdf", owner.element),
                    bytes: pdf(&format!("Delivery note for {} {owner_id}", owner.element)),
                }),
            ),
            1 => (
                json!({"type": "url", "intent": "Supplier", "url": "https://docs.example/contract-terms.pdf"}),
                None,
            ),
            _ => (
                json!({"type": "text", "intent": "Supplier", "text": "Delivered to the loading dock, signed by J. Smith."}),
                None,
            ),
        };
        let mut body = body;
        body["linked-to"] = json!(owner.element);
        let input = records::parse_body(attachments, &body, true, records::Writer::Server, &[])
            .map_err(|errors| StoreError::Unusable(format!("demo attachment: {errors}")))?;
        let values = stamped_at(at)(input.values);
        crate::files::attach(files, &config.issuer, (owner, owner_id), values, upload, at)
            .await
            .map_err(|error| StoreError::Unusable(format!("demo attachment: {error}")))?;
    }
    Ok(())
}

/// Account types, business groups, exchange rates, lookups and their values, shipping terms
/// and tax codes.
async fn reference_data(loader: &mut Loader<'_>, currencies: &[i64]) -> Result<(), StoreError> {
    for (index, name) in ["US Corporate", "EU Subsidiary"].iter().enumerate() {
        let body = json!({"name": name, "active": true, "currency": {"id": currencies[index]}});
        loader.insert("account_types", body, None, EPOCH).await?;
    }
    for (name, description) in [
        ("Everyone", "Visible to every user"),
        ("Finance", "Finance team only"),
    ] {
        loader
            .insert(
                "business_groups",
                json!({"name": name, "description": description}),
                None,
                EPOCH,
            )
            .await?;
    }
    for (from, to, rate) in [
        (0, 1, "0.92"),
        (0, 2, "0.79"),
        (1, 0, "1.087"),
        (0, 3, "151.2"),
    ] {
        let body = json!({"from-currency": {"id": currencies[from]}, "to-currency": {"id": currencies[to]}, "rate": rate, "rate-date": crate::domain::time::format_rfc3339(EPOCH)});
        loader.insert("exchange_rates", body, None, EPOCH).await?;
    }
    let mut lookups = Vec::new();
    for (name, level) in [("Cost centers", "Cost center"), ("Projects", "Project")] {
        let body =
            json!({"name": name, "level-1-name": level, "active": true, "fixed-depth": true});
        lookups.push(loader.insert("lookups", body, None, EPOCH).await?);
    }
    for (name, lookup) in [
        ("Cost center 100", 0),
        ("Cost center 200", 0),
        ("Project Apollo", 1),
    ] {
        let body = json!({"name": name, "active": true, "lookup": {"id": lookups[lookup]}, "external-ref-num": name.rsplit(' ').next()});
        loader.insert("lookup_values", body, None, EPOCH).await?;
    }
    for (code, description) in [
        ("FOB", "Free on board"),
        ("CIF", "Cost, insurance and freight"),
    ] {
        loader
            .insert(
                "shipping_terms",
                json!({"code": code, "description": description, "active": true}),
                None,
                EPOCH,
            )
            .await?;
    }
    for (code, percentage, country) in [
        ("US-EXEMPT", "0.0", "US"),
        ("GB-STD", "20.0", "GB"),
        ("DE-STD", "19.0", "DE"),
    ] {
        let body = json!({"code": code, "percentage": percentage, "country": {"code": country}, "active": true, "effective-date": crate::domain::time::format_rfc3339(EPOCH - 365 * DAY)});
        loader.insert("tax_codes", body, None, EPOCH).await?;
    }
    Ok(())
}

/// The custom fields the demo defines on invoices: a cost center and an AP batch number.
async fn invoice_custom_fields(store: &dyn Store) -> Result<Vec<CustomField>, StoreError> {
    let mut fields = Vec::new();
    for (name, kind, label) in [
        ("cost-center", "string", "Cost center"),
        ("ap-batch", "integer", "AP batch"),
    ] {
        let record = crate::domain::custom_field::CustomFieldRecord::create(
            "invoices",
            name,
            kind,
            Some(label),
            EPOCH,
        )
        .map_err(|errors| StoreError::Unusable(format!("demo custom field: {errors}")))?;
        match store.insert_custom_field(&record).await {
            Ok(()) | Err(StoreError::Taken(_)) => {}
            Err(error) => return Err(error),
        }
        fields.push(CustomField {
            name: record.name,
            kind: FieldType::parse(kind).unwrap_or(FieldType::String),
            label: record.label,
        });
    }
    Ok(fields)
}

/// A one-page PDF that shows `title`: small, valid, the same every time.
fn pdf(title: &str) -> Vec<u8> {
    let text: String = title
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .filter(|c| !matches!(c, '(' | ')' | '\\'))
        .collect();
    let content = format!("BT /F1 18 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{object}\nendobj\n", index + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for offset in offsets {
        out.push_str(&format!("{offset:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

/// Invoices written per transaction by `bulk_invoices`.
const BULK_BATCH: usize = 1000;

/// The ids of every record of `object`, in order.
async fn ids_of(store: &dyn Store, object: &str) -> Result<Vec<i64>, StoreError> {
    let query = crate::store::SqlQuery {
        sql: format!("SELECT CAST(id AS TEXT) AS text_id FROM api_{object} ORDER BY id"),
        binds: Vec::new(),
    };
    Ok(store
        .select_rows(&query)
        .await?
        .into_iter()
        .filter_map(|row| row.first().cloned().flatten()?.parse().ok())
        .collect())
}

/// Adds `count` invoices (one to three lines each, every status, the demo's suppliers,
/// accounts and currencies) to a database holding the demo data, `BULK_BATCH` per
/// transaction; `progress` hears how many are written so far. The same count gives the same
/// invoices. For load tests and paging measurements.
pub async fn bulk_invoices(
    store: &dyn Store,
    count: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), StoreError> {
    let object = model::object("invoices")
        .ok_or_else(|| StoreError::Unusable("demo: no invoices".into()))?;
    let (suppliers, accounts, currencies) = (
        ids_of(store, "suppliers").await?,
        ids_of(store, "accounts").await?,
        ids_of(store, "currencies").await?,
    );
    if suppliers.is_empty() || accounts.is_empty() || currencies.is_empty() {
        return Err(StoreError::Unusable(
            "the demo data set is missing: load it first".into(),
        ));
    }
    let start = ids_of(store, "invoices").await?.len() as u64;
    let mut written = 0;
    while written < count {
        let batch = (count - written).min(BULK_BATCH as u64);
        let mut records = Vec::with_capacity(batch as usize);
        for offset in 0..batch {
            let index = (start + written + offset) as i64;
            let at = EPOCH + index * 600;
            let lines: Vec<Json> = (0..(index % 3 + 1))
                .map(|line| {
                    let price = 500 + (index * 31 + line * 7) % 50_000;
                    json!({"line-num": line + 1, "description": ITEMS[((index + line) % 6) as usize], "quantity": (index + line) % 9 + 1, "price": money(price), "account": {"id": accounts[((index + line) as usize) % accounts.len()]}})
                })
                .collect();
            let body = json!({
                "invoice-number": format!("INV-BULK-{:07}", index + 1),
                "invoice-date": crate::domain::time::format_rfc3339(at),
                "exported": index % 5 == 0,
                "supplier": {"id": suppliers[index as usize % suppliers.len()]},
                "currency": {"id": currencies[index as usize % currencies.len()]},
                "invoice-lines": lines,
            });
            let input = records::parse_body(object, &body, true, records::Writer::Server, &[])
                .map_err(|errors| StoreError::Unusable(format!("bulk invoice: {errors}")))?;
            records.push(records::insert_statements(
                object,
                input,
                status_of("invoices", index, INVOICE_STATUSES),
                stamped_at(at),
            ));
        }
        store.insert_records(&records).await?;
        written += batch;
        progress(written);
    }
    // Fresh statistics, so the planner knows how the new rows spread (PostgreSQL would
    // otherwise plan on an empty table's until its autovacuum comes by).
    store
        .execute(&crate::store::SqlQuery {
            sql: "ANALYZE".into(),
            binds: Vec::new(),
        })
        .await?;
    Ok(())
}
