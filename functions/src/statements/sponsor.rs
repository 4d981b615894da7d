//! Each sponsor's statement: per pool, what it matched on each project,
//! its total, its budget and what is left of it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::csv::Table;
use super::{ProjectTotals, plain};
use crate::catalog::Catalog;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStatement {
    pub id: String,
    pub title: String,
    pub mode: &'static str,
    pub budget: Decimal,
    /// (project slug, project title, matched), by slug; projects with a
    /// match only.
    pub projects: Vec<(String, String, Decimal)>,
    pub total: Decimal,
    pub left: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SponsorStatement {
    pub slug: String,
    pub name: String,
    pub pools: Vec<PoolStatement>,
}

/// Every sponsor of the catalog, from every project's totals.
pub fn statements(
    catalog: &Catalog,
    totals: &BTreeMap<String, ProjectTotals>,
) -> Vec<SponsorStatement> {
    let mut sponsors: BTreeMap<&str, SponsorStatement> = BTreeMap::new();
    for (id, pool) in &catalog.pools {
        let mut projects = Vec::new();
        for (slug, t) in totals {
            if let Some(amount) = t.matched.get(id).filter(|a| !a.is_zero()) {
                let title = catalog
                    .projects
                    .get(slug)
                    .map_or_else(String::new, |p| p.title.clone());
                projects.push((slug.clone(), title, *amount));
            }
        }
        let total: Decimal = projects.iter().map(|(_, _, a)| *a).sum();
        let entry = sponsors
            .entry(pool.sponsor.as_str())
            .or_insert_with(|| SponsorStatement {
                slug: pool.sponsor.clone(),
                name: pool.sponsor_name.clone(),
                pools: Vec::new(),
            });
        entry.pools.push(PoolStatement {
            id: id.clone(),
            title: pool.title.clone(),
            mode: match pool.mode {
                crate::catalog::PoolMode::PerPledge => "per_pledge",
                crate::catalog::PoolMode::OnSuccess => "on_success",
                crate::catalog::PoolMode::LumpSum => "lump_sum",
            },
            budget: pool.budget,
            projects,
            total,
            left: pool.budget - total,
        });
    }
    sponsors.into_values().collect()
}

pub fn csv(s: &SponsorStatement) -> String {
    let mut t = Table::new(vec!["pool", "pool_title", "project", "item", "amount_eur"]);
    for p in &s.pools {
        for (slug, _, amount) in &p.projects {
            t.push(vec![
                p.id.clone(),
                p.title.clone(),
                slug.clone(),
                "matched".into(),
                plain(*amount),
            ]);
        }
        for (item, amount) in [("total", p.total), ("budget", p.budget), ("left", p.left)] {
            t.push(vec![
                p.id.clone(),
                p.title.clone(),
                String::new(),
                item.into(),
                plain(amount),
            ]);
        }
    }
    t.render()
}
