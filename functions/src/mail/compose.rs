//! Pure: what a donor is told, as an email's subject and plain-text body, in
//! the donor's language (the pledge's `lang`; French by default).
//!
//! Two notices: a payment confirmed, and a refund with its reason. When the
//! holder is an association that issues French tax receipts (reçus fiscaux),
//! the payment confirmation says what the donor may deduct and how to get the
//! receipt (the association issues it, not Pavé).

use jiff::civil::Date;
use pave_locale::{Lang, date, money, percent};
use rust_decimal::Decimal;

use crate::catalog::CatalogHolder;

/// The share of a gift to an eligible association deductible from French
/// income tax (article 200 du code général des impôts), in percent.
pub const TAX_DEDUCTION_PERCENT: u32 = 66;
/// The ceiling of that deduction, in percent of the taxable income.
pub const TAX_INCOME_CEILING_PERCENT: u32 = 20;

/// The facts of one pledge that an email states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub lang: Lang,
    /// The name the donor gave (greeting), if any.
    pub donor_name: Option<String>,
    pub amount: Decimal,
    pub project_title: String,
    /// The reward chosen, by its title.
    pub reward: Option<String>,
    pub holder: CatalogHolder,
    /// When it was paid (or refunded), in the project's time zone.
    pub date: Date,
    /// The pledge's id: the reference the donor can quote.
    pub pledge_id: String,
}

/// Why Pavé gave the money back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundCause {
    /// The all-or-nothing campaign closed below its goal.
    GoalMissed,
    /// The payment completed after the campaign had ended.
    AfterClose,
    /// The payment would have taken the project past its cap.
    OverCap,
    /// Refunded by the platform (from the payment provider's dashboard).
    ByPlatform,
    /// The payment arrived after its checkout had expired, and the reward's
    /// last places had been taken meanwhile.
    RewardSoldOut,
    /// The amount or the currency paid differed from the pledge.
    AmountMismatch,
    /// Part of the payment was refunded: Pavé refunds the rest.
    PartialRefund,
}

/// One email to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    PaymentConfirmed(Receipt),
    Refunded {
        receipt: Receipt,
        cause: RefundCause,
    },
}

/// A composed email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
}

impl Notice {
    pub fn receipt(&self) -> &Receipt {
        match self {
            Notice::PaymentConfirmed(r) | Notice::Refunded { receipt: r, .. } => r,
        }
    }

    /// The email, in the receipt's language.
    pub fn compose(&self) -> Email {
        match (self, self.receipt().lang) {
            (Notice::PaymentConfirmed(r), Lang::Fr) => paid_fr(r),
            (Notice::PaymentConfirmed(r), Lang::En) => paid_en(r),
            (Notice::Refunded { receipt, cause }, Lang::Fr) => refund_fr(receipt, *cause),
            (Notice::Refunded { receipt, cause }, Lang::En) => refund_en(receipt, *cause),
        }
    }
}

/// 66 % of the amount, rounded down to the cent.
pub fn tax_reduction(amount: Decimal) -> Decimal {
    (amount * Decimal::from(TAX_DEDUCTION_PERCENT) / Decimal::from(100))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
}

fn greeting(r: &Receipt) -> String {
    match (r.lang, r.donor_name.as_deref()) {
        (Lang::Fr, Some(n)) => format!("Bonjour {n},"),
        (Lang::Fr, None) => "Bonjour,".into(),
        (Lang::En, Some(n)) => format!("Hello {n},"),
        (Lang::En, None) => "Hello,".into(),
    }
}

