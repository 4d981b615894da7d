//! Rendering: (content, theme, progress snapshot) → the files of the site.
//!
//! Every page is identified by a [`PageKey`] and declares whose figures it
//! shows ([`Renderer::figures_of`]); a full build renders every page, and the
//! incremental path ([`Renderer::render_affected`]) renders only the pages
//! that show the figures of the projects that changed. Pages render in
//! parallel; the output is byte-identical for the same input.

pub mod catalog;
pub mod feeds;
pub mod format;
pub mod i18n;
pub mod markdown;
pub mod output;
pub mod pages;
pub mod progress;
pub mod theme;
/// The site's addresses (the one URL scheme, shared with the functions).
pub use pave_contract::urls;
pub mod view;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use jiff::civil::Date;
use rayon::prelude::*;
use rust_decimal::Decimal;

pub use format::Lang;
use output::File;
pub use pages::PageKey;
use progress::{Figures, Snapshot};
pub use theme::Theme;
use view::Card;

use crate::content::assets::read_inside;
use crate::model::{Project, Site, Status, Territory};

/// What a build needs besides the content and the theme.
#[derive(Debug, Clone)]
pub struct Options {
    /// The day the figures are shown for ("12 days left"): an input, so that
    /// the same inputs give the same bytes.
    pub today: Date,
    /// Adds the live-reload script (for `pave serve`).
    pub live_reload: bool,
    /// Payments are the local test checkout: every page says so.
    pub test_payments: bool,
}

/// An error that stops the build (a template that fails to render).
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    #[error("template {template} failed for {page}: {message}")]
    Template {
        template: String,
        page: String,
        message: String,
    },
}

/// Renders a loaded, valid site.
pub struct Renderer<'a> {
    pub site: &'a Site,
    pub theme: &'a Theme,
    pub options: Options,
    pub langs: Vec<Lang>,
    prepared: Cow<'a, Prepared>,
}

/// What every page draws on, computed once for a site and its figures: each
/// published project's figures, its card in every language and the pools
/// that may match it, in the site's order. A long-running process keeps it
/// between re-renders and updates only the projects whose figures changed
/// ([`Prepared::update`]).
#[derive(Debug, Clone)]
pub struct Prepared {
    today: Date,
    /// Every published project, territory by territory, as `Site::projects`.
    entries: Vec<Entry>,
    /// Slug → position in `entries`.
    index: HashMap<String, usize>,
    /// Territory slug → its published projects' positions in `entries`.
    territories: HashMap<String, std::ops::Range<usize>>,
    /// Pool (`sponsor/pool`) → what it matched, over all published projects.
    pool_used: HashMap<String, Decimal>,
    /// Theme slug → its published projects' positions in `entries`, in the
    /// order of its pages (live first, ending soonest; see
    /// `pages::live_first`). The order depends on dates and titles,
    /// never on figures, so [`Prepared::update`] keeps it.
    themes: HashMap<String, Vec<usize>>,
    /// The menu in each language (`pages::render_menu`): it shows no
    /// figures, so it is rendered once here, not for every renderer.
    menus: Vec<(Lang, Result<String, RenderError>)>,
}

/// One published project, prepared.
#[derive(Debug, Clone)]
pub struct Entry {
    pub figures: Figures,
    /// One card per language of the site.
    cards: Vec<(Lang, Card)>,
    /// The pools (`sponsor/pool`) that may match it, sorted.
    pub pools: Vec<String>,
    /// Where it is in the site: its territory's position in
    /// `Site::territories` and its own in that territory's `projects`.
    at: (usize, usize),
}

impl Entry {
    pub fn card(&self, lang: Lang) -> Option<&Card> {
        self.cards
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, card)| card)
    }
}

/// Whether a project has public pages: live or closed (not draft or in review).
pub fn is_published(project: &Project) -> bool {
    matches!(project.doc.meta.status, Status::Live | Status::Closed)
}

/// The languages of the site (French when none is configured).
pub fn site_langs(site: &Site) -> Vec<Lang> {
    let mut langs: Vec<Lang> = site
        .config
        .languages
        .iter()
        .filter_map(|l| Lang::from_code(l))
        .collect();
    if langs.is_empty() {
        langs.push(Lang::Fr);
    }
    langs
}

