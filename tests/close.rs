//! `pave close` end to end, on the embedded store: the campaign close a
//! self-hosted cron runs (without a Stripe key, refunds go through the local
//! test payments). The close itself is tested on every backend by the store
//! suite (`functions/tests/store_suite.rs`).

use std::path::Path;
use std::process::Command;

use pave_functions::catalog::Catalog;
use pave_functions::store::sqlite::SqliteStore;
use pave_functions::store::{Applied, NewPledge, PledgeStatus, Store};

const CATALOG: &str = r#"{
  "version": 1, "currency": "EUR", "pledge_min": "1", "pledge_max": "500",
  "projects": {
    "four-a-pain": {
      "title": "Le Four à pain", "territory": "saint-etienne", "themes": ["alimentation"],
      "status": "live", "goal": "1000", "cap": "2000", "funding": "all_or_nothing",
      "start": "2026-01-01", "end": "2026-03-31", "timezone": "Europe/Paris",
      "rewards": [], "pools": [], "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    },
    "velo-cargo": {
      "title": "Le Vélo-cargo", "territory": "le-puy", "themes": ["mobilite"],
      "status": "live", "goal": "100", "cap": "1500", "funding": "all_or_nothing",
      "start": "2026-01-01", "end": "2026-04-30", "timezone": "Europe/Paris",
      "rewards": [], "pools": [], "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    }
  },
  "pools": {}
}"#;

fn paid_at() -> i64 {
    "2026-03-15T12:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_second()
}

async fn pay(
    store: &SqliteStore,
    catalog: &Catalog,
    id: &str,
    project: &str,
    intent: Option<&str>,
) {
    let pledge = NewPledge {
        id: id.into(),
        project: project.into(),
        amount: "120".parse().unwrap(),
        reward: None,
        display_name: None,
        email: format!("{id}@donors.example"),
        donor: format!("donor:{id}"),
        lang: "fr".into(),
        share_contact: false,
        news: false,
        message: None,
        created_at: paid_at() - 60,
        expires_at: paid_at() + 3600,
        client: None,
    };
    store.create_pledge(pledge, None).await.unwrap();
    let applied = store
        .apply_paid(
            catalog,
            &format!("evt_{id}"),
            id,
            &pave_functions::payment::Payment {
                intent,
                amount_cents: 12_000,
                currency: "eur",
            },
            paid_at(),
        )
        .await
        .unwrap();
    assert!(matches!(applied, Applied::Changed { .. }), "{applied:?}");
}

fn pave_close(dir: &Path, now: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pave"))
        .args(["close", "--db"])
        .arg(dir.join("pave.sqlite"))
        .arg("--catalog")
        .arg(dir.join("catalog.json"))
        .args(["--now", now])
        .env_remove("STRIPE_SECRET_KEY")
        .output()
        .expect("pave runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pave_close_refunds_a_missed_goal_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("catalog.json"), CATALOG).unwrap();
    let catalog = Catalog::from_json(CATALOG.as_bytes()).unwrap();
    let store = SqliteStore::open(&dir.path().join("pave.sqlite")).unwrap();
    pay(&store, &catalog, "p-1", "four-a-pain", Some("pi_1")).await;
    pay(&store, &catalog, "p-2", "four-a-pain", Some("pi_2")).await;
    // A payment Stripe never told us the PaymentIntent of: cannot be refunded.
    pay(&store, &catalog, "p-3", "velo-cargo", None).await;

    // 1 April: the bakery's campaign is over, the bike's runs to 30 April.
    let (status, stdout) = pave_close(dir.path(), "2026-04-01");
    assert_eq!(status, 0, "{stdout}");
    assert!(
        stdout.contains("four-a-pain: not funded, closed, 2 refund(s) issued, 0 failed"),
        "{stdout}"
    );
    assert!(!stdout.contains("velo-cargo"), "{stdout}");
    let figures = store.figures("four-a-pain").await.unwrap();
    assert!(figures.refunded);
    // The snapshot the site is built with, next to the store.
    let snapshot = std::fs::read_to_string(dir.path().join("pave.progress.json")).unwrap();
    assert!(
        snapshot.contains(r#""outcome": "not_funded""#),
        "{snapshot}"
    );
    assert!(figures.raised.is_zero());

    // Again: nothing to do.
    let (status, stdout) = pave_close(dir.path(), "2026-04-02T08:00:00Z");
    assert_eq!(status, 0, "{stdout}");
    assert!(stdout.contains("0 project(s) closed"), "{stdout}");

    // May: the bike reached its goal; funded, no refund.
    let (status, stdout) = pave_close(dir.path(), "2026-05-01");
    assert_eq!(status, 0, "{stdout}");
    assert!(
        stdout.contains("velo-cargo: funded, closed, 0 refund(s) issued"),
        "{stdout}"
    );

    // A bad `--now` is a usage error.
    let (status, _) = pave_close(dir.path(), "yesterday");
    assert_eq!(status, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_that_fails_exits_with_status_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("catalog.json"), CATALOG).unwrap();
    let catalog = Catalog::from_json(CATALOG.as_bytes()).unwrap();
    let store = SqliteStore::open(&dir.path().join("pave.sqlite")).unwrap();
    pay(&store, &catalog, "p-1", "four-a-pain", None).await;

    let (status, stdout) = pave_close(dir.path(), "2026-04-01");
    assert_eq!(status, 1, "{stdout}");
    assert!(
        stdout.contains("four-a-pain: not funded, refunds pending, 0 refund(s) issued, 1 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "refund failed: project four-a-pain, pledge p-1 (goal_missed): no_payment_intent"
        ),
        "{stdout}"
    );
    let ledger = store.ledger_pledges("four-a-pain").await.unwrap();
    assert_eq!(ledger[0].status, PledgeStatus::Refunding);
    assert_eq!(ledger[0].refund_error.as_deref(), Some("no_payment_intent"));
    // Still failing on the next run, still reported.
    let (status, _) = pave_close(dir.path(), "2026-04-02");
    assert_eq!(status, 1);
}
