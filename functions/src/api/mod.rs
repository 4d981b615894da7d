//! The HTTP API: one axum router, served by `pave serve` locally and by the
//! Lambda adapter on AWS.
//!
//! - `POST /api/pledges` (form or JSON): checks the pledge, records it
//!   (reserving a limited reward), opens a checkout, answers 303 to it (form)
//!   or JSON.
//! - `GET /api/pledges/{id}/merci`: the thank-you page the checkout
//!   returns to, in the site's layout ([`crate::pages::thanks`]).
//! - `GET /api/pledges/{id}/cancel`: the checkout's cancel link.
//! - `POST /api/webhooks/stripe`: verified, idempotent, atomic.
//! - `GET /api/projects/{slug}/progress`: the project's figures, JSON.
//! - `POST /api/offers`: in-kind help, stored privately, counted publicly.
//! - `GET /api/health`.
//!
//! Errors are JSON `{"error": {"code", "message"}}` with a stable code, or a
//! small HTML page when the request came from a plain form. Messages are in
//! French or English: the body's `lang` field, else `Accept-Language`, else
//! French (`crate::messages`).

mod errors;
pub mod limits;
pub mod local;
mod news;
#[cfg(test)]
mod tests;
mod wall;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, any, get, post};
use rust_decimal::Decimal;
use serde::Deserialize;
use sha2::Digest;
use tokio::sync::{mpsc, oneshot};

use crate::catalog::Catalog;
use crate::close;
use crate::mail::{self, Doorbell, RefundCause};
use crate::messages::{Lang, Message};
use crate::payment::Payment;
use crate::pledge::{self, PledgeRequest};
use crate::store::{Applied, NewPledge, Offer, RefundExtent, RefundReason, Store, StoreError};
use crate::stripe::client::{CheckoutRequest, Locale, Payments, checkout_expiry};
use crate::stripe::events::{self, EventError, PaymentStatus, StripeEvent};
use crate::stripe::signature;
pub use errors::ApiError;
use limits::{ClientAddr, Limited};
use pave_contract::frame::Frames;

/// Request bodies above this are refused (a pledge form is a few hundred bytes;
/// Stripe events are a few kilobytes).
pub const BODY_LIMIT: usize = 64 * 1024;

/// How long a checkout (and its reward reservation) stays open: as short as
/// Stripe allows (a Checkout Session lives 30 minutes at least; the client
/// adds its margin), so a place is held no longer than it can be paid. A
/// donor who cancels releases it at once (`GET /api/pledges/{id}/cancel`).
pub const CHECKOUT_SECONDS: i64 = 30 * 60;

/// What the API needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The public site (`https://…`, no trailing slash): the project pages
    /// the API's pages link back to; the API is under its `/api/`.
    pub site_url: String,
    /// Origins allowed to post forms (the site's own, plus any other).
    pub allowed_origins: Vec<String>,
    /// The secret that signs webhooks (`whsec_…`).
    pub webhook_secret: String,
    /// Where browsers reach this API (`https://…`, no trailing slash) when
    /// it is not under the site's own `/api/` (a separate API origin):
    /// the checkout's thank-you and cancel addresses are there.
    pub api_url: Option<String>,
}

impl ApiConfig {
    /// Where browsers reach this API: `api_url`, else the site's own `/api/`.
    pub fn api_base(&self) -> &str {
        self.api_url.as_deref().unwrap_or(&self.site_url)
    }
}

/// A project whose figures changed, for the re-render of its pages
/// (`pave serve`); `rendered` is told once they are written.
#[derive(Debug)]
pub struct Change {
    pub project: String,
    pub rendered: Option<oneshot::Sender<()>>,
}

/// How long a payment's webhook waits for the project's pages to be
/// re-rendered before it answers: a page asked for after the payment's
/// redirect (the local checkout's, or Stripe's once its webhook came)
/// then shows the new figures.
pub const FRESH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The shared state of the handlers.
pub struct AppState<S> {
    pub store: S,
    pub catalog: RwLock<Arc<Catalog>>,
    /// The site's layout around the API's pages (`frames.json`; empty:
    /// plain pages).
    pub frames: RwLock<Arc<Frames>>,
    pub payments: Arc<dyn Payments>,
    pub config: ApiConfig,
    /// Projects whose figures changed (the rebuild of the progress figures listens).
    pub changes: Option<mpsc::UnboundedSender<Change>>,
    /// The local test payment provider, when no Stripe key is configured.
    pub local: Option<Arc<local::LocalPayments>>,
    /// Rung after an email is put in the store's outbox (payment
    /// confirmed, refunded): the server's drainer sends it (on AWS, the
    /// `pave-mail` Lambda, woken by the table's stream).
    pub outbox: Doorbell,
    /// Per-client rate limits on pledges and offers.
    pub limits: limits::Limits,
    /// The API's time: pledges' dates, campaigns' days, checkouts' expiry,
    /// webhooks' signatures. The system's, but in a preview given
    /// `--today` (`crate::clock::Clock::on_day`).
    pub clock: crate::clock::Clock,
    /// The paid pledges whose thank-you page was shown (their project's
    /// pages re-rendered first, once).
    pub fresh: FirstVisits,
}

