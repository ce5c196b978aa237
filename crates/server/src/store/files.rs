//! Files the API keeps, by owner: an attachment's file, an invoice's image scan.

use async_trait::async_trait;

use super::{SqlStore, StoreError, on_pool};

/// A file and what it belongs to: (`attachments`, 12, `file`), (`invoices`, 7, `image_scan`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredFile {
    pub owner: String,
    pub owner_id: i64,
    pub role: String,
    pub content_type: String,
    pub file_name: String,
    pub size: i64,
    /// The bytes, when the database keeps them.
    pub bytes: Option<Vec<u8>>,
    /// Where they are in the files directory otherwise.
    pub path: Option<String>,
    pub created_at: i64,
}

#[async_trait]
pub trait FileStore: Send + Sync {
    /// Keeps `file`, replacing any file of the same owner and role.
    async fn put_file(&self, file: &StoredFile) -> Result<(), StoreError>;

    async fn file(
        &self,
        owner: &str,
        owner_id: i64,
        role: &str,
    ) -> Result<Option<StoredFile>, StoreError>;
}

#[async_trait]
impl FileStore for SqlStore {
    async fn put_file(&self, file: &StoredFile) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO files (owner, owner_id, role, content_type, file_name, size, bytes, \
                 path, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (owner, owner_id, role) DO UPDATE SET content_type = \
                 excluded.content_type, file_name = excluded.file_name, size = excluded.size, \
                 bytes = excluded.bytes, path = excluded.path, created_at = excluded.created_at",
            )
            .bind(&file.owner)
            .bind(file.owner_id)
            .bind(&file.role)
            .bind(&file.content_type)
            .bind(&file.file_name)
            .bind(file.size)
            .bind(file.bytes.as_deref())
            .bind(file.path.as_deref())
            .bind(file.created_at)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    async fn file(
        &self,
        owner: &str,
        owner_id: i64,
        role: &str,
    ) -> Result<Option<StoredFile>, StoreError> {
        on_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT owner, owner_id, role, content_type, file_name, size, bytes, path, \
                 created_at FROM files WHERE owner = $1 AND owner_id = $2 AND role = $3",
            )
            .bind(owner)
            .bind(owner_id)
            .bind(role)
            .fetch_optional(pool)
            .await?)
        })
    }
}
