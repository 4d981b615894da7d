//! Readable, printable pages of the statements, in French or English,
//! money and dates written by `pave-locale` as on the site ("1 770 €",
//! "16 mai 2026"). Every text from the catalog or a donor is escaped.

use pave_locale::{Lang, date, money, number};

use super::holder::HolderStatement;
use super::sponsor::SponsorStatement;

/// Text escaped for the printable pages (the one escaper).
pub use pave_contract::html::escape;

/// The page's words in each language.
fn t(lang: Lang, key: &str) -> &'static str {
    let (fr, en) = match key {
        "holder" => ("Relevé du porteur de projet", "Project holder's statement"),
        "sponsor" => ("Relevé du mécène", "Sponsor's statement"),
        "provisional" => (
            "Provisoire : la campagne n’est pas close, ces chiffres peuvent encore changer.",
            "Provisional: the campaign has not closed, these figures may still change.",
        ),
        "goal" => ("Objectif", "Goal"),
        "outcome" => ("Résultat", "Outcome"),
        "funded" => ("Financé", "Funded"),
        "not_funded" => ("Non financé", "Not funded"),
        "so_far" => ("{o} à ce jour", "{o} so far"),
        "citizens" => ("Dons des citoyens", "Citizens' pledges"),
        "matched" => ("Abondement", "Matching"),
        "matched_total" => ("Abondement total", "Total matching"),
        "fees" => ("Frais de paiement estimés", "Estimated payment fees"),
        "fees_note" => (
            "Estimation : {p} % + {f} par don payé ; les frais réels figurent sur le relevé du prestataire de paiement.",
            "Estimate: {p}% + {f} per paid pledge; the actual fees are on the payment provider's statement.",
        ),
        "net" => ("Net", "Net"),
        "pledges" => ("Dons payés", "Paid pledges"),
        "backers" => ("Contributeurs", "Backers"),
        "rewards" => ("Contreparties à livrer", "Rewards to deliver"),
        "reward" => ("Contrepartie", "Reward"),
        "quantity" => ("Quantité", "Quantity"),
        "contacts" => (
            "Donateurs ayant accepté de partager leur nom et leur e-mail",
            "Donors who agreed to share their name and email",
        ),
        "offers" => ("Propositions d’aide", "Offers of help"),
        "offers_none" => (
            "Aucune proposition d’aide pour l’instant.",
            "No offer of help so far.",
        ),
        "need" => ("Besoin", "Need"),
        "contact" => ("Contact", "Contact"),
        "message" => ("Message", "Message"),
        "general_offer" => ("Aide générale", "General help"),
        "contacts_none" => (
            "Aucun donateur n’a accepté de partager ses coordonnées.",
            "No donor agreed to share their contact details.",
        ),
        "name" => ("Nom", "Name"),
        "email" => ("E-mail", "Email"),
        "amount" => ("Montant", "Amount"),
        "date" => ("Date", "Date"),
        "refunds" => (
            "Dons remboursés (hors totaux)",
            "Refunded pledges (not in the totals)",
        ),
        "state" => ("État", "State"),
        "pool" => ("Fonds", "Pool"),
        "project" => ("Projet", "Project"),
        "budget" => ("Budget", "Budget"),
        "total" => ("Total abondé", "Total matched"),
        "left" => ("Budget restant", "Budget left"),
        "none" => ("Aucun abondement.", "No matching."),
        _ => ("", ""),
    };
    match lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;color:#111}\
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left}\
td.n,th.n{text-align:right}.note{background:#fff3cd;padding:.5rem;border-left:4px solid #a66}\
@media print{body{margin:0;max-width:none}.note{border:1px solid #000}}";

fn page(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        lang.code(),
        escape(title)
    )
}

fn figure_row(label: &str, value: &str) -> String {
    format!(
        "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>\n",
        escape(label),
        escape(value)
    )
}

pub fn holder(s: &HolderStatement, lang: Lang) -> String {
    let title = format!("{} — {}", t(lang, "holder"), s.title);
    let mut b = format!("<h1>{}</h1>\n", escape(&title));
    if s.provisional {
        b.push_str(&format!(
            "<p class=\"note\">{}</p>\n",
            escape(t(lang, "provisional"))
        ));
    }
    b.push_str("<table>\n");
    let outcome = t(lang, s.outcome.as_str());
    let outcome = if s.provisional {
        t(lang, "so_far").replace("{o}", outcome)
    } else {
        outcome.to_string()
    };
    b.push_str(&figure_row(t(lang, "outcome"), &outcome));
    b.push_str(&figure_row(t(lang, "goal"), &money(s.goal, lang)));
    b.push_str(&figure_row(t(lang, "citizens"), &money(s.citizens, lang)));
    for m in &s.matched {
        b.push_str(&figure_row(
            &format!(
                "{} — {} ({})",
                t(lang, "matched"),
                m.sponsor_name,
                m.pool_title
            ),
            &money(m.amount, lang),
        ));
    }
    b.push_str(&figure_row(
        t(lang, "matched_total"),
        &money(s.matched_total, lang),
    ));
    b.push_str(&figure_row(
        t(lang, "fees"),
        &format!("− {}", money(s.fees, lang)),
    ));
    b.push_str(&figure_row(t(lang, "net"), &money(s.net, lang)));
    b.push_str(&figure_row(
        t(lang, "pledges"),
        &number(u64::from(s.pledges), lang),
    ));
    b.push_str(&figure_row(
        t(lang, "backers"),
        &number(u64::from(s.backers), lang),
    ));
    b.push_str("</table>\n");
    let note = t(lang, "fees_note")
        .replace(
            "{p}",
            &s.fee_policy
                .percent
                .normalize()
                .to_string()
                .replace('.', if lang == Lang::Fr { "," } else { "." }),
        )
        .replace("{f}", &money(s.fee_policy.fixed, lang));
    b.push_str(&format!("<p>{}</p>\n", escape(&note)));

    b.push_str(&format!("<h2>{}</h2>\n", escape(t(lang, "rewards"))));
    b.push_str(&format!(
        "<table>\n<tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"n\">{}</th></tr>\n",
        escape(t(lang, "reward")),
        escape(t(lang, "quantity"))
    ));
    for r in &s.rewards {
        b.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&r.title),
            number(u64::from(r.quantity), lang)
        ));
    }
    b.push_str("</table>\n");

    b.push_str(&format!("<h2>{}</h2>\n", escape(t(lang, "contacts"))));
    if s.contacts.is_empty() {
        b.push_str(&format!("<p>{}</p>\n", escape(t(lang, "contacts_none"))));
    } else {
        b.push_str(&format!(
            "<table>\n<tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\">{}</th></tr>\n",
            escape(t(lang, "name")),
            escape(t(lang, "email")),
            escape(t(lang, "reward")),
            escape(t(lang, "amount")),
            escape(t(lang, "date")),
        ));
        for c in &s.contacts {
            b.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                escape(c.name.as_deref().unwrap_or("")),
                escape(&c.email),
                escape(c.reward.as_deref().unwrap_or("")),
                escape(&money(c.amount, lang)),
                escape(&date(c.date, lang)),
            ));
        }
        b.push_str("</table>\n");
    }

    b.push_str(&format!("<h2>{}</h2>\n", escape(t(lang, "offers"))));
    if s.offers.is_empty() {
        b.push_str(&format!("<p>{}</p>\n", escape(t(lang, "offers_none"))));
    } else {
        b.push_str(&format!(
            "<table>\n<tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>\n",
            escape(t(lang, "date")),
            escape(t(lang, "need")),
            escape(t(lang, "name")),
            escape(t(lang, "contact")),
            escape(t(lang, "message")),
        ));
        for o in &s.offers {
            b.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&date(o.date, lang)),
                escape(o.need.as_deref().unwrap_or(t(lang, "general_offer"))),
                escape(&o.name),
                escape(&o.contact),
                escape(&o.message),
            ));
        }
        b.push_str("</table>\n");
    }

    if !s.refunds.is_empty() {
        b.push_str(&format!("<h2>{}</h2>\n", escape(t(lang, "refunds"))));
        b.push_str(&format!(
            "<table>\n<tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\" class=\"n\">{}</th></tr>\n",
            escape(t(lang, "date")),
            escape(t(lang, "state")),
            escape(t(lang, "amount")),
        ));
        for r in &s.refunds {
            b.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
                escape(&date(r.date, lang)),
                escape(r.reason.unwrap_or(r.status.as_str())),
                escape(&money(r.amount, lang)),
            ));
        }
        b.push_str("</table>\n");
    }
    page(lang, &title, &b)
}