/// Which pledges' thank-you pages were already shown by this process: the
/// latest [`FirstVisits::KEPT`] (an older one re-renders its project's
/// pages once more, harmlessly).
#[derive(Debug, Default)]
pub struct FirstVisits {
    seen: std::sync::Mutex<(
        std::collections::HashSet<String>,
        std::collections::VecDeque<String>,
    )>,
}

impl FirstVisits {
    pub const KEPT: usize = 10_000;

    /// Whether this is the first visit of `pledge_id` (it is remembered).
    pub fn first_visit(&self, pledge_id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *seen;
        if !set.insert(pledge_id.to_string()) {
            return false;
        }
        order.push_back(pledge_id.to_string());
        if order.len() > Self::KEPT
            && let Some(oldest) = order.pop_front()
        {
            set.remove(&oldest);
        }
        true
    }
}

/// What a lock holds now (a poisoned lock's last value).
fn current<T>(lock: &RwLock<Arc<T>>) -> Arc<T> {
    lock.read()
        .map(|v| v.clone())
        .unwrap_or_else(|p| p.into_inner().clone())
}

fn replace<T>(lock: &RwLock<Arc<T>>, value: T) {
    *lock.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(value);
}

impl<S: Store> AppState<S> {
    pub fn catalog(&self) -> Arc<Catalog> {
        current(&self.catalog)
    }

    /// Replaces the catalog (after a rebuild of the site).
    pub fn set_catalog(&self, catalog: Catalog) {
        replace(&self.catalog, catalog);
    }

    pub fn frames(&self) -> Arc<Frames> {
        current(&self.frames)
    }

    /// Replaces the site's layout (after a rebuild of the site).
    pub fn set_frames(&self, frames: Frames) {
        replace(&self.frames, frames);
    }

    /// Tells the re-render, if there is one, that `project`'s figures changed.
    fn changed(&self, project: String) {
        if let Some(changes) = &self.changes {
            let _ = changes.send(Change {
                project,
                rendered: None,
            });
        }
    }

    /// The same, waiting (at most [`FRESH_WAIT`]) until its pages are written.
    async fn changed_and_rendered(&self, project: String) {
        let Some(changes) = &self.changes else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        if changes
            .send(Change {
                project,
                rendered: Some(tx),
            })
            .is_ok()
        {
            let _ = tokio::time::timeout(FRESH_WAIT, rx).await;
        }
    }
}

/// The API router.
pub fn router<S: Store>(state: Arc<AppState<S>>) -> Router {
    // Every refusal is the JSON error: a method the route does not take
    // (405), an address that does not exist (404), a body too large (413).
    let only = |route: MethodRouter<Arc<AppState<S>>>| route.fallback(method_not_allowed);
    let mut router = Router::new()
        .route("/api/health", only(get(health)))
        .route("/api/pledges", only(post(create_pledge::<S>)))
        .route("/api/pledges/{id}/cancel", only(get(cancel_pledge::<S>)))
        .route("/api/pledges/{id}/merci", only(get(thanks::<S>)))
        .route("/api/webhooks/stripe", only(post(webhook::<S>)))
        .route("/api/projects/{slug}/progress", only(get(progress::<S>)))
        .route(
            "/api/projects/{slug}/backers",
            only(get(wall::backers::<S>)),
        )
        .route("/api/offers", only(post(create_offer::<S>)))
        .route(
            "/api/news/unsubscribe",
            only(get(news::ask::<S>).post(news::stop::<S>)),
        )
        .route("/api/{*rest}", any(unknown_route))
        .route("/api", any(unknown_route));
    if state.local.is_some() {
        router = router
            .route("/api/test-checkout/style.css", only(get(local::style)))
            .route("/api/test-checkout/{session}", only(get(local::page::<S>)))
            .route(
                "/api/test-checkout/{session}/pay",
                only(post(local::pay::<S>)),
            )
            .route(
                "/api/test-checkout/{session}/cancel",
                only(post(local::cancel::<S>)),
            );
    }
    router
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// A page's query string (`?lang=en&page=2`), read leniently: one that
/// cannot be read is empty.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        Query(serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The language `?lang=` asks for, if it names one.
    fn lang(&self) -> Option<Lang> {
        self.get("lang").and_then(Lang::from_code)
    }
}

