//! SQL for the resource engine. Both backends take `$N` placeholders, `LIMIT/OFFSET`,
//! `CAST`, `RETURNING` and `LIKE ... ESCAPE`, so one generator serves both; only the id
//! column's DDL differs and is passed in. Every value is bound, never spliced: names come
//! from the object definitions, never from the request.

use super::model::{self, FieldType, ObjectDef};
use super::query::{Filter, Hop, ListQuery, Op, Value};
use crate::store::TableSchema;

pub use crate::store::{SqlQuery, SqlValue};

impl From<Value> for SqlValue {
    fn from(value: Value) -> Self {
        match value {
            Value::Integer(number) => Self::Integer(number),
            // Bound as text and cast to NUMERIC by the placeholder.
            Value::Decimal(text) | Value::Text(text) => Self::Text(text),
            Value::Boolean(flag) => Self::Boolean(flag),
            Value::Null(FieldType::Integer | FieldType::DateTime) => Self::NullInteger,
            Value::Null(FieldType::Boolean) => Self::NullBoolean,
            Value::Null(FieldType::String | FieldType::Decimal) => Self::NullText,
        }
    }
}

/// A column name as SQL reads it: quoted, since Coupa's element names include words SQL
/// reserves (`type`, `position`, `default`).
pub fn quoted(column: &str) -> String {
    format!("\"{column}\"")
}

/// The schema of every object's table. `id_column` is the backend's auto-increment key.
pub fn create_tables(id_column: &str) -> Vec<TableSchema> {
    model::objects()
        .iter()
        .map(|object| create_table(object, id_column))
        .collect()
}

pub fn create_table(object: &ObjectDef, id_column: &str) -> TableSchema {
    let table = model::table(object);
    let definition = |column: &model::Column| {
        let not_null = if matches!(column.name, "created_at" | "updated_at") {
            " NOT NULL DEFAULT 0"
        } else {
            ""
        };
        format!(
            "{} {}{not_null}",
            quoted(column.name),
            column.kind.sql_type()
        )
    };
    let mut definitions = vec![format!("id {id_column}")];
    definitions.extend(object.columns.iter().skip(1).map(definition));
    let columns = object
        .columns
        .iter()
        .skip(1)
        .map(|column| {
            (
                column.name.to_string(),
                format!("ALTER TABLE {table} ADD COLUMN {}", definition(column)),
            )
        })
        .collect();
    let indexed = object
        .fields
        .iter()
        .filter(|field| field.indexed)
        .map(|field| object.columns[field.slot].name)
        .chain(
            object
                .references
                .iter()
                .map(|reference| object.columns[reference.slot].name),
        )
        .chain(["created_at", "updated_at"]);
    let mut indexes = Vec::new();
    for column in indexed {
        let statement = format!(
            "CREATE INDEX IF NOT EXISTS {} ON {table} ({})",
            index_name(&table, column),
            quoted(column)
        );
        if !indexes.contains(&statement) {
            indexes.push(statement);
        }
    }
    TableSchema {
        create: format!(
            "CREATE TABLE IF NOT EXISTS {table} ({})",
            definitions.join(", ")
        ),
        table,
        columns,
        indexes,
    }
}

/// `{table}_{column}`, shortened with a digest where PostgreSQL would cut it (63 bytes).
fn index_name(table: &str, column: &str) -> String {
    let name = format!("{table}_{column}");
    if name.len() <= 63 {
        return name;
    }
    let digest: String = crate::domain::secret::digest(&name)
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{}_{digest}", &name[..50])
}

struct Builder {
    binds: Vec<SqlValue>,
}

impl Builder {
    fn placeholder(&mut self, value: Value) -> String {
        let decimal = matches!(value, Value::Decimal(_) | Value::Null(FieldType::Decimal));
        self.binds.push(value.into());
        let placeholder = format!("${}", self.binds.len());
        if decimal {
            format!("CAST({placeholder} AS NUMERIC)")
        } else {
            placeholder
        }
    }

