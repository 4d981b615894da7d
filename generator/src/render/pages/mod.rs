//! The pages of the site: their keys, addresses, which figures each shows,
//! and what every page shares (the common context, the menu, the brand,
//! the template call). Each page kind renders in its own module.

mod call;
mod home;
mod project;
mod sponsor;
mod stats;
mod territory;
mod theme;

use call::{CallCard, call_card};
pub use sponsor::POOL_PROJECTS_SHOWN;
use territory::{TerritoryCard, territory_card};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::Serialize;

use pave_contract::frame::Frames;

use super::catalog::{pool_id, pools_for};
use super::format::{self, Lang};
use super::i18n::Strings;
use super::markdown;
use super::output::File;
use super::theme::{MENU_TEMPLATE, error_chain};
use super::urls;
use super::view::{self, Card, Image, Link, Totals};
use super::{RenderError, Renderer, is_published};
use crate::model::*;

/// A page of the site (in some language).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageKey {
    Home,
    Territory(String),
    Project(String),
    Widget(String),
    Call {
        territory: String,
        call: String,
    },
    /// A theme's projects, `page` from 1 ([`THEME_PAGE_SIZE`] cards a page).
    Theme {
        theme: String,
        page: usize,
    },
    Themes,
    Sponsor(String),
    Sponsors,
    Stats,
    NotFound,
}

/// How many project cards a theme page shows; more go to its next pages.
pub const THEME_PAGE_SIZE: usize = 24;

/// Whose figures a page shows.
pub enum Figures {
    All,
    None,
    Projects(Vec<String>),
}

pub fn all_keys(site: &Site) -> Vec<PageKey> {
    let mut keys = vec![
        PageKey::Home,
        PageKey::Themes,
        PageKey::Sponsors,
        PageKey::Stats,
        PageKey::NotFound,
    ];
    for t in &site.territories {
        keys.push(PageKey::Territory(t.doc.slug.clone()));
        for c in &t.calls {
            keys.push(PageKey::Call {
                territory: t.doc.slug.clone(),
                call: c.slug.clone(),
            });
        }
        for p in t.projects.iter().filter(|p| is_published(p)) {
            keys.push(PageKey::Project(p.doc.slug.clone()));
            keys.push(PageKey::Widget(p.doc.slug.clone()));
        }
    }
    for th in &site.themes {
        let count = site
            .projects()
            .filter(|p| is_published(p) && p.doc.meta.themes.contains(&th.slug))
            .count();
        for page in 1..=count.div_ceil(THEME_PAGE_SIZE).max(1) {
            keys.push(PageKey::Theme {
                theme: th.slug.clone(),
                page,
            });
        }
    }
    keys.extend(
        site.sponsors
            .iter()
            .map(|s| PageKey::Sponsor(s.slug.clone())),
    );
    keys
}

pub fn url(key: &PageKey, lang: Lang) -> String {
    match key {
        PageKey::Home => urls::home(lang),
        PageKey::Territory(t) => urls::territory(lang, t),
        PageKey::Project(p) => urls::project(lang, p),
        PageKey::Widget(p) => urls::widget(lang, p),
        PageKey::Call { territory, call } => urls::call(lang, territory, call),
        PageKey::Theme { theme, page } => urls::theme_page(lang, theme, *page),
        PageKey::Themes => urls::themes(lang),
        PageKey::Sponsor(s) => urls::sponsor(lang, s),
        PageKey::Sponsors => urls::sponsors(lang),
        PageKey::Stats => urls::stats(lang),
        PageKey::NotFound => urls::not_found(lang),
    }
}

