//! Calls to Stripe: creating a Checkout Session for a pledge and refunding a
//! payment, behind the small [`Payments`] trait so the rest of the crate (and
//! its tests) never sees the SDK.
//!
//! [`StripePayments`] is built on async-stripe 1.0 (`async-stripe` for the HTTP
//! client, `async-stripe-checkout` and `async-stripe-core` for the typed
//! requests). Its API base is configurable ([`StripeConfig::api_base`]) so tests
//! and local runs talk to the test double in [`super::double`].
//!
//! The answers are read into the few fields Pavé uses (`SessionAnswer`,
//! `RefundAnswer`), not into the SDK's `CheckoutSession` and `Refund`: those
//! carry every expandable object Stripe may nest (customer, invoice,
//! subscription…), whose readers were 0.4 MB of `pave-api` (README, "Deploy
//! on AWS"). The SDK still reads its error answers (`ApiErrors`, which nest a
//! payment intent, a payment method and a source): most of what remains of
//! `stripe_shared` in the binaries.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, ExpireCheckoutSession, ProductData,
};
use stripe_checkout::{CheckoutSessionLocale, CheckoutSessionMode};
use stripe_core::refund::CreateRefund;

use super::events::PLEDGE_ID_KEY;

/// Stripe's rule: a Checkout Session expires 30 minutes to 24 hours after creation.
pub const MIN_EXPIRY_SECS: i64 = 30 * 60;
/// See [`MIN_EXPIRY_SECS`].
pub const MAX_EXPIRY_SECS: i64 = 24 * 60 * 60;
/// Margin kept inside Stripe's window, for clock skew and network time.
const EXPIRY_MARGIN_SECS: i64 = 60;

/// Metadata key carrying the project's slug (for people reading the Stripe dashboard).
pub const PROJECT_KEY: &str = "project";

/// A boxed future, so that [`Payments`] can be used as `dyn Payments` (the
/// HTTP layer picks Stripe or a local provider at run time).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The language of Stripe's checkout page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    /// French (the default of the site).
    Fr,
    /// English.
    En,
}

/// What Pavé asks Stripe for one pledge. Its `Debug` hides the email.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// Pavé's pledge id; put in the session's and PaymentIntent's metadata and
    /// as `client_reference_id`.
    pub pledge_id: String,
    /// The project's slug (metadata, for the dashboard).
    pub project_slug: String,
    /// The project's title, shown by Stripe as the product name.
    pub project_title: String,
    /// Amount in cents.
    pub amount_cents: i64,
    /// ISO currency code in lowercase: `"eur"`.
    pub currency: String,
    /// The citizen's email, pre-filled on the checkout page.
    pub customer_email: Option<String>,
    /// Where Stripe sends the citizen after paying (the project page). May hold
    /// Stripe's `{CHECKOUT_SESSION_ID}` template.
    pub success_url: String,
    /// Where Stripe sends the citizen on "back" (the project page).
    pub cancel_url: String,
    /// When the session expires (Unix seconds), see [`checkout_expiry`].
    pub expires_at: i64,
    /// The checkout page's language.
    pub locale: Locale,
}

impl std::fmt::Debug for CheckoutRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckoutRequest")
            .field("pledge_id", &self.pledge_id)
            .field("project_slug", &self.project_slug)
            .field("amount_cents", &self.amount_cents)
            .field("currency", &self.currency)
            .field(
                "customer_email",
                &self.customer_email.as_ref().map(|_| "<private>"),
            )
            .field("expires_at", &self.expires_at)
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

