//! Payments and matching: each event applied once, budgets spent to the
//! cent and never beyond under concurrency, caps, refunds releasing matches,
//! limited rewards reserved and never oversold.

use super::*;

/// 1. Paid pledges show in the figures and the snapshot, with their matches
///    written; the totals equal the sum of the ledger.
pub async fn paid_pledge_is_counted_and_matched<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let mut ledger = Ledger::default();

    // Nothing paid yet: a pending pledge counts for nothing.
    let camille = pledge("p-camille", CAFE, "42.10");
    suite.create(&camille).await;
    let pending = suite.store.pledge_contact(&camille.id).await.unwrap();
    assert_eq!(
        pending.map(|c| (c.status, c.matches)),
        Some((PledgeStatus::Pending, vec![]))
    );
    assert_eq!(suite.figures(CAFE).await.raised, Decimal::ZERO);
    assert_eq!(suite.figures(CAFE).await.pledges, 0);

    // 42.10 €: HABITAT gives 42.10 (ratio 1), REGION 21.05 (ratio 0.5).
    let applied = suite.pay("evt_paid_camille", &camille.id).await;
    assert_eq!(
        applied,
        changed(CAFE, vec![m(HABITAT, "42.10"), m(REGION, "21.05")])
    );
    ledger.paid(&camille, &applied);

    let figures = suite.figures(CAFE).await;
    assert_eq!(figures.raised, d("42.10"));
    assert_eq!((figures.backers, figures.pledges), (1, 1));
    assert_eq!(figures.matched[HABITAT].0, d("42.10"));
    assert_eq!(figures.matched[REGION].0, d("21.05"));
    assert!(
        figures.updated_at.is_some(),
        "a paid pledge dates the figures"
    );
    assert_eq!(suite.store.collected(CAFE).await.unwrap(), d("105.25"));
    // Its thank-you page states what it earned.
    let contact = suite.store.pledge_contact(&camille.id).await.unwrap();
    assert_eq!(
        contact.map(|c| (c.status, c.matches)),
        Some((
            PledgeStatus::Paid,
            vec![m(HABITAT, "42.10"), m(REGION, "21.05")]
        ))
    );

    // 150 €: HABITAT stops at its 100 € per pledge, REGION gives 75.
    let dominique = pledge("p-dominique", CAFE, "150");
    suite.create(&dominique).await;
    let applied = suite.pay("evt_paid_dominique", &dominique.id).await;
    assert_eq!(
        applied,
        changed(CAFE, vec![m(HABITAT, "100"), m(REGION, "75")])
    );
    ledger.paid(&dominique, &applied);

    // Camille again, 33.33 €: REGION's 16.665 is rounded down to 16.66.
    // Still two backers, three pledges.
    let again = NewPledge {
        donor: camille.donor.clone(),
        ..pledge("p-camille-2", CAFE, "33.33")
    };
    suite.create(&again).await;
    let applied = suite.pay("evt_paid_camille_2", &again.id).await;
    assert_eq!(
        applied,
        changed(CAFE, vec![m(HABITAT, "33.33"), m(REGION, "16.66")])
    );
    ledger.paid(&again, &applied);

    let figures = suite.figures(CAFE).await;
    assert_eq!(figures.raised, d("225.43"));
    assert_eq!((figures.backers, figures.pledges), (2, 3));
    assert_eq!(figures.matched[HABITAT].0, d("175.43"));
    assert_eq!(figures.matched[REGION].0, d("112.71"));
    assert_eq!(suite.spent(HABITAT).await, d("175.43"));
    assert_eq!(suite.spent(REGION).await, d("112.71"));

    // The snapshot holds the project, with amounts as decimal strings.
    let snapshot = suite.snapshot().await;
    assert_eq!(snapshot.version, 1);
    assert_eq!(snapshot.projects.get(CAFE), Some(&figures));
    let json = serde_json::to_value(&snapshot).unwrap();
    assert_eq!(json["projects"][CAFE]["raised"], "225.43");
    assert_eq!(json["projects"][CAFE]["matched"][REGION], "112.71");

    suite.audit(&ledger).await;
}

/// 2a. The same `checkout.session.completed` delivered ten times is applied
///     once.
pub async fn redelivered_event_is_applied_once<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let mut ledger = Ledger::default();
    let p = pledge("p-retry", CAFE, "20");
    suite.create(&p).await;

    let first = suite.pay("evt_retried", &p.id).await;
    assert_eq!(
        first,
        changed(CAFE, vec![m(HABITAT, "20"), m(REGION, "10")])
    );
    ledger.paid(&p, &first);
    let after_first = suite.figures(CAFE).await;

    for _ in 1..10 {
        assert_eq!(suite.pay("evt_retried", &p.id).await, Applied::Duplicate);
    }
    assert_eq!(
        suite.figures(CAFE).await,
        after_first,
        "duplicates change nothing"
    );
    assert_eq!(after_first.raised, d("20"));
    assert_eq!(after_first.pledges, 1);
    suite.audit(&ledger).await;
}