/// The projects whose figures `key` shows: the dependency the incremental
/// re-render of progress figures follows.
pub fn figures_of(r: &Renderer, key: &PageKey) -> Figures {
    let site = r.site;
    let published = || site.projects().filter(|p| is_published(p));
    match key {
        PageKey::Home | PageKey::Stats | PageKey::Sponsors => Figures::All,
        PageKey::Themes | PageKey::NotFound => Figures::None,
        PageKey::Project(p) | PageKey::Widget(p) => Figures::Projects(vec![p.clone()]),
        PageKey::Territory(t) => Figures::Projects(
            published()
                .filter(|p| &p.territory == t)
                .map(|p| p.doc.slug.clone())
                .collect(),
        ),
        PageKey::Call { territory, call } => Figures::Projects(
            published()
                .filter(|p| &p.territory == territory && p.doc.meta.call.as_ref() == Some(call))
                .map(|p| p.doc.slug.clone())
                .collect(),
        ),
        PageKey::Theme { theme, page } => Figures::Projects(
            theme_page_cards(r, theme, r.langs[0], *page)
                .into_iter()
                .map(|c| c.slug.clone())
                .collect(),
        ),
        PageKey::Sponsor(s) => Figures::Projects(
            site.territories
                .iter()
                .flat_map(|t| t.projects.iter().map(move |p| (t, p)))
                .filter(|(t, p)| {
                    is_published(p) && pools_for(site, t, p).iter().any(|(_, sp, _)| &sp.slug == s)
                })
                .map(|(_, p)| p.doc.slug.clone())
                .collect(),
        ),
    }
}

/// The pages that show the figures of any of `projects`: [`figures_of`] seen
/// from the projects' side, without going through every page (what the
/// incremental re-render follows; checked against `figures_of` in tests).
pub fn showing(r: &Renderer, projects: &BTreeSet<String>) -> BTreeSet<PageKey> {
    let site = r.site;
    let mut keys = BTreeSet::new();
    for t in &site.territories {
        for p in t
            .projects
            .iter()
            .filter(|p| is_published(p) && projects.contains(&p.doc.slug))
        {
            let slug = &p.doc.slug;
            keys.extend([
                PageKey::Home,
                PageKey::Stats,
                PageKey::Sponsors,
                PageKey::Project(slug.clone()),
                PageKey::Widget(slug.clone()),
                PageKey::Territory(t.doc.slug.clone()),
            ]);
            if let Some(call) = &p.doc.meta.call
                && t.calls.iter().any(|c| &c.slug == call)
            {
                keys.insert(PageKey::Call {
                    territory: t.doc.slug.clone(),
                    call: call.clone(),
                });
            }
            for th in &p.doc.meta.themes {
                if site.themes.iter().any(|x| &x.slug == th) {
                    let position = theme_cards(r, th, r.langs[0])
                        .iter()
                        .position(|c| &c.slug == slug)
                        .unwrap_or(0);
                    keys.insert(PageKey::Theme {
                        theme: th.clone(),
                        page: position / THEME_PAGE_SIZE + 1,
                    });
                }
            }
            for (_, s, _) in pools_for(site, t, p) {
                keys.insert(PageKey::Sponsor(s.slug.clone()));
            }
        }
    }
    keys
}

/// Links between the pages of a list.
#[derive(Serialize)]
struct Pager {
    /// "Page 2 sur 63".
    position: String,
    previous: Option<String>,
    next: Option<String>,
}

/// What every page shares: the site, the language, the page's own metadata.
#[derive(Serialize)]
struct Common<'a> {
    lang: &'static str,
    /// The language of the content (French), marked on content when the page is in another.
    content_lang: &'static str,
    site_title: &'a str,
    tagline: &'a str,
    base_url: &'a str,
    api_url: &'a str,
    /// Only when a template looks strings up while rendering (the theme
    /// writes the others into its templates).
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<&'a Strings>,
    nav: Nav,
    /// The menu, rendered once ([`super::theme::MENU_TEMPLATE`]).
    menu: &'a str,
    title: String,
    description: String,
    canonical: String,
    alternates: Vec<Alternate>,
    og_image: Option<String>,
    og_type: &'static str,
    brand: Option<Brand>,
    css: String,
    live_reload: bool,
    test_payments: bool,
    feed: String,
}

#[derive(Serialize)]
struct Nav {
    home: String,
    themes: String,
    sponsors: String,
    stats: String,
    /// In the menu's template, or on every page when the theme has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    territories: Vec<Link>,
}

#[derive(Serialize)]
struct Alternate {
    lang: &'static str,
    label: &'static str,
    url: String,
    current: bool,
}

