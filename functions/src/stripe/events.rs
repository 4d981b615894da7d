//! The Stripe webhook events Pavé acts on, parsed from the raw (already
//! verified) request body into a small enum. Pure, never panics on bad input.
//!
//! Only the fields Pavé uses are read, with serde types that mirror Stripe's
//! event envelope (`{"id", "type", "data": {"object": …}}`); every other field is
//! ignored. That keeps parsing independent of the webhook endpoint's API version:
//! async-stripe's generated `Event`/`EventObject` parse the whole object and fail
//! when the endpoint's version renders it differently from the SDK's pinned one,
//! and the webhook is the only thing that turns a pledge into money.
//!
//! Where the pledge id comes from:
//! - Checkout Session events: `metadata.pledge_id`, else `client_reference_id`
//!   (both are set when the session is created; they must agree if both exist);
//! - `charge.refunded`: the charge's `metadata.pledge_id`. Session metadata is not
//!   copied to the PaymentIntent, so the session is created with
//!   `payment_intent_data[metadata][pledge_id]`, and a charge created by a
//!   PaymentIntent carries the PaymentIntent's metadata.

use std::collections::HashMap;

use serde::Deserialize;

/// Largest webhook body parsed, in bytes. Stripe's events are a few KiB.
pub const MAX_EVENT_BYTES: usize = 512 * 1024;

/// Longest id or metadata value accepted (Stripe caps metadata values at 500).
pub const MAX_ID_LEN: usize = 500;

/// The metadata key carrying Pavé's pledge id, on sessions and PaymentIntents.
pub const PLEDGE_ID_KEY: &str = "pledge_id";

/// A Checkout Session's `payment_status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStatus {
    /// The funds are available.
    Paid,
    /// Not paid yet (e.g. a delayed payment method such as SEPA debit: the
    /// outcome comes later in `checkout.session.async_payment_*`).
    Unpaid,
    /// Nothing to pay (a zero total).
    NoPaymentRequired,
    /// A value this code does not know.
    Other(String),
}

