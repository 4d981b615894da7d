//! What each operation writes, as one `TransactWriteItems`, computed from
//! what it read. Pure: `dynamo.rs` reads, calls these, and sends the writes.
//!
//! The first write of every webhook transaction records the event id under
//! `attribute_not_exists`: a cancellation whose first reason is a failed
//! condition means the event was already applied.

use std::collections::BTreeMap;

use super::expr::{Expr, Range, Write};
use super::guards::{self, Counter, PoolRead};
use super::items::{
    self, Donor, Key, MatchItem, PledgeItem, Totals, donor_matched_attr, lump_attr, matched_attr,
    n, reward_attr, reward_version_attr, s,
};
use crate::catalog::{Catalog, CatalogProject, PoolMode};
use crate::matching::{self, Match, PoolView, ProjectState};
use crate::money::{floor_cents, from_cents, to_cents};
use crate::store::{NewPledge, Offer, PledgeStatus, RefundReason, StoreError};

/// Cancellation reasons that mean "someone else wrote first: read again".
const RETRYABLE: [&str; 6] = [
    "None",
    "ConditionalCheckFailed",
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
];

/// Why a transaction was cancelled, from its reasons (one per write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// The first write's condition failed (an event already applied, a
    /// pledge id already taken).
    FirstCondition,
    /// A concurrent writer: read again and retry.
    Conflict,
    /// Anything else (a validation error, an item too large): not retried.
    Fatal(String),
}

pub fn classify(reasons: &[Option<String>]) -> Cancelled {
    if reasons.first().and_then(Option::as_deref) == Some("ConditionalCheckFailed") {
        return Cancelled::FirstCondition;
    }
    let fatal: Vec<&str> = reasons
        .iter()
        .filter_map(Option::as_deref)
        .filter(|code| !RETRYABLE.contains(code))
        .collect();
    if fatal.is_empty() {
        Cancelled::Conflict
    } else {
        Cancelled::Fatal(fatal.join(", "))
    }
}

/// Records an event id, once (always the first write).
pub fn record_event(event_id: &str, kind: &str, now: i64) -> Write {
    Write::Put {
        key: Key::event(event_id),
        item: [
            ("kind".to_string(), s(kind)),
            ("applied_at".to_string(), n(now)),
        ]
        .into(),
        expr: Expr::new().item_absent(),
    }
}

/// An event that changes nothing: recorded, provided the pledge is still in
/// the status that made it change nothing.
pub fn no_effect(event_id: &str, kind: &str, now: i64, pledge: &PledgeItem) -> Vec<Write> {
    vec![
        record_event(event_id, kind, now),
        Write::Check {
            key: Key::pledge(&pledge.id),
            expr: Expr::new().equals("status", s(pledge.status.as_str())),
        },
    ]
}

/// `SET updated_at = at` if `at` is the latest, guarded so that it stays so.
fn touch(expr: Expr, totals: &Totals, at: i64) -> Expr {
    if totals.updated_at.is_none_or(|u| at >= u) {
        expr.set("updated_at", n(at))
            .within("updated_at", Range::at_most(at))
    } else {
        expr
    }
}

/// The donor item's version condition, and its bump.
fn donor_versioned(expr: Expr, donor: &Donor) -> Expr {
    let expr = expr.add("v", 1);
    match donor.version {
        Some(v) => expr.equals("v", n(v)),
        None => expr.absent("v"),
    }
}

fn mode_name(mode: Option<PoolMode>) -> &'static str {
    match mode {
        Some(PoolMode::LumpSum) => "lump_sum",
        Some(PoolMode::OnSuccess) => "on_success",
        _ => "per_pledge",
    }
}

/// What `apply_paid` read (consistently) before deciding.
#[derive(Debug, Clone)]
pub struct PaidRead {
    pub pledge: PledgeItem,
    pub totals: Totals,
    pub donor: Donor,
    /// Each of the project's pools' spending (cents).
    pub spent: BTreeMap<String, i64>,
    /// When the pledge's reservation no longer held its place, the places
    /// of its reward taken by others, and the version they were counted at
    /// (the payment or its refusal is written only if it has not moved).
    pub reward_recheck: Option<(u32, RewardCheck)>,
}

/// What [`crate::payment::decide`] needs, from what `apply_paid` read.
pub fn facts(
    project: &CatalogProject,
    read: &PaidRead,
    paid_at: i64,
) -> Result<crate::payment::Facts, StoreError> {
    let pledge = &read.pledge;
    Ok(crate::payment::Facts {
        amount_cents: pledge.amount,
        reward: pledge.reward,
        place_held: read.reward_recheck.is_none()
            && crate::payment::place_held(
                pledge.status == PledgeStatus::Pending,
                pledge.expires_at,
                paid_at,
            ),
        reward_taken_by_others: read.reward_recheck.map_or(0, |(taken, _)| taken),
        close_started: read.totals.close.is_some(),
        total_cents: read.totals.total,
        cap_cents: cap_cents(project)?,
    })
}

