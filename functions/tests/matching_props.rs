//! Property tests of the matching engine: random catalogs (1–3 pools of
//! random modes and limits, 1–3 projects) and random sequences of pledges,
//! applied one by one through a small in-test ledger in which every figure
//! is recomputed from the records (the ledger is the truth).

use jiff::ToSpan;
use jiff::civil::{Date, date};
use pave_functions::catalog::{Catalog, CatalogPool, CatalogProject, Funding, PoolMode, Status};
use pave_functions::matching::{
    Match, Pledge, PoolView, ProjectState, match_pledge, release, settle_campaign,
};
use pave_functions::money::{floor_cents, is_cents};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;

const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

fn base() -> Date {
    date(2026, 3, 1)
}

fn day(offset: i64) -> Date {
    base().checked_add(offset.days()).unwrap()
}

// ---------------------------------------------------------------- the model

/// A pledge to apply: project index, amount in cents, donor, day offset.
#[derive(Debug, Clone, Copy)]
struct PledgeSpec {
    project: usize,
    cents: i64,
    donor: usize,
    day: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    project: String,
    donor: usize,
    amount: Decimal,
    paid_on: Date,
    matches: Vec<Match>,
    refunded: bool,
}

/// The in-test ledger: paid pledges with the matches they caused, and the
/// on_success matches of closed campaigns.
#[derive(Debug, Clone, Default, PartialEq)]
struct Ledger {
    entries: Vec<Entry>,
    settlements: Vec<(String, Match)>,
}

impl Ledger {
    /// Active matches: (project, donor if linked to a pledge, match).
    fn active(&self) -> impl Iterator<Item = (&str, Option<usize>, &Match)> {
        let pledged = self.entries.iter().filter(|e| !e.refunded).flat_map(|e| {
            e.matches
                .iter()
                .map(move |m| (e.project.as_str(), Some(e.donor), m))
        });
        let settled = self.settlements.iter().map(|(p, m)| (p.as_str(), None, m));
        pledged.chain(settled)
    }