/// 2b. The same event delivered at once by 8 tasks (on separate handles):
///     exactly one `Changed`, seven `Duplicate`.
pub async fn concurrent_deliveries_apply_once<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let p = pledge("p-burst", CAFE, "12.34");
    suite.create(&p).await;

    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (task, barrier, id) = (Suite::new(db()), barrier.clone(), p.id.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            task.pay("evt_burst", &id).await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    let applied: Vec<&Applied> = results
        .iter()
        .filter(|a| matches!(a, Applied::Changed { .. }))
        .collect();
    let duplicates = results.iter().filter(|a| **a == Applied::Duplicate).count();
    assert_eq!((applied.len(), duplicates), (1, 7), "{results:?}");
    assert_eq!(
        applied[0],
        &changed(CAFE, vec![m(HABITAT, "12.34"), m(REGION, "6.17")])
    );

    let mut ledger = Ledger::default();
    ledger.paid(&p, applied[0]);
    let figures = suite.figures(CAFE).await;
    assert_eq!((figures.raised, figures.pledges), (d("12.34"), 1));
    suite.audit(&ledger).await;
}

/// 3. Events out of order: an expiry after the payment, a refund before it,
///    and a second completed event for a paid pledge change nothing.
pub async fn out_of_order_events_are_harmless<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let mut ledger = Ledger::default();

    // `expired` after `paid`.
    let a = pledge("p-a", CAFE, "30");
    suite.create(&a).await;
    let applied = suite.pay("evt_paid_a", &a.id).await;
    ledger.paid(&a, &applied);
    let before = suite.figures(CAFE).await;
    assert!(matches!(
        suite.expire("evt_expired_a", &a.id).await,
        Applied::NoEffect { .. }
    ));
    assert_eq!(
        suite.figures(CAFE).await,
        before,
        "a late expiry leaves the paid pledge alone"
    );
    // ... and that expiry is recorded like any event.
    assert_eq!(
        suite.expire("evt_expired_a", &a.id).await,
        Applied::Duplicate
    );

    // A second, different completed event for the already paid pledge.
    assert!(matches!(
        suite.pay("evt_paid_a_bis", &a.id).await,
        Applied::NoEffect { .. }
    ));
    assert_eq!(suite.figures(CAFE).await, before, "paid once, matched once");
    assert_eq!(suite.spent(HABITAT).await, d("30"));

    // `refunded` before `paid`: the refund wins, the late completion is
    // never counted (Stripe does not promise the order of its events).
    let b = pledge("p-b", CAFE, "40");
    suite.create(&b).await;
    assert_eq!(
        suite.refund("evt_refunded_b", &b.id).await,
        changed(CAFE, vec![])
    );
    let refunds_before = suite.figures(CAFE).await.refunds;
    assert!(matches!(
        suite.pay("evt_paid_b", &b.id).await,
        Applied::NoEffect { .. }
    ));
    let figures = suite.figures(CAFE).await;
    assert_eq!(
        (figures.raised, figures.pledges, figures.backers),
        (d("30"), 1, 1),
        "the refunded payment is never counted"
    );
    assert_eq!(figures.refunds, refunds_before);
    assert_eq!(suite.spent(HABITAT).await, d("30"), "nor matched");
    suite.audit(&ledger).await;
}