impl CheckoutRequest {
    /// Checks what Stripe would refuse, before asking it: a positive amount, a
    /// three-letter lowercase currency, ids within Stripe's lengths (metadata
    /// values ≤ 500, `client_reference_id` ≤ 200), http(s) URLs, and an expiry
    /// within Stripe's window measured from `now`.
    ///
    /// # Errors
    /// [`PaymentError::Invalid`] naming the first field at fault.
    pub fn check(&self, now: i64) -> Result<(), PaymentError> {
        let invalid = |why: &str| Err(PaymentError::Invalid(why.to_owned()));
        if self.amount_cents <= 0 {
            return invalid("amount_cents must be positive");
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return invalid("currency must be a lowercase ISO code such as \"eur\"");
        }
        if self.pledge_id.is_empty() || self.pledge_id.len() > 200 {
            return invalid("pledge_id must have 1 to 200 bytes");
        }
        if self.project_slug.len() > 500 {
            return invalid("project_slug must have at most 500 bytes");
        }
        if self.project_title.trim().is_empty() {
            return invalid("project_title must not be empty");
        }
        for url in [&self.success_url, &self.cancel_url] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return invalid("success_url and cancel_url must be http(s) URLs");
            }
        }
        let lifetime = self.expires_at.saturating_sub(now);
        if !(MIN_EXPIRY_SECS..=MAX_EXPIRY_SECS).contains(&lifetime) {
            return invalid("expires_at must be 30 minutes to 24 hours from now");
        }
        Ok(())
    }
}

/// The expiry to ask for: `now + wanted_secs`, kept a minute inside Stripe's
/// 30 min – 24 h window.
#[must_use]
pub fn checkout_expiry(now: i64, wanted_secs: i64) -> i64 {
    now.saturating_add(wanted_secs.clamp(
        MIN_EXPIRY_SECS + EXPIRY_MARGIN_SECS,
        MAX_EXPIRY_SECS - EXPIRY_MARGIN_SECS,
    ))
}

/// The Checkout Session Stripe created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    /// Stripe's id (`cs_…`).
    pub id: String,
    /// The page to send the citizen to (HTTP 303).
    pub url: String,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

/// A refund's state, as Stripe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundStatus {
    /// Under way.
    Pending,
    /// The citizen must act (some payment methods).
    RequiresAction,
    /// Done.
    Succeeded,
    /// Failed: the money was not returned.
    Failed,
    /// Canceled.
    Canceled,
    /// A value this code does not know, or none.
    Other(String),
}

impl RefundStatus {
    fn from_stripe(value: Option<&str>) -> Self {
        match value {
            Some("pending") => Self::Pending,
            Some("requires_action") => Self::RequiresAction,
            Some("succeeded") => Self::Succeeded,
            Some("failed") => Self::Failed,
            Some("canceled") => Self::Canceled,
            other => Self::Other(other.unwrap_or_default().to_owned()),
        }
    }
}

/// The refund Stripe created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// Stripe's id (`re_…`).
    pub id: String,
    /// Its state.
    pub status: RefundStatus,
}

/// Why a payment call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The request was refused before being sent (see [`CheckoutRequest::check`]).
    #[error("invalid payment request: {0}")]
    Invalid(String),
    /// Stripe answered with an error; its fields are kept as Stripe sent them.
    #[error("Stripe refused ({status} {kind}{}): {}",
        code.as_deref().map(|c| format!(", {c}")).unwrap_or_default(),
        message.as_deref().unwrap_or("no message"))]
    Stripe {
        /// HTTP status.
        status: u16,
        /// Stripe's error `type`, e.g. `invalid_request_error`, `card_error`.
        kind: String,
        /// Stripe's error `code`, e.g. `charge_already_refunded`.
        code: Option<String>,
        /// Stripe's human-readable message.
        message: Option<String>,
        /// The parameter at fault, if any.
        param: Option<String>,
    },
    /// Stripe could not be reached, or did not answer in time. The call may be
    /// retried (with the same idempotency key for refunds).
    #[error("could not reach Stripe: {0}")]
    Transport(String),
    /// Stripe answered something this code cannot read.
    #[error("unexpected answer from Stripe: {0}")]
    UnexpectedResponse(String),
    /// The client is misconfigured (secret key, API base).
    #[error("Stripe client configuration: {0}")]
    Config(String),
}

impl PaymentError {
    /// A short, stable word for the kind of failure, safe to show and log
    /// (Stripe's own message may contain the customer's email).
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Self::Invalid(_) => "invalid_request",
            Self::Stripe {
                code: Some(code), ..
            } => code,
            Self::Stripe { kind, .. } => kind,
            Self::Transport(_) => "unreachable",
            Self::UnexpectedResponse(_) => "unexpected_response",
            Self::Config(_) => "configuration",
        }
    }
}

