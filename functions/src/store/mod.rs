//! The store: pledges, matches, processed webhook events and in-kind offers.
//!
//! One trait, two backends: SQLite (embedded default, `sqlite/`) and
//! DynamoDB (on AWS, `dynamo.rs`). Every webhook's effects are applied
//! atomically and at most once per event id.

pub mod dynamo;
pub mod sqlite;

use std::future::Future;

use rust_decimal::Decimal;

use crate::catalog::Catalog;
use crate::contacts::Contacts;
use crate::mail::outbox::{Claimed, Outgoing, Settle};
use crate::matching::Match;
use crate::progress::{Figures, Snapshot};

/// A pledge being created (before its checkout).
#[derive(Debug, Clone)]
pub struct NewPledge {
    pub id: String,
    pub project: String,
    pub amount: Decimal,
    pub reward: Option<usize>,
    pub display_name: Option<String>,
    pub email: String,
    /// An opaque key identifying the donor (a hash of the email), for backers
    /// and per-donor limits, that is not the email itself.
    pub donor: String,
    pub lang: String,
    /// The donor agreed that the project holder receives their name and
    /// email (to deliver a reward, to thank them): only then do statements
    /// show them.
    pub share_contact: bool,
    /// The donor asked for the project's news by email.
    pub news: bool,
    /// A short public message for the wall (only where the territory
    /// allows them), at most [`MAX_MESSAGE_CHARS`].
    pub message: Option<String>,
    pub created_at: i64,
    /// When its checkout (and any reward reservation) expires, unix seconds.
    pub expires_at: i64,
    /// An opaque key of the client that asked (a keyed hash of its network
    /// address, see `api::limits::client_key`), for the cap on places held.
    pub client: Option<String>,
}

/// How many places of limited rewards one donor (the same email), or one
/// client (the same network), may hold at once on a project with open
/// checkouts: no one can hoard a reward's places by opening checkouts.
pub const MAX_PLACES_HELD: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PledgeStatus {
    /// Created, checkout being opened or open.
    Pending,
    Paid,
    Expired,
    /// Paid, then taken out of the figures to be refunded (campaign closed
    /// unfunded, late payment, over the cap): its matches are cancelled; the
    /// Stripe refund is under way or failed and will be retried.
    Refunding,
    Refunded,
}

impl PledgeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PledgeStatus::Pending => "pending",
            PledgeStatus::Paid => "paid",
            PledgeStatus::Expired => "expired",
            PledgeStatus::Refunding => "refunding",
            PledgeStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<PledgeStatus> {
        match s {
            "pending" => Some(PledgeStatus::Pending),
            "paid" => Some(PledgeStatus::Paid),
            "expired" => Some(PledgeStatus::Expired),
            "refunding" => Some(PledgeStatus::Refunding),
            "refunded" => Some(PledgeStatus::Refunded),
            _ => None,
        }
    }
}

/// What applying a webhook event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The event changed the ledger.
    Changed {
        project: String,
        matches: Vec<Match>,
    },
    /// The event id was already applied: nothing changed.
    Duplicate,
    /// The event was recorded but had nothing to change (e.g. an expiry for a
    /// pledge already paid).
    NoEffect { reason: &'static str },
    /// The payment arrived but cannot be counted (the campaign is closed or
    /// over, or it would take the project past its cap): the pledge is
    /// recorded as `refunding` with `reason`, and must be refunded whole.
    Refused {
        project: String,
        reason: RefundReason,
    },
}

/// Why a paid pledge is refunded by Pavé (a refund made from Stripe's
/// dashboard arrives as `charge.refunded` and has no reason here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefundReason {
    /// An all-or-nothing campaign closed below its goal.
    GoalMissed,
    /// Paid after the campaign's end or its close.
    CampaignClosed,
    /// The payment would have taken the project past its cap.
    OverCap,
    /// The payment arrived once its checkout had expired, and the reward's
    /// last places had been taken meanwhile.
    RewardSoldOut,
    /// Stripe's amount or currency differs from the pledge's.
    AmountMismatch,
    /// Part of the payment was refunded (from Stripe's dashboard): Pavé
    /// keeps no partly refunded pledge, it refunds the rest.
    PartialRefund,
}