/// 4a. The test: 200 pledges of seeded amounts (5–50 € with cents) on
///     one project, paid concurrently against a ratio-1 pool of 1 000 €. The
///     budget is spent to the cent and never beyond.
pub async fn concurrent_pledges_spend_the_budget_to_the_cent<S: Backend>(db: impl Fn() -> S) {
    const PLEDGES: usize = 200;
    const HANDLES: usize = 8;
    let suite = Suite::new(db());
    let budget = suite.catalog.pools[DOUBLING].budget;
    assert_eq!(budget, d("1000"));

    let mut rng = Seeded(0x5EED_CAFE_2026);
    let pledges: Vec<NewPledge> = (0..PLEDGES)
        .map(|i| NewPledge {
            amount: rng.euros(5, 50),
            // Some donors give twice.
            donor: format!("donor:{}", i % 150),
            ..pledge(&format!("p-{i:03}"), JARDIN, "1")
        })
        .collect();
    let citizens: Decimal = pledges.iter().map(|p| p.amount).sum();
    assert!(
        citizens > budget,
        "the pledges ({citizens}) must exceed what the pool can match"
    );
    for p in &pledges {
        suite.create(p).await;
    }

    // While the burst runs, an observer checks the pool never goes beyond.
    let done = Arc::new(AtomicBool::new(false));
    let observer = {
        let (watch, done) = (suite.share(), done.clone());
        tokio::spawn(async move {
            let mut looks = 0u32;
            while !done.load(Ordering::Relaxed) {
                let spent = watch.spent(DOUBLING).await;
                assert!(
                    spent <= budget,
                    "pool spent {spent} beyond its budget mid-burst"
                );
                let figures = watch.figures(JARDIN).await;
                assert!(figures.matched_total() <= budget);
                looks += 1;
                tokio::task::yield_now().await;
            }
            looks
        })
    };

    let handles: Vec<Suite<S>> = (0..HANDLES).map(|_| Suite::new(db())).collect();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(PLEDGES);
    for (i, p) in pledges.iter().enumerate() {
        let (task, id) = (handles[i % HANDLES].share(), p.id.clone());
        tasks.push(tokio::spawn(async move {
            task.pay(&format!("evt_paid_{id}"), &id).await
        }));
    }
    let mut results = Vec::with_capacity(PLEDGES);
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let looks = observer.await.expect("observer");
    let test = std::thread::current().name().unwrap_or("?").to_string();
    eprintln!(
        "{test}: {PLEDGES} concurrent payments on {HANDLES} handles in {elapsed:?} ({looks} looks by the observer)"
    );

    let mut ledger = Ledger::default();
    for (p, applied) in pledges.iter().zip(&results) {
        ledger.paid(p, applied);
    }
    let matches: Vec<&Match> = ledger.entries.values().flat_map(|e| &e.matches).collect();
    assert!(
        matches
            .iter()
            .all(|m| m.pool_id == DOUBLING && is_cents(m.amount))
    );
    // Each match is the pledge itself, but one: the last one, partial.
    let partial = ledger
        .entries
        .values()
        .filter(|e| e.matches.first().is_some_and(|m| m.amount < e.amount))
        .count();
    assert!(partial <= 1, "{partial} partial matches");

    let spent: Decimal = matches.iter().map(|m| m.amount).sum();
    assert_eq!(spent, d("1000.00"), "the budget is spent to the cent");
    assert_eq!(suite.spent(DOUBLING).await, d("1000.00"));
    let figures = suite.figures(JARDIN).await;
    assert_eq!(figures.raised, citizens);
    assert_eq!(figures.matched_total(), d("1000.00"));
    assert_eq!(figures.pledges, PLEDGES as u32);
    assert_eq!(figures.backers, 150);
    suite.audit(&ledger).await;

    // Once the budget is spent, a pledge is paid but not matched.
    let late = pledge("p-late", JARDIN, "10");
    suite.create(&late).await;
    assert_eq!(
        suite.pay("evt_paid_late", &late.id).await,
        changed(JARDIN, vec![])
    );
    assert_eq!(suite.spent(DOUBLING).await, d("1000.00"));
}

/// 4b. A tight cap under concurrency: 20 pledges of 25 € (500 €) on a
///     project capped at 990 €, with a ratio-1 pool that could give 500 €.
///     Whatever the order, 19 pledges are matched in full (950 €) and the
///     last one by the 15 € left under the cap: 990.00 €, never more.
pub async fn concurrent_pledges_stop_at_a_tight_cap<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let cap = suite.catalog.projects[FOURNIL].cap;
    let pledges: Vec<NewPledge> = (0..20)
        .map(|i| pledge(&format!("p-fournil-{i:02}"), FOURNIL, "25"))
        .collect();
    for p in &pledges {
        suite.create(p).await;
    }

    let mut tasks = Vec::new();
    for p in &pledges {
        let (task, id) = (Suite::new(db()), p.id.clone());
        tasks.push(tokio::spawn(async move {
            task.pay(&format!("evt_paid_{id}"), &id).await
        }));
    }
    let mut ledger = Ledger::default();
    for (p, task) in pledges.iter().zip(tasks) {
        ledger.paid(p, &task.await.expect("task"));
    }

    let mut amounts: Vec<Decimal> = ledger
        .entries
        .values()
        .flat_map(|e| &e.matches)
        .map(|m| m.amount)
        .collect();
    amounts.sort();
    let mut expected = vec![d("15")];
    expected.extend(std::iter::repeat_n(d("25"), 19));
    assert_eq!(amounts, expected);

    let figures = suite.figures(FOURNIL).await;
    assert_eq!(figures.raised, d("500"));
    assert_eq!(figures.matched[UNCAPPED].0, d("490"));
    let collected = suite.store.collected(FOURNIL).await.unwrap();
    assert_eq!(collected, d("990.00"));
    assert!(collected <= cap);
    suite.audit(&ledger).await;
}

