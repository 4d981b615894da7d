//! The platform-wide open-data ledger: one row per paid pledge and one per
//! active match, with no personal data — no name, no email, no donor key,
//! no payment or pledge id. A pledge is a sequential number within its
//! project (by payment time), shared by its match rows; matches paid at the
//! close have none. Its totals (`totals.csv`) equal the site's figures.

use std::collections::BTreeMap;

use super::csv::Table;
use super::{ProjectTotals, day_in, plain};
use crate::catalog::Catalog;
use crate::store::{PledgeStatus, ProjectLedger};

pub const LEDGER_HEADER: [&str; 8] = [
    "project",
    "territory",
    "entry",
    "date",
    "kind",
    "pool",
    "state",
    "amount_eur",
];

/// `ledger.csv`: every project's pledges and matches, by project.
pub fn ledger_csv(catalog: &Catalog, ledgers: &BTreeMap<String, ProjectLedger>) -> String {
    let mut t = Table::new(LEDGER_HEADER.to_vec());
    for (slug, ledger) in ledgers {
        let (territory, timezone) = catalog
            .projects
            .get(slug)
            .map_or(("", "UTC"), |p| (p.territory.as_str(), p.timezone.as_str()));
        for (n, p) in ledger.pledges.iter().enumerate() {
            let entry = format!("{}", n + 1);
            let date = day_in(p.refunded_at.unwrap_or(p.paid_at), timezone).to_string();
            let state = match p.status {
                PledgeStatus::Paid => "paid",
                _ => "refunded",
            };
            t.push(vec![
                slug.clone(),
                territory.into(),
                entry.clone(),
                date.clone(),
                "pledge".into(),
                String::new(),
                state.into(),
                plain(p.amount),
            ]);
            for m in &p.matches {
                t.push(vec![
                    slug.clone(),
                    territory.into(),
                    entry.clone(),
                    date.clone(),
                    "match".into(),
                    m.pool_id.clone(),
                    "active".into(),
                    plain(m.amount),
                ]);
            }
        }
        for m in &ledger.close_matches {
            t.push(vec![
                slug.clone(),
                territory.into(),
                String::new(),
                String::new(),
                "close_match".into(),
                m.pool_id.clone(),
                "active".into(),
                plain(m.amount),
            ]);
        }
    }
    t.render()
}

pub const TOTALS_HEADER: [&str; 7] = [
    "project",
    "raised_eur",
    "matched_eur",
    "total_eur",
    "pledges",
    "backers",
    "refunded_pledges",
];

/// `totals.csv`: per project, and a last row `all` (backers there are the
/// sum of each project's).
pub fn totals_csv(totals: &BTreeMap<String, ProjectTotals>) -> String {
    let mut t = Table::new(TOTALS_HEADER.to_vec());
    let mut all = ProjectTotals::default();
    for (slug, p) in totals {
        t.push(row(slug, p));
        all.raised += p.raised;
        for (pool, amount) in &p.matched {
            *all.matched.entry(pool.clone()).or_default() += *amount;
        }
        all.pledges += p.pledges;
        all.backers += p.backers;
        all.refunds += p.refunds;
    }
    t.push(row("all", &all));
    t.render()
}

fn row(slug: &str, p: &ProjectTotals) -> Vec<String> {
    vec![
        slug.to_string(),
        plain(p.raised),
        plain(p.matched_total()),
        plain(p.raised + p.matched_total()),
        p.pledges.to_string(),
        p.backers.to_string(),
        p.refunds.to_string(),
    ]
}