impl<S> AppState<S> {
    /// Now on the API's clock, in unix seconds.
    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Today in a time zone, on the API's clock.
    fn today_in(&self, timezone: &str) -> jiff::civil::Date {
        crate::pledge::today_in(timezone, self.now())
    }
}

/// A body that could not be read: over [`BODY_LIMIT`] (413), or broken
/// (400); JSON, or the small page for a form, in the request's language.
fn body_refused<S: Store>(
    e: &BytesRejection,
    headers: &HeaderMap,
    state: &AppState<S>,
    kind: errors::FormKind,
) -> Response {
    let lang = Lang::choose(None, accept_language(headers));
    let error = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            Message::BodyTooLarge {
                max_kib: BODY_LIMIT / 1024,
            },
        )
    } else {
        ApiError::bad_request(
            "invalid_body",
            Message::InvalidForm {
                detail: e.body_text(),
            },
        )
    };
    let back = errors::Back::home(&state.config.site_url, lang);
    error.respond_to(is_form(headers), lang, kind, &back, &state.frames())
}

/// Under `/api/`, an address that does not exist: JSON 404.
async fn unknown_route(headers: HeaderMap) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_route",
        Message::UnknownRoute,
    )
    .json(Lang::choose(None, accept_language(&headers)))
}

/// An API address asked with another method: JSON 405.
async fn method_not_allowed(headers: HeaderMap) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        Message::MethodNotAllowed,
    )
    .json(Lang::choose(None, accept_language(&headers)))
}

/// Whether the request came from a plain HTML form (answer with pages and redirects).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Refuses cross-site posts from origins that are not allowed. Requests
/// without an `Origin` (no JavaScript, server to server) pass.
fn check_origin(headers: &HeaderMap, config: &ApiConfig) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => Ok(()),
        Some(origin) if config.allowed_origins.iter().any(|o| o == origin) => Ok(()),
        Some(origin) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            Message::OriginNotAllowed {
                origin: origin.to_string(),
            },
        )),
    }
}

/// A pledge as posted by the form or as JSON: all text, parsed here.
#[derive(Debug, Deserialize)]
struct PledgeInput {
    project: String,
    #[serde(deserialize_with = "text_or_number")]
    amount: String,
    #[serde(default)]
    reward: Option<String>,
    #[serde(default)]
    name: Option<String>,
    email: String,
    /// Consent to give the holder the donor's name and email: a checkbox
    /// (`on` when ticked, absent otherwise) or a JSON boolean; false by default.
    #[serde(default, deserialize_with = "consent")]
    share_contact: bool,
    /// Consent to receive the project's news by email (the same kinds of
    /// values).
    #[serde(default, deserialize_with = "consent")]
    news: bool,
    /// A short public message for the wall of backers.
    #[serde(default)]
    message: Option<String>,
    // `lang` is read by `request_lang`.
}

/// An amount: the form's text, or a JSON string or number (`12.5`, `-1`),
/// read as text and parsed exactly by [`parse_amount`].
fn text_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match TextOrNumber::deserialize(deserializer)? {
        TextOrNumber::Text(t) => t,
        TextOrNumber::Number(n) => n.to_string(),
    })
}

/// A consent field: a JSON boolean, or a form checkbox's text (`on`,
/// `true`, `1`, `yes`; `off`, `false`, `0`, `no`, empty). Anything else is
/// refused rather than guessed.
fn consent<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrText {
        Bool(bool),
        Text(String),
    }
    match BoolOrText::deserialize(deserializer)? {
        BoolOrText::Bool(b) => Ok(b),
        BoolOrText::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Ok(true),
            "" | "off" | "false" | "0" | "no" => Ok(false),
            _ => Err(serde::de::Error::custom("a consent must be true or false")),
        },
    }
}

/// The field serde names in "missing field `email`".
fn missing_field(detail: &str) -> Option<&str> {
    let field = detail.strip_prefix("missing field `")?.split('`').next()?;
    field
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'_')
        .then_some(field)
}

fn parse_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    if is_form(headers) {
        check_form_encoding(body)?;
        serde_urlencoded::from_bytes(body).map_err(|e| {
            let detail = e.to_string();
            // serde's "missing field `email`" said as a person would.
            match missing_field(&detail) {
                Some(field) => ApiError::bad_request(
                    "missing_field",
                    Message::MissingField {
                        field: field.to_string(),
                    },
                ),
                None => ApiError::bad_request("invalid_form", Message::InvalidForm { detail }),
            }
        })
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(
                "invalid_json",
                Message::InvalidJson {
                    detail: e.to_string(),
                },
            )
        })
    }
}

