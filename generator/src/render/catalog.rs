//! `catalog.json` (generator → functions): the reviewed rules the money side
//! needs — per project its goal, cap, funding model, campaign and rewards, per
//! pool its rules — and nothing personal. Versioned; see ARCHITECTURE.md.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::*;

pub const CATALOG_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub version: u32,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub pledge_min: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub pledge_max: Decimal,
    pub projects: BTreeMap<String, CatalogProject>,
    /// Pools by id (`sponsor/pool`), in the fixed order matching applies them.
    pub pools: BTreeMap<String, CatalogPool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogProject {
    pub title: String,
    pub territory: String,
    pub themes: Vec<String>,
    pub status: Status,
    #[serde(with = "rust_decimal::serde::str")]
    pub goal: Decimal,
    /// The most the project may collect (citizens + matching).
    #[serde(with = "rust_decimal::serde::str")]
    pub cap: Decimal,
    pub funding: FundingModel,
    pub start: Date,
    /// Last day of the campaign; it ends at 23:59:59 that day in `timezone`.
    pub end: Date,
    pub timezone: String,
    pub rewards: Vec<CatalogReward>,
    /// Ids of the pools that may match this project, in application order.
    pub pools: Vec<String>,
    /// Who carries the project (named in the donors' emails).
    pub holder: CatalogHolder,
}

/// A project's holder: name, kind, and whether it issues French tax
/// receipts (reçus fiscaux; only an association may).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogHolder {
    pub name: String,
    pub kind: HolderKind,
    pub tax_receipt: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogReward {
    /// Position in the project's list; snapshots count rewards by it.
    pub index: usize,
    #[serde(with = "rust_decimal::serde::str")]
    pub min: Decimal,
    pub title: String,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogPool {
    pub sponsor: String,
    pub sponsor_name: String,
    pub title: String,
    pub mode: PoolMode,
    #[serde(with = "rust_decimal::serde::str")]
    pub budget: Decimal,
    pub start: Date,
    pub end: Date,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub ratio: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub max_per_pledge: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub max_per_project: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub max_per_donor: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub threshold: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub share_of_goal: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub amount: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub min_progress: Option<Decimal>,
    pub min_backers: Option<u32>,
}

/// A pool's id: `sponsor/pool`.
pub fn pool_id(sponsor: &Sponsor, pool: &Pool) -> String {
    format!("{}/{}", sponsor.slug, pool.slug)
}

/// Whether `pool` may match `project`: every scope list that is given
/// contains the project (its territory, one of its themes, its slug), and
/// the pool's dates overlap the campaign.
pub fn pool_applies(pool: &Pool, project: &Project, end: Date) -> bool {
    let scope = &pool.scope;
    let m = &project.doc.meta;
    (scope.territories.is_empty() || scope.territories.contains(&project.territory))
        && (scope.themes.is_empty() || m.themes.iter().any(|t| scope.themes.contains(t)))
        && (scope.projects.is_empty() || scope.projects.contains(&project.doc.slug))
        && pool.start <= end
        && pool.end >= m.campaign.start
}

/// The pools that apply to a project, in the catalog's fixed order (by id).
pub fn pools_for<'a>(
    site: &'a Site,
    territory: &Territory,
    project: &Project,
) -> Vec<(String, &'a Sponsor, &'a Pool)> {
    let end = project.doc.meta.campaign_end(&territory.doc.meta.campaign);
    let mut pools: Vec<_> = site
        .sponsors
        .iter()
        .flat_map(|s| s.meta.pools.iter().map(move |p| (pool_id(s, p), s, p)))
        .filter(|(_, _, p)| pool_applies(p, project, end))
        .collect();
    pools.sort_by(|a, b| a.0.cmp(&b.0));
    pools
}

/// Builds the catalog of the whole site.
pub fn build(site: &Site) -> Catalog {
    let mut projects = BTreeMap::new();
    for territory in &site.territories {
        let rules = &territory.doc.meta;
        let timezone = rules
            .timezone
            .clone()
            .unwrap_or_else(|| site.config.timezone.clone());
        for project in &territory.projects {
            let m = &project.doc.meta;
            projects.insert(
                project.doc.slug.clone(),
                CatalogProject {
                    title: m.title.clone(),
                    territory: territory.doc.slug.clone(),
                    themes: m.themes.clone(),
                    status: m.status,
                    goal: m.goal,
                    cap: m.effective_cap(rules.overfunding_cap),
                    funding: m.funding,
                    start: m.campaign.start,
                    end: m.campaign_end(&rules.campaign),
                    timezone: timezone.clone(),
                    rewards: m
                        .rewards
                        .iter()
                        .enumerate()
                        .map(|(index, r)| CatalogReward {
                            index,
                            min: r.min,
                            title: r.title.clone(),
                            limit: r.limit,
                        })
                        .collect(),
                    pools: pools_for(site, territory, project)
                        .into_iter()
                        .map(|(id, _, _)| id)
                        .collect(),
                    holder: CatalogHolder {
                        name: m.holder.name.clone(),
                        kind: m.holder.kind,
                        tax_receipt: m.holder.tax_receipt,
                    },
                },
            );
        }
    }
    let pools = site
        .sponsors
        .iter()
        .flat_map(|s| {
            s.meta.pools.iter().map(move |p| {
                (
                    pool_id(s, p),
                    CatalogPool {
                        sponsor: s.slug.clone(),
                        sponsor_name: s.meta.name.clone(),
                        title: p.title.clone(),
                        mode: p.mode,
                        budget: p.budget,
                        start: p.start,
                        end: p.end,
                        ratio: p.ratio,
                        max_per_pledge: p.max_per_pledge,
                        max_per_project: p.max_per_project,
                        max_per_donor: p.max_per_donor,
                        threshold: p.threshold,
                        share_of_goal: p.share_of_goal,
                        amount: p.amount,
                        min_progress: p.min_progress,
                        min_backers: p.min_backers,
                    },
                )
            })
        })
        .collect();
    Catalog {
        version: CATALOG_VERSION,
        currency: site.config.currency.clone(),
        pledge_min: site.config.pledge.min,
        pledge_max: site.config.pledge.max,
        projects,
        pools,
    }
}
