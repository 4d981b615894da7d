//! Walks `content/`, reads every file in parallel and parses it into the model.
//!
//! Loading never stops at the first problem: a file that cannot be read or
//! parsed becomes a diagnostic and the rest is still loaded, so `pave check`
//! reports everything in one run.

use crate::text::Slice;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use serde::de::DeserializeOwned;

use super::source::{self, Source};
use super::yaml::{self, UnknownField, YamlPath};
use super::{assets, svg};
use crate::diagnostics::{Diagnostic, display_path};
use crate::model::*;
use crate::validate::{Issue, Issues};

/// What a content file is, from where it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Site,
    Themes,
    Sponsor {
        slug: String,
    },
    Territory {
        territory: String,
    },
    Call {
        territory: String,
        slug: String,
    },
    Project {
        territory: String,
        slug: String,
    },
    News {
        territory: String,
        project: String,
        slug: String,
    },
    ProjectAsset {
        territory: String,
        project: String,
        path: PathBuf,
    },
    TerritoryAsset {
        territory: String,
        path: PathBuf,
    },
    SponsorAsset {
        path: PathBuf,
    },
    /// `README.md` at the root: documentation for editors, not content.
    Documentation,
    Unexpected,
}

fn classify(rel: &Path) -> Kind {
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let is_text = |name: &str| {
        name.ends_with(".md")
            || name.ends_with(".yaml")
            || name.ends_with(".yml")
            || name.ends_with(".markdown")
    };
    let stem = |name: &str| name.strip_suffix(".md").unwrap_or(name).to_string();
    match parts.as_slice() {
        ["site.yaml"] => Kind::Site,
        ["themes.yaml"] => Kind::Themes,
        ["README.md"] => Kind::Documentation,
        ["sponsors", f] if f.ends_with(".md") => Kind::Sponsor { slug: stem(f) },
        ["sponsors", f] if !is_text(f) => Kind::SponsorAsset {
            path: PathBuf::from(f),
        },
        ["territories", t, "_territory.md"] => Kind::Territory {
            territory: t.to_string(),
        },
        ["territories", t, "calls", f] if f.ends_with(".md") => Kind::Call {
            territory: t.to_string(),
            slug: stem(f),
        },
        ["territories", t, "projects", p, "index.md"] => Kind::Project {
            territory: t.to_string(),
            slug: p.to_string(),
        },
        ["territories", t, "projects", p, "news", f] if f.ends_with(".md") => Kind::News {
            territory: t.to_string(),
            project: p.to_string(),
            slug: stem(f),
        },
        ["territories", t, "projects", p, rest @ ..]
            if !rest.is_empty() && !is_text(rest[rest.len() - 1]) =>
        {
            Kind::ProjectAsset {
                territory: t.to_string(),
                project: p.to_string(),
                path: rest.iter().collect(),
            }
        }
        ["territories", t, rest @ ..]
            if !rest.is_empty()
                && rest[0] != "projects"
                && rest[0] != "calls"
                && !is_text(rest[rest.len() - 1]) =>
        {
            Kind::TerritoryAsset {
                territory: t.to_string(),
                path: rest.iter().collect(),
            }
        }
        _ => Kind::Unexpected,
    }
}

/// A content file as read, kept for positions and for rendering.
#[derive(Debug, Clone)]
pub struct FileText {
    pub text: crate::text::FileText,
    /// Byte range of the YAML in `text`.
    pub yaml: std::ops::Range<usize>,
    /// Lines before the YAML (1 for a front matter's opening `---`).
    pub line_offset: usize,
}

impl FileText {
    pub fn yaml(&self) -> &str {
        &self.text[self.yaml.clone()]
    }
}

/// What loaded, for rules that depend on other files.
#[derive(Debug, Default, Clone)]
pub struct LoadFlags {
    pub site: bool,
    pub themes: bool,
    /// Every project and territory folder, including those whose file failed to
    /// parse: a reference to one of them is not an unknown reference.
    pub project_folders: BTreeSet<String>,
    pub territory_folders: BTreeSet<String>,
    /// Every call file, as (territory, slug), and every sponsor file, likewise.
    pub call_files: BTreeSet<(String, String)>,
    pub sponsor_files: BTreeSet<String>,
}

