//! The store behaviour suite: what a donor, a sponsor or an auditor can check
//! of any [`Store`] backend, written once.
//!
//! Each check is an `async fn` generic over the backend. It takes `db`, a
//! factory: every call returns a handle on one and the same fresh, empty
//! database (a clone of an in-memory store, a new connection to a file, a new
//! client on a table). Checks that need concurrency take several handles, so
//! that a backend with real parallel writers is exercised as such.
//!
//! At the bottom, `store_suite!` turns every check into one thin
//! `#[tokio::test]` per backend flavour: SQLite in memory (one connection
//! behind a mutex, shared by clones), SQLite on a file (one connection per
//! handle, so SQLite's own locking is what keeps the ledger right), and
//! DynamoDB on moto (a fresh table per check, one client with its own
//! connection pool per handle; see `moto/mod.rs`).
//!
//! Amounts are exact `Decimal`s; the ledger is the truth: every figure is
//! compared with the sum of the records the store reported writing.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pave_functions::api::{ApiConfig, AppState, handle_webhook};
use pave_functions::catalog::Catalog;
use pave_functions::close::{self, CloseReport, FailedRefund, RefundPolicy};
use pave_functions::mail::Mailer;
use pave_functions::matching::Match;
use pave_functions::money::{is_cents, to_cents};
use pave_functions::payment::Payment;
use pave_functions::progress::{Figures, Snapshot};
use pave_functions::statements::ProjectTotals;
use pave_functions::store::dynamo::DynamoStore;
use pave_functions::store::sqlite::SqliteStore;
use pave_functions::store::{
    Applied, CloseState, LedgerPledge, NewPledge, Offer, Outcome, PledgeStatus, ProjectLedger,
    RefundExtent, RefundReason, Store, StoreError,
};
use pave_functions::stripe::client::{
    BoxFuture, CheckoutRequest, CheckoutSession, Locale, PaymentError, Payments, Refund,
    RefundStatus, StripePayments, checkout_expiry,
};
use pave_functions::stripe::double::{RecordedRequest, StripeDouble, StripeFailure};
use rust_decimal::Decimal;

mod moto;

#[path = "store_suite/event_order.rs"]
mod event_order;
#[path = "store_suite/places.rs"]
mod places;
use event_order::*;
use places::*;

// ------------------------------------------------------------------ backends

/// What the suite needs of a backend besides [`Store`]: the spending of a
/// pool as the backend itself computes it (the sum of its active matches,
/// every project together), which is what limits the pool's budget.
trait Backend: Store {
    fn pool_spent(&self, pool: &str) -> impl Future<Output = Result<Decimal, StoreError>> + Send;

    /// Everything the backend stores, as bytes to search: the SQLite file
    /// (and its log), every DynamoDB item.
    fn raw_dump(&self) -> impl Future<Output = Vec<u8>> + Send;

    /// Where the backend's running totals differ from sums over its ledger
    /// (none when they agree): checked after every check of the suite.
    fn totals_differences(&self) -> impl Future<Output = Vec<String>> + Send;
}

impl Backend for SqliteStore {
    fn pool_spent(&self, pool: &str) -> impl Future<Output = Result<Decimal, StoreError>> + Send {
        // The inherent method (test support of the SQLite store).
        SqliteStore::pool_spent(self, pool)
    }

    async fn raw_dump(&self) -> Vec<u8> {
        self.raw_bytes().await.expect("the database's bytes")
    }

    async fn totals_differences(&self) -> Vec<String> {
        self.audit_totals().await.expect("the totals' audit")
    }
}

impl Backend for DynamoStore {
    fn pool_spent(&self, pool: &str) -> impl Future<Output = Result<Decimal, StoreError>> + Send {
        DynamoStore::pool_spent(self, pool)
    }

    async fn raw_dump(&self) -> Vec<u8> {
        let client = moto::connection().client();
        let mut dump = String::new();
        let mut start = None;
        loop {
            let out = client
                .scan()
                .table_name(self.table())
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan");
            for item in out.items.unwrap_or_default() {
                dump.push_str(&format!("{item:?}\n"));
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return dump.into_bytes(),
            }
        }
    }

    /// The counters of the DynamoDB design are checked against the ledger
    /// by the figures the checks compare (`Suite::audit`, the statements).
    async fn totals_differences(&self) -> Vec<String> {
        Vec::new()
    }
}

/// SQLite in memory: every handle is a clone of the same store, so they share
/// one connection (writers are serialised by its mutex).
async fn sqlite_in_memory(_test: &str) -> impl Fn() -> SqliteStore + use<> {
    let store = SqliteStore::in_memory().expect("in-memory SQLite store");
    move || store.clone()
}

/// SQLite on a temporary file: every handle is its own connection, so
/// concurrent writers meet in SQLite's locks (`BEGIN IMMEDIATE`, busy timeout).
async fn sqlite_file(test: &str) -> impl Fn() -> SqliteStore + use<> {
    let file = TempDb::new(test);
    move || SqliteStore::open(&file.0).expect("file SQLite store")
}

/// DynamoDB on this binary's moto server: a fresh table per check, and every
/// handle its own client (own connection pool), so concurrent writers meet
/// in the table's conditions only.
async fn dynamo_on_moto(test: &str) -> impl Fn() -> DynamoStore + use<> {
    let table = moto::fresh_table(test).await;
    let connection = moto::connection();
    move || DynamoStore::new(connection.client(), table.clone())
}

/// A database file removed (with its WAL files) when the factory is dropped.
struct TempDb(PathBuf);

