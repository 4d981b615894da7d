//! The pages of the site: their keys, addresses, which figures each shows,
//! and the data each template receives.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::Serialize;

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
    let t = r.theme.strings(lang);
    let site = r.site;
    let published = || site.projects().filter(|p| is_published(p));
    match key {
        PageKey::Home => {
            #[derive(Serialize)]
            struct Home<'a> {
                featured: Vec<&'a Card>,
                featured_calls: Vec<CallCard>,
                latest: Vec<&'a Card>,
                totals: Totals,
                territories: Vec<TerritoryCard>,
            }
            let live = || {
                r.published()
                    .filter(|(p, _)| p.doc.meta.status == Status::Live)
            };
            let mut featured: Vec<&Card> = live()
                .filter(|(p, _)| p.doc.meta.featured)
                .filter_map(|(_, e)| e.card(lang))
                .collect();
            sort_live_first(&mut featured);
            let mut latest: Vec<&Card> = live().filter_map(|(_, e)| e.card(lang)).collect();
            let newest_first =
                |a: &&Card, b: &&Card| b.start_iso.cmp(&a.start_iso).then(a.title.cmp(&b.title));
            if latest.len() > 12 {
                latest.select_nth_unstable_by(11, newest_first);
                latest.truncate(12);
            }
            latest.sort_by(newest_first);
            let featured_calls = site
                .territories
                .iter()
                .flat_map(|t| t.calls.iter().map(move |c| (t, c)))
                .filter(|(_, c)| c.meta.featured && c.meta.deadline >= r.options.today)
                .map(|(tr, c)| call_card(r, tr, c, lang))
                .collect();
            let territories = site
                .territories
                .iter()
                .map(|tr| territory_card(r, tr, lang))
                .collect();
            let page = Home {
                featured,
                featured_calls,
                latest,
                totals: totals_of(lang, r.published().map(|(_, e)| e)),
                territories,
            };
            let common = common(
                r,
                key,
                lang,
                site.config.title.clone(),
                site.config.tagline.clone(),
            );
            render_template(r, "home.html", key, lang, common, page)
        }
        PageKey::Territory(slug) => {
            let Some(tr) = site.territories.iter().find(|tr| &tr.doc.slug == slug) else {
                return Ok(missing(key, lang));
            };
            #[derive(Serialize)]
            struct TerritoryPage<'a> {
                name: &'a str,
                region: &'a str,
                body: String,
                logo: Option<Image>,
                live: Vec<&'a Card>,
                funded: Vec<&'a Card>,
                ended: Vec<&'a Card>,
                calls: Vec<CallCard>,
                sponsors: Vec<Link>,
                totals: Totals,
                feed: String,
            }
            let all: Vec<&Card> = r
                .published_in(tr)
                .filter_map(|(_, e)| e.card(lang))
                .collect();
            let mut live: Vec<&Card> = all.iter().copied().filter(|c| !c.closed).collect();
            sort_live_first(&mut live);
            let funded = all
                .iter()
                .copied()
                .filter(|c| c.outcome == Some("funded"))
                .collect();
            let ended = all
                .iter()
                .copied()
                .filter(|c| c.closed && c.outcome != Some("funded"))
                .collect();
            let mut sponsors: Vec<&Sponsor> = tr
                .projects
                .iter()
                .flat_map(|p| pools_for(site, tr, p).into_iter().map(|(_, s, _)| s))
                .collect();
            sponsors.sort_by(|a, b| a.slug.cmp(&b.slug));
            sponsors.dedup_by(|a, b| a.slug == b.slug);
            let m = &tr.doc.meta;
            let page = TerritoryPage {
                name: &m.name,
                region: &m.region,
                body: shared.body(&tr.doc.body),
                logo: m.branding.logo.as_ref().map(|l| Image {
                    url: urls::territory_asset(slug, l),
                    alt: t.fill("territory.logo_alt", &[("name", &m.name)]),
                }),
                live,
                funded,
                ended,
                calls: tr.calls.iter().map(|c| call_card(r, tr, c, lang)).collect(),
                sponsors: sponsors
                    .iter()
                    .map(|s| Link {
                        url: urls::sponsor(lang, &s.slug),
                        label: s.meta.name.clone(),
                    })
                    .collect(),
                totals: totals_of(lang, r.published_in(tr).map(|(_, e)| e)),
                feed: urls::territory_feed(lang, slug),
            };
            let mut common = common(
                r,
                key,
                lang,
                m.name.clone(),
                t.fill("territory.description", &[("name", &m.name)]),
            );
            common.brand = Some(brand_of(tr));
            common.feed = urls::territory_feed(lang, slug);
            render_template(r, "territory.html", key, lang, common, page)
        }
        PageKey::Project(slug) | PageKey::Widget(slug) => {
            let Some((tr, p, entry)) = r.project(slug) else {
                return Ok(missing(key, lang));
            };
            let Some(card) = entry.card(lang) else {
                return Ok(missing(key, lang));
            };
            let mut common = common(
                r,
                key,
                lang,
                p.doc.meta.title.clone(),
                p.doc.meta.summary.clone(),
            );
            common.brand = Some(brand_of(tr));
            common.og_type = "article";
            common.og_image = card
                .cover
                .as_ref()
                .map(|c| format!("{}{}", site.config.base_url, c.url));
            if matches!(key, PageKey::Widget(_)) {
                return render_template(r, "widget.html", key, lang, common, card);
            }
            let page = project_page(r, tr, p, card, lang, shared);
            render_template(r, "project.html", key, lang, common, page)
        }
        PageKey::Call { territory, call } => {
            let Some(tr) = site.territories.iter().find(|tr| &tr.doc.slug == territory) else {
                return Ok(missing(key, lang));
            };
            let Some(c) = tr.calls.iter().find(|c| &c.slug == call) else {
                return Ok(missing(key, lang));
            };
            #[derive(Serialize)]
            struct CallPage<'a> {
                call: CallCard,
                body: String,
                projects: Vec<&'a Card>,
            }
            let mut projects = cards(
                r,
                lang,
                tr.projects
                    .iter()
                    .filter(|p| is_published(p) && p.doc.meta.call.as_ref() == Some(call)),
            );
            sort_live_first(&mut projects);
            let page = CallPage {
                call: call_card(r, tr, c, lang),
                body: shared.body(&c.body),
                projects,
            };
            let mut common = common(r, key, lang, c.meta.title.clone(), c.meta.summary.clone());
            common.brand = Some(brand_of(tr));
            render_template(r, "call.html", key, lang, common, page)
        }
        PageKey::Theme { theme: slug, page } => {
            let Some(th) = site.themes.iter().find(|th| &th.slug == slug) else {
                return Ok(missing(key, lang));
            };
            #[derive(Serialize)]
            struct ThemePage<'a> {
                name: &'a str,
                description: Option<&'a str>,
                projects: Vec<&'a Card>,
                pager: Option<Pager>,
            }
            let all = theme_cards(r, slug, lang);
            let pages = all.len().div_ceil(THEME_PAGE_SIZE).max(1);
            let page_number = (*page).clamp(1, pages);
            let projects = all
                .into_iter()
                .skip((page_number - 1) * THEME_PAGE_SIZE)
                .take(THEME_PAGE_SIZE)
                .collect();
            let name = th.name.get(lang.code());
            let pager = (pages > 1).then(|| Pager {
                position: t.fill(
                    "pager.position",
                    &[
                        ("page", &page_number.to_string()),
                        ("pages", &pages.to_string()),
                    ],
                ),
                previous: (page_number > 1).then(|| urls::theme_page(lang, slug, page_number - 1)),
                next: (page_number < pages).then(|| urls::theme_page(lang, slug, page_number + 1)),
            });
            let page = ThemePage {
                name,
                description: th.description.as_deref(),
                projects,
                pager,
            };
            let description = th
                .description
                .clone()
                .unwrap_or_else(|| t.fill("theme.description", &[("name", name)]));
            let title = if page_number > 1 {
                t.fill(
                    "pager.title",
                    &[("title", name), ("page", &page_number.to_string())],
                )
            } else {
                name.to_string()
            };
            let common = common(r, key, lang, title, description);
            render_template(r, "theme.html", key, lang, common, page)
        }
        PageKey::Themes => {
            #[derive(Serialize)]
            struct ThemeItem<'a> {
                url: String,
                name: &'a str,
                description: Option<&'a str>,
                count: usize,
            }
            let items: Vec<ThemeItem> = site
                .themes
                .iter()
                .map(|th| ThemeItem {
                    url: urls::theme(lang, &th.slug),
                    name: th.name.get(lang.code()),
                    description: th.description.as_deref(),
                    count: published()
                        .filter(|p| p.doc.meta.themes.contains(&th.slug))
                        .count(),
                })
                .collect();
            let common = translated_common(r, key, lang, "themes");
            render_template(r, "themes.html", key, lang, common, items)
        }
        PageKey::Sponsor(slug) => {
            let Some(s) = site.sponsors.iter().find(|s| &s.slug == slug) else {
                return Ok(missing(key, lang));
            };
            #[derive(Serialize)]
            struct SponsorPage {
                name: String,
                kind: String,
                website: Option<String>,
                logo: Option<Image>,
                body: String,
                pools: Vec<PoolView>,
            }
            let page = SponsorPage {
                name: s.meta.name.clone(),
                kind: t
                    .get(&format!("sponsor.kind.{}", sponsor_kind(s.meta.kind)))
                    .to_string(),
                website: s.meta.website.as_ref().and_then(crate::link::Link::href),
                logo: s.meta.logo.as_ref().map(|l| Image {
                    url: urls::sponsor_asset(l),
                    alt: t.fill("sponsor.logo_alt", &[("name", &s.meta.name)]),
                }),
                body: shared.body(&s.body),
                pools: s
                    .meta
                    .pools
                    .iter()
                    .map(|pool| pool_view(r, s, pool, lang, true))
                    .collect(),
            };
            let common = common(
                r,
                key,
                lang,
                s.meta.name.clone(),
                t.fill("sponsor.description", &[("name", &s.meta.name)]),
            );
            render_template(r, "sponsor.html", key, lang, common, page)
        }
        PageKey::Sponsors => {
            #[derive(Serialize)]
            struct SponsorItem {
                url: String,
                name: String,
                kind: String,
                pools: Vec<PoolView>,
            }
            let items: Vec<SponsorItem> = site
                .sponsors
                .iter()
                .map(|s| SponsorItem {
                    url: urls::sponsor(lang, &s.slug),
                    name: s.meta.name.clone(),
                    kind: t
                        .get(&format!("sponsor.kind.{}", sponsor_kind(s.meta.kind)))
                        .to_string(),
                    pools: s
                        .meta
                        .pools
                        .iter()
                        .map(|pool| pool_view(r, s, pool, lang, false))
                        .collect(),
                })
                .collect();
            let common = translated_common(r, key, lang, "sponsors");
            render_template(r, "sponsors.html", key, lang, common, items)
        }
        PageKey::Stats => {
            #[derive(Serialize)]
            struct Row {
                name: String,
                url: String,
                totals: Totals,
            }
            #[derive(Serialize)]
            struct StatsPage {
                rows: Vec<Row>,
                platform: Totals,
            }
            let rows = site
                .territories
                .iter()
                .map(|tr| Row {
                    name: tr.doc.meta.name.clone(),
                    url: urls::territory(lang, &tr.doc.slug),
                    totals: totals_of(lang, r.published_in(tr).map(|(_, e)| e)),
                })
                .collect();
            let page = StatsPage {
                rows,
                platform: totals_of(lang, r.published().map(|(_, e)| e)),
            };
            let common = translated_common(r, key, lang, "stats");
            render_template(r, "stats.html", key, lang, common, page)
        }
        PageKey::NotFound => {
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

/// A page whose subject vanished between listing and rendering: never
/// happens within one build; an empty file keeps the build going.
fn missing(key: &PageKey, lang: Lang) -> File {
    File {
        path: urls::file_of(&url(key, lang)),
        bytes: Vec::new(),
    }
}

fn sponsor_kind(kind: SponsorKind) -> &'static str {
    match kind {
        SponsorKind::Foundation => "foundation",
        SponsorKind::Company => "company",
        SponsorKind::Public => "public",
    }
}

