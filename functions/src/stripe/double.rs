//! A Stripe test double: a local HTTP server that answers the two calls Pavé
//! makes (`POST /v1/checkout/sessions`, `POST /v1/refunds`) with objects of
//! Stripe's own shapes, and builds the signed webhook events that follow them.
//!
//! Stripe's mock server cannot be had here, so the answers start from Stripe's
//! fixtures (`functions/tests/fixtures/stripe/`, from stripe/openapi
//! `fixtures3.json`) and fill in what the request said. The double records every
//! request (form fields and headers) for assertions, keeps Stripe's idempotency
//! rule for refunds (same key and parameters → same answer; same key, other
//! parameters → `idempotency_error`), and can be told to refuse refunds.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use pave_functions::stripe::{double::StripeDouble, client::StripePayments};
//! let double = StripeDouble::start().await?;
//! let payments = StripePayments::new(&double.config()).expect("config");
//! // … create a checkout through `payments`, then:
//! // let event = double.complete_checkout("cs_test_…", now).expect("known session");
//! // POST event.body to the webhook with `Stripe-Signature: event.header`.
//! # Ok(()) }
//! ```
//!
//! Built for tests (`cfg(test)`) and behind the `test-double` feature for the
//! workspace's end-to-end tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Form, Path, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::client::StripeConfig;
use super::signature;

/// The secret key the double's clients use (any `Bearer` key is accepted).
pub const SECRET_KEY: &str = "sk_test_pave_double";
/// The webhook secret the double signs its events with.
pub const WEBHOOK_SECRET: &str = "whsec_pave_test_double";

const CHECKOUT_SESSION: &str = include_str!("../../tests/fixtures/stripe/checkout_session.json");
const CHARGE: &str = include_str!("../../tests/fixtures/stripe/charge.json");
const REFUND: &str = include_str!("../../tests/fixtures/stripe/refund.json");
const EVENT: &str = include_str!("../../tests/fixtures/stripe/event.json");

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("the Stripe fixtures are valid JSON")
}

/// Stripe's `checkout.session` fixture object.
#[must_use]
pub fn fixture_checkout_session() -> Value {
    fixture(CHECKOUT_SESSION)
}

/// Stripe's `charge` fixture object.
#[must_use]
pub fn fixture_charge() -> Value {
    fixture(CHARGE)
}

/// Stripe's `refund` fixture object.
#[must_use]
pub fn fixture_refund() -> Value {
    fixture(REFUND)
}

/// A webhook delivery: the raw body and its `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEvent {
    /// The JSON body, exactly as signed.
    pub body: String,
    /// The `Stripe-Signature` header value.
    pub header: String,
}

/// Wraps `object` in Stripe's event envelope (from the `event` fixture).
#[must_use]
pub fn event_envelope(
    event_id: &str,
    kind: &str,
    created: i64,
    api_version: Option<&str>,
    object: Value,
) -> Value {
    let mut event = fixture(EVENT);
    set(&mut event, "id", event_id);
    set(&mut event, "type", kind);
    set(&mut event, "created", created);
    set(&mut event, "api_version", api_version);
    set(&mut event, "pending_webhooks", 1);
    set(&mut event, "data", json!({ "object": object }));
    event
}

/// Serialises an event and signs it with `secret` at time `t`.
#[must_use]
pub fn sign_event(event: &Value, secret: &str, t: i64) -> SignedEvent {
    let body = event.to_string();
    let header = signature::sign(body.as_bytes(), secret, t);
    SignedEvent { body, header }
}

/// An error Stripe answers with (`{"error": {"type", "code", "message", "param"}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeFailure {
    /// HTTP status.
    pub status: u16,
    /// Stripe's error `type`.
    pub kind: String,
    /// Stripe's error `code`.
    pub code: Option<String>,
    /// Stripe's message.
    pub message: String,
    /// The parameter at fault.
    pub param: Option<String>,
}

impl StripeFailure {
    /// An `invalid_request_error` with a code.
    #[must_use]
    pub fn invalid_request(code: &str, message: impl Into<String>, param: Option<&str>) -> Self {
        Self {
            status: 400,
            kind: "invalid_request_error".to_owned(),
            code: Some(code.to_owned()),
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// What Stripe answers to refunding an already refunded charge.
    #[must_use]
    pub fn charge_already_refunded(charge_id: &str) -> Self {
        Self::invalid_request(
            "charge_already_refunded",
            format!("Charge {charge_id} has already been refunded."),
            None,
        )
    }

    fn body(&self) -> Value {
        json!({ "error": {
            "type": self.kind, "code": self.code, "message": self.message, "param": self.param
        }})
    }
}

impl IntoResponse for StripeFailure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, axum::Json(self.body())).into_response()
    }
}

