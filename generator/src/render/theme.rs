//! A theme: tera templates, translation files, and static files (CSS, the
//! optional script), loaded once.

use std::collections::BTreeMap;
use std::path::Path;

use super::format::Lang;
use super::i18n::{self, Strings};
use super::output::File;

pub struct Theme {
    /// The templates, once per language: the translations they name
    /// literally (`site.t["key"]`) are written into them as constants
    /// ([`inline_translations`]), so pages need not carry every string.
    teras: BTreeMap<Lang, tera::Tera>,
    /// Whether a template still looks translations up when rendering
    /// (`site.t[some_variable]`, or a key a language lacks): pages then
    /// carry the strings as `site.t`.
    looks_up_strings: bool,
    /// Whether [`FRAME_TEMPLATE`] exists (the theme has a `base.html` or a
    /// `frame.html`).
    has_frame: bool,
    has_menu: bool,
    strings: BTreeMap<Lang, Strings>,
    /// `static/` files, copied to the root of the site.
    pub static_files: Vec<File>,
    /// A short hash of the stylesheet, for cache busting (`/style.css?v=…`).
    pub css_version: String,
}

/// Every file under `dir/sub` (name relative to it, with `/`, and bytes),
/// in name order. A link is read only when it resolves inside the theme
/// folder: the build never reads outside the content or theme folder.
fn theme_files(dir: &Path, sub: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let base = dir.join(sub);
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
        let entry = entry.map_err(|e| format!("cannot read the theme's {sub}: {e}"))?;
        let kind = entry.file_type();
        if !(kind.is_file() || kind.is_symlink()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let bytes = crate::content::assets::read_inside(dir, rel)
            .map_err(|e| format!("the theme's {}: {e}", rel.display()))?;
        let name = entry
            .path()
            .strip_prefix(&base)
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .replace('\\', "/");
        files.push((name, bytes));
    }
    Ok(files)
}

impl Theme {
    /// Loads `themes/<name>/` (its `templates/`, `i18n/` and `static/`).
    pub fn load(dir: &Path) -> Result<Theme, String> {
        let pattern = dir.join("templates").join("**").join("*");
        let mut templates: Vec<(String, String)> = Vec::new();
        for (name, bytes) in theme_files(dir, "templates")? {
            let source = String::from_utf8(bytes)
                .map_err(|e| format!("the theme's template {name} is not UTF-8: {e}"))?;
            templates.push((name, source));
        }
        if templates.is_empty() {
            return Err(format!("no templates found in {}", pattern.display()));
        }
        // The layout of the API's pages (`frames.json`): the theme's own
        // `frame.html`, else `base.html` around the main slot.
        let has_base = templates.iter().any(|(name, _)| name == "base.html");
        if templates.iter().any(|(name, _)| name == "frame.html") {
            templates.push((FRAME_TEMPLATE.into(), "{% extends \"frame.html\" %}".into()));
        } else if has_base {
            templates.push((
                FRAME_TEMPLATE.into(),
                format!(
                    "{{% extends \"base.html\" %}}{{% block main %}}{}{{% endblock main %}}",
                    pave_contract::frame::MAIN
                ),
            ));
        }
        let has_frame = templates.iter().any(|(name, _)| name == FRAME_TEMPLATE);
        let mut strings = BTreeMap::new();
        let mut teras = BTreeMap::new();
        let mut looks_up_strings = false;
        for lang in [Lang::Fr, Lang::En] {
            let lang_strings = i18n::load(dir, lang)?;
            let mut sources = Vec::new();
            for (name, source) in &templates {
                let (inlined, looks_up) = inline_translations(source, &lang_strings);
                looks_up_strings |= looks_up;
                sources.push((name.as_str(), inlined));
            }
            let mut tera = tera::Tera::default();
            tera.autoescape_on(vec![".html", ".xml"]);
            tera.set_escape_fn(escape_html);
            tera.add_raw_templates(sources)
                .map_err(|e| format!("theme templates: {}", error_chain(&e)))?;
            teras.insert(lang, tera);
            strings.insert(lang, lang_strings);
        }
        let mut static_files = Vec::new();
        for (path, bytes) in theme_files(dir, "static")? {
            if path.to_ascii_lowercase().ends_with(".svg")
                && let Some(p) = crate::content::svg::check(&bytes).first()
            {
                return Err(format!(
                    "the theme's static/{path}:{}:{}: {} (an SVG must be a picture only)",
                    p.line, p.column, p.message
                ));
            }
            static_files.push(File { path, bytes });
        }
        let css_version = static_files
            .iter()
            .find(|f| f.path == "style.css")
            .map(|f| format!("{:08x}", fnv1a(&f.bytes) as u32))
            .unwrap_or_default();
        let has_menu = templates.iter().any(|(name, _)| name == MENU_TEMPLATE);
        Ok(Theme {
            teras,
            looks_up_strings,
            has_menu,
            has_frame,
            strings,
            static_files,
            css_version,
        })
    }