impl TempDb {
    fn new(test: &str) -> TempDb {
        let path =
            std::env::temp_dir().join(format!("pave-store-suite-{}-{test}.db", std::process::id()));
        let db = TempDb(path);
        db.remove();
        db
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

// ------------------------------------------------------------------- catalog

// Pools.
const HABITAT: &str = "fondation-btp-plus/habitat-2026"; // ratio 1, at most 100 € a pledge
const REGION: &str = "region-aura/initiatives-2026"; // ratio 0.5
const DOUBLING: &str = "metropole-saint-etienne/doublement-2026"; // ratio 1, budget 1 000 €
const SMALL: &str = "ville-du-puy/petit-coup-de-pouce"; // ratio 1, budget 100 €
const UNCAPPED: &str = "mecene-local/doublement"; // ratio 1, budget 100 000 €

// Projects.
const CAFE: &str = "cafe-du-coin"; // HABITAT then REGION; reward 1 limited to 2, reward 2 to 20
const JARDIN: &str = "jardin-partage"; // DOUBLING, cap far away
const ATELIER: &str = "atelier-velo"; // SMALL; reward 0 limited to 2
const FOURNIL: &str = "fournil-solidaire"; // UNCAPPED, cap 990 €
const RESSOURCERIE: &str = "ressourcerie"; // no pool

/// The `catalog.json` (v1) every check reads. Pools are open from 2020 to
/// 2099 so that pledges paid now are matched.
const CATALOG: &str = r#"{
  "version": 1, "currency": "EUR", "pledge_min": "1", "pledge_max": "500",
  "projects": {
    "cafe-du-coin": {
      "title": "Le Café du Coin", "territory": "saint-etienne", "themes": ["alimentation"],
      "status": "live", "goal": "6000", "cap": "7500", "funding": "all_or_nothing",
      "start": "2020-01-01", "end": "2099-12-31", "timezone": "Europe/Paris",
      "rewards": [
        { "index": 0, "min": "5", "title": "Un café offert", "limit": null },
        { "index": 1, "min": "10", "title": "Un repas de lancement", "limit": 2 },
        { "index": 2, "min": "15", "title": "Un panier de l'AMAP", "limit": 20 }
      ],
      "pools": ["fondation-btp-plus/habitat-2026", "region-aura/initiatives-2026"],
      "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    },
    "jardin-partage": {
      "title": "Le Jardin partagé", "territory": "saint-etienne", "themes": ["environnement"],
      "status": "live", "goal": "20000", "cap": "50000", "funding": "keep_it_all",
      "start": "2020-01-01", "end": "2099-12-31", "timezone": "Europe/Paris",
      "rewards": [], "pools": ["metropole-saint-etienne/doublement-2026"], "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    },
    "atelier-velo": {
      "title": "La Rustine", "territory": "le-puy", "themes": ["mobilite"],
      "status": "live", "goal": "1000", "cap": "5000", "funding": "keep_it_all",
      "start": "2020-01-01", "end": "2099-12-31", "timezone": "Europe/Paris",
      "rewards": [{ "index": 0, "min": "10", "title": "Une révision de vélo", "limit": 2 }],
      "pools": ["ville-du-puy/petit-coup-de-pouce"], "holder": {"name": "Les Amis", "kind": "association", "tax_receipt": true}
    },
    "fournil-solidaire": {
      "title": "Le Fournil solidaire", "territory": "le-puy", "themes": ["alimentation"],
      "status": "live", "goal": "800", "cap": "990", "funding": "keep_it_all",
      "start": "2020-01-01", "end": "2099-12-31", "timezone": "Europe/Paris",
      "rewards": [], "pools": ["mecene-local/doublement"], "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    },
    "ressourcerie": {
      "title": "La Ressourcerie", "territory": "saint-etienne", "themes": ["reemploi"],
      "status": "live", "goal": "3000", "cap": "4500", "funding": "all_or_nothing",
      "start": "2020-01-01", "end": "2099-12-31", "timezone": "Europe/Paris",
      "rewards": [], "pools": [], "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    }
  },
  "pools": {
    "fondation-btp-plus/habitat-2026": {
      "sponsor": "fondation-btp-plus", "sponsor_name": "Fondation BTP Plus", "title": "Habitat 2026",
      "mode": "per_pledge", "budget": "20000", "start": "2020-01-01", "end": "2099-12-31",
      "ratio": "1", "max_per_pledge": "100", "max_per_project": null,
      "max_per_donor": null, "threshold": null, "share_of_goal": null,
      "amount": null, "min_progress": null, "min_backers": null
    },
    "region-aura/initiatives-2026": {
      "sponsor": "region-aura", "sponsor_name": "Région Auvergne-Rhône-Alpes", "title": "Initiatives",
      "mode": "per_pledge", "budget": "20000", "start": "2020-01-01", "end": "2099-12-31",
      "ratio": "0.5", "max_per_pledge": null, "max_per_project": null,
      "max_per_donor": null, "threshold": null, "share_of_goal": null,
      "amount": null, "min_progress": null, "min_backers": null
    },
    "metropole-saint-etienne/doublement-2026": {
      "sponsor": "metropole-saint-etienne", "sponsor_name": "Saint-Étienne Métropole", "title": "Doublement",
      "mode": "per_pledge", "budget": "1000", "start": "2020-01-01", "end": "2099-12-31",
      "ratio": "1", "max_per_pledge": null, "max_per_project": null,
      "max_per_donor": null, "threshold": null, "share_of_goal": null,
      "amount": null, "min_progress": null, "min_backers": null
    },
    "ville-du-puy/petit-coup-de-pouce": {
      "sponsor": "ville-du-puy", "sponsor_name": "Ville du Puy-en-Velay", "title": "Petit coup de pouce",
      "mode": "per_pledge", "budget": "100", "start": "2020-01-01", "end": "2099-12-31",
      "ratio": "1", "max_per_pledge": null, "max_per_project": null,
      "max_per_donor": null, "threshold": null, "share_of_goal": null,
      "amount": null, "min_progress": null, "min_backers": null
    },
    "mecene-local/doublement": {
      "sponsor": "mecene-local", "sponsor_name": "Un mécène local", "title": "Doublement",
      "mode": "per_pledge", "budget": "100000", "start": "2020-01-01", "end": "2099-12-31",
      "ratio": "1", "max_per_pledge": null, "max_per_project": null,
      "max_per_donor": null, "threshold": null, "share_of_goal": null,
      "amount": null, "min_progress": null, "min_backers": null
    }
  }
}"#;

fn catalog() -> Arc<Catalog> {
    Arc::new(Catalog::from_json(CATALOG.as_bytes()).expect("the suite's catalog is valid"))
}

// ------------------------------------------------------------------- helpers

/// How long a checkout (and its reward reservation) stays open.
const CHECKOUT_TTL: i64 = 30 * 60;

fn d(s: &str) -> Decimal {
    s.parse().expect("a decimal literal")
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn m(pool: &str, amount: &str) -> Match {
    Match {
        pool_id: pool.to_string(),
        amount: d(amount),
    }
}

/// A pending pledge created now, by its own donor (`donor:<id>`), with an
/// email and no display name. Adjust with struct update syntax.
fn pledge(id: &str, project: &str, amount: &str) -> NewPledge {
    let at = now();
    NewPledge {
        id: id.to_string(),
        project: project.to_string(),
        amount: d(amount),
        reward: None,
        display_name: None,
        email: format!("{id}@donors.example"),
        donor: format!("donor:{id}"),
        lang: "fr".to_string(),
        share_contact: false,
        created_at: at,
        expires_at: at + CHECKOUT_TTL,
        client: None,
    }
}

fn changed(project: &str, matches: Vec<Match>) -> Applied {
    Applied::Changed {
        project: project.to_string(),
        matches,
    }
}

/// A store handle with the catalog, and the calls the checks make, as the API
/// and the webhook would make them.
struct Suite<S> {
    store: Arc<S>,
    catalog: Arc<Catalog>,
}

impl<S: Backend> Suite<S> {
    fn new(store: S) -> Suite<S> {
        Suite {
            store: Arc::new(store),
            catalog: catalog(),
        }
    }

    /// Another handle on the same store (for spawned tasks).
    fn share(&self) -> Suite<S> {
        Suite {
            store: self.store.clone(),
            catalog: self.catalog.clone(),
        }
    }

    /// `create_pledge` with its reward's limit from the catalog, as the API does.
    async fn try_create(&self, pledge: NewPledge) -> Result<(), StoreError> {
        let limit = pledge.reward.and_then(|index| {
            let project = &self.catalog.projects[&pledge.project];
            project
                .rewards
                .iter()
                .find(|r| r.index == index)
                .and_then(|r| r.limit)
        });
        self.store.create_pledge(pledge, limit).await
    }

    async fn create(&self, pledge: &NewPledge) {
        self.try_create(pledge.clone())
            .await
            .unwrap_or_else(|e| panic!("create {}: {e}", pledge.id));
    }

    /// `checkout.session.completed` with event id `event`, for the
    /// pledge's amount in euros (as Stripe sends it for that checkout).
    async fn pay(&self, event: &str, pledge: &str) -> Applied {
        let amount = match self.store.pledge_contact(pledge).await {
            Ok(Some(contact)) => to_cents(contact.amount).expect("cents"),
            _ => 0,
        };
        self.pay_as(event, pledge, amount, "eur", now()).await
    }

    /// `checkout.session.completed` with what Stripe says was paid, at `at`.
    async fn pay_as(
        &self,
        event: &str,
        pledge: &str,
        amount_cents: i64,
        currency: &str,
        at: i64,
    ) -> Applied {
        let intent = format!("pi_{pledge}");
        let payment = Payment {
            intent: Some(&intent),
            amount_cents,
            currency,
        };
        self.store
            .apply_paid(&self.catalog, event, pledge, &payment, at)
            .await
            .unwrap_or_else(|e| panic!("paid {event} {pledge}: {e}"))
    }

    /// `checkout.session.expired`.
    async fn expire(&self, event: &str, pledge: &str) -> Applied {
        self.store
            .apply_expired(event, pledge)
            .await
            .unwrap_or_else(|e| panic!("expired {event} {pledge}: {e}"))
    }

    /// `charge.refunded`.
    async fn refund(&self, event: &str, pledge: &str) -> Applied {
        self.store
            .apply_refunded(event, pledge, RefundExtent::Full, None, now())
            .await
            .unwrap_or_else(|e| panic!("refunded {event} {pledge}: {e}"))
    }

    async fn figures(&self, project: &str) -> Figures {
        self.store.figures(project).await.expect("figures")
    }

    async fn snapshot(&self) -> Snapshot {
        self.store.snapshot().await.expect("snapshot")
    }

    async fn spent(&self, pool: &str) -> Decimal {
        self.store.pool_spent(pool).await.expect("pool spent")
    }

    /// The auditor's check: every figure the store shows equals the sum of
    /// the ledger records it reported writing (see [`Ledger`]).
    async fn audit(&self, ledger: &Ledger) {
        let snapshot = self.snapshot().await;
        for project in ledger.projects() {
            let figures = self.figures(&project).await;
            assert_eq!(
                figures.raised,
                ledger.raised(&project),
                "{project}: raised = sum of its paid pledges"
            );
            assert_eq!(
                figures.pledges,
                ledger.pledges(&project),
                "{project}: paid pledges"
            );
            assert_eq!(
                figures.backers,
                ledger.backers(&project),
                "{project}: distinct donors"
            );
            let matched: BTreeMap<String, Decimal> = figures
                .matched
                .iter()
                .map(|(pool, a)| (pool.clone(), a.0))
                .collect();
            assert_eq!(
                matched,
                ledger.matched(&project),
                "{project}: matched per pool = sum of its matches"
            );
            assert_eq!(
                self.store.collected(&project).await.expect("collected"),
                figures.raised + figures.matched_total(),
                "{project}: collected = raised + matched"
            );
            assert_eq!(
                snapshot.projects.get(&project),
                Some(&figures),
                "{project}: snapshot = figures"
            );
        }
        for pool in ledger.pools() {
            let spent = ledger.spent(&pool);
            assert_eq!(
                self.spent(&pool).await,
                spent,
                "{pool}: spent = sum of its active matches"
            );
            let published: Decimal = snapshot
                .projects
                .values()
                .filter_map(|f| f.matched.get(&pool))
                .map(|a| a.0)
                .sum();
            assert_eq!(
                published, spent,
                "{pool}: spent = sum of what the snapshot shows for it"
            );
            assert!(
                spent <= self.catalog.pools[&pool].budget,
                "{pool}: spent {spent} beyond its budget"
            );
        }
    }
}

/// The in-test ledger: the paid pledges and the matches the store reported
/// (`Applied::Changed`), with refunds. Every expected figure is a sum over it.
#[derive(Default)]
struct Ledger {
    entries: BTreeMap<String, Entry>,
}

struct Entry {
    project: String,
    donor: String,
    amount: Decimal,
    matches: Vec<Match>,
    refunded: bool,
}

impl Ledger {
    /// Records a pledge the store reported paid (with its matches).
    fn paid(&mut self, pledge: &NewPledge, applied: &Applied) {
        let Applied::Changed { project, matches } = applied else {
            panic!("{} was not paid: {applied:?}", pledge.id);
        };
        assert_eq!(project, &pledge.project);
        for m in matches {
            assert!(
                m.amount > Decimal::ZERO && is_cents(m.amount),
                "{}: match {m:?} not in whole cents",
                pledge.id
            );
        }
        let entry = Entry {
            project: pledge.project.clone(),
            donor: pledge.donor.clone(),
            amount: pledge.amount,
            matches: matches.clone(),
            refunded: false,
        };
        assert!(
            self.entries.insert(pledge.id.clone(), entry).is_none(),
            "{} paid twice",
            pledge.id
        );
    }

    /// Records a refund, checking that the store cancelled exactly the
    /// pledge's matches.
    fn refunded(&mut self, pledge: &str, applied: &Applied) {
        let entry = self.entries.get_mut(pledge).expect("a paid pledge");
        assert_eq!(
            applied,
            &changed(&entry.project, entry.matches.clone()),
            "a refund cancels exactly the pledge's matches"
        );
        entry.refunded = true;
    }

    fn active(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values().filter(|e| !e.refunded)
    }

    fn projects(&self) -> BTreeSet<String> {
        self.entries.values().map(|e| e.project.clone()).collect()
    }

    fn pools(&self) -> BTreeSet<String> {
        self.entries
            .values()
            .flat_map(|e| &e.matches)
            .map(|m| m.pool_id.clone())
            .collect()
    }

    fn raised(&self, project: &str) -> Decimal {
        self.active()
            .filter(|e| e.project == project)
            .map(|e| e.amount)
            .sum()
    }

    fn pledges(&self, project: &str) -> u32 {
        self.active().filter(|e| e.project == project).count() as u32
    }

    fn backers(&self, project: &str) -> u32 {
        self.active()
            .filter(|e| e.project == project)
            .map(|e| &e.donor)
            .collect::<BTreeSet<_>>()
            .len() as u32
    }

    fn matched(&self, project: &str) -> BTreeMap<String, Decimal> {
        let mut per_pool = BTreeMap::new();
        for m in self
            .active()
            .filter(|e| e.project == project)
            .flat_map(|e| &e.matches)
        {
            *per_pool.entry(m.pool_id.clone()).or_insert(Decimal::ZERO) += m.amount;
        }
        per_pool
    }

    fn spent(&self, pool: &str) -> Decimal {
        self.active()
            .flat_map(|e| &e.matches)
            .filter(|m| m.pool_id == pool)
            .map(|m| m.amount)
            .sum()
    }
}

/// A small seeded generator (xorshift64*), so that "random" amounts are the
/// same on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// An amount between `low` and `high` euros, in whole cents.
    fn euros(&mut self, low: i64, high: i64) -> Decimal {
        let span = (high - low) as u64 * 100 + 1;
        Decimal::new(low * 100 + (self.next() % span) as i64, 2)
    }
}

// -------------------------------------------------------------------- checks

/// 1. Paid pledges show in the figures and the snapshot, with their matches
///    written; the totals equal the sum of the ledger.
async fn paid_pledge_is_counted_and_matched<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let mut ledger = Ledger::default();

    // Nothing paid yet: a pending pledge counts for nothing.
    let camille = pledge("p-camille", CAFE, "42.10");
    suite.create(&camille).await;
    assert_eq!(suite.figures(CAFE).await.raised, Decimal::ZERO);
    assert_eq!(suite.figures(CAFE).await.pledges, 0);

    // 42.10 €: HABITAT gives 42.10 (ratio 1), REGION 21.05 (ratio 0.5).
    let applied = suite.pay("evt_paid_camille", &camille.id).await;
    assert_eq!(
        applied,
        changed(CAFE, vec![m(HABITAT, "42.10"), m(REGION, "21.05")])
    );
    ledger.paid(&camille, &applied);

    let figures = suite.figures(CAFE).await;
    assert_eq!(figures.raised, d("42.10"));
    assert_eq!((figures.backers, figures.pledges), (1, 1));
    assert_eq!(figures.matched[HABITAT].0, d("42.10"));
    assert_eq!(figures.matched[REGION].0, d("21.05"));
    assert!(
        figures.updated_at.is_some(),
        "a paid pledge dates the figures"
    );
    assert_eq!(suite.store.collected(CAFE).await.unwrap(), d("105.25"));

    // 150 €: HABITAT stops at its 100 € per pledge, REGION gives 75.
    let dominique = pledge("p-dominique", CAFE, "150");
    suite.create(&dominique).await;
    let applied = suite.pay("evt_paid_dominique", &dominique.id).await;
    assert_eq!(
        applied,
        changed(CAFE, vec![m(HABITAT, "100"), m(REGION, "75")])
    );
    ledger.paid(&dominique, &applied);

    // Camille again, 33.33 €: REGION's 16.665 is rounded down to 16.66.
    // Still two backers, three pledges.
    let again = NewPledge {
        donor: camille.donor.clone(),
        ..pledge("p-camille-2", CAFE, "33.33")
    };
    suite.create(&again).await;
    let applied = suite.pay("evt_paid_camille_2", &again.id).await;
    assert_eq!(
        applied,
        changed(CAFE, vec![m(HABITAT, "33.33"), m(REGION, "16.66")])
    );
    ledger.paid(&again, &applied);

    let figures = suite.figures(CAFE).await;
    assert_eq!(figures.raised, d("225.43"));
    assert_eq!((figures.backers, figures.pledges), (2, 3));
    assert_eq!(figures.matched[HABITAT].0, d("175.43"));
    assert_eq!(figures.matched[REGION].0, d("112.71"));
    assert_eq!(suite.spent(HABITAT).await, d("175.43"));
    assert_eq!(suite.spent(REGION).await, d("112.71"));

    // The snapshot holds the project, with amounts as decimal strings.
    let snapshot = suite.snapshot().await;
    assert_eq!(snapshot.version, 1);
    assert_eq!(snapshot.projects.get(CAFE), Some(&figures));
    let json = serde_json::to_value(&snapshot).unwrap();
    assert_eq!(json["projects"][CAFE]["raised"], "225.43");
    assert_eq!(json["projects"][CAFE]["matched"][REGION], "112.71");

    suite.audit(&ledger).await;
}

/// 2a. The same `checkout.session.completed` delivered ten times is applied
///     once.
async fn redelivered_event_is_applied_once<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let mut ledger = Ledger::default();
    let p = pledge("p-retry", CAFE, "20");
    suite.create(&p).await;

    let first = suite.pay("evt_retried", &p.id).await;
    assert_eq!(
        first,
        changed(CAFE, vec![m(HABITAT, "20"), m(REGION, "10")])
    );
    ledger.paid(&p, &first);
    let after_first = suite.figures(CAFE).await;

    for _ in 1..10 {
        assert_eq!(suite.pay("evt_retried", &p.id).await, Applied::Duplicate);
    }
    assert_eq!(
        suite.figures(CAFE).await,
        after_first,
        "duplicates change nothing"
    );
    assert_eq!(after_first.raised, d("20"));
    assert_eq!(after_first.pledges, 1);
    suite.audit(&ledger).await;
}

/// 2b. The same event delivered at once by 8 tasks (on separate handles):
///     exactly one `Changed`, seven `Duplicate`.
async fn concurrent_deliveries_apply_once<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let p = pledge("p-burst", CAFE, "12.34");
    suite.create(&p).await;

    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (task, barrier, id) = (Suite::new(db()), barrier.clone(), p.id.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            task.pay("evt_burst", &id).await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    let applied: Vec<&Applied> = results
        .iter()
        .filter(|a| matches!(a, Applied::Changed { .. }))
        .collect();
    let duplicates = results.iter().filter(|a| **a == Applied::Duplicate).count();
    assert_eq!((applied.len(), duplicates), (1, 7), "{results:?}");
    assert_eq!(
        applied[0],
        &changed(CAFE, vec![m(HABITAT, "12.34"), m(REGION, "6.17")])
    );

    let mut ledger = Ledger::default();
    ledger.paid(&p, applied[0]);
    let figures = suite.figures(CAFE).await;
    assert_eq!((figures.raised, figures.pledges), (d("12.34"), 1));
    suite.audit(&ledger).await;
}

/// 3. Events out of order: an expiry after the payment, a refund before it,
///    and a second completed event for a paid pledge change nothing.
async fn out_of_order_events_are_harmless<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let mut ledger = Ledger::default();

    // `expired` after `paid`.
    let a = pledge("p-a", CAFE, "30");
    suite.create(&a).await;
    let applied = suite.pay("evt_paid_a", &a.id).await;
    ledger.paid(&a, &applied);
    let before = suite.figures(CAFE).await;
    assert!(matches!(
        suite.expire("evt_expired_a", &a.id).await,
        Applied::NoEffect { .. }
    ));
    assert_eq!(
        suite.figures(CAFE).await,
        before,
        "a late expiry leaves the paid pledge alone"
    );
    // ... and that expiry is recorded like any event.
    assert_eq!(
        suite.expire("evt_expired_a", &a.id).await,
        Applied::Duplicate
    );

    // A second, different completed event for the already paid pledge.
    assert!(matches!(
        suite.pay("evt_paid_a_bis", &a.id).await,
        Applied::NoEffect { .. }
    ));
    assert_eq!(suite.figures(CAFE).await, before, "paid once, matched once");
    assert_eq!(suite.spent(HABITAT).await, d("30"));

    // `refunded` before `paid`: the refund wins, the late completion is
    // never counted (Stripe does not promise the order of its events).
    let b = pledge("p-b", CAFE, "40");
    suite.create(&b).await;
    assert_eq!(
        suite.refund("evt_refunded_b", &b.id).await,
        changed(CAFE, vec![])
    );
    let refunds_before = suite.figures(CAFE).await.refunds;
    assert!(matches!(
        suite.pay("evt_paid_b", &b.id).await,
        Applied::NoEffect { .. }
    ));
    let figures = suite.figures(CAFE).await;
    assert_eq!(
        (figures.raised, figures.pledges, figures.backers),
        (d("30"), 1, 1),
        "the refunded payment is never counted"
    );
    assert_eq!(figures.refunds, refunds_before);
    assert_eq!(suite.spent(HABITAT).await, d("30"), "nor matched");
    suite.audit(&ledger).await;
}

/// 4a. The issue's test: 200 pledges of seeded amounts (5–50 € with cents) on
///     one project, paid concurrently against a ratio-1 pool of 1 000 €. The
///     budget is spent to the cent and never beyond.
async fn concurrent_pledges_spend_the_budget_to_the_cent<S: Backend>(db: impl Fn() -> S) {
    const PLEDGES: usize = 200;
    const HANDLES: usize = 8;
    let suite = Suite::new(db());
    let budget = suite.catalog.pools[DOUBLING].budget;
    assert_eq!(budget, d("1000"));

    let mut rng = Seeded(0x5EED_CAFE_2026);
    let pledges: Vec<NewPledge> = (0..PLEDGES)
        .map(|i| NewPledge {
            amount: rng.euros(5, 50),
            // Some donors give twice.
            donor: format!("donor:{}", i % 150),
            ..pledge(&format!("p-{i:03}"), JARDIN, "1")
        })
        .collect();
    let citizens: Decimal = pledges.iter().map(|p| p.amount).sum();
    assert!(
        citizens > budget,
        "the pledges ({citizens}) must exceed what the pool can match"
    );
    for p in &pledges {
        suite.create(p).await;
    }

    // While the burst runs, an observer checks the pool never goes beyond.
    let done = Arc::new(AtomicBool::new(false));
    let observer = {
        let (watch, done) = (suite.share(), done.clone());
        tokio::spawn(async move {
            let mut looks = 0u32;
            while !done.load(Ordering::Relaxed) {
                let spent = watch.spent(DOUBLING).await;
                assert!(
                    spent <= budget,
                    "pool spent {spent} beyond its budget mid-burst"
                );
                let figures = watch.figures(JARDIN).await;
                assert!(figures.matched_total() <= budget);
                looks += 1;
                tokio::task::yield_now().await;
            }
            looks
        })
    };

    let handles: Vec<Suite<S>> = (0..HANDLES).map(|_| Suite::new(db())).collect();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(PLEDGES);
    for (i, p) in pledges.iter().enumerate() {
        let (task, id) = (handles[i % HANDLES].share(), p.id.clone());
        tasks.push(tokio::spawn(async move {
            task.pay(&format!("evt_paid_{id}"), &id).await
        }));
    }
    let mut results = Vec::with_capacity(PLEDGES);
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let looks = observer.await.expect("observer");
    let test = std::thread::current().name().unwrap_or("?").to_string();
    eprintln!(
        "{test}: {PLEDGES} concurrent payments on {HANDLES} handles in {elapsed:?} ({looks} looks by the observer)"
    );

    let mut ledger = Ledger::default();
    for (p, applied) in pledges.iter().zip(&results) {
        ledger.paid(p, applied);
    }
    let matches: Vec<&Match> = ledger.entries.values().flat_map(|e| &e.matches).collect();
    assert!(
        matches
            .iter()
            .all(|m| m.pool_id == DOUBLING && is_cents(m.amount))
    );
    // Each match is the pledge itself, but one: the last one, partial.
    let partial = ledger
        .entries
        .values()
        .filter(|e| e.matches.first().is_some_and(|m| m.amount < e.amount))
        .count();
    assert!(partial <= 1, "{partial} partial matches");

    let spent: Decimal = matches.iter().map(|m| m.amount).sum();
    assert_eq!(spent, d("1000.00"), "the budget is spent to the cent");
    assert_eq!(suite.spent(DOUBLING).await, d("1000.00"));
    let figures = suite.figures(JARDIN).await;
    assert_eq!(figures.raised, citizens);
    assert_eq!(figures.matched_total(), d("1000.00"));
    assert_eq!(figures.pledges, PLEDGES as u32);
    assert_eq!(figures.backers, 150);
    suite.audit(&ledger).await;

    // Once the budget is spent, a pledge is paid but not matched.
    let late = pledge("p-late", JARDIN, "10");
    suite.create(&late).await;
    assert_eq!(
        suite.pay("evt_paid_late", &late.id).await,
        changed(JARDIN, vec![])
    );
    assert_eq!(suite.spent(DOUBLING).await, d("1000.00"));
}

/// 4b. A tight cap under concurrency: 20 pledges of 25 € (500 €) on a
///     project capped at 990 €, with a ratio-1 pool that could give 500 €.
///     Whatever the order, 19 pledges are matched in full (950 €) and the
///     last one by the 15 € left under the cap: 990.00 €, never more.
async fn concurrent_pledges_stop_at_a_tight_cap<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let cap = suite.catalog.projects[FOURNIL].cap;
    let pledges: Vec<NewPledge> = (0..20)
        .map(|i| pledge(&format!("p-fournil-{i:02}"), FOURNIL, "25"))
        .collect();
    for p in &pledges {
        suite.create(p).await;
    }

    let mut tasks = Vec::new();
    for p in &pledges {
        let (task, id) = (Suite::new(db()), p.id.clone());
        tasks.push(tokio::spawn(async move {
            task.pay(&format!("evt_paid_{id}"), &id).await
        }));
    }
    let mut ledger = Ledger::default();
    for (p, task) in pledges.iter().zip(tasks) {
        ledger.paid(p, &task.await.expect("task"));
    }

    let mut amounts: Vec<Decimal> = ledger
        .entries
        .values()
        .flat_map(|e| &e.matches)
        .map(|m| m.amount)
        .collect();
    amounts.sort();
    let mut expected = vec![d("15")];
    expected.extend(std::iter::repeat_n(d("25"), 19));
    assert_eq!(amounts, expected);

    let figures = suite.figures(FOURNIL).await;
    assert_eq!(figures.raised, d("500"));
    assert_eq!(figures.matched[UNCAPPED].0, d("490"));
    let collected = suite.store.collected(FOURNIL).await.unwrap();
    assert_eq!(collected, d("990.00"));
    assert!(collected <= cap);
    suite.audit(&ledger).await;
}

/// 5. A refund cancels the pledge's matches and gives the pool back exactly
///    what they were, which later pledges may then use.
async fn refunds_release_matches_to_the_pool<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let mut ledger = Ledger::default();

