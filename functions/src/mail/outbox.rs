//! The outbox: every email Pavé sends is first written to the store, then
//! sent by a drainer (the server's background task, or the `pave-mail`
//! Lambda on AWS), never inline in the request that caused it.
//!
//! - An email is enqueued once per [`Outgoing::key`] (`pledge/<id>/paid`,
//!   `pledge/<id>/refunded`, …): enqueueing a key already seen, pending or
//!   sent, changes nothing. So a caller may enqueue again whenever it is
//!   unsure (a redelivered webhook, a retried refund) and none is doubled.
//! - A drainer **claims** due emails under a lease ([`Policy::lease`],
//!   longer than one SMTP delivery may take), sends each, then settles it:
//!   sent (its address and text are dropped, its key kept), or retried
//!   later ([`backoff`]), or given up after [`Policy::attempts`] (kept as
//!   `failed`, logged). A drainer killed while sending leaves its claim;
//!   it lapses and the next drainer sends again.
//! - Exactly once, as far as SMTP allows: an email whose delivery was cut
//!   before the server's acceptance is not delivered, and is sent again;
//!   only a crash in the instant between the server's `250` and the
//!   store's commit sends a second copy, with the same `Message-ID`
//!   ([`message_id`]) so that mail clients show one.
//!
//! [`drain`] is the loop; the store's operations are on the
//! [`crate::store::Store`] trait (`enqueue_mail`, `claim_mail`,
//! `settle_mail`), the same rules on SQLite and DynamoDB.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::smtp::{Delivery, Mailer};
use crate::store::{Store, StoreError};

/// An email to send, composed: what the outbox keeps until it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// What makes it one email: `<kind>/<subject>/<what>`, printable ASCII,
    /// at most [`MAX_KEY_LEN`] bytes.
    pub key: String,
    pub to: String,
    pub subject: String,
    /// Plain UTF-8 text.
    pub text: String,
    /// The `List-Unsubscribe` address (`https://…`), for emails a person
    /// may stop (news); sent with `List-Unsubscribe-Post: One-Click`.
    pub unsubscribe: Option<String>,
}

/// The longest key: DynamoDB's sort keys allow far more; this bounds a row.
pub const MAX_KEY_LEN: usize = 200;

/// An email a drainer claimed: send it, then settle it with `attempt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub mail: Outgoing,
    /// This claim's attempt number (1 for the first): a settle names it, so
    /// a drainer whose lease lapsed cannot settle another's claim.
    pub attempt: u32,
    /// When it was enqueued (unix seconds).
    pub created_at: i64,
}

/// An email older than this when a drainer first can send it (SMTP was
/// not configured for weeks) is given up, not sent late.
pub const MAX_AGE: i64 = 7 * 86_400;

/// A key within [`MAX_KEY_LEN`]: longer ones (long slugs) keep their start
/// and end with a digest of the whole.
pub fn bounded_key(key: String) -> String {
    if key.len() <= MAX_KEY_LEN {
        return key;
    }
    let digest = hex::encode(&Sha256::digest(key.as_bytes())[..8]);
    let mut cut = MAX_KEY_LEN - digest.len() - 1;
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}#{digest}", &key[..cut])
}

/// An SMTP server's answer without the addresses it may repeat (`550
/// <ada@example.org>: unknown`): what is logged and kept.
pub fn redacted(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.contains('@') {
                "<address>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How a claimed email ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Delivered: its address and text go.
    Sent,
    /// Failed; tried again from `at` (unix seconds).
    Retry { at: i64, error: String },
    /// Failed for the last time: kept as `failed`.
    GiveUp { error: String },
}

/// The drainer's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a claim holds (seconds): longer than a delivery may take
    /// ([`super::smtp::SEND_TIMEOUT`]), so two drainers never send one
    /// email at the same time.
    pub lease: i64,
    /// Deliveries tried per email before it is given up.
    pub attempts: u32,
    /// Emails claimed at once.
    pub batch: usize,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            lease: 120,
            attempts: 8,
            batch: 25,
        }
    }
}

/// `PAVE_MAIL_LEASE_SECONDS`: the claim's length (at least
/// [`MIN_LEASE`]; 120 by default, which suits every deployment; tests
/// shorten it).
pub const ENV_LEASE: &str = "PAVE_MAIL_LEASE_SECONDS";
/// The shortest lease (tests): a drain starts no delivery in the second
/// half of its claim, nor in its last [`SEND_MARGIN`] seconds.
pub const MIN_LEASE: i64 = 2;