/// The result of loading: the model (as much as could be parsed), the
/// problems met on the way, and the text of every file read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub site: Option<Site>,
    /// Problems already located (reading, YAML syntax, types).
    pub diagnostics: Vec<Diagnostic>,
    /// Problems found while loading whose position is a YAML path (unknown fields).
    pub issues: Issues,
    pub files: BTreeMap<PathBuf, FileText>,
    /// Which shared files loaded: rules that depend on one are skipped when it did
    /// not (its own error is already reported), so one broken file does not flood the report.
    pub flags: LoadFlags,
}

enum Parsed {
    Site(SiteConfig),
    Themes(ThemesFile),
    Sponsor(Sponsor),
    Territory(String, Doc<TerritoryMeta>),
    Call(String, Call),
    Project(String, Doc<ProjectMeta>),
    News(String, String, News),
    ProjectAsset(String, String, PathBuf),
    TerritoryAsset(String, PathBuf),
    SponsorAsset(PathBuf),
    Nothing,
}

struct FileResult {
    kind: Kind,
    shown: PathBuf,
    file: Option<FileText>,
    parsed: Parsed,
    diagnostics: Vec<Diagnostic>,
    issues: Vec<Issue>,
}

/// `site.yaml` alone, read through the model (what a command needs before
/// loading the whole content: the time zone, the base URL); `None` when it
/// cannot be read or parsed (`pave check` says why).
pub fn read_site_config(root: &Path) -> Option<SiteConfig> {
    let rel = Path::new("site.yaml");
    let source = source::read(&root.join(rel), display_path(root, rel)).ok()?;
    serde_norway::from_str(&source.text).ok()
}

/// Loads the content tree rooted at `root`.
pub fn load(root: &Path) -> Loaded {
    // Links are followed only to files inside this folder.
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let walked = walk(root);
    // Files outside territory folders, then every territory folder walked and
    // read in parallel (they are most of the tree).
    let mut results: Vec<FileResult> = walked
        .files
        .par_iter()
        .map(|rel| load_file(root, &canonical, rel))
        .collect();
    let per_territory: Vec<(Vec<PathBuf>, Vec<FileResult>, Vec<Diagnostic>)> = walked
        .territory_dirs
        .par_iter()
        .map(|dir| {
            let sub = walk_dir(root, &root.join(dir), |_| true);
            let results = sub
                .files
                .par_iter()
                .map(|rel| load_file(root, &canonical, rel))
                .collect();
            (sub.folders, results, sub.diagnostics)
        })
        .collect();
    let mut folders = walked.folders;
    let mut diagnostics = walked.diagnostics;
    for (sub_folders, sub_results, sub_diagnostics) in per_territory {
        folders.extend(sub_folders);
        results.extend(sub_results);
        diagnostics.extend(sub_diagnostics);
    }
    assemble(root, results, &folders, diagnostics)
}

/// Files and folders found under a folder, relative to the content root.
#[derive(Default)]
struct Walked {
    files: Vec<PathBuf>,
    folders: Vec<PathBuf>,
    /// Territory folders, not descended into (walked in parallel afterwards).
    territory_dirs: Vec<PathBuf>,
    diagnostics: Vec<Diagnostic>,
}

fn walk(root: &Path) -> Walked {
    let mut territory_dirs = Vec::new();
    let mut walked = walk_dir(root, root, |rel| {
        let mut parts = rel.iter();
        if parts.next().is_some_and(|p| p == "territories") && parts.next().is_some() {
            territory_dirs.push(rel.to_path_buf());
            false
        } else {
            true
        }
    });
    walked.folders.extend(territory_dirs.iter().cloned());
    walked.territory_dirs = territory_dirs;
    walked
}

