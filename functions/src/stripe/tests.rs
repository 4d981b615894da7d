//! [`StripePayments`] against the Stripe test double, and the webhook events
//! the double signs, end to end: form fields sent, answers parsed, signatures
//! verified, events parsed (by this crate and by async-stripe's generated types).

use std::time::{SystemTime, UNIX_EPOCH};

use super::client::{
    CheckoutRequest, Locale, PaymentError, Payments, RefundStatus, checkout_expiry,
};
use super::double::{StripeDouble, StripeFailure, WEBHOOK_SECRET};
use super::events::{self, PaymentStatus, StripeEvent};
use super::signature::{self, DEFAULT_TOLERANCE_SECS};
use super::{StripeConfig, StripePayments};

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn request(pledge_id: &str, amount_cents: i64) -> CheckoutRequest {
    CheckoutRequest {
        pledge_id: pledge_id.into(),
        project_slug: "cafe-du-coin".into(),
        project_title: "Le Café du Coin — café, AMAP et ressourcerie".into(),
        amount_cents,
        currency: "eur".into(),
        customer_email: Some("citoyen@example.org".into()),
        success_url: "https://pave.example/api/pledges/pl_1/merci".into(),
        cancel_url: "https://pave.example/fr/cafe-du-coin/".into(),
        expires_at: checkout_expiry(now(), 3600),
        locale: Locale::Fr,
    }
}

async fn setup() -> (StripeDouble, StripePayments) {
    let double = StripeDouble::start().await.unwrap();
    let payments = StripePayments::new(&double.config()).unwrap();
    (double, payments)
}

/// Verifies and parses a delivery as the webhook handler will.
fn receive(event: &super::double::SignedEvent, t: i64) -> StripeEvent {
    signature::verify(
        event.body.as_bytes(),
        &event.header,
        WEBHOOK_SECRET,
        t,
        DEFAULT_TOLERANCE_SECS,
    )
    .unwrap();
    events::parse(event.body.as_bytes()).unwrap()
}

/// Checks that async-stripe's generated types read the double's event too
/// (so the double keeps Stripe's shapes).
fn sdk_reads<T: miniserde::Deserialize>(body: &str) {
    let event: stripe_core::Event = miniserde::json::from_str(body).expect("SDK Event");
    let object = miniserde::json::to_string(&event.data.object);
    miniserde::json::from_str::<T>(&object).expect("SDK object");
}

#[tokio::test]
async fn checkout_session_is_created_with_the_right_form_fields() {
    let (double, payments) = setup().await;
    let req = request("pl_01", 2_000);
    let session = payments.create_checkout(&req).await.unwrap();

    assert!(session.id.starts_with("cs_test_"), "{}", session.id);
    assert_eq!(
        session.url,
        format!("{}pay/{}", double.api_base(), session.id)
    );
    assert_eq!(session.expires_at, req.expires_at);

    let sent = double.requests();
    assert_eq!(sent.len(), 1);
    let sent = &sent[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/checkout/sessions")
    );
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk_test_pave_double")
    );
    assert!(sent.header("stripe-version").is_some());
    let expires_at = req.expires_at.to_string();
    for (field, value) in [
        ("mode", "payment"),
        ("line_items[0][price_data][currency]", "eur"),
        ("line_items[0][price_data][unit_amount]", "2000"),
        (
            "line_items[0][price_data][product_data][name]",
            req.project_title.as_str(),
        ),
        ("line_items[0][quantity]", "1"),
        ("metadata[pledge_id]", "pl_01"),
        ("metadata[project]", "cafe-du-coin"),
        ("client_reference_id", "pl_01"),
        ("payment_intent_data[metadata][pledge_id]", "pl_01"),
        ("expires_at", expires_at.as_str()),
        ("customer_email", "citoyen@example.org"),
        ("success_url", req.success_url.as_str()),
        ("cancel_url", req.cancel_url.as_str()),
        ("locale", "fr"),
    ] {
        assert_eq!(sent.field(field), Some(value), "{field}");
    }

    let object = double.session(&session.id).unwrap();
    assert_eq!(object["amount_total"], 2_000);
    assert_eq!(object["currency"], "eur");
    assert_eq!(object["status"], "open");
    assert_eq!(object["metadata"]["pledge_id"], "pl_01");
}