/// A form's names and values, percent-decoded, must be UTF-8: the form
/// parser would turn anything else into U+FFFD silently.
fn check_form_encoding(body: &[u8]) -> Result<(), ApiError> {
    let readable = body
        .split(|b| *b == b'&')
        .flat_map(|pair| pair.split(|b| *b == b'='))
        .all(|part| {
            let spaced: Vec<u8> = part
                .iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect();
            percent_encoding::percent_decode(&spaced)
                .decode_utf8()
                .is_ok()
        });
    if readable {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_encoding",
            Message::InvalidEncoding,
        ))
    }
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// The language of the answer to a post: the body's `lang` field (read on
/// its own, so that it counts even when the rest of the body is refused),
/// else `Accept-Language`, else French.
fn request_lang(headers: &HeaderMap, body: &[u8]) -> Lang {
    Lang::choose(
        body_field(headers, body, "lang").as_deref(),
        accept_language(headers),
    )
}

/// One text field of a post's body, a form's or JSON's, read on its own
/// (whatever the rest of the body holds); none when it is absent or not
/// text, or a form gives it twice.
fn body_field(headers: &HeaderMap, body: &[u8], name: &str) -> Option<String> {
    if is_form(headers) {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
        let mut values = pairs.into_iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let value = values.next()?;
        values.next().is_none().then_some(value)
    } else {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        value.get(name)?.as_str().map(str::to_string)
    }
}

/// "12,50", "12.50", "12" → 12.50.
fn parse_amount(text: &str) -> Result<Decimal, ApiError> {
    let cleaned: String = text
        .trim()
        .replace(['\u{202F}', '\u{a0}', ' ', '€'], "")
        .replace(',', ".");
    cleaned.parse::<Decimal>().map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_amount",
            Message::AmountNotANumber,
        )
    })
}

fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Never happens on supported platforms; fall back to time and a counter.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..8].copy_from_slice(&jiff::Timestamp::now().as_nanosecond().to_le_bytes()[..8]);
        bytes[8..].copy_from_slice(&n.to_le_bytes());
    }
    format!("{prefix}_{}", hex::encode(bytes))
}

/// The donor's opaque key: a hash of the normalised email.
fn donor_key(email: &str) -> String {
    hex::encode(sha2::Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

/// Where a failed form's page links back to: the page of the project the
/// form names, when the catalog has it, else the site.
fn back_to<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    body: &[u8],
    lang: Lang,
) -> errors::Back {
    let mut back = match body_field(headers, body, "project") {
        Some(slug) if state.catalog().projects.contains_key(&slug) => errors::Back {
            url: project_url(&state.config, lang, &slug),
            project: true,
            values: Vec::new(),
        },
        _ => errors::Back::home(&state.config.site_url, lang),
    };
    // A form's fields, for the page's form that sends them again.
    if is_form(headers) {
        back.values = serde_urlencoded::from_bytes(body).unwrap_or_default();
    }
    back
}

/// The language links of an API page about a project: its page in `lang`,
/// then in the other language.
fn project_links(config: &ApiConfig, lang: Lang, slug: &str) -> [(Lang, String); 2] {
    [lang, lang.other()].map(|l| (l, project_url(config, l, slug)))
}

fn project_url(config: &ApiConfig, lang: Lang, slug: &str) -> String {
    format!(
        "{}{}",
        config.site_url,
        pave_contract::urls::project(lang, slug)
    )
}

/// The client's address, when the runtime gave it.
fn client_of(client: Option<axum::Extension<ClientAddr>>) -> Option<std::net::IpAddr> {
    client.map(|axum::Extension(ClientAddr(addr))| addr)
}

async fn create_pledge<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    client: Option<axum::Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = is_form(&headers);
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            return body_refused(&e, &headers, &state, errors::FormKind::Pledge);
        }
    };
    let lang = request_lang(&headers, &body);
    let client = client_of(client);
    match create_pledge_inner(&state, &headers, &body, lang, client).await {
        Ok((checkout_url, pledge_id)) => {
            if form {
                Redirect::to(&checkout_url).into_response()
            } else {
                (
                    StatusCode::CREATED,
                    axum::Json(
                        serde_json::json!({ "pledge_id": pledge_id, "checkout_url": checkout_url }),
                    ),
                )
                    .into_response()
            }
        }
        Err(e) => e.respond_to(
            form,
            lang,
            errors::FormKind::Pledge,
            &back_to(&state, &headers, &body, lang),
            &state.frames(),
        ),
    }
}