/// The longest one delivery may take (lettre's timeout applies per SMTP
/// command): no delivery starts closer than this to its claim's end.
pub const SEND_MARGIN: i64 = 40;

impl Policy {
    /// The default, with [`ENV_LEASE`] from `lookup` when it is a number.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Policy {
        let mut policy = Policy::default();
        if let Some(lease) = lookup(ENV_LEASE).and_then(|v| v.trim().parse::<i64>().ok()) {
            policy.lease = lease.max(MIN_LEASE);
        }
        policy
    }

    pub fn from_env() -> Policy {
        Policy::from_lookup(|name| std::env::var(name).ok())
    }
}

/// When the email that failed on attempt `attempt` (1 for the first) is
/// tried again, after `now`: 30 s, 2 min, 8 min, 32 min, then every 2 h 8
/// min at most: about 7 hours for the default eight attempts.
pub fn backoff(now: i64, attempt: u32) -> i64 {
    let step = 30i64.saturating_mul(4i64.saturating_pow(attempt.saturating_sub(1).min(4)));
    now.saturating_add(step)
}

/// What to record for a delivery of attempt `attempt` that ended `result`.
pub fn settle(
    result: &Result<Delivery, super::MailError>,
    attempt: u32,
    policy: &Policy,
    now: i64,
) -> Settle {
    match result {
        Ok(_) => Settle::Sent,
        // An address no SMTP server would take never will.
        Err(e @ super::MailError::To) => Settle::GiveUp {
            error: redacted(&e.to_string()),
        },
        Err(e) if attempt >= policy.attempts => Settle::GiveUp {
            error: redacted(&e.to_string()),
        },
        Err(e) => Settle::Retry {
            at: backoff(now, attempt),
            error: redacted(&e.to_string()),
        },
    }
}

/// The `Message-ID` of the email with `key`, in the sender's `domain`: the
/// same for every delivery of one email.
pub fn message_id(key: &str, domain: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("<{}@{domain}>", hex::encode(&digest[..16]))
}

/// What one [`drain`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    pub sent: u32,
    pub retried: u32,
    pub failed: u32,
}

impl Drained {
    pub fn total(&self) -> u32 {
        self.sent + self.retried + self.failed
    }
}

/// Sends every email due at `now()`, batch after batch, until none is
/// left to claim. Delivery failures are settled (retried later, or given
/// up and logged: the key, never the address); only the store's errors
/// stop it. Without SMTP (a disabled mailer) it claims nothing: the
/// emails wait for a drainer that can send them (an operator's `pave
/// close` without `SMTP_URL` takes nothing from the server's).
pub async fn drain<S: Store>(
    store: &S,
    mailer: &Mailer,
    policy: &Policy,
    now: impl Fn() -> i64,
) -> Result<Drained, StoreError> {
    let mut drained = Drained::default();
    if !mailer.is_enabled() {
        return Ok(drained);
    }
    loop {
        let claimed_at = now();
        let claimed = store
            .claim_mail(claimed_at, policy.lease, policy.batch)
            .await?;
        if claimed.is_empty() {
            return Ok(drained);
        }
        // No delivery starts once the claim could lapse before it ends
        // (another drainer would send it too): the rest of the batch waits
        // for its lease to lapse and is claimed again.
        let last_start = claimed_at + (policy.lease - SEND_MARGIN).max(policy.lease / 2);
        for Claimed {
            mail,
            attempt,
            created_at,
        } in claimed
        {
            if now() > last_start {
                return Ok(drained);
            }
            let outcome = if now().saturating_sub(created_at) > MAX_AGE {
                Settle::GiveUp {
                    error: "too old to send (more than 7 days waiting)".into(),
                }
            } else {
                let result = mailer.send_outgoing(&mail).await;
                settle(&result, attempt, policy, now())
            };
            match &outcome {
                Settle::Sent => drained.sent += 1,
                Settle::Retry { error, .. } => {
                    tracing::warn!(
                        "pave mail: {} not delivered (attempt {attempt}), retried later: {error}",
                        mail.key
                    );
                    drained.retried += 1;
                }
                Settle::GiveUp { error } => {
                    tracing::error!(
                        "pave mail: {} given up after attempt {attempt}: {error}",
                        mail.key
                    );
                    drained.failed += 1;
                }
            }
            store
                .settle_mail(&mail.key, attempt, outcome, now())
                .await?;
        }
    }
}

