//! The local test payment provider, for the embedded default (`pave serve`
//! without Stripe keys): a checkout page clearly labelled as a test that
//! "pays" and then delivers a `checkout.session.completed` event signed
//! exactly as Stripe signs it, through the same verified webhook path.
//!
//! It refuses to exist when a Stripe secret key is configured, so test
//! payments can never be enabled together with real keys.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::errors::escape;
use super::{AppState, accept_language, handle_webhook, random_id};
use crate::clock::Clock;
use crate::messages::{self, Lang};
use crate::store::Store;
use crate::stripe::client::{
    BoxFuture, CheckoutRequest, CheckoutSession, ENV_SECRET_KEY, PaymentError, Payments, Refund,
    RefundStatus, StripeConfig, StripePayments,
};
use crate::stripe::signature;

#[derive(Debug, Clone)]
struct Session {
    pledge_id: String,
    /// The page's language (the pledge's).
    lang: Lang,
    title: String,
    amount_cents: i64,
    success_url: String,
    cancel_url: String,
    expires_at: i64,
    done: bool,
}

/// The payments of a self-hosted process (`pave serve`, `pave close`),
/// chosen once from the environment: Stripe when `STRIPE_SECRET_KEY` is
/// set (with `STRIPE_WEBHOOK_SECRET`, the endpoint's secret, when given),
/// else the local test payments, reached at `api_origin`, which sign their
/// events with `local_secret`.
pub struct EnvPayments {
    pub payments: Arc<dyn Payments>,
    /// The local test payments, when they are the ones.
    pub local: Option<Arc<LocalPayments>>,
    /// The secret that verifies webhooks: Stripe's endpoint's, or the local one.
    pub webhook_secret: Option<String>,
}

impl EnvPayments {
    /// `clock` is the API's (the local payments' checkouts expire on it).
    pub fn from_env(
        api_origin: &str,
        local_secret: &str,
        clock: Clock,
    ) -> Result<EnvPayments, String> {
        let lookup = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if lookup(ENV_SECRET_KEY).is_some() {
            let config = StripeConfig::from_lookup(lookup).map_err(|e| e.to_string())?;
            let stripe = StripePayments::new(&config).map_err(|e| e.to_string())?;
            return Ok(EnvPayments {
                payments: Arc::new(stripe),
                local: None,
                webhook_secret: lookup("STRIPE_WEBHOOK_SECRET"),
            });
        }
        let local = Arc::new(LocalPayments::new(api_origin, local_secret, clock)?);
        Ok(EnvPayments {
            payments: local.clone(),
            local: Some(local),
            webhook_secret: Some(local_secret.to_string()),
        })
    }

    /// Whether these are the local test payments (no money moves).
    pub fn is_test(&self) -> bool {
        self.local.is_some()
    }
}

/// Test payments, in memory.
pub struct LocalPayments {
    /// Where the API is reached (for the checkout page's address).
    api_origin: String,
    webhook_secret: String,
    /// The API's clock (a preview's `--today` moves it): checkouts expire,
    /// and events are signed, on it.
    clock: Clock,
    sessions: Mutex<Sessions>,
}

/// The test checkouts that can still be paid. Each checkout drops the
/// sessions that expired (the oldest first, from `expiring`), so a
/// long-running `pave serve` keeps only those; B-trees grow node by node,
/// so no checkout ever waits for the whole map to be moved or swept.
#[derive(Default)]
struct Sessions {
    open: BTreeMap<String, Session>,
    /// (expiry, session id) of every open session.
    expiring: BTreeSet<(i64, String)>,
}

impl Sessions {
    fn insert(&mut self, id: String, session: Session, now: i64) {
        while let Some(first) = self.expiring.first()
            && first.0 <= now
        {
            if let Some((_, expired)) = self.expiring.pop_first() {
                self.open.remove(&expired);
            }
        }
        self.expiring.insert((session.expires_at, id.clone()));
        self.open.insert(id, session);
    }
}