    // SMALL has 100 €: 80 € matched in full, then 50 € matched by the 20 € left.
    let a = pledge("p-a", ATELIER, "80");
    let b = pledge("p-b", ATELIER, "50");
    for p in [&a, &b] {
        suite.create(p).await;
    }
    let applied = suite.pay("evt_paid_a", &a.id).await;
    assert_eq!(applied, changed(ATELIER, vec![m(SMALL, "80")]));
    ledger.paid(&a, &applied);
    let applied = suite.pay("evt_paid_b", &b.id).await;
    assert_eq!(applied, changed(ATELIER, vec![m(SMALL, "20")]));
    ledger.paid(&b, &applied);
    assert_eq!(suite.spent(SMALL).await, d("100"));

    // Refunding `a` cancels its 80 € match: the pool's spending goes down by
    // exactly 80 €, the project loses 80 + 80.
    let applied = suite.refund("evt_refunded_a", &a.id).await;
    assert_eq!(applied, changed(ATELIER, vec![m(SMALL, "80")]));
    ledger.refunded(&a.id, &applied);
    assert_eq!(suite.spent(SMALL).await, d("20"));
    let figures = suite.figures(ATELIER).await;
    assert_eq!(
        (figures.raised, figures.matched[SMALL].0),
        (d("50"), d("20"))
    );
    assert_eq!((figures.backers, figures.pledges), (1, 1));
    assert_eq!(suite.store.collected(ATELIER).await.unwrap(), d("70"));

