//! The campaign closer on AWS (`pave-close`): [`crate::close::run`]
//! on the DynamoDB store with Stripe, the same close `pave close` runs on the
//! embedded store (each refunded donor's notice goes in the outbox, which
//! `pave-mail` sends).
//!
//! Trigger: a nightly EventBridge schedule (`deploy/template.yaml`). The
//! event's `time` is the moment the close runs at; a manual invocation may
//! send `{"now": "2026-07-01T00:00:00Z"}`, or a bare timestamp or date
//! (`"2026-07-01"`, that day at 12:00 UTC; [`crate::close::parse_now`]).
//!
//! The answer is a [`Summary`] (JSON). When a refund was refused or a
//! project could not be closed, the invocation **fails** with the error
//! type `CloseFailed` and the summary's JSON as its message, so that the
//! function's `Errors` metric, its alarms and EventBridge's retries see it;
//! every step is idempotent, so a retry (or the next night) resumes where
//! this run stopped, and never refunds a pledge twice. An event without a
//! usable time fails with `BadEvent`.
//!
//! | variable | what |
//! |---|---|
//! | `PAVE_TABLE`, `AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB`? | the store |
//! | `PAVE_RELEASE_BUCKET` (or `PAVE_CATALOG`), `STRIPE_SECRET_KEY` / `_PARAM` / `_SECRET_ID`, `STRIPE_API_BASE`? | [`super::setup`] |

use jiff::Timestamp;
use lambda_http::lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::Value;

use std::sync::{Arc, RwLock};

use super::release::CatalogWatch;
use super::setup;
use crate::catalog::Catalog;
use crate::close::{self, CloseReport, FailedRefund, RefundPolicy};
use crate::store::Outcome;
use crate::store::dynamo::DynamoStore;
use crate::stripe::client::StripePayments;

/// The error type of an invocation whose refunds did not all go through.
pub const CLOSE_FAILED: &str = "CloseFailed";
/// The error type of an event the closer cannot read.
pub const BAD_EVENT: &str = "BadEvent";

/// The moment a close runs at, from its event: an EventBridge Scheduled
/// Event (`time`), `{"now": …}`, or a bare timestamp or date.
pub fn now_of(event: &Value) -> Result<Timestamp, String> {
    let text = match event {
        Value::String(text) => text,
        Value::Object(fields) => match (fields.get("time"), fields.get("now")) {
            (Some(Value::String(text)), _) | (None, Some(Value::String(text))) => text,
            (Some(other), _) | (None, Some(other)) => {
                return Err(format!(
                    "the event's time is not a string (RFC 3339 timestamp or date): {other}"
                ));
            }
            (None, None) => {
                return Err(
                    "the event has no `time` (an EventBridge Scheduled Event) nor `now`".into(),
                );
            }
        },
        other => {
            return Err(format!(
                "not a scheduled event, `{{\"now\": …}}`, a timestamp or a date: {other}"
            ));
        }
    };
    close::parse_now(text)
}

/// A refund that did not go through, as the summary lists it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct FailedRefundSummary {
    pub project: String,
    pub pledge_id: String,
    /// Why Pavé refunds it (`goal_missed`, `campaign_closed`, …).
    pub reason: &'static str,
    /// Stripe's error code (or `unreachable`, `no_payment_intent`, …).
    pub code: String,
}

impl From<&FailedRefund> for FailedRefundSummary {
    fn from(f: &FailedRefund) -> Self {
        Self {
            project: f.project.clone(),
            pledge_id: f.pledge_id.clone(),
            reason: f.reason.as_str(),
            code: f.code.clone(),
        }
    }
}

/// One project whose close ran.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ProjectSummary {
    pub project: String,
    /// `funded` or `not_funded`.
    pub outcome: &'static str,
    /// `closed`, or `refunding` while refunds are pending.
    pub state: &'static str,
    pub refunds_issued: u32,
    pub refunds_failed: usize,
}

