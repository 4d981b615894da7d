//! The embedded store: SQLite (bundled), in WAL mode, one writer. Amounts are
//! integer cents. Each operation is one `BEGIN IMMEDIATE` transaction, so
//! concurrent webhooks are serialised: a pool's budget is read and spent
//! under the same lock.

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
use crate::catalog::{Catalog, PoolMode};
use crate::matching::{self, Match, PoolView, ProjectState};
use crate::money::{from_cents, to_cents};
use crate::payment::{self, Payment};
use crate::progress::{Amount, Figures, SNAPSHOT_VERSION, Snapshot};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pledges (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    reward INTEGER,
    display_name TEXT,
    email TEXT,
    donor TEXT NOT NULL,
    lang TEXT NOT NULL,
    status TEXT NOT NULL,
    checkout_session TEXT,
    payment_intent TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    paid_at INTEGER,
    refunded_at INTEGER
);
CREATE INDEX IF NOT EXISTS pledges_by_project ON pledges (project, status);
CREATE TABLE IF NOT EXISTS matches (
    id INTEGER PRIMARY KEY,
    pledge_id TEXT NOT NULL REFERENCES pledges (id),
    project TEXT NOT NULL,
    pool TEXT NOT NULL,
    donor TEXT NOT NULL,
    mode TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS matches_by_pool ON matches (pool, active);
CREATE INDEX IF NOT EXISTS matches_by_project ON matches (project, active);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    applied_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS offers (
    id INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    need INTEGER,
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
";

/// Schema version 1 (campaign close): refund records on pledges, match
/// records without a pledge (on_success matches belong to the close), and
/// the close of each project. Applied once, to new and old databases alike.
const MIGRATION_1: &str = "
ALTER TABLE pledges ADD COLUMN refund_reason TEXT;
ALTER TABLE pledges ADD COLUMN refund_id TEXT;
ALTER TABLE pledges ADD COLUMN refund_error TEXT;
ALTER TABLE pledges ADD COLUMN refund_attempts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE matches_v1 (
    id INTEGER PRIMARY KEY,
    pledge_id TEXT REFERENCES pledges (id),
    project TEXT NOT NULL,
    pool TEXT NOT NULL,
    donor TEXT NOT NULL,
    mode TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
INSERT INTO matches_v1 (id, pledge_id, project, pool, donor, mode, amount_cents, active, created_at)
    SELECT id, pledge_id, project, pool, donor, mode, amount_cents, active, created_at FROM matches;
DROP TABLE matches;
ALTER TABLE matches_v1 RENAME TO matches;
CREATE INDEX matches_by_pool ON matches (pool, active);
CREATE INDEX matches_by_project ON matches (project, active);
CREATE INDEX matches_by_pledge ON matches (pledge_id);
CREATE TABLE closes (
    project TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    outcome TEXT,
    started_at INTEGER NOT NULL,
    closed_at INTEGER
);
CREATE INDEX pledges_refunding ON pledges (status) WHERE status = 'refunding';
PRAGMA user_version = 1;
";

/// Schema version 2 (statements): the donor's consent to share their name
/// and email with the project holder. Existing pledges did not ask: false.
const MIGRATION_2: &str = "
ALTER TABLE pledges ADD COLUMN share_contact INTEGER NOT NULL DEFAULT 0;
PRAGMA user_version = 2;
";

/// Schema version 4 (places held): the client that asked for a pledge (a
/// keyed hash, see `NewPledge::client`), and whether it holds a place of a
/// limited reward, for the cap on places one donor or client holds.
const MIGRATION_4: &str = "
ALTER TABLE pledges ADD COLUMN client TEXT;
ALTER TABLE pledges ADD COLUMN holds_place INTEGER NOT NULL DEFAULT 0;
CREATE INDEX pledges_holding ON pledges (project, expires_at) WHERE status = 'pending' AND holds_place = 1;
PRAGMA user_version = 4;
";

/// Schema version 3 (running totals): per project, per donor of a project,
/// per reward, per pool of a project and per pool, the sums and counts that
/// the figures and the matching read. Triggers on `pledges`, `matches`,
/// `offers` and `closes` keep them in the statement that changes the
/// ledger, so in its transaction whatever writes it; a payment reads a few
/// rows instead of summing the project's whole ledger. They are derived
/// data: the ledger stays the truth ([`SqliteStore::audit_totals`] compares
/// them with sums over it). Backfilled from the ledger here.
///
/// - `project_totals`: one row per project with a pledge (any status), an
///   offer or a close (the snapshot's projects): paid pledges' sum and
///   count, backers (donors with a paid pledge), pledges refunding or
///   refunded, offers.
/// - `project_donors`: paid pledges per donor of a project; a donor is a
///   backer while it is > 0. The row goes at 0, so an erased donor's old
///   key does not linger.
/// - `project_rewards`: paid pledges per reward (pending reservations,
///   which expire with time, are counted from `pledges_reserving`).
/// - `project_pools`: a pool's active matches for a project (sum, lump sums).
/// - `pool_totals`: a pool's active matches, every project (its spending).
fn migration_3() -> String {
    // What a paid pledge `r` adds to the totals, and takes away.
    let paid_in = |r: &str| {
        format!(
            "INSERT OR IGNORE INTO project_totals (project) VALUES ({r}.project);
    INSERT INTO project_donors (project, donor, paid) VALUES ({r}.project, {r}.donor, 1)
        ON CONFLICT (project, donor) DO UPDATE SET paid = paid + 1;
    UPDATE project_totals SET raised_cents = raised_cents + {r}.amount_cents, pledges = pledges + 1,
        backers = backers + (SELECT paid = 1 FROM project_donors WHERE project = {r}.project AND donor = {r}.donor)
        WHERE project = {r}.project;
    INSERT INTO project_rewards (project, reward, paid) SELECT {r}.project, {r}.reward, 1 WHERE {r}.reward IS NOT NULL
        ON CONFLICT (project, reward) DO UPDATE SET paid = paid + 1;"
        )
    };
    let paid_out = |r: &str| {
        format!(
            "UPDATE project_donors SET paid = paid - 1 WHERE project = {r}.project AND donor = {r}.donor;
    UPDATE project_totals SET raised_cents = raised_cents - {r}.amount_cents, pledges = pledges - 1,
        backers = backers - (SELECT paid = 0 FROM project_donors WHERE project = {r}.project AND donor = {r}.donor)
        WHERE project = {r}.project;
    DELETE FROM project_donors WHERE project = {r}.project AND donor = {r}.donor AND paid = 0;
    UPDATE project_rewards SET paid = paid - 1 WHERE project = {r}.project AND reward = {r}.reward;"
        )
    };
    let refund_in = |r: &str| {
        format!(
            "INSERT INTO project_totals (project, refunds) VALUES ({r}.project, 1)
        ON CONFLICT (project) DO UPDATE SET refunds = refunds + 1;"
        )
    };
    let refund_out = |r: &str| {
        format!("UPDATE project_totals SET refunds = refunds - 1 WHERE project = {r}.project;")
    };
    let match_in = |r: &str| {
        format!(
            "INSERT INTO pool_totals (pool, spent_cents) VALUES ({r}.pool, {r}.amount_cents)
        ON CONFLICT (pool) DO UPDATE SET spent_cents = spent_cents + excluded.spent_cents;
    INSERT INTO project_pools (project, pool, matched_cents, lump_sums)
        VALUES ({r}.project, {r}.pool, {r}.amount_cents, {r}.mode = 'lump_sum')
        ON CONFLICT (project, pool) DO UPDATE SET matched_cents = matched_cents + excluded.matched_cents,
            lump_sums = lump_sums + excluded.lump_sums;"
        )
    };
    let match_out = |r: &str| {
        format!(
            "UPDATE pool_totals SET spent_cents = spent_cents - {r}.amount_cents WHERE pool = {r}.pool;
    UPDATE project_pools SET matched_cents = matched_cents - {r}.amount_cents,
        lump_sums = lump_sums - ({r}.mode = 'lump_sum') WHERE project = {r}.project AND pool = {r}.pool;"
        )
    };
    let (paid, refund) = ("status = 'paid'", "status IN ('refunding', 'refunded')");
    let pledge_cols = "status, project, donor, reward, amount_cents";
    let match_cols = "active, amount_cents, pool, project, mode";
    format!(
        "
CREATE TABLE project_totals (
    project TEXT PRIMARY KEY,
    raised_cents INTEGER NOT NULL DEFAULT 0,
    pledges INTEGER NOT NULL DEFAULT 0,
    backers INTEGER NOT NULL DEFAULT 0,
    refunds INTEGER NOT NULL DEFAULT 0,
    offers INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE project_donors (
    project TEXT NOT NULL,
    donor TEXT NOT NULL,
    paid INTEGER NOT NULL,
    PRIMARY KEY (project, donor)
) WITHOUT ROWID;
CREATE TABLE project_rewards (
    project TEXT NOT NULL,
    reward INTEGER NOT NULL,
    paid INTEGER NOT NULL,
    PRIMARY KEY (project, reward)
) WITHOUT ROWID;
CREATE TABLE project_pools (
    project TEXT NOT NULL,
    pool TEXT NOT NULL,
    matched_cents INTEGER NOT NULL,
    lump_sums INTEGER NOT NULL,
    PRIMARY KEY (project, pool)
) WITHOUT ROWID;
CREATE TABLE pool_totals (
    pool TEXT PRIMARY KEY,
    spent_cents INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO project_totals (project)
    SELECT project FROM pledges UNION SELECT project FROM offers UNION SELECT project FROM closes;
UPDATE project_totals SET
    raised_cents = (SELECT COALESCE(SUM(amount_cents), 0) FROM pledges
                    WHERE project = project_totals.project AND {paid}),
    pledges = (SELECT COUNT(*) FROM pledges WHERE project = project_totals.project AND {paid}),
    backers = (SELECT COUNT(DISTINCT donor) FROM pledges WHERE project = project_totals.project AND {paid}),
    refunds = (SELECT COUNT(*) FROM pledges WHERE project = project_totals.project AND {refund}),
    offers = (SELECT COUNT(*) FROM offers WHERE project = project_totals.project);
INSERT INTO project_donors (project, donor, paid)
    SELECT project, donor, COUNT(*) FROM pledges WHERE {paid} GROUP BY project, donor;
INSERT INTO project_rewards (project, reward, paid)
    SELECT project, reward, COUNT(*) FROM pledges WHERE {paid} AND reward IS NOT NULL
    GROUP BY project, reward;
INSERT INTO project_pools (project, pool, matched_cents, lump_sums)
    SELECT project, pool, SUM(amount_cents), SUM(mode = 'lump_sum') FROM matches
    WHERE active = 1 GROUP BY project, pool;
INSERT INTO pool_totals (pool, spent_cents)
    SELECT pool, SUM(amount_cents) FROM matches WHERE active = 1 GROUP BY pool;

CREATE TRIGGER pledges_new AFTER INSERT ON pledges BEGIN
    INSERT OR IGNORE INTO project_totals (project) VALUES (NEW.project);
END;
CREATE TRIGGER pledges_paid_new AFTER INSERT ON pledges WHEN NEW.{paid} BEGIN
    {paid_in_new}
END;
CREATE TRIGGER pledges_refund_new AFTER INSERT ON pledges WHEN NEW.{refund} BEGIN
    {refund_in_new}
END;
CREATE TRIGGER pledges_paid_out AFTER UPDATE OF {pledge_cols} ON pledges WHEN OLD.{paid} BEGIN
    {paid_out_old}
END;
CREATE TRIGGER pledges_paid_in AFTER UPDATE OF {pledge_cols} ON pledges WHEN NEW.{paid} BEGIN
    {paid_in_new}
END;
CREATE TRIGGER pledges_refund_out AFTER UPDATE OF status, project ON pledges WHEN OLD.{refund} BEGIN
    {refund_out_old}
END;
CREATE TRIGGER pledges_refund_in AFTER UPDATE OF status, project ON pledges WHEN NEW.{refund} BEGIN
    {refund_in_new}
END;
CREATE TRIGGER pledges_paid_gone AFTER DELETE ON pledges WHEN OLD.{paid} BEGIN
    {paid_out_old}
END;
CREATE TRIGGER pledges_refund_gone AFTER DELETE ON pledges WHEN OLD.{refund} BEGIN
    {refund_out_old}
END;

CREATE TRIGGER matches_new AFTER INSERT ON matches WHEN NEW.active = 1 BEGIN
    {match_in_new}
END;
CREATE TRIGGER matches_out AFTER UPDATE OF {match_cols} ON matches WHEN OLD.active = 1 BEGIN
    {match_out_old}
END;
CREATE TRIGGER matches_in AFTER UPDATE OF {match_cols} ON matches WHEN NEW.active = 1 BEGIN
    {match_in_new}
END;
CREATE TRIGGER matches_gone AFTER DELETE ON matches WHEN OLD.active = 1 BEGIN
    {match_out_old}
END;

CREATE TRIGGER offers_new AFTER INSERT ON offers BEGIN
    INSERT INTO project_totals (project, offers) VALUES (NEW.project, 1)
        ON CONFLICT (project) DO UPDATE SET offers = offers + 1;
END;
CREATE TRIGGER offers_moved AFTER UPDATE OF project ON offers BEGIN
    UPDATE project_totals SET offers = offers - 1 WHERE project = OLD.project;
    INSERT INTO project_totals (project, offers) VALUES (NEW.project, 1)
        ON CONFLICT (project) DO UPDATE SET offers = offers + 1;
END;
CREATE TRIGGER offers_gone AFTER DELETE ON offers BEGIN
    UPDATE project_totals SET offers = offers - 1 WHERE project = OLD.project;
END;
CREATE TRIGGER closes_new AFTER INSERT ON closes BEGIN
    INSERT OR IGNORE INTO project_totals (project) VALUES (NEW.project);
END;

-- The latest payment or refund of a project (`updated_at`, a MAX read at
-- the end of this index), the reward reservations still open, and a
-- donor's matches (`max_per_donor`).
CREATE INDEX pledges_touched ON pledges (project, COALESCE(refunded_at, paid_at))
    WHERE {paid} OR ({refund} AND refunded_at IS NOT NULL);
CREATE INDEX pledges_reserving ON pledges (project, reward, expires_at)
    WHERE status = 'pending' AND reward IS NOT NULL;
CREATE INDEX matches_by_donor ON matches (project, donor, pool) WHERE active = 1;
-- A pool's spending is `pool_totals` now.
DROP INDEX matches_by_pool;
PRAGMA user_version = 3;
",
        paid_in_new = paid_in("NEW"),
        paid_out_old = paid_out("OLD"),
        refund_in_new = refund_in("NEW"),
        refund_out_old = refund_out("OLD"),
        match_in_new = match_in("NEW"),
        match_out_old = match_out("OLD"),
    )
}

/// Each running total: the rows a sum over the ledger gives, and the rows
/// kept (zero rows left by refunds aside), compared by `audit_totals`.
const TOTALS_AUDIT: [(&str, &str, &str); 5] = [
    (
        "project_totals",
        "SELECT p.project,
            (SELECT COALESCE(SUM(amount_cents), 0) FROM pledges WHERE project = p.project AND status = 'paid'),
            (SELECT COUNT(*) FROM pledges WHERE project = p.project AND status = 'paid'),
            (SELECT COUNT(DISTINCT donor) FROM pledges WHERE project = p.project AND status = 'paid'),
            (SELECT COUNT(*) FROM pledges WHERE project = p.project AND status IN ('refunding', 'refunded')),
            (SELECT COUNT(*) FROM offers WHERE project = p.project)
         FROM (SELECT project FROM pledges UNION SELECT project FROM offers UNION SELECT project FROM closes) p",
        "SELECT project, raised_cents, pledges, backers, refunds, offers FROM project_totals",
    ),
    (
        "project_donors",
        "SELECT project, donor, COUNT(*) FROM pledges WHERE status = 'paid' GROUP BY project, donor",
        "SELECT project, donor, paid FROM project_donors",
    ),
    (
        "project_rewards",
        "SELECT project, reward, COUNT(*) FROM pledges WHERE status = 'paid' AND reward IS NOT NULL \
         GROUP BY project, reward",
        "SELECT project, reward, paid FROM project_rewards WHERE paid <> 0",
    ),
    (
        "project_pools",
        "SELECT project, pool, SUM(amount_cents), SUM(mode = 'lump_sum') FROM matches WHERE active = 1 \
         GROUP BY project, pool",
        "SELECT project, pool, matched_cents, lump_sums FROM project_pools \
         WHERE matched_cents <> 0 OR lump_sums <> 0",
    ),
    (
        "pool_totals",
        "SELECT pool, SUM(amount_cents) FROM matches WHERE active = 1 GROUP BY pool",
        "SELECT pool, spent_cents FROM pool_totals WHERE spent_cents <> 0",
    ),
];

/// The SQLite store. Cheap to clone; one connection behind a fair (FIFO)
/// mutex: under load every operation waits its turn, none is overtaken by
/// newcomers (before, an operation that found the connection busy moved to
/// a blocking thread and raced the others for an unfair lock).
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<tokio::sync::Mutex<Connection>>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        Self::init(conn)
    }

    /// A private in-memory database (tests).
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
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
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(backend)?;
        if version < 1 {
            conn.execute_batch(&format!("BEGIN IMMEDIATE; {MIGRATION_1} COMMIT;"))
                .map_err(backend)?;
        }
        if version < 2 {
            conn.execute_batch(&format!("BEGIN IMMEDIATE; {MIGRATION_2} COMMIT;"))
                .map_err(backend)?;
        }
        if version < 3 {
            conn.execute_batch(&format!("BEGIN IMMEDIATE; {} COMMIT;", migration_3()))
                .map_err(backend)?;
        }
        if version < 4 {
            conn.execute_batch(&format!("BEGIN IMMEDIATE; {MIGRATION_4} COMMIT;"))
                .map_err(backend)?;
        }
        // Every statement of the hot paths stays prepared (rusqlite keeps 16).
        conn.set_prepared_statement_cache_capacity(128);
        Ok(SqliteStore {
            conn: Arc::new(tokio::sync::Mutex::new(conn)),
        })
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
            let copy = std::env::temp_dir().join(format!(
                "pave-raw-{}-{}.db",
                std::process::id(),
                jiff::Timestamp::now().as_nanosecond()
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
            snapshot_tx(tx, known)
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

/// The snapshot of these projects (each with its running totals), in the
/// caller's transaction.
fn snapshot_tx(tx: &Connection, slugs: Vec<String>) -> Result<Snapshot, StoreError> {
    let mut projects = BTreeMap::new();
    for slug in slugs {
        let figures = figures_tx(tx, &slug)?;
        projects.insert(slug, figures);
    }
    Ok(Snapshot {
        version: SNAPSHOT_VERSION,
        projects,
    })
}

/// Runs `f` in an immediate transaction on `conn` (`BEGIN IMMEDIATE` and
/// `COMMIT` prepared once): committed when `f` succeeds, rolled back
/// otherwise.
fn in_tx<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    exec(conn, "BEGIN IMMEDIATE", [])?;
    let result = f(conn).and_then(|value| {
        exec(conn, "COMMIT", [])?;
        Ok(value)
    });
    if result.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

fn cents(tx: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Decimal, StoreError> {
    let c: i64 = one(tx, sql, p, |r| r.get(0))?;
    Ok(from_cents(c)?)
}

/// The one row of a query (a statement prepared once per connection).
fn one<T>(
    tx: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<T, StoreError> {
    tx.prepare_cached(sql)
        .map_err(backend)?
        .query_row(p, f)
        .map_err(backend)
}

/// The row of a query, if any (a statement prepared once per connection).
fn maybe<T>(
    tx: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>, StoreError> {
    tx.prepare_cached(sql)
        .map_err(backend)?
        .query_row(p, f)
        .optional()
        .map_err(backend)
}

/// Runs a write (a statement prepared once per connection); rows changed.
fn exec(tx: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<usize, StoreError> {
    tx.prepare_cached(sql)
        .map_err(backend)?
        .execute(p)
        .map_err(backend)
}

/// A project's state for the matching engine, from the running totals:
/// its paid pledges (sum, backers) and its active matches.
fn project_state(tx: &Connection, project: &str) -> Result<ProjectState, StoreError> {
    let (raised, backers): (i64, u32) = maybe(
        tx,
        "SELECT raised_cents, backers FROM project_totals WHERE project = ?1",
        params![project],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?
    .unwrap_or((0, 0));
    let matched = cents(
        tx,
        "SELECT COALESCE(SUM(matched_cents), 0) FROM project_pools WHERE project = ?1",
        params![project],
    )?;
    let citizens = from_cents(raised)?;
    Ok(ProjectState {
        citizens_raised: citizens,
        total: citizens + matched,
        backers,
    })
}

/// A pool as the matching engine sees it for a project (and a donor of
/// it), from the running totals and the donor's own matches.
fn pool_view<'a>(
    tx: &Connection,
    id: &'a str,
    rules: &'a crate::catalog::CatalogPool,
    project: &str,
    donor: Option<&str>,
) -> Result<PoolView<'a>, StoreError> {
    let spent = cents(
        tx,
        "SELECT COALESCE((SELECT spent_cents FROM pool_totals WHERE pool = ?1), 0)",
        params![id],
    )?;
    let (for_project, lump_sums): (i64, i64) = maybe(
        tx,
        "SELECT matched_cents, lump_sums FROM project_pools WHERE project = ?1 AND pool = ?2",
        params![project, id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?
    .unwrap_or((0, 0));
    let matched_for_donor = match donor {
        Some(donor) => cents(
            tx,
            "SELECT COALESCE(SUM(amount_cents), 0) FROM matches \
             WHERE project = ?1 AND donor = ?2 AND pool = ?3 AND active = 1",
            params![project, donor, id],
        )?,
        None => Decimal::ZERO,
    };
    Ok(PoolView {
        spent,
        matched_for_project: from_cents(for_project)?,
        matched_for_donor,
        lump_sum_paid: lump_sums > 0,
        ..PoolView::fresh(id, rules)
    })
}

/// Rows of (pool, amount in cents) selected by `sql` with one parameter.
fn pool_amounts(
    tx: &Connection,
    sql: &str,
    param: &str,
) -> Result<Vec<(String, Decimal)>, StoreError> {
    let mut stmt = tx.prepare_cached(sql).map_err(backend)?;
    let rows = stmt
        .query_map(params![param], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (pool, c) = row.map_err(backend)?;
        Ok((pool, from_cents(c)?))
    })
    .collect()
}

fn record_event(tx: &Connection, event_id: &str, kind: &str, now: i64) -> Result<bool, StoreError> {
    let inserted = exec(
        tx,
        "INSERT OR IGNORE INTO events (id, kind, applied_at) VALUES (?1, ?2, ?3)",
        params![event_id, kind, now],
    )?;
    Ok(inserted == 1)
}

/// A pledge as a payment or a refund reads it.
struct PledgeRow {
    project: String,
    amount_cents: i64,
    donor: String,
    status: PledgeStatus,
    reward: Option<usize>,
    expires_at: i64,
}

fn pledge_row(tx: &Connection, id: &str) -> Result<PledgeRow, StoreError> {
    maybe(
        tx,
        "SELECT project, amount_cents, donor, status, reward, expires_at FROM pledges WHERE id = ?1",
        params![id],
        |r| {
            Ok(PledgeRow {
                project: r.get(0)?,
                amount_cents: r.get(1)?,
                donor: r.get(2)?,
                status: PledgeStatus::parse(&r.get::<_, String>(3)?)
                    .unwrap_or(PledgeStatus::Pending),
                reward: r.get::<_, Option<i64>>(4)?.map(|r| r as usize),
                expires_at: r.get(5)?,
            })
        },
    )?
    .ok_or_else(|| StoreError::UnknownPledge(id.to_string()))
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn figures_tx(tx: &Connection, project: &str) -> Result<Figures, StoreError> {
    // The running totals (`migration_3`); a project without a row has
    // nothing yet.
    let (raised, pledges, backers, refunds, offers): (i64, u32, u32, u32, u32) = maybe(
        tx,
        "SELECT raised_cents, pledges, backers, refunds, offers FROM project_totals WHERE project = ?1",
        params![project],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?
    .unwrap_or_default();
    let matched = pool_amounts(
        tx,
        "SELECT pool, matched_cents FROM project_pools WHERE project = ?1 AND matched_cents > 0 ORDER BY pool",
        project,
    )?
    .into_iter()
    .map(|(pool, amount)| (pool, Amount(amount)))
    .collect();
    // A reward's places: its paid pledges, and the reservations of pending
    // pledges whose checkout is still open.
    let mut rewards = BTreeMap::new();
    let mut add = |reward: i64, count: u32| {
        if count > 0 {
            *rewards
                .entry(usize::try_from(reward).unwrap_or(usize::MAX))
                .or_insert(0u32) += count;
        }
    };
    {
        let mut stmt = tx
            .prepare_cached("SELECT reward, paid FROM project_rewards WHERE project = ?1")
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![project], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, u32>(1)?))
            })
            .map_err(backend)?;
        for row in rows {
            let (reward, count) = row.map_err(backend)?;
            add(reward, count);
        }
        let mut stmt = tx
            .prepare_cached(
                "SELECT reward, COUNT(*) FROM pledges WHERE project = ?1 AND status = 'pending' \
                 AND reward IS NOT NULL AND expires_at > ?2 GROUP BY reward",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![project, now()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, u32>(1)?))
            })
            .map_err(backend)?;
        for row in rows {
            let (reward, count) = row.map_err(backend)?;
            add(reward, count);
        }
    }
    // A pledge refused at payment (late, over the cap) was never counted:
    // it has no `refunded_at` and does not move `updated_at`. The latest
    // is read at the end of the index `pledges_touched`.
    let updated: Option<i64> = one(
        tx,
        "SELECT MAX(COALESCE(refunded_at, paid_at)) FROM pledges WHERE project = ?1 \
         AND (status = 'paid' OR (status IN ('refunding', 'refunded') AND refunded_at IS NOT NULL))",
        params![project],
        |r| r.get(0),
    )?;
    let outcome = close_tx(tx, project)?.and_then(|c| c.outcome);
    Ok(Figures {
        raised: from_cents(raised)?,
        matched,
        backers,
        pledges,
        rewards,
        offers,
        refunded: outcome == Some(Outcome::NotFunded),
        updated_at: updated
            .and_then(|t| jiff::Timestamp::from_second(t).ok())
            .map(|t| t.to_string()),
        outcome: outcome.map(|o| o.as_str().to_string()),
        refunds,
    })
}

fn close_tx(tx: &Connection, project: &str) -> Result<Option<CloseRecord>, StoreError> {
    let row = maybe(
        tx,
        "SELECT state, outcome, started_at, closed_at FROM closes WHERE project = ?1",
        params![project],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        },
    )?;
    row.map(|(state, outcome, started_at, closed_at)| {
        Ok(CloseRecord {
            state: CloseState::parse(&state)
                .ok_or_else(|| backend(format!("bad close state {state:?} of {project}")))?,
            outcome: match outcome {
                Some(o) => Some(
                    Outcome::parse(&o)
                        .ok_or_else(|| backend(format!("bad outcome {o:?} of {project}")))?,
                ),
                None => None,
            },
            started_at,
            closed_at,
        })
    })
    .transpose()
}

const LEDGER_COLUMNS: &str = "id, amount_cents, status, payment_intent, refund_reason, refund_id, refund_error, refund_attempts";

type LedgerRow = (
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    u32,
);

/// The ledger columns starting at column `at`.
fn ledger_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<LedgerRow> {
    Ok((
        r.get(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        r.get(at + 3)?,
        r.get(at + 4)?,
        r.get(at + 5)?,
        r.get(at + 6)?,
        r.get(at + 7)?,
    ))
}

fn ledger_pledge(row: LedgerRow) -> Result<LedgerPledge, StoreError> {
    let (id, amount, status, payment_intent, reason, refund_id, refund_error, attempts) = row;
    Ok(LedgerPledge {
        amount: from_cents(amount)?,
        status: PledgeStatus::parse(&status)
            .ok_or_else(|| backend(format!("bad status {status:?} of pledge {id}")))?,
        payment_intent,
        refund_reason: reason.as_deref().and_then(RefundReason::parse),
        refund_id,
        refund_error,
        refund_attempts: attempts,
        id,
    })
}

/// A project's ledger: two reads (its paid pledges, then its active
/// matches), joined here by pledge id.
fn project_ledger_tx(tx: &Connection, project: &str) -> Result<ProjectLedger, StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT id, amount_cents, reward, status, refund_reason, paid_at, refunded_at, donor, \
             share_contact, display_name, email FROM pledges WHERE project = ?1 \
             AND status IN ('paid', 'refunding', 'refunded') ORDER BY paid_at, id",
        )
        .map_err(backend)?;
    type Row = (
        String,
        i64,
        Option<i64>,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
        String,
        bool,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = stmt
        .query_map(params![project], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    let mut matches: BTreeMap<Option<String>, Vec<Match>> = BTreeMap::new();
    {
        let mut stmt = tx
            .prepare_cached(
                "SELECT pledge_id, pool, amount_cents FROM matches WHERE project = ?1 AND active = 1 ORDER BY id",
            )
            .map_err(backend)?;
        let found = stmt
            .query_map(params![project], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(backend)?;
        for row in found {
            let (pledge, pool_id, c) = row.map_err(backend)?;
            matches.entry(pledge).or_default().push(Match {
                pool_id,
                amount: from_cents(c)?,
            });
        }
    }
    let mut pledges = Vec::with_capacity(rows.len());
    for (id, amount, reward, status, reason, paid_at, refunded_at, donor, share, name, email) in
        rows
    {
        let contact = match (share, email) {
            (true, Some(email)) => Some(Contact { name, email }),
            _ => None,
        };
        pledges.push(LedgerEntry {
            amount: from_cents(amount)?,
            reward: reward.and_then(|r| usize::try_from(r).ok()),
            status: PledgeStatus::parse(&status)
                .ok_or_else(|| backend(format!("bad status {status:?} of pledge {id}")))?,
            refund_reason: reason.as_deref().and_then(RefundReason::parse),
            paid_at: paid_at.unwrap_or_default(),
            refunded_at,
            donor,
            contact,
            matches: matches.remove(&Some(id.clone())).unwrap_or_default(),
            id,
        });
    }
    Ok(ProjectLedger {
        pledges,
        close_matches: matches.remove(&None).unwrap_or_default(),
    })
}

/// The places of a reward taken by others than `pledge_id` at `at`: paid
/// pledges (a running total) and open reservations.
fn reward_taken(
    tx: &Connection,
    project: &str,
    reward: usize,
    pledge_id: &str,
    at: i64,
) -> Result<u32, StoreError> {
    let paid: u32 = maybe(
        tx,
        "SELECT paid FROM project_rewards WHERE project = ?1 AND reward = ?2",
        params![project, reward as i64],
        |r| r.get(0),
    )?
    .unwrap_or(0);
    let reserved: u32 = one(
        tx,
        "SELECT COUNT(*) FROM pledges WHERE project = ?1 AND reward = ?2 \
         AND status = 'pending' AND reward IS NOT NULL AND expires_at > ?3 AND id <> ?4",
        params![project, reward as i64, at, pledge_id],
        |r| r.get(0),
    )?;
    Ok(paid.saturating_add(reserved))
}

/// Takes a paid pledge out of the figures: its matches are cancelled (and
/// returned), its status becomes `status`. The caller checked it is paid.
fn unpay_tx(
    tx: &Connection,
    pledge_id: &str,
    status: PledgeStatus,
    reason: Option<RefundReason>,
    at: i64,
) -> Result<Vec<Match>, StoreError> {
    let cancelled: Vec<Match> = pool_amounts(
        tx,
        "SELECT pool, amount_cents FROM matches WHERE pledge_id = ?1 AND active = 1 ORDER BY id",
        pledge_id,
    )?
    .into_iter()
    .map(|(pool_id, amount)| Match { pool_id, amount })
    .collect();
    exec(
        tx,
        "UPDATE matches SET active = 0 WHERE pledge_id = ?1 AND active = 1",
        params![pledge_id],
    )?;
    exec(
        tx,
        "UPDATE pledges SET status = ?2, refunded_at = ?3, refund_reason = COALESCE(?4, refund_reason) WHERE id = ?1",
        params![
            pledge_id,
            status.as_str(),
            at,
            reason.map(RefundReason::as_str)
        ],
    )?;
    Ok(cancelled)
}

/// A checkout paid (`Store::apply_paid`), in its transaction: the facts
/// read, [`payment::decide`], then the payment or its refusal written.
fn apply_paid_tx(
    tx: &Connection,
    catalog: &Catalog,
    event_id: &str,
    pledge_id: &str,
    paid: &Payment<'_>,
    paid_at: i64,
) -> Result<Applied, StoreError> {
    if !record_event(tx, event_id, "checkout.session.completed", paid_at)? {
        return Ok(Applied::Duplicate);
    }
    let row = pledge_row(tx, pledge_id)?;
    if !matches!(row.status, PledgeStatus::Pending | PledgeStatus::Expired) {
        return Ok(Applied::NoEffect {
            reason: "pledge already settled",
        });
    }
    let project_slug = row.project.clone();
    let donor = row.donor.clone();
    let payment_intent = paid.intent;
    let project = catalog
        .projects
        .get(&project_slug)
        .ok_or_else(|| StoreError::UnknownProject(project_slug.clone()))?;
    let amount = from_cents(row.amount_cents)?;
    // The project and its pools before this pledge (running totals).
    let state = project_state(tx, &project_slug)?;
    let known = maybe(
        tx,
        "SELECT 1 FROM project_donors WHERE project = ?1 AND donor = ?2 AND paid > 0",
        params![project_slug, donor],
        |_| Ok(()),
    )?
    .is_some();
    let facts = payment::Facts {
        amount_cents: row.amount_cents,
        reward: row.reward,
        place_held: payment::place_held(
            row.status == PledgeStatus::Pending,
            row.expires_at,
            paid_at,
        ),
        reward_taken_by_others: match row.reward {
            Some(reward) => reward_taken(tx, &project_slug, reward, pledge_id, paid_at)?,
            None => 0,
        },
        close_started: close_tx(tx, &project_slug)?.is_some(),
        total_cents: to_cents(state.total)?,
        cap_cents: to_cents(crate::money::floor_cents(project.cap))?,
    };
    // A payment that cannot be counted is recorded, to be refunded whole.
    if let Err(reason) = payment::decide(project, &facts, paid, paid_at) {
        exec(
            tx,
            "UPDATE pledges SET status = 'refunding', paid_at = ?2, payment_intent = COALESCE(?3, payment_intent), refund_reason = ?4 WHERE id = ?1",
            params![pledge_id, paid_at, payment_intent, reason.as_str()],
        )?;
        return Ok(Applied::Refused {
            project: project_slug,
            reason,
        });
    }
    let views = catalog
        .pools_of(project)
        .into_iter()
        .map(|(id, rules)| pool_view(tx, id, rules, &project_slug, Some(&donor)))
        .collect::<Result<Vec<_>, _>>()?;
    let pledge = matching::Pledge {
        amount,
        paid_on: pave_contract::calendar::day_in(paid_at, &project.timezone),
        new_backer: !known,
    };
    let matches = matching::match_pledge(project, &views, &state, &pledge);
    for m in &matches {
        let mode = match catalog.pools.get(&m.pool_id).map(|p| p.mode) {
            Some(PoolMode::LumpSum) => "lump_sum",
            Some(PoolMode::OnSuccess) => "on_success",
            _ => "per_pledge",
        };
        exec(
            tx,
            "INSERT INTO matches (pledge_id, project, pool, donor, mode, amount_cents, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                pledge_id,
                project_slug,
                m.pool_id,
                donor,
                mode,
                to_cents(m.amount)?,
                paid_at
            ],
        )?;
    }
    exec(
        tx,
        "UPDATE pledges SET status = 'paid', paid_at = ?2, payment_intent = COALESCE(?3, payment_intent) WHERE id = ?1",
        params![pledge_id, paid_at, payment_intent],
    )?;
    Ok(Applied::Changed {
        project: project_slug,
        matches,
    })
}

impl Store for SqliteStore {
    async fn create_pledge(&self, pledge: NewPledge, limit: Option<u32>) -> Result<(), StoreError> {
        let amount = to_cents(pledge.amount)?;
        self.tx(move |tx| {
            if let (Some(reward), Some(limit)) = (pledge.reward, limit) {
                // Its paid pledges and its open reservations.
                let taken =
                    reward_taken(tx, &pledge.project, reward, &pledge.id, pledge.created_at)?;
                if taken >= limit {
                    return Err(StoreError::RewardSoldOut);
                }
                let held: u32 = one(
                    tx,
                    "SELECT COUNT(*) FROM pledges WHERE project = ?1 AND status = 'pending' \
                     AND holds_place = 1 AND expires_at > ?2 AND (donor = ?3 OR client = ?4)",
                    params![pledge.project, pledge.created_at, pledge.donor, pledge.client],
                    |r| r.get(0),
                )?;
                if held >= super::MAX_PLACES_HELD {
                    return Err(StoreError::TooManyPlacesHeld);
                }
            }
            exec(
                tx,
                "INSERT INTO pledges (id, project, amount_cents, reward, display_name, email, donor, lang, status, created_at, expires_at, share_contact, client, holds_place) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12, ?13)",
                params![
                    pledge.id,
                    pledge.project,
                    amount,
                    pledge.reward.map(|r| r as i64),
                    pledge.display_name,
                    pledge.email,
                    pledge.donor,
                    pledge.lang,
                    pledge.created_at,
                    pledge.expires_at,
                    pledge.share_contact,
                    pledge.client,
                    pledge.reward.is_some() && limit.is_some()
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn attach_checkout(&self, pledge_id: &str, session_id: &str) -> Result<(), StoreError> {
        let (pledge_id, session_id) = (pledge_id.to_string(), session_id.to_string());
        self.tx(move |tx| {
            let n = exec(
                tx,
                "UPDATE pledges SET checkout_session = ?2 WHERE id = ?1",
                params![pledge_id, session_id],
            )?;
            if n == 0 {
                return Err(StoreError::UnknownPledge(pledge_id));
            }
            Ok(())
        })
        .await
    }

    async fn apply_paid(
        &self,
        catalog: &Catalog,
        event_id: &str,
        pledge_id: &str,
        paid: &Payment<'_>,
        paid_at: i64,
    ) -> Result<Applied, StoreError> {
        self.tx(|tx| apply_paid_tx(tx, catalog, event_id, pledge_id, paid, paid_at))
            .await
    }

    async fn apply_expired(&self, event_id: &str, pledge_id: &str) -> Result<Applied, StoreError> {
        let (event_id, pledge_id) = (event_id.to_string(), pledge_id.to_string());
        self.tx(move |tx| {
            if !record_event(tx, &event_id, "checkout.session.expired", now())? {
                return Ok(Applied::Duplicate);
            }
            let PledgeRow {
                project, status, ..
            } = pledge_row(tx, &pledge_id)?;
            if status != PledgeStatus::Pending {
                return Ok(Applied::NoEffect {
                    reason: "pledge not pending",
                });
            }
            tx.execute(
                "UPDATE pledges SET status = 'expired' WHERE id = ?1",
                params![pledge_id],
            )
            .map_err(backend)?;
            Ok(Applied::Changed {
                project,
                matches: Vec::new(),
            })
        })
        .await
    }

    async fn apply_refunded(
        &self,
        event_id: &str,
        pledge_id: &str,
        extent: RefundExtent,
        payment_intent: Option<&str>,
        at: i64,
    ) -> Result<Applied, StoreError> {
        let (event_id, pledge_id) = (event_id.to_string(), pledge_id.to_string());
        let intent = payment_intent.map(str::to_string);
        self.tx(move |tx| {
            if !record_event(tx, &event_id, "charge.refunded", at)? {
                return Ok(Applied::Duplicate);
            }
            let PledgeRow {
                project, status, ..
            } = pledge_row(tx, &pledge_id)?;
            let partial = extent == RefundExtent::Partial;
            match status {
                // A refund Pavé started: the ledger changed then; a full
                // refund completes its status, a partial one is its first part.
                PledgeStatus::Refunding if !partial => {
                    exec(
                        tx,
                        "UPDATE pledges SET status = 'refunded' WHERE id = ?1",
                        params![pledge_id],
                    )?;
                    Ok(Applied::NoEffect {
                        reason: "refund already recorded",
                    })
                }
                PledgeStatus::Refunding | PledgeStatus::Refunded => Ok(Applied::NoEffect {
                    reason: "refund already recorded",
                }),
                PledgeStatus::Paid => {
                    let (status, reason) = if partial {
                        (PledgeStatus::Refunding, Some(RefundReason::PartialRefund))
                    } else {
                        (PledgeStatus::Refunded, None)
                    };
                    let cancelled = unpay_tx(tx, &pledge_id, status, reason, at)?;
                    exec(
                        tx,
                        "UPDATE pledges SET payment_intent = COALESCE(payment_intent, ?2) WHERE id = ?1",
                        params![pledge_id, intent],
                    )?;
                    Ok(match reason {
                        Some(reason) => Applied::Refused { project, reason },
                        None => Applied::Changed {
                            project,
                            matches: cancelled,
                        },
                    })
                }
                // Refunded before its completion arrived: never counted,
                // and the completion will find it settled.
                PledgeStatus::Pending | PledgeStatus::Expired => {
                    let (status, reason) = if partial {
                        (PledgeStatus::Refunding, Some(RefundReason::PartialRefund))
                    } else {
                        (PledgeStatus::Refunded, None)
                    };
                    exec(
                        tx,
                        "UPDATE pledges SET status = ?2, paid_at = COALESCE(paid_at, ?3), refunded_at = ?3, \
                         refund_reason = ?4, payment_intent = COALESCE(payment_intent, ?5) WHERE id = ?1",
                        params![
                            pledge_id,
                            status.as_str(),
                            at,
                            reason.map(RefundReason::as_str),
                            intent
                        ],
                    )?;
                    Ok(match reason {
                        Some(reason) => Applied::Refused { project, reason },
                        None => Applied::Changed {
                            project,
                            matches: Vec::new(),
                        },
                    })
                }
            }
        })
        .await
    }

    async fn collected(&self, project: &str) -> Result<Decimal, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| Ok(project_state(tx, &project)?.total))
            .await
    }

    async fn figures(&self, project: &str) -> Result<Figures, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| figures_tx(tx, &project)).await
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.tx_blocking(|tx| {
            let slugs: Vec<String> = {
                // Every project with a pledge, an offer or a close has its
                // running totals.
                let mut stmt = tx
                    .prepare_cached("SELECT project FROM project_totals ORDER BY project")
                    .map_err(backend)?;
                let rows = stmt.query_map([], |r| r.get(0)).map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)?
            };
            snapshot_tx(tx, slugs)
        })
        .await
    }

    async fn add_offer(&self, offer: Offer) -> Result<(), StoreError> {
        self.tx(move |tx| {
            tx.execute(
                "INSERT INTO offers (project, need, name, contact, message, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![offer.project, offer.need.map(|n| n as i64), offer.name, offer.contact, offer.message, offer.created_at],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn pledge_contact(&self, pledge_id: &str) -> Result<Option<PledgeContact>, StoreError> {
        let pledge_id = pledge_id.to_string();
        self.tx(move |tx| {
            maybe(
                tx,
                "SELECT project, amount_cents, reward, display_name, email, lang, status, checkout_session \
                 FROM pledges WHERE id = ?1",
                params![pledge_id],
                |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, Option<i64>>(2)?,
                        ),
                        (
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, String>(5)?,
                        ),
                        (r.get::<_, String>(6)?, r.get::<_, Option<String>>(7)?),
                    ))
                },
            )?
            .map(
                |((project, cents, reward), (display_name, email, lang), (status, session))| {
                    Ok(PledgeContact {
                        project,
                        amount: from_cents(cents)?,
                        reward: reward.and_then(|r| usize::try_from(r).ok()),
                        display_name,
                        email: email.filter(|e| !e.is_empty()),
                        lang,
                        status: PledgeStatus::parse(&status).unwrap_or(PledgeStatus::Pending),
                        checkout_session: session,
                    })
                },
            )
            .transpose()
        })
        .await
    }

    async fn erase_donor(&self, email: &str) -> Result<Erased, StoreError> {
        let email = email.trim().to_lowercase();
        if email.is_empty() {
            return Ok(Erased::default());
        }
        let erased = self
            .tx_blocking(move |tx| {
                let mut erased = Erased::default();
                let projects: Vec<String> = {
                    let mut stmt = tx
                        .prepare(
                            "SELECT DISTINCT project FROM pledges WHERE lower(trim(email)) = ?1",
                        )
                        .map_err(backend)?;
                    stmt.query_map(params![email], |r| r.get(0))
                        .map_err(backend)?
                        .collect::<Result<_, _>>()
                        .map_err(backend)?
                };
                for project in projects {
                    // One anonymous key per project: backers and per-donor
                    // matching of the project see the same donor as before.
                    let key = anonymous_donor_key();
                    tx.execute(
                        "UPDATE matches SET donor = ?3 WHERE pledge_id IN                          (SELECT id FROM pledges WHERE project = ?1 AND lower(trim(email)) = ?2)",
                        params![project, email, key],
                    )
                    .map_err(backend)?;
                    let n = tx
                        .execute(
                            "UPDATE pledges SET email = NULL, display_name = NULL, client = NULL, donor = ?3                              WHERE project = ?1 AND lower(trim(email)) = ?2",
                            params![project, email, key],
                        )
                        .map_err(backend)?;
                    erased.pledges += u32::try_from(n).unwrap_or(u32::MAX);
                }
                let offers: Vec<(i64, String)> = {
                    let mut stmt = tx
                        .prepare("SELECT id, contact FROM offers WHERE contact <> ?1")
                        .map_err(backend)?;
                    stmt.query_map(params![ERASED_TEXT], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(backend)?
                        .collect::<Result<_, _>>()
                        .map_err(backend)?
                };
                for (id, contact) in offers {
                    if contact_names_email(&contact, &email) {
                        tx.execute(
                            "UPDATE offers SET name = ?2, contact = ?2, message = ?2 WHERE id = ?1",
                            params![id, ERASED_TEXT],
                        )
                        .map_err(backend)?;
                        erased.offers += 1;
                    }
                }
                Ok(erased)
            })
            .await?;
        // The old rows may still be in the write-ahead log: fold it into
        // the database (whose freed space `secure_delete` zeroed) and empty it.
        let conn = self.conn.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(backend)
        })
        .await
        .map_err(backend)??;
        Ok(erased)
    }

    async fn close_record(&self, project: &str) -> Result<Option<CloseRecord>, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| close_tx(tx, &project)).await
    }

    async fn begin_close(&self, project: &str, at: i64) -> Result<CloseRecord, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| {
            tx.execute(
                "INSERT OR IGNORE INTO closes (project, state, started_at) VALUES (?1, 'closing', ?2)",
                params![project, at],
            )
            .map_err(backend)?;
            close_tx(tx, &project)?.ok_or_else(|| backend("close record vanished"))
        })
        .await
    }

    async fn project_ledger(&self, project: &str) -> Result<ProjectLedger, StoreError> {
        let project = project.to_string();
        self.tx_blocking(move |tx| project_ledger_tx(tx, &project))
            .await
    }

    async fn ledger_pledges(&self, project: &str) -> Result<Vec<LedgerPledge>, StoreError> {
        let project = project.to_string();
        self.tx_blocking(move |tx| {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {LEDGER_COLUMNS} FROM pledges WHERE project = ?1 \
                     AND status IN ('paid', 'refunding', 'refunded') ORDER BY id"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![project], |r| ledger_row(r, 0))
                .map_err(backend)?;
            rows.map(|r| ledger_pledge(r.map_err(backend)?)).collect()
        })
        .await
    }

    async fn pending_refunds(&self) -> Result<Vec<(String, LedgerPledge)>, StoreError> {
        self.tx_blocking(move |tx| {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT project, {LEDGER_COLUMNS} FROM pledges WHERE status = 'refunding' ORDER BY project, id"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, ledger_row(r, 1)?)))
                .map_err(backend)?;
            rows.map(|r| {
                let (project, row) = r.map_err(backend)?;
                Ok((project, ledger_pledge(row)?))
            })
            .collect()
        })
        .await
    }

    async fn close_funded(
        &self,
        catalog: &Catalog,
        project: &str,
        at: i64,
    ) -> Result<Vec<Match>, StoreError> {
        let catalog = catalog.clone();
        let slug = project.to_string();
        self.tx(move |tx| {
            match close_tx(tx, &slug)? {
                Some(c) if c.state == CloseState::Closing => {}
                _ => return Ok(Vec::new()),
            }
            let project = catalog
                .projects
                .get(&slug)
                .ok_or_else(|| StoreError::UnknownProject(slug.clone()))?;
            let state = project_state(tx, &slug)?;
            let views = catalog
                .pools_of(project)
                .into_iter()
                .map(|(id, rules)| {
                    // The close reads each pool's spending and its matches
                    // for the project, nothing per donor.
                    Ok(PoolView {
                        lump_sum_paid: false,
                        ..pool_view(tx, id, rules, &slug, None)?
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let matches = matching::settle_campaign(project, &views, &state);
            for m in &matches {
                tx.execute(
                    "INSERT INTO matches (pledge_id, project, pool, donor, mode, amount_cents, created_at) VALUES (NULL, ?1, ?2, '', 'on_success', ?3, ?4)",
                    params![slug, m.pool_id, to_cents(m.amount)?, at],
                )
                .map_err(backend)?;
            }
            tx.execute(
                "UPDATE closes SET state = 'closed', outcome = 'funded', closed_at = ?2 WHERE project = ?1",
                params![slug, at],
            )
            .map_err(backend)?;
            Ok(matches)
        })
        .await
    }

    async fn close_not_funded(&self, project: &str, _at: i64) -> Result<(), StoreError> {
        let project = project.to_string();
        self.tx(move |tx| {
            tx.execute(
                "UPDATE closes SET state = 'refunding', outcome = 'not_funded' WHERE project = ?1 AND state = 'closing'",
                params![project],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn complete_close(&self, project: &str, at: i64) -> Result<bool, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| {
            let waiting: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM pledges WHERE project = ?1 AND status = 'refunding')",
                    params![project],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if !waiting {
                tx.execute(
                    "UPDATE closes SET state = 'closed', closed_at = ?2 WHERE project = ?1 AND state = 'refunding'",
                    params![project, at],
                )
                .map_err(backend)?;
            }
            Ok(close_tx(tx, &project)?.is_some_and(|c| c.state == CloseState::Closed))
        })
        .await
    }

    async fn start_refund(
        &self,
        pledge_id: &str,
        reason: RefundReason,
        at: i64,
    ) -> Result<Applied, StoreError> {
        let pledge_id = pledge_id.to_string();
        self.tx(move |tx| {
            let PledgeRow {
                project, status, ..
            } = pledge_row(tx, &pledge_id)?;
            if status != PledgeStatus::Paid {
                return Ok(Applied::NoEffect {
                    reason: "pledge not paid",
                });
            }
            let matches = unpay_tx(tx, &pledge_id, PledgeStatus::Refunding, Some(reason), at)?;
            Ok(Applied::Changed { project, matches })
        })
        .await
    }

    async fn finish_refund(
        &self,
        pledge_id: &str,
        result: RefundResult<'_>,
        _at: i64,
    ) -> Result<(), StoreError> {
        let pledge_id = pledge_id.to_string();
        let (issued, text) = match result {
            RefundResult::Issued(id) => (true, id.to_string()),
            RefundResult::Failed(code) => (false, code.to_string()),
        };
        self.tx(move |tx| {
            let status = pledge_row(tx, &pledge_id)?.status;
            let refund_id = (!text.is_empty()).then_some(text.as_str());
            match (status, issued) {
                (PledgeStatus::Refunding, true) => tx.execute(
                    "UPDATE pledges SET status = 'refunded', refund_id = ?2, refund_error = NULL, \
                     refund_attempts = refund_attempts + 1 WHERE id = ?1",
                    params![pledge_id, refund_id],
                ),
                (PledgeStatus::Refunding, false) => tx.execute(
                    "UPDATE pledges SET refund_error = ?2, refund_attempts = refund_attempts + 1 WHERE id = ?1",
                    params![pledge_id, text],
                ),
                // The webhook completed it first: keep the refund's id.
                (PledgeStatus::Refunded, true) => tx.execute(
                    "UPDATE pledges SET refund_id = COALESCE(refund_id, ?2), refund_error = NULL, \
                     refund_attempts = refund_attempts + 1 WHERE id = ?1",
                    params![pledge_id, refund_id],
                ),
                (PledgeStatus::Refunded, false) => Ok(0),
                (status, _) => {
                    return Err(backend(format!(
                        "pledge {pledge_id} is {}, not being refunded",
                        status.as_str()
                    )));
                }
            }
            .map_err(backend)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let future = now() + 3600;
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
        assert_eq!(version, 4, "migrated to the latest schema");
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
