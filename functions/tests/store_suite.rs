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
use pave_functions::clock::Clock;
use pave_functions::close::{self, CloseReport, FailedRefund, RefundPolicy};
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

// The checks, by concern, over the harness below.
#[path = "store_suite/closing.rs"]
mod closing;
#[path = "store_suite/event_order.rs"]
mod event_order;
#[path = "store_suite/outbox.rs"]
mod outbox;
#[path = "store_suite/payments.rs"]
mod payments;
#[path = "store_suite/places.rs"]
mod places;
#[path = "store_suite/privacy.rs"]
mod privacy;
#[path = "store_suite/statements.rs"]
mod statements;
use closing::*;
use event_order::*;
use outbox::*;
use payments::*;
use places::*;
use privacy::*;
use statements::*;

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

    /// The same store, seeing the time through `clock`.
    fn with_clock(self, clock: Clock) -> Self;
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

    fn with_clock(self, clock: Clock) -> Self {
        SqliteStore::with_clock(self, clock)
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

    fn with_clock(self, clock: Clock) -> Self {
        DynamoStore::with_clock(self, clock)
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
        news: false,
        message: None,
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
        frames: Default::default(),
        payments: Arc::new(StripePayments::new(&stripe.double.config()).expect("client")),
        config: ApiConfig {
            site_url: "https://pave.example".into(),
            allowed_origins: vec![],
            webhook_secret: pave_functions::stripe::double::WEBHOOK_SECRET.into(),
            api_url: None,
        },
        changes: None,
        local: None,
        outbox: Default::default(),
        limits: pave_functions::api::limits::Limits::none(),
        fresh: Default::default(),
        clock: Default::default(),
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
        )
        .await
    }
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
            a_reservation_lapses_on_the_stores_clock,
            the_outbox_sends_each_email_once,
            offers_reach_the_ledger_and_contacts_are_kept,
            news_reach_the_readers_who_asked_until_they_stop,
            the_wall_shows_paid_pledges_newest_first_by_chosen_name,
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
