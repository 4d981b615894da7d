//! Matching ("abondement"): how much each sponsor pool adds to a paid pledge,
//! as pure functions over the figures the ledger holds. In the contract, so
//! that the money side (which records matches) and the generator (which
//! states each pool's rule and pending promise on the project page) use
//! the one engine. No I/O: the caller
//! reads the figures (in the same transaction that records the result), calls
//! [`match_pledge`] and writes one ledger record per returned [`Match`].
//!
//! The rules every mode shares:
//!
//! - Pools apply in the fixed order the project lists them (the catalog's
//!   order); several pools may match the same pledge, and each pool sees the
//!   room under the project's cap that the previous ones left.
//! - A pool never spends beyond its budget: what it gives is at most
//!   `budget − spent`, where `spent` is the sum of its active matches.
//! - A project is never taken past its cap: what a pool gives is at most
//!   `cap − (total + this pledge + what earlier pools gave this pledge)`.
//! - Every amount is rounded **down** to the cent (see
//!   [`floor_cents`]) after taking the smallest of the limits, so rounding
//!   never takes a limit over. A zero match is not a match and is omitted.
//! - A refunded pledge cancels its matches ([`release`]); the money goes back
//!   to the pools exactly.
//!
//! The three modes are described on [`PoolMode`]'s variants and in
//! [`match_pledge`] and [`settle_on_success`].

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::catalog::{CatalogPool, CatalogProject, PoolMode};

/// Rounds down to the cent (towards zero), and never below zero:
/// `16.665` → `16.66`, `-3` → `0`. Every match goes through it, so a sponsor
/// never pays a fraction of a cent and rounding never adds money.
pub fn floor_cents(amount: Decimal) -> Decimal {
    if amount.is_sign_negative() {
        return Decimal::ZERO;
    }
    amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
}

/// A paid pledge, as matching sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pledge {
    /// What the citizen paid, in euros.
    pub amount: Decimal,
    /// The calendar day it was paid on, in the project's time zone; a pool
    /// matches pledges paid between its `start` and `end` days, both included.
    pub paid_on: Date,
    /// Whether the donor (an opaque key on the caller's side) has no other
    /// active pledge on this project, i.e. becomes a new backer with it.
    pub new_backer: bool,
}

/// The project's figures before the pledge being matched (active pledges and
/// matches only: refunded ones do not count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProjectState {
    /// Sum of the citizens' paid pledges.
    pub citizens_raised: Decimal,
    /// `citizens_raised` plus every pool's matches for this project.
    pub total: Decimal,
    /// Distinct donors with a paid pledge.
    pub backers: u32,
}

/// One pool as matching sees it: its id and rules from the catalog, and the
/// ledger's figures for it (active matches only).
#[derive(Debug, Clone, Copy)]
pub struct PoolView<'a> {
    /// The pool's id in the catalog (`sponsor/pool`).
    pub id: &'a str,
    /// Its rules.
    pub rules: &'a CatalogPool,
    /// Sum of all its matches, every project together.
    pub spent: Decimal,
    /// Sum of its matches for this project.
    pub matched_for_project: Decimal,
    /// Sum of its matches for this project caused by the pledges of the
    /// donor of the pledge being matched (`max_per_donor` is per donor and
    /// per project). Unused outside per_pledge.
    pub matched_for_donor: Decimal,
    /// Whether this project already has an active lump sum from this pool.
    /// Unused outside lump_sum.
    pub lump_sum_paid: bool,
}

impl<'a> PoolView<'a> {
    /// A pool that has not matched anything yet.
    pub fn fresh(id: &'a str, rules: &'a CatalogPool) -> Self {
        PoolView {
            id,
            rules,
            spent: Decimal::ZERO,
            matched_for_project: Decimal::ZERO,
            matched_for_donor: Decimal::ZERO,
            lump_sum_paid: false,
        }
    }

    /// What is left of the budget (negative if a bad ledger overspent it).
    fn budget_left(&self) -> Decimal {
        self.rules.budget.saturating_sub(self.spent)
    }
}

/// What one pool adds: one ledger record, linked by the caller to the pledge
/// that caused it (or to the campaign's close for on_success).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The pool's id in the catalog.
    pub pool_id: String,
    /// Euros, whole cents, always > 0.
    pub amount: Decimal,
}

