//! The store: pledges, matches, processed webhook events and in-kind offers.
//!
//! One trait, two backends: SQLite (embedded default, `sqlite.rs`) and
//! DynamoDB (on AWS, `dynamo.rs`). Every webhook's effects are applied
//! atomically and at most once per event id.

pub mod dynamo;
pub mod sqlite;

use std::future::Future;

use rust_decimal::Decimal;

use crate::catalog::Catalog;
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
    pub created_at: i64,
    /// When its checkout (and any reward reservation) expires, unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PledgeStatus {
    /// Created, checkout being opened or open.
    Pending,
    Paid,
    Expired,
    Refunded,
}

impl PledgeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PledgeStatus::Pending => "pending",
            PledgeStatus::Paid => "paid",
            PledgeStatus::Expired => "expired",
            PledgeStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<PledgeStatus> {
        match s {
            "pending" => Some(PledgeStatus::Pending),
            "paid" => Some(PledgeStatus::Paid),
            "expired" => Some(PledgeStatus::Expired),
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
}

/// An offer of in-kind help (private to the project's editors).
#[derive(Debug, Clone)]
pub struct Offer {
    pub project: String,
    pub need: Option<usize>,
    pub name: String,
    pub contact: String,
    pub message: String,
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unknown pledge {0}")]
    UnknownPledge(String),
    #[error("the reward is no longer available")]
    RewardSoldOut,
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
    /// limited (`limit`): refused when paid and reserved ones reach it.
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

    /// `checkout.session.completed`: the pledge is paid; its matches are
    /// computed and written with it, in one transaction, once per event id.
    fn apply_paid(
        &self,
        catalog: &Catalog,
        event_id: &str,
        pledge_id: &str,
        payment_intent: Option<&str>,
        paid_at: i64,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// `checkout.session.expired`: a pending pledge expires, its reservation ends.
    fn apply_expired(
        &self,
        event_id: &str,
        pledge_id: &str,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// `charge.refunded`: a paid pledge is refunded and its matches cancelled.
    fn apply_refunded(
        &self,
        event_id: &str,
        pledge_id: &str,
        at: i64,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// Citizens' money plus active matches of a project.
    fn collected(&self, project: &str) -> impl Future<Output = Result<Decimal, StoreError>> + Send;

    /// The figures of one project.
    fn figures(&self, project: &str) -> impl Future<Output = Result<Figures, StoreError>> + Send;

    /// The figures of every project with any.
    fn snapshot(&self) -> impl Future<Output = Result<Snapshot, StoreError>> + Send;

    fn add_offer(&self, offer: Offer) -> impl Future<Output = Result<(), StoreError>> + Send;
}
