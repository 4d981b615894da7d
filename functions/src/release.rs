//! Content releases: the content and the theme shipped as data, not code
//! (AWS; README, "Deploy on AWS").
//!
//! `pave release` checks the content and packs it with its theme into one
//! deterministic `site.tar.gz` ([`pack`]) named by its digest ([`id_of`]).
//! A content deploy uploads it under [`bundle_key`] in the release bucket
//! and asks `pave-rebuild` to publish it: the rebuild unpacks it
//! ([`unpack`]), builds the whole site with the store's live figures, puts
//! what changed since the live release ([`Manifest::changes_over`]) on the site
//! bucket, and only then writes its `catalog.json` and points [`CURRENT`]
//! at it. Before its first put, a publish writes its `manifest.json` and
//! adds itself to [`PENDING`]: a publish that failed halfway is then
//! known to the next one, which puts back what it changed and removes what
//! it added ([`Manifest::changes_over`]). The API and the closer read the
//! catalog of the current release; the rebuild renders from its content.
//!
//! Layout of the release bucket:
//!
//! | key | what |
//! |---|---|
//! | `releases/<id>/site.tar.gz` | `content/…` and `theme/…` |
//! | `releases/<id>/catalog.json` | the release's money rules (written by the publish) |
//! | `releases/<id>/manifest.json` | the SHA-256 of each site file it publishes |
//! | `current.json` | `{"release": "<id>"}`: the live release |
//! | `pending.json` | `{"releases": [...]}`: publishes begun since the live one |

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The pointer to the live release.
pub const CURRENT: &str = "current.json";
/// The publishes begun since the live release went live.
pub const PENDING: &str = "pending.json";

/// The most a bundle may unpack to (a 10,000-project site is a few tens of MB).
pub const UNPACKED_LIMIT: u64 = 1024 * 1024 * 1024;

/// `current.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Current {
    pub release: String,
}

/// `pending.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    pub releases: Vec<String>,
}

/// A release id is what [`id_of`] makes: 1 to 64 lowercase letters, digits
/// or dashes (it names keys and a folder, so nothing else is accepted).
pub fn check_id(id: &str) -> Result<&str, String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err(format!(
            "`{id}` is not a release id (1 to 64 lowercase letters, digits or dashes)"
        ))
    }
}

pub fn bundle_key(id: &str) -> String {
    format!("releases/{id}/site.tar.gz")
}

pub fn catalog_key(id: &str) -> String {
    format!("releases/{id}/catalog.json")
}

/// The site's layout for the API's pages, beside the catalog.
pub fn frames_key(id: &str) -> String {
    format!("releases/{id}/{}", pave_contract::frame::FILE)
}

pub fn manifest_key(id: &str) -> String {
    format!("releases/{id}/manifest.json")
}

/// The id of a bundle: the first 16 hex digits of its SHA-256 (the same
/// content and theme always make the same release).
pub fn id_of(bundle: &[u8]) -> String {
    hex::encode(&Sha256::digest(bundle)[..8])
}

/// Whether a file belongs in a bundle: no hidden file or folder (`.git`,
/// an editor's `.swp`), nothing that is not a regular file.
fn bundled(relative: &Path) -> bool {
    relative.components().all(|c| match c {
        Component::Normal(name) => !name.to_string_lossy().starts_with('.'),
        _ => false,
    })
}

/// Packs `content` and `theme` as `content/…` and `theme/…` in a gzipped
/// tar, byte for byte the same for the same files: sorted, no times, no
/// owners, mode 0644.
pub fn pack(content: &Path, theme: &Path) -> Result<Vec<u8>, String> {
    let gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gzip);
    for (root, prefix) in [(content, "content"), (theme, "theme")] {
        let walk = walkdir::WalkDir::new(root).sort_by_file_name();
        for entry in walk {
            let entry = entry.map_err(|e| format!("{}: {e}", root.display()))?;
            let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
            if !entry.file_type().is_file() || !bundled(relative) {
                continue;
            }
            let bytes = std::fs::read(entry.path())
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_entry_type(tar::EntryType::Regular);
            let name = Path::new(prefix).join(relative);
            tar.append_data(&mut header, &name, bytes.as_slice())
                .map_err(|e| format!("{}: {e}", name.display()))?;
        }
    }
    tar.into_inner()
        .and_then(|gzip| gzip.finish())
        .map_err(|e| format!("packing the release: {e}"))
}

/// Unpacks a bundle into `dir` (which then holds `content/` and `theme/`).
/// Only regular files under `content/` or `theme/` are accepted, never a
/// link, an absolute path or `..`, and at most [`UNPACKED_LIMIT`] bytes.
pub fn unpack(bundle: &[u8], dir: &Path) -> Result<(), String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bundle));
    let mut total: u64 = 0;
    let entries = archive
        .entries()
        .map_err(|e| format!("not a release bundle: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("not a release bundle: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("a bundle entry's name: {e}"))?
            .into_owned();
        let top = path.components().next();
        let known = matches!(top, Some(Component::Normal(t)) if t == "content" || t == "theme");
        let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
        if !known || !plain || entry.header().entry_type() != tar::EntryType::Regular {
            return Err(format!(
                "`{}` does not belong in a release bundle (regular files under content/ or theme/ only)",
                path.display()
            ));
        }
        total = total.saturating_add(entry.size());
        if total > UNPACKED_LIMIT {
            return Err(format!(
                "the bundle unpacks to more than {UNPACKED_LIMIT} bytes"
            ));
        }
        let target = dir.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(&target, bytes).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}

