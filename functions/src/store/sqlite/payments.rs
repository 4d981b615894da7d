//! Payments: a limited reward's places, a payment through `payment::decide`
//! (counted with its matches, or refused), and a paid pledge taken out of
//! the figures.

use super::*;

/// The places of a reward taken by others than `pledge_id` at `at`: paid
/// pledges (a running total) and open reservations.
pub(super) fn reward_taken(
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
pub(super) fn unpay_tx(
    tx: &Connection,
    pledge_id: &str,
    status: PledgeStatus,
    reason: Option<RefundReason>,
    at: i64,
) -> Result<Vec<Match>, StoreError> {
    let cancelled = super::reads::active_matches(tx, pledge_id)?;
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

/// A checkout paid (`Store::apply_paid`), in its transaction, in the shape
/// the DynamoDB store has: [`read_paid`] reads the facts, [`plan_paid`]
/// (pure) decides and matches, [`commit_paid`] writes the plan.
pub(super) fn apply_paid_tx(
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
    let project = catalog
        .projects
        .get(&row.project)
        .ok_or_else(|| StoreError::UnknownProject(row.project.clone()))?;
    let read = read_paid(tx, catalog, project, pledge_id, row, paid_at)?;
    let plan = plan_paid(project, &read, paid, paid_at)?;
    commit_paid(tx, catalog, pledge_id, read, plan, paid, paid_at)
}

/// What a payment reads in its transaction before it is decided.
pub(super) struct PaidRead<'a> {
    pub(super) row: PledgeRow,
    pub(super) facts: payment::Facts,
    /// The project and its pools before this pledge (running totals).
    pub(super) state: ProjectState,
    pub(super) views: Vec<PoolView<'a>>,
    /// Whether the donor already backs the project.
    pub(super) known: bool,
}

/// What a payment writes: its refusal, or its matches.
#[derive(Debug, PartialEq)]
pub(super) enum PaidPlan {
    Refuse(RefundReason),
    Count(Vec<Match>),
}

pub(super) fn read_paid<'a>(
    tx: &Connection,
    catalog: &'a Catalog,
    project: &'a CatalogProject,
    pledge_id: &str,
    row: PledgeRow,
    paid_at: i64,
) -> Result<PaidRead<'a>, StoreError> {
    let state = project_state(tx, &row.project)?;
    let known = maybe(
        tx,
        "SELECT 1 FROM project_donors WHERE project = ?1 AND donor = ?2 AND paid > 0",
        params![row.project, row.donor],
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
            Some(reward) => reward_taken(tx, &row.project, reward, pledge_id, paid_at)?,
            None => 0,
        },
        close_started: close_tx(tx, &row.project)?.is_some(),
        total_cents: to_cents(state.total)?,
        cap_cents: to_cents(crate::money::floor_cents(project.cap))?,
    };
    let views = catalog
        .pools_of(project)
        .into_iter()
        .map(|(id, rules)| pool_view(tx, id, rules, &row.project, Some(&row.donor)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PaidRead {
        row,
        facts,
        state,
        views,
        known,
    })
}

/// The decision ([`payment::decide`]) and, when counted, the matching
/// engine's matches. Pure.
pub(super) fn plan_paid(
    project: &CatalogProject,
    read: &PaidRead<'_>,
    paid: &Payment<'_>,
    paid_at: i64,
) -> Result<PaidPlan, StoreError> {
    if let Err(reason) = payment::decide(project, &read.facts, paid, paid_at) {
        return Ok(PaidPlan::Refuse(reason));
    }
    let pledge = matching::Pledge {
        amount: from_cents(read.row.amount_cents)?,
        paid_on: pave_contract::calendar::day_in(paid_at, &project.timezone),
        new_backer: !read.known,
    };
    Ok(PaidPlan::Count(matching::match_pledge(
        project,
        &read.views,
        &read.state,
        &pledge,
    )))
}

/// Writes the plan: a refused payment is recorded `refunding` with its
/// reason (to be refunded whole, never counted); a counted one is paid
/// with its matches.
pub(super) fn commit_paid(
    tx: &Connection,
    catalog: &Catalog,
    pledge_id: &str,
    read: PaidRead<'_>,
    plan: PaidPlan,
    paid: &Payment<'_>,
    paid_at: i64,
) -> Result<Applied, StoreError> {
    let PledgeRow { project, donor, .. } = read.row;
    let matches = match plan {
        PaidPlan::Refuse(reason) => {
            exec(
                tx,
                "UPDATE pledges SET status = 'refunding', paid_at = ?2, payment_intent = COALESCE(?3, payment_intent), refund_reason = ?4 WHERE id = ?1",
                params![pledge_id, paid_at, paid.intent, reason.as_str()],
            )?;
            return Ok(Applied::Refused { project, reason });
        }
        PaidPlan::Count(matches) => matches,
    };
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
                project,
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
        params![pledge_id, paid_at, paid.intent],
    )?;
    Ok(Applied::Changed { project, matches })
}
