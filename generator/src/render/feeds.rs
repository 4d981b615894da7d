//! Atom feeds (one for the platform, one per territory, in each language),
//! the sitemap and robots.txt.

use std::fmt::Write as _;

use jiff::civil::Date;

use super::format::Lang;
use super::output::File;
use super::{PageKey, Renderer, is_published, pages, urls};
use crate::model::{Project, Territory};

use pave_contract::html::escape_xml as xml_escape;

fn stamp(d: Date) -> String {
    format!("{d}T00:00:00Z")
}

struct Entry {
    id: String,
    title: String,
    url: String,
    summary: String,
    updated: Date,
}

fn entries<'a>(
    r: &Renderer,
    lang: Lang,
    projects: impl Iterator<Item = (&'a Territory, &'a Project)>,
) -> Vec<Entry> {
    let base = &r.site.config.base_url;
    let mut out = Vec::new();
    for (_, p) in projects.filter(|(_, p)| is_published(p)) {
        let url = format!("{base}{}", urls::project(lang, &p.doc.slug));
        out.push(Entry {
            id: url.clone(),
            title: p.doc.meta.title.clone(),
            url: url.clone(),
            summary: p.doc.meta.summary.clone(),
            updated: p.doc.meta.campaign.start,
        });
        for n in &p.news {
            out.push(Entry {
                id: format!("{url}#{}", n.slug),
                title: format!("{} — {}", p.doc.meta.title, n.meta.title),
                url: format!("{url}#{}", n.slug),
                summary: n.body.chars().take(280).collect(),
                updated: n.meta.date,
            });
        }
    }
    out.sort_by(|a, b| b.updated.cmp(&a.updated).then(a.id.cmp(&b.id)));
    out.truncate(50);
    out
}

fn feed(
    r: &Renderer,
    lang: Lang,
    path: &str,
    title: &str,
    page_url: &str,
    entries: &[Entry],
) -> File {
    let base = &r.site.config.base_url;
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(Date::constant(2026, 1, 1));
    let mut xml = String::new();
    let _ = write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n  <title>{}</title>\n  <id>{base}{path}</id>\n  <link rel=\"self\" href=\"{base}{path}\"/>\n  <link rel=\"alternate\" type=\"text/html\" href=\"{base}{page_url}\"/>\n  <updated>{}</updated>\n",
        lang.code(),
        xml_escape(title),
        stamp(updated)
    );
    for e in entries {
        let _ = write!(
            xml,
            "  <entry>\n    <title>{}</title>\n    <id>{}</id>\n    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n    <updated>{}</updated>\n    <author><name>{}</name></author>\n    <summary>{}</summary>\n  </entry>\n",
            xml_escape(&e.title),
            xml_escape(&e.id),
            xml_escape(&e.url),
            stamp(e.updated),
            xml_escape(&r.site.config.title),
            xml_escape(&e.summary)
        );
    }
    xml.push_str("</feed>\n");
    File {
        path: path.trim_start_matches('/').to_string(),
        bytes: xml.into_bytes(),
    }
}

/// The platform's feed and each territory's, in every language.
pub fn all(r: &Renderer) -> Vec<File> {
    let mut files = Vec::new();
    for &lang in &r.langs {
        let all = r
            .site
            .territories
            .iter()
            .flat_map(|t| t.projects.iter().map(move |p| (t, p)));
        files.push(feed(
            r,
            lang,
            &urls::feed(lang),
            &r.site.config.title,
            &urls::home(lang),
            &entries(r, lang, all),
        ));
        for t in &r.site.territories {
            let title = format!("{} — {}", r.site.config.title, t.doc.meta.name);
            let projects = t.projects.iter().map(move |p| (t, p));
            files.push(feed(
                r,
                lang,
                &urls::territory_feed(lang, &t.doc.slug),
                &title,
                &urls::territory(lang, &t.doc.slug),
                &entries(r, lang, projects),
            ));
        }
    }
    files
}

/// `sitemap.xml`: every page but the 404s and the widgets, with its language alternates.
pub fn sitemap(r: &Renderer, pages_list: &[(PageKey, Lang)]) -> File {
    let base = &r.site.config.base_url;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for (key, lang) in pages_list {
        if matches!(key, PageKey::NotFound | PageKey::Widget(_)) {
            continue;
        }
        let _ = writeln!(
            xml,
            "  <url>\n    <loc>{}</loc>",
            xml_escape(&format!("{base}{}", pages::url(key, *lang)))
        );
        for &alt in &r.langs {
            let _ = writeln!(
                xml,
                "    <xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                alt.code(),
                xml_escape(&format!("{base}{}", pages::url(key, alt)))
            );
        }
        xml.push_str("  </url>\n");
    }
    xml.push_str("</urlset>\n");
    File {
        path: "sitemap.xml".into(),
        bytes: xml.into_bytes(),
    }
}

pub fn robots(r: &Renderer) -> File {
    File {
        path: "robots.txt".into(),
        bytes: format!(
            "User-agent: *\nDisallow: /projets/*/widget/\nDisallow: /en/projets/*/widget/\nSitemap: {}/sitemap.xml\n",
            r.site.config.base_url
        )
        .into_bytes(),
    }
}
