//! Statements once a project closes (pure, no I/O): the holder's
//! (`holder`), each sponsor's (`sponsor`) and the platform-wide open-data
//! ledger (`ledger`), written as CSV (`csv`) and as readable, printable
//! pages (`html`). Their figures come from the store's
//! [`ProjectLedger`](crate::store::ProjectLedger) and equal the progress
//! snapshot's to the cent ([`ProjectTotals::agrees_with`]).

pub mod csv;
pub mod holder;
pub mod html;
pub mod ledger;
pub mod sponsor;

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::progress::Figures;
use crate::store::{PledgeStatus, ProjectLedger};

/// The estimated payment fees: `percent` % of each paid pledge plus
/// `fixed` euros, rounded to the nearest cent (half away from zero). An
/// estimate: the real fees are on the payment provider's own statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeePolicy {
    pub percent: Decimal,
    pub fixed: Decimal,
}

impl Default for FeePolicy {
    /// Stripe's standard rate for European cards: 1.5 % + 0.25 €.
    fn default() -> FeePolicy {
        FeePolicy {
            percent: Decimal::new(15, 1),
            fixed: Decimal::new(25, 2),
        }
    }
}

impl FeePolicy {
    /// The estimated fee of one paid pledge, to the cent.
    pub fn fee(&self, amount: Decimal) -> Decimal {
        (amount * self.percent / Decimal::ONE_HUNDRED + self.fixed)
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    }
}

/// A project's figures as its ledger gives them: what the site shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectTotals {
    /// Citizens' paid pledges.
    pub raised: Decimal,
    /// Active matches per pool (the pledges' and the close's).
    pub matched: BTreeMap<String, Decimal>,
    /// Paid pledges.
    pub pledges: u32,
    /// Distinct donors with a paid pledge.
    pub backers: u32,
    /// Pledges refunded or being refunded.
    pub refunds: u32,
}

impl ProjectTotals {
    pub fn of(ledger: &ProjectLedger) -> ProjectTotals {
        let mut totals = ProjectTotals::default();
        let mut donors = BTreeSet::new();
        for p in &ledger.pledges {
            if p.status == PledgeStatus::Paid {
                totals.raised += p.amount;
                totals.pledges += 1;
                donors.insert(p.donor.as_str());
                for m in &p.matches {
                    *totals.matched.entry(m.pool_id.clone()).or_default() += m.amount;
                }
            } else {
                totals.refunds += 1;
            }
        }
        for m in &ledger.close_matches {
            *totals.matched.entry(m.pool_id.clone()).or_default() += m.amount;
        }
        totals.backers = u32::try_from(donors.len()).unwrap_or(u32::MAX);
        totals
    }

    pub fn matched_total(&self) -> Decimal {
        self.matched.values().sum()
    }

    /// Whether these are the progress snapshot's figures, to the cent.
    pub fn agrees_with(&self, figures: &Figures) -> bool {
        let matched: BTreeMap<String, Decimal> = figures
            .matched
            .iter()
            .filter(|(_, a)| !a.0.is_zero())
            .map(|(k, a)| (k.clone(), a.0))
            .collect();
        let own: BTreeMap<String, Decimal> = self
            .matched
            .iter()
            .filter(|(_, a)| !a.is_zero())
            .map(|(k, a)| (k.clone(), *a))
            .collect();
        self.raised == figures.raised
            && own == matched
            && self.pledges == figures.pledges
            && self.backers == figures.backers
            && self.refunds == figures.refunds
    }
}

/// A unix time as the calendar day in a time zone (the campaign calendar).
pub use pave_contract::calendar::day_in;

