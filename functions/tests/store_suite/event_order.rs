//! Stripe sends events late, twice and out of order, and says so: no order,
//! lateness or content of its events can corrupt the ledger, on any store.

use super::*;

/// 21. A refund that arrives before its payment's completion wins: the
///     completion then counts nothing, matches nothing.
pub async fn a_refund_before_its_completion_wins<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let before = suite.figures(CAFE).await;

    // In full.
    let a = pledge("p-a", CAFE, "40");
    suite.create(&a).await;
    assert_eq!(
        suite.refund("evt_refunded_a", &a.id).await,
        changed(CAFE, vec![])
    );
    assert!(matches!(
        suite.pay("evt_paid_a", &a.id).await,
        Applied::NoEffect { .. }
    ));
    // In part: the rest is to be refunded, nothing is ever counted.
    let b = pledge("p-b", CAFE, "30");
    suite.create(&b).await;
    let applied = suite
        .store
        .apply_refunded(
            "evt_partial_b",
            &b.id,
            RefundExtent::Partial,
            Some("pi_b"),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        applied,
        Applied::Refused {
            project: CAFE.into(),
            reason: RefundReason::PartialRefund
        }
    );
    assert!(matches!(
        suite.pay("evt_paid_b", &b.id).await,
        Applied::NoEffect { .. }
    ));

    let after = suite.figures(CAFE).await;
    assert_eq!(
        (after.raised, &after.matched, after.pledges, after.backers),
        (
            before.raised,
            &before.matched,
            before.pledges,
            before.backers
        ),
        "a refunded payment is never counted"
    );
    assert_eq!(after.refunds, before.refunds + 2);
    assert_eq!(suite.spent(HABITAT).await, Decimal::ZERO, "nor matched");
    let pending = suite.store.pending_refunds().await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(
        (pending[0].1.id.as_str(), pending[0].1.refund_reason),
        ("p-b", Some(RefundReason::PartialRefund))
    );
    assert_eq!(
        pending[0].1.payment_intent.as_deref(),
        Some("pi_b"),
        "the charge's PaymentIntent is kept to refund the rest"
    );
    let ledger = suite.ledger_of(CAFE).await;
    assert_eq!(ledger["p-a"].status, PledgeStatus::Refunded);
}

/// 22. A completion that arrives after its checkout expired re-checks the
///     reward's places (and the cap): when they were taken meanwhile it is
///     refused, `reward_sold_out`, never counted past the limit; when a
///     place is still free, it is counted.
pub async fn a_late_completion_rechecks_the_reward<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let at = now();
    // ATELIER's reward 0 has 2 places. A's checkout lapsed (no expiry event
    // yet), so B and C take both places and pay.
    let lapsed = NewPledge {
        reward: Some(0),
        created_at: at - 4_000,
        expires_at: at - 100,
        ..pledge("p-a", ATELIER, "10")
    };
    suite.create(&lapsed).await;
    for id in ["p-b", "p-c"] {
        let p = NewPledge {
            reward: Some(0),
            ..pledge(id, ATELIER, "10")
        };
        suite.create(&p).await;
        assert!(matches!(
            suite.pay(&format!("evt_paid_{id}"), id).await,
            Applied::Changed { .. }
        ));
    }
    // A's completion arrives late.
    assert_eq!(
        suite.pay("evt_paid_a", "p-a").await,
        Applied::Refused {
            project: ATELIER.into(),
            reason: RefundReason::RewardSoldOut
        }
    );
    let figures = suite.figures(ATELIER).await;
    assert_eq!(
        figures.rewards.get(&0).copied(),
        Some(2),
        "never past the limit"
    );
    assert_eq!((figures.raised, figures.pledges), (d("20"), 2));

    // An expired checkout whose place is still free is counted when its
    // completion comes late: CAFE's reward 1 (2 places), none taken.
    let e = NewPledge {
        reward: Some(1),
        ..pledge("p-e", CAFE, "20")
    };
    suite.create(&e).await;
    assert!(matches!(
        suite.expire("evt_expired_e", &e.id).await,
        Applied::Changed { .. }
    ));
    assert!(matches!(
        suite.pay("evt_paid_e", &e.id).await,
        Applied::Changed { .. }
    ));
    assert_eq!(suite.figures(CAFE).await.rewards.get(&1).copied(), Some(1));
    // ... and one that expired while its place was taken is refused.
    let f = NewPledge {
        reward: Some(1),
        ..pledge("p-f", CAFE, "20")
    };
    suite.create(&f).await;
    suite.expire("evt_expired_f", &f.id).await;
    let g = NewPledge {
        reward: Some(1),
        ..pledge("p-g", CAFE, "20")
    };
    suite.create(&g).await;
    assert_eq!(
        suite.pay("evt_paid_f", &f.id).await,
        Applied::Refused {
            project: CAFE.into(),
            reason: RefundReason::RewardSoldOut
        },
        "G's open reservation holds the last place"
    );
    assert!(matches!(
        suite.pay("evt_paid_g", &g.id).await,
        Applied::Changed { .. }
    ));
    assert_eq!(suite.figures(CAFE).await.rewards.get(&1).copied(), Some(2));
}