/// The condition that a limited reward's places have not moved since they
/// were counted (a re-checked place).
fn reward_unmoved(expr: Expr, pledge: &PledgeItem, read: &PaidRead) -> Expr {
    match (pledge.reward, read.reward_recheck) {
        (Some(reward), Some((_, check))) => {
            let attr = reward_version_attr(reward);
            match check.version {
                Some(v) => expr.equals(&attr, n(v)),
                None => expr.absent(&attr),
            }
        }
        _ => expr,
    }
}

/// The payment of a pending (or expired) pledge: its matches from the
/// engine, and the writes that record them under the guards.
pub fn paid(
    catalog: &Catalog,
    project: &CatalogProject,
    read: &PaidRead,
    event_id: &str,
    payment_intent: Option<&str>,
    paid_at: i64,
    now: i64,
) -> Result<(Vec<Write>, Vec<Match>), StoreError> {
    let pledge = &read.pledge;
    let pools = catalog.pools_of(project);
    let input = EngineInput::of(project, &pools, read, paid_at)?;
    let matches = matching::match_pledge(project, &input.views, &input.state, &input.pledge);
    let guards = guards::guards(
        project,
        &input.views,
        &input.counters,
        &guards::Read {
            citizens: read.totals.raised,
            total: read.totals.total,
            backers: read.totals.backers,
        },
        &input.pledge,
        &matches,
    );
    let mut cents = Vec::with_capacity(matches.len());
    for m in &matches {
        cents.push((m.pool_id.as_str(), to_cents(m.amount)?));
    }
    let mode_of = |pool: &str| catalog.pools.get(pool).map(|p| p.mode);

    let mut writes = vec![record_event(event_id, "checkout.session.completed", now)];
    let mut update = Expr::new()
        .set("status", s(PledgeStatus::Paid.as_str()))
        .set("paid_at", n(paid_at));
    if let Some(intent) = payment_intent {
        update = update.set("payment_intent", s(intent));
    }
    writes.push(Write::Update {
        key: Key::pledge(&pledge.id),
        expr: update.equals("status", s(pledge.status.as_str())),
    });
    writes.push(Write::Update {
        key: Key::totals(&pledge.project),
        expr: paid_totals(project, read, &cents, &mode_of, &guards, paid_at)?,
    });
    let mut d = Expr::new().add("paid", 1);
    for &(pool, c) in &cents {
        d = d.add(&donor_matched_attr(pool), c);
    }
    writes.push(Write::Update {
        key: Key::donor(&pledge.project, &pledge.donor),
        expr: donor_versioned(d, &read.donor),
    });
    writes.extend(pool_spending(&pools, &cents, &guards));
    for (i, &(pool, c)) in cents.iter().enumerate() {
        writes.push(match_put(pledge, i, pool, mode_of(pool), c, paid_at));
    }
    writes.push(ledger_entry(
        pledge,
        PledgeStatus::Paid,
        payment_intent,
        None,
        paid_at,
        &cents,
    ));
    if let Some(reward) = pledge.reward {
        writes.push(Write::Delete {
            key: Key::reservation(&pledge.project, reward, &pledge.id),
        });
    }
    Ok((writes, matches))
}

/// What the matching engine and the guards are given, from what
/// `apply_paid` read: each pool's view and counters, the project's state,
/// the pledge.
struct EngineInput<'a> {
    views: Vec<PoolView<'a>>,
    counters: Vec<PoolRead>,
    state: ProjectState,
    pledge: matching::Pledge,
}

impl<'a> EngineInput<'a> {
    fn of(
        project: &CatalogProject,
        pools: &[(&'a str, &'a crate::catalog::CatalogPool)],
        read: &PaidRead,
        paid_at: i64,
    ) -> Result<EngineInput<'a>, StoreError> {
        let PaidRead {
            pledge,
            totals,
            donor,
            spent,
            reward_recheck: _,
        } = read;
        let counters: Vec<PoolRead> = pools
            .iter()
            .map(|(id, _)| PoolRead {
                spent: spent.get(*id).copied().unwrap_or(0),
                for_project: totals.matched_for(id),
                lump: totals.lump_for(id),
            })
            .collect();
        let mut views = Vec::with_capacity(pools.len());
        for ((id, rules), c) in pools.iter().zip(&counters) {
            views.push(PoolView {
                id,
                rules,
                spent: from_cents(c.spent)?,
                matched_for_project: from_cents(c.for_project)?,
                matched_for_donor: from_cents(donor.matched_for(id))?,
                lump_sum_paid: c.lump > 0,
            });
        }
        let state = ProjectState {
            citizens_raised: from_cents(totals.raised)?,
            total: from_cents(totals.total)?,
            backers: u32::try_from(totals.backers)
                .map_err(|_| StoreError::Backend(format!("bad backers {}", totals.backers)))?,
        };
        let pledge = matching::Pledge {
            amount: from_cents(pledge.amount)?,
            paid_on: pave_contract::calendar::day_in(paid_at, &project.timezone),
            new_backer: donor.paid == 0,
        };
        Ok(EngineInput {
            views,
            counters,
            state,
            pledge,
        })
    }
}

