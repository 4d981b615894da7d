//! The campaign close: funded, missed, resumed after a crash, refused refunds
//! retried, late and over-cap payments refunded, two runs at once.

use super::*;

/// 11. A campaign that reached its goal is funded at its close: matching
///     stays, the on_success pool pays (citizens alone reached the goal),
///     and closing again changes nothing.
pub async fn close_funds_a_campaign_that_reached_its_goal<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let mut ledger = Ledger::default();
    for (id, amount) in [("p-1", "300"), ("p-2", "400"), ("p-3", "400")] {
        let p = pledge(id, POTAGER, amount);
        let (_, applied) = suite.pay_via(&stripe, &p, in_campaign()).await;
        ledger.paid(&p, &applied);
    }
    // 1 100 € from citizens, 550 € at half, the 100 € lump sum: 1 750 €.
    assert_eq!(suite.store.collected(POTAGER).await.unwrap(), d("1750"));
    // keep_it_all below its goal.
    let p = pledge("p-velo", VELO, "250");
    let (_, applied) = suite.pay_via(&stripe, &p, in_campaign()).await;
    assert_eq!(applied, changed(VELO, vec![]));

    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");
    let closed = report.projects.iter().find(|p| p.project == POTAGER);
    let closed = closed.expect("the potager's close");
    assert_eq!(closed.outcome, Outcome::Funded);
    assert_eq!(closed.state, CloseState::Closed);
    assert_eq!(closed.on_success, vec![m(SUCCESS, "200")]);
    assert_eq!(closed.refunds_issued, 0);

    let figures = suite.figures(POTAGER).await;
    assert_eq!(figures.outcome.as_deref(), Some("funded"));
    assert!(!figures.refunded);
    assert_eq!(figures.raised, d("1100"));
    assert_eq!(figures.matched[SUCCESS].0, d("200"));
    assert_eq!(figures.matched_total(), d("850"));
    assert_eq!(suite.spent(SUCCESS).await, d("200"));
    assert_eq!(suite.snapshot().await.projects[POTAGER], figures);
    assert!(
        stripe
            .double
            .requests()
            .iter()
            .all(|r| r.path != "/v1/refunds")
    );

    // Again: already closed, nothing more is paid.
    let again = suite.close_run(&stripe.payments).await;
    assert!(
        again.projects.iter().all(|p| p.project != POTAGER),
        "{again:?}"
    );
    assert_eq!(suite.figures(POTAGER).await, figures);
    assert_eq!(suite.spent(SUCCESS).await, d("200"));

    // keep_it_all below its goal: funded with what it raised; the
    // on_success pool does not pay.
    let velo = report
        .projects
        .iter()
        .find(|p| p.project == VELO)
        .expect("velo");
    assert_eq!(
        (velo.outcome, velo.state),
        (Outcome::Funded, CloseState::Closed)
    );
    assert!(velo.on_success.is_empty());
    let figures = suite.figures(VELO).await;
    assert_eq!(figures.raised, d("250"));
    assert_eq!(figures.outcome.as_deref(), Some("funded"));
}