#[derive(Serialize, Clone)]
struct Brand {
    /// The territory's colours, as a stylesheet of its own (never inline:
    /// the Content-Security-Policy allows only the site's own stylesheets).
    css: String,
}

fn common<'a>(
    r: &'a Renderer,
    key: &PageKey,
    lang: Lang,
    title: String,
    description: String,
) -> Common<'a> {
    let site = &r.site.config;
    let path = url(key, lang);
    Common {
        lang: lang.code(),
        content_lang: "fr",
        site_title: &site.title,
        tagline: &site.tagline,
        base_url: &site.base_url,
        api_url: &site.api_url,
        t: r.theme.looks_up_strings().then(|| r.theme.strings(lang)),
        nav: nav(r, lang, !r.theme.has_menu()),
        menu: r.menu(lang),
        canonical: format!("{}{}", site.base_url, path),
        alternates: r
            .langs
            .iter()
            .map(|&l| Alternate {
                lang: l.code(),
                label: match l {
                    Lang::Fr => "Français",
                    Lang::En => "English",
                },
                url: url(key, l),
                current: l == lang,
            })
            .collect(),
        title,
        description,
        og_image: None,
        og_type: "website",
        brand: None,
        css: format!("/style.css?v={}", r.theme.css_version),
        live_reload: r.options.live_reload,
        test_payments: r.options.test_payments,
        feed: urls::feed(lang),
    }
}

fn nav(r: &Renderer, lang: Lang, with_territories: bool) -> Nav {
    Nav {
        home: urls::home(lang),
        themes: urls::themes(lang),
        sponsors: urls::sponsors(lang),
        stats: urls::stats(lang),
        territories: if with_territories {
            r.site
                .territories
                .iter()
                .map(|t| Link {
                    url: urls::territory(lang, &t.doc.slug),
                    label: t.doc.meta.name.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// The site's menu in `lang` ([`super::theme::MENU_TEMPLATE`]; empty when
/// the theme has none), with the data of the home page plus the territories.
pub fn render_menu(r: &Renderer, lang: Lang) -> Result<String, RenderError> {
    if !r.theme.has_menu() {
        return Ok(String::new());
    }
    let key = PageKey::Home;
    let mut site = common(
        r,
        &key,
        lang,
        r.site.config.title.clone(),
        r.site.config.tagline.clone(),
    );
    site.nav = nav(r, lang, true);
    let file = render_template(r, MENU_TEMPLATE, &key, lang, site, ())?;
    Ok(String::from_utf8(file.bytes).unwrap_or_default())
}

/// The common data of a page whose title and description are the
/// translations `<prefix>.title` and `<prefix>.description`.
fn translated_common<'a>(r: &'a Renderer, key: &PageKey, lang: Lang, prefix: &str) -> Common<'a> {
    let t = r.theme.strings(lang);
    common(
        r,
        key,
        lang,
        t.get(&format!("{prefix}.title")).to_string(),
        t.get(&format!("{prefix}.description")).to_string(),
    )
}

fn brand_of(t: &Territory) -> Brand {
    let file = brand_css(t);
    Brand {
        css: format!(
            "/{}?v={:08x}",
            file.path,
            super::theme::fnv1a(&file.bytes) as u32
        ),
    }
}

/// A territory's colours as a stylesheet (`territoires/<slug>/brand.css`).
/// Only colours written `#` and six hexadecimal digits are kept (`pave
/// check` refuses the others).
pub fn brand_css(t: &Territory) -> File {
    let b = &t.doc.meta.branding;
    let colour = |c: &str| {
        (c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| c.to_string())
    };
    let mut css = String::from(":root{");
    if let Some(primary) = colour(&b.primary) {
        css.push_str(&format!("--brand:{primary};"));
    }
    if let Some(accent) = b.accent.as_deref().and_then(colour) {
        css.push_str(&format!("--accent:{accent};"));
    }
    css.push_str("}\n");
    File {
        path: urls::territory_asset(&t.doc.slug, "brand.css")
            .trim_start_matches('/')
            .to_string(),
        bytes: css.into_bytes(),
    }
}

#[derive(Serialize)]
struct Ctx<'a, P: Serialize> {
    site: Common<'a>,
    page: P,
}

fn render_template<P: Serialize>(
    r: &Renderer,
    template: &str,
    key: &PageKey,
    lang: Lang,
    site: Common,
    page: P,
) -> Result<File, RenderError> {
    let ctx =
        tera::Context::from_serialize(Ctx { site, page }).map_err(|e| RenderError::Template {
            template: template.into(),
            page: url(key, lang),
            message: error_chain(&e),
        })?;
    let html = r
        .theme
        .tera(lang)
        .render(template, &ctx)
        .map_err(|e| RenderError::Template {
            template: template.into(),
            page: url(key, lang),
            message: error_chain(&e),
        })?;
    Ok(File {
        path: urls::file_of(&url(key, lang)),
        bytes: html.into_bytes(),
    })
}

fn cards<'r>(
    r: &'r Renderer,
    lang: Lang,
    projects: impl Iterator<Item = &'r Project>,
) -> Vec<&'r Card> {
    projects.filter_map(|p| r.card(&p.doc.slug, lang)).collect()
}

