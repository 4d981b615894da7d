//! `catalog.json`, version 1: the reviewed rules of every project, reward and
//! sponsor pool, as the generator publishes them (`pave_generator::render::
//! catalog::build`) and the functions read them ([`Catalog::from_json`]; see
//! ARCHITECTURE.md, "Contracts").
//!
//! Reading is strict, because a silently dropped rule would spend money: an
//! unknown field is refused, and every field of the documented shape must be
//! present (optional rules are given as `null`, never left out). Every pool a
//! project lists must exist.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use crate::kinds::{Funding, HolderKind, PoolMode, Status};

/// The version of `catalog.json` this build writes and reads.
pub const CATALOG_VERSION: u32 = 1;

/// Why a `catalog.json` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The bytes are not JSON, or not the documented shape.
    #[error("catalog.json is not a valid version 1 catalog: {0}")]
    Json(#[from] serde_json::Error),
    /// The file has no `version`.
    #[error("catalog.json has no `version` field; expected version {CATALOG_VERSION}")]
    MissingVersion,
    /// The file is another version of the contract.
    #[error(
        "catalog.json is version {found}, this build reads version {CATALOG_VERSION} only; \
         rebuild the site and the functions from the same release"
    )]
    UnsupportedVersion { found: u64 },
    /// A project lists a pool the catalog does not define.
    #[error("project `{project}` lists pool `{pool}`, which is not in the catalog's `pools`")]
    UnknownPool { project: String, pool: String },
}

/// The whole catalog: site-wide pledge bounds, projects and pools by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Always [`CATALOG_VERSION`] once read.
    pub version: u32,
    /// ISO 4217 code; `EUR`.
    pub currency: String,
    /// Smallest pledge accepted, in euros.
    #[serde(with = "rust_decimal::serde::str")]
    pub pledge_min: Decimal,
    /// Largest pledge accepted, in euros.
    #[serde(with = "rust_decimal::serde::str")]
    pub pledge_max: Decimal,
    /// Projects by slug.
    pub projects: BTreeMap<String, CatalogProject>,
    /// Pools by id (`sponsor/pool`).
    pub pools: BTreeMap<String, CatalogPool>,
}

/// One project's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogProject {
    pub title: String,
    /// Territory slug.
    pub territory: String,
    /// Theme slugs.
    pub themes: Vec<String>,
    pub status: Status,
    /// The goal, in euros.
    #[serde(with = "rust_decimal::serde::str")]
    pub goal: Decimal,
    /// The most the project may collect, citizens and matching together.
    #[serde(with = "rust_decimal::serde::str")]
    pub cap: Decimal,
    pub funding: Funding,
    /// First day of the campaign.
    pub start: Date,
    /// Last day of the campaign; it ends at 23:59:59 that day in `timezone`.
    pub end: Date,
    /// IANA time zone of the campaign dates, e.g. `Europe/Paris`.
    pub timezone: String,
    pub rewards: Vec<CatalogReward>,
    /// Ids of the pools that may match this project, in the fixed order
    /// matching applies them.
    pub pools: Vec<String>,
    /// Who carries the project (named in the donors' emails).
    pub holder: CatalogHolder,
    /// The titles of the needs the project lists, in the page's order (an
    /// offer of help names one by its index, or none). A catalog written
    /// before titles were carried gives their number: untitled needs.
    #[serde(default, deserialize_with = "need_titles")]
    pub needs: Vec<String>,
    /// Backers may leave a short public message (the territory's
    /// `backer_messages`, off by default).
    #[serde(default)]
    pub messages: bool,
}

/// `needs`: the titles, or (an older catalog) how many there are.
fn need_titles<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Needs {
        Titles(Vec<String>),
        Count(u16),
    }
    Ok(match Needs::deserialize(d)? {
        Needs::Titles(titles) => titles,
        Needs::Count(n) => vec![String::new(); usize::from(n)],
    })
}

/// A project's holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogHolder {
    pub name: String,
    pub kind: HolderKind,
    /// An association that may issue French tax receipts (reçus fiscaux);
    /// the generator refuses it for any other kind.
    pub tax_receipt: bool,
}

impl Default for CatalogHolder {
    fn default() -> Self {
        CatalogHolder {
            name: String::new(),
            kind: HolderKind::Collective,
            tax_receipt: false,
        }
    }
}

impl CatalogHolder {
    /// Whether the donors of its projects are told how to get a reçu fiscal.
    pub fn issues_tax_receipts(&self) -> bool {
        self.tax_receipt && self.kind == HolderKind::Association
    }
}