impl From<StripeError> for PaymentError {
    fn from(err: StripeError) -> Self {
        match err {
            StripeError::Stripe(api, status) => Self::Stripe {
                status,
                kind: api.type_.as_str().to_owned(),
                code: api.code.as_ref().map(|c| c.as_str().to_owned()),
                message: api.message.clone(),
                param: api.param.clone(),
            },
            StripeError::Timeout => Self::Transport("timed out".to_owned()),
            StripeError::ClientError(msg) => Self::Transport(msg),
            StripeError::JSONDeserialize(msg) => Self::UnexpectedResponse(msg),
            StripeError::ConfigError(msg) => Self::Config(msg),
        }
    }
}

/// The payment provider, as the rest of Pavé sees it.
pub trait Payments: Send + Sync {
    /// Creates a Checkout Session for one pledge.
    fn create_checkout<'a>(
        &'a self,
        request: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<CheckoutSession, PaymentError>>;

    /// Refunds a payment, in full (`amount_cents: None`) or in part. The
    /// `idempotency_key` (1–255 bytes, e.g. `refund-<pledge id>`) makes a retried
    /// call return the first refund instead of making a second one.
    fn refund<'a>(
        &'a self,
        payment_intent: &'a str,
        amount_cents: Option<i64>,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>>;

    /// Expires an open Checkout Session (the donor cancelled it): it can no
    /// longer be paid. An error when it is not open any more (paid, or
    /// expired already).
    fn expire_checkout<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PaymentError>>;
}

/// Environment variable holding Stripe's secret key.
pub const ENV_SECRET_KEY: &str = "STRIPE_SECRET_KEY";
/// Environment variable holding an API base other than Stripe's (tests, local runs).
pub const ENV_API_BASE: &str = "STRIPE_API_BASE";

/// How to reach Stripe.
#[derive(Clone, PartialEq, Eq)]
pub struct StripeConfig {
    /// The secret key (`sk_live_…`, `sk_test_…`, `rk_…`), from the environment.
    pub secret_key: String,
    /// The API base, `https://api.stripe.com/` when `None`; requests go to
    /// `<api_base>v1/…`.
    pub api_base: Option<String>,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &"<redacted>")
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl StripeConfig {
    /// A configuration with Stripe's API base and a 20 s timeout.
    #[must_use]
    pub fn new(secret_key: impl Into<String>) -> Self {
        Self {
            secret_key: secret_key.into(),
            api_base: None,
            timeout: Duration::from_secs(20),
        }
    }

    /// Reads [`ENV_SECRET_KEY`] and, if set, [`ENV_API_BASE`] through `lookup`
    /// (e.g. `|name| std::env::var(name).ok()`).
    ///
    /// # Errors
    /// [`PaymentError::Config`] when the secret key is missing or empty.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, PaymentError> {
        let secret_key = lookup(ENV_SECRET_KEY)
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| PaymentError::Config(format!("{ENV_SECRET_KEY} is not set")))?;
        let mut config = Self::new(secret_key.trim());
        config.api_base = lookup(ENV_API_BASE).filter(|b| !b.trim().is_empty());
        Ok(config)
    }
}

/// [`Payments`] through Stripe's API, with async-stripe.
#[derive(Debug, Clone)]
pub struct StripePayments {
    client: Client,
}

impl StripePayments {
    /// Builds the client (no request is made).
    ///
    /// # Errors
    /// [`PaymentError::Config`] when the key is empty or not a valid header value,
    /// or the API base is not an http(s) URL.
    pub fn new(config: &StripeConfig) -> Result<Self, PaymentError> {
        if config.secret_key.is_empty() {
            return Err(PaymentError::Config("the secret key is empty".to_owned()));
        }
        // rustls needs one process-wide crypto provider; if another crate also
        // enables aws-lc-rs, none is picked automatically and building the
        // connector would panic. Installing ring first (a no-op when a provider
        // is already installed) avoids that.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = ClientBuilder::new(config.secret_key.clone()).timeout(config.timeout);
        if let Some(base) = &config.api_base {
            builder = builder.url(normalize_api_base(base)?);
        }
        Ok(Self {
            client: builder.build()?,
        })
    }
}

/// Checks an API base and gives it the trailing slash async-stripe expects
/// (it joins `<base>v1/<path>`).
fn normalize_api_base(base: &str) -> Result<String, PaymentError> {
    let base = base.trim();
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(PaymentError::Config(format!(
            "the Stripe API base {base:?} is not an http(s) URL"
        )));
    }
    Ok(if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    })
}