/// What one invocation did: its answer, its log line, and the message of
/// its error when it failed.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// The moment the close ran at (RFC 3339).
    pub now: String,
    /// Projects closed (or resumed) in this run, funded and not funded.
    pub funded: Vec<String>,
    pub not_funded: Vec<String>,
    pub projects: Vec<ProjectSummary>,
    /// Refunds Stripe accepted in this run (closes and refused payments).
    pub refunds_issued: u32,
    /// Refunds Stripe refused or that could not be made: retried next run.
    pub refunds_failed: Vec<FailedRefundSummary>,
    /// Projects whose close could not run (store errors): project, error.
    pub errors: Vec<(String, String)>,
}

impl Summary {
    pub fn of(report: &CloseReport, now: Timestamp) -> Summary {
        let slugs = |outcome: Outcome| {
            report
                .projects
                .iter()
                .filter(|p| p.outcome == outcome)
                .map(|p| p.project.clone())
                .collect()
        };
        Summary {
            now: now.to_string(),
            funded: slugs(Outcome::Funded),
            not_funded: slugs(Outcome::NotFunded),
            projects: report
                .projects
                .iter()
                .map(|p| ProjectSummary {
                    project: p.project.clone(),
                    outcome: p.outcome.as_str(),
                    state: p.state.as_str(),
                    refunds_issued: p.refunds_issued,
                    refunds_failed: p.refunds_failed.len(),
                })
                .collect(),
            refunds_issued: report
                .projects
                .iter()
                .map(|p| p.refunds_issued)
                .sum::<u32>()
                + report.late_refunds_issued,
            refunds_failed: report.failed_refunds().map(Into::into).collect(),
            errors: report.errors.clone(),
        }
    }

    /// Whether the invocation must fail (a refund refused, a project not closed).
    pub fn failed(&self) -> bool {
        !self.refunds_failed.is_empty() || !self.errors.is_empty()
    }

    fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"summary\": \"{e}\"}}"))
    }
}

/// The invocation's answer: the summary, or the error Lambda reports.
pub fn answer(summary: Summary) -> Result<Summary, Diagnostic> {
    if summary.failed() {
        Err(Diagnostic {
            error_type: CLOSE_FAILED.into(),
            error_message: summary.json(),
        })
    } else {
        Ok(summary)
    }
}

/// The closer's state, built at cold start and kept while the instance is warm.
pub struct Closer {
    store: DynamoStore,
    catalog: RwLock<Arc<Catalog>>,
    watch: Option<CatalogWatch>,
    payments: StripePayments,
}

impl Closer {
    /// From the environment (cold start).
    pub async fn from_env() -> Result<Closer, String> {
        let (live, watch) = setup::catalog_from_env().await?;
        Ok(Closer {
            store: DynamoStore::from_env().await.map_err(|e| e.to_string())?,
            catalog: RwLock::new(Arc::new(live.catalog)),
            watch,
            payments: setup::payments_from_env().await?,
        })
    }

    /// One invocation.
    pub async fn handle(&self, event: &Value) -> Result<Summary, Diagnostic> {
        let now = now_of(event).map_err(|message| Diagnostic {
            error_type: BAD_EVENT.into(),
            error_message: message,
        })?;
        // The rules of the live release (a close must not use yesterday's).
        if let Some(watch) = &self.watch {
            watch
                .refresh(&self.catalog, None)
                .await
                .map_err(|message| Diagnostic {
                    error_type: CLOSE_FAILED.into(),
                    error_message: format!("the live release cannot be read: {message}"),
                })?;
        }
        let catalog = self
            .catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let report = close::run(
            &self.store,
            &self.payments,
            &catalog,
            now,
            RefundPolicy::default(),
        )
        .await;
        let summary = Summary::of(&report, now);
        tracing::info!("pave-close: {}", summary.json());
        answer(summary)
    }
}