    fn sum<'a>(it: impl Iterator<Item = (&'a str, Option<usize>, &'a Match)>) -> Decimal {
        it.map(|(_, _, m)| m.amount).sum()
    }

    fn spent(&self, pool: &str) -> Decimal {
        Self::sum(self.active().filter(|(_, _, m)| m.pool_id == pool))
    }

    fn matched(&self, pool: &str, project: &str) -> Decimal {
        Self::sum(
            self.active()
                .filter(|(p, _, m)| m.pool_id == pool && *p == project),
        )
    }

    fn matched_for_donor(&self, pool: &str, project: &str, donor: usize) -> Decimal {
        Self::sum(
            self.active()
                .filter(|(p, d, m)| m.pool_id == pool && *p == project && *d == Some(donor)),
        )
    }

    fn match_count(&self, pool: &str, project: &str) -> usize {
        self.active()
            .filter(|(p, _, m)| m.pool_id == pool && *p == project)
            .count()
    }

    fn is_backer(&self, project: &str, donor: usize) -> bool {
        self.entries
            .iter()
            .any(|e| !e.refunded && e.project == project && e.donor == donor)
    }

    fn state(&self, project: &str) -> ProjectState {
        let citizens: Decimal = self
            .entries
            .iter()
            .filter(|e| !e.refunded && e.project == project)
            .map(|e| e.amount)
            .sum();
        let mut donors: Vec<usize> = self
            .entries
            .iter()
            .filter(|e| !e.refunded && e.project == project)
            .map(|e| e.donor)
            .collect();
        donors.sort_unstable();
        donors.dedup();
        let matched = Self::sum(self.active().filter(|(p, _, _)| *p == project));
        ProjectState {
            citizens_raised: citizens,
            total: citizens + matched,
            backers: donors.len() as u32,
        }
    }

    fn views<'a>(&self, catalog: &'a Catalog, project: &str, donor: usize) -> Vec<PoolView<'a>> {
        catalog
            .pools_of(&catalog.projects[project])
            .into_iter()
            .map(|(id, rules)| PoolView {
                id,
                rules,
                spent: self.spent(id),
                matched_for_project: self.matched(id, project),
                matched_for_donor: self.matched_for_donor(id, project, donor),
                lump_sum_paid: rules.mode == PoolMode::LumpSum && self.match_count(id, project) > 0,
            })
            .collect()
    }

    /// Applies a paid pledge as the webhook would; `None` when the caller
    /// would have refused it (past the cap on its own). Checks the rules
    /// that can be checked on the pledge alone.
    fn pledge(
        &mut self,
        catalog: &Catalog,
        spec: PledgeSpec,
    ) -> Result<Option<Vec<Match>>, TestCaseError> {
        let slug = catalog
            .projects
            .keys()
            .nth(spec.project % catalog.projects.len())
            .unwrap();
        let project = &catalog.projects[slug];
        let amount = Decimal::new(spec.cents, 2);
        let before = self.state(slug);
        if before.total + amount > project.cap {
            return Ok(None);
        }
        let pledge = Pledge {
            amount,
            paid_on: day(spec.day),
            new_backer: !self.is_backer(slug, spec.donor),
        };
        let views = self.views(catalog, slug, spec.donor);
        let matches = match_pledge(project, &views, &before, &pledge);
        self.entries.push(Entry {
            project: slug.clone(),
            donor: spec.donor,
            amount,
            paid_on: pledge.paid_on,
            matches: matches.clone(),
            refunded: false,
        });
        let after = self.state(slug);

        for (i, m) in matches.iter().enumerate() {
            prop_assert!(m.amount > Decimal::ZERO && is_cents(m.amount), "{m:?}");
            prop_assert!(
                matches[..i].iter().all(|o| o.pool_id != m.pool_id),
                "one match per pool and pledge"
            );
            let rules = &catalog.pools[&m.pool_id];
            prop_assert!(project.pools.contains(&m.pool_id));
            prop_assert!(rules.is_open_on(pledge.paid_on));
            match rules.mode {
                PoolMode::PerPledge => {
                    prop_assert!(m.amount <= amount * rules.ratio.unwrap());
                    prop_assert!(rules.max_per_pledge.is_none_or(|max| m.amount <= max));
                    let threshold = rules.threshold.unwrap_or_default() * project.goal;
                    prop_assert!(
                        after.citizens_raised >= threshold,
                        "matched below threshold"
                    );
                }
                PoolMode::LumpSum => {
                    prop_assert!(m.amount <= rules.amount.unwrap());
                    prop_assert!(after.backers >= rules.min_backers.unwrap());
                    prop_assert!(after.total >= rules.min_progress.unwrap() * project.goal);
                }
                PoolMode::OnSuccess => prop_assert!(false, "on_success matched at pledge time"),
            }
        }

        // Maximality: a per_pledge pool that is open and past its threshold
        // gives its full offer unless a room (budget, project, donor, cap)
        // is used up to the cent.
        for view in &views {
            let rules = view.rules;
            let threshold = rules.threshold.unwrap_or_default() * project.goal;
            if rules.mode != PoolMode::PerPledge
                || !rules.is_open_on(pledge.paid_on)
                || after.citizens_raised < threshold
            {
                continue;
            }
            let got = matches
                .iter()
                .find(|m| m.pool_id == view.id)
                .map_or(Decimal::ZERO, |m| m.amount);
            let full = floor_cents(
                (amount * rules.ratio.unwrap()).min(rules.max_per_pledge.unwrap_or(Decimal::MAX)),
            );
            if got < full {
                let tight = |limit: Option<Decimal>, used: Decimal| {
                    limit.is_some_and(|limit| limit - used < CENT)
                };
                let bound = tight(Some(rules.budget), self.spent(view.id))
                    || tight(rules.max_per_project, self.matched(view.id, slug))
                    || tight(
                        rules.max_per_donor,
                        self.matched_for_donor(view.id, slug, spec.donor),
                    )
                    || tight(Some(project.cap), after.total);
                prop_assert!(bound, "{} gave {got} of {full} with room left", view.id);
            }
        }
        Ok(Some(matches))
    }

    /// Closes every campaign: settles the on_success pools.
    fn close(&mut self, catalog: &Catalog) -> Result<(), TestCaseError> {
        for (slug, project) in &catalog.projects {
            let state = self.state(slug);
            let views = self.views(catalog, slug, usize::MAX);
            let matches = settle_campaign(project, &views, &state);
            for m in &matches {
                let rules = &catalog.pools[&m.pool_id];
                prop_assert_eq!(rules.mode, PoolMode::OnSuccess);
                prop_assert!(
                    state.citizens_raised >= project.goal,
                    "paid without success"
                );
                prop_assert!(m.amount > Decimal::ZERO && is_cents(m.amount));
                let share = rules.share_of_goal.map(|s| s * project.goal);
                prop_assert!(share.is_none_or(|s| m.amount <= s));
            }
            self.settlements
                .extend(matches.into_iter().map(|m| (slug.clone(), m)));
            // Settling again pays nothing more.
            let again = settle_campaign(project, &self.views(catalog, slug, 0), &self.state(slug));
            prop_assert!(again.is_empty(), "settled twice: {again:?}");
        }
        Ok(())
    }
}