impl Prepared {
    /// The figures, cards and pools of every published project, and the menu.
    pub fn new(site: &Site, theme: &Theme, snapshot: &Snapshot, options: &Options) -> Prepared {
        let today = options.today;
        let mut territories = HashMap::new();
        let mut published: Vec<(&Territory, &Project, (usize, usize))> = Vec::new();
        for (ti, t) in site.territories.iter().enumerate() {
            let first = published.len();
            published.extend(
                t.projects
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| is_published(p))
                    .map(|(pi, p)| (t, p, (ti, pi))),
            );
            territories.insert(t.doc.slug.clone(), first..published.len());
        }
        let langs = site_langs(site);
        let entries: Vec<Entry> = published
            .par_iter()
            .map(|&(t, p, at)| Entry {
                figures: snapshot.figures(&p.doc.slug),
                cards: Vec::new(),
                pools: catalog::pools_for(site, t, p)
                    .into_iter()
                    .map(|(id, _, _)| id)
                    .collect(),
                at,
            })
            .collect();
        let index = published
            .iter()
            .enumerate()
            .map(|(i, (_, p, _))| (p.doc.slug.clone(), i))
            .collect();
        let mut pool_used: HashMap<String, Decimal> = HashMap::new();
        for e in &entries {
            for (pool, amount) in &e.figures.matched {
                *pool_used.entry(pool.clone()).or_default() += amount.0;
            }
        }
        let mut prepared = Prepared {
            today,
            entries,
            index,
            territories,
            pool_used,
            themes: HashMap::new(),
            menus: Vec::new(),
        };
        let cards: Vec<Vec<(Lang, Card)>> = published
            .par_iter()
            .zip(prepared.entries.par_iter())
            .map(|((t, p, _), e)| cards_of(site, theme, t, p, &e.figures, today, &langs))
            .collect();
        for (entry, cards) in prepared.entries.iter_mut().zip(cards) {
            entry.cards = cards;
        }
        prepared.themes = site
            .themes
            .iter()
            .map(|th| {
                let mut positions: Vec<usize> = published
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, p, _))| p.doc.meta.themes.contains(&th.slug))
                    .map(|(i, _)| i)
                    .collect();
                let entries = &prepared.entries;
                positions.sort_by(|&a, &b| {
                    match (entries[a].card(langs[0]), entries[b].card(langs[0])) {
                        (Some(a), Some(b)) => pages::live_first(a, b),
                        _ => std::cmp::Ordering::Equal,
                    }
                });
                (th.slug.clone(), positions)
            })
            .collect();
        prepared.menus = {
            let r = Renderer::with_prepared(site, theme, &prepared, options.clone());
            langs
                .iter()
                .map(|&lang| (lang, pages::render_menu(&r, lang)))
                .collect()
        };
        prepared
    }

    /// Takes the new figures of `projects` from `snapshot` and redoes their cards.
    pub fn update(
        &mut self,
        site: &Site,
        theme: &Theme,
        snapshot: &Snapshot,
        projects: &BTreeSet<String>,
    ) {
        let langs = site_langs(site);
        for t in &site.territories {
            for p in t.projects.iter().filter(|p| projects.contains(&p.doc.slug)) {
                let Some(&i) = self.index.get(&p.doc.slug) else {
                    continue;
                };
                let figures = snapshot.figures(&p.doc.slug);
                let entry = &mut self.entries[i];
                for (pool, amount) in &entry.figures.matched {
                    *self.pool_used.entry(pool.clone()).or_default() -= amount.0;
                }
                for (pool, amount) in &figures.matched {
                    *self.pool_used.entry(pool.clone()).or_default() += amount.0;
                }
                entry.cards = cards_of(site, theme, t, p, &figures, self.today, &langs);
                entry.figures = figures;
            }
        }
    }
}

/// A project's card in each language.
fn cards_of(
    site: &Site,
    theme: &Theme,
    territory: &Territory,
    project: &Project,
    figures: &Figures,
    today: Date,
    langs: &[Lang],
) -> Vec<(Lang, Card)> {
    langs
        .iter()
        .map(|&lang| {
            let card = view::card(&view::CardInput {
                site,
                territory,
                project,
                figures,
                today,
                lang,
                t: theme.strings(lang),
            });
            (lang, card)
        })
        .collect()
}

