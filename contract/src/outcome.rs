//! The one rule that says whether a campaign is funded, used by the close
//! (what it records and pays), the pages (what they show) and the holder's
//! statement (what it reports).

use rust_decimal::Decimal;

use crate::kinds::{Funding, Outcome};
use crate::progress::Figures;

/// A campaign's outcome on its figures: the one its close recorded, once it
/// did (it is decided once and never changes); before that, on the figures:
/// - all or nothing: funded when citizens and matching reached the goal;
/// - keep it all: funded when citizens gave anything (an empty campaign has
///   nothing to keep, and is not funded — nor refunded: nobody paid).
pub fn outcome(funding: Funding, goal: Decimal, figures: &Figures) -> Outcome {
    decided(
        figures.recorded_outcome(),
        funding,
        goal,
        figures.raised,
        figures.total(),
    )
}

/// The same rule on amounts: the `recorded` outcome once there is one,
/// else the rule on what citizens gave (`raised`) and what the project
/// holds with matching (`total`).
pub fn decided(
    recorded: Option<Outcome>,
    funding: Funding,
    goal: Decimal,
    raised: Decimal,
    total: Decimal,
) -> Outcome {
    recorded.unwrap_or_else(|| on_amounts(funding, goal, raised, total))
}

/// The rule on the figures alone (what the close decides).
pub fn on_figures(funding: Funding, goal: Decimal, figures: &Figures) -> Outcome {
    on_amounts(funding, goal, figures.raised, figures.total())
}

fn on_amounts(funding: Funding, goal: Decimal, raised: Decimal, total: Decimal) -> Outcome {
    let funded = match funding {
        Funding::AllOrNothing => total >= goal,
        Funding::KeepItAll => raised > Decimal::ZERO,
    };
    if funded {
        Outcome::Funded
    } else {
        Outcome::NotFunded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Amount;

    fn figures(raised: i64, matched: i64) -> Figures {
        let mut f = Figures {
            raised: Decimal::from(raised),
            ..Figures::default()
        };
        f.matched
            .insert("a/b".into(), Amount(Decimal::from(matched)));
        f
    }

    #[test]
    fn one_rule_for_both_funding_models() {
        let goal = Decimal::from(6000);
        let aon = Funding::AllOrNothing;
        assert_eq!(outcome(aon, goal, &figures(5000, 1000)), Outcome::Funded);
        assert_eq!(outcome(aon, goal, &figures(5000, 999)), Outcome::NotFunded);
        let kia = Funding::KeepItAll;
        assert_eq!(outcome(kia, goal, &figures(1, 0)), Outcome::Funded);
        assert_eq!(
            outcome(kia, goal, &figures(0, 0)),
            Outcome::NotFunded,
            "an empty keep-it-all campaign is not funded"
        );
        let recorded = Figures {
            outcome: Some("not_funded".into()),
            ..figures(7000, 0)
        };
        assert_eq!(
            outcome(aon, goal, &recorded),
            Outcome::NotFunded,
            "the close's decision stands"
        );
    }
}