impl LocalPayments {
    /// Refuses when a Stripe secret key is configured in the environment.
    pub fn new(
        api_origin: impl Into<String>,
        webhook_secret: impl Into<String>,
        clock: Clock,
    ) -> Result<LocalPayments, String> {
        if std::env::var_os(ENV_SECRET_KEY).is_some_and(|v| !v.is_empty()) {
            return Err(format!(
                "test payments cannot be enabled while {ENV_SECRET_KEY} is set"
            ));
        }
        Ok(LocalPayments {
            api_origin: api_origin.into(),
            webhook_secret: webhook_secret.into(),
            clock,
            sessions: Mutex::new(Sessions::default()),
        })
    }

    fn session(&self, id: &str) -> Option<Session> {
        self.sessions.lock().ok()?.open.get(id).cloned()
    }

    /// A session still to pay (not paid nor cancelled, not expired).
    fn open_session(&self, id: &str) -> Option<Session> {
        let now = self.clock.now();
        self.session(id).filter(|s| !s.done && s.expires_at > now)
    }

    fn finish(&self, id: &str) {
        if let Ok(mut sessions) = self.sessions.lock()
            && let Some(s) = sessions.open.get_mut(id)
        {
            s.done = true;
        }
    }

    /// The signed `checkout.session.completed` event Stripe would send.
    fn completed_event(&self, session_id: &str, session: &Session) -> (Vec<u8>, String) {
        let t = self.clock.now();
        let event = serde_json::json!({
            "id": random_id("evt_local"),
            "object": "event",
            "api_version": "2026-09-30.clover",
            "created": t,
            "livemode": false,
            "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "type": "checkout.session.completed",
            "data": { "object": {
                "id": session_id,
                "object": "checkout.session",
                "mode": "payment",
                "status": "complete",
                "payment_status": "paid",
                "amount_total": session.amount_cents,
                "currency": "eur",
                "client_reference_id": session.pledge_id,
                "metadata": { "pledge_id": session.pledge_id },
                "payment_intent": random_id("pi_local"),
            }}
        });
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let header = signature::sign(&body, &self.webhook_secret, t);
        (body, header)
    }
}

impl Payments for LocalPayments {
    fn create_checkout<'a>(
        &'a self,
        request: &'a CheckoutRequest,
    ) -> BoxFuture<'a, Result<CheckoutSession, PaymentError>> {
        Box::pin(async move {
            let now = self.clock.now();
            request.check(now)?;
            let id = random_id("cs_test_local");
            let session = Session {
                pledge_id: request.pledge_id.clone(),
                lang: match request.locale {
                    crate::stripe::client::Locale::Fr => Lang::Fr,
                    crate::stripe::client::Locale::En => Lang::En,
                },
                title: request.project_title.clone(),
                amount_cents: request.amount_cents,
                success_url: request.success_url.clone(),
                cancel_url: request.cancel_url.clone(),
                expires_at: request.expires_at,
                done: false,
            };
            self.sessions
                .lock()
                .map_err(|_| PaymentError::Config("local sessions lock poisoned".into()))?
                .insert(id.clone(), session, now);
            Ok(CheckoutSession {
                url: format!("{}/api/test-checkout/{id}", self.api_origin),
                id,
                expires_at: request.expires_at,
            })
        })
    }

    fn expire_checkout<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            let mut sessions = self
                .sessions
                .lock()
                .map_err(|_| PaymentError::Config("local sessions lock poisoned".into()))?;
            match sessions.open.get_mut(session_id) {
                Some(s) if !s.done && s.expires_at > self.clock.now() => {
                    s.done = true;
                    Ok(())
                }
                _ => Err(PaymentError::Invalid(format!(
                    "the test checkout {session_id} is not open"
                ))),
            }
        })
    }

    fn refund<'a>(
        &'a self,
        _payment_intent: &'a str,
        _amount_cents: Option<i64>,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            Ok(Refund {
                id: format!("re_local_{}", idempotency_key.len()),
                status: RefundStatus::Succeeded,
            })
        })
    }
}

fn euros(cents: i64, lang: Lang) -> String {
    messages::money(rust_decimal::Decimal::new(cents, 2), lang)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Html("<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Paiement introuvable</title></head><body><main><h1>Paiement de test introuvable ou expiré</h1></main></body></html>")).into_response()
}