#[tokio::test]
async fn stripe_refusing_a_session_is_a_typed_error() {
    let (double, payments) = setup().await;
    // Bypass our own check to see Stripe's (the double's) rule on expiry.
    let mut req = request("pl_02", 500);
    req.expires_at = now() + 60;
    let err = payments.create_checkout(&req).await.unwrap_err();
    let PaymentError::Stripe {
        status,
        kind,
        param,
        message,
        ..
    } = err
    else {
        panic!("not a Stripe error: {err:?}");
    };
    assert_eq!((status, kind.as_str()), (400, "invalid_request_error"));
    assert_eq!(param.as_deref(), Some("expires_at"));
    assert!(message.unwrap().contains("30 minutes"));
    assert_eq!(double.requests().len(), 1);
}

#[tokio::test]
async fn completed_and_expired_events_parse_with_the_pledge_id() {
    let (double, payments) = setup().await;
    let paid = payments
        .create_checkout(&request("pl_paid", 2_500))
        .await
        .unwrap();
    let left = payments
        .create_checkout(&request("pl_left", 1_000))
        .await
        .unwrap();
    let t = now();

    let completed = double.complete_checkout(&paid.id, t).unwrap();
    sdk_reads::<stripe_checkout::CheckoutSession>(&completed.body);
    let StripeEvent::CheckoutCompleted {
        event_id,
        session_id,
        pledge_id,
        payment_intent,
        amount_total_cents,
        currency,
        payment_status,
    } = receive(&completed, t)
    else {
        panic!("not a completed checkout");
    };
    assert!(event_id.starts_with("evt_"));
    assert_eq!(session_id, paid.id);
    assert_eq!(pledge_id, "pl_paid");
    assert!(
        payment_intent
            .as_deref()
            .is_some_and(|pi| pi.starts_with("pi_"))
    );
    assert_eq!(amount_total_cents, 2_500);
    assert_eq!(currency, "eur");
    assert_eq!(payment_status, PaymentStatus::Paid);

    let expired = double.expire_checkout(&left.id, t).unwrap();
    sdk_reads::<stripe_checkout::CheckoutSession>(&expired.body);
    let got = receive(&expired, t);
    assert!(
        matches!(&got, StripeEvent::CheckoutExpired { session_id, pledge_id, .. }
            if *session_id == left.id && pledge_id == "pl_left"),
        "{got:?}"
    );

    // A delivery replayed after the tolerance is refused, tampering too.
    assert!(matches!(
        signature::verify(
            completed.body.as_bytes(),
            &completed.header,
            WEBHOOK_SECRET,
            t + 301,
            300
        ),
        Err(signature::SignatureError::OutsideTolerance { .. })
    ));
    let tampered = completed.body.replace("2500", "250000");
    assert_eq!(
        signature::verify(
            tampered.as_bytes(),
            &completed.header,
            WEBHOOK_SECRET,
            t,
            300
        ),
        Err(signature::SignatureError::Mismatch)
    );
    assert!(double.complete_checkout("cs_unknown", t).is_none());
}

#[tokio::test]
async fn refund_sends_the_idempotency_key_and_is_applied_once() {
    let (double, payments) = setup().await;
    let session = payments
        .create_checkout(&request("pl_r", 2_000))
        .await
        .unwrap();
    let t = now();
    let completed = double.complete_checkout(&session.id, t).unwrap();
    let StripeEvent::CheckoutCompleted {
        payment_intent: Some(pi),
        ..
    } = receive(&completed, t)
    else {
        panic!("no payment intent");
    };

    let refund = payments.refund(&pi, None, "refund-pl_r").await.unwrap();
    assert!(refund.id.starts_with("re_"), "{}", refund.id);
    assert_eq!(refund.status, RefundStatus::Succeeded);
    let sent = double.requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/refunds");
    assert_eq!(sent.header("idempotency-key"), Some("refund-pl_r"));
    assert_eq!(sent.field("payment_intent"), Some(pi.as_str()));
    assert_eq!(sent.field("amount"), None);

    // A retry with the same key gets the same refund, not a second one.
    let again = payments.refund(&pi, None, "refund-pl_r").await.unwrap();
    assert_eq!(again, refund);

    let refunded = double.charge_refunded(&pi, t).unwrap();
    sdk_reads::<stripe_core::Charge>(&refunded.body);
    let StripeEvent::ChargeRefunded {
        charge_id,
        payment_intent,
        pledge_id,
        amount_refunded_cents,
        refunded,
        ..
    } = receive(&refunded, t)
    else {
        panic!("not a refunded charge");
    };
    assert!(charge_id.starts_with("ch_"), "{charge_id}");
    assert_eq!(payment_intent.as_deref(), Some(pi.as_str()));
    // The pledge id reached the charge through payment_intent_data[metadata].
    assert_eq!(pledge_id, "pl_r");
    assert_eq!((amount_refunded_cents, refunded), (2_000, true));

    // The same key with other parameters is Stripe's idempotency error.
    let err = payments
        .refund(&pi, Some(100), "refund-pl_r")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PaymentError::Stripe { kind, .. } if kind == "idempotency_error"),
        "{err:?}"
    );
    // A new key on a fully refunded charge is refused.
    let err = payments
        .refund(&pi, None, "refund-pl_r-2")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PaymentError::Stripe { code: Some(c), .. } if c == "charge_already_refunded"),
        "{err:?}"
    );
}