/// The project's totals with the payment added, under the guards: counted
/// only while the close has not started, the cap holds, the re-checked
/// reward's places have not moved, and every counter the matches depend
/// on is still in its range.
fn paid_totals(
    project: &CatalogProject,
    read: &PaidRead,
    cents: &[(&str, i64)],
    mode_of: &dyn Fn(&str) -> Option<PoolMode>,
    guards: &guards::Guards,
    paid_at: i64,
) -> Result<Expr, StoreError> {
    let PaidRead {
        pledge,
        totals,
        donor,
        ..
    } = read;
    let matched: i64 = cents.iter().map(|(_, c)| c).sum();
    let mut t = Expr::new()
        .set("project", s(&pledge.project))
        .add("raised", pledge.amount)
        .add("total", pledge.amount + matched)
        .add("pledges", 1)
        .add("backers", i64::from(donor.paid == 0));
    for &(pool, c) in cents {
        t = t.add(&matched_attr(pool), c);
        if mode_of(pool) == Some(PoolMode::LumpSum) {
            t = t.add(&lump_attr(pool), 1);
        }
    }
    if let Some(reward) = pledge.reward {
        t = t
            .add(&reward_attr(reward), 1)
            .add(&reward_version_attr(reward), 1);
    }
    t = touch(t, totals, paid_at);
    // The refusal (`payment::decide`) is the other side of these two.
    t = t
        .absent("close_state")
        .within("total", Range::at_most(cap_cents(project)? - pledge.amount));
    t = reward_unmoved(t, pledge, read);
    for (counter, range) in &guards.0 {
        t = match counter {
            Counter::Citizens => t.within("raised", *range),
            Counter::Total => t.within("total", *range),
            Counter::Backers => t.within("backers", *range),
            Counter::ForProject(pool) => t.within(&matched_attr(pool), *range),
            Counter::LumpSum(pool) => t.within(&lump_attr(pool), *range),
            Counter::Spent(_) => t,
        };
    }
    Ok(t)
}

/// Each pool's spending: added to where it matched, checked where a
/// guard depends on it.
fn pool_spending(
    pools: &[(&str, &crate::catalog::CatalogPool)],
    cents: &[(&str, i64)],
    guards: &guards::Guards,
) -> Vec<Write> {
    let mut writes = Vec::new();
    for (id, _) in pools {
        let c = cents
            .iter()
            .find(|(pool, _)| pool == id)
            .map_or(0, |(_, c)| *c);
        let range = guards.get(&Counter::Spent(id.to_string()));
        let key = Key::pool(id);
        let expr = Expr::new().within("spent", range.unwrap_or_default());
        if c > 0 {
            writes.push(Write::Update {
                key,
                expr: expr.add("spent", c),
            });
        } else if range.is_some() {
            writes.push(Write::Check { key, expr });
        }
    }
    writes
}

/// The `i`-th match of a pledge, written once.
fn match_put(
    pledge: &PledgeItem,
    i: usize,
    pool: &str,
    mode: Option<PoolMode>,
    cents: i64,
    paid_at: i64,
) -> Write {
    Write::Put {
        key: Key::matched(&pledge.id, i),
        item: [
            ("pool".to_string(), s(pool)),
            ("project".to_string(), s(&pledge.project)),
            ("donor".to_string(), s(&pledge.donor)),
            ("mode".to_string(), s(mode_name(mode))),
            ("amount".to_string(), n(cents)),
            (
                "active".to_string(),
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            ),
            ("created_at".to_string(), n(paid_at)),
        ]
        .into(),
        expr: Expr::new().item_absent(),
    }
}

/// The cap in whole cents (rounded down).
fn cap_cents(project: &CatalogProject) -> Result<i64, StoreError> {
    Ok(to_cents(floor_cents(project.cap))?)
}