/// 5. A refund cancels the pledge's matches and gives the pool back exactly
///    what they were, which later pledges may then use.
pub async fn refunds_release_matches_to_the_pool<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let mut ledger = Ledger::default();

    // SMALL has 100 €: 80 € matched in full, then 50 € matched by the 20 € left.
    let a = pledge("p-a", ATELIER, "80");
    let b = pledge("p-b", ATELIER, "50");
    for p in [&a, &b] {
        suite.create(p).await;
    }
    let applied = suite.pay("evt_paid_a", &a.id).await;
    assert_eq!(applied, changed(ATELIER, vec![m(SMALL, "80")]));
    ledger.paid(&a, &applied);
    let applied = suite.pay("evt_paid_b", &b.id).await;
    assert_eq!(applied, changed(ATELIER, vec![m(SMALL, "20")]));
    ledger.paid(&b, &applied);
    assert_eq!(suite.spent(SMALL).await, d("100"));

    // Refunding `a` cancels its 80 € match: the pool's spending goes down by
    // exactly 80 €, the project loses 80 + 80.
    let applied = suite.refund("evt_refunded_a", &a.id).await;
    assert_eq!(applied, changed(ATELIER, vec![m(SMALL, "80")]));
    ledger.refunded(&a.id, &applied);
    assert_eq!(suite.spent(SMALL).await, d("20"));
    let figures = suite.figures(ATELIER).await;
    assert_eq!(
        (figures.raised, figures.matched[SMALL].0),
        (d("50"), d("20"))
    );
    assert_eq!((figures.backers, figures.pledges), (1, 1));
    assert_eq!(suite.store.collected(ATELIER).await.unwrap(), d("70"));
    // A refunded pledge earned nothing any more; the other keeps its match.
    let matches = |id: &'static str| {
        let store = &suite.store;
        async move { store.pledge_contact(id).await.unwrap().unwrap().matches }
    };
    assert_eq!(matches("p-a").await, vec![]);
    assert_eq!(matches("p-b").await, vec![m(SMALL, "20")]);

    // The same refund event again; then a different payment event for it.
    assert_eq!(
        suite.refund("evt_refunded_a", &a.id).await,
        Applied::Duplicate
    );
    assert!(matches!(
        suite.pay("evt_paid_a_late", &a.id).await,
        Applied::NoEffect { .. }
    ));
    assert_eq!(suite.spent(SMALL).await, d("20"));

    // Refunding a pending pledge counts nothing: it is recorded refunded.
    let pending = pledge("p-pending", ATELIER, "15");
    suite.create(&pending).await;
    assert_eq!(
        suite.refund("evt_refunded_pending", &pending.id).await,
        changed(ATELIER, vec![])
    );
    let after = suite.figures(ATELIER).await;
    assert_eq!(
        (after.raised, &after.matched, after.pledges, after.backers),
        (
            figures.raised,
            &figures.matched,
            figures.pledges,
            figures.backers
        )
    );

    // The 80 € returned are spent again: 70 € matched in full (90 € spent).
    let c = pledge("p-c", ATELIER, "70");
    suite.create(&c).await;
    let applied = suite.pay("evt_paid_c", &c.id).await;
    assert_eq!(applied, changed(ATELIER, vec![m(SMALL, "70")]));
    ledger.paid(&c, &applied);
    assert_eq!(suite.spent(SMALL).await, d("90"));

    // Refunding a pledge matched by two pools releases both.
    let e = pledge("p-e", CAFE, "33.33");
    suite.create(&e).await;
    let applied = suite.pay("evt_paid_e", &e.id).await;
    ledger.paid(&e, &applied);
    let (habitat, region) = (suite.spent(HABITAT).await, suite.spent(REGION).await);
    let applied = suite.refund("evt_refunded_e", &e.id).await;
    assert_eq!(
        applied,
        changed(CAFE, vec![m(HABITAT, "33.33"), m(REGION, "16.66")])
    );
    ledger.refunded(&e.id, &applied);
    assert_eq!(habitat - suite.spent(HABITAT).await, d("33.33"));
    assert_eq!(region - suite.spent(REGION).await, d("16.66"));
    let cafe = suite.figures(CAFE).await;
    assert_eq!(
        (cafe.raised, cafe.matched_total(), cafe.pledges),
        (Decimal::ZERO, Decimal::ZERO, 0)
    );

    suite.audit(&ledger).await;
}