    /// `$1, $2, ...` for `ids`; `NULL` (matching nothing) when there are none.
    fn id_list(&mut self, ids: &[i64]) -> String {
        if ids.is_empty() {
            return "NULL".to_string();
        }
        ids.iter()
            .map(|id| self.placeholder(Value::Integer(*id)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn select_list(object: &ObjectDef, alias: &str) -> String {
        object
            .columns
            .iter()
            .map(|column| format!("CAST({alias}.{} AS TEXT)", quoted(column.name)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn condition(&mut self, filter: &Filter, hops: &[Hop], depth: usize) -> String {
        let alias = format!("t{depth}");
        match hops.split_first() {
            Some((Hop::Reference { column, table }, rest)) => {
                let inner = format!("t{}", depth + 1);
                let condition = self.condition(filter, rest, depth + 1);
                format!(
                    "{alias}.{} IN (SELECT {inner}.id FROM {table} {inner} WHERE {condition})",
                    quoted(column)
                )
            }
            Some((
                Hop::Lines {
                    parent_column,
                    table,
                },
                rest,
            )) => {
                let inner = format!("t{}", depth + 1);
                let condition = self.condition(filter, rest, depth + 1);
                format!(
                    "{alias}.id IN (SELECT {inner}.{} FROM {table} {inner} WHERE {condition})",
                    quoted(parent_column)
                )
            }
            Some((Hop::Custom { object, name }, _)) => {
                self.custom_condition(&alias, object, name, filter)
            }
            None => self.comparison(filter, &format!("{alias}.{}", quoted(&filter.column))),
        }
    }

    /// A filter on a custom field: a sub-select of `custom_values`, whose text is compared as
    /// a number for numeric kinds. Negations and `blank=true` also match records without a
    /// value.
    fn custom_condition(
        &mut self,
        alias: &str,
        object: &str,
        name: &str,
        filter: &Filter,
    ) -> String {
        let object = self.placeholder(Value::Text(object.to_string()));
        let name = self.placeholder(Value::Text(name.to_string()));
        let value = match filter.kind {
            FieldType::Integer | FieldType::Decimal | FieldType::DateTime => {
                "CAST(cv.value AS NUMERIC)".to_string()
            }
            _ => "cv.value".to_string(),
        };
        let blank_true =
            filter.op == Op::Blank && filter.values.first() == Some(&Value::Boolean(true));
        let negated = matches!(filter.op, Op::NotEq | Op::NotIn) || blank_true;
        let positive = match filter.op {
            Op::NotEq => Filter {
                op: Op::Eq,
                ..filter.clone()
            },
            Op::NotIn => Filter {
                op: Op::In,
                ..filter.clone()
            },
            Op::Blank => Filter {
                values: vec![Value::Boolean(false)],
                ..filter.clone()
            },
            _ => filter.clone(),
        };
        let condition = self.comparison(&positive, &value);
        let membership = if negated { "NOT IN" } else { "IN" };
        format!(
            "{alias}.id {membership} (SELECT cv.record_id FROM custom_values cv \
             WHERE cv.object = {object} AND cv.name = {name} AND {condition})"
        )
    }

    fn comparison(&mut self, filter: &Filter, column: &str) -> String {
        let first = filter
            .values
            .first()
            .cloned()
            .unwrap_or(Value::Null(filter.kind));
        let binary = |builder: &mut Self, operator: &str| {
            format!("{column} {operator} {}", builder.placeholder(first.clone()))
        };
        match filter.op {
            Op::Eq => binary(self, "="),
            Op::Gt => binary(self, ">"),
            Op::Lt => binary(self, "<"),
            Op::GtOrEq => binary(self, ">="),
            Op::LtOrEq => binary(self, "<="),
            Op::NotEq => format!("({} OR {column} IS NULL)", binary(self, "<>")),
            Op::In | Op::NotIn => {
                let placeholders: Vec<String> = filter
                    .values
                    .iter()
                    .map(|value| self.placeholder(value.clone()))
                    .collect();
                let list = placeholders.join(", ");
                if filter.op == Op::In {
                    format!("{column} IN ({list})")
                } else {
                    format!("({column} NOT IN ({list}) OR {column} IS NULL)")
                }
            }
            Op::Contains | Op::StartsWith | Op::EndsWith => {
                let Value::Text(text) = first else {
                    return "1 = 0".to_string();
                };
                let escaped = text
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let pattern = match filter.op {
                    Op::Contains => format!("%{escaped}%"),
                    Op::StartsWith => format!("{escaped}%"),
                    _ => format!("%{escaped}"),
                };
                format!(
                    "LOWER({column}) LIKE LOWER({}) ESCAPE '\\'",
                    self.placeholder(Value::Text(pattern))
                )
            }
            Op::Blank => {
                let blank = first == Value::Boolean(true);
                match (filter.kind == FieldType::String, blank) {
                    (true, true) => format!("({column} IS NULL OR {column} = '')"),
                    (true, false) => format!("({column} IS NOT NULL AND {column} <> '')"),
                    (false, true) => format!("{column} IS NULL"),
                    (false, false) => format!("{column} IS NOT NULL"),
                }
            }
        }
    }
}

/// One page of `object` matching the query.
pub fn list(object: &ObjectDef, query: &ListQuery) -> SqlQuery {
    let mut builder = Builder { binds: Vec::new() };
    let conditions: Vec<String> = query
        .filters
        .iter()
        .map(|filter| builder.condition(filter, &filter.hops, 0))
        .collect();
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let (order_column, ascending) = &query.order;
    let direction = if *ascending { "ASC" } else { "DESC" };
    let order = |alias: &str| {
        let tie_break = if order_column == "id" {
            String::new()
        } else {
            format!(", {alias}.id ASC")
        };
        format!("{alias}.{} {direction}{tie_break}", quoted(order_column))
    };
    let limit = builder.placeholder(Value::Integer(query.limit));
    let offset = builder.placeholder(Value::Integer(query.offset));
    let table = model::table(object);
    // The page's ids first: the rows an OFFSET skips are walked in the index, never read
    // whole or converted.
    SqlQuery {
        sql: format!(
            "SELECT {} FROM {table} r WHERE r.id IN (SELECT t0.id FROM {table} t0{where_clause} \
             ORDER BY {} LIMIT {limit} OFFSET {offset}) ORDER BY {}",
            Builder::select_list(object, "r"),
            order("t0"),
            order("r"),
        ),
        binds: builder.binds,
    }
}

/// Every record of `object` whose `column` is one of `ids`, by id.
pub fn by_ids(object: &ObjectDef, column: &str, ids: &[i64]) -> SqlQuery {
    let mut builder = Builder { binds: Vec::new() };
    let ids = builder.id_list(ids);
    SqlQuery {
        sql: format!(
            "SELECT {} FROM {} t0 WHERE t0.{} IN ({ids}) ORDER BY t0.id",
            Builder::select_list(object, "t0"),
            model::table(object),
            quoted(column),
        ),
        binds: builder.binds,
    }
}

/// Records `ids` of `object` as an association shows them: the id and summary elements only,
/// and the slots those columns fill.
pub fn summaries_by_ids(object: &ObjectDef, ids: &[i64]) -> (SqlQuery, Vec<usize>) {
    let slots: Vec<usize> = object
        .slot("id")
        .into_iter()
        .chain(
            object
                .summary
                .iter()
                .filter_map(|name| object.field(name).map(|field| field.slot)),
        )
        .collect();
    let columns = slots
        .iter()
        .map(|slot| format!("CAST(t0.{} AS TEXT)", quoted(object.columns[*slot].name)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut builder = Builder { binds: Vec::new() };
    let ids = builder.id_list(ids);
    let query = SqlQuery {
        sql: format!(
            "SELECT {columns} FROM {} t0 WHERE t0.id IN ({ids}) ORDER BY t0.id",
            model::table(object),
        ),
        binds: builder.binds,
    };
    (query, slots)
}

/// The custom field values of records `ids` of `object`: (record id, name, value) rows.
pub fn custom_values(object: &ObjectDef, ids: &[i64]) -> SqlQuery {
    let mut builder = Builder { binds: Vec::new() };
    let object_path = builder.placeholder(Value::Text(object.path.to_string()));
    let ids = builder.id_list(ids);
    SqlQuery {
        sql: format!(
            "SELECT CAST(record_id AS TEXT), name, value FROM custom_values \
             WHERE object = {object_path} AND record_id IN ({ids})"
        ),
        binds: builder.binds,
    }
}

/// A custom value of a record being created: `$1` is left for its id.
pub fn insert_custom_value(object: &ObjectDef, name: &str, value: &str) -> SqlQuery {
    SqlQuery {
        sql: "INSERT INTO custom_values (record_id, object, name, value) VALUES ($1, $2, $3, $4)"
            .into(),
        binds: vec![
            SqlValue::Text(object.path.into()),
            SqlValue::Text(name.into()),
            SqlValue::Text(value.into()),
        ],
    }
}

pub fn upsert_custom_value(object: &ObjectDef, id: i64, name: &str, value: &str) -> SqlQuery {
    SqlQuery {
        sql: "INSERT INTO custom_values (record_id, object, name, value) VALUES ($1, $2, $3, $4) \
              ON CONFLICT (object, record_id, name) DO UPDATE SET value = excluded.value"
            .into(),
        binds: vec![
            SqlValue::Integer(id),
            SqlValue::Text(object.path.into()),
            SqlValue::Text(name.into()),
            SqlValue::Text(value.into()),
        ],
    }
}

pub fn delete_custom_value(object: &ObjectDef, id: i64, name: &str) -> SqlQuery {
    SqlQuery {
        sql: "DELETE FROM custom_values WHERE record_id = $1 AND object = $2 AND name = $3".into(),
        binds: vec![
            SqlValue::Integer(id),
            SqlValue::Text(object.path.into()),
            SqlValue::Text(name.into()),
        ],
    }
}

/// The records of `object` linked to records `ids` of `owner` (attachments of invoices).
pub fn linked_to(object: &ObjectDef, owner: &str, ids: &[i64]) -> SqlQuery {
    let Some(links) = object.links else {
        return by_ids(object, "id", &[]);
    };
    let mut builder = Builder { binds: Vec::new() };
    let owner = builder.placeholder(Value::Text(owner.to_string()));
    let ids = builder.id_list(ids);
    SqlQuery {
        sql: format!(
            "SELECT {} FROM {} t0 WHERE t0.{} = {owner} AND t0.{} IN ({ids}) ORDER BY t0.id",
            Builder::select_list(object, "t0"),
            model::table(object),
            quoted(object.columns[links.object].name),
            quoted(object.columns[links.id].name),
        ),
        binds: builder.binds,
    }
}

pub fn delete(object: &ObjectDef, id: i64) -> SqlQuery {
    SqlQuery {
        sql: format!("DELETE FROM {} WHERE id = $1", model::table(object)),
        binds: vec![SqlValue::Integer(id)],
    }
}

/// Deletes the rows of `object` whose `column` is `id` (the lines of a record).
pub fn delete_where(object: &ObjectDef, column: &str, id: i64) -> SqlQuery {
    SqlQuery {
        sql: format!(
            "DELETE FROM {} WHERE {} = $1",
            model::table(object),
            quoted(column)
        ),
        binds: vec![SqlValue::Integer(id)],
    }
}

/// Deletes every custom field value of record `id`.
pub fn delete_custom_values(object: &ObjectDef, id: i64) -> SqlQuery {
    SqlQuery {
        sql: "DELETE FROM custom_values WHERE record_id = $1 AND object = $2".into(),
        binds: vec![SqlValue::Integer(id), SqlValue::Text(object.path.into())],
    }
}

/// `INSERT ... RETURNING id`. With `parent_column`, `$1` is left for the parent's id, which
/// the store binds once the parent exists.
pub fn insert(
    object: &ObjectDef,
    values: &[(String, Value)],
    parent_column: Option<&str>,
) -> SqlQuery {
    let mut builder = Builder { binds: Vec::new() };
    let mut names = Vec::new();
    let mut placeholders = Vec::new();
    if let Some(parent_column) = parent_column {
        builder.binds.push(SqlValue::NullInteger);
        names.push(quoted(parent_column));
        placeholders.push("$1".to_string());
    }
    for (name, value) in values {
        names.push(quoted(name));
        placeholders.push(builder.placeholder(value.clone()));
    }
    let mut binds = builder.binds;
    if parent_column.is_some() {
        binds.remove(0);
    }
    SqlQuery {
        sql: format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
            model::table(object),
            names.join(", "),
            placeholders.join(", ")
        ),
        binds,
    }
}

/// `UPDATE ... WHERE id = ...`, optionally only while `status` is one of `from`.
pub fn update(
    object: &ObjectDef,
    id: i64,
    values: &[(String, Value)],
    from: Option<&[&str]>,
) -> SqlQuery {
    let mut builder = Builder { binds: Vec::new() };
    let assignments: Vec<String> = values
        .iter()
        .map(|(name, value)| format!("{} = {}", quoted(name), builder.placeholder(value.clone())))
        .collect();
    let mut sql = format!(
        "UPDATE {} SET {} WHERE id = {}",
        model::table(object),
        assignments.join(", "),
        builder.placeholder(Value::Integer(id))
    );
    if let Some(from) = from {
        let allowed: Vec<String> = from
            .iter()
            .map(|status| builder.placeholder(Value::Text(status.to_string())))
            .collect();
        sql.push_str(&format!(" AND \"status\" IN ({})", allowed.join(", ")));
    }
    SqlQuery {
        sql,
        binds: builder.binds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::query;

    fn invoices() -> &'static ObjectDef {
        model::object("invoices").unwrap()
    }

    #[test]
    fn a_list_is_one_parameterised_query() {
        let params = vec![
            (
                "supplier[name][contains]".to_string(),
                "50%_off".to_string(),
            ),
            (
                "invoice_lines[account][code]".to_string(),
                "6000".to_string(),
            ),
            ("gross_total[gt]".to_string(), "10.5".to_string()),
            ("order_by".to_string(), "gross-total".to_string()),
            ("limit".to_string(), "5".to_string()),
        ];
        let sql = list(invoices(), &query::parse(invoices(), &[], &params).unwrap());
        assert!(sql.sql.contains(r#"t0."supplier_id" IN (SELECT t1.id FROM api_suppliers t1 WHERE LOWER(t1."name") LIKE LOWER($1) ESCAPE '\')"#), "{}", sql.sql);
        assert!(sql.sql.contains(r#"t0.id IN (SELECT t1."invoice_id" FROM api_invoice_lines t1 WHERE t1."account_id" IN (SELECT t2.id FROM api_accounts t2 WHERE t2."code" = $2))"#), "{}", sql.sql);
        assert!(
            sql.sql
                .contains(r#"t0."gross_total" > CAST($3 AS NUMERIC)"#),
            "{}",
            sql.sql
        );
        assert!(
            sql.sql.contains(
                r#"ORDER BY t0."gross_total" ASC, t0.id ASC LIMIT $4 OFFSET $5) ORDER BY r."gross_total" ASC, r.id ASC"#
            ),
            "the page's ids, then their rows in the same order: {}",
            sql.sql
        );
        assert_eq!(sql.binds[0], SqlValue::Text("%50\\%\\_off%".into()));
        assert_eq!(sql.binds.len(), 5);
    }

    #[test]
    fn inserts_leave_the_first_placeholder_for_the_parent() {
        let lines = model::object("invoice_lines").unwrap();
        let sql = insert(
            lines,
            &[("description".into(), Value::Text("x".into()))],
            Some("invoice_id"),
        );
        assert_eq!(
            sql.sql,
            r#"INSERT INTO api_invoice_lines ("invoice_id", "description") VALUES ($1, $2) RETURNING id"#
        );
        assert_eq!(sql.binds, vec![SqlValue::Text("x".into())]);
    }

    #[test]
    fn transitions_are_guarded_in_sql() {
        let sql = update(
            invoices(),
            7,
            &[("status".into(), Value::Text("voided".into()))],
            Some(&["approved"]),
        );
        assert_eq!(
            sql.sql,
            r#"UPDATE api_invoices SET "status" = $1 WHERE id = $2 AND "status" IN ($3)"#
        );
    }

    #[test]
    fn ddl_indexes_references_and_marked_fields() {
        let ddl = create_table(invoices(), "INTEGER PRIMARY KEY");
        assert!(ddl.create.starts_with(r#"CREATE TABLE IF NOT EXISTS api_invoices (id INTEGER PRIMARY KEY, "created_at" BIGINT NOT NULL"#), "{}", ddl.create);
        for indexed in [
            r#"("supplier_id")"#,
            r#"("status")"#,
            r#"("exported")"#,
            r#"("invoice_number")"#,
        ] {
            assert!(ddl.indexes.iter().any(|s| s.contains(indexed)), "{indexed}");
        }
        assert!(
            ddl.columns
                .iter()
                .any(|(column, add)| column == "gross_total"
                    && add == r#"ALTER TABLE api_invoices ADD COLUMN "gross_total" NUMERIC"#)
        );
        let long = index_name(
            "api_purchase_order_line_changes",
            "order_line_change_tax_detail_id",
        );
        assert!(long.len() <= 63, "{long}");
    }
}