/// Walks `dir` in file-name order, skipping hidden entries and the folders
/// for which `descend` (given the path relative to `root`) says no.
fn walk_dir(root: &Path, dir: &Path, mut descend: impl FnMut(&Path) -> bool) -> Walked {
    let mut walked = Walked::default();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.') {
                return false;
            }
            match e.path().strip_prefix(root) {
                Ok(rel) if e.file_type().is_dir() && e.depth() > 0 => descend(rel),
                _ => true,
            }
        });
    for entry in walker {
        match entry {
            Ok(e) => {
                let Ok(rel) = e.path().strip_prefix(root) else {
                    continue;
                };
                // A link is never followed by the walk: `load_file` accepts
                // it only when it resolves to a file inside the content.
                if e.file_type().is_file() || e.file_type().is_symlink() {
                    walked.files.push(rel.to_path_buf());
                } else if e.file_type().is_dir() && !rel.as_os_str().is_empty() {
                    walked.folders.push(rel.to_path_buf());
                }
            }
            Err(e) => {
                let shown = e
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map_or_else(|| root.to_path_buf(), |rel| display_path(root, rel));
                walked.diagnostics.push(
                    Diagnostic::error("unreadable-file", shown, format!("cannot read: {e}"))
                        .help("check the permissions of this file or folder"),
                );
            }
        }
    }
    walked
}

/// What the files parsed to, gathered by kind before they are assembled
/// into a [`Site`], with which kinds of file were found.
#[derive(Default)]
struct Parts {
    config: Option<SiteConfig>,
    themes: Option<Vec<crate::model::Theme>>,
    sponsors: Vec<Sponsor>,
    territories: BTreeMap<String, Option<Doc<TerritoryMeta>>>,
    calls: BTreeMap<String, Vec<Call>>,
    projects: BTreeMap<(String, String), Doc<ProjectMeta>>,
    news: BTreeMap<(String, String), Vec<News>>,
    project_assets: BTreeMap<(String, String), Vec<PathBuf>>,
    territory_assets: BTreeMap<String, Vec<PathBuf>>,
    sponsor_assets: Vec<PathBuf>,
    territory_files: BTreeSet<String>,
    project_files: BTreeSet<(String, String)>,
    call_files: BTreeSet<(String, String)>,
    sponsor_files: BTreeSet<String>,
    site_file: bool,
    themes_file: bool,
}

impl Parts {
    /// Notes which kind of file was read, and keeps what it parsed to.
    fn add(&mut self, kind: &Kind, parsed: Parsed) {
        match kind {
            Kind::Site => self.site_file = true,
            Kind::Themes => self.themes_file = true,
            Kind::Territory { territory } => {
                self.territory_files.insert(territory.clone());
            }
            Kind::Project { territory, slug } => {
                self.project_files.insert((territory.clone(), slug.clone()));
            }
            Kind::Call { territory, slug } => {
                self.call_files.insert((territory.clone(), slug.clone()));
            }
            Kind::Sponsor { slug } => {
                self.sponsor_files.insert(slug.clone());
            }
            _ => {}
        }
        match parsed {
            Parsed::Site(c) => self.config = Some(c),
            Parsed::Themes(t) => self.themes = Some(t.themes),
            Parsed::Sponsor(s) => self.sponsors.push(s),
            Parsed::Territory(t, doc) => {
                self.territories.insert(t, Some(doc));
            }
            Parsed::Call(t, c) => self.calls.entry(t).or_default().push(c),
            Parsed::Project(t, p) => {
                self.projects.insert((t, p.slug.clone()), p);
            }
            Parsed::News(t, p, n) => self.news.entry((t, p)).or_default().push(n),
            Parsed::ProjectAsset(t, p, path) => {
                self.project_assets.entry((t, p)).or_default().push(path)
            }
            Parsed::TerritoryAsset(t, path) => {
                self.territory_assets.entry(t).or_default().push(path)
            }
            Parsed::SponsorAsset(path) => self.sponsor_assets.push(path),
            Parsed::Nothing => {}
        }
    }