#[derive(Serialize)]
struct CallCard {
    url: String,
    title: String,
    summary: String,
    territory_name: String,
    opens: String,
    deadline: String,
    deadline_iso: String,
    open: bool,
    themes: Vec<Link>,
    sponsor: Option<Link>,
}

fn call_card(r: &Renderer, tr: &Territory, c: &Call, lang: Lang) -> CallCard {
    CallCard {
        url: urls::call(lang, &tr.doc.slug, &c.slug),
        title: c.meta.title.clone(),
        summary: c.meta.summary.clone(),
        territory_name: tr.doc.meta.name.clone(),
        opens: format::date(c.meta.opens, lang),
        deadline: format::date(c.meta.deadline, lang),
        deadline_iso: c.meta.deadline.to_string(),
        open: c.meta.opens <= r.options.today && r.options.today <= c.meta.deadline,
        themes: view::theme_links(r.site, &c.meta.themes, lang),
        sponsor: c.meta.sponsor.as_ref().and_then(|s| {
            r.site
                .sponsors
                .iter()
                .find(|sp| &sp.slug == s)
                .map(|sp| Link {
                    url: urls::sponsor(lang, &sp.slug),
                    label: sp.meta.name.clone(),
                })
        }),
    }
}

#[derive(Serialize)]
struct TerritoryCard {
    url: String,
    name: String,
    region: String,
    live: usize,
    logo: Option<Image>,
}

