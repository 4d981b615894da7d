//! The outbox: an email is enqueued once per key, claimed by one drainer
//! at a time, sent again only when its claim lapsed, retried after its
//! backoff, given up for good, and dropped by an erasure.

use super::*;
use pave_functions::mail::outbox::{Claimed, Outgoing, Settle};

fn mail(key: &str, to: &str) -> Outgoing {
    Outgoing {
        key: key.to_string(),
        to: to.to_string(),
        subject: format!("Sujet {key}"),
        text: format!("Bonjour,\n{key}\n"),
        unsubscribe: (key.starts_with("news/")).then(|| format!("https://pave.example/{key}")),
    }
}

fn keys(claimed: &[Claimed]) -> Vec<(&str, u32)> {
    claimed
        .iter()
        .map(|c| (c.mail.key.as_str(), c.attempt))
        .collect()
}

/// 28. One email per key, one drainer per email, whatever happens.
pub async fn the_outbox_sends_each_email_once<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let store = suite.store.as_ref();
    let t = now();

    // Enqueued once, however often it is enqueued.
    let a = mail("news/cafe/ouverture/d1", "camille@exemple.fr");
    assert!(store.enqueue_mail(a.clone()).await.unwrap());
    assert!(!store.enqueue_mail(a.clone()).await.unwrap());

    // Claimed whole, by one claimant while its lease holds.
    let first = store.claim_mail(t, 60, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!((&first[0].mail, first[0].attempt), (&a, 1));
    assert!((first[0].created_at - t).abs() <= 5, "{first:?}");
    assert!(store.claim_mail(t + 59, 60, 10).await.unwrap().is_empty());
    // The claimant died: after the lease, another claims it.
    let second = store.claim_mail(t + 61, 60, 10).await.unwrap();
    assert_eq!(keys(&second), [(a.key.as_str(), 2)]);
    // The first claimant's late word changes nothing.
    store
        .settle_mail(&a.key, 1, Settle::Sent, t + 62)
        .await
        .unwrap();
    // The second's failure: retried after its backoff, not before.
    store
        .settle_mail(
            &a.key,
            2,
            Settle::Retry {
                at: t + 300,
                error: "421 busy".into(),
            },
            t + 62,
        )
        .await
        .unwrap();
    assert!(store.claim_mail(t + 299, 60, 10).await.unwrap().is_empty());
    let third = store.claim_mail(t + 300, 60, 10).await.unwrap();
    assert_eq!(keys(&third), [(a.key.as_str(), 3)]);
    assert_eq!(third[0].mail, a, "the text and headers are kept until sent");
    store
        .settle_mail(&a.key, 3, Settle::Sent, t + 301)
        .await
        .unwrap();
    // Sent: never claimed again, never enqueued again.
    assert!(
        store
            .claim_mail(t + 10_000, 60, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!store.enqueue_mail(a.clone()).await.unwrap());

    // Given up: kept out of the drain, and not enqueued again.
    let b = mail("pledge/p-b/paid", "b@exemple.fr");
    assert!(store.enqueue_mail(b.clone()).await.unwrap());
    let claimed = store.claim_mail(now(), 60, 10).await.unwrap();
    assert_eq!(keys(&claimed), [(b.key.as_str(), 1)]);
    store
        .settle_mail(
            &b.key,
            1,
            Settle::GiveUp {
                error: "550 no such user".into(),
            },
            now(),
        )
        .await
        .unwrap();
    assert!(
        store
            .claim_mail(now() + 100_000, 60, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!store.enqueue_mail(b).await.unwrap());

    // Drainers racing: each email goes to exactly one of them.
    let t = now() + 200_000;
    for i in 0..24 {
        let m = mail(&format!("pledge/p-{i:02}/paid"), "race@exemple.fr");
        assert!(store.enqueue_mail(m).await.unwrap());
    }
    let mut racers = Vec::new();
    for _ in 0..4 {
        let store = suite.store.clone();
        racers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store.claim_mail(t, 60, 5).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|c| c.mail.key));
            }
        }));
    }
    let mut all = Vec::new();
    for racer in racers {
        all.extend(racer.await.unwrap());
    }
    all.sort();
    let expected: Vec<String> = (0..24).map(|i| format!("pledge/p-{i:02}/paid")).collect();
    assert_eq!(all, expected, "each email claimed once");

    // An erasure drops what is still unsent to the donor, not the others.
    let zoe = mail("pledge/p-zoe/paid", "Zoe.Durand@exemple.fr");
    let other = mail("pledge/p-other/paid", "other@exemple.fr");
    assert!(store.enqueue_mail(zoe.clone()).await.unwrap());
    assert!(store.enqueue_mail(other.clone()).await.unwrap());
    // An offer told to a holder names the donor in its text.
    let told = Outgoing {
        text: "Contact : zoe.durand@exemple.fr".into(),
        ..mail("offer/x/o1/0", "holder@exemple.fr")
    };
    assert!(store.enqueue_mail(told).await.unwrap());
    let erased = store.erase_donor(" zoe.durand@EXEMPLE.fr ").await.unwrap();
    assert_eq!(erased.emails, 2);
    let left = store.claim_mail(t, 60, 10).await.unwrap();
    assert_eq!(keys(&left), [(other.key.as_str(), 1)]);
    assert!(
        !store.enqueue_mail(zoe).await.unwrap(),
        "never enqueued again"
    );
}
