//! The project holder's statement: what citizens gave, what each pool
//! matched, the estimated payment fees, the net, the backers, the rewards
//! to deliver, and the names and emails of the donors who agreed to share
//! them (only theirs). Refunded pledges are listed apart.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::csv::Table;
use super::{FeePolicy, ProjectTotals, day_in, plain};
use crate::catalog::{Catalog, CatalogProject};
use crate::store::{Outcome, PledgeStatus, ProjectLedger};

/// What one pool matched on the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolLine {
    pub pool: String,
    pub sponsor_name: String,
    pub pool_title: String,
    pub amount: Decimal,
}

/// A reward to deliver and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardLine {
    pub index: usize,
    pub title: String,
    pub quantity: u32,
}

/// A donor who agreed to share their name and email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactLine {
    pub name: Option<String>,
    pub email: String,
    pub amount: Decimal,
    pub reward: Option<String>,
    pub date: Date,
}

/// An offer of help, for the holder to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferLine {
    pub date: Date,
    /// The need's title (none: a general offer; `#n` when the catalog
    /// has no title for it).
    pub need: Option<String>,
    pub name: String,
    pub contact: String,
    pub message: String,
}

/// A pledge that left the figures (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundLine {
    pub amount: Decimal,
    pub status: PledgeStatus,
    pub reason: Option<&'static str>,
    pub date: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderStatement {
    pub slug: String,
    pub title: String,
    /// The campaign has not closed: the figures may still change.
    pub provisional: bool,
    /// Funded or not: the close's, once recorded; before, what the one
    /// rule (`pave_contract::outcome`) says of the figures so far.
    pub outcome: Outcome,
    pub goal: Decimal,
    pub citizens: Decimal,
    pub matched: Vec<PoolLine>,
    pub matched_total: Decimal,
    /// Estimated (see [`FeePolicy`]) on each paid pledge.
    pub fees: Decimal,
    pub fee_policy: FeePolicy,
    /// Citizens + matched − estimated fees.
    pub net: Decimal,
    pub pledges: u32,
    pub backers: u32,
    pub rewards: Vec<RewardLine>,
    pub contacts: Vec<ContactLine>,
    pub refunds: Vec<RefundLine>,
    /// The offers of help, oldest first.
    pub offers: Vec<OfferLine>,
}

pub fn statement(
    slug: &str,
    project: &CatalogProject,
    catalog: &Catalog,
    ledger: &ProjectLedger,
    fee_policy: FeePolicy,
    provisional: bool,
    recorded: Option<Outcome>,
) -> HolderStatement {
    let totals = ProjectTotals::of(ledger);
    let matched_total = totals.matched_total();
    let outcome = pave_contract::outcome::decided(
        recorded,
        project.funding,
        project.goal,
        totals.raised,
        totals.raised + matched_total,
    );
    let matched: Vec<PoolLine> = totals
        .matched
        .iter()
        .map(|(pool, amount)| {
            let meta = catalog.pools.get(pool);
            PoolLine {
                pool: pool.clone(),
                sponsor_name: meta.map_or_else(String::new, |p| p.sponsor_name.clone()),
                pool_title: meta.map_or_else(String::new, |p| p.title.clone()),
                amount: *amount,
            }
        })
        .collect();
    let reward_title = |i: usize| {
        project
            .rewards
            .iter()
            .find(|r| r.index == i)
            .map_or_else(|| format!("#{i}"), |r| r.title.clone())
    };
    let mut fees = Decimal::ZERO;
    let mut quantities: BTreeMap<usize, u32> = BTreeMap::new();
    let mut contacts = Vec::new();
    let mut refunds = Vec::new();
    for p in &ledger.pledges {
        let date = day_in(p.paid_at, &project.timezone);
        if p.status != PledgeStatus::Paid {
            refunds.push(RefundLine {
                amount: p.amount,
                status: p.status,
                reason: p.refund_reason.map(|r| r.as_str()),
                date,
            });
            continue;
        }
        fees += fee_policy.fee(p.amount);
        if let Some(r) = p.reward {
            *quantities.entry(r).or_default() += 1;
        }
        if let Some(c) = &p.contact {
            contacts.push(ContactLine {
                name: c.name.clone(),
                email: c.email.clone(),
                amount: p.amount,
                reward: p.reward.map(reward_title),
                date,
            });
        }
    }
    HolderStatement {
        slug: slug.to_string(),
        title: project.title.clone(),
        provisional,
        outcome,
        goal: project.goal,
        citizens: totals.raised,
        matched,
        matched_total,
        fees,
        fee_policy,
        net: totals.raised + matched_total - fees,
        pledges: totals.pledges,
        backers: totals.backers,
        rewards: quantities
            .into_iter()
            .map(|(index, quantity)| RewardLine {
                index,
                title: reward_title(index),
                quantity,
            })
            .collect(),
        contacts,
        refunds,
        offers: ledger
            .offers
            .iter()
            .map(|o| OfferLine {
                date: day_in(o.created_at, &project.timezone),
                need: o.need.map(|i| match project.needs.get(i) {
                    Some(title) if !title.is_empty() => title.clone(),
                    _ => format!("#{}", i + 1),
                }),
                name: o.name.clone(),
                contact: o.contact.clone(),
                message: o.message.clone(),
            })
            .collect(),
    }
}