/// The matches of one paid pledge, per_pledge and lump_sum pools together,
/// in the pools' order (on_success pools are settled at the close, see
/// [`settle_on_success`]). `pools` is the project's pools in the catalog's
/// order, each with its ledger figures; `state` is the project before this
/// pledge. Pools whose dates do not include `pledge.paid_on` give nothing.
///
/// **per_pledge** gives the smallest of
/// - `amount × ratio`,
/// - `max_per_pledge`,
/// - `max_per_project − matched_for_project`,
/// - `max_per_donor − matched_for_donor`,
/// - `budget − spent`,
/// - the room under the project's cap,
///
/// rounded down to the cent (absent limits do not limit). With a
/// `threshold`, it matches only pledges after which the citizens' money
/// (this pledge included, matches not counted) is at least
/// `threshold × goal`: the pledge that crosses the threshold is matched in
/// full, not only its part above the threshold, so that reaching the
/// threshold is itself rewarded and each pledge is matched all or nothing
/// by this rule. Pledges before the crossing stay unmatched, even once the
/// threshold is reached.
///
/// **lump_sum** gives `min(amount, budget − spent, room under the cap)`,
/// rounded down, once per project (while that lump sum is active), with the
/// pledge after which both criteria hold:
/// - progress: `total` + this pledge + what earlier pools gave this pledge
///   `≥ min_progress × goal` (matching counts towards progress; later pools
///   in the order are not seen yet);
/// - backers: `backers` (+ 1 if the pledge's donor is new) `≥ min_backers`.
///
/// If the budget or the cap room is short the lump sum is partial; if it
/// rounds to zero nothing is recorded and a later pledge may trigger it.
/// A refund cancelling the lump sum lets a later pledge trigger it again.
pub fn match_pledge(
    project: &CatalogProject,
    pools: &[PoolView<'_>],
    state: &ProjectState,
    pledge: &Pledge,
) -> Vec<Match> {
    let mut matches = Vec::new();
    if pledge.amount <= Decimal::ZERO {
        return matches;
    }
    let citizens_after = state.citizens_raised.saturating_add(pledge.amount);
    let backers_after = state.backers.saturating_add(u32::from(pledge.new_backer));
    // What earlier pools gave this pledge.
    let mut given = Decimal::ZERO;
    for pool in pools {
        if !pool.rules.is_open_on(pledge.paid_on) {
            continue;
        }
        let total_so_far = state
            .total
            .saturating_add(pledge.amount)
            .saturating_add(given);
        let offer = match pool.rules.mode {
            PoolMode::PerPledge => per_pledge_offer(project, pool, citizens_after, pledge.amount),
            PoolMode::LumpSum => lump_sum_offer(project, pool, total_so_far, backers_after),
            PoolMode::OnSuccess => None,
        };
        let Some(offer) = offer else { continue };
        let amount = limited(offer, pool, project.cap.saturating_sub(total_so_far));
        if amount > Decimal::ZERO {
            given = given.saturating_add(amount);
            matches.push(Match {
                pool_id: pool.id.to_owned(),
                amount,
            });
        }
    }
    matches
}

/// A per_pledge pool's own limits for this pledge (before budget and cap),
/// or `None` if it does not match it.
fn per_pledge_offer(
    project: &CatalogProject,
    pool: &PoolView<'_>,
    citizens_after: Decimal,
    amount: Decimal,
) -> Option<Decimal> {
    let rules = pool.rules;
    let threshold = rules.threshold.unwrap_or(Decimal::ZERO);
    if citizens_after < threshold.saturating_mul(project.goal) {
        return None;
    }
    let ratio = rules.ratio?;
    let limits = [
        Some(amount.saturating_mul(ratio)),
        rules.max_per_pledge,
        room(rules.max_per_project, pool.matched_for_project),
        room(rules.max_per_donor, pool.matched_for_donor),
    ];
    limits.into_iter().flatten().min()
}

/// A lump_sum pool's amount if this pledge triggers it.
fn lump_sum_offer(
    project: &CatalogProject,
    pool: &PoolView<'_>,
    total_so_far: Decimal,
    backers_after: u32,
) -> Option<Decimal> {
    let rules = pool.rules;
    let progress = rules.min_progress.unwrap_or(Decimal::ZERO);
    let reached = total_so_far >= progress.saturating_mul(project.goal)
        && backers_after >= rules.min_backers.unwrap_or(0);
    (!pool.lump_sum_paid && reached)
        .then_some(rules.amount)
        .flatten()
}

/// What an **on_success** pool adds to `project` at the close of its
/// campaign, given the project's final figures in `state` (pledges paid
/// before the end, active matches). It pays if and only if the citizens
/// alone reached the goal (`citizens_raised ≥ goal`, matches not counted):
/// the smallest of `share_of_goal × goal` and `max_per_project` (whichever
/// are given) less what it already gave this project, `budget − spent`, and
/// the room under the cap, rounded down; `None` when that is zero, when the
/// goal is missed, or when the pool is of another mode. Settling twice pays
/// nothing more. Dates are not checked here: the catalog lists only pools
/// whose dates overlap the campaign.
pub fn settle_on_success(
    project: &CatalogProject,
    pool: &PoolView<'_>,
    state: &ProjectState,
) -> Option<Decimal> {
    let rules = pool.rules;
    if rules.mode != PoolMode::OnSuccess || state.citizens_raised < project.goal {
        return None;
    }
    let commitment = [
        rules
            .share_of_goal
            .map(|share| share.saturating_mul(project.goal)),
        rules.max_per_project,
    ]
    .into_iter()
    .flatten()
    .min()?;
    let offer = commitment.saturating_sub(pool.matched_for_project);
    let amount = limited(offer, pool, project.cap.saturating_sub(state.total));
    (amount > Decimal::ZERO).then_some(amount)
}

/// Settles every on_success pool of a project at its close, in the pools'
/// order, each seeing the cap room the previous ones left.
pub fn settle_campaign(
    project: &CatalogProject,
    pools: &[PoolView<'_>],
    state: &ProjectState,
) -> Vec<Match> {
    let mut state = *state;
    let mut matches = Vec::new();
    for pool in pools {
        if let Some(amount) = settle_on_success(project, pool, &state) {
            state.total = state.total.saturating_add(amount);
            matches.push(Match {
                pool_id: pool.id.to_owned(),
                amount,
            });
        }
    }
    matches
}

/// What cancelling matches gives back: per pool, exactly the sum of its
/// cancelled matches, and their total (what the project's total loses on
/// top of the refunded pledge).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Release {
    /// Amount going back to each pool, by pool id.
    pub per_pool: BTreeMap<String, Decimal>,
    /// Sum of all the cancelled matches.
    pub total: Decimal,
}

/// The bookkeeping of a refund: the matches of the refunded pledge(s) are
/// cancelled and each pool gets back exactly what it matched (its `spent`,
/// the sum of its active matches, goes down by that). Matches of other
/// pledges are untouched, even if the refunded pledge had crossed a
/// threshold for them.
pub fn release<'m>(cancelled: impl IntoIterator<Item = &'m Match>) -> Release {
    let mut release = Release::default();
    for m in cancelled {
        *release.per_pool.entry(m.pool_id.clone()).or_default() += m.amount;
        release.total += m.amount;
    }
    release
}

