//! Guards: the conditions under which a matching decision computed from a
//! read of the counters is still the decision the engine would make at
//! commit time. Pure.
//!
//! DynamoDB has no multi-item read-write transaction: `apply_paid` reads the
//! counters, runs [`matching::match_pledge`], then writes in one
//! `TransactWriteItems` whose conditions are these guards. For each counter
//! the decision read, a guard gives the range of values for which the
//! engine's result is unchanged; if a concurrent writer moved a counter out
//! of its range the transaction is cancelled and retried from a fresh read.
//! So every committed payment is exactly what the engine gives on the state
//! it commits on (serialisable), and counters that moved harmlessly (the
//! project's total far from its cap, a budget with room to spare) do not
//! cause retries.
//!
//! Amounts are `Decimal` euros in the engine and integer cents in the table.
//! For a limit term `k − x` (x a counter) of the `min` that a match `m` is
//! the floor of:
//! - if the term is not the binding one (`floor(k − x) > m`), it must stay
//!   `≥ m`: `x ≤ k − m`;
//! - if it binds, it must stay in `[m, m + 0.01)` (below 0.01 when `m = 0`,
//!   as the engine floors negative limits to 0): `x` is then pinned.
//!
//! Predicates (threshold crossed, lump sum criteria) keep their truth value.
//! Per-donor inputs are guarded by the donor item's version instead.
//! Should this file ever disagree with the engine on the matches (it checks),
//! every counter read is guarded by equality: slower, never wrong.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::expr::Range;
use crate::catalog::{CatalogProject, PoolMode};
use crate::matching::{self, Match, PoolView};
use crate::money::floor_cents;

/// A counter a matching decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counter {
    /// The project's citizens' money (`raised`, totals item).
    Citizens,
    /// The project's total, matches included (`total`, totals item).
    Total,
    /// The project's distinct donors (`backers`, totals item).
    Backers,
    /// A pool's matches for this project (`m:<pool>`, totals item).
    ForProject(String),
    /// A pool's active lump sums for this project (`l:<pool>`, totals item).
    LumpSum(String),
    /// A pool's spending, every project together (`spent`, pool item).
    Spent(String),
}

/// The ranges each counter must be in at commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guards(pub BTreeMap<Counter, Range>);

impl Guards {
    fn require(&mut self, counter: Counter, range: Range) {
        let slot = self.0.entry(counter).or_default();
        *slot = slot.and(range);
    }

    pub fn get(&self, counter: &Counter) -> Option<Range> {
        self.0.get(counter).copied()
    }
}

