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
pub mod urls;
pub mod view;

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use rayon::prelude::*;

pub use format::Lang;
use output::File;
pub use pages::PageKey;
use progress::{Figures, Snapshot};
pub use theme::Theme;
use view::Card;

use crate::model::{Project, Site, Status, Territory};

/// What a build needs besides the content and the theme.
#[derive(Debug, Clone)]
pub struct Options {
    /// The day the figures are shown for ("12 days left"): an input, so that
    /// the same inputs give the same bytes.
    pub today: Date,
    /// Adds the live-reload script (for `pave serve`).
    pub live_reload: bool,
}

/// An error that stops the build (a template that fails to render).
#[derive(Debug, thiserror::Error)]
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
    pub snapshot: &'a Snapshot,
    pub options: Options,
    pub langs: Vec<Lang>,
    /// Cards of every published project, by slug and language.
    cards: BTreeMap<(String, Lang), Card>,
    figures: BTreeMap<String, Figures>,
}

/// Whether a project has public pages: live or closed (not draft or in review).
pub fn is_published(project: &Project) -> bool {
    matches!(project.doc.meta.status, Status::Live | Status::Closed)
}

impl<'a> Renderer<'a> {
    pub fn new(
        site: &'a Site,
        theme: &'a Theme,
        snapshot: &'a Snapshot,
        options: Options,
    ) -> Renderer<'a> {
        let mut langs: Vec<Lang> = site
            .config
            .languages
            .iter()
            .filter_map(|l| Lang::from_code(l))
            .collect();
        if langs.is_empty() {
            langs.push(Lang::Fr);
        }
        let published: Vec<(&Territory, &Project)> = site
            .territories
            .iter()
            .flat_map(|t| t.projects.iter().map(move |p| (t, p)))
            .filter(|(_, p)| is_published(p))
            .collect();
        let figures: BTreeMap<String, Figures> = published
            .iter()
            .map(|(_, p)| (p.doc.slug.clone(), snapshot.figures(&p.doc.slug)))
            .collect();
        let cards = published
            .par_iter()
            .flat_map_iter(|(t, p)| {
                let figures = &figures[&p.doc.slug];
                let today = options.today;
                langs.iter().map(move |&lang| {
                    let card = view::card(&view::CardInput {
                        site,
                        territory: t,
                        project: p,
                        figures,
                        today,
                        lang,
                        t: theme.strings(lang),
                    });
                    ((p.doc.slug.clone(), lang), card)
                })
            })
            .collect();
        Renderer {
            site,
            theme,
            snapshot,
            options,
            langs,
            cards,
            figures,
        }
    }

    pub fn card(&self, slug: &str, lang: Lang) -> Option<&Card> {
        self.cards.get(&(slug.to_string(), lang))
    }

    pub fn figures(&self, slug: &str) -> Figures {
        self.figures.get(slug).cloned().unwrap_or_default()
    }

    /// Every page of the site, in every language.
    pub fn all_pages(&self) -> Vec<(PageKey, Lang)> {
        let keys = pages::all_keys(self.site);
        self.langs
            .iter()
            .flat_map(|&lang| keys.iter().map(move |k| (k.clone(), lang)))
            .collect()
    }

    /// Renders the whole site: pages, feeds, sitemap, catalog, theme files and content assets.
    pub fn render_all(&self) -> Result<Vec<File>, RenderError> {
        let pages = self.all_pages();
        let mut files = self.render_pages(&pages)?;
        files.extend(feeds::all(self));
        files.push(feeds::sitemap(self, &pages));
        files.push(feeds::robots(self));
        files.push(File {
            path: "catalog.json".into(),
            bytes: {
                let mut json =
                    serde_json::to_vec_pretty(&catalog::build(self.site)).unwrap_or_default();
                json.push(b'\n');
                json
            },
        });
        files.extend(self.theme.static_files.iter().cloned());
        files.extend(pages::assets(self.site));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path);
        Ok(files)
    }

    /// Renders the given pages, in parallel.
    pub fn render_pages(&self, keys: &[(PageKey, Lang)]) -> Result<Vec<File>, RenderError> {
        keys.par_iter()
            .map(|(key, lang)| pages::render(self, key, *lang))
            .collect()
    }

    /// The pages that show the figures of any of `projects`.
    pub fn affected_pages(&self, projects: &BTreeSet<String>) -> Vec<(PageKey, Lang)> {
        self.all_pages()
            .into_iter()
            .filter(|(key, _)| match pages::figures_of(self.site, key) {
                pages::Figures::All => true,
                pages::Figures::None => false,
                pages::Figures::Projects(shown) => shown.iter().any(|p| projects.contains(p)),
            })
            .collect()
    }

    /// Renders only the pages that show the figures of `projects`.
    pub fn render_affected(&self, projects: &BTreeSet<String>) -> Result<Vec<File>, RenderError> {
        self.render_pages(&self.affected_pages(projects))
    }
}
