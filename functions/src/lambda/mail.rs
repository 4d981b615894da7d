//! The outbox's drainer on AWS (`pave-mail`): [`crate::mail::outbox::drain`]
//! on the DynamoDB store, the same drain the server runs in the background.
//!
//! Triggers (`deploy/template.yaml`): the table's stream, filtered to new
//! `OUTBOX` items, so an email leaves seconds after the webhook or the
//! close enqueued it; and a schedule every five minutes, for the retries
//! (an email whose delivery failed is due again after its backoff) and
//! for claims a killed invocation left (due again when their lease lapses).
//! The event's content is not read: each invocation sends whatever is due.
//! Invocations may overlap: each email is claimed by one of them at a time,
//! and none starts a delivery its claim could outlive
//! (`crate::mail::outbox::SEND_MARGIN`).
//!
//! The answer is the counts (JSON). When the store cannot be read the
//! invocation fails (`MailFailed`), so that the stream retries its batch.
//!
//! | variable | what |
//! |---|---|
//! | `PAVE_TABLE`, `AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB`? | the store |
//! | `SMTP_URL` / `_PARAM` / `_SECRET_ID`, `MAIL_FROM` | the SMTP server ([`super::setup::mailer_from_env`]; unset: logged only) |
//! | `PAVE_MAIL_LEASE_SECONDS`? | [`crate::mail::outbox::ENV_LEASE`] |

use lambda_http::lambda_runtime::Diagnostic;
use serde_json::{Value, json};

use super::setup;
use crate::mail::Mailer;
use crate::mail::outbox::{self, Policy};
use crate::store::dynamo::DynamoStore;

/// The error type of an invocation that could not read or write the outbox.
pub const MAIL_FAILED: &str = "MailFailed";

/// The drainer's state, built at cold start and kept while warm.
pub struct Drainer {
    store: DynamoStore,
    mailer: Mailer,
    policy: Policy,
}

impl Drainer {
    /// From the environment (cold start).
    pub async fn from_env() -> Result<Drainer, String> {
        Ok(Drainer::new(
            DynamoStore::from_env().await.map_err(|e| e.to_string())?,
            setup::mailer_from_env().await,
            Policy::from_env(),
        ))
    }

    pub fn new(store: DynamoStore, mailer: Mailer, policy: Policy) -> Drainer {
        Drainer {
            store,
            mailer,
            policy,
        }
    }

    /// One invocation: everything due now.
    pub async fn handle(&self) -> Result<Value, Diagnostic> {
        let now = || jiff::Timestamp::now().as_second();
        let drained = outbox::drain(&self.store, &self.mailer, &self.policy, now)
            .await
            .map_err(|e| Diagnostic {
                error_type: MAIL_FAILED.into(),
                error_message: e.to_string(),
            })?;
        let answer = json!({
            "sent": drained.sent,
            "retried": drained.retried,
            "failed": drained.failed,
        });
        tracing::info!("pave-mail: {answer}");
        Ok(answer)
    }
}

/// Runs the drainer until the Lambda runtime stops the process.
pub async fn run() -> Result<(), lambda_http::Error> {
    crate::logs::init(true);
    use lambda_http::{LambdaEvent, service_fn};
    let drainer = Drainer::from_env().await.map_err(|e| {
        tracing::error!("pave-mail: cannot start: {e}");
        e
    })?;
    let drainer = &drainer;
    lambda_http::lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        drainer.handle().await
    }))
    .await
}