/// A project's ledger entry for a pledge that was just paid (or refused):
/// what the close needs, and what the statements need (reward, donor key,
/// payment time, contact when shared, matches per pool as `m:<pool>`), so
/// that one query of the project's partition reads its whole ledger.
fn ledger_entry(
    pledge: &PledgeItem,
    status: PledgeStatus,
    payment_intent: Option<&str>,
    reason: Option<RefundReason>,
    paid_at: i64,
    matches: &[(&str, i64)],
) -> Write {
    let mut item: items::Item = [
        ("amount".to_string(), n(pledge.amount)),
        ("status".to_string(), s(status.as_str())),
        ("donor".to_string(), s(&pledge.donor)),
        ("paid_at".to_string(), n(paid_at)),
    ]
    .into();
    if let Some(reward) = pledge.reward {
        item.insert("reward".to_string(), n(reward as i64));
    }
    // The wall of backers reads the name shown from the ledger entry.
    if let Some(name) = &pledge.display_name {
        item.insert("shown_name".to_string(), s(name));
    }
    if let Some(message) = &pledge.message {
        item.insert("shown_message".to_string(), s(message));
    }
    if let Some(contact) = &pledge.contact {
        item.insert(
            "share_contact".to_string(),
            aws_sdk_dynamodb::types::AttributeValue::Bool(true),
        );
        item.insert("email".to_string(), s(&contact.email));
        if let Some(name) = &contact.name {
            item.insert("display_name".to_string(), s(name));
        }
    }
    for &(pool, c) in matches {
        item.insert(format!("{}{pool}", items::LEDGER_MATCH_PREFIX), n(c));
    }
    if let Some(intent) = payment_intent {
        item.insert("payment_intent".to_string(), s(intent));
    }
    if let Some(reason) = reason {
        item.insert("refund_reason".to_string(), s(reason.as_str()));
    }
    Write::Put {
        key: Key::ledger(&pledge.project, &pledge.id),
        item,
        expr: Expr::new(),
    }
}

/// The marker of a pledge waiting for its refund.
fn refunding_marker(pledge: &PledgeItem) -> Write {
    Write::Put {
        key: Key::refunding(&pledge.project, &pledge.id),
        item: [
            ("project".to_string(), s(&pledge.project)),
            ("pledge".to_string(), s(&pledge.id)),
        ]
        .into(),
        expr: Expr::new(),
    }
}

/// A payment refused on arrival: recorded (`refunding`, with its reason),
/// never counted, under the condition that made it refused.
pub fn refused(
    project: &CatalogProject,
    read: &PaidRead,
    reason: RefundReason,
    event_id: &str,
    payment_intent: Option<&str>,
    paid_at: i64,
    now: i64,
) -> Result<Vec<Write>, StoreError> {
    let pledge = &read.pledge;
    let mut update = Expr::new()
        .set("status", s(PledgeStatus::Refunding.as_str()))
        .set("paid_at", n(paid_at))
        .set("refund_reason", s(reason.as_str()));
    if let Some(intent) = payment_intent {
        update = update.set("payment_intent", s(intent));
    }
    let mut t = Expr::new()
        .set("project", s(&pledge.project))
        .add("refunds", 1);
    if reason == RefundReason::OverCap && read.totals.close.is_none() {
        // Still over the cap at commit (a refund meanwhile may make room).
        t = t.within(
            "total",
            Range::at_least(cap_cents(project)? - pledge.amount + 1),
        );
    }
    if reason == RefundReason::RewardSoldOut {
        t = reward_unmoved(t, pledge, read);
    }
    let mut writes = vec![
        record_event(event_id, "checkout.session.completed", now),
        Write::Update {
            key: Key::pledge(&pledge.id),
            expr: update.equals("status", s(pledge.status.as_str())),
        },
        Write::Update {
            key: Key::totals(&pledge.project),
            expr: t,
        },
        ledger_entry(
            pledge,
            PledgeStatus::Refunding,
            payment_intent,
            Some(reason),
            paid_at,
            &[],
        ),
        refunding_marker(pledge),
    ];
    if let Some(reward) = pledge.reward {
        writes.push(Write::Delete {
            key: Key::reservation(&pledge.project, reward, &pledge.id),
        });
    }
    Ok(writes)
}

/// The expiry of a pending pledge: its reservation ends.
pub fn expired(event_id: &str, pledge: &PledgeItem, now: i64) -> Vec<Write> {
    let mut writes = vec![
        record_event(event_id, "checkout.session.expired", now),
        Write::Update {
            key: Key::pledge(&pledge.id),
            expr: Expr::new()
                .set("status", s(PledgeStatus::Expired.as_str()))
                .equals("status", s(PledgeStatus::Pending.as_str())),
        },
    ];
    if let Some(reward) = pledge.reward {
        writes.push(Write::Delete {
            key: Key::reservation(&pledge.project, reward, &pledge.id),
        });
    }
    writes
}

/// What `apply_refunded` read.
#[derive(Debug, Clone)]
pub struct RefundRead {
    pub pledge: PledgeItem,
    pub totals: Totals,
    pub donor: Donor,
    /// The pledge's match records, in order.
    pub matches: Vec<MatchItem>,
}

/// The refund of a paid pledge: its matches are cancelled and every counter
/// they added to gives back exactly what they were.
pub fn refunded(
    read: &RefundRead,
    event_id: &str,
    at: i64,
    now: i64,
) -> Result<(Vec<Write>, Vec<Match>), StoreError> {
    unpaid(read, Some(event_id), None, at, now)
}

