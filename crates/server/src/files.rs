//! The files of the API (attachments' files, invoices' image scans and legal PDFs): kept in
//! the database, or in the files directory (each written whole to a private temporary file,
//! then renamed into place), and read back whole.

use std::path::{Path, PathBuf};

use crate::api::model::{self, ObjectDef};
use crate::api::query::Value;
use crate::api::sql;
use crate::store::{Store, StoreError, StoredFile};

/// A file as a client sent it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub content_type: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the files directory cannot be used: {0}")]
    Directory(#[from] std::io::Error),
}

/// Where files are kept.
#[derive(Clone, Copy)]
pub struct Files<'a> {
    pub store: &'a dyn Store,
    /// The files directory; None: the database.
    pub dir: Option<&'a Path>,
}

/// The name of a file in the directory: owner, id and role, nothing a client chose.
fn file_name(owner: &str, owner_id: i64, role: &str) -> String {
    format!("{owner}-{owner_id}-{role}")
}

impl Files<'_> {
    /// Keeps `upload` as the `role` file of record `owner_id` of `owner`, replacing any.
    pub async fn save(
        &self,
        owner: &str,
        owner_id: i64,
        role: &str,
        upload: Upload,
        now: i64,
    ) -> Result<StoredFile, FileError> {
        let size = i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX);
        let (bytes, path) = match self.dir {
            None => (Some(upload.bytes), None),
            Some(dir) => {
                let name = file_name(owner, owner_id, role);
                write_private(dir.to_path_buf(), name.clone(), upload.bytes).await?;
                (None, Some(name))
            }
        };
        let file = StoredFile {
            owner: owner.to_string(),
            owner_id,
            role: role.to_string(),
            content_type: upload.content_type,
            file_name: upload.file_name,
            size,
            bytes,
            path,
            created_at: now,
        };
        self.store.put_file(&file).await?;
        Ok(file)
    }

    /// The file and its bytes, if there is one.
    pub async fn open(
        &self,
        owner: &str,
        owner_id: i64,
        role: &str,
    ) -> Result<Option<(StoredFile, Vec<u8>)>, FileError> {
        let Some(mut file) = self.store.file(owner, owner_id, role).await? else {
            return Ok(None);
        };
        let bytes = match (file.bytes.take(), &file.path, self.dir) {
            (Some(bytes), _, _) => bytes,
            (None, Some(path), Some(dir)) => {
                let path = dir.join(path);
                tokio::task::spawn_blocking(move || std::fs::read(path))
                    .await
                    .map_err(std::io::Error::other)??
            }
            // Kept in a directory this server is not configured with.
            (None, _, _) => return Ok(None),
        };
        Ok(Some((file, bytes)))
    }
}

/// Stores an attachment of record `owner_id` of `owner`: its record (`values`, stamped),
/// linked to its owner, and for a file attachment the file, whose download URL (under
/// `issuer`) the record then carries. Returns the attachment's id.
pub async fn attach(
    files: Files<'_>,
    issuer: &str,
    (owner, owner_id): (&ObjectDef, i64),
    mut values: Vec<(String, Value)>,
    upload: Option<Upload>,
    now: i64,
) -> Result<i64, FileError> {
    let object = model::object("attachments")
        .ok_or_else(|| StoreError::Unusable("no attachments object".into()))?;
    if let Some(links) = object.links {
        values.push((
            object.columns[links.object].name.to_string(),
            Value::Text(owner.path.to_string()),
        ));
        values.push((
            object.columns[links.id].name.to_string(),
            Value::Integer(owner_id),
        ));
    }
    let id = files
        .store
        .insert_record(&sql::insert(object, &values, None), &[])
        .await?;
    if let Some(upload) = upload {
        if let Err(error) = files.save("attachments", id, "file", upload, now).await {
            files.store.execute(&sql::delete(object, id)).await?;
            return Err(error);
        }
        let url = format!("{issuer}/api/attachments/{id}/file");
        set_elements(files.store, object, id, &[("file-url", Value::Text(url))]).await?;
    }
    Ok(id)
}

/// The elements the server sets when it keeps a file: an invoice's image scan details and
/// an attachment's download URL.
const FILE_ELEMENTS: &[(&str, &str)] = &[
    ("invoices", "image-scan"),
    ("invoices", "image-scan-file-name"),
    ("invoices", "image-scan-content-type"),
    ("invoices", "image-scan-file-size"),
    ("invoices", "image-scan-url"),
    ("attachments", "file-url"),
];

/// True for an element only a stored file sets.
pub fn kept_with_files(object: &str, element: &str) -> bool {
    FILE_ELEMENTS.contains(&(object, element))
}

/// Keeps `upload` as the image scan of invoice `id` and sets the invoice's image-scan
/// elements (its retrieval URL under `issuer`), as `PUT .../image_scan` does.
pub async fn image_scan(
    files: Files<'_>,
    issuer: &str,
    id: i64,
    upload: Upload,
    now: i64,
) -> Result<(), FileError> {
    let invoices = model::object("invoices")
        .ok_or_else(|| StoreError::Unusable("no invoices object".into()))?;
    let (file_name, content_type, size) = (
        upload.file_name.clone(),
        upload.content_type.clone(),
        upload.bytes.len(),
    );
    files
        .save("invoices", id, "image_scan", upload, now)
        .await?;
    let url = format!("{issuer}/api/invoices/{id}/retrieve_image_scan");
    let short_name: String = file_name.chars().take(25).collect();
    set_elements(
        files.store,
        invoices,
        id,
        &[
            ("image-scan", Value::Text(short_name)),
            ("image-scan-file-name", Value::Text(file_name)),
            ("image-scan-content-type", Value::Text(content_type)),
            ("image-scan-file-size", Value::Text(size.to_string())),
            ("image-scan-url", Value::Text(url)),
        ],
    )
    .await?;
    Ok(())
}

/// Sets elements only the server writes (file URLs, image scan details) of record `id`.
pub async fn set_elements(
    store: &dyn Store,
    object: &ObjectDef,
    id: i64,
    elements: &[(&str, Value)],
) -> Result<(), StoreError> {
    let values: Vec<(String, Value)> = elements
        .iter()
        .filter_map(|(element, value)| {
            let field = object.field(element)?;
            Some((object.columns[field.slot].name.to_string(), value.clone()))
        })
        .collect();
    store
        .execute(&sql::update(object, id, &values, None))
        .await?;
    Ok(())
}

/// Writes `bytes` to `dir/name` (0600) through a temporary file in `dir`, so a reader never
/// sees half a file.
async fn write_private(dir: PathBuf, name: String, bytes: Vec<u8>) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        std::fs::create_dir_all(&dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&dir)?;
        file.write_all(&bytes)?;
        file.as_file().sync_data()?;
        file.persist(dir.join(name)).map_err(|error| error.error)?;
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}
