//! The thank-you page a donor comes back to from the checkout
//! (`GET /api/pledges/{id}/merci`), pure: the pledge as the store has it
//! now, the project's rules and its fresh figures → the page's title, its
//! content and its extra head. It works without JavaScript: while Stripe's
//! confirmation has not arrived the page says so and refreshes itself
//! (`<meta http-equiv="refresh">`), a bounded number of times.

use std::collections::BTreeMap;

use pave_contract::catalog::{CatalogPool, CatalogProject};
use pave_contract::{Funding, share};
use pave_locale::{Lang, date, money};

use super::{Written, content, e, progress, tr};
use crate::progress::Figures;
use crate::store::{PledgeContact, PledgeStatus};

/// How often a page waiting for the confirmation reloads itself, and how
/// many times before it says the confirmation is late.
pub const REFRESH_SECONDS: u32 = 3;
pub const REFRESH_ATTEMPTS: u32 = 20;

/// What the thank-you page shows.
pub struct Thanks<'a> {
    pub lang: Lang,
    pub project: &'a CatalogProject,
    pub pools: &'a BTreeMap<String, CatalogPool>,
    pub pledge: &'a PledgeContact,
    pub figures: &'a Figures,
    /// The project's page (absolute).
    pub project_url: &'a str,
    /// This page's address with its attempt counter (`{}` for the count).
    pub refresh_url: &'a str,
    /// How many times the page already reloaded itself waiting.
    pub attempt: u32,
}

/// The page.
pub fn page(t: &Thanks) -> Written {
    match t.pledge.status {
        PledgeStatus::Paid => paid(t),
        PledgeStatus::Pending => pending(t),
        PledgeStatus::Expired => not_paid(t),
        PledgeStatus::Refunding | PledgeStatus::Refunded => refunded(t),
    }
}

fn paid(t: &Thanks) -> Written {
    let lang = t.lang;
    let p = t.project;
    let amount = money(t.pledge.amount, lang);
    let title = match t.pledge.display_name.as_deref() {
        Some(name) => tr(
            lang,
            &format!("Merci, {name} !"),
            &format!("Thank you, {name}!"),
        ),
        None => tr(lang, "Merci !", "Thank you!"),
    };
    let mut main = format!("<h1>{}</h1>\n", e(&title));
    main.push_str(&format!(
        "<p class=\"lead\">{}</p>\n",
        tr(
            lang,
            &format!(
                "Votre contribution de <strong>{amount}</strong> au projet « {} » est confirmée.",
                e(&p.title)
            ),
            &format!(
                "Your pledge of <strong>{amount}</strong> to “{}” is confirmed.",
                content(&p.title, lang)
            ),
        )
    ));
    if let Some(reward) = reward_title(t) {
        main.push_str(&format!(
            "<p>{} {}</p>\n",
            tr(lang, "Votre contrepartie :", "Your reward:"),
            content(reward, lang)
        ));
    }
    main.push_str(&matches(t));
    main.push_str(&format!(
        "<section aria-labelledby=\"now-title\">\n<h2 id=\"now-title\">{}</h2>\n{}</section>\n",
        tr(lang, "Le projet maintenant", "The project now"),
        progress(t.figures, p, lang)
    ));
    main.push_str(&format!(
        "<section aria-labelledby=\"next-title\">\n<h2 id=\"next-title\">{}</h2>\n<p>{}</p>\n<p>{}</p>\n</section>\n",
        tr(lang, "Et maintenant ?", "What happens next"),
        next_step(p, lang),
        tr(
            lang,
            "Un reçu vous est envoyé par courriel.",
            "A receipt is on its way to your inbox."
        )
    ));
    main.push_str(&share_section(t));
    main.push_str(&back(t));
    Written {
        title,
        main,
        head: String::new(),
    }
}