/// `charge.refunded` for part of a paid pledge: it leaves the figures as
/// for a full refund, `refunding` (`partial_refund`): Pavé refunds the rest.
pub fn partly_refunded(
    read: &RefundRead,
    event_id: &str,
    at: i64,
    now: i64,
) -> Result<(Vec<Write>, Vec<Match>), StoreError> {
    unpaid(
        read,
        Some(event_id),
        Some(RefundReason::PartialRefund),
        at,
        now,
    )
}

/// `charge.refunded` before the pledge's completion was counted (pending
/// or expired): recorded `refunded` (or `refunding`, `partial_refund`, for a
/// partial refund whose rest Pavé refunds), never counted, so that a later
/// completion finds it settled; its reservation ends.
pub fn refunded_before_paid(
    event_id: &str,
    pledge: &PledgeItem,
    reason: Option<RefundReason>,
    payment_intent: Option<&str>,
    at: i64,
    now: i64,
) -> Vec<Write> {
    let status = match reason {
        Some(_) => PledgeStatus::Refunding,
        None => PledgeStatus::Refunded,
    };
    let mut p = Expr::new()
        .set("status", s(status.as_str()))
        .set("paid_at", n(at))
        .set("refunded_at", n(at));
    if let Some(reason) = reason {
        p = p.set("refund_reason", s(reason.as_str()));
    }
    if let Some(intent) = payment_intent {
        p = p.set("payment_intent", s(intent));
    }
    let mut entry = ledger_entry(pledge, status, payment_intent, reason, at, &[]);
    if let Write::Put { item, .. } = &mut entry {
        item.insert("refunded_at".to_string(), n(at));
    }
    let mut writes = vec![
        record_event(event_id, "charge.refunded", now),
        Write::Update {
            key: Key::pledge(&pledge.id),
            expr: p.equals("status", s(pledge.status.as_str())),
        },
        Write::Update {
            key: Key::totals(&pledge.project),
            expr: Expr::new()
                .set("project", s(&pledge.project))
                .add("refunds", 1),
        },
        entry,
    ];
    if reason.is_some() {
        writes.push(refunding_marker(pledge));
    }
    if let Some(reward) = pledge.reward {
        writes.push(Write::Delete {
            key: Key::reservation(&pledge.project, reward, &pledge.id),
        });
    }
    writes
}

/// A paid pledge taken out of the figures to be refunded by Pavé
/// (`refunding`, with its reason), before the Stripe call.
pub fn start_refund(
    read: &RefundRead,
    reason: RefundReason,
    at: i64,
) -> Result<(Vec<Write>, Vec<Match>), StoreError> {
    unpaid(read, None, Some(reason), at, at)
}

/// The bookkeeping of a paid pledge leaving the figures: by the
/// `charge.refunded` webhook (`event_id`, → `refunded`), or by Pavé
/// (`reason`, → `refunding`). The first write is the event's record, or
/// the pledge's status condition.
fn unpaid(
    read: &RefundRead,
    event_id: Option<&str>,
    reason: Option<RefundReason>,
    at: i64,
    now: i64,
) -> Result<(Vec<Write>, Vec<Match>), StoreError> {
    let RefundRead {
        pledge,
        totals,
        donor,
        matches,
    } = read;
    let active: Vec<&MatchItem> = matches.iter().filter(|m| m.active).collect();
    let mut cancelled = Vec::with_capacity(active.len());
    for m in &active {
        cancelled.push(Match {
            pool_id: m.pool.clone(),
            amount: from_cents(m.amount)?,
        });
    }
    let release = matching::release(&cancelled);
    let matched: i64 = active.iter().map(|m| m.amount).sum();

    let status = match reason {
        Some(_) => PledgeStatus::Refunding,
        None => PledgeStatus::Refunded,
    };
    let mut writes = Vec::new();
    if let Some(event_id) = event_id {
        writes.push(record_event(event_id, "charge.refunded", now));
    }
    let mut p = Expr::new()
        .set("status", s(status.as_str()))
        .set("refunded_at", n(at));
    let mut l = Expr::new()
        .set("status", s(status.as_str()))
        .set("refunded_at", n(at));
    if let Some(reason) = reason {
        p = p.set("refund_reason", s(reason.as_str()));
        l = l.set("refund_reason", s(reason.as_str()));
    }
    writes.push(Write::Update {
        key: Key::pledge(&pledge.id),
        expr: p.equals("status", s(PledgeStatus::Paid.as_str())),
    });
    writes.push(Write::Update {
        key: Key::ledger(&pledge.project, &pledge.id),
        expr: l,
    });
    if reason.is_some() {
        writes.push(refunding_marker(pledge));
    }

    let last_pledge_of_donor = donor.paid == 1;
    let mut t = Expr::new()
        .add("raised", -pledge.amount)
        .add("total", -(pledge.amount + matched))
        .add("pledges", -1)
        .add("refunds", 1)
        .add("backers", -i64::from(last_pledge_of_donor));
    let mut d = Expr::new().add("paid", -1);
    for m in &active {
        t = t.add(&matched_attr(&m.pool), -m.amount);
        if m.mode == "lump_sum" {
            t = t.add(&lump_attr(&m.pool), -1);
        }
        d = d.add(&donor_matched_attr(&m.pool), -m.amount);
    }
    if let Some(reward) = pledge.reward {
        t = t.add(&reward_attr(reward), -1);
    }
    writes.push(Write::Update {
        key: Key::totals(&pledge.project),
        expr: touch(t, totals, at),
    });
    writes.push(Write::Update {
        key: Key::donor(&pledge.project, &pledge.donor),
        expr: donor_versioned(d, donor),
    });
    for (pool, amount) in &release.per_pool {
        writes.push(Write::Update {
            key: Key::pool(pool),
            expr: Expr::new().add("spent", -to_cents(*amount)?),
        });
    }
    for m in &active {
        writes.push(Write::Update {
            key: m.key.clone(),
            expr: Expr::new()
                .set(
                    "active",
                    aws_sdk_dynamodb::types::AttributeValue::Bool(false),
                )
                .set("cancelled_at", n(at)),
        });
    }
    Ok((writes, cancelled))
}