/// One reward of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogReward {
    /// Position in the project's list; snapshots count rewards by it.
    pub index: usize,
    /// Smallest pledge that earns it, in euros.
    #[serde(with = "rust_decimal::serde::str")]
    pub min: Decimal,
    pub title: String,
    /// How many may be taken; `null` for no limit.
    #[serde(deserialize_with = "Option::deserialize")]
    pub limit: Option<u32>,
}

/// One sponsor pool's rules. The fields that do not apply to its `mode` are
/// `null` (the generator refuses them in content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogPool {
    /// Sponsor slug.
    pub sponsor: String,
    /// Sponsor's public name.
    pub sponsor_name: String,
    pub title: String,
    pub mode: PoolMode,
    /// The total the pool may ever spend, in euros.
    #[serde(with = "rust_decimal::serde::str")]
    pub budget: Decimal,
    /// First day the pool matches.
    pub start: Date,
    /// Last day the pool matches.
    pub end: Date,
    /// per_pledge: euros added per citizen euro.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub ratio: Option<Decimal>,
    /// per_pledge: most matched for one pledge.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub max_per_pledge: Option<Decimal>,
    /// per_pledge, on_success: most matched for one project.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub max_per_project: Option<Decimal>,
    /// per_pledge: most matched for the pledges of one donor on one project.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub max_per_donor: Option<Decimal>,
    /// per_pledge: share of the goal citizens must reach before matching starts.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub threshold: Option<Decimal>,
    /// on_success: share of the goal added on success.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub share_of_goal: Option<Decimal>,
    /// lump_sum: the fixed amount, in euros.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub amount: Option<Decimal>,
    /// lump_sum: share of the goal the project must reach.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub min_progress: Option<Decimal>,
    /// lump_sum: distinct donors the project must have.
    #[serde(deserialize_with = "Option::deserialize")]
    pub min_backers: Option<u32>,
}

impl CatalogPool {
    /// Whether `day` is within the pool's dates (both ends included).
    pub fn is_open_on(&self, day: Date) -> bool {
        self.start <= day && day <= self.end
    }
}

/// Just the version, read before the rest so another version gets a clear
/// error rather than a shape error.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<u64>,
}

impl Catalog {
    /// Reads `catalog.json`, refusing any version but [`CATALOG_VERSION`],
    /// any unknown or missing field, and any project pool that is not defined.
    pub fn from_json(bytes: &[u8]) -> Result<Catalog, CatalogError> {
        let probe: VersionProbe = serde_json::from_slice(bytes)?;
        match probe.version {
            None => return Err(CatalogError::MissingVersion),
            Some(found) if found == u64::from(CATALOG_VERSION) => {}
            Some(found) => return Err(CatalogError::UnsupportedVersion { found }),
        }
        let catalog: Catalog = serde_json::from_slice(bytes)?;
        for (slug, project) in &catalog.projects {
            if let Some(pool) = project
                .pools
                .iter()
                .find(|id| !catalog.pools.contains_key(*id))
            {
                return Err(CatalogError::UnknownPool {
                    project: slug.clone(),
                    pool: pool.clone(),
                });
            }
        }
        Ok(catalog)
    }

    /// Reads a `catalog.json` file ([`Catalog::from_json`]); the error names
    /// the file.
    pub fn read(path: &std::path::Path) -> Result<Catalog, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Catalog::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The pools of `project`, in the order matching applies them. Ids the
    /// catalog does not define are skipped ([`Catalog::from_json`] refuses them).
    pub fn pools_of<'a>(&'a self, project: &'a CatalogProject) -> Vec<(&'a str, &'a CatalogPool)> {
        project
            .pools
            .iter()
            .filter_map(|id| self.pools.get(id).map(|pool| (id.as_str(), pool)))
            .collect()
    }
}

