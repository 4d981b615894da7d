//! The outbox on DynamoDB. An unsent email is `OUTBOX` / `<key>` (the
//! partition a drainer queries); once sent, or erased, it moves to
//! `OUTBOX_SENT` / `<key>`, a marker without address or text that keeps
//! the key from being enqueued again until the table's TTL removes it
//! (long after Stripe stops redelivering a webhook). Given-up emails stay
//! in `OUTBOX` as `failed` until their own TTL.

use aws_sdk_dynamodb::types::AttributeValue;

use super::expr::{Expr, Range, Write};
use super::items::{self, Item, Key, n, s};
use super::plan::Cancelled;
use super::{DynamoStore, Step, backend};
use crate::mail::outbox::{Claimed, Outgoing, Settle};
use crate::store::StoreError;

/// The partition of unsent emails.
pub const PARTITION: &str = "OUTBOX";
/// The partition of the keys of sent (or erased) emails.
pub const SENT_PARTITION: &str = "OUTBOX_SENT";
/// How long a sent email's key is kept (its marker's TTL).
pub const SENT_KEPT: i64 = 90 * 86_400;
/// How long a given-up email is kept for an operator to see.
pub const FAILED_KEPT: i64 = 30 * 86_400;

fn pending_key(key: &str) -> Key {
    Key {
        pk: PARTITION.to_string(),
        sk: key.to_string(),
    }
}

fn sent_key(key: &str) -> Key {
    Key {
        pk: SENT_PARTITION.to_string(),
        sk: key.to_string(),
    }
}

/// The enqueue: the pending item, then (checked) no sent marker.
fn enqueue_writes(mail: &Outgoing, at: i64) -> Vec<Write> {
    let mut item: Item = [
        ("state".to_string(), s("pending")),
        ("to".to_string(), s(&mail.to)),
        ("subject".to_string(), s(&mail.subject)),
        ("text".to_string(), s(&mail.text)),
        ("attempts".to_string(), n(0)),
        ("next_at".to_string(), n(at)),
        ("lease_until".to_string(), n(0)),
        ("created_at".to_string(), n(at)),
    ]
    .into();
    if let Some(address) = &mail.unsubscribe {
        item.insert("unsubscribe".to_string(), s(address));
    }
    vec![
        Write::Put {
            key: pending_key(&mail.key),
            item,
            expr: Expr::new().item_absent(),
        },
        Write::Check {
            key: sent_key(&mail.key),
            expr: Expr::new().item_absent(),
        },
    ]
}

/// The sent (or erased) marker replacing the pending item read as `claim`.
fn moved_writes(key: &str, claim: Expr, state: &str, now: i64) -> Vec<Write> {
    vec![
        Write::DeleteIf {
            key: pending_key(key),
            expr: claim,
        },
        Write::Put {
            key: sent_key(key),
            item: [
                ("state".to_string(), s(state)),
                ("settled_at".to_string(), n(now)),
                (items::TTL.to_string(), n(now.saturating_add(SENT_KEPT))),
            ]
            .into(),
            expr: Expr::new(),
        },
    ]
}

/// The conditions of a live claim: still pending at `attempt`.
fn live_claim(attempt: u32) -> Expr {
    Expr::new()
        .equals("state", s("pending"))
        .equals("attempts", n(i64::from(attempt)))
}

fn pending_mail(item: &Item) -> Result<(Outgoing, u32, i64, i64, i64), StoreError> {
    let mail = Outgoing {
        key: items::string(item, items::SK)?,
        to: items::opt_string(item, "to")?.unwrap_or_default(),
        subject: items::opt_string(item, "subject")?.unwrap_or_default(),
        text: items::opt_string(item, "text")?.unwrap_or_default(),
        unsubscribe: items::opt_string(item, "unsubscribe")?,
    };
    let attempts = u32::try_from(items::num(item, "attempts")?).unwrap_or(u32::MAX);
    Ok((
        mail,
        attempts,
        items::num(item, "next_at")?,
        items::num(item, "lease_until")?,
        items::num(item, "created_at")?,
    ))
}

impl DynamoStore {
    pub(super) async fn try_enqueue_mail(
        &self,
        mail: &Outgoing,
        at: i64,
    ) -> Result<Step<bool>, StoreError> {
        Ok(match self.transact(enqueue_writes(mail, at)).await? {
            Ok(()) => Step::Done(true),
            // Pending already.
            Err(Cancelled::FirstCondition) => Step::Done(false),
            // Sent already, or a concurrent writer: the items tell.
            Err(Cancelled::Conflict) => {
                if self.get(&sent_key(&mail.key)).await?.is_some()
                    || self.get(&pending_key(&mail.key)).await?.is_some()
                {
                    Step::Done(false)
                } else {
                    Step::Retry
                }
            }
            Err(Cancelled::Fatal(why)) => return Err(backend("enqueue_mail", why)),
        })
    }