fn territory_card(r: &Renderer, tr: &Territory, lang: Lang) -> TerritoryCard {
    let t = r.theme.strings(lang);
    TerritoryCard {
        url: urls::territory(lang, &tr.doc.slug),
        name: tr.doc.meta.name.clone(),
        region: tr.doc.meta.region.clone(),
        live: r
            .published_in(tr)
            .filter(|(_, e)| e.card(lang).is_some_and(|c| c.open))
            .count(),
        logo: tr.doc.meta.branding.logo.as_ref().map(|l| Image {
            url: urls::territory_asset(&tr.doc.slug, l),
            alt: t.fill("territory.logo_alt", &[("name", &tr.doc.meta.name)]),
        }),
    }
}

#[derive(Serialize)]
struct PoolView {
    title: String,
    mode: &'static str,
    rule: String,
    budget: String,
    used: String,
    left: String,
    used_percent: u32,
    dates: String,
    projects: Vec<PoolProject>,
    /// "… and 9,950 other eligible projects" when the list is cut.
    more: Option<String>,
}

/// How many of a pool's eligible projects its sponsor's page lists (the most
/// matched first when there are more).
pub const POOL_PROJECTS_SHOWN: usize = 50;

#[derive(Serialize)]
struct PoolProject {
    url: String,
    title: String,
    matched: String,
}