/// The test checkout page's stylesheet (a file: the Content-Security-Policy
/// allows no inline style).
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1d2420}\
.test{background:#8a1c1c;color:#fff;padding:1rem;border-radius:6px}\
button{font:inherit;font-weight:700;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#0b5d4b;color:#fff;cursor:pointer}\
.cancel{background:#4a544f}\n";

pub async fn style() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE,
    )
        .into_response()
}

/// The test checkout page.
pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(id): Path<String>,
) -> Response {
    let Some(local) = &state.local else {
        return not_found();
    };
    let Some(session) = local.open_session(&id) else {
        return not_found();
    };
    let lang = session.lang;
    let tr = |fr: &'static str, en: &'static str| if lang == Lang::Fr { fr } else { en };
    let title = escape(&session.title);
    let id = escape(&id);
    Html(format!(
        "<!DOCTYPE html>
<html lang=\"{code}\">
<head>
<meta charset=\"utf-8\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<meta name=\"robots\" content=\"noindex\">
<title>{page_title} — {title}</title>
<link rel=\"stylesheet\" href=\"/api/test-checkout/style.css\">
</head>
<body>
<main>
<p class=\"test\"><strong>{banner}</strong> — {no_money}</p>
<h1>{title}</h1>
<p>{amount_label} <strong>{amount}</strong></p>
<form method=\"post\" action=\"/api/test-checkout/{id}/pay\"><p><button type=\"submit\">{pay}</button></p></form>
<form method=\"post\" action=\"/api/test-checkout/{id}/cancel\"><p><button class=\"cancel\" type=\"submit\">{cancel}</button></p></form>
</main>
</body>
</html>
",
        code = lang.code(),
        page_title = tr("Paiement de test", "Test payment"),
        banner = tr("PAIEMENT DE TEST", "TEST PAYMENT"),
        no_money = tr(
            "aucun argent n’est débité. Ce mode n’existe que sur un serveur local sans clés Stripe.",
            "no money is taken. This mode exists only on a local server without Stripe keys."
        ),
        amount_label = tr("Montant :", "Amount:"),
        amount = euros(session.amount_cents, lang),
        pay = tr("Payer (test)", "Pay (test)"),
        cancel = tr("Annuler", "Cancel"),
    ))
    .into_response()
}

/// "Pays": sends the signed webhook through the verified path, then returns to the project.
pub async fn pay<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(local) = state.local.clone() else {
        return not_found();
    };
    let Some(session) = local.open_session(&id) else {
        return not_found();
    };
    let (body, header) = local.completed_event(&id, &session);
    match handle_webhook(&state, Some(&header), &body).await {
        Ok(_) => {
            local.finish(&id);
            Redirect::to(&session.success_url).into_response()
        }
        Err(e) => {
            let lang = Lang::choose(None, accept_language(&headers));
            e.page(
                lang,
                super::errors::FormKind::Pledge,
                &super::errors::Back::home(&state.config.site_url, lang),
                &state.frames(),
            )
        }
    }
}

/// Cancels: to the checkout's cancel address, as Stripe does (the API's
/// cancel, which expires this test checkout and frees the pledge's place).
pub async fn cancel<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(id): Path<String>,
) -> Response {
    let Some(local) = &state.local else {
        return not_found();
    };
    let Some(session) = local.session(&id) else {
        return not_found();
    };
    Redirect::to(&session.cancel_url).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires_at: i64) -> Session {
        Session {
            pledge_id: "pl_1".into(),
            lang: Lang::Fr,
            title: "Café".into(),
            amount_cents: 1000,
            success_url: String::new(),
            cancel_url: String::new(),
            expires_at,
            done: false,
        }
    }

    #[test]
    fn expired_sessions_are_dropped_and_open_ones_kept() {
        let mut sessions = Sessions::default();
        let now = 1_000_000;
        for i in 0..100 {
            // Every other one still payable at `now`.
            let expires_at = if i % 2 == 0 { now - 1 } else { now + 1800 };
            sessions.insert(format!("cs_{i}"), session(expires_at), now - 3600);
        }
        assert_eq!(sessions.open.len(), 100, "none expired an hour before");
        sessions.insert("cs_new".into(), session(now + 1800), now);
        assert_eq!(sessions.open.len(), 51);
        assert_eq!(sessions.expiring.len(), 51);
        assert!(sessions.open.contains_key("cs_1") && sessions.open.contains_key("cs_new"));
        assert!(
            !sessions.open.contains_key("cs_0"),
            "an expired session is gone"
        );
    }
}