/// `limit − used`, when there is a limit.
fn room(limit: Option<Decimal>, used: Decimal) -> Option<Decimal> {
    limit.map(|limit| limit.saturating_sub(used))
}

/// `offer` within the pool's budget left and the cap room, rounded down to
/// the cent, never negative.
fn limited(offer: Decimal, pool: &PoolView<'_>, cap_room: Decimal) -> Decimal {
    floor_cents(offer.min(pool.budget_left()).min(cap_room))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Funding, Status};
    use jiff::civil::date;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn project(goal: &str, cap: &str) -> CatalogProject {
        CatalogProject {
            title: "Le Café du Coin".into(),
            territory: "saint-etienne".into(),
            themes: vec!["alimentation".into()],
            status: Status::Live,
            goal: d(goal),
            cap: d(cap),
            funding: Funding::AllOrNothing,
            start: date(2026, 3, 1),
            end: date(2026, 4, 30),
            timezone: "Europe/Paris".into(),
            rewards: vec![],
            pools: vec![],
            holder: Default::default(),
            needs: vec![],
            messages: false,
        }
    }

    fn pool(mode: PoolMode, budget: &str) -> CatalogPool {
        CatalogPool {
            sponsor: "fondation".into(),
            sponsor_name: "Fondation".into(),
            title: "Pool".into(),
            mode,
            budget: d(budget),
            start: date(2026, 1, 1),
            end: date(2026, 12, 31),
            ratio: None,
            max_per_pledge: None,
            max_per_project: None,
            max_per_donor: None,
            threshold: None,
            share_of_goal: None,
            amount: None,
            min_progress: None,
            min_backers: None,
        }
    }

    fn per_pledge(ratio: &str, budget: &str) -> CatalogPool {
        CatalogPool {
            ratio: Some(d(ratio)),
            ..pool(PoolMode::PerPledge, budget)
        }
    }

    fn lump_sum(amount: &str, min_progress: &str, min_backers: u32) -> CatalogPool {
        CatalogPool {
            amount: Some(d(amount)),
            min_progress: Some(d(min_progress)),
            min_backers: Some(min_backers),
            ..pool(PoolMode::LumpSum, "3000")
        }
    }

    fn pledge(amount: &str) -> Pledge {
        Pledge {
            amount: d(amount),
            paid_on: date(2026, 3, 15),
            new_backer: true,
        }
    }

    fn state(citizens: &str, total: &str, backers: u32) -> ProjectState {
        ProjectState {
            citizens_raised: d(citizens),
            total: d(total),
            backers,
        }
    }

    fn amounts(matches: &[Match]) -> Vec<(&str, Decimal)> {
        matches
            .iter()
            .map(|m| (m.pool_id.as_str(), m.amount))
            .collect()
    }

    /// Matches one pledge against one pool with no history.
    fn one(project: &CatalogProject, rules: &CatalogPool, amount: &str) -> Vec<(String, Decimal)> {
        let pools = [PoolView::fresh("p", rules)];
        match_pledge(project, &pools, &ProjectState::default(), &pledge(amount))
            .into_iter()
            .map(|m| (m.pool_id, m.amount))
            .collect()
    }

    #[test]
    fn per_pledge_is_capped_by_max_per_pledge() {
        let rules = CatalogPool {
            max_per_pledge: Some(d("100")),
            ..per_pledge("1", "20000")
        };
        let p = project("6000", "7500");
        assert_eq!(one(&p, &rules, "150"), [("p".into(), d("100"))]);
        assert_eq!(one(&p, &rules, "42.10"), [("p".into(), d("42.10"))]);
    }

    #[test]
    fn per_pledge_rounds_down_to_the_cent() {
        let p = project("6000", "7500");
        assert_eq!(
            one(&p, &per_pledge("0.5", "20000"), "33.33"),
            [("p".into(), d("16.66"))]
        );
        assert_eq!(
            one(&p, &per_pledge("0.33", "20000"), "1.01"),
            [("p".into(), d("0.33"))]
        );
        // 0.01 × 0.5 = 0.005, rounded down to nothing: no match at all.
        assert_eq!(one(&p, &per_pledge("0.5", "20000"), "0.01"), []);
    }

    #[test]
    fn budget_left_is_never_exceeded_even_by_rounding() {
        let p = project("6000", "7500");
        let rules = per_pledge("1", "20000");
        let mut view = PoolView::fresh("p", &rules);
        view.spent = d("19989.995");
        let got = match_pledge(&p, &[view], &ProjectState::default(), &pledge("50"));
        assert_eq!(amounts(&got), [("p", d("10.00"))]);

        view.spent = d("19999.995");
        let got = match_pledge(&p, &[view], &ProjectState::default(), &pledge("50"));
        assert_eq!(got, []);

        // A budget with a fraction of a cent: 10.005 → 10.00.
        assert_eq!(
            one(&p, &per_pledge("1", "10.005"), "50"),
            [("p".into(), d("10.00"))]
        );
    }

    #[test]
    fn per_project_and_per_donor_rooms() {
        let p = project("6000", "7500");
        let rules = CatalogPool {
            max_per_project: Some(d("2000")),
            max_per_donor: Some(d("200")),
            ..per_pledge("1", "20000")
        };
        let mut view = PoolView::fresh("p", &rules);
        view.matched_for_project = d("1990");
        let got = match_pledge(&p, &[view], &ProjectState::default(), &pledge("50"));
        assert_eq!(amounts(&got), [("p", d("10"))]);

        view.matched_for_project = d("1000");
        view.matched_for_donor = d("170.50");
        let got = match_pledge(&p, &[view], &ProjectState::default(), &pledge("50"));
        assert_eq!(amounts(&got), [("p", d("29.50"))]);

        view.matched_for_donor = d("200");
        assert_eq!(
            match_pledge(&p, &[view], &ProjectState::default(), &pledge("50")),
            []
        );
    }

    #[test]
    fn threshold_matches_from_the_crossing_pledge_on() {
        // goal 1000 × threshold 0.25 = 250 € of citizens' money.
        let p = project("1000", "2000");
        let rules = CatalogPool {
            threshold: Some(d("0.25")),
            ..per_pledge("0.5", "20000")
        };
        let pools = [PoolView::fresh("region", &rules)];
        // 240 + 9.99 = 249.99: below, nothing.
        let below = state("240", "240", 10);
        assert_eq!(match_pledge(&p, &pools, &below, &pledge("9.99")), []);
        // 240 + 10 = 250: crosses, matched on the whole pledge.
        assert_eq!(
            amounts(&match_pledge(&p, &pools, &below, &pledge("10"))),
            [("region", d("5"))]
        );
        // 200 + 60 = 260: crosses, all 60 € matched, not only the 10 € above.
        let far = state("200", "200", 10);
        assert_eq!(
            amounts(&match_pledge(&p, &pools, &far, &pledge("60"))),
            [("region", d("30"))]
        );
        // Matches do not count towards the threshold.
        let with_matches = state("240", "900", 10);
        assert_eq!(match_pledge(&p, &pools, &with_matches, &pledge("9.99")), []);
    }

    #[test]
    fn pools_apply_in_order_within_the_cap() {
        let p = project("6000", "7500");
        let first = per_pledge("1", "20000");
        let second = per_pledge("0.5", "20000");
        let pools = [
            PoolView::fresh("first", &first),
            PoolView::fresh("second", &second),
        ];
        // Room 7500 − (7400 + 50) = 50: the first pool takes it all.
        let s = state("7000", "7400", 100);
        assert_eq!(
            amounts(&match_pledge(&p, &pools, &s, &pledge("50"))),
            [("first", d("50"))]
        );
        // Room 7500 − (7380 + 50) = 70: 50 for the first, 20 left for the second.
        let s = state("7000", "7380", 100);
        assert_eq!(
            amounts(&match_pledge(&p, &pools, &s, &pledge("50"))),
            [("first", d("50")), ("second", d("20"))]
        );
        // A pledge past the cap on its own (refused upstream) gets nothing.
        let s = state("7480", "7480", 100);
        assert_eq!(match_pledge(&p, &pools, &s, &pledge("50")), []);
    }

    #[test]
    fn pools_match_only_within_their_dates() {
        let p = project("6000", "7500");
        let rules = CatalogPool {
            start: date(2026, 3, 15),
            end: date(2026, 3, 31),
            ..per_pledge("1", "20000")
        };
        let pools = [PoolView::fresh("p", &rules)];
        let on = |day| Pledge {
            paid_on: day,
            ..pledge("10")
        };
        let s = ProjectState::default();
        assert_eq!(match_pledge(&p, &pools, &s, &on(date(2026, 3, 14))), []);
        assert_eq!(
            match_pledge(&p, &pools, &s, &on(date(2026, 3, 15))).len(),
            1
        );
        assert_eq!(
            match_pledge(&p, &pools, &s, &on(date(2026, 3, 31))).len(),
            1
        );
        assert_eq!(match_pledge(&p, &pools, &s, &on(date(2026, 4, 1))), []);
    }

    #[test]
    fn lump_sum_once_on_progress_and_backers() {
        // goal 1000 × 0.5 = 500 € reached, and 3 backers.
        let p = project("1000", "2000");
        let rules = lump_sum("500", "0.5", 3);
        let mut view = PoolView::fresh("coup-de-pouce", &rules);
        let s = state("400", "400", 2);
        // 400 + 100 = 500 and a third backer: paid.
        assert_eq!(
            amounts(&match_pledge(&p, &[view], &s, &pledge("100"))),
            [("coup-de-pouce", d("500"))]
        );
        // The same donor again: still 2 backers, nothing.
        let again = Pledge {
            new_backer: false,
            ..pledge("100")
        };
        assert_eq!(match_pledge(&p, &[view], &s, &again), []);
        // 400 + 99.99 < 500: nothing.
        assert_eq!(match_pledge(&p, &[view], &s, &pledge("99.99")), []);
        // Already paid: never twice.
        view.lump_sum_paid = true;
        assert_eq!(
            match_pledge(&p, &[view], &state("900", "900", 30), &pledge("10")),
            []
        );
        // Partial when the budget runs short.
        view.lump_sum_paid = false;
        view.spent = d("2800.001");
        assert_eq!(
            amounts(&match_pledge(&p, &[view], &s, &pledge("100"))),
            [("coup-de-pouce", d("199.99"))]
        );
    }

    #[test]
    fn lump_sum_counts_matches_of_earlier_pools_only() {
        let p = project("1000", "2000");
        let doubling = per_pledge("1", "20000");
        let lump = lump_sum("500", "0.5", 1);
        let s = state("380", "380", 5);
        // 380 + 60 + 60 matched = 500: the lump sum after the doubling is paid.
        let pools = [
            PoolView::fresh("a-doubling", &doubling),
            PoolView::fresh("b-lump", &lump),
        ];
        assert_eq!(
            amounts(&match_pledge(&p, &pools, &s, &pledge("60"))),
            [("a-doubling", d("60")), ("b-lump", d("500"))]
        );
        // Before the doubling in the order, it sees 440 only.
        let pools = [
            PoolView::fresh("a-lump", &lump),
            PoolView::fresh("b-doubling", &doubling),
        ];
        assert_eq!(
            amounts(&match_pledge(&p, &pools, &s, &pledge("60"))),
            [("b-doubling", d("60"))]
        );
    }

    #[test]
    fn on_success_pays_only_when_citizens_reach_the_goal() {
        let p = project("6000", "12000");
        let rules = CatalogPool {
            share_of_goal: Some(d("0.5")),
            max_per_project: Some(d("5000")),
            ..pool(PoolMode::OnSuccess, "25000")
        };
        let mut view = PoolView::fresh("ville", &rules);
        // min(0.5 × 6000, 5000) = 3000.
        assert_eq!(
            settle_on_success(&p, &view, &state("6000", "6500", 80)),
            Some(d("3000"))
        );
        // Matches do not count: citizens 5999.99 of 6000 is a miss.
        assert_eq!(
            settle_on_success(&p, &view, &state("5999.99", "9000", 80)),
            None
        );
        // Cap room: 12000 − 10000 = 2000.
        assert_eq!(
            settle_on_success(&p, &view, &state("8000", "10000", 80)),
            Some(d("2000"))
        );
        // Budget left 1234.567 → 1234.56.
        view.spent = d("23765.433");
        assert_eq!(
            settle_on_success(&p, &view, &state("6000", "6000", 80)),
            Some(d("1234.56"))
        );
        // Settling again after it paid: nothing more.
        view.spent = d("3000");
        view.matched_for_project = d("3000");
        assert_eq!(
            settle_on_success(&p, &view, &state("6000", "9000", 80)),
            None
        );
        // Another mode is never settled here.
        let other = per_pledge("1", "100");
        assert_eq!(
            settle_on_success(&p, &PoolView::fresh("x", &other), &state("6000", "6000", 1)),
            None
        );
    }

    #[test]
    fn on_success_with_only_a_share_or_only_a_max() {
        let p = project("3333", "10000");
        let share = CatalogPool {
            share_of_goal: Some(d("0.33")),
            ..pool(PoolMode::OnSuccess, "25000")
        };
        // 0.33 × 3333 = 1099.89.
        assert_eq!(
            settle_on_success(&p, &PoolView::fresh("s", &share), &state("3333", "3333", 1)),
            Some(d("1099.89"))
        );
        let max = CatalogPool {
            max_per_project: Some(d("800")),
            ..pool(PoolMode::OnSuccess, "25000")
        };
        assert_eq!(
            settle_on_success(&p, &PoolView::fresh("m", &max), &state("3333", "3333", 1)),
            Some(d("800"))
        );
    }

    #[test]
    fn settle_campaign_shares_the_cap_room_in_order() {
        let p = project("1000", "1800");
        let rules = CatalogPool {
            share_of_goal: Some(d("0.5")),
            ..pool(PoolMode::OnSuccess, "25000")
        };
        let doubling = per_pledge("1", "100");
        let pools = [
            PoolView::fresh("a", &rules),
            PoolView::fresh("b", &doubling),
            PoolView::fresh("c", &rules),
        ];
        let got = settle_campaign(&p, &pools, &state("1000", "1000", 1));
        assert_eq!(amounts(&got), [("a", d("500")), ("c", d("300"))]);
    }

    #[test]
    fn release_returns_exactly_what_was_matched() {
        let cancelled = [
            Match {
                pool_id: "a".into(),
                amount: d("16.66"),
            },
            Match {
                pool_id: "b".into(),
                amount: d("500"),
            },
            Match {
                pool_id: "a".into(),
                amount: d("0.34"),
            },
        ];
        let r = release(&cancelled);
        assert_eq!(r.per_pool["a"], d("17"));
        assert_eq!(r.per_pool["b"], d("500"));
        assert_eq!(r.total, d("517"));
        assert_eq!(release(&[]), Release::default());
    }
}