/// `lang` is the request's language ([`request_lang`]): the messages', the
/// checkout's and the return pages'.
async fn create_pledge_inner<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    body: &[u8],
    lang: Lang,
    client: Option<std::net::IpAddr>,
) -> Result<(String, String), ApiError> {
    check_origin(headers, &state.config)?;
    state
        .limits
        .check(Limited::Pledge, client)
        .map_err(ApiError::rate_limited)?;
    let input: PledgeInput = parse_body(headers, body)?;
    let reward = match input.reward.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => Some(r.parse::<usize>().map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_reward",
                Message::UnknownReward,
            )
        })?),
    };
    let request = PledgeRequest {
        project: input.project.trim().to_string(),
        amount: parse_amount(&input.amount)?,
        reward,
        display_name: input
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        email: input.email.trim().to_string(),
        lang: lang.code().to_string(),
    };
    let catalog = state.catalog();
    let timezone = catalog
        .projects
        .get(&request.project)
        .map_or("Europe/Paris", |p| p.timezone.as_str());
    let collected = state
        .store
        .collected(&request.project)
        .await
        .map_err(ApiError::store)?;
    let project = pledge::check(&catalog, &request, state.today_in(timezone), collected)
        .map_err(ApiError::from)?;
    let limit = request
        .reward
        .and_then(|i| project.rewards.iter().find(|r| r.index == i))
        .and_then(|r| r.limit);
    // A public message, only where the territory allows them (elsewhere
    // the field is not on the form, and one sent anyway is not kept).
    let message = match input.message.as_deref().map(str::trim) {
        Some(m) if project.messages && !m.is_empty() => {
            if m.chars().count() > crate::store::MAX_MESSAGE_CHARS {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_message",
                    Message::InvalidOfferField {
                        field: "public_message",
                        max_chars: crate::store::MAX_MESSAGE_CHARS,
                    },
                ));
            }
            Some(m.to_string())
        }
        _ => None,
    };
    let created_at = state.now();
    let expires_at = checkout_expiry(created_at, CHECKOUT_SECONDS);
    let pledge_id = random_id("pl");
    state
        .store
        .create_pledge(
            NewPledge {
                id: pledge_id.clone(),
                project: request.project.clone(),
                amount: request.amount,
                reward: request.reward,
                display_name: request.display_name.clone(),
                email: request.email.clone(),
                donor: donor_key(&request.email),
                lang: lang.code().to_string(),
                share_contact: input.share_contact,
                news: input.news,
                message,
                created_at,
                expires_at,
                client: limits::client_key(client, &state.config.webhook_secret),
            },
            limit,
        )
        .await
        .map_err(ApiError::store)?;
    let checkout = CheckoutRequest {
        pledge_id: pledge_id.clone(),
        project_slug: request.project.clone(),
        project_title: project.title.clone(),
        amount_cents: crate::money::to_cents(request.amount)
            .map_err(|_| ApiError::bad_request("invalid_amount", Message::AmountNotRecordable))?,
        currency: "eur".into(),
        customer_email: Some(request.email.clone()),
        // The thank-you page, written by the API from the store.
        success_url: format!("{}/api/pledges/{pledge_id}/merci", state.config.api_base()),
        // Through the API, which expires the checkout and frees its place.
        cancel_url: format!("{}/api/pledges/{pledge_id}/cancel", state.config.api_base()),
        expires_at,
        locale: match lang {
            Lang::En => Locale::En,
            Lang::Fr => Locale::Fr,
        },
    };
    let session = state
        .payments
        .create_checkout(&checkout)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "payment_provider_error",
                Message::PaymentUnavailable {
                    code: e.code().to_string(),
                },
            )
        })?;
    state
        .store
        .attach_checkout(&pledge_id, &session.id)
        .await
        .map_err(ApiError::store)?;
    Ok((session.url, pledge_id))
}