#[tokio::test]
async fn partial_refund_reports_a_partly_refunded_charge() {
    let (double, payments) = setup().await;
    let session = payments
        .create_checkout(&request("pl_p", 3_000))
        .await
        .unwrap();
    let t = now();
    let completed = double.complete_checkout(&session.id, t).unwrap();
    let StripeEvent::CheckoutCompleted {
        payment_intent: Some(pi),
        ..
    } = receive(&completed, t)
    else {
        panic!("no payment intent");
    };
    payments
        .refund(&pi, Some(1_000), "refund-pl_p-1")
        .await
        .unwrap();
    assert_eq!(
        double.requests().pop().unwrap().field("amount"),
        Some("1000")
    );
    let got = receive(&double.charge_refunded(&pi, t).unwrap(), t);
    assert!(
        matches!(
            got,
            StripeEvent::ChargeRefunded {
                amount_refunded_cents: 1_000,
                refunded: false,
                ..
            }
        ),
        "{got:?}"
    );
}

#[tokio::test]
async fn refusals_keep_stripes_code_and_message() {
    let (double, payments) = setup().await;
    double.fail_refunds(Some(StripeFailure::charge_already_refunded("ch_x")));
    let err = payments.refund("pi_x", None, "refund-x").await.unwrap_err();
    assert_eq!(
        err,
        PaymentError::Stripe {
            status: 400,
            kind: "invalid_request_error".into(),
            code: Some("charge_already_refunded".into()),
            message: Some("Charge ch_x has already been refunded.".into()),
            param: None,
        }
    );

    double.fail_refunds(None);
    let err = payments
        .refund("pi_unknown", None, "refund-y")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PaymentError::Stripe { code: Some(c), param: Some(p), .. }
            if c == "resource_missing" && p == "payment_intent"),
        "{err:?}"
    );

    // Invalid keys and amounts never reach Stripe.
    let before = double.requests().len();
    assert!(matches!(
        payments.refund("pi_x", None, "").await,
        Err(PaymentError::Invalid(_))
    ));
    let long_key = "k".repeat(256);
    assert!(matches!(
        payments.refund("pi_x", None, &long_key).await,
        Err(PaymentError::Invalid(_))
    ));
    assert!(matches!(
        payments.refund("pi_x", Some(0), "k").await,
        Err(PaymentError::Invalid(_))
    ));
    assert_eq!(double.requests().len(), before);
}

#[tokio::test]
async fn an_unreachable_stripe_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut config = StripeConfig::new("sk_test_x");
    config.api_base = Some(format!("http://{address}"));
    let payments = StripePayments::new(&config).unwrap();
    let err = payments
        .create_checkout(&request("pl_t", 500))
        .await
        .unwrap_err();
    assert!(matches!(err, PaymentError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn payments_work_behind_dyn() {
    let (double, payments) = setup().await;
    let provider: std::sync::Arc<dyn Payments> = std::sync::Arc::new(payments);
    let session = provider
        .create_checkout(&request("pl_d", 700))
        .await
        .unwrap();
    assert!(double.session(&session.id).is_some());
}
