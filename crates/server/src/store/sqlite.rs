use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::{Pool, SqlStore, StoreError, WritePool};

/// The embedded default: one file, WAL, writes in `BEGIN IMMEDIATE` transactions so a
/// read-then-write never fails on a lock upgrade.
impl SqlStore {
    pub async fn open_sqlite(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?;
        ensure_private_files(options.get_filename())?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            // A COMMIT that failed (a full disk) can leave a connection inside a transaction
            // SQLite has already rolled back, so that every later BEGIN fails: such a
            // connection is closed rather than handed out again.
            .before_acquire(|connection, _| {
                Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(connection)) })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
            changes_channel: String::new(),
        })
    }
}

/// The DDL of an auto-increment primary key.
pub(super) const ID_COLUMN: &str = "INTEGER PRIMARY KEY";

impl WritePool for SqlitePool {
    type Database = Sqlite;

    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Sqlite>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

/// The database holds secrets (sealed signing keys, digests): it, its `-wal` and its `-shm`
/// are for the owner only. A missing database is created 0600 (SQLite gives the `-wal` and
/// `-shm` files the database's mode); one that others may read is refused.
fn ensure_private_files(path: &Path) -> Result<(), StoreError> {
    let name = path.to_string_lossy();
    if name.is_empty() || name == ":memory:" {
        return Ok(());
    }
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                return Err(StoreError::Unusable(format!(
                    "cannot create {name}: {error}"
                )));
            }
        }
    }
    for file in [
        path.to_path_buf(),
        PathBuf::from(format!("{name}-wal")),
        PathBuf::from(format!("{name}-shm")),
    ] {
        if let Some(mode) = crate::private_files::open_to_others(&file) {
            return Err(StoreError::Unusable(format!(
                "{} is readable or writable by other users (mode {mode:o}) and holds the server's secrets; \
                 run chmod 600 {name} {name}-wal {name}-shm and start again",
                file.display(),
            )));
        }
    }
    Ok(())
}

/// The file a `sqlite:` URL names, if it names one.
pub fn database_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    let name = path.to_string_lossy();
    (!name.is_empty() && name != ":memory:").then(|| path.to_path_buf())
}