/// A pool's figures and rules; with its eligible projects when `with_projects`
/// (its sponsor's page, not the list of sponsors).
fn pool_view(r: &Renderer, s: &Sponsor, pool: &Pool, lang: Lang, with_projects: bool) -> PoolView {
    let t = r.theme.strings(lang);
    let id = pool_id(s, pool);
    let money = |d: Decimal| format::money(d, lang);
    let used = r.pool_used(&id);
    let mut more = None;
    let mut projects = Vec::new();
    if with_projects {
        let mut eligible: Vec<(Decimal, &Project)> = r
            .published()
            .filter(|(_, e)| e.pools.contains(&id))
            .map(|(p, e)| (e.figures.matched.get(&id).map_or(Decimal::ZERO, |d| d.0), p))
            .collect();
        if eligible.len() > POOL_PROJECTS_SHOWN {
            more = Some(t.fill(
                "pool.more",
                &[(
                    "n",
                    &format::number((eligible.len() - POOL_PROJECTS_SHOWN) as u64, lang),
                )],
            ));
            // Stable: equal amounts keep the content's order.
            eligible.sort_by_key(|e| std::cmp::Reverse(e.0));
            eligible.truncate(POOL_PROJECTS_SHOWN);
        }
        projects = eligible
            .into_iter()
            .map(|(matched, p)| PoolProject {
                url: urls::project(lang, &p.doc.slug),
                title: p.doc.meta.title.clone(),
                matched: money(matched),
            })
            .collect();
    }
    let pct = |share: Decimal| {
        format::percent(
            u32::try_from((share * Decimal::from(100)).trunc().mantissa()).unwrap_or(0),
            lang,
        )
    };
    let rule = match pool.mode {
        PoolMode::PerPledge => {
            let mut rule = t.fill(
                "pool.rule.per_pledge",
                &[("ratio", &money(pool.ratio.unwrap_or_default()))],
            );
            if let Some(m) = pool.max_per_pledge {
                rule.push_str(&t.fill("pool.rule.max_per_pledge", &[("amount", &money(m))]));
            }
            if let Some(m) = pool.max_per_project {
                rule.push_str(&t.fill("pool.rule.max_per_project", &[("amount", &money(m))]));
            }
            if let Some(m) = pool.max_per_donor {
                rule.push_str(&t.fill("pool.rule.max_per_donor", &[("amount", &money(m))]));
            }
            if let Some(th) = pool.threshold {
                rule.push_str(&t.fill("pool.rule.threshold", &[("percent", &pct(th))]));
            }
            rule
        }
        PoolMode::OnSuccess => {
            let mut rule = t.get("pool.rule.on_success").to_string();
            if let Some(sh) = pool.share_of_goal {
                rule.push_str(&t.fill("pool.rule.share_of_goal", &[("percent", &pct(sh))]));
            }
            if let Some(m) = pool.max_per_project {
                rule.push_str(&t.fill("pool.rule.max_per_project", &[("amount", &money(m))]));
            }
            rule
        }
        PoolMode::LumpSum => t.fill(
            "pool.rule.lump_sum",
            &[
                ("amount", &money(pool.amount.unwrap_or_default())),
                ("percent", &pct(pool.min_progress.unwrap_or_default())),
                ("backers", &pool.min_backers.unwrap_or_default().to_string()),
            ],
        ),
    };
    let used_percent = if pool.budget > Decimal::ZERO {
        u32::try_from((used * Decimal::from(100) / pool.budget).trunc().mantissa())
            .unwrap_or(100)
            .min(100)
    } else {
        0
    };
    PoolView {
        title: pool.title.clone(),
        mode: match pool.mode {
            PoolMode::PerPledge => "per_pledge",
            PoolMode::OnSuccess => "on_success",
            PoolMode::LumpSum => "lump_sum",
        },
        rule,
        budget: money(pool.budget),
        used: money(used),
        left: money((pool.budget - used).max(Decimal::ZERO)),
        used_percent,
        dates: t.fill(
            "pool.dates",
            &[
                ("start", &format::date(pool.start, lang)),
                ("end", &format::date(pool.end, lang)),
            ],
        ),
        projects,
        more,
    }
}