    /// Folders that should hold a file but do not (a territory folder
    /// without `_territory.md` still names a territory); returns the
    /// project folders found.
    fn check_folders(
        &mut self,
        root: &Path,
        folders: &[PathBuf],
        diagnostics: &mut Vec<Diagnostic>,
    ) -> BTreeSet<String> {
        let mut project_folders = BTreeSet::new();
        for rel in folders {
            let parts: Vec<_> = rel.iter().filter_map(|s| s.to_str()).collect();
            if let ["territories", _, "projects", p] = parts.as_slice() {
                project_folders.insert(p.to_string());
            }
            match parts.as_slice() {
                ["territories", t] if !self.territory_files.contains(*t) => {
                    self.territories.entry(t.to_string()).or_insert(None);
                    diagnostics.push(
                        Diagnostic::error(
                            "missing-territory-file",
                            display_path(root, rel),
                            format!("the territory folder `{t}` has no `_territory.md`"),
                        )
                        .help("add `_territory.md` with the territory's name, max_goal, campaign and branding (see docs/content.md)"),
                    );
                }
                ["territories", t, "projects", p]
                    if !self.project_files.contains(&(t.to_string(), p.to_string())) =>
                {
                    diagnostics.push(
                        Diagnostic::error(
                            "missing-project-file",
                            display_path(root, rel),
                            format!("the project folder `{p}` has no `index.md`"),
                        )
                        .help(
                            "put the project's front matter and story in `index.md` inside this folder",
                        ),
                    );
                }
                _ => {}
            }
        }
        project_folders
    }

    /// The root files every content folder has.
    fn check_root_files(&self, root: &Path, diagnostics: &mut Vec<Diagnostic>) {
        if !self.site_file {
            diagnostics.push(
                Diagnostic::error(
                    "missing-site-file",
                    display_path(root, Path::new("site.yaml")),
                    "there is no `site.yaml` at the root of the content folder",
                )
                .help("create `site.yaml` with title, tagline, base_url, api_url and languages; or point `pave check` at the content folder"),
            );
        }
        if !self.themes_file {
            diagnostics.push(
                Diagnostic::error(
                    "missing-themes-file",
                    display_path(root, Path::new("themes.yaml")),
                    "there is no `themes.yaml` at the root of the content folder",
                )
                .help("create `themes.yaml` with the list of themes projects can use"),
            );
        }
    }

    /// The site: each project with its news (newest first) and assets in
    /// its territory, territories and sponsors in slug order.
    fn into_site(mut self, root: &Path) -> Site {
        let mut by_territory: BTreeMap<String, Vec<Project>> = BTreeMap::new();
        for ((territory, slug), doc) in std::mem::take(&mut self.projects) {
            let key = (territory, slug);
            let mut news = self.news.remove(&key).unwrap_or_default();
            news.sort_by(|a, b| b.meta.date.cmp(&a.meta.date).then(a.slug.cmp(&b.slug)));
            let assets = self.project_assets.remove(&key).unwrap_or_default();
            let (territory, _) = key;
            by_territory
                .entry(territory.clone())
                .or_default()
                .push(Project {
                    doc,
                    territory,
                    news,
                    assets,
                });
        }
        let mut territories = Vec::new();
        for (slug, doc) in std::mem::take(&mut self.territories) {
            let Some(doc) = doc else { continue };
            // Projects come out of a sorted map, so they are in slug order.
            let projects = by_territory.remove(&slug).unwrap_or_default();
            let mut calls = self.calls.remove(&slug).unwrap_or_default();
            calls.sort_by(|a, b| a.slug.cmp(&b.slug));
            territories.push(Territory {
                assets: self.territory_assets.remove(&slug).unwrap_or_default(),
                doc,
                calls,
                projects,
            });
        }
        self.sponsors.sort_by(|a: &Sponsor, b| a.slug.cmp(&b.slug));
        Site {
            root: root.to_path_buf(),
            config: self.config.unwrap_or_else(SiteConfig::fallback),
            themes: self.themes.unwrap_or_default(),
            sponsors: self.sponsors,
            sponsor_assets: self.sponsor_assets,
            territories,
            asset_versions: Default::default(),
        }
    }
}

