//! SVG files of the content, checked for active content before they are
//! published: an SVG opened directly runs its scripts on the site's origin,
//! so a cover or a logo must be a picture and nothing else.
//!
//! The file is parsed with a real XML parser (roxmltree): what is checked is
//! the document a browser builds, not a pattern in the text. Refused:
//! - a document type declaration (its entities could expand into markup);
//! - `script`, `foreignObject` (HTML inside the picture), `iframe`,
//!   `embed`, `object`, `handler`, `listener`, in any namespace;
//! - an event handler attribute (`onload`, `onclick`, … any `on*`);
//! - an animation that rewrites a link or a handler (`<set attributeName="href">`);
//! - an external reference: an `href` that is not a fragment (`#id`) or an
//!   embedded raster image (`data:image/png;…`), a `url(…)` that is not a
//!   fragment, a stylesheet `@import`, an `xml-stylesheet` instruction;
//! - `javascript:` in any attribute.

/// One piece of active content, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

const ACTIVE_ELEMENTS: &[&str] = &[
    "script",
    "foreignobject",
    "iframe",
    "embed",
    "object",
    "handler",
    "listener",
];

const RASTER_DATA: &[&str] = &[
    "data:image/png;",
    "data:image/jpeg;",
    "data:image/gif;",
    "data:image/webp;",
];

/// Every piece of active content in an SVG file (empty: a plain picture).
pub fn check(bytes: &[u8]) -> Vec<Problem> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return vec![Problem {
                line: 1,
                column: 1,
                message: format!("the SVG is not UTF-8 text (byte {})", e.valid_up_to()),
            }];
        }
    };
    let doc = match parse(text) {
        Ok(doc) => doc,
        Err(problem) => return vec![problem],
    };
    let mut problems = Vec::new();
    let root = doc.root_element();
    if !root.tag_name().name().eq_ignore_ascii_case("svg") {
        let pos = doc.text_pos_at(root.range().start);
        problems.push(Problem {
            line: pos.row,
            column: pos.col,
            message: format!(
                "the file's root element is <{}>, not <svg>",
                root.tag_name().name()
            ),
        });
    }
    for node in doc.descendants() {
        let pos = doc.text_pos_at(node.range().start);
        for message in node_problems(node) {
            problems.push(Problem {
                line: pos.row,
                column: pos.col,
                message,
            });
        }
    }
    problems
}

/// The document, without a DTD (refused: its entities could expand into
/// markup).
fn parse(text: &str) -> Result<roxmltree::Document<'_>, Problem> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, options).map_err(|e| {
        let pos = e.pos();
        let message = match e {
            roxmltree::Error::DtdDetected => {
                "the SVG has a document type declaration (<!DOCTYPE>, <!ENTITY>), which could \
                 expand into markup"
                    .to_string()
            }
            other => format!("the SVG is not well-formed XML: {other}"),
        };
        Problem {
            line: pos.row,
            column: pos.col,
            message,
        }
    })
}

/// What is active in one node: an instruction, a `<style>` text, an
/// element or its attributes.
fn node_problems(node: roxmltree::Node<'_, '_>) -> Vec<String> {
    let mut found = Vec::new();
    if node.is_pi() {
        if let Some(pi) = node.pi()
            && pi.target.eq_ignore_ascii_case("xml-stylesheet")
        {
            found.push("an <?xml-stylesheet?> instruction loads an external stylesheet".into());
        }
        return found;
    }
    if node.is_text() {
        // The text of a <style> element is CSS.
        if node
            .parent_element()
            .is_some_and(|p| p.tag_name().name().eq_ignore_ascii_case("style"))
            && let Some(css) = node.text()
            && let Some(why) = css_problem(css)
        {
            found.push(format!("its <style> {why}"));
        }
        return found;
    }
    if !node.is_element() {
        return found;
    }
    let name = node.tag_name().name();
    if ACTIVE_ELEMENTS.contains(&name.to_ascii_lowercase().as_str()) {
        found.push(format!(
            "<{name}> is active content (script or embedded HTML)"
        ));
    }
    for attr in node.attributes() {
        found.extend(attribute_problem(name, attr.name(), attr.value()));
    }
    found
}

