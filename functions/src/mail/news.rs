//! A project's news, emailed once to each backer who asked for it (the
//! pledge form's "send me this project's news"), in their language, with a
//! one-click unsubscribe link: signed with the store's own secret, so it
//! names its pledge and cannot be forged for another.
//!
//! Each news item is announced once: the first time a build sees it (the
//! server's start, reload or rebuild; a publish on AWS), its emails go in
//! the outbox for the readers of that moment, then it is marked announced.
//! An item older than [`FRESH_DAYS`] when first seen (a new installation, a
//! restored store) is marked without emails, and one dated after today
//! waits for its day.

use hmac::{Hmac, Mac};
use pave_contract::news::Announcement;
use pave_locale::{Lang, date};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::compose::Email;
use super::outbox::Outgoing;
use crate::catalog::Catalog;
use crate::store::{NewsReader, Store, StoreError};

/// An item this many days old, or older, when first seen is not emailed.
pub const FRESH_DAYS: i32 = 14;

/// The longest news text put in an email; the rest is on the page.
pub const MAX_TEXT_CHARS: usize = 6000;

/// The unsubscribe token of a pledge: `<pledge id>.<MAC>`.
pub fn token(secret: &[u8], pledge_id: &str) -> String {
    format!("{pledge_id}.{}", hex::encode(&mac(secret, pledge_id)[..16]))
}

/// The pledge a token names, when its MAC is right.
pub fn verify<'a>(secret: &[u8], token: &'a str) -> Option<&'a str> {
    let (pledge_id, given) = token.rsplit_once('.')?;
    let given = hex::decode(given).ok()?;
    let expected = &mac(secret, pledge_id)[..16];
    (given.len() == expected.len() && bool::from(given.ct_eq(expected))).then_some(pledge_id)
}

