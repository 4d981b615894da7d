//! The content model: what a city, a sponsor and a project holder write.
//!
//! These types mirror the files under `content/` one to one (see
//! `docs/content.md`). Money is `Decimal`, dates are civil dates. Required
//! fields that a rule needs to check are still plain fields: serde reports a
//! missing one with its position, and `validate` checks the rest.

use crate::text::Slice;
use std::path::PathBuf;

pub use crate::link::Link;
/// The kinds both halves name (`pave-contract`): the content's spelling is
/// the catalog's.
pub use pave_contract::{Funding, HolderKind, PoolMode, Status};

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money;

/// `content/site.yaml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SiteConfig {
    pub title: String,
    pub tagline: String,
    pub base_url: String,
    pub api_url: String,
    pub languages: Vec<String>,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default)]
    pub pledge: PledgeBounds,
    #[serde(default)]
    pub contact: Option<String>,
}

impl SiteConfig {
    /// Stands in for a `site.yaml` that failed to load, so the other files
    /// can still be checked (the site's own error is reported separately).
    pub fn fallback() -> SiteConfig {
        SiteConfig {
            title: String::new(),
            tagline: String::new(),
            base_url: String::new(),
            api_url: String::new(),
            languages: vec!["fr".into(), "en".into()],
            timezone: default_timezone(),
            currency: default_currency(),
            pledge: PledgeBounds::default(),
            contact: None,
        }
    }
}

fn default_timezone() -> String {
    "Europe/Paris".into()
}

fn default_currency() -> String {
    "EUR".into()
}

/// Bounds of one citizen pledge, in euros.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PledgeBounds {
    #[serde(default = "one", deserialize_with = "money::de")]
    pub min: Decimal,
    #[serde(default = "five_hundred", deserialize_with = "money::de")]
    pub max: Decimal,
}

impl Default for PledgeBounds {
    fn default() -> Self {
        PledgeBounds {
            min: one(),
            max: five_hundred(),
        }
    }
}

fn one() -> Decimal {
    Decimal::ONE
}

fn five_hundred() -> Decimal {
    Decimal::from(500)
}

/// `content/themes.yaml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ThemesFile {
    pub themes: Vec<Theme>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Theme {
    pub slug: String,
    pub name: Names,
    #[serde(default)]
    pub description: Option<String>,
}

/// A name in each interface language; French is required.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Names {
    pub fr: String,
    #[serde(default)]
    pub en: Option<String>,
}

impl Names {
    pub fn get(&self, lang: &str) -> &str {
        match lang {
            "en" => self.en.as_deref().unwrap_or(&self.fr),
            _ => &self.fr,
        }
    }
}

/// Front matter of `content/sponsors/<slug>.md`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SponsorMeta {
    pub name: String,
    pub kind: SponsorKind,
    #[serde(default)]
    pub website: Option<Link>,
    #[serde(default)]
    pub logo: Option<String>,
    pub pools: Vec<Pool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SponsorKind {
    Foundation,
    Company,
    Public,
}

/// A matching pool ("abondement"): a budget a sponsor adds to citizens' pledges.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Pool {
    pub slug: String,
    pub title: String,
    pub mode: PoolMode,
    #[serde(deserialize_with = "money::de")]
    pub budget: Decimal,
    pub start: Date,
    pub end: Date,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub ratio: Option<Decimal>,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub max_per_pledge: Option<Decimal>,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub max_per_project: Option<Decimal>,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub max_per_donor: Option<Decimal>,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub threshold: Option<Decimal>,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub share_of_goal: Option<Decimal>,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub amount: Option<Decimal>,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub min_progress: Option<Decimal>,
    #[serde(default)]
    pub min_backers: Option<u32>,
}

/// Where a pool applies; an empty list does not restrict.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Scope {
    #[serde(default)]
    pub territories: Vec<String>,
    #[serde(default)]
    pub themes: Vec<String>,
    #[serde(default)]
    pub projects: Vec<String>,
}

/// Front matter of `content/territories/<slug>/_territory.md`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TerritoryMeta {
    pub name: String,
    pub region: String,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(deserialize_with = "money::de")]
    pub max_goal: Decimal,
    pub campaign: CampaignRules,
    #[serde(deserialize_with = "money::de")]
    pub overfunding_cap: Decimal,
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    pub branding: Branding,
    /// Whether backers may leave a short public message on the wall of
    /// backers (off unless the territory's editors turn it on: they answer
    /// for what is shown).
    #[serde(default)]
    pub backer_messages: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CampaignRules {
    pub default_days: u32,
    pub max_days: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Branding {
    pub primary: String,
    #[serde(default)]
    pub accent: Option<String>,
    #[serde(default)]
    pub logo: Option<String>,
}

/// Front matter of `content/territories/<t>/calls/<slug>.md`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CallMeta {
    pub title: String,
    pub summary: String,
    pub themes: Vec<String>,
    pub opens: Date,
    pub deadline: Date,
    #[serde(default)]
    pub featured: bool,
    #[serde(default)]
    pub sponsor: Option<String>,
}

