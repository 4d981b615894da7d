//! Campaign close: at the end of a campaign (the last day, 23:59:59 in the
//! project's time zone), decide the outcome and carry it out.
//!
//! Functional core, imperative shell:
//! - [`campaign_over`] and [`plan`] are pure: from the project's catalog
//!   entry, its figures and its paid pledges they decide the [`Outcome`] and
//!   the list of [`Action`]s;
//! - [`close_project`] and [`run`] execute a plan over a [`Store`] and the
//!   [`Payments`] provider, and [`refund`] is the one path every refund
//!   Pavé makes takes (close, late payment, over-cap payment).
//!
//! Outcomes:
//! - `all_or_nothing`, goal reached (citizens + matching) → funded: the
//!   `on_success` pools pay (only when the citizens alone reached the goal,
//!   the engine's [`crate::matching::settle_campaign`]), matching stays.
//! - `all_or_nothing`, goal missed → not funded: every paid pledge is taken
//!   out of the figures (its matches released to their pools, lump sums
//!   included) and refunded through Stripe.
//! - `keep_it_all` → funded with what was raised (on_success as above).
//!
//! Idempotent and resumable: the close's state lives in the store
//! (`closing` → `refunding` → `closed`, see [`CloseState`]); the outcome is
//! decided once and kept. Each refund is recorded before the Stripe call
//! (`paid` → `refunding`, ledger changed once) and after it (`refunded`
//! with Stripe's refund id, or the Stripe error code kept for the next run).
//! The Stripe call carries the idempotency key [`idempotency_key`] (from
//! the pledge id), so a call repeated after a crash returns the first refund
//! instead of making another one. Running the close twice, or again after a
//! crash half-way, ends in the same state with each pledge refunded once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::catalog::{Catalog, CatalogProject, Status};
use crate::mail::{self, RefundCause};
use crate::matching::Match;
use crate::progress::Figures;
use crate::store::{
    Applied, CloseState, LedgerPledge, Outcome, PledgeStatus, RefundReason, RefundResult, Store,
    StoreError,
};
use crate::stripe::client::{PaymentError, Payments, RefundStatus};
use jiff::Timestamp;

/// The moment a close runs at, as `pave close --now` and the `pave-close`
/// Lambda's event give it: an RFC 3339 timestamp, or a date (that day at
/// 12:00 UTC).
pub fn parse_now(text: &str) -> Result<Timestamp, String> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        format!("`{text}` is neither a date (2026-05-01) nor a timestamp (2026-05-01T06:00:00Z)")
    })?;
    date.at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| e.to_string())
}

/// Whether the campaign is over at `now`: after 23:59:59 of its last day in
/// its time zone (UTC when the zone is unknown).
pub fn campaign_over(project: &CatalogProject, now: Timestamp) -> bool {
    pave_contract::calendar::is_over(project.end, &project.timezone, now)
}

/// The outcome of a campaign on its final figures (the one rule,
/// `pave_contract::outcome`).
pub fn outcome(project: &CatalogProject, figures: &Figures) -> Outcome {
    pave_contract::outcome::on_figures(project.funding, project.goal, figures)
}

/// One step of a close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Settle the on_success pools and record the close as funded.
    SettleFunded,
    /// Record the close as not funded (its refunds follow).
    MarkNotFunded,
    /// Refund one pledge: take it out of the figures first when it is still
    /// `paid` (`start`), then call Stripe and record the answer.
    Refund(RefundOrder),
    /// Record the close as done once no refund is pending.
    Complete,
}

/// A refund to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOrder {
    pub pledge_id: String,
    pub payment_intent: Option<String>,
    pub reason: RefundReason,
    /// The pledge is still `paid`: record `refunding` before calling Stripe.
    pub start: bool,
}

/// A close's plan: its outcome and what to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub outcome: Outcome,
    pub actions: Vec<Action>,
}

/// Plans a project's close. `decided` is the outcome a previous run
/// recorded (kept as is: a resumed close never changes its mind); otherwise
/// it is decided on `figures`. `pledges` are the project's paid pledges
/// (paid, refunding, refunded), from [`Store::ledger_pledges`].
pub fn plan(
    project: &CatalogProject,
    figures: &Figures,
    pledges: &[LedgerPledge],
    decided: Option<Outcome>,
) -> Plan {
    let outcome = decided.unwrap_or_else(|| outcome(project, figures));
    let actions = match outcome {
        Outcome::Funded => vec![Action::SettleFunded],
        Outcome::NotFunded => {
            let mut actions = vec![Action::MarkNotFunded];
            for p in pledges {
                let start = match p.status {
                    PledgeStatus::Paid => true,
                    PledgeStatus::Refunding => false,
                    _ => continue,
                };
                actions.push(Action::Refund(RefundOrder {
                    pledge_id: p.id.clone(),
                    payment_intent: p.payment_intent.clone(),
                    reason: p.refund_reason.unwrap_or(RefundReason::GoalMissed),
                    start,
                }));
            }
            actions.push(Action::Complete);
            actions
        }
    };
    Plan { outcome, actions }
}