/// One request the double received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `POST`, …
    pub method: String,
    /// e.g. `/v1/checkout/sessions`.
    pub path: String,
    /// Headers, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The form-encoded body, decoded, in order (`line_items[0][price_data][currency]`, …).
    pub form: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first form field of that name.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        lookup(&self.form, name)
    }

    /// The first header of that (lowercase) name.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        lookup(&self.headers, name)
    }
}

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Fields of a form like `prefix[key]=value`, as a JSON object.
fn bracketed(form: &[(String, String)], prefix: &str) -> Map<String, Value> {
    form.iter()
        .filter_map(|(k, v)| {
            let key = k
                .strip_prefix(prefix)?
                .strip_prefix('[')?
                .strip_suffix(']')?;
            (!key.contains('[')).then(|| (key.to_owned(), Value::from(v.as_str())))
        })
        .collect()
}

fn set(object: &mut Value, key: &str, value: impl Into<Value>) {
    if let Some(map) = object.as_object_mut() {
        map.insert(key.to_owned(), value.into());
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A session the double created, with what its payment will need.
struct SessionRecord {
    object: Value,
    payment_intent: String,
    intent_metadata: Map<String, Value>,
}

/// The charge made when a session completes, found by its PaymentIntent.
struct ChargeRecord {
    object: Value,
    refunds: Vec<Value>,
}

#[derive(Default)]
struct State {
    base_url: String,
    next_id: u64,
    api_version: Option<String>,
    requests: Vec<RecordedRequest>,
    sessions: HashMap<String, SessionRecord>,
    charges: HashMap<String, ChargeRecord>,
    idempotent: HashMap<String, (Vec<(String, String)>, Value)>,
    refund_failure: Option<StripeFailure>,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_pave{:06}", self.next_id)
    }
}

type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running double. The server stops when this is dropped.
pub struct StripeDouble {
    base_url: String,
    state: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for StripeDouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeDouble")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for StripeDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl StripeDouble {
    /// Starts the double on `127.0.0.1` on a free port, in the current tokio runtime.
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let base_url = format!("http://{}/", listener.local_addr()?);
        let state: Shared = Arc::new(Mutex::new(State {
            base_url: base_url.clone(),
            ..State::default()
        }));
        let app = Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/refunds", post(create_refund))
            .route("/v1/checkout/sessions/{id}/expire", post(expire_session))
            .route("/pay/{id}", get(checkout_page))
            .fallback(unknown_url)
            .with_state(Arc::clone(&state));
        let server = tokio::spawn(async move {
            // Ends only when the task is aborted (or the listener fails).
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            base_url,
            state,
            server,
        })
    }

    /// The API base to give the client: `http://127.0.0.1:<port>/`.
    #[must_use]
    pub fn api_base(&self) -> &str {
        &self.base_url
    }

    /// A client configuration pointing at the double.
    #[must_use]
    pub fn config(&self) -> StripeConfig {
        let mut config = StripeConfig::new(SECRET_KEY);
        config.api_base = Some(self.base_url.clone());
        config
    }

    /// Every request received so far, oldest first.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// Makes every refund fail with `failure` until called with `None`. Such
    /// failures are not stored under the idempotency key.
    pub fn fail_refunds(&self, failure: Option<StripeFailure>) {
        lock(&self.state).refund_failure = failure;
    }

    /// The Checkout Session object as it stands.
    #[must_use]
    pub fn session(&self, session_id: &str) -> Option<Value> {
        lock(&self.state)
            .sessions
            .get(session_id)
            .map(|s| s.object.clone())
    }

    /// The citizen paid: the session becomes complete and paid, its
    /// PaymentIntent's charge is created (carrying the PaymentIntent's metadata),
    /// and the `checkout.session.completed` event is returned, signed at `t`.
    /// `None` for an unknown session.
    #[must_use]
    pub fn complete_checkout(&self, session_id: &str, t: i64) -> Option<SignedEvent> {
        let mut state = lock(&self.state);
        let charge_id = state.id("ch");
        let session = state.sessions.get_mut(session_id)?;
        let object = &mut session.object;
        set(object, "status", "complete");
        set(object, "payment_status", "paid");
        set(object, "payment_intent", session.payment_intent.as_str());
        let mut details = fixture_checkout_session()["customer_details"].take();
        set(&mut details, "email", object["customer_email"].clone());
        set(object, "customer_details", details);
        let amount = object["amount_total"].as_i64().unwrap_or(0);

        let mut charge = fixture_charge();
        for (key, value) in [
            ("id", Value::from(charge_id.as_str())),
            ("amount", amount.into()),
            ("amount_captured", amount.into()),
            ("amount_refunded", 0.into()),
            ("captured", true.into()),
            ("paid", true.into()),
            ("refunded", false.into()),
            ("created", t.into()),
            ("currency", object["currency"].clone()),
            ("metadata", Value::Object(session.intent_metadata.clone())),
            ("payment_intent", session.payment_intent.as_str().into()),
            ("receipt_url", Value::Null),
            ("shipping", Value::Null),
            ("source", Value::Null),
            ("transfer_data", Value::Null),
        ] {
            set(&mut charge, key, value);
        }
        let event_object = object.clone();
        let payment_intent = session.payment_intent.clone();
        // A second completion (a test replaying it) keeps the charge and its refunds.
        state.charges.entry(payment_intent).or_insert(ChargeRecord {
            object: charge,
            refunds: Vec::new(),
        });
        Some(self.event(&mut state, "checkout.session.completed", t, event_object))
    }

    /// The session timed out: it becomes expired and the
    /// `checkout.session.expired` event is returned, signed at `t`.
    #[must_use]
    pub fn expire_checkout(&self, session_id: &str, t: i64) -> Option<SignedEvent> {
        let mut state = lock(&self.state);
        let session = state.sessions.get_mut(session_id)?;
        set(&mut session.object, "status", "expired");
        set(&mut session.object, "url", Value::Null);
        let object = session.object.clone();
        Some(self.event(&mut state, "checkout.session.expired", t, object))
    }

    /// The `charge.refunded` event for the charge of `payment_intent`, with the
    /// refunds made so far through the double, signed at `t`. `None` when that
    /// PaymentIntent has no charge (its checkout was not completed).
    #[must_use]
    pub fn charge_refunded(&self, payment_intent: &str, t: i64) -> Option<SignedEvent> {
        let mut state = lock(&self.state);
        let charge = state.charges.get(payment_intent)?;
        let mut object = charge.object.clone();
        let url = format!(
            "/v1/charges/{}/refunds",
            object["id"].as_str().unwrap_or_default()
        );
        let refunds =
            json!({ "object": "list", "data": charge.refunds, "has_more": false, "url": url });
        set(&mut object, "refunds", refunds);
        Some(self.event(&mut state, "charge.refunded", t, object))
    }

    fn event(&self, state: &mut State, kind: &str, t: i64, object: Value) -> SignedEvent {
        let event_id = state.id("evt");
        let event = event_envelope(&event_id, kind, t, state.api_version.as_deref(), object);
        sign_event(&event, WEBHOOK_SECRET, t)
    }
}

