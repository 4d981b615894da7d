//! `pave build`: check the content, render it, write only what changed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::check;
use crate::diagnostics::Report;
use crate::model::Site;
use crate::render::output::{self, WriteStats};
use crate::render::progress::Snapshot;
use crate::render::{Options, Renderer, Theme, catalog};

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    pub content: PathBuf,
    pub theme: PathBuf,
    pub out: PathBuf,
    pub progress: Option<PathBuf>,
    /// Build one territory's window as a site of its own.
    pub territory: Option<String>,
    pub today: Date,
    pub live_reload: bool,
    /// Write each text file's `.gz` and `.br` beside it (production).
    pub precompress: bool,
    /// Payments are the local test checkout: pages carry a test banner.
    pub test_payments: bool,
}

impl BuildConfig {
    /// What the renderer needs from this configuration besides the content.
    pub fn options(&self) -> Options {
        Options {
            today: self.today,
            live_reload: self.live_reload,
            test_payments: self.test_payments,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the content has errors")]
    Content(Report),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Render(#[from] crate::render::RenderError),
    #[error("cannot write the site: {0}")]
    Write(#[from] std::io::Error),
}

#[derive(Debug)]
pub struct Built {
    pub pages: usize,
    pub files: usize,
    pub stats: WriteStats,
    pub warnings: Report,
    /// Time spent loading and checking the content, and rendering and writing.
    pub load_time: std::time::Duration,
    pub render_time: std::time::Duration,
}

/// Today in the site's time zone (the default for `today`).
pub fn today_in(timezone: &str) -> Date {
    pave_contract::calendar::day_of(jiff::Timestamp::now(), timezone)
}

/// Loads and validates the content, and applies the territory filter.
pub fn load_site(content: &Path, territory: Option<&str>) -> Result<(Site, Report), BuildError> {
    let checked = check::check(content);
    if checked.report.errors() > 0 {
        return Err(BuildError::Content(checked.report));
    }
    let mut site = checked
        .site
        .ok_or_else(|| BuildError::Input(format!("no content found in {}", content.display())))?;
    if let Some(only) = territory {
        if !site.territories.iter().any(|t| t.doc.slug == only) {
            return Err(BuildError::Input(format!(
                "there is no territory `{only}` in {}",
                content.display()
            )));
        }
        restrict_to_territory(&mut site, only);
    }
    site.asset_versions = crate::render::pages::asset_versions(&site);
    Ok((site, checked.report))
}

/// Keeps one territory, and the sponsors whose pools may match its projects.
pub fn restrict_to_territory(site: &mut Site, only: &str) {
    site.territories.retain(|t| t.doc.slug == only);
    let used: BTreeSet<String> = site
        .territories
        .iter()
        .flat_map(|t| t.projects.iter().map(move |p| (t, p)))
        .flat_map(|(t, p)| {
            catalog::pools_for(site, t, p)
                .into_iter()
                .map(|(_, s, _)| s.slug.clone())
        })
        .collect();
    site.sponsors.retain(|s| used.contains(&s.slug));
}

pub fn read_snapshot(path: Option<&Path>) -> Result<Snapshot, BuildError> {
    match path {
        Some(p) => Snapshot::read(p).map_err(BuildError::Input),
        None => Ok(Snapshot::empty()),
    }
}

/// A full build (the site is rendered and written page by page, never held
/// whole in memory).
pub fn build(config: &BuildConfig) -> Result<Built, BuildError> {
    crate::live::LiveSite::build(config.clone()).map(|(_, built)| built)
}

/// What a build reads, and how long loading and checking it took.
pub(crate) struct Inputs {
    pub site: Site,
    pub warnings: Report,
    pub theme: Theme,
    pub snapshot: Snapshot,
    pub load_time: std::time::Duration,
}

/// Loads and checks the content of `config`, its theme and its snapshot.
pub(crate) fn load_inputs(config: &BuildConfig) -> Result<Inputs, BuildError> {
    let start = std::time::Instant::now();
    let (site, warnings) = load_site(&config.content, config.territory.as_deref())?;
    let theme = Theme::load(&config.theme).map_err(BuildError::Input)?;
    let snapshot = read_snapshot(config.progress.as_deref())?;
    Ok(Inputs {
        site,
        warnings,
        theme,
        snapshot,
        load_time: start.elapsed(),
    })
}

impl Built {
    /// A build's account: (pages, files, what was written) since `rendering`
    /// started, after loading for `load_time`.
    pub(crate) fn after(
        (pages, files, stats): (usize, usize, WriteStats),
        warnings: Report,
        load_time: std::time::Duration,
        rendering: std::time::Instant,
    ) -> Built {
        Built {
            pages,
            files,
            stats,
            warnings,
            load_time,
            render_time: rendering.elapsed(),
        }
    }
}

/// The incremental path: re-renders only the pages that show the figures of
/// `projects`, from a new snapshot, and writes those that changed.
pub fn refresh(config: &BuildConfig, projects: &BTreeSet<String>) -> Result<Built, BuildError> {
    let inputs = load_inputs(config)?;
    let rendering = std::time::Instant::now();
    let written = refresh_loaded(
        &inputs.site,
        &inputs.theme,
        &inputs.snapshot,
        config,
        projects,
    )?;
    Ok(Built::after(
        written,
        inputs.warnings,
        inputs.load_time,
        rendering,
    ))
}

/// The incremental path on an already loaded site and theme (a long-running
/// server keeps them in memory).
pub fn refresh_loaded(
    site: &Site,
    theme: &Theme,
    snapshot: &Snapshot,
    config: &BuildConfig,
    projects: &BTreeSet<String>,
) -> Result<(usize, usize, WriteStats), BuildError> {
    let renderer = Renderer::new(site, theme, snapshot, config.options());
    let files = renderer.render_affected(projects)?;
    let stats = output::write(&config.out, &files, config.precompress)?;
    Ok((files.len(), files.len(), stats))
}