/// The pools' matches this pledge earned, in words, with what the gesture
/// brings the project in all.
fn matches(t: &Thanks) -> String {
    let lang = t.lang;
    let m = &t.pledge.matches;
    if m.is_empty() {
        return String::new();
    }
    let mut html = format!(
        "<section aria-labelledby=\"match-title\">\n<h2 id=\"match-title\">{}</h2>\n<ul>\n",
        tr(
            lang,
            "L’abondement de vos partenaires",
            "What the sponsors add"
        )
    );
    for one in m {
        let who = t
            .pools
            .get(&one.pool_id)
            .map_or(one.pool_id.as_str(), |pool| pool.sponsor_name.as_str());
        html.push_str(&format!(
            "<li>{}</li>\n",
            tr(
                lang,
                &format!(
                    "{} ajoute <strong>{}</strong>",
                    e(who),
                    money(one.amount, lang)
                ),
                &format!(
                    "{} adds <strong>{}</strong>",
                    e(who),
                    money(one.amount, lang)
                ),
            )
        ));
    }
    let total = t.pledge.amount + m.iter().map(|m| m.amount).sum::<rust_decimal::Decimal>();
    html.push_str(&format!(
        "</ul>\n<p>{}</p>\n</section>\n",
        tr(
            lang,
            &format!(
                "Votre geste de {} apporte <strong>{}</strong> au projet.",
                money(t.pledge.amount, lang),
                money(total, lang)
            ),
            &format!(
                "Your {} brings the project <strong>{}</strong>.",
                money(t.pledge.amount, lang),
                money(total, lang)
            ),
        )
    ));
    html
}

/// What the funding model means for the donor's money.
fn next_step(p: &CatalogProject, lang: Lang) -> String {
    let goal = money(p.goal, lang);
    let end = date(p.end, lang);
    match p.funding {
        Funding::AllOrNothing => tr(
            lang,
            &format!(
                "Ce projet est financé en « tout ou rien » : votre paiement est encaissé maintenant. Si l’objectif de {goal} n’est pas atteint le {end} au soir, vous êtes remboursé intégralement, automatiquement."
            ),
            &format!(
                "This project is all-or-nothing: you are charged now. If the {goal} goal is not reached by the end of {end}, you are refunded in full, automatically."
            ),
        ),
        Funding::KeepItAll => tr(
            lang,
            &format!(
                "Ce projet reçoit ce qui est collecté, même si l’objectif de {goal} n’est pas atteint à la fin de la campagne, le {end}."
            ),
            &format!(
                "This project keeps what it collects, even if the {goal} goal is not reached when the campaign ends on {end}."
            ),
        ),
    }
}

fn share_section(t: &Thanks) -> String {
    let lang = t.lang;
    let mut html = format!(
        "<section aria-labelledby=\"share-title\">\n<h2 id=\"share-title\">{}</h2>\n<ul class=\"share\">\n",
        tr(lang, "Faites-le savoir", "Spread the word")
    );
    let summary = tr(
        lang,
        "J’ai soutenu ce projet de mon quartier.",
        "I backed this local project.",
    );
    for (network, url) in share::links(&t.project.title, &summary, t.project_url) {
        let label = match network {
            share::Network::Email => tr(lang, "Par courriel", "By email"),
            other => other.name().to_string(),
        };
        html.push_str(&format!(
            "<li><a href=\"{}\" rel=\"noopener\">{}</a></li>\n",
            e(&url),
            e(&label)
        ));
    }
    html.push_str(&format!(
        "</ul>\n<p>{} <a href=\"{url}\">{url}</a></p>\n</section>\n",
        tr(lang, "Adresse du projet :", "The project’s address:"),
        url = e(t.project_url)
    ));
    html
}

fn back(t: &Thanks) -> String {
    format!(
        "<p><a class=\"button\" href=\"{}\">{}</a></p>\n",
        e(t.project_url),
        tr(t.lang, "Retour au projet", "Back to the project")
    )
}

fn reward_title<'a>(t: &'a Thanks) -> Option<&'a str> {
    let index = t.pledge.reward?;
    t.project
        .rewards
        .iter()
        .find(|r| r.index == index)
        .map(|r| r.title.as_str())
}

