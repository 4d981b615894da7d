//! Writing the site: only the files whose bytes changed are written (the
//! output folder is never wiped), and files of an earlier build that this one
//! no longer produces are removed, using a manifest of what was written.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

/// The manifest of a build, in the output folder.
pub const MANIFEST: &str = ".pave-manifest";

/// One output file: its path relative to the output folder, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// What a write did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteStats {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Writes files under an output folder as they come (from several threads),
/// skipping those already identical, and counts what it did.
pub struct Writer {
    out: PathBuf,
    written: AtomicUsize,
    unchanged: AtomicUsize,
}

impl Writer {
    pub fn new(out: &Path) -> io::Result<Writer> {
        std::fs::create_dir_all(out)?;
        Ok(Writer {
            out: out.to_path_buf(),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
        })
    }

    /// Writes one file unless it already holds exactly these bytes.
    pub fn put(&self, file: &File) -> io::Result<()> {
        let counter = if write_if_changed(&self.out.join(&file.path), &file.bytes)? {
            &self.written
        } else {
            &self.unchanged
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// What was written so far.
    pub fn stats(&self) -> WriteStats {
        WriteStats {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            removed: 0,
        }
    }

    /// Ends a full build whose files are `paths`: removes what the previous
    /// build wrote and this one did not, and records the new manifest.
    pub fn finish_full(self, paths: &BTreeSet<String>) -> io::Result<WriteStats> {
        let mut stats = self.stats();
        let manifest = self.out.join(MANIFEST);
        if let Ok(previous) = std::fs::read_to_string(&manifest) {
            for old in previous
                .lines()
                .filter(|l| !l.is_empty() && !paths.contains(*l))
            {
                if is_safe_relative(old) && std::fs::remove_file(self.out.join(old)).is_ok() {
                    stats.removed += 1;
                }
            }
        }
        let mut listing = String::new();
        for path in paths {
            listing.push_str(path);
            listing.push('\n');
        }
        write_if_changed(&manifest, listing.as_bytes())?;
        Ok(stats)
    }
}

/// Writes `files` under `out`, skipping those already identical.
pub fn write(out: &Path, files: &[File]) -> io::Result<WriteStats> {
    let writer = Writer::new(out)?;
    files.par_iter().try_for_each(|f| writer.put(f))?;
    Ok(writer.stats())
}

fn is_safe_relative(path: &str) -> bool {
    !path.starts_with('/') && !path.split('/').any(|part| part == ".." || part.is_empty())
}

/// Writes `bytes` at `path` unless the file already holds exactly them.
/// Returns whether it wrote. The write goes through a temporary file and a
/// rename, so a reader never sees half a page.
fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() == bytes.len() as u64
        && std::fs::read(path).is_ok_and(|old| old == bytes)
    {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp: PathBuf = path.with_extension(format!(
        "{}.pave-tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(true)
}