/// 23. `amount_total` and `currency` must be the pledge's: a mismatch is
///     never counted, and is to be refunded.
pub async fn an_amount_or_currency_mismatch_is_never_counted<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let before = suite.figures(CAFE).await;
    for (id, cents, currency) in [
        ("p-less", 1_999, "eur"),
        ("p-more", 2_001, "eur"),
        ("p-usd", 2_000, "usd"),
        ("p-none", 2_000, ""),
    ] {
        let p = pledge(id, CAFE, "20");
        suite.create(&p).await;
        assert_eq!(
            suite
                .pay_as(&format!("evt_{id}"), id, cents, currency, now())
                .await,
            Applied::Refused {
                project: CAFE.into(),
                reason: RefundReason::AmountMismatch
            },
            "{id}"
        );
    }
    let after = suite.figures(CAFE).await;
    assert_eq!(
        (after.raised, &after.matched, after.pledges),
        (before.raised, &before.matched, before.pledges)
    );
    assert_eq!(suite.spent(HABITAT).await, Decimal::ZERO);
    let pending = suite.store.pending_refunds().await.unwrap();
    assert_eq!(pending.len(), 4);
    assert!(
        pending
            .iter()
            .all(|(_, p)| p.refund_reason == Some(RefundReason::AmountMismatch))
    );
    // The exact amount, at last, is counted.
    let ok = pledge("p-ok", CAFE, "20");
    suite.create(&ok).await;
    assert!(matches!(
        suite.pay_as("evt_ok", "p-ok", 2_000, "eur", now()).await,
        Applied::Changed { .. }
    ));
}

/// 24. A partial refund of a paid pledge (from Stripe's dashboard) is never
///     ignored: the pledge leaves the figures, its matches go back to the
///     pools, and the rest is to be refunded (`partial_refund`); the final
///     full refund changes nothing more.
pub async fn a_partial_refund_takes_the_pledge_and_its_matches_out<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let keep = pledge("p-keep", CAFE, "10");
    suite.create(&keep).await;
    suite.pay("evt_paid_keep", &keep.id).await;
    let before = suite.figures(CAFE).await;
    let spent = (suite.spent(HABITAT).await, suite.spent(REGION).await);

    let h = pledge("p-h", CAFE, "40");
    suite.create(&h).await;
    assert_eq!(
        suite.pay("evt_paid_h", &h.id).await,
        changed(CAFE, vec![m(HABITAT, "40"), m(REGION, "20")])
    );
    let partial = |event: &'static str| {
        suite
            .store
            .apply_refunded(event, "p-h", RefundExtent::Partial, Some("pi_p-h"), now())
    };
    assert_eq!(
        partial("evt_partial_h").await.unwrap(),
        Applied::Refused {
            project: CAFE.into(),
            reason: RefundReason::PartialRefund
        }
    );
    assert_eq!(partial("evt_partial_h").await.unwrap(), Applied::Duplicate);
    let after = suite.figures(CAFE).await;
    assert_eq!(
        (after.raised, &after.matched, after.pledges, after.backers),
        (
            before.raised,
            &before.matched,
            before.pledges,
            before.backers
        ),
        "the whole pledge and its matches are out"
    );
    assert_eq!(
        (suite.spent(HABITAT).await, suite.spent(REGION).await),
        spent,
        "the pools have their money back"
    );
    let ledger = suite.ledger_of(CAFE).await;
    assert_eq!(
        (ledger["p-h"].status, ledger["p-h"].refund_reason),
        (PledgeStatus::Refunding, Some(RefundReason::PartialRefund))
    );
    // A second partial refund, then the full one: nothing more changes.
    assert!(matches!(
        partial("evt_partial_h_2").await.unwrap(),
        Applied::NoEffect { .. }
    ));
    assert!(matches!(
        suite.refund("evt_refunded_h", &h.id).await,
        Applied::NoEffect { .. }
    ));
    assert_eq!(
        suite.ledger_of(CAFE).await["p-h"].status,
        PledgeStatus::Refunded
    );
    assert_eq!(suite.figures(CAFE).await.raised, before.raised);
}

/// 25. Through the webhook and Stripe: a partial refund made on Stripe's
///     dashboard gets the rest refunded at once, and the figures drop.
pub async fn webhook_refunds_the_rest_of_a_partial_refund<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let stripe = Stripe::start().await;
    let state = webhook_state(db(), &suite, &stripe);
    let p = pledge("p-part", CAFE, "25");
    let (intent, applied) = suite.pay_via(&stripe, &p, now()).await;
    assert!(matches!(applied, Applied::Changed { .. }));
    assert_eq!(suite.figures(CAFE).await.raised, d("25"));

    // Stripe's charge.refunded for 5 € of the 25 € (a dashboard refund).
    let event = stripe.double.charge_refunded(&intent, now()).unwrap();
    let mut body: serde_json::Value = serde_json::from_str(&event.body).unwrap();
    body["data"]["object"]["amount_refunded"] = 500.into();
    body["data"]["object"]["refunded"] = false.into();
    let body = serde_json::to_string(&body).unwrap();
    let header = pave_functions::stripe::signature::sign(
        body.as_bytes(),
        pave_functions::stripe::double::WEBHOOK_SECRET,
        now(),
    );
    let outcome = handle_webhook(&state, Some(&header), body.as_bytes())
        .await
        .expect("webhook");
    assert_eq!(outcome, "refunded");
    let requests = stripe.refund_requests(&intent);
    assert_eq!(requests.len(), 1, "the rest refunded once");
    assert_eq!(
        requests[0].field("amount"),
        None,
        "the rest, whatever it is"
    );
    let entry = &suite.ledger_of(CAFE).await["p-part"];
    assert_eq!(
        (entry.status, entry.refund_reason),
        (PledgeStatus::Refunded, Some(RefundReason::PartialRefund))
    );
    let figures = suite.figures(CAFE).await;
    assert_eq!((figures.raised, figures.pledges), (Decimal::ZERO, 0));
    let again = handle_webhook(&state, Some(&header), body.as_bytes()).await;
    assert_eq!(again.expect("redelivery"), "duplicate");
    assert_eq!(stripe.refund_requests(&intent).len(), 1);
}
