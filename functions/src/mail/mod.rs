//! The emails: to donors, a confirmation after each payment and a notice
//! after each refund (with its reason), in the pledge's language; to a
//! project's holder and editors, each offer of help ([`offer`]).
//!
//! - [`compose`] is pure: a [`Notice`] → subject and body.
//! - [`enqueue`] joins it to the store: the email of a change, put in the
//!   [`outbox`] once the change is committed (once per [`key`], however
//!   often it is called).
//! - [`outbox`] keeps every email until it is sent, with retries; its
//!   drainer sends through [`smtp`], the edge: [`Mailer`] (SMTP through
//!   lettre, or log-only). A payment or a refund never waits for, nor fails
//!   for, an SMTP server.

pub mod compose;
pub mod news;
pub mod offer;
pub mod outbox;
pub mod smtp;

use pave_locale::Lang;

pub use compose::{Email, Notice, Receipt, RefundCause};
pub use outbox::{Doorbell, Outgoing};
pub use smtp::{Delivery, MailError, Mailer};

use crate::catalog::Catalog;
use crate::store::{PledgeStatus, RefundReason, Store};

/// What happened to the pledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Paid,
    Refunded(RefundCause),
}

impl From<RefundReason> for RefundCause {
    fn from(reason: RefundReason) -> RefundCause {
        match reason {
            RefundReason::GoalMissed => RefundCause::GoalMissed,
            RefundReason::CampaignClosed => RefundCause::AfterClose,
            RefundReason::OverCap => RefundCause::OverCap,
            RefundReason::RewardSoldOut => RefundCause::RewardSoldOut,
            RefundReason::AmountMismatch => RefundCause::AmountMismatch,
            RefundReason::PartialRefund => RefundCause::PartialRefund,
        }
    }
}

/// Why no email went out.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("unknown pledge")]
    UnknownPledge,
    #[error("the pledge's project is not in the catalog")]
    UnknownProject,
    #[error("the donor's email was erased")]
    Erased,
    #[error("the pledge is {0:?}: not what the email reports")]
    Status(crate::store::PledgeStatus),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// The notice of `event` for a pledge, from the store and the catalog,
/// when the pledge is where the event puts it (paid; refunding or
/// refunded).
/// `at` (unix seconds) is dated in the project's time zone.
pub async fn notice<S: Store>(
    store: &S,
    catalog: &Catalog,
    pledge_id: &str,
    event: Event,
    at: i64,
) -> Result<(String, Notice), NotifyError> {
    let contact = store
        .pledge_contact(pledge_id)
        .await?
        .ok_or(NotifyError::UnknownPledge)?;
    let reports = match event {
        Event::Paid => contact.status == PledgeStatus::Paid,
        Event::Refunded(_) => {
            matches!(
                contact.status,
                PledgeStatus::Refunding | PledgeStatus::Refunded
            )
        }
    };
    if !reports {
        return Err(NotifyError::Status(contact.status));
    }
    let email = contact.email.clone().ok_or(NotifyError::Erased)?;
    let project = catalog
        .projects
        .get(&contact.project)
        .ok_or(NotifyError::UnknownProject)?;
    let date = pave_contract::calendar::day_in(at, &project.timezone);
    let receipt = Receipt {
        lang: Lang::from_code(&contact.lang).unwrap_or(Lang::Fr),
        donor_name: contact.display_name.clone(),
        amount: contact.amount,
        project_title: project.title.clone(),
        reward: contact
            .reward
            .and_then(|i| project.rewards.iter().find(|r| r.index == i))
            .map(|r| r.title.clone()),
        holder: project.holder.clone(),
        date,
        pledge_id: pledge_id.to_string(),
    };
    let notice = match event {
        Event::Paid => Notice::PaymentConfirmed(receipt),
        Event::Refunded(cause) => Notice::Refunded { receipt, cause },
    };
    Ok((email, notice))
}

/// The outbox key of the email `event` sends about a pledge: one
/// confirmation and at most one refund notice per pledge, ever.
pub fn key(pledge_id: &str, event: Event) -> String {
    match event {
        Event::Paid => format!("pledge/{pledge_id}/paid"),
        Event::Refunded(_) => format!("pledge/{pledge_id}/refunded"),
    }
}

/// Composes the email of `event` and puts it in the outbox (once per
/// [`key`]: again changes nothing), to be sent by the drainer. `Ok(false)`
/// when it was there already, or when there is nothing to send (the
/// donor's email erased, an unknown pledge: logged with the pledge id,
/// never the address). Only the store's errors are returned: the caller
/// then fails so that it is retried (a webhook redelivered, a refund run
/// again), and the email is enqueued then.
pub async fn enqueue<S: Store>(
    store: &S,
    catalog: &Catalog,
    pledge_id: &str,
    event: Event,
    at: i64,
) -> Result<bool, crate::store::StoreError> {
    let (to, notice) = match notice(store, catalog, pledge_id, event, at).await {
        Ok(found) => found,
        Err(NotifyError::Store(e)) => return Err(e),
        Err(e) => {
            tracing::warn!("pave mail: no email for pledge {pledge_id} ({event:?}): {e}");
            return Ok(false);
        }
    };
    let Email { subject, text } = notice.compose();
    store
        .enqueue_mail(Outgoing {
            key: key(pledge_id, event),
            to,
            subject,
            text,
            unsubscribe: None,
        })
        .await
}