    pub fn strings(&self, lang: Lang) -> &Strings {
        &self.strings[&lang]
    }

    /// The templates for pages in `lang`.
    pub fn tera(&self, lang: Lang) -> &tera::Tera {
        &self.teras[&lang]
    }

    /// Whether pages must carry the strings (`site.t`) for lookups made
    /// while rendering.
    pub fn has_frame(&self) -> bool {
        self.has_frame
    }

    pub fn looks_up_strings(&self) -> bool {
        self.looks_up_strings
    }

    /// Whether the theme has a menu template ([`MENU_TEMPLATE`]).
    pub fn has_menu(&self) -> bool {
        self.has_menu
    }
}

/// The site's menu, when the theme has this template: rendered once per
/// language with the list of territories (`site.nav.territories`), then
/// given to every page as `site.menu`, whose `site.nav` then leaves the
/// territories out. Without it, every page gets them.
pub const MENU_TEMPLATE: &str = "partials/menu.html";

/// The layout of the API's pages (`frames.json`), added to the theme's
/// templates: its `frame.html` if it has one, else its `base.html` with
/// the main slot as the `main` block.
pub const FRAME_TEMPLATE: &str = "__pave_frame.html";

/// Writes the translations a template names literally into it: in its tags
/// (`{{ … }}`, `{% … %}`, not in text, comments or `raw` blocks), each
/// `site.t["key"]` whose key `strings` has becomes that string as a tera
/// literal, so it renders exactly as the lookup would (escaped the same
/// way, filters applied the same way) without one at render time. Returns
/// the template and whether a `site.t` lookup is left (a key computed at
/// render time, a key missing from `strings`, or a string no tera quote
/// can delimit).
pub fn inline_translations(source: &str, strings: &Strings) -> (String, bool) {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    let mut looks_up = false;
    let mut in_raw = false;
    while let Some(open) = rest.find('{') {
        let (text, tail) = rest.split_at(open);
        out.push_str(text);
        let close = match &tail[..tail.len().min(2)] {
            "{{" => "}}",
            "{%" => "%}",
            "{#" => "#}",
            _ => {
                out.push('{');
                rest = &tail[1..];
                continue;
            }
        };
        let Some(end) = tail[2..].find(close).map(|i| i + 2 + close.len()) else {
            out.push_str(tail);
            rest = "";
            break;
        };
        let tag = &tail[..end];
        if close == "%}" {
            let word = tag[2..tag.len() - 2].trim().trim_matches('-').trim();
            if word == "raw" {
                in_raw = true;
            } else if word == "endraw" {
                in_raw = false;
            }
        }
        if in_raw || close == "#}" {
            out.push_str(tag);
        } else {
            let (inlined, left) = inline_in_tag(tag, strings);
            looks_up |= left;
            out.push_str(&inlined);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    (out, looks_up)
}

/// [`inline_translations`] within one tag.
fn inline_in_tag(tag: &str, strings: &Strings) -> (String, bool) {
    const LOOKUP: &str = "site.t";
    let mut out = String::with_capacity(tag.len());
    let mut rest = tag;
    let mut looks_up = false;
    while let Some(at) = rest.find(LOOKUP) {
        let before_ok = !rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
        let after = &rest[at + LOOKUP.len()..];
        if !before_ok || after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            out.push_str(&rest[..at + LOOKUP.len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..at]);
        match literal_key(after)
            .and_then(|(key, len)| Some((as_literal(strings.lookup(key)?)?, len)))
        {
            Some((literal, len)) => {
                out.push_str(&literal);
                rest = &after[len..];
            }
            None => {
                looks_up = true;
                out.push_str(LOOKUP);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, looks_up)
}

/// `["key"]` or `['key']` at the start of `s`: the key and the length taken.
fn literal_key(s: &str) -> Option<(&str, usize)> {
    let inner = s.strip_prefix('[')?;
    let quote = inner.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &inner[1..];
    let end = body.find(quote)?;
    body[end + 1..]
        .starts_with(']')
        .then(|| (&body[..end], 1 + 1 + end + 1 + 1))
}

/// `value` as a tera string literal (tera has no escapes: a quote it does
/// not contain delimits it).
fn as_literal(value: &str) -> Option<String> {
    ['"', '\'', '`']
        .into_iter()
        .find(|q| !value.contains(*q))
        .map(|q| format!("{q}{value}{q}"))
}

/// HTML escaping of text and attribute values: `& < > " '` (the one
/// escaper, `pave_contract::html`). Unlike tera's default it leaves `/`
/// alone, so addresses stay readable (and pages lighter).
pub fn escape_html(input: &str) -> String {
    pave_contract::html::escape(input)
}

/// FNV-1a: a tiny stable hash for cache-busting (not for security).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(pairs: &[(&str, &str)]) -> Strings {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Strings::from(map)
    }

    /// Renders `source` as an HTML template with `site.t` in the context.
    fn render(source: &str, t: &Strings) -> String {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(escape_html);
        tera.add_raw_template("page.html", source).unwrap();
        let ctx = tera::Context::from_value(serde_json::json!({
            "site": { "t": t, "name": "Lyon" },
            "key": "b",
        }))
        .unwrap();
        tera.render("page.html", &ctx).unwrap()
    }

    #[test]
    fn inlined_translations_render_exactly_as_the_lookups() {
        let t = strings(&[
            ("a", "L'équipe & les \"amis\""),
            ("b", "Bonjour {name} <b>"),
            ("c", "quotes \" ' ` all"),
        ]);
        let source = concat!(
            "<p title=\"{{ site.t[\"a\"] }}\">{{ site.t['b'] | replace(from=\"{name}\", to=site.name) }}</p>\n",
            "{% set x = site.t[\"a\"] %}{% if site.t[\"b\"] %}{{ x | upper }}{% endif %}\n",
            "{{ site.t[\"c\"] }} {{ site.t[key] }} site.t[\"a\"] {# site.t[\"a\"] #}\n",
            "{% raw %}{{ site.t[\"a\"] }}{% endraw %}{{ site.title_of | default(value=1) }}",
        );
        let (inlined, looks_up) = inline_translations(source, &t);
        assert_eq!(render(&inlined, &t), render(source, &t));
        assert!(looks_up, "site.t[key] and \"c\" are looked up: {inlined}");
        assert!(
            inlined.contains(r#"{{ `L'équipe & les "amis"` }}"#),
            "a quote the string lacks delimits it: {inlined}"
        );
        assert!(
            inlined.contains(r#"site.t["a"] {# site.t["a"] #}"#),
            "text and comments are left: {inlined}"
        );
        assert!(
            inlined.contains(r#"{% raw %}{{ site.t["a"] }}{% endraw %}"#),
            "raw blocks are left: {inlined}"
        );
    }

    #[test]
    fn a_theme_without_computed_or_missing_keys_needs_no_lookup() {
        let t = strings(&[("nav.skip", "Aller au contenu")]);
        let (inlined, looks_up) = inline_translations(
            r#"<a href="{{ site.nav.home }}">{{ site.t["nav.skip"] }}</a>"#,
            &t,
        );
        assert_eq!(
            inlined,
            r#"<a href="{{ site.nav.home }}">{{ "Aller au contenu" }}</a>"#
        );
        assert!(!looks_up);
        let (_, looks_up) = inline_translations(r#"{{ site.t["nav.missing"] }}"#, &t);
        assert!(looks_up, "a missing key is left to fail as before");
    }

    #[test]
    fn the_default_theme_needs_no_lookup_and_has_a_menu() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default");
        let theme = Theme::load(&dir).expect("the default theme loads");
        assert!(!theme.looks_up_strings());
        assert!(theme.has_menu());
    }
}