/// The invariants that hold for the whole ledger at any time.
fn check(catalog: &Catalog, ledger: &Ledger) -> Result<(), TestCaseError> {
    for (id, pool) in &catalog.pools {
        prop_assert!(ledger.spent(id) <= pool.budget, "{id} over budget");
        for (slug, project) in &catalog.projects {
            let matched = ledger.matched(id, slug);
            if !project.pools.contains(id) {
                prop_assert_eq!(matched, Decimal::ZERO);
                continue;
            }
            if let Some(max) = pool.max_per_project {
                prop_assert!(matched <= max, "{id} over max_per_project on {slug}");
            }
            if let Some(max) = pool.max_per_donor {
                for donor in 0..DONORS {
                    prop_assert!(
                        ledger.matched_for_donor(id, slug, donor) <= max,
                        "{id} over max_per_donor"
                    );
                }
            }
            if pool.mode == PoolMode::LumpSum {
                prop_assert!(ledger.match_count(id, slug) <= 1, "lump sum paid twice");
            }
        }
    }
    for (slug, project) in &catalog.projects {
        let state = ledger.state(slug);
        prop_assert!(state.total <= project.cap, "{slug} past its cap");
    }
    for (_, _, m) in ledger.active() {
        prop_assert!(m.amount > Decimal::ZERO && is_cents(m.amount));
    }
    Ok(())
}

// ------------------------------------------------------------ the generators

const DONORS: usize = 6;

fn money(lo: i64, hi: i64) -> impl Strategy<Value = Decimal> {
    (lo..=hi).prop_map(|cents| Decimal::new(cents, 2))
}

fn share(lo: i64) -> impl Strategy<Value = Decimal> {
    (lo..=100i64).prop_map(|hundredths| Decimal::new(hundredths, 2))
}

fn pool() -> impl Strategy<Value = CatalogPool> {
    let mode = prop_oneof![
        2 => Just(PoolMode::PerPledge),
        1 => Just(PoolMode::OnSuccess),
        1 => Just(PoolMode::LumpSum)
    ];
    // Small budgets run out; some have a fraction of a cent left.
    let budget = prop_oneof![
        money(1, 5_000),
        money(5_000, 500_000),
        (1_000i64..5_000_000).prop_map(|m| Decimal::new(m, 3)),
    ];
    let dates = (-30i64..30, 0i64..100);
    let per_pledge = (
        money(1, 300),
        proptest::option::of(money(1, 20_000)),
        proptest::option::of(money(1, 200_000)),
        proptest::option::of(money(1, 30_000)),
        proptest::option::of(share(0)),
    );
    let others = (
        proptest::option::of(share(1)),
        proptest::option::of(money(1, 500_000)),
        money(1, 100_000),
        share(1),
        1u32..8,
    );
    (mode, budget, dates, per_pledge, others).prop_map(
        |(
            mode,
            budget,
            (start, len),
            pp,
            (share_of_goal, max_project, amount, progress, backers),
        )| {
            let mut pool = CatalogPool {
                sponsor: "sponsor".into(),
                sponsor_name: "Sponsor".into(),
                title: "Pool".into(),
                mode,
                budget,
                start: day(start),
                end: day(start + len),
                ratio: None,
                max_per_pledge: None,
                max_per_project: None,
                max_per_donor: None,
                threshold: None,
                share_of_goal: None,
                amount: None,
                min_progress: None,
                min_backers: None,
            };
            match mode {
                PoolMode::PerPledge => {
                    pool.ratio = Some(pp.0);
                    pool.max_per_pledge = pp.1;
                    pool.max_per_project = pp.2;
                    pool.max_per_donor = pp.3;
                    pool.threshold = pp.4;
                }
                PoolMode::OnSuccess => {
                    pool.share_of_goal = share_of_goal;
                    pool.max_per_project = max_project;
                    if share_of_goal.is_none() && max_project.is_none() {
                        pool.share_of_goal = Some(Decimal::new(5, 1));
                    }
                }
                PoolMode::LumpSum => {
                    pool.amount = Some(amount);
                    pool.min_progress = Some(progress);
                    pool.min_backers = Some(backers);
                }
            }
            pool
        },
    )
}

