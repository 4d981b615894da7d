//! Donors' data: offers and donors stay private, and an erasure forgets the
//! donor while the ledger and its totals stay.

use super::*;

/// 7. Offers are counted in the figures, never published; donors' emails and
///    names never appear in the snapshot.
pub async fn offers_and_donors_stay_private<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());

    // A named donor (who asked for their name to be shown) and an anonymous one.
    let named = NewPledge {
        display_name: Some("Camille Martin".to_string()),
        email: "camille.martin@exemple.fr".to_string(),
        donor: "donor-key-5f1c0e".to_string(),
        ..pledge("p-named", RESSOURCERIE, "25")
    };
    let anonymous = NewPledge {
        email: "anonyme.donateur@exemple.fr".to_string(),
        donor: "donor-key-9ab27d".to_string(),
        ..pledge("p-anonymous", RESSOURCERIE, "40")
    };
    for p in [&named, &anonymous] {
        suite.create(p).await;
        suite.pay(&format!("evt_paid_{}", p.id), &p.id).await;
    }

    let offer = |name: &str, contact: &str, message: &str| Offer {
        project: RESSOURCERIE.to_string(),
        need: Some(0),
        name: name.to_string(),
        contact: contact.to_string(),
        message: message.to_string(),
        created_at: now(),
    };
    suite
        .store
        .add_offer(offer(
            "Jean Dupont",
            "jean.dupont@exemple.net",
            "Je peux prêter une bétonnière",
        ))
        .await
        .unwrap();
    assert_eq!(suite.figures(RESSOURCERIE).await.offers, 1);
    suite
        .store
        .add_offer(offer(
            "Atelier Mécanique Sud",
            "06 12 34 56 78",
            "Deux journées de menuiserie offertes",
        ))
        .await
        .unwrap();
    let figures = suite.figures(RESSOURCERIE).await;
    assert_eq!(figures.offers, 2);
    assert_eq!((figures.raised, figures.backers), (d("65"), 2));

    // A project with only an offer appears too.
    let only = Offer {
        project: JARDIN.to_string(),
        need: None,
        ..offer(
            "Louise Bernard",
            "louise@exemple.org",
            "Des graines de tomates anciennes",
        )
    };
    suite.store.add_offer(only).await.unwrap();
    assert_eq!(suite.figures(JARDIN).await.offers, 1);

    let snapshot = suite.snapshot().await;
    assert_eq!(snapshot.projects[RESSOURCERIE].offers, 2);
    assert_eq!(snapshot.projects[JARDIN].offers, 1);
    assert_eq!(snapshot.projects[JARDIN].raised, Decimal::ZERO);
    let json = serde_json::to_string(&snapshot).unwrap();
    for private in [
        "Jean Dupont",
        "jean.dupont@exemple.net",
        "bétonnière",
        "Atelier Mécanique Sud",
        "06 12 34 56 78",
        "menuiserie",
        "Louise Bernard",
        "louise@exemple.org",
        "tomates",
        "Camille Martin",
        "camille.martin@exemple.fr",
        "anonyme.donateur@exemple.fr",
        "donor-key-5f1c0e",
        "donor-key-9ab27d",
        "@",
    ] {
        assert!(
            !json.contains(private),
            "the snapshot publishes {private:?}: {json}"
        );
    }
}

