//! Custom field definitions; their values are rows of the resource engine (`custom_values`).

use async_trait::async_trait;

use super::{SqlStore, StoreError, WritePool, on_pool};
use crate::domain::custom_field::CustomFieldRecord;

/// The custom fields administrators define.
#[async_trait]
pub trait CustomFieldStore: Send + Sync {
    /// Every definition, by object and name.
    async fn custom_fields(&self) -> Result<Vec<CustomFieldRecord>, StoreError>;

    /// Adds a definition; `Taken("name")` if the object already has one of that name.
    async fn insert_custom_field(&self, field: &CustomFieldRecord) -> Result<(), StoreError>;

    /// Removes a definition and every value of it, in one transaction. False if there was
    /// none.
    async fn delete_custom_field(&self, object: &str, name: &str) -> Result<bool, StoreError>;
}

type Row = (String, String, String, String, i64);

#[async_trait]
impl CustomFieldStore for SqlStore {
    async fn custom_fields(&self) -> Result<Vec<CustomFieldRecord>, StoreError> {
        on_pool!(self, |pool| {
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT object, name, kind, label, created_at FROM custom_fields \
                 ORDER BY object, name",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(
                    |(object, name, kind, label, created_at)| CustomFieldRecord {
                        object,
                        name,
                        kind,
                        label,
                        created_at,
                    },
                )
                .collect())
        })
    }

    async fn insert_custom_field(&self, field: &CustomFieldRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let inserted = sqlx::query(
                "INSERT INTO custom_fields (object, name, kind, label, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(&field.object)
            .bind(&field.name)
            .bind(&field.kind)
            .bind(&field.label)
            .bind(field.created_at)
            .execute(pool)
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(StoreError::Taken("name"));
            }
            Ok(())
        })
    }

    async fn delete_custom_field(&self, object: &str, name: &str) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM custom_values WHERE object = $1 AND name = $2")
                .bind(object)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            let deleted = sqlx::query("DELETE FROM custom_fields WHERE object = $1 AND name = $2")
                .bind(object)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(deleted.rows_affected() == 1)
        })
    }
}