/// The totals of some published projects.
fn totals_of<'r>(lang: Lang, entries: impl Iterator<Item = &'r super::Entry>) -> Totals {
    view::totals(
        entries.filter_map(|e| e.card(lang).map(|c| (c, &e.figures))),
        lang,
    )
}

/// Live first (ending soonest first), then the rest; ties by title.
pub(super) fn live_first(a: &Card, b: &Card) -> std::cmp::Ordering {
    b.open
        .cmp(&a.open)
        .then(a.end_iso.cmp(&b.end_iso))
        .then(a.title.cmp(&b.title))
}

fn sort_live_first(cards: &mut [&Card]) {
    cards.sort_by(|a, b| live_first(a, b));
}

/// What the languages of one page share: its subject's Markdown, rendered
/// by the first language that needs it (the stories are written once, in
/// French, and shown as such on every language's page).
#[derive(Default)]
pub struct Shared {
    body: std::sync::OnceLock<String>,
    news: std::sync::OnceLock<Vec<String>>,
}

impl Shared {
    fn body(&self, markdown: &str) -> String {
        self.body
            .get_or_init(|| markdown::to_html(markdown))
            .clone()
    }
}

/// Renders one page in one language.
pub fn render(r: &Renderer, key: &PageKey, lang: Lang) -> Result<File, RenderError> {
    render_shared(r, key, lang, &Shared::default())
}

/// Renders one page in one language, reusing what `shared` holds from its
/// other languages.
pub fn render_shared(
    r: &Renderer,
    key: &PageKey,
    lang: Lang,
    shared: &Shared,
) -> Result<File, RenderError> {
    if let Some(e) = r.menu_error(lang) {
        return Err(e);
    }
    match key {
        PageKey::Home => home::render(r, key, lang),
        PageKey::Territory(slug) => territory::render(r, key, lang, shared, slug),
        PageKey::Project(slug) | PageKey::Widget(slug) => {
            project::render(r, key, lang, shared, slug)
        }
        PageKey::Call { territory, call } => call::render(r, key, lang, shared, territory, call),
        PageKey::Theme { theme, page } => theme::render(r, key, lang, theme, *page),
        PageKey::Themes => theme::render_index(r, key, lang),
        PageKey::Sponsor(slug) => sponsor::render(r, key, lang, shared, slug),
        PageKey::Sponsors => sponsor::render_index(r, key, lang),
        PageKey::Stats => stats::render(r, key, lang),
        PageKey::NotFound => {
            let t = r.theme.strings(lang);
            let common = common(
                r,
                key,
                lang,
                t.get("not_found.title").to_string(),
                t.get("not_found.text").to_string(),
            );
            render_template(r, "404.html", key, lang, common, ())
        }
    }
}