/// 19. A donor asks to be forgotten: their name, email and offers' text
///     leave the store (not a byte remains), while every amount, match,
///     figure and pool spending stays exactly as it was; a second erasure
///     finds nothing, and the anonymised pledges still refund correctly.
pub async fn erasure_forgets_the_donor_and_keeps_the_ledger<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let email = "Camille.Martin@example.org";
    let camille = |id: &str, project: &str, amount: &str| NewPledge {
        email: email.to_string(),
        donor: "donor:camille".to_string(),
        display_name: Some("Camille Martin".to_string()),
        // She had agreed to share her contact with the holders: the
        // statements' copies must go too.
        share_contact: true,
        news: false,
        message: None,
        ..pledge(id, project, amount)
    };
    let paid = [
        camille("e-1", CAFE, "40"),
        camille("e-2", CAFE, "15"),
        camille("e-3", JARDIN, "30"),
        pledge("e-4", CAFE, "20"),
    ];
    for (i, p) in paid.iter().enumerate() {
        suite.create(p).await;
        assert!(matches!(
            suite.pay(&format!("evt-e-{i}"), &p.id).await,
            Applied::Changed { .. }
        ));
    }
    // Still in checkout: erased too.
    suite.create(&camille("e-5", FOURNIL, "10")).await;
    for (name, contact, message) in [
        (
            "Camille Martin",
            "camille.martin@example.org, 06 12 34 56 78",
            "Je prête une perceuse",
        ),
        (
            "Dominique",
            "dominique@example.org",
            "Un après-midi de peinture",
        ),
    ] {
        suite
            .store
            .add_offer(Offer {
                project: CAFE.into(),
                need: Some(0),
                name: name.into(),
                contact: contact.into(),
                message: message.into(),
                created_at: now(),
            })
            .await
            .expect("offer");
    }
    let before = suite.snapshot().await;
    let ledgers = [
        suite.store.ledger_pledges(CAFE).await.unwrap(),
        suite.store.ledger_pledges(JARDIN).await.unwrap(),
    ];
    let pools = [HABITAT, REGION, DOUBLING];
    let mut spent = Vec::new();
    for pool in pools {
        spent.push(suite.spent(pool).await);
    }
    assert_eq!(before.projects[CAFE].backers, 2);
    let shared = |ledger: &ProjectLedger| {
        ledger
            .pledges
            .iter()
            .filter_map(|p| p.contact.as_ref().map(|c| c.email.to_lowercase()))
            .collect::<Vec<_>>()
    };
    let statement = suite.store.project_ledger(CAFE).await.expect("ledger");
    assert_eq!(shared(&statement), vec![email.to_lowercase(); 2]);

    let erased = suite
        .store
        .erase_donor("  CAMILLE.MARTIN@example.org ")
        .await
        .expect("erase");
    assert_eq!((erased.pledges, erased.offers), (4, 1));

    assert_eq!(suite.snapshot().await, before, "figures unchanged");
    assert_eq!(suite.store.ledger_pledges(CAFE).await.unwrap(), ledgers[0]);
    assert_eq!(
        suite.store.ledger_pledges(JARDIN).await.unwrap(),
        ledgers[1]
    );
    for (pool, spent) in pools.iter().zip(&spent) {
        assert_eq!(&suite.spent(pool).await, spent, "{pool}");
    }
    let after = suite.store.project_ledger(CAFE).await.expect("ledger");
    assert!(shared(&after).is_empty(), "the statements forget her too");
    assert_eq!(
        ProjectTotals::of(&after),
        ProjectTotals::of(&statement),
        "the statements' totals are unchanged"
    );
    let contact = suite.store.pledge_contact("e-1").await.unwrap().unwrap();
    assert_eq!((contact.email, contact.display_name), (None, None));
    assert_eq!((contact.project.as_str(), contact.amount), (CAFE, d("40")));
    let other = suite.store.pledge_contact("e-4").await.unwrap().unwrap();
    assert_eq!(other.email.as_deref(), Some("e-4@donors.example"));

    let dump = String::from_utf8_lossy(&suite.store.raw_dump().await).to_lowercase();
    assert!(
        dump.contains("e-4@donors.example") && dump.contains("dominique@example.org"),
        "the dump shows what is stored"
    );
    for gone in [
        "camille.martin@example.org",
        "camille martin",
        "perceuse",
        "06 12 34 56 78",
    ] {
        assert!(!dump.contains(gone), "{gone:?} is still in the store");
    }

    let again = suite.store.erase_donor(email).await.expect("erase again");
    assert_eq!(again.total(), 0);

    // The anonymised pledges are still the ledger: a refund takes one out.
    assert!(matches!(
        suite.refund("evt-e-refund", "e-2").await,
        Applied::Changed { .. }
    ));
    let cafe = suite.figures(CAFE).await;
    assert_eq!(cafe.raised, before.projects[CAFE].raised - d("15"));
    assert_eq!(cafe.backers, 2, "Camille still backs the café with e-1");
}

/// 29. Offers are in the project's ledger for its holder's statement,
///     oldest first, each with its own id; the holders' private contacts
///     are kept as set.
pub async fn offers_reach_the_ledger_and_contacts_are_kept<S: Backend>(db: impl Fn() -> S) {
    use pave_functions::contacts::Contacts;
    let suite = Suite::new(db());
    let store = suite.store.as_ref();
    let offer = |need: Option<usize>, name: &str, at: i64| Offer {
        project: RESSOURCERIE.to_string(),
        need,
        name: name.to_string(),
        contact: format!("{}@exemple.fr", name.to_lowercase()),
        message: format!("Message de {name}"),
        created_at: at,
    };
    let t = now();
    let second = offer(None, "Basile", t + 5);
    let first = offer(Some(1), "Ada", t);
    let a = store.add_offer(second.clone()).await.unwrap();
    let b = store.add_offer(first.clone()).await.unwrap();
    assert_ne!(a, b, "each offer its own id");
    let ledger = store.project_ledger(RESSOURCERIE).await.unwrap();
    assert_eq!(ledger.offers, [first, second]);
    assert!(store.project_ledger(VELO).await.unwrap().offers.is_empty());

    assert_eq!(store.contacts().await.unwrap(), Contacts::default());
    let contacts = Contacts {
        projects: [(
            RESSOURCERIE.to_string(),
            vec!["porteur@exemple.fr".to_string()],
        )]
        .into(),
        territories: [(
            "saint-etienne".to_string(),
            vec!["ville@exemple.fr".to_string()],
        )]
        .into(),
    };
    store.set_contacts(&contacts).await.unwrap();
    assert_eq!(store.contacts().await.unwrap(), contacts);
    let fewer = Contacts {
        territories: contacts.territories.clone(),
        ..Contacts::default()
    };
    store.set_contacts(&fewer).await.unwrap();
    assert_eq!(store.contacts().await.unwrap(), fewer, "replaced whole");
}