    // The same refund event again; then a different payment event for it.
    assert_eq!(
        suite.refund("evt_refunded_a", &a.id).await,
        Applied::Duplicate
    );
    assert!(matches!(
        suite.pay("evt_paid_a_late", &a.id).await,
        Applied::NoEffect { .. }
    ));
    assert_eq!(suite.spent(SMALL).await, d("20"));

    // Refunding a pending pledge counts nothing: it is recorded refunded.
    let pending = pledge("p-pending", ATELIER, "15");
    suite.create(&pending).await;
    assert_eq!(
        suite.refund("evt_refunded_pending", &pending.id).await,
        changed(ATELIER, vec![])
    );
    let after = suite.figures(ATELIER).await;
    assert_eq!(
        (after.raised, &after.matched, after.pledges, after.backers),
        (
            figures.raised,
            &figures.matched,
            figures.pledges,
            figures.backers
        )
    );

    // The 80 € returned are spent again: 70 € matched in full (90 € spent).
    let c = pledge("p-c", ATELIER, "70");
    suite.create(&c).await;
    let applied = suite.pay("evt_paid_c", &c.id).await;
    assert_eq!(applied, changed(ATELIER, vec![m(SMALL, "70")]));
    ledger.paid(&c, &applied);
    assert_eq!(suite.spent(SMALL).await, d("90"));

    // Refunding a pledge matched by two pools releases both.
    let e = pledge("p-e", CAFE, "33.33");
    suite.create(&e).await;
    let applied = suite.pay("evt_paid_e", &e.id).await;
    ledger.paid(&e, &applied);
    let (habitat, region) = (suite.spent(HABITAT).await, suite.spent(REGION).await);
    let applied = suite.refund("evt_refunded_e", &e.id).await;
    assert_eq!(
        applied,
        changed(CAFE, vec![m(HABITAT, "33.33"), m(REGION, "16.66")])
    );
    ledger.refunded(&e.id, &applied);
    assert_eq!(habitat - suite.spent(HABITAT).await, d("33.33"));
    assert_eq!(region - suite.spent(REGION).await, d("16.66"));
    let cafe = suite.figures(CAFE).await;
    assert_eq!(
        (cafe.raised, cafe.matched_total(), cafe.pledges),
        (Decimal::ZERO, Decimal::ZERO, 0)
    );

    suite.audit(&ledger).await;
}