fn pending(t: &Thanks) -> Written {
    let lang = t.lang;
    let amount = money(t.pledge.amount, lang);
    let waiting = t.attempt < REFRESH_ATTEMPTS;
    let title = tr(
        lang,
        "Votre paiement est en cours de confirmation",
        "Your payment is being confirmed",
    );
    let mut main = format!("<h1>{}</h1>\n", e(&title));
    let text = if waiting {
        tr(
            lang,
            &format!(
                "Merci ! Le prestataire de paiement nous confirme votre contribution de <strong>{amount}</strong> au projet « {} » dans quelques instants. Cette page se met à jour toute seule.",
                e(&t.project.title)
            ),
            &format!(
                "Thank you! The payment provider is confirming your pledge of <strong>{amount}</strong> to “{}”. This page updates itself in a moment.",
                content(&t.project.title, lang)
            ),
        )
    } else {
        tr(
            lang,
            &format!(
                "La confirmation de votre contribution de <strong>{amount}</strong> tarde. Inutile de payer à nouveau : vous recevrez un courriel dès qu’elle arrive, et le projet la comptera."
            ),
            &format!(
                "The confirmation of your pledge of <strong>{amount}</strong> is late. There is no need to pay again: you will get an email as soon as it arrives, and the project will count it."
            ),
        )
    };
    main.push_str(&format!("<p class=\"lead\" role=\"status\">{text}</p>\n"));
    let next = t
        .refresh_url
        .replace("{}", &t.attempt.saturating_add(1).to_string());
    main.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p>\n",
        e(&next),
        tr(lang, "Actualiser", "Refresh")
    ));
    main.push_str(&back(t));
    let head = if waiting {
        format!(
            "<meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}; url={}\">\n",
            e(&next)
        )
    } else {
        String::new()
    };
    Written { title, main, head }
}

fn not_paid(t: &Thanks) -> Written {
    let lang = t.lang;
    notice(
        t,
        tr(
            lang,
            "Ce paiement n’a pas abouti",
            "This payment did not go through",
        ),
        tr(
            lang,
            "La session de paiement s’est terminée sans paiement : rien n’a été débité. Vous pouvez contribuer à nouveau depuis la page du projet.",
            "The checkout ended without a payment: nothing was charged. You can pledge again from the project’s page.",
        ),
    )
}

fn refunded(t: &Thanks) -> Written {
    let lang = t.lang;
    let amount = money(t.pledge.amount, lang);
    notice(
        t,
        tr(
            lang,
            "Cette contribution est remboursée",
            "This pledge is refunded",
        ),
        tr(
            lang,
            &format!(
                "Votre contribution de {amount} n’est plus comptée : elle vous est remboursée intégralement. Un courriel vous en a donné la raison."
            ),
            &format!(
                "Your pledge of {amount} no longer counts: it is refunded in full. An email told you why."
            ),
        ),
    )
}

