//! `catalog.json` (generator → functions): the reviewed rules the money side
//! needs — per project its goal, cap, funding model, campaign and rewards, per
//! pool its rules — and nothing personal. Versioned; see ARCHITECTURE.md.

use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::model::*;

pub use pave_contract::catalog::{
    CATALOG_VERSION, Catalog, CatalogHolder, CatalogPool, CatalogProject, CatalogReward,
};

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

/// A project's rules as the catalog states them (and the matching engine
/// reads them).
pub fn project_rules(site: &Site, territory: &Territory, project: &Project) -> CatalogProject {
    let rules = &territory.doc.meta;
    let timezone = rules
        .timezone
        .clone()
        .unwrap_or_else(|| site.config.timezone.clone());
    let m = &project.doc.meta;
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
        timezone,
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
        needs: m.needs.iter().map(|n| n.title.clone()).collect(),
        messages: rules.backer_messages,
    }
}

/// A pool's rules as the catalog states them.
pub fn pool_rules(s: &Sponsor, p: &Pool) -> CatalogPool {
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
    }
}

/// Builds the catalog of the whole site.
pub fn build(site: &Site) -> Catalog {
    let mut projects = BTreeMap::new();
    for territory in &site.territories {
        for project in &territory.projects {
            projects.insert(
                project.doc.slug.clone(),
                project_rules(site, territory, project),
            );
        }
    }
    let pools = site
        .sponsors
        .iter()
        .flat_map(|s| {
            s.meta
                .pools
                .iter()
                .map(move |p| (pool_id(s, p), pool_rules(s, p)))
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