/// Whole cents of a decimal, rounded down (towards −∞), saturating.
fn floor_c(x: Decimal) -> i64 {
    let c = (x * Decimal::ONE_HUNDRED).floor();
    i64::try_from(c).unwrap_or(if c.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// Whole cents of a decimal, rounded up, saturating.
fn ceil_c(x: Decimal) -> i64 {
    let c = (x * Decimal::ONE_HUNDRED).ceil();
    i64::try_from(c).unwrap_or(if c.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

fn euros(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// What the guards need of the read counters, in cents.
#[derive(Debug, Clone, Copy)]
pub struct Read {
    pub citizens: i64,
    pub total: i64,
    pub backers: i64,
}

/// The pool views' counters in cents, parallel to `pools`.
#[derive(Debug, Clone, Copy)]
pub struct PoolRead {
    pub spent: i64,
    pub for_project: i64,
    pub lump: i64,
}

/// A limit `k − x` on a match `m` (see the module's documentation).
fn limit_term(g: &mut Guards, counter: Counter, k: Decimal, x: i64, m: Decimal) {
    let edge = floor_c(k - m);
    let binding = floor_cents(k - euros(x)) <= m;
    let range = match (binding, m.is_zero()) {
        (true, true) => Range::at_least(edge),
        (true, false) => Range::exactly(edge),
        (false, _) => Range::at_most(edge),
    };
    g.require(counter, range);
}

/// `x ≥ edge` keeps its truth value (counters are never negative, so an
/// edge ≤ 0 needs no guard).
fn predicate(g: &mut Guards, counter: Counter, x: i64, edge: i64) {
    if edge <= 0 {
        return;
    }
    g.require(
        counter,
        if x >= edge {
            Range::at_least(edge)
        } else {
            Range::at_most(edge.saturating_sub(1))
        },
    );
}

/// Every counter read pinned to its value: the fallback.
fn exact(read: &Read, pools: &[PoolView<'_>], counters: &[PoolRead]) -> Guards {
    let mut g = Guards::default();
    g.require(Counter::Citizens, Range::exactly(read.citizens));
    g.require(Counter::Total, Range::exactly(read.total));
    g.require(Counter::Backers, Range::exactly(read.backers));
    for (pool, c) in pools.iter().zip(counters) {
        g.require(Counter::Spent(pool.id.to_string()), Range::exactly(c.spent));
        g.require(
            Counter::ForProject(pool.id.to_string()),
            Range::exactly(c.for_project),
        );
        g.require(
            Counter::LumpSum(pool.id.to_string()),
            Range::exactly(c.lump),
        );
    }
    g
}

/// The guards of `matches`, the engine's result for this input. `read` and
/// `counters` are the cents the views were built from.
pub fn guards(
    project: &CatalogProject,
    pools: &[PoolView<'_>],
    counters: &[PoolRead],
    read: &Read,
    pledge: &matching::Pledge,
    matches: &[Match],
) -> Guards {
    derived(project, pools, counters, read, pledge, matches)
        .unwrap_or_else(|| exact(read, pools, counters))
}

/// The guards derived from the rules, or `None` if recomputing the matches
/// here does not give the engine's `matches`.
fn derived(
    project: &CatalogProject,
    pools: &[PoolView<'_>],
    counters: &[PoolRead],
    read: &Read,
    pledge: &matching::Pledge,
    matches: &[Match],
) -> Option<Guards> {
    let mut g = Guards::default();
    let mut recomputed = Vec::new();
    if pledge.amount > Decimal::ZERO {
        let mut given = Decimal::ZERO;
        for (pool, c) in pools.iter().zip(counters) {
            let m = pool_guards(&mut g, project, pool, c, read, pledge, given);
            if m > Decimal::ZERO {
                given += m;
                recomputed.push(Match {
                    pool_id: pool.id.to_string(),
                    amount: m,
                });
            }
        }
    }
    (recomputed == matches).then_some(g)
}

/// One pool's guards; returns its match (0 for none) as recomputed here.
#[allow(clippy::too_many_arguments)]
fn pool_guards(
    g: &mut Guards,
    project: &CatalogProject,
    pool: &PoolView<'_>,
    c: &PoolRead,
    read: &Read,
    pledge: &matching::Pledge,
    given: Decimal,
) -> Decimal {
    let rules = pool.rules;
    if !rules.is_open_on(pledge.paid_on) {
        return Decimal::ZERO;
    }
    let id = pool.id.to_string();
    // Fixed limits (from the catalog and the pledge), and the counter-dependent
    // ones as (counter, k, x): the limit is k − x.
    let mut fixed: Vec<Decimal> = Vec::new();
    let mut terms: Vec<(Counter, Decimal, i64)> = Vec::new();
    match rules.mode {
        PoolMode::OnSuccess => return Decimal::ZERO,
        PoolMode::PerPledge => {
            let threshold = rules.threshold.unwrap_or(Decimal::ZERO);
            let edge = ceil_c(threshold.saturating_mul(project.goal) - pledge.amount);
            predicate(g, Counter::Citizens, read.citizens, edge);
            if read.citizens < edge {
                return Decimal::ZERO;
            }
            let Some(ratio) = rules.ratio else {
                return Decimal::ZERO;
            };
            fixed.push(pledge.amount.saturating_mul(ratio));
            fixed.extend(rules.max_per_pledge);
            if let Some(max) = rules.max_per_project {
                terms.push((Counter::ForProject(id.clone()), max, c.for_project));
            }
            if let Some(max) = rules.max_per_donor {
                // Guarded by the donor item's version: a fixed limit here.
                fixed.push(max.saturating_sub(pool.matched_for_donor));
            }
        }
        PoolMode::LumpSum => {
            let paid = c.lump > 0;
            g.require(
                Counter::LumpSum(id.clone()),
                if paid {
                    Range::at_least(1)
                } else {
                    Range::at_most(0)
                },
            );
            if paid {
                return Decimal::ZERO;
            }
            let progress = rules.min_progress.unwrap_or(Decimal::ZERO);
            let total_edge = ceil_c(progress.saturating_mul(project.goal) - pledge.amount - given);
            let backers_edge =
                i64::from(rules.min_backers.unwrap_or(0)) - i64::from(pledge.new_backer);
            let progress_ok = read.total >= total_edge;
            let backers_ok = read.backers >= backers_edge;
            // Reached needs both to stay true; not reached, one false one
            // to stay false.
            if progress_ok {
                predicate(g, Counter::Backers, read.backers, backers_edge);
            }
            if !progress_ok || backers_ok {
                predicate(g, Counter::Total, read.total, total_edge);
            }
            if !(progress_ok && backers_ok) {
                return Decimal::ZERO;
            }
            let Some(amount) = rules.amount else {
                return Decimal::ZERO;
            };
            fixed.push(amount);
        }
    }
    terms.push((Counter::Spent(id), rules.budget, c.spent));
    terms.push((
        Counter::Total,
        project.cap - pledge.amount - given,
        read.total,
    ));
    let all = fixed
        .iter()
        .copied()
        .chain(terms.iter().map(|(_, k, x)| *k - euros(*x)));
    let m = floor_cents(all.min().unwrap_or(Decimal::ZERO));
    for (counter, k, x) in terms {
        limit_term(g, counter, k, x, m);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogPool, Funding, Status};
    use crate::matching::ProjectState;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn project(goal: &str, cap: &str) -> CatalogProject {
        CatalogProject {
            title: "p".into(),
            territory: "t".into(),
            themes: vec![],
            status: Status::Live,
            goal: d(goal),
            cap: d(cap),
            funding: Funding::KeepItAll,
            start: date(2026, 1, 1),
            end: date(2026, 12, 31),
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
            sponsor: "s".into(),
            sponsor_name: "S".into(),
            title: "P".into(),
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

    /// Everything one decision needs, in cents.
    #[derive(Debug, Clone)]
    struct Case {
        citizens: i64,
        extra: i64,
        backers: i64,
        amount: i64,
        new_backer: bool,
        pools: Vec<(i64, i64, i64, i64)>, // spent, for_project, for_donor, lump
    }

    fn rules() -> Vec<CatalogPool> {
        vec![
            CatalogPool {
                ratio: Some(d("0.5")),
                max_per_pledge: Some(d("40")),
                max_per_project: Some(d("300")),
                max_per_donor: Some(d("60")),
                threshold: Some(d("0.1")),
                ..pool(PoolMode::PerPledge, "1000.005")
            },
            CatalogPool {
                amount: Some(d("150")),
                min_progress: Some(d("0.5")),
                min_backers: Some(5),
                ..pool(PoolMode::LumpSum, "400")
            },
            CatalogPool {
                ratio: Some(d("1")),
                ..pool(PoolMode::PerPledge, "700")
            },
        ]
    }

    fn run(p: &CatalogProject, rules: &[CatalogPool], case: &Case) -> (Vec<Match>, Guards) {
        let ids = ["a", "b", "c"];
        let views: Vec<PoolView<'_>> = rules
            .iter()
            .zip(&case.pools)
            .zip(ids)
            .map(
                |((r, &(spent, for_project, for_donor, lump)), id)| PoolView {
                    id,
                    rules: r,
                    spent: euros(spent),
                    matched_for_project: euros(for_project),
                    matched_for_donor: euros(for_donor),
                    lump_sum_paid: lump > 0,
                },
            )
            .collect();
        let counters: Vec<PoolRead> = case
            .pools
            .iter()
            .map(|&(spent, for_project, _, lump)| PoolRead {
                spent,
                for_project,
                lump,
            })
            .collect();
        let total = case.citizens + case.extra;
        let state = ProjectState {
            citizens_raised: euros(case.citizens),
            total: euros(total),
            backers: case.backers as u32,
        };
        let pledge = matching::Pledge {
            amount: euros(case.amount),
            paid_on: date(2026, 6, 1),
            new_backer: case.new_backer,
        };
        let read = Read {
            citizens: case.citizens,
            total,
            backers: case.backers,
        };
        let matches = matching::match_pledge(p, &views, &state, &pledge);
        let g = derived(p, &views, &counters, &read, &pledge, &matches)
            .expect("the guards recompute the engine's matches");
        (matches, g)
    }

    fn in_guards(g: &Guards, case: &Case) -> bool {
        let ok = |c: Counter, v: i64| g.get(&c).is_none_or(|r| r.contains(v));
        ok(Counter::Citizens, case.citizens)
            && ok(Counter::Total, case.citizens + case.extra)
            && ok(Counter::Backers, case.backers)
            && ["a", "b", "c"].iter().zip(&case.pools).all(|(id, p)| {
                ok(Counter::Spent(id.to_string()), p.0)
                    && ok(Counter::ForProject(id.to_string()), p.1)
                    && ok(Counter::LumpSum(id.to_string()), p.3)
            })
    }

    fn case() -> impl Strategy<Value = Case> {
        let pool = (0i64..120_000, 0i64..40_000, 0i64..8_000, 0i64..2);
        (
            0i64..300_000,
            0i64..100_000,
            0i64..10,
            1i64..50_000,
            any::<bool>(),
            prop::collection::vec(pool, 3),
        )
            .prop_map(
                |(citizens, extra, backers, amount, new_backer, pools)| Case {
                    citizens,
                    extra,
                    backers,
                    amount,
                    new_backer,
                    pools,
                },
            )
    }

    /// Moves every counter by up to ±`step` cents (counters stay ≥ 0).
    fn moved(case: &Case, deltas: &[i64]) -> Case {
        let mv = |v: i64, d: i64| (v + d).max(0);
        let mut c = case.clone();
        c.citizens = mv(c.citizens, deltas[0]);
        c.extra = mv(c.extra, deltas[1]);
        c.backers = mv(c.backers, deltas[2] % 3);
        for (i, p) in c.pools.iter_mut().enumerate() {
            p.0 = mv(p.0, deltas[3 + i]);
            p.1 = mv(p.1, deltas[6 + i]);
            p.3 = mv(p.3, deltas[9 + i] % 2);
        }
        c
    }

    /// The case with one counter set to `v` (`None` if it cannot be).
    fn with(case: &Case, counter: &Counter, v: i64) -> Option<Case> {
        let mut c = case.clone();
        let pool = |id: &str| ["a", "b", "c"].iter().position(|p| *p == id);
        match counter {
            Counter::Citizens => c.citizens = v,
            Counter::Total => c.extra = v - c.citizens,
            Counter::Backers => c.backers = v,
            Counter::Spent(id) => c.pools[pool(id)?].0 = v,
            Counter::ForProject(id) => c.pools[pool(id)?].1 = v,
            Counter::LumpSum(id) => c.pools[pool(id)?].3 = v,
        }
        let all = [c.citizens, c.extra, c.backers];
        let ok = all.iter().all(|x| *x >= 0) && c.pools.iter().all(|p| p.0 >= 0 && p.1 >= 0);
        ok.then_some(c)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Each guard's bounds themselves still give the same matches.
        #[test]
        fn every_bound_of_every_guard_gives_the_same_matches(case in case()) {
            let p = project("6000", "9000");
            let rules = rules();
            let (matches, g) = run(&p, &rules, &case);
            for (counter, range) in &g.0 {
                for bound in [range.lo, range.hi].into_iter().flatten() {
                    let Some(other) = with(&case, counter, bound) else { continue };
                    if in_guards(&g, &other) {
                        prop_assert_eq!(&run(&p, &rules, &other).0, &matches, "{:?} at {}", counter, bound);
                    }
                }
            }
        }

        /// The guards' promise: any state within them gives the same matches.
        #[test]
        fn any_state_within_the_guards_gives_the_same_matches(
            case in case(),
            deltas in prop::collection::vec(-3000i64..3000, 12),
            small in prop::collection::vec(-3i64..3, 12),
        ) {
            let p = project("6000", "9000");
            let rules = rules();
            let (matches, g) = run(&p, &rules, &case);
            prop_assert!(in_guards(&g, &case), "the read state is within its guards: {g:?}");
            for deltas in [&deltas, &small] {
                let other = moved(&case, deltas);
                if in_guards(&g, &other) {
                    prop_assert_eq!(&run(&p, &rules, &other).0, &matches, "{:?} → {:?}", g, other);
                }
            }
        }
    }

    #[test]
    fn budget_with_room_guards_an_upper_bound_only() {
        let p = project("20000", "50000");
        let rules = [CatalogPool {
            ratio: Some(d("1")),
            ..pool(PoolMode::PerPledge, "1000")
        }];
        let views = [PoolView {
            spent: d("900"),
            ..PoolView::fresh("doubling", &rules[0])
        }];
        let counters = [PoolRead {
            spent: 90_000,
            for_project: 90_000,
            lump: 0,
        }];
        let read = Read {
            citizens: 90_000,
            total: 180_000,
            backers: 10,
        };
        let state = ProjectState {
            citizens_raised: d("900"),
            total: d("1800"),
            backers: 10,
        };
        let pledge = matching::Pledge {
            amount: d("42.50"),
            paid_on: date(2026, 6, 1),
            new_backer: true,
        };
        let matches = matching::match_pledge(&p, &views, &state, &pledge);
        let g = guards(&p, &views, &counters, &read, &pledge, &matches);
        // 1000 − 42.50: anything up to 957.50 spent leaves room for 42.50.
        assert_eq!(
            g.get(&Counter::Spent("doubling".into())),
            Some(Range::at_most(95_750))
        );
        assert_eq!(
            g.get(&Counter::Total),
            Some(Range::at_most(5_000_000 - 4_250 - 4_250))
        );

        // 990 spent: the budget binds (10 €), the spending is pinned.
        let views = [PoolView {
            spent: d("990"),
            ..views[0]
        }];
        let counters = [PoolRead {
            spent: 99_000,
            ..counters[0]
        }];
        let matches = matching::match_pledge(&p, &views, &state, &pledge);
        let g = guards(&p, &views, &counters, &read, &pledge, &matches);
        assert_eq!(
            g.get(&Counter::Spent("doubling".into())),
            Some(Range::exactly(99_000))
        );

        // Spent out: nothing matched, as long as less than a cent is left.
        let views = [PoolView {
            spent: d("1000"),
            ..views[0]
        }];
        let counters = [PoolRead {
            spent: 100_000,
            ..counters[0]
        }];
        let matches = matching::match_pledge(&p, &views, &state, &pledge);
        assert!(matches.is_empty());
        let g = guards(&p, &views, &counters, &read, &pledge, &matches);
        assert_eq!(
            g.get(&Counter::Spent("doubling".into())),
            Some(Range::at_least(100_000))
        );
    }
}
