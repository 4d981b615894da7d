//! The site's addresses. French pages live at the root, English ones under `/en`.
//! Path segments stay the same in both languages.

use pave_locale::Lang;

pub fn prefix(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "",
        Lang::En => "/en",
    }
}

pub fn home(lang: Lang) -> String {
    format!("{}/", prefix(lang))
}

pub fn territory(lang: Lang, slug: &str) -> String {
    format!("{}/territoires/{slug}/", prefix(lang))
}

pub fn project(lang: Lang, slug: &str) -> String {
    format!("{}/projets/{slug}/", prefix(lang))
}

pub fn widget(lang: Lang, slug: &str) -> String {
    format!("{}/projets/{slug}/widget/", prefix(lang))
}

pub fn call(lang: Lang, territory: &str, slug: &str) -> String {
    format!("{}/territoires/{territory}/appels/{slug}/", prefix(lang))
}

pub fn theme(lang: Lang, slug: &str) -> String {
    format!("{}/themes/{slug}/", prefix(lang))
}

/// Page `page` (from 1) of a theme's projects: the theme's address, then `page/2/`…
pub fn theme_page(lang: Lang, slug: &str, page: usize) -> String {
    if page <= 1 {
        theme(lang, slug)
    } else {
        format!("{}page/{page}/", theme(lang, slug))
    }
}

pub fn themes(lang: Lang) -> String {
    format!("{}/themes/", prefix(lang))
}

pub fn sponsor(lang: Lang, slug: &str) -> String {
    format!("{}/partenaires/{slug}/", prefix(lang))
}

pub fn sponsors(lang: Lang) -> String {
    format!("{}/partenaires/", prefix(lang))
}

pub fn stats(lang: Lang) -> String {
    format!("{}/statistiques/", prefix(lang))
}

pub fn not_found(lang: Lang) -> String {
    format!("{}/404.html", prefix(lang))
}

pub fn feed(lang: Lang) -> String {
    format!("{}/atom.xml", prefix(lang))
}

pub fn territory_feed(lang: Lang, slug: &str) -> String {
    format!("{}/territoires/{slug}/atom.xml", prefix(lang))
}

/// Files next to a project (its cover), shared by both languages.
pub fn project_asset(slug: &str, file: &str) -> String {
    format!("/projets/{slug}/{file}")
}

pub fn territory_asset(slug: &str, file: &str) -> String {
    format!("/territoires/{slug}/{file}")
}

pub fn sponsor_asset(file: &str) -> String {
    format!("/partenaires/{file}")
}

/// The output file of a page URL: `/a/b/` → `a/b/index.html`.
pub fn file_of(url: &str) -> String {
    let trimmed = url.trim_start_matches('/');
    if trimmed.is_empty() {
        "index.html".to_string()
    } else if trimmed.ends_with('/') {
        format!("{trimmed}index.html")
    } else {
        trimmed.to_string()
    }
}