impl<'a> Renderer<'a> {
    pub fn new(
        site: &'a Site,
        theme: &'a Theme,
        snapshot: &Snapshot,
        options: Options,
    ) -> Renderer<'a> {
        let prepared = Prepared::new(site, theme, snapshot, &options);
        Renderer {
            site,
            theme,
            langs: site_langs(site),
            options,
            prepared: Cow::Owned(prepared),
        }
    }

    /// The menu in `lang` (empty while it is being rendered, or when the
    /// theme has none).
    pub fn menu(&self, lang: Lang) -> &str {
        self.prepared
            .menus
            .iter()
            .find(|(l, _)| *l == lang)
            .and_then(|(_, m)| m.as_deref().ok())
            .unwrap_or("")
    }

    /// The error of the menu in `lang`, if it failed: every page shows it.
    pub fn menu_error(&self, lang: Lang) -> Option<RenderError> {
        self.prepared
            .menus
            .iter()
            .find(|(l, _)| *l == lang)
            .and_then(|(_, m)| m.as_ref().err().cloned())
    }

    /// A renderer on figures, cards and menus prepared earlier (for the same
    /// site, theme and options).
    pub fn with_prepared(
        site: &'a Site,
        theme: &'a Theme,
        prepared: &'a Prepared,
        options: Options,
    ) -> Renderer<'a> {
        Renderer {
            site,
            theme,
            langs: site_langs(site),
            options,
            prepared: Cow::Borrowed(prepared),
        }
    }

    fn entry(&self, slug: &str) -> Option<&Entry> {
        self.prepared
            .index
            .get(slug)
            .and_then(|&i| self.prepared.entries.get(i))
    }

    pub fn card(&self, slug: &str, lang: Lang) -> Option<&Card> {
        self.entry(slug)?.card(lang)
    }

    /// A published project with its territory and what was prepared for it.
    pub fn project(&self, slug: &str) -> Option<(&'a Territory, &'a Project, &Entry)> {
        let entry = self.entry(slug)?;
        let territory = self.site.territories.get(entry.at.0)?;
        Some((territory, territory.projects.get(entry.at.1)?, entry))
    }

    /// A theme's published projects in the order of its pages.
    pub fn theme_entries(&self, theme: &str) -> impl Iterator<Item = &Entry> {
        self.prepared
            .themes
            .get(theme)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.prepared.entries.get(i))
    }

    /// A published project's figures (zero everywhere when it has none).
    pub fn figures(&self, slug: &str) -> &Figures {
        static NONE: std::sync::LazyLock<Figures> = std::sync::LazyLock::new(Figures::default);
        self.entry(slug).map_or(&NONE, |e| &e.figures)
    }

    /// What a pool (`sponsor/pool`) matched, over all published projects.
    pub fn pool_used(&self, pool: &str) -> Decimal {
        self.prepared
            .pool_used
            .get(pool)
            .copied()
            .unwrap_or_default()
    }

    /// Every published project with what was prepared for it, in the site's order.
    pub fn published(&self) -> impl Iterator<Item = (&'a Project, &Entry)> {
        self.site
            .projects()
            .filter(|p| is_published(p))
            .zip(self.prepared.entries.iter())
    }

    /// A territory's published projects with what was prepared for them.
    pub fn published_in(
        &self,
        territory: &'a Territory,
    ) -> impl Iterator<Item = (&'a Project, &Entry)> {
        let range = self
            .prepared
            .territories
            .get(&territory.doc.slug)
            .cloned()
            .unwrap_or_default();
        territory
            .projects
            .iter()
            .filter(|p| is_published(p))
            .zip(&self.prepared.entries[range])
    }

    /// Every page of the site, in every language.
    pub fn all_pages(&self) -> Vec<(PageKey, Lang)> {
        let keys = pages::all_keys(self.site);
        self.langs
            .iter()
            .flat_map(|&lang| keys.iter().map(move |k| (k.clone(), lang)))
            .collect()
    }

    /// Renders the whole site — pages, feeds, sitemap, catalog, theme files
    /// and content assets — handing each file to `put` as soon as it is
    /// ready, from several threads: a full build never holds the whole site
    /// in memory. Returns the path of every file put. When two files have
    /// the same path the first wins, in that order (a page before a theme or
    /// content file).
    pub fn render_all_into<E>(
        &self,
        put: &(dyn Fn(File) -> Result<(), E> + Sync),
    ) -> Result<BTreeSet<String>, E>
    where
        E: From<RenderError> + Send,
    {
        // Page by page, all its languages together: they share its Markdown.
        let keys = pages::all_keys(self.site);
        let rendered: Vec<Vec<String>> = keys
            .par_iter()
            .map(|key| {
                let shared = pages::Shared::default();
                self.langs
                    .iter()
                    .map(|&lang| {
                        let file = pages::render_shared(self, key, lang, &shared)?;
                        let path = file.path.clone();
                        put(file)?;
                        Ok(path)
                    })
                    .collect::<Result<Vec<_>, E>>()
            })
            .collect::<Result<_, E>>()?;
        let mut paths: BTreeSet<String> = rendered.into_iter().flatten().collect();
        let pages = self.all_pages();
        let mut others = feeds::all(self);
        others.push(feeds::sitemap(self, &pages));
        others.push(feeds::robots(self));
        others.push(File {
            path: "catalog.json".into(),
            bytes: {
                let mut json =
                    serde_json::to_vec_pretty(&catalog::build(self.site)).unwrap_or_default();
                json.push(b'\n');
                json
            },
        });
        others.push(File {
            path: pave_contract::frame::FILE.into(),
            bytes: {
                let mut json = serde_json::to_vec_pretty(&pages::frames(self)?).unwrap_or_default();
                json.push(b'\n');
                json
            },
        });
        others.extend(self.site.territories.iter().map(pages::brand_css));
        others.extend(self.theme.static_files.iter().cloned());
        others.retain(|f| paths.insert(f.path.clone()));
        others.into_par_iter().try_for_each(put)?;
        let mut assets = pages::asset_sources(self.site);
        assets.retain(|(path, _)| paths.insert(path.clone()));
        // A file that vanished since loading is skipped: `pave check` saw it.
        // Read inside the content folder only, whatever links changed since.
        let vanished: Vec<String> = assets
            .into_par_iter()
            .map(
                |(path, source)| match read_inside(&self.site.root, &source) {
                    Ok(bytes) => put(File { path, bytes }).map(|()| None),
                    Err(_) => Ok(Some(path)),
                },
            )
            .collect::<Result<Vec<_>, E>>()?
            .into_iter()
            .flatten()
            .collect();
        for path in vanished {
            paths.remove(&path);
        }
        Ok(paths)
    }

    /// Renders the given pages, in parallel.
    pub fn render_pages(&self, keys: &[(PageKey, Lang)]) -> Result<Vec<File>, RenderError> {
        keys.par_iter()
            .map(|(key, lang)| pages::render(self, key, *lang))
            .collect()
    }

    /// The pages that show the figures of any of `projects`, in every language.
    pub fn affected_pages(&self, projects: &BTreeSet<String>) -> Vec<(PageKey, Lang)> {
        let keys = pages::showing(self, projects);
        self.langs
            .iter()
            .flat_map(|&lang| keys.iter().map(move |k| (k.clone(), lang)))
            .collect()
    }

    /// Renders only the pages that show the figures of `projects`.
    pub fn render_affected(&self, projects: &BTreeSet<String>) -> Result<Vec<File>, RenderError> {
        self.render_pages(&self.affected_pages(projects))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The incremental path's shortcut (`pages::showing`) names exactly the
    /// pages whose `figures_of` include the project, for every project of
    /// the sample content.
    #[test]
    fn the_pages_showing_a_project_are_those_whose_figures_include_it() {
        let content = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
        let site = crate::check::check(&content)
            .site
            .expect("the sample content loads");
        let theme_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default");
        let theme = Theme::load(&theme_dir).expect("the default theme loads");
        let snapshot = Snapshot::empty();
        let options = Options {
            today: jiff::civil::date(2026, 5, 16),
            live_reload: false,
            test_payments: false,
        };
        let r = Renderer::new(&site, &theme, &snapshot, options);
        let keys = pages::all_keys(&site);
        let mut checked = 0;
        for project in site.projects() {
            let slug = &project.doc.slug;
            let expected: BTreeSet<PageKey> = keys
                .iter()
                .filter(|key| match pages::figures_of(&r, key) {
                    pages::Figures::All => is_published(project),
                    pages::Figures::None => false,
                    pages::Figures::Projects(shown) => shown.contains(slug),
                })
                .cloned()
                .collect();
            let shown = pages::showing(&r, &BTreeSet::from([slug.clone()]));
            assert_eq!(shown, expected, "pages showing {slug}");
            checked += usize::from(!shown.is_empty());
        }
        assert!(checked >= 10, "published projects checked: {checked}");
    }
}
