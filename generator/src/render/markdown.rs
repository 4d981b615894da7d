//! Markdown to safe HTML. Project stories come from pull requests by anyone:
//! the HTML is sanitised with ammonia (no script, no event handler, no
//! `javascript:` URL, no iframe survives).

use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tag_attributes("img", ["loading"])
        .set_tag_attribute_value("img", "loading", "lazy");
    b
});

/// Renders Markdown to sanitised HTML. A `#` heading becomes `<h2>`: the
/// page's title is its only `<h1>`, and stories use `##` for their sections.
pub fn to_html(markdown: &str) -> String {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_SMART_PUNCTUATION;
    let parser = Parser::new_ext(markdown, options).map(|event| match event {
        pulldown_cmark::Event::Start(pulldown_cmark::Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => pulldown_cmark::Event::Start(pulldown_cmark::Tag::Heading {
            level: demote(level),
            id,
            classes,
            attrs,
        }),
        pulldown_cmark::Event::End(pulldown_cmark::TagEnd::Heading(level)) => {
            pulldown_cmark::Event::End(pulldown_cmark::TagEnd::Heading(demote(level)))
        }
        other => other,
    });
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, parser);
    SANITIZER.clean(&unsafe_html).to_string()
}

fn demote(level: pulldown_cmark::HeadingLevel) -> pulldown_cmark::HeadingLevel {
    match level {
        pulldown_cmark::HeadingLevel::H1 => pulldown_cmark::HeadingLevel::H2,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_active_survives() {
        let md = r#"Bonjour <script>alert(1)</script>
<img src="x.png" onerror="alert(2)">
[clic](javascript:alert(3))
<a href="JaVaScRiPt:alert(4)">x</a>
<iframe src="https://evil.example"></iframe>
<div onclick="alert(5)" style="color:red">ok</div>
<svg><script>alert(6)</script></svg>
"#;
        let html = to_html(md);
        let lower = html.to_lowercase();
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "<iframe",
            "onclick",
            "alert(6)",
            "style=",
        ] {
            assert!(!lower.contains(bad), "{bad} survived in {html}");
        }
        assert!(html.contains("ok"));
    }

    #[test]
    fn markdown_renders_with_one_h1_and_safe_links() {
        let html = to_html(
            "# Titre\n\n## Sous-titre\n\nUn [lien](https://example.org) et *emphase*.\n\n- a\n- b\n",
        );
        assert!(html.contains("<h2>Titre</h2>"), "{html}");
        assert!(html.contains("<h2>Sous-titre</h2>"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://example.org" rel="noopener noreferrer nofollow">lien</a>"#
            ),
            "{html}"
        );
        assert!(html.contains("<em>emphase</em>") && html.contains("<li>a</li>"));
    }
}