/// An amount as the CSV files write it: a dot and two decimals.
pub fn plain(amount: Decimal) -> String {
    format!(
        "{:.2}",
        amount.round_dp_with_strategy(2, RoundingStrategy::ToZero)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn fees_are_rounded_to_the_cent() {
        let fees = FeePolicy::default();
        // 1.5 % of 10 € = 0.15, + 0.25.
        assert_eq!(fees.fee(d("10")), d("0.40"));
        // 1.5 % of 12.30 € = 0.1845 → 0.18, + 0.25.
        assert_eq!(fees.fee(d("12.30")), d("0.43"));
        // 1.5 % of 12.50 € = 0.1875 → 0.19, + 0.25.
        assert_eq!(fees.fee(d("12.50")), d("0.44"));
        // Exactly half a cent rounds up: 1.5 % of 1.00 € = 0.015.
        assert_eq!(fees.fee(d("1")), d("0.27"));
        let custom = FeePolicy {
            percent: d("2.9"),
            fixed: d("0.30"),
        };
        assert_eq!(custom.fee(d("100")), d("3.20"));
    }

    const CATALOG: &str = r#"{"version":1,"currency":"EUR","pledge_min":"1","pledge_max":"500",
      "projects":{"cafe":{"title":"Café","territory":"t","themes":[],"status":"closed","goal":"100",
        "cap":"200","funding":"keep_it_all","start":"2026-01-01","end":"2026-01-31","timezone":"Europe/Paris",
        "rewards":[{"index":0,"min":"5","title":"Mug","limit":null}],"pools":["s/p"],"holder":{"name":"Collectif","kind":"collective","tax_receipt":false}}},
      "pools":{"s/p":{"sponsor":"s","sponsor_name":"Sponsor","title":"Pool","mode":"per_pledge","budget":"1000",
        "start":"2026-01-01","end":"2026-12-31","ratio":"1","max_per_pledge":null,"max_per_project":null,
        "max_per_donor":null,"threshold":null,"share_of_goal":null,"amount":null,"min_progress":null,"min_backers":null}}}"#;

    fn entry(id: &str, amount: &str, contact: Option<(&str, &str)>) -> crate::store::LedgerEntry {
        crate::store::LedgerEntry {
            id: id.into(),
            amount: d(amount),
            reward: Some(0),
            status: PledgeStatus::Paid,
            refund_reason: None,
            paid_at: 1_768_000_000,
            refunded_at: None,
            donor: format!("donor-{id}"),
            contact: contact.map(|(name, email)| crate::store::Contact {
                name: Some(name.into()),
                email: email.into(),
            }),
            matches: vec![crate::matching::Match {
                pool_id: "s/p".into(),
                amount: d(amount),
            }],
        }
    }

    /// Only the donor who ticked the box appears with a name and email, in
    /// the holder's CSV and page; the open data and the sponsors' files
    /// name nobody.
    #[test]
    fn a_donor_without_consent_is_never_named() {
        let catalog = crate::catalog::Catalog::from_json(CATALOG.as_bytes()).unwrap();
        let mut ledger = ProjectLedger::default();
        ledger.pledges.push(entry(
            "p1",
            "12.50",
            Some(("Ada Lovelace", "ada@example.org")),
        ));
        // What the store gives for a donor who did not agree: no contact.
        ledger.pledges.push(entry("p2", "20", None));
        let project = &catalog.projects["cafe"];
        let s = holder::statement(
            "cafe",
            project,
            &catalog,
            &ledger,
            FeePolicy::default(),
            false,
            None,
        );
        assert_eq!(s.contacts.len(), 1);
        assert_eq!(s.citizens, d("32.50"));
        assert_eq!(s.fees, d("0.44") + d("0.55"));
        assert_eq!(s.net, d("65") - d("0.99"));
        assert_eq!(s.rewards[0].quantity, 2);
        let holder_csv = holder::csv(&s);
        assert!(holder_csv.contains("Ada Lovelace,ada@example.org"));
        let ledgers = BTreeMap::from([("cafe".to_string(), ledger.clone())]);
        let totals = BTreeMap::from([("cafe".to_string(), ProjectTotals::of(&ledger))]);
        let sponsors = sponsor::statements(&catalog, &totals);
        let outputs = [
            holder_csv,
            html::holder(&s, pave_locale::Lang::Fr),
            html::holder(&s, pave_locale::Lang::En),
            ledger::ledger_csv(&catalog, &ledgers),
            ledger::totals_csv(&totals),
            sponsor::csv(&sponsors[0]),
            html::sponsor(&sponsors[0], pave_locale::Lang::Fr),
        ];
        for (i, out) in outputs.iter().enumerate() {
            assert!(!out.contains("p2"), "output {i} names the pledge");
            assert!(!out.contains("donor-p2"), "output {i} has the donor key");
            if i >= 3 {
                assert!(
                    !out.contains("Ada") && !out.contains("@example.org"),
                    "output {i}"
                );
            }
        }
        assert_eq!(outputs[1].matches("@example.org").count(), 1);
        assert!(outputs[1].contains("12,50\u{202F}€"));
        assert_eq!(sponsors[0].pools[0].left, d("967.50"));
        // Keep it all, and citizens gave: funded, on the one rule; the
        // close's recorded outcome wins once there is one.
        assert_eq!(s.outcome, crate::store::Outcome::Funded);
        assert!(holder::csv(&s).contains("status,final,funded"));
        assert!(outputs[1].contains("<td class=\"n\">Financé</td>"));
        let recorded = holder::statement(
            "cafe",
            project,
            &catalog,
            &ledger,
            FeePolicy::default(),
            true,
            Some(crate::store::Outcome::NotFunded),
        );
        assert_eq!(recorded.outcome, crate::store::Outcome::NotFunded);
        assert!(html::holder(&recorded, pave_locale::Lang::En).contains("Not funded so far"));
    }

    #[test]
    fn plain_amounts_have_a_dot_and_two_decimals() {
        assert_eq!(plain(d("1770")), "1770.00");
        assert_eq!(plain(d("12.5")), "12.50");
    }
}