/// The idempotency key of a pledge's refund: the same for every call, in
/// every run, so Stripe makes the refund once.
pub fn idempotency_key(pledge_id: &str) -> String {
    format!("pave-refund-{pledge_id}")
}

/// Whether a failed call may succeed if made again (with the same key):
/// rate limited (429), Stripe's own errors (5xx), or the network.
pub fn retryable(error: &PaymentError) -> bool {
    match error {
        PaymentError::Transport(_) => true,
        PaymentError::Stripe { status, code, .. } => {
            *status == 429
                || *status >= 500
                // Another run's call with the same key still in flight.
                || matches!(
                    code.as_deref(),
                    Some("rate_limit" | "lock_timeout" | "idempotency_key_in_use")
                )
        }
        _ => false,
    }
}

/// How refunds are paced and retried.
#[derive(Debug, Clone, Copy)]
pub struct RefundPolicy {
    /// Calls per refund, first one included (retryable errors only).
    pub attempts: u32,
    /// First back-off; doubled after each retryable failure.
    pub backoff: Duration,
    /// The longest back-off.
    pub backoff_cap: Duration,
    /// At least this long between two refund calls (a simple rate limit,
    /// well under Stripe's 100 requests a second in live mode).
    pub interval: Duration,
}

impl Default for RefundPolicy {
    fn default() -> Self {
        RefundPolicy {
            attempts: 5,
            backoff: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(8),
            interval: Duration::from_millis(40),
        }
    }
}

/// Paces refund calls: at most one per `interval`.
#[derive(Debug)]
pub struct Refunder<'p, P: ?Sized> {
    payments: &'p P,
    policy: RefundPolicy,
    last_call: Option<Instant>,
}

impl<'p, P: Payments + ?Sized> Refunder<'p, P> {
    pub fn new(payments: &'p P, policy: RefundPolicy) -> Self {
        Refunder {
            payments,
            policy,
            last_call: None,
        }
    }

    async fn pace(&mut self) {
        if let Some(last) = self.last_call {
            let next = last + self.policy.interval;
            let now = Instant::now();
            if next > now {
                tokio::time::sleep(next - now).await;
            }
        }
        self.last_call = Some(Instant::now());
    }

    /// One full refund of `payment_intent`, retried with back-off on
    /// retryable errors, always with the pledge's idempotency key. Returns
    /// what to record: the refund id, or the error code.
    pub async fn refund(&mut self, pledge_id: &str, payment_intent: Option<&str>) -> RefundAnswer {
        let Some(intent) = payment_intent.filter(|i| !i.is_empty()) else {
            return RefundAnswer::Failed("no_payment_intent".into());
        };
        let key = idempotency_key(pledge_id);
        let mut backoff = self.policy.backoff;
        let mut attempt = 1;
        loop {
            self.pace().await;
            match self.payments.refund(intent, None, &key).await {
                Ok(refund) => {
                    return match refund.status {
                        RefundStatus::Failed => RefundAnswer::Failed("refund_failed".into()),
                        RefundStatus::Canceled => RefundAnswer::Failed("refund_canceled".into()),
                        _ => RefundAnswer::Issued(refund.id),
                    };
                }
                // The money is back already (a refund from the dashboard,
                // or a first refund whose key Stripe no longer remembers).
                Err(PaymentError::Stripe {
                    code: Some(code), ..
                }) if code == "charge_already_refunded" => {
                    return RefundAnswer::Issued(String::new());
                }
                Err(e) if retryable(&e) && attempt < self.policy.attempts => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.policy.backoff_cap);
                    attempt += 1;
                }
                Err(e) => return RefundAnswer::Failed(e.code().to_string()),
            }
        }
    }
}

/// What a refund call ended with (owned, to be recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundAnswer {
    Issued(String),
    Failed(String),
}

/// A refund that did not go through: reported, and retried on the next run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRefund {
    pub project: String,
    pub pledge_id: String,
    pub reason: RefundReason,
    /// Stripe's error code (or `unreachable`, `no_payment_intent`, …).
    pub code: String,
}