/// The donor left the checkout (Stripe's cancel link, or the test
/// checkout's): the Checkout Session is expired at Stripe, so it can no
/// longer be paid, and only then is the pledge expired, which frees its
/// reward's place at once. A pledge already paid, expired or unknown is
/// left as it is. Answers with the project page, in the pledge's language.
async fn cancel_pledge<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(pledge_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let refused = |error: ApiError| {
        shown_refused(&state, error, Lang::choose(None, accept_language(&headers)))
    };
    let found = match state.store.pledge_contact(&pledge_id).await {
        Ok(found) => found,
        Err(e) => return refused(ApiError::store(e)),
    };
    let Some(pledge) = found else {
        return refused(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_pledge",
            Message::UnknownPledge,
        ));
    };
    let lang = Lang::choose(Some(&pledge.lang), None);
    if pledge.status == crate::store::PledgeStatus::Pending
        && let Some(session) = &pledge.checkout_session
    {
        match state.payments.expire_checkout(session).await {
            Ok(()) => {
                let event_id = format!("cancel_{pledge_id}");
                match state.store.apply_expired(&event_id, &pledge_id).await {
                    Ok(Applied::Changed { project, .. }) => state.changed(project),
                    Ok(_) => {}
                    Err(e) => tracing::error!("pave api: cancelling pledge {pledge_id}: {e}"),
                }
            }
            // Paid meanwhile, expired already, or Stripe unreachable: the
            // pledge stays as it is (its checkout expires on its own).
            Err(e) => tracing::warn!(
                "pave api: the checkout of pledge {pledge_id} was not expired: {}",
                e.code()
            ),
        }
    }
    let back = project_url(&state.config, lang, &pledge.project);
    Redirect::to(&format!("{back}?annule={pledge_id}")).into_response()
}

/// The page of a pledge's own address (its thank-you page, its cancel
/// link) that cannot be shown.
fn shown_refused<S: Store>(state: &AppState<S>, error: ApiError, lang: Lang) -> Response {
    error.page(
        lang,
        errors::FormKind::Shown,
        &errors::Back::home(&state.config.site_url, lang),
        &state.frames(),
    )
}

/// The thank-you page the checkout returns to: the pledge as the store has
/// it now, in the pledge's language (or `?lang=`), in the site's layout.
/// Once paid, the project's pages are re-rendered first (when this process
/// renders them), so the project page the donor goes back to shows the
/// pledge. Query: `lang`, and `essai`, the times a page waiting for the
/// confirmation reloaded itself.
async fn thanks<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(pledge_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = Query::parse(query.as_deref());
    let asked = query.lang();
    let fallback = Lang::choose(None, accept_language(&headers));
    let refused = |error: ApiError, lang: Lang| shown_refused(&state, error, lang);
    let pledge = match state.store.pledge_contact(&pledge_id).await {
        Ok(Some(pledge)) => pledge,
        Ok(None) => {
            return refused(
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_pledge",
                    Message::UnknownPledge,
                ),
                asked.unwrap_or(fallback),
            );
        }
        Err(e) => return refused(ApiError::store(e), asked.unwrap_or(fallback)),
    };
    let lang = asked.unwrap_or_else(|| Lang::choose(Some(&pledge.lang), None));
    let catalog = state.catalog();
    let Some(project) = catalog.projects.get(&pledge.project) else {
        return refused(
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_project",
                Message::UnknownProject {
                    slug: pledge.project.clone(),
                },
            ),
            lang,
        );
    };
    // Once per pledge: later visits find the pages written.
    if pledge.status == crate::store::PledgeStatus::Paid && state.fresh.first_visit(&pledge_id) {
        state.changed_and_rendered(pledge.project.clone()).await;
    }
    let figures = match state.store.figures(&pledge.project).await {
        Ok(figures) => figures,
        Err(e) => return refused(ApiError::store(e), lang),
    };
    let path = |l: Lang| {
        format!(
            "{}/api/pledges/{pledge_id}/merci?lang={}",
            state.config.api_base(),
            l.code()
        )
    };
    let refresh_url = format!("{}&essai={{}}", path(lang));
    let project_url = project_url(&state.config, lang, &pledge.project);
    let written = crate::pages::thanks::page(&crate::pages::thanks::Thanks {
        lang,
        project,
        pools: &catalog.pools,
        pledge: &pledge,
        figures: &figures,
        project_url: &project_url,
        refresh_url: &refresh_url,
        attempt: query.get("essai").and_then(|n| n.parse().ok()).unwrap_or(0),
    });
    let urls = [lang, lang.other()].map(|l| (l, path(l)));
    framed(StatusCode::OK, &state.frames(), lang, &written, &urls)
}

/// A page for a person, in the site's layout: never cached.
fn framed(
    status: StatusCode,
    frames: &Frames,
    lang: Lang,
    written: &crate::pages::Written,
    urls: &[(Lang, String)],
) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(crate::pages::in_frame(frames, lang, written, urls)),
    )
        .into_response()
}

