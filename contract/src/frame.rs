//! `frames.json`, version 1 (generator → functions): the site's layout, one
//! per language, for the pages the API writes (a thank-you page, a form's
//! error). The generator renders the theme's `base.html` around slots; the
//! API fills them ([`Frames::page`]), so its pages carry the site's header,
//! menu, stylesheet, language links and footer.
//!
//! A slot is written `%%PAVE_<NAME>%%`. Filling is one pass over the
//! frame, so a value put into a slot is never read again for slots; every
//! value but `main` and `head` (the API's own markup) is escaped here.

use std::collections::BTreeMap;

use pave_locale::Lang;
use serde::{Deserialize, Serialize};

use crate::html::escape;

/// Its name, next to `catalog.json` in the site's output and in a release.
pub const FILE: &str = "frames.json";

/// The version of `frames.json` this build writes and reads.
pub const FRAMES_VERSION: u32 = 1;

/// The page's title (text).
pub const TITLE: &str = "%%PAVE_TITLE%%";
/// The page's address (canonical link, `og:url`).
pub const URL: &str = "%%PAVE_URL%%";
/// Extra `<head>` markup (robots, refresh), inserted before `</head>`.
pub const HEAD: &str = "%%PAVE_HEAD%%";
/// The page's content, inside the layout's `<main>`.
pub const MAIN: &str = "%%PAVE_MAIN%%";

/// The slot of the page's address in `lang` (the language links).
pub fn url_in(lang: Lang) -> String {
    format!("%%PAVE_URL_{}%%", lang.code().to_ascii_uppercase())
}

/// Every language's frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frames {
    pub version: u32,
    /// The frame by language code (`fr`, `en`).
    pub frames: BTreeMap<String, String>,
}

/// One page to put in a frame.
#[derive(Debug, Clone, Default)]
pub struct Page<'a> {
    /// Text, escaped when filled.
    pub title: &'a str,
    /// HTML, put as it is inside `<main>`.
    pub main: &'a str,
    /// HTML, put as it is in `<head>`.
    pub head: &'a str,
    /// The page's address in each language (a path on the site's origin,
    /// or a full URL), escaped when filled; the first is the page's own.
    pub urls: &'a [(Lang, String)],
}

/// Why a `frames.json` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FramesError {
    #[error("frames.json is not a valid version 1 file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("frames.json is version {found}; this build reads version {FRAMES_VERSION} only")]
    UnsupportedVersion { found: u32 },
    #[error("frames.json: the {lang} frame has no {MAIN} slot")]
    NoMain { lang: String },
}

/// The frame used for a language the file does not have (or without a
/// file): a plain page, in the same slots.
const PLAIN: &str = "<!DOCTYPE html>\n<html lang=\"%%PAVE_LANG%%\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%%PAVE_TITLE%%</title>\n%%PAVE_HEAD%%</head>\n<body>\n<main id=\"main\">\n%%PAVE_MAIN%%</main>\n</body>\n</html>\n";

impl Frames {
    pub fn new(frames: BTreeMap<String, String>) -> Frames {
        Frames {
            version: FRAMES_VERSION,
            frames,
        }
    }

    /// Reads `frames.json`, strictly: every frame must have its main slot.
    pub fn from_json(bytes: &[u8]) -> Result<Frames, FramesError> {
        let frames: Frames = serde_json::from_slice(bytes)?;
        if frames.version != FRAMES_VERSION {
            return Err(FramesError::UnsupportedVersion {
                found: frames.version,
            });
        }
        if let Some((lang, _)) = frames.frames.iter().find(|(_, f)| !f.contains(MAIN)) {
            return Err(FramesError::NoMain { lang: lang.clone() });
        }
        Ok(frames)
    }

