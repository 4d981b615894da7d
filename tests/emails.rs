//! The donors' emails, end to end: the API's real webhook path (signature
//! verified, applied by the store, then the email) and the campaign close,
//! delivered over SMTP to a local sink (`scripts/smtp_sink.py`, aiosmtpd).
//! The payments go through the Stripe test double.

mod common;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use common::{SmtpSink, http};
use pave_functions::api::{ApiConfig, AppState, router};
use pave_functions::catalog::Catalog;
use pave_functions::close::{self, RefundPolicy};
use pave_functions::mail::{Mailer, outbox};
use pave_functions::store::Store;
use pave_functions::store::sqlite::SqliteStore;
use pave_functions::stripe::client::StripePayments;
use pave_functions::stripe::double::{StripeDouble, WEBHOOK_SECRET};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

/// Four live projects around today: a collective's with rewards, an
/// eligible association's, a company's, and an all-or-nothing one ending in
/// five days with a goal nobody will reach.
fn catalog() -> Catalog {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .date();
    let start = today.checked_sub(jiff::Span::new().days(10)).unwrap();
    let end = today.checked_add(jiff::Span::new().days(20)).unwrap();
    let soon = today.checked_add(jiff::Span::new().days(5)).unwrap();
    let project = |title: &str, end: jiff::civil::Date, holder: &str, rewards: &str| {
        format!(
            r#"{{ "title": "{title}", "territory": "saint-etienne", "themes": [], "status": "live",
              "goal": "6000", "cap": "7500", "funding": "all_or_nothing",
              "start": "{start}", "end": "{end}", "timezone": "Europe/Paris",
              "rewards": {rewards}, "pools": [], "holder": {holder} }}"#
        )
    };
    let json = format!(
        r#"{{ "version": 1, "currency": "EUR", "pledge_min": "1", "pledge_max": "500",
          "projects": {{
            "cafe-du-coin": {},
            "bibliotheque": {},
            "epicerie": {},
            "four-a-pain": {}
          }},
          "pools": {{}} }}"#,
        project(
            "Le Café du Coin",
            end,
            r#"{"name": "Alexis et Clément", "kind": "collective", "tax_receipt": false}"#,
            r#"[{"index": 0, "min": "5", "title": "Un café offert", "limit": null},
                {"index": 1, "min": "20", "title": "Un tote bag brodé", "limit": null}]"#
        ),
        project(
            "La bibliothèque en triporteur",
            end,
            r#"{"name": "Lire à Tarentaize", "kind": "association", "tax_receipt": true}"#,
            "[]"
        ),
        project(
            "L'Épicerie des Volcans",
            end,
            r#"{"name": "Épicerie des Volcans SCIC", "kind": "company", "tax_receipt": false}"#,
            "[]"
        ),
        project(
            "Le Four à pain",
            soon,
            r#"{"name": "Les Amis du Four", "kind": "association", "tax_receipt": true}"#,
            "[]"
        ),
    );
    Catalog::from_json(json.as_bytes()).expect("catalog")
}

struct World {
    state: Arc<AppState<SqliteStore>>,
    addr: String,
    stripe: StripeDouble,
    sink: SmtpSink,
    _db: tempfile::TempDir,
}

async fn world() -> World {
    world_sending(true).await
}