/// 30. News go to the backers who asked, one per donor, until they stop;
///     a news item is marked announced once; the mail secret is made once.
pub async fn news_reach_the_readers_who_asked_until_they_stop<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let store = suite.store.as_ref();
    let reader = |id: &str, donor: &str, news: bool| NewPledge {
        donor: donor.to_string(),
        email: format!("{donor}@exemple.fr"),
        news,
        ..pledge(id, RESSOURCERIE, "10")
    };
    // Ada asked twice (one reader), Basile once; Chloé did not ask; Dan
    // asked but never paid.
    for p in [
        reader("p-ada-1", "ada", true),
        reader("p-ada-2", "ada", true),
        reader("p-basile", "basile", true),
        reader("p-chloe", "chloe", false),
    ] {
        suite.create(&p).await;
        suite.pay(&format!("evt_{}", p.id), &p.id).await;
    }
    suite.create(&reader("p-dan", "dan", true)).await;
    let mut emails: Vec<String> = store
        .news_readers(RESSOURCERIE)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.email)
        .collect();
    emails.sort();
    assert_eq!(emails, ["ada@exemple.fr", "basile@exemple.fr"]);

    // Ada stops, from her first pledge's link: both her pledges stop.
    assert_eq!(
        store.stop_news("p-ada-1").await.unwrap().as_deref(),
        Some(RESSOURCERIE)
    );
    let left: Vec<String> = store
        .news_readers(RESSOURCERIE)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.email)
        .collect();
    assert_eq!(left, ["basile@exemple.fr"]);
    assert_eq!(store.stop_news("p-unknown").await.unwrap(), None);

    assert!(
        !store
            .announced(RESSOURCERIE, "2026-12-01-travaux")
            .await
            .unwrap()
    );
    store
        .mark_announced(RESSOURCERIE, "2026-12-01-travaux", now())
        .await
        .unwrap();
    store
        .mark_announced(RESSOURCERIE, "2026-12-01-travaux", now())
        .await
        .unwrap();
    assert!(
        store
            .announced(RESSOURCERIE, "2026-12-01-travaux")
            .await
            .unwrap()
    );
    assert!(!store.announced(VELO, "2026-12-01-travaux").await.unwrap());

    let secret = store.mail_secret().await.unwrap();
    assert_eq!(secret.len(), 32);
    assert_eq!(store.mail_secret().await.unwrap(), secret, "made once");
}

/// 31. The wall of backers: paid pledges only, newest first, paginated,
///     with the name each donor chose; an erasure takes the name off.
pub async fn the_wall_shows_paid_pledges_newest_first_by_chosen_name<S: Backend>(
    db: impl Fn() -> S,
) {
    let suite = Suite::new(db());
    let store = suite.store.as_ref();
    let t = now();
    for (i, name) in [Some("Ada"), None, Some("Basile")].into_iter().enumerate() {
        let p = NewPledge {
            display_name: name.map(str::to_string),
            message: (i == 2).then(|| "Bravo à toute l'équipe !".to_string()),
            email: format!("mur{i}@exemple.fr"),
            donor: format!("mur-{i}"),
            ..pledge(&format!("p-mur-{i}"), RESSOURCERIE, "10")
        };
        suite.create(&p).await;
        suite
            .pay_as(&format!("evt_mur_{i}"), &p.id, 1000, "eur", t + i as i64)
            .await;
    }
    // A pledge never paid is not on the wall.
    suite
        .create(&pledge("p-mur-pending", RESSOURCERIE, "10"))
        .await;
    let (page, total) = store.wall(RESSOURCERIE, 0, 2).await.unwrap();
    assert_eq!(total, 3);
    let names: Vec<Option<&str>> = page.iter().map(|e| e.display_name.as_deref()).collect();
    assert_eq!(names, [Some("Basile"), None]);
    assert_eq!(page[0].paid_at, t + 2);
    assert_eq!(page[0].message.as_deref(), Some("Bravo à toute l'équipe !"));
    assert_eq!(page[1].message, None);
    let (rest, _) = store.wall(RESSOURCERIE, 2, 2).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].display_name.as_deref(), Some("Ada"));
    store.erase_donor("mur2@exemple.fr").await.unwrap();
    let (page, total) = store.wall(RESSOURCERIE, 0, 10).await.unwrap();
    assert_eq!(total, 3, "the pledge stays, anonymous");
    assert_eq!((&page[0].display_name, &page[0].message), (&None, &None));
}