/// 6. A limited reward is reserved by pending pledges and released when the
///    checkout expires (by the webhook, or by its `expires_at` passing).
pub async fn limited_rewards_are_reserved_and_released<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let meal = |id: &str| NewPledge {
        reward: Some(1),
        ..pledge(id, CAFE, "10")
    };

    // Limit 2: two pending pledges take it, a third is refused.
    suite.create(&meal("p-1")).await;
    suite.create(&meal("p-2")).await;
    assert_eq!(suite.figures(CAFE).await.rewards.get(&1), Some(&2));
    assert!(matches!(
        suite.try_create(meal("p-3")).await,
        Err(StoreError::RewardSoldOut)
    ));
    // An unlimited reward of the same project is still open.
    suite
        .create(&NewPledge {
            reward: Some(0),
            ..pledge("p-coffee", CAFE, "5")
        })
        .await;

    // `p-1`'s checkout expires: its place is free again.
    assert_eq!(
        suite.expire("evt_expired_1", "p-1").await,
        changed(CAFE, vec![])
    );
    assert_eq!(suite.figures(CAFE).await.rewards.get(&1), Some(&1));
    suite.create(&meal("p-3")).await;
    assert!(matches!(
        suite.try_create(meal("p-4")).await,
        Err(StoreError::RewardSoldOut)
    ));

    // Paid pledges keep their reward.
    let applied = suite.pay("evt_paid_2", "p-2").await;
    assert!(matches!(applied, Applied::Changed { .. }));
    assert_eq!(suite.figures(CAFE).await.rewards.get(&1), Some(&2));
    assert!(matches!(
        suite.try_create(meal("p-5")).await,
        Err(StoreError::RewardSoldOut)
    ));

    // Reservations lapse by `expires_at` even without the webhook: two
    // pledges whose checkouts expired an hour ago reserve nothing for a
    // pledge made now (ATELIER's reward 0 is limited to 2 as well).
    let repair = |id: &str| NewPledge {
        reward: Some(0),
        ..pledge(id, ATELIER, "10")
    };
    let hour_ago = now() - 3600;
    for id in ["p-old-1", "p-old-2"] {
        let old = NewPledge {
            created_at: hour_ago - CHECKOUT_TTL,
            expires_at: hour_ago,
            ..repair(id)
        };
        suite.create(&old).await;
    }
    assert_eq!(
        suite.figures(ATELIER).await.rewards.get(&0),
        None,
        "lapsed reservations are not counted"
    );
    suite.create(&repair("p-now-1")).await;
    suite.create(&repair("p-now-2")).await;
    assert_eq!(suite.figures(ATELIER).await.rewards.get(&0), Some(&2));
    assert!(matches!(
        suite.try_create(repair("p-now-3")).await,
        Err(StoreError::RewardSoldOut)
    ));
}

/// 6b. Ten donors race for the last two places of a limited reward, each on
///     its own handle: exactly two get it. Five rounds (the winners' checkouts
///     expire between rounds) to give a race more chances to show.
pub async fn limited_reward_race_is_never_oversold<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let racers: Vec<Suite<S>> = (0..10).map(|_| Suite::new(db())).collect();
    for round in 0..5 {
        let barrier = Arc::new(tokio::sync::Barrier::new(racers.len()));
        let mut tasks = Vec::new();
        for (i, racer) in racers.iter().enumerate() {
            let (task, barrier) = (racer.share(), barrier.clone());
            let p = NewPledge {
                reward: Some(1),
                ..pledge(&format!("p-race-{round}-{i}"), CAFE, "10")
            };
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let id = p.id.clone();
                (id, task.try_create(p).await)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.expect("task") {
                (id, Ok(())) => winners.push(id),
                (_, Err(StoreError::RewardSoldOut)) => {}
                (id, Err(e)) => panic!("round {round}, {id}: unexpected error: {e}"),
            }
        }
        assert_eq!(winners.len(), 2, "round {round}: {winners:?}");
        assert_eq!(suite.figures(CAFE).await.rewards.get(&1), Some(&2));
        for id in &winners {
            assert!(matches!(
                suite.expire(&format!("evt_expired_{id}"), id).await,
                Applied::Changed { .. }
            ));
        }
    }
}
