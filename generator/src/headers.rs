//! The security headers every response of the site carries, the one
//! definition that `pave serve` sends and that the CloudFront response
//! headers policies of `deploy/template.yaml` repeat (a test compares them).
//!
//! The site has no script of its own, so the Content-Security-Policy
//! forbids every script (`script-src 'none'`), every inline style and every
//! resource from elsewhere: a sanitiser bypass, an SVG opened directly or a
//! hostile file could then still not run anything on the site's origin.
//! Only the preview of `pave serve` loads its live-reload script (its own
//! file, `script-src 'self'`). Forms post to the site itself (the API is
//! under `/api/`) and the pledge form is redirected to Stripe Checkout,
//! which `form-action` must allow. Pages cannot be framed, except the
//! embeddable widget (`/projets/<slug>/widget/`), which any site may frame.

/// Where a form may be submitted, redirects included: the site and Stripe Checkout.
pub const FORM_ACTION: &str = "form-action 'self' https://checkout.stripe.com";

/// The policy of every response but the widget's, without `frame-ancestors`.
const POLICY: &str = "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; \
font-src 'self'; connect-src 'self'; base-uri 'none'; object-src 'none'";

/// The live preview's: the same, with the live-reload script (its own file).
const PREVIEW_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
font-src 'self'; connect-src 'self'; base-uri 'none'; object-src 'none'";

/// The Content-Security-Policy of a response for `path` (the request's
/// path), with the live-reload script allowed when `live_reload`.
pub fn content_security_policy(path: &str, live_reload: bool) -> String {
    let policy = if live_reload { PREVIEW_POLICY } else { POLICY };
    let frames = if is_widget(path) {
        "frame-ancestors *"
    } else {
        "frame-ancestors 'none'"
    };
    format!("{policy}; {FORM_ACTION}; {frames}")
}

/// Whether a path is an embeddable widget (`/projets/<slug>/widget/…`, in
/// any language).
pub fn is_widget(path: &str) -> bool {
    let path = path.strip_prefix("/en").unwrap_or(path);
    let mut parts = path.trim_start_matches('/').split('/');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some("projets"), Some(slug), Some("widget")) if !slug.is_empty()
    )
}

/// The other security headers of every response (HSTS is sent only over
/// HTTPS, by the reverse proxy or CloudFront: see [`STRICT_TRANSPORT_SECURITY`]).
pub const OTHER_HEADERS: [(&str, &str); 2] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
];

/// HSTS, for the HTTPS front (CloudFront, Caddy): two years, subdomains.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";

/// How long a browser or a proxy may keep a response (production).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// The API: never stored.
    NoStore,
    /// A page, a feed, the catalog: stored, but asked again every time, so
    /// the figures are never stale after a payment.
    Revalidate,
    /// A file named with its fingerprint (`/style.css?v=…`): a year,
    /// never asked again (a new version has a new address).
    Immutable,
    /// Any other file (images, PDFs): a day.
    Day,
}

impl Caching {
    /// The rule for a request's path and query.
    pub fn of(path: &str, query: Option<&str>) -> Caching {
        if path == "/api" || path.starts_with("/api/") {
            return Caching::NoStore;
        }
        let name = path.rsplit('/').next().unwrap_or("");
        let page = name.is_empty()
            || !name.contains('.')
            || [".html", ".xml", ".json", ".txt"]
                .iter()
                .any(|ext| name.ends_with(ext));
        // A page is never kept, whatever its query (`/?v=1` too).
        if page {
            Caching::Revalidate
        } else if query.is_some_and(|q| q.split('&').any(|kv| kv.starts_with("v="))) {
            Caching::Immutable
        } else {
            Caching::Day
        }
    }

    /// Its `Cache-Control` value.
    pub fn header(self) -> &'static str {
        match self {
            Caching::NoStore => "no-store",
            Caching::Revalidate => "no-cache",
            Caching::Immutable => "public, max-age=31536000, immutable",
            Caching::Day => "public, max-age=86400",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_kind_of_file_is_cached_as_long_as_it_can_be() {
        use super::Caching::{self, *};
        for (path, query, want) in [
            ("/", None, Revalidate),
            ("/en/projets/cafe/", None, Revalidate),
            ("/projets/cafe/index.html", None, Revalidate),
            ("/atom.xml", None, Revalidate),
            ("/catalog.json", None, Revalidate),
            ("/style.css", Some("v=1a2b3c4d"), Immutable),
            ("/territoires/se/brand.css", Some("v=00ff00ff"), Immutable),
            ("/style.css", None, Day),
            ("/projets/cafe/cover.jpg", None, Day),
            ("/projets/cafe/cover.jpg", Some("v=786b03ea"), Immutable),
            ("/", Some("v=1"), Revalidate),
            ("/projets/cafe/", Some("v=1"), Revalidate),
            ("/api/pledges", None, NoStore),
            ("/api/pledges/p1/cancel", Some("v=1"), NoStore),
        ] {
            assert_eq!(Caching::of(path, query), want, "{path} {query:?}");
        }
        assert_eq!(Revalidate.header(), "no-cache");
    }

    use super::*;

    #[test]
    fn no_script_runs_and_only_the_widget_is_framed() {
        let page = content_security_policy("/projets/cafe-du-coin/", false);
        assert!(page.contains("script-src 'none'"), "{page}");
        assert!(page.contains("frame-ancestors 'none'"), "{page}");
        assert!(!page.contains("unsafe-inline"), "{page}");
        for widget in [
            "/projets/cafe-du-coin/widget/",
            "/en/projets/cafe-du-coin/widget/index.html",
        ] {
            assert!(
                content_security_policy(widget, false).ends_with("frame-ancestors *"),
                "{widget}"
            );
        }
        for not_widget in [
            "/projets/widget/",
            "/widget/",
            "/projets//widget/",
            "/api/pledges",
        ] {
            assert!(!is_widget(not_widget), "{not_widget}");
        }
        let preview = content_security_policy("/", true);
        assert!(preview.contains("script-src 'self'"), "{preview}");
    }
}
