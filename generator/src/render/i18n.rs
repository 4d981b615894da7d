//! Interface strings, from the theme's translation files (`i18n/<lang>.yaml`:
//! a flat map of keys to strings; `{name}` marks a parameter).

use std::collections::BTreeMap;
use std::path::Path;

use super::format::Lang;

/// The strings of one language.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Strings(BTreeMap<String, String>);

impl From<BTreeMap<String, String>> for Strings {
    fn from(map: BTreeMap<String, String>) -> Strings {
        Strings(map)
    }
}

impl Strings {
    /// The string for `key`; a missing key shows as itself, so it is visible in review.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.0.get(key).map_or(key, String::as_str)
    }

    /// The string for `key` with `{name}` parameters replaced.
    pub fn fill(&self, key: &str, params: &[(&str, &str)]) -> String {
        let mut s = self.get(key).to_string();
        for (name, value) in params {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// The string for `key`, if there is one.
    pub fn lookup(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }
}

/// Loads `i18n/<lang>.yaml` of a theme.
pub fn load(theme: &Path, lang: Lang) -> Result<Strings, String> {
    let rel = Path::new("i18n").join(format!("{}.yaml", lang.code()));
    let path = theme.join(&rel);
    let bytes = crate::content::assets::read_inside(theme, &rel)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_saphyr::from_str::<BTreeMap<String, String>>(&text)
        .map(Strings)
        .map_err(|e| format!("{}: {e}", path.display()))
}
