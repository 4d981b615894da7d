//! The reads: a pledge, a project's figures and state for the matching
//! engine, the snapshot, and a project's ledger.

use super::*;

/// The snapshot of these projects (each with its running totals), in the
/// caller's transaction, reservations counted as of `now`.
pub(super) fn snapshot_tx(
    tx: &Connection,
    slugs: Vec<String>,
    now: i64,
) -> Result<Snapshot, StoreError> {
    let mut projects = BTreeMap::new();
    for slug in slugs {
        let figures = figures_tx(tx, &slug, now)?;
        projects.insert(slug, figures);
    }
    Ok(Snapshot {
        version: SNAPSHOT_VERSION,
        projects,
    })
}

/// A project's state for the matching engine, from the running totals:
/// its paid pledges (sum, backers) and its active matches.
pub(super) fn project_state(tx: &Connection, project: &str) -> Result<ProjectState, StoreError> {
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
pub(super) fn pool_view<'a>(
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
pub(super) fn pool_amounts(
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

/// A pledge's matches that still count, in the order they were made.
pub(super) fn active_matches(tx: &Connection, pledge_id: &str) -> Result<Vec<Match>, StoreError> {
    Ok(pool_amounts(
        tx,
        "SELECT pool, amount_cents FROM matches WHERE pledge_id = ?1 AND active = 1 ORDER BY id",
        pledge_id,
    )?
    .into_iter()
    .map(|(pool_id, amount)| Match { pool_id, amount })
    .collect())
}

/// A pledge as a payment or a refund reads it.
pub(super) struct PledgeRow {
    pub(super) project: String,
    pub(super) amount_cents: i64,
    pub(super) donor: String,
    pub(super) status: PledgeStatus,
    pub(super) reward: Option<usize>,
    pub(super) expires_at: i64,
}

pub(super) fn pledge_row(tx: &Connection, id: &str) -> Result<PledgeRow, StoreError> {
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

pub(super) fn figures_tx(tx: &Connection, project: &str, now: i64) -> Result<Figures, StoreError> {
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
            .query_map(params![project, now], |r| {
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

pub(super) const LEDGER_COLUMNS: &str = "id, amount_cents, status, payment_intent, refund_reason, refund_id, refund_error, refund_attempts";

pub(super) type LedgerRow = (
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
pub(super) fn ledger_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<LedgerRow> {
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

pub(super) fn ledger_pledge(row: LedgerRow) -> Result<LedgerPledge, StoreError> {
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
pub(super) fn project_ledger_tx(
    tx: &Connection,
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
    let offers = tx
        .prepare_cached(
            "SELECT need, name, contact, message, created_at FROM offers \
             WHERE project = ?1 ORDER BY created_at, id",
        )
        .map_err(backend)?
        .query_map(params![project], |r| {
            Ok(Offer {
                project: project.to_string(),
                need: r
                    .get::<_, Option<i64>>(0)?
                    .and_then(|n| usize::try_from(n).ok()),
                name: r.get(1)?,
                contact: r.get(2)?,
                message: r.get(3)?,
                created_at: r.get(4)?,
            })
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    Ok(ProjectLedger {
        pledges,
        close_matches: matches.remove(&None).unwrap_or_default(),
        offers,
    })
}