/// 6. A limited reward is reserved by pending pledges and released when the
///    checkout expires (by the webhook, or by its `expires_at` passing).
async fn limited_rewards_are_reserved_and_released<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let meal = |id: &str| NewPledge {
        reward: Some(1),
        ..pledge(id, CAFE, "10")
    };

    // Limit 2: two pending pledges take it, a third is refused.
    suite.create(&meal("p-1")).await;
    suite.create(&meal("p-2")).await;
    assert_eq!(suite.figures(CAFE).await.rewards.get(&1), Some(&2));
    assert!(matches!(
        suite.try_create(meal("p-3")).await,
        Err(StoreError::RewardSoldOut)
    ));
    // An unlimited reward of the same project is still open.
    suite
        .create(&NewPledge {
            reward: Some(0),
            ..pledge("p-coffee", CAFE, "5")
        })
        .await;

    // `p-1`'s checkout expires: its place is free again.
    assert_eq!(
        suite.expire("evt_expired_1", "p-1").await,
        changed(CAFE, vec![])
    );
    assert_eq!(suite.figures(CAFE).await.rewards.get(&1), Some(&1));
    suite.create(&meal("p-3")).await;
    assert!(matches!(
        suite.try_create(meal("p-4")).await,
        Err(StoreError::RewardSoldOut)
    ));

    // Paid pledges keep their reward.
    let applied = suite.pay("evt_paid_2", "p-2").await;
    assert!(matches!(applied, Applied::Changed { .. }));
    assert_eq!(suite.figures(CAFE).await.rewards.get(&1), Some(&2));
    assert!(matches!(
        suite.try_create(meal("p-5")).await,
        Err(StoreError::RewardSoldOut)
    ));

    // Reservations lapse by `expires_at` even without the webhook: two
    // pledges whose checkouts expired an hour ago reserve nothing for a
    // pledge made now (ATELIER's reward 0 is limited to 2 as well).
    let repair = |id: &str| NewPledge {
        reward: Some(0),
        ..pledge(id, ATELIER, "10")
    };
    let hour_ago = now() - 3600;
    for id in ["p-old-1", "p-old-2"] {
        let old = NewPledge {
            created_at: hour_ago - CHECKOUT_TTL,
            expires_at: hour_ago,
            ..repair(id)
        };
        suite.create(&old).await;
    }
    assert_eq!(
        suite.figures(ATELIER).await.rewards.get(&0),
        None,
        "lapsed reservations are not counted"
    );
    suite.create(&repair("p-now-1")).await;
    suite.create(&repair("p-now-2")).await;
    assert_eq!(suite.figures(ATELIER).await.rewards.get(&0), Some(&2));
    assert!(matches!(
        suite.try_create(repair("p-now-3")).await,
        Err(StoreError::RewardSoldOut)
    ));
}

/// 6b. Ten donors race for the last two places of a limited reward, each on
///     its own handle: exactly two get it. Five rounds (the winners' checkouts
///     expire between rounds) to give a race more chances to show.
async fn limited_reward_race_is_never_oversold<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let racers: Vec<Suite<S>> = (0..10).map(|_| Suite::new(db())).collect();
    for round in 0..5 {
        let barrier = Arc::new(tokio::sync::Barrier::new(racers.len()));
        let mut tasks = Vec::new();
        for (i, racer) in racers.iter().enumerate() {
            let (task, barrier) = (racer.share(), barrier.clone());
            let p = NewPledge {
                reward: Some(1),
                ..pledge(&format!("p-race-{round}-{i}"), CAFE, "10")
            };
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let id = p.id.clone();
                (id, task.try_create(p).await)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.expect("task") {
                (id, Ok(())) => winners.push(id),
                (_, Err(StoreError::RewardSoldOut)) => {}
                (id, Err(e)) => panic!("round {round}, {id}: unexpected error: {e}"),
            }
        }
        assert_eq!(winners.len(), 2, "round {round}: {winners:?}");
        assert_eq!(suite.figures(CAFE).await.rewards.get(&1), Some(&2));
        for id in &winners {
            assert!(matches!(
                suite.expire(&format!("evt_expired_{id}"), id).await,
                Applied::Changed { .. }
            ));
        }
    }
}

/// 7. Offers are counted in the figures, never published; donors' emails and
///    names never appear in the snapshot.
async fn offers_and_donors_stay_private<S: Backend>(db: impl Fn() -> S) {
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

// ------------------------------------------------------------ campaign close

// Pools of the close checks, in the order the projects list them.
const HALF: &str = "a-mecene/moitie"; // per_pledge, ratio 0.5
const LUMP: &str = "b-ville/forfait"; // lump_sum 100 € at 10 % and 2 backers
const SUCCESS: &str = "c-region/reussite"; // on_success, 20 % of the goal

const POTAGER: &str = "potager"; // all_or_nothing, goal 1 000 €, cap 2 000 €, ended
const FOUR: &str = "four-a-pain"; // the same rules: the one that misses its goal
const VELO: &str = "velo-cargo"; // keep_it_all, goal 1 000 €, ended
const PLAFOND: &str = "plafond"; // live, cap 100 €, no pool

/// The close checks' catalog: campaigns from 1 January to 31 March 2026
/// (Europe/Paris), closed on 1 April; one live project with a tight cap.
const CLOSE_CATALOG: &str = r#"{
  "version": 1, "currency": "EUR", "pledge_min": "1", "pledge_max": "500",
  "projects": {
    "potager": {
      "title": "Le Potager", "territory": "saint-etienne", "themes": ["alimentation"],
      "status": "live", "goal": "1000", "cap": "2000", "funding": "all_or_nothing",
      "start": "2026-01-01", "end": "2026-03-31", "timezone": "Europe/Paris",
      "rewards": [], "pools": ["a-mecene/moitie", "b-ville/forfait", "c-region/reussite"],
      "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    },
    "four-a-pain": {
      "title": "Le Four à pain", "territory": "saint-etienne", "themes": ["alimentation"],
      "status": "live", "goal": "1000", "cap": "2000", "funding": "all_or_nothing",
      "start": "2026-01-01", "end": "2026-03-31", "timezone": "Europe/Paris",
      "rewards": [], "pools": ["a-mecene/moitie", "b-ville/forfait", "c-region/reussite"],
      "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    },
    "velo-cargo": {
      "title": "Le Vélo-cargo", "territory": "le-puy", "themes": ["mobilite"],
      "status": "live", "goal": "1000", "cap": "1500", "funding": "keep_it_all",
      "start": "2026-01-01", "end": "2026-03-31", "timezone": "Europe/Paris",
      "rewards": [], "pools": ["c-region/reussite"], "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    },
    "plafond": {
      "title": "Le Plafond", "territory": "le-puy", "themes": ["mobilite"],
      "status": "live", "goal": "80", "cap": "100", "funding": "keep_it_all",
      "start": "2020-01-01", "end": "2099-12-31", "timezone": "Europe/Paris",
      "rewards": [], "pools": [], "holder": {"name": "Collectif", "kind": "collective", "tax_receipt": false}
    }
  },
  "pools": {
    "a-mecene/moitie": {
      "sponsor": "a-mecene", "sponsor_name": "Un mécène", "title": "Moitié",
      "mode": "per_pledge", "budget": "5000", "start": "2020-01-01", "end": "2099-12-31",
      "ratio": "0.5", "max_per_pledge": null, "max_per_project": null,
      "max_per_donor": null, "threshold": null, "share_of_goal": null,
      "amount": null, "min_progress": null, "min_backers": null
    },
    "b-ville/forfait": {
      "sponsor": "b-ville", "sponsor_name": "La Ville", "title": "Forfait",
      "mode": "lump_sum", "budget": "5000", "start": "2020-01-01", "end": "2099-12-31",
      "ratio": null, "max_per_pledge": null, "max_per_project": null,
      "max_per_donor": null, "threshold": null, "share_of_goal": null,
      "amount": "100", "min_progress": "0.1", "min_backers": 2
    },
    "c-region/reussite": {
      "sponsor": "c-region", "sponsor_name": "La Région", "title": "Réussite",
      "mode": "on_success", "budget": "5000", "start": "2020-01-01", "end": "2099-12-31",
      "ratio": null, "max_per_pledge": null, "max_per_project": null,
      "max_per_donor": null, "threshold": null, "share_of_goal": "0.2",
      "amount": null, "min_progress": null, "min_backers": null
    }
  }
}"#;

fn at(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .expect("a timestamp")
        .as_second()
}

/// During the campaigns.
fn in_campaign() -> i64 {
    at("2026-03-15T12:00:00Z")
}

/// The morning after their end, when the cron runs.
fn close_time() -> jiff::Timestamp {
    "2026-04-01T06:00:00Z".parse().expect("a timestamp")
}

/// Refunds paced and retried fast (the rules, not the durations, are tested).
fn fast() -> RefundPolicy {
    RefundPolicy {
        attempts: 3,
        backoff: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(4),
        interval: Duration::ZERO,
    }
}

/// Stripe, as the close checks use it: the double, and a client on it.
struct Stripe {
    double: StripeDouble,
    payments: StripePayments,
}

impl Stripe {
    async fn start() -> Stripe {
        let double = StripeDouble::start().await.expect("the Stripe double");
        let payments = StripePayments::new(&double.config()).expect("a client on the double");
        Stripe { double, payments }
    }

    /// The refund requests the double received for a PaymentIntent.
    fn refund_requests(&self, payment_intent: &str) -> Vec<RecordedRequest> {
        self.double
            .requests()
            .into_iter()
            .filter(|r| {
                r.path == "/v1/refunds" && r.field("payment_intent") == Some(payment_intent)
            })
            .collect()
    }

    /// The refunds Stripe holds for the charge of a PaymentIntent, and the
    /// amount refunded (cents).
    fn refunds_of(&self, payment_intent: &str) -> (usize, i64) {
        let event = self
            .double
            .charge_refunded(payment_intent, now())
            .expect("a charge");
        let body: serde_json::Value = serde_json::from_str(&event.body).expect("JSON");
        let charge = &body["data"]["object"];
        let refunds = charge["refunds"]["data"].as_array().map_or(0, Vec::len);
        (refunds, charge["amount_refunded"].as_i64().unwrap_or(-1))
    }
}

/// The API's state on a store and the Stripe double, for webhook checks.
fn webhook_state<S: Backend>(store: S, suite: &Suite<S>, stripe: &Stripe) -> AppState<S> {
    AppState {
        store,
        catalog: std::sync::RwLock::new(suite.catalog.clone()),
        payments: Arc::new(StripePayments::new(&stripe.double.config()).expect("client")),
        config: ApiConfig {
            site_url: "https://pave.example".into(),
            allowed_origins: vec![],
            webhook_secret: pave_functions::stripe::double::WEBHOOK_SECRET.into(),
            api_url: None,
        },
        changes: None,
        local: None,
        mailer: pave_functions::mail::Mailer::disabled(),
        limits: pave_functions::api::limits::Limits::none(),
    }
}

/// A Stripe whose connection dies after `ok` refund calls: the next call
/// reaches Stripe but its answer is lost, the ones after never leave.
struct Crashing<'a> {
    inner: &'a StripePayments,
    ok: AtomicUsize,
}

impl Payments for Crashing<'_> {
    fn create_checkout<'a>(
        &'a self,
        request: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<CheckoutSession, PaymentError>> {
        self.inner.create_checkout(request)
    }

    fn expire_checkout<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        self.inner.expire_checkout(session_id)
    }

    fn refund<'a>(
        &'a self,
        payment_intent: &'a str,
        amount_cents: Option<i64>,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            let left = self.ok.load(Ordering::SeqCst);
            if left == usize::MAX {
                return Err(PaymentError::Transport("connection refused".into()));
            }
            if left == 0 {
                self.ok.store(usize::MAX, Ordering::SeqCst);
                let _ = self
                    .inner
                    .refund(payment_intent, amount_cents, idempotency_key)
                    .await;
                return Err(PaymentError::Transport("connection reset".into()));
            }
            self.ok.store(left - 1, Ordering::SeqCst);
            self.inner
                .refund(payment_intent, amount_cents, idempotency_key)
                .await
        })
    }
}