/// Checks the `Authorization: Bearer …` header and records the request.
fn admit(
    state: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
) -> Result<(), StripeFailure> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let authorized = lookup(&headers, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| !key.is_empty());
    let mut state = lock(state);
    if let Some(version) = lookup(&headers, "stripe-version") {
        state.api_version = Some(version.to_owned());
    }
    state.requests.push(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        form,
    });
    if !authorized {
        return Err(StripeFailure {
            status: 401,
            kind: "invalid_request_error".to_owned(),
            code: None,
            message: "You did not provide an API key.".to_owned(),
            param: None,
        });
    }
    Ok(())
}

fn missing(param: &str) -> StripeFailure {
    StripeFailure::invalid_request(
        "parameter_missing",
        format!("Missing required param: {param}."),
        Some(param),
    )
}

fn integer(form: &[(String, String)], name: &str) -> Result<Option<i64>, StripeFailure> {
    lookup(form, name)
        .map(|v| {
            v.parse().map_err(|_| {
                StripeFailure::invalid_request(
                    "parameter_invalid_integer",
                    format!("Invalid integer: {v}"),
                    Some(name),
                )
            })
        })
        .transpose()
}

/// The Checkout Session object for a creation request (payment mode only).
fn build_session(
    form: &[(String, String)],
    id: &str,
    base_url: &str,
    now: i64,
) -> Result<Value, StripeFailure> {
    let mode = lookup(form, "mode").ok_or_else(|| missing("mode"))?;
    if mode != "payment" {
        return Err(StripeFailure::invalid_request(
            "parameter_invalid_string",
            format!("The test double only knows mode=payment, not {mode}."),
            Some("mode"),
        ));
    }
    let mut total: i64 = 0;
    let mut currency = None;
    for i in 0.. {
        let item = format!("line_items[{i}]");
        if !form.iter().any(|(k, _)| k.starts_with(&item)) {
            break;
        }
        let unit = integer(form, &format!("{item}[price_data][unit_amount]"))?
            .ok_or_else(|| missing(&format!("{item}[price_data][unit_amount]")))?;
        let quantity = integer(form, &format!("{item}[quantity]"))?.unwrap_or(1);
        total = unit
            .checked_mul(quantity)
            .and_then(|a| total.checked_add(a))
            .ok_or_else(|| {
                StripeFailure::invalid_request("amount_too_large", "Amount too large.", None)
            })?;
        currency = currency.or_else(|| lookup(form, &format!("{item}[price_data][currency]")));
    }
    let currency = currency.ok_or_else(|| missing("line_items"))?;
    let expires_at = integer(form, "expires_at")?.unwrap_or(now + 24 * 3600);
    if !(now + 30 * 60..=now + 24 * 3600).contains(&expires_at) {
        return Err(StripeFailure::invalid_request(
            "parameter_invalid_integer",
            "The `expires_at` timestamp must be between 30 minutes and 24 hours after the \
             Checkout Session's creation.",
            Some("expires_at"),
        ));
    }

    let mut session = fixture_checkout_session();
    let empty_text = json!({
        "after_submit": null, "shipping_address": null, "submit": null,
        "terms_of_service_acceptance": null
    });
    for (key, value) in [
        ("id", Value::from(id)),
        ("created", now.into()),
        ("expires_at", expires_at.into()),
        ("amount_subtotal", total.into()),
        ("amount_total", total.into()),
        ("currency", currency.into()),
        (
            "client_reference_id",
            lookup(form, "client_reference_id").into(),
        ),
        ("customer_email", lookup(form, "customer_email").into()),
        ("customer_details", Value::Null),
        ("metadata", Value::Object(bracketed(form, "metadata"))),
        ("mode", mode.into()),
        ("locale", lookup(form, "locale").into()),
        ("payment_intent", Value::Null), // created when the citizen pays
        ("payment_status", "unpaid".into()),
        ("status", "open".into()),
        ("success_url", lookup(form, "success_url").into()),
        ("cancel_url", lookup(form, "cancel_url").into()),
        ("url", format!("{base_url}pay/{id}").into()),
        ("livemode", false.into()),
        ("after_expiration", Value::Null),
        ("collected_information", Value::Null),
        ("currency_conversion", Value::Null),
        ("custom_text", empty_text),
        ("shipping_address_collection", Value::Null),
        ("shipping_cost", Value::Null),
        (
            "total_details",
            json!({ "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 }),
        ),
    ] {
        set(&mut session, key, value);
    }
    Ok(session)
}

async fn create_session(
    AxumState(state): AxumState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<axum::Json<Value>, StripeFailure> {
    admit(&state, &method, &uri, &headers, form.clone())?;
    let mut state = lock(&state);
    let id = state.id("cs_test");
    let object = build_session(&form, &id, &state.base_url, unix_now())?;
    let payment_intent = state.id("pi");
    let intent_metadata = bracketed(&form, "payment_intent_data[metadata]");
    state.sessions.insert(
        id,
        SessionRecord {
            object: object.clone(),
            payment_intent,
            intent_metadata,
        },
    );
    Ok(axum::Json(object))
}

/// Refund rules: the PaymentIntent must have a charge, the amount (default:
/// what is left) must be positive and at most what is left.
fn refund_charge(
    state: &mut State,
    form: &[(String, String)],
    refund_id: String,
) -> Result<Value, StripeFailure> {
    let payment_intent = lookup(form, "payment_intent").ok_or_else(|| missing("payment_intent"))?;
    let requested = integer(form, "amount")?;
    let charge = state.charges.get_mut(payment_intent).ok_or_else(|| {
        StripeFailure::invalid_request(
            "resource_missing",
            format!("No such payment_intent: '{payment_intent}'"),
            Some("payment_intent"),
        )
    })?;
    let charge_id = charge.object["id"].as_str().unwrap_or_default().to_owned();
    let amount = charge.object["amount"].as_i64().unwrap_or(0);
    let already = charge.object["amount_refunded"].as_i64().unwrap_or(0);
    let left = amount - already;
    if left <= 0 {
        return Err(StripeFailure::charge_already_refunded(&charge_id));
    }
    let refund_amount = requested.unwrap_or(left);
    if refund_amount <= 0 || refund_amount > left {
        return Err(StripeFailure::invalid_request(
            "amount_too_large",
            format!(
                "Refund amount ({refund_amount}) is greater than unrefunded amount on charge ({left})"
            ),
            Some("amount"),
        ));
    }
    set(
        &mut charge.object,
        "amount_refunded",
        already + refund_amount,
    );
    set(
        &mut charge.object,
        "refunded",
        already + refund_amount == amount,
    );

    let mut refund = fixture_refund();
    for (key, value) in [
        ("id", Value::from(refund_id)),
        ("amount", refund_amount.into()),
        ("charge", charge_id.into()),
        ("created", unix_now().into()),
        ("currency", charge.object["currency"].clone()),
        ("metadata", Value::Object(bracketed(form, "metadata"))),
        ("payment_intent", payment_intent.into()),
        ("status", "succeeded".into()),
    ] {
        set(&mut refund, key, value);
    }
    charge.refunds.push(refund.clone());
    Ok(refund)
}

/// `POST /v1/checkout/sessions/{id}/expire`: an open session becomes
/// expired (Stripe then sends `checkout.session.expired`, which a test gets
/// from [`StripeDouble::expire_checkout`]); any other is refused as Stripe does.
async fn expire_session(
    AxumState(state): AxumState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<axum::Json<Value>, StripeFailure> {
    admit(&state, &method, &uri, &headers, Vec::new())?;
    let mut state = lock(&state);
    let Some(session) = state.sessions.get_mut(&id) else {
        return Err(StripeFailure {
            status: 404,
            kind: "invalid_request_error".to_owned(),
            code: Some("resource_missing".to_owned()),
            message: format!("No such checkout.session: '{id}'"),
            param: Some("session".to_owned()),
        });
    };
    if session.object["status"] != "open" {
        return Err(StripeFailure {
            status: 400,
            kind: "invalid_request_error".to_owned(),
            code: None,
            message: format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".",
                session.object["status"].as_str().unwrap_or_default()
            ),
            param: None,
        });
    }
    set(&mut session.object, "status", "expired");
    set(&mut session.object, "url", Value::Null);
    Ok(axum::Json(session.object.clone()))
}

async fn create_refund(
    AxumState(state): AxumState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<axum::Json<Value>, StripeFailure> {
    admit(&state, &method, &uri, &headers, form.clone())?;
    let key = headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut state = lock(&state);
    if let Some(key) = &key
        && let Some((first_form, answer)) = state.idempotent.get(key)
    {
        if *first_form != form {
            return Err(StripeFailure {
                status: 400,
                kind: "idempotency_error".to_owned(),
                code: None,
                message: format!(
                    "Keys for idempotent requests can only be used with the same parameters they \
                     were first used with. Try using a key other than '{key}' if you meant to \
                     execute a different request."
                ),
                param: None,
            });
        }
        return Ok(axum::Json(answer.clone()));
    }
    if let Some(failure) = state.refund_failure.clone() {
        return Err(failure);
    }
    let refund_id = state.id("re");
    let refund = refund_charge(&mut state, &form, refund_id)?;
    if let Some(key) = key {
        state.idempotent.insert(key, (form, refund.clone()));
    }
    Ok(axum::Json(refund))
}

/// The "hosted checkout page" a session's `url` points at.
async fn checkout_page(AxumState(state): AxumState<Shared>, Path(id): Path<String>) -> Response {
    let state = lock(&state);
    let Some(session) = state.sessions.get(&id) else {
        return (StatusCode::NOT_FOUND, "no such Checkout Session").into_response();
    };
    let amount = session.object["amount_total"].as_i64().unwrap_or(0);
    let currency = session.object["currency"]
        .as_str()
        .unwrap_or_default()
        .to_uppercase();
    Html(format!(
        "<!doctype html><title>Stripe test double</title><h1>Stripe test double</h1>\
         <p>Checkout Session {id}: {}.{:02} {currency}</p>",
        amount / 100,
        amount % 100
    ))
    .into_response()
}

async fn unknown_url(method: Method, uri: Uri) -> StripeFailure {
    StripeFailure {
        status: 404,
        kind: "invalid_request_error".to_owned(),
        code: None,
        message: format!("Unrecognized request URL ({method}: {}).", uri.path()),
        param: None,
    }
}