#[derive(Serialize)]
struct ProjectPage<'a> {
    card: &'a Card,
    body: String,
    holder: String,
    holder_kind: String,
    holder_website: Option<String>,
    cap: String,
    matched: Vec<MatchedLine>,
    rewards: Vec<RewardView>,
    needs: Vec<NeedView>,
    support: Vec<SupportView>,
    news: Vec<NewsView>,
    location: LocationView,
    share: Vec<Link>,
    pledge_action: String,
    offer_action: String,
    pledge_min: String,
    pledge_max: String,
    offers: u32,
    widget_url: String,
    widget_code: String,
    start: String,
    end: String,
    call: Option<Link>,
}

#[derive(Serialize)]
struct MatchedLine {
    text: String,
    sponsor_url: String,
}

#[derive(Serialize)]
struct RewardView {
    index: usize,
    min: String,
    min_value: String,
    title: String,
    description: Option<String>,
    left_label: Option<String>,
    sold_out: bool,
}

#[derive(Serialize)]
struct NeedView {
    kind: String,
    title: String,
    description: Option<String>,
}

#[derive(Serialize)]
struct SupportView {
    kind: String,
    actor: String,
    description: Option<String>,
    amount: Option<String>,
    website: Option<String>,
}

#[derive(Serialize)]
struct NewsView {
    title: String,
    date: String,
    date_iso: String,
    body: String,
}

#[derive(Serialize)]
struct LocationView {
    address: String,
    city: String,
    map_url: Option<String>,
}