pub fn sponsor(s: &SponsorStatement, lang: Lang) -> String {
    let title = format!("{} — {}", t(lang, "sponsor"), s.name);
    let mut b = format!("<h1>{}</h1>\n", escape(&title));
    for p in &s.pools {
        b.push_str(&format!("<h2>{}</h2>\n", escape(&p.title)));
        if p.projects.is_empty() {
            b.push_str(&format!("<p>{}</p>\n", escape(t(lang, "none"))));
        } else {
            b.push_str(&format!(
                "<table>\n<tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"n\">{}</th></tr>\n",
                escape(t(lang, "project")),
                escape(t(lang, "matched"))
            ));
            for (_, title, amount) in &p.projects {
                b.push_str(&format!(
                    "<tr><td>{}</td><td class=\"n\">{}</td></tr>\n",
                    escape(title),
                    escape(&money(*amount, lang))
                ));
            }
            b.push_str("</table>\n");
        }
        b.push_str("<table>\n");
        b.push_str(&figure_row(t(lang, "total"), &money(p.total, lang)));
        b.push_str(&figure_row(t(lang, "budget"), &money(p.budget, lang)));
        b.push_str(&figure_row(t(lang, "left"), &money(p.left, lang)));
        b.push_str("</table>\n");
    }
    page(lang, &title, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<b>\"Tom\" & 'Jerry'</b>"),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }
}