/// `charge.refunded` for a pledge Pavé is refunding: the ledger changed
/// when the refund started; only the status is completed.
pub fn refund_completed(event_id: &str, pledge: &PledgeItem, now: i64) -> Vec<Write> {
    vec![
        record_event(event_id, "charge.refunded", now),
        Write::Update {
            key: Key::pledge(&pledge.id),
            expr: Expr::new()
                .set("status", s(PledgeStatus::Refunded.as_str()))
                .equals("status", s(PledgeStatus::Refunding.as_str())),
        },
        Write::Update {
            key: Key::ledger(&pledge.project, &pledge.id),
            expr: Expr::new().set("status", s(PledgeStatus::Refunded.as_str())),
        },
        Write::Delete {
            key: Key::refunding(&pledge.project, &pledge.id),
        },
    ]
}

/// What Stripe answered for a pledge's refund, recorded (`issued` with the
/// refund id, else the error code), conditioned on the status read.
pub fn finish_refund(pledge: &PledgeItem, issued: bool, text: &str) -> Vec<Write> {
    let null = aws_sdk_dynamodb::types::AttributeValue::Null(true);
    let mut l = Expr::new().add("refund_attempts", 1);
    let mut writes = Vec::new();
    match (pledge.status, issued) {
        (PledgeStatus::Refunding, true) => {
            writes.push(Write::Update {
                key: Key::pledge(&pledge.id),
                expr: Expr::new()
                    .set("status", s(PledgeStatus::Refunded.as_str()))
                    .equals("status", s(PledgeStatus::Refunding.as_str())),
            });
            l = l
                .set("status", s(PledgeStatus::Refunded.as_str()))
                .set("refund_error", null);
            if !text.is_empty() {
                l = l.set("refund_id", s(text));
            }
            writes.push(Write::Delete {
                key: Key::refunding(&pledge.project, &pledge.id),
            });
        }
        (PledgeStatus::Refunding, false) => {
            writes.push(Write::Check {
                key: Key::pledge(&pledge.id),
                expr: Expr::new().equals("status", s(PledgeStatus::Refunding.as_str())),
            });
            l = l.set("refund_error", s(text));
        }
        (PledgeStatus::Refunded, true) => {
            writes.push(Write::Check {
                key: Key::pledge(&pledge.id),
                expr: Expr::new().equals("status", s(PledgeStatus::Refunded.as_str())),
            });
            l = l.set("refund_error", null);
            if !text.is_empty() {
                l = l.set("refund_id", s(text));
            }
        }
        _ => return Vec::new(),
    }
    writes.push(Write::Update {
        key: Key::ledger(&pledge.project, &pledge.id),
        expr: l,
    });
    writes
}

