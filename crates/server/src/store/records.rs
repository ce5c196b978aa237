//! The rows of the resource engine behind `/api/*`: the SQL it builds, run here.

use async_trait::async_trait;

use sqlx::query::Query;
use sqlx::{Database, Encode, Type};

use super::{Pool, Rows, SqlStore, StoreError, WritePool, on_pool};

/// Runs the statements `api::sql` builds; every value bound, never spliced.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Runs a SELECT built by `api::sql`; every column is selected as text.
    async fn select_rows(&self, query: &SqlQuery) -> Result<Rows, StoreError>;

    /// Runs `parent` (an `INSERT ... RETURNING id`), then each of `children` with the new id
    /// bound as `$1`, in one transaction. Returns the new id.
    async fn insert_record(
        &self,
        parent: &SqlQuery,
        children: &[SqlQuery],
    ) -> Result<i64, StoreError>;

    /// Inserts many records (each a parent and its children, as `insert_record` takes them)
    /// in one transaction; returns their ids in order.
    async fn insert_records(
        &self,
        records: &[(SqlQuery, Vec<SqlQuery>)],
    ) -> Result<Vec<i64>, StoreError>;

    /// Runs an UPDATE built by `api::sql`; returns the number of rows changed.
    async fn execute(&self, query: &SqlQuery) -> Result<u64, StoreError>;

    /// Runs `first`, then `then` only if `first` changed a row, all in one transaction.
    /// Returns the rows `first` changed.
    async fn execute_then(&self, first: &SqlQuery, then: &[SqlQuery]) -> Result<u64, StoreError>;

    /// Deletes every row of the record `tables`, every custom field value and every stored
    /// file, in one transaction; new rows are numbered from 1 again (the sandbox's reset).
    async fn clear_records(&self, tables: &[String]) -> Result<(), StoreError>;

    /// Creates the tables of the API objects if missing, and adds the columns a table made
    /// by an earlier version lacks: `ddl` gives the schemas, for this backend's DDL of an
    /// auto-increment primary key.
    async fn ensure_record_tables(
        &self,
        ddl: &(dyn Fn(&str) -> Vec<TableSchema> + Sync),
    ) -> Result<(), StoreError>;
}

/// What one record table must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub table: String,
    /// `CREATE TABLE IF NOT EXISTS ...`
    pub create: String,
    /// Each column but the id, with the `ALTER TABLE ... ADD COLUMN` that adds it.
    pub columns: Vec<(String, String)>,
    /// `CREATE INDEX IF NOT EXISTS ...`
    pub indexes: Vec<String>,
}

/// One statement and the values its `$N` placeholders take, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlQuery {
    pub sql: String,
    pub binds: Vec<SqlValue>,
}

/// A value bound to a placeholder; a NULL carries the type it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Integer(i64),
    Text(String),
    Boolean(bool),
    NullInteger,
    NullBoolean,
    NullText,
}

pub(super) fn bind_all<'q, DB>(
    mut query: Query<'q, DB, <DB as Database>::Arguments<'q>>,
    values: &'q [SqlValue],
) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
{
    for value in values {
        query = match value {
            SqlValue::Integer(number) => query.bind(*number),
            SqlValue::Text(text) => query.bind(text.as_str()),
            SqlValue::Boolean(flag) => query.bind(*flag),
            SqlValue::NullInteger => query.bind(None::<i64>),
            SqlValue::NullBoolean => query.bind(None::<bool>),
            SqlValue::NullText => query.bind(None::<String>),
        };
    }
    query
}