    /// Reads the `frames.json` at `path`; none there gives plain pages.
    pub fn read(path: &std::path::Path) -> Result<Frames, String> {
        match std::fs::read(path) {
            Ok(bytes) => Frames::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Frames::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// `page` in the site's layout for `lang` (a plain page when there is none).
    pub fn page(&self, lang: Lang, page: &Page) -> String {
        let frame = self.frames.get(lang.code()).map_or(PLAIN, String::as_str);
        fill(frame, |slot| match slot {
            "TITLE" => Some(escape(page.title)),
            "MAIN" => Some(page.main.to_string()),
            "HEAD" => Some(page.head.to_string()),
            "LANG" => Some(lang.code().to_string()),
            "URL" => page.urls.first().map(|(_, u)| escape(u)),
            other => {
                let code = other.strip_prefix("URL_")?.to_ascii_lowercase();
                let url = page
                    .urls
                    .iter()
                    .find(|(l, _)| l.code() == code)
                    .or(page.urls.first());
                Some(url.map(|(_, u)| escape(u)).unwrap_or_default())
            }
        })
    }
}

/// `frame` with each `%%PAVE_<NAME>%%` replaced by `value(NAME)` (left as
/// it is when `None`), in one pass.
fn fill(frame: &str, value: impl Fn(&str) -> Option<String>) -> String {
    const OPEN: &str = "%%PAVE_";
    let mut out = String::with_capacity(frame.len() + 4096);
    let mut rest = frame;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        let name_end = after.find("%%").filter(|&end| {
            after[..end]
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_')
        });
        match name_end.and_then(|end| value(&after[..end]).map(|v| (end, v))) {
            Some((end, v)) => {
                out.push_str(&v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(OPEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames() -> Frames {
        Frames::new(BTreeMap::from([(
            "fr".to_string(),
            "<title>%%PAVE_TITLE%% — Site</title>%%PAVE_HEAD%%<link href=\"%%PAVE_URL%%\"><a href=\"%%PAVE_URL_EN%%\">en</a><main>%%PAVE_MAIN%%</main>".to_string(),
        )]))
    }

    #[test]
    fn slots_are_filled_once_and_text_is_escaped() {
        let urls = [
            (Lang::Fr, "/api/p/merci?lang=fr".to_string()),
            (Lang::En, "/api/p/merci?lang=en&x=1".to_string()),
        ];
        let html = frames().page(
            Lang::Fr,
            &Page {
                title: "Merci <b> %%PAVE_MAIN%%",
                main: "<p>ok %%PAVE_TITLE%%</p>",
                head: "<meta name=\"robots\" content=\"noindex\">",
                urls: &urls,
            },
        );
        assert_eq!(
            html,
            "<title>Merci &lt;b&gt; %%PAVE_MAIN%% — Site</title><meta name=\"robots\" content=\"noindex\"><link href=\"/api/p/merci?lang=fr\"><a href=\"/api/p/merci?lang=en&amp;x=1\">en</a><main><p>ok %%PAVE_TITLE%%</p></main>"
        );
    }

    #[test]
    fn a_language_without_a_frame_gets_the_plain_page() {
        let html = frames().page(
            Lang::En,
            &Page {
                title: "Thank you",
                main: "<p>ok</p>",
                ..Page::default()
            },
        );
        assert!(html.contains("<html lang=\"en\">"), "{html}");
        assert!(html.contains("<title>Thank you</title>"), "{html}");
        assert!(
            html.contains("<main id=\"main\">\n<p>ok</p></main>"),
            "{html}"
        );
    }

    #[test]
    fn a_frame_without_its_main_slot_or_of_another_version_is_refused() {
        let no_main = br#"{"version":1,"frames":{"fr":"<main></main>"}}"#;
        assert!(matches!(
            Frames::from_json(no_main),
            Err(FramesError::NoMain { .. })
        ));
        let other = br#"{"version":2,"frames":{}}"#;
        assert!(matches!(
            Frames::from_json(other),
            Err(FramesError::UnsupportedVersion { found: 2 })
        ));
        let json = serde_json::to_vec(&frames()).unwrap();
        assert_eq!(Frames::from_json(&json).unwrap(), frames());
    }

    #[test]
    fn unknown_and_broken_slots_stay_as_they_are() {
        let f = fill("a %%PAVE_NOPE%% b %%PAVE_x%% c %%PAVE_", |_| None);
        assert_eq!(f, "a %%PAVE_NOPE%% b %%PAVE_x%% c %%PAVE_");
    }
}
