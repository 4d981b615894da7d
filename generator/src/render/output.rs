//! Writing the site: only the files whose bytes changed are written (the
//! output folder is never wiped), and files of an earlier build that this one
//! no longer produces are removed, using a manifest of what was written.
//! Precompressed (`pave serve --production`), each text file gets its
//! `.gz` and `.br` beside it, written before it, so a reader never gets a
//! compressed copy older than the file.

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
    /// Stale files that could not be removed (kept in the manifest, tried
    /// again by the next build), each with why.
    pub stale_kept: Vec<String>,
}

/// Writes files under an output folder as they come (from several threads),
/// skipping those already identical, and counts what it did.
pub struct Writer {
    out: PathBuf,
    precompress: bool,
    written: AtomicUsize,
    unchanged: AtomicUsize,
    /// The `.gz` and `.br` files written beside others (for the manifest).
    compressed: std::sync::Mutex<Vec<String>>,
    /// Without precompression, remove the copies an earlier precompressed
    /// build left beside a file this writer changes. Only the incremental
    /// path needs it: a full build's manifest removes them all at its end.
    drop_stale_copies: bool,
}

/// Files smaller than this are sent as they are.
const COMPRESS_FROM: usize = 512;

/// What is worth compressing: text.
fn compressible(path: &str, len: usize) -> bool {
    len >= COMPRESS_FROM
        && [".html", ".css", ".xml", ".json", ".txt", ".svg", ".js"]
            .iter()
            .any(|ext| path.ends_with(ext))
}

/// `bytes` compressed: gzip (level 9) and brotli (quality 5: close to its
/// best for pages this size, fast enough for the figures' re-render).
fn compress(bytes: &[u8]) -> io::Result<(Vec<u8>, Vec<u8>)> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    let gz = gz.finish()?;
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
        w.write_all(bytes)?;
    }
    Ok((gz, br))
}

impl Writer {
    /// A writer of plain files (`precompress`: with their `.gz` and `.br`).
    pub fn new(out: &Path, precompress: bool) -> io::Result<Writer> {
        std::fs::create_dir_all(out)?;
        Ok(Writer {
            out: out.to_path_buf(),
            precompress,
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            compressed: std::sync::Mutex::new(Vec::new()),
            drop_stale_copies: false,
        })
    }

    /// The `.gz` and `.br` of a text file, written first; kept when the
    /// file is unchanged and they exist.
    fn put_compressed(&self, file: &File, target: &Path) -> io::Result<()> {
        let siblings = [format!("{}.gz", file.path), format!("{}.br", file.path)];
        let fresh =
            same_bytes(target, &file.bytes) && siblings.iter().all(|s| self.out.join(s).is_file());
        if !fresh {
            let (gz, br) = compress(&file.bytes)?;
            write_if_changed(&self.out.join(&siblings[0]), &gz)?;
            write_if_changed(&self.out.join(&siblings[1]), &br)?;
        }
        self.compressed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(siblings);
        Ok(())
    }