/// Payments that record refunds and accept them all (no HTTP).
#[derive(Default)]
struct Accepting {
    refunds: std::sync::Mutex<Vec<(String, String)>>,
}

impl Payments for Accepting {
    fn create_checkout<'a>(
        &'a self,
        _request: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<CheckoutSession, PaymentError>> {
        Box::pin(async { Err(PaymentError::Config("no checkout here".into())) })
    }

    fn expire_checkout<'a>(
        &'a self,
        _session_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async { Err(PaymentError::Config("no checkout here".into())) })
    }

    fn refund<'a>(
        &'a self,
        payment_intent: &'a str,
        _amount_cents: Option<i64>,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            self.refunds
                .lock()
                .expect("lock")
                .push((payment_intent.to_string(), idempotency_key.to_string()));
            Ok(Refund {
                id: format!("re_{idempotency_key}"),
                status: RefundStatus::Succeeded,
            })
        })
    }
}

impl<S: Backend> Suite<S> {
    fn closing(store: S) -> Suite<S> {
        Suite {
            store: Arc::new(store),
            catalog: Arc::new(
                Catalog::from_json(CLOSE_CATALOG.as_bytes()).expect("the close catalog is valid"),
            ),
        }
    }

    /// Creates the pledge, opens its checkout on the double, completes it,
    /// and applies the payment at `paid_at`: the PaymentIntent and what the
    /// store did.
    async fn pay_via(&self, stripe: &Stripe, p: &NewPledge, paid_at: i64) -> (String, Applied) {
        self.create(p).await;
        let request = CheckoutRequest {
            pledge_id: p.id.clone(),
            project_slug: p.project.clone(),
            project_title: "Projet".into(),
            amount_cents: pave_functions::money::to_cents(p.amount).expect("cents"),
            currency: "eur".into(),
            customer_email: None,
            success_url: "https://pave.example/ok".into(),
            cancel_url: "https://pave.example/retour".into(),
            expires_at: checkout_expiry(now(), 3600),
            locale: Locale::Fr,
        };
        let session = stripe
            .payments
            .create_checkout(&request)
            .await
            .expect("a checkout");
        stripe
            .double
            .complete_checkout(&session.id, now())
            .expect("a known session");
        let intent = stripe.double.session(&session.id).expect("the session")["payment_intent"]
            .as_str()
            .expect("a PaymentIntent")
            .to_string();
        let applied = self
            .store
            .apply_paid(
                &self.catalog,
                &format!("evt_paid_{}", p.id),
                &p.id,
                &Payment {
                    intent: Some(&intent),
                    amount_cents: to_cents(p.amount).expect("cents"),
                    currency: "eur",
                },
                paid_at,
            )
            .await
            .expect("apply_paid");
        (intent, applied)
    }

    async fn ledger_of(&self, project: &str) -> BTreeMap<String, LedgerPledge> {
        self.store
            .ledger_pledges(project)
            .await
            .expect("ledger")
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect()
    }

    async fn close_run<P: Payments>(&self, payments: &P) -> CloseReport {
        close::run(
            self.store.as_ref(),
            payments,
            &self.catalog,
            close_time(),
            fast(),
            &Mailer::disabled(),
        )
        .await
    }
}

/// 11. A campaign that reached its goal is funded at its close: matching
///     stays, the on_success pool pays (citizens alone reached the goal),
///     and closing again changes nothing.
async fn close_funds_a_campaign_that_reached_its_goal<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let mut ledger = Ledger::default();
    for (id, amount) in [("p-1", "300"), ("p-2", "400"), ("p-3", "400")] {
        let p = pledge(id, POTAGER, amount);
        let (_, applied) = suite.pay_via(&stripe, &p, in_campaign()).await;
        ledger.paid(&p, &applied);
    }
    // 1 100 € from citizens, 550 € at half, the 100 € lump sum: 1 750 €.
    assert_eq!(suite.store.collected(POTAGER).await.unwrap(), d("1750"));
    // keep_it_all below its goal.
    let p = pledge("p-velo", VELO, "250");
    let (_, applied) = suite.pay_via(&stripe, &p, in_campaign()).await;
    assert_eq!(applied, changed(VELO, vec![]));

    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");
    let closed = report.projects.iter().find(|p| p.project == POTAGER);
    let closed = closed.expect("the potager's close");
    assert_eq!(closed.outcome, Outcome::Funded);
    assert_eq!(closed.state, CloseState::Closed);
    assert_eq!(closed.on_success, vec![m(SUCCESS, "200")]);
    assert_eq!(closed.refunds_issued, 0);

    let figures = suite.figures(POTAGER).await;
    assert_eq!(figures.outcome.as_deref(), Some("funded"));
    assert!(!figures.refunded);
    assert_eq!(figures.raised, d("1100"));
    assert_eq!(figures.matched[SUCCESS].0, d("200"));
    assert_eq!(figures.matched_total(), d("850"));
    assert_eq!(suite.spent(SUCCESS).await, d("200"));
    assert_eq!(suite.snapshot().await.projects[POTAGER], figures);
    assert!(
        stripe
            .double
            .requests()
            .iter()
            .all(|r| r.path != "/v1/refunds")
    );

    // Again: already closed, nothing more is paid.
    let again = suite.close_run(&stripe.payments).await;
    assert!(
        again.projects.iter().all(|p| p.project != POTAGER),
        "{again:?}"
    );
    assert_eq!(suite.figures(POTAGER).await, figures);
    assert_eq!(suite.spent(SUCCESS).await, d("200"));

    // keep_it_all below its goal: funded with what it raised; the
    // on_success pool does not pay.
    let velo = report
        .projects
        .iter()
        .find(|p| p.project == VELO)
        .expect("velo");
    assert_eq!(
        (velo.outcome, velo.state),
        (Outcome::Funded, CloseState::Closed)
    );
    assert!(velo.on_success.is_empty());
    let figures = suite.figures(VELO).await;
    assert_eq!(figures.raised, d("250"));
    assert_eq!(figures.outcome.as_deref(), Some("funded"));
}

/// 12. An all-or-nothing campaign below its goal: every paid pledge is
///     refunded once through Stripe (idempotency key from the pledge id),
///     every match goes back to its pool, the project shows not funded; the
///     `charge.refunded` webhooks that follow change nothing, nor does a
///     second run.
async fn close_refunds_a_campaign_that_missed_its_goal<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let mut intents = BTreeMap::new();
    for (id, amount) in [("p-1", "100"), ("p-2", "200"), ("p-3", "150")] {
        let p = pledge(id, FOUR, amount);
        let (intent, applied) = suite.pay_via(&stripe, &p, in_campaign()).await;
        assert!(matches!(applied, Applied::Changed { .. }), "{applied:?}");
        intents.insert(id.to_string(), intent);
    }
    assert!(suite.spent(HALF).await > Decimal::ZERO);
    assert_eq!(suite.spent(LUMP).await, d("100"));

    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");
    let four = report
        .projects
        .iter()
        .find(|p| p.project == FOUR)
        .expect("four");
    assert_eq!(four.outcome, Outcome::NotFunded);
    assert_eq!(four.state, CloseState::Closed);
    assert_eq!(four.refunds_issued, 3);

    let figures = suite.figures(FOUR).await;
    assert_eq!(figures.raised, Decimal::ZERO);
    assert!(figures.matched.is_empty(), "{figures:?}");
    assert_eq!(
        (figures.pledges, figures.backers, figures.refunds),
        (0, 0, 3)
    );
    assert!(figures.refunded);
    assert_eq!(figures.outcome.as_deref(), Some("not_funded"));
    assert_eq!(suite.spent(HALF).await, Decimal::ZERO);
    assert_eq!(suite.spent(LUMP).await, Decimal::ZERO);
    assert_eq!(suite.spent(SUCCESS).await, Decimal::ZERO);

    let ledger = suite.ledger_of(FOUR).await;
    let mut refund_ids = BTreeSet::new();
    for (id, intent) in &intents {
        let requests = stripe.refund_requests(intent);
        assert_eq!(requests.len(), 1, "{id}: one refund request");
        assert_eq!(
            requests[0].header("idempotency-key"),
            Some(close::idempotency_key(id).as_str())
        );
        let entry = &ledger[id];
        assert_eq!(entry.status, PledgeStatus::Refunded);
        assert_eq!(entry.refund_reason, Some(RefundReason::GoalMissed));
        assert_eq!(entry.refund_attempts, 1);
        assert!(refund_ids.insert(entry.refund_id.clone().expect("a refund id")));
        let cents = pave_functions::money::to_cents(entry.amount).unwrap();
        assert_eq!(
            stripe.refunds_of(intent),
            (1, cents),
            "{id}: refunded once, whole"
        );
    }

    // Stripe's charge.refunded for each: the ledger changed already.
    for id in intents.keys() {
        let applied = suite.refund(&format!("evt_refunded_{id}"), id).await;
        assert!(matches!(applied, Applied::NoEffect { .. }), "{applied:?}");
    }
    assert_eq!(suite.figures(FOUR).await, figures);

    let again = suite.close_run(&stripe.payments).await;
    assert!(!again.failed() && again.projects.iter().all(|p| p.project != FOUR));
    for intent in intents.values() {
        assert_eq!(stripe.refund_requests(intent).len(), 1);
    }
    assert_eq!(suite.figures(FOUR).await, figures);
}