impl RefundReason {
    pub const ALL: [RefundReason; 6] = [
        RefundReason::GoalMissed,
        RefundReason::CampaignClosed,
        RefundReason::OverCap,
        RefundReason::RewardSoldOut,
        RefundReason::AmountMismatch,
        RefundReason::PartialRefund,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::GoalMissed => "goal_missed",
            RefundReason::CampaignClosed => "campaign_closed",
            RefundReason::OverCap => "over_cap",
            RefundReason::RewardSoldOut => "reward_sold_out",
            RefundReason::AmountMismatch => "amount_mismatch",
            RefundReason::PartialRefund => "partial_refund",
        }
    }

    pub fn parse(s: &str) -> Option<RefundReason> {
        RefundReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How much of a payment Stripe says was refunded (`charge.refunded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundExtent {
    Full,
    /// Part of it: Pavé refunds the rest (`RefundReason::PartialRefund`).
    Partial,
}

/// A pledge as the close sees it: every pledge of a project that was paid
/// (paid, refunding or refunded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPledge {
    pub id: String,
    pub amount: Decimal,
    pub status: PledgeStatus,
    pub payment_intent: Option<String>,
    /// Set once Pavé decided to refund it.
    pub refund_reason: Option<RefundReason>,
    /// Stripe's refund id, once Stripe accepted the refund.
    pub refund_id: Option<String>,
    /// Stripe's error code of the last refused refund (cleared on success).
    pub refund_error: Option<String>,
    /// How many refund calls were recorded as made.
    pub refund_attempts: u32,
}

/// A donor's name and email, present only when they agreed to share them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: Option<String>,
    pub email: String,
}

/// One pledge of a project's ledger, as the statements read it: every
/// pledge that was paid (paid, refunding or refunded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: String,
    pub amount: Decimal,
    pub reward: Option<usize>,
    pub status: PledgeStatus,
    pub refund_reason: Option<RefundReason>,
    /// When it was paid (unix seconds).
    pub paid_at: i64,
    /// When it left the figures, if it did (a payment refused on arrival
    /// never entered them and has none).
    pub refunded_at: Option<i64>,
    /// The donor's opaque key (for the backers count), never shown.
    pub donor: String,
    /// Only when the donor ticked `share_contact`.
    pub contact: Option<Contact>,
    /// Its active matches, in the engine's order (none once refunding).
    pub matches: Vec<Match>,
}

/// A project's whole ledger: its paid pledges (by id), the matches paid at
/// its close (`on_success`), which belong to no pledge, and its offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectLedger {
    pub pledges: Vec<LedgerEntry>,
    pub close_matches: Vec<Match>,
    /// Its offers of help, oldest first (for the holder's statement).
    pub offers: Vec<Offer>,
}

/// Where a project's close stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseState {
    /// Started: payments are no longer counted; the outcome is being decided.
    Closing,
    /// Not funded: the paid pledges are being refunded.
    Refunding,
    /// Done, with its outcome.
    Closed,
}

impl CloseState {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseState::Closing => "closing",
            CloseState::Refunding => "refunding",
            CloseState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<CloseState> {
        match s {
            "closing" => Some(CloseState::Closing),
            "refunding" => Some(CloseState::Refunding),
            "closed" => Some(CloseState::Closed),
            _ => None,
        }
    }
}

/// The outcome of a campaign (one rule: `pave_contract::outcome`).
pub use pave_contract::Outcome;

/// A project's close, as recorded in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRecord {
    pub state: CloseState,
    /// Decided once, never changed.
    pub outcome: Option<Outcome>,
    pub started_at: i64,
    pub closed_at: Option<i64>,
}

/// What Stripe said to a refund call, as recorded after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundResult<'a> {
    /// Stripe accepted the refund (its `re_…` id; empty when Stripe said the
    /// charge was refunded already, e.g. from its dashboard).
    Issued(&'a str),
    /// Stripe refused it, or could not be reached (the error code).
    Failed(&'a str),
}

/// An offer of in-kind help (private to the project's editors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub project: String,
    pub need: Option<usize>,
    pub name: String,
    pub contact: String,
    pub message: String,
    pub created_at: i64,
}

/// What the donor's emails and pages need of a pledge: who to write to, in
/// which language, what they gave, where it stands and its checkout (to
/// cancel it). `email` is `None` once erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PledgeContact {
    pub project: String,
    pub amount: Decimal,
    pub reward: Option<usize>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub lang: String,
    pub status: PledgeStatus,
    /// Its Checkout Session, once opened.
    pub checkout_session: Option<String>,
    /// The matches it earned that still count (none until paid, none once
    /// refunded), in the pools' order: what its thank-you page states.
    pub matches: Vec<Match>,
}

/// A backer who asked for a project's news: one per donor, their latest
/// paid pledge's address and language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsReader {
    /// Their latest paid pledge (the unsubscribe link names it).
    pub pledge_id: String,
    pub email: String,
    pub lang: String,
    pub display_name: Option<String>,
}

/// A paid pledge on its project's wall of backers: the name its donor
/// chose to show (none: anonymous) and when it was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WallEntry {
    pub display_name: Option<String>,
    /// The donor's public message, when they left one.
    pub message: Option<String>,
    pub paid_at: i64,
}

/// The longest public message a backer may leave.
pub const MAX_MESSAGE_CHARS: usize = 140;

/// What an erasure anonymised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    pub pledges: u32,
    pub offers: u32,
    /// Emails to the donor not sent yet, dropped from the outbox.
    pub emails: u32,
}

impl Erased {
    pub fn total(&self) -> u32 {
        self.pledges + self.offers + self.emails
    }
}

/// What replaces erased free text (an offer's name, contact and message).
pub const ERASED_TEXT: &str = "(effacé)";

/// Whether an offer's contact is this donor's email (the contact is free
/// text: the email alone, or within it), case-insensitively.
pub fn contact_names_email(contact: &str, email: &str) -> bool {
    let email = email.trim().to_lowercase();
    !email.is_empty() && contact.to_lowercase().contains(&email)
}

/// The readers of a project's news from its pledges (newest first, each
/// with its donor key): the first of each donor.
pub fn one_per_donor(rows: Vec<(NewsReader, String)>) -> Vec<NewsReader> {
    let mut seen = std::collections::BTreeSet::new();
    rows.into_iter()
        .filter(|(_, donor)| seen.insert(donor.clone()))
        .map(|(reader, _)| reader)
        .collect()
}

/// 32 random bytes (a store's mail secret); an error without randomness
/// (never a guessable key).
pub fn random_secret() -> Result<[u8; 32], StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Backend(format!("no randomness for a secret: {e}")))?;
    Ok(bytes)
}

/// A fresh anonymous donor key (replacing the hash of an erased email):
/// random, so it cannot be linked back to the email.
pub fn anonymous_donor_key() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        bytes[..8].copy_from_slice(&jiff::Timestamp::now().as_nanosecond().to_le_bytes()[..8]);
    }
    format!("erased-{}", hex::encode(bytes))
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unknown pledge {0}")]
    UnknownPledge(String),
    #[error("the reward is no longer available")]
    RewardSoldOut,
    #[error("this donor or client already holds {MAX_PLACES_HELD} places with open checkouts")]
    TooManyPlacesHeld,
    #[error("the project is not in the catalog: {0}")]
    UnknownProject(String),
    #[error("amount error: {0}")]
    Money(#[from] crate::money::MoneyError),
    #[error("storage error: {0}")]
    Backend(String),
}

/// The persistence the money side needs.
pub trait Store: Send + Sync + 'static {
    /// Records a pending pledge, reserving its reward when the reward is
    /// limited (`limit`): refused when paid and reserved ones reach it
    /// (`RewardSoldOut`), or when its donor or its client already holds
    /// [`MAX_PLACES_HELD`] places of the project's limited rewards with
    /// checkouts still open (`TooManyPlacesHeld`).
    fn create_pledge(
        &self,
        pledge: NewPledge,
        limit: Option<u32>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Links the pledge to its checkout session.
    fn attach_checkout(
        &self,
        pledge_id: &str,
        session_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `checkout.session.completed`: once per event id, the payment goes
    /// through [`crate::payment::decide`] on what the store reads in its
    /// transaction; counted, the pledge is paid and its matches written
    /// with it; refused, it is recorded `refunding` with the reason
    /// (`Applied::Refused`), never counted. A pledge already settled (paid,
    /// refunding, refunded — a refund that came first) changes nothing.
    fn apply_paid(
        &self,
        catalog: &Catalog,
        event_id: &str,
        pledge_id: &str,
        payment: &crate::payment::Payment<'_>,
        paid_at: i64,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// `checkout.session.expired`: a pending pledge expires, its reservation ends.
    fn apply_expired(
        &self,
        event_id: &str,
        pledge_id: &str,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// `charge.refunded`, once per event id. In full: a paid pledge is
    /// refunded and its matches cancelled (`Changed`); a pledge not yet
    /// counted (pending or expired: the refund came before the completion)
    /// is recorded refunded, so that a later completion counts nothing
    /// (`Changed`, no match); a refund Pavé started is completed
    /// (`NoEffect`). In part (`RefundExtent::Partial`): the pledge leaves
    /// the figures as for a full refund, but `refunding` with the reason
    /// `partial_refund`, and the caller refunds the rest (`Refused`).
    /// `payment_intent` is the charge's, recorded for that refund.
    fn apply_refunded(
        &self,
        event_id: &str,
        pledge_id: &str,
        extent: RefundExtent,
        payment_intent: Option<&str>,
        at: i64,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// Citizens' money plus active matches of a project.
    fn collected(&self, project: &str) -> impl Future<Output = Result<Decimal, StoreError>> + Send;

    /// The figures of one project.
    fn figures(&self, project: &str) -> impl Future<Output = Result<Figures, StoreError>> + Send;

    /// The figures of every project with any.
    fn snapshot(&self) -> impl Future<Output = Result<Snapshot, StoreError>> + Send;

    /// Records an offer of help; its id (unique in the store).
    fn add_offer(&self, offer: Offer) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// The holders' and editors' private contacts (empty until set).
    fn contacts(&self) -> impl Future<Output = Result<Contacts, StoreError>> + Send;

    /// Replaces the contacts (`pave contacts`, or `pave serve` loading the
    /// `contacts.yaml` beside its database).
    fn set_contacts(
        &self,
        contacts: &Contacts,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The project's paid pledges, newest first, `limit` from `offset`,
    /// and how many there are in all (its wall of backers).
    fn wall(
        &self,
        project: &str,
        offset: usize,
        limit: usize,
    ) -> impl Future<Output = Result<(Vec<WallEntry>, u32), StoreError>> + Send;

    // ----------------------------------------------------- news

    /// The backers of `project` who asked for its news and can be written
    /// to (paid, email kept), one per donor.
    fn news_readers(
        &self,
        project: &str,
    ) -> impl Future<Output = Result<Vec<NewsReader>, StoreError>> + Send;

    /// The donor of `pledge_id` asks for no more news of its project: every
    /// pledge of theirs to it stops asking. The project, or `None` for an
    /// unknown pledge.
    fn stop_news(
        &self,
        pledge_id: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Whether the news item `news` of `project` was announced (its emails
    /// enqueued) already.
    fn announced(
        &self,
        project: &str,
        news: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that it was.
    fn mark_announced(
        &self,
        project: &str,
        news: &str,
        at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The store's own secret for the emails' signed links (made once, at
    /// random, on first use).
    fn mail_secret(&self) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    // ----------------------------------------------------- the outbox

    /// Puts an email in the outbox, due now (the store's clock), unless its
    /// key was ever enqueued (pending, sent or given up): true when it is
    /// new.
    fn enqueue_mail(&self, mail: Outgoing)
    -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Claims up to `limit` emails due at `now` (pending, retry time
    /// passed, no live claim) for `lease` seconds, oldest first, counting
    /// one more attempt on each.
    fn claim_mail(
        &self,
        now: i64,
        lease: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Claimed>, StoreError>> + Send;

    /// Records how the claim `attempt` of `key` ended. Sent, the address
    /// and the text are dropped and the key kept. A claim that is no longer
    /// `attempt` (it lapsed and was claimed again) changes nothing.
    fn settle_mail(
        &self,
        key: &str,
        attempt: u32,
        outcome: Settle,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // ----------------------------------------------------- donors' data

    /// The email, language and amount of a pledge, for the donor's emails.
    fn pledge_contact(
        &self,
        pledge_id: &str,
    ) -> impl Future<Output = Result<Option<PledgeContact>, StoreError>> + Send;

    /// Erases a donor's personal data: on every pledge made with `email`
    /// (compared trimmed, case-insensitively) the name and email are
    /// removed and the donor key replaced by an anonymous one (the same for
    /// all of that donor's pledges to a project, so backers and per-donor
    /// figures stay identical); every offer whose contact names the email
    /// has its name, contact and message replaced by [`ERASED_TEXT`];
    /// every email to it still in the outbox is dropped. Amounts, dates, statuses, matches and totals are kept. Idempotent:
    /// a second call finds nothing.
    fn erase_donor(&self, email: &str) -> impl Future<Output = Result<Erased, StoreError>> + Send;
    /// The project's ledger for its statements: every pledge that was paid
    /// with its active matches, and the active matches paid at the close.
    fn project_ledger(
        &self,
        project: &str,
    ) -> impl Future<Output = Result<ProjectLedger, StoreError>> + Send;

    // ----------------------------------------------------- campaign close

    /// The project's close record, if its close has started.
    fn close_record(
        &self,
        project: &str,
    ) -> impl Future<Output = Result<Option<CloseRecord>, StoreError>> + Send;

    /// Starts a project's close (`closing`) if it has not started, and
    /// returns its record. From then on a payment for the project is
    /// refused (`Applied::Refused`, `campaign_closed`).
    fn begin_close(
        &self,
        project: &str,
        at: i64,
    ) -> impl Future<Output = Result<CloseRecord, StoreError>> + Send;

    /// Every pledge of the project that was paid (paid, refunding, refunded).
    fn ledger_pledges(
        &self,
        project: &str,
    ) -> impl Future<Output = Result<Vec<LedgerPledge>, StoreError>> + Send;

    /// Every pledge of any project waiting for its refund (`refunding`):
    /// what the next close run retries. Pairs of (project, pledge).
    fn pending_refunds(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, LedgerPledge)>, StoreError>> + Send;

    /// `closing` → `closed`, funded, in one transaction with the project's
    /// `on_success` matches (the engine's [`crate::matching::settle_campaign`]
    /// on the figures at that moment). Returns those matches; nothing when
    /// the close is not `closing` (already settled).
    fn close_funded(
        &self,
        catalog: &Catalog,
        project: &str,
        at: i64,
    ) -> impl Future<Output = Result<Vec<Match>, StoreError>> + Send;

    /// `closing` → `refunding`, not funded (nothing when already past it).
    fn close_not_funded(
        &self,
        project: &str,
        at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `refunding` → `closed` once no pledge of the project is `refunding`;
    /// returns whether the close is now `closed`.
    fn complete_close(
        &self,
        project: &str,
        at: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A paid pledge → `refunding` with `reason`, recorded before the Stripe
    /// call: it leaves the figures and its matches are cancelled (returned
    /// in `Applied::Changed`), in one transaction. `NoEffect` when it is not
    /// paid (already refunding or refunded: the ledger is changed once).
    fn start_refund(
        &self,
        pledge_id: &str,
        reason: RefundReason,
        at: i64,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// Records what Stripe answered for a `refunding` pledge: `Issued` →
    /// `refunded` (with the refund id); `Failed` → stays `refunding`, with
    /// the error code, to be retried. Either way one more attempt is
    /// counted. Nothing for a pledge already `refunded`.
    fn finish_refund(
        &self,
        pledge_id: &str,
        result: RefundResult<'_>,
        at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