    /// Writes one file unless it already holds exactly these bytes. A path
    /// that is not relative, plain names only, is refused: nothing is ever
    /// written outside the output folder.
    pub fn put(&self, file: &File) -> io::Result<()> {
        if !is_safe_relative(&file.path) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refused to write `{}`: not a path inside the output folder",
                    file.path
                ),
            ));
        }
        let target = self.out.join(&file.path);
        let compressible = compressible(&file.path, file.bytes.len());
        if compressible && self.precompress {
            self.put_compressed(file, &target)?;
        }
        let counter = if write_if_changed(&target, &file.bytes)? {
            if compressible && self.drop_stale_copies {
                // Copies compressed by an earlier build are now stale.
                for ext in ["gz", "br"] {
                    match std::fs::remove_file(self.out.join(format!("{}.{ext}", file.path))) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                        _ => {}
                    }
                }
            }
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
            stale_kept: Vec::new(),
        }
    }

    /// Ends a full build whose files are `paths`: removes every file the
    /// previous builds wrote and this one did not (and the folders left
    /// empty), and records the new manifest. A stale file that cannot be
    /// removed stays in the manifest, so the next build tries again, and is
    /// reported (`WriteStats::stale_kept`); a manifest line that is not a
    /// path inside the output folder (a manifest edited by hand) is never
    /// followed, and reported likewise.
    pub fn finish_full(self, paths: &BTreeSet<String>) -> io::Result<WriteStats> {
        let mut stats = self.stats();
        let manifest = self.out.join(MANIFEST);
        let compressed =
            std::mem::take(&mut *self.compressed.lock().unwrap_or_else(|p| p.into_inner()));
        // Without precompression the build's own list is the whole listing
        // (no copy of 50,000 paths on every full build).
        let all: BTreeSet<String>;
        let paths = if compressed.is_empty() {
            paths
        } else {
            all = paths.iter().cloned().chain(compressed).collect();
            &all
        };
        let mut listing: BTreeSet<&str> = paths.iter().map(String::as_str).collect();
        let previous = match std::fs::read_to_string(&manifest) {
            Ok(previous) => previous,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        for old in previous
            .lines()
            .filter(|l| !l.is_empty() && !paths.contains(*l))
        {
            if !is_safe_relative(old) {
                stats
                    .stale_kept
                    .push(format!("{old} (not a path inside the output folder)"));
                continue;
            }
            let file = self.out.join(old);
            match std::fs::remove_file(&file) {
                Ok(()) => {
                    stats.removed += 1;
                    remove_empty_parents(&self.out, &file);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    stats.stale_kept.push(format!("{old} ({e})"));
                    listing.insert(old);
                }
            }
        }
        let mut text = String::new();
        for path in listing {
            text.push_str(path);
            text.push('\n');
        }
        write_if_changed(&manifest, text.as_bytes())?;
        Ok(stats)
    }
}

/// Writes `files` under `out`, skipping those already identical
/// (`precompress`: see [`Writer::new`]).
pub fn write(out: &Path, files: &[File], precompress: bool) -> io::Result<WriteStats> {
    let mut writer = Writer::new(out, precompress)?;
    writer.drop_stale_copies = !precompress;
    files.par_iter().try_for_each(|f| writer.put(f))?;
    Ok(writer.stats())
}

/// A path relative to the output folder, made of plain names only.
fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Removes the folders between `file` and `out` that its removal left empty.
fn remove_empty_parents(out: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out || !d.starts_with(out) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Writes `bytes` at `path` unless the file already holds exactly them.
/// Returns whether it wrote. The write goes through a temporary file and a
/// rename, so a reader never sees half a page.
fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    if same_bytes(path, bytes) {
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

/// Whether the file at `path` holds exactly `bytes`.
fn same_bytes(path: &Path, bytes: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_written_outside_the_output_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let writer = Writer::new(&out, false).unwrap();
        for path in [
            "../escape.html",
            "a/../../escape.html",
            "/tmp/escape.html",
            "a//b.html",
            "./a.html",
            "a\\..\\b.html",
            "",
        ] {
            let file = File {
                path: path.into(),
                bytes: b"x".to_vec(),
            };
            let e = writer.put(&file).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{path:?}");
        }
        assert!(!dir.path().join("escape.html").exists());
        writer
            .put(&File {
                path: "projets/a/index.html".into(),
                bytes: b"ok".to_vec(),
            })
            .unwrap();
        assert_eq!(writer.stats().written, 1);
    }

    #[test]
    fn a_stale_file_that_cannot_be_removed_stays_in_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let writer = Writer::new(out, false).unwrap();
        for path in ["a/index.html", "b/index.html"] {
            writer
                .put(&File {
                    path: path.into(),
                    bytes: b"x".to_vec(),
                })
                .unwrap();
        }
        let all: BTreeSet<String> = ["a/index.html", "b/index.html"].map(String::from).into();
        writer.finish_full(&all).unwrap();
        // `b/index.html` became a folder: it cannot be removed as a file.
        std::fs::remove_file(out.join("b/index.html")).unwrap();
        std::fs::create_dir(out.join("b/index.html")).unwrap();
        std::fs::write(out.join("b/index.html/keep"), "x").unwrap();
        let only_a: BTreeSet<String> = ["a/index.html".to_string()].into();
        let stats = Writer::new(out, false)
            .unwrap()
            .finish_full(&only_a)
            .unwrap();
        assert_eq!(stats.stale_kept.len(), 1, "{stats:?}");
        assert!(stats.stale_kept[0].starts_with("b/index.html ("));
        let manifest = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
        assert_eq!(
            manifest, "a/index.html\nb/index.html\n",
            "tried again next time"
        );
    }
}
