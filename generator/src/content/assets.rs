//! The files of the content that are published as they are (covers,
//! images, logos): which kinds are accepted, how a front-matter field names
//! one, and how the build reads one without ever leaving the content tree.
//!
//! Content comes from pull requests by anyone, so every path is hostile:
//! - a reference (`cover.src`, `logo`, `branding.logo`) is a relative path
//!   of plain names: no absolute path, no `..`, no `.`, no backslash, no
//!   address ([`reference`]);
//! - a file that is a symbolic link is accepted only when it resolves to a
//!   file inside the content tree ([`resolve_inside`]), and the build reads
//!   every file through the same check ([`read_inside`]);
//! - only images and PDF documents are published ([`PUBLISHED_EXTENSIONS`]):
//!   an `.html` or `.js` file next to a project would otherwise be served
//!   from the site's own origin;
//! - an SVG is checked for active content (`super::svg`).

use std::io;
use std::path::{Component, Path, PathBuf};

/// The extensions (lower case) of the files published next to pages.
pub const PUBLISHED_EXTENSIONS: &[&str] =
    &["jpg", "jpeg", "png", "gif", "webp", "avif", "svg", "pdf"];

/// Published files above this size are refused (a cover is a few hundred
/// kilobytes; a huge file is a mistake, or an attack on the host's bill).
pub const MAX_ASSET_BYTES: u64 = 5 * 1024 * 1024;

/// Whether a file name has an extension that is published.
pub fn is_published_kind(name: &str) -> bool {
    extension(name).is_some_and(|e| PUBLISHED_EXTENSIONS.contains(&e.as_str()))
}

/// The lower-case extension of a file name.
pub fn extension(name: &str) -> Option<String> {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// Why a front-matter field cannot name a file of the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadReference {
    Empty,
    Absolute,
    /// `..` or `.` among its parts.
    Parent,
    /// An address (`https://…`, `data:…`) instead of a file name.
    Address,
    /// A backslash, a NUL or another control character.
    Character,
}

impl BadReference {
    /// What is wrong, for a diagnostic.
    pub fn describe(self, src: &str, folder: &str) -> String {
        match self {
            BadReference::Empty => {
                format!("the file name is empty: it must name a file in {folder}")
            }
            BadReference::Absolute => {
                format!("`{src}` is an absolute path: only a file in {folder} can be used")
            }
            BadReference::Parent => {
                format!("`{src}` goes up out of its folder: only a file in {folder} can be used")
            }
            BadReference::Address => {
                format!("`{src}` is an address, not a file: only a file in {folder} can be used")
            }
            BadReference::Character => format!(
                "`{src}` contains a backslash or a control character: it must be a file name in {folder}"
            ),
        }
    }
}

/// Checks a reference to a content file, relative to its folder, and gives
/// it as a path of plain names.
pub fn reference(src: &str) -> Result<PathBuf, BadReference> {
    if src.trim().is_empty() {
        return Err(BadReference::Empty);
    }
    if src.chars().any(|c| c == '\\' || c.is_control()) {
        return Err(BadReference::Character);
    }
    if src.starts_with('/') || src.starts_with('~') {
        return Err(BadReference::Absolute);
    }
    if src.contains(':') {
        return Err(BadReference::Address);
    }
    let mut path = PathBuf::new();
    for part in src.split('/') {
        match part {
            "" => {}
            "." | ".." => return Err(BadReference::Parent),
            name => path.push(name),
        }
    }
    // `Path` agrees: only plain names.
    if path.as_os_str().is_empty() || !path.components().all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(BadReference::Parent);
    }
    Ok(path)
}

/// Where a symbolic link (or any path) resolves, if inside `root`
/// (already canonical): `Err` names the target outside.
pub fn resolve_inside(canonical_root: &Path, path: &Path) -> Result<PathBuf, Outside> {
    match path.canonicalize() {
        Ok(target) if target.starts_with(canonical_root) => Ok(target),
        Ok(target) => Err(Outside::Leaves(target)),
        Err(e) => Err(Outside::Broken(e.to_string())),
    }
}

