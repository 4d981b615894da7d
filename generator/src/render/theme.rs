//! A theme: tera templates, translation files, and static files (CSS, the
//! optional script), loaded once.

use std::collections::BTreeMap;
use std::path::Path;

use super::format::Lang;
use super::i18n::{self, Strings};
use super::output::File;

pub struct Theme {
    pub tera: tera::Tera,
    strings: BTreeMap<Lang, Strings>,
    /// `static/` files, copied to the root of the site.
    pub static_files: Vec<File>,
    /// A short hash of the stylesheet, for cache busting (`/style.css?v=…`).
    pub css_version: String,
}

impl Theme {
    /// Loads `themes/<name>/` (its `templates/`, `i18n/` and `static/`).
    pub fn load(dir: &Path) -> Result<Theme, String> {
        let pattern = dir.join("templates").join("**").join("*");
        let mut tera = tera::Tera::default();
        let mut templates = Vec::new();
        for entry in walkdir::WalkDir::new(dir.join("templates")).sort_by_file_name() {
            let entry = entry.map_err(|e| format!("cannot read the theme's templates: {e}"))?;
            if entry.file_type().is_file()
                && let Ok(rel) = entry.path().strip_prefix(dir.join("templates"))
            {
                templates.push((
                    entry.path().to_path_buf(),
                    Some(rel.to_string_lossy().replace('\\', "/")),
                ));
            }
        }
        if templates.is_empty() {
            return Err(format!("no templates found in {}", pattern.display()));
        }
        tera.add_template_files(templates)
            .map_err(|e| format!("theme templates: {}", error_chain(&e)))?;
        tera.autoescape_on(vec![".html", ".xml"]);
        tera.set_escape_fn(escape_html);
        let mut strings = BTreeMap::new();
        for lang in [Lang::Fr, Lang::En] {
            strings.insert(lang, i18n::load(dir, lang)?);
        }
        let mut static_files = Vec::new();
        let static_dir = dir.join("static");
        for entry in walkdir::WalkDir::new(&static_dir).sort_by_file_name() {
            let entry = entry.map_err(|e| format!("cannot read the theme's static files: {e}"))?;
            if entry.file_type().is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(&static_dir)
                    .map_err(|e| e.to_string())?;
                let bytes = std::fs::read(entry.path())
                    .map_err(|e| format!("{}: {e}", entry.path().display()))?;
                static_files.push(File {
                    path: rel.to_string_lossy().replace('\\', "/"),
                    bytes,
                });
            }
        }
        let css_version = static_files
            .iter()
            .find(|f| f.path == "style.css")
            .map(|f| format!("{:08x}", fnv1a(&f.bytes) as u32))
            .unwrap_or_default();
        Ok(Theme {
            tera,
            strings,
            static_files,
            css_version,
        })
    }

    pub fn strings(&self, lang: Lang) -> &Strings {
        &self.strings[&lang]
    }
}

/// HTML escaping of text and attribute values: `& < > " '`. Unlike tera's
/// default it leaves `/` alone, so addresses stay readable (and pages lighter).
pub fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// FNV-1a: a tiny stable hash for cache-busting (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A tera error with its causes (tera nests the useful message).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}