/// Refunds one pledge and records it: `refunding` first when `start` (the
/// ledger changes there, once), then the Stripe call; once Stripe issued
/// it, the donor's notice goes in the outbox (saying why), then the answer
/// is recorded. A crash between the two is retried by the next run (the
/// same idempotency key, the same refund) and enqueues nothing twice.
/// Returns the failure to report, if any.
pub async fn refund<S: Store, P: Payments + ?Sized>(
    store: &S,
    refunder: &mut Refunder<'_, P>,
    catalog: &Catalog,
    project: &str,
    order: &RefundOrder,
    at: i64,
) -> Result<Option<FailedRefund>, StoreError> {
    if order.start {
        match store
            .start_refund(&order.pledge_id, order.reason, at)
            .await?
        {
            Applied::Changed { .. } | Applied::NoEffect { .. } => {}
            other => {
                return Err(StoreError::Backend(format!(
                    "start_refund of {}: {other:?}",
                    order.pledge_id
                )));
            }
        }
    }
    let answer = refunder
        .refund(&order.pledge_id, order.payment_intent.as_deref())
        .await;
    match &answer {
        RefundAnswer::Issued(id) => {
            mail::enqueue(
                store,
                catalog,
                &order.pledge_id,
                mail::Event::Refunded(RefundCause::from(order.reason)),
                at,
            )
            .await?;
            store
                .finish_refund(&order.pledge_id, RefundResult::Issued(id), at)
                .await?;
            Ok(None)
        }
        RefundAnswer::Failed(code) => {
            store
                .finish_refund(&order.pledge_id, RefundResult::Failed(code), at)
                .await?;
            Ok(Some(FailedRefund {
                project: project.to_string(),
                pledge_id: order.pledge_id.clone(),
                reason: order.reason,
                code: code.clone(),
            }))
        }
    }
}

/// What closing one project did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectReport {
    pub project: String,
    pub outcome: Outcome,
    /// The close's state at the end of this run.
    pub state: CloseState,
    /// What the on_success pools paid at this close.
    pub on_success: Vec<Match>,
    /// Refunds Stripe accepted in this run.
    pub refunds_issued: u32,
    /// Refunds that failed in this run (retried on the next).
    pub refunds_failed: Vec<FailedRefund>,
}

/// What a close run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloseReport {
    /// Projects whose close ran (those already closed are left out).
    pub projects: Vec<ProjectReport>,
    /// Refunds of payments refused on arrival (late, over the cap) retried
    /// in this run: issued and failed.
    pub late_refunds_issued: u32,
    pub late_refunds_failed: Vec<FailedRefund>,
    /// Projects whose close could not run (store errors): retried next time.
    pub errors: Vec<(String, String)>,
}

impl CloseReport {
    /// Whether any refund failed or any project could not be closed.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
            || !self.late_refunds_failed.is_empty()
            || self.projects.iter().any(|p| !p.refunds_failed.is_empty())
    }

    /// Every refund that failed in this run.
    pub fn failed_refunds(&self) -> impl Iterator<Item = &FailedRefund> {
        self.projects
            .iter()
            .flat_map(|p| &p.refunds_failed)
            .chain(&self.late_refunds_failed)
    }
}

/// Closes one project whose campaign is over (resuming a close a previous
/// run left half-way); each refunded donor's notice goes in the outbox.
/// `None` when it was closed already.
pub async fn close_project<S: Store, P: Payments + ?Sized>(
    store: &S,
    refunder: &mut Refunder<'_, P>,
    catalog: &Catalog,
    slug: &str,
    at: i64,
) -> Result<Option<ProjectReport>, StoreError> {
    close_project_noting(store, refunder, catalog, slug, at, &mut BTreeSet::new()).await
}

/// [`close_project`], noting in `attempted` the pledges whose refund it tried.
async fn close_project_noting<S: Store, P: Payments + ?Sized>(
    store: &S,
    refunder: &mut Refunder<'_, P>,
    catalog: &Catalog,
    slug: &str,
    at: i64,
    attempted: &mut BTreeSet<String>,
) -> Result<Option<ProjectReport>, StoreError> {
    let project = catalog
        .projects
        .get(slug)
        .ok_or_else(|| StoreError::UnknownProject(slug.to_string()))?;
    // A closed project costs one read.
    if store
        .close_record(slug)
        .await?
        .is_some_and(|r| r.state == CloseState::Closed)
    {
        return Ok(None);
    }
    // Recorded first: from here on, payments are refused, so the figures
    // read next are final.
    let record = store.begin_close(slug, at).await?;
    if record.state == CloseState::Closed {
        return Ok(None);
    }
    let figures = store.figures(slug).await?;
    let pledges = store.ledger_pledges(slug).await?;
    let plan = plan(project, &figures, &pledges, record.outcome);
    let mut report = ProjectReport {
        project: slug.to_string(),
        outcome: plan.outcome,
        state: record.state,
        on_success: Vec::new(),
        refunds_issued: 0,
        refunds_failed: Vec::new(),
    };
    for action in &plan.actions {
        match action {
            Action::SettleFunded => {
                report.on_success = store.close_funded(catalog, slug, at).await?;
                report.state = CloseState::Closed;
            }
            Action::MarkNotFunded => {
                store.close_not_funded(slug, at).await?;
                report.state = CloseState::Refunding;
            }
            Action::Refund(order) => {
                attempted.insert(order.pledge_id.clone());
                match refund(store, refunder, catalog, slug, order, at).await? {
                    None => report.refunds_issued += 1,
                    Some(failed) => report.refunds_failed.push(failed),
                }
            }
            Action::Complete => {
                if store.complete_close(slug, at).await? {
                    report.state = CloseState::Closed;
                }
            }
        }
    }
    Ok(Some(report))
}

