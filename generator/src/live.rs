//! A site kept loaded between re-renders (`pave serve`): the content, the
//! theme, the figures and every project's cards stay in memory, so that a
//! paid pledge costs only its own pages — the figures of the projects that
//! changed are taken, their cards redone, and the pages that show them
//! ([`crate::render::pages::showing`]) rendered and written if changed.

use std::collections::{BTreeMap, BTreeSet};

use crate::build::{self, BuildConfig, BuildError, Built};
use crate::model::Site;
use crate::render::output::{self, WriteStats};
use crate::render::progress::{Figures, Snapshot};
use crate::render::{Prepared, Renderer, Theme};

pub struct LiveSite {
    config: BuildConfig,
    site: Site,
    theme: Theme,
    snapshot: Snapshot,
    prepared: Prepared,
}

/// What a re-render of some projects' figures did.
#[derive(Debug)]
pub struct Refreshed {
    /// Pages rendered (in every language).
    pub pages: usize,
    pub stats: WriteStats,
}

impl LiveSite {
    /// Loads the content, the theme and the snapshot of `config`, builds the
    /// whole site, and keeps what it loaded.
    pub fn build(config: BuildConfig) -> Result<(LiveSite, Built), BuildError> {
        let build::Inputs {
            site,
            warnings,
            theme,
            snapshot,
            load_time,
        } = build::load_inputs(&config)?;
        let rendering = std::time::Instant::now();
        let prepared = Prepared::new(&site, &theme, &snapshot, &config.options());
        let live = LiveSite {
            config,
            site,
            theme,
            snapshot,
            prepared,
        };
        let built = Built::after(live.write_all()?, warnings, load_time, rendering);
        Ok((live, built))
    }

    /// The news items of the loaded content.
    pub fn announcements(&self) -> Vec<pave_contract::news::Announcement> {
        self.site.announcements()
    }

    fn renderer(&self) -> Renderer<'_> {
        Renderer::with_prepared(
            &self.site,
            &self.theme,
            &self.prepared,
            self.config.options(),
        )
    }

    /// Renders and writes every file, streaming: (pages, files, what was written).
    fn write_all(&self) -> Result<(usize, usize, WriteStats), BuildError> {
        let writer = output::Writer::new(&self.config.out, self.config.precompress)?;
        let paths = self
            .renderer()
            .render_all_into(&|file| writer.put(&file).map_err(BuildError::Write))?;
        let pages = paths.iter().filter(|p| p.ends_with(".html")).count();
        let stats = writer.finish_full(&paths)?;
        Ok((pages, paths.len(), stats))
    }

    /// The new figures of some projects (from the store): re-renders and
    /// writes the pages that show them.
    pub fn refresh(&mut self, figures: BTreeMap<String, Figures>) -> Result<Refreshed, BuildError> {
        let projects: BTreeSet<String> = figures.keys().cloned().collect();
        self.snapshot.projects.extend(figures);
        self.prepared
            .update(&self.site, &self.theme, &self.snapshot, &projects);
        let files = self.renderer().render_affected(&projects)?;
        let stats = output::write(&self.config.out, &files, self.config.precompress)?;
        Ok(Refreshed {
            pages: files.len(),
            stats,
        })
    }
}