/// The part of Stripe's Checkout Session answer Pavé reads (unknown fields
/// are skipped).
#[derive(miniserde::Deserialize)]
struct SessionAnswer {
    id: String,
    url: Option<String>,
    expires_at: i64,
}

/// The part of Stripe's answer to an expiry Pavé reads.
#[derive(miniserde::Deserialize)]
struct ExpiredAnswer {
    id: String,
    status: Option<String>,
}

/// The part of Stripe's Refund answer Pavé reads.
#[derive(miniserde::Deserialize)]
struct RefundAnswer {
    id: String,
    status: Option<String>,
}

/// The typed request for one pledge (pure; see the module docs for the fields).
fn checkout_params(request: &CheckoutRequest) -> CreateCheckoutSession {
    let pledge_metadata = HashMap::from([
        (PLEDGE_ID_KEY.to_owned(), request.pledge_id.clone()),
        (PROJECT_KEY.to_owned(), request.project_slug.clone()),
    ]);
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(
        request
            .currency
            .parse::<stripe_types::Currency>()
            .unwrap_or_else(|e| match e {}),
    );
    price.unit_amount = Some(request.amount_cents);
    price.product_data = Some(ProductData::new(request.project_title.clone()));
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price_data = Some(price);
    item.quantity = Some(1);
    // Session metadata stays on the session; the charge (and so `charge.refunded`)
    // only sees the PaymentIntent's metadata, which must be set separately.
    let mut intent = CreateCheckoutSessionPaymentIntentData::new();
    intent.metadata = Some(pledge_metadata.clone());

    let mut params = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .line_items(vec![item])
        .metadata(pledge_metadata)
        .client_reference_id(request.pledge_id.clone())
        .payment_intent_data(intent)
        .expires_at(request.expires_at)
        .success_url(request.success_url.clone())
        .cancel_url(request.cancel_url.clone())
        .locale(match request.locale {
            Locale::Fr => CheckoutSessionLocale::Fr,
            Locale::En => CheckoutSessionLocale::En,
        });
    if let Some(email) = &request.customer_email {
        params = params.customer_email(email.clone());
    }
    params
}

impl Payments for StripePayments {
    fn create_checkout<'a>(
        &'a self,
        request: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<CheckoutSession, PaymentError>> {
        Box::pin(async move {
            let session: SessionAnswer = checkout_params(request)
                .build()
                .customize()
                .send(&self.client)
                .await?;
            let url = session.url.ok_or_else(|| {
                PaymentError::UnexpectedResponse("the Checkout Session has no url".to_owned())
            })?;
            Ok(CheckoutSession {
                id: session.id,
                url,
                expires_at: session.expires_at,
            })
        })
    }

