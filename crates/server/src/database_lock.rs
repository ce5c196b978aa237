//! One process per SQLite database: the caches of two processes on one file would not learn
//! of each other's changes (PostgreSQL replicas announce theirs; SQLite has no such channel).
//! A server holds an exclusive lock on `DATABASE.lock` while it runs; servers started in one
//! process (tests) share it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// Held while a server uses the database; the lock ends when the last holder is dropped.
pub struct DatabaseLock {
    _file: Arc<File>,
}

static HELD: Mutex<Option<HashMap<PathBuf, Weak<File>>>> = Mutex::new(None);

/// Locks `database` for this process, or says which file another process holds.
pub fn claim(database: &Path) -> Result<DatabaseLock, String> {
    let mut name = database.as_os_str().to_os_string();
    name.push(".lock");
    let path = PathBuf::from(name);
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    let held = held.get_or_insert_with(HashMap::new);
    if let Some(file) = held.get(&path).and_then(Weak::upgrade) {
        return Ok(DatabaseLock { _file: file });
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(format!(
                "another process is serving {} (it holds {}): SQLite serves one process; stop \
                 the other, or share a PostgreSQL database between replicas",
                database.display(),
                path.display()
            ));
        }
        Err(TryLockError::Error(error)) => {
            return Err(format!("cannot lock {}: {error}", path.display()));
        }
    }
    let file = Arc::new(file);
    held.insert(path, Arc::downgrade(&file));
    Ok(DatabaseLock { _file: file })
}
