//! The statements equal the ledger.

use super::*;

/// 20. The statements' source: each project's ledger (paid pledges with
///     their active matches, the close's on_success matches) adds up, to
///     the cent, to the figures the site shows — funded with a lump sum and
///     an on_success match, a pledge refunded from Stripe's dashboard, a
///     campaign refunded whole — and a donor's name and email are in it only
///     when they agreed to share them.
pub async fn statements_equal_the_ledger<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let consenting = NewPledge {
        display_name: Some("Ada Lovelace".into()),
        share_contact: true,
        news: false,
        message: None,
        ..pledge("p-1", POTAGER, "300.10")
    };
    let silent = NewPledge {
        display_name: Some("Grace Hopper".into()),
        ..pledge("p-2", POTAGER, "400.45")
    };
    let same_donor = NewPledge {
        donor: "donor:p-2".into(),
        ..pledge("p-3", POTAGER, "400")
    };
    let refunded = pledge("p-4", POTAGER, "50.05");
    for p in [&consenting, &silent, &same_donor, &refunded] {
        suite.pay_via(&stripe, p, in_campaign()).await;
    }
    suite.refund("evt_refund_p-4", "p-4").await;
    suite
        .pay_via(&stripe, &pledge("p-5", FOUR, "120.33"), in_campaign())
        .await;
    suite
        .pay_via(&stripe, &pledge("p-6", VELO, "99.99"), in_campaign())
        .await;
    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");

    let snapshot = suite.snapshot().await;
    for project in [POTAGER, FOUR, VELO] {
        let ledger = suite.store.project_ledger(project).await.expect("ledger");
        let totals = ProjectTotals::of(&ledger);
        let figures = &snapshot.projects[project];
        assert!(
            totals.agrees_with(figures),
            "{project}: {totals:?} != {figures:?}"
        );
        for entry in &ledger.pledges {
            if entry.status != PledgeStatus::Paid {
                assert!(entry.matches.is_empty(), "{project}: {entry:?}");
            }
        }
    }

    let potager = suite.store.project_ledger(POTAGER).await.expect("ledger");
    let totals = ProjectTotals::of(&potager);
    assert_eq!(totals.raised, d("1100.55"));
    assert_eq!((totals.pledges, totals.backers, totals.refunds), (3, 2, 1));
    assert_eq!(potager.close_matches, vec![m(SUCCESS, "200")]);
    assert_eq!(totals.matched[LUMP], d("100"));
    let contacts: Vec<_> = potager
        .pledges
        .iter()
        .filter_map(|p| p.contact.as_ref().map(|c| (p.id.as_str(), c)))
        .collect();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0].0, "p-1");
    assert_eq!(contacts[0].1.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(contacts[0].1.email, "p-1@donors.example");

    let four = ProjectTotals::of(&suite.store.project_ledger(FOUR).await.expect("ledger"));
    assert_eq!((four.raised, four.refunds), (Decimal::ZERO, 1));
}
