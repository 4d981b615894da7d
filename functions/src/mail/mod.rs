//! The donors' emails: a confirmation after each payment, a notice after
//! each refund (with its reason), in the pledge's language.
//!
//! - [`compose`] is pure: a [`Notice`] → subject and body.
//! - [`smtp`] is the edge: [`Mailer`] (SMTP through lettre, or log-only).
//! - [`notify`] joins them: called only after the store committed the
//!   change the email reports, and only when that change was newly applied
//!   (a duplicate webhook sends nothing). Its errors are logged, never
//!   returned: a payment or a refund never fails for an email.

pub mod compose;
pub mod smtp;

use pave_locale::Lang;

pub use compose::{Email, Notice, Receipt, RefundCause};
pub use smtp::{Delivery, MailError, Mailer};

use crate::catalog::Catalog;
use crate::store::{RefundReason, Store};

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
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Mail(#[from] MailError),
}

/// The notice of `event` for a pledge, from the store and the catalog.
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

/// Composes and sends the email of `event`; never fails (logs why nothing
/// was sent: the pledge id, never the address).
pub async fn notify<S: Store>(
    mailer: &Mailer,
    store: &S,
    catalog: &Catalog,
    pledge_id: &str,
    event: Event,
    at: i64,
) -> Option<Delivery> {
    let result = async {
        let (to, notice) = notice(store, catalog, pledge_id, event, at).await?;
        Ok::<_, NotifyError>(mailer.send(&to, &notice.compose()).await?)
    }
    .await;
    match result {
        Ok(delivery) => Some(delivery),
        Err(e) => {
            tracing::warn!("pave mail: no email for pledge {pledge_id} ({event:?}): {e}");
            None
        }
    }
}