/// 13. A close that dies half-way (the answer to the third refund is lost,
///     the rest never reach Stripe) is finished by the next run: every
///     pledge refunded exactly once, at Stripe and in the ledger.
async fn close_resumes_after_a_crash<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let mut intents = BTreeMap::new();
    for i in 1..=5 {
        let id = format!("p-{i}");
        let p = pledge(&id, FOUR, "50");
        let (intent, _) = suite.pay_via(&stripe, &p, in_campaign()).await;
        intents.insert(id, intent);
    }
    let crashing = Crashing {
        inner: &stripe.payments,
        ok: AtomicUsize::new(2),
    };
    let first = suite.close_run(&crashing).await;
    assert!(first.failed());
    let four = first
        .projects
        .iter()
        .find(|p| p.project == FOUR)
        .expect("four");
    assert_eq!(four.refunds_issued, 2);
    assert_eq!(four.refunds_failed.len(), 3);
    assert!(four.refunds_failed.iter().all(|f| f.code == "unreachable"));
    assert_eq!(four.state, CloseState::Refunding);
    assert_eq!(
        suite
            .store
            .close_record(FOUR)
            .await
            .unwrap()
            .map(|c| c.state),
        Some(CloseState::Refunding)
    );
    // Out of the figures at once, pending for the next run.
    assert_eq!(suite.figures(FOUR).await.raised, Decimal::ZERO);
    assert_eq!(suite.store.pending_refunds().await.unwrap().len(), 3);

    let second = suite.close_run(&stripe.payments).await;
    assert!(!second.failed(), "{second:?}");
    let four = second
        .projects
        .iter()
        .find(|p| p.project == FOUR)
        .expect("four");
    assert_eq!((four.refunds_issued, four.state), (3, CloseState::Closed));
    assert_eq!(four.outcome, Outcome::NotFunded);

    let ledger = suite.ledger_of(FOUR).await;
    let mut refund_ids = BTreeSet::new();
    for (id, intent) in &intents {
        assert_eq!(
            stripe.refunds_of(intent),
            (1, 5000),
            "{id}: refunded once at Stripe"
        );
        let entry = &ledger[id];
        assert_eq!(entry.status, PledgeStatus::Refunded, "{id}");
        assert_eq!(entry.refund_error, None);
        assert!(refund_ids.insert(entry.refund_id.clone().expect("a refund id")));
        let keys: BTreeSet<String> = stripe
            .refund_requests(intent)
            .iter()
            .filter_map(|r| r.header("idempotency-key").map(str::to_string))
            .collect();
        assert_eq!(keys, BTreeSet::from([close::idempotency_key(id)]));
    }
    // The lost answer was asked again with the same key: one refund.
    assert_eq!(stripe.refund_requests(&intents["p-3"]).len(), 2);
    assert_eq!(ledger["p-3"].refund_attempts, 2);
    assert!(suite.store.pending_refunds().await.unwrap().is_empty());
    let figures = suite.figures(FOUR).await;
    assert_eq!((figures.refunds, figures.raised), (5, Decimal::ZERO));
}

/// 14. A refund Stripe refuses is recorded with Stripe's code and reported,
///     and retried by the next run.
async fn refused_refunds_are_recorded_and_retried<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let p = pledge("p-1", FOUR, "80");
    let (intent, _) = suite.pay_via(&stripe, &p, in_campaign()).await;
    stripe
        .double
        .fail_refunds(Some(StripeFailure::invalid_request(
            "charge_disputed",
            "The charge is disputed.",
            None,
        )));
    let report = suite.close_run(&stripe.payments).await;
    assert!(report.failed());
    let failed: Vec<&FailedRefund> = report.failed_refunds().collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].pledge_id.as_str(), failed[0].code.as_str()),
        ("p-1", "charge_disputed")
    );
    let entry = &suite.ledger_of(FOUR).await["p-1"];
    assert_eq!(entry.status, PledgeStatus::Refunding);
    assert_eq!(entry.refund_error.as_deref(), Some("charge_disputed"));
    assert_eq!(
        suite
            .store
            .close_record(FOUR)
            .await
            .unwrap()
            .map(|c| c.state),
        Some(CloseState::Refunding)
    );

    stripe.double.fail_refunds(None);
    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");
    let entry = &suite.ledger_of(FOUR).await["p-1"];
    assert_eq!(entry.status, PledgeStatus::Refunded);
    assert_eq!(entry.refund_error, None);
    assert_eq!(stripe.refunds_of(&intent), (1, 8000));
    assert_eq!(
        suite
            .store
            .close_record(FOUR)
            .await
            .unwrap()
            .map(|c| c.state),
        Some(CloseState::Closed)
    );
}

/// 15. A payment after the campaign's end, or for a project whose close has
///     started, is never counted: recorded `campaign_closed` and refunded.
async fn late_payments_are_refunded_not_counted<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let early = pledge("p-early", VELO, "100");
    suite.pay_via(&stripe, &early, in_campaign()).await;
    let before = suite.figures(VELO).await;

    // Paid on 1 April, Paris time: the campaign ended on 31 March.
    let late = pledge("p-late", VELO, "40");
    let (intent, applied) = suite
        .pay_via(&stripe, &late, at("2026-03-31T22:00:01Z"))
        .await;
    assert_eq!(
        applied,
        Applied::Refused {
            project: VELO.to_string(),
            reason: RefundReason::CampaignClosed
        }
    );
    let figures = suite.figures(VELO).await;
    assert_eq!(figures.raised, before.raised);
    assert_eq!(figures.pledges, 1);
    assert_eq!(figures.refunds, 1);
    let failed = close::refund_refused(
        suite.store.as_ref(),
        &stripe.payments,
        VELO,
        &late.id,
        Some(&intent),
        RefundReason::CampaignClosed,
        now(),
    )
    .await
    .expect("refund");
    assert_eq!(failed, None);
    assert_eq!(stripe.refunds_of(&intent), (1, 4000));
    let entry = &suite.ledger_of(VELO).await["p-late"];
    assert_eq!(
        (entry.status, entry.refund_reason),
        (PledgeStatus::Refunded, Some(RefundReason::CampaignClosed))
    );

    // Another late payment whose refund the webhook could not make: the
    // close run that funds the project makes it.
    let late2 = pledge("p-late-2", VELO, "20");
    let (intent2, applied) = suite
        .pay_via(&stripe, &late2, at("2026-04-01T09:00:00Z"))
        .await;
    assert!(matches!(applied, Applied::Refused { .. }), "{applied:?}");
    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");
    let velo = report
        .projects
        .iter()
        .find(|p| p.project == VELO)
        .expect("velo");
    assert_eq!(velo.outcome, Outcome::Funded);
    assert_eq!(report.late_refunds_issued, 1, "{report:?}");
    assert_eq!(stripe.refunds_of(&intent2), (1, 2000));

    // Closed: a payment stamped inside the campaign (a skewed clock) is
    // refused too.
    let skewed = pledge("p-skewed", VELO, "30");
    let (_, applied) = suite.pay_via(&stripe, &skewed, in_campaign()).await;
    assert!(
        matches!(
            applied,
            Applied::Refused {
                reason: RefundReason::CampaignClosed,
                ..
            }
        ),
        "{applied:?}"
    );
    // Its refund failed (say) in the webhook: the next run makes it.
    let report = suite.close_run(&stripe.payments).await;
    assert_eq!(report.late_refunds_issued, 1, "{report:?}");
    assert_eq!(suite.figures(VELO).await.raised, before.raised);
    assert_eq!(suite.figures(VELO).await.outcome.as_deref(), Some("funded"));
}

/// 16. Over the cap under concurrency: ten 30 € payments on a project
///     capped at 100 € (one handle each). Exactly three are counted; the
///     seven that would cross the cap are refused `over_cap`, refunded
///     whole by the next run, and the figures never exceed the cap.
async fn over_cap_payments_are_refunded_whole<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let pledges: Vec<NewPledge> = (0..10)
        .map(|i| pledge(&format!("p-cap-{i}"), PLAFOND, "30"))
        .collect();
    for p in &pledges {
        suite.create(p).await;
    }
    let mut tasks = Vec::new();
    for p in &pledges {
        let task = Suite {
            store: Arc::new(db()),
            catalog: suite.catalog.clone(),
        };
        let id = p.id.clone();
        tasks.push(tokio::spawn(async move {
            task.pay(&format!("evt_{id}"), &id).await
        }));
    }
    let mut counted = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task") {
            Applied::Changed { .. } => counted += 1,
            Applied::Refused {
                reason: RefundReason::OverCap,
                ..
            } => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((counted, refused), (3, 7));
    let figures = suite.figures(PLAFOND).await;
    assert_eq!(figures.raised, d("90"));
    assert_eq!((figures.pledges, figures.refunds), (3, 7));
    assert!(suite.store.collected(PLAFOND).await.unwrap() <= d("100"));

    let pending = suite.store.pending_refunds().await.unwrap();
    assert_eq!(pending.len(), 7);
    assert!(pending.iter().all(|(project, p)| project == PLAFOND
        && p.refund_reason == Some(RefundReason::OverCap)
        && p.amount == d("30")));
    let accepting = Accepting::default();
    let report = close::run(
        suite.store.as_ref(),
        &accepting,
        &suite.catalog,
        jiff::Timestamp::now(),
        fast(),
        &Mailer::disabled(),
    )
    .await;
    assert_eq!(report.late_refunds_issued, 7, "{report:?}");
    let keys: BTreeSet<String> = accepting
        .refunds
        .lock()
        .unwrap()
        .iter()
        .map(|(_, key)| key.clone())
        .collect();
    assert_eq!(keys.len(), 7, "one refund per refused pledge");
    assert!(suite.store.pending_refunds().await.unwrap().is_empty());
    // The live project is not closed by the run.
    assert_eq!(suite.store.close_record(PLAFOND).await.unwrap(), None);
    assert_eq!(suite.figures(PLAFOND).await.raised, d("90"));
}

