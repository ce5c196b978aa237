//! Files that hold the server's secrets (the database, the key encryption key) are for their
//! owner only.

use std::path::Path;

/// The permission bits of `path` when group or others may read or write it; None when it is
/// private, or missing (nothing on other systems than Unix).
pub fn open_to_others(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Refuses a file holding a secret that others may read, saying how to fix it.
pub fn refuse_open_to_others(path: &Path) -> Result<(), String> {
    match open_to_others(path) {
        Some(mode) => Err(format!(
            "{} is readable by other users (mode {mode:o}); run chmod 600 {}",
            path.display(),
            path.display()
        )),
        None => Ok(()),
    }
}

/// Writes `bytes` into a new file at `path`, for its owner only (0600), whole or not at all
/// (written beside it, synced, then linked). False, and nothing written, when `path` exists
/// already: another process created it first.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new()
        .prefix(".coupa-private-")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temporary
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    match temporary.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(error) if path.exists() => {
            drop(error);
            Ok(false)
        }
        Err(error) => Err(error.error),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_owner_only_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        assert_eq!(open_to_others(&file), None, "missing");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(open_to_others(&file), None);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(open_to_others(&file), Some(0o640));
    }

    #[test]
    fn new_private_files_are_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        assert!(write_new_private(&file, b"first").unwrap());
        assert_eq!(open_to_others(&file), None);
        assert!(!write_new_private(&file, b"second").unwrap());
        assert_eq!(std::fs::read(&file).unwrap(), b"first");
    }
}
