//! Links written in content (a holder's or a sponsor's `website`, and every
//! link field added later): one type, [`Link`], parsed with the `url` crate
//! (the WHATWG URL standard, as browsers read it). Only `https:`, `http:`
//! and `mailto:` are links; `javascript:`, `data:`, `file:` and the rest are
//! refused by `pave check`, and a page only ever shows a link that passed
//! ([`Link::href`]), so an unchecked one cannot reach a page either.

use serde::{Deserialize, Serialize};

/// A link as written in a front matter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Link(String);

/// Why a link is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("it is not a full address ({0})")]
    NotAnAddress(String),
    #[error("its scheme `{0}:` is not a link: only https:, http: and mailto: are accepted")]
    Scheme(String),
    #[error("it names no site")]
    NoHost,
    #[error("it carries a user name or password before the site")]
    Credentials,
    #[error("it names no email address")]
    NoAddress,
}

impl LinkError {
    /// How to fix it, for `pave check`.
    pub fn hint(&self) -> &'static str {
        match self {
            LinkError::NotAnAddress(_) | LinkError::NoHost => {
                "write the whole address with its scheme, e.g. https://www.example.org"
            }
            LinkError::Scheme(_) => {
                "link to a web page (https://…) or an email address (mailto:…); a script, data or file address is never a link"
            }
            LinkError::Credentials => "remove the part before `@`: write https://www.example.org",
            LinkError::NoAddress => {
                "write mailto: followed by the address, e.g. mailto:contact@example.org"
            }
        }
    }
}

impl Link {
    pub fn new(text: impl Into<String>) -> Link {
        Link(text.into())
    }

    /// As written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parsed link, when it is one.
    pub fn parse(&self) -> Result<url::Url, LinkError> {
        let url =
            url::Url::parse(self.0.trim()).map_err(|e| LinkError::NotAnAddress(e.to_string()))?;
        match url.scheme() {
            "https" | "http" => {
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(LinkError::NoHost);
                }
                if !url.username().is_empty() || url.password().is_some() {
                    return Err(LinkError::Credentials);
                }
            }
            "mailto" => {
                if !url.path().contains('@') {
                    return Err(LinkError::NoAddress);
                }
            }
            other => return Err(LinkError::Scheme(other.to_string())),
        }
        Ok(url)
    }

    /// The address to put in a page's `href`: the parsed link, normalised
    /// (`None` when it is not a link).
    pub fn href(&self) -> Option<String> {
        self.parse().ok().map(String::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_pages_and_email_addresses_are_links() {
        for ok in [
            "https://www.ville-saint-etienne.fr",
            "http://asso.example.org/page?x=1#a",
            "  https://example.org/  ",
            "mailto:contact@example.org",
            "HTTPS://EXAMPLE.ORG",
        ] {
            assert!(Link::new(ok).href().is_some(), "{ok}");
        }
        assert_eq!(
            Link::new(" https://example.org").href().as_deref(),
            Some("https://example.org/")
        );
    }

    #[test]
    fn scripts_data_files_and_tricks_are_not() {
        for (bad, kind) in [
            ("javascript:alert(1)", "scheme"),
            ("JaVaScRiPt:alert(1)", "scheme"),
            ("java\tscript:alert(1)", "scheme"),
            ("java\nscript:alert(1)", "scheme"),
            (" javascript:alert(1)", "scheme"),
            ("vbscript:msgbox(1)", "scheme"),
            ("data:text/html,<script>alert(1)</script>", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("ftp://example.org", "scheme"),
            ("www.example.org", "address"),
            ("/relative/page", "address"),
            ("//evil.example", "address"),
            ("https://paypal.com@evil.example", "credentials"),
            ("https://", "address"),
            ("mailto:", "mail"),
        ] {
            let e = Link::new(bad).parse().unwrap_err();
            let matches = match kind {
                "scheme" => matches!(e, LinkError::Scheme(_)),
                "address" => matches!(e, LinkError::NotAnAddress(_) | LinkError::NoHost),
                "credentials" => e == LinkError::Credentials,
                _ => e == LinkError::NoAddress,
            };
            assert!(matches, "{bad:?} → {e:?}");
            assert_eq!(Link::new(bad).href(), None);
        }
    }
}
