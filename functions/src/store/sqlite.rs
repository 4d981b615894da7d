//! The embedded store: SQLite (bundled), in WAL mode, one writer. Amounts are
//! integer cents. Each operation is one `BEGIN IMMEDIATE` transaction, so
//! concurrent webhooks are serialised: a pool's budget is read and spent
//! under the same lock.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rust_decimal::Decimal;

use super::{
    Applied, CloseRecord, CloseState, Contact, ERASED_TEXT, Erased, LedgerEntry, LedgerPledge,
    NewPledge, Offer, Outcome, PledgeContact, PledgeStatus, ProjectLedger, RefundReason,
    RefundResult, Store, StoreError, anonymous_donor_key, contact_names_email,
};
use crate::catalog::{Catalog, PoolMode};
use crate::matching::{self, Match, PoolView, ProjectState};
use crate::money::{from_cents, to_cents};
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

/// The SQLite store. Cheap to clone; one connection behind a mutex.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
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
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` in an immediate transaction on a blocking thread.
    async fn tx<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| backend("store lock poisoned"))?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let value = f(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(value)
        })
        .await
        .map_err(backend)?
    }

    /// The database as stored, for checks that personal data is gone (test
    /// support): the file and its write-ahead log; for an in-memory
    /// database, a copy of it (`VACUUM INTO`).
    pub async fn raw_bytes(&self) -> Result<Vec<u8>, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().map_err(|_| backend("store lock poisoned"))?;
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

    /// Sum of a pool's active matches, and per project, per donor (test support too).
    pub async fn pool_spent(&self, pool: &str) -> Result<Decimal, StoreError> {
        let pool = pool.to_string();
        self.tx(move |tx| {
            cents(
                tx,
                "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE pool = ?1 AND active = 1",
                params![pool],
            )
        })
        .await
    }
}

fn cents(
    tx: &rusqlite::Transaction,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<Decimal, StoreError> {
    let c: i64 = tx.query_row(sql, p, |r| r.get(0)).map_err(backend)?;
    Ok(from_cents(c)?)
}

/// Rows of (pool, amount in cents) selected by `sql` with one parameter.
fn pool_amounts(
    tx: &rusqlite::Transaction,
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

fn record_event(
    tx: &rusqlite::Transaction,
    event_id: &str,
    kind: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let inserted = tx
        .execute(
            "INSERT OR IGNORE INTO events (id, kind, applied_at) VALUES (?1, ?2, ?3)",
            params![event_id, kind, now],
        )
        .map_err(backend)?;
    Ok(inserted == 1)
}

fn pledge_row(
    tx: &rusqlite::Transaction,
    id: &str,
) -> Result<(String, i64, String, PledgeStatus), StoreError> {
    tx.query_row(
        "SELECT project, amount_cents, donor, status FROM pledges WHERE id = ?1",
        params![id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        },
    )
    .optional()
    .map_err(backend)?
    .map(|(p, a, d, s)| {
        (
            p,
            a,
            d,
            PledgeStatus::parse(&s).unwrap_or(PledgeStatus::Pending),
        )
    })
    .ok_or_else(|| StoreError::UnknownPledge(id.to_string()))
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The calendar day of a unix time in a time zone (UTC if unknown).
fn day_in(at: i64, timezone: &str) -> Date {
    let tz = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_second(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(tz)
        .date()
}

fn figures_tx(tx: &rusqlite::Transaction, project: &str) -> Result<Figures, StoreError> {
    let raised = cents(
        tx,
        "SELECT COALESCE(SUM(amount_cents), 0) FROM pledges WHERE project = ?1 AND status = 'paid'",
        params![project],
    )?;
    let matched = pool_amounts(
        tx,
        "SELECT pool, SUM(amount_cents) FROM matches WHERE project = ?1 AND active = 1 GROUP BY pool ORDER BY pool",
        project,
    )?
    .into_iter()
    .map(|(pool, amount)| (pool, Amount(amount)))
    .collect();
    let (backers, pledges): (u32, u32) = tx
        .query_row(
            "SELECT COUNT(DISTINCT donor), COUNT(*) FROM pledges WHERE project = ?1 AND status = 'paid'",
            params![project],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(backend)?;
    let mut rewards = BTreeMap::new();
    {
        let mut stmt = tx
            .prepare_cached(
                "SELECT reward, COUNT(*) FROM pledges WHERE project = ?1 AND reward IS NOT NULL \
                 AND (status = 'paid' OR (status = 'pending' AND expires_at > ?2)) GROUP BY reward",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![project, now()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, u32>(1)?))
            })
            .map_err(backend)?;
        for row in rows {
            let (reward, count) = row.map_err(backend)?;
            rewards.insert(usize::try_from(reward).unwrap_or(usize::MAX), count);
        }
    }
    let offers: u32 = tx
        .query_row(
            "SELECT COUNT(*) FROM offers WHERE project = ?1",
            params![project],
            |r| r.get(0),
        )
        .map_err(backend)?;
    // A pledge refused at payment (late, over the cap) was never counted:
    // it has no `refunded_at` and does not move `updated_at`.
    let updated: Option<i64> = tx
        .query_row(
            "SELECT MAX(COALESCE(refunded_at, paid_at)) FROM pledges WHERE project = ?1 \
             AND (status = 'paid' OR (status IN ('refunding', 'refunded') AND refunded_at IS NOT NULL))",
            params![project],
            |r| r.get(0),
        )
        .map_err(backend)?;
    let refunds: u32 = tx
        .query_row(
            "SELECT COUNT(*) FROM pledges WHERE project = ?1 AND status IN ('refunding', 'refunded')",
            params![project],
            |r| r.get(0),
        )
        .map_err(backend)?;
    let outcome = close_tx(tx, project)?.and_then(|c| c.outcome);
    Ok(Figures {
        raised,
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

fn close_tx(tx: &rusqlite::Transaction, project: &str) -> Result<Option<CloseRecord>, StoreError> {
    let row = tx
        .query_row(
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
        )
        .optional()
        .map_err(backend)?;
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
fn project_ledger_tx(
    tx: &rusqlite::Transaction,
    project: &str,
) -> Result<ProjectLedger, StoreError> {
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

/// Takes a paid pledge out of the figures: its matches are cancelled (and
/// returned), its status becomes `status`. The caller checked it is paid.
fn unpay_tx(
    tx: &rusqlite::Transaction,
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
    tx.execute(
        "UPDATE matches SET active = 0 WHERE pledge_id = ?1",
        params![pledge_id],
    )
    .map_err(backend)?;
    tx.execute(
        "UPDATE pledges SET status = ?2, refunded_at = ?3, refund_reason = COALESCE(?4, refund_reason) WHERE id = ?1",
        params![pledge_id, status.as_str(), at, reason.map(RefundReason::as_str)],
    )
    .map_err(backend)?;
    Ok(cancelled)
}

impl Store for SqliteStore {
    async fn create_pledge(&self, pledge: NewPledge, limit: Option<u32>) -> Result<(), StoreError> {
        let amount = to_cents(pledge.amount)?;
        self.tx(move |tx| {
            if let (Some(reward), Some(limit)) = (pledge.reward, limit) {
                let taken: u32 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM pledges WHERE project = ?1 AND reward = ?2 \
                         AND (status = 'paid' OR (status = 'pending' AND expires_at > ?3))",
                        params![pledge.project, reward as i64, pledge.created_at],
                        |r| r.get(0),
                    )
                    .map_err(backend)?;
                if taken >= limit {
                    return Err(StoreError::RewardSoldOut);
                }
            }
            tx.execute(
                "INSERT INTO pledges (id, project, amount_cents, reward, display_name, email, donor, lang, status, created_at, expires_at, share_contact) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11)",
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
                    pledge.share_contact
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn attach_checkout(&self, pledge_id: &str, session_id: &str) -> Result<(), StoreError> {
        let (pledge_id, session_id) = (pledge_id.to_string(), session_id.to_string());
        self.tx(move |tx| {
            let n = tx
                .execute(
                    "UPDATE pledges SET checkout_session = ?2 WHERE id = ?1",
                    params![pledge_id, session_id],
                )
                .map_err(backend)?;
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
        payment_intent: Option<&str>,
        paid_at: i64,
    ) -> Result<Applied, StoreError> {
        let catalog = catalog.clone();
        let (event_id, pledge_id, payment_intent) = (
            event_id.to_string(),
            pledge_id.to_string(),
            payment_intent.map(str::to_string),
        );
        self.tx(move |tx| {
            if !record_event(tx, &event_id, "checkout.session.completed", now())? {
                return Ok(Applied::Duplicate);
            }
            let (project_slug, amount_cents, donor, status) = pledge_row(tx, &pledge_id)?;
            if !matches!(status, PledgeStatus::Pending | PledgeStatus::Expired) {
                return Ok(Applied::NoEffect { reason: "pledge already settled" });
            }
            let project = catalog
                .projects
                .get(&project_slug)
                .ok_or_else(|| StoreError::UnknownProject(project_slug.clone()))?;
            let amount = from_cents(amount_cents)?;
            // The project and its pools before this pledge.
            let citizens = cents(tx, "SELECT COALESCE(SUM(amount_cents), 0) FROM pledges WHERE project = ?1 AND status = 'paid'", params![project_slug])?;
            let matched = cents(tx, "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE project = ?1 AND active = 1", params![project_slug])?;
            let backers: u32 = tx
                .query_row("SELECT COUNT(DISTINCT donor) FROM pledges WHERE project = ?1 AND status = 'paid'", params![project_slug], |r| r.get(0))
                .map_err(backend)?;
            let known: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM pledges WHERE project = ?1 AND status = 'paid' AND donor = ?2)",
                    params![project_slug, donor],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            let state = ProjectState {
                citizens_raised: citizens,
                total: citizens + matched,
                backers,
            };
            // A payment that cannot be counted is recorded, to be refunded whole.
            let closed: bool = tx
                .query_row("SELECT EXISTS (SELECT 1 FROM closes WHERE project = ?1)", params![project_slug], |r| r.get(0))
                .map_err(backend)?;
            let refused = if closed || day_in(paid_at, &project.timezone) > project.end {
                Some(RefundReason::CampaignClosed)
            } else if state.total + amount > project.cap {
                Some(RefundReason::OverCap)
            } else {
                None
            };
            if let Some(reason) = refused {
                tx.execute(
                    "UPDATE pledges SET status = 'refunding', paid_at = ?2, payment_intent = COALESCE(?3, payment_intent), refund_reason = ?4 WHERE id = ?1",
                    params![pledge_id, paid_at, payment_intent, reason.as_str()],
                )
                .map_err(backend)?;
                return Ok(Applied::Refused { project: project_slug, reason });
            }
            let pools = catalog.pools_of(project);
            let mut views = Vec::with_capacity(pools.len());
            for (id, rules) in &pools {
                let spent = cents(tx, "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE pool = ?1 AND active = 1", params![id])?;
                let for_project = cents(
                    tx,
                    "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE pool = ?1 AND project = ?2 AND active = 1",
                    params![id, project_slug],
                )?;
                let for_donor = cents(
                    tx,
                    "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE pool = ?1 AND project = ?2 AND donor = ?3 AND active = 1",
                    params![id, project_slug, donor],
                )?;
                let lump_sum_paid: bool = tx
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM matches WHERE pool = ?1 AND project = ?2 AND mode = 'lump_sum' AND active = 1)",
                        params![id, project_slug],
                        |r| r.get(0),
                    )
                    .map_err(backend)?;
                views.push(PoolView {
                    id,
                    rules,
                    spent,
                    matched_for_project: for_project,
                    matched_for_donor: for_donor,
                    lump_sum_paid,
                });
            }
            let pledge = matching::Pledge {
                amount,
                paid_on: day_in(paid_at, &project.timezone),
                new_backer: !known,
            };
            let matches = matching::match_pledge(project, &views, &state, &pledge);
            for m in &matches {
                let mode = match catalog.pools.get(&m.pool_id).map(|p| p.mode) {
                    Some(PoolMode::LumpSum) => "lump_sum",
                    Some(PoolMode::OnSuccess) => "on_success",
                    _ => "per_pledge",
                };
                tx.execute(
                    "INSERT INTO matches (pledge_id, project, pool, donor, mode, amount_cents, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![pledge_id, project_slug, m.pool_id, donor, mode, to_cents(m.amount)?, paid_at],
                )
                .map_err(backend)?;
            }
            tx.execute(
                "UPDATE pledges SET status = 'paid', paid_at = ?2, payment_intent = COALESCE(?3, payment_intent) WHERE id = ?1",
                params![pledge_id, paid_at, payment_intent],
            )
            .map_err(backend)?;
            Ok(Applied::Changed {
                project: project_slug,
                matches,
            })
        })
        .await
    }

    async fn apply_expired(&self, event_id: &str, pledge_id: &str) -> Result<Applied, StoreError> {
        let (event_id, pledge_id) = (event_id.to_string(), pledge_id.to_string());
        self.tx(move |tx| {
            if !record_event(tx, &event_id, "checkout.session.expired", now())? {
                return Ok(Applied::Duplicate);
            }
            let (project, _, _, status) = pledge_row(tx, &pledge_id)?;
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
        at: i64,
    ) -> Result<Applied, StoreError> {
        let (event_id, pledge_id) = (event_id.to_string(), pledge_id.to_string());
        self.tx(move |tx| {
            if !record_event(tx, &event_id, "charge.refunded", now())? {
                return Ok(Applied::Duplicate);
            }
            let (project, _, _, status) = pledge_row(tx, &pledge_id)?;
            if status == PledgeStatus::Refunding {
                // A refund Pavé started: the ledger changed then; only the
                // status is completed here.
                tx.execute(
                    "UPDATE pledges SET status = 'refunded' WHERE id = ?1",
                    params![pledge_id],
                )
                .map_err(backend)?;
                return Ok(Applied::NoEffect {
                    reason: "refund already recorded",
                });
            }
            if status != PledgeStatus::Paid {
                return Ok(Applied::NoEffect {
                    reason: "pledge not paid",
                });
            }
            let cancelled = unpay_tx(tx, &pledge_id, PledgeStatus::Refunded, None, at)?;
            Ok(Applied::Changed {
                project,
                matches: cancelled,
            })
        })
        .await
    }

    async fn collected(&self, project: &str) -> Result<Decimal, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| {
            let citizens = cents(tx, "SELECT COALESCE(SUM(amount_cents), 0) FROM pledges WHERE project = ?1 AND status = 'paid'", params![project])?;
            let matched = cents(tx, "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE project = ?1 AND active = 1", params![project])?;
            Ok(citizens + matched)
        })
        .await
    }

    async fn figures(&self, project: &str) -> Result<Figures, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| figures_tx(tx, &project)).await
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.tx(|tx| {
            let mut projects = BTreeMap::new();
            let slugs: Vec<String> = {
                let mut stmt = tx
                    .prepare("SELECT DISTINCT project FROM pledges UNION SELECT DISTINCT project FROM offers \
                     UNION SELECT project FROM closes ORDER BY 1")
                    .map_err(backend)?;
                let rows = stmt.query_map([], |r| r.get(0)).map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)?
            };
            for slug in slugs {
                let figures = figures_tx(tx, &slug)?;
                projects.insert(slug, figures);
            }
            Ok(Snapshot {
                version: SNAPSHOT_VERSION,
                projects,
            })
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
            tx.query_row(
                "SELECT project, amount_cents, reward, display_name, email, lang FROM pledges WHERE id = ?1",
                params![pledge_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(backend)?
            .map(|(project, cents, reward, display_name, email, lang)| {
                Ok(PledgeContact {
                    project,
                    amount: from_cents(cents)?,
                    reward: reward.and_then(|r| usize::try_from(r).ok()),
                    display_name,
                    email: email.filter(|e| !e.is_empty()),
                    lang,
                })
            })
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
            .tx(move |tx| {
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
                            "UPDATE pledges SET email = NULL, display_name = NULL, donor = ?3                              WHERE project = ?1 AND lower(trim(email)) = ?2",
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
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().map_err(|_| backend("store lock poisoned"))?;
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
        self.tx(move |tx| project_ledger_tx(tx, &project)).await
    }

    async fn ledger_pledges(&self, project: &str) -> Result<Vec<LedgerPledge>, StoreError> {
        let project = project.to_string();
        self.tx(move |tx| {
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
        self.tx(move |tx| {
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
            let citizens = cents(tx, "SELECT COALESCE(SUM(amount_cents), 0) FROM pledges WHERE project = ?1 AND status = 'paid'", params![slug])?;
            let matched = cents(tx, "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE project = ?1 AND active = 1", params![slug])?;
            let backers: u32 = tx
                .query_row("SELECT COUNT(DISTINCT donor) FROM pledges WHERE project = ?1 AND status = 'paid'", params![slug], |r| r.get(0))
                .map_err(backend)?;
            let state = ProjectState {
                citizens_raised: citizens,
                total: citizens + matched,
                backers,
            };
            let pools = catalog.pools_of(project);
            let mut views = Vec::with_capacity(pools.len());
            for (id, rules) in &pools {
                let spent = cents(tx, "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE pool = ?1 AND active = 1", params![id])?;
                let for_project = cents(
                    tx,
                    "SELECT COALESCE(SUM(amount_cents), 0) FROM matches WHERE pool = ?1 AND project = ?2 AND active = 1",
                    params![id, slug],
                )?;
                views.push(PoolView {
                    matched_for_project: for_project,
                    spent,
                    ..PoolView::fresh(id, rules)
                });
            }
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
            let (project, _, _, status) = pledge_row(tx, &pledge_id)?;
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
            let (_, _, _, status) = pledge_row(tx, &pledge_id)?;
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
        let version: i64 = store
            .tx(|tx| {
                tx.query_row("PRAGMA user_version", [], |r| r.get(0))
                    .map_err(backend)
            })
            .await
            .unwrap();
        assert_eq!(version, 2);
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
                },
                None,
            )
            .await
            .unwrap();
        let shared: bool = store
            .tx(|tx| {
                tx.query_row(
                    "SELECT share_contact FROM pledges WHERE id = 'p-2'",
                    [],
                    |r| r.get(0),
                )
                .map_err(backend)
            })
            .await
            .unwrap();
        assert!(shared);
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
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
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}
