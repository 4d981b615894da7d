//! What a rebuild puts on the site bucket and invalidates on the CDN (pure).
//!
//! - Each rendered file becomes an object at its site path, with its
//!   `Content-Type` and a `Cache-Control`: short for HTML and JSON (the
//!   figures change), a day for the rest.
//! - A file whose bytes equal what this warm instance last uploaded under
//!   that key is not uploaded again (a totals change that leaves a page's
//!   text unchanged, e.g. an offer counted on a page that does not show it).
//! - The CDN paths of the uploaded pages: `/a/b/index.html` and `/a/b/`.
//!   CloudFront bills invalidation paths beyond 1,000 a month ($0.005 each)
//!   and a wildcard counts as one: past [`MAX_PATHS`] paths a single `/*` is
//!   invalidated instead. One project's figures are on about twenty pages
//!   (its page and widget in two languages, its territory, the home page,
//!   its sponsors, themes, stats), so a figures rebuild invalidates `/*`:
//!   one billed path per batch, 1,000 batches a month free. Precise paths
//!   are kept for small sets.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// Above this many paths, one `/*` is invalidated instead.
pub const MAX_PATHS: usize = 10;

/// Cache lifetimes, in seconds.
pub const SHORT_MAX_AGE: u32 = 60;
pub const LONG_MAX_AGE: u32 = 86_400;

/// One object to put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub key: String,
    pub content_type: &'static str,
    pub cache_control: String,
    pub digest: [u8; 32],
}

fn extension(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').map_or("", |(_, ext)| ext)
}

/// The `Content-Type` of a site file, from its extension.
pub fn content_type(path: &str) -> &'static str {
    match extension(path).to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "atom" => "application/atom+xml",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// The `Cache-Control` of a site file: short for what shows figures.
pub fn cache_control(path: &str) -> String {
    match extension(path).to_ascii_lowercase().as_str() {
        "html" | "htm" | "json" | "xml" | "atom" | "txt" | "" => {
            format!("public, max-age={SHORT_MAX_AGE}, must-revalidate")
        }
        _ => format!("public, max-age={LONG_MAX_AGE}"),
    }
}

/// A site path is a relative path of plain segments (no `..`, no leading `/`).
pub fn is_safe_key(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 1024
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

/// The objects to put for `files` (path, bytes): every safe path whose bytes
/// differ from `uploaded` (what this instance last put under that key).
pub fn plan_uploads<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    uploaded: &HashMap<String, [u8; 32]>,
) -> Vec<Upload> {
    files
        .into_iter()
        .filter(|(path, _)| is_safe_key(path))
        .map(|(path, bytes)| Upload {
            key: path.to_string(),
            content_type: content_type(path),
            cache_control: cache_control(path),
            digest: Sha256::digest(bytes).into(),
        })
        .filter(|u| uploaded.get(&u.key) != Some(&u.digest))
        .collect()
}

/// The CDN paths to invalidate for the uploaded keys (sorted, no duplicates).
pub fn invalidation_paths<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut paths: Vec<String> = keys
        .into_iter()
        .flat_map(|key| {
            let mut out = vec![format!("/{key}")];
            if key == "index.html" {
                out.push("/".to_string());
            } else if let Some(dir) = key.strip_suffix("/index.html") {
                out.push(format!("/{dir}/"));
            }
            out
        })
        .collect();
    paths.sort();
    paths.dedup();
    if paths.len() > MAX_PATHS {
        return vec!["/*".to_string()];
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_and_cache_lifetimes() {
        assert_eq!(
            content_type("projets/a/index.html"),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type("catalog.json"), "application/json");
        assert_eq!(content_type("feeds/fr.atom"), "application/atom+xml");
        assert_eq!(content_type("theme/site.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("img/cover.SVG"), "image/svg+xml");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
        assert_eq!(
            cache_control("en/index.html"),
            "public, max-age=60, must-revalidate"
        );
        assert_eq!(cache_control("theme/site.css"), "public, max-age=86400");
    }

    #[test]
    fn unchanged_bytes_and_unsafe_paths_are_not_uploaded() {
        let mut uploaded = HashMap::new();
        let files: Vec<(&str, &[u8])> = vec![
            ("index.html", b"<p>1</p>"),
            ("projets/a/index.html", b"<p>a</p>"),
            ("../escape.html", b"x"),
            ("/abs.html", b"x"),
            ("a//b.html", b"x"),
        ];
        let plan = plan_uploads(files.clone(), &uploaded);
        assert_eq!(
            plan.iter().map(|u| u.key.as_str()).collect::<Vec<_>>(),
            ["index.html", "projets/a/index.html"]
        );
        for u in &plan {
            uploaded.insert(u.key.clone(), u.digest);
        }
        assert!(plan_uploads(files, &uploaded).is_empty());
        let changed: Vec<(&str, &[u8])> = vec![("index.html", b"<p>2</p>")];
        assert_eq!(plan_uploads(changed, &uploaded).len(), 1);
    }

    #[test]
    fn pages_are_invalidated_with_their_directory_and_many_collapse_to_a_wildcard() {
        assert_eq!(
            invalidation_paths(["index.html", "en/projets/a/index.html", "widget/a.html"]),
            [
                "/",
                "/en/projets/a/",
                "/en/projets/a/index.html",
                "/index.html",
                "/widget/a.html"
            ]
        );
        let many: Vec<String> = (0..MAX_PATHS).map(|i| format!("p{i}.html")).collect();
        assert_eq!(
            invalidation_paths(many.iter().map(String::as_str)).len(),
            MAX_PATHS
        );
        let more: Vec<String> = (0..=MAX_PATHS).map(|i| format!("p{i}.html")).collect();
        assert_eq!(invalidation_paths(more.iter().map(String::as_str)), ["/*"]);
        assert!(invalidation_paths([]).is_empty());
    }
}