/// The outcome of a webhook, as answered to Stripe. Its own refusals are
/// `Message::Plain` (English): Stripe, not a person, reads them.
pub async fn handle_webhook<S: Store>(
    state: &AppState<S>,
    signature_header: Option<&str>,
    body: &[u8],
) -> Result<&'static str, ApiError> {
    let header = signature_header.ok_or_else(|| {
        ApiError::bad_request(
            "missing_signature",
            Message::Plain("Stripe-Signature header missing".into()),
        )
    })?;
    signature::verify(
        body,
        header,
        &state.config.webhook_secret,
        state.now(),
        signature::DEFAULT_TOLERANCE_SECS,
    )
    .map_err(|e| ApiError::bad_request("bad_signature", Message::Plain(e.to_string())))?;
    let event = match events::parse(body) {
        Ok(event) => event,
        // An event about a payment Pavé did not create: acknowledged, ignored.
        Err(EventError::MissingPledgeId { .. }) => return Ok("ignored"),
        Err(e) => {
            return Err(ApiError::bad_request(
                "bad_event",
                Message::Plain(e.to_string()),
            ));
        }
    };
    let catalog = state.catalog();
    let (applied, payment_intent) = match &event {
        StripeEvent::CheckoutCompleted {
            event_id,
            pledge_id,
            payment_intent,
            amount_total_cents,
            currency,
            payment_status: PaymentStatus::Paid,
            ..
        } => {
            let payment = Payment {
                intent: payment_intent.as_deref(),
                amount_cents: *amount_total_cents,
                currency,
            };
            let applied = state
                .store
                .apply_paid(&catalog, event_id, pledge_id, &payment, state.now())
                .await;
            (applied, payment_intent)
        }
        StripeEvent::CheckoutCompleted { .. } => return Ok("not_paid"),
        StripeEvent::CheckoutExpired {
            event_id,
            pledge_id,
            ..
        } => (state.store.apply_expired(event_id, pledge_id).await, &None),
        StripeEvent::ChargeRefunded {
            event_id,
            pledge_id,
            payment_intent,
            refunded,
            ..
        } => {
            let extent = if *refunded {
                RefundExtent::Full
            } else {
                RefundExtent::Partial
            };
            let applied = state
                .store
                .apply_refunded(
                    event_id,
                    pledge_id,
                    extent,
                    payment_intent.as_deref(),
                    state.now(),
                )
                .await;
            (applied, payment_intent)
        }
        StripeEvent::Other { .. } => return Ok("ignored"),
    };
    if let Ok(Applied::Refused { project, reason }) = &applied {
        let pledge_id = event.pledge_id().unwrap_or_default();
        if *reason == RefundReason::AmountMismatch
            && let StripeEvent::CheckoutCompleted {
                amount_total_cents,
                currency,
                ..
            } = &event
        {
            tracing::warn!(
                "pave api: payment of pledge {pledge_id} refused: Stripe's amount {amount_total_cents} {currency} differs from the pledge's; refunding it"
            );
        }
        // A partial refund took the pledge out of the figures.
        state.changed(project.clone());
        // Never counted: refunded whole (or the rest of it), now; a
        // failure stays pending for the next close run (`pave close`).
        let failed = close::refund_refused(
            &state.store,
            state.payments.as_ref(),
            &catalog,
            project,
            pledge_id,
            payment_intent.as_deref(),
            *reason,
            state.now(),
        )
        .await
        .map_err(ApiError::store)?;
        // Told why, once: `close::refund` put the notice in the outbox.
        state.outbox.ring();
        return Ok(if failed.is_some() {
            "refund_pending"
        } else {
            "refunded"
        });
    }
    // The email a change sends, put in the outbox after the commit. A
    // duplicate enqueues it too (once per key: a no-op when it is there),
    // so a crash between the commit and the enqueue loses nothing: Stripe
    // redelivers an event that got no answer.
    let mail_event = match &event {
        StripeEvent::CheckoutCompleted { pledge_id, .. } => Some((pledge_id, mail::Event::Paid)),
        StripeEvent::ChargeRefunded { pledge_id, .. } => {
            Some((pledge_id, mail::Event::Refunded(RefundCause::ByPlatform)))
        }
        _ => None,
    };
    let (answer, tell) = match applied {
        Ok(Applied::Changed { project, .. }) => {
            state.changed_and_rendered(project).await;
            ("applied", true)
        }
        Ok(Applied::Duplicate) => ("duplicate", true),
        // A refund Pavé started, completed: its own notice (with its
        // reason) was enqueued by `close::refund`.
        Ok(Applied::NoEffect { .. }) => ("no_effect", false),
        Ok(Applied::Refused { .. }) => ("refunded", false),
        // A pledge this store does not know (another environment): acknowledged.
        Err(StoreError::UnknownPledge(_)) => return Ok("unknown_pledge"),
        Err(e) => return Err(ApiError::store(e)),
    };
    if let Some((pledge_id, mail_event)) = mail_event.filter(|_| tell)
        && mail::enqueue(&state.store, &catalog, pledge_id, mail_event, state.now())
            .await
            .map_err(ApiError::store)?
    {
        state.outbox.ring();
    }
    Ok(answer)
}

