//! The language of an answer: the request's `lang` field, else the first
//! supported language of `Accept-Language` by q-order, else French.

/// The interface languages. French first: it is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

/// Language ranges of an `Accept-Language` header looked at, at most.
const MAX_RANGES: usize = 32;

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The other interface language (a page's language link).
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// Exactly "fr" or "en" (a language code in content and URLs).
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// "fr", "en", and tags with a region ("en-GB"), case-insensitive.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The supported language with the highest q-value (the first listed
    /// on ties); `q=0` ranges and malformed q-values are ignored, as is `*`.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(u16, Lang)> = None;
        for range in header.split(',').take(MAX_RANGES) {
            let mut parts = range.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else {
                continue;
            };
            let q = parts
                .map(str::trim)
                .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .map_or(Some(1000), parse_q);
            match q {
                Some(q) if q > 0 && best.is_none_or(|(b, _)| q > b) => best = Some((q, lang)),
                _ => {}
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The answer's language: `field` when it names a supported language,
    /// else `Accept-Language`, else French.
    pub fn choose(field: Option<&str>, accept_language: Option<&str>) -> Lang {
        field
            .and_then(Lang::from_tag)
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or_default()
    }
}

/// A q-value in thousandths: "1", "1.000", "0", "0.8", "0.125" (RFC 9110).
fn parse_q(text: &str) -> Option<u16> {
    let text = text.trim();
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let millis = (0..3).fold(0u16, |acc, i| {
        acc * 10 + frac.as_bytes().get(i).map_or(0, |b| u16::from(b - b'0'))
    });
    match int {
        "0" => Some(millis),
        "1" if millis == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(Lang::from_code("fr"), Some(Lang::Fr));
        assert_eq!(Lang::from_code("en"), Some(Lang::En));
        assert_eq!(Lang::from_code("en-GB"), None);
        assert_eq!(Lang::from_code("EN"), None);
        assert_eq!(Lang::En.code(), "en");
    }

    #[test]
    fn tags() {
        assert_eq!(Lang::from_tag("fr"), Some(Lang::Fr));
        assert_eq!(Lang::from_tag(" EN "), Some(Lang::En));
        assert_eq!(Lang::from_tag("en-GB"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr_CA"), Some(Lang::Fr));
        assert_eq!(Lang::from_tag("de"), None);
        assert_eq!(Lang::from_tag(""), None);
        assert_eq!(Lang::from_tag("english"), None);
    }

    #[test]
    fn accept_language_by_q_order() {
        let parse = Lang::from_accept_language;
        assert_eq!(parse("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(parse("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"), Some(Lang::Fr));
        assert_eq!(parse("de-DE,de;q=0.9,en;q=0.8,fr;q=0.7"), Some(Lang::En));
        assert_eq!(parse("fr;q=0.5, en;q=0.8"), Some(Lang::En));
        assert_eq!(
            parse("en;q=0.8, fr;q=0.8"),
            Some(Lang::En),
            "ties: first listed"
        );
        assert_eq!(parse("en;q=0, fr;q=0.1"), Some(Lang::Fr));
        assert_eq!(parse("en;q=0"), None);
        assert_eq!(parse("de, *;q=0.5"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse(",,;;q=,"), None);
        assert_eq!(parse("en;q=2, fr;q=0.3"), Some(Lang::Fr), "bad q ignored");
        assert_eq!(parse("en;q=abc"), None);
        assert_eq!(parse("EN ; Q=1.000"), Some(Lang::En));
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1."), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.9"), Some(900));
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
        assert_eq!(parse_q("-0.5"), None);
        assert_eq!(parse_q("0.é"), None);
        assert_eq!(parse_q(""), None);
    }

    #[test]
    fn choice() {
        assert_eq!(Lang::choose(Some("en"), Some("fr")), Lang::En);
        assert_eq!(Lang::choose(Some("fr"), Some("en")), Lang::Fr);
        assert_eq!(Lang::choose(Some("de"), Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("de")), Lang::Fr);
        assert_eq!(Lang::choose(None, None), Lang::Fr);
    }
}