#[doc(hidden)]
pub mod fixtures {
    /// A realistic catalog, for tests on both sides of the contract.
    pub const SAMPLE: &str = r#"{
  "version": 1, "currency": "EUR", "pledge_min": "1", "pledge_max": "500",
  "projects": {
    "cafe-du-coin": {
      "title": "Le Café du Coin — café, AMAP et ressourcerie",
      "territory": "saint-etienne", "themes": ["alimentation", "reemploi"],
      "status": "live", "goal": "6000", "cap": "7500", "funding": "all_or_nothing",
      "start": "2026-11-01", "end": "2026-12-20", "timezone": "Europe/Paris",
      "rewards": [
        { "index": 0, "min": "5", "title": "Un café équitable offert", "limit": null },
        { "index": 1, "min": "10", "title": "Un repas à la soirée de lancement", "limit": 80 }
      ],
      "pools": ["ville-de-saint-etienne/coup-de-pouce-2026", "ville-de-saint-etienne/projets-citoyens-2026"],
      "holder": { "name": "Alexis et Clément", "kind": "collective", "tax_receipt": false }
    },
    "atelier-velo-le-puy": {
      "title": "La Rustine", "territory": "auvergne", "themes": ["mobilite"],
      "status": "closed", "goal": "8000", "cap": "16000", "funding": "keep_it_all",
      "start": "2026-03-01", "end": "2026-05-15", "timezone": "Europe/Paris",
      "rewards": [],
      "pools": ["region-auvergne-rhone-alpes/initiatives-auvergne-2026"],
      "holder": { "name": "Les Amis du Puy", "kind": "association", "tax_receipt": true }
    }
  },
  "pools": {
    "fondation-btp-plus/habitat-2026": {
      "sponsor": "fondation-btp-plus", "sponsor_name": "Fondation BTP Plus", "title": "Habitat 2026",
      "mode": "per_pledge", "budget": "20000", "start": "2026-01-01", "end": "2026-12-31",
      "ratio": "1", "max_per_pledge": "100", "max_per_project": "2000",
      "max_per_donor": null, "threshold": null, "share_of_goal": null,
      "amount": null, "min_progress": null, "min_backers": null
    },
    "region-auvergne-rhone-alpes/initiatives-auvergne-2026": {
      "sponsor": "region-auvergne-rhone-alpes", "sponsor_name": "Région Auvergne-Rhône-Alpes",
      "title": "Initiatives citoyennes", "mode": "per_pledge", "budget": "15000",
      "start": "2026-01-01", "end": "2026-12-31",
      "ratio": "0.5", "max_per_pledge": null, "max_per_project": "3000",
      "max_per_donor": "200", "threshold": "0.25", "share_of_goal": null,
      "amount": null, "min_progress": null, "min_backers": null
    },
    "ville-de-saint-etienne/coup-de-pouce-2026": {
      "sponsor": "ville-de-saint-etienne", "sponsor_name": "Ville de Saint-Étienne",
      "title": "Coup de pouce", "mode": "lump_sum", "budget": "3000",
      "start": "2026-09-01", "end": "2027-03-31",
      "ratio": null, "max_per_pledge": null, "max_per_project": null,
      "max_per_donor": null, "threshold": null, "share_of_goal": null,
      "amount": "500", "min_progress": "0.5", "min_backers": 20
    },
    "ville-de-saint-etienne/projets-citoyens-2026": {
      "sponsor": "ville-de-saint-etienne", "sponsor_name": "Ville de Saint-Étienne",
      "title": "Projets citoyens", "mode": "on_success", "budget": "25000.50",
      "start": "2026-01-01", "end": "2027-03-31",
      "ratio": null, "max_per_pledge": null, "max_per_project": "5000",
      "max_per_donor": null, "threshold": null, "share_of_goal": "0.5",
      "amount": null, "min_progress": null, "min_backers": null
    }
  }
}"#;
}

#[cfg(test)]
mod tests {
    use super::fixtures::SAMPLE;
    use super::*;
    use jiff::civil::date;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn reads_a_realistic_catalog() {
        let c = Catalog::from_json(SAMPLE.as_bytes()).unwrap();
        assert_eq!(c.version, 1);
        assert_eq!(c.currency, "EUR");
        assert_eq!((c.pledge_min, c.pledge_max), (d("1"), d("500")));

        let cafe = &c.projects["cafe-du-coin"];
        assert_eq!(cafe.status, Status::Live);
        assert_eq!(cafe.funding, Funding::AllOrNothing);
        assert_eq!((cafe.goal, cafe.cap), (d("6000"), d("7500")));
        assert_eq!(
            (cafe.start, cafe.end),
            (date(2026, 11, 1), date(2026, 12, 20))
        );
        assert_eq!(cafe.rewards[1].limit, Some(80));
        assert_eq!(cafe.rewards[0].limit, None);
        assert_eq!(cafe.rewards[1].min, d("10"));
        let order: Vec<&str> = c.pools_of(cafe).iter().map(|(id, _)| *id).collect();
        assert_eq!(
            order,
            [
                "ville-de-saint-etienne/coup-de-pouce-2026",
                "ville-de-saint-etienne/projets-citoyens-2026"
            ]
        );
        assert_eq!(
            c.projects["atelier-velo-le-puy"].funding,
            Funding::KeepItAll
        );
        assert_eq!(c.projects["atelier-velo-le-puy"].status, Status::Closed);

        let region = &c.pools["region-auvergne-rhone-alpes/initiatives-auvergne-2026"];
        assert_eq!(region.mode, PoolMode::PerPledge);
        assert_eq!(region.ratio, Some(d("0.5")));
        assert_eq!(region.threshold, Some(d("0.25")));
        assert_eq!(region.max_per_donor, Some(d("200")));
        assert_eq!(region.max_per_pledge, None);
        assert!(region.is_open_on(date(2026, 12, 31)));
        assert!(!region.is_open_on(date(2027, 1, 1)));

        let lump = &c.pools["ville-de-saint-etienne/coup-de-pouce-2026"];
        assert_eq!(lump.mode, PoolMode::LumpSum);
        assert_eq!((lump.amount, lump.min_backers), (Some(d("500")), Some(20)));
        let success = &c.pools["ville-de-saint-etienne/projets-citoyens-2026"];
        assert_eq!(success.mode, PoolMode::OnSuccess);
        assert_eq!(success.budget, d("25000.50"));
        assert_eq!(success.share_of_goal, Some(d("0.5")));
    }