/// Rung when an email is enqueued, so a running drainer sends it now
/// rather than at its next tick. Cheap to clone; without a drainer
/// listening (a Lambda), ringing does nothing.
#[derive(Debug, Clone, Default)]
pub struct Doorbell(Arc<tokio::sync::Notify>);

impl Doorbell {
    pub fn ring(&self) {
        self.0.notify_one();
    }

    /// Waits for a ring, at most `tick`.
    pub async fn wait(&self, tick: Duration) {
        let _ = tokio::time::timeout(tick, self.0.notified()).await;
    }
}

/// How often a running drainer looks for due emails (retries, emails
/// enqueued by another process on the same store) without a ring.
pub const TICK: Duration = Duration::from_secs(5);

/// The server's drainer: drains now, then at every ring or [`TICK`],
/// forever, on `clock` (the store's: the time emails are enqueued at). Errors are logged and retried at the next tick. Without SMTP
/// it does nothing (the emails wait in the store).
pub async fn run_drainer<S: Store>(
    store: S,
    mailer: Mailer,
    policy: Policy,
    doorbell: Doorbell,
    clock: crate::clock::Clock,
) {
    if !mailer.is_enabled() {
        return;
    }
    let now = || clock.now();
    loop {
        match drain(&store, &mailer, &policy, now).await {
            Ok(d) if d.total() > 0 => tracing::info!(
                "pave mail: {} sent, {} to retry, {} given up",
                d.sent,
                d.retried,
                d.failed
            ),
            Ok(_) => {}
            Err(e) => tracing::error!("pave mail: the outbox could not be read: {e}"),
        }
        doorbell.wait(TICK).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::MailError;

    #[test]
    fn backoff_grows_then_stays_at_its_ceiling() {
        let steps: Vec<i64> = (1..=7).map(|a| backoff(1000, a) - 1000).collect();
        assert_eq!(steps, [30, 120, 480, 1920, 7680, 7680, 7680]);
        assert_eq!(backoff(i64::MAX - 1, 3), i64::MAX);
    }

    #[test]
    fn a_failure_is_retried_until_the_last_attempt_then_given_up() {
        let policy = Policy::default();
        let failed = Err(MailError::Smtp("421 busy".into()));
        assert_eq!(
            settle(&failed, 1, &policy, 100),
            Settle::Retry {
                at: 130,
                error: "SMTP delivery failed: 421 busy".into()
            }
        );
        assert!(matches!(
            settle(&failed, policy.attempts, &policy, 100),
            Settle::GiveUp { .. }
        ));
        assert_eq!(settle(&Ok(Delivery::Sent), 3, &policy, 100), Settle::Sent);
        // A bad address never gets better.
        assert!(matches!(
            settle(&Err(MailError::To), 1, &policy, 100),
            Settle::GiveUp { .. }
        ));
    }

    #[test]
    fn long_keys_are_bounded_and_addresses_never_logged() {
        let long = format!("news/{}/{}/pl_1", "p".repeat(150), "n".repeat(150));
        let bounded = bounded_key(long.clone());
        assert!(bounded.len() <= MAX_KEY_LEN);
        assert_ne!(bounded, bounded_key(long.replace("pl_1", "pl_2")));
        assert_eq!(bounded_key("pledge/p/paid".into()), "pledge/p/paid");
        assert_eq!(
            redacted("550 5.1.1 <ada@example.org>: Recipient address rejected"),
            "550 5.1.1 <address> Recipient address rejected"
        );
    }

    #[test]
    fn one_email_keeps_one_message_id() {
        let a = message_id("pledge/p1/paid", "pave.example");
        assert_eq!(a, message_id("pledge/p1/paid", "pave.example"));
        assert_ne!(a, message_id("pledge/p2/paid", "pave.example"));
        assert!(a.starts_with('<') && a.ends_with("@pave.example>"));
    }

    #[test]
    fn the_lease_comes_from_the_environment_with_a_floor() {
        assert_eq!(Policy::from_lookup(|_| None), Policy::default());
        let short = Policy::from_lookup(|n| (n == ENV_LEASE).then(|| "3".to_string()));
        assert_eq!(short.lease, 3);
        let zero = Policy::from_lookup(|n| (n == ENV_LEASE).then(|| "0".to_string()));
        assert_eq!(zero.lease, MIN_LEASE);
    }
}