/// What is active in the attribute `attr_name="value"` of `<name>`, if
/// anything.
fn attribute_problem(name: &str, attr_name: &str, value: &str) -> Option<String> {
    let lower = attr_name.to_ascii_lowercase();
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    if lower.starts_with("on") {
        Some(format!(
            "<{name} {attr_name}=…> is an event handler (a script)"
        ))
    } else if compact.contains("javascript:") || compact.contains("vbscript:") {
        Some(format!("<{name} {attr_name}=…> holds a script address"))
    } else if lower == "href" || lower == "src" {
        let allowed = compact.starts_with('#')
            || (name.eq_ignore_ascii_case("image")
                && RASTER_DATA.iter().any(|p| compact.starts_with(p)));
        (!allowed).then(|| {
            format!(
                "<{name} {attr_name}=\"{}\"> is an external reference",
                shorten(value)
            )
        })
    } else if lower == "attributename" {
        let target = compact.rsplit(':').next().unwrap_or("");
        (target == "href" || target.starts_with("on"))
            .then(|| format!("<{name} attributeName=\"{value}\"> rewrites a link or a handler"))
    } else if lower == "base" {
        Some(format!("<{name} xml:base=…> changes where links point"))
    } else {
        css_problem(value).map(|why| format!("<{name} {attr_name}=…> {why}"))
    }
}

/// What is wrong with some CSS (a `style` element or any attribute that may
/// hold `url(…)`), if anything.
fn css_problem(css: &str) -> Option<&'static str> {
    let compact: String = css
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if compact.contains("@import") {
        return Some("imports an external stylesheet");
    }
    if compact.contains("expression(") || compact.contains("javascript:") {
        return Some("holds a script");
    }
    let mut rest = compact.as_str();
    while let Some(at) = rest.find("url(") {
        rest = &rest[at + 4..];
        let target = rest.trim_start_matches(['"', '\'']);
        let raster = RASTER_DATA.iter().any(|p| target.starts_with(p));
        if !target.starts_with('#') && !raster {
            return Some("refers to an external resource with url(…)");
        }
    }
    None
}

fn shorten(value: &str) -> String {
    let mut s: String = value.chars().take(60).collect();
    if value.chars().count() > 60 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(svg: &str) -> Vec<String> {
        check(svg.as_bytes())
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn a_plain_picture_passes() {
        let svg = r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">
  <title>Un café</title>
  <defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient>
  <style>.a { fill: url(#g); stroke: #000 }</style></defs>
  <rect class="a" width="10" height="10" fill="url(#g)"/>
  <use xlink:href="#g"/>
  <image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/>
</svg>"##;
        assert_eq!(problems(svg), Vec::<String>::new());
    }

    #[test]
    fn every_kind_of_active_content_is_refused_with_its_line() {
        let cases = [
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"##,
                "<script>",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><s:script xmlns:s="http://www.w3.org/2000/svg">alert(1)</s:script></svg>"##,
                "<script>",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><SCRIPT>alert(1)</SCRIPT></svg>"##,
                "<SCRIPT>",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"##,
                "event handler",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><rect ONCLICK="alert(1)"/></svg>"##,
                "event handler",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></body></foreignObject></svg>"##,
                "<foreignObject>",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>"##,
                "script address",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><a href=" java&#x09;script:alert(1)"><text>x</text></a></svg>"##,
                "script address",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/p.png"/></svg>"##,
                "external reference",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><use href="https://evil.example/x.svg#a"/></svg>"##,
                "external reference",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/svg+xml;base64,PHN2Zz4="/></svg>"##,
                "external reference",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/p)"/></svg>"##,
                "url(",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/a.css);</style></svg>"##,
                "imports",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><rect style="background: url('https://evil.example/p')"/></svg>"##,
                "url(",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><a href="#x"><set attributeName="href" to="javascript:alert(1)"/></a></svg>"##,
                "script address",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><a href="#x"><animate attributeName="xlink:href" values="https://evil.example"/></a></svg>"##,
                "rewrites a link",
            ),
            (
                r##"<?xml-stylesheet href="https://evil.example/a.css"?><svg xmlns="http://www.w3.org/2000/svg"/>"##,
                "xml-stylesheet",
            ),
            (
                r##"<!DOCTYPE svg [<!ENTITY x "<script>alert(1)</script>">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>"##,
                "document type",
            ),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg"><iframe src="https://evil.example"/></svg>"##,
                "<iframe>",
            ),
            (
                r##"<html><script>alert(1)</script></html>"##,
                "root element",
            ),
            ("<svg><rect></svg>", "not well-formed"),
            (
                r##"<svg xmlns="http://www.w3.org/2000/svg" xml:base="https://evil.example/"/>"##,
                "xml:base",
            ),
        ];
        for (svg, expected) in cases {
            let found = problems(svg);
            assert!(
                found.iter().any(|m| m.contains(expected)),
                "{svg}\n→ {found:?}, expected {expected:?}"
            );
        }
        let multi = "<svg xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n  <script>alert(1)</script>\n</svg>";
        let p = check(multi.as_bytes());
        assert_eq!((p[0].line, p[0].column), (3, 3));
    }
}
