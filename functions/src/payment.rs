//! The decision every payment goes through before it is counted, pure and
//! in one place: both stores read the facts in the payment's transaction
//! (DynamoDB: under conditions that make them still true at commit), call
//! [`decide`], and write either the payment with its matches or its
//! refusal. Time is an input (`paid_at`); nothing here reads the clock.
//!
//! Stripe sends events late, twice and out of order. What that means here:
//! - an amount or a currency that differs from the pledge's is never
//!   counted (`amount_mismatch`), whatever else holds;
//! - a payment after the campaign's last day (in its time zone) or once its
//!   close started is never counted (`campaign_closed`);
//! - a payment whose reward reservation no longer holds its place (the
//!   checkout expired, or the completion arrived after its expiry) takes a
//!   place only if one is free: otherwise `reward_sold_out`;
//! - a payment that would take the project past its cap: `over_cap`.
//!
//! A refund that arrives before its completion is recorded by the store on
//! the pending pledge, so the completion then finds it settled and counts
//! nothing (see `Store::apply_refunded`).

use pave_contract::calendar::day_in;

use crate::catalog::CatalogProject;
use crate::store::RefundReason;

/// The only currency Pavé takes (Stripe's lower-case code).
pub const CURRENCY: &str = "eur";

/// What Stripe says was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payment<'a> {
    /// The PaymentIntent, needed to refund.
    pub intent: Option<&'a str>,
    /// `amount_total`, in cents.
    pub amount_cents: i64,
    /// `currency`, lower case.
    pub currency: &'a str,
}

/// What the store read about the pledge and its project, in the payment's
/// transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The pledge's amount, in cents.
    pub amount_cents: i64,
    /// Its reward, if any.
    pub reward: Option<usize>,
    /// Whether its reservation still holds its reward's place: it is
    /// pending and its checkout has not expired at `paid_at` (see [`place_held`]).
    pub place_held: bool,
    /// Places of its reward taken by others: paid pledges and live
    /// reservations of other pledges.
    pub reward_taken_by_others: u32,
    /// Whether the project's close has started.
    pub close_started: bool,
    /// What the project holds, citizens and matching, in cents.
    pub total_cents: i64,
    /// The project's cap, in whole cents (rounded down).
    pub cap_cents: i64,
}

/// Whether a pledge's reservation still holds its place when it is paid at
/// `paid_at`: only a pending pledge whose checkout has not expired.
pub fn place_held(pending: bool, expires_at: i64, paid_at: i64) -> bool {
    pending && paid_at < expires_at
}

/// Accepts the payment (`Ok`), or refuses it with the reason it is refunded.
pub fn decide(
    project: &CatalogProject,
    facts: &Facts,
    payment: &Payment<'_>,
    paid_at: i64,
) -> Result<(), RefundReason> {
    if payment.amount_cents != facts.amount_cents || payment.currency != CURRENCY {
        return Err(RefundReason::AmountMismatch);
    }
    if facts.close_started || day_in(paid_at, &project.timezone) > project.end {
        return Err(RefundReason::CampaignClosed);
    }
    let limit = facts
        .reward
        .and_then(|i| project.rewards.iter().find(|r| r.index == i))
        .and_then(|r| r.limit);
    if let Some(limit) = limit
        && !facts.place_held
        && facts.reward_taken_by_others >= limit
    {
        return Err(RefundReason::RewardSoldOut);
    }
    if facts.total_cents.saturating_add(facts.amount_cents) > facts.cap_cents {
        return Err(RefundReason::OverCap);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogReward, Funding, Status};
    use jiff::civil::date;

    fn project() -> CatalogProject {
        CatalogProject {
            title: "Café".into(),
            territory: "se".into(),
            themes: vec![],
            status: Status::Live,
            goal: "6000".parse().unwrap(),
            cap: "7500".parse().unwrap(),
            funding: Funding::AllOrNothing,
            start: date(2026, 3, 1),
            end: date(2026, 4, 30),
            timezone: "Europe/Paris".into(),
            rewards: vec![CatalogReward {
                index: 0,
                min: "10".parse().unwrap(),
                title: "Un repas".into(),
                limit: Some(2),
            }],
            pools: vec![],
            holder: Default::default(),
            needs: vec![],
            messages: false,
        }
    }

    fn facts() -> Facts {
        Facts {
            amount_cents: 2_000,
            reward: Some(0),
            place_held: true,
            reward_taken_by_others: 1,
            close_started: false,
            total_cents: 0,
            cap_cents: 750_000,
        }
    }

    const PAID: Payment = Payment {
        intent: Some("pi_1"),
        amount_cents: 2_000,
        currency: "eur",
    };

    /// 30 April 2026 23:59:59 in Paris, and one second later.
    const LAST_SECOND: i64 = 1_777_586_399;

    #[test]
    fn a_payment_as_pledged_in_time_is_counted() {
        assert_eq!(decide(&project(), &facts(), &PAID, LAST_SECOND), Ok(()));
    }

    #[test]
    fn each_refusal_has_its_reason() {
        let p = project();
        let other_amount = Payment {
            amount_cents: 1_000,
            ..PAID
        };
        let other_currency = Payment {
            currency: "usd",
            ..PAID
        };
        for payment in [other_amount, other_currency] {
            assert_eq!(
                decide(&p, &facts(), &payment, LAST_SECOND),
                Err(RefundReason::AmountMismatch)
            );
        }
        assert_eq!(
            decide(&p, &facts(), &PAID, LAST_SECOND + 1),
            Err(RefundReason::CampaignClosed),
            "a campaign ends at 23:59:59 on its last day, local time"
        );
        let closing = Facts {
            close_started: true,
            ..facts()
        };
        assert_eq!(
            decide(&p, &closing, &PAID, LAST_SECOND),
            Err(RefundReason::CampaignClosed)
        );
        let lapsed = Facts {
            place_held: false,
            reward_taken_by_others: 2,
            ..facts()
        };
        assert_eq!(
            decide(&p, &lapsed, &PAID, LAST_SECOND),
            Err(RefundReason::RewardSoldOut)
        );
        let lapsed_but_free = Facts {
            place_held: false,
            reward_taken_by_others: 1,
            ..facts()
        };
        assert_eq!(decide(&p, &lapsed_but_free, &PAID, LAST_SECOND), Ok(()));
        let full = Facts {
            total_cents: 749_000,
            ..facts()
        };
        assert_eq!(
            decide(&p, &full, &PAID, LAST_SECOND),
            Err(RefundReason::OverCap)
        );
    }

    #[test]
    fn a_place_is_held_only_while_its_checkout_is_open() {
        assert!(place_held(true, 100, 99));
        assert!(!place_held(true, 100, 100));
        assert!(
            !place_held(false, 100, 50),
            "an expired pledge holds nothing"
        );
    }
}