/// The on_success settlement of a funded close: the engine's matches on the
/// totals and pools read, written with the close's `closed` state, under
/// conditions that the close is still `closing` and that what the engine
/// read has not moved (pool spending may move while the budget holds).
pub fn close_funded(
    catalog: &Catalog,
    project: &CatalogProject,
    slug: &str,
    totals: &Totals,
    spent: &BTreeMap<String, i64>,
    at: i64,
) -> Result<(Vec<Write>, Vec<Match>), StoreError> {
    let pools = catalog.pools_of(project);
    let mut views = Vec::with_capacity(pools.len());
    for (id, rules) in &pools {
        views.push(PoolView {
            spent: from_cents(spent.get(*id).copied().unwrap_or(0))?,
            matched_for_project: from_cents(totals.matched_for(id))?,
            ..PoolView::fresh(id, rules)
        });
    }
    let state = ProjectState {
        citizens_raised: from_cents(totals.raised)?,
        total: from_cents(totals.total)?,
        backers: u32::try_from(totals.backers)
            .map_err(|_| StoreError::Backend(format!("bad backers {}", totals.backers)))?,
    };
    let matches = matching::settle_campaign(project, &views, &state);
    let mut t = Expr::new()
        .set("project", s(slug))
        .set("close_state", s(crate::store::CloseState::Closed.as_str()))
        .set("outcome", s(crate::store::Outcome::Funded.as_str()))
        .set("closed_at", n(at))
        .equals("close_state", s(crate::store::CloseState::Closing.as_str()))
        .within("raised", Range::exactly(totals.raised))
        .within("total", Range::exactly(totals.total));
    let mut writes = Vec::new();
    let mut given = 0;
    for (i, m) in matches.iter().enumerate() {
        let c = to_cents(m.amount)?;
        given += c;
        t = t.add(&matched_attr(&m.pool_id), c).within(
            &matched_attr(&m.pool_id),
            Range::exactly(totals.matched_for(&m.pool_id)),
        );
        let budget = to_cents(floor_cents(
            catalog.pools.get(&m.pool_id).map_or(m.amount, |p| p.budget),
        ))?;
        let read = spent.get(&m.pool_id).copied().unwrap_or(0);
        // A budget that binds pins the spending; otherwise it must keep room.
        let range = if c >= budget - read {
            Range::exactly(read)
        } else {
            Range::at_most(budget - c)
        };
        writes.push(Write::Update {
            key: Key::pool(&m.pool_id),
            expr: Expr::new().add("spent", c).within("spent", range),
        });
        writes.push(Write::Put {
            key: Key::close_match(slug, i),
            item: [
                ("pool".to_string(), s(&m.pool_id)),
                ("project".to_string(), s(slug)),
                ("mode".to_string(), s(mode_name(Some(PoolMode::OnSuccess)))),
                ("amount".to_string(), n(c)),
                (
                    "active".to_string(),
                    aws_sdk_dynamodb::types::AttributeValue::Bool(true),
                ),
                ("created_at".to_string(), n(at)),
            ]
            .into(),
            expr: Expr::new().item_absent(),
        });
    }
    t = t.add("total", given);
    writes.insert(
        0,
        Write::Update {
            key: Key::totals(slug),
            expr: t,
        },
    );
    Ok((writes, matches))
}

/// What a limited reward's check read: the version of its taken places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewardCheck {
    pub version: Option<i64>,
}

/// What the cap on places held read: the donor item's version (a place
/// taken by the same donor in between moves it, and cancels this one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldCheck {
    pub donor: Donor,
}

/// A new pending pledge; `check` when its reward is limited (the places
/// were counted at that version: a concurrent taker makes this retry).
pub fn create(
    pledge: &NewPledge,
    amount: i64,
    check: Option<RewardCheck>,
    hold: Option<&HoldCheck>,
) -> Vec<Write> {
    let mut writes = vec![Write::Put {
        key: Key::pledge(&pledge.id),
        item: items::new_pledge_item(pledge, amount),
        expr: Expr::new().item_absent(),
    }];
    let mut t = Expr::new().set("project", s(&pledge.project));
    if let (Some(reward), Some(check)) = (pledge.reward, check) {
        let attr = reward_version_attr(reward);
        t = t.add(&attr, 1);
        t = match check.version {
            Some(v) => t.equals(&attr, n(v)),
            None => t.absent(&attr),
        };
    }
    writes.push(Write::Update {
        key: Key::totals(&pledge.project),
        expr: t,
    });
    if let Some(reward) = pledge.reward {
        writes.push(Write::Put {
            key: Key::reservation(&pledge.project, reward, &pledge.id),
            item: items::reservation_item(pledge, reward, check.is_some()),
            expr: Expr::new(),
        });
    }
    if let Some(hold) = hold {
        writes.push(Write::Update {
            key: Key::donor(&pledge.project, &pledge.donor),
            expr: donor_versioned(Expr::new(), &hold.donor),
        });
    }
    writes
}

