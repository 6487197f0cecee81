//! Atomic writes: the new content goes to a temporary file in the same folder, gets the
//! original's permissions, and is renamed over the original. A file that changed on disk
//! since it was read is not overwritten. Whatever fails, the original stays intact.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Where the bytes go; tests inject failing writers to prove the original survives.
pub trait Sink {
    fn write_all(&mut self, file: &mut dyn Write, bytes: &[u8]) -> io::Result<()>;
}

/// The ordinary sink.
pub struct Plain;

impl Sink for Plain {
    fn write_all(&mut self, file: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
        file.write_all(bytes)?;
        file.flush()
    }
}

/// Replace `path` (a regular file, or the target of a link inside the root) with `new`, unless
/// its content is no longer `expected`.
pub fn write_atomic(
    path: &Path,
    expected: &[u8],
    new: &[u8],
    sink: &mut dyn Sink,
) -> Result<(), String> {
    let current = fs::read(path).map_err(|e| format!("cannot re-read before writing: {e}"))?;
    if current != expected {
        return Err(
            "changed on disk since it was read; not overwritten (run pipefix again)".into(),
        );
    }
    let meta = fs::metadata(path).map_err(|e| format!("cannot read permissions: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file; not overwritten".into());
    }
    // Read-only is respected even where it would not stop us (as root, or because replacing
    // a file needs only its folder to be writable).
    if meta.permissions().readonly() {
        return Err("the file is read-only; not overwritten".into());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir_meta = fs::metadata(dir).map_err(|e| format!("cannot read its folder: {e}"))?;
    if dir_meta.permissions().readonly() {
        return Err(format!(
            "its folder {} is read-only; not overwritten",
            dir.display()
        ));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".pipefix-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    sink.write_all(tmp.as_file_mut(), new)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| format!("cannot write: {e}; the original is unchanged"))?;
    fs::set_permissions(tmp.path(), meta.permissions())
        .map_err(|e| format!("cannot keep permissions: {e}; the original is unchanged"))?;
    tmp.persist(path).map_err(|e| {
        format!(
            "cannot replace the file: {}; the original is unchanged",
            e.error
        )
    })?;
    Ok(())
}