/// Runs the closer until the Lambda runtime stops the process.
pub async fn run() -> Result<(), lambda_http::Error> {
    crate::logs::init(true);
    use lambda_http::{LambdaEvent, service_fn};
    let closer = Closer::from_env().await.map_err(|e| {
        tracing::error!("pave-close: cannot start: {e}");
        e
    })?;
    let closer = &closer;
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        closer.handle(&event.payload).await.inspect_err(|e| {
            if e.error_type == BAD_EVENT {
                tracing::error!("pave-close: {BAD_EVENT}: {}", e.error_message);
            }
        })
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::close::ProjectReport;
    use crate::store::{CloseState, RefundReason};
    use serde_json::json;

    #[test]
    fn the_time_of_a_scheduled_event_is_now() {
        let event = json!({
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2027-01-16T03:00:00Z",
            "region": "eu-west-3",
            "resources": ["arn:aws:events:eu-west-3:123456789012:rule/pave-close"],
            "detail": {}
        });
        assert_eq!(
            now_of(&event).map(|t| t.to_string()),
            Ok("2027-01-16T03:00:00Z".to_string())
        );
        assert_eq!(
            now_of(&json!({ "now": "2026-07-01" })).map(|t| t.to_string()),
            Ok("2026-07-01T12:00:00Z".to_string())
        );
        assert_eq!(
            now_of(&json!("2026-07-01T00:00:00Z")).map(|t| t.to_string()),
            Ok("2026-07-01T00:00:00Z".to_string())
        );
    }

    #[test]
    fn an_event_without_a_usable_time_is_refused() {
        for event in [
            json!({}),
            json!({ "time": 12 }),
            json!({ "now": "demain" }),
            json!([1, 2]),
            Value::Null,
        ] {
            assert!(now_of(&event).is_err(), "{event}");
        }
    }

    fn report(failed: bool) -> CloseReport {
        let failure = FailedRefund {
            project: "cafe-du-coin".into(),
            pledge_id: "pl_1".into(),
            reason: RefundReason::GoalMissed,
            code: "charge_disputed".into(),
        };
        CloseReport {
            projects: vec![
                ProjectReport {
                    project: "cafe-du-coin".into(),
                    outcome: Outcome::NotFunded,
                    state: if failed {
                        CloseState::Refunding
                    } else {
                        CloseState::Closed
                    },
                    on_success: vec![],
                    refunds_issued: 2,
                    refunds_failed: if failed { vec![failure] } else { vec![] },
                },
                ProjectReport {
                    project: "toit-partage".into(),
                    outcome: Outcome::Funded,
                    state: CloseState::Closed,
                    on_success: vec![],
                    refunds_issued: 0,
                    refunds_failed: vec![],
                },
            ],
            late_refunds_issued: 1,
            late_refunds_failed: vec![],
            errors: vec![],
        }
    }

    #[test]
    fn the_summary_counts_closes_and_refunds() {
        let now = "2027-01-16T03:00:00Z".parse().expect("timestamp");
        let summary = answer(Summary::of(&report(false), now)).expect("no failure");
        assert_eq!(summary.funded, ["toit-partage"]);
        assert_eq!(summary.not_funded, ["cafe-du-coin"]);
        assert_eq!(summary.refunds_issued, 3);
        let json = serde_json::to_value(&summary).expect("JSON");
        assert_eq!(json["projects"][0]["outcome"], "not_funded");
        assert_eq!(json["projects"][0]["state"], "closed");
    }

    #[test]
    fn a_refused_refund_fails_the_invocation_with_the_summary() {
        let now = "2027-01-16T03:00:00Z".parse().expect("timestamp");
        let error = answer(Summary::of(&report(true), now)).expect_err("a refund failed");
        assert_eq!(error.error_type, CLOSE_FAILED);
        let summary: Value = serde_json::from_str(&error.error_message).expect("JSON message");
        assert_eq!(
            summary["refunds_failed"],
            json!([{ "project": "cafe-du-coin", "pledge_id": "pl_1",
                     "reason": "goal_missed", "code": "charge_disputed" }])
        );
        assert_eq!(summary["projects"][0]["state"], "refunding");
    }
}