async fn webhook<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            return body_refused(&e, &headers, &state, errors::FormKind::Pledge);
        }
    };
    let signature_header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match handle_webhook(&state, signature_header, &body).await {
        Ok(outcome) => {
            axum::Json(serde_json::json!({ "received": true, "outcome": outcome })).into_response()
        }
        Err(e) => e.json(Lang::choose(None, accept_language(&headers))),
    }
}

async fn progress<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::choose(None, accept_language(&headers));
    if !state.catalog().projects.contains_key(&slug) {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_project",
            Message::UnknownProject { slug },
        )
        .json(lang);
    }
    match state.store.figures(&slug).await {
        Ok(figures) => (
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(serde_json::json!({ "version": crate::progress::SNAPSHOT_VERSION, "project": slug, "figures": figures })),
        )
            .into_response(),
        Err(e) => ApiError::store(e).json(lang),
    }
}

/// The page answering an offer sent from the form: recorded, and what
/// the person wrote, in the site's layout.
fn offer_received<S: Store>(state: &AppState<S>, lang: Lang, input: &OfferInput) -> Response {
    let catalog = state.catalog();
    let Some(project) = catalog.projects.get(&input.project) else {
        return Redirect::to(&errors::Back::home(&state.config.site_url, lang).url).into_response();
    };
    let project_url = project_url(&state.config, lang, &input.project);
    let written = crate::pages::offer::page(&crate::pages::offer::Received {
        lang,
        project,
        project_url: &project_url,
        name: input.name.trim(),
        contact: input.contact.trim(),
        message: input.message.trim(),
    });
    // The language links go to the project's page (the offer was sent once).
    let urls = project_links(&state.config, lang, &input.project);
    framed(StatusCode::OK, &state.frames(), lang, &written, &urls)
}

#[derive(Debug, Deserialize)]
struct OfferInput {
    project: String,
    #[serde(default)]
    need: Option<String>,
    name: String,
    contact: String,
    message: String,
    // `lang` is read by `request_lang`.
}

async fn create_offer<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    client: Option<axum::Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = is_form(&headers);
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            return body_refused(&e, &headers, &state, errors::FormKind::Offer);
        }
    };
    let lang = request_lang(&headers, &body);
    let client = client_of(client);
    let result: Result<OfferInput, ApiError> = async {
        check_origin(&headers, &state.config)?;
        state
            .limits
            .check(Limited::Offer, client)
            .map_err(ApiError::rate_limited)?;
        let input: OfferInput = parse_body(&headers, &body)?;
        let need = {
            let catalog = state.catalog();
            let project = catalog.projects.get(&input.project).ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_project",
                    Message::UnknownProject {
                        slug: input.project.clone(),
                    },
                )
            })?;
            let today = state.today_in(&project.timezone);
            crate::pledge::check_offer(project, input.need.as_deref(), today)
                .map_err(ApiError::from)?
        };
        let fields = [
            (&input.name, 100, "name"),
            (&input.contact, 200, "contact"),
            (&input.message, 2000, "message"),
        ];
        for (value, max, field) in fields {
            let n = value.trim().chars().count();
            if n == 0 || n > max {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_offer",
                    Message::InvalidOfferField {
                        field,
                        max_chars: max,
                    },
                ));
            }
        }
        let offer = Offer {
            project: input.project.clone(),
            need,
            name: input.name.trim().to_string(),
            contact: input.contact.trim().to_string(),
            message: input.message.trim().to_string(),
            created_at: state.now(),
        };
        let id = state
            .store
            .add_offer(offer.clone())
            .await
            .map_err(ApiError::store)?;
        state.changed(input.project.clone());
        // The holder and the editors are told (the offer is kept whatever
        // happens to the email: a failure here is logged, not the answer).
        let told = async {
            let contacts = state.store.contacts().await?;
            mail::offer::enqueue(&state.store, &state.catalog(), &contacts, &offer, &id).await
        }
        .await;
        match told {
            Ok(0) => {}
            Ok(_) => state.outbox.ring(),
            Err(e) => tracing::error!("pave api: offer {id}: its emails were not enqueued: {e}"),
        }
        Ok(input)
    }
    .await;
    match result {
        Ok(input) if form => offer_received(&state, lang, &input),
        Ok(_) => (
            StatusCode::CREATED,
            axum::Json(serde_json::json!({ "received": true })),
        )
            .into_response(),
        Err(e) => e.respond_to(
            form,
            lang,
            errors::FormKind::Offer,
            &back_to(&state, &headers, &body, lang),
            &state.frames(),
        ),
    }
}