/// 17. Through the webhook: a payment arriving after the campaign's end is
///     refunded at once by the webhook and never counted; Stripe's
///     redelivery and its `charge.refunded` change nothing more.
async fn webhook_refunds_a_late_payment<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let state = webhook_state(db(), &suite, &stripe);
    // VELO ended on 31 March 2026; the webhook pays now.
    let p = pledge("p-late", VELO, "25");
    suite.create(&p).await;
    let request = CheckoutRequest {
        pledge_id: p.id.clone(),
        project_slug: VELO.into(),
        project_title: "Le Vélo-cargo".into(),
        amount_cents: 2500,
        currency: "eur".into(),
        customer_email: None,
        success_url: "https://pave.example/ok".into(),
        cancel_url: "https://pave.example/retour".into(),
        expires_at: checkout_expiry(now(), 3600),
        locale: Locale::Fr,
    };
    let session = stripe.payments.create_checkout(&request).await.unwrap();
    let event = stripe.double.complete_checkout(&session.id, now()).unwrap();
    let intent = stripe.double.session(&session.id).unwrap()["payment_intent"]
        .as_str()
        .unwrap()
        .to_string();

    let outcome = handle_webhook(&state, Some(&event.header), event.body.as_bytes())
        .await
        .expect("webhook");
    assert_eq!(outcome, "refunded");
    assert_eq!(stripe.refunds_of(&intent), (1, 2500));
    let entry = &suite.ledger_of(VELO).await["p-late"];
    assert_eq!(
        (entry.status, entry.refund_reason),
        (PledgeStatus::Refunded, Some(RefundReason::CampaignClosed))
    );
    let figures = suite.figures(VELO).await;
    assert_eq!(
        (figures.raised, figures.pledges, figures.refunds),
        (Decimal::ZERO, 0, 1)
    );

    let again = handle_webhook(&state, Some(&event.header), event.body.as_bytes()).await;
    assert_eq!(again.expect("redelivery"), "duplicate");
    let refunded = stripe.double.charge_refunded(&intent, now()).unwrap();
    let outcome = handle_webhook(&state, Some(&refunded.header), refunded.body.as_bytes())
        .await
        .expect("charge.refunded");
    assert_eq!(outcome, "no_effect");
    assert_eq!(stripe.refund_requests(&intent).len(), 1);
    assert_eq!(suite.figures(VELO).await, figures);
}

/// 18. Two close runs at once (two crons, say): one outcome, and each
///     pledge refunded once at Stripe, whatever the interleaving.
async fn concurrent_close_runs_refund_once<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let mut intents = Vec::new();
    for i in 1..=4 {
        let p = pledge(&format!("p-{i}"), FOUR, "60");
        intents.push(suite.pay_via(&stripe, &p, in_campaign()).await.0);
    }
    let (a, b) = (Suite::closing(db()), Suite::closing(db()));
    let (ra, rb) = tokio::join!(a.close_run(&stripe.payments), b.close_run(&stripe.payments));
    assert!(!ra.failed() && !rb.failed(), "{ra:?} {rb:?}");
    let issued: u32 = ra
        .projects
        .iter()
        .chain(&rb.projects)
        .filter(|p| p.project == FOUR)
        .map(|p| p.refunds_issued)
        .sum();
    assert!(
        issued >= 4,
        "every refund issued at least once: {ra:?} {rb:?}"
    );
    for intent in &intents {
        assert_eq!(stripe.refunds_of(intent), (1, 6000), "{intent}: one refund");
    }
    let ledger = suite.ledger_of(FOUR).await;
    assert!(ledger.values().all(|p| p.status == PledgeStatus::Refunded));
    let ids: BTreeSet<_> = ledger.values().map(|p| p.refund_id.clone()).collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(
        suite
            .store
            .close_record(FOUR)
            .await
            .unwrap()
            .map(|c| (c.state, c.outcome)),
        Some((CloseState::Closed, Some(Outcome::NotFunded)))
    );
    let figures = suite.figures(FOUR).await;
    assert_eq!((figures.raised, figures.refunds), (Decimal::ZERO, 4));
    assert_eq!(suite.spent(HALF).await, Decimal::ZERO);
}

/// 19. A donor asks to be forgotten: their name, email and offers' text
///     leave the store (not a byte remains), while every amount, match,
///     figure and pool spending stays exactly as it was; a second erasure
///     finds nothing, and the anonymised pledges still refund correctly.
async fn erasure_forgets_the_donor_and_keeps_the_ledger<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::new(db());
    let email = "Camille.Martin@example.org";
    let camille = |id: &str, project: &str, amount: &str| NewPledge {
        email: email.to_string(),
        donor: "donor:camille".to_string(),
        display_name: Some("Camille Martin".to_string()),
        // She had agreed to share her contact with the holders: the
        // statements' copies must go too.
        share_contact: true,
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

/// 20. The statements' source: each project's ledger (paid pledges with
///     their active matches, the close's on_success matches) adds up, to
///     the cent, to the figures the site shows — funded with a lump sum and
///     an on_success match, a pledge refunded from Stripe's dashboard, a
///     campaign refunded whole — and a donor's name and email are in it only
///     when they agreed to share them.
async fn statements_equal_the_ledger<S: Backend>(db: impl Fn() -> S) {
    let suite = Suite::closing(db());
    let stripe = Stripe::start().await;
    let consenting = NewPledge {
        display_name: Some("Ada Lovelace".into()),
        share_contact: true,
        ..pledge("p-1", POTAGER, "300.10")
    };
    let silent = NewPledge {
        display_name: Some("Grace Hopper".into()),
        ..pledge("p-2", POTAGER, "400.45")
    };
    let same_donor = NewPledge {
        donor: "donor:p-2".into(),
        ..pledge("p-3", POTAGER, "400")
    };
    let refunded = pledge("p-4", POTAGER, "50.05");
    for p in [&consenting, &silent, &same_donor, &refunded] {
        suite.pay_via(&stripe, p, in_campaign()).await;
    }
    suite.refund("evt_refund_p-4", "p-4").await;
    suite
        .pay_via(&stripe, &pledge("p-5", FOUR, "120.33"), in_campaign())
        .await;
    suite
        .pay_via(&stripe, &pledge("p-6", VELO, "99.99"), in_campaign())
        .await;
    let report = suite.close_run(&stripe.payments).await;
    assert!(!report.failed(), "{report:?}");

    let snapshot = suite.snapshot().await;
    for project in [POTAGER, FOUR, VELO] {
        let ledger = suite.store.project_ledger(project).await.expect("ledger");
        let totals = ProjectTotals::of(&ledger);
        let figures = &snapshot.projects[project];
        assert!(
            totals.agrees_with(figures),
            "{project}: {totals:?} != {figures:?}"
        );
        for entry in &ledger.pledges {
            if entry.status != PledgeStatus::Paid {
                assert!(entry.matches.is_empty(), "{project}: {entry:?}");
            }
        }
    }

    let potager = suite.store.project_ledger(POTAGER).await.expect("ledger");
    let totals = ProjectTotals::of(&potager);
    assert_eq!(totals.raised, d("1100.55"));
    assert_eq!((totals.pledges, totals.backers, totals.refunds), (3, 2, 1));
    assert_eq!(potager.close_matches, vec![m(SUCCESS, "200")]);
    assert_eq!(totals.matched[LUMP], d("100"));
    let contacts: Vec<_> = potager
        .pledges
        .iter()
        .filter_map(|p| p.contact.as_ref().map(|c| (p.id.as_str(), c)))
        .collect();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0].0, "p-1");
    assert_eq!(contacts[0].1.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(contacts[0].1.email, "p-1@donors.example");

    let four = ProjectTotals::of(&suite.store.project_ledger(FOUR).await.expect("ledger"));
    assert_eq!((four.raised, four.refunds), (Decimal::ZERO, 1));
}

// ---------------------------------------------------------------- instances

/// One thin test per check for a backend flavour: `$setup(test_name).await`
/// returns the check's handle factory on a fresh database.
macro_rules! store_suite {
    ($module:ident, $setup:ident) => {
        store_suite!(
            @tests $module, $setup:
            paid_pledge_is_counted_and_matched,
            redelivered_event_is_applied_once,
            concurrent_deliveries_apply_once,
            out_of_order_events_are_harmless,
            concurrent_pledges_spend_the_budget_to_the_cent,
            concurrent_pledges_stop_at_a_tight_cap,
            refunds_release_matches_to_the_pool,
            limited_rewards_are_reserved_and_released,
            limited_reward_race_is_never_oversold,
            offers_and_donors_stay_private,
            close_funds_a_campaign_that_reached_its_goal,
            close_refunds_a_campaign_that_missed_its_goal,
            close_resumes_after_a_crash,
            refused_refunds_are_recorded_and_retried,
            late_payments_are_refunded_not_counted,
            over_cap_payments_are_refunded_whole,
            webhook_refunds_a_late_payment,
            concurrent_close_runs_refund_once,
            erasure_forgets_the_donor_and_keeps_the_ledger,
            statements_equal_the_ledger,
            a_refund_before_its_completion_wins,
            a_late_completion_rechecks_the_reward,
            an_amount_or_currency_mismatch_is_never_counted,
            a_partial_refund_takes_the_pledge_and_its_matches_out,
            webhook_refunds_the_rest_of_a_partial_refund,
            no_one_holds_more_than_their_share_of_places,
        );
    };
    (@tests $module:ident, $setup:ident: $($check:ident),* $(,)?) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    let db = super::$setup(concat!(stringify!($module), "-", stringify!($check))).await;
                    super::$check(&db).await;
                    // Whatever the check did (concurrent payments, refunds,
                    // a close, an erasure), the running totals equal the ledger.
                    let differences = super::Backend::totals_differences(&db()).await;
                    assert!(differences.is_empty(), "running totals differ from the ledger: {differences:#?}");
                }
            )*
        }
    };
}

store_suite!(sqlite_memory, sqlite_in_memory);
store_suite!(sqlite_on_file, sqlite_file);
store_suite!(dynamodb, dynamo_on_moto);
