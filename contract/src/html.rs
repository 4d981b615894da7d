//! The one escaper of text put into HTML and XML, by the site's templates
//! (tera's escape function), its feeds, the API's small pages, the
//! statements and the CloudFront request: `& < > " '` are written as
//! entities, so a value is safe in text and in attributes quoted either
//! way. (pulldown-cmark's escaper, which Zola uses, leaves `'` alone: a
//! theme quoting an attribute with `'` would be open to injection.)

/// `text` escaped for HTML text and attribute values (`'` as `&#39;`).
pub fn escape(text: &str) -> String {
    escape_with(text, "&#39;", false)
}

/// `text` escaped for XML 1.0 (Atom feeds, AWS request bodies): `'` as
/// `&apos;`, and the control characters XML cannot carry dropped.
pub fn escape_xml(text: &str) -> String {
    escape_with(text, "&apos;", true)
}

fn escape_with(text: &str, apostrophe: &str, xml: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apostrophe),
            c if xml && (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_character_is_an_entity() {
        assert_eq!(
            escape(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
        assert_eq!(
            escape("l’AMAP / https://x.org/a?b=1"),
            "l’AMAP / https://x.org/a?b=1"
        );
        assert_eq!(escape_xml("a'b\u{1}c\nd"), "a&apos;bc\nd");
    }
}