fn project() -> impl Strategy<Value = (Decimal, Decimal, Vec<bool>)> {
    // Mostly small goals, so that thresholds, criteria, success and caps are reached.
    let goal = prop_oneof![3 => money(5_000, 300_000), 1 => money(300_000, 2_000_000)];
    (
        goal,
        0i64..=150,
        proptest::collection::vec(proptest::bool::weighted(0.75), 3),
    )
        .prop_map(|(goal, over, uses)| {
            let cap = floor_cents(goal * (Decimal::ONE + Decimal::new(over, 2)));
            (goal, cap, uses)
        })
}

/// A catalog whose pools are `<prefix>-<i>/pool` and projects `<prefix>-<i>`.
fn catalog(
    prefix: &str,
    pools: Vec<CatalogPool>,
    projects: Vec<(Decimal, Decimal, Vec<bool>)>,
) -> Catalog {
    let ids: Vec<String> = (0..pools.len())
        .map(|i| format!("{prefix}-{i}/pool"))
        .collect();
    Catalog {
        version: 1,
        currency: "EUR".into(),
        pledge_min: Decimal::ONE,
        pledge_max: Decimal::new(500, 0),
        projects: projects
            .into_iter()
            .enumerate()
            .map(|(i, (goal, cap, uses))| {
                let project = CatalogProject {
                    title: format!("Project {i}"),
                    territory: "t".into(),
                    themes: vec![],
                    status: Status::Live,
                    goal,
                    cap,
                    funding: Funding::KeepItAll,
                    start: base(),
                    end: day(60),
                    timezone: "Europe/Paris".into(),
                    rewards: vec![],
                    pools: ids
                        .iter()
                        .zip(&uses)
                        .filter(|(_, used)| **used)
                        .map(|(id, _)| id.clone())
                        .collect(),
                    holder: Default::default(),
                    needs: vec![],
                    messages: false,
                };
                (format!("{prefix}-{i}"), project)
            })
            .collect(),
        pools: ids.into_iter().zip(pools).collect(),
    }
}

fn world(prefix: &'static str) -> impl Strategy<Value = Catalog> {
    (
        proptest::collection::vec(pool(), 1..=3),
        proptest::collection::vec(project(), 1..=3),
    )
        .prop_map(move |(pools, projects)| catalog(prefix, pools, projects))
}

fn pledges(max: usize) -> impl Strategy<Value = Vec<PledgeSpec>> {
    proptest::collection::vec(
        (0usize..3, 100i64..=50_000, 0usize..DONORS, 0i64..60).prop_map(
            |(project, cents, donor, day)| PledgeSpec {
                project,
                cents,
                donor,
                day,
            },
        ),
        0..=max,
    )
}