fn paid_fr(r: &Receipt) -> Email {
    let amount = money(r.amount, Lang::Fr);
    let mut text = format!(
        "{}\n\nMerci ! Votre paiement de {amount} pour le projet « {} », porté par {}, a bien été reçu le {}.\n",
        greeting(r),
        r.project_title,
        r.holder.name,
        date(r.date, Lang::Fr)
    );
    if let Some(reward) = &r.reward {
        text.push_str(&format!("Contrepartie choisie : {reward}.\n"));
    }
    if r.holder.issues_tax_receipts() {
        text.push_str(&format!(
            "\nReçu fiscal : {} est une association habilitée à délivrer des reçus fiscaux. \
Si vous êtes imposable en France, {} de votre don est déductible de votre impôt sur le revenu, \
dans la limite de {} de votre revenu imposable",
            r.holder.name,
            percent(TAX_DEDUCTION_PERCENT, Lang::Fr),
            percent(TAX_INCOME_CEILING_PERCENT, Lang::Fr)
        ));
        match &r.reward {
            None => text.push_str(&format!(
                " : pour ce don, jusqu'à {} de réduction d'impôt.\n",
                money(tax_reduction(r.amount), Lang::Fr)
            )),
            Some(_) => text.push_str(
                ".\nVous avez choisi une contrepartie : sa valeur doit être retirée du montant \
du don pour le calcul de la réduction (seule la part sans contrepartie est un don).\n",
            ),
        }
        text.push_str(&format!(
            "Le reçu est émis par l'association, pas par la plateforme : pour le recevoir, \
communiquez-lui vos nom, prénom et adresse postale, avec la référence {} et la date de votre don. \
Conservez-le pour votre déclaration de revenus.\n",
            r.pledge_id
        ));
    }
    if r.amount > Decimal::ZERO && !r.holder.issues_tax_receipts() {
        text.push_str(
            "\nCe soutien ne donne pas droit à un reçu fiscal : le porteur du projet n'est pas \
une association habilitée.\n",
        );
    }
    text.push_str(&format!(
        "\nSi la campagne n'atteint pas son objectif, vous serez remboursé(e) automatiquement.\n\
Référence : {}\n\n— Pavé, financement participatif citoyen\n",
        r.pledge_id
    ));
    Email {
        subject: format!(
            "Merci pour votre soutien à « {} » ({amount})",
            r.project_title
        ),
        text,
    }
}

fn paid_en(r: &Receipt) -> Email {
    let amount = money(r.amount, Lang::En);
    let mut text = format!(
        "{}\n\nThank you! Your payment of {amount} to the project \"{}\", carried by {}, was received on {}.\n",
        greeting(r),
        r.project_title,
        r.holder.name,
        date(r.date, Lang::En)
    );
    if let Some(reward) = &r.reward {
        text.push_str(&format!("Reward chosen: {reward}.\n"));
    }
    if r.holder.issues_tax_receipts() {
        text.push_str(&format!(
            "\nFrench tax receipt (reçu fiscal): {} is an association entitled to issue tax receipts. \
If you pay income tax in France, {} of your gift is deductible from your income tax, \
within {} of your taxable income",
            r.holder.name,
            percent(TAX_DEDUCTION_PERCENT, Lang::En),
            percent(TAX_INCOME_CEILING_PERCENT, Lang::En)
        ));
        match &r.reward {
            None => text.push_str(&format!(
                ": for this gift, up to {} off your tax.\n",
                money(tax_reduction(r.amount), Lang::En)
            )),
            Some(_) => text.push_str(
                ".\nYou chose a reward: its value must be taken off the gift's amount for the \
deduction (only the part without a reward is a gift).\n",
            ),
        }
        text.push_str(&format!(
            "The receipt is issued by the association, not by the platform: to get it, send it your \
full name and postal address, with the reference {} and the date of your gift. \
Keep it for your tax return.\n",
            r.pledge_id
        ));
    }
    if r.amount > Decimal::ZERO && !r.holder.issues_tax_receipts() {
        text.push_str(
            "\nThis support does not qualify for a French tax receipt: the holder is not an \
eligible association.\n",
        );
    }
    text.push_str(&format!(
        "\nIf the campaign misses its goal, you will be refunded automatically.\n\
Reference: {}\n\n— Pavé, civic crowdfunding\n",
        r.pledge_id
    ));
    Email {
        subject: format!(
            "Thank you for supporting \"{}\" ({amount})",
            r.project_title
        ),
        text,
    }
}