/// 12. An all-or-nothing campaign below its goal: every paid pledge is
///     refunded once through Stripe (idempotency key from the pledge id),
///     every match goes back to its pool, the project shows not funded; the
///     `charge.refunded` webhooks that follow change nothing, nor does a
///     second run.
pub async fn close_refunds_a_campaign_that_missed_its_goal<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let mut intents = BTreeMap::new();
    for (id, amount) in [("p-1", "100"), ("p-2", "200"), ("p-3", "150")] {
        let p = pledge(id, FOUR, amount);
        let (intent, applied) = suite.pay_via(&stripe, &p, in_campaign()).await;
        assert!(matches!(applied, Applied::Changed { .. }), "{applied:?}");
        intents.insert(id.to_string(), intent);
    }
    assert!(suite.spent(HALF).await > Decimal::ZERO);
    assert_eq!(suite.spent(LUMP).await, d("100"));

    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");
    let four = report
        .projects
        .iter()
        .find(|p| p.project == FOUR)
        .expect("four");
    assert_eq!(four.outcome, Outcome::NotFunded);
    assert_eq!(four.state, CloseState::Closed);
    assert_eq!(four.refunds_issued, 3);

    let figures = suite.figures(FOUR).await;
    assert_eq!(figures.raised, Decimal::ZERO);
    assert!(figures.matched.is_empty(), "{figures:?}");
    assert_eq!(
        (figures.pledges, figures.backers, figures.refunds),
        (0, 0, 3)
    );
    assert!(figures.refunded);
    assert_eq!(figures.outcome.as_deref(), Some("not_funded"));
    assert_eq!(suite.spent(HALF).await, Decimal::ZERO);
    assert_eq!(suite.spent(LUMP).await, Decimal::ZERO);
    assert_eq!(suite.spent(SUCCESS).await, Decimal::ZERO);

    let ledger = suite.ledger_of(FOUR).await;
    let mut refund_ids = BTreeSet::new();
    for (id, intent) in &intents {
        let requests = stripe.refund_requests(intent);
        assert_eq!(requests.len(), 1, "{id}: one refund request");
        assert_eq!(
            requests[0].header("idempotency-key"),
            Some(close::idempotency_key(id).as_str())
        );
        let entry = &ledger[id];
        assert_eq!(entry.status, PledgeStatus::Refunded);
        assert_eq!(entry.refund_reason, Some(RefundReason::GoalMissed));
        assert_eq!(entry.refund_attempts, 1);
        assert!(refund_ids.insert(entry.refund_id.clone().expect("a refund id")));
        let cents = pave_functions::money::to_cents(entry.amount).unwrap();
        assert_eq!(
            stripe.refunds_of(intent),
            (1, cents),
            "{id}: refunded once, whole"
        );
    }

    // Stripe's charge.refunded for each: the ledger changed already.
    for id in intents.keys() {
        let applied = suite.refund(&format!("evt_refunded_{id}"), id).await;
        assert!(matches!(applied, Applied::NoEffect { .. }), "{applied:?}");
    }
    assert_eq!(suite.figures(FOUR).await, figures);

    let again = suite.close_run(&stripe.payments).await;
    assert!(!again.failed() && again.projects.iter().all(|p| p.project != FOUR));
    for intent in intents.values() {
        assert_eq!(stripe.refund_requests(intent).len(), 1);
    }
    assert_eq!(suite.figures(FOUR).await, figures);
}

/// 13. A close that dies half-way (the answer to the third refund is lost,
///     the rest never reach Stripe) is finished by the next run: every
///     pledge refunded exactly once, at Stripe and in the ledger.
pub async fn close_resumes_after_a_crash<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let mut intents = BTreeMap::new();
    for i in 1..=5 {
        let id = format!("p-{i}");
        let p = pledge(&id, FOUR, "50");
        let (intent, _) = suite.pay_via(&stripe, &p, in_campaign()).await;
        intents.insert(id, intent);
    }
    let crashing = Crashing {
        inner: &stripe.payments,
        ok: AtomicUsize::new(2),
    };
    let first = suite.close_run(&crashing).await;
    assert!(first.failed());
    let four = first
        .projects
        .iter()
        .find(|p| p.project == FOUR)
        .expect("four");
    assert_eq!(four.refunds_issued, 2);
    assert_eq!(four.refunds_failed.len(), 3);
    assert!(four.refunds_failed.iter().all(|f| f.code == "unreachable"));
    assert_eq!(four.state, CloseState::Refunding);
    assert_eq!(
        suite
            .store
            .close_record(FOUR)
            .await
            .unwrap()
            .map(|c| c.state),
        Some(CloseState::Refunding)
    );
    // Out of the figures at once, pending for the next run.
    assert_eq!(suite.figures(FOUR).await.raised, Decimal::ZERO);
    assert_eq!(suite.store.pending_refunds().await.unwrap().len(), 3);

    let second = suite.close_run(&stripe.payments).await;
    assert!(!second.failed(), "{second:?}");
    let four = second
        .projects
        .iter()
        .find(|p| p.project == FOUR)
        .expect("four");
    assert_eq!((four.refunds_issued, four.state), (3, CloseState::Closed));
    assert_eq!(four.outcome, Outcome::NotFunded);

    let ledger = suite.ledger_of(FOUR).await;
    let mut refund_ids = BTreeSet::new();
    for (id, intent) in &intents {
        assert_eq!(
            stripe.refunds_of(intent),
            (1, 5000),
            "{id}: refunded once at Stripe"
        );
        let entry = &ledger[id];
        assert_eq!(entry.status, PledgeStatus::Refunded, "{id}");
        assert_eq!(entry.refund_error, None);
        assert!(refund_ids.insert(entry.refund_id.clone().expect("a refund id")));
        let keys: BTreeSet<String> = stripe
            .refund_requests(intent)
            .iter()
            .filter_map(|r| r.header("idempotency-key").map(str::to_string))
            .collect();
        assert_eq!(keys, BTreeSet::from([close::idempotency_key(id)]));
    }
    // The lost answer was asked again with the same key: one refund.
    assert_eq!(stripe.refund_requests(&intents["p-3"]).len(), 2);
    assert_eq!(ledger["p-3"].refund_attempts, 2);
    assert!(suite.store.pending_refunds().await.unwrap().is_empty());
    let figures = suite.figures(FOUR).await;
    assert_eq!((figures.refunds, figures.raised), (5, Decimal::ZERO));
}