/// The SHA-256 (hex) of each file a release published, by site path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest(pub BTreeMap<String, String>);

/// What a release changes on the site bucket.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// New or different files.
    pub put: Vec<String>,
    /// Files the live release had and this one has not.
    pub removed: Vec<String>,
}

impl Manifest {
    /// The manifest of `files` (site path, bytes).
    pub fn of<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Manifest {
        Manifest(
            files
                .into_iter()
                .map(|(path, bytes)| (path.to_string(), hex::encode(Sha256::digest(bytes))))
                .collect(),
        )
    }

    /// What publishing `self` changes over what the bucket may hold: the
    /// live release's files and those of any publish begun since (`priors`;
    /// none: a first release, everything put, nothing removed). A file is
    /// left alone only when every prior has the same bytes; a file any
    /// prior has and `self` has not is removed.
    pub fn changes_over(&self, priors: &[&Manifest]) -> Changes {
        let put = self
            .0
            .iter()
            .filter(|(path, digest)| {
                priors.is_empty() || priors.iter().any(|p| p.0.get(*path) != Some(digest))
            })
            .map(|(path, _)| path.clone())
            .collect();
        let mut removed: Vec<String> = priors
            .iter()
            .flat_map(|p| p.0.keys())
            .filter(|path| !self.0.contains_key(*path))
            .cloned()
            .collect();
        removed.sort();
        removed.dedup();
        Changes { put, removed }
    }

    /// Records what a later upload put under `path`.
    pub fn record(&mut self, path: &str, bytes: &[u8]) {
        self.0
            .insert(path.to_string(), hex::encode(Sha256::digest(bytes)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    #[test]
    fn a_bundle_is_deterministic_and_unpacks_to_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let (content, theme) = (dir.path().join("c"), dir.path().join("t"));
        tree(
            &content,
            &[
                ("site.yaml", "title: T"),
                ("projets/a.md", "---\n"),
                (".git/HEAD", "x"),
            ],
        );
        tree(
            &theme,
            &[("templates/base.html", "<html>"), ("a/.b.swp", "y")],
        );
        let bundle = pack(&content, &theme).unwrap();
        assert_eq!(bundle, pack(&content, &theme).unwrap(), "deterministic");
        assert_eq!(id_of(&bundle).len(), 16);
        assert!(check_id(&id_of(&bundle)).is_ok());
        let out = tempfile::tempdir().unwrap();
        unpack(&bundle, out.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.path().join("content/projets/a.md")).unwrap(),
            "---\n"
        );
        assert!(out.path().join("theme/templates/base.html").exists());
        assert!(
            !out.path().join("content/.git").exists(),
            "hidden files stay out"
        );
        assert!(!out.path().join("theme/a/.b.swp").exists());
        std::fs::write(content.join("site.yaml"), "title: U").unwrap();
        assert_ne!(id_of(&pack(&content, &theme).unwrap()), id_of(&bundle));
    }

    fn hostile(name: &[u8], kind: tar::EntryType) -> Vec<u8> {
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        // Written raw: tar's own checks refuse `..` in `append_data`.
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(1);
        header.set_entry_type(kind);
        header.set_cksum();
        tar.append(&header, &b"x"[..]).unwrap();
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn a_hostile_bundle_is_refused_before_it_writes_outside() {
        let out = tempfile::tempdir().unwrap();
        for (name, kind) in [
            (&b"content/../../evil"[..], tar::EntryType::Regular),
            (b"/etc/evil", tar::EntryType::Regular),
            (b"other/file", tar::EntryType::Regular),
            (b"content/link", tar::EntryType::Symlink),
        ] {
            let err = unpack(&hostile(name, kind), out.path()).unwrap_err();
            assert!(err.contains("does not belong"), "{err}");
        }
        assert!(unpack(b"not a gzip", out.path()).is_err());
        assert!(!out.path().parent().unwrap().join("evil").exists());
        for bad in ["", "../x", "A", "a/b", &"a".repeat(65)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn changes_are_what_differs_from_the_live_release() {
        let live = Manifest::of([("a.html", &b"1"[..]), ("b.html", b"2"), ("gone.html", b"3")]);
        let next = Manifest::of([("a.html", &b"1"[..]), ("b.html", b"22"), ("new.html", b"4")]);
        assert_eq!(
            next.changes_over(&[&live]),
            Changes {
                put: vec!["b.html".into(), "new.html".into()],
                removed: vec!["gone.html".into()],
            }
        );
        assert_eq!(
            next.changes_over(&[]).put.len(),
            3,
            "a first release puts everything"
        );
        // A publish that failed halfway put `a.html` changed and added
        // `half.html`: the next one puts `a.html` back and removes `half.html`.
        let failed = Manifest::of([("a.html", &b"9"[..]), ("half.html", b"5")]);
        let changes = next.changes_over(&[&live, &failed]);
        assert!(changes.put.contains(&"a.html".to_string()), "{changes:?}");
        assert_eq!(
            changes.removed,
            vec!["gone.html".to_string(), "half.html".to_string()]
        );
    }
}
