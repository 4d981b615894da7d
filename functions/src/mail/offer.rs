//! The email telling a project's holder and its territory's editors of an
//! offer of help: who offers what, and how to answer them. In French, the
//! language of the cities the platform serves (the holders'), whatever
//! the language of the form it came from.

use jiff::civil::Date;
use pave_locale::{Lang, date};

use super::compose::Email;
use super::outbox::Outgoing;
use crate::catalog::Catalog;
use crate::contacts::Contacts;
use crate::store::{Offer, Store, StoreError};

/// What the email says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferNotice<'a> {
    pub project_title: &'a str,
    /// The need it answers, by its title (none: a general offer).
    pub need: Option<&'a str>,
    pub offer: &'a Offer,
    pub date: Date,
}

/// The email, pure.
pub fn compose(n: &OfferNotice<'_>) -> Email {
    let o = n.offer;
    let mut text = format!(
        "Bonjour,\n\n{} propose son aide au projet « {} », le {}.\n\n",
        o.name,
        n.project_title,
        date(n.date, Lang::Fr)
    );
    if let Some(need) = n.need {
        text.push_str(&format!("Besoin : {need}\n"));
    }
    text.push_str(&format!(
        "Nom : {}\nContact : {}\nMessage :\n",
        o.name, o.contact
    ));
    for line in o.message.lines() {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(
        "\nRépondez-lui directement au contact donné : la plateforme ne le fait pas à votre place. \
Cette proposition figure aussi dans le relevé du projet (pave statements).\n\n\
— Pavé, financement participatif citoyen\n",
    );
    let subject = match n.need {
        Some(need) => format!("Proposition d’aide pour « {} » : {need}", n.project_title),
        None => format!("Proposition d’aide pour « {} »", n.project_title),
    };
    Email { subject, text }
}

/// Puts the email of the offer `id` in the outbox, one per recipient the
/// contacts name (the holder's, then the territory's editors); how many.
/// None named: nothing is sent (logged), the offer stays in the store and
/// the holder's statement.
pub async fn enqueue<S: Store>(
    store: &S,
    catalog: &Catalog,
    contacts: &Contacts,
    offer: &Offer,
    id: &str,
) -> Result<usize, StoreError> {
    let Some(project) = catalog.projects.get(&offer.project) else {
        return Ok(0);
    };
    let recipients = contacts.recipients(&offer.project, &project.territory);
    if recipients.is_empty() {
        tracing::warn!(
            "pave mail: offer {id} to {}: no contact for the project nor its territory (contacts.yaml); it is in the holder's statement only",
            offer.project
        );
        return Ok(0);
    }
    let notice = OfferNotice {
        project_title: &project.title,
        need: offer
            .need
            .and_then(|i| project.needs.get(i))
            .map(String::as_str)
            .filter(|t| !t.is_empty()),
        offer,
        date: pave_contract::calendar::day_in(offer.created_at, &project.timezone),
    };
    let Email { subject, text } = compose(&notice);
    for (i, to) in recipients.iter().enumerate() {
        store
            .enqueue_mail(Outgoing {
                key: super::outbox::bounded_key(format!("offer/{}/{id}/{i}", offer.project)),
                to: to.clone(),
                subject: subject.clone(),
                text: text.clone(),
                unsubscribe: None,
            })
            .await?;
    }
    Ok(recipients.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_reads_who_offers_what_and_how_to_answer() {
        let offer = Offer {
            project: "cafe-du-coin".into(),
            need: Some(0),
            name: "Sam".into(),
            contact: "sam@example.org".into(),
            message: "Je peux poncer.\nLe samedi.".into(),
            created_at: 0,
        };
        let email = compose(&OfferNotice {
            project_title: "Le Café du Coin",
            need: Some("Des bras"),
            offer: &offer,
            date: jiff::civil::date(2026, 11, 23),
        });
        assert_eq!(
            email.subject,
            "Proposition d’aide pour « Le Café du Coin » : Des bras"
        );
        assert!(
            email.text.contains(
                "Sam propose son aide au projet « Le Café du Coin », le 23 novembre 2026."
            ),
            "{}",
            email.text
        );
        assert!(email.text.contains("Besoin : Des bras\n"));
        assert!(email.text.contains("Contact : sam@example.org\n"));
        assert!(email.text.contains("  Je peux poncer.\n  Le samedi.\n"));
    }
}