/// 14. A refund Stripe refuses is recorded with Stripe's code and reported,
///     and retried by the next run.
pub async fn refused_refunds_are_recorded_and_retried<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let p = pledge("p-1", FOUR, "80");
    let (intent, _) = suite.pay_via(&stripe, &p, in_campaign()).await;
    stripe
        .double
        .fail_refunds(Some(StripeFailure::invalid_request(
            "charge_disputed",
            "The charge is disputed.",
            None,
        )));
    let report = suite.close_run(&stripe.payments).await;
    assert!(report.failed());
    let failed: Vec<&FailedRefund> = report.failed_refunds().collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].pledge_id.as_str(), failed[0].code.as_str()),
        ("p-1", "charge_disputed")
    );
    let entry = &suite.ledger_of(FOUR).await["p-1"];
    assert_eq!(entry.status, PledgeStatus::Refunding);
    assert_eq!(entry.refund_error.as_deref(), Some("charge_disputed"));
    assert_eq!(
        suite
            .store
            .close_record(FOUR)
            .await
            .unwrap()
            .map(|c| c.state),
        Some(CloseState::Refunding)
    );

    stripe.double.fail_refunds(None);
    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");
    let entry = &suite.ledger_of(FOUR).await["p-1"];
    assert_eq!(entry.status, PledgeStatus::Refunded);
    assert_eq!(entry.refund_error, None);
    assert_eq!(stripe.refunds_of(&intent), (1, 8000));
    assert_eq!(
        suite
            .store
            .close_record(FOUR)
            .await
            .unwrap()
            .map(|c| c.state),
        Some(CloseState::Closed)
    );
}