fn mac(secret: &[u8], pledge_id: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(b"pave news unsubscribe\0");
    mac.update(pledge_id.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The unsubscribe page of a token, on the site.
pub fn unsubscribe_url(site_url: &str, token: &str) -> String {
    format!(
        "{}/api/news/unsubscribe?t={token}",
        site_url.trim_end_matches('/')
    )
}

/// One reader's email, pure.
pub fn compose(
    reader: &NewsReader,
    project_title: &str,
    news: &Announcement,
    project_url: &str,
    unsubscribe: &str,
) -> Email {
    let lang = Lang::from_code(&reader.lang).unwrap_or(Lang::Fr);
    let mut text: String = news.text.chars().take(MAX_TEXT_CHARS).collect();
    if text.len() < news.text.len() {
        text.push_str(" […]");
    }
    match lang {
        Lang::Fr => Email {
            subject: format!("Des nouvelles de « {project_title} » : {}", news.title),
            text: format!(
                "{}\n\nLe projet « {project_title} », que vous soutenez, donne des nouvelles le {}.\n\n\
{}\n\n{text}\n\nLe projet : {project_url}\n\n\
Vous recevez ce courriel parce que vous avez demandé les nouvelles de ce projet en le soutenant. \
Pour ne plus les recevoir : {unsubscribe}\n\n— Pavé, financement participatif citoyen\n",
                match &reader.display_name {
                    Some(name) => format!("Bonjour {name},"),
                    None => "Bonjour,".into(),
                },
                date(news.date, Lang::Fr),
                news.title,
            ),
        },
        Lang::En => Email {
            subject: format!("News from \"{project_title}\": {}", news.title),
            text: format!(
                "{}\n\n\"{project_title}\", a project you back, posted news on {} (in French):\n\n\
{}\n\n{text}\n\nThe project: {project_url}\n\n\
You get this email because you asked for this project's news when you backed it. \
To stop them: {unsubscribe}\n\n— Pavé, civic crowdfunding\n",
                match &reader.display_name {
                    Some(name) => format!("Hello {name},"),
                    None => "Hello,".into(),
                },
                date(news.date, Lang::En),
                news.title,
            ),
        },
    }
}

/// Announces every news item not announced yet, as of `today` (see the
/// module): how many emails were enqueued.
pub async fn announce<S: Store>(
    store: &S,
    catalog: &Catalog,
    news: &[Announcement],
    site_url: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let mut enqueued = 0;
    let mut secret = None;
    for item in news {
        let Some(project) = catalog.projects.get(&item.project) else {
            continue;
        };
        let today = crate::pledge::today_in(&project.timezone, now);
        if item.date > today || store.announced(&item.project, &item.id).await? {
            continue;
        }
        let fresh = today
            .since(item.date)
            .map(|span| span.get_days() < FRESH_DAYS)
            .unwrap_or(false);
        if fresh {
            let secret = match &secret {
                Some(s) => s,
                None => secret.insert(store.mail_secret().await?),
            };
            for reader in store.news_readers(&item.project).await? {
                let lang = Lang::from_code(&reader.lang).unwrap_or(Lang::Fr);
                let project_url = format!(
                    "{}{}",
                    site_url.trim_end_matches('/'),
                    pave_contract::urls::project(lang, &item.project)
                );
                let unsubscribe = unsubscribe_url(site_url, &token(secret, &reader.pledge_id));
                let Email { subject, text } =
                    compose(&reader, &project.title, item, &project_url, &unsubscribe);
                if store
                    .enqueue_mail(Outgoing {
                        key: super::outbox::bounded_key(format!(
                            "news/{}/{}/{}",
                            item.project, item.id, reader.pledge_id
                        )),
                        to: reader.email.clone(),
                        subject,
                        text,
                        unsubscribe: Some(unsubscribe),
                    })
                    .await?
                {
                    enqueued += 1;
                }
            }
        }
        store.mark_announced(&item.project, &item.id, now).await?;
    }
    Ok(enqueued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_pledge_and_cannot_be_forged() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let t = token(secret, "pl_abc");
        assert_eq!(verify(secret, &t), Some("pl_abc"));
        let other = t.replace("pl_abc", "pl_abd");
        assert_eq!(verify(secret, &other), None);
        assert_eq!(verify(b"another secret", &t), None);
        assert_eq!(verify(secret, "pl_abc"), None);
        assert_eq!(verify(secret, "pl_abc.zz"), None);
    }

    #[test]
    fn each_reader_gets_it_in_their_language_with_the_way_out() {
        let news = Announcement {
            project: "cafe-du-coin".into(),
            id: "2026-12-01-travaux".into(),
            title: "Les travaux commencent".into(),
            date: jiff::civil::date(2026, 12, 1),
            text: "Le parquet est poncé.".into(),
        };
        let reader = |lang: &str| NewsReader {
            pledge_id: "pl_1".into(),
            email: "camille@example.org".into(),
            lang: lang.into(),
            display_name: Some("Camille".into()),
        };
        let fr = compose(
            &reader("fr"),
            "Le Café du Coin",
            &news,
            "https://p/projets/cafe-du-coin/",
            "https://p/u",
        );
        assert_eq!(
            fr.subject,
            "Des nouvelles de « Le Café du Coin » : Les travaux commencent"
        );
        assert!(fr.text.starts_with("Bonjour Camille,"));
        assert!(
            fr.text.contains("le 1 décembre 2026") || fr.text.contains("le 1er décembre 2026"),
            "{}",
            fr.text
        );
        assert!(fr.text.contains("Le parquet est poncé."));
        assert!(fr.text.contains("Pour ne plus les recevoir : https://p/u"));
        let en = compose(
            &reader("en"),
            "Le Café du Coin",
            &news,
            "https://p/en/projets/cafe-du-coin/",
            "https://p/u",
        );
        assert!(en.subject.starts_with("News from \"Le Café du Coin\""));
        assert!(en.text.contains("To stop them: https://p/u"));
    }
}