fn assemble(
    root: &Path,
    results: Vec<FileResult>,
    folders: &[PathBuf],
    diagnostics: Vec<Diagnostic>,
) -> Loaded {
    let mut loaded = Loaded {
        diagnostics,
        ..Loaded::default()
    };
    let mut parts = Parts::default();
    for r in results {
        loaded.diagnostics.extend(r.diagnostics);
        loaded.issues.extend(r.issues);
        if let Some(file) = r.file {
            loaded.files.insert(r.shown.clone(), file);
        }
        parts.add(&r.kind, r.parsed);
    }
    let project_folders = parts.check_folders(root, folders, &mut loaded.diagnostics);
    parts.check_root_files(root, &mut loaded.diagnostics);
    loaded.flags = LoadFlags {
        site: parts.config.is_some(),
        themes: parts.themes.is_some(),
        project_folders,
        territory_folders: parts.territories.keys().cloned().collect(),
        call_files: std::mem::take(&mut parts.call_files),
        sponsor_files: std::mem::take(&mut parts.sponsor_files),
    };
    loaded.site = Some(parts.into_site(root));
    loaded
}

fn load_file(root: &Path, canonical: &Path, rel: &Path) -> FileResult {
    let shown = display_path(root, rel);
    let kind = classify(rel);
    let mut result = FileResult::new(&kind, &shown);
    if let Some(refused) = link_outside(root, canonical, rel, &shown) {
        result.diagnostics.push(refused);
        return result;
    }
    let published = matches!(
        kind,
        Kind::ProjectAsset { .. } | Kind::TerritoryAsset { .. } | Kind::SponsorAsset { .. }
    );
    if published {
        result.diagnostics = check_published(&root.join(rel), &shown);
        if !result.diagnostics.is_empty() {
            return result;
        }
    }
    match kind {
        Kind::ProjectAsset {
            territory,
            project,
            path,
        } => {
            result.parsed = Parsed::ProjectAsset(territory, project, path);
            return result;
        }
        Kind::TerritoryAsset { territory, path } => {
            result.parsed = Parsed::TerritoryAsset(territory, path);
            return result;
        }
        Kind::SponsorAsset { path } => {
            result.parsed = Parsed::SponsorAsset(path);
            return result;
        }
        Kind::Documentation => return result,
        Kind::Unexpected => {
            let name = rel.to_string_lossy();
            let is_text = [".md", ".yaml", ".yml", ".markdown"]
                .iter()
                .any(|e| name.ends_with(e));
            if is_text {
                result.diagnostics.push(
                    Diagnostic::error(
                        "unexpected-file",
                        &shown,
                        "this file is not where Pavé looks for content, so it would be ignored",
                    )
                    .help(
                        "content files are site.yaml, themes.yaml, sponsors/<slug>.md, \
                             territories/<t>/_territory.md, territories/<t>/calls/<slug>.md, \
                             territories/<t>/projects/<slug>/index.md and \
                             territories/<t>/projects/<slug>/news/<date>-<slug>.md",
                    ),
                );
            }
            return result;
        }
        _ => {}
    }
    match source::read(&root.join(rel), shown) {
        Ok(source) => parse(kind, &source, result),
        Err(d) => {
            result.diagnostics.push(d);
            result
        }
    }
}

