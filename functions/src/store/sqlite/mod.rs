//! The embedded store: SQLite (bundled), in WAL mode, one writer. Amounts are
//! integer cents. Each operation is one `BEGIN IMMEDIATE` transaction, so
//! concurrent webhooks are serialised: a pool's budget is read and spent
//! under the same lock. By concern: `schema` (and migrations), `tx`
//! (transaction plumbing), `reads`, `payments`, `closing`, and `store` (the
//! `Store` trait over them); here, the connection and its lock.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;

use super::{
    Applied, CloseRecord, CloseState, Contact, ERASED_TEXT, Erased, LedgerEntry, LedgerPledge,
    NewPledge, Offer, Outcome, PledgeContact, PledgeStatus, ProjectLedger, RefundExtent,
    RefundReason, RefundResult, Store, StoreError, anonymous_donor_key, contact_names_email,
};
use crate::catalog::{Catalog, CatalogProject, PoolMode};
use crate::clock::Clock;
use crate::matching::{self, Match, PoolView, ProjectState};
use crate::money::{from_cents, to_cents};
use crate::payment::{self, Payment};
use crate::progress::{Amount, Figures, SNAPSHOT_VERSION, Snapshot};

mod closing;
mod outbox;
mod payments;
mod reads;
mod schema;
mod store;
mod tx;

use closing::*;
use payments::*;
use reads::*;
use schema::*;
use tx::*;

/// What a store file holds (`SqliteStore::inspect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSummary {
    /// Its schema version.
    pub version: i64,
    pub paid_pledges: u32,
    /// Citizens' paid pledges.
    pub raised: Decimal,
    /// Active matches.
    pub matched: Decimal,
    pub offers: u32,
}

/// The SQLite store. Cheap to clone; one connection behind a fair (FIFO)
/// mutex: under load every operation waits its turn, none is overtaken by
/// newcomers.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<tokio::sync::Mutex<Connection>>,
    clock: Clock,
}