/// The site's layout around the API's pages, in every language
/// (`frames.json`, [`pave_contract::frame`]): the theme's frame template
/// with the page's title, address and language links as slots. A language
/// whose layout lost its main slot is left out (the API then writes a
/// plain page).
pub fn frames(r: &Renderer) -> Result<Frames, RenderError> {
    use pave_contract::frame;
    let mut frames = std::collections::BTreeMap::new();
    if !r.theme.has_frame() {
        return Ok(Frames::new(frames));
    }
    for &lang in &r.langs {
        if let Some(e) = r.menu_error(lang) {
            return Err(e);
        }
        let key = PageKey::NotFound;
        let mut site = common(
            r,
            &key,
            lang,
            frame::TITLE.to_string(),
            r.site.config.tagline.clone(),
        );
        // The API gives each address whole.
        site.base_url = "";
        site.canonical = frame::URL.to_string();
        for alternate in &mut site.alternates {
            alternate.url = Lang::from_code(alternate.lang)
                .map(frame::url_in)
                .unwrap_or_default();
        }
        let file = render_template(r, super::theme::FRAME_TEMPLATE, &key, lang, site, ())?;
        let mut html = String::from_utf8(file.bytes).unwrap_or_default();
        if let Some(at) = html.find("</head>") {
            html.insert_str(at, frame::HEAD);
        }
        if html.contains(frame::MAIN) {
            frames.insert(lang.code().to_string(), html);
        }
    }
    Ok(Frames::new(frames))
}

/// A page whose subject vanished between listing and rendering: never
/// happens within one build; an empty file keeps the build going.
fn missing(key: &PageKey, lang: Lang) -> File {
    File {
        path: urls::file_of(&url(key, lang)),
        bytes: Vec::new(),
    }
}

/// The fingerprint of each content file the site publishes, by its URL
/// (`Site::asset_versions`): the first 8 hex digits of its FNV-1a, like the
/// stylesheet's. A file that cannot be read has none (`pave check` said why).
pub fn asset_versions(site: &Site) -> std::collections::HashMap<String, String> {
    use rayon::prelude::*;
    asset_sources(site)
        .into_par_iter()
        .filter_map(|(path, source)| {
            let bytes = crate::content::assets::read_inside(&site.root, &source).ok()?;
            Some((
                format!("/{path}"),
                format!("{:08x}", super::theme::fnv1a(&bytes) as u32),
            ))
        })
        .collect()
}

/// The content's files copied to the site (territory logos, project covers
/// and images, sponsor logos): their path in the site, and their source
/// relative to the content folder (read with `assets::read_inside`).
pub fn asset_sources(site: &Site) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let mut copy = |url: String, source: PathBuf| {
        files.push((url.trim_start_matches('/').to_string(), source));
    };
    for tr in &site.territories {
        let dir = Path::new("territories").join(&tr.doc.slug);
        for a in &tr.assets {
            copy(
                urls::territory_asset(&tr.doc.slug, &a.to_string_lossy()),
                dir.join(a),
            );
        }
        for p in tr.projects.iter().filter(|p| is_published(p)) {
            let dir = dir.join("projects").join(&p.doc.slug);
            for a in &p.assets {
                copy(
                    urls::project_asset(&p.doc.slug, &a.to_string_lossy()),
                    dir.join(a),
                );
            }
        }
    }
    for s in &site.sponsors {
        // Only a logo that names one of the sponsors' files (`pave check`
        // refuses any other).
        if let Some(logo) = s.meta.logo.as_deref()
            && let Ok(name) = crate::content::assets::reference(logo)
            && site.sponsor_assets.contains(&name)
        {
            copy(urls::sponsor_asset(logo), Path::new("sponsors").join(name));
        }
    }
    files
}

/// A theme's published projects, live first (the order of its pages,
/// prepared once: it does not depend on figures).
fn theme_cards<'r>(r: &'r Renderer, theme: &str, lang: Lang) -> Vec<&'r Card> {
    r.theme_entries(theme)
        .filter_map(|e| e.card(lang))
        .collect()
}

/// The cards on one page of a theme (`page` from 1).
fn theme_page_cards<'r>(r: &'r Renderer, theme: &str, lang: Lang, page: usize) -> Vec<&'r Card> {
    theme_cards(r, theme, lang)
        .into_iter()
        .skip(page.saturating_sub(1) * THEME_PAGE_SIZE)
        .take(THEME_PAGE_SIZE)
        .collect()
}