fn refund_fr(r: &Receipt, cause: RefundCause) -> Email {
    let amount = money(r.amount, Lang::Fr);
    let why = match cause {
        RefundCause::GoalMissed => {
            "La campagne s'est terminée sans atteindre son objectif : comme prévu pour un projet \
« tout ou rien », chaque contribution est remboursée."
        }
        RefundCause::AfterClose => {
            "Votre paiement est arrivé après la fin de la campagne : il n'a pas pu être compté \
et vous est rendu en totalité."
        }
        RefundCause::OverCap => {
            "Votre paiement aurait fait dépasser au projet son plafond de collecte : il n'a pas \
pu être compté et vous est rendu en totalité."
        }
        RefundCause::ByPlatform => "La plateforme a remboursé votre paiement.",
        RefundCause::RewardSoldOut => {
            "Votre paiement a été confirmé après l'expiration de votre réservation, et les \
dernières places de la contrepartie choisie avaient été prises entre-temps : il n'a pas pu être \
compté et vous est rendu en totalité. Vous pouvez contribuer à nouveau, sans contrepartie ou avec une autre."
        }
        RefundCause::AmountMismatch => {
            "Le montant payé ne correspondait pas à celui de votre contribution : par sécurité, \
il n'a pas été compté et vous est rendu en totalité."
        }
        RefundCause::PartialRefund => {
            "Une partie de votre paiement a été remboursée. Pavé ne garde pas de contribution \
remboursée en partie : le reste vous est rendu aussi, et la contribution ne compte plus pour le projet."
        }
    };
    let text = format!(
        "{}\n\nVotre paiement de {amount} pour le projet « {} » vous a été remboursé le {}.\n{why}\n\
Le remboursement apparaît sur votre relevé sous 5 à 10 jours ouvrés, sur le moyen de paiement utilisé.\n\
Référence : {}\n\n— Pavé, financement participatif citoyen\n",
        greeting(r),
        r.project_title,
        date(r.date, Lang::Fr),
        r.pledge_id
    );
    Email {
        subject: format!("Remboursement de {amount} — « {} »", r.project_title),
        text,
    }
}