impl SqliteStore {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        // Switching a new file to WAL can find another process doing the
        // same and fail at once, busy handler or not: try again a while.
        let start = std::time::Instant::now();
        loop {
            let conn = Connection::open(path).map_err(backend)?;
            match Self::init(conn) {
                Err(StoreError::Backend(e))
                    if e.contains("database is locked")
                        && start.elapsed() < std::time::Duration::from_secs(10) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                opened => return opened,
            }
        }
    }

    /// A private in-memory database (tests).
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        // First: another process may hold the database (a second server
        // starting, `pave backup`); wait for it rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        // Overwritten and deleted content is zeroed, so an erased email
        // does not linger in free space (`erase_donor`).
        conn.pragma_update(None, "secure_delete", "ON")
            .map_err(backend)?;
        // The schema and the migrations in one immediate transaction, the
        // version read inside it: two servers opening one new database at
        // once migrate it once.
        conn.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
        let migrated = (|| {
            conn.execute_batch(SCHEMA)?;
            let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if version < 1 {
                conn.execute_batch(MIGRATION_1)?;
            }
            if version < 2 {
                conn.execute_batch(MIGRATION_2)?;
            }
            if version < 3 {
                conn.execute_batch(&migration_3())?;
            }
            if version < 4 {
                conn.execute_batch(MIGRATION_4)?;
            }
            if version < 5 {
                conn.execute_batch(MIGRATION_5)?;
            }
            conn.execute_batch("COMMIT")
        })();
        if let Err(e) = migrated {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(backend(e));
        }
        // Every statement of the hot paths stays prepared (rusqlite keeps 16).
        conn.set_prepared_statement_cache_capacity(128);
        Ok(SqliteStore {
            conn: Arc::new(tokio::sync::Mutex::new(conn)),
            clock: Clock::system(),
        })
    }

    /// The same store, seeing the time through `clock` (`crate::clock`).
    pub fn with_clock(mut self, clock: Clock) -> SqliteStore {
        self.clock = clock;
        self
    }

    /// Runs `f` in an immediate transaction when the connection is this
    /// operation's (in arrival order), on this thread: a payment or a pledge
    /// holds it for well under a millisecond. `f` may borrow.
    async fn tx<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError>,
    {
        let conn = self.conn.lock().await;
        in_tx(&conn, f)
    }

    /// Runs `f` in an immediate transaction on a blocking thread, the
    /// connection taken in arrival order first: for the long operations (the
    /// snapshot, a ledger, an erasure), which must not hold an async worker.
    async fn tx_blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || in_tx(&conn, f))
            .await
            .map_err(backend)?
    }

    /// The database as stored, for checks that personal data is gone (test
    /// support): the file and its write-ahead log; for an in-memory
    /// database, a copy of it (`VACUUM INTO`).
    pub async fn raw_bytes(&self) -> Result<Vec<u8>, StoreError> {
        let conn = self.conn.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || {
            let file: String = conn
                .query_row(
                    "SELECT file FROM pragma_database_list WHERE name = 'main'",
                    [],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if !file.is_empty() {
                let mut bytes = std::fs::read(&file).map_err(backend)?;
                if let Ok(wal) = std::fs::read(format!("{file}-wal")) {
                    bytes.extend(wal);
                }
                return Ok(bytes);
            }
            static COPIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let copy = std::env::temp_dir().join(format!(
                "pave-raw-{}-{}.db",
                std::process::id(),
                COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ));
            conn.execute(
                "VACUUM INTO ?1",
                params![copy.to_string_lossy().into_owned()],
            )
            .map_err(backend)?;
            let bytes = std::fs::read(&copy).map_err(backend);
            let _ = std::fs::remove_file(&copy);
            bytes
        })
        .await
        .map_err(backend)?
    }

    /// The figures of some projects (those in the list with a pledge, an
    /// offer or a close), read in one transaction: what a refresh of a few
    /// projects' pages needs, without the figures of every project that
    /// `snapshot` reads.
    pub async fn snapshot_of(
        &self,
        projects: impl IntoIterator<Item = String>,
    ) -> Result<Snapshot, StoreError> {
        let slugs: Vec<String> = projects.into_iter().collect();
        let now = self.clock.now();
        self.tx(move |tx| {
            let mut known = Vec::new();
            for slug in slugs {
                if maybe(
                    tx,
                    "SELECT 1 FROM project_totals WHERE project = ?1",
                    params![slug],
                    |_| Ok(()),
                )?
                .is_some()
                {
                    known.push(slug);
                }
            }
            snapshot_tx(tx, known, now)
        })
        .await
    }

    /// The running totals (`migration_3`) against sums over the ledger, in
    /// one transaction: each line of the answer is a difference (none when
    /// they agree). For tests and audits; it reads the whole ledger.
    pub async fn audit_totals(&self) -> Result<Vec<String>, StoreError> {
        self.tx_blocking(|tx| {
            let mut differences = Vec::new();
            for (name, from_ledger, kept) in TOTALS_AUDIT {
                for (side, first, second) in [
                    ("ledger, not kept", from_ledger, kept),
                    ("kept, not in the ledger", kept, from_ledger),
                ] {
                    let sql = format!("SELECT * FROM ({first}) EXCEPT SELECT * FROM ({second})");
                    let mut stmt = tx.prepare(&sql).map_err(backend)?;
                    let columns = stmt.column_count();
                    let rows = stmt
                        .query_map([], |r| {
                            (0..columns)
                                .map(|i| r.get::<_, rusqlite::types::Value>(i))
                                .collect::<rusqlite::Result<Vec<_>>>()
                        })
                        .map_err(backend)?;
                    for row in rows {
                        differences.push(format!("{name}: {side}: {:?}", row.map_err(backend)?));
                    }
                }
            }
            Ok(differences)
        })
        .await
    }

    /// Takes the lease `name` for `holder` until `seconds` from now, unless
    /// another holder has it and it has not run out: of several servers on
    /// one database, one does a scheduled job (the daily close). True when
    /// `holder` has it.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        seconds: i64,
    ) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_string(), holder.to_string());
        let now = self.clock.now();
        self.tx(move |tx| {
            let n = exec(
                tx,
                "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
                 WHERE leases.until <= ?4 OR leases.holder = excluded.holder",
                params![name, holder, now + seconds, now],
            )?;
            Ok(n == 1)
        })
        .await
    }

    /// Gives the lease back (if `holder` still has it).
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.tx(move |tx| {
            exec(
                tx,
                "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                params![name, holder],
            )?;
            Ok(())
        })
        .await
    }

    /// A consistent copy of the live database in `target` (a new file),
    /// taken with `VACUUM INTO` in one read transaction: writers wait for
    /// it only as for any other operation, and the copy holds every
    /// committed pledge, match and offer up to its moment.
    pub async fn backup_to(&self, target: &Path) -> Result<(), StoreError> {
        let target = target.to_string_lossy().into_owned();
        let conn = self.conn.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || {
            conn.execute("VACUUM INTO ?1", params![target])
                .map(|_| ())
                .map_err(backend)
        })
        .await
        .map_err(backend)?
    }

    /// What a store file holds, read without changing it: it must be a
    /// whole SQLite database (`integrity_check`) with Pavé's schema.
    pub fn inspect(path: &Path) -> Result<StoreSummary, StoreError> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(backend)?;
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(backend)?;
        if check != "ok" {
            return Err(StoreError::Backend(format!("damaged: {check}")));
        }
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(backend)?;
        let (pledges, raised): (u32, i64) = conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM pledges WHERE status = 'paid'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(backend)?;
        let matched: i64 = conn
            .query_row(
                "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE active = 1",
                [],
                |r| r.get(0),
            )
            .map_err(backend)?;
        let offers: u32 = conn
            .query_row("SELECT COUNT(*) FROM offers", [], |r| r.get(0))
            .map_err(backend)?;
        Ok(StoreSummary {
            version,
            paid_pledges: pledges,
            raised: from_cents(raised)?,
            matched: from_cents(matched)?,
            offers,
        })
    }

    /// Ends the store cleanly: the write-ahead log is folded into the
    /// database file (a copy of the file alone is then whole).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        let conn = self.conn.lock().await;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(backend)
    }

    /// Sum of a pool's active matches, and per project, per donor (test support too).
    pub async fn pool_spent(&self, pool: &str) -> Result<Decimal, StoreError> {
        let pool = pool.to_string();
        self.tx(move |tx| {
            cents(
                tx,
                "SELECT COALESCE((SELECT spent_cents FROM pool_totals WHERE pool = ?1), 0)",
                params![pool],
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_has_a_lease_until_it_runs_out_or_is_given_back() {
        let at = Arc::new(std::sync::atomic::AtomicI64::new(100));
        let read = at.clone();
        let store = SqliteStore::in_memory()
            .unwrap()
            .with_clock(Clock::from_fn(move || {
                read.load(std::sync::atomic::Ordering::SeqCst)
            }));
        assert!(store.take_lease("close", "a", 60).await.unwrap());
        assert!(!store.take_lease("close", "b", 60).await.unwrap());
        assert!(
            store.take_lease("close", "a", 60).await.unwrap(),
            "its holder renews it"
        );
        assert!(
            store.take_lease("other", "b", 60).await.unwrap(),
            "leases are by name"
        );
        at.store(160, std::sync::atomic::Ordering::SeqCst);
        assert!(store.take_lease("close", "b", 60).await.unwrap(), "run out");
        store.release_lease("close", "a").await.unwrap();
        assert!(
            !store.take_lease("close", "a", 60).await.unwrap(),
            "only its holder gives it back"
        );
        store.release_lease("close", "b").await.unwrap();
        assert!(store.take_lease("close", "a", 60).await.unwrap());
    }

    /// One value read by `sql` (a test's look inside the database).
    async fn scalar<T: rusqlite::types::FromSql + Send + 'static>(
        store: &SqliteStore,
        sql: &'static str,
    ) -> T {
        store
            .tx(move |tx| tx.query_row(sql, [], |r| r.get(0)).map_err(backend))
            .await
            .unwrap()
    }

    /// Removes a test's database file and its WAL companions.
    fn remove_database(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }

    /// A database written before the running totals (schema version 2) is
    /// migrated in place: the totals are backfilled from its ledger (paid,
    /// refunded, refunding and pending pledges, active and cancelled
    /// matches, lump sums, close matches, offers, closes), its figures are
    /// those of the ledger, and later writes keep them equal.
    #[tokio::test]
    async fn a_version_2_database_gets_running_totals_from_its_ledger() {
        let path = std::env::temp_dir().join(format!(
            "pave-sqlite-migration-v2-{}.db",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let future = jiff::Timestamp::now().as_second() + 3600;
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute_batch(MIGRATION_1).unwrap();
            conn.execute_batch(MIGRATION_2).unwrap();
            conn.execute_batch(&format!(
                "INSERT INTO pledges (id, project, amount_cents, reward, email, donor, lang, status, created_at, expires_at, paid_at, refunded_at, refund_reason) VALUES
                 ('p-1', 'cafe', 1000, 0, 'ada@example.org', 'a', 'fr', 'paid', 1, 2, 10, NULL, NULL),
                 ('p-2', 'cafe', 500, NULL, 'ada@example.org', 'a', 'fr', 'paid', 1, 2, 20, NULL, NULL),
                 ('p-3', 'cafe', 700, NULL, 'bob@example.org', 'b', 'fr', 'refunded', 1, 2, 15, 30, NULL),
                 ('p-4', 'cafe', 300, 0, 'cy@example.org', 'c', 'fr', 'pending', 1, {future}, NULL, NULL, NULL),
                 ('p-5', 'velo', 200, NULL, 'ada@example.org', 'a', 'fr', 'paid', 1, 2, 5, NULL, NULL),
                 ('p-6', 'cafe', 400, NULL, 'dee@example.org', 'd', 'fr', 'refunding', 1, 2, 40, NULL, 'over_cap');
                 INSERT INTO matches (pledge_id, project, pool, donor, mode, amount_cents, active, created_at) VALUES
                 ('p-1', 'cafe', 's/x', 'a', 'per_pledge', 500, 1, 10),
                 ('p-3', 'cafe', 's/x', 'b', 'per_pledge', 300, 0, 15),
                 ('p-2', 'cafe', 's/y', 'a', 'lump_sum', 1000, 1, 20),
                 (NULL, 'cafe', 's/z', '', 'on_success', 200, 1, 50),
                 ('p-5', 'velo', 's/x', 'a', 'per_pledge', 100, 1, 5);
                 INSERT INTO offers (project, need, name, contact, message, created_at) VALUES
                 ('cafe', NULL, 'n', 'c', 'm', 1), ('cafe', 0, 'n', 'c', 'm', 2), ('jardin', NULL, 'n', 'c', 'm', 3);
                 INSERT INTO closes (project, state, started_at) VALUES ('parc', 'closing', 60);"
            ))
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.audit_totals().await.unwrap(), Vec::<String>::new());
        let figures = store.figures("cafe").await.unwrap();
        assert_eq!(figures.raised, Decimal::new(1500, 2));
        assert_eq!((figures.pledges, figures.backers), (2, 1));
        assert_eq!((figures.refunds, figures.offers), (2, 2));
        let matched: Vec<(&str, Decimal)> = figures
            .matched
            .iter()
            .map(|(pool, a)| (pool.as_str(), a.0))
            .collect();
        assert_eq!(
            matched,
            [
                ("s/x", Decimal::new(500, 2)),
                ("s/y", Decimal::new(1000, 2)),
                ("s/z", Decimal::new(200, 2))
            ]
        );
        assert_eq!(figures.rewards, BTreeMap::from([(0, 2)]));
        assert_eq!(figures.updated_at.as_deref(), Some("1970-01-01T00:00:30Z"));
        assert_eq!(
            store.collected("cafe").await.unwrap(),
            Decimal::new(3200, 2)
        );
        assert_eq!(store.pool_spent("s/x").await.unwrap(), Decimal::new(600, 2));
        let snapshot = store.snapshot().await.unwrap();
        assert_eq!(
            snapshot.projects.keys().collect::<Vec<_>>(),
            ["cafe", "jardin", "parc", "velo"]
        );
        assert_eq!(snapshot.projects["cafe"], figures);
        assert_eq!(snapshot.projects["jardin"].offers, 1);
        let some = store
            .snapshot_of(["velo".to_string(), "nowhere".to_string()])
            .await
            .unwrap();
        assert_eq!(some.projects.keys().collect::<Vec<_>>(), ["velo"]);
        assert_eq!(some.projects["velo"], snapshot.projects["velo"]);

        // Later writes keep the totals equal to the ledger: a refund (its
        // lump sum released), an erasure (the donor's key replaced).
        store
            .start_refund("p-2", RefundReason::GoalMissed, 70)
            .await
            .unwrap();
        let figures = store.figures("cafe").await.unwrap();
        assert_eq!(figures.raised, Decimal::new(1000, 2));
        assert_eq!(
            (figures.pledges, figures.backers, figures.refunds),
            (1, 1, 3)
        );
        assert!(!figures.matched.contains_key("s/y"));
        store.erase_donor("ada@example.org").await.unwrap();
        assert_eq!(store.audit_totals().await.unwrap(), Vec::<String>::new());
        assert_eq!(store.figures("cafe").await.unwrap(), figures);
        let old_key: bool = scalar(
            &store,
            "SELECT EXISTS (SELECT 1 FROM project_donors WHERE donor = 'a')",
        )
        .await;
        assert!(
            !old_key,
            "an erased donor's key does not stay in the totals"
        );
        drop(store);
        remove_database(&path);
    }

    /// A database written before the statements (schema version 1) opens
    /// with its ledger: its pledges did not ask for consent, so none shares
    /// a contact; new pledges record theirs.
    #[tokio::test]
    async fn a_version_1_database_is_migrated_without_consent() {
        let path = std::env::temp_dir().join(format!(
            "pave-sqlite-migration-v1-{}.db",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute_batch(MIGRATION_1).unwrap();
            conn.execute_batch(
                "INSERT INTO pledges (id, project, amount_cents, display_name, email, donor, lang, status, created_at, expires_at, paid_at) \
                 VALUES ('p-1', 'cafe', 1250, 'Ada', 'ada@example.org', 'd', 'fr', 'paid', 1, 2, 3);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let version: i64 = scalar(&store, "PRAGMA user_version").await;
        assert_eq!(version, 5, "migrated to the latest schema");
        assert_eq!(
            store.figures("cafe").await.unwrap().raised,
            Decimal::new(1250, 2)
        );
        let ledger = store.project_ledger("cafe").await.unwrap();
        assert_eq!(ledger.pledges.len(), 1);
        assert_eq!(ledger.pledges[0].amount, Decimal::new(1250, 2));
        assert_eq!(ledger.pledges[0].contact, None);
        store
            .create_pledge(
                NewPledge {
                    id: "p-2".into(),
                    project: "cafe".into(),
                    amount: Decimal::new(500, 2),
                    reward: None,
                    display_name: None,
                    email: "grace@example.org".into(),
                    donor: "g".into(),
                    lang: "fr".into(),
                    share_contact: true,
                    news: false,
                    message: None,
                    created_at: 10,
                    expires_at: 20,
                    client: None,
                },
                None,
            )
            .await
            .unwrap();
        let shared: bool =
            scalar(&store, "SELECT share_contact FROM pledges WHERE id = 'p-2'").await;
        assert!(shared);
        drop(store);
        remove_database(&path);
    }

    /// A database written before the campaign close (schema version 0) is
    /// migrated in place: its ledger is kept, and on_success matches (with
    /// no pledge) and closes can be recorded.
    #[tokio::test]
    async fn a_version_0_database_is_migrated_with_its_ledger() {
        let path =
            std::env::temp_dir().join(format!("pave-sqlite-migration-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute_batch(
                "INSERT INTO pledges (id, project, amount_cents, donor, lang, status, created_at, expires_at, paid_at) \
                 VALUES ('p-1', 'cafe', 1250, 'd', 'fr', 'paid', 1, 2, 3);
                 INSERT INTO matches (pledge_id, project, pool, donor, mode, amount_cents, created_at) \
                 VALUES ('p-1', 'cafe', 'a/b', 'd', 'per_pledge', 625, 3);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let figures = store.figures("cafe").await.unwrap();
        assert_eq!(figures.raised, Decimal::new(1250, 2));
        assert_eq!(figures.matched["a/b"].0, Decimal::new(625, 2));
        assert_eq!(store.pool_spent("a/b").await.unwrap(), Decimal::new(625, 2));
        let ledger = store.ledger_pledges("cafe").await.unwrap();
        assert_eq!(ledger.len(), 1);
        assert_eq!(ledger[0].refund_attempts, 0);
        store
            .tx(|tx| {
                tx.execute(
                    "INSERT INTO matches (pledge_id, project, pool, donor, mode, amount_cents, created_at) \
                     VALUES (NULL, 'cafe', 'c/d', '', 'on_success', 100, 4)",
                    [],
                )
                .map_err(backend)?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            store.begin_close("cafe", 5).await.unwrap().state,
            CloseState::Closing
        );
        drop(store);
        // Opening again does not migrate twice.
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.figures("cafe").await.unwrap().matched.len(), 2);
        remove_database(&path);
    }
}