/// 15. A payment after the campaign's end, or for a project whose close has
///     started, is never counted: recorded `campaign_closed` and refunded.
pub async fn late_payments_are_refunded_not_counted<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let early = pledge("p-early", VELO, "100");
    suite.pay_via(&stripe, &early, in_campaign()).await;
    let before = suite.figures(VELO).await;

    // Paid on 1 April, Paris time: the campaign ended on 31 March.
    let late = pledge("p-late", VELO, "40");
    let (intent, applied) = suite
        .pay_via(&stripe, &late, at("2026-03-31T22:00:01Z"))
        .await;
    assert_eq!(
        applied,
        Applied::Refused {
            project: VELO.to_string(),
            reason: RefundReason::CampaignClosed
        }
    );
    let figures = suite.figures(VELO).await;
    assert_eq!(figures.raised, before.raised);
    assert_eq!(figures.pledges, 1);
    assert_eq!(figures.refunds, 1);
    let failed = close::refund_refused(
        suite.store.as_ref(),
        &stripe.payments,
        &suite.catalog,
        VELO,
        &late.id,
        Some(&intent),
        RefundReason::CampaignClosed,
        now(),
    )
    .await
    .expect("refund");
    assert_eq!(failed, None);
    assert_eq!(stripe.refunds_of(&intent), (1, 4000));
    let entry = &suite.ledger_of(VELO).await["p-late"];
    assert_eq!(
        (entry.status, entry.refund_reason),
        (PledgeStatus::Refunded, Some(RefundReason::CampaignClosed))
    );

    // Another late payment whose refund the webhook could not make: the
    // close run that funds the project makes it.
    let late2 = pledge("p-late-2", VELO, "20");
    let (intent2, applied) = suite
        .pay_via(&stripe, &late2, at("2026-04-01T09:00:00Z"))
        .await;
    assert!(matches!(applied, Applied::Refused { .. }), "{applied:?}");
    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");
    let velo = report
        .projects
        .iter()
        .find(|p| p.project == VELO)
        .expect("velo");
    assert_eq!(velo.outcome, Outcome::Funded);
    assert_eq!(report.late_refunds_issued, 1, "{report:?}");
    assert_eq!(stripe.refunds_of(&intent2), (1, 2000));

    // Closed: a payment stamped inside the campaign (a skewed clock) is
    // refused too.
    let skewed = pledge("p-skewed", VELO, "30");
    let (_, applied) = suite.pay_via(&stripe, &skewed, in_campaign()).await;
    assert!(
        matches!(
            applied,
            Applied::Refused {
                reason: RefundReason::CampaignClosed,
                ..
            }
        ),
        "{applied:?}"
    );
    // Its refund failed (say) in the webhook: the next run makes it.
    let report = suite.close_run(&stripe.payments).await;
    assert_eq!(report.late_refunds_issued, 1, "{report:?}");
    assert_eq!(suite.figures(VELO).await.raised, before.raised);
    assert_eq!(suite.figures(VELO).await.outcome.as_deref(), Some("funded"));
}

/// 16. Over the cap under concurrency: ten 30 € payments on a project
///     capped at 100 € (one handle each). Exactly three are counted; the
///     seven that would cross the cap are refused `over_cap`, refunded
///     whole by the next run, and the figures never exceed the cap.
pub async fn over_cap_payments_are_refunded_whole<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let pledges: Vec<NewPledge> = (0..10)
        .map(|i| pledge(&format!("p-cap-{i}"), PLAFOND, "30"))
        .collect();
    for p in &pledges {
        suite.create(p).await;
    }
    let mut tasks = Vec::new();
    for p in &pledges {
        let task = Suite {
            store: Arc::new(db()),
            catalog: suite.catalog.clone(),
        };
        let id = p.id.clone();
        tasks.push(tokio::spawn(async move {
            task.pay(&format!("evt_{id}"), &id).await
        }));
    }
    let mut counted = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task") {
            Applied::Changed { .. } => counted += 1,
            Applied::Refused {
                reason: RefundReason::OverCap,
                ..
            } => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((counted, refused), (3, 7));
    let figures = suite.figures(PLAFOND).await;
    assert_eq!(figures.raised, d("90"));
    assert_eq!((figures.pledges, figures.refunds), (3, 7));
    assert!(suite.store.collected(PLAFOND).await.unwrap() <= d("100"));

    let pending = suite.store.pending_refunds().await.unwrap();
    assert_eq!(pending.len(), 7);
    assert!(pending.iter().all(|(project, p)| project == PLAFOND
        && p.refund_reason == Some(RefundReason::OverCap)
        && p.amount == d("30")));
    let accepting = Accepting::default();
    let report = close::run(
        suite.store.as_ref(),
        &accepting,
        &suite.catalog,
        jiff::Timestamp::now(),
        fast(),
    )
    .await;
    assert_eq!(report.late_refunds_issued, 7, "{report:?}");
    let keys: BTreeSet<String> = accepting
        .refunds
        .lock()
        .unwrap()
        .iter()
        .map(|(_, key)| key.clone())
        .collect();
    assert_eq!(keys.len(), 7, "one refund per refused pledge");
    assert!(suite.store.pending_refunds().await.unwrap().is_empty());
    // The live project is not closed by the run.
    assert_eq!(suite.store.close_record(PLAFOND).await.unwrap(), None);
    assert_eq!(suite.figures(PLAFOND).await.raised, d("90"));
}