    #[test]
    fn needs_are_titles_or_an_older_catalog_s_count() {
        let with = |needs: &str| {
            SAMPLE.replacen(
                r#""holder": {"#,
                &format!(r#""needs": {needs}, "holder": {{"#),
                1,
            )
        };
        let c = Catalog::from_json(with(r#"["Des bras", "Un local"]"#).as_bytes()).unwrap();
        let titled = c.projects.values().find(|p| !p.needs.is_empty()).unwrap();
        assert_eq!(titled.needs, ["Des bras", "Un local"]);
        let c = Catalog::from_json(with("3").as_bytes()).unwrap();
        let counted = c.projects.values().find(|p| !p.needs.is_empty()).unwrap();
        assert_eq!(counted.needs, ["", "", ""]);
        assert!(Catalog::from_json(with(r#""trois""#).as_bytes()).is_err());
    }

    #[test]
    fn round_trips_through_json() {
        let c = Catalog::from_json(SAMPLE.as_bytes()).unwrap();
        let again = Catalog::from_json(&serde_json::to_vec(&c).unwrap()).unwrap();
        assert_eq!(c, again);
    }

    #[test]
    fn refuses_other_versions() {
        let v2 = SAMPLE.replacen("\"version\": 1", "\"version\": 2", 1);
        let err = Catalog::from_json(v2.as_bytes()).unwrap_err();
        assert!(matches!(err, CatalogError::UnsupportedVersion { found: 2 }));
        assert!(err.to_string().contains("version 2"), "{err}");

        let none = SAMPLE.replacen("\"version\": 1,", "", 1);
        let err = Catalog::from_json(none.as_bytes()).unwrap_err();
        assert!(matches!(err, CatalogError::MissingVersion), "{err}");
    }

    #[test]
    fn refuses_unknown_and_missing_fields() {
        let typo = SAMPLE.replacen(
            "\"max_per_donor\": \"200\"",
            "\"max_per_doner\": \"200\"",
            1,
        );
        assert!(matches!(
            Catalog::from_json(typo.as_bytes()),
            Err(CatalogError::Json(_))
        ));
        let missing = SAMPLE.replacen("\"min_backers\": 20", "\"min_backerz\": null", 1);
        let err = Catalog::from_json(missing.as_bytes()).unwrap_err();
        assert!(matches!(err, CatalogError::Json(_)), "{err}");
        let dropped = SAMPLE.replacen(", \"min_backers\": 20", "", 1);
        let err = Catalog::from_json(dropped.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("min_backers"), "{err}");
        let float = SAMPLE.replacen("\"goal\": \"6000\"", "\"goal\": 6000.5", 1);
        assert!(Catalog::from_json(float.as_bytes()).is_err());
        let mode = SAMPLE.replacen("\"mode\": \"lump_sum\"", "\"mode\": \"lumpsum\"", 1);
        assert!(Catalog::from_json(mode.as_bytes()).is_err());
    }

    #[test]
    fn refuses_a_project_pool_that_does_not_exist() {
        let bad = SAMPLE.replacen(
            "[\"region-auvergne-rhone-alpes/initiatives-auvergne-2026\"]",
            "[\"region/nope\"]",
            1,
        );
        let err = Catalog::from_json(bad.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, CatalogError::UnknownPool { project, pool } if project == "atelier-velo-le-puy" && pool == "region/nope"),
            "{err}"
        );
    }
}
