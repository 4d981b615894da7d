//! Links that share a page by email and on social networks: plain links,
//! no script, no tracking. The project page and the thank-you page give
//! the same ones.

/// Where a share link goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Email,
    Facebook,
    LinkedIn,
    Bluesky,
}

impl Network {
    /// The network's own name (an email's label is the page's language's).
    pub fn name(self) -> &'static str {
        match self {
            Network::Email => "email",
            Network::Facebook => "Facebook",
            Network::LinkedIn => "LinkedIn",
            Network::Bluesky => "Bluesky",
        }
    }
}

/// The share links of the page at `url` (absolute), titled `title`, with
/// `summary` in the shared text.
pub fn links(title: &str, summary: &str, url: &str) -> Vec<(Network, String)> {
    let text = format!("{title} — {summary}");
    vec![
        (
            Network::Email,
            format!(
                "mailto:?subject={}&body={}",
                encode(title),
                encode(&format!("{text}\n{url}"))
            ),
        ),
        (
            Network::Facebook,
            format!(
                "https://www.facebook.com/sharer/sharer.php?u={}",
                encode(url)
            ),
        ),
        (
            Network::LinkedIn,
            format!(
                "https://www.linkedin.com/sharing/share-offsite/?url={}",
                encode(url)
            ),
        ),
        (
            Network::Bluesky,
            format!(
                "https://bsky.app/intent/compose?text={}",
                encode(&format!("{text} {url}"))
            ),
        ),
    ]
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_address_and_text_are_encoded() {
        let links = links("Café & co", "Un lieu", "https://pave.example/projets/cafe/");
        assert_eq!(
            links[0].1,
            "mailto:?subject=Caf%C3%A9%20%26%20co&body=Caf%C3%A9%20%26%20co%20%E2%80%94%20Un%20lieu%0Ahttps%3A%2F%2Fpave.example%2Fprojets%2Fcafe%2F"
        );
        assert_eq!(
            links[1].1,
            "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fpave.example%2Fprojets%2Fcafe%2F"
        );
        assert_eq!(links.len(), 4);
    }
}