/// Front matter of `content/territories/<t>/projects/<slug>/index.md`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ProjectMeta {
    pub title: String,
    pub summary: String,
    pub holder: Holder,
    pub themes: Vec<String>,
    #[serde(deserialize_with = "money::de")]
    pub goal: Decimal,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub cap: Option<Decimal>,
    pub funding: Funding,
    pub campaign: Campaign,
    #[serde(default)]
    pub rewards: Vec<Reward>,
    #[serde(default)]
    pub needs: Vec<Need>,
    #[serde(default)]
    pub support: Vec<Support>,
    pub location: Location,
    pub status: Status,
    #[serde(default)]
    pub call: Option<String>,
    #[serde(default)]
    pub featured: bool,
    #[serde(default)]
    pub cover: Option<Cover>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Holder {
    pub name: String,
    pub kind: HolderKind,
    #[serde(default)]
    pub website: Option<Link>,
    /// An association eligible to issue French tax receipts (reçu fiscal).
    #[serde(default)]
    pub tax_receipt: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Campaign {
    pub start: Date,
    #[serde(default)]
    pub end: Option<Date>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Reward {
    #[serde(deserialize_with = "money::de")]
    pub min: Decimal,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Need {
    pub kind: NeedKind,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedKind {
    Volunteers,
    Equipment,
    Skills,
    Space,
    Hosting,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Support {
    pub kind: SupportKind,
    pub actor: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "money::de_opt")]
    pub amount: Option<Decimal>,
    /// The actor's page about this support (a label's, a lender's).
    #[serde(default)]
    pub website: Option<Link>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportKind {
    Label,
    Loan,
    Accompaniment,
    Funding,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Location {
    pub address: String,
    pub city: String,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Cover {
    pub src: String,
    pub alt: String,
}

/// Front matter of `projects/<p>/news/<date>-<slug>.md`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NewsMeta {
    pub title: String,
    pub date: Date,
}

/// A Markdown document: its front matter and its body, with where it came from.
#[derive(Debug, Clone)]
pub struct Doc<M> {
    pub slug: String,
    pub meta: M,
    pub body: Slice,
    pub file: PathBuf,
}

pub type Sponsor = Doc<SponsorMeta>;
pub type Call = Doc<CallMeta>;
pub type News = Doc<NewsMeta>;

#[derive(Debug, Clone)]
pub struct Project {
    pub doc: Doc<ProjectMeta>,
    pub territory: String,
    pub news: Vec<News>,
    /// Files next to `index.md` (cover, images), relative to the project folder.
    pub assets: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Territory {
    pub doc: Doc<TerritoryMeta>,
    pub calls: Vec<Call>,
    pub projects: Vec<Project>,
    pub assets: Vec<PathBuf>,
}

/// Everything under `content/`, loaded.
#[derive(Debug, Clone)]
pub struct Site {
    pub root: PathBuf,
    pub config: SiteConfig,
    pub themes: Vec<Theme>,
    pub sponsors: Vec<Sponsor>,
    /// Files in `sponsors/` besides the sponsors' pages (their logos).
    pub sponsor_assets: Vec<PathBuf>,
    pub territories: Vec<Territory>,
    /// The fingerprint of each content file the site publishes (covers,
    /// logos), by its URL: pages name them `…?v=<fingerprint>`, so they can
    /// be cached for a year (`headers::Caching::Immutable`) and a new file
    /// has a new address. Filled by `build::load_site`.
    pub asset_versions: std::collections::HashMap<String, String>,
}

impl Site {
    /// A content file's URL with its fingerprint, when it has one.
    pub fn asset_url(&self, url: String) -> String {
        match self.asset_versions.get(&url) {
            Some(version) => format!("{url}?v={version}"),
            None => url,
        }
    }

    /// Every project's news items, for the readers who asked for them
    /// (`pave_functions::mail::news`).
    pub fn announcements(&self) -> Vec<pave_contract::news::Announcement> {
        self.projects()
            .flat_map(|p| {
                p.news.iter().map(|n| pave_contract::news::Announcement {
                    project: p.doc.slug.clone(),
                    id: n.slug.clone(),
                    title: n.meta.title.clone(),
                    date: n.meta.date,
                    text: n.body.trim().to_string(),
                })
            })
            .collect()
    }

    pub fn projects(&self) -> impl Iterator<Item = &Project> {
        self.territories.iter().flat_map(|t| t.projects.iter())
    }
}

impl ProjectMeta {
    /// The last day of the campaign, defaulting to the territory's default length.
    pub fn campaign_end(&self, rules: &CampaignRules) -> Date {
        self.campaign.end.unwrap_or_else(|| {
            self.campaign
                .start
                .checked_add(jiff::Span::new().days(i64::from(rules.default_days.max(1)) - 1))
                .unwrap_or(self.campaign.start)
        })
    }

    /// The cap on what the project may collect, defaulting to goal × overfunding cap.
    pub fn effective_cap(&self, overfunding_cap: Decimal) -> Decimal {
        self.cap.unwrap_or_else(|| {
            (self.goal * overfunding_cap)
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
        })
    }
}