impl PaymentStatus {
    fn from_stripe(value: &str) -> Self {
        match value {
            "paid" => Self::Paid,
            "unpaid" => Self::Unpaid,
            "no_payment_required" => Self::NoPaymentRequired,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A webhook event, reduced to what Pavé needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeEvent {
    /// `checkout.session.completed`: the citizen finished the checkout.
    CheckoutCompleted {
        /// Stripe's event id (`evt_…`), the idempotency key of the webhook.
        event_id: String,
        /// The Checkout Session (`cs_…`).
        session_id: String,
        /// Pavé's pledge id.
        pledge_id: String,
        /// The PaymentIntent (`pi_…`), needed to refund; absent when nothing was paid.
        payment_intent: Option<String>,
        /// Total in cents, in the session's currency.
        amount_total_cents: i64,
        /// The session's currency, lower case (`eur`); empty when absent.
        currency: String,
        /// Whether the money is there: only [`PaymentStatus::Paid`] is money.
        payment_status: PaymentStatus,
    },
    /// `checkout.session.expired`: the session timed out unpaid.
    CheckoutExpired {
        /// Stripe's event id.
        event_id: String,
        /// The Checkout Session.
        session_id: String,
        /// Pavé's pledge id.
        pledge_id: String,
    },
    /// `charge.refunded`: a charge was refunded, fully or in part.
    ChargeRefunded {
        /// Stripe's event id.
        event_id: String,
        /// The charge (`ch_…`).
        charge_id: String,
        /// The PaymentIntent that created the charge.
        payment_intent: Option<String>,
        /// Pavé's pledge id, from the charge's metadata.
        pledge_id: String,
        /// Total refunded so far on this charge, in cents (cumulative).
        amount_refunded_cents: i64,
        /// True when the charge is fully refunded.
        refunded: bool,
    },
    /// Any other event type: acknowledged, not acted on.
    Other {
        /// Stripe's event id.
        event_id: String,
        /// The event type, e.g. `payment_intent.created`.
        kind: String,
    },
}

impl StripeEvent {
    /// Pavé's pledge id, for the events about one.
    #[must_use]
    pub fn pledge_id(&self) -> Option<&str> {
        match self {
            Self::CheckoutCompleted { pledge_id, .. }
            | Self::CheckoutExpired { pledge_id, .. }
            | Self::ChargeRefunded { pledge_id, .. } => Some(pledge_id),
            Self::Other { .. } => None,
        }
    }

    /// Stripe's event id, whatever the variant.
    #[must_use]
    pub fn event_id(&self) -> &str {
        match self {
            Self::CheckoutCompleted { event_id, .. }
            | Self::CheckoutExpired { event_id, .. }
            | Self::ChargeRefunded { event_id, .. }
            | Self::Other { event_id, .. } => event_id,
        }
    }
}

/// Why a webhook body could not be turned into a [`StripeEvent`]. The HTTP layer
/// answers 400, except perhaps for [`EventError::MissingPledgeId`], which
/// also fits an event about a payment Pavé did not create (answering 2xx stops
/// Stripe's retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The body is larger than [`MAX_EVENT_BYTES`].
    #[error("the event body is {len} bytes, more than {MAX_EVENT_BYTES}")]
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// Not JSON, or not shaped like a Stripe event of its type.
    #[error("the event body is not a Stripe event: {0}")]
    Malformed(String),
    /// A handled event without a pledge id.
    #[error("event {event_id} ({kind}) carries no pledge id")]
    MissingPledgeId {
        /// Stripe's event id.
        event_id: String,
        /// The event type.
        kind: String,
    },
    /// A field has a value Pavé cannot accept (negative amount, empty or
    /// overlong id, disagreeing pledge ids).
    #[error("event {event_id}: {reason}")]
    Invalid {
        /// Stripe's event id.
        event_id: String,
        /// What is wrong.
        reason: String,
    },
}

/// An id that may be expanded into the full object (`"pi_…"` or `{"id": "pi_…", …}`).
#[derive(Deserialize)]
#[serde(untagged)]
enum IdOrObject {
    Id(String),
    Object { id: String },
}

impl IdOrObject {
    fn into_id(self) -> String {
        match self {
            Self::Id(id) | Self::Object { id } => id,
        }
    }
}

/// First pass: the envelope without its object.
#[derive(Deserialize)]
struct Head {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

/// Second pass: the envelope's object, typed by the event type.
#[derive(Deserialize)]
struct Envelope<T> {
    data: Data<T>,
}

#[derive(Deserialize)]
struct Data<T> {
    object: T,
}

/// The fields read from a Checkout Session.
#[derive(Deserialize)]
struct SessionObject {
    id: String,
    #[serde(default)]
    metadata: Option<HashMap<String, String>>,
    #[serde(default)]
    client_reference_id: Option<String>,
    #[serde(default)]
    payment_intent: Option<IdOrObject>,
    #[serde(default)]
    amount_total: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    payment_status: String,
}

/// The fields read from a Charge.
#[derive(Deserialize)]
struct ChargeObject {
    id: String,
    #[serde(default)]
    metadata: Option<HashMap<String, String>>,
    #[serde(default)]
    payment_intent: Option<IdOrObject>,
    amount_refunded: i64,
    refunded: bool,
}

fn malformed(err: &serde_json::Error) -> EventError {
    EventError::Malformed(err.to_string())
}

/// Parses a webhook body (call [`super::signature::verify`] on it first).
///
/// # Errors
/// [`EventError`] on a body too large, not JSON, not shaped like a Stripe event,
/// or a handled event without a usable pledge id or with an impossible value.
pub fn parse(body: &[u8]) -> Result<StripeEvent, EventError> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge { len: body.len() });
    }
    let head: Head = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
    let checked = Checker {
        event_id: &head.id,
        kind: &head.kind,
    };
    checked.id("event id", &head.id)?;
    match head.kind.as_str() {
        "checkout.session.completed" => {
            let session = object::<SessionObject>(body)?;
            let pledge_id = checked.session_pledge_id(&session)?;
            let amount_total_cents = session.amount_total.ok_or_else(|| {
                checked.invalid("a completed Checkout Session has no amount_total")
            })?;
            checked.amount("amount_total", amount_total_cents)?;
            Ok(StripeEvent::CheckoutCompleted {
                event_id: head.id.clone(),
                session_id: checked.id("session id", &session.id)?,
                pledge_id,
                payment_intent: checked.optional_id(session.payment_intent)?,
                amount_total_cents,
                currency: session.currency.unwrap_or_default().to_ascii_lowercase(),
                payment_status: PaymentStatus::from_stripe(&session.payment_status),
            })
        }
        "checkout.session.expired" => {
            let session = object::<SessionObject>(body)?;
            Ok(StripeEvent::CheckoutExpired {
                event_id: head.id.clone(),
                session_id: checked.id("session id", &session.id)?,
                pledge_id: checked.session_pledge_id(&session)?,
            })
        }
        "charge.refunded" => {
            let charge = object::<ChargeObject>(body)?;
            let pledge_id = charge
                .metadata
                .as_ref()
                .and_then(|m| m.get(PLEDGE_ID_KEY))
                .ok_or_else(|| checked.missing_pledge_id())?;
            checked.amount("amount_refunded", charge.amount_refunded)?;
            Ok(StripeEvent::ChargeRefunded {
                event_id: head.id.clone(),
                charge_id: checked.id("charge id", &charge.id)?,
                payment_intent: checked.optional_id(charge.payment_intent)?,
                pledge_id: checked.id("pledge id", pledge_id)?,
                amount_refunded_cents: charge.amount_refunded,
                refunded: charge.refunded,
            })
        }
        _ => Ok(StripeEvent::Other {
            event_id: head.id,
            kind: head.kind,
        }),
    }
}