/// The close run a cron (or the `pave-close` Lambda) calls: closes every
/// live or closed project of the catalog whose campaign is over at `now`
/// and is not closed yet, then retries every refund still pending
/// (refused late or over-cap payments, failed refunds of earlier runs).
/// Errors of one project are reported and do not stop the others. Each
/// donor whose refund went through is told why by an email put in the
/// outbox (a refund that failed is told when a later run gets it through);
/// the caller drains the outbox.
pub async fn run<S: Store, P: Payments + ?Sized>(
    store: &S,
    payments: &P,
    catalog: &Catalog,
    now: Timestamp,
    policy: RefundPolicy,
) -> CloseReport {
    let at = now.as_second();
    let mut refunder = Refunder::new(payments, policy);
    let mut report = CloseReport::default();
    // Pledges whose refund this run tried already: not twice in one run.
    let mut attempted = BTreeSet::new();
    for (slug, project) in &catalog.projects {
        if !matches!(project.status, Status::Live | Status::Closed) || !campaign_over(project, now)
        {
            continue;
        }
        match close_project_noting(store, &mut refunder, catalog, slug, at, &mut attempted).await {
            Ok(Some(project_report)) => report.projects.push(project_report),
            Ok(None) => {}
            Err(e) => report.errors.push((slug.clone(), e.to_string())),
        }
    }
    let pending = match store.pending_refunds().await {
        Ok(pending) => pending,
        Err(e) => {
            report.errors.push(("*".into(), e.to_string()));
            return report;
        }
    };
    for (project, pledge) in pending {
        if attempted.contains(&pledge.id) {
            continue;
        }
        let order = RefundOrder {
            pledge_id: pledge.id.clone(),
            payment_intent: pledge.payment_intent.clone(),
            reason: pledge.refund_reason.unwrap_or(RefundReason::GoalMissed),
            start: false,
        };
        match refund(store, &mut refunder, catalog, &project, &order, at).await {
            Ok(None) => report.late_refunds_issued += 1,
            Ok(Some(failed)) => report.late_refunds_failed.push(failed),
            Err(e) => report.errors.push((project.clone(), e.to_string())),
        }
        // A not-funded close whose last refund just went through.
        if let Ok(Some(record)) = store.close_record(&project).await
            && record.state == CloseState::Refunding
            && let Err(e) = store.complete_close(&project, at).await
        {
            report.errors.push((project.clone(), e.to_string()));
        }
    }
    report
}