fn project_page<'a>(
    r: &Renderer,
    tr: &Territory,
    p: &Project,
    card: &'a Card,
    lang: Lang,
    shared: &Shared,
) -> ProjectPage<'a> {
    let t = r.theme.strings(lang);
    let m = &p.doc.meta;
    let figures = r.figures(&p.doc.slug);
    let money = |d: Decimal| format::money(d, lang);
    let matched = pools_for(r.site, tr, p)
        .into_iter()
        .filter_map(|(id, s, _)| {
            let amount = figures.matched.get(&id)?.0;
            (amount > Decimal::ZERO).then(|| MatchedLine {
                text: t.fill(
                    "project.matched_by",
                    &[("amount", &money(amount)), ("sponsor", &s.meta.name)],
                ),
                sponsor_url: urls::sponsor(lang, &s.slug),
            })
        })
        .collect();
    let rewards = m
        .rewards
        .iter()
        .enumerate()
        .map(|(i, rw)| {
            let taken = figures.rewards.get(&i).copied().unwrap_or(0);
            let left = rw.limit.map(|l| l.saturating_sub(taken));
            RewardView {
                index: i,
                min: money(rw.min),
                min_value: rw.min.normalize().to_string(),
                title: rw.title.clone(),
                description: rw.description.clone(),
                left_label: left.map(|n| match n {
                    0 => t.get("reward.sold_out").to_string(),
                    n => view::plural(t, "reward.left", n, lang),
                }),
                sold_out: left == Some(0),
            }
        })
        .collect();
    let canonical = format!(
        "{}{}",
        r.site.config.base_url,
        urls::project(lang, &p.doc.slug)
    );
    let enc = |s: &str| -> String {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    let share_text = format!("{} — {}", m.title, m.summary);
    let share = vec![
        Link {
            url: format!(
                "mailto:?subject={}&body={}",
                enc(&m.title),
                enc(&format!("{share_text}\n{canonical}"))
            ),
            label: t.get("share.email").to_string(),
        },
        Link {
            url: format!(
                "https://www.facebook.com/sharer/sharer.php?u={}",
                enc(&canonical)
            ),
            label: "Facebook".into(),
        },
        Link {
            url: format!(
                "https://www.linkedin.com/sharing/share-offsite/?url={}",
                enc(&canonical)
            ),
            label: "LinkedIn".into(),
        },
        Link {
            url: format!(
                "https://bsky.app/intent/compose?text={}",
                enc(&format!("{share_text} {canonical}"))
            ),
            label: "Bluesky".into(),
        },
    ];
    let widget_url = format!(
        "{}{}",
        r.site.config.base_url,
        urls::widget(lang, &p.doc.slug)
    );
    let api = r.site.config.api_url.trim_end_matches('/');
    let news_bodies = shared
        .news
        .get_or_init(|| p.news.iter().map(|n| markdown::to_html(&n.body)).collect());
    ProjectPage {
        card,
        body: shared.body(&p.doc.body),
        holder: m.holder.name.clone(),
        holder_kind: t
            .get(&format!("holder.{}", m.holder.kind.as_str()))
            .to_string(),
        holder_website: m.holder.website.as_ref().and_then(crate::link::Link::href),
        cap: money(m.effective_cap(tr.doc.meta.overfunding_cap)),
        matched,
        rewards,
        needs: m
            .needs
            .iter()
            .map(|n| NeedView {
                kind: t.get(&format!("need.{}", need_kind(n.kind))).to_string(),
                title: n.title.clone(),
                description: n.description.clone(),
            })
            .collect(),
        support: m
            .support
            .iter()
            .map(|s| SupportView {
                kind: t
                    .get(&format!("support.{}", support_kind(s.kind)))
                    .to_string(),
                actor: s.actor.clone(),
                description: s.description.clone(),
                amount: s.amount.map(money),
                website: s.website.as_ref().and_then(crate::link::Link::href),
            })
            .collect(),
        news: p
            .news
            .iter()
            .zip(news_bodies)
            .map(|(n, body)| NewsView {
                title: n.meta.title.clone(),
                date: format::date(n.meta.date, lang),
                date_iso: n.meta.date.to_string(),
                body: body.clone(),
            })
            .collect(),
        location: LocationView {
            address: m.location.address.clone(),
            city: m.location.city.clone(),
            map_url: m.location.lat.zip(m.location.lon).map(|(lat, lon)| {
                format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}")
            }),
        },
        share,
        pledge_action: format!("{api}/pledges"),
        offer_action: format!("{api}/offers"),
        pledge_min: r.site.config.pledge.min.normalize().to_string(),
        pledge_max: r.site.config.pledge.max.normalize().to_string(),
        offers: figures.offers,
        widget_code: format!(
            "<iframe src=\"{widget_url}\" title=\"{}\" width=\"320\" height=\"180\" loading=\"lazy\"></iframe>",
            m.title.replace('"', "&quot;")
        ),
        widget_url,
        start: format::date(m.campaign.start, lang),
        end: format::date(m.campaign_end(&tr.doc.meta.campaign), lang),
        call: m.call.as_ref().and_then(|c| {
            tr.calls.iter().find(|cl| &cl.slug == c).map(|cl| Link {
                url: urls::call(lang, &tr.doc.slug, &cl.slug),
                label: cl.meta.title.clone(),
            })
        }),
    }
}

fn need_kind(k: NeedKind) -> &'static str {
    match k {
        NeedKind::Volunteers => "volunteers",
        NeedKind::Equipment => "equipment",
        NeedKind::Skills => "skills",
        NeedKind::Space => "space",
        NeedKind::Hosting => "hosting",
    }
}

fn support_kind(k: SupportKind) -> &'static str {
    match k {
        SupportKind::Label => "label",
        SupportKind::Loan => "loan",
        SupportKind::Accompaniment => "accompaniment",
        SupportKind::Funding => "funding",
    }
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