/// A page that only says where the pledge stands (`lead`, HTML), and links
/// back to the project.
fn notice(t: &Thanks, title: String, lead: String) -> Written {
    Written {
        main: format!(
            "<h1>{}</h1>\n<p class=\"lead\">{lead}</p>\n{}",
            e(&title),
            back(t)
        ),
        title,
        head: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::matching::Match;
    use rust_decimal::Decimal;

    fn catalog() -> Catalog {
        Catalog::from_json(pave_contract::catalog::fixtures::SAMPLE.as_bytes()).unwrap()
    }

    fn pledge(status: PledgeStatus, matches: Vec<Match>) -> PledgeContact {
        PledgeContact {
            project: "cafe-du-coin".into(),
            amount: Decimal::new(2550, 2),
            reward: Some(1),
            display_name: Some("Camille <3".into()),
            email: Some("camille@example.org".into()),
            lang: "fr".into(),
            status,
            checkout_session: None,
            matches,
        }
    }

    fn written(lang: Lang, pledge: &PledgeContact, attempt: u32) -> Written {
        let catalog = catalog();
        let figures = Figures {
            raised: Decimal::new(177_000, 2),
            backers: 57,
            ..Figures::default()
        };
        page(&Thanks {
            lang,
            project: &catalog.projects["cafe-du-coin"],
            pools: &catalog.pools,
            pledge,
            figures: &figures,
            project_url: "https://pave.example/projets/cafe-du-coin/",
            refresh_url: "/api/pledges/pl_1/merci?lang=fr&essai={}",
            attempt,
        })
    }

    #[test]
    fn a_paid_pledge_is_thanked_with_its_reward_its_matches_and_the_new_total() {
        let matched = vec![Match {
            pool_id: "fondation-btp-plus/habitat-2026".into(),
            amount: Decimal::new(2550, 2),
        }];
        let w = written(Lang::Fr, &pledge(PledgeStatus::Paid, matched), 0);
        assert_eq!(w.title, "Merci, Camille <3 !");
        for expected in [
            "<h1>Merci, Camille &lt;3 !</h1>",
            "Votre contribution de <strong>25,50\u{202F}€</strong> au projet « Le Café du Coin",
            "Votre contrepartie : Un repas à la soirée de lancement",
            "Fondation BTP Plus ajoute <strong>25,50\u{202F}€</strong>",
            "Votre geste de 25,50\u{202F}€ apporte <strong>51\u{202F}€</strong> au projet.",
            "<strong>1\u{202F}770\u{202F}€</strong> sur 6\u{202F}000\u{202F}€ — 29\u{202F}%",
            "57 contributeurs",
            "Si l’objectif de 6\u{202F}000\u{202F}€ n’est pas atteint le 20 décembre 2026",
            "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fpave.example%2Fprojets%2Fcafe-du-coin%2F",
        ] {
            assert!(w.main.contains(expected), "{expected}:\n{}", w.main);
        }
        assert!(w.head.is_empty(), "a confirmed page does not reload");
        assert!(!w.main.contains("camille@example.org"));
    }

    #[test]
    fn a_pledge_without_matches_says_nothing_of_them_and_english_marks_french_content() {
        let w = written(Lang::En, &pledge(PledgeStatus::Paid, vec![]), 0);
        assert!(!w.main.contains("match-title"), "{}", w.main);
        assert!(
            w.main.contains(
                "to “<span lang=\"fr\">Le Café du Coin — café, AMAP et ressourcerie</span>” is confirmed"
            ),
            "{}",
            w.main
        );
        assert!(w.main.contains("you are refunded in full"), "{}", w.main);
    }

    #[test]
    fn a_pledge_waiting_for_its_confirmation_reloads_a_bounded_number_of_times() {
        let waiting = written(Lang::Fr, &pledge(PledgeStatus::Pending, vec![]), 3);
        assert_eq!(waiting.title, "Votre paiement est en cours de confirmation");
        assert_eq!(
            waiting.head,
            "<meta http-equiv=\"refresh\" content=\"3; url=/api/pledges/pl_1/merci?lang=fr&amp;essai=4\">\n"
        );
        let late = written(
            Lang::Fr,
            &pledge(PledgeStatus::Pending, vec![]),
            REFRESH_ATTEMPTS,
        );
        assert!(late.head.is_empty());
        assert!(
            late.main.contains("Inutile de payer à nouveau"),
            "{}",
            late.main
        );
    }

    #[test]
    fn an_expired_or_refunded_pledge_says_so() {
        let expired = written(Lang::Fr, &pledge(PledgeStatus::Expired, vec![]), 0);
        assert!(
            expired.main.contains("rien n’a été débité"),
            "{}",
            expired.main
        );
        let refunded = written(Lang::En, &pledge(PledgeStatus::Refunded, vec![]), 0);
        assert!(
            refunded.main.contains("refunded in full"),
            "{}",
            refunded.main
        );
    }
}