/// Parses a content file's text as its place (`kind`) says, into `result`:
/// pure (the text is given), so rules and diagnostics are tested on strings.
fn parse(kind: Kind, source: &Source, mut result: FileResult) -> FileResult {
    let shown = source.path.clone();
    let is_markdown = !matches!(kind, Kind::Site | Kind::Themes);
    let front = if is_markdown {
        match source::split_front_matter(source) {
            Ok(fm) => Some(fm),
            Err(d) => {
                result.diagnostics.push(d);
                result.file = Some(FileText {
                    text: source.text.clone(),
                    yaml: 0..0,
                    line_offset: 0,
                });
                return result;
            }
        }
    } else {
        None
    };
    let offset_of = |part: &str| part.as_ptr() as usize - source.text.as_ptr() as usize;
    let (yaml_range, line_offset, body_range) = match &front {
        Some(fm) => {
            let start = offset_of(fm.yaml);
            let body = offset_of(fm.body);
            (
                start..start + fm.yaml.len(),
                fm.line_offset,
                body..body + fm.body.len(),
            )
        }
        None => (0..source.text.len(), 0, 0..0),
    };
    result.file = Some(FileText {
        text: source.text.clone(),
        yaml: yaml_range.clone(),
        line_offset,
    });
    let yaml_text = &source.text[yaml_range];
    let body = Slice::new(source.text.clone(), body_range);

    let mut ctx = ParseCtx {
        source,
        line_offset,
        result: &mut result,
    };
    fn doc<M>(slug: String, meta: M, body: &Slice, file: &Path) -> Doc<M> {
        Doc {
            slug,
            meta,
            body: body.clone(),
            file: file.to_path_buf(),
        }
    }
    let parsed = match kind {
        Kind::Site => ctx.parse::<SiteConfig>(yaml_text).map(Parsed::Site),
        Kind::Themes => ctx.parse::<ThemesFile>(yaml_text).map(Parsed::Themes),
        Kind::Sponsor { slug } => ctx
            .parse::<SponsorMeta>(yaml_text)
            .map(|meta| Parsed::Sponsor(doc(slug, meta, &body, &shown))),
        Kind::Territory { territory } => ctx
            .parse::<TerritoryMeta>(yaml_text)
            .map(|meta| Parsed::Territory(territory.clone(), doc(territory, meta, &body, &shown))),
        Kind::Call { territory, slug } => ctx
            .parse::<CallMeta>(yaml_text)
            .map(|meta| Parsed::Call(territory, doc(slug, meta, &body, &shown))),
        Kind::Project { territory, slug } => ctx
            .parse::<ProjectMeta>(yaml_text)
            .map(|meta| Parsed::Project(territory, doc(slug, meta, &body, &shown))),
        Kind::News {
            territory,
            project,
            slug,
        } => ctx
            .parse::<NewsMeta>(yaml_text)
            .map(|meta| Parsed::News(territory, project, doc(slug, meta, &body, &shown))),
        _ => None,
    };
    result.parsed = parsed.unwrap_or(Parsed::Nothing);
    result
}

impl FileResult {
    fn new(kind: &Kind, shown: &Path) -> FileResult {
        FileResult {
            kind: kind.clone(),
            shown: shown.to_path_buf(),
            file: None,
            parsed: Parsed::Nothing,
            diagnostics: Vec::new(),
            issues: Vec::new(),
        }
    }
}

struct ParseCtx<'a> {
    source: &'a Source,
    line_offset: usize,
    result: &'a mut FileResult,
}

impl ParseCtx<'_> {
    fn parse<T: DeserializeOwned + 'static>(&mut self, yaml_text: &str) -> Option<T> {
        if yaml_text.trim().is_empty() {
            self.result.diagnostics.push(
                Diagnostic::error(
                    "empty-front-matter",
                    &self.source.path,
                    "this file has no fields",
                )
                .at(self.line_offset.max(1), 1)
                .help("fill in the required fields (see docs/content.md for an example)"),
            );
            return None;
        }
        let (value, unknown) = match yaml::parse::<T>(yaml_text) {
            Ok((value, unknown)) => (Ok(value), unknown),
            Err((e, unknown)) => (Err(e), unknown),
        };
        // Unknown fields are reported unless the YAML is broken: their positions
        // would be unknown, and the syntax error comes first.
        let syntax_broken = matches!(&value, Err(e) if e.kind != yaml::YamlErrorKind::Data);
        if !syntax_broken {
            for UnknownField { path } in unknown {
                self.result
                    .issues
                    .push(unknown_field_issue::<T>(&self.source.path, path));
            }
        }
        match value {
            Ok(value) => Some(value),
            Err(e) => {
                let (code, help) = classify_yaml_error(e.kind, &e.message);
                let message = match e.kind {
                    yaml::YamlErrorKind::TooComplex => format!(
                        "this front matter is too large or too deeply nested to read safely ({})",
                        e.message
                    ),
                    _ => e.message,
                };
                let mut d = Diagnostic::error(code, &self.source.path, message)
                    .at(e.line + self.line_offset, e.column);
                if let Some(help) = help {
                    d = d.help(help);
                }
                self.result.diagnostics.push(d);
                None
            }
        }
    }
}