/// An offer (private) and the project's count of offers.
pub fn offer(offer: &Offer, nonce: u64) -> Vec<Write> {
    let mut item: items::Item = [
        ("project".to_string(), s(&offer.project)),
        ("name".to_string(), s(&offer.name)),
        ("contact".to_string(), s(&offer.contact)),
        ("message".to_string(), s(&offer.message)),
        ("created_at".to_string(), n(offer.created_at)),
    ]
    .into();
    if let Some(need) = offer.need {
        item.insert("need".to_string(), n(need as i64));
    }
    vec![
        Write::Put {
            key: Key::offer(&offer.project, offer.created_at, nonce),
            item,
            expr: Expr::new().item_absent(),
        },
        Write::Update {
            key: Key::totals(&offer.project),
            expr: Expr::new()
                .set("project", s(&offer.project))
                .add("offers", 1),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<Option<String>> {
        codes.iter().map(|c| Some(c.to_string())).collect()
    }

    #[test]
    fn cancellations_are_classified() {
        assert_eq!(
            classify(&reasons(&["ConditionalCheckFailed", "None"])),
            Cancelled::FirstCondition
        );
        assert_eq!(
            classify(&reasons(&[
                "None",
                "ConditionalCheckFailed",
                "TransactionConflict"
            ])),
            Cancelled::Conflict
        );
        assert_eq!(classify(&[]), Cancelled::Conflict);
        assert_eq!(
            classify(&reasons(&["None", "ValidationError"])),
            Cancelled::Fatal("ValidationError".into())
        );
    }

    #[test]
    fn a_limited_reward_is_taken_at_the_version_read() {
        let p = NewPledge {
            id: "p-1".into(),
            project: "cafe".into(),
            amount: "10".parse().unwrap(),
            reward: Some(1),
            display_name: None,
            email: "a@b.c".into(),
            donor: "d".into(),
            lang: "fr".into(),
            share_contact: false,
            news: false,
            message: None,
            created_at: 100,
            expires_at: 1900,
            client: None,
        };
        let writes = create(&p, 1000, Some(RewardCheck { version: Some(7) }), None);
        assert_eq!(writes.len(), 3);
        let Write::Update { key, expr } = &writes[1] else {
            panic!("{writes:?}")
        };
        assert_eq!(key, &Key::totals("cafe"));
        let condition = expr.condition_expression().unwrap();
        assert!(condition.contains(" = "), "{condition}");
        assert!(expr.names.values().any(|a| a == "rv:1"));
        assert_eq!(writes[2].key(), &Key::reservation("cafe", 1, "p-1"));
    }

    fn catalog_project(cap: &str) -> CatalogProject {
        CatalogProject {
            title: "Café".into(),
            territory: "t".into(),
            themes: vec![],
            status: crate::catalog::Status::Live,
            goal: "50".parse().unwrap(),
            cap: cap.parse().unwrap(),
            funding: crate::catalog::Funding::AllOrNothing,
            start: jiff::civil::date(2026, 1, 1),
            end: jiff::civil::date(2026, 3, 31),
            timezone: "Europe/Paris".into(),
            rewards: vec![],
            pools: vec![],
            holder: Default::default(),
            needs: vec![],
            messages: false,
        }
    }

    fn paid_pledge(amount: i64) -> PledgeItem {
        PledgeItem {
            id: "p-1".into(),
            project: "cafe".into(),
            amount,
            reward: None,
            donor: "d".into(),
            status: PledgeStatus::Pending,
            expires_at: i64::MAX,
            contact: None,
            display_name: None,
            message: None,
        }
    }

    #[test]
    fn a_payment_is_refused_after_the_end_after_the_close_and_over_the_cap() {
        let project = catalog_project("100");
        let in_campaign = 1_773_576_000; // 2026-03-15T12:00:00Z
        let last_second = 1_774_994_399; // 2026-03-31T23:59:59+02:00
        let totals = Totals {
            total: 7000,
            ..Totals::default()
        };
        // What the store reads, through the one decision of `payment`.
        let refusal = |totals: &Totals, amount, at| {
            let read = PaidRead {
                pledge: paid_pledge(amount),
                totals: totals.clone(),
                donor: Donor::default(),
                spent: BTreeMap::new(),
                reward_recheck: None,
            };
            let facts = super::facts(&project, &read, at).unwrap();
            let payment = crate::payment::Payment {
                intent: None,
                amount_cents: amount,
                currency: "eur",
            };
            crate::payment::decide(&project, &facts, &payment, at).err()
        };
        // Up to the cap exactly is counted; one cent more is not.
        assert_eq!(refusal(&totals, 3000, in_campaign), None);
        assert_eq!(
            refusal(&totals, 3001, in_campaign),
            Some(RefundReason::OverCap)
        );
        assert_eq!(refusal(&totals, 100, last_second), None);
        assert_eq!(
            refusal(&totals, 100, last_second + 1),
            Some(RefundReason::CampaignClosed)
        );
        let closing = Totals {
            close: Some(crate::store::CloseRecord {
                state: crate::store::CloseState::Closing,
                outcome: None,
                started_at: 1,
                closed_at: None,
            }),
            ..totals.clone()
        };
        assert_eq!(
            refusal(&closing, 100, in_campaign),
            Some(RefundReason::CampaignClosed)
        );
    }
}
