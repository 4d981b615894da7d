//! No one hoards a reward's places: what one donor or one client may hold
//! with open checkouts, on any store.

use super::*;

/// 26. No donor, and no client, holds more than `MAX_PLACES_HELD` places of
///     a project's limited rewards with checkouts open; a place paid, or a
///     checkout expired, is no longer held.
pub async fn no_one_holds_more_than_their_share_of_places<S: Backend>(db: impl Fn() -> S) {
    use pave_functions::store::MAX_PLACES_HELD;
    let suite = Suite::new(db());
    let held = |id: &str, reward: usize, donor: &str, client: &str| NewPledge {
        reward: Some(reward),
        donor: donor.to_string(),
        client: Some(client.to_string()),
        ..pledge(id, CAFE, "20")
    };
    // One donor, from several clients, over two limited rewards.
    for i in 0..MAX_PLACES_HELD {
        let reward = if i == 0 { 1 } else { 2 };
        suite
            .try_create(held(
                &format!("p-d{i}"),
                reward,
                "donor:hoard",
                &format!("c{i}"),
            ))
            .await
            .expect("within the share");
    }
    assert!(matches!(
        suite.try_create(held("p-d9", 2, "donor:hoard", "c9")).await,
        Err(StoreError::TooManyPlacesHeld)
    ));
    // An unlimited reward, or none, holds no place.
    suite
        .try_create(NewPledge {
            reward: Some(0),
            donor: "donor:hoard".into(),
            ..pledge("p-free", CAFE, "20")
        })
        .await
        .expect("an unlimited reward");
    // One client, under several donors' names.
    for i in 0..MAX_PLACES_HELD {
        suite
            .try_create(held(
                &format!("p-c{i}"),
                2,
                &format!("donor:c{i}"),
                "client:x",
            ))
            .await
            .expect("within the share");
    }
    assert!(matches!(
        suite
            .try_create(held("p-c9", 2, "donor:c9", "client:x"))
            .await,
        Err(StoreError::TooManyPlacesHeld)
    ));
    // Paying one frees a share (its place is taken, no longer held).
    assert!(matches!(
        suite.pay("evt_paid_c0", "p-c0").await,
        Applied::Changed { .. }
    ));
    suite
        .try_create(held("p-c10", 2, "donor:c10", "client:x"))
        .await
        .expect("a share freed by a payment");
    // So does an expiry.
    suite.expire("evt_expired_d1", "p-d1").await;
    suite
        .try_create(held("p-d10", 2, "donor:hoard", "c10"))
        .await
        .expect("a share freed by an expiry");
    // Another project is another share.
    suite
        .try_create(NewPledge {
            reward: Some(0),
            donor: "donor:hoard".into(),
            ..pledge("p-atelier", ATELIER, "10")
        })
        .await
        .expect("another project");
}

/// 27. Time is the store's input: a reservation counts among a reward's
///     places while the store's clock is before its checkout's expiry, and
///     no longer once the clock passes it, whatever the system's time.
pub async fn a_reservation_lapses_on_the_stores_clock<S: Backend>(db: impl Fn() -> S) {
    let at = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(1_000));
    let read = at.clone();
    let clock = Clock::from_fn(move || read.load(std::sync::atomic::Ordering::SeqCst));
    let suite = Suite::new(db().with_clock(clock));
    suite
        .try_create(NewPledge {
            reward: Some(1),
            created_at: 1_000,
            expires_at: 1_000 + CHECKOUT_TTL,
            ..pledge("p-lapse", CAFE, "20")
        })
        .await
        .expect("a place is free");
    assert_eq!(suite.figures(CAFE).await.rewards.get(&1), Some(&1));
    at.store(
        1_000 + CHECKOUT_TTL - 1,
        std::sync::atomic::Ordering::SeqCst,
    );
    assert_eq!(
        suite.snapshot().await.projects[CAFE].rewards.get(&1),
        Some(&1)
    );
    at.store(1_000 + CHECKOUT_TTL, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        suite
            .figures(CAFE)
            .await
            .rewards
            .get(&1)
            .copied()
            .unwrap_or(0),
        0,
        "the checkout expired on the store's clock"
    );
    assert_eq!(
        suite.snapshot().await.projects[CAFE]
            .rewards
            .get(&1)
            .copied()
            .unwrap_or(0),
        0
    );
}