/// A path that does not stay inside its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outside {
    /// It resolves to this file or folder, outside the tree.
    Leaves(PathBuf),
    /// It resolves to nothing (a broken link).
    Broken(String),
}

/// Reads `rel` under `root`, refusing anything that is not a plain relative
/// path or that resolves outside `root` (through a link, at any level):
/// the build never reads a file outside the content or theme folder.
pub fn read_inside(root: &Path, rel: &Path) -> io::Result<Vec<u8>> {
    let path = checked_path(root, rel)?;
    std::fs::read(path)
}

/// [`read_inside`]'s check alone: the file's resolved path.
pub fn checked_path(root: &Path, rel: &Path) -> io::Result<PathBuf> {
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a relative path of plain names", rel.display()),
        ));
    }
    let root = root.canonicalize()?;
    match resolve_inside(&root, &root.join(rel)) {
        Ok(path) => Ok(path),
        Err(Outside::Leaves(target)) => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} leads to {}, outside {}",
                rel.display(),
                target.display(),
                root.display()
            ),
        )),
        Err(Outside::Broken(e)) => Err(io::Error::new(io::ErrorKind::NotFound, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_a_relative_path_of_plain_names() {
        assert_eq!(reference("cover.jpg"), Ok(PathBuf::from("cover.jpg")));
        assert_eq!(
            reference("images/cover.svg"),
            Ok(PathBuf::from("images/cover.svg"))
        );
        for (src, why) in [
            ("", BadReference::Empty),
            ("  ", BadReference::Empty),
            ("/etc/passwd", BadReference::Absolute),
            ("~/secrets", BadReference::Absolute),
            ("../../../../proc/self/environ", BadReference::Parent),
            ("images/../../x.png", BadReference::Parent),
            ("./cover.jpg", BadReference::Parent),
            ("https://evil.example/x.png", BadReference::Address),
            ("data:image/svg+xml,<svg>", BadReference::Address),
            ("C:/Windows/win.ini", BadReference::Address),
            ("..\\..\\x.png", BadReference::Character),
            ("cover\0.jpg", BadReference::Character),
            ("cover\n.jpg", BadReference::Character),
        ] {
            assert_eq!(reference(src), Err(why), "{src:?}");
        }
    }

    #[test]
    fn only_images_and_documents_are_published() {
        for ok in [
            "a.jpg", "a.JPEG", "b.png", "c.svg", "d.webp", "e.pdf", "f.avif", "g.gif",
        ] {
            assert!(is_published_kind(ok), "{ok}");
        }
        for refused in [
            "x.html", "x.htm", "x.js", "x.xml", "x.xhtml", "x", "x.svgz", "x.exe",
        ] {
            assert!(!is_published_kind(refused), "{refused}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_build_reads_nothing_outside_its_tree() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "STRIPE_SECRET_KEY=sk_live").unwrap();
        let tree = tempfile::tempdir().unwrap();
        let root = tree.path();
        std::fs::write(root.join("cover.jpg"), "jpg").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("leak.jpg")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("sub/out")).unwrap();
        std::os::unix::fs::symlink(root.join("cover.jpg"), root.join("sub/same.jpg")).unwrap();

        assert_eq!(read_inside(root, Path::new("cover.jpg")).unwrap(), b"jpg");
        assert_eq!(
            read_inside(root, Path::new("sub/same.jpg")).unwrap(),
            b"jpg"
        );
        for rel in ["leak.jpg", "sub/out/secret"] {
            let e = read_inside(root, Path::new(rel)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{rel}");
        }
        for rel in ["../secret", "/etc/passwd"] {
            let e = read_inside(root, Path::new(rel)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{rel}");
        }
    }
}
