//! Files that appear complete or not at all: written under a temporary name in the target folder,
//! synced, then renamed into place. A crash or error leaves at most a hidden `.NAME.*.partial` file,
//! which no reader ever looks at (and `.gitignore` ignores).
use super::error::DataError;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// A new temporary file in `dir` for the eventual file `name`; removed when dropped unless persisted.
pub(crate) fn temp_file_for(dir: &Path, name: &str) -> Result<NamedTempFile, DataError> {
    let prefix = format!(".{name}.");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Data files are not secrets: readable by all, like any file written with `File::create`.
        b.permissions(std::fs::Permissions::from_mode(0o644));
    }
    b.tempfile_in(dir)
        .map_err(|e| DataError::io("create a temporary file in", dir, e))
}

/// Syncs `tmp` and renames it to `path`.
pub(crate) fn persist(tmp: NamedTempFile, path: &Path) -> Result<(), DataError> {
    tmp.as_file()
        .sync_all()
        .map_err(|e| DataError::io("sync", tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| DataError::io("rename a temporary file to", path, e.error))?;
    Ok(())
}

/// Runs `write` on a buffered temporary file in `path`'s folder, then syncs it and renames it to `path`.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), DataError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = temp_file_for(&dir, &name)?;
    {
        let mut w = BufWriter::with_capacity(1 << 16, tmp.as_file());
        write(&mut w).map_err(|e| DataError::io("write", tmp.path(), e))?;
        w.flush()
            .map_err(|e| DataError::io("write", tmp.path(), e))?;
    }
    persist(tmp, path)
}