/// A file that is a link is refused unless it resolves to a file inside
/// the content folder (`canonical`): content can only use its own files.
fn link_outside(root: &Path, canonical: &Path, rel: &Path, shown: &Path) -> Option<Diagnostic> {
    let full = root.join(rel);
    let is_link = std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return None;
    }
    let fix = "replace the link by the file itself: content can only use its own files";
    match assets::resolve_inside(canonical, &full) {
        Ok(target) if target.is_file() => None,
        Ok(_) => Some(
            Diagnostic::error(
                "link-to-folder",
                shown,
                "this is a link to a folder: Pavé does not follow links to folders",
            )
            .help("move the folder here instead of linking to it"),
        ),
        Err(assets::Outside::Leaves(target)) => Some(
            Diagnostic::error(
                "link-outside-content",
                shown,
                format!(
                    "this file is a link to {}, outside the content folder",
                    target.display()
                ),
            )
            .help(fix),
        ),
        Err(assets::Outside::Broken(_)) => Some(
            Diagnostic::error("broken-link", shown, "this file is a link to nothing").help(fix),
        ),
    }
}

/// The checks of a file published as it is (an image next to a page): its
/// kind, its size, and for an SVG, no active content.
fn check_published(path: &Path, shown: &Path) -> Vec<Diagnostic> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !assets::is_published_kind(name) {
        return vec![
            Diagnostic::error(
                "unsupported-file",
                shown,
                format!(
                    "`{name}` would be published on the site, but only images and PDF documents are"
                ),
            )
            .help(format!(
                "keep only files ending in {} here (other files, such as web pages or scripts, are never published)",
                assets::PUBLISHED_EXTENSIONS
                    .iter()
                    .map(|e| format!(".{e}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ];
    }
    let size = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => {
            return vec![
                Diagnostic::error("unreadable-file", shown, format!("cannot read: {e}"))
                    .help("check the permissions of this file"),
            ];
        }
    };
    if size > assets::MAX_ASSET_BYTES {
        return vec![
            Diagnostic::error(
                "file-too-large",
                shown,
                format!(
                    "this file is {} — published files must stay under {} MiB",
                    source::human_size(size),
                    assets::MAX_ASSET_BYTES / (1024 * 1024)
                ),
            )
            .help("make the image smaller (a cover of 1600 pixels wide is plenty)"),
        ];
    }
    if assets::extension(name).as_deref() != Some("svg") {
        return Vec::new();
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return vec![
                Diagnostic::error("unreadable-file", shown, format!("cannot read: {e}"))
                    .help("check the permissions of this file"),
            ];
        }
    };
    svg::check(&bytes)
        .into_iter()
        .map(|p| {
            Diagnostic::error("svg-active-content", shown, p.message)
                .at(p.line as usize, p.column as usize)
                .help(
                    "an SVG must be a picture only: export it again without scripts, links or                      embedded HTML (e.g. with svgo, or Inkscape's \"Optimized SVG\"), or use a PNG",
                )
        })
        .collect()
}

fn unknown_field_issue<T: 'static>(file: &Path, path: YamlPath) -> Issue {
    let name = match path.last() {
        Some(yaml::Seg::Key(k)) => k.clone(),
        _ => String::new(),
    };
    let expected = crate::validate::schema::expected_fields::<T>(&path);
    let help = match yaml::did_you_mean(&name, expected) {
        Some(candidate) => format!("did you mean `{candidate}`?"),
        None if expected.is_empty() => "remove this field".to_string(),
        None => format!(
            "remove it; the fields accepted here are: {}",
            expected.join(", ")
        ),
    };
    Issue::at_key(
        file,
        path,
        "unknown-field",
        format!("unknown field `{name}`"),
    )
    .help(help)
}

fn classify_yaml_error(kind: yaml::YamlErrorKind, message: &str) -> (&'static str, Option<String>) {
    match kind {
        yaml::YamlErrorKind::TooComplex => (
            "yaml-too-complex",
            Some(
                "front matter is a few plain fields: remove anchors/aliases and deep nesting"
                    .into(),
            ),
        ),
        yaml::YamlErrorKind::Syntax => (
            "yaml-syntax",
            Some("check indentation and quoting: text containing `: ` or starting with `#`, `@`, `*`, `&` or `[` must be in quotes".into()),
        ),
        yaml::YamlErrorKind::Data if message.contains("missing field") => (
            "missing-field",
            Some("add this field; docs/content.md lists the required fields of each file".into()),
        ),
        yaml::YamlErrorKind::Data if message.starts_with("duplicate field") => (
            "duplicate-field",
            Some("keep one of the two lines".into()),
        ),
        yaml::YamlErrorKind::Data if message.contains("unknown variant") => {
            ("unknown-value", Some("use one of the values listed".into()))
        }
        yaml::YamlErrorKind::Data => (
            "wrong-type",
            Some("check the value's type: numbers without quotes or units, dates as YYYY-MM-DD, lists in [ ]".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_parsed_from_its_text() {
        let kind = classify(Path::new(
            "territories/se/projects/cafe/news/2026-01-02-x.md",
        ));
        let text = "---\ntitle: Ouverture\ndate: 2026-01-02\ndat: 2026-01-03\n---\nBonjour.\n";
        let source = source::from_bytes(text.as_bytes().to_vec(), "x.md".into()).unwrap();
        let result = parse(
            kind.clone(),
            &source,
            FileResult::new(&kind, Path::new("x.md")),
        );
        let Parsed::News(territory, project, news) = result.parsed else {
            panic!("not parsed as news");
        };
        assert_eq!((territory.as_str(), project.as_str()), ("se", "cafe"));
        assert_eq!(news.meta.title, "Ouverture");
        assert_eq!(&*news.body, "Bonjour.\n");
        assert_eq!(result.issues.len(), 1, "the unknown field `dat`");
    }

    #[test]
    fn site_config_is_read_through_the_model() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("site.yaml"),
            "title: T\ntagline: x\nbase_url: 'https://pave.example'\napi_url: /api\n\
             languages: [fr]\ntimezone: \"America/Cayenne\"\n",
        )
        .unwrap();
        let site = read_site_config(dir.path()).unwrap();
        assert_eq!(site.timezone, "America/Cayenne", "a quoted time zone");
        assert_eq!(site.base_url, "https://pave.example");
        std::fs::write(dir.path().join("site.yaml"), "title: [").unwrap();
        assert!(read_site_config(dir.path()).is_none());
    }

    #[test]
    fn classifies_content_paths() {
        assert_eq!(classify(Path::new("site.yaml")), Kind::Site);
        assert_eq!(
            classify(Path::new("territories/se/projects/cafe/index.md")),
            Kind::Project {
                territory: "se".into(),
                slug: "cafe".into()
            }
        );
        assert_eq!(
            classify(Path::new("territories/se/projects/cafe/cover.jpg")),
            Kind::ProjectAsset {
                territory: "se".into(),
                project: "cafe".into(),
                path: "cover.jpg".into()
            }
        );
        assert_eq!(
            classify(Path::new("territories/se/projects/cafe/notes.md")),
            Kind::Unexpected
        );
        assert_eq!(
            classify(Path::new("territories/se/territory.md")),
            Kind::Unexpected
        );
    }
}