    fn refund<'a>(
        &'a self,
        payment_intent: &'a str,
        amount_cents: Option<i64>,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            let key = IdempotencyKey::new(idempotency_key)
                .map_err(|e| PaymentError::Invalid(e.to_string()))?;
            if amount_cents.is_some_and(|a| a <= 0) {
                return Err(PaymentError::Invalid(
                    "a refund amount must be positive".to_owned(),
                ));
            }
            let mut params = CreateRefund::new().payment_intent(payment_intent);
            if let Some(amount) = amount_cents {
                params = params.amount(amount);
            }
            let refund: RefundAnswer = params
                .build()
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&self.client)
                .await?;
            Ok(Refund {
                id: refund.id,
                status: RefundStatus::from_stripe(refund.status.as_deref()),
            })
        })
    }

    fn expire_checkout<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            let session: ExpiredAnswer = ExpireCheckoutSession::new(session_id)
                .build()
                .customize()
                .send(&self.client)
                .await?;
            if session.status.as_deref() == Some("expired") {
                Ok(())
            } else {
                Err(PaymentError::UnexpectedResponse(format!(
                    "the Checkout Session {} is {:?}, not expired",
                    session.id, session.status
                )))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600;

    fn request() -> CheckoutRequest {
        CheckoutRequest {
            pledge_id: "pl_01".into(),
            project_slug: "cafe-du-coin".into(),
            project_title: "Le Café du Coin".into(),
            amount_cents: 2_000,
            currency: "eur".into(),
            customer_email: Some("citoyen@example.org".into()),
            success_url: "https://pave.example/api/pledges/pl_1/merci".into(),
            cancel_url: "https://pave.example/p/cafe-du-coin/".into(),
            expires_at: checkout_expiry(NOW, 3600),
            locale: Locale::Fr,
        }
    }

    #[test]
    fn a_good_request_passes_its_checks() {
        assert_eq!(request().check(NOW), Ok(()));
    }

    #[test]
    fn debug_hides_the_email() {
        let shown = format!("{:?}", request());
        assert!(
            shown.contains("pl_01") && !shown.contains("citoyen@"),
            "{shown}"
        );
    }

    #[test]
    fn each_check_refuses_its_field() {
        let cases: Vec<fn(&mut CheckoutRequest)> = vec![
            |r| r.amount_cents = 0,
            |r| r.amount_cents = -5,
            |r| r.currency = "EUR".into(),
            |r| r.currency = "euro".into(),
            |r| r.pledge_id = String::new(),
            |r| r.pledge_id = "p".repeat(201),
            |r| r.project_title = "  ".into(),
            |r| r.success_url = "javascript:alert(1)".into(),
            |r| r.cancel_url = "/relative".into(),
            |r| r.expires_at = NOW + MIN_EXPIRY_SECS - 1,
            |r| r.expires_at = NOW + MAX_EXPIRY_SECS + 1,
            |r| r.expires_at = i64::MIN,
        ];
        for (i, break_it) in cases.into_iter().enumerate() {
            let mut r = request();
            break_it(&mut r);
            assert!(
                matches!(r.check(NOW), Err(PaymentError::Invalid(_))),
                "case {i}"
            );
        }
    }

    #[test]
    fn expiry_stays_inside_stripes_window() {
        assert_eq!(checkout_expiry(NOW, 0), NOW + MIN_EXPIRY_SECS + 60);
        assert_eq!(checkout_expiry(NOW, 3600), NOW + 3600);
        assert_eq!(checkout_expiry(NOW, i64::MAX), NOW + MAX_EXPIRY_SECS - 60);
        assert_eq!(checkout_expiry(i64::MAX, 3600), i64::MAX);
    }

    #[test]
    fn config_from_lookup_and_api_base() {
        let env = |name: &str| match name {
            ENV_SECRET_KEY => Some(" sk_test_123 ".to_owned()),
            ENV_API_BASE => Some("http://127.0.0.1:4242".to_owned()),
            _ => None,
        };
        let config = StripeConfig::from_lookup(env).unwrap();
        assert_eq!(config.secret_key, "sk_test_123");
        assert_eq!(config.api_base.as_deref(), Some("http://127.0.0.1:4242"));
        assert!(
            !format!("{config:?}").contains("sk_test"),
            "the key must not be printed"
        );
        assert!(matches!(
            StripeConfig::from_lookup(|_| None),
            Err(PaymentError::Config(_))
        ));

        assert_eq!(normalize_api_base("http://h:1").unwrap(), "http://h:1/");
        assert_eq!(
            normalize_api_base("https://h/stripe/").unwrap(),
            "https://h/stripe/"
        );
        assert!(normalize_api_base("ftp://h").is_err());
        assert!(StripePayments::new(&StripeConfig::new("")).is_err());
    }

    #[test]
    fn stripe_errors_keep_code_and_message() {
        let api: stripe::ApiErrors = miniserde::json::from_str(
            r#"{"type":"invalid_request_error","code":"charge_already_refunded",
                "message":"Charge ch_1 has already been refunded.","param":"payment_intent"}"#,
        )
        .unwrap();
        let err = PaymentError::from(StripeError::Stripe(Box::new(api), 400));
        assert_eq!(
            err,
            PaymentError::Stripe {
                status: 400,
                kind: "invalid_request_error".into(),
                code: Some("charge_already_refunded".into()),
                message: Some("Charge ch_1 has already been refunded.".into()),
                param: Some("payment_intent".into()),
            }
        );
        assert!(err.to_string().contains("charge_already_refunded"));
        assert!(matches!(
            PaymentError::from(StripeError::Timeout),
            PaymentError::Transport(_)
        ));
    }
}