fn refund_en(r: &Receipt, cause: RefundCause) -> Email {
    let amount = money(r.amount, Lang::En);
    let why = match cause {
        RefundCause::GoalMissed => {
            "The campaign ended without reaching its goal: as planned for an all-or-nothing \
project, every contribution is refunded."
        }
        RefundCause::AfterClose => {
            "Your payment arrived after the campaign had ended: it could not be counted and is \
given back in full."
        }
        RefundCause::OverCap => {
            "Your payment would have taken the project past its funding cap: it could not be \
counted and is given back in full."
        }
        RefundCause::ByPlatform => "The platform refunded your payment.",
        RefundCause::RewardSoldOut => {
            "Your payment was confirmed after your reservation had expired, and the last places \
of the reward you chose had been taken meanwhile: it could not be counted and is given back in \
full. You may give again, with no reward or another one."
        }
        RefundCause::AmountMismatch => {
            "The amount paid differed from your pledge: to be safe, it was not counted and is \
given back in full."
        }
        RefundCause::PartialRefund => {
            "Part of your payment was refunded. Pavé keeps no partly refunded pledge: the rest is \
given back too, and the pledge no longer counts for the project."
        }
    };
    let text = format!(
        "{}\n\nYour payment of {amount} to the project \"{}\" was refunded on {}.\n{why}\n\
The refund shows on your statement within 5 to 10 business days, on the card you used.\n\
Reference: {}\n\n— Pavé, civic crowdfunding\n",
        greeting(r),
        r.project_title,
        date(r.date, Lang::En),
        r.pledge_id
    );
    Email {
        subject: format!("Refund of {amount} — \"{}\"", r.project_title),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::HolderKind;

    fn receipt(lang: Lang, kind: HolderKind, tax_receipt: bool, reward: Option<&str>) -> Receipt {
        Receipt {
            lang,
            donor_name: Some("Camille".into()),
            amount: "25.50".parse().unwrap(),
            project_title: "Le Café du Coin".into(),
            reward: reward.map(str::to_string),
            holder: CatalogHolder {
                name: "Les Amis du Café".into(),
                kind,
                tax_receipt,
            },
            date: jiff::civil::date(2026, 5, 16),
            pledge_id: "pl_1".into(),
        }
    }

    #[test]
    fn a_french_confirmation_states_amount_project_reward_and_date() {
        let r = receipt(
            Lang::Fr,
            HolderKind::Collective,
            false,
            Some("Un café offert"),
        );
        let e = Notice::PaymentConfirmed(r).compose();
        assert!(e.subject.contains("25,50\u{202F}€"), "{}", e.subject);
        assert!(e.text.contains("Votre paiement de 25,50\u{202F}€"));
        assert!(e.text.contains("« Le Café du Coin »"));
        assert!(e.text.contains("Contrepartie choisie : Un café offert."));
        assert!(e.text.contains("16 mai 2026"));
        assert!(e.text.contains("Bonjour Camille,"));
        assert!(!e.text.contains("Reçu fiscal :"));
        assert!(e.text.contains("ne donne pas droit à un reçu fiscal"));
    }

    #[test]
    fn an_eligible_association_gets_the_tax_receipt_paragraph() {
        let e = Notice::PaymentConfirmed(receipt(Lang::Fr, HolderKind::Association, true, None))
            .compose();
        assert!(e.text.contains("Reçu fiscal : Les Amis du Café"));
        assert!(
            e.text.contains("66\u{202F}% de votre don est déductible"),
            "{}",
            e.text
        );
        assert!(e.text.contains("20\u{202F}% de votre revenu imposable"));
        // 66 % of 25,50 € = 16,83 €.
        assert!(e.text.contains("jusqu'à 16,83\u{202F}€"), "{}", e.text);
        assert!(e.text.contains("adresse postale"));
        assert!(!e.text.contains("contrepartie"));
    }

    #[test]
    fn a_reward_adds_the_value_caveat_and_no_figure() {
        let e = Notice::PaymentConfirmed(receipt(
            Lang::Fr,
            HolderKind::Association,
            true,
            Some("Un tote bag"),
        ))
        .compose();
        assert!(e.text.contains("sa valeur doit être retirée"));
        assert!(!e.text.contains("jusqu'à"));
        let e = Notice::PaymentConfirmed(receipt(
            Lang::En,
            HolderKind::Association,
            true,
            Some("A tote bag"),
        ))
        .compose();
        assert!(e.text.contains("its value must be taken off"));
    }

    #[test]
    fn no_tax_paragraph_for_a_company_or_an_association_without_eligibility() {
        for (kind, eligible) in [
            (HolderKind::Company, true),
            (HolderKind::Association, false),
            (HolderKind::Individual, false),
        ] {
            let e = Notice::PaymentConfirmed(receipt(Lang::Fr, kind, eligible, None)).compose();
            assert!(!e.text.contains("Reçu fiscal :"), "{kind:?}");
        }
    }

    #[test]
    fn an_english_confirmation_is_in_english() {
        let e = Notice::PaymentConfirmed(receipt(Lang::En, HolderKind::Association, true, None))
            .compose();
        assert!(e.subject.starts_with("Thank you for supporting"));
        assert!(e.text.contains("Your payment of €25.50"), "{}", e.text);
        assert!(e.text.contains("16 May 2026"));
        assert!(e.text.contains("up to €16.83 off your tax"));
        assert!(!e.text.contains("Merci"));
    }

    #[test]
    fn each_refund_says_why() {
        let cases = [
            (
                RefundCause::GoalMissed,
                "sans atteindre son objectif",
                "without reaching its goal",
            ),
            (
                RefundCause::AfterClose,
                "après la fin de la campagne",
                "after the campaign had ended",
            ),
            (RefundCause::OverCap, "plafond", "funding cap"),
            (
                RefundCause::ByPlatform,
                "La plateforme a remboursé",
                "The platform refunded",
            ),
        ];
        for (cause, fr, en) in cases {
            let e = Notice::Refunded {
                receipt: receipt(Lang::Fr, HolderKind::Collective, false, None),
                cause,
            }
            .compose();
            assert!(e.subject.starts_with("Remboursement de 25,50\u{202F}€"));
            assert!(e.text.contains(fr), "{cause:?}");
            assert!(!e.text.contains("Reçu fiscal"));
            let e = Notice::Refunded {
                receipt: receipt(Lang::En, HolderKind::Collective, false, None),
                cause,
            }
            .compose();
            assert!(e.text.contains(en), "{cause:?}");
        }
    }

    #[test]
    fn the_reduction_rounds_down_to_the_cent() {
        assert_eq!(
            tax_reduction("25.50".parse().unwrap()),
            "16.83".parse().unwrap()
        );
        assert_eq!(
            tax_reduction("0.99".parse().unwrap()),
            "0.65".parse().unwrap()
        );
        assert_eq!(tax_reduction("100".parse().unwrap()), "66".parse().unwrap());
    }
}