/// The refund of a payment refused on arrival (`Applied::Refused`), made
/// by the webhook right away; a failure stays pending for the next run.
#[allow(clippy::too_many_arguments)]
pub async fn refund_refused<S: Store, P: Payments + ?Sized>(
    store: &S,
    payments: &P,
    catalog: &Catalog,
    project: &str,
    pledge_id: &str,
    payment_intent: Option<&str>,
    reason: RefundReason,
    at: i64,
) -> Result<Option<FailedRefund>, StoreError> {
    let policy = RefundPolicy {
        attempts: 2,
        ..RefundPolicy::default()
    };
    let mut refunder = Refunder::new(payments, policy);
    let order = RefundOrder {
        pledge_id: pledge_id.to_string(),
        payment_intent: payment_intent.map(str::to_string),
        reason,
        start: false,
    };
    refund(store, &mut refunder, catalog, project, &order, at).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Funding;
    use crate::progress::Amount;
    use jiff::civil::date;
    use rust_decimal::Decimal;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn project(funding: Funding) -> CatalogProject {
        CatalogProject {
            title: "Le Café du Coin".into(),
            territory: "saint-etienne".into(),
            themes: vec![],
            status: Status::Live,
            goal: d("6000"),
            cap: d("7500"),
            funding,
            start: date(2026, 3, 1),
            end: date(2026, 4, 30),
            timezone: "Europe/Paris".into(),
            rewards: vec![],
            pools: vec![],
            holder: Default::default(),
            needs: vec![],
            messages: false,
        }
    }

    fn pledge(id: &str, status: PledgeStatus) -> LedgerPledge {
        LedgerPledge {
            id: id.into(),
            amount: d("10"),
            status,
            payment_intent: Some(format!("pi_{id}")),
            refund_reason: None,
            refund_id: None,
            refund_error: None,
            refund_attempts: 0,
        }
    }

    #[test]
    fn the_campaign_ends_at_midnight_in_its_time_zone() {
        let p = project(Funding::AllOrNothing);
        // 30 April 23:59:59 in Paris (UTC+2) is 21:59:59 UTC.
        let last = "2026-04-30T21:59:59Z".parse().unwrap();
        let after = "2026-04-30T22:00:00Z".parse().unwrap();
        assert!(!campaign_over(&p, last));
        assert!(campaign_over(&p, after));
    }

    #[test]
    fn all_or_nothing_counts_matching_towards_the_goal() {
        let p = project(Funding::AllOrNothing);
        let mut f = Figures {
            raised: d("5000"),
            ..Figures::default()
        };
        assert_eq!(outcome(&p, &f), Outcome::NotFunded);
        f.matched.insert("a/b".into(), Amount(d("1000")));
        assert_eq!(outcome(&p, &f), Outcome::Funded);
        // Keep it all: funded when citizens gave anything; an empty
        // campaign is not (the one rule the pages show too).
        let kept = Figures {
            raised: d("0.01"),
            ..Figures::default()
        };
        assert_eq!(
            outcome(&project(Funding::KeepItAll), &kept),
            Outcome::Funded
        );
        assert_eq!(
            outcome(&project(Funding::KeepItAll), &Figures::default()),
            Outcome::NotFunded
        );
    }

    #[test]
    fn a_missed_goal_refunds_every_paid_pledge_once() {
        let p = project(Funding::AllOrNothing);
        let pledges = [
            pledge("a", PledgeStatus::Paid),
            pledge("b", PledgeStatus::Refunded),
            pledge("c", PledgeStatus::Refunding),
        ];
        let plan = plan(&p, &Figures::default(), &pledges, None);
        assert_eq!(plan.outcome, Outcome::NotFunded);
        let refunds: Vec<(&str, bool)> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Refund(o) => Some((o.pledge_id.as_str(), o.start)),
                _ => None,
            })
            .collect();
        assert_eq!(refunds, [("a", true), ("c", false)]);
        assert_eq!(plan.actions.first(), Some(&Action::MarkNotFunded));
        assert_eq!(plan.actions.last(), Some(&Action::Complete));
    }

    #[test]
    fn a_decided_outcome_is_kept() {
        let p = project(Funding::AllOrNothing);
        let rich = Figures {
            raised: d("7000"),
            ..Figures::default()
        };
        let plan = plan(&p, &rich, &[], Some(Outcome::NotFunded));
        assert_eq!(plan.outcome, Outcome::NotFunded);
        let plan = super::plan(&p, &rich, &[], None);
        assert_eq!(plan.actions, [Action::SettleFunded]);
    }

    #[test]
    fn now_is_a_timestamp_or_a_date_at_noon_utc() {
        assert_eq!(
            parse_now("2026-07-01T06:00:00Z").map(|t| t.as_second()),
            Ok(1_782_885_600)
        );
        assert_eq!(
            parse_now("2026-07-01").map(|t| t.to_string()),
            Ok("2026-07-01T12:00:00Z".to_string())
        );
        let error = parse_now("demain").expect_err("not a date");
        assert!(error.contains("`demain`"), "{error}");
    }

    #[test]
    fn only_rate_limits_server_errors_and_the_network_are_retried() {
        let stripe = |status: u16, code: Option<&str>| PaymentError::Stripe {
            status,
            kind: "api_error".into(),
            code: code.map(str::to_string),
            message: None,
            param: None,
        };
        assert!(retryable(&PaymentError::Transport("reset".into())));
        assert!(retryable(&stripe(429, Some("rate_limit"))));
        assert!(retryable(&stripe(503, None)));
        assert!(retryable(&stripe(409, Some("idempotency_key_in_use"))));
        assert!(!retryable(&stripe(400, Some("charge_disputed"))));
        assert!(!retryable(&PaymentError::Invalid("x".into())));
    }
}