// -------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// Pledges, a refund of any subset, more pledges, then the close: the
    /// invariants hold after every step, and refunds give back exactly
    /// what was matched.
    #[test]
    fn ledger_invariants_and_exact_refunds(
        catalog in world("w"),
        first in pledges(40),
        refunded in proptest::collection::vec(any::<bool>(), 40),
        second in pledges(20),
    ) {
        // The catalog is the contract: it survives its own JSON.
        let json = serde_json::to_vec(&catalog).unwrap();
        prop_assert_eq!(&Catalog::from_json(&json).unwrap(), &catalog);

        let mut ledger = Ledger::default();
        for spec in first {
            ledger.pledge(&catalog, spec)?;
            check(&catalog, &ledger)?;
        }

        // Refund a subset: each pool's spending and each project's total go
        // back by exactly the cancelled matches (and the pledges).
        let before = ledger.clone();
        let chosen: Vec<usize> = (0..ledger.entries.len()).filter(|i| refunded[*i]).collect();
        let cancelled: Vec<&Match> =
            chosen.iter().flat_map(|i| &before.entries[*i].matches).collect();
        let back = release(cancelled.iter().copied());
        for i in &chosen {
            ledger.entries[*i].refunded = true;
        }
        let mut released_total = Decimal::ZERO;
        for id in catalog.pools.keys() {
            let back_to_pool = back.per_pool.get(id).copied().unwrap_or_default();
            prop_assert_eq!(before.spent(id) - ledger.spent(id), back_to_pool);
            released_total += back_to_pool;
        }
        prop_assert_eq!(released_total, back.total);
        prop_assert_eq!(back.total, cancelled.iter().map(|m| m.amount).sum::<Decimal>());
        for slug in catalog.projects.keys() {
            let gone: Decimal = chosen
                .iter()
                .map(|i| &before.entries[*i])
                .filter(|e| &e.project == slug)
                .map(|e| e.amount + e.matches.iter().map(|m| m.amount).sum::<Decimal>())
                .sum();
            prop_assert_eq!(before.state(slug).total - ledger.state(slug).total, gone);
        }
        check(&catalog, &ledger)?;

        for spec in second {
            ledger.pledge(&catalog, spec)?;
            check(&catalog, &ledger)?;
        }
        ledger.close(&catalog)?;
        check(&catalog, &ledger)?;
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Grouping does not matter: interleaving the pledges of projects that
    /// share no pool with another world's pledges changes none of their
    /// matches.
    #[test]
    fn unrelated_projects_do_not_interfere(
        a in world("a"),
        b in world("b"),
        pledges_a in pledges(30),
        pledges_b in pledges(30),
        order in proptest::collection::vec(any::<bool>(), 60),
    ) {
        let alone = |catalog: &Catalog, specs: &[PledgeSpec]| -> Result<Ledger, TestCaseError> {
            let mut ledger = Ledger::default();
            for spec in specs {
                ledger.pledge(catalog, *spec)?;
            }
            ledger.close(catalog)?;
            Ok(ledger)
        };
        let ledger_a = alone(&a, &pledges_a)?;
        let ledger_b = alone(&b, &pledges_b)?;

        // One catalog with both worlds; pledges interleaved by `order`.
        let mut both = a.clone();
        both.projects.extend(b.projects.clone());
        both.pools.extend(b.pools.clone());
        let offset_b = a.projects.len();
        let mut mixed = Ledger::default();
        let (mut ia, mut ib) = (0, 0);
        let mut turn = order.iter().copied().chain(std::iter::repeat(true));
        while ia < pledges_a.len() || ib < pledges_b.len() {
            let take_a = ib == pledges_b.len() || (ia < pledges_a.len() && turn.next().unwrap());
            // Re-aim the spec at the same project inside the combined catalog.
            let spec = if take_a {
                ia += 1;
                PledgeSpec { project: pledges_a[ia - 1].project % a.projects.len(), ..pledges_a[ia - 1] }
            } else {
                ib += 1;
                let s = pledges_b[ib - 1];
                PledgeSpec { project: offset_b + s.project % b.projects.len(), ..s }
            };
            mixed.pledge(&both, spec)?;
            check(&both, &mixed)?;
        }
        mixed.close(&both)?;
        check(&both, &mixed)?;

        let only = |ledger: &Ledger, prefix: &str| -> Ledger {
            Ledger {
                entries: ledger.entries.iter().filter(|e| e.project.starts_with(prefix)).cloned().collect(),
                settlements: ledger.settlements.iter().filter(|(p, _)| p.starts_with(prefix)).cloned().collect(),
            }
        };
        prop_assert_eq!(only(&mixed, "a-"), ledger_a);
        prop_assert_eq!(only(&mixed, "b-"), ledger_b);
    }
}