fn object<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, EventError> {
    serde_json::from_slice::<Envelope<T>>(body)
        .map(|e| e.data.object)
        .map_err(|e| malformed(&e))
}

/// Field checks that name the event in their errors.
struct Checker<'a> {
    event_id: &'a str,
    kind: &'a str,
}

impl Checker<'_> {
    fn invalid(&self, reason: impl Into<String>) -> EventError {
        EventError::Invalid {
            event_id: self.event_id.to_owned(),
            reason: reason.into(),
        }
    }

    fn missing_pledge_id(&self) -> EventError {
        EventError::MissingPledgeId {
            event_id: self.event_id.to_owned(),
            kind: self.kind.to_owned(),
        }
    }

    fn id(&self, what: &str, value: &str) -> Result<String, EventError> {
        if value.is_empty() || value.len() > MAX_ID_LEN {
            return Err(self.invalid(format!("{what} is empty or longer than {MAX_ID_LEN} bytes")));
        }
        Ok(value.to_owned())
    }

    fn optional_id(&self, value: Option<IdOrObject>) -> Result<Option<String>, EventError> {
        value
            .map(|v| self.id("payment intent id", &v.into_id()))
            .transpose()
    }

    fn amount(&self, what: &str, cents: i64) -> Result<(), EventError> {
        if cents < 0 {
            return Err(self.invalid(format!("{what} is negative ({cents})")));
        }
        Ok(())
    }

    /// `metadata.pledge_id`, else `client_reference_id`; both must agree.
    fn session_pledge_id(&self, session: &SessionObject) -> Result<String, EventError> {
        let from_metadata = session.metadata.as_ref().and_then(|m| m.get(PLEDGE_ID_KEY));
        let from_reference = session.client_reference_id.as_ref();
        let pledge_id = match (from_metadata, from_reference) {
            (Some(a), Some(b)) if a != b => {
                return Err(self
                    .invalid("metadata.pledge_id and client_reference_id name different pledges"));
            }
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => return Err(self.missing_pledge_id()),
        };
        self.id("pledge id", pledge_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(kind: &str, object: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "id": "evt_1", "object": "event", "type": kind, "created": 1,
            "livemode": false, "pending_webhooks": 1, "api_version": null,
            "data": { "object": object }
        }))
        .unwrap()
    }

    fn session(extra: serde_json::Value) -> serde_json::Value {
        let mut s = json!({
            "id": "cs_1", "object": "checkout.session", "amount_total": 2000, "currency": "eur",
            "payment_status": "paid", "payment_intent": "pi_1",
            "metadata": { "pledge_id": "pl_1" }, "client_reference_id": "pl_1"
        });
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s
    }

    #[test]
    fn completed_session() {
        let got = parse(&envelope("checkout.session.completed", session(json!({})))).unwrap();
        assert_eq!(
            got,
            StripeEvent::CheckoutCompleted {
                event_id: "evt_1".into(),
                session_id: "cs_1".into(),
                pledge_id: "pl_1".into(),
                payment_intent: Some("pi_1".into()),
                amount_total_cents: 2000,
                currency: "eur".into(),
                payment_status: PaymentStatus::Paid,
            }
        );
        assert_eq!(got.event_id(), "evt_1");
    }

    #[test]
    fn pledge_id_falls_back_to_client_reference_id() {
        let s = session(json!({ "metadata": {} }));
        let got = parse(&envelope("checkout.session.expired", s)).unwrap();
        assert_eq!(
            got,
            StripeEvent::CheckoutExpired {
                event_id: "evt_1".into(),
                session_id: "cs_1".into(),
                pledge_id: "pl_1".into()
            }
        );
    }

    #[test]
    fn disagreeing_or_missing_pledge_ids_are_errors() {
        let s = session(json!({ "client_reference_id": "pl_2" }));
        let got = parse(&envelope("checkout.session.completed", s));
        assert!(matches!(got, Err(EventError::Invalid { .. })), "{got:?}");

        let s = session(json!({ "metadata": null, "client_reference_id": null }));
        assert_eq!(
            parse(&envelope("checkout.session.expired", s)),
            Err(EventError::MissingPledgeId {
                event_id: "evt_1".into(),
                kind: "checkout.session.expired".into()
            })
        );
    }

    #[test]
    fn expanded_payment_intent_and_unknown_status() {
        let s = session(json!({
            "payment_intent": { "id": "pi_9", "object": "payment_intent" },
            "payment_status": "someday"
        }));
        let StripeEvent::CheckoutCompleted {
            payment_intent,
            payment_status,
            ..
        } = parse(&envelope("checkout.session.completed", s)).unwrap()
        else {
            panic!("not a completed session");
        };
        assert_eq!(payment_intent.as_deref(), Some("pi_9"));
        assert_eq!(payment_status, PaymentStatus::Other("someday".into()));
    }

    #[test]
    fn completed_without_amount_or_with_negative_amount() {
        for amount in [json!(null), json!(-1)] {
            let s = session(json!({ "amount_total": amount }));
            let got = parse(&envelope("checkout.session.completed", s));
            assert!(matches!(got, Err(EventError::Invalid { .. })), "{got:?}");
        }
    }

    #[test]
    fn refunded_charge() {
        let charge = json!({
            "id": "ch_1", "object": "charge", "amount": 2000, "amount_refunded": 500,
            "refunded": false, "payment_intent": "pi_1", "metadata": { "pledge_id": "pl_1" }
        });
        assert_eq!(
            parse(&envelope("charge.refunded", charge)).unwrap(),
            StripeEvent::ChargeRefunded {
                event_id: "evt_1".into(),
                charge_id: "ch_1".into(),
                payment_intent: Some("pi_1".into()),
                pledge_id: "pl_1".into(),
                amount_refunded_cents: 500,
                refunded: false,
            }
        );
        let foreign = json!({
            "id": "ch_2", "amount_refunded": 1, "refunded": true, "metadata": {}
        });
        assert!(matches!(
            parse(&envelope("charge.refunded", foreign)),
            Err(EventError::MissingPledgeId { .. })
        ));
    }

    #[test]
    fn other_events_are_not_looked_into() {
        let got = parse(&envelope("payment_intent.created", json!("whatever"))).unwrap();
        assert_eq!(
            got,
            StripeEvent::Other {
                event_id: "evt_1".into(),
                kind: "payment_intent.created".into()
            }
        );
    }

    #[test]
    fn bad_input_is_an_error_never_a_panic() {
        let deep = "[".repeat(100_000);
        let bad: Vec<&[u8]> = vec![
            b"",
            b"null",
            b"{",
            b"\xff\xfe",
            b"[]",
            b"{\"id\":\"evt_1\"}",
            b"{\"id\":1,\"type\":\"x\"}",
            b"{\"id\":\"evt_1\",\"type\":\"checkout.session.completed\"}",
            b"{\"id\":\"evt_1\",\"type\":\"checkout.session.completed\",\"data\":{\"object\":[]}}",
            b"{\"id\":\"evt_1\",\"type\":\"charge.refunded\",\"data\":{\"object\":{\"id\":\"ch\"}}}",
            b"{\"id\":\"\",\"type\":\"ping\"}",
            deep.as_bytes(),
        ];
        for body in bad {
            let got = parse(body);
            assert!(
                got.is_err(),
                "{:?} gave {got:?}",
                String::from_utf8_lossy(body)
            );
        }
        let huge = vec![b' '; MAX_EVENT_BYTES + 1];
        assert_eq!(
            parse(&huge),
            Err(EventError::TooLarge {
                len: MAX_EVENT_BYTES + 1
            })
        );
    }

    #[test]
    fn overlong_pledge_id_is_refused() {
        let long = "p".repeat(MAX_ID_LEN + 1);
        let s = session(json!({ "metadata": { "pledge_id": long }, "client_reference_id": null }));
        let got = parse(&envelope("checkout.session.completed", s));
        assert!(matches!(got, Err(EventError::Invalid { .. })), "{got:?}");
    }
}