    pub(super) async fn claim_due_mail(
        &self,
        now: i64,
        lease: i64,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut due = Vec::new();
        for item in self.query(PARTITION, "", None).await? {
            if items::opt_string(&item, "state")?.as_deref() != Some("pending") {
                continue;
            }
            let (mail, attempts, next_at, lease_until, created_at) = pending_mail(&item)?;
            if next_at <= now && lease_until <= now {
                due.push((next_at, mail, attempts, created_at));
            }
        }
        due.sort_by(|a, b| (a.0, &a.1.key).cmp(&(b.0, &b.1.key)));
        let mut claimed = Vec::new();
        for (_, mail, attempts, created_at) in due.into_iter().take(limit) {
            let attempt = attempts.saturating_add(1);
            let expr = Expr::new()
                .set("attempts", n(i64::from(attempt)))
                .set("lease_until", n(now.saturating_add(lease)))
                .equals("state", s("pending"))
                .equals("attempts", n(i64::from(attempts)))
                .within("lease_until", Range::at_most(now));
            match self
                .transact(vec![Write::Update {
                    key: pending_key(&mail.key),
                    expr,
                }])
                .await?
            {
                Ok(()) => claimed.push(Claimed {
                    mail,
                    attempt,
                    created_at,
                }),
                // Another drainer claimed it, or it was settled meanwhile.
                Err(Cancelled::FirstCondition | Cancelled::Conflict) => {}
                Err(Cancelled::Fatal(why)) => return Err(backend("claim_mail", why)),
            }
        }
        Ok(claimed)
    }

    pub(super) async fn settle_claimed_mail(
        &self,
        key: &str,
        attempt: u32,
        outcome: Settle,
        now: i64,
    ) -> Result<(), StoreError> {
        let writes = match outcome {
            Settle::Sent => moved_writes(key, live_claim(attempt), "sent", now),
            Settle::Retry { at, error } => vec![Write::Update {
                key: pending_key(key),
                expr: live_claim(attempt)
                    .set("next_at", n(at))
                    .set("lease_until", n(0))
                    .set("error", s(&error)),
            }],
            Settle::GiveUp { error } => vec![Write::Update {
                key: pending_key(key),
                expr: live_claim(attempt)
                    .set("state", s("failed"))
                    .set("lease_until", n(0))
                    .set("error", s(&error))
                    .set("settled_at", n(now))
                    .set(items::TTL, n(now.saturating_add(FAILED_KEPT))),
            }],
        };
        match self.transact(writes).await? {
            // A lapsed claim changes nothing (another drainer has it).
            Ok(()) | Err(Cancelled::FirstCondition | Cancelled::Conflict) => Ok(()),
            Err(Cancelled::Fatal(why)) => Err(backend("settle_mail", why)),
        }
    }

    /// Drops every unsent email to `email` (trimmed, lowercase), or whose
    /// text names it (an offer told to a holder): its item becomes an
    /// `erased` marker. How many.
    pub(super) async fn erase_mail(&self, email: &str) -> Result<u32, StoreError> {
        let now = self.clock.now();
        let mut erased = 0u32;
        for item in self.query(PARTITION, "", None).await? {
            let Some(to) = items::opt_string(&item, "to")? else {
                continue;
            };
            let text = items::opt_string(&item, "text")?.unwrap_or_default();
            if to.trim().to_lowercase() != email && !text.to_lowercase().contains(email) {
                continue;
            }
            let key = items::string(&item, items::SK)?;
            let claim = Expr::new().equals("to", AttributeValue::S(to));
            match self
                .transact(moved_writes(&key, claim, "erased", now))
                .await?
            {
                Ok(()) => erased += 1,
                // Sent meanwhile: nothing left to erase.
                Err(Cancelled::FirstCondition | Cancelled::Conflict) => {}
                Err(Cancelled::Fatal(why)) => return Err(backend("erase_donor", why)),
            }
        }
        Ok(erased)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Outgoing {
        Outgoing {
            key: "pledge/p1/paid".into(),
            to: "camille@example.org".into(),
            subject: "Merci".into(),
            text: "Bonjour".into(),
            unsubscribe: None,
        }
    }

    #[test]
    fn an_enqueue_puts_the_pending_item_first_and_checks_no_sent_marker() {
        let writes = enqueue_writes(&mail(), 100);
        assert_eq!(writes[0].key(), &pending_key("pledge/p1/paid"));
        assert_eq!(writes[1].key(), &sent_key("pledge/p1/paid"));
        assert!(matches!(writes[1], Write::Check { .. }));
    }

    #[test]
    fn a_sent_email_leaves_a_marker_without_address_or_text() {
        let writes = moved_writes("pledge/p1/paid", live_claim(1), "sent", 100);
        let Write::Put { item, .. } = &writes[1] else {
            panic!("{writes:?}")
        };
        assert!(!item.contains_key("to") && !item.contains_key("text"));
        assert_eq!(item.get(items::TTL), Some(&n(100 + SENT_KEPT)));
    }

    #[test]
    fn a_stored_pending_item_reads_back() {
        let mut item: Item = match enqueue_writes(&mail(), 7).remove(0) {
            Write::Put { item, .. } => item,
            other => panic!("{other:?}"),
        };
        item.insert(items::SK.to_string(), s("pledge/p1/paid"));
        let (read, attempts, next_at, lease, created) = pending_mail(&item).unwrap();
        assert_eq!(
            (read, attempts, next_at, lease, created),
            (mail(), 0, 7, 0, 7)
        );
    }
}
