//! The floor `bench/api.sh` measures `GET /api/invoices?limit=N&offset=M` against: a page of
//! invoices from the same SQLite database, read with one bare sqlx query per table (the
//! invoices, their lines and charges, and the suppliers, currencies and accounts they point
//! at) and written with serde_json, each row as an object of its columns, lines nested. It has
//! none of the server's work: no authentication, model, filters, formats or rendering rules.
//!
//!   coupa-bench-floor DATABASE_URL LISTEN_ADDR

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Column, Row, TypeInfo, ValueRef};

type Rows = Vec<Map<String, Value>>;

fn json_of(row: &SqliteRow) -> Map<String, Value> {
    let mut object = Map::with_capacity(row.columns().len());
    for (index, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(index);
        let kind = raw
            .as_ref()
            .map(|value| value.type_info().name().to_string())
            .unwrap_or_default();
        let null = raw.map(|value| value.is_null()).unwrap_or(true);
        let value = if null {
            Value::Null
        } else {
            match kind.as_str() {
                "INTEGER" | "BIGINT" | "BOOLEAN" => row
                    .try_get::<i64, _>(index)
                    .map_or(Value::Null, Value::from),
                "REAL" | "NUMERIC" => row
                    .try_get::<f64, _>(index)
                    .map_or(Value::Null, |number| Value::String(number.to_string())),
                _ => row
                    .try_get::<String, _>(index)
                    .map_or(Value::Null, Value::String),
            }
        };
        object.insert(column.name().replace('_', "-"), value);
    }
    object
}

async fn rows(pool: &SqlitePool, sql: &str, ids: &[i64]) -> Result<Rows, sqlx::Error> {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = sql.replace("{ids}", if list.is_empty() { "NULL" } else { &list });
    Ok(sqlx::query(&sql)
        .fetch_all(pool)
        .await?
        .iter()
        .map(json_of)
        .collect())
}

fn ids_in(rows: &Rows, key: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = rows
        .iter()
        .filter_map(|row| row.get(key)?.as_i64())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn by_id(rows: Rows) -> HashMap<i64, Value> {
    rows.into_iter()
        .filter_map(|row| Some((row.get("id")?.as_i64()?, Value::Object(row))))
        .collect()
}

/// Replaces `key` (an id) by the row it names, under `name`.
fn nest(row: &mut Map<String, Value>, key: &str, name: &str, rows: &HashMap<i64, Value>) {
    let id = row.get(key).and_then(Value::as_i64);
    row.insert(
        name.to_string(),
        id.and_then(|id| rows.get(&id))
            .cloned()
            .unwrap_or(Value::Null),
    );
}

/// The rows of `api_{table}` with these ids, by id.
async fn related(
    pool: &SqlitePool,
    table: &str,
    ids: &[i64],
) -> Result<HashMap<i64, Value>, sqlx::Error> {
    let sql = format!("SELECT * FROM api_{table} WHERE id IN ({{ids}})");
    Ok(by_id(rows(pool, &sql, ids).await?))
}

/// Lines grouped by the invoice they belong to.
fn by_invoice(lines: Rows) -> HashMap<i64, Vec<Value>> {
    let mut grouped: HashMap<i64, Vec<Value>> = HashMap::new();
    for line in lines {
        if let Some(invoice) = line.get("invoice-id").and_then(Value::as_i64) {
            grouped
                .entry(invoice)
                .or_default()
                .push(Value::Object(line));
        }
    }
    grouped
}

async fn page(pool: &SqlitePool, limit: i64, offset: i64) -> Result<Vec<u8>, sqlx::Error> {
    let mut invoices = rows(
        pool,
        &format!("SELECT * FROM api_invoices ORDER BY id LIMIT {limit} OFFSET {offset}"),
        &[],
    )
    .await?;
    let ids = ids_in(&invoices, "id");
    let mut lines = rows(
        pool,
        "SELECT * FROM api_invoice_lines WHERE invoice_id IN ({ids}) ORDER BY id",
        &ids,
    )
    .await?;
    let charges = rows(
        pool,
        "SELECT * FROM api_invoice_charges WHERE invoice_id IN ({ids}) ORDER BY id",
        &ids,
    )
    .await?;
    let suppliers = related(pool, "suppliers", &ids_in(&invoices, "supplier-id")).await?;
    let currencies = related(pool, "currencies", &ids_in(&invoices, "currency-id")).await?;
    let accounts = related(pool, "accounts", &ids_in(&lines, "account-id")).await?;
    for line in &mut lines {
        nest(line, "account-id", "account", &accounts);
    }
    let mut lines_of = by_invoice(lines);
    let mut charges_of = by_invoice(charges);
    for invoice in &mut invoices {
        let id = invoice
            .get("id")
            .and_then(Value::as_i64)
            .unwrap_or_default();
        nest(invoice, "supplier-id", "supplier", &suppliers);
        nest(invoice, "currency-id", "currency", &currencies);
        invoice.insert(
            "invoice-lines".into(),
            Value::Array(lines_of.remove(&id).unwrap_or_default()),
        );
        invoice.insert(
            "invoice-charges".into(),
            Value::Array(charges_of.remove(&id).unwrap_or_default()),
        );
    }
    serde_json::to_vec(&invoices).map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

async fn invoices(
    State(pool): State<SqlitePool>,
    Query(query): Query<HashMap<String, i64>>,
) -> Response {
    let limit = query.get("limit").copied().unwrap_or(50).clamp(1, 50);
    let offset = query.get("offset").copied().unwrap_or(0).max(0);
    match page(&pool, limit, offset).await {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(database_url), Some(listen)) = (args.next(), args.next()) else {
        return Err("usage: coupa-bench-floor DATABASE_URL LISTEN_ADDR".into());
    };
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect(&database_url)
        .await?;
    let app = axum::Router::new()
        .route("/invoices", axum::routing::get(invoices))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