/// The holder's CSV: one row per line of the statement, `section` first.
pub fn csv(s: &HolderStatement) -> String {
    let mut t = Table::new(vec!["section", "item", "detail", "quantity", "amount_eur"]);
    let mut row = |section: &str, item: &str, detail: &str, quantity: String, amount: String| {
        t.push(vec![
            section.to_string(),
            item.to_string(),
            detail.to_string(),
            quantity,
            amount,
        ]);
    };
    let status = if s.provisional {
        "provisional"
    } else {
        "final"
    };
    row("project", &s.slug, &s.title, String::new(), plain(s.goal));
    row(
        "status",
        status,
        s.outcome.as_str(),
        String::new(),
        String::new(),
    );
    row(
        "total",
        "citizens",
        "",
        s.pledges.to_string(),
        plain(s.citizens),
    );
    for m in &s.matched {
        row(
            "matched",
            &m.pool,
            &format!("{} — {}", m.sponsor_name, m.pool_title),
            String::new(),
            plain(m.amount),
        );
    }
    row(
        "total",
        "matched",
        "",
        String::new(),
        plain(s.matched_total),
    );
    row(
        "total",
        "estimated_fees",
        &format!(
            "estimated: {} % + {} EUR per paid pledge",
            s.fee_policy.percent, s.fee_policy.fixed
        ),
        s.pledges.to_string(),
        plain(s.fees),
    );
    row("total", "net", "", String::new(), plain(s.net));
    row("total", "backers", "", s.backers.to_string(), String::new());
    for r in &s.rewards {
        row(
            "reward",
            &r.index.to_string(),
            &r.title,
            r.quantity.to_string(),
            String::new(),
        );
    }
    for c in &s.contacts {
        row(
            "donor",
            c.name.as_deref().unwrap_or(""),
            &c.email,
            String::new(),
            plain(c.amount),
        );
    }
    for o in &s.offers {
        let mut detail = o.date.to_string();
        if let Some(need) = &o.need {
            detail.push_str(&format!(" — {need}"));
        }
        detail.push_str(&format!(" — {}", o.message));
        row(
            "offer",
            &format!("{} — {}", o.name, o.contact),
            &detail,
            String::new(),
            String::new(),
        );
    }
    for r in &s.refunds {
        row(
            "refunded",
            r.status.as_str(),
            r.reason.unwrap_or(""),
            String::new(),
            plain(r.amount),
        );
    }
    t.render()
}