/// The world, its drainer sending over SMTP to the sink, or (`smtp`
/// false) with the log-only mailer of a server without `SMTP_URL`.
async fn world_sending(smtp: bool) -> World {
    let sink = SmtpSink::start();
    let stripe = StripeDouble::start().await.expect("stripe double");
    let db = tempfile::tempdir().unwrap();
    let url = sink.url();
    let mailer = Mailer::from_lookup(|name| match name {
        "SMTP_URL" if smtp => Some(url.clone()),
        "MAIL_FROM" => Some("Pavé <dons@pave.example>".into()),
        _ => None,
    })
    .expect("mailer");
    let state = Arc::new(AppState {
        store: SqliteStore::open(&db.path().join("pave.sqlite")).unwrap(),
        catalog: RwLock::new(Arc::new(catalog())),
        frames: Default::default(),
        payments: Arc::new(StripePayments::new(&stripe.config()).expect("client")),
        config: ApiConfig {
            site_url: "https://pave.example".into(),
            allowed_origins: vec![],
            webhook_secret: WEBHOOK_SECRET.into(),
            api_url: None,
        },
        changes: None,
        local: None,
        outbox: Default::default(),
        limits: pave_functions::api::limits::Limits::none(),
        fresh: Default::default(),
        clock: Default::default(),
    });
    // The server's drainer: every email goes through the store's outbox.
    tokio::spawn(outbox::run_drainer(
        state.store.clone(),
        mailer,
        outbox::Policy::default(),
        state.outbox.clone(),
        Default::default(),
    ));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = router(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    World {
        state,
        addr,
        stripe,
        sink,
        _db: db,
    }
}

impl World {
    /// Posts a pledge (JSON) to the API; returns its id and checkout session.
    async fn pledge(&self, body: Value) -> (String, String) {
        let addr = self.addr.clone();
        let (status, head, answer) = tokio::task::spawn_blocking(move || {
            http(
                &addr,
                "POST",
                "/api/pledges",
                &[("Content-Type", "application/json")],
                body.to_string().as_bytes(),
            )
        })
        .await
        .unwrap();
        assert_eq!(status, 201, "{head}\n{}", String::from_utf8_lossy(&answer));
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        let pledge_id = answer["pledge_id"].as_str().unwrap().to_string();
        // The double's checkout page: `…/pay/<session id>`.
        let session = answer["checkout_url"]
            .as_str()
            .and_then(|url| url.rsplit('/').next())
            .expect("a checkout session")
            .to_string();
        (pledge_id, session)
    }

    /// Stripe's `checkout.session.completed` for `session`, delivered
    /// `times` times to the webhook over HTTP; the outcomes.
    async fn pay(&self, session: &str, times: usize) -> Vec<String> {
        let event = self
            .stripe
            .complete_checkout(session, jiff::Timestamp::now().as_second())
            .expect("known session");
        let mut outcomes = Vec::new();
        for _ in 0..times {
            let (addr, event) = (self.addr.clone(), event.clone());
            let (status, _, body) = tokio::task::spawn_blocking(move || {
                http(
                    &addr,
                    "POST",
                    "/api/webhooks/stripe",
                    &[
                        ("Content-Type", "application/json"),
                        ("Stripe-Signature", &event.header),
                    ],
                    event.body.as_bytes(),
                )
            })
            .await
            .unwrap();
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            let body: Value = serde_json::from_slice(&body).unwrap();
            outcomes.push(body["outcome"].as_str().unwrap_or("").to_string());
        }
        outcomes
    }
}

fn text(message: &Value) -> &str {
    message["text"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_pledge_is_confirmed_in_french_once_even_when_the_webhook_repeats() {
    let w = world().await;
    let (pledge, session) = w
        .pledge(serde_json::json!({
            "project": "cafe-du-coin", "amount": "25,50", "reward": "1",
            "name": "Camille", "email": "camille@example.org", "lang": "fr"
        }))
        .await;
    // Stripe delivers the event twice: one payment, one email.
    assert_eq!(w.pay(&session, 2).await, ["applied", "duplicate"]);
    w.sink.wait_for(1, WAIT);
    // A little longer: a second email would have arrived by now.
    std::thread::sleep(Duration::from_millis(300));
    let messages = w.sink.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let m = &messages[0];
    assert_eq!(m["rcpt_tos"], serde_json::json!(["camille@example.org"]));
    assert_eq!(m["mail_from"], "dons@pave.example");
    assert!(
        m["subject"]
            .as_str()
            .unwrap()
            .contains("« Le Café du Coin » (25,50\u{202F}€)"),
        "{m}"
    );
    let body = text(m);
    assert!(body.contains("Bonjour Camille,"), "{body}");
    assert!(body.contains("Votre paiement de 25,50\u{202F}€"), "{body}");
    assert!(body.contains("« Le Café du Coin »"));
    assert!(body.contains("Contrepartie choisie : Un tote bag brodé."));
    assert!(body.contains(&pledge));
    // A collective: no tax receipt.
    assert!(!body.contains("Reçu fiscal :"), "{body}");
    assert!(m["content_type"].as_str().unwrap().contains("utf-8"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eligible_association_gets_the_tax_receipt_paragraph_and_a_company_does_not() {
    let w = world().await;
    let (_, association) = w
        .pledge(serde_json::json!({
            "project": "bibliotheque", "amount": "50", "email": "ines@example.org", "lang": "fr"
        }))
        .await;
    let (_, company) = w
        .pledge(serde_json::json!({
            "project": "epicerie", "amount": "50", "email": "jules@example.org", "lang": "fr"
        }))
        .await;
    assert_eq!(w.pay(&association, 1).await, ["applied"]);
    assert_eq!(w.pay(&company, 1).await, ["applied"]);
    let messages = w.sink.wait_for(2, WAIT);
    let to = |m: &Value| m["rcpt_tos"][0].as_str().unwrap().to_string();
    let ines = messages
        .iter()
        .find(|m| to(m) == "ines@example.org")
        .unwrap();
    let body = text(ines);
    assert!(
        body.contains("Reçu fiscal : Lire à Tarentaize est une association habilitée"),
        "{body}"
    );
    assert!(body.contains("66\u{202F}% de votre don est déductible"));
    assert!(body.contains("20\u{202F}% de votre revenu imposable"));
    assert!(
        body.contains("jusqu'à 33\u{202F}€ de réduction d'impôt"),
        "{body}"
    );
    assert!(body.contains("adresse postale"));
    let jules = messages
        .iter()
        .find(|m| to(m) == "jules@example.org")
        .unwrap();
    assert!(!text(jules).contains("Reçu fiscal :"), "{}", text(jules));
    assert!(text(jules).contains("ne donne pas droit à un reçu fiscal"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_english_pledge_gets_an_english_email() {
    let w = world().await;
    let (_, session) = w
        .pledge(serde_json::json!({
            "project": "bibliotheque", "amount": "25.50", "email": "ann@example.org", "lang": "en"
        }))
        .await;
    assert_eq!(w.pay(&session, 1).await, ["applied"]);
    let messages = w.sink.wait_for(1, WAIT);
    let m = &messages[0];
    assert_eq!(
        m["subject"],
        "Thank you for supporting \"La bibliothèque en triporteur\" (€25.50)"
    );
    let body = text(m);
    assert!(body.starts_with("Hello,"), "{body}");
    assert!(body.contains("Your payment of €25.50"));
    assert!(body.contains("French tax receipt (reçu fiscal)"));
    assert!(body.contains("up to €16.83 off your tax"));
    assert!(!body.contains("Merci"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_all_or_nothing_close_refunds_and_tells_each_donor_why() {
    let w = world().await;
    let mut sessions = Vec::new();
    for (email, lang) in [("a@example.org", "fr"), ("b@example.org", "en")] {
        let (_, session) = w
            .pledge(serde_json::json!({
                "project": "four-a-pain", "amount": "40", "email": email, "lang": lang
            }))
            .await;
        sessions.push(session);
    }
    for session in &sessions {
        assert_eq!(w.pay(session, 1).await, ["applied"]);
    }
    assert_eq!(w.sink.wait_for(2, WAIT).len(), 2);
    // Ten days later the campaign is over, 80 € of 6 000 €: not funded.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 10);
    let catalog = w.state.catalog();
    let report = close::run(
        &w.state.store,
        w.state.payments.as_ref(),
        &catalog,
        later,
        RefundPolicy::default(),
    )
    .await;
    w.state.outbox.ring();
    assert!(!report.failed(), "{report:?}");
    assert_eq!(report.projects.len(), 1);
    assert_eq!(report.projects[0].refunds_issued, 2);
    let messages = w.sink.wait_for(4, WAIT);
    let refunds: Vec<&Value> = messages[2..].iter().collect();
    let fr = refunds
        .iter()
        .find(|m| m["rcpt_tos"][0] == "a@example.org")
        .unwrap();
    assert!(
        fr["subject"]
            .as_str()
            .unwrap()
            .starts_with("Remboursement de 40\u{202F}€")
    );
    assert!(
        text(fr).contains("sans atteindre son objectif"),
        "{}",
        text(fr)
    );
    assert!(text(fr).contains("« Le Four à pain »"));
    let en = refunds
        .iter()
        .find(|m| m["rcpt_tos"][0] == "b@example.org")
        .unwrap();
    assert!(
        text(en).contains("without reaching its goal"),
        "{}",
        text(en)
    );
    // Running the close again refunds nothing more and sends nothing more.
    let again = close::run(
        &w.state.store,
        w.state.payments.as_ref(),
        &catalog,
        later,
        RefundPolicy::default(),
    )
    .await;
    w.state.outbox.ring();
    assert!(again.projects.is_empty(), "{again:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(w.sink.messages().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_after_the_close_is_refunded_and_the_donor_told_why() {
    let w = world().await;
    let (_, session) = w
        .pledge(serde_json::json!({
            "project": "four-a-pain", "amount": "15", "email": "late@example.org", "lang": "fr"
        }))
        .await;
    // The close starts before the payment arrives (a checkout still open).
    w.state
        .store
        .begin_close("four-a-pain", jiff::Timestamp::now().as_second())
        .await
        .unwrap();
    assert_eq!(w.pay(&session, 1).await, ["refunded"]);
    let messages = w.sink.wait_for(1, WAIT);
    let m = &messages[0];
    assert_eq!(m["rcpt_tos"][0], "late@example.org");
    assert!(
        text(m).contains("après la fin de la campagne"),
        "{}",
        text(m)
    );
    assert!(!text(m).contains("Merci !"), "no payment confirmation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_the_payment_goes_through_and_nothing_is_sent() {
    let w = world_sending(false).await;
    let (pledge, session) = w
        .pledge(serde_json::json!({
            "project": "cafe-du-coin", "amount": "10", "email": "x@example.org", "lang": "fr"
        }))
        .await;
    assert_eq!(w.pay(&session, 1).await, ["applied"]);
    let state = &w.state;
    let contact = state.store.pledge_contact(&pledge).await.unwrap().unwrap();
    assert_eq!(contact.email.as_deref(), Some("x@example.org"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(w.sink.messages().is_empty());
    // Not lost: the confirmation waits in the outbox for a server with SMTP.
    let waiting = state
        .store
        .claim_mail(jiff::Timestamp::now().as_second(), 60, 10)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0].mail.to, "x@example.org");
    assert_eq!(waiting[0].mail.key, format!("pledge/{pledge}/paid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pave_erase_anonymises_the_donor_and_says_how_many_records() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pave.sqlite");
    {
        let store = SqliteStore::open(&db).unwrap();
        let now = jiff::Timestamp::now().as_second();
        store
            .create_pledge(
                pave_functions::store::NewPledge {
                    id: "pl_erase".into(),
                    project: "cafe-du-coin".into(),
                    amount: "12.50".parse().unwrap(),
                    reward: None,
                    display_name: Some("Zoé Durand".into()),
                    email: "zoe.durand@example.org".into(),
                    donor: "donor:zoe".into(),
                    lang: "fr".into(),
                    share_contact: true,
                    news: false,
                    message: None,
                    created_at: now,
                    expires_at: now + 3600,
                    client: None,
                },
                None,
            )
            .await
            .unwrap();
        store
            .apply_paid(
                &catalog(),
                "evt_erase",
                "pl_erase",
                &pave_functions::payment::Payment {
                    intent: Some("pi_erase"),
                    amount_cents: 1_250,
                    currency: "eur",
                },
                now,
            )
            .await
            .unwrap();
    }
    let run = |db: std::path::PathBuf| {
        tokio::task::spawn_blocking(move || {
            common::pave(
                &common::repo_root(),
                &[
                    "erase",
                    "--email",
                    "Zoe.Durand@example.org",
                    "--db",
                    db.to_str().unwrap(),
                ],
                Duration::from_secs(60),
            )
        })
    };
    let out = run(db.clone()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 record(s) anonymised"), "{stdout}");
    let bytes = std::fs::read(&db).unwrap();
    let text = String::from_utf8_lossy(&bytes).to_lowercase();
    assert!(!text.contains("zoe.durand@example.org") && !text.contains("zoé durand"));
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(
        store.figures("cafe-du-coin").await.unwrap().raised,
        "12.50".parse().unwrap()
    );
    drop(store);
    let again = run(db).await.unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 record(s) anonymised"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pave_contacts_checks_the_private_file_then_loads_it_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pave.sqlite");
    drop(SqliteStore::open(&db).unwrap());
    let run = |file: &str| {
        common::pave(
            dir.path(),
            &["contacts", file, "--db", db.to_str().unwrap()],
            Duration::from_secs(30),
        )
    };
    // A bad address is named where it is; nothing is loaded.
    std::fs::write(
        dir.path().join("bad.yaml"),
        "projects:\n  cafe-du-coin: [alexis@cafe.example, alexis at cafe]\n",
    )
    .unwrap();
    let out = run("bad.yaml");
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(
            "bad.yaml: projects.cafe-du-coin[1]: \"alexis at cafe\" is not an email address"
        ),
        "{said}"
    );
    // A misspelt key too, with its line.
    std::fs::write(
        dir.path().join("typo.yaml"),
        "project:\n  cafe-du-coin: [a@b.example]\n",
    )
    .unwrap();
    let said = String::from_utf8_lossy(&run("typo.yaml").stderr).into_owned();
    assert!(
        said.contains("typo.yaml") && said.contains("project"),
        "{said}"
    );
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.contacts().await.unwrap(), Default::default());

    std::fs::write(
        dir.path().join("contacts.yaml"),
        "projects:\n  cafe-du-coin: [alexis@cafe.example]\nterritories:\n  saint-etienne: [ville@se.example, elus@se.example]\n",
    )
    .unwrap();
    let out = run("contacts.yaml");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("3 address(es) for 1 project(s) and 1 territory(ies) loaded")
    );
    let contacts = store.contacts().await.unwrap();
    assert_eq!(
        contacts.recipients("cafe-du-coin", "saint-etienne"),
        ["alexis@cafe.example", "ville@se.example", "elus@se.example"]
    );
    // The example shipped for operators loads as it is.
    let example = common::repo_root().join("deploy/server/contacts.example.yaml");
    let out = run(example.to_str().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