#[async_trait]
impl RecordStore for SqlStore {
    async fn select_rows(&self, query: &SqlQuery) -> Result<Rows, StoreError> {
        on_pool!(self, |pool| {
            use sqlx::Row;
            let rows = bind_all(sqlx::query(&query.sql), &query.binds)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|index| row.try_get::<Option<String>, _>(index))
                        .collect()
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(Into::into)
        })
    }

    async fn insert_record(
        &self,
        parent: &SqlQuery,
        children: &[SqlQuery],
    ) -> Result<i64, StoreError> {
        self.insert_records(&[(parent.clone(), children.to_vec())])
            .await?
            .pop()
            .ok_or_else(|| StoreError::Unusable("an insert returned no id".into()))
    }

    async fn execute(&self, query: &SqlQuery) -> Result<u64, StoreError> {
        on_pool!(self, |pool| {
            let result = bind_all(sqlx::query(&query.sql), &query.binds)
                .execute(pool)
                .await?;
            Ok(result.rows_affected())
        })
    }

    async fn insert_records(
        &self,
        records: &[(SqlQuery, Vec<SqlQuery>)],
    ) -> Result<Vec<i64>, StoreError> {
        on_pool!(self, |pool| {
            use sqlx::Row;
            let mut tx = pool.begin_write().await?;
            let mut ids = Vec::with_capacity(records.len());
            for (parent, children) in records {
                let row = bind_all(sqlx::query(&parent.sql), &parent.binds)
                    .fetch_one(&mut *tx)
                    .await?;
                let id: i64 = row.try_get(0)?;
                for child in children {
                    bind_all(sqlx::query(&child.sql).bind(id), &child.binds)
                        .execute(&mut *tx)
                        .await?;
                }
                ids.push(id);
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    async fn execute_then(&self, first: &SqlQuery, then: &[SqlQuery]) -> Result<u64, StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let changed = bind_all(sqlx::query(&first.sql), &first.binds)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed > 0 {
                for statement in then {
                    bind_all(sqlx::query(&statement.sql), &statement.binds)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(changed)
        })
    }

    async fn clear_records(&self, tables: &[String]) -> Result<(), StoreError> {
        // Table names come from the model, never from a request.
        let tables: Vec<&str> = tables
            .iter()
            .map(String::as_str)
            .chain(["custom_values", "files"])
            .collect();
        let statements: Vec<String> = match &self.pool {
            // Without AUTOINCREMENT, SQLite numbers the rows of an empty table from 1.
            Pool::Sqlite(_) => tables
                .iter()
                .map(|table| format!("DELETE FROM {table}"))
                .collect(),
            Pool::Postgres(_) => vec![format!("TRUNCATE {} RESTART IDENTITY", tables.join(", "))],
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for statement in &statements {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    async fn ensure_record_tables(
        &self,
        ddl: &(dyn Fn(&str) -> Vec<TableSchema> + Sync),
    ) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                for schema in ddl(super::sqlite::ID_COLUMN) {
                    sqlx::query(&schema.create).execute(pool).await?;
                    let present: Vec<(String,)> =
                        sqlx::query_as("SELECT name FROM pragma_table_info($1)")
                            .bind(&schema.table)
                            .fetch_all(pool)
                            .await?;
                    for statement in missing_columns(&schema, &present).chain(&schema.indexes) {
                        sqlx::query(statement).execute(pool).await?;
                    }
                }
                Ok(())
            }
            Pool::Postgres(pool) => {
                let lock = super::postgres::lock_schema(pool).await?;
                let mut created = Ok(());
                for schema in ddl(super::postgres::ID_COLUMN) {
                    created = ensure_postgres_table(pool, &schema).await;
                    if created.is_err() {
                        break;
                    }
                }
                super::postgres::unlock_schema(lock).await?;
                created
            }
        }
    }
}

/// The ADD COLUMN statements of the columns `present` lacks.
fn missing_columns<'s>(
    schema: &'s TableSchema,
    present: &'s [(String,)],
) -> impl Iterator<Item = &'s String> {
    schema
        .columns
        .iter()
        .filter(|(column, _)| !present.iter().any(|(name,)| name == column))
        .map(|(_, statement)| statement)
}

async fn ensure_postgres_table(
    pool: &sqlx::PgPool,
    schema: &TableSchema,
) -> Result<(), StoreError> {
    sqlx::query(&schema.create).execute(pool).await?;
    let present: Vec<(String,)> = sqlx::query_as(
        "SELECT column_name::TEXT FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(&schema.table)
    .fetch_all(pool)
    .await?;
    for statement in missing_columns(schema, &present).chain(&schema.indexes) {
        sqlx::query(statement).execute(pool).await?;
    }
    Ok(())
}