/// 17. Through the webhook: a payment arriving after the campaign's end is
///     refunded at once by the webhook and never counted; Stripe's
///     redelivery and its `charge.refunded` change nothing more.
pub async fn webhook_refunds_a_late_payment<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let state = webhook_state(db(), &suite, &stripe);
    // VELO ended on 31 March 2026; the webhook pays now.
    let p = pledge("p-late", VELO, "25");
    suite.create(&p).await;
    let request = CheckoutRequest {
        pledge_id: p.id.clone(),
        project_slug: VELO.into(),
        project_title: "Le Vélo-cargo".into(),
        amount_cents: 2500,
        currency: "eur".into(),
        customer_email: None,
        success_url: "https://pave.example/ok".into(),
        cancel_url: "https://pave.example/retour".into(),
        expires_at: checkout_expiry(now(), 3600),
        locale: Locale::Fr,
    };
    let session = stripe.payments.create_checkout(&request).await.unwrap();
    let event = stripe.double.complete_checkout(&session.id, now()).unwrap();
    let intent = stripe.double.session(&session.id).unwrap()["payment_intent"]
        .as_str()
        .unwrap()
        .to_string();

    let outcome = handle_webhook(&state, Some(&event.header), event.body.as_bytes())
        .await
        .expect("webhook");
    assert_eq!(outcome, "refunded");
    assert_eq!(stripe.refunds_of(&intent), (1, 2500));
    let entry = &suite.ledger_of(VELO).await["p-late"];
    assert_eq!(
        (entry.status, entry.refund_reason),
        (PledgeStatus::Refunded, Some(RefundReason::CampaignClosed))
    );
    let figures = suite.figures(VELO).await;
    assert_eq!(
        (figures.raised, figures.pledges, figures.refunds),
        (Decimal::ZERO, 0, 1)
    );

    let again = handle_webhook(&state, Some(&event.header), event.body.as_bytes()).await;
    assert_eq!(again.expect("redelivery"), "duplicate");
    let refunded = stripe.double.charge_refunded(&intent, now()).unwrap();
    let outcome = handle_webhook(&state, Some(&refunded.header), refunded.body.as_bytes())
        .await
        .expect("charge.refunded");
    assert_eq!(outcome, "no_effect");
    assert_eq!(stripe.refund_requests(&intent).len(), 1);
    assert_eq!(suite.figures(VELO).await, figures);
}

/// 18. Two close runs at once (two crons, say): one outcome, and each
///     pledge refunded once at Stripe, whatever the interleaving.
pub async fn concurrent_close_runs_refund_once<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let mut intents = Vec::new();
    for i in 1..=4 {
        let p = pledge(&format!("p-{i}"), FOUR, "60");
        intents.push(suite.pay_via(&stripe, &p, in_campaign()).await.0);
    }
    let (a, b) = (Suite::closing(db()), Suite::closing(db()));
    let (ra, rb) = tokio::join!(a.close_run(&stripe.payments), b.close_run(&stripe.payments));
    assert!(!ra.failed() && !rb.failed(), "{ra:?} {rb:?}");
    let issued: u32 = ra
        .projects
        .iter()
        .chain(&rb.projects)
        .filter(|p| p.project == FOUR)
        .map(|p| p.refunds_issued)
        .sum();
    assert!(
        issued >= 4,
        "every refund issued at least once: {ra:?} {rb:?}"
    );
    for intent in &intents {
        assert_eq!(stripe.refunds_of(intent), (1, 6000), "{intent}: one refund");
    }
    let ledger = suite.ledger_of(FOUR).await;
    assert!(ledger.values().all(|p| p.status == PledgeStatus::Refunded));
    let ids: BTreeSet<_> = ledger.values().map(|p| p.refund_id.clone()).collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(
        suite
            .store
            .close_record(FOUR)
            .await
            .unwrap()
            .map(|c| (c.state, c.outcome)),
        Some((CloseState::Closed, Some(Outcome::NotFunded)))
    );
    let figures = suite.figures(FOUR).await;
    assert_eq!((figures.raised, figures.refunds), (Decimal::ZERO, 4));
    assert_eq!(suite.spent(HALF).await, Decimal::ZERO);
}
