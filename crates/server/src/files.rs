//! The files of the API (attachments' files, invoices' image scans and legal PDFs): kept in
//! the database, or in the files directory (each written whole to a private temporary file,
//! then renamed into place), and read back whole.

use std::path::{Path, PathBuf};

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
